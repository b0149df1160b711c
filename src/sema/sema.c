/* sema.c - name resolution, types, and attach-point expansion.
 *
 * bpftrace infers map types from every probe at once: a map read in one
 * probe may be assigned in a later one.  So the checker walks the whole
 * program twice.  The first walk is quiet and only learns map key and
 * value types; the second walk has them all and reports errors.
 *
 * A probe with several attach points (or a wildcard) becomes several
 * Targets.  The body is checked once per target, because `args` has a
 * different layout for each tracepoint; the code generator looks field
 * offsets up again per target.
 */
#include "etrace.h"
#include "runtime/rt.h"
#include "builtins/builtin.h"
#include "sema/sema.h"
#include "providers/provider.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>


/* ------------------------------------------------------------ types */

/* The type a value has once stored in a map, variable or record:
 * strings get the default buffer size so that values from different
 * sources (comm is 16 bytes, str() 64) share one layout. */
Type *store_type(Type *t) {
  if (!t)
    return NULL;
  if (t->kind == TY_STR) {
    int size = t->size > ETRACE_STRLEN ? t->size : ETRACE_STRLEN;
    Type *held = ty_str((size + 7) & ~7);
    held->lang_size = ty_lang_size(t);
    return held;
  }
  if (t->kind == TY_TUPLE) {
    Type **f = ealloc(sizeof(Type *) * t->nfields);
    for (int i = 0; i < t->nfields; i++)
      f[i] = store_type(t->fields[i]);
    return ty_tuple(f, t->nfields);
  }
  if (is_object(t) && t->size % 8) {
    /* a held copy fills whole 8-byte words (aligned keys and values) */
    Type *held = ealloc(sizeof(Type));
    *held = *t;
    held->size = (t->size + 7) & ~7;
    return held;
  }
  return t;
}

/* The type a value has as a map key: strings keep their own size
 * (rounded to 8 bytes), so that a comm key hashes 16 bytes, not 64;
 * keys seen elsewhere with a longer string widen it (unify). */
static Type *key_type(Type *t) {
  if (!t)
    return NULL;
  if (t->kind == TY_STR)
    return ty_str(((t->size > 8 ? t->size : 8) + 7) & ~7);
  if (t->kind == TY_TUPLE) {
    Type **f = ealloc(sizeof(Type *) * t->nfields);
    for (int i = 0; i < t->nfields; i++)
      f[i] = key_type(t->fields[i]);
    return ty_tuple(f, t->nfields);
  }
  if (is_object(t))
    return store_type(t);
  return t;
}

bool is_scalar(const Type *t) {
  return t && (t->kind == TY_INT || t->kind == TY_USERNAME || t->kind == TY_PROBE ||
               t->kind == TY_TIMESTAMP || t->kind == TY_STRERROR);
}

/* A struct/union or array in memory: only its members can be read. */
bool is_object(const Type *t) { return t && (t->kind == TY_RECORD || t->kind == TY_ARRAY); }

/* A struct or array held as a value (a variable, a map key or value, a
 * tuple member): a copy of its bytes, at most PRINTF_RECORD_MAX of them
 * (the copy is built on the 512-byte BPF stack).  False after an error. */
bool object_value_ok(Sema *sema, const Type *t, Loc loc) {
  if (!is_object(t) || t->size <= PRINTF_RECORD_MAX)
    return true;
  serr(sema, loc, "%s (%d bytes) is too big to copy as a value (at most %d bytes, the BPF "
                  "stack holds the copy); use its members, or print() it", ty_name(t), t->size,
       PRINTF_RECORD_MAX);
  return false;
}

/* Stacks and symbols: map keys and printable values, not numbers. */
bool is_symbolic(const Type *t) {
  return t && (t->kind == TY_STACK || t->kind == TY_KSYM || t->kind == TY_USYM);
}

Type *new_kind(TypeKind kind, int size) {
  Type *t = ealloc(sizeof(Type));
  t->kind = kind;
  t->size = size;
  return t;
}

/* Merge two stored types; strings take the larger size.  NULL on mismatch. */
static Type *unify(Type *a, Type *b) {
  if (!a || a->kind == TY_NONE)
    return b;
  if (!b || b->kind == TY_NONE)
    return a;
  if (a->kind == TY_INT && b->kind == TY_INT) {
    if (a->is_signed == b->is_signed && a->int_size == b->int_size)
      return a;
    /* bpftrace keeps the first assignment's type; mixing widths is fine. */
    return a;
  }
  if (a->kind != b->kind)
    return NULL;
  if (a->kind == TY_STR) {
    Type *wide = a->size >= b->size ? a : b;
    int lang = ty_lang_size(a) > ty_lang_size(b) ? ty_lang_size(a) : ty_lang_size(b);
    if (ty_lang_size(wide) == lang)
      return wide;
    Type *u = ty_str(wide->size);
    u->lang_size = lang;
    return u;
  }
  if (a->kind == TY_TUPLE) {
    if (a->nfields != b->nfields)
      return NULL;
    Type **f = ealloc(sizeof(Type *) * a->nfields);
    for (int i = 0; i < a->nfields; i++)
      if (!(f[i] = unify(a->fields[i], b->fields[i])))
        return NULL;
    return ty_tuple(f, a->nfields);
  }
  if ((a->kind == TY_LHIST || a->kind == TY_STACK || is_object(a)) && !ty_same(a, b))
    return NULL;
  return a;
}

/* ------------------------------------------------------------ maps */

MapInfo *find_map(Sema *sema, const char *name) {
  for (int i = 0; i < sema->c->nmaps; i++)
    if (!strcmp(sema->c->maps[i]->name, name))
      return sema->c->maps[i];
  return NULL;
}

static MapInfo *add_map(Sema *sema, const char *name, Loc loc) {
  MapInfo *m = ealloc(sizeof(MapInfo));
  m->name = estrdup(name);
  m->loc = loc;
  m->id = sema->c->nmaps;
  m->nkeys = -1;      /* unknown until first use */
  m->max_entries = 4096;
  m->fd = -1;
  sema->c->maps = egrow(sema->c->maps, sema->c->nmaps, sizeof(MapInfo *));
  sema->c->maps[sema->c->nmaps++] = m;
  return m;
}

Type *check_expr(Sema *sema, Node *e);

