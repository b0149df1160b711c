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
#include "providers/provider.h"
#include "runtime/rt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

static Compiled *C;
static const Options *O;
static Target *cur;        /* target being checked */
static bool final_pass;    /* report errors only in the last walk */
static int loop_depth;

/* Scratch variables are scoped to one probe walk (bpftrace 0.17 rule). */
static VarInfo **vars;
static int nvars, cap_vars;

#define serr(loc, ...)              \
  do {                              \
    if (final_pass)                 \
      diag_error(loc, __VA_ARGS__); \
  } while (0)

/* ------------------------------------------------------------ types */

/* The type a value has once stored in a map, variable or record:
 * strings get the default buffer size so that values from different
 * sources (comm is 16 bytes, str() 64) share one layout. */
static Type *store_type(Type *t) {
  if (!t)
    return NULL;
  if (t->kind == TY_STR) {
    int size = t->size > ETRACE_STRLEN ? t->size : ETRACE_STRLEN;
    return ty_str((size + 7) & ~7);
  }
  if (t->kind == TY_TUPLE) {
    Type **f = ealloc(sizeof(Type *) * t->nfields);
    for (int i = 0; i < t->nfields; i++)
      f[i] = store_type(t->fields[i]);
    return ty_tuple(f, t->nfields);
  }
  if (t->kind == TY_INT)
    return t;
  return t;
}

static bool is_scalar(const Type *t) {
  return t && (t->kind == TY_INT || t->kind == TY_USERNAME || t->kind == TY_PROBE ||
               t->kind == TY_TIMESTAMP || t->kind == TY_STRERROR);
}

/* A struct/union or array in memory: only its members can be read. */
static bool is_object(const Type *t) { return t && (t->kind == TY_RECORD || t->kind == TY_ARRAY); }

/* Stacks and symbols: map keys and printable values, not numbers. */
static bool is_symbolic(const Type *t) {
  return t && (t->kind == TY_STACK || t->kind == TY_KSYM || t->kind == TY_USYM);
}

static Type *new_kind(TypeKind kind, int size) {
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
  if (a->kind == TY_STR)
    return a->size >= b->size ? a : b;
  if (a->kind == TY_TUPLE) {
    if (a->nfields != b->nfields)
      return NULL;
    Type **f = ealloc(sizeof(Type *) * a->nfields);
    for (int i = 0; i < a->nfields; i++)
      if (!(f[i] = unify(a->fields[i], b->fields[i])))
        return NULL;
    return ty_tuple(f, a->nfields);
  }
  if ((a->kind == TY_LHIST || a->kind == TY_STACK) && !ty_same(a, b))
    return NULL;
  return a;
}

/* ------------------------------------------------------------ maps */

static MapInfo *find_map(const char *name) {
  for (int i = 0; i < C->nmaps; i++)
    if (!strcmp(C->maps[i]->name, name))
      return C->maps[i];
  return NULL;
}

static MapInfo *add_map(const char *name, Loc loc) {
  MapInfo *m = ealloc(sizeof(MapInfo));
  m->name = estrdup(name);
  m->loc = loc;
  m->id = C->nmaps;
  m->nkeys = -1;      /* unknown until first use */
  m->max_entries = 4096;
  m->fd = -1;
  C->maps = egrow(C->maps, C->nmaps, sizeof(MapInfo *));
  C->maps[C->nmaps++] = m;
  return m;
}

static Type *check_expr(Node *e);

/* Key type of a map access; records it on the map (unifying). */
static void check_map_keys(Node *e, MapInfo *m) {
  Type *kt;
  if (e->nargs == 0) {
    kt = ty_u64;
  } else if (e->nargs == 1) {
    Type *t = check_expr(e->args);
    if (t && !is_scalar(t) && !is_symbolic(t) && t->kind != TY_STR && t->kind != TY_TUPLE &&
        t->kind != TY_NONE) {
      serr(e->args->loc, "%s cannot be used as a map key", ty_name(t));
      return;
    }
    kt = store_type(t);
    if (kt && kt->kind == TY_INT && !kt->is_ptr)
      kt = ty_int(kt->int_size, kt->is_signed);
  } else {
    Type **f = ealloc(sizeof(Type *) * e->nargs);
    int i = 0;
    bool known = true;
    for (Node *a = e->args; a; a = a->next, i++) {
      f[i] = store_type(check_expr(a));
      if (!f[i] || f[i]->kind == TY_NONE)
        known = false;
      else if (!is_scalar(f[i]) && !is_symbolic(f[i]) && f[i]->kind != TY_STR &&
               f[i]->kind != TY_TUPLE)
        serr(a->loc, "%s cannot be used as a map key", ty_name(f[i]));
    }
    kt = known ? ty_tuple(f, e->nargs) : NULL;
  }
  if (m->nkeys >= 0 && m->nkeys != e->nargs) {
    serr(e->loc, "map %s used with %d key%s here but %d elsewhere", m->name, e->nargs,
         e->nargs == 1 ? "" : "s", m->nkeys);
    return;
  }
  m->nkeys = e->nargs;
  if (!kt || kt->kind == TY_NONE)
    return;
  Type *u = unify(m->key, kt);
  if (!u) {
    serr(e->loc, "map %s key type mismatch: %s here, %s elsewhere", m->name, ty_name(kt),
         ty_name(m->key));
    return;
  }
  m->key = u;
}

static void set_map_value(Node *at, MapInfo *m, Type *vt) {
  if (!vt || vt->kind == TY_NONE)
    return;
  if (vt->kind == TY_VOID) {
    serr(at->loc, "cannot assign a value of type void to map %s", m->name);
    return;
  }
  if (vt->kind == TY_CTX) {
    serr(at->loc, "args cannot be stored in a map; use args.FIELD");
    return;
  }
  if (vt->kind == TY_RECORD && vt->size > PRINTF_RECORD_MAX) {
    serr(at->loc, "%s (%d bytes) is too big to store in a map (at most %d bytes, the BPF "
                  "stack holds the copy); store its members, or print() it", ty_name(vt),
         vt->size, PRINTF_RECORD_MAX);
    return;
  }
  if (is_object(vt) && vt->kind != TY_RECORD) {
    serr(at->loc, "%s cannot be stored in a map; store its members", ty_name(vt));
    return;
  }
  Type *st = store_type(vt);
  if (st->kind == TY_INT && m->val && ty_is_agg(m->val)) {
    serr(at->loc, "map %s holds %s() values and cannot be assigned an integer", m->name,
         ty_name(m->val));
    return;
  }
  Type *u = unify(m->val, st);
  if (!u) {
    serr(at->loc, "map %s value type mismatch: %s here, %s elsewhere", m->name, ty_name(st),
         ty_name(m->val));
    return;
  }
  m->val = u;
}

/* ------------------------------------------------------------ variables */

/* Inside a for-over-map body, variables [0, for_outer_limit) belong to
 * the enclosing probe's frame and are out of reach. */
static int for_outer_limit = -1;

static VarInfo *find_var_at(const char *name, int *index) {
  for (int i = 0; i < nvars; i++)
    if (!strcmp(vars[i]->name, name)) {
      *index = i;
      return vars[i];
    }
  return NULL;
}

static bool var_out_of_reach(Node *at, int index) {
  if (for_outer_limit >= 0 && index < for_outer_limit) {
    serr(at->loc, "$%s is declared outside this for loop over a map; its body cannot use it yet",
         at->name);
    return true;
  }
  return false;
}

