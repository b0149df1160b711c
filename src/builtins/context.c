/* context.c - what the probe's context holds: args, arg0..argN, retval,
 * func, probe, ctx.  Their types depend on the provider: tracepoint
 * formats, rawtracepoint and kernel-function BTF prototypes, uprobe
 * registers, USDT argument specs. */
#include "builtins/builtin.h"

#include <stdlib.h>

/* ------------------------------------------------------------ kernel functions */

/* kprobe / kretprobe / fentry / fexit: what a program may use follows
 * the probe as written (k_written); the hook only limits args.NAME.
 * Returns false when e is none of args, argN, retval, func. */
static bool kernel_ret(const Target *t) {
  return t->k_written == PT_KRETPROBE || t->k_written == PT_FEXIT;
}
static bool kernel_btf(const Target *t) {
  return t->k_written == PT_FENTRY || t->k_written == PT_FEXIT;
}

static Type *check_kernel_retval(Sema *sema, Node *e) {
  Target *cur = sema->cur;
  if (!kernel_ret(cur)) {
    serr(sema, e->loc, "the retval builtin is only available in kretprobe and fexit probes, not in "
                       "%s probes", kprobe_kind_name(cur->k_written));
    return NULL;
  }
  Type *rt = cur->k_written == PT_FEXIT && cur->k_ret ? btf_type_of(cur->k_ret->type_id, false)
                                                       : NULL;
  if (rt && !is_object(rt) && rt->kind != TY_STR)
    return rt;
  if (cur->k_written == PT_FEXIT && cur->k_ret) {
    serr(sema, e->loc, "%s returns %s, which retval cannot hold", cur->k_func, cur->k_ret->ctype);
    return NULL;
  }
  return ty_u64;
}

static Type *check_kernel_args(Sema *sema, Node *e) {
  Target *cur = sema->cur;
  if (!kernel_btf(cur))
    serr(sema, e->loc, "the args builtin is not available in %s probes: use arg0..argN, or an "
                       "fentry probe for the arguments by name", kprobe_kind_name(cur->k_written));
  else if (!cur->tp)
    serr(sema, e->loc, "args needs the BTF prototype of %s, which this kernel does not have",
         cur->k_func);
  else if (cur->type == PT_KRETPROBE)
    serr(sema, e->loc, "args cannot be read: this kernel cannot run fexit programs and the "
                       "kretprobe used instead does not see the arguments");
  else
    return new_kind(TY_CTX, 0);
  return NULL;
}

static Type *check_kernel_argn(Sema *sema, Node *e) {
  if (kernel_ret(sema->cur)) {
    serr(sema, e->loc, "%s is not available in %s probes (the arguments are gone when the "
                       "function returns)%s", e->name, kprobe_kind_name(sema->cur->k_written),
         kernel_btf(sema->cur) ? "; use args.NAME" : "");
    return NULL;
  }
  return ty_u64;
}

/* ------------------------------------------------------------ args */

static Type *check_args(Sema *sema, Node *e) {
  if (is_kernel_probe(sema))
    return check_kernel_args(sema, e);
  return new_kind(TY_CTX, 0);
}

static void gen_args(Cg *cg, Node *e) {
  fail(cg, e->loc, "cannot generate code for '%s'", e->name);
}

/* ------------------------------------------------------------ arg0..argN */

/* arg0..argN: uprobe arguments are u64 registers (then stack slots);
 * USDT arguments are typed by their spec ("-4@%eax": int32). */
static Type *check_user_arg(Sema *sema, Node *e, int i) {
  Target *cur = sema->cur;
  if (cur->type == PT_URETPROBE) {
    serr(sema, e->loc, "%s is not available in uretprobe probes (the arguments are gone when the "
                       "function returns); read it in a uprobe", e->name);
    return NULL;
  }
  if (cur->type == PT_UPROBE)
    return ty_u64;
  UsdtProbe *u = cur->usdt;
  if (!u->args_ok) {
    serr(sema, e->loc, "cannot read the arguments of %s: unsupported argument specs '%s'",
         cur->name, u->args_text);
    return NULL;
  }
  if (i >= u->nargs) {
    serr(sema, e->loc, "%s has %d argument%s, so there is no %s", cur->name, u->nargs,
         u->nargs == 1 ? "" : "s", e->name);
    return NULL;
  }
  return ty_int(u->args[i].size, u->args[i].is_signed);
}

static Type *check_argn(Sema *sema, Node *e) {
  Target *cur = sema->cur;
  int i = atoi(e->name + 3);
  if (is_kernel_probe(sema))
    return check_kernel_argn(sema, e);
  if (is_user_probe(sema))
    return check_user_arg(sema, e, i);
  /* rawtracepoint: parameter i of the BTF prototype */
  if (i >= cur->rt_nparams) {
    serr(sema, e->loc, "%s has %d argument%s, so there is no %s", cur->name, cur->rt_nparams,
         cur->rt_nparams == 1 ? "" : "s", e->name);
    return NULL;
  }
  return ty_u64;
}

static void gen_argn(Cg *cg, Node *e) {
  int i = atoi(e->name + 3);
  if (cg->t->type == PT_RAWTP) {
    load_ctx(cg, BPF_REG_1);
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 8 * i));
    return;
  }
  cg_user_arg(cg, e, i);
}

/* ------------------------------------------------------------ retval, func */

static Type *check_retval(Sema *sema, Node *e) {
  if (is_kernel_probe(sema))
    return check_kernel_retval(sema, e);
  return ty_u64; /* uretprobe */
}

static void gen_retval(Cg *cg, Node *e) {
  load_ctx(cg, BPF_REG_1);
  if (cg->t->type == PT_FEXIT) /* after the arguments in fexit's u64 array */
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, cg->t->k_ret->offset));
  else
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 80 /* ax */));
  canonicalize(cg, BPF_REG_0, e->type);
}

/* func and probe: indexes into Compiled.probe_names, printed as names */
static Type *check_probe_name(Sema *sema, Node *e) { return new_kind(TY_PROBE, 8); }

static void gen_func(Cg *cg, Node *e) { emit_imm64(cg, BPF_REG_0, cg->t->func_index); }
static void gen_probe(Cg *cg, Node *e) { emit_imm64(cg, BPF_REG_0, cg->t->probe_index); }

/* ------------------------------------------------------------ ctx */

static Type *check_ctx(Sema *sema, Node *e) {
  Type *t = iter_ctx_type(sema->cur); /* iter probes: struct bpf_iter__NAME * */
  if (!t)
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
     .check = check_probe_name, .gen_value = gen_func},
    {.name = "probe", .form = BUILTIN_VAR, .check = check_probe_name, .gen_value = gen_probe},
    {.name = "ctx", .form = BUILTIN_VAR, .needs = PROBE_CAP_ITER,
     .needs_msg = "the ctx builtin can only be used with iter probes in etrace",
     .check = check_ctx, .gen_value = gen_ctx},
    {0},
};