/* Key type of a map access; records it on the map (unifying). */
void check_map_keys(Sema *sema, Node *e, MapInfo *m) {
  Type *kt;
  if (e->nargs == 0) {
    kt = ty_u64;
  } else if (e->nargs == 1) {
    Type *t = check_expr(sema, e->args);
    if (t && !is_scalar(t) && !is_symbolic(t) && !ty_in_memory(t) && t->kind != TY_NONE) {
      serr(sema, e->args->loc, "%s cannot be used as a map key", ty_name(t));
      return;
    }
    if (!object_value_ok(sema, t, e->args->loc))
      return;
    kt = key_type(t);
    if (kt && kt->kind == TY_INT && !kt->is_ptr)
      kt = ty_int(kt->int_size, kt->is_signed);
  } else {
    Type **f = ealloc(sizeof(Type *) * e->nargs);
    int i = 0;
    bool known = true;
    for (Node *a = e->args; a; a = a->next, i++) {
      f[i] = key_type(check_expr(sema, a));
      if (!f[i] || f[i]->kind == TY_NONE)
        known = false;
      else if (!is_scalar(f[i]) && !is_symbolic(f[i]) && !ty_in_memory(f[i]))
        serr(sema, a->loc, "%s cannot be used as a map key", ty_name(f[i]));
      else
        object_value_ok(sema, f[i], a->loc);
    }
    kt = known ? ty_tuple(f, e->nargs) : NULL;
  }
  if (m->nkeys >= 0 && m->nkeys != e->nargs) {
    serr(sema, e->loc, "map %s used with %d key%s here but %d elsewhere", m->name, e->nargs,
         e->nargs == 1 ? "" : "s", m->nkeys);
    return;
  }
  m->nkeys = e->nargs;
  if (!kt || kt->kind == TY_NONE)
    return;
  Type *u = unify(m->key, kt);
  if (!u) {
    serr(sema, e->loc, "map %s key type mismatch: %s here, %s elsewhere", m->name, ty_name(kt),
         ty_name(m->key));
    return;
  }
  m->key = u;
}

static void set_map_value(Sema *sema, Node *at, MapInfo *m, Type *vt) {
  if (!vt || vt->kind == TY_NONE)
    return;
  if (vt->kind == TY_VOID) {
    serr(sema, at->loc, "cannot assign a value of type void to map %s", m->name);
    return;
  }
  if (vt->kind == TY_CTX) {
    serr(sema, at->loc, "args cannot be stored in a map; use args.FIELD");
    return;
  }
  if (!object_value_ok(sema, vt, at->loc))
    return;
  if (vt->ctx) { /* bpftrace's rule: a context pointer means nothing after the probe */
    serr(sema, at->loc, "context cannot be assigned to a map");
    return;
  }
  Type *st = store_type(vt);
  if (st->kind == TY_INT && m->val && ty_is_agg(m->val)) {
    serr(sema, at->loc, "map %s holds %s() values and cannot be assigned an integer", m->name,
         ty_name(m->val));
    return;
  }
  Type *u = unify(m->val, st);
  if (!u) {
    serr(sema, at->loc, "map %s value type mismatch: %s here, %s elsewhere", m->name, ty_name(st),
         ty_name(m->val));
    return;
  }
  m->val = u;
}

/* ------------------------------------------------------------ variables */

static VarInfo *find_var_at(Sema *sema, const char *name, int *index) {
  for (int i = 0; i < sema->nvars; i++)
    if (!strcmp(sema->vars[i]->name, name)) {
      *index = i;
      return sema->vars[i];
    }
  return NULL;
}

static VarInfo *new_var(Sema *sema, const char *name, Type *t) {
  if (sema->nvars == sema->cap_vars) {
    sema->cap_vars = sema->cap_vars ? sema->cap_vars * 2 : 16;
    sema->vars = realloc(sema->vars, sizeof(VarInfo *) * sema->cap_vars);
  }
  VarInfo *v = ealloc(sizeof(VarInfo));
  v->name = estrdup(name);
  v->type = t;
  sema->vars[sema->nvars++] = v;
  return v;
}

static void assign_var(Sema *sema, Node *target, Type *t) {
  int index;
  VarInfo *v = find_var_at(sema, target->name, &index);
  Type *st = store_type(t);
  if (!v) {
    v = new_var(sema, target->name, st);
  } else if (st && st->kind != TY_NONE) {
    if (!v->type || v->type->kind == TY_NONE) {
      v->type = st;
    } else {
      Type *u = unify(v->type, st);
      if (!u)
        serr(sema, target->loc,
             "type mismatch for $%s: trying to assign %s to a variable of type %s", target->name,
             ty_name(st), ty_name(v->type));
      else
        v->type = u;
    }
  }
  target->var = v;
  target->type = v->type;
}

/* ------------------------------------------------------------ sites */

int add_site(Sema *sema, RecKind kind, const char *fmt, Type *args, Loc loc) {
  Site *s = ealloc(sizeof(Site));
  s->kind = kind;
  s->fmt = fmt;
  s->args = args;
  s->loc = loc;
  sema->c->sites = egrow(sema->c->sites, sema->c->nsites, sizeof(Site *));
  sema->c->sites[sema->c->nsites] = s;
  return sema->c->nsites++;
}

/* ------------------------------------------------------------ the probe's context */

/* A field of the tracefs record args points at (tracepoints). */
static TpField *ctx_field(Sema *sema, const char *name) {
  const TpFormat *tp = target_record(sema->cur);
  for (int i = 0; tp && i < tp->nfields; i++)
    if (!strcmp(tp->fields[i].name, name))
      return &tp->fields[i];
  return NULL;
}

/* A field the format declares as a pointer to a struct or union
 * (`struct __kernel_timespec * rqtp`) is typed through the kernel's BTF,
 * so `args->rqtp->tv_sec` reads the member (from user memory for a
 * syscall's argument); any other pointer stays an integer. */
static Type *record_pointer(Sema *sema, const TpField *f) {
  if (f->size != 8 || !strchr(f->ctype, '*') || !btf_vmlinux() ||
      !(strstr(f->ctype, "struct ") || strstr(f->ctype, "union ")))
    return NULL;
  const char *why;
  Type *t = btf_parse_type(sema->c->types, f->ctype, f->user_ptr, &why);
  return t && t->pointee && t->pointee->kind == TY_RECORD ? t : NULL;
}