static VarInfo *new_var(const char *name, Type *t) {
  if (nvars == cap_vars) {
    cap_vars = cap_vars ? cap_vars * 2 : 16;
    vars = realloc(vars, sizeof(VarInfo *) * cap_vars);
  }
  VarInfo *v = ealloc(sizeof(VarInfo));
  v->name = estrdup(name);
  v->type = t;
  vars[nvars++] = v;
  return v;
}

static void assign_var(Node *target, Type *t) {
  int index;
  VarInfo *v = find_var_at(target->name, &index);
  if (v && var_out_of_reach(target, index))
    return;
  Type *st = store_type(t);
  if (!v) {
    v = new_var(target->name, st);
  } else if (st && st->kind != TY_NONE) {
    if (!v->type || v->type->kind == TY_NONE) {
      v->type = st;
    } else {
      Type *u = unify(v->type, st);
      if (!u)
        serr(target->loc, "type mismatch for $%s: trying to assign %s to a variable of type %s",
             target->name, ty_name(st), ty_name(v->type));
      else
        v->type = u;
    }
  }
  target->var = v;
  target->type = v->type;
}

/* ------------------------------------------------------------ sites */

static int add_site(RecKind kind, const char *fmt, Type *args, Loc loc) {
  Site *s = ealloc(sizeof(Site));
  s->kind = kind;
  s->fmt = fmt;
  s->args = args;
  s->loc = loc;
  C->sites = egrow(C->sites, C->nsites, sizeof(Site *));
  C->sites[C->nsites] = s;
  return C->nsites++;
}

/* ------------------------------------------------------------ builtins */

/* A field of the tracefs record args points at (tracepoints). */
static TpField *ctx_field(const char *name) {
  const TpFormat *tp = target_record(cur);
  for (int i = 0; tp && i < tp->nfields; i++)
    if (!strcmp(tp->fields[i].name, name))
      return &tp->fields[i];
  return NULL;
}

static Type *field_type(const TpField *f) {
  if (f->data_loc)
    return ty_str(ETRACE_STRLEN);
  if (f->array_len > 0 && strstr(f->ctype, "char"))
    return ty_str(f->array_len);
  if (f->array_len > 0)
    return NULL; /* other arrays: not yet */
  int size = f->size;
  if (size != 1 && size != 2 && size != 4 && size != 8)
    return NULL;
  return ty_int(size, f->is_signed);
}

/* Casts in user probes name user-space pointers. */
static bool is_user_probe(void) { return target_user_site(cur) != NULL; }

static Type *check_builtin(Node *e) {
  const char *n = e->name;
  Type *pt;
  ProvSema ps = {C, O, final_pass};
  if (cur->prov->type_builtin && cur->prov->type_builtin(&ps, cur, e, &pt))
    return pt; /* args, argN, retval, func, ctx as the probe's provider has them */
  if (!strcmp(n, "pid") || !strcmp(n, "tid") || !strcmp(n, "uid") || !strcmp(n, "gid") ||
      !strcmp(n, "cpu") || !strcmp(n, "numaid"))
    return ty_int(4, false);
  if (!strcmp(n, "nsecs") || !strcmp(n, "elapsed") || !strcmp(n, "cgroup") ||
      !strcmp(n, "jiffies"))
    return ty_u64;
  if (!strcmp(n, "curtask")) {
    /* struct task_struct * when the kernel has BTF; else an integer */
    const char *why;
    Type *t = btf_kernel() ? btf_parse_type("struct task_struct *", false, &why) : NULL;
    return t ? t : ty_u64;
  }
  if (!strcmp(n, "ctx")) {
    serr(e->loc, "the ctx builtin can only be used with iter probes in etrace");
    return NULL;
  }
  if (!strcmp(n, "rand"))
    return ty_int(4, false);
  if (!strcmp(n, "ncpus"))
    return ty_u64;
  if (!strcmp(n, "comm"))
    return ty_str(16);
  if (!strcmp(n, "username")) {
    Type *t = ealloc(sizeof(Type));
    t->kind = TY_USERNAME;
    t->size = 8;
    return t;
  }
  if (!strcmp(n, "probe")) {
    Type *t = ealloc(sizeof(Type));
    t->kind = TY_PROBE;
    t->size = 8;
    return t;
  }
  if (!strcmp(n, "cpid")) {
    if (!O->cpid)
      serr(e->loc, "cpid cannot be used without a child command (-c)");
    return ty_int(4, false);
  }
  if (!strcmp(n, "args")) {
    serr(e->loc, "the args builtin can only be used with tracepoint, rawtracepoint, uprobe, "
                 "fentry and fexit probes");
    return NULL;
  }
  if (!strncmp(n, "arg", 3) && isdigit((unsigned char)n[3])) {
    serr(e->loc, "%s is only available in kprobe and uprobe probes; use args.NAME on tracepoints",
         n);
    return NULL;
  }
  if (!strcmp(n, "retval")) {
    serr(e->loc, "the retval builtin is only available in kretprobe and uretprobe probes");
    return NULL;
  }
  if (!strcmp(n, "func")) {
    serr(e->loc, "the func builtin is only available in kprobe, uprobe and usdt probes");
    return NULL;
  }
  if (!strcmp(n, "kstack") || !strcmp(n, "ustack"))
    return sema_sym_builtin(e, cur, final_pass);
  serr(e->loc, "unknown identifier '%s'", n);
  return NULL;
}

/* ------------------------------------------------------------ calls */

static Node *arg_n(Node *e, int i) {
  Node *a = e->args;
  while (a && i--)
    a = a->next;
  return a;
}

static bool want_args(Node *e, int min, int max) {
  if (e->nargs < min || e->nargs > max) {
    if (min == max)
      serr(e->loc, "%s() takes %d argument%s, got %d", e->name, min, min == 1 ? "" : "s",
           e->nargs);
    else
      serr(e->loc, "%s() takes %d to %d arguments, got %d", e->name, min, max, e->nargs);
    return false;
  }
  return true;
}

static bool want_int(Node *a, const char *fn) {
  Type *t = check_expr(a);
  if (t && t->kind != TY_NONE && !is_scalar(t)) {
    serr(a->loc, "%s() expects an integer argument, got %s", fn, ty_name(t));
    return false;
  }
  return true;
}

static bool want_str_lit(Node *a, const char *fn, const char *what) {
  if (a->kind != ND_STR) {
    serr(a->loc, "%s() expects a string literal as its %s", fn, what);
    return false;
  }
  a->type = ty_str(a->slen + 1);
  return true;
}

static bool want_const(Node *a, const char *fn, int64_t *out) {
  if (a->kind == ND_INT) {
    *out = (int64_t)a->ival;
    return true;
  }
  if (a->kind == ND_UNARY && a->op == OP_NEG && a->lhs->kind == ND_INT) {
    *out = -(int64_t)a->lhs->ival;
    return true;
  }
  if (a->kind == ND_POSPARAM && a->ival >= 1 && a->ival <= (uint64_t)O->nposparams) {
    char *end;
    const char *s = O->posparams[a->ival - 1];
    long long v = strtoll(s, &end, 0);
    if (*s && !*end) {
      *out = v;
      return true;
    }
  }
  serr(a->loc, "%s() expects an integer literal here", fn);
  return false;
}

static bool want_map(Node *a, const char *fn) {
  if (a->kind != ND_MAP) {
    serr(a->loc, "%s() expects a map argument", fn);
    return false;
  }
  return true;
}

