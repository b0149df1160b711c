/* record.c - `etrace record`: tracepoints, with all their fields, to a
 * CTF 1.8 trace (src/out/ctf.c writes it); and `etrace ctf repair`.
 *
 *   etrace record -o DIR [-D SECONDS] [-c CMD [--cmd-only]] [-p PID] EVENT...
 *
 * Each event gets a small BPF program built here with the insn.h macros
 * (not through the language compiler).  It reserves a record in the ring
 * buffer of the CPU it runs on and fills it with the bytes of the CTF
 * event: header {u16 id, u64 bpf_ktime_get_ns()}, context {pid, tid},
 * then the tracepoint's fields, packed, from its tracefs format.
 * __data_loc strings and arrays, and the string arguments of system calls,
 * go to fixed slots after the fixed fields (bounded: STR_SLOT bytes), which
 * the writer packs.  A full ring buffer counts the loss in a per-CPU array;
 * the writer stores it as the cumulative events_discarded of each packet.
 *
 * The program of a tracepoint reads the record directly from its context.
 * System-call tracepoints are served like systp.c does for the language:
 * raw-tracepoint programs in a BPF_MAP_TYPE_PROG_ARRAY keyed by syscall
 * number, tail-called from two dispatchers on the raw tracepoints sys_enter
 * and sys_exit, so that detaching costs two link closes instead of 60-75 ms
 * per perf-event tracepoint.  Those programs rebuild the format's fields
 * from struct pt_regs (arguments) or the raw tracepoint's arguments
 * (return value).
 *
 * User space: one ring buffer per CPU (an ARRAY_OF_MAPS selects it), each
 * mapped and consumed here directly (the consumer position is published
 * once per batch).  Programs submit without waking the reader unless their
 * ring is a quarter full, and the reader polls every DRAIN_MS otherwise: a
 * wakeup per event costs an interrupt each and, measured here, more than
 * tripled the cost of a recorded getppid().  The loop is epoll on the ring
 * buffers, a signalfd, a 1 s timer (packet flush, loss counters, progress
 * line) and the end conditions (-d, the -c child, the -p process).  The
 * recorder's own system calls are filtered out in BPF (each write and poll
 * would otherwise record more events to write).
 */
#include "etrace.h"
#include "codegen/insn.h"
#include "commands/cmdline.h"
#include "formats/ctf.h"
#include "providers/attach.h"
#include "record/record.h"
#include "record/relay.h"
#include "record/snapshot.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STR_SLOT 256            /* bytes kept of a string, NUL included */
#define SEQ_BYTES 256           /* bytes kept of a __data_loc array */
#define MAX_SYSCALL 1024        /* as systp.c */
#define DEFAULT_RINGBUF_KB 4096 /* per CPU */
#define DRAIN_MS 10             /* ring buffer poll period */
#define REGS_OFF_ORIG_AX 120    /* offsetof(struct pt_regs, orig_ax), x86-64 */

/* x86-64 syscall argument registers: di si dx r10 r8 r9 (pt_regs offsets) */
static const int regs_off[6] = {112, 104, 96, 56, 72, 64};

/* ------------------------------------------------------------ events */

typedef struct Rec {
  /* options */
  const char *dir;
  double duration;        /* -d, seconds (0: none) */
  const char *cmd;
  bool cmd_only;
  int pid;                /* -p */
  bool quiet, verbose;
  uint32_t ringbuf_kb;
  bool kernel;            /* --profile kernel */
  const char *relay_url;  /* --relay (instead of -o) */
  const char *session;    /* --session */
  double flush_s;         /* --live-timer: packet flush period */
  Relay *relay;
  char relay_dir[4096];   /* the session's directory under the relay's output */
  bool tee;               /* --relay with -o: local files too */
  size_t snap_size;       /* --snapshot: bytes kept per CPU (0: off) */
  const char *trigger;    /* --trigger */
  int trig_first, trig_last; /* its events */
  Snapshot *snap;
  /* events */
  Event *ev;
  int nev;
  /* kernel objects */
  int ncpus;
  int *rb_fds;
  int outer_fd, drops_fd;
  int prog_array[2], dispatcher[2];
  int *links;
  int nlinks;
  /* child */
  pid_t child;
  int filter_pid;
} Rec;

static Rec R = {.outer_fd = -1, .drops_fd = -1, .prog_array = {-1, -1}, .flush_s = 1,
                .dispatcher = {-1, -1}};

int rec_add_event(const char *sys, const char *event) {
  for (int i = 0; i < R.nev; i++)
    if (!strcmp(R.ev[i].sys, sys) && !strcmp(R.ev[i].event, event))
      return i;
  R.ev = realloc(R.ev, sizeof *R.ev * (R.nev + 1));
  Event *e = &R.ev[R.nev++];
  memset(e, 0, sizeof *e);
  e->sys = estrdup(sys);
  e->event = estrdup(event);
  e->prog_fd = -1;
  return R.nev - 1;
}

Event *rec_event(int i) { return &R.ev[i]; }

static void add_event(const char *sys, const char *event, void *arg) {
  int *matched = arg;
  (*matched)++;
  rec_add_event(sys, event);
}

/* "sys:event", "tracepoint:sys:event" or "t:sys:event"; globs allowed;
 * then an optional filter "/PREDICATE/" (record_filter.c). */
static int expand(const char *whole) {
  RecFilter *filter = NULL;
  const char *slash = strchr(whole, '/');
  const char *arg = whole;
  if (slash) {
    size_t n = strlen(slash);
    if (n < 2 || slash[n - 1] != '/') {
      diag_fatal("'%s': a filter is written /PREDICATE/, e.g. "
                 "'syscalls:sys_enter_openat /args.flags & 1/'", whole);
      return -1;
    }
    size_t len = slash - whole;
    while (len && (whole[len - 1] == ' ' || whole[len - 1] == '\t'))
      len--;
    arg = estrndup(whole, len);
    if (!(filter = rfilter_parse(estrndup(slash + 1, n - 2), arg)))
      return -1;
  }
  int first = R.nev;
  const char *spec = arg;
  if (!strncmp(spec, "tracepoint:", 11))
    spec += 11;
  else if (!strncmp(spec, "t:", 2))
    spec += 2;
  const char *colon = strchr(spec, ':');
  if (!colon || colon == spec || !colon[1] || strchr(colon + 1, ':')) {
    diag_fatal("'%s': expected SYSTEM:EVENT, e.g. sched:sched_switch", arg);
    return -1;
  }
  char *sys = estrndup(spec, colon - spec);
  int matched = 0;
  tracefs_glob(sys, colon + 1, add_event, &matched);
  if (!matched) {
    diag_fatal("no tracepoint matches '%s' (see etrace -l)", arg);
    return -1;
  }
  for (int i = first; i < R.nev; i++)
    R.ev[i].filter = filter;
  return 0;
}

/* ------------------------------------------------------------ layouts */

static bool ctype_is(const char *ctype, const char *const *names) {
  for (; *names; names++)
    if (!strcmp(ctype, *names))
      return true;
  return false;
}

static bool is_char_type(const char *t) {
  return !strcmp(t, "char") || !strcmp(t, "const char") || !strcmp(t, "signed char");
}

/* Element size of "__data_loc T[]" from T. */
static int dataloc_elem(const char *ctype, bool *hex) {
  const char *t = ctype + strlen("__data_loc ");
  *hex = false;
  if (!strncmp(t, "cpumask_t", 9)) {
    *hex = true;
    return 8;
  }
  static const struct { const char *prefix; int size; } tab[] = {
    {"u64[]", 8}, {"s64[]", 8}, {"unsigned long[]", 8}, {"long[]", 8}, {"__u64[]", 8},
    {"u32[]", 4}, {"s32[]", 4}, {"unsigned int[]", 4}, {"int[]", 4}, {"__u32[]", 4},
    {"u16[]", 2}, {"unsigned short[]", 2}, {"short[]", 2},
  };
  for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
    if (!strcmp(t, tab[i].prefix))
      return tab[i].size;
  return 1;
}

