/* syscalls.c - syscall tracepoints served by raw tracepoints.
 *
 * Each perf-event tracepoint attachment costs an RCU grace period to
 * detach (60-75 ms here, serialised under a kernel mutex), so a program
 * on syscalls:sys_enter_* (over 300 events) would take half a minute to
 * exit.  Instead, every syscalls:* target is loaded as a raw-tracepoint
 * program, stored in a BPF_MAP_TYPE_PROG_ARRAY under its syscall number,
 * and two small dispatchers attached to the raw tracepoints sys_enter and
 * sys_exit tail-call into it.  Two links detach in well under a
 * millisecond, and a syscall nobody traces costs one failed tail call.
 *
 * The target programs see the same record layout as the tracefs format
 * (their prologue builds it on the stack), so `args.NAME` works unchanged.
 *
 * This provider is never written in a program: after semantic analysis
 * it takes over tracepoint targets on syscalls:* (finish hook).
 */
#include "etrace.h"
#include "codegen/insn.h"
#include "providers/attach.h"
#include "providers/provider.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *name;
  int nr;
} syscall_table[] = {
#include "syscall_table.h"
};

#define MAX_SYSCALL 1024

extern const Provider provider_syscalls, provider_tracepoint;

/* A syscalls:sys_enter_NAME / sys_exit_NAME target. */
typedef struct SysTarget {
  TpFormat *fmt;       /* the tracefs format the record copies */
  int nr;
  bool exit;
} SysTarget;

int systp_nr(const char *event, bool *is_exit) {
  const char *name;
  if (!strncmp(event, "sys_enter_", 10)) {
    name = event + 10;
    *is_exit = false;
  } else if (!strncmp(event, "sys_exit_", 9)) {
    name = event + 9;
    *is_exit = true;
  } else {
    return -1;
  }
  for (size_t i = 0; i < sizeof syscall_table / sizeof syscall_table[0]; i++)
    if (!strcmp(syscall_table[i].name, name))
      return syscall_table[i].nr < MAX_SYSCALL ? syscall_table[i].nr : -1;
  return -1;
}

/* Decide which syscall targets take the raw-tracepoint path: one program
 * per (direction, number); a second probe on the same syscall keeps the
 * perf-event path. */
static void finish(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    TpFormat *fmt = t->data;
    if (t->prov != &provider_tracepoint || strcmp(fmt->sys, "syscalls"))
      continue;
    bool is_exit;
    int nr = systp_nr(fmt->event, &is_exit);
    if (nr < 0)
      continue;
    bool taken = false;
    for (int j = 0; j < i; j++) {
      Target *o = c->targets[j];
      SysTarget *os = o->data;
      if (o->prov == &provider_syscalls && os->nr == nr && os->exit == is_exit)
        taken = true;
    }
    if (taken)
      continue;
    SysTarget *st = ealloc(sizeof *st);
    *st = (SysTarget){fmt, nr, is_exit};
    t->prov = &provider_syscalls;
    t->data = st;
    t->caps |= PROBE_CAP_TAIL_CALLED;
  }
}

static const TpFormat *record(const Target *t) { return ((SysTarget *)t->data)->fmt; }

/* Rebuild the tracefs record on the stack so that args.NAME loads work
 * unchanged, and point the saved context at it.  Enter: ctx->args[0] is
 * the struct pt_regs *, whose argument registers are read one by one
 * (only those the probe uses).  Exit: ctx->args[1] is the return value. */
static int prologue(Cg *g, Target *t) {
  static const int regs_off[6] = {112, 104, 96, 56, 72, 64}; /* di si dx r10 r8 r9 */
  const SysTarget *st = t->data;
  if (!cg_probe_uses_field(t->probe, NULL))
    return -1;
  if (cg_probe_uses_stack(t->probe))
    cg_keep_real_ctx(g, t->probe->loc);
  int size = 16 + (st->exit ? 8 : 48);
  int rec = slot(g, size, t->probe->loc);
  emit_zero(g, rec, size);
  emit(g, ST_IMM(BPF_DW, BPF_REG_10, rec + 8, st->nr));
  if (st->exit) {
    emit(g, LDX(BPF_DW, BPF_REG_2, BPF_REG_1, 8));
    emit(g, STX(BPF_DW, BPF_REG_10, BPF_REG_2, rec + 16));
  } else {
    emit(g, LDX(BPF_DW, BPF_REG_6, BPF_REG_1, 0));
    for (int i = 0; i < st->fmt->nfields; i++) {
      const TpField *f = &st->fmt->fields[i];
      int arg = (f->offset - 16) / 8;
      if (f->offset < 16 || arg > 5 || !cg_probe_uses_field(t->probe, f->name))
        continue;
      emit_addr(g, BPF_REG_1, rec + 16 + 8 * arg);
      emit(g, MOV64_IMM(BPF_REG_2, 8));
      emit(g, MOV64_REG(BPF_REG_3, BPF_REG_6));
      emit(g, ALU64_IMM(BPF_ADD, BPF_REG_3, regs_off[arg]));
      emit(g, CALL(BPF_FUNC_probe_read_kernel));
    }
  }
  emit_addr(g, BPF_REG_1, rec);
  cg_set_ctx(g, BPF_REG_1);
  return -1;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_RAW_TRACEPOINT};
  return 0;
}