static Type *field_type(Sema *sema, const TpField *f) {
  if (f->data_loc)
    return ty_str(ETRACE_STRLEN);
  if (f->array_len > 0 && strstr(f->ctype, "char"))
    return ty_str(f->array_len);
  if (f->array_len > 0)
    return NULL; /* other arrays: not yet */
  int size = f->size;
  if (size != 1 && size != 2 && size != 4 && size != 8)
    return NULL;
  Type *rec = record_pointer(sema, f);
  if (rec)
    return rec;
  /* Syscall records hold every argument in an 8-byte slot ("int flags",
   * "umode_t mode": size 8, signed 0).  As bpftrace reads them: a plain C
   * integer ("int") is the whole slot, signed as declared (an s64: the
   * register's upper half included, which the caller may have left
   * zero-extended); a typedef ("umode_t", "pid_t") is its declared size. */
  int csize;
  bool csigned, widened;
  if (tracefs_c_int_type(f->ctype, &csize, &csigned, &widened) && csize < size)
    return ty_int(widened ? size : csize, csigned);
  return ty_int(size, f->is_signed);
}

/* Casts in user probes name user-space pointers. */
bool is_user_probe(Sema *sema) { return target_user_site(sema->cur) != NULL; }

/* ------------------------------------------------------------ builtin arguments
 *
 * Shared with the builtin table's type checks (src/builtins/). */

Node *arg_n(Node *e, int i) {
  Node *a = e->args;
  while (a && i--)
    a = a->next;
  return a;
}

bool want_args(Sema *sema, Node *e, int min, int max) {
  if (e->nargs < min || e->nargs > max) {
    if (min == max)
      serr(sema, e->loc, "%s() takes %d argument%s, got %d", e->name, min, min == 1 ? "" : "s",
           e->nargs);
    else
      serr(sema, e->loc, "%s() takes %d to %d arguments, got %d", e->name, min, max, e->nargs);
    return false;
  }
  return true;
}

bool want_int(Sema *sema, Node *a, const char *fn) {
  Type *t = check_expr(sema, a);
  if (t && t->kind != TY_NONE && !is_scalar(t)) {
    serr(sema, a->loc, "%s() expects an integer argument, got %s", fn, ty_name(t));
    return false;
  }
  return true;
}

bool want_str_lit(Sema *sema, Node *a, const char *fn, const char *what) {
  if (a->kind != ND_STR) {
    serr(sema, a->loc, "%s() expects a string literal as its %s", fn, what);
    return false;
  }
  a->type = ty_str(a->slen + 1);
  return true;
}

bool want_const(Sema *sema, Node *a, const char *fn, int64_t *out) {
  if (a->kind == ND_INT) {
    *out = (int64_t)a->ival;
    return true;
  }
  if (a->kind == ND_UNARY && a->op == OP_NEG && a->lhs->kind == ND_INT) {
    *out = -(int64_t)a->lhs->ival;
    return true;
  }
  if (a->kind == ND_POSPARAM && a->ival >= 1 && a->ival <= (uint64_t)sema->opt->nposparams) {
    char *end;
    const char *s = sema->opt->posparams[a->ival - 1];
    long long v = strtoll(s, &end, 0);
    if (*s && !*end) {
      *out = v;
      return true;
    }
  }
  serr(sema, a->loc, "%s() expects an integer literal here", fn);
  return false;
}

bool want_map(Sema *sema, Node *a, const char *fn) {
  if (a->kind != ND_MAP) {
    serr(sema, a->loc, "%s() expects a map argument", fn);
    return false;
  }
  return true;
}

/* A map named bare (no keys) as an argument: print(@m), clear(@m). */
MapInfo *map_arg(Sema *sema, Node *a, const char *fn) {
  if (!want_map(sema, a, fn))
    return NULL;
  MapInfo *m = find_map(sema, a->name);
  if (!m) {
    serr(sema, a->loc, "undefined map: %s", a->name);
    return NULL;
  }
  if (a->nargs) {
    serr(sema, a->loc, "%s() expects a map without keys (%s, not %s[...])", fn, a->name, a->name);
    return NULL;
  }
  a->map = m;
  return m;
}


/* ------------------------------------------------------------ expressions */

static Type *check_posparam(Sema *sema, Node *e) {
  if (e->ival == 0 || e->ival > (uint64_t)sema->opt->nposparams)
    return ty_s64; /* bpftrace: a missing parameter is 0 (or "" in str()) */
  const char *s = sema->opt->posparams[e->ival - 1];
  char *end;
  strtoll(s, &end, 0);
  if (*s && !*end)
    return ty_s64;
  return ty_str(strlen(s) + 1);
}

static bool unknown(const Type *t) { return !t || t->kind == TY_NONE; }


/* Pointer arithmetic counts elements, as in C: the bytes one step of a
 * pointer to `p->pointee` moves (1 for void and functions). */
static int pointer_step(const Type *p) {
  if (!p->pointee)
    return 1;
  if (!is_object(p->pointee) && p->pointee->kind != TY_STR)
    return ty_mem_size(p->pointee);
  return p->pointee->size;
}

static Type *check_binary(Sema *sema, Node *e) {
  Type *l = check_expr(sema, e->lhs), *r = check_expr(sema, e->rhs);
  /* `@m[k] = @m[k] + x` reads @m before any walk has typed it: the
   * quiet walks take an untyped operand of arithmetic as an integer so
   * that the map gets its type (the reporting walk then knows it). */
  if (!sema->final_pass && unknown(l) != unknown(r) && is_scalar(unknown(l) ? r : l) &&
      e->op != OP_LAND && e->op != OP_LOR) {
    if (unknown(l))
      l = ty_s64;
    else
      r = ty_s64;
  }
  if (unknown(l) || unknown(r))
    return NULL;
  if (e->op == OP_LAND || e->op == OP_LOR) {
    if (!is_scalar(l) || !is_scalar(r)) {
      serr(sema, e->loc, "operator %s expects integer operands (%s, %s)", op_str(e->op), ty_name(l),
           ty_name(r));
      return NULL;
    }
    return ty_u64;
  }
  if ((l->kind == TY_PROBE && e->rhs->kind == ND_STR) ||
      (r->kind == TY_PROBE && e->lhs->kind == ND_STR)) {
    /* probe == "tracepoint:sched:sched_switch": compared as probe
     * indexes (cg folds the literal to its index, or to -1) */
    if (e->op != OP_EQ && e->op != OP_NE) {
      serr(sema, e->loc, "operator %s cannot compare a probe name", op_str(e->op));
      return NULL;
    }
    return ty_u64;
  }
  if (l->kind == TY_BUF && r->kind == TY_BUF && (e->op == OP_EQ || e->op == OP_NE))
    return ty_u64; /* buf(..) == buf(..): same length and bytes */
  if (l->kind == TY_STR || r->kind == TY_STR) {
    if (e->op != OP_EQ && e->op != OP_NE) {
      serr(sema, e->loc, "operator %s cannot be used on strings (%s, %s)", op_str(e->op),
           ty_name(l), ty_name(r));
      return NULL;
    }
    if (l->kind != r->kind) {
      serr(sema, e->loc, "type mismatch for '%s': comparing %s with %s", op_str(e->op), ty_name(l),
           ty_name(r));
      return NULL;
    }
    if (e->op != OP_EQ && e->op != OP_NE) {
      serr(sema, e->loc, "operator %s cannot be used on strings", op_str(e->op));
      return NULL;
    }
    return ty_u64;
  }
  if (is_object(l) || is_object(r)) {
    /* a struct or an array compares byte by byte, as bpftrace does */
    if (e->op != OP_EQ && e->op != OP_NE) {
      serr(sema, e->loc, "operator %s cannot be used on %s", op_str(e->op), ty_name(l));
      return NULL;
    }
    if (!ty_same(l, r)) {
      serr(sema, e->loc, "type mismatch for '%s': comparing %s with %s", op_str(e->op), ty_name(l),
           ty_name(r));
      return NULL;
    }
    return object_value_ok(sema, l, e->loc) ? ty_u64 : NULL;
  }
  if (!is_scalar(l) || !is_scalar(r)) {
    serr(sema, e->loc, "operator %s expects integer operands (%s, %s)", op_str(e->op), ty_name(l),
         ty_name(r));
    return NULL;
  }
  bool sgn = l->is_signed && r->is_signed;
  if ((e->op == OP_ADD || e->op == OP_SUB) && l->is_ptr && !r->is_ptr) {
    if (l->ctx) { /* the verifier takes context loads at constant offsets from ctx only */
      serr(sema, e->loc, "no arithmetic on the context pointer (ctx): index it (ctx[i], p[i]) or "
                         "read a member");
      return NULL;
    }
    e->ival = pointer_step(l);
    return l;
  }
  switch (e->op) {
  case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
    return ty_u64;
  default:
    return ty_int(8, sgn);
  }
}

