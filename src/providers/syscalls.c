/* syscalls.c - syscall tracepoints served by raw tracepoints, through
 * the dispatcher of sysdispatch.c (the reason is there).
 *
 * The target programs see the same record layout as the tracefs format
 * (their prologue builds it on the stack), so `args.NAME` works unchanged.
 *
 * This provider is never written in a program: after semantic analysis
 * it takes over tracepoint targets on syscalls:* (finish hook).  A program
 * alone in its direction (enter or exit) is attached to the raw
 * tracepoint directly and tests the syscall number itself.
 */
#include "etrace.h"
#include "arch/arch.h"
#include "codegen/insn.h"
#include "providers/attach.h"
#include "providers/provider.h"
#include "providers/sysdispatch.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

extern const Provider provider_syscalls, provider_tracepoint;

/* A syscalls:sys_enter_NAME / sys_exit_NAME target. */
typedef struct SysTarget {
  TpFormat *fmt;       /* the tracefs format the record copies */
  int nr;
  bool exit;
  bool alone;          /* the only one of its direction: attached to the raw
                        * tracepoint itself, checking the number (no dispatcher) */
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
  int nr = arch_syscall_nr(name);
  return nr < SYSDISPATCH_MAX_NR ? nr : -1;
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
    *st = (SysTarget){fmt, nr, is_exit, false};
    t->prov = &provider_syscalls;
    t->data = st;
  }
  /* One program in a direction tests the number itself, which costs less
   * than a dispatcher program and a tail call; two or more are
   * dispatched, so that each syscall runs one program. */
  for (int x = 0; x < 2; x++) {
    Target *only = NULL;
    int n = 0;
    for (int i = 0; i < c->ntargets; i++) {
      Target *t = c->targets[i];
      if (t->prov == &provider_syscalls && ((SysTarget *)t->data)->exit == x) {
        only = t;
        n++;
      }
    }
    for (int i = 0; i < c->ntargets; i++) {
      Target *t = c->targets[i];
      if (t->prov != &provider_syscalls || ((SysTarget *)t->data)->exit != x)
        continue;
      if (n == 1 && t == only)
        ((SysTarget *)t->data)->alone = true;
      else
        t->caps |= PROBE_CAP_TAIL_CALLED;
    }
  }
}

/* A program alone on its raw tracepoint runs for every syscall: leave
 * unless the number is ours.  Enter: ctx->args[1]; exit: read from the
 * registers (ctx->args[0]), as the dispatcher does.  Leaves r1 = ctx. */
static void check_nr(Cg *g, Target *t, const SysTarget *st) {
  if (!st->exit) {
    emit(g, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 8));
  } else {
    int tmp = slot(g, 8, t->probe->loc);
    emit(g, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0));
    emit(g, ALU64_IMM(BPF_ADD, BPF_REG_3, arch_current()->syscall_nr));
    emit_addr(g, BPF_REG_1, tmp);
    emit(g, MOV64_IMM(BPF_REG_2, 8));
    emit(g, CALL(BPF_FUNC_probe_read_kernel));
    /* arm64's syscallno is 32 bits, followed by padding */
    emit(g, LDX(arch_current()->syscall_nr_size == 4 ? BPF_W : BPF_DW, BPF_REG_0, BPF_REG_10, tmp));
  }
  jmp_imm(g, BPF_JNE, BPF_REG_0, st->nr, g->exit_label);
  if (st->exit)
    load_ctx(g, BPF_REG_1);
}

static const TpFormat *record(const Target *t) { return ((SysTarget *)t->data)->fmt; }

/* Rebuild the tracefs record on the stack so that args.NAME loads work
 * unchanged, and point the context at it.  Only the fields the probe
 * reads are written: enter's argument registers are read one by one from
 * ctx->args[0], the struct pt_regs * (probe_read_kernel fills all 8 bytes,
 * zeros when it fails), exit's return value is ctx->args[1], the number
 * is a constant, and the common_* header reads as zeros. */
