/* rewrite.c - the exporter's AST passes, before sema (see export.h):
 * reject exit(), give later programs' maps internal names, add the sum()
 * companion of every hist()/lhist() map.  Also the key-expression ->
 * label-name rule used by metrics.c. */
#include "export/export.h"

#include <string.h>

typedef void (*Visit)(Node *n, void *ctx);

/* Every expression and statement node under n (siblings included). */
static void walk(Node *n, Visit f, void *ctx) {
  for (; n; n = n->next) {
    f(n, ctx);
    walk(n->cond, f, ctx);
    walk(n->lhs, f, ctx);
    walk(n->rhs, f, ctx);
    walk(n->args, f, ctx);
    walk(n->then, f, ctx);
    walk(n->body, f, ctx);
    walk(n->els, f, ctx);
  }
}

static void walk_program(const Program *p, Visit f, void *ctx) {
  for (Probe *pr = p->probes; pr; pr = pr->next) {
    walk(pr->pred, f, ctx);
    walk(pr->body, f, ctx);
  }
}

/* ------------------------------------------------------------- exit() */

static void find_exit(Node *n, void *ctx) {
  if (n->kind == ND_CALL && !strcmp(n->name, "exit")) {
    diag_error(n->loc, "exit() cannot be used in an exporter program: the exporter serves "
                       "metrics until it is stopped (SIGTERM or SIGINT)");
    (*(int *)ctx)++;
  }
}

int export_check_program(const Program *p) {
  int errors = 0;
  walk_program(p, find_exit, &errors);
  return errors ? -1 : 0;
}

/* ---------------------------------------------------- internal names */

typedef struct RenameCtx {
  Exporter *x;
  int prog;
} RenameCtx;

static ExportName *name_of(Exporter *x, const char *internal) {
  for (int i = 0; i < x->nnames; i++)
    if (!strcmp(x->names[i].internal, internal))
      return &x->names[i];
  return NULL;
}

static ExportName *add_name(Exporter *x, char *internal, const char *orig, int prog, bool sum) {
  ExportName *e = name_of(x, internal);
  if (e)
    return e;
  x->names = egrow(x->names, x->nnames, sizeof *x->names);
  e = &x->names[x->nnames++];
  *e = (ExportName){internal, estrdup(orig), prog, sum};
  return e;
}

static void rename_map(Node *n, void *arg) {
  RenameCtx *r = arg;
  if (n->kind != ND_MAP)
    return;
  char *internal = r->prog ? eprintf("%s__etrace_p%d", n->name, r->prog + 1) : n->name;
  add_name(r->x, internal, n->name, r->prog, false);
  n->name = internal;
}

/* ---------------------------------------------------------- hist sums */

static bool is_hist_assign(const Node *s) {
  if (s->kind != ND_EXPR_STMT || !s->lhs || s->lhs->kind != ND_ASSIGN)
    return false;
  const Node *a = s->lhs;
  return a->lhs && a->lhs->kind == ND_MAP && a->op == OP_NONE && a->rhs &&
         a->rhs->kind == ND_CALL && a->rhs->args &&
         (!strcmp(a->rhs->name, "hist") || !strcmp(a->rhs->name, "lhist"));
}

static char *sum_name(const char *map) { return eprintf("%s__etrace_sum", map); }

static Node *node(NodeKind kind, Loc loc) {
  Node *n = ealloc(sizeof *n);
  n->kind = kind;
  n->loc = loc;
  return n;
}

/* @h[k] = hist(E)  ->  also  @h__etrace_sum[k] = sum(E)  (E's nodes shared) */
static Node *sum_statement(const Node *s) {
  const Node *a = s->lhs;
  Node *map = node(ND_MAP, a->lhs->loc);
  map->name = sum_name(a->lhs->name);
  map->args = a->lhs->args;
  map->nargs = a->lhs->nargs;
  Node *val = ealloc(sizeof *val);
  *val = *a->rhs->args;
  val->next = NULL;
  Node *call = node(ND_CALL, a->rhs->loc);
  call->name = "sum";
  call->args = val;
  call->nargs = 1;
  Node *assign = node(ND_ASSIGN, a->loc);
  assign->lhs = map;
  assign->rhs = call;
  Node *stmt = node(ND_EXPR_STMT, s->loc);
  stmt->lhs = assign;
  return stmt;
}