static bool dataloc_is_string(const char *ctype) {
  return !strcmp(ctype, "__data_loc char[]") || !strcmp(ctype, "__data_loc const char[]");
}

void rec_add_field(Event *e, CtfField f) {
  e->cls.fields = egrow(e->cls.fields, e->cls.nfields, sizeof(CtfField));
  e->cls.fields[e->cls.nfields++] = f;
}

void rec_add_copy(Event *e, Copy c) {
  e->copies = egrow(e->copies, e->ncopies, sizeof(Copy));
  e->copies[e->ncopies++] = c;
}

/* Fields of an ordinary tracepoint: fixed ones in format order, then the
 * __data_loc ones. */
static void layout_tracepoint(Event *e) {
  TpFormat *tp = e->tp;
  int dst = CTF_EVENT_HEADER_SIZE;
  for (int i = 0; i < tp->nfields; i++) {
    TpField *tf = &tp->fields[i];
    if (tf->data_loc || tf->size <= 0)
      continue;
    CtfField f = {.name = tf->name, .kind = CTF_INT, .size = tf->size,
                  .is_signed = tf->is_signed, .hex = strchr(tf->ctype, '*') != NULL};
    if (tf->array_len > 0 && is_char_type(tf->ctype) && tf->size == tf->array_len) {
      f.kind = CTF_TEXT;
      f.count = tf->size;
      f.size = 1;
    } else if (tf->array_len > 0 && tf->size % tf->array_len == 0 &&
               (tf->size / tf->array_len == 1 || tf->size / tf->array_len == 2 ||
                tf->size / tf->array_len == 4 || tf->size / tf->array_len == 8)) {
      f.size = tf->size / tf->array_len;
      f.count = tf->array_len;
    } else if (tf->size != 1 && tf->size != 2 && tf->size != 4 && tf->size != 8) {
      f.size = 1;          /* an odd-sized blob: bytes */
      f.count = tf->size;
      f.is_signed = false;
    }
    rec_add_field(e, f);
    rec_add_copy(e, (Copy){.kind = CP_CTX, .src = tf->offset, .size = tf->size, .dst = dst});
    dst += tf->size;
  }
  for (int i = 0; i < tp->nfields; i++) {
    TpField *tf = &tp->fields[i];
    if (!tf->data_loc)
      continue;
    if (dataloc_is_string(tf->ctype)) {
      rec_add_field(e, (CtfField){.name = tf->name, .kind = CTF_STRING, .slot = STR_SLOT});
      rec_add_copy(e, (Copy){.kind = CP_DATALOC_STR, .src = tf->offset, .size = STR_SLOT, .dst = dst});
      dst += STR_SLOT;
    } else {
      bool hex;
      int elem = dataloc_elem(tf->ctype, &hex);
      rec_add_field(e, (CtfField){.name = tf->name, .kind = CTF_SEQ, .size = elem, .hex = hex,
                              .slot = 2 + SEQ_BYTES});
      rec_add_copy(e, (Copy){.kind = CP_DATALOC_SEQ, .src = tf->offset, .size = 2 + SEQ_BYTES,
                         .dst = dst, .elem = elem});
      dst += 2 + SEQ_BYTES;
    }
  }
}

/* A syscall argument that is a NUL-terminated string from user space
 * (a path, a name); other `const char *` (write's buf) are data. */
static bool is_user_string(const TpField *tf) {
  static const char *const not_strings[] = {"buf", "ubuf", "u_msg_ptr", "msg_ptr", NULL};
  return !strcmp(tf->ctype, "const char *") && !ctype_is(tf->name, not_strings);
}

/* The format says "size:8; signed:0" for every argument; these C types are
 * signed, and the int ones are sign-extended from their low 32 bits. */
static const char *const signed32[] = {"int", "pid_t", "key_serial_t", "clockid_t", "timer_t",
                                       "mqd_t", "s32", "__s32", "int32_t", NULL};
static const char *const signed64[] = {"long", "long long", "loff_t", "off_t", "ssize_t",
                                       "time_t", "s64", "__s64", "int64_t", NULL};

static void layout_syscall(Event *e) {
  TpFormat *tp = e->tp;
  int dst = CTF_EVENT_HEADER_SIZE;
  for (int i = 0; i < tp->nfields; i++) {
    TpField *tf = &tp->fields[i];
    if (!strcmp(tf->name, "__syscall_nr")) {
      if (e->lttng)
        continue;       /* LTTng has the syscall in the event name only */
      rec_add_field(e, (CtfField){.name = tf->name, .kind = CTF_INT, .size = 4, .is_signed = true});
      rec_add_copy(e, (Copy){.kind = CP_SYS_NR, .size = 4, .dst = dst});
      dst += 4;
    } else if (e->sys_exit) {
      rec_add_field(e, (CtfField){.name = tf->name, .kind = CTF_INT, .size = 8, .is_signed = true});
      rec_add_copy(e, (Copy){.kind = CP_SYS_RET, .size = 8, .dst = dst});
      dst += 8;
    } else {
      int arg = (tf->offset - 16) / 8;
      if (tf->offset < 16 || arg > 5 || is_user_string(tf))
        continue;
      bool s32 = ctype_is(tf->ctype, signed32);
      CtfField f = {.name = tf->name, .kind = CTF_INT, .size = 8,
                    .is_signed = tf->is_signed || s32 || ctype_is(tf->ctype, signed64),
                    .hex = strchr(tf->ctype, '*') != NULL};
      rec_add_field(e, f);
      rec_add_copy(e, (Copy){.kind = CP_SYS_ARG, .src = arg, .size = 8, .dst = dst, .sext32 = s32});
      dst += 8;
    }
  }
  for (int i = 0; i < tp->nfields && !e->sys_exit; i++) {
    TpField *tf = &tp->fields[i];
    int arg = (tf->offset - 16) / 8;
    if (tf->offset < 16 || arg > 5 || !is_user_string(tf))
      continue;
    rec_add_field(e, (CtfField){.name = tf->name, .kind = CTF_STRING, .slot = STR_SLOT});
    rec_add_copy(e, (Copy){.kind = CP_SYS_USTR, .src = arg, .size = STR_SLOT, .dst = dst});
    dst += STR_SLOT;
  }
}

/* Read the formats, choose the hook, lay out the fields. */
static int prepare_events(void) {
  for (int i = 0; i < R.nev; i++) {
    Event *e = &R.ev[i];
    if (e->user)
      continue;         /* laid out by its creator */
    e->tp = tracefs_format(e->sys, e->event);
    if (!e->tp) {
      diag_fatal("cannot read the format of tracepoint %s:%s: %s", e->sys, e->event,
                 strerror(errno));
      return -1;
    }
    bool is_exit = false;
    int nr = !strcmp(e->sys, "syscalls") ? systp_nr(e->event, &is_exit) : -1;
    if (e->layout) {
      if (e->layout(e) < 0)
        return -1;
    } else if (nr >= 0) {
      e->syscall = true;
      e->sys_exit = is_exit;
      e->sys_nr = nr;
      layout_syscall(e);
    } else {
      layout_tracepoint(e);
    }
    if (e->lttng && e->syscall)
      e->cls.name = eprintf("syscall_%s_%s", is_exit ? "exit" : "entry",
                            e->event + (is_exit ? 9 : 10));
    /* Class name (unless its creator named it): the event's name, or
     * sys:event when two systems share it. */
    if (!e->cls.name) {
      e->cls.name = e->event;
      for (int j = 0; j < R.nev; j++)
        if (j != i && !strcmp(R.ev[j].event, e->event))
          e->cls.name = eprintf("%s:%s", e->sys, e->event);
    }
    if (ctf_layout(&e->cls) < 0) {
      diag_fatal("tracepoint %s:%s: cannot lay out its fields", e->sys, e->event);
      return -1;
    }
    if (e->filter && rfilter_check(e->filter, e) < 0)
      return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ BPF */

void rec_emit(Prog *p, struct bpf_insn in) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 256;
    p->insns = realloc(p->insns, sizeof *p->insns * p->cap);
  }
  p->insns[p->n++] = in;
}