/* t marked as of no known address space, when it is a pointer or an
 * object read through one of no known address space (base). */
static Type *any_space(Type *t, bool any) {
  if (!t || !any || t->any_space ||
      !(t->is_ptr || t->kind == TY_RECORD || t->kind == TY_ARRAY))
    return t;
  Type *c = ealloc(sizeof(Type));
  *c = *t;
  c->any_space = true;
  return c;
}

static Type *check_cast(Sema *sema, Node *e) {
  Type *t = check_expr(sema, e->lhs);
  static const struct { const char *name; int size; bool sgn; } ints[] = {
      {"int8", 1, 1},  {"int16", 2, 1},  {"int32", 4, 1},  {"int64", 8, 1},
      {"uint8", 1, 0}, {"uint16", 2, 0}, {"uint32", 4, 0}, {"uint64", 8, 0},
      {"s8", 1, 1},    {"s16", 2, 1},    {"s32", 4, 1},    {"s64", 8, 1},
      {"u8", 1, 0},    {"u16", 2, 0},    {"u32", 4, 0},    {"u64", 8, 0},
  };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (!strcmp(e->cast_type, ints[i].name)) {
      if (t && t->kind != TY_NONE && !is_scalar(t)) {
        serr(sema, e->loc, "cannot cast %s to %s", ty_name(t), e->cast_type);
        return NULL;
      }
      return ty_int(ints[i].size, ints[i].sgn);
    }
  const char *why = NULL;
  Type *to = btf_parse_type(sema->c->types, e->cast_type, is_user_probe(sema), &why);
  if (!to) {
    const UserSite *site = target_user_site(sema->cur);
    size_t n = strlen(why);
    if (site && !strncmp(why, "unknown type", 12) && why[n - 1] == ')') /* nor in DWARF */
      serr(sema, e->loc, "%.*s nor in the DWARF of %s)", (int)n - 1, why, site->path);
    else
      serr(sema, e->loc, "%s", why);
    return NULL;
  }
  if (to->kind == TY_RECORD || to->kind == TY_ARRAY || to->kind == TY_STR) {
    serr(sema, e->loc, "cannot cast to %s; cast to a pointer (%s *) instead", ty_name(to),
         ty_name(to));
    return NULL;
  }
  if (t && t->kind != TY_NONE && !is_scalar(t)) {
    serr(sema, e->loc, "cannot cast %s to %s", ty_name(t), e->cast_type);
    return NULL;
  }
  if (t && t->ctx && to->is_ptr) { /* ((struct x *)ctx)->x reads the context too */
    Type *p = ealloc(sizeof(Type));
    *p = *to;
    p->ctx = true;
    return p;
  }
  /* An integer made a pointer where the probe says nothing of the address
   * space (bpftrace 0.17 takes the probe's, none in BEGIN, interval ...). */
  bool unknown = t && (t->is_ptr ? t->any_space : sema->cur->prov->no_address_space);
  return any_space(to, to->is_ptr && unknown);
}

/* ------------------------------------------------------------ kernel types
 *
 * A value of struct/union (TY_RECORD) or array (TY_ARRAY) type lives in
 * kernel or user memory, or is a copy held in a variable, a map or a
 * tuple: it is the operand of `.`, `[]`, `&`-free member chains, ==,
 * print(); cg keeps its address and reads the scalar at the end of the
 * chain with one probe read. */

/* base.NAME (record) or base->NAME (pointer to record). */
static Type *check_member(Sema *sema, Node *e, Type *t) {
  Type *rec = t;
  if (e->arrow) {
    if (!t->is_ptr || !t->pointee || t->pointee->kind != TY_RECORD) {
      serr(sema, e->loc, "cannot use '->' on a value of type %s: it is not a pointer to a struct",
           ty_name(t));
      return NULL;
    }
    rec = t->pointee;
  } else if (t->kind != TY_RECORD) {
    if (t->is_ptr && t->pointee && t->pointee->kind == TY_RECORD)
      serr(sema, e->loc, "cannot access field '%s' of %s with '.'; use '->'", e->name, ty_name(t));
    else
      serr(sema, e->loc, "cannot access field '%s' of a value of type %s", e->name, ty_name(t));
    return NULL;
  }
  BtfMember m;
  if (!btf_find_member(sema->c->types, rec, e->name, t->user, &m)) {
    serr(sema, e->loc, "%s has no member named '%s'", ty_name(rec), e->name);
    return NULL;
  }
  if (!m.type) {
    serr(sema, e->loc, "member '%s' of %s has a type etrace cannot read", e->name, ty_name(rec));
    return NULL;
  }
  if (m.bit_size && (m.type->kind != TY_INT || m.bit_shift + m.bit_size > 64)) {
    serr(sema, e->loc, "bitfield '%s' of %s cannot be read", e->name, ty_name(rec));
    return NULL;
  }
  e->field_off = m.offset;
  e->bit_shift = m.bit_shift;
  e->bit_size = m.bit_size;
  return any_space(m.type, t->any_space);
}