static int prologue(Cg *g, Target *t) {
  const SysTarget *st = t->data;
  if (st->alone)
    check_nr(g, t, st);
  if (!cg_probe_uses_field(t->probe, NULL))
    return -1;
  if (cg_probe_uses_stack(t->probe))
    cg_keep_real_ctx(g, t->probe->loc);
  int size = 16 + (st->exit ? 8 : 48);
  int rec = slot(g, size, t->probe->loc);
  int nargs = 0, regs = BPF_REG_1;
  bool header = false, nr = false;
  for (int i = 0; i < st->fmt->nfields; i++) {
    const TpField *f = &st->fmt->fields[i];
    if (!cg_probe_uses_field(t->probe, f->name))
      continue;
    if (f->offset < 8)
      header = true;
    else if (f->offset < 16)
      nr = true;
    else if (!st->exit && (f->offset - 16) / 8 < arch_current()->nsyscall_args)
      nargs++;
  }
  if (header)
    emit(g, ST_IMM(BPF_DW, BPF_REG_10, rec, 0));
  if (nr)
    emit(g, ST_IMM(BPF_DW, BPF_REG_10, rec + 8, st->nr));
  if (st->exit) {
    emit(g, LDX(BPF_DW, BPF_REG_2, BPF_REG_1, 8));
    emit(g, STX(BPF_DW, BPF_REG_10, BPF_REG_2, rec + 16));
  } else if (nargs > 1) {
    regs = BPF_REG_6; /* kept across the reads */
    emit(g, LDX(BPF_DW, BPF_REG_6, BPF_REG_1, 0));
  }
  for (int i = 0; !st->exit && i < st->fmt->nfields; i++) {
    const TpField *f = &st->fmt->fields[i];
    int arg = (f->offset - 16) / 8;
    if (f->offset < 16 || arg >= arch_current()->nsyscall_args ||
        !cg_probe_uses_field(t->probe, f->name))
      continue;
    if (regs == BPF_REG_1)
      emit(g, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0));
    else
      emit(g, MOV64_REG(BPF_REG_3, regs));
    emit(g, ALU64_IMM(BPF_ADD, BPF_REG_3, arch_current()->syscall_args[arg]));
    emit_addr(g, BPF_REG_1, rec + 16 + 8 * arg);
    emit(g, MOV64_IMM(BPF_REG_2, 8));
    emit(g, CALL(BPF_FUNC_probe_read_kernel));
  }
  cg_set_ctx_record(g, rec);
  return -1;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_RAW_TRACEPOINT};
  return 0;
}

/* Register every target program under its syscall number. */
static int loaded(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    if (t->prov != &provider_syscalls)
      continue;
    const SysTarget *st = t->data;
    if (st->alone)
      continue;
    if (!c->sysdisp) {
      c->sysdisp = ealloc(sizeof(SysDispatch));
      sysdisp_init(c->sysdisp, "etrace_sys_enter", "etrace_sys_exit", NULL, NULL);
    }
    if (sysdisp_add(c->sysdisp, st->exit, st->nr, t->prog_fd, &t->probe->loc, t->name) < 0)
      return -1;
  }
  return 0;
}

/* Attach the dispatchers. */
static int attach_program(Compiled *c, const AttachEnv *env) {
  return c->sysdisp ? sysdisp_attach(c->sysdisp, env->add_link, env->arg, false) : 0;
}

int systp_dispatcher_fd(const Compiled *c, int is_exit) {
  return c->sysdisp ? c->sysdisp->dispatcher[is_exit ? 1 : 0] : -1;
}

void systp_close(Compiled *c) {
  if (c->sysdisp)
    sysdisp_close(c->sysdisp);
}

/* Served by the dispatcher (nothing of its own to attach), or alone on
 * the raw tracepoint. */
static int attach(Target *t, const AttachEnv *env) {
  const SysTarget *st = t->data;
  if (!st->alone)
    return 0;
  int fd = prov_attach_raw_tp(t->prog_fd, st->exit ? "sys_exit" : "sys_enter");
  if (fd < 0) {
    prov_attach_error(t, fd);
    return -1;
  }
  attach_keep(env, fd);
  return 0;
}

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