/* clear(@h) / zero(@h) / delete(@h[k]) -> the same on the companion */
static Node *companion_call(Exporter *x, const Node *s) {
  if (s->kind != ND_EXPR_STMT || !s->lhs || s->lhs->kind != ND_CALL)
    return NULL;
  const Node *call = s->lhs;
  if (strcmp(call->name, "clear") && strcmp(call->name, "zero") && strcmp(call->name, "delete"))
    return NULL;
  const Node *m = call->args;
  if (!m || m->kind != ND_MAP)
    return NULL;
  ExportName *sum = name_of(x, sum_name(m->name));
  if (!sum)
    return NULL;
  Node *map = ealloc(sizeof *map);
  *map = *m; /* keys and any later arguments shared */
  map->name = sum->internal;
  Node *c = ealloc(sizeof *c);
  *c = *call;
  c->args = map;
  Node *stmt = node(ND_EXPR_STMT, s->loc);
  stmt->lhs = c;
  return stmt;
}

typedef struct SumCtx {
  Exporter *x;
  int prog;
  int pass; /* 0: name the companions, 1: insert the clears/deletes too */
} SumCtx;

static void add_sums(Node *n, void *arg) {
  SumCtx *sc = arg;
  if (n->kind != ND_BLOCK)
    return;
  for (Node *s = n->body; s; s = s->next) {
    Node *extra = NULL;
    if (sc->pass == 0 && is_hist_assign(s)) {
      extra = sum_statement(s);
      ExportName *h = name_of(sc->x, s->lhs->lhs->name);
      add_name(sc->x, extra->lhs->lhs->name, h ? h->orig : s->lhs->lhs->name, sc->prog, true);
    } else if (sc->pass == 1) {
      extra = companion_call(sc->x, s);
    }
    if (extra) {
      extra->next = s->next;
      s->next = extra;
      s = extra;
    }
  }
}

void export_rewrite(Exporter *x, Program *p, int prog) {
  RenameCtx r = {x, prog};
  walk_program(p, rename_map, &r);
  for (int pass = 0; pass < 2; pass++) {
    SumCtx sc = {x, prog, pass};
    walk_program(p, add_sums, &sc);
  }
}

/* ------------------------------------------------------------- labels */

typedef struct FindCtx {
  const char *name;
  Node *assigned, *any;
} FindCtx;

static void find_map(Node *n, void *arg) {
  FindCtx *f = arg;
  if (n->kind == ND_ASSIGN && n->lhs && n->lhs->kind == ND_MAP && !strcmp(n->lhs->name, f->name) &&
      !f->assigned)
    f->assigned = n->lhs;
  if (n->kind == ND_MAP && !strcmp(n->name, f->name) && !f->any)
    f->any = n;
}

Node *export_defining_node(const Program *p, const char *internal) {
  FindCtx f = {internal, NULL, NULL};
  walk_program(p, find_map, &f);
  return f.assigned ? f.assigned : f.any;
}

const char *export_label_name(const Node *k) {
  static const char *const builtins[] = {"comm", "pid", "tid", "uid", "gid", "cpu", "probe",
                                         "func", "cgroup", "username", "numaid", NULL};
  if (k->kind == ND_CALL && k->nargs == 1 && !strcmp(k->name, "str"))
    k = k->args; /* str(args.filename) is named like args.filename */
  if (k->kind == ND_BUILTIN) {
    if (!strcmp(k->name, "kstack") || !strcmp(k->name, "ustack"))
      return "stack";
    for (int i = 0; builtins[i]; i++)
      if (!strcmp(k->name, builtins[i]))
        return builtins[i];
    return NULL;
  }
  if (k->kind == ND_FIELD && k->lhs && k->lhs->kind == ND_BUILTIN &&
      !strcmp(k->lhs->name, "args") && prom_valid_label_name(k->name))
    return k->name;
  if (k->kind == ND_CALL && (!strcmp(k->name, "ksym") || !strcmp(k->name, "usym")))
    return "sym";
  if (k->kind == ND_CALL && (!strcmp(k->name, "kstack") || !strcmp(k->name, "ustack")))
    return "stack";
  return NULL;
}
