/* tracepoint.c - tracepoint:CATEGORY:EVENT (t:), through perf events.
 *
 * `args` is the event's record as its tracefs format file describes it;
 * sema and codegen read its fields through the record hook (no
 * type_field, no arg_loc).  syscalls:*
 * events are usually served by the syscall dispatcher instead
 * (syscalls.c takes their targets over after semantic analysis).
 */
#include "arch/arch.h"
#include "providers/provider.h"
#include "providers/attach.h"

#include <fnmatch.h>
#include <string.h>

extern const Provider provider_tracepoint;

static const char *const aliases[] = {"t", NULL};

typedef struct TpExpand {
  ProvExpand *x;
  int n;
} TpExpand;

static void add_tp(const char *sys, const char *event, void *arg) {
  TpExpand *e = arg;
  TpFormat *fmt = tracefs_format(sys, event);
  if (!fmt)
    return;
  prov_add_target(e->x, &provider_tracepoint, eprintf("tracepoint:%s:%s", sys, event),
                  "tracepoint", PROBE_CAP_ARGS, fmt);
  e->n++;
}

/* No tracepoint matches sys:event: say where to look for what this kernel
 * has, then bpftrace's words ("tracepoints" for a glob). */
static void missing_tracepoint(ProvExpand *x, const char *sys, const char *event) {
  bool glob = strpbrk(x->text, "*?[") != NULL;
  const char *bt = eprintf("tracepoint%s not found: %s:%s", glob ? "s" : "", sys, event);
  const char *call = !strcmp(sys, "syscalls") && !strncmp(event, "sys_enter_", 10) ? event + 10
                     : !strcmp(sys, "syscalls") && !strncmp(event, "sys_exit_", 9) ? event + 9
                                                                                 : NULL;
  if (call && arch_syscall_nr(call) < 0 && arch_syscall_nr(eprintf("%sat", call)) >= 0)
    /* arm64's generic table has only the *at calls: open, stat ... */
    diag_error_bt(x->loc, bt, "this kernel has no tracepoint %s:%s (%s has no %s system call: "
                  "use %.*s%sat)", sys, event, arch_current()->name, call,
                  (int)(call - event), event, call);
  else if (!strpbrk(sys, "*?[") && !tracefs_glob(sys, "*", NULL, NULL))
    diag_error_bt(x->loc, bt, "this kernel has no tracepoint category '%s' (etrace -l "
                  "'tracepoint:*' lists its tracepoints)", sys);
  else if (glob)
    diag_error_bt(x->loc, bt, "no tracepoint of this kernel matches %s:%s", sys, event);
  else
    diag_error_bt(x->loc, bt, "this kernel has no tracepoint %s:%s (etrace -l "
                  "'tracepoint:%s:*' lists the %s tracepoints)", sys, event, sys, sys);
}

static int expand(ProvExpand *x) {
  const char *rest = x->rest ? x->rest : "";
  const char *c2 = strchr(rest, ':');
  if (!c2 || !c2[1] || c2 == rest || strchr(c2 + 1, ':')) {
    diag_error(x->loc, "invalid tracepoint '%s': expected tracepoint:CATEGORY:EVENT", x->text);
    return -1;
  }
  char *sys = estrndup(rest, c2 - rest);
  TpExpand e = {x, 0};
  if (!tracefs_root(x->opt->verbose)) {
    diag_error(x->loc, "cannot use tracepoints: tracefs is not mounted and mounting it failed");
    return -1;
  }
  if (strpbrk(x->text, "*?[")) /* a wildcard: expand over every event */
    tracefs_glob(sys, c2 + 1, add_tp, &e);
  else                          /* one event: just read its format file */
    add_tp(sys, c2 + 1, &e);
  if (e.n == 0) {
    missing_tracepoint(x, sys, c2 + 1);
    return -1;
  }
  return 0;
}

static const TpFormat *record(const Target *t) { return t->data; }

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_TRACEPOINT};
  return 0;
}

static int attach(Target *t, const AttachEnv *env) {
  const TpFormat *fmt = t->data;
  int fd = prov_attach_tracepoint(t->prog_fd, fmt->id);
  return prov_attach_result(t, env, fd);
}

/* ------------------------------------------------------------ listing */

typedef struct TpGlob {
  const ListQuery *q;
  const char *full_glob;   /* match "tracepoint:sys:event" against it, or NULL */
} TpGlob;

static void add_tracepoint(const char *sys, const char *event, void *arg) {
  TpGlob *g = arg;
  char *name = eprintf("tracepoint:%s:%s", sys, event);
  if (!g->full_glob || fnmatch(g->full_glob, name, 0) == 0)
    g->q->add(g->q->arg, name);
}

static int list(const ListQuery *q) {
  if (!q->prefix) { /* no provider named: match the whole name */
    TpGlob g = {q, q->glob};
    tracefs_glob("*", "*", add_tracepoint, &g);
    return 0;
  }
  const char *colon = strchr(q->rest, ':');
  TpGlob g = {q, NULL};
  if (colon) {
    if (strchr(colon + 1, ':')) {
      diag_fatal("tracepoint probe type requires 2 arguments: %s", q->glob);
      return -1;
    }
    char *sys = estrndup(q->rest, colon - q->rest);
    tracefs_glob(sys, colon + 1, add_tracepoint, &g);
  } else if (strchr(q->rest, '*')) {
    /* "tracepoint:*" and the like: match "sys:event" as a whole. */
    g.full_glob = eprintf("tracepoint:%s", q->rest);
    tracefs_glob("*", "*", add_tracepoint, &g);
  } else {
    diag_fatal("tracepoint probe type requires 2 arguments: %s", q->glob);
    return -1;
  }
  return 0;
}

static void list_verbose(FILE *f, const char *name) {
  const char *sys = name + strlen("tracepoint:");
  const char *colon = strchr(sys, ':');
  if (!colon)
    return;
  TpFormat *fmt = tracefs_format(estrndup(sys, colon - sys), colon + 1);
  if (!fmt)
    return;
  for (int i = 0; i < fmt->nfields; i++) {
    TpField *fl = &fmt->fields[i];
    fprintf(f, "    %s %s", fl->ctype, fl->name);
    if (fl->array_len > 0)
      fprintf(f, "[%d]", fl->array_len);
    else if (fl->size == 0 && !fl->data_loc)
      fputs("[]", f);   /* flexible array member */
    fputc('\n', f);
  }
}

const Provider provider_tracepoint = {
    .name = "tracepoint",
    .aliases = aliases,
    .expand = expand,
    .record = record,
    .prog_spec = prog_spec,
    .attach = attach,
    .list = list,
    .list_verbose = list_verbose,
};
