/* cond.c - conditions compiled as jumps.
 *
 * cg_cond(e, label, when) emits code that jumps to `label` when the truth
 * of e equals `when` and falls through otherwise, the way Lua's lcode.c
 * threads its true/false exit lists: && and || chain their operands'
 * jumps, ! swaps the sense, and a comparison becomes one conditional jump
 * (with an immediate operand when one side is a constant).  A 0/1 value
 * is made only where a condition is used as a number (cg_bool_value).
 */
#include "etrace.h"
#include "codegen/cg.h"

#include <string.h>

/* A constant operand that fits a jump's or ALU's 32-bit immediate (sign
 * extended to 64 bits by the CPU, as emit_imm64 would have loaded it). */
bool cg_const_imm(Cg *cg, const Node *e, int32_t *out) {
  uint64_t u;
  if (!cg_fold(cg, e, &u))
    return false;
  int64_t v = (int64_t)u;
  if (v != (int32_t)v)
    return false;
  *out = (int32_t)v;
  return true;
}

static bool is_comparison(Op op) { return op >= OP_EQ && op <= OP_GE; }

static int jump_op(Op op, bool sgn) {
  switch (op) {
  case OP_EQ: return BPF_JEQ;
  case OP_NE: return BPF_JNE;
  case OP_LT: return sgn ? BPF_JSLT : BPF_JLT;
  case OP_LE: return sgn ? BPF_JSLE : BPF_JLE;
  case OP_GT: return sgn ? BPF_JSGT : BPF_JGT;
  default: return sgn ? BPF_JSGE : BPF_JGE;
  }
}

/* The jump taken when `a OP b` is false. */
static int negate(int jop) {
  switch (jop) {
  case BPF_JEQ: return BPF_JNE;
  case BPF_JNE: return BPF_JEQ;
  case BPF_JLT: return BPF_JGE;
  case BPF_JGE: return BPF_JLT;
  case BPF_JLE: return BPF_JGT;
  case BPF_JGT: return BPF_JLE;
  case BPF_JSLT: return BPF_JSGE;
  case BPF_JSGE: return BPF_JSLT;
  case BPF_JSLE: return BPF_JSGT;
  default: return BPF_JSLE; /* BPF_JSGT */
  }
}

/* `a OP b` as `b OP' a`. */
static Op mirror(Op op) {
  switch (op) {
  case OP_LT: return OP_GT;
  case OP_LE: return OP_GE;
  case OP_GT: return OP_LT;
  case OP_GE: return OP_LE;
  default: return op;
  }
}

/* Integer comparison; returns false when e is not one it handles. */
static bool compare_jump(Cg *cg, Node *e, int label, bool when) {
  Node *a = e->lhs, *b = e->rhs;
  Op op = e->op;
  bool sgn = a->type->is_signed && b->type->is_signed;
  int32_t imm;
  if (!cg_const_imm(cg, b, &imm) && cg_const_imm(cg, a, &imm)) {
    Node *t = a;
    a = b;
    b = t;
    op = mirror(op);
  }
  int jop = jump_op(op, sgn);
  if (!when)
    jop = negate(jop);
  if (cg_const_imm(cg, b, &imm)) {
    cg_scalar(cg, a);
    if (imm == 0 && jop == BPF_JGE) /* unsigned >= 0: always */
      ja(cg, label);
    else if (imm != 0 || jop != BPF_JLT) /* unsigned < 0: never */
      jmp_imm(cg, jop, BPF_REG_0, imm, label);
    return true;
  }
  cg_scalar(cg, a);
  int r = cg_operand_reg(cg, b, op);
  if (r) {
    jmp_reg(cg, jop, BPF_REG_0, r, label);
    return true;
  }
  push(cg, e->loc);
  cg_scalar(cg, b);
  pop(cg, BPF_REG_1);
  jmp_reg(cg, jop, BPF_REG_1, BPF_REG_0, label);
  return true;
}

/* probe == "name" / probe != "name": the probe's index against a constant. */
static bool probe_jump(Cg *cg, Node *e, int label, bool when) {
  Node *lit = e->lhs->kind == ND_STR ? e->lhs : e->rhs;
  Node *probe = lit == e->lhs ? e->rhs : e->lhs;
  if (lit->kind != ND_STR)
    return false;
  int index = -1;
  for (int i = 0; i < cg->c->nprobe_names; i++)
    if (!strcmp(cg->c->probe_names[i], lit->str))
      index = i;
  cg_scalar(cg, probe);
  jmp_imm(cg, (e->op == OP_EQ) == when ? BPF_JEQ : BPF_JNE, BPF_REG_0, index, label);
  return true;
}

