/* maps.c - builtins on whole maps and keys: clear(), zero(), delete(),
 * has_key(), len(). */
#include "builtins/builtin.h"

static Type *check_whole_map(Sema *sema, Node *e) {
  map_arg(sema, e->args, e->name);
  return ty_void;
}

/* clear(@m), zero(@m): done by user space when the record arrives */
static void gen_clear(Cg *cg, Node *e) {
  cg_simple_record(cg, REC_CLEAR, e->args->map->id, NULL, NULL, e->loc);
}

static void gen_zero(Cg *cg, Node *e) {
  cg_simple_record(cg, REC_ZERO, e->args->map->id, NULL, NULL, e->loc);
}

/* The keys of `call`'s map argument a: the second argument (a tuple
 * for a map with several keys), as if written a[key]. */
static void key_from_arg(Node *a, Node *key, int nkeys) {
  if (key->kind == ND_TUPLE && nkeys > 1) {
    a->args = key->args;
    a->nargs = key->nargs;
  } else {
    a->args = key;
    a->nargs = 1;
  }
}

/* delete(@m[key]) or delete(@m, key) */
static Type *check_delete(Sema *sema, Node *e) {
  Node *a = e->args;
  if (!want_map(sema, a, e->name))
    return NULL;
  MapInfo *m = find_map(sema, a->name);
  if (!m) {
    serr(sema, a->loc, "undefined map: %s", a->name);
    return NULL;
  }
  a->map = m;
  m->walked = true;
  if (e->nargs == 2) {
    /* delete(@m, key): rewrite as the old form delete(@m[key]). */
    if (a->nargs) {
      serr(sema, a->loc, "delete(@m, key) expects the map without keys");
      return NULL;
    }
    Node *key = a->next;
    key_from_arg(a, key, m->nkeys);
    key->next = NULL;
    a->next = NULL;
    e->nargs = 1;
  }
  check_map_keys(sema, a, m);
  return ty_void;
}

/* A hist/lhist map stores one element per bucket, keyed by the user key
 * followed by the bucket index: delete(@h[k]) deletes every bucket of k.
 * A loop rather than an unrolled run, so a 1002-bucket lhist stays a few
 * instructions.  The counter lives in the key's bucket slot on the stack,
 * where the verifier tracks it as a known scalar and so sees the loop end. */
static void delete_buckets(Cg *cg, const MapInfo *m, int koff) {
  const Type *v = m->val;
  int n = v->kind == TY_HIST ? HIST_BUCKETS : (int)((v->lh_max - v->lh_min) / v->lh_step) + 2;
  int bucket = koff + m->key->size;
  int top = label_new(cg);
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, bucket, 0));
  label_here(cg, top);
  emit_map(cg, BPF_REG_1, m);
  emit_addr(cg, BPF_REG_2, koff);
  emit(cg, CALL(BPF_FUNC_map_delete_elem));
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, bucket));
  emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_0, 1));
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, bucket));
  jmp_imm(cg, BPF_JLT, BPF_REG_0, n, top);
}

static void gen_delete(Cg *cg, Node *e) {
  Node *a = e->args;
  int koff = build_key(cg, a);
  if (a->map->val->kind == TY_HIST || a->map->val->kind == TY_LHIST) {
    delete_buckets(cg, a->map, koff);
    return;
  }
  emit_map(cg, BPF_REG_1, a->map);
  emit_addr(cg, BPF_REG_2, koff);
  emit(cg, CALL(BPF_FUNC_map_delete_elem));
  cg_check_helper(cg, BPF_FUNC_map_delete_elem, 1, e->loc);
}

/* has_key(@m, key): 1 if the key is in the map */
static Type *check_has_key(Sema *sema, Node *e) {
  Node *a = e->args;
  MapInfo *m = map_arg(sema, a, e->name);
  if (!m)
    return NULL;
  Node *key = a->next;
  Node probe = *a; /* check the key as if written @m[key] */
  probe.next = NULL;
  key_from_arg(&probe, key, m->nkeys);
  Node *saved_next = key->next;
  check_map_keys(sema, &probe, m);
  key->next = saved_next;
  return ty_u64;
}

static void gen_has_key(Cg *cg, Node *e) {
  Node *a = e->args, *key = a->next;
  Node probe = *a, k = *key;
  probe.next = NULL;
  k.next = NULL;
  key_from_arg(&probe, key->kind == ND_TUPLE && a->map->nkeys > 1 ? key : &k, a->map->nkeys);
  int mark = cg->stack;
  int koff = build_key(cg, &probe);
  map_lookup(cg, a->map, koff);
  stack_release(cg, mark);
  int no = label_new(cg);
  jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, no);
  emit(cg, MOV64_IMM(BPF_REG_0, 1));
  label_here(cg, no);
}

/* len(@m): the number of elements, counted by bpf_for_each_map_elem */
static Type *check_len(Sema *sema, Node *e) {
  MapInfo *m = map_arg(sema, e->args, e->name);
  if (m)
    m->walked = true;
  return m ? ty_s64 : NULL;
}

static void gen_len(Cg *cg, Node *e) { cg_for_each(cg, e->args->map, NULL, e->loc); }

const Builtin builtins_maps[] = {
    {.name = "clear", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_whole_map, .gen_stmt = gen_clear},
    {.name = "zero", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_whole_map, .gen_stmt = gen_zero},
    {.name = "delete", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2,
     .check = check_delete, .gen_stmt = gen_delete},
    {.name = "has_key", .form = BUILTIN_FUNC, .min_args = 2, .max_args = 2,
     .check = check_has_key, .gen_value = gen_has_key},
    {.name = "len", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_len,
     .gen_value = gen_len},
    {0},
};