#define emit rec_emit
#define jmp_out rec_jmp_out

static void emit_map(Prog *p, int reg, int fd) {
  emit(p, LD_IMM64_LO(reg, BPF_PSEUDO_MAP_FD, fd));
  emit(p, LD_IMM64_HI(0));
}

/* A conditional jump to the program's exit, patched at the end. */
void rec_jmp_out(Prog *p, struct bpf_insn in) {
  p->to_out = realloc(p->to_out, sizeof(int) * (p->nout + 1));
  p->to_out[p->nout++] = p->n;
  emit(p, in);
}

static void patch(Prog *p, int at, int target) { p->insns[at].off = target - at - 1; }

/* Copy `size` bytes from ctx+src to r7+dst with aligned context loads. */
static void copy_ctx(Prog *p, int src, int size, int dst) {
  while (size > 0) {
    int k = 8;
    while (k > size || src % k)
      k /= 2;
    int sz = k == 8 ? BPF_DW : k == 4 ? BPF_W : k == 2 ? BPF_H : BPF_B;
    emit(p, LDX(sz, BPF_REG_1, BPF_REG_6, src));
    emit(p, STX(sz, BPF_REG_7, BPF_REG_1, dst));
    src += k;
    dst += k;
    size -= k;
  }
}

#define REGS_BUF (-80) /* stack copy of the argument registers (64 bytes) */

/* System-call entry: one read of the argument registers' span to the stack
 * at REGS_BUF.  Returns the lowest register offset read. */
static int gen_regs(Prog *p, const Event *e) {
  int lo = 1 << 30, hi = 0;
  for (int i = 0; i < e->ncopies; i++) {
    const Copy *c = &e->copies[i];
    if (c->kind == CP_SYS_ARG || c->kind == CP_SYS_USTR) {
      int ro = regs_off[c->src];
      lo = ro < lo ? ro : lo;
      hi = ro + 8 > hi ? ro + 8 : hi;
    }
  }
  if (hi > 0) {
    emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 0)); /* ctx->args[0]: struct pt_regs * */
    emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, lo));
    emit(p, MOV64_REG(BPF_REG_1, BPF_REG_10));
    emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, REGS_BUF));
    emit(p, MOV64_IMM(BPF_REG_2, hi - lo));
    emit(p, CALL(BPF_FUNC_probe_read_kernel));
  }
  return lo;
}

static void gen_body(Prog *p, const Event *e, int lo) {
  for (int i = 0; i < e->ncopies; i++) {
    const Copy *c = &e->copies[i];
    switch (c->kind) {
    case CP_CTX:
      copy_ctx(p, c->src, c->size, c->dst);
      break;
    case CP_DATALOC_STR:
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_6, c->src));
      emit(p, ALU64_IMM(BPF_AND, BPF_REG_1, 0xffff));
      emit(p, MOV64_REG(BPF_REG_3, BPF_REG_6));
      emit(p, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst));
      emit(p, MOV64_IMM(BPF_REG_2, c->size));
      emit(p, CALL(BPF_FUNC_probe_read_kernel_str));
      break;
    case CP_DATALOC_SEQ: {
      int shift = c->elem == 8 ? 3 : c->elem == 4 ? 2 : c->elem == 2 ? 1 : 0;
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_6, c->src));
      emit(p, MOV64_REG(BPF_REG_2, BPF_REG_1));
      emit(p, ALU64_IMM(BPF_RSH, BPF_REG_2, 16));            /* length in bytes */
      emit(p, JMP_IMM(BPF_JLE, BPF_REG_2, SEQ_BYTES, 1));
      emit(p, MOV64_IMM(BPF_REG_2, SEQ_BYTES));
      emit(p, ALU64_IMM(BPF_RSH, BPF_REG_2, shift));
      emit(p, STX(BPF_H, BPF_REG_7, BPF_REG_2, c->dst));      /* element count */
      emit(p, ALU64_IMM(BPF_LSH, BPF_REG_2, shift));
      emit(p, ALU64_IMM(BPF_AND, BPF_REG_1, 0xffff));
      emit(p, MOV64_REG(BPF_REG_3, BPF_REG_6));
      emit(p, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst + 2));
      emit(p, CALL(BPF_FUNC_probe_read_kernel));
      break;
    }
    case CP_SYS_NR:
      emit(p, ST_IMM(BPF_W, BPF_REG_7, c->dst, e->sys_nr));
      break;
    case CP_SYS_ARG:
      emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, REGS_BUF + regs_off[c->src] - lo));
      if (c->sext32) {
        emit(p, ALU64_IMM(BPF_LSH, BPF_REG_1, 32));
        emit(p, ALU64_IMM(BPF_ARSH, BPF_REG_1, 32));
      }
      emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_SYS_USTR:
      emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_10, REGS_BUF + regs_off[c->src] - lo));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst));
      emit(p, MOV64_IMM(BPF_REG_2, c->size));
      emit(p, CALL(BPF_FUNC_probe_read_user_str));
      break;
    case CP_SYS_RET:
      emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_6, 8)); /* ctx->args[1] */
      emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_CTX_PRIO:
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_6, c->src));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, -100));
      emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_CTX_STATE:
      emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_6, c->src));
      emit(p, MOV64_REG(BPF_REG_2, BPF_REG_1));
      emit(p, ALU64_IMM(BPF_AND, BPF_REG_2, 0x100));
      emit(p, JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 1));
      emit(p, MOV64_IMM(BPF_REG_1, 0));
      emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_TASK:
      emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 8 * c->src));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, c->off));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst));
      emit(p, MOV64_IMM(BPF_REG_2, c->size));
      emit(p, CALL(BPF_FUNC_probe_read_kernel));
      break;
    case CP_IMM: {
      int sz = c->size == 8 ? BPF_DW : c->size == 4 ? BPF_W : c->size == 2 ? BPF_H : BPF_B;
      emit(p, ST_IMM(sz, BPF_REG_7, c->dst, c->imm));
      break;
    }
    }
  }
}

static uint32_t ringbuf_bytes(void);