/* String == / !=: the byte compare jumps out on the first difference. */
static void string_jump(Cg *cg, Node *e, int label, bool when) {
  bool jump_if_equal = (e->op == OP_EQ) == when;
  if (!jump_if_equal) {
    cg_str_jumps(cg, e->lhs, e->rhs, -1, label);
    return;
  }
  int differ = label_new(cg);
  cg_str_jumps(cg, e->lhs, e->rhs, -1, differ);
  ja(cg, label);
  label_here(cg, differ);
}

/* /@m[k]/: a missing key is false without loading anything. */
static void map_value_jump(Cg *cg, Node *e, int label, bool when) {
  if (keycache_value_load(cg, e)) {
    jmp_imm(cg, when ? BPF_JNE : BPF_JEQ, BPF_REG_0, 0, label);
    return;
  }
  int koff = build_key(cg, e);
  map_lookup(cg, e->map, koff);
  int miss = when ? label_new(cg) : label;
  jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, miss);
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_0, 0));
  jmp_imm(cg, when ? BPF_JNE : BPF_JEQ, BPF_REG_0, 0, label);
  if (when)
    label_here(cg, miss);
  else if (label == cg->exit_label)
    keycache_value_keep(cg, e); /* only the value's non-zero path goes on */
}

void cg_cond(Cg *cg, Node *e, int label, bool when) {
  if (cg->failed)
    return;
  uint64_t known;
  if (cg_fold(cg, e, &known)) { /* decided now: a jump or nothing */
    if ((known != 0) == when)
      ja(cg, label);
    return;
  }
  if (e->kind == ND_BINARY && (e->op == OP_LAND || e->op == OP_LOR)) {
    /* &&: false as soon as one side is false; ||: true as soon as one is true */
    bool short_value = e->op == OP_LOR;
    /* the right side runs on some paths only (keycache.c); where the
     * short cut leaves the program (a predicate's &&), every path that
     * goes on has run it */
    if (when == short_value) {
      bool some_paths = label != cg->exit_label;
      cg_cond(cg, e->lhs, label, when);
      if (some_paths)
        cg_cond_enter(cg);
      cg_cond(cg, e->rhs, label, when);
      if (some_paths)
        cg_cond_leave(cg);
    } else {
      int skip = label_new(cg);
      cg_cond(cg, e->lhs, skip, short_value);
      cg_cond_enter(cg);
      cg_cond(cg, e->rhs, label, when);
      cg_cond_leave(cg);
      label_here(cg, skip);
    }
    return;
  }
  if (e->kind == ND_UNARY && e->op == OP_LNOT) {
    cg_cond(cg, e->lhs, label, !when);
    return;
  }
  if (e->kind == ND_BINARY && is_comparison(e->op)) {
    if ((e->lhs->type->kind == TY_PROBE || e->rhs->type->kind == TY_PROBE) &&
        probe_jump(cg, e, label, when))
      return;
    if (e->lhs->type->kind == TY_STR && (e->op == OP_EQ || e->op == OP_NE)) {
      string_jump(cg, e, label, when);
      return;
    }
    /* buffers, structs and arrays (cg_binary compares their bytes) are
     * no integers */
    TypeKind k = e->lhs->type->kind;
    if (k != TY_STR && k != TY_BUF && k != TY_RECORD && k != TY_ARRAY &&
        compare_jump(cg, e, label, when))
      return;
  }
  if (e->kind == ND_MAP && !ty_is_agg(e->map->val) && e->map->val->kind == TY_INT) {
    map_value_jump(cg, e, label, when);
    return;
  }
  cg_scalar(cg, e);
  jmp_imm(cg, when ? BPF_JNE : BPF_JEQ, BPF_REG_0, 0, label);
}

/* Is e a condition whose value is 0 or 1 (a comparison, &&, ||, !)? */
bool cg_is_condition(const Node *e) {
  return (e->kind == ND_BINARY && (is_comparison(e->op) || e->op == OP_LAND || e->op == OP_LOR)) ||
         (e->kind == ND_UNARY && e->op == OP_LNOT);
}

/* r0 = 1 when e is true, else 0: a condition used as a number. */
void cg_bool_value(Cg *cg, Node *e) {
  int yes = label_new(cg), done = label_new(cg);
  cg_cond(cg, e, yes, true);
  emit(cg, MOV64_IMM(BPF_REG_0, 0));
  ja(cg, done);
  label_here(cg, yes);
  emit(cg, MOV64_IMM(BPF_REG_0, 1));
  label_here(cg, done);
}