/* *p: the pointee (a record stays in memory; an integer is read). */
static Type *check_deref(Sema *sema, Node *e, Type *t) {
  if (!t->is_ptr) {
    serr(sema, e->loc, "cannot dereference a value of type %s: it is not a pointer", ty_name(t));
    return NULL;
  }
  if (!t->pointee) {
    serr(sema, e->loc, "cannot dereference a void pointer; cast it to a typed pointer first");
    return NULL;
  }
  if (t->pointee->kind == TY_STR) {
    serr(sema, e->loc, "cannot dereference %s; use str() to read it", ty_name(t));
    return NULL;
  }
  return any_space(t->pointee, t->any_space);
}

/* p[i] on a pointer, a[i] on an array member. */
static Type *check_object_index(Sema *sema, Node *e, Type *t) {
  Type *it = check_expr(sema, e->rhs);
  if (it && it->kind != TY_NONE && !is_scalar(it)) {
    serr(sema, e->rhs->loc, "array index must be an integer, got %s", ty_name(it));
    return NULL;
  }
  Type *elem = t->kind == TY_ARRAY || t->kind == TY_STR ? t->elem : t->pointee;
  if ((t->kind == TY_ARRAY || t->kind == TY_STR) && e->rhs->kind == ND_INT && e->rhs->ival >= (uint64_t)t->nelems &&
      t->nelems > 0) {
    serr(sema, e->rhs->loc, "the index %llu is out of bounds for array of size %d",
         (unsigned long long)e->rhs->ival, t->nelems);
    return NULL;
  }
  if (!elem || elem->kind == TY_STR) {
    serr(sema, e->loc, "cannot index a value of type %s", ty_name(t));
    return NULL;
  }
  return any_space(elem, t->any_space);
}

static Type *check_field(Sema *sema, Node *e) {
  Type *t = check_expr(sema, e->lhs);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind != TY_CTX)
    return check_member(sema, e, t);
  if (sema->cur->prov->type_field) /* args.NAME as the probe's provider types it */
    return sema->cur->prov->type_field(sema, sema->cur, e);
  TpField *f = ctx_field(sema, e->name);
  if (!f) {
    const TpFormat *rec = target_record(sema->cur);
    serr(sema, e->loc, "tracepoint %s:%s has no argument named '%s'", rec ? rec->sys : "?",
         rec ? rec->event : "?", e->name);
    return NULL;
  }
  Type *ft = field_type(sema, f);
  if (!ft) {
    serr(sema, e->loc, "argument '%s' has type '%s', which is not supported yet", e->name,
         f->ctype);
    return NULL;
  }
  e->field_data_loc = f->data_loc;
  e->field_user = f->user_ptr;
  return ft;
}

/* args.ARRAY[i] on a tracepoint array field such as raw_syscalls'
 * `unsigned long args[6]`: an integer element.  A constant index is
 * checked against the bounds here; a computed one is checked at run
 * time (out of range reads 0). */
static Type *check_index(Sema *sema, Node *e) {
  Node *f = e->lhs;
  if (!(f->kind == ND_FIELD && builtin_has(f->lhs, BUILTIN_ARGS_RECORD) &&
        target_record(sema->cur))) {
    Type *t = check_expr(sema, f);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (t->kind == TY_ARRAY || t->is_ptr || (t->kind == TY_STR && t->elem))
      return check_object_index(sema, e, t);
  }
  Type *it = check_expr(sema, e->rhs);
  if (f->kind != ND_FIELD || !builtin_has(f->lhs, BUILTIN_ARGS_RECORD)) {
    check_expr(sema, f);
    serr(sema, e->loc, "only tracepoint array arguments (args.NAME[i]) can be indexed");
    return NULL;
  }
  if (!check_expr(sema, f->lhs))
    return NULL;
  TpField *tf = ctx_field(sema, f->name);
  const TpFormat *rec = target_record(sema->cur);
  if (!tf && !rec) {
    serr(sema, e->loc, "only tracepoint array arguments (args.NAME[i]) can be indexed");
    return NULL;
  }
  if (!tf) {
    serr(sema, f->loc, "tracepoint %s:%s has no argument named '%s'", rec->sys, rec->event,
         f->name);
    return NULL;
  }
  f->type = ty_void;
  if (tf->array_len <= 0 || tf->data_loc || strstr(tf->ctype, "char")) {
    serr(sema, e->loc, "argument '%s' (%s) is not an array of integers", f->name, tf->ctype);
    return NULL;
  }
  int elem = tf->size / tf->array_len;
  if (elem != 1 && elem != 2 && elem != 4 && elem != 8) {
    serr(sema, e->loc, "argument '%s' has elements of %d bytes, which cannot be read yet", f->name,
         elem);
    return NULL;
  }
  if (it && it->kind != TY_NONE && !is_scalar(it)) {
    serr(sema, e->rhs->loc, "array index must be an integer, got %s", ty_name(it));
    return NULL;
  }
  if (e->rhs->kind == ND_INT && e->rhs->ival >= (uint64_t)tf->array_len) {
    serr(sema, e->rhs->loc, "index %llu is out of bounds for %s[%d]",
         (unsigned long long)e->rhs->ival, f->name, tf->array_len);
    return NULL;
  }
  return ty_int(elem, tf->is_signed);
}

static void check_assign(Sema *sema, Node *s);

