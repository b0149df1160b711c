/* record.c - `etrace record`: tracepoints, with all their fields, to a
 * CTF 1.8 trace (formats/ctf.c writes it); and `etrace ctf repair`.
 *
 *   etrace record -o DIR [-D SECONDS] [-c CMD [--cmd-only]] [-p PID] EVENT...
 *
 * Each event gets a small BPF program (progs.c), built with the shared
 * emitter (not through the language compiler).  It reserves a record in
 * the ring buffer of the CPU it runs on and fills it with the bytes of the
 * CTF event: header {u16 id, u64 bpf_ktime_get_ns()}, context {pid, tid},
 * then the tracepoint's fields, packed, from its tracefs format (laid out
 * here).  __data_loc strings and arrays, and the string arguments of
 * system calls, go to fixed slots after the fixed fields (bounded:
 * STR_SLOT bytes), which the writer packs.  A full ring buffer counts the
 * loss in a per-CPU array; the writer stores it as the cumulative
 * events_discarded of each packet.
 *
 * System-call tracepoints go through the same raw-tracepoint dispatcher
 * as the language's (providers/sysdispatch.h): their programs rebuild the
 * format's fields from struct pt_regs (arguments) or the raw tracepoint's
 * arguments (return value).
 *
 * User space (stream.c): one ring buffer per CPU (an ARRAY_OF_MAPS
 * selects it), read with the shared ring reader in the shared event loop.
 * Programs submit without waking the reader unless their ring is a
 * quarter full, and the reader polls every DRAIN_MS otherwise: a wakeup
 * per event costs an interrupt each and, measured here, more than tripled
 * the cost of a recorded getppid().  The recorder's own system calls are
 * filtered out in BPF (each write and poll would otherwise record more
 * events to write).
 */
#include "etrace.h"
#include "arch/arch.h"
#include "commands/cmdline.h"
#include "formats/ctf.h"
#include "record/record.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ events */

int rec_add_event(Rec *r, const char *sys, const char *event) {
  for (int i = 0; i < r->nev; i++)
    if (!strcmp(r->ev[i].sys, sys) && !strcmp(r->ev[i].event, event))
      return i;
  r->ev = realloc(r->ev, sizeof *r->ev * (r->nev + 1));
  Event *e = &r->ev[r->nev++];
  memset(e, 0, sizeof *e);
  e->sys = estrdup(sys);
  e->event = estrdup(event);
  e->prog_fd = -1;
  return r->nev - 1;
}

Event *rec_event(Rec *r, int i) { return &r->ev[i]; }

KProf *rec_kprof(Rec *r) { return &r->kprof; }

typedef struct Matches {
  Rec *r;
  int n;
} Matches;

static void add_event(const char *sys, const char *event, void *arg) {
  Matches *m = arg;
  m->n++;
  rec_add_event(m->r, sys, event);
}

/* "sys:event", "tracepoint:sys:event" or "t:sys:event"; globs allowed;
 * then an optional filter "/PREDICATE/" (filter.c). */
static int expand(Rec *r, const char *whole) {
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
  int first = r->nev;
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
  Matches matched = {r, 0};
  tracefs_glob(sys, colon + 1, add_event, &matched);
  if (!matched.n) {
    diag_fatal("no tracepoint matches '%s' (see etrace -l)", arg);
    return -1;
  }
  for (int i = first; i < r->nev; i++)
    r->ev[i].filter = filter;
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
      if (tf->offset < 16 || arg >= arch_current()->nsyscall_args || is_user_string(tf))
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
    if (tf->offset < 16 || arg >= arch_current()->nsyscall_args || !is_user_string(tf))
      continue;
    rec_add_field(e, (CtfField){.name = tf->name, .kind = CTF_STRING, .slot = STR_SLOT});
    rec_add_copy(e, (Copy){.kind = CP_SYS_USTR, .src = arg, .size = STR_SLOT, .dst = dst});
    dst += STR_SLOT;
  }
}