/* A map named bare (no keys) as an argument: print(@m), clear(@m). */
static MapInfo *map_arg(Node *a, const char *fn) {
  if (!want_map(a, fn))
    return NULL;
  MapInfo *m = find_map(a->name);
  if (!m) {
    serr(a->loc, "undefined map: %s", a->name);
    return NULL;
  }
  if (a->nargs) {
    serr(a->loc, "%s() expects a map without keys (%s, not %s[...])", fn, a->name, a->name);
    return NULL;
  }
  a->map = m;
  return m;
}

/* printf-like: fmt literal then values; builds a Site. */
static int check_format_call(Node *e, RecKind kind, int first) {
  Node *fmt = arg_n(e, first);
  if (!fmt || !want_str_lit(fmt, e->name, "format"))
    return -1;
  int n = 0;
  for (Node *a = fmt->next; a; a = a->next)
    n++;
  Type **types = ealloc(sizeof(Type *) * (n ? n : 1));
  Type **stored = ealloc(sizeof(Type *) * (n ? n : 1));
  int i = 0;
  bool known = true;
  for (Node *a = fmt->next; a; a = a->next, i++) {
    Type *t = check_expr(a);
    if (!t || t->kind == TY_NONE) {
      known = false;
      continue;
    }
    if (t->kind == TY_RECORD && kind == REC_PRINTF) {
      /* printf("%s", *p): the struct is copied into the record, which is
       * built on the 512-byte BPF stack; print(*p) prints bigger ones */
      if (t->size > PRINTF_RECORD_MAX) {
        serr(a->loc, "printf() can print a struct of at most %d bytes (%s is %d bytes); "
             "print() prints bigger ones, or print a member", PRINTF_RECORD_MAX, ty_name(t),
             t->size);
        known = false;
        continue;
      }
      types[i] = t;
      stored[i] = ealloc(sizeof(Type));
      *stored[i] = *t;
      stored[i]->size = (t->size + 7) & ~7;
      continue;
    }
    if (t->kind == TY_VOID || t->kind == TY_CTX || ty_is_agg(t) || is_object(t)) {
      serr(a->loc, "%s() cannot print a value of type %s", e->name, ty_name(t));
      known = false;
      continue;
    }
    types[i] = t;
    /* a record is private to its call site: strings keep their own
     * size (rounded to 8) instead of the map-wide default */
    stored[i] = t->kind == TY_STR ? ty_str((t->size + 7) & ~7) : store_type(t);
  }
  if (!known)
    return -1;
  const char *err = rt_format_check(e->name, fmt->str, types, n);
  if (err) {
    serr(fmt->loc, "%s", err);
    return -1;
  }
  return add_site(kind, fmt->str, ty_tuple(stored, n), e->loc);
}

static Type *agg_call(Node *e, TypeKind kind) {
  int nargs = kind == TY_COUNT ? 0 : kind == TY_LHIST ? 4 : 1;
  if (!want_args(e, nargs, nargs))
    return NULL;
  bool is_signed = true;
  if (nargs) {
    Type *t = check_expr(e->args);
    if (t && t->kind != TY_NONE && t->kind != TY_INT) {
      serr(e->args->loc, "%s() expects an integer, got %s", e->name, ty_name(t));
      return NULL;
    }
    if (t && t->kind == TY_INT)
      is_signed = t->is_signed;
  }
  Type *at = ty_agg(kind, is_signed);
  if (kind == TY_LHIST) {
    int64_t mn, mx, st;
    if (!want_const(arg_n(e, 1), "lhist", &mn) || !want_const(arg_n(e, 2), "lhist", &mx) ||
        !want_const(arg_n(e, 3), "lhist", &st))
      return NULL;
    if (st <= 0) {
      serr(arg_n(e, 3)->loc, "lhist() step must be >= 1 (%lld)", (long long)st);
      return NULL;
    }
    if (mn < 0) {
      serr(arg_n(e, 1)->loc, "lhist() min must be non-negative (%lld)", (long long)mn);
      return NULL;
    }
    if (mx <= mn) {
      serr(arg_n(e, 2)->loc, "lhist() max must be greater than min");
      return NULL;
    }
    if ((mx - mn) / st > 1000) {
      serr(arg_n(e, 3)->loc, "lhist() has too many buckets (max 1000)");
      return NULL;
    }
    at->lh_min = mn;
    at->lh_max = mx;
    at->lh_step = st;
  }
  return at;
}

static const struct {
  const char *name;
  TypeKind kind;
} aggs[] = {
    {"count", TY_COUNT}, {"sum", TY_SUM},     {"min", TY_MIN},   {"max", TY_MAX},
    {"avg", TY_AVG},     {"stats", TY_STATS}, {"hist", TY_HIST}, {"lhist", TY_LHIST},
};

static TypeKind agg_kind(const char *name) {
  for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
    if (!strcmp(aggs[i].name, name))
      return aggs[i].kind;
  return TY_NONE;
}

/* The member path of offsetof(T, a.b.c): names in order, or 0 if the
 * argument is not such a path. */
static int member_path(Node *a, const char **names, int max) {
  if (a->kind == ND_BUILTIN) {
    names[0] = a->name;
    return 1;
  }
  if (a->kind == ND_FIELD && !a->arrow) {
    int n = member_path(a->lhs, names, max - 1);
    if (n <= 0 || n >= max)
      return 0;
    names[n] = a->name;
    return n + 1;
  }
  return 0;
}

/* sizeof(TYPE), sizeof(EXPR), offsetof(TYPE, MEMBER.PATH): constants,
 * folded into the node (it becomes an integer literal). */
static Type *check_sizeof(Node *e) {
  bool is_sizeof = !strcmp(e->name, "sizeof");
  const char *why = NULL;
  Type *t = NULL;
  if (e->cast_type) {
    t = btf_parse_type(e->cast_type, is_user_probe(), &why);
    if (!t) {
      serr(e->loc, "%s", why);
      return NULL;
    }
  }
  uint64_t value;
  if (is_sizeof) {
    if (!t && e->nargs != 1) {
      serr(e->loc, "sizeof() expects a type or an expression");
      return NULL;
    }
    if (!t && e->args->kind == ND_BUILTIN &&
        btf_lookup(e->args->name, BTF_KIND_TYPEDEF) > 0)
      t = btf_parse_type(e->args->name, is_user_probe(), &why); /* sizeof(handle_t) */
    if (!t) {
      t = check_expr(e->args);
      if (!t || t->kind == TY_NONE)
        return final_pass ? NULL : ty_u64;
    }
    value = t->kind == TY_STR || is_object(t) ? (uint64_t)t->size : (uint64_t)ty_mem_size(t);
  } else {
    const char *names[16];
    int n = t && e->nargs == 1 ? member_path(e->args, names, 16) : 0;
    if (!t || t->kind != TY_RECORD || n == 0) {
      serr(e->loc, "offsetof() expects a struct type and a member: offsetof(struct NAME, member)");
      return NULL;
    }
    value = 0;
    Type *rec = t;
    for (int i = 0; i < n; i++) {
      BtfMember m;
      if (!rec || rec->kind != TY_RECORD || !btf_find_member(rec, names[i], false, &m)) {
        serr(e->args->loc, "%s has no member named '%s'", rec ? ty_name(rec) : "this type",
             names[i]);
        return NULL;
      }
      value += m.offset;
      rec = m.type;
    }
  }
  e->kind = ND_INT;
  e->ival = value;
  e->args = NULL;
  e->nargs = 0;
  return ty_u64;
}

