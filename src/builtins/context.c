/* context.c - what the probe's context holds: args, arg0..argN, retval,
 * func, probe, ctx.  Where they are allowed follows the target's caps;
 * their types and where they live come from the probe's provider
 * (src/providers/: tracepoint formats, rawtracepoint and kernel-function
 * BTF prototypes, uprobe registers, USDT argument specs). */
#include "arch/arch.h"
#include "builtins/builtin.h"
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>

/* The provider's type for e, else the usual one. */
static Type *provider_type(Sema *sema, Node *e, Type *usual) {
  Target *t = sema->cur;
  Type *out;
  if (t->prov->type_builtin && t->prov->type_builtin(sema, t, e, &out))
    return out;
  return usual;
}

/* ------------------------------------------------------------ args */

static Type *check_args(Sema *sema, Node *e) {
  return provider_type(sema, e, new_kind(TY_CTX, 0));
}

static void gen_args(Cg *cg, Node *e) {
  fail(cg, e->loc, "cannot generate code for '%s'", e->name);
}

/* ------------------------------------------------------------ arg0..argN */

static Type *check_argn(Sema *sema, Node *e) { return provider_type(sema, e, ty_u64); }

static void gen_argn(Cg *cg, Node *e) { cg_arg(cg, e, ARG_INDEX, atoi(e->name + 3)); }

/* ------------------------------------------------------------ sarg0..sargN */

/* sargN: the N-th 8-byte slot of the stack at the probed function's
 * entry, above the return address (sp + 8 * (N + 1) on x86-64), for
 * arguments passed on the stack; kprobe and uprobe only, as bpftrace. */
static Type *check_sarg(Sema *sema, Node *e) {
  const char *kind = sema->cur->kind;
  if (strcmp(kind, "uprobe") && strcmp(kind, "kprobe")) { /* bpftrace's rule */
    serr(sema, e->loc, "the %s builtin can only be used with kprobe and uprobe probes", e->name);
    return NULL;
  }
  char *end;
  long n = strtol(e->name + 4, &end, 10);
  if (*end || n > 1000) {
    serr(sema, e->loc, "unknown identifier '%s'", e->name);
    return NULL;
  }
  return ty_u64;
}

static void gen_sarg(Cg *cg, Node *e) {
  int n = atoi(e->name + 4);
  int tmp = slot(cg, 8, e->loc);
  load_ctx(cg, BPF_REG_1);
  emit(cg, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, arch_current()->sp));
  emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_3, arch_current()->stack_arg0 + 8 * n));
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, tmp, 0));
  emit_addr(cg, BPF_REG_1, tmp);
  emit(cg, MOV64_IMM(BPF_REG_2, 8));
  emit(cg, CALL(cg->t->caps & PROBE_CAP_USER ? BPF_FUNC_probe_read_user
                                             : BPF_FUNC_probe_read_kernel));
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, tmp));
}

/* ------------------------------------------------------------ retval, func */

static Type *check_retval(Sema *sema, Node *e) { return provider_type(sema, e, ty_u64); }

static void gen_retval(Cg *cg, Node *e) { cg_arg(cg, e, ARG_RETVAL, 0); }

/* func and probe: indexes into Compiled.probe_names, printed as names */
static Type *check_probe_name(Sema *sema, Node *e) { return new_kind(TY_PROBE, 8); }

static Type *check_func(Sema *sema, Node *e) {
  return provider_type(sema, e, new_kind(TY_PROBE, 8));
}

static void gen_func(Cg *cg, Node *e) { cg_arg(cg, e, ARG_FUNC, 0); }
static void gen_probe(Cg *cg, Node *e) { emit_imm64(cg, BPF_REG_0, cg->t->probe_index); }

/* ------------------------------------------------------------ ctx */

/* ctx: a pointer to the program's context, typed per probe type as
 * bpftrace does (struct pt_regs * in kprobes, uprobes and usdt, struct
 * bpf_perf_event_data * in perf_event programs: interval, profile,
 * software, hardware, watchpoint; struct bpf_iter__NAME * in iter probes:
 * the provider's type_builtin). */
static Type *check_ctx(Sema *sema, Node *e) {
  Target *t = sema->cur;
  Type *out;
  if (t->prov->type_builtin && t->prov->type_builtin(sema, t, e, &out))
    return out;
  const char *ctype = t->prov->ctx_type                ? t->prov->ctx_type
                      : t->caps & PROBE_CAP_PT_REGS ? "struct pt_regs *"
                                                    : NULL;
  if (!ctype) {
    serr(sema, e->loc, "the ctx builtin cannot be used in %s probes%s", t->kind,
         t->caps & PROBE_CAP_ARGS ? "; use args" : "");
    return NULL;
  }
  const char *why;
  out = btf_parse_type(sema->c->types, ctype, false, &why);
  if (!out) {
    serr(sema, e->loc, "cannot type ctx as %s: %s", ctype, why);
    return NULL;
  }
  out->ctx = true; /* a fresh pointer type */
  return out;
}

static void gen_ctx(Cg *cg, Node *e) { load_ctx(cg, BPF_REG_0); }

const Builtin builtins_context[] = {
    {.name = "args", .form = BUILTIN_VAR, .flags = BUILTIN_ARGS_RECORD,
     .needs = PROBE_CAP_ARGS,
     .needs_msg = "the args builtin can only be used with tracepoint, rawtracepoint, uprobe, "
                  "fentry and fexit probes",
     .check = check_args, .gen_value = gen_args},
    {.name = "arg", .form = BUILTIN_VAR, .flags = BUILTIN_NUMBERED, .needs = PROBE_CAP_ARGN,
     .needs_msg = "{name} is only available in kprobe and uprobe probes; use args.NAME on "
                  "tracepoints",
     .check = check_argn, .gen_value = gen_argn},
    {.name = "sarg", .form = BUILTIN_VAR, .flags = BUILTIN_NUMBERED, .needs = PROBE_CAP_PT_REGS,
     .needs_msg = "the {name} builtin can only be used with kprobe and uprobe probes",
     .check = check_sarg, .gen_value = gen_sarg},
    {.name = "retval", .form = BUILTIN_VAR, .needs = PROBE_CAP_RETVAL,
     .needs_msg = "the retval builtin is only available in kretprobe and uretprobe probes",
     .check = check_retval, .gen_value = gen_retval},
    {.name = "func", .form = BUILTIN_VAR, .needs = PROBE_CAP_FUNC,
     .needs_msg = "the func builtin is only available in kprobe, uprobe and usdt probes",
     .check = check_func, .gen_value = gen_func},
    {.name = "probe", .form = BUILTIN_VAR, .check = check_probe_name, .gen_value = gen_probe},
    {.name = "ctx", .form = BUILTIN_VAR, .check = check_ctx, .gen_value = gen_ctx},
    {0},
};