static Type *check_expr_inner(Sema *sema, Node *e) {
  switch (e->kind) {
  case ND_INT: /* int64, or uint64 when it does not fit */
    return e->ival > INT64_MAX ? ty_u64 : ty_s64;
  case ND_STR:
    return ty_str(e->slen + 1);
  case ND_BUILTIN:
    return builtin_check(sema, e);
  case ND_VAR: {
    int index;
    VarInfo *v = find_var_at(sema, e->name, &index);
    if (!v) {
      serr(sema, e->loc, "undefined variable: $%s", e->name);
      return NULL;
    }
    if (!v->type || v->type->kind == TY_NONE) {
      serr(sema, e->loc, "$%s is used before it is assigned a value", e->name);
      return NULL;
    }
    e->var = v;
    return v->type;
  }
  case ND_POSPARAM:
    return check_posparam(sema, e);
  case ND_POSCOUNT:
    return ty_s64;
  case ND_MAP: {
    MapInfo *m = find_map(sema, e->name);
    if (!m) {
      if (sema->final_pass)
        serr(sema, e->loc, "undefined map: %s", e->name);
      return NULL;
    }
    e->map = m;
    check_map_keys(sema, e, m);
    if (m->val && ty_is_agg(m->val)) {
      /* count/sum/min/max/avg read as one integer merged over the CPUs */
      TypeKind k = m->val->kind;
      if (k == TY_STATS || k == TY_HIST || k == TY_LHIST) {
        serr(sema, e->loc, "map %s holds %s() values, which cannot be read as a number", m->name,
             ty_name(m->val));
        return NULL;
      }
      return k == TY_COUNT ? ty_u64 : ty_int(8, m->val->is_signed);
    }
    return m->val;
  }
  case ND_CALL:
    return builtin_check(sema, e);
  case ND_BINARY:
    return check_binary(sema, e);
  case ND_UNARY: {
    Type *t = check_expr(sema, e->lhs);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (e->op == OP_DEREF)
      return check_deref(sema, e, t);
    if (!is_scalar(t)) {
      serr(sema, e->loc, "operator %s expects an integer operand, got %s", op_str(e->op),
           ty_name(t));
      return NULL;
    }
    if (e->op == OP_LNOT)
      return ty_u64;
    return e->op == OP_NEG ? ty_s64 : ty_int(8, t->is_signed);
  }
  case ND_TERNARY: {
    Type *c = check_expr(sema, e->cond);
    if (c && c->kind != TY_NONE && !is_scalar(c))
      serr(sema, e->cond->loc, "condition must be an integer, got %s", ty_name(c));
    Type *a = check_expr(sema, e->then), *b = check_expr(sema, e->els);
    if (!a || !b || a->kind == TY_NONE || b->kind == TY_NONE)
      return NULL;
    if (a->kind == TY_VOID && b->kind == TY_VOID)
      return ty_void;
    Type *u = unify(store_type(a), store_type(b));
    if (!u || !(is_scalar(u) || u->kind == TY_STR || u->kind == TY_TUPLE)) {
      serr(sema, e->loc, "ternary branches have different types: %s and %s", ty_name(a),
           ty_name(b));
      return NULL;
    }
    return is_scalar(a) ? a : u;
  }
  case ND_CAST:
    return check_cast(sema, e);
  case ND_FIELD:
    return check_field(sema, e);
  case ND_INDEX:
    return check_index(sema, e);
  case ND_TUPLE: {
    Type **f = ealloc(sizeof(Type *) * e->nargs);
    int i = 0;
    bool ok = true;
    for (Node *a = e->args; a; a = a->next, i++) {
      f[i] = check_expr(sema, a);
      if (!f[i] || f[i]->kind == TY_NONE)
        ok = false;
      else if (f[i]->kind == TY_VOID || f[i]->kind == TY_CTX || ty_is_agg(f[i])) {
        serr(sema, a->loc, "a tuple cannot hold a value of type %s", ty_name(f[i]));
        ok = false;
      } else if (!object_value_ok(sema, f[i], a->loc))
        ok = false;
      else
        f[i] = store_type(f[i]);
    }
    return ok ? ty_tuple(f, e->nargs) : NULL;
  }
  case ND_TUPLE_IDX: {
    Type *t = check_expr(sema, e->lhs);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (t->kind != TY_TUPLE) {
      serr(sema, e->loc, ".%llu can only be used on tuples, not %s", (unsigned long long)e->ival,
           ty_name(t));
      return NULL;
    }
    if (e->ival >= (uint64_t)t->nfields) {
      serr(sema, e->loc, "tuple index %llu out of range (the tuple has %d elements)",
           (unsigned long long)e->ival, t->nfields);
      return NULL;
    }
    return t->fields[e->ival];
  }
  case ND_INCDEC:
    /* x++ / ++x in an expression (as in bpftrace): the old / new value */
    check_assign(sema, e);
    return e->lhs->type && e->lhs->type->kind != TY_NONE ? e->lhs->type : NULL;
  case ND_ASSIGN:
    serr(sema, e->loc, "assignment can only be used as a statement");
    return NULL;
  default:
    serr(sema, e->loc, "statement used as an expression");
    return NULL;
  }
}

Type *check_expr(Sema *sema, Node *e) {
  Type *t = check_expr_inner(sema, e);
  e->type = t ? t : ealloc(sizeof(Type)); /* TY_NONE */
  return t;
}

/* ------------------------------------------------------------ statements */

static void check_block(Sema *sema, Node *b);

static void check_assign(Sema *sema, Node *s) {
  Node *lhs = s->lhs, *rhs = s->rhs;
  if (lhs->kind != ND_VAR && lhs->kind != ND_MAP) {
    serr(sema, lhs->loc, "can only assign to a $variable or a @map");
    return;
  }
  /* @m = count(), hist(x), ...: aggregation maps */
  const Builtin *agg;
  if (rhs && rhs->kind == ND_CALL && (agg = builtin_find(rhs->name, BUILTIN_FUNC)) &&
      agg->check_assign && s->kind == ND_ASSIGN && s->op == OP_NONE) {
    if (lhs->kind != ND_MAP) {
      serr(sema, rhs->loc, "%s() can only be assigned to a map", rhs->name);
      return;
    }
    rhs->builtin = agg;
    Type *at = agg->check_assign(sema, rhs);
    MapInfo *m = find_map(sema, lhs->name);
    if (!m)
      m = add_map(sema, lhs->name, lhs->loc);
    lhs->map = m;
    check_map_keys(sema, lhs, m);
    rhs->type = at;
    if (!at)
      return;
    if (m->val && m->val->kind != TY_NONE && (m->val->kind != at->kind || !ty_same(m->val, at))) {
      serr(sema, s->loc, "map %s is %s here but %s elsewhere", m->name, ty_name(at),
           ty_name(m->val));
      return;
    }
    if (!m->val || m->val->kind == TY_NONE)
      m->val = at;
    else if (at->is_signed)
      m->val->is_signed = true;
    m->percpu = true;
    return;
  }
  Type *vt;
  if (s->kind == ND_INCDEC || s->op != OP_NONE) {
    /* x op= y and x++: the target must already hold an integer. */
    Type *cur_t = check_expr(sema, lhs);
    if (rhs)
      vt = check_expr(sema, rhs);
    else
      vt = ty_s64;
    if (cur_t && cur_t->kind != TY_NONE && !is_scalar(cur_t)) {
      serr(sema, s->loc, "%s needs an integer target, got %s",
           s->kind == ND_INCDEC ? (s->op == OP_ADD ? "++" : "--") : "compound assignment",
           ty_name(cur_t));
      return;
    }
    if (vt && vt->kind != TY_NONE && !is_scalar(vt)) {
      serr(sema, rhs->loc, "compound assignment needs an integer value, got %s", ty_name(vt));
      return;
    }
    if (!cur_t && lhs->kind == ND_MAP && find_map(sema, lhs->name) == NULL) {
      /* @x++ on a fresh map creates it as an integer map */
      cur_t = NULL;
    }
    vt = cur_t && cur_t->kind != TY_NONE ? cur_t : ty_s64;
    /* p++, p += n on a pointer move by elements (cg scales by ival) */
    s->ival = vt->is_ptr && (s->op == OP_ADD || s->op == OP_SUB) ? pointer_step(vt) : 1;
  } else {
    vt = check_expr(sema, rhs);
  }
  if (lhs->kind == ND_VAR) {
    if (vt && (vt->kind == TY_VOID || vt->kind == TY_CTX)) {
      serr(sema, rhs->loc, "cannot assign a value of type %s to $%s", ty_name(vt), lhs->name);
      return;
    }
    if (!object_value_ok(sema, vt, rhs ? rhs->loc : s->loc))
      return;
    assign_var(sema, lhs, vt);
    return;
  }
  MapInfo *m = find_map(sema, lhs->name);
  if (!m)
    m = add_map(sema, lhs->name, lhs->loc);
  lhs->map = m;
  check_map_keys(sema, lhs, m);
  set_map_value(sema, s, m, vt);
  lhs->type = m->val;
}