/* r6 = ctx, r7 = the reservation, r8 = pid_tgid, r9 = this CPU's ring. */
static void gen_prog(Prog *p, const Event *e, int id) {
  emit(p, MOV64_REG(BPF_REG_6, BPF_REG_1));
  emit(p, CALL(BPF_FUNC_get_current_pid_tgid));
  emit(p, MOV64_REG(BPF_REG_8, BPF_REG_0));
  if (R.filter_pid) {
    emit(p, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    jmp_out(p, JMP_IMM(BPF_JNE, BPF_REG_0, R.filter_pid, 0));
  } else if (e->syscall) {
    /* not the recorder's own system calls: each write and poll would
     * record more events to write */
    emit(p, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, getpid(), 0));
  }
  /* The argument registers are read before the reservation so that a
   * filter can test them without reserving room for an event it drops. */
  int lo = gen_regs(p, e);
  if (e->filter)
    rfilter_gen(p, e->filter, e, REGS_BUF, lo);
  emit(p, CALL(BPF_FUNC_get_smp_processor_id));
  emit(p, STX(BPF_W, BPF_REG_10, BPF_REG_0, -4));
  emit_map(p, BPF_REG_1, R.outer_fd);
  emit(p, MOV64_REG(BPF_REG_2, BPF_REG_10));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
  emit(p, CALL(BPF_FUNC_map_lookup_elem));
  jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0));
  emit(p, MOV64_REG(BPF_REG_9, BPF_REG_0));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(p, MOV64_IMM(BPF_REG_2, e->cls.record_size));
  emit(p, MOV64_IMM(BPF_REG_3, 0));
  emit(p, CALL(BPF_FUNC_ringbuf_reserve));
  int to_drop = p->n;
  emit(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0));
  emit(p, MOV64_REG(BPF_REG_7, BPF_REG_0));
  emit(p, ST_IMM(BPF_H, BPF_REG_7, CTF_EV_ID, id));
  emit(p, CALL(BPF_FUNC_ktime_get_ns));
  emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_0, CTF_EV_TIMESTAMP));
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_8, CTF_EV_TID));
  emit(p, ALU64_IMM(BPF_RSH, BPF_REG_8, 32));
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_8, CTF_EV_PID));
  gen_body(p, e, lo);
  /* Wake the reader only once the ring is a quarter full: below that it
   * polls every DRAIN_MS (see the top of the file). */
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_9));
  emit(p, MOV64_IMM(BPF_REG_2, BPF_RB_AVAIL_DATA));
  emit(p, CALL(BPF_FUNC_ringbuf_query));
  emit(p, MOV64_IMM(BPF_REG_2, BPF_RB_NO_WAKEUP));
  emit(p, JMP_IMM(BPF_JLT, BPF_REG_0, ringbuf_bytes() / 4, 1));
  emit(p, MOV64_IMM(BPF_REG_2, BPF_RB_FORCE_WAKEUP));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
  emit(p, CALL(BPF_FUNC_ringbuf_submit));
  int out = p->n;
  emit(p, MOV64_IMM(BPF_REG_0, 0));
  emit(p, EXIT_INSN());
  /* drop: this CPU's slot of the per-CPU counter += 1 */
  patch(p, to_drop, p->n);
  emit(p, ST_IMM(BPF_W, BPF_REG_10, -4, 0));
  emit_map(p, BPF_REG_1, R.drops_fd);
  emit(p, MOV64_REG(BPF_REG_2, BPF_REG_10));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
  emit(p, CALL(BPF_FUNC_map_lookup_elem));
  jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0));
  emit(p, MOV64_IMM(BPF_REG_1, 1));
  emit(p, ATOMIC_ADD64(BPF_REG_0, BPF_REG_1, 0));
  jmp_out(p, JA(0));
  for (int i = 0; i < p->nout; i++)
    patch(p, p->to_out[i], out);
}

static int load_prog(enum bpf_prog_type type, const char *name, const struct bpf_insn *insns,
                     int n, const char *what) {
  int fd = bpf_prog_load(type, name, "GPL", insns, n, NULL);
  if (fd >= 0)
    return fd;
  int err = errno;
  size_t logsz = 1 << 20;
  char *log = calloc(1, logsz);
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = logsz, .log_level = 1);
  int fd2 = bpf_prog_load(type, name, "GPL", insns, n, &opts);
  if (fd2 >= 0)
    close(fd2);
  diag_fatal("the kernel rejected the program for %s: %s", what, strerror(err));
  if (log[0]) {
    size_t len = strlen(log);
    const char *s = log + len;
    for (int lines = 0; s > log && lines < 12;)
      if (*--s == '\n')
        lines++;
    fprintf(stderr, "%s", s);
  }
  if (err == EPERM)
    fprintf(stderr, "etrace needs root, or CAP_BPF and CAP_PERFMON\n");
  free(log);
  return -1;
}

/* enter: tail_call(ctx, array, ctx->args[1])
 * exit:  tail_call(ctx, array, ((struct pt_regs *)ctx->args[0])->orig_ax) */
static void gen_prog(Prog *p, const Event *e, int id);

/* With --profile kernel, a failed tail call (a system call with no
 * tracepoint) falls through to the syscall_entry/exit_unknown event. */
static int load_dispatcher(bool is_exit, int array_fd) {
  Prog p = {0};
  int unknown = R.kernel ? kprof_unknown(is_exit) : -1;
  emit(&p, MOV64_REG(BPF_REG_6, BPF_REG_1));
  if (!is_exit) {
    emit(&p, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 8));
  } else {
    emit(&p, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0));
    emit(&p, ALU64_IMM(BPF_ADD, BPF_REG_3, REGS_OFF_ORIG_AX));
    emit(&p, MOV64_REG(BPF_REG_1, BPF_REG_10));
    emit(&p, ALU64_IMM(BPF_ADD, BPF_REG_1, -8));
    emit(&p, MOV64_IMM(BPF_REG_2, 8));
    emit(&p, CALL(BPF_FUNC_probe_read_kernel));
    emit(&p, LDX(BPF_DW, BPF_REG_3, BPF_REG_10, -8));
    emit(&p, MOV64_REG(BPF_REG_1, BPF_REG_6));
  }
  emit_map(&p, BPF_REG_2, array_fd);
  emit(&p, CALL(BPF_FUNC_tail_call));
  if (unknown >= 0) {
    emit(&p, MOV64_REG(BPF_REG_1, BPF_REG_6));
    gen_prog(&p, rec_event(unknown), unknown);
  } else {
    emit(&p, MOV64_IMM(BPF_REG_0, 0));
    emit(&p, EXIT_INSN());
  }
  free(p.to_out);
  int fd = load_prog(BPF_PROG_TYPE_RAW_TRACEPOINT, is_exit ? "etrace_rsys_x" : "etrace_rsys_e",
                     p.insns, p.n, is_exit ? "the sys_exit dispatcher" : "the sys_enter dispatcher");
  free(p.insns);
  return fd;
}

static uint32_t ringbuf_bytes(void) {
  uint64_t want = (uint64_t)R.ringbuf_kb << 10;
  uint32_t size = (uint32_t)sysconf(_SC_PAGESIZE);
  while (size < want && size < (1u << 30))
    size <<= 1;
  return size;
}

static int create_maps(void) {
  uint32_t size = ringbuf_bytes();
  R.rb_fds = malloc(sizeof(int) * R.ncpus);
  for (int i = 0; i < R.ncpus; i++) {
    R.rb_fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "etrace_rec_rb", 0, 0, size, NULL);
    if (R.rb_fds[i] < 0) {
      diag_fatal("cannot create a %u KiB ring buffer: %s", size >> 10, strerror(errno));
      if (errno == EPERM)
        fprintf(stderr, "etrace needs root, or CAP_BPF and CAP_PERFMON\n");
      return -1;
    }
  }
  LIBBPF_OPTS(bpf_map_create_opts, o, .inner_map_fd = R.rb_fds[0]);
  R.outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "etrace_rec_rbs", 4, 4, R.ncpus, &o);
  if (R.outer_fd < 0) {
    diag_fatal("cannot create the per-CPU ring buffer array: %s", strerror(errno));
    return -1;
  }
  for (uint32_t i = 0; i < (uint32_t)R.ncpus; i++) {
    uint32_t fd = R.rb_fds[i];
    if (bpf_map_update_elem(R.outer_fd, &i, &fd, BPF_ANY) < 0) {
      diag_fatal("cannot set up ring buffer %u: %s", i, strerror(errno));
      return -1;
    }
  }
  R.drops_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "etrace_rec_drop", 4, 8, 1, NULL);
  if (R.drops_fd < 0) {
    diag_fatal("cannot create the loss counter: %s", strerror(errno));
    return -1;
  }
  return 0;
}

