/* integers.c - compile-time sizes and integer helpers: sizeof(),
 * offsetof(), bswap(), and the address-space annotations uptr()/kptr(). */
#include "builtins/builtin.h"

#include <bpf/btf.h>
#include <linux/btf.h>

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

/* A tuple's size as bpftrace defines it: its elements laid out like a C
 * struct's members, each at its natural alignment (a string or char
 * array: 1), the whole padded to its strictest element ((int8, int16,
 * int32) is 8).  etrace's own tuple storage keeps each element in 8-byte
 * slots; sizeof() reports the language's size, not that. */
static int c_align(const Type *t);
static int c_size(const Type *t) {
  if (t->kind == TY_ARRAY) /* a held copy is rounded up to 8 bytes */
    return t->nelems * c_size(t->elem);
  if (t->kind == TY_RECORD && t->btf) {
    long long size = btf__resolve_size(t->btf, t->btf_id);
    return size > 0 ? (int)size : t->size;
  }
  if (t->kind == TY_STR)
    return ty_lang_size(t);
  if (t->kind != TY_TUPLE)
    return ty_mem_size(t);
  int off = 0;
  for (int i = 0; i < t->nfields; i++) {
    int a = c_align(t->fields[i]);
    off = (off + a - 1) / a * a + c_size(t->fields[i]);
  }
  int a = c_align(t);
  return (off + a - 1) / a * a;
}

static int c_align(const Type *t) {
  if (t->kind == TY_TUPLE) {
    int a = 1;
    for (int i = 0; i < t->nfields; i++)
      if (c_align(t->fields[i]) > a)
        a = c_align(t->fields[i]);
    return a;
  }
  if (t->kind == TY_STR || t->kind == TY_ARRAY)
    return t->kind == TY_ARRAY && t->elem ? c_align(t->elem) : 1;
  if (t->kind == TY_RECORD) /* bpftrace 0.17 packs a struct in a tuple: (int8, struct {int,
                             * int}, int8) is 10 bytes */
    return 1;
  int size = ty_mem_size(t);
  return size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
}

/* sizeof(TYPE), sizeof(EXPR), offsetof(TYPE, MEMBER.PATH): constants,
 * folded into the node (it becomes an integer literal). */
static Type *check_size(Sema *sema, Node *e, bool is_sizeof) {
  const char *why = NULL;
  Type *t = NULL;
  if (e->cast_type) {
    t = btf_parse_type(sema->c->types, e->cast_type, is_user_probe(sema), &why);
    if (!t) {
      serr(sema, e->loc, "%s", why);
      return NULL;
    }
  }
  uint64_t value;
  if (is_sizeof) {
    if (!t && e->nargs != 1) {
      serr(sema, e->loc, "sizeof() expects a type or an expression");
      return NULL;
    }
    if (!t && e->args->kind == ND_BUILTIN &&
        btf_lookup(sema->c->types, e->args->name, BTF_KIND_TYPEDEF) > 0)
      t = btf_parse_type(sema->c->types, e->args->name, is_user_probe(sema), &why); /* sizeof(handle_t) */
    if (!t) {
      t = check_expr(sema, e->args);
      if (!t || t->kind == TY_NONE)
        return sema->final_pass ? NULL : ty_u64;
    }
    value = t->kind == TY_TUPLE                  ? (uint64_t)c_size(t)
            : t->kind == TY_STR                  ? (uint64_t)ty_lang_size(t)
            : is_object(t)                       ? (uint64_t)t->size
                                                 : (uint64_t)ty_mem_size(t);
  } else {
    const char *names[16];
    int n = t && e->nargs == 1 ? member_path(e->args, names, 16) : 0;
    if (!t || t->kind != TY_RECORD || n == 0) {
      serr(sema, e->loc,
           "offsetof() expects a struct type and a member: offsetof(struct NAME, member)");
      return NULL;
    }
    value = 0;
    Type *rec = t;
    for (int i = 0; i < n; i++) {
      BtfMember m;
      if (!rec || rec->kind != TY_RECORD || !btf_find_member(sema->c->types, rec, names[i], false, &m)) {
        serr(sema, e->args->loc, "%s has no member named '%s'", rec ? ty_name(rec) : "this type",
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

static Type *check_sizeof(Sema *sema, Node *e) { return check_size(sema, e, true); }
static Type *check_offsetof(Sema *sema, Node *e) { return check_size(sema, e, false); }

/* bswap(x): x with its bytes reversed, in x's own width (8-bit values are
 * unchanged); the result is unsigned of that width, as in bpftrace. */
static Type *check_bswap(Sema *sema, Node *e) {
  Type *t = check_expr(sema, e->args);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind != TY_INT || t->is_ptr) {
    serr(sema, e->args->loc, "bswap() expects an integer, got %s", ty_name(t));
    return NULL;
  }
  return ty_int(t->int_size, false);
}

static void gen_bswap(Cg *cg, Node *e) {
  int bits = e->type->int_size * 8;
  cg_scalar(cg, e->args);
  if (bits == 8)
    canonicalize(cg, BPF_REG_0, e->type); /* an unsigned byte, unchanged */
  else /* to big-endian is a swap on x86; it clears the bits above the width */
    emit(cg, TO_BE(BPF_REG_0, bits));
}

/* uptr(p) / kptr(p): p itself, marked as a user (kernel) address, so that
 * str(), buf() and member reads through it use the user (kernel) read
 * helpers.  An integer stays an integer, a pointer keeps its pointee. */
static Type *check_addrspace(Sema *sema, Node *e) {
  Type *t = check_expr(sema, e->args);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind != TY_INT) {
    serr(sema, e->args->loc, "%s() only supports integer or pointer arguments (%s provided)",
         e->name, ty_name(t));
    return NULL;
  }
  Type *copy = ealloc(sizeof *copy);
  *copy = *t;
  copy->user = e->name[0] == 'u';
  return copy;
}

static void gen_addrspace(Cg *cg, Node *e) { cg_scalar(cg, e->args); }

const Builtin builtins_integers[] = {
    {.name = "sizeof", .form = BUILTIN_FUNC, .max_args = ARGS_ANY, .check = check_sizeof},
    {.name = "offsetof", .form = BUILTIN_FUNC, .max_args = ARGS_ANY, .check = check_offsetof},
    {.name = "bswap", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_bswap,
     .gen_value = gen_bswap},
    {.name = "uptr", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_addrspace, .gen_value = gen_addrspace},
    {.name = "kptr", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_addrspace, .gen_value = gen_addrspace},
    {0},
};