static void check_stmt(Sema *sema, Node *s) {
  switch (s->kind) {
  case ND_EXPR_STMT: {
    Node *e = s->lhs;
    if (e->kind == ND_ASSIGN || e->kind == ND_INCDEC) {
      check_assign(sema, e);
      return;
    }
    check_expr(sema, e); /* bpftrace allows value statements; they do nothing */
    return;
  }
  case ND_BLOCK:
    check_block(sema, s);
    return;
  case ND_IF: {
    Type *c = check_expr(sema, s->cond);
    if (c && c->kind != TY_NONE && !is_scalar(c))
      serr(sema, s->cond->loc, "if condition must be an integer, got %s", ty_name(c));
    check_stmt(sema, s->then);
    if (s->els)
      check_stmt(sema, s->els);
    return;
  }
  case ND_WHILE: {
    Type *c = check_expr(sema, s->cond);
    if (c && c->kind != TY_NONE && !is_scalar(c))
      serr(sema, s->cond->loc, "while condition must be an integer, got %s", ty_name(c));
    sema->loop_depth++;
    check_stmt(sema, s->then);
    sema->loop_depth--;
    return;
  }
  case ND_UNROLL: {
    int64_t n;
    if (want_const(sema, s->lhs, "unroll", &n) && (n < 1 || n > 100)) /* bpftrace's words */
      serr(sema, s->lhs->loc, "unroll %s value is %d, got %lld", n < 1 ? "minimum" : "maximum",
           n < 1 ? 1 : 100, (long long)n);
    s->ival = n;
    check_stmt(sema, s->then);
    return;
  }
  case ND_FOR_RANGE: {
    Type *a = check_expr(sema, s->lhs), *b = check_expr(sema, s->rhs);
    if ((a && a->kind != TY_NONE && !is_scalar(a)) || (b && b->kind != TY_NONE && !is_scalar(b)))
      serr(sema, s->loc, "for range bounds must be integers");
    Node var = {.kind = ND_VAR, .name = s->name, .loc = s->loc};
    assign_var(sema, &var, ty_s64);
    s->var = var.var;
    sema->loop_depth++;
    check_stmt(sema, s->then);
    sema->loop_depth--;
    return;
  }
  case ND_FOR_MAP: {
    /* for ($kv : @m): $kv is the tuple (key, value).  The body runs in a
     * callback with its own stack frame, so it cannot see the probe's
     * other scratch variables. */
    MapInfo *m = s->lhs->kind == ND_MAP ? find_map(sema, s->lhs->name) : NULL;
    if (!m) {
      serr(sema, s->lhs->loc, "for loops iterate over a map: for ($kv : @map)");
      return;
    }
    if (s->lhs->nargs) {
      serr(sema, s->lhs->loc, "for loops take the map without keys (%s)", m->name);
      return;
    }
    s->lhs->map = m;
    m->walked = true;
    if (!m->val || m->val->kind == TY_NONE ||
        (m->nkeys > 0 && (!m->key || m->key->kind == TY_NONE)))
      return; /* types not known yet (quiet walk) */
    if (ty_is_agg(m->val)) {
      serr(sema, s->lhs->loc, "for loops over %s() maps are not supported yet", ty_name(m->val));
      return;
    }
    Type *kv[2] = {m->nkeys > 0 ? m->key : ty_u64, m->val};
    Node var = {.kind = ND_VAR, .name = s->name, .loc = s->loc};
    assign_var(sema, &var, ty_tuple(kv, 2));
    s->var = var.var;
    sema->loop_depth++; /* the body shares the probe's variables: cg/capture.c */
    check_stmt(sema, s->then);
    sema->loop_depth--;
    return;
  }
  case ND_BREAK:
  case ND_CONTINUE:
    if (!sema->loop_depth)
      serr(sema, s->loc, "%s outside of a loop", s->kind == ND_BREAK ? "break" : "continue");
    return;
  case ND_RETURN:
    return;
  case ND_LET: {
    Node var = {.kind = ND_VAR, .name = s->name, .loc = s->loc};
    Type *t = s->rhs ? check_expr(sema, s->rhs) : NULL;
    if (s->cast_type) {
      Node cast = {.kind = ND_CAST, .cast_type = s->cast_type, .loc = s->loc,
                   .lhs = &(Node){.kind = ND_INT}};
      Type *ct = check_cast(sema, &cast);
      if (ct && t && !is_scalar(t))
        serr(sema, s->loc, "cannot initialise $%s of type %s with %s", s->name, s->cast_type,
             ty_name(t));
      t = ct;
    }
    assign_var(sema, &var, t ? t : ealloc(sizeof(Type)));
    s->var = var.var;
    return;
  }
  default:
    serr(sema, s->loc, "expression used as a statement");
  }
}

static void check_block(Sema *sema, Node *b) {
  for (Node *s = b->body; s; s = s->next)
    check_stmt(sema, s);
}