static int load_all(void) {
  for (int i = 0; i < R.nev; i++) {
    Event *e = &R.ev[i];
    if (e->user)
      continue;
    Prog p = {0};
    gen_prog(&p, e, i);
    char what[256];
    snprintf(what, sizeof what, "%s:%s", e->sys, e->event);
    if (R.verbose) {
      fprintf(stderr, "%s: %d instructions, %d-byte records\n", what, p.n, e->cls.record_size);
      disasm_print(stderr, p.insns, p.n, NULL);
    }
    e->prog_fd = load_prog(e->syscall || e->raw_tp ? BPF_PROG_TYPE_RAW_TRACEPOINT
                                                   : BPF_PROG_TYPE_TRACEPOINT,
                           "etrace_rec", p.insns, p.n, what);
    free(p.insns);
    free(p.to_out);
    if (e->prog_fd < 0)
      return -1;
    if (!e->syscall)
      continue;
    int d = e->sys_exit;
    if (R.prog_array[d] < 0) {
      R.prog_array[d] = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "etrace_rec_sys", 4, 4,
                                       MAX_SYSCALL, NULL);
      if (R.prog_array[d] < 0) {
        diag_fatal("cannot create the syscall program array: %s", strerror(errno));
        return -1;
      }
      if ((R.dispatcher[d] = load_dispatcher(d, R.prog_array[d])) < 0)
        return -1;
    }
    uint32_t key = e->sys_nr, fd = e->prog_fd;
    if (bpf_map_update_elem(R.prog_array[d], &key, &fd, BPF_ANY) < 0) {
      diag_fatal("cannot register %s: %s", what, strerror(errno));
      return -1;
    }
  }
  return 0;
}

static void add_link(int fd) {
  R.links = realloc(R.links, sizeof(int) * (R.nlinks + 1));
  R.links[R.nlinks++] = fd;
}

static int attach_all(void) {
  for (int d = 0; d < 2; d++) {
    if (R.dispatcher[d] < 0)
      continue;
    const char *name = d ? "sys_exit" : "sys_enter";
    int fd = prov_attach_raw_tp(R.dispatcher[d], name);
    if (fd < 0) {
      diag_fatal("cannot attach to raw tracepoint %s: %s", name, strerror(-fd));
      return -1;
    }
    if (R.verbose)
      fprintf(stderr, "etrace: syscalls:sys_%s_* through raw tracepoint %s\n",
              d ? "exit" : "enter", name);
    add_link(fd);
  }
  for (int i = 0; i < R.nev; i++) {
    Event *e = &R.ev[i];
    if (e->syscall || e->user)
      continue;
    int fd = e->raw_tp ? prov_attach_raw_tp(e->prog_fd, e->raw_tp)
                       : prov_attach_tracepoint(e->prog_fd, e->tp->id);
    if (fd < 0) {
      diag_fatal("cannot attach to tracepoint %s:%s: %s", e->sys, e->event, strerror(-fd));
      return -1;
    }
    add_link(fd);
  }
  return 0;
}

static void detach_all(void) {
  for (int i = 0; i < R.nlinks; i++)
    close(R.links[i]);
  R.nlinks = 0;
}

/* ------------------------------------------------------------ ring buffers */

typedef struct Ring {
  int cpu;
  int fd;
  unsigned long *consumer;     /* consumer page */
  const unsigned long *producer;
  const unsigned char *data;   /* mapped twice: records never wrap */
  unsigned long mask;
  size_t map_len;
} Ring;

static Ring *rings;
static CtfWriter *W;

static int ring_map(Ring *r, int fd, int cpu) {
  long page = sysconf(_SC_PAGESIZE);
  uint32_t size = ringbuf_bytes();
  r->cpu = cpu;
  r->fd = fd;
  r->mask = size - 1;
  void *c = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (c == MAP_FAILED)
    return -1;
  r->consumer = c;
  r->map_len = page + 2 * (size_t)size;
  void *p = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED, fd, page);
  if (p == MAP_FAILED) {
    munmap(c, page);
    return -1;
  }
  r->producer = p;
  r->data = (const unsigned char *)p + page;
  return 0;
}

static void ring_unmap(Ring *r) {
  if (r->consumer)
    munmap(r->consumer, sysconf(_SC_PAGESIZE));
  if (r->producer)
    munmap((void *)r->producer, r->map_len);
}

/* Hand up to `budget` records to the writer.  Returns true when it
 * stopped on the budget (records remain). */
static bool ring_consume(Ring *r, long budget) {
  unsigned long cons = *r->consumer;
  unsigned long prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
  long n = 0;
  while (cons < prod && n < budget) {
    const unsigned char *rec = r->data + (cons & r->mask);
    uint32_t len = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
    if (len & BPF_RINGBUF_BUSY_BIT)
      break;                 /* reserved, not yet submitted */
    uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if (!(len & BPF_RINGBUF_DISCARD_BIT))
      ctf_event(W, r->cpu, rec + BPF_RINGBUF_HDR_SZ, size);
    cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
    n++;
    if (cons >= prod)
      prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
  }
  __atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
  return n == budget;
}

static bool consume_all(long budget) {
  bool more = false;
  for (int i = 0; i < R.ncpus; i++)
    more |= ring_consume(&rings[i], budget);
  return more;
}

static bool ring_pending(const Ring *r) {
  return *r->consumer < __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
}

/* After detaching: everything the kernel still holds, waiting briefly for
 * records still being written by a program that was running. */
static void drain_all(void) {
  for (int tries = 0; tries < 100; tries++) {
    while (consume_all(1 << 20))
      ;
    bool pending = false;
    for (int i = 0; i < R.ncpus; i++)
      pending |= ring_pending(&rings[i]);
    if (!pending)
      break;
    usleep(1000);
  }
}

/* ------------------------------------------------------------ losses */

static uint64_t *drop_vals;

static uint64_t update_drops(void) {
  uint32_t key = 0;
  uint64_t sum = 0;
  if (bpf_map_lookup_elem(R.drops_fd, &key, drop_vals) < 0)
    return 0;
  for (int i = 0; i < R.ncpus; i++) {
    ctf_set_discarded(W, i, drop_vals[i]);
    sum += drop_vals[i];
  }
  return sum;
}


/* ------------------------------------------------------------ the loop */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void progress(uint64_t *last_events, uint64_t *last_t, uint64_t lost) {
  CtfStats st;
  ctf_stats(W, &st);
  uint64_t t = now_ns();
  double dt = (t - *last_t) / 1e9;
  double rate = dt > 0 ? (st.events - *last_events) / dt : 0;
  fprintf(stderr, "\r\033[Ketrace: %.0f events/s, %llu events, %.1f MB written, %llu lost",
          rate, (unsigned long long)st.events, st.bytes / 1e6, (unsigned long long)lost);
  fflush(stderr);
  *last_events = st.events;
  *last_t = t;
}

enum { EV_RING = 0, EV_SIGNAL = 1 << 20, EV_TIMER, EV_DEADLINE, EV_PIDFD };

/* --snapshot: write one when asked (SIGUSR1) or when a trigger event was
 * recorded since the last look; the open packets are closed first. */
static void snapshot_poll(bool *requested) {
  static uint64_t trig_seen;
  uint64_t t = ctf_triggered(W);
  if (!*requested && t == trig_seen)
    return;
  trig_seen = t;
  *requested = false;
  ctf_flush(W);
  SnapStats st;
  char err[512];
  if (snap_write(R.snap, &st, err, sizeof err) < 0)
    fprintf(stderr, "etrace: snapshot: %s\n", err);
  else if (!R.quiet)
    fprintf(stderr, "etrace: snapshot %d: %llu events in %s/snapshot-%d (%llu older events "
                    "overwritten)\n",
            st.n, (unsigned long long)st.events, R.dir, st.n, (unsigned long long)st.overwritten);
}