static Type *check_call(Node *e) {
  const char *n = e->name;
  if (sema_sym_name(n))
    return sema_sym_call(e, cur, final_pass, check_expr);
  if (!strcmp(n, "sizeof") || !strcmp(n, "offsetof"))
    return check_sizeof(e);
  if (agg_kind(n) != TY_NONE) {
    serr(e->loc, "%s() can only be assigned to a map: @x = %s(...)", n, n);
    return NULL;
  }
  if (!strcmp(n, "printf")) {
    if (!want_args(e, 1, 64))
      return NULL;
    e->site = check_format_call(e, REC_PRINTF, 0);
    return ty_void;
  }
  if (!strcmp(n, "system") || !strcmp(n, "cat")) {
    if (!want_args(e, 1, 64))
      return NULL;
    if (!strcmp(n, "system") && !O->unsafe) {
      serr(e->loc, "system() is unsafe and needs --unsafe");
      return NULL;
    }
    e->site = check_format_call(e, !strcmp(n, "cat") ? REC_CAT : REC_SYSTEM, 0);
    return ty_void;
  }
  if (!strcmp(n, "time")) {
    if (!want_args(e, 0, 1))
      return NULL;
    const char *fmt = "%H:%M:%S\n";
    if (e->nargs) {
      if (!want_str_lit(e->args, n, "format"))
        return NULL;
      fmt = e->args->str;
    }
    e->site = add_site(REC_TIME, fmt, ty_tuple(NULL, 0), e->loc);
    return ty_void;
  }
  if (!strcmp(n, "exit")) {
    if (!want_args(e, 0, 1))
      return NULL;
    if (e->nargs)
      want_int(e->args, n);
    return ty_void;
  }
  if (!strcmp(n, "print")) {
    if (!want_args(e, 1, 3))
      return NULL;
    Node *a = e->args;
    if (a->kind == ND_MAP && a->nargs == 0 && find_map(a->name)) {
      MapInfo *m = map_arg(a, n);
      if (!m)
        return NULL;
      for (Node *x = a->next; x; x = x->next)
        want_int(x, n);
      e->site = -1; /* a map print, not a value print */
      return ty_void;
    }
    if (e->nargs > 1) {
      serr(e->loc, "print() with top and div arguments expects a map");
      return NULL;
    }
    Type *t = check_expr(a);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (t->kind == TY_RECORD) { /* print(*p): a copy of the object */
      e->site = add_site(REC_OBJECT, "print", t, e->loc);
      return ty_void;
    }
    if (t->kind == TY_VOID || t->kind == TY_CTX || ty_is_agg(t) || is_object(t)) {
      serr(a->loc, "print() cannot print a value of type %s", ty_name(t));
      return NULL;
    }
    Type *one = store_type(t);
    e->site = add_site(REC_PRINT_VALUE, NULL, ty_tuple(&one, 1), e->loc);
    return ty_void;
  }
  if (!strcmp(n, "dump")) { /* dump(ptr or *ptr [, "compact"]) */
    if (!want_args(e, 1, 2))
      return NULL;
    Type *t = check_expr(e->args);
    if (!t || t->kind == TY_NONE)
      return NULL;
    Type *obj = t->kind == TY_RECORD ? t : t->is_ptr && t->pointee &&
                t->pointee->kind == TY_RECORD ? t->pointee : NULL;
    if (!obj) {
      serr(e->args->loc, "dump() expects a struct or a pointer to a struct, got %s", ty_name(t));
      return NULL;
    }
    Node *mode = e->args->next;
    if (mode && (mode->kind != ND_STR || (strcmp(mode->str, "compact") &&
                                          strcmp(mode->str, "kernel")))) {
      serr(mode->loc, "dump()'s second argument must be \"compact\" or \"kernel\"");
      return NULL;
    }
    if (mode && !strcmp(mode->str, "kernel") && !(cur->caps & TC_BTF_HELPERS)) {
      /* bpf_snprintf_btf() is a helper of BTF-typed (tracing) programs */
      serr(mode->loc, "dump(..., \"kernel\") renders in the kernel with bpf_snprintf_btf(), "
                      "which only rawtracepoint (tp_btf) probes may call");
      return NULL;
    }
    if (mode && !strcmp(mode->str, "kernel") && !btf_is_kernel_type(obj->btf_id)) {
      serr(e->args->loc, "dump(..., \"kernel\") can only render kernel types, and %s is the "
                         "program's own", ty_name(obj));
      return NULL;
    }
    if (mode && !strcmp(mode->str, "kernel") && !t->is_ptr) {
      serr(e->args->loc, "dump(..., \"kernel\") expects a pointer to a struct");
      return NULL;
    }
    e->site = add_site(REC_OBJECT, mode ? mode->str : "dump", obj, e->loc);
    return ty_void;
  }
  if (!strcmp(n, "clear") || !strcmp(n, "zero")) {
    if (!want_args(e, 1, 1))
      return NULL;
    map_arg(e->args, n);
    return ty_void;
  }
  if (!strcmp(n, "delete")) {
    if (!want_args(e, 1, 2))
      return NULL;
    Node *a = e->args;
    if (!want_map(a, n))
      return NULL;
    MapInfo *m = find_map(a->name);
    if (!m) {
      serr(a->loc, "undefined map: %s", a->name);
      return NULL;
    }
    a->map = m;
    if (e->nargs == 2) {
      /* delete(@m, key): rewrite as the old form delete(@m[key]). */
      if (a->nargs) {
        serr(a->loc, "delete(@m, key) expects the map without keys");
        return NULL;
      }
      Node *key = a->next;
      if (key->kind == ND_TUPLE && m->nkeys > 1) {
        a->args = key->args;
        a->nargs = key->nargs;
      } else {
        a->args = key;
        a->nargs = 1;
      }
      key->next = NULL;
      a->next = NULL;
      e->nargs = 1;
    }
    check_map_keys(a, m);
    return ty_void;
  }
  if (!strcmp(n, "has_key")) {
    if (!want_args(e, 2, 2))
      return NULL;
    Node *a = e->args;
    MapInfo *m = map_arg(a, n);
    if (!m)
      return NULL;
    Node *key = a->next;
    Node probe = *a;   /* check the key as if written @m[key] */
    probe.next = NULL;
    if (key->kind == ND_TUPLE && m->nkeys > 1) {
      probe.args = key->args;
      probe.nargs = key->nargs;
    } else {
      probe.args = key;
      probe.nargs = 1;
    }
    Node *saved_next = key->next;
    check_map_keys(&probe, m);
    key->next = saved_next;
    return ty_u64;
  }
  if (!strcmp(n, "str")) {
    if (!want_args(e, 1, 2))
      return NULL;
    Type *t = check_expr(e->args);
    if (t && t->kind == TY_STR)
      return t;
    if (t && t->kind != TY_NONE && t->kind != TY_INT) {
      serr(e->args->loc, "str() expects a pointer or integer, got %s", ty_name(t));
      return NULL;
    }
    int size = ETRACE_STRLEN;
    if (e->nargs == 2) {
      int64_t len;
      if (e->args->next->kind == ND_INT || e->args->next->kind == ND_POSPARAM) {
        if (!want_const(e->args->next, n, &len))
          return NULL;
        if (len < 1 || len > 256) {
          serr(e->args->next->loc, "str() length must be between 1 and 256");
          return NULL;
        }
        size = len; /* current bpftrace: n bytes including the NUL */
      } else if (!want_int(e->args->next, n)) {
        return NULL;
      }
    }
    return ty_str(size);
  }
  if (!strcmp(n, "strerror")) {
    if (!want_args(e, 1, 1) || !want_int(e->args, n))
      return NULL;
    return new_kind(TY_STRERROR, 8);
  }
  if (!strcmp(n, "ntop")) {
    /* ntop(addr) or ntop(AF_INET, addr): an IPv4 address held in an
     * integer, in network byte order as it sits in memory */
    if (!want_args(e, 1, 2))
      return NULL;
    for (Node *a = e->args; a; a = a->next)
      if (!want_int(a, n))
        return NULL;
    return new_kind(TY_INET, 24);
  }
  if (!strcmp(n, "buf")) {
    /* buf(ptr, n): n raw bytes (n a constant; default the string size) */
    if (!want_args(e, 1, 2) || !want_int(e->args, n))
      return NULL;
    int64_t len = ETRACE_STRLEN;
    if (e->nargs == 2 && !want_const(e->args->next, n, &len))
      return NULL;
    if (len < 1 || len > 256) {
      serr(e->args->next->loc, "buf() length must be between 1 and 256");
      return NULL;
    }
    Type *t = ealloc(sizeof(Type));
    t->kind = TY_BUF;
    t->size = 8 + ((len + 7) & ~7);
    t->lh_max = len; /* bytes to read */
    return t;
  }
  if (!strcmp(n, "strncmp")) {
    if (!want_args(e, 3, 3))
      return NULL;
    Type *a = check_expr(e->args), *b = check_expr(e->args->next);
    int64_t len;
    if (!want_const(arg_n(e, 2), n, &len))
      return NULL;
    if ((a && a->kind != TY_STR && a->kind != TY_NONE) || (b && b->kind != TY_STR && b->kind != TY_NONE)) {
      serr(e->loc, "strncmp() expects two strings");
      return NULL;
    }
    return ty_u64;
  }
  if (!strcmp(n, "strcontains")) {
    if (!want_args(e, 2, 2))
      return NULL;
    Type *a = check_expr(e->args), *b = check_expr(e->args->next);
    if ((a && a->kind != TY_STR && a->kind != TY_NONE) || (b && b->kind != TY_STR && b->kind != TY_NONE)) {
      serr(e->loc, "strcontains() expects two strings");
      return NULL;
    }
    return ty_u64;
  }
  if (!strcmp(n, "strftime")) {
    if (!want_args(e, 2, 2))
      return NULL;
    if (!want_str_lit(e->args, n, "format") || !want_int(e->args->next, n))
      return NULL;
    Type *t = ealloc(sizeof(Type));
    t->kind = TY_TIMESTAMP;
    t->size = 8;
    t->fmt = e->args->str;
    return t;
  }
  if (!strcmp(n, "signal")) {
    if (!want_args(e, 1, 1))
      return NULL;
    if (!O->unsafe) {
      serr(e->loc, "signal() is unsafe and needs --unsafe");
      return NULL;
    }
    if (e->args->kind == ND_STR) {
      static const char *names[] = {"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP",
                                    "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
                                    "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM"};
      for (int i = 1; i < 16; i++)
        if (!strcmp(e->args->str, names[i]) || !strcmp(e->args->str, names[i] + 3)) {
          e->args->kind = ND_INT;
          e->args->ival = i;
        }
      if (e->args->kind == ND_STR) {
        serr(e->args->loc, "unknown signal name '%s'", e->args->str);
        return NULL;
      }
    }
    want_int(e->args, n);
    return ty_void;
  }
  if (!strcmp(n, "join")) {
    /* join(argv[, sep]): argv is a user char ** (execve's argv) */
    if (!want_args(e, 1, 2) || !want_int(e->args, n))
      return NULL;
    const char *sep = " ";
    if (e->nargs == 2) {
      if (!want_str_lit(e->args->next, n, "separator"))
        return NULL;
      sep = e->args->next->str;
    }
    Type *strs[JOIN_MAX_ARGS];
    for (int i = 0; i < JOIN_MAX_ARGS; i++)
      strs[i] = ty_str(ETRACE_STRLEN);
    e->site = add_site(REC_JOIN, sep, ty_tuple(strs, JOIN_MAX_ARGS), e->loc);
    return ty_void;
  }
  if (!strcmp(n, "len")) {
    if (!want_args(e, 1, 1))
      return NULL;
    return map_arg(e->args, n) ? ty_s64 : NULL;
  }
  serr(e->loc, "unknown function '%s'", n);
  for (Node *a = e->args; a; a = a->next)
    check_expr(a);
  return NULL;
}