/* Types a user probe's file defines in its DWARF: a cast to `struct Foo *`
 * where neither the program nor the kernel defines struct Foo. */
static int dwarf_fallback(void *arg, const char *name, int btf_kind) {
  Sema *sema = arg;
  const UserSite *site = target_user_site(sema->cur);
  return site ? dwarf_named_type(sema->dwarf, site->path, name, btf_kind) : -1;
}

static void check_target(Sema *sema, Target *t) {
  sema->cur = t;
  btf_set_fallback(sema->c->types, target_user_site(t) ? dwarf_fallback : NULL, sema);
  sema->nvars = 0;
  sema->loop_depth = 0;
  Probe *p = t->probe;
  if (p->pred) {
    Type *pt = check_expr(sema, p->pred);
    if (pt && pt->kind != TY_NONE && !is_scalar(pt))
      serr(sema, p->pred->loc, "predicate must be an integer expression, got %s", ty_name(pt));
  }
  check_block(sema, p->body);
}

/* ------------------------------------------------------------ attach points */

/* Replace $1..$N in attach-point text (interval:s:$1, uprobe:$1:main).
 * NULL after an error: a missing parameter. */
static const char *subst_params(Sema *sema, AttachPoint *ap) {
  const char *t = ap->text;
  if (!strchr(t, '$'))
    return t;
  Buf b = {0};
  for (const char *p = t; *p;) {
    if (*p == '$' && isdigit((unsigned char)p[1])) {
      char *end;
      long n = strtol(p + 1, &end, 10);
      if (n < 1 || n > sema->opt->nposparams) {
        diag_error(ap->loc, "positional parameter $%ld is used in probe '%s' but not given", n, t);
        buf_free(&b);
        return NULL;
      }
      buf_put(&b, sema->opt->posparams[n - 1], strlen(sema->opt->posparams[n - 1]));
      p = end;
    } else {
      buf_put(&b, p++, 1);
    }
  }
  char *out = estrdup(b.data);
  buf_free(&b);
  return out;
}

/* Hand the attach point to the provider it names (PROVIDER:..., or a
 * bare name such as BEGIN). */
static void expand_attach_point(Sema *sema, Probe *p, AttachPoint *ap) {
  const char *s = subst_params(sema, ap);
  if (!s)
    return;
  const char *colon = strchr(s, ':');
  size_t len = colon ? (size_t)(colon - s) : strlen(s);
  const Provider *prov = provider_find(s, len);
  if (!colon && !(prov && prov->bare)) {
    diag_error(ap->loc, "invalid probe '%s': expected PROVIDER:TARGET", s);
    return;
  }
  if (!prov) {
    diag_error(ap->loc, "unknown probe type '%.*s'", (int)len, s);
    return;
  }
  ProvExpand x = {.c = sema->c, .opt = sema->opt, .probe = p, .text = s,
                  .prefix = estrndup(s, len), .rest = colon ? colon + 1 : NULL, .loc = ap->loc};
  prov->expand(&x);
}

/* ------------------------------------------------------------ entry */

static void walk_all(Sema *sema) {
  for (int i = 0; i < sema->c->ntargets; i++)
    check_target(sema, sema->c->targets[i]);
}

/* Expand the attach points, then walk every target (see the top of the
 * file).  NULL after an error. */
static Compiled *check_program(Sema *sema, Program *prog, const Options *opt) {
  sema->c->prog = prog;
  sema->c->posparams = opt->posparams;
  sema->c->nposparams = opt->nposparams;
  sema->c->cpid = opt->cpid;
  sema->c->filter_pid = opt->pid;
  sema->c->helper_errors = opt->helper_errors;
  sema->c->ncpus = sysconf(_SC_NPROCESSORS_ONLN);
  sema->c->possible_cpus = libbpf_num_possible_cpus();
  if (sema->c->possible_cpus < 1)
    sema->c->possible_cpus = sema->c->ncpus;
  int errs = diag_errors;
  /* Several BEGIN and END probes are allowed (bpftrace 0.25); they run
   * in program order. */
  for (Probe *p = prog->probes; p; p = p->next)
    for (AttachPoint *ap = p->aps; ap; ap = ap->next)
      expand_attach_point(sema, p, ap);
  if (diag_errors == errs && !sema->c->ntargets && prog->probes)
    diag_error(prog->probes->loc, "no probe is left to attach (every one was skipped)");
  if (diag_errors > errs)
    return NULL;
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->check_program && providers[i]->check_program(sema->c) < 0)
      return NULL;

  /* Quiet walks learn map types; then one walk reports. */
  sema->final_pass = false;
  walk_all(sema);
  walk_all(sema);
  sema->c->nsites = 0; /* sites are recorded again by the reporting walk */
  sema->final_pass = true;
  walk_all(sema);

  bool earlier_errors = diag_errors > errs;
  for (int i = 0; i < sema->c->nmaps; i++) {
    MapInfo *m = sema->c->maps[i];
    if ((!m->val || m->val->kind == TY_NONE) && earlier_errors)
      continue; /* the error that left it untyped was reported */
    if (!m->val || m->val->kind == TY_NONE) {
      diag_error(m->loc, "map %s is used but never assigned a value", m->name);
      continue;
    }
    if (m->nkeys > 0 && (!m->key || m->key->kind == TY_NONE)) {
      diag_error(m->loc, "cannot infer the key type of map %s", m->name);
      continue;
    }
    if (m->nkeys <= 0)
      m->key = ty_u64;
    m->key_size = m->key->size;
    if (m->val->kind == TY_HIST || m->val->kind == TY_LHIST)
      m->key_size += 8;
    TypeKind vk = m->val->kind;
    if (m->nkeys <= 0 && m->percpu && !m->walked &&
        (vk == TY_COUNT || vk == TY_HIST || vk == TY_LHIST)) {
      m->array = true;
      m->key_size = 4;
    }
    m->val_size = m->val->size;
  }
  if (diag_errors > errs)
    return NULL;
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->finish)
      providers[i]->finish(sema->c);
  return sema->c;
}

Compiled *sema_program(Program *prog, const Options *opt) {
  Compiled *out = ealloc(sizeof(Compiled));
  if (!prog->types) { /* a program without C definitions */
    prog->types = program_types_new();
    out->owns_types = true;
  }
  out->types = prog->types;
  Sema sema = {.c = out, .opt = opt, .dwarf = dwarf_types_new(prog->types)};
  Compiled *c = check_program(&sema, prog, opt);
  btf_set_fallback(prog->types, NULL, NULL);
  free(sema.vars);
  return c;
}
