/* syscalls.c - syscall tracepoints served by the raw tracepoints
 * sys_enter and sys_exit, through the dispatcher of sysdispatch.c (the
 * reason is there).
 *
 * This provider is never written in a program: after semantic analysis
 * it takes over tracepoint targets on syscalls:* (finish hook).  A program
 * alone in its direction (enter or exit) is attached to the raw
 * tracepoint directly and tests the syscall number itself.
 *
 * The programs load as tp_btf when the kernel's BTF has the tracepoints'
 * prototypes: the struct pt_regs * argument is then a typed pointer, and
 * args.NAME is a plain load from it (field_load; the verifier makes it a
 * fault-safe load).  Otherwise, or when the kernel refuses tp_btf, they
 * load as raw_tp, where the pointer is an opaque number: their prologue
 * rebuilds the tracefs record on the stack with probe_read_kernel, so
 * that args.NAME reads it unchanged.  Code generation runs once for each
 * (code_per_spec).
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

/* btf_trace_sys_enter / btf_trace_sys_exit, or -1 (raw_tp only). */
static int btf_id(bool is_exit) {
  static int id[2] = {-2, -2};
  if (id[is_exit] == -2)
    id[is_exit] = prov_tp_btf_id(is_exit ? "sys_exit" : "sys_enter");
  return id[is_exit];
}

/* Is t's code being compiled for (or loaded as) tp_btf? */
static bool typed(const Target *t) {
  return btf_id(((SysTarget *)t->data)->exit) >= 0 && t->load_attempt == 0;
}

/* A program alone on its raw tracepoint runs for every syscall: leave
 * unless the number is ours.  Enter: ctx->args[1]; exit: read from the
 * registers (ctx->args[0]), as the dispatcher does.  Leaves r1 = ctx. */
static void check_nr(Cg *g, Target *t, const SysTarget *st) {
  /* arm64's syscallno is 32 bits, followed by padding */
  int nr_size = arch_current()->syscall_nr_size == 4 ? BPF_W : BPF_DW;
  if (!st->exit) {
    emit(g, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 8));
  } else if (typed(t)) {
    emit(g, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 0));
    emit(g, LDX(nr_size, BPF_REG_0, BPF_REG_0, arch_current()->syscall_nr));
  } else {
    int tmp = slot(g, 8, t->probe->loc);
    emit(g, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0));
    emit(g, ALU64_IMM(BPF_ADD, BPF_REG_3, arch_current()->syscall_nr));
    emit_addr(g, BPF_REG_1, tmp);
    emit(g, MOV64_IMM(BPF_REG_2, 8));
    emit(g, CALL(BPF_FUNC_probe_read_kernel));
    emit(g, LDX(nr_size, BPF_REG_0, BPF_REG_10, tmp));
  }
  jmp_imm(g, BPF_JNE, BPF_REG_0, st->nr, g->exit_label);
  if (st->exit && !typed(t))
    load_ctx(g, BPF_REG_1);
}

static const TpFormat *record(const Target *t) { return ((SysTarget *)t->data)->fmt; }

static void entry_check(Cg *g, Target *t) {
  const SysTarget *st = t->data;
  if (st->alone)
    check_nr(g, t, st);
}

/* Where field f of the record lives when the program is tp_btf: the
 * common_* header reads as zeros, the number is a constant, enter's
 * arguments are registers in ctx->args[0] (a typed struct pt_regs *),
 * exit's return value is ctx->args[1]. */
typedef enum { FIELD_IN_RECORD, FIELD_ZERO, FIELD_NR, FIELD_REG, FIELD_RET } FieldSource;

static FieldSource field_source(const Target *t, const TpField *f, int *reg_off) {
  const SysTarget *st = t->data;
  if (!typed(t) || f->array_len || f->data_loc || f->size > 8)
    return FIELD_IN_RECORD;
  if (f->offset < 8)
    return FIELD_ZERO;
  if (f->offset < 16)
    return FIELD_NR;
  if (st->exit)
    return f->offset == 16 && f->size == 8 ? FIELD_RET : FIELD_IN_RECORD;
  int arg = (f->offset - 16) / 8;
  if (f->offset % 8 || arg >= arch_current()->nsyscall_args)
    return FIELD_IN_RECORD;
  *reg_off = arch_current()->syscall_args[arg];
  return FIELD_REG;
}