/* ------------------------------------------------------------ expressions */

static Type *check_posparam(Node *e) {
  if (e->ival == 0 || e->ival > (uint64_t)O->nposparams)
    return ty_s64; /* bpftrace: a missing parameter is 0 (or "" in str()) */
  const char *s = O->posparams[e->ival - 1];
  char *end;
  strtoll(s, &end, 0);
  if (*s && !*end)
    return ty_s64;
  return ty_str(strlen(s) + 1);
}

static bool unknown(const Type *t) { return !t || t->kind == TY_NONE; }

static Type *check_binary(Node *e) {
  Type *l = check_expr(e->lhs), *r = check_expr(e->rhs);
  /* `@m[k] = @m[k] + x` reads @m before any walk has typed it: the
   * quiet walks take an untyped operand of arithmetic as an integer so
   * that the map gets its type (the reporting walk then knows it). */
  if (!final_pass && unknown(l) != unknown(r) && is_scalar(unknown(l) ? r : l) &&
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
      serr(e->loc, "operator %s expects integer operands (%s, %s)", op_str(e->op), ty_name(l),
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
      serr(e->loc, "operator %s cannot compare a probe name", op_str(e->op));
      return NULL;
    }
    return ty_u64;
  }
  if (l->kind == TY_STR || r->kind == TY_STR) {
    if (e->op != OP_EQ && e->op != OP_NE) {
      serr(e->loc, "operator %s cannot be used on strings (%s, %s)", op_str(e->op), ty_name(l),
           ty_name(r));
      return NULL;
    }
    if (l->kind != r->kind) {
      serr(e->loc, "type mismatch for '%s': comparing %s with %s", op_str(e->op), ty_name(l),
           ty_name(r));
      return NULL;
    }
    if (e->op != OP_EQ && e->op != OP_NE) {
      serr(e->loc, "operator %s cannot be used on strings", op_str(e->op));
      return NULL;
    }
    return ty_u64;
  }
  if (!is_scalar(l) || !is_scalar(r)) {
    serr(e->loc, "operator %s expects integer operands (%s, %s)", op_str(e->op), ty_name(l),
         ty_name(r));
    return NULL;
  }
  bool sgn = l->is_signed && r->is_signed;
  if ((e->op == OP_ADD || e->op == OP_SUB) && l->is_ptr && !r->is_ptr) {
    /* pointer arithmetic counts elements, as in C */
    e->ival = l->pointee && !is_object(l->pointee) && l->pointee->kind != TY_STR
                  ? ty_mem_size(l->pointee) : l->pointee ? l->pointee->size : 1;
    return l;
  }
  switch (e->op) {
  case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
    return ty_u64;
  default:
    return ty_int(8, sgn);
  }
}