static int prog_array[2] = {-1, -1}, dispatcher[2] = {-1, -1};

int systp_dispatcher_fd(const Compiled *c, int is_exit) { return dispatcher[is_exit ? 1 : 0]; }

/* enter: tail_call(ctx, array, ctx->args[1])
 * exit:  tail_call(ctx, array, ((struct pt_regs *)ctx->args[0])->orig_ax) */
static int load_dispatcher(bool is_exit, int array_fd) {
  struct bpf_insn insns[16];
  int n = 0;
  if (!is_exit) {
    insns[n++] = LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 8);
  } else {
    insns[n++] = MOV64_REG(BPF_REG_6, BPF_REG_1);
    insns[n++] = LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0);
    insns[n++] = ALU64_IMM(BPF_ADD, BPF_REG_3, 120); /* offsetof(struct pt_regs, orig_ax) */
    insns[n++] = MOV64_REG(BPF_REG_1, BPF_REG_10);
    insns[n++] = ALU64_IMM(BPF_ADD, BPF_REG_1, -8);
    insns[n++] = MOV64_IMM(BPF_REG_2, 8);
    insns[n++] = CALL(BPF_FUNC_probe_read_kernel);
    insns[n++] = LDX(BPF_DW, BPF_REG_3, BPF_REG_10, -8);
    insns[n++] = MOV64_REG(BPF_REG_1, BPF_REG_6);
  }
  insns[n++] = LD_IMM64_LO(BPF_REG_2, BPF_PSEUDO_MAP_FD, array_fd);
  insns[n++] = LD_IMM64_HI(0);
  insns[n++] = CALL(BPF_FUNC_tail_call);
  insns[n++] = MOV64_IMM(BPF_REG_0, 0);
  insns[n++] = EXIT_INSN();
  return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, is_exit ? "etrace_sys_exit" : "etrace_sys_enter",
                       "GPL", insns, n, NULL);
}

/* Register every target program under its syscall number. */
static int loaded(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    if (t->prov != &provider_syscalls)
      continue;
    const SysTarget *st = t->data;
    int d = st->exit;
    if (prog_array[d] < 0) {
      prog_array[d] = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, NULL, 4, 4, MAX_SYSCALL, NULL);
      if (prog_array[d] < 0 || (dispatcher[d] = load_dispatcher(d, prog_array[d])) < 0) {
        diag_fatal("cannot set up the syscall dispatcher: %s", strerror(errno));
        return -1;
      }
    }
    uint32_t key = st->nr, fd = t->prog_fd;
    if (bpf_map_update_elem(prog_array[d], &key, &fd, BPF_ANY) < 0) {
      diag_error(t->probe->loc, "cannot register %s: %s", t->name, strerror(errno));
      return -1;
    }
  }
  return 0;
}

/* Attach the dispatchers. */
static int attach_program(Compiled *c, const AttachEnv *env) {
  for (int d = 0; d < 2; d++) {
    if (dispatcher[d] < 0)
      continue;
    int fd = prov_attach_raw_tp(dispatcher[d], d ? "sys_exit" : "sys_enter");
    if (fd < 0) {
      diag_fatal("cannot attach to raw tracepoint %s: %s", d ? "sys_exit" : "sys_enter",
                 strerror(-fd));
      return -1;
    }
    attach_keep(env, fd);
  }
  return 0;
}

/* Served by the dispatcher: nothing of its own to attach. */
static int attach(Target *t, const AttachEnv *env) { return 0; }

const Provider provider_syscalls = {
    .name = "syscalls",
    .finish = finish,
    .record = record,
    /* the kernel stack is taken inside the helper: skip this program,
     * bpf_trace_runN and __bpf_trace_EVENT so that it starts where a
     * tracepoint's does */
    .stack_skip = 3,
    .prologue = prologue,
    .prog_spec = prog_spec,
    .loaded = loaded,
    .attach_program = attach_program,
    .attach = attach,
};