/* args.NAME of a tp_btf program, straight from where it lives. */
static bool field_load(Cg *g, Target *t, const TpField *f, int width) {
  int reg_off = 0;
  switch (field_source(t, f, &reg_off)) {
  case FIELD_IN_RECORD:
    return false;
  case FIELD_ZERO:
    emit(g, MOV64_IMM(BPF_REG_0, 0));
    return true;
  case FIELD_NR:
    emit(g, MOV64_IMM(BPF_REG_0, ((SysTarget *)t->data)->nr));
    return true;
  case FIELD_RET:
    load_ctx(g, BPF_REG_1);
    emit(g, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 8));
    return true;
  case FIELD_REG:
    load_ctx(g, BPF_REG_1);
    emit(g, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 0));
    /* width bytes: the low ones of the register (little-endian) */
    emit(g, LDX(size_code(width), BPF_REG_0, BPF_REG_0, reg_off));
    return true;
  }
  return false;
}

/* Does the probe read a field that only the record holds? */
static bool needs_record(const Target *t) {
  const SysTarget *st = t->data;
  int reg_off;
  for (int i = 0; i < st->fmt->nfields; i++)
    if (cg_probe_uses_field(t->probe, st->fmt->fields[i].name) &&
        field_source(t, &st->fmt->fields[i], &reg_off) == FIELD_IN_RECORD)
      return true;
  return false;
}

/* raw_tp: rebuild the tracefs record on the stack so that args.NAME
 * loads work unchanged, and point the context at it.  Only the fields
 * the probe reads are written: enter's argument registers are read one
 * by one from ctx->args[0], the struct pt_regs * (probe_read_kernel
 * fills all 8 bytes, zeros when it fails), exit's return value is
 * ctx->args[1], the number is a constant, and the common_* header reads
 * as zeros.  tp_btf reads the fields where they are (field_load). */
static int prologue(Cg *g, Target *t) {
  const SysTarget *st = t->data;
  if (!cg_probe_uses_field(t->probe, NULL) || !needs_record(t))
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

/* tp_btf (when BTF has the tracepoint's prototype), then raw_tp. */
static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  int id = btf_id(((SysTarget *)t->data)->exit);
  if (id >= 0 && attempt == 0) {
    *out = (ProgSpec){.type = BPF_PROG_TYPE_TRACING, .expected_attach_type = BPF_TRACE_RAW_TP,
                      .attach_btf_id = id, .label = "tp_btf"};
    return 0;
  }
  if (attempt > (id >= 0 ? 1 : 0))
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_RAW_TRACEPOINT, .label = "raw_tp"};
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
    /* a tail call stays within one program type: the dispatcher is
     * loaded as its first program was */
    int id = typed(t) ? btf_id(st->exit) : 0;
    if (c->sysdisp->dispatcher[st->exit] < 0) {
      c->sysdisp->btf_id[st->exit] = id;
    } else if (c->sysdisp->btf_id[st->exit] != id) {
      diag_error(t->probe->loc, "probe %s loaded as %s, the other syscall probes as %s: "
                 "they cannot share the dispatcher", t->name, id ? "tp_btf" : "raw_tp",
                 id ? "raw_tp" : "tp_btf");
      return -1;
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
  int fd = typed(t) ? prov_attach_tp_btf(t->prog_fd)
                    : prov_attach_raw_tp(t->prog_fd, st->exit ? "sys_exit" : "sys_enter");
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
    .entry_check = entry_check,
    .prologue = prologue,
    .field_load = field_load,
    .prog_spec = prog_spec,
    .code_per_spec = true,
    .loaded = loaded,
    .attach_program = attach_program,
    .attach = attach,
};