static Type *check_cast(Node *e) {
  Type *t = check_expr(e->lhs);
  static const struct { const char *name; int size; bool sgn; } ints[] = {
      {"int8", 1, 1},  {"int16", 2, 1},  {"int32", 4, 1},  {"int64", 8, 1},
      {"uint8", 1, 0}, {"uint16", 2, 0}, {"uint32", 4, 0}, {"uint64", 8, 0},
      {"s8", 1, 1},    {"s16", 2, 1},    {"s32", 4, 1},    {"s64", 8, 1},
      {"u8", 1, 0},    {"u16", 2, 0},    {"u32", 4, 0},    {"u64", 8, 0},
  };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (!strcmp(e->cast_type, ints[i].name)) {
      if (t && t->kind != TY_NONE && !is_scalar(t)) {
        serr(e->loc, "cannot cast %s to %s", ty_name(t), e->cast_type);
        return NULL;
      }
      return ty_int(ints[i].size, ints[i].sgn);
    }
  const char *why = NULL;
  Type *to = btf_parse_type(e->cast_type, is_user_probe(), &why);
  if (!to) {
    serr(e->loc, "%s", why);
    return NULL;
  }
  if (to->kind == TY_RECORD || to->kind == TY_ARRAY || to->kind == TY_STR) {
    serr(e->loc, "cannot cast to %s; cast to a pointer (%s *) instead", ty_name(to),
         ty_name(to));
    return NULL;
  }
  if (t && t->kind != TY_NONE && !is_scalar(t)) {
    serr(e->loc, "cannot cast %s to %s", ty_name(t), e->cast_type);
    return NULL;
  }
  return to;
}

/* ------------------------------------------------------------ kernel types
 *
 * A value of struct/union (TY_RECORD) or array (TY_ARRAY) type lives in
 * kernel (or user) memory: sema lets it be the operand of `.`, `[]`, `&`-free
 * member chains and print(); cg keeps its address and reads the scalar at
 * the end of the chain with one probe read. */

/* base.NAME (record) or base->NAME (pointer to record). */
static Type *check_member(Node *e, Type *t) {
  Type *rec = t;
  if (e->arrow) {
    if (!t->is_ptr || !t->pointee || t->pointee->kind != TY_RECORD) {
      serr(e->loc, "cannot use '->' on a value of type %s: it is not a pointer to a struct",
           ty_name(t));
      return NULL;
    }
    rec = t->pointee;
  } else if (t->kind != TY_RECORD) {
    if (t->is_ptr && t->pointee && t->pointee->kind == TY_RECORD)
      serr(e->loc, "cannot access field '%s' of %s with '.'; use '->'", e->name, ty_name(t));
    else
      serr(e->loc, "cannot access field '%s' of a value of type %s", e->name, ty_name(t));
    return NULL;
  }
  BtfMember m;
  if (!btf_find_member(rec, e->name, t->user, &m)) {
    serr(e->loc, "%s has no member named '%s'", ty_name(rec), e->name);
    return NULL;
  }
  if (!m.type) {
    serr(e->loc, "member '%s' of %s has a type etrace cannot read", e->name, ty_name(rec));
    return NULL;
  }
  if (m.bit_size && (m.type->kind != TY_INT || m.bit_shift + m.bit_size > 64)) {
    serr(e->loc, "bitfield '%s' of %s cannot be read", e->name, ty_name(rec));
    return NULL;
  }
  e->field_off = m.offset;
  e->bit_shift = m.bit_shift;
  e->bit_size = m.bit_size;
  return m.type;
}

/* *p: the pointee (a record stays in memory; an integer is read). */
static Type *check_deref(Node *e, Type *t) {
  if (!t->is_ptr) {
    serr(e->loc, "cannot dereference a value of type %s: it is not a pointer", ty_name(t));
    return NULL;
  }
  if (!t->pointee) {
    serr(e->loc, "cannot dereference a void pointer; cast it to a typed pointer first");
    return NULL;
  }
  if (t->pointee->kind == TY_STR) {
    serr(e->loc, "cannot dereference %s; use str() to read it", ty_name(t));
    return NULL;
  }
  return t->pointee;
}

/* p[i] on a pointer, a[i] on an array member. */
static Type *check_object_index(Node *e, Type *t) {
  Type *it = check_expr(e->rhs);
  if (it && it->kind != TY_NONE && !is_scalar(it)) {
    serr(e->rhs->loc, "array index must be an integer, got %s", ty_name(it));
    return NULL;
  }
  Type *elem = t->kind == TY_ARRAY ? t->elem : t->pointee;
  if (t->kind == TY_ARRAY && e->rhs->kind == ND_INT && e->rhs->ival >= (uint64_t)t->nelems &&
      t->nelems > 0) {
    serr(e->rhs->loc, "index %llu is out of bounds for %s", (unsigned long long)e->rhs->ival,
         ty_name(t));
    return NULL;
  }
  if (!elem || elem->kind == TY_STR) {
    serr(e->loc, "cannot index a value of type %s", ty_name(t));
    return NULL;
  }
  return elem;
}

