/* context.c - what the probe's context holds: args, arg0..argN, retval,
 * func, probe, ctx.  Where they are allowed follows the target's caps;
 * their types and where they live come from the probe's provider
 * (src/providers/: tracepoint formats, rawtracepoint and kernel-function
 * BTF prototypes, uprobe registers, USDT argument specs). */
#include "builtins/builtin.h"
#include "providers/provider.h"

#include <stdlib.h>

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

static Type *check_ctx(Sema *sema, Node *e) {
  Type *t = provider_type(sema, e, NULL); /* iter probes: struct bpf_iter__NAME * */
  if (!t && !sema->cur->prov->type_builtin)
    serr(sema, e->loc, "the ctx builtin can only be used with iter probes in etrace");
  return t;
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
    {.name = "retval", .form = BUILTIN_VAR, .needs = PROBE_CAP_RETVAL,
     .needs_msg = "the retval builtin is only available in kretprobe and uretprobe probes",
     .check = check_retval, .gen_value = gen_retval},
    {.name = "func", .form = BUILTIN_VAR, .needs = PROBE_CAP_FUNC,
     .needs_msg = "the func builtin is only available in kprobe, uprobe and usdt probes",
     .check = check_func, .gen_value = gen_func},
    {.name = "probe", .form = BUILTIN_VAR, .check = check_probe_name, .gen_value = gen_probe},
    {.name = "ctx", .form = BUILTIN_VAR, .needs = PROBE_CAP_ITER,
     .needs_msg = "the ctx builtin can only be used with iter probes in etrace",
     .check = check_ctx, .gen_value = gen_ctx},
    {0},
};
