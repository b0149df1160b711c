/* aggregations.c - @m[k] = count(), sum(v), min(v), max(v), avg(v),
 * stats(v), hist(v), lhist(v, min, max, step): per-CPU map values,
 * merged when read. */
#include "builtins/builtin.h"

/* Anywhere but the right side of a map assignment. */
static Type *check_misplaced(Sema *sema, Node *e) {
  serr(sema, e->loc, "%s() can only be assigned to a map: @x = %s(...)", e->name, e->name);
  return NULL;
}

/* The value type of the map that `e` is assigned to. */
static Type *agg_call(Sema *sema, Node *e) {
  TypeKind kind = e->builtin->aggregate;
  int nargs = kind == TY_COUNT ? 0 : kind == TY_LHIST ? 4 : 1;
  if (!want_args(sema, e, nargs, nargs))
    return NULL;
  bool is_signed = true;
  if (nargs) {
    Type *t = check_expr(sema, e->args);
    if (t && t->kind != TY_NONE && t->kind != TY_INT) {
      serr(sema, e->args->loc, "%s() expects an integer, got %s", e->name, ty_name(t));
      return NULL;
    }
    if (t && t->kind == TY_INT)
      is_signed = t->is_signed;
  }
  Type *at = ty_agg(kind, is_signed);
  if (kind == TY_LHIST) {
    int64_t mn, mx, st;
    if (!want_const(sema, arg_n(e, 1), "lhist", &mn) ||
        !want_const(sema, arg_n(e, 2), "lhist", &mx) ||
        !want_const(sema, arg_n(e, 3), "lhist", &st))
      return NULL;
    if (st <= 0) {
      serr(sema, arg_n(e, 3)->loc, "lhist() step must be >= 1 (%lld)", (long long)st);
      return NULL;
    }
    if (mn < 0) {
      serr(sema, arg_n(e, 1)->loc, "lhist() min must be non-negative (%lld)", (long long)mn);
      return NULL;
    }
    if (mx <= mn) {
      serr(sema, arg_n(e, 2)->loc, "lhist() max must be greater than min");
      return NULL;
    }
    if ((mx - mn) / st > 1000) {
      serr(sema, arg_n(e, 3)->loc, "lhist() has too many buckets (max 1000)");
      return NULL;
    }
    at->lh_min = mn;
    at->lh_max = mx;
    at->lh_step = st;
  }
  return at;
}


/* r0 = hist bucket of the value in r0 (see HIST_BUCKETS in etrace.h). */
static void hist_index(Cg *cg) {
  int neg = label_new(cg), zero = label_new(cg), done = label_new(cg);
  jmp_imm(cg, BPF_JSLT, BPF_REG_0, 0, neg);
  jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, zero);
  emit(cg, MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(cg, MOV64_IMM(BPF_REG_0, 2));
  for (int shift = 32; shift >= 1; shift /= 2) {
    /* if (r1 >= 1 << shift) { r1 >>= shift; r0 += shift; } */
    int skip = label_new(cg);
    if (shift == 32) { /* 1 << 32 is no 32-bit immediate */
      emit(cg, MOV64_REG(BPF_REG_2, BPF_REG_1));
      emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_2, shift));
      jmp_imm(cg, BPF_JEQ, BPF_REG_2, 0, skip);
      emit(cg, MOV64_REG(BPF_REG_1, BPF_REG_2));
    } else {
      jmp_imm(cg, BPF_JLT, BPF_REG_1, 1 << shift, skip);
      emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_1, shift));
    }
    emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_0, shift));
    label_here(cg, skip);
  }
  ja(cg, done);
  label_here(cg, neg);
  emit(cg, MOV64_IMM(BPF_REG_0, 0));
  ja(cg, done);
  label_here(cg, zero);
  emit(cg, MOV64_IMM(BPF_REG_0, 1));
  label_here(cg, done);
}

static void lhist_index(Cg *cg, const Type *t) {
  int below = label_new(cg), above = label_new(cg), done = label_new(cg);
  bool imm = t->lh_min == (int32_t)t->lh_min && t->lh_max == (int32_t)t->lh_max &&
             t->lh_step == (int32_t)t->lh_step;
  if (imm) {
    jmp_imm(cg, BPF_JSLT, BPF_REG_0, (int32_t)t->lh_min, below);
    jmp_imm(cg, BPF_JSGE, BPF_REG_0, (int32_t)t->lh_max, above);
    if (t->lh_min)
      emit(cg, ALU64_IMM(BPF_SUB, BPF_REG_0, (int32_t)t->lh_min));
    emit(cg, ALU64_IMM(BPF_DIV, BPF_REG_0, (int32_t)t->lh_step)); /* step >= 1 */
  } else {
    emit_imm64(cg, BPF_REG_1, t->lh_min);
    jmp_reg(cg, BPF_JSLT, BPF_REG_0, BPF_REG_1, below);
    emit_imm64(cg, BPF_REG_1, t->lh_max);
    jmp_reg(cg, BPF_JSGE, BPF_REG_0, BPF_REG_1, above);
    emit_imm64(cg, BPF_REG_1, t->lh_min);
    emit(cg, ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_1));
    emit_imm64(cg, BPF_REG_1, t->lh_step);
    emit(cg, ALU64_REG(BPF_DIV, BPF_REG_0, BPF_REG_1));
  }
  emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_0, 1));
  ja(cg, done);
  label_here(cg, below);
  emit(cg, MOV64_IMM(BPF_REG_0, 0));
  ja(cg, done);
  label_here(cg, above);
  emit_imm64(cg, BPF_REG_0, 1 + (t->lh_max - t->lh_min) / t->lh_step);
  label_here(cg, done);
}

