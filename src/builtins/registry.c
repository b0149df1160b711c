/* registry.c - finding a builtin by name, the checks every entry shares
 * (arity, the probe capabilities it needs), and which probe types have
 * which capabilities. */
#include "builtins/builtin.h"

#include <ctype.h>
#include <string.h>

static const Builtin *const tables[] = {
    builtins_aggregations, builtins_strings, builtins_time,    builtins_stacks,
    builtins_network,      builtins_output,  builtins_maps,    builtins_process,
    builtins_context,      builtins_integers,
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

/* ------------------------------------------------------------ probe capabilities */

static const struct {
  const char *kind;
  unsigned caps;
} probe_types[] = {
    [PT_BEGIN] = {"BEGIN", 0},
    [PT_END] = {"END", 0},
    [PT_TRACEPOINT] = {"tracepoint", PROBE_CAP_ARGS},
    [PT_RAWTP] = {"rawtracepoint", PROBE_CAP_ARGS | PROBE_CAP_ARGN},
    [PT_INTERVAL] = {"interval", PROBE_CAP_PT_REGS},
    [PT_PROFILE] = {"profile", PROBE_CAP_PT_REGS},
    [PT_UPROBE] = {"uprobe", PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_FUNC |
                                 PROBE_CAP_PT_REGS | PROBE_CAP_USER},
    /* argN: uretprobe's typing says why the arguments are gone */
    [PT_URETPROBE] = {"uretprobe", PROBE_CAP_ARGN | PROBE_CAP_RETVAL | PROBE_CAP_FUNC |
                                       PROBE_CAP_PT_REGS | PROBE_CAP_USER},
    [PT_USDT] = {"usdt", PROBE_CAP_ARGN | PROBE_CAP_FUNC | PROBE_CAP_PT_REGS | PROBE_CAP_USER},
    [PT_KPROBE] = {"kprobe", PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_RETVAL |
                                 PROBE_CAP_FUNC | PROBE_CAP_PT_REGS},
    [PT_KRETPROBE] = {"kretprobe", PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_RETVAL |
                                       PROBE_CAP_FUNC | PROBE_CAP_PT_REGS},
    [PT_FENTRY] = {"fentry", PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_RETVAL | PROBE_CAP_FUNC},
    [PT_FEXIT] = {"fexit", PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_RETVAL | PROBE_CAP_FUNC},
    [PT_ITER] = {NULL, PROBE_CAP_ITER},
};

unsigned probe_caps(ProbeType type) {
  return type < sizeof probe_types / sizeof probe_types[0] ? probe_types[type].caps : 0;
}

const char *probe_kind(ProbeType type) {
  const char *k = type < sizeof probe_types / sizeof probe_types[0] ? probe_types[type].kind : NULL;
  return k ? k : "this";
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
      const char *k = probe_kind(sema->cur->type);
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
  if (!b) {
    serr(sema, e->loc, call ? "unknown function '%s'" : "unknown identifier '%s'", e->name);
    for (Node *a = call ? e->args : NULL; a; a = a->next)
      check_expr(sema, a);
    return NULL;
  }
  if (call && b->max_args != ARGS_ANY && !want_args(sema, e, b->min_args, b->max_args))
    return NULL;
  if ((probe_caps(sema->cur->type) & b->needs) != b->needs) {
    needs_error(sema, b, e);
    return NULL;
  }
  Type *t = b->check(sema, e);
  if (t && b->format && t->kind == b->prints)
    t->print = b->format; /* how the runtime prints it */
  return t;
}