static int run_loop(void) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGCHLD);
  if (R.snap)
    sigaddset(&mask, SIGUSR1); /* take a snapshot */
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN};
  for (int i = 0; i < R.ncpus; i++) {
    ev.data.u32 = EV_RING + i;
    epoll_ctl(ep, EPOLL_CTL_ADD, rings[i].fd, &ev);
  }
  ev.data.u32 = EV_SIGNAL;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  time_t fs = (time_t)R.flush_s;
  long fns = (long)((R.flush_s - fs) * 1e9);
  struct itimerspec its = {.it_interval = {fs, fns}, .it_value = {fs, fns}};
  timerfd_settime(tfd, 0, &its, NULL);
  ev.data.u32 = EV_TIMER;
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
  int dfd = -1;
  if (R.duration > 0) {
    dfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    time_t sec = (time_t)R.duration;
    struct itimerspec d = {.it_value = {sec, (long)((R.duration - sec) * 1e9)}};
    if (!d.it_value.tv_sec && !d.it_value.tv_nsec)
      d.it_value.tv_nsec = 1;
    timerfd_settime(dfd, 0, &d, NULL);
    ev.data.u32 = EV_DEADLINE;
    epoll_ctl(ep, EPOLL_CTL_ADD, dfd, &ev);
  }
  int pidfd = R.pid ? (int)syscall(SYS_pidfd_open, R.pid, 0) : -1;
  if (pidfd >= 0) {
    ev.data.u32 = EV_PIDFD;
    epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
  }

  bool tty = !R.quiet && isatty(2);
  uint64_t last_events = 0, last_t = now_ns(), lost = 0;
  bool shown = false, stop = false, more = false, snap_req = false, relay_left = false;
  if (R.child > 0)
    child_start();
  while (!stop) {
    struct epoll_event evs[16];
    int n = epoll_wait(ep, evs, 16, more ? 0 : DRAIN_MS);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      uint32_t tag = evs[i].data.u32;
      if (tag == EV_TIMER) {
        uint64_t x;
        if (read(tfd, &x, sizeof x) < 0) { /* nothing */ }
        lost = update_drops();
        /* every event older than q is in a ring (bar one being written:
         * 1 ms of margin) and, once drained, handed over */
        uint64_t q = now_ns() - 1000000;
        bool drained = !consume_all(1 << 20);
        if ((drained ? ctf_flush_at(W, q) : ctf_flush(W)) < 0 && R.relay && !R.tee)
          stop = true; /* the relay is gone: stop, count what was not delivered */
        if (R.tee && ctf_sink_failed(W) && !relay_left) {
          relay_left = true;
          fprintf(stderr, "etrace: %s: recording goes on in %s only\n", relay_error(R.relay),
                  R.dir);
        }
        if (tty) {
          progress(&last_events, &last_t, lost);
          shown = true;
        }
      } else if (tag == EV_DEADLINE || tag == EV_PIDFD) {
        stop = true;
      } else if (tag == EV_SIGNAL) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGUSR1)
            snap_req = true;
          else if (si.ssi_signo != SIGCHLD)
            stop = true;
          else if (R.child > 0 && waitpid(R.child, NULL, WNOHANG) == R.child) {
            R.child = 0;
            child_reaped();
            stop = true;
          }
        }
      }
    }
    /* Rings: consume on readiness or while a previous pass left records. */
    more = consume_all(1 << 16);
    if (R.snap)
      snapshot_poll(&snap_req);
  }
  if (shown)
    fputc('\n', stderr);
  close(ep);
  close(sfd);
  close(tfd);
  if (dfd >= 0)
    close(dfd);
  if (pidfd >= 0)
    close(pidfd);
  return 0;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f) {
  fputs("USAGE:\n"
        "    etrace record -o DIR [options] EVENT...\n"
        "    etrace record -o DIR --profile kernel [options] [EVENT...]\n"
        "    etrace record --relay net://HOST[:PORT[:DATA_PORT]] [--session NAME] [-o DIR] [options] EVENT...\n"
        "    etrace record --snapshot SIZE -o DIR [--trigger 'EVENT /PREDICATE/'] [options] EVENT...\n"
        "    etrace ctf repair [--dry-run] DIR\n"
        "\n"
        "Record tracepoints, with all their fields, to a CTF 1.8 trace in DIR\n"
        "(read it with babeltrace2 DIR).  EVENT is SYSTEM:EVENT, globs allowed:\n"
        "sched:sched_switch 'syscalls:sys_enter_open*'.  Recording stops on\n"
        "Ctrl-C or SIGTERM, after -D SECONDS, or when the -c command exits.\n"
        "An EVENT may carry a filter, a bpftrace predicate over its integer\n"
        "fields (args.NAME or NAME), pid and tid, with C operators (== != < <=\n"
        "> >= && || ! & | ^ ~ + -), tested in the kernel before recording:\n"
        "    'syscalls:sys_enter_openat /args.flags & 1/'\n"
        "    'sched:sched_switch /prev_pid == 0 || next_pid == 0/'\n"
        "The recorder's own system calls are left out.\n"
        "\n"
        "OPTIONS (anywhere among the events; -- ends them):\n"
        "    -o DIR         the trace directory (new, or empty)\n"
        "    --relay net://HOST[:CONTROL_PORT[:DATA_PORT]]\n"
        "                   stream the trace to an lttng-relayd (ports 5342/5343 by\n"
        "                   default): it lands under the relay's output as\n"
        "                   HOSTNAME/SESSION-DATE/kernel/, and live viewers\n"
        "                   (babeltrace2 --input-format=lttng-live) read it while it is\n"
        "                   recorded.  If the relay goes away or stops reading (5 s),\n"
        "                   recording stops (exit status 1) and the events not\n"
        "                   delivered are counted; with -o DIR too, the trace is also\n"
        "                   written to DIR and recording goes on there\n"
        "    --session NAME the relay session's name (default etrace-DATE)\n"
        "    --snapshot SIZE\n"
        "                   flight recorder: keep the newest SIZE (e.g. 64M) of whole\n"
        "                   packets per CPU in memory, overwriting the oldest; on\n"
        "                   SIGUSR1 or a --trigger event write them as a complete trace\n"
        "                   to DIR/snapshot-N/ (overwritten events are counted as\n"
        "                   discarded) and keep recording.  Memory: SIZE per CPU plus\n"
        "                   one packet (SIZE/8, at most 1 MiB) per CPU\n"
        "    --trigger 'EVENT /PREDICATE/'\n"
        "                   with --snapshot: take a snapshot each time EVENT (a\n"
        "                   tracepoint not otherwise recorded; it is recorded too)\n"
        "                   passes PREDICATE, e.g. 'syscalls:sys_exit_openat /ret < 0/'\n"
        "    --live-timer SECONDS\n"
        "                   flush partial packets (and tell live viewers which CPUs\n"
        "                   are idle) every SECONDS (default 1)\n"
        "    -D SECONDS     stop after SECONDS (decimals allowed; --duration)\n"
        "    -c 'CMD'       run CMD once the probes are attached; stop when it exits\n"
        "    --cmd-only     with -c: record only events of CMD's process\n"
        "    -p PID         record only events of process PID; stop when it exits\n"
        "    --profile kernel\n"
        "                   an LTTng-compatible kernel trace for Trace Compass's kernel\n"
        "                   views: sched_switch, sched_waking, sched_wakeup_new,\n"
        "                   sched_process_fork/exec/exit/free, irq_handler_*,\n"
        "                   irq_softirq_*, syscall_entry_*/syscall_exit_* and a\n"
        "                   statedump of the threads alive at start (more EVENTs may\n"
        "                   follow, under their own names)\n"
        "    -b KB          ring buffer size per CPU in KiB (default 4096;\n"
        "                   also ETRACE_RINGBUF_KB)\n"
        "    -q             quiet: no progress line, no summary (losses are still reported)\n"
        "    -v             verbose: print the generated BPF programs and hooks\n"
        "    --verify       generate and load the programs (the kernel verifies them),\n"
        "                   then exit without recording\n"
        "\n"
        "`etrace ctf repair DIR` truncates each stream file of a trace cut short\n"
        "(SIGKILL, full disk) after its last complete packet; --dry-run only reports.\n",
        f);
}