/* @m[k] = count() / sum(v) / min(v) / max(v) / avg(v) / stats(v) /
 * hist(v) / lhist(v, ...).  Per-CPU maps, so plain read-modify-write is
 * safe: a BPF program is never migrated off its CPU while it runs. */
static void gen_aggregate(Cg *cg, Node *lhs, Node *call) {
  MapInfo *m = lhs->map;
  TypeKind k = m->val->kind;
  bool has_value = k != TY_COUNT;
  if (has_value) {
    cg_scalar(cg, call->args);
    push(cg, call->loc);
  }
  /* an array's key is only the bucket index: nothing to build */
  int koff = m->array && k != TY_COUNT ? slot(cg, 8, lhs->loc) : build_key(cg, lhs);
  if (k == TY_HIST || k == TY_LHIST) {
    pop(cg, BPF_REG_0);
    if (k == TY_HIST)
      hist_index(cg);
    else
      lhist_index(cg, m->val);
    if (m->array)
      /* the u32 key is the low half of a u64 store (little-endian), not
       * a 4-byte one: a constant key the size of the map's would make
       * newer verifiers track it precisely and walk every bucket's path
       * to the lookup apart (read_latency: 198 -> 756 insns processed) */
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, koff));
    else
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, koff + m->key->size));
    has_value = false;
  }
  if (m->array) { /* the slot always exists: r0 is NULL only to the verifier */
    map_lookup(cg, m, koff);
    int miss = label_new(cg);
    jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, miss);
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
    emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_2, 1));
    emit(cg, STX(BPF_DW, BPF_REG_0, BPF_REG_2, 0));
    label_here(cg, miss);
    return;
  }
  int voff = slot(cg, m->val_size, lhs->loc);
  map_lookup(cg, m, koff);
  if (has_value)
    pop(cg, BPF_REG_1);
  int init = label_new(cg), done = label_new(cg);
  jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, init);
  switch (k) {
  case TY_COUNT: case TY_SUM: case TY_HIST: case TY_LHIST:
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
    if (has_value)
      emit(cg, ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
    else
      emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_2, 1));
    emit(cg, STX(BPF_DW, BPF_REG_0, BPF_REG_2, 0));
    break;
  case TY_MIN: case TY_MAX: {
    int set = label_new(cg);
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 8));
    jmp_imm(cg, BPF_JEQ, BPF_REG_2, 0, set);
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
    bool s = m->val->is_signed;
    int keep = k == TY_MIN ? (s ? BPF_JSGE : BPF_JGE) : (s ? BPF_JSLE : BPF_JLE);
    jmp_reg(cg, keep, BPF_REG_1, BPF_REG_2, done);
    label_here(cg, set);
    emit(cg, STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0));
    emit(cg, ST_IMM(BPF_DW, BPF_REG_0, 8, 1));
    break;
  }
  case TY_AVG: case TY_STATS:
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
    emit(cg, ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
    emit(cg, STX(BPF_DW, BPF_REG_0, BPF_REG_2, 0));
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 8));
    emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_2, 1));
    emit(cg, STX(BPF_DW, BPF_REG_0, BPF_REG_2, 8));
    break;
  default:
    break;
  }
  ja(cg, done);
  label_here(cg, init);
  /* first value on this CPU: {v} for count/sum/hist, {v, 1} otherwise */
  if (has_value)
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_1, voff));
  else
    emit(cg, ST_IMM(BPF_DW, BPF_REG_10, voff, 1));
  if (m->val_size > 8)
    emit(cg, ST_IMM(BPF_DW, BPF_REG_10, voff + 8, 1));
  map_update(cg, m, koff, voff);
  label_here(cg, done);
}

#define AGGREGATION(NAME, KIND)                                                         \
  {.name = NAME, .form = BUILTIN_FUNC, .max_args = ARGS_ANY, .check = check_misplaced, \
   .aggregate = KIND, .check_assign = agg_call, .gen_assign = gen_aggregate}

const Builtin builtins_aggregations[] = {
    AGGREGATION("count", TY_COUNT), AGGREGATION("sum", TY_SUM),
    AGGREGATION("min", TY_MIN),     AGGREGATION("max", TY_MAX),
    AGGREGATION("avg", TY_AVG),     AGGREGATION("stats", TY_STATS),
    AGGREGATION("hist", TY_HIST),   AGGREGATION("lhist", TY_LHIST),
    {0},
};
