/* rawtracepoint.c - rawtracepoint:[vmlinux:]NAME (rt:): the kernel's
 * tracepoints by their BTF prototype (btf_trace_NAME).
 *
 * Loaded as tp_btf first (a tracing program whose context the verifier
 * types), as raw_tp when the kernel refuses that.  Either way the context
 * is the tracepoint's arguments as u64 args[]: argN and args.NAME (typed
 * from BTF) are direct loads.
 */
#include "providers/provider.h"
#include "providers/attach.h"

#include <bpf/btf.h>
#include <linux/btf.h>
#include <stdlib.h>
#include <string.h>

extern const Provider provider_rawtracepoint;

static const char *const aliases[] = {"rt", NULL};

typedef struct RawTarget {
  char *name;              /* the kernel tracepoint */
  int nparams;
  const char **param_names;
  int *param_types;        /* BTF ids */
  int btf_target;          /* btf_trace_NAME's id for tp_btf (-1: none), or -2: not looked up */
} RawTarget;

static void add_rawtp(void *arg, const char *name) {
  ProvExpand *x = arg;
  RawTarget *r = ealloc(sizeof *r);
  r->name = estrdup(name);
  r->nparams = btf_tp_params(name, &r->param_names, &r->param_types);
  if (r->nparams < 0)
    r->nparams = 0;
  r->btf_target = -2;
  prov_add_target(x, &provider_rawtracepoint, eprintf("rawtracepoint:%s", name),
                  "rawtracepoint",
                  PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_BTF_HELPERS, r);
}

/* rawtracepoint:NAME or rawtracepoint:vmlinux:NAME, globs allowed. */
static int expand(ProvExpand *x) {
  const char *rest = x->rest ? x->rest : "";
  if (!strncmp(rest, "vmlinux:", 8))
    rest += 8;
  if (!*rest || strchr(rest, ':')) {
    diag_error(x->loc, "invalid rawtracepoint '%s': expected rawtracepoint:NAME", x->text);
    return -1;
  }
  if (!btf_vmlinux()) {
    diag_error(x->loc, "rawtracepoint probes need the kernel's BTF (/sys/kernel/btf/vmlinux), "
                       "which this kernel does not have");
    return -1;
  }
  int before = x->c->ntargets;
  if (strpbrk(rest, "*?["))
    btf_raw_tp_glob(rest, add_rawtp, x);
  else if (btf_has_raw_tp(rest))
    add_rawtp(x, rest);
  if (x->c->ntargets == before) {
    diag_error(x->loc, "rawtracepoint not found: %s", rest);
    return -1;
  }
  return 0;
}

static bool type_builtin(Sema *sema, Target *t, Node *e, Type **out) {
  const RawTarget *r = t->data;
  const char *n = e->name;
  if (strncmp(n, "arg", 3) || n[3] < '0' || n[3] > '9')
    return false;
  int i = atoi(n + 3);
  *out = NULL;
  if (i >= r->nparams)
    serr(sema, e->loc, "%s has %d argument%s, so there is no %s", t->name, r->nparams,
               r->nparams == 1 ? "" : "s", n);
  else
    *out = ty_u64;
  return true;
}

/* args.NAME: parameter i is the u64 at ctx + 8*i, typed from BTF. */
static Type *type_field(Sema *sema, Target *t, Node *e) {
  const RawTarget *r = t->data;
  for (int i = 0; i < r->nparams; i++) {
    if (strcmp(r->param_names[i], e->name))
      continue;
    Type *ty = btf_type_of(sema->c->types, r->param_types[i], false);
    if (!ty || ty->kind == TY_RECORD || ty->kind == TY_ARRAY || ty->kind == TY_STR) {
      serr(sema, e->loc, "argument '%s' of %s has a type etrace cannot read", e->name, t->name);
      return NULL;
    }
    e->field_off = 8 * i;
    return ty;
  }
  Buf b = {0};
  for (int i = 0; i < r->nparams; i++)
    buf_printf(&b, "%s%s", i ? ", " : "", r->param_names[i]);
  serr(sema, e->loc, "%s has no argument named '%s' (it has: %s)", t->name, e->name,
             b.data ? b.data : "none");
  buf_free(&b);
  return NULL;
}

static bool arg_loc(const Target *t, ArgRef ref, int i, ArgLoc *out) {
  if (ref != ARG_INDEX && ref != ARG_FIELD)
    return false;
  /* ctx: u64 args[] */
  *out = (ArgLoc){.a = {.kind = UA_REG, .size = 8, .reg_size = 8, .index = -1,
                        .reg = ref == ARG_INDEX ? 8 * i : i}};
  return true;
}

static int btf_target(RawTarget *r) {
  if (r->btf_target == -2) {
    r->btf_target = prov_tp_btf_id(r->name);
  }
  return r->btf_target;
}

/* tp_btf (when BTF names the tracepoint), then raw_tp. */
static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  int id = btf_target(t->data);
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

static int attach(Target *t, const AttachEnv *env) {
  RawTarget *r = t->data;
  bool tp_btf = btf_target(r) >= 0 && t->load_attempt == 0;
  int fd = tp_btf ? prov_attach_tp_btf(t->prog_fd) : prov_attach_raw_tp(t->prog_fd, r->name);
  return prov_attach_result(t, env, fd);
}

/* ------------------------------------------------------------ listing */

static void add_name(void *arg, const char *name) {
  const ListQuery *q = arg;
  q->add(q->arg, eprintf("rawtracepoint:vmlinux:%s", name));
}

/* rawtracepoint:[vmlinux:]GLOB: the tracepoints vmlinux BTF knows. */
static int list(const ListQuery *q) {
  if (!q->prefix)
    return 0;
  const char *rest = q->rest;
  if (!strncmp(rest, "vmlinux:", 8))
    rest += 8;
  btf_raw_tp_glob(*rest ? rest : "*", add_name, (void *)q);
  return 0;
}

static void list_verbose(FILE *f, const char *name) {
  const char **names;
  int *types;
  int n = btf_tp_params(strrchr(name, ':') + 1, &names, &types);
  ProgramTypes *pt = program_types_new(); /* kernel types only: no program */
  for (int i = 0; i < n; i++)
    fprintf(f, "    %s %s\n", btf_c_name(pt, types[i]), names[i]);
  program_types_free(pt);
}

const Provider provider_rawtracepoint = {
    .name = "rawtracepoint",
    .aliases = aliases,
    .expand = expand,
    .type_builtin = type_builtin,
    .type_field = type_field,
    .arg_loc = arg_loc,
    /* the kernel stack is taken inside the helper: skip this program,
     * bpf_trace_runN and __bpf_trace_EVENT */
    .stack_skip = 3,
    .prog_spec = prog_spec,
    .attach = attach,
    .list = list,
    .list_verbose = list_verbose,
};
