/* registry.c - finding a builtin by name, and the checks every entry
 * shares (arity, the probe capabilities it needs: Target.caps, which the
 * probe's provider sets). */
#include "builtins/builtin.h"

#include <ctype.h>
#include <string.h>

static const Builtin *const tables[] = {
    builtins_aggregations, builtins_strings, builtins_time,    builtins_stacks,
    builtins_network,      builtins_output,  builtins_maps,    builtins_process,
    builtins_context,      builtins_integers,
    builtins_debug,        builtins_cgroup,  builtins_watchpoints,
};

static bool name_matches(const Builtin *b, const char *name) {
  if (!(b->flags & BUILTIN_NUMBERED))
    return !strcmp(b->name, name);
  size_t n = strlen(b->name);
  return !strncmp(b->name, name, n) && isdigit((unsigned char)name[n]);
}

const Builtin *builtin_find(const char *name, int form) {
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
    for (const Builtin *b = tables[i]; b->name; b++)
      if ((b->form & form) && name_matches(b, name))
        return b;
  return NULL;
}

bool builtin_has(const Node *e, unsigned flags) {
  if (e->kind != ND_BUILTIN && e->kind != ND_CALL)
    return false;
  const Builtin *b = e->builtin;
  if (!b)
    b = builtin_find(e->name, e->kind == ND_CALL ? BUILTIN_FUNC : BUILTIN_VAR);
  return b && (b->flags & flags) == flags;
}

/* ------------------------------------------------------------ checking */

/* needs_msg with {name} and {probe} filled in. */
static void needs_error(Sema *sema, const Builtin *b, Node *e) {
  Buf msg = {0};
  for (const char *p = b->needs_msg; *p;) {
    if (!strncmp(p, "{name}", 6)) {
      buf_put(&msg, e->name, strlen(e->name));
      p += 6;
    } else if (!strncmp(p, "{probe}", 7)) {
      const char *k = sema->cur->kind;
      buf_put(&msg, k, strlen(k));
      p += 7;
    } else {
      buf_put(&msg, p++, 1);
    }
  }
  serr(sema, e->loc, "%s", msg.data);
  buf_free(&msg);
}

Type *builtin_check(Sema *sema, Node *e) {
  bool call = e->kind == ND_CALL;
  const Builtin *b = builtin_find(e->name, call ? BUILTIN_FUNC : BUILTIN_VAR);
  e->builtin = b;
  uint64_t value;
  if (!b && !call && btf_enum_value(e->name, &value)) {
    /* a kernel enum constant (TASK_COMM_LEN): its value, a uint64 as in bpftrace */
    e->kind = ND_INT;
    e->ival = value;
    return ty_u64;
  }
  if (!b) {
    serr(sema, e->loc, call ? "unknown function '%s'" : "unknown identifier '%s'", e->name);
    for (Node *a = call ? e->args : NULL; a; a = a->next)
      check_expr(sema, a);
    return NULL;
  }
  if (call && b->max_args != ARGS_ANY && !want_args(sema, e, b->min_args, b->max_args))
    return NULL;
  if ((sema->cur->caps & b->needs) != b->needs) {
    needs_error(sema, b, e);
    return NULL;
  }
  Type *t = b->check(sema, e);
  if (t && b->format && t->kind == b->prints)
    t->print = b->format; /* how the runtime prints it */
  return t;
}