/* Read the formats, choose the hook, lay out the fields. */
static int prepare_events(Rec *r) {
  for (int i = 0; i < r->nev; i++) {
    Event *e = &r->ev[i];
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
      for (int j = 0; j < r->nev; j++)
        if (j != i && !strcmp(r->ev[j].event, e->event))
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
        "                   an LTTng-compatible kernel trace (DIR/kernel/) for Trace\n"
        "                   Compass and LTTng's analyses: sched_*, irq_*, kmem_*,\n"
        "                   block_*, net_*, power_*, writeback_*, timer_* (with\n"
        "                   --enable timer), syscall_entry_*/syscall_exit_*, the\n"
        "                   procname/pid/tid/prio/vpid/vtid contexts and a statedump\n"
        "                   of the processes, their files, interrupts, block devices,\n"
        "                   network interfaces and CPUs at start (more EVENTs may\n"
        "                   follow, under their own names)\n"
        "    --enable LIST, --disable LIST\n"
        "                   with --profile kernel: event groups (sched, irq, kmem,\n"
        "                   block, net, timer, power, writeback, syscall, all) or\n"
        "                   LTTng event names, globs allowed ('timer_hrtimer_*'), to\n"
        "                   record or leave out; all groups but timer by default,\n"
        "                   --disable wins over --enable\n"
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

static void cleanup(Rec *r) {
  links_free(&r->links);
  snap_free(r->snap);
  r->snap = NULL;
  if (r->relay)
    relay_close(r->relay, NULL, 0);
  r->relay = NULL;
  child_kill();
  for (int i = 0; i < r->nev; i++)
    if (r->ev[i].prog_fd >= 0)
      close(r->ev[i].prog_fd);
  sysdisp_close(&r->sys);
  rec_unmap_rings(r);
  if (r->rb_fds)
    for (int i = 0; i < r->ncpus; i++)
      if (r->rb_fds[i] >= 0)
        close(r->rb_fds[i]);
  if (r->outer_fd >= 0)
    close(r->outer_fd);
  if (r->drops_fd >= 0)
    close(r->drops_fd);
  if (r->enabled_fd >= 0)
    close(r->enabled_fd);
  free(r->rb_fds);
  free(r->ev);
  free(r->drop_vals);
  arena_free_all();
}

/* The options; *verify for --verify.  0, 1 (exit 0: -h) or -1. */
static int parse_options(Rec *r, int argc, char **argv, bool *verify) {
  static const struct option longopts[] = {
    {"cmd-only", no_argument, 0, REC_OPT_CMD_ONLY},
    {"verify", no_argument, 0, REC_OPT_VERIFY},
    {"profile", required_argument, 0, REC_OPT_PROFILE},
    {"relay", required_argument, 0, REC_OPT_RELAY},
    {"session", required_argument, 0, REC_OPT_SESSION},
    {"live-timer", required_argument, 0, REC_OPT_LIVE_TIMER},
    {"snapshot", required_argument, 0, REC_OPT_SNAPSHOT},
    {"trigger", required_argument, 0, REC_OPT_TRIGGER},
    {"duration", required_argument, 0, REC_OPT_DURATION},
    {"enable", required_argument, 0, REC_OPT_ENABLE},
    {"disable", required_argument, 0, REC_OPT_DISABLE},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  const char *env_kb = getenv("ETRACE_RINGBUF_KB");
  r->ringbuf_kb = env_kb && atoi(env_kb) > 0 ? (uint32_t)atoi(env_kb) : DEFAULT_RINGBUF_KB;
  optind = 2;
  int ch;
  /* options anywhere among the events (commands/cmdline.h's letters) */
  while ((ch = getopt_long(argc, argv, "o:d:D:c:p:b:qvh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'o': r->dir = optarg; break;
    case 'd':
      if (!cmdline_old_duration("record", optarg, &r->duration))
        return -1;
      break;
    case 'D':
    case REC_OPT_DURATION:
      if (!cmdline_seconds("duration", optarg, &r->duration))
        return -1;
      break;
    case 'c': r->cmd = optarg; break;
    case 'p':
      if ((r->pid = pid_arg(optarg)) < 0)
        return -1;
      break;
    case 'b': {
      char *end;
      long kb = strtol(optarg, &end, 10);
      if (*end || kb <= 0 || kb > (1 << 20)) {
        diag_fatal("invalid ring buffer size '%s' (KiB)", optarg);
        return -1;
      }
      r->ringbuf_kb = kb;
      break;
    }
    case 'q': r->quiet = true; break;
    case 'v': r->verbose = true; break;
    case REC_OPT_CMD_ONLY: r->cmd_only = true; break;
    case REC_OPT_VERIFY: *verify = true; break;
    case REC_OPT_RELAY:
    case REC_OPT_SESSION:
    case REC_OPT_LIVE_TIMER:
    case REC_OPT_SNAPSHOT:
    case REC_OPT_TRIGGER:
      if (rec_sink_option(r, ch, optarg) < 0)
        return -1;
      break;
    case REC_OPT_PROFILE:
      if (!strcmp(optarg, "kernel"))
        r->kernel = true;
      else if (strcmp(optarg, "native")) {
        diag_fatal("unknown profile '%s': expected kernel or native", optarg);
        return -1;
      }
      break;
    case REC_OPT_ENABLE:
    case REC_OPT_DISABLE:
      if (kprof_select_option(r, ch == REC_OPT_DISABLE, optarg) < 0)
        return -1;
      break;
    case 'h': usage(stdout); return 1;
    default: usage(stderr); return -1;
    }
  }
  if (rec_check_sink_options(r) < 0)
    return -1;
  if (!r->dir && !*verify && !r->relay_url) {
    diag_fatal("record: -o DIR (or --relay URL) is required");
    usage(stderr);
    return -1;
  }
  if (optind >= argc && !r->kernel) {
    diag_fatal("record: no event given (e.g. sched:sched_switch)");
    return -1;
  }
  if (r->ksel.n && !r->kernel) {
    diag_fatal("--enable and --disable choose the events of --profile kernel");
    return -1;
  }
  if (r->cmd_only && !r->cmd) {
    diag_fatal("--cmd-only needs -c CMD");
    return -1;
  }
  if (r->cmd && r->pid) {
    diag_fatal("-c and -p cannot be used together");
    return -1;
  }
  return 0;
}

/* --trigger, after the recorded events: its own programs and classes. */
static int add_trigger(Rec *r) {
  int first = r->nev;
  if (expand(r, r->trigger) < 0)
    return -1;
  if (r->nev == first) {
    diag_fatal("--trigger '%s': its tracepoint is also recorded; trigger on another one",
               r->trigger);
    return -1;
  }
  r->trig_first = first;
  r->trig_last = r->nev;
  return 0;
}

/* The closing summary on stderr. */
static void report(const Rec *r, const CtfStats *st, uint64_t lost, double seconds, int cerr,
                   const char *rerr) {
  if (!r->quiet)
    fprintf(stderr, "etrace: recorded %llu events (%.2f MB, %llu packets) to %s in %.2f s\n",
            (unsigned long long)(st->events - st->unwritten), st->bytes / 1e6,
            (unsigned long long)st->packets, r->dir, seconds);
  if (r->snap && !r->quiet)
    fprintf(stderr, "etrace: flight recorder held at most %.2f MiB of packets (%d CPUs x %.2f "
                    "MiB kept)\n",
            snap_peak(r->snap) / 1048576.0, r->ncpus, r->snap_size / 1048576.0);
  if (lost)
    fprintf(stderr, "etrace: lost %llu events: the ring buffer was full (raise -b)\n",
            (unsigned long long)lost);
  if (r->missed)
    fprintf(stderr, "etrace: %llu events not recorded: their tracepoint fired while another "
                    "BPF program ran on the same CPU, and the kernel does not nest them "
                    "(counted as discarded on CPU 0)\n",
            (unsigned long long)r->missed);
  if (r->verbose && st->reordered)
    fprintf(stderr, "etrace: %llu events arrived out of order on their CPU and were put back "
                    "in place\n",
            (unsigned long long)st->reordered);
  if (st->clamped)
    fprintf(stderr, "etrace: %llu events arrived too late to be put back in order on their "
                    "CPU; their timestamps were raised to the previous event's\n",
            (unsigned long long)st->clamped);
  if (st->bad)
    fprintf(stderr, "etrace: %llu malformed records skipped\n", (unsigned long long)st->bad);
  if (cerr < 0 && rerr[0])
    fprintf(stderr, "etrace: %s: %llu events not delivered (%llu packets)\n", rerr,
            (unsigned long long)st->unwritten, (unsigned long long)st->packets_lost);
  else if (cerr < 0)
    fprintf(stderr, "etrace: could not write %llu packets (%llu events, counted as discarded "
                    "in the trace): %s\n",
            (unsigned long long)st->packets_lost, (unsigned long long)st->unwritten,
            strerror(st->write_errno ? st->write_errno : EIO));
}

/* The last name of DIR (without trailing slashes): the session's name. */
static const char *rec_session_name(const char *dir) {
  static char name[256];
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  size_t b = n;
  while (b > 0 && dir[b - 1] != '/')
    b--;
  snprintf(name, sizeof name, "%.*s", (int)(n - b), dir + b);
  return name;
}

/* Open the trace, attach, record until the end condition, stop, drain,
 * close the trace.  Returns the exit code. */
static int record_run(Rec *r) {
  if (rec_map_rings(r) < 0) {
    diag_fatal("cannot map the ring buffers: %s", strerror(errno));
    return 1;
  }
  /* Attached first, recording nothing until the enabled flag is set: the
   * trace starts once they all are, not while they attach one by one. */
  if (rec_attach_all(r) < 0) {
    links_close(&r->links);
    return 1;
  }
  CtfClass *classes = calloc(r->nev, sizeof *classes);
  for (int i = 0; i < r->nev; i++)
    classes[i] = r->ev[i].cls;
  CtfOptions copt = {.command = r->cmd, .start_ns = rec_now_ns(), .lttng_kernel = r->kernel};
  if (r->kernel) {
    copt.context = kprof_context;
    copt.ncontext = KPROF_NCONTEXT;
  }
  char err[512];
  CtfSink sink;
  if (rec_open_sink(r, &copt, &sink) < 0) {
    links_close(&r->links);
    free(classes);
    return 1;
  }
  /* --profile kernel -o DIR: an LTTng session directory, the trace in
   * DIR/kernel as lttng-sessiond lays it out (lttng-analyses read the
   * tracer's version only from a directory named kernel). */
  char kdir[4096];
  const char *tdir = r->dir;
  if (r->kernel && !r->snap && (!copt.sink || copt.tee)) {
    snprintf(kdir, sizeof kdir, "%s/kernel", r->dir);
    tdir = kdir;
    if (!copt.trace_name)
      copt.trace_name = rec_session_name(r->dir);
  }
  r->w = ctf_open(tdir, r->ncpus, classes, r->nev, &copt, err, sizeof err);
  if (!r->w) {
    if (r->relay)
      diag_fatal("%s: %s", err, relay_error(r->relay));
    else
      diag_fatal("%s", err);
    links_close(&r->links);
    free(classes);
    return 1;
  }
  ctf_set_trigger(r->w, r->trig_first, r->trig_last);
  int dumped = r->kernel ? kprof_statedump(r, r->w) : 0;
  if (r->verbose && r->kernel)
    fprintf(stderr, "etrace: statedump of %d threads\n", dumped);
  if (rec_set_enabled(r, true) < 0) {
    links_close(&r->links);
    ctf_close(r->w, rec_now_ns(), NULL);
    r->w = NULL;
    free(classes);
    return 1;
  }
  uint64_t t0 = rec_now_ns();
  if (!r->quiet)
    fprintf(stderr, "etrace: recording %d %s to %s%s%s%s%s\n", r->nev,
            r->kernel ? "event classes (LTTng kernel profile)" : r->nev == 1 ? "tracepoint" : "tracepoints",
            r->relay ? "the relay, " : "", r->relay ? r->relay_dir : "", r->tee ? " and to " : "",
            r->relay && !r->tee ? "" : r->dir, r->cmd || r->duration > 0 ? "" : "; Ctrl-C to stop");
  rec_run_loop(r);
  uint64_t t_end = rec_now_ns();

  /* Stop: all programs at once, then detach, drain what the kernel
   * holds, final loss counts. */
  rec_set_enabled(r, false);
  /* the streams end here, not once detached: detaching waits for RCU
   * grace periods (tens of ms; load/links.c) */
  uint64_t t_stop = rec_now_ns();
  uint64_t lost = rec_update_drops(r);  /* read before the programs are gone */
  if (r->verbose && r->missed)
    rec_print_misses(r);
  links_close(&r->links);
  rec_drain_all(r);
  lost = rec_update_drops(r);
  CtfStats st;
  int cerr = ctf_close(r->w, t_stop, &st);
  r->w = NULL;
  char rerr[512] = "";
  if (rec_close_relay(r, &st, rerr, sizeof rerr) < 0)
    cerr = -1;
  free(classes);
  report(r, &st, lost, (t_end - t0) / 1e9, cerr, rerr);
  return cerr < 0 ? 1 : 0;
}

int record_main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "ctf"))
    return repair_main(argc, argv);
  Rec rec = {.outer_fd = -1, .drops_fd = -1, .enabled_fd = -1, .flush_s = 1,
             .kprof = {.start = -1, .state = -1, .end = -1, .fd = -1, .irq = -1, .blockdev = -1,
                       .netif = -1, .cpu = -1, .unknown = {-1, -1}}};
  Rec *r = &rec;
  sysdisp_init(&r->sys, NULL, NULL, NULL, NULL);
  bool verify = false;
  int opt = parse_options(r, argc, argv, &verify);
  if (opt != 0)
    return opt > 0 ? 0 : 1;
  if (privs_check() < 0) /* before the trace directory or a child exists */
    return 1;
  types_init();
  if (!tracefs_root(r->verbose)) {
    diag_fatal("cannot find or mount tracefs: %s", strerror(errno));
    return 1;
  }
  int rc = 1;
  if (r->kernel && kprof_add_events(r) < 0)
    goto out;
  for (int i = optind; i < argc; i++)
    if (expand(r, argv[i]) < 0)
      goto out;
  if (r->trigger && add_trigger(r) < 0)
    goto out;
  if (prepare_events(r) < 0)
    goto out;
  r->ncpus = libbpf_num_possible_cpus();
  child_name_early(r->kernel);
  if (r->cmd && (r->child = child_spawn(r->cmd)) < 0)
    goto out;
  r->filter_pid = r->pid ? r->pid : r->cmd_only ? r->child : 0;
  if (rec_create_maps(r) < 0 || rec_load_all(r) < 0)
    goto out;
  if (verify) {
    printf("%d program%s loaded\n", r->nev, r->nev == 1 ? "" : "s");
    rc = 0;
    goto out;
  }
  rc = record_run(r);
out:
  cleanup(r);
  return rc;
}