static int repair_main(int argc, char **argv) {
  static const char use[] = "usage: etrace ctf repair [--dry-run] DIR\n";
  bool dry = false, only_args = false;
  const char *dir = NULL;
  if (argc < 3 || strcmp(argv[2], "repair")) {
    fputs(use, stderr);
    return 1;
  }
  for (int i = 3; i < argc; i++) { /* options anywhere; `--` ends them */
    const char *a = argv[i];
    if (!only_args && !strcmp(a, "--"))
      only_args = true;
    else if (!only_args && !strcmp(a, "--dry-run"))
      dry = true;
    else if (!only_args && !strcmp(a, "-n")) { /* -n is "no header" in snoop */
      cmdline_deprecated("ctf repair", "-n", "--dry-run");
      dry = true;
    } else if (!only_args && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
      fputs(use, stdout);
      return 0;
    } else if (!only_args && a[0] == '-' && a[1]) {
      diag_fatal("ctf repair: unknown option '%s'", a);
      fputs(use, stderr);
      return 1;
    } else if (dir) {
      diag_fatal("ctf repair: more than one trace directory ('%s', '%s')", dir, a);
      return 1;
    } else
      dir = a;
  }
  if (!dir) {
    fputs(use, stderr);
    return 1;
  }
  int n = ctf_repair(dir, stdout, dry);
  if (n < 0)
    return 1;
  printf("%s: %d file%s %s\n", dir, n, n == 1 ? "" : "s",
         dry ? "would be truncated" : "truncated");
  return 0;
}

enum { OPT_CMD_ONLY = 256, OPT_VERIFY, OPT_PROFILE, OPT_RELAY, OPT_SESSION, OPT_LIVE_TIMER,
       OPT_SNAPSHOT, OPT_TRIGGER, OPT_DURATION };

static void cleanup(void) {
  detach_all();
  snap_free(R.snap);
  R.snap = NULL;
  if (R.relay)
    relay_close(R.relay, NULL, 0);
  R.relay = NULL;
  child_kill();
  for (int i = 0; i < R.nev; i++)
    if (R.ev[i].prog_fd >= 0)
      close(R.ev[i].prog_fd);
  for (int d = 0; d < 2; d++) {
    if (R.dispatcher[d] >= 0)
      close(R.dispatcher[d]);
    if (R.prog_array[d] >= 0)
      close(R.prog_array[d]);
  }
  if (rings)
    for (int i = 0; i < R.ncpus; i++)
      ring_unmap(&rings[i]);
  if (R.rb_fds)
    for (int i = 0; i < R.ncpus; i++)
      if (R.rb_fds[i] >= 0)
        close(R.rb_fds[i]);
  if (R.outer_fd >= 0)
    close(R.outer_fd);
  if (R.drops_fd >= 0)
    close(R.drops_fd);
  free(rings);
  free(R.rb_fds);
  free(R.links);
  free(R.ev);
  free(drop_vals);
  arena_free_all();
}

/* --relay, --session, --live-timer, --snapshot, --trigger. */
static int sink_option(int ch, const char *arg) {
  char *end;
  switch (ch) {
  case OPT_RELAY: R.relay_url = arg; break;
  case OPT_SESSION: R.session = arg; break;
  case OPT_LIVE_TIMER:
    R.flush_s = strtod(arg, &end);
    if (*end || !(R.flush_s >= 0.01 && R.flush_s <= 3600)) {
      diag_fatal("invalid --live-timer '%s': expected seconds, 0.01 to 3600", arg);
      return -1;
    }
    break;
  case OPT_SNAPSHOT:
    if (!(R.snap_size = snap_parse_size(arg)) || R.snap_size < 4096) {
      diag_fatal("invalid --snapshot size '%s': expected bytes per CPU, at least 4K, e.g. 64M",
                 arg);
      return -1;
    }
    break;
  case OPT_TRIGGER: R.trigger = arg; break;
  }
  return 0;
}

/* --relay / --snapshot / --trigger / --session combinations. */
static int check_sink_options(void) {
  if (R.snap_size && R.relay_url) {
    diag_fatal("--snapshot writes snapshots under -o DIR: not with --relay");
    return -1;
  }
  if (R.trigger && !R.snap_size) {
    diag_fatal("--trigger needs --snapshot SIZE");
    return -1;
  }
  if (R.session && !R.relay_url) {
    diag_fatal("--session needs --relay");
    return -1;
  }
  return 0;
}

/* --trigger, after the recorded events: its own programs and classes. */
static int add_trigger(void) {
  int first = R.nev;
  if (expand(R.trigger) < 0)
    return -1;
  if (R.nev == first) {
    diag_fatal("--trigger '%s': its tracepoint is also recorded; trigger on another one",
               R.trigger);
    return -1;
  }
  R.trig_first = first;
  R.trig_last = R.nev;
  return 0;
}

/* Where the packets go besides (or instead of) -o DIR: the relay, or the
 * flight recorder.  Fills copt->sink with *sink. */
static int open_sink(CtfOptions *copt, CtfSink *sink) {
  char err[512];
  if (R.relay_url) {
    if (!(R.relay = relay_open(R.relay_url, R.session, R.flush_s, err, sizeof err))) {
      diag_fatal("%s", err);
      return -1;
    }
    *sink = relay_sink(R.relay);
    copt->sink = sink;
    copt->trace_name = R.session;
    snprintf(R.relay_dir, sizeof R.relay_dir, "%s", relay_path(R.relay));
    copt->tee = R.tee = R.dir != NULL;
    if (!R.dir)
      R.dir = R.relay_dir;
  }
  if (R.snap_size) {
    if (!(R.snap = snap_new(R.dir, R.snap_size, err, sizeof err))) {
      diag_fatal("%s", err);
      return -1;
    }
    *sink = snap_sink(R.snap);
    copt->sink = sink;
    /* several packets per SIZE, so that the oldest go a little at a time */
    size_t ps = R.snap_size / 8;
    copt->packet_size = ps < 4096 ? 4096 : ps > (1u << 20) ? 1u << 20 : ps;
  }
  return 0;
}

/* After ctf_close: close the session on the relay (waiting until it has
 * written everything).  -1 when events were not delivered and no local
 * copy has them (the reason in err). */
static int close_relay(const CtfStats *st, char *err, size_t errlen) {
  if (!R.relay)
    return 0;
  int rc = relay_close(R.relay, err, errlen);
  R.relay = NULL;
  if (R.tee && err[0])
    fprintf(stderr, "etrace: %s: %llu events not delivered to the relay (all of them are in %s)\n",
            err, (unsigned long long)st->undelivered, R.dir);
  return R.tee ? 0 : rc;
}