static Type *check_field(Node *e) {
  Type *t = check_expr(e->lhs);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind != TY_CTX)
    return check_member(e, t);
  if (cur->prov->type_field) {
    ProvSema ps = {C, O, final_pass};
    return cur->prov->type_field(&ps, cur, e);
  }
  TpField *f = ctx_field(e->name);
  if (!f) {
    const TpFormat *rec = target_record(cur);
    serr(e->loc, "tracepoint %s:%s has no argument named '%s'", rec ? rec->sys : "?",
         rec ? rec->event : "?", e->name);
    return NULL;
  }
  Type *ft = field_type(f);
  if (!ft) {
    serr(e->loc, "argument '%s' has type '%s', which is not supported yet", e->name, f->ctype);
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
static Type *check_index(Node *e) {
  Node *f = e->lhs;
  if (!(f->kind == ND_FIELD && f->lhs->kind == ND_BUILTIN && !strcmp(f->lhs->name, "args") &&
        target_record(cur))) {
    Type *t = check_expr(f);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (t->kind == TY_ARRAY || t->is_ptr)
      return check_object_index(e, t);
  }
  Type *it = check_expr(e->rhs);
  if (f->kind != ND_FIELD || f->lhs->kind != ND_BUILTIN || strcmp(f->lhs->name, "args")) {
    check_expr(f);
    serr(e->loc, "only tracepoint array arguments (args.NAME[i]) can be indexed");
    return NULL;
  }
  if (!check_expr(f->lhs))
    return NULL;
  TpField *tf = ctx_field(f->name);
  const TpFormat *rec = target_record(cur);
  if (!tf && !rec) {
    serr(e->loc, "only tracepoint array arguments (args.NAME[i]) can be indexed");
    return NULL;
  }
  if (!tf) {
    serr(f->loc, "tracepoint %s:%s has no argument named '%s'", rec->sys, rec->event, f->name);
    return NULL;
  }
  f->type = ty_void;
  if (tf->array_len <= 0 || tf->data_loc || strstr(tf->ctype, "char")) {
    serr(e->loc, "argument '%s' (%s) is not an array of integers", f->name, tf->ctype);
    return NULL;
  }
  int elem = tf->size / tf->array_len;
  if (elem != 1 && elem != 2 && elem != 4 && elem != 8) {
    serr(e->loc, "argument '%s' has elements of %d bytes, which cannot be read yet", f->name, elem);
    return NULL;
  }
  if (it && it->kind != TY_NONE && !is_scalar(it)) {
    serr(e->rhs->loc, "array index must be an integer, got %s", ty_name(it));
    return NULL;
  }
  if (e->rhs->kind == ND_INT && e->rhs->ival >= (uint64_t)tf->array_len) {
    serr(e->rhs->loc, "index %llu is out of bounds for %s[%d]", (unsigned long long)e->rhs->ival,
         f->name, tf->array_len);
    return NULL;
  }
  return ty_int(elem, tf->is_signed);
}

static Type *check_expr_inner(Node *e) {
  switch (e->kind) {
  case ND_INT: /* int64, or uint64 when it does not fit */
    return e->ival > INT64_MAX ? ty_u64 : ty_s64;
  case ND_STR:
    return ty_str(e->slen + 1);
  case ND_BUILTIN:
    return check_builtin(e);
  case ND_VAR: {
    int index;
    VarInfo *v = find_var_at(e->name, &index);
    if (!v) {
      serr(e->loc, "undefined variable: $%s", e->name);
      return NULL;
    }
    if (var_out_of_reach(e, index))
      return NULL;
    if (!v->type || v->type->kind == TY_NONE) {
      serr(e->loc, "$%s is used before it is assigned a value", e->name);
      return NULL;
    }
    e->var = v;
    return v->type;
  }
  case ND_POSPARAM:
    return check_posparam(e);
  case ND_POSCOUNT:
    return ty_s64;
  case ND_MAP: {
    MapInfo *m = find_map(e->name);
    if (!m) {
      if (final_pass)
        serr(e->loc, "undefined map: %s", e->name);
      return NULL;
    }
    e->map = m;
    check_map_keys(e, m);
    if (m->val && ty_is_agg(m->val)) {
      /* count/sum/min/max/avg read as one integer merged over the CPUs */
      TypeKind k = m->val->kind;
      if (k == TY_STATS || k == TY_HIST || k == TY_LHIST) {
        serr(e->loc, "map %s holds %s() values, which cannot be read as a number", m->name,
             ty_name(m->val));
        return NULL;
      }
      return k == TY_COUNT ? ty_u64 : ty_int(8, m->val->is_signed);
    }
    return m->val;
  }
  case ND_CALL:
    return check_call(e);
  case ND_BINARY:
    return check_binary(e);
  case ND_UNARY: {
    Type *t = check_expr(e->lhs);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (e->op == OP_DEREF)
      return check_deref(e, t);
    if (!is_scalar(t)) {
      serr(e->loc, "operator %s expects an integer operand, got %s", op_str(e->op), ty_name(t));
      return NULL;
    }
    if (e->op == OP_LNOT)
      return ty_u64;
    return e->op == OP_NEG ? ty_s64 : ty_int(8, t->is_signed);
  }
  case ND_TERNARY: {
    Type *c = check_expr(e->cond);
    if (c && c->kind != TY_NONE && !is_scalar(c))
      serr(e->cond->loc, "condition must be an integer, got %s", ty_name(c));
    Type *a = check_expr(e->then), *b = check_expr(e->els);
    if (!a || !b || a->kind == TY_NONE || b->kind == TY_NONE)
      return NULL;
    if (a->kind == TY_VOID && b->kind == TY_VOID)
      return ty_void;
    Type *u = unify(store_type(a), store_type(b));
    if (!u || !(is_scalar(u) || u->kind == TY_STR || u->kind == TY_TUPLE)) {
      serr(e->loc, "ternary branches have different types: %s and %s", ty_name(a), ty_name(b));
      return NULL;
    }
    return is_scalar(a) ? a : u;
  }
  case ND_CAST:
    return check_cast(e);
  case ND_FIELD:
    return check_field(e);
  case ND_INDEX:
    return check_index(e);
  case ND_TUPLE: {
    Type **f = ealloc(sizeof(Type *) * e->nargs);
    int i = 0;
    bool ok = true;
    for (Node *a = e->args; a; a = a->next, i++) {
      f[i] = check_expr(a);
      if (!f[i] || f[i]->kind == TY_NONE)
        ok = false;
      else if (f[i]->kind == TY_VOID || f[i]->kind == TY_CTX || ty_is_agg(f[i]) || is_object(f[i])) {
        serr(a->loc, "a tuple cannot hold a value of type %s", ty_name(f[i]));
        ok = false;
      } else
        f[i] = store_type(f[i]);
    }
    return ok ? ty_tuple(f, e->nargs) : NULL;
  }
  case ND_TUPLE_IDX: {
    Type *t = check_expr(e->lhs);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (t->kind != TY_TUPLE) {
      serr(e->loc, ".%llu can only be used on tuples, not %s", (unsigned long long)e->ival,
           ty_name(t));
      return NULL;
    }
    if (e->ival >= (uint64_t)t->nfields) {
      serr(e->loc, "tuple index %llu out of range (the tuple has %d elements)",
           (unsigned long long)e->ival, t->nfields);
      return NULL;
    }
    return t->fields[e->ival];
  }
  case ND_ASSIGN:
  case ND_INCDEC:
    serr(e->loc, "assignment can only be used as a statement");
    return NULL;
  default:
    serr(e->loc, "statement used as an expression");
    return NULL;
  }
}

static Type *check_expr(Node *e) {
  Type *t = check_expr_inner(e);
  e->type = t ? t : ealloc(sizeof(Type)); /* TY_NONE */
  return t;
}

/* ------------------------------------------------------------ statements */

static void check_block(Node *b);

static void check_assign(Node *s) {
  Node *lhs = s->lhs, *rhs = s->rhs;
  if (lhs->kind != ND_VAR && lhs->kind != ND_MAP) {
    serr(lhs->loc, "can only assign to a $variable or a @map");
    return;
  }
  /* @m = count(), hist(x), ...: aggregation maps */
  if (rhs && rhs->kind == ND_CALL && agg_kind(rhs->name) != TY_NONE && s->kind == ND_ASSIGN &&
      s->op == OP_NONE) {
    if (lhs->kind != ND_MAP) {
      serr(rhs->loc, "%s() can only be assigned to a map", rhs->name);
      return;
    }
    Type *at = agg_call(rhs, agg_kind(rhs->name));
    MapInfo *m = find_map(lhs->name);
    if (!m)
      m = add_map(lhs->name, lhs->loc);
    lhs->map = m;
    check_map_keys(lhs, m);
    rhs->type = at;
    if (!at)
      return;
    if (m->val && m->val->kind != TY_NONE && (m->val->kind != at->kind || !ty_same(m->val, at))) {
      serr(s->loc, "map %s is %s here but %s elsewhere", m->name, ty_name(at), ty_name(m->val));
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
    Type *cur_t = check_expr(lhs);
    if (rhs)
      vt = check_expr(rhs);
    else
      vt = ty_s64;
    if (cur_t && cur_t->kind != TY_NONE && !is_scalar(cur_t)) {
      serr(s->loc, "%s needs an integer target, got %s",
           s->kind == ND_INCDEC ? (s->op == OP_ADD ? "++" : "--") : "compound assignment",
           ty_name(cur_t));
      return;
    }
    if (vt && vt->kind != TY_NONE && !is_scalar(vt)) {
      serr(rhs->loc, "compound assignment needs an integer value, got %s", ty_name(vt));
      return;
    }
    if (!cur_t && lhs->kind == ND_MAP && find_map(lhs->name) == NULL) {
      /* @x++ on a fresh map creates it as an integer map */
      cur_t = NULL;
    }
    vt = cur_t && cur_t->kind != TY_NONE ? cur_t : ty_s64;
  } else {
    vt = check_expr(rhs);
  }
  if (lhs->kind == ND_VAR) {
    if (vt && (vt->kind == TY_VOID || vt->kind == TY_CTX || is_object(vt))) {
      serr(rhs->loc, "cannot assign a value of type %s to $%s", ty_name(vt), lhs->name);
      return;
    }
    assign_var(lhs, vt);
    return;
  }
  MapInfo *m = find_map(lhs->name);
  if (!m)
    m = add_map(lhs->name, lhs->loc);
  lhs->map = m;
  check_map_keys(lhs, m);
  set_map_value(s, m, vt);
  lhs->type = m->val;
}

static void check_stmt(Node *s) {
  switch (s->kind) {
  case ND_EXPR_STMT: {
    Node *e = s->lhs;
    if (e->kind == ND_ASSIGN || e->kind == ND_INCDEC) {
      check_assign(e);
      return;
    }
    check_expr(e); /* bpftrace allows value statements; they do nothing */
    return;
  }
  case ND_BLOCK:
    check_block(s);
    return;
  case ND_IF: {
    Type *c = check_expr(s->cond);
    if (c && c->kind != TY_NONE && !is_scalar(c))
      serr(s->cond->loc, "if condition must be an integer, got %s", ty_name(c));
    check_stmt(s->then);
    if (s->els)
      check_stmt(s->els);
    return;
  }
  case ND_WHILE: {
    Type *c = check_expr(s->cond);
    if (c && c->kind != TY_NONE && !is_scalar(c))
      serr(s->cond->loc, "while condition must be an integer, got %s", ty_name(c));
    loop_depth++;
    check_stmt(s->then);
    loop_depth--;
    return;
  }
  case ND_UNROLL: {
    int64_t n;
    if (want_const(s->lhs, "unroll", &n) && (n < 1 || n > 100))
      serr(s->lhs->loc, "unroll count must be between 1 and 100, got %lld", (long long)n);
    s->ival = n;
    check_stmt(s->then);
    return;
  }
  case ND_FOR_RANGE: {
    Type *a = check_expr(s->lhs), *b = check_expr(s->rhs);
    if ((a && a->kind != TY_NONE && !is_scalar(a)) || (b && b->kind != TY_NONE && !is_scalar(b)))
      serr(s->loc, "for range bounds must be integers");
    Node var = {.kind = ND_VAR, .name = s->name, .loc = s->loc};
    assign_var(&var, ty_s64);
    s->var = var.var;
    loop_depth++;
    check_stmt(s->then);
    loop_depth--;
    return;
  }
  case ND_FOR_MAP: {
    /* for ($kv : @m): $kv is the tuple (key, value).  The body runs in a
     * callback with its own stack frame, so it cannot see the probe's
     * other scratch variables. */
    MapInfo *m = s->lhs->kind == ND_MAP ? find_map(s->lhs->name) : NULL;
    if (!m) {
      serr(s->lhs->loc, "for loops iterate over a map: for ($kv : @map)");
      return;
    }
    if (s->lhs->nargs) {
      serr(s->lhs->loc, "for loops take the map without keys (%s)", m->name);
      return;
    }
    s->lhs->map = m;
    if (!m->val || m->val->kind == TY_NONE || (m->nkeys > 0 && (!m->key || m->key->kind == TY_NONE)))
      return; /* types not known yet (quiet walk) */
    if (ty_is_agg(m->val)) {
      serr(s->lhs->loc, "for loops over %s() maps are not supported yet", ty_name(m->val));
      return;
    }
    Type *kv[2] = {m->nkeys > 0 ? m->key : ty_u64, m->val};
    int outer = nvars, saved_limit = for_outer_limit;
    Node var = {.kind = ND_VAR, .name = s->name, .loc = s->loc};
    assign_var(&var, ty_tuple(kv, 2));
    s->var = var.var;
    for_outer_limit = outer;
    loop_depth++;
    check_stmt(s->then);
    loop_depth--;
    for_outer_limit = saved_limit;
    return;
  }
  case ND_BREAK:
  case ND_CONTINUE:
    if (!loop_depth)
      serr(s->loc, "%s outside of a loop", s->kind == ND_BREAK ? "break" : "continue");
    return;
  case ND_RETURN:
    return;
  case ND_LET: {
    Node var = {.kind = ND_VAR, .name = s->name, .loc = s->loc};
    Type *t = s->rhs ? check_expr(s->rhs) : NULL;
    if (s->cast_type) {
      Node cast = {.kind = ND_CAST, .cast_type = s->cast_type, .loc = s->loc,
                   .lhs = &(Node){.kind = ND_INT}};
      Type *ct = check_cast(&cast);
      if (ct && t && !is_scalar(t))
        serr(s->loc, "cannot initialise $%s of type %s with %s", s->name, s->cast_type,
             ty_name(t));
      t = ct;
    }
    assign_var(&var, t ? t : ealloc(sizeof(Type)));
    s->var = var.var;
    return;
  }
  default:
    serr(s->loc, "expression used as a statement");
  }
}

static void check_block(Node *b) {
  for (Node *s = b->body; s; s = s->next)
    check_stmt(s);
}

static void check_target(Target *t) {
  cur = t;
  nvars = 0;
  loop_depth = 0;
  for_outer_limit = -1;
  Probe *p = t->probe;
  if (p->pred) {
    Type *pt = check_expr(p->pred);
    if (pt && pt->kind != TY_NONE && !is_scalar(pt))
      serr(p->pred->loc, "predicate must be an integer expression, got %s", ty_name(pt));
  }
  check_block(p->body);
}

/* ------------------------------------------------------------ attach points */

/* Replace $1..$N in attach-point text (interval:s:$1, uprobe:$1:main).
 * NULL after an error: a missing parameter. */
static const char *subst_params(AttachPoint *ap) {
  const char *t = ap->text;
  if (!strchr(t, '$'))
    return t;
  Buf b = {0};
  for (const char *p = t; *p;) {
    if (*p == '$' && isdigit((unsigned char)p[1])) {
      char *end;
      long n = strtol(p + 1, &end, 10);
      if (n < 1 || n > O->nposparams) {
        diag_error(ap->loc, "positional parameter $%ld is used in probe '%s' but not given", n, t);
        buf_free(&b);
        return NULL;
      }
      buf_put(&b, O->posparams[n - 1], strlen(O->posparams[n - 1]));
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
static void expand_attach_point(Probe *p, AttachPoint *ap) {
  const char *s = subst_params(ap);
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
  ProvExpand x = {.c = C, .opt = O, .probe = p, .text = s, .prefix = estrndup(s, len),
                  .rest = colon ? colon + 1 : NULL, .loc = ap->loc};
  prov->expand(&x);
}

/* ------------------------------------------------------------ entry */

static void walk_all(void) {
  for (int i = 0; i < C->ntargets; i++)
    check_target(C->targets[i]);
}

Compiled *sema_program(Program *prog, const Options *opt) {
  C = ealloc(sizeof(Compiled));
  O = opt;
  C->prog = prog;
  C->posparams = opt->posparams;
  C->nposparams = opt->nposparams;
  C->cpid = opt->cpid;
  C->filter_pid = opt->pid;
  C->ncpus = sysconf(_SC_NPROCESSORS_ONLN);
  C->possible_cpus = libbpf_num_possible_cpus();
  if (C->possible_cpus < 1)
    C->possible_cpus = C->ncpus;
  int errs = diag_errors;
  /* Several BEGIN and END probes are allowed (bpftrace 0.25); they run
   * in program order. */
  for (Probe *p = prog->probes; p; p = p->next)
    for (AttachPoint *ap = p->aps; ap; ap = ap->next)
      expand_attach_point(p, ap);
  if (diag_errors > errs)
    return NULL;
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->check_program && providers[i]->check_program(C) < 0)
      return NULL;

  /* Quiet walks learn map types; then one walk reports. */
  final_pass = false;
  walk_all();
  walk_all();
  C->nsites = 0; /* sites are recorded again by the reporting walk */
  final_pass = true;
  walk_all();

  bool earlier_errors = diag_errors > errs;
  for (int i = 0; i < C->nmaps; i++) {
    MapInfo *m = C->maps[i];
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
    m->val_size = m->val->size;
  }
  free(vars);
  vars = NULL;
  nvars = cap_vars = 0;
  if (diag_errors > errs)
    return NULL;
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->finish)
      providers[i]->finish(C);
  return C;
}