int record_main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "ctf"))
    return repair_main(argc, argv);
  static const struct option longopts[] = {
    {"cmd-only", no_argument, 0, OPT_CMD_ONLY},
    {"verify", no_argument, 0, OPT_VERIFY},
    {"profile", required_argument, 0, OPT_PROFILE},
    {"relay", required_argument, 0, OPT_RELAY},
    {"session", required_argument, 0, OPT_SESSION},
    {"live-timer", required_argument, 0, OPT_LIVE_TIMER},
    {"snapshot", required_argument, 0, OPT_SNAPSHOT},
    {"trigger", required_argument, 0, OPT_TRIGGER},
    {"duration", required_argument, 0, OPT_DURATION},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  bool verify = false;
  const char *env_kb = getenv("ETRACE_RINGBUF_KB");
  R.ringbuf_kb = env_kb && atoi(env_kb) > 0 ? (uint32_t)atoi(env_kb) : DEFAULT_RINGBUF_KB;
  optind = 2;
  int ch;
  /* options anywhere among the events (commands/cmdline.h's letters) */
  while ((ch = getopt_long(argc, argv, "o:d:D:c:p:b:qvh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'o': R.dir = optarg; break;
    case 'd':
      if (!cmdline_old_duration("record", optarg, &R.duration))
        return 1;
      break;
    case 'D':
    case OPT_DURATION:
      if (!cmdline_seconds("duration", optarg, &R.duration))
        return 1;
      break;
    case 'c': R.cmd = optarg; break;
    case 'p':
      if ((R.pid = pid_arg(optarg)) < 0)
        return 1;
      break;
    case 'b': {
      char *end;
      long kb = strtol(optarg, &end, 10);
      if (*end || kb <= 0 || kb > (1 << 20)) {
        diag_fatal("invalid ring buffer size '%s' (KiB)", optarg);
        return 1;
      }
      R.ringbuf_kb = kb;
      break;
    }
    case 'q': R.quiet = true; break;
    case 'v': R.verbose = true; break;
    case OPT_CMD_ONLY: R.cmd_only = true; break;
    case OPT_VERIFY: verify = true; break;
    case OPT_PROFILE:
      if (!strcmp(optarg, "kernel"))
        R.kernel = true;
      else if (strcmp(optarg, "native")) {
        diag_fatal("unknown profile '%s': expected kernel or native", optarg);
        return 1;
      }
      break;
    case OPT_RELAY:
    case OPT_SESSION:
    case OPT_LIVE_TIMER:
    case OPT_SNAPSHOT:
    case OPT_TRIGGER:
      if (sink_option(ch, optarg) < 0)
        return 1;
      break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 1;
    }
  }
  if (check_sink_options() < 0)
    return 1;
  if (!R.dir && !verify && !R.relay_url) {
    diag_fatal("record: -o DIR (or --relay URL) is required");
    usage(stderr);
    return 1;
  }
  if (optind >= argc && !R.kernel) {
    diag_fatal("record: no event given (e.g. sched:sched_switch)");
    return 1;
  }
  if (R.cmd_only && !R.cmd) {
    diag_fatal("--cmd-only needs -c CMD");
    return 1;
  }
  if (R.cmd && R.pid) {
    diag_fatal("-c and -p cannot be used together");
    return 1;
  }
  if (privs_check() < 0) /* before the trace directory or a child exists */
    return 1;
  types_init();
  if (!tracefs_root(R.verbose)) {
    diag_fatal("cannot find or mount tracefs: %s", strerror(errno));
    return 1;
  }
  if (R.kernel && kprof_add_events() < 0) {
    cleanup();
    return 1;
  }
  for (int i = optind; i < argc; i++)
    if (expand(argv[i]) < 0) {
      cleanup();
      return 1;
    }
  if (R.trigger && add_trigger() < 0) {
    cleanup();
    return 1;
  }
  if (prepare_events() < 0) {
    cleanup();
    return 1;
  }

  int rc = 1;
  R.ncpus = libbpf_num_possible_cpus();
  drop_vals = calloc(R.ncpus, sizeof(uint64_t));
  if (R.cmd && (R.child = child_spawn(R.cmd)) < 0)
    goto out;
  R.filter_pid = R.pid ? R.pid : R.cmd_only ? R.child : 0;
  if (create_maps() < 0 || load_all() < 0)
    goto out;
  if (verify) {
    printf("%d program%s loaded\n", R.nev, R.nev == 1 ? "" : "s");
    rc = 0;
    goto out;
  }

  rings = calloc(R.ncpus, sizeof *rings);
  for (int i = 0; i < R.ncpus; i++)
    if (ring_map(&rings[i], R.rb_fds[i], i) < 0) {
      diag_fatal("cannot map ring buffer %d: %s", i, strerror(errno));
      goto out;
    }

  CtfClass *classes = calloc(R.nev, sizeof *classes);
  for (int i = 0; i < R.nev; i++)
    classes[i] = R.ev[i].cls;
  CtfOptions copt = {.command = R.cmd, .start_ns = now_ns(), .lttng_kernel = R.kernel};
  char err[512];
  CtfSink sink;
  if (open_sink(&copt, &sink) < 0) {
    free(classes);
    goto out;
  }
  W = ctf_open(R.dir, R.ncpus, classes, R.nev, &copt, err, sizeof err);
  if (!W) {
    if (R.relay)
      diag_fatal("%s: %s", err, relay_error(R.relay));
    else
      diag_fatal("%s", err);
    free(classes);
    goto out;
  }
  ctf_set_trigger(W, R.trig_first, R.trig_last);
  int dumped = R.kernel ? kprof_statedump(W) : 0;
  if (R.verbose && R.kernel)
    fprintf(stderr, "etrace: statedump of %d threads\n", dumped);
  if (attach_all() < 0) {
    detach_all();
    ctf_close(W, now_ns(), NULL);
    W = NULL;
    free(classes);
    goto out;
  }
  uint64_t t0 = now_ns();
  if (!R.quiet)
    fprintf(stderr, "etrace: recording %d %s to %s%s%s%s%s\n", R.nev,
            R.kernel ? "event classes (LTTng kernel profile)" : R.nev == 1 ? "tracepoint" : "tracepoints",
            R.relay ? "the relay, " : "", R.relay ? R.relay_dir : "", R.tee ? " and to " : "",
            R.relay && !R.tee ? "" : R.dir, R.cmd || R.duration > 0 ? "" : "; Ctrl-C to stop");
  run_loop();
  uint64_t t_end = now_ns();

  /* Stop: detach, drain what the kernel holds, final loss counts. */
  detach_all();
  drain_all();
  uint64_t lost = update_drops();
  uint64_t t1 = now_ns();
  CtfStats st;
  int cerr = ctf_close(W, t1, &st);
  W = NULL;
  char rerr[512] = "";
  if (close_relay(&st, rerr, sizeof rerr) < 0)
    cerr = -1;
  free(classes);
  if (!R.quiet)
    fprintf(stderr, "etrace: recorded %llu events (%.2f MB, %llu packets) to %s in %.2f s\n",
            (unsigned long long)(st.events - st.unwritten), st.bytes / 1e6,
            (unsigned long long)st.packets, R.dir, (t_end - t0) / 1e9);
  if (R.snap && !R.quiet)
    fprintf(stderr, "etrace: flight recorder held at most %.2f MiB of packets (%d CPUs x %.2f "
                    "MiB kept)\n",
            snap_peak(R.snap) / 1048576.0, R.ncpus, R.snap_size / 1048576.0);
  if (lost)
    fprintf(stderr, "etrace: lost %llu events: the ring buffer was full (raise -b)\n",
            (unsigned long long)lost);
  if (R.verbose && st.reordered)
    fprintf(stderr, "etrace: %llu events arrived out of order on their CPU and were put back "
                    "in place\n",
            (unsigned long long)st.reordered);
  if (st.clamped)
    fprintf(stderr, "etrace: %llu events arrived too late to be put back in order on their "
                    "CPU; their timestamps were raised to the previous event's\n",
            (unsigned long long)st.clamped);
  if (st.bad)
    fprintf(stderr, "etrace: %llu malformed records skipped\n", (unsigned long long)st.bad);
  if (cerr < 0 && rerr[0])
    fprintf(stderr, "etrace: %s: %llu events not delivered (%llu packets)\n", rerr,
            (unsigned long long)st.unwritten, (unsigned long long)st.packets_lost);
  else if (cerr < 0)
    fprintf(stderr, "etrace: could not write %llu packets (%llu events, counted as discarded "
                    "in the trace): %s\n",
            (unsigned long long)st.packets_lost, (unsigned long long)st.unwritten,
            strerror(st.write_errno ? st.write_errno : EIO));
  rc = cerr < 0 ? 1 : 0;
out:
  cleanup();
  return rc;
}
