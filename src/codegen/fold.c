/* fold.c - integer expressions whose value is known when compiling.
 *
 * Literals and positional parameters are constants, so `$4 == 0`,
 * `$2 ? 1000000 : 1000` and `!$1 || pid == $1` with $1 given are decided
 * here: a condition that folds becomes a jump or nothing, a value one
 * immediate.  The folded value is the one the generated code would
 * compute: 64-bit arithmetic (cg_binary does not narrow its results),
 * negation, complement and casts narrowed to their type (canonicalize),
 * signed division, remainder and comparison when both sides are signed.
 * What the code would leave to run time is not folded: division by zero,
 * INT64_MIN / -1, shift counts outside 0..63.
 */
#include "etrace.h"
#include "codegen/cg.h"

/* v as canonicalize() leaves a value of type t. */
static uint64_t narrow(uint64_t v, const Type *t) {
  if (!t || t->kind != TY_INT || t->int_size == 8)
    return v;
  int bits = t->int_size * 8;
  uint64_t mask = (1ull << bits) - 1;
  v &= mask;
  if (t->is_signed && (v >> (bits - 1)) & 1)
    v |= ~mask;
  return v;
}

static bool is_int(const Node *e) { return e->type && e->type->kind == TY_INT && !e->type->is_ptr; }

static bool fold_binary(Cg *cg, const Node *e, uint64_t *out) {
  uint64_t a, b;
  /* && and ||: a left side that decides skips the right one, as the
   * generated code's short cut would */
  if (e->op == OP_LAND || e->op == OP_LOR) {
    if (!cg_fold(cg, e->lhs, &a))
      return false;
    if ((a != 0) == (e->op == OP_LOR)) {
      *out = e->op == OP_LOR;
      return true;
    }
    if (!cg_fold(cg, e->rhs, &b))
      return false;
    *out = b != 0;
    return true;
  }
  if (!cg_fold(cg, e->lhs, &a) || !cg_fold(cg, e->rhs, &b))
    return false;
  bool sgn = e->lhs->type->is_signed && e->rhs->type->is_signed;
  int64_t sa = (int64_t)a, sb = (int64_t)b;
  switch (e->op) {
  case OP_ADD: *out = a + b; return true;
  case OP_SUB: *out = a - b; return true;
  case OP_MUL: *out = a * b; return true;
  case OP_BAND: *out = a & b; return true;
  case OP_BOR: *out = a | b; return true;
  case OP_BXOR: *out = a ^ b; return true;
  case OP_DIV:
  case OP_MOD:
    if (b == 0 || (sgn && sa == INT64_MIN && sb == -1))
      return false;
    if (sgn)
      *out = (uint64_t)(e->op == OP_DIV ? sa / sb : sa % sb);
    else
      *out = e->op == OP_DIV ? a / b : a % b;
    return true;
  case OP_SHL:
  case OP_SHR:
    if (b > 63)
      return false;
    if (e->op == OP_SHL)
      *out = a << b;
    else
      *out = e->lhs->type->is_signed ? (uint64_t)(sa >> b) : a >> b;
    return true;
  case OP_EQ: *out = a == b; return true;
  case OP_NE: *out = a != b; return true;
  case OP_LT: *out = sgn ? sa < sb : a < b; return true;
  case OP_LE: *out = sgn ? sa <= sb : a <= b; return true;
  case OP_GT: *out = sgn ? sa > sb : a > b; return true;
  case OP_GE: *out = sgn ? sa >= sb : a >= b; return true;
  default: return false;
  }
}

bool cg_fold(Cg *cg, const Node *e, uint64_t *out) {
  if (!is_int(e))
    return false;
  uint64_t v;
  switch (e->kind) {
  case ND_INT:
    *out = e->ival;
    return true;
  case ND_POSPARAM:
    *out = (uint64_t)posparam_int(cg, (Node *)e);
    return true;
  case ND_UNARY:
    if (e->op != OP_NEG && e->op != OP_BNOT && e->op != OP_LNOT)
      return false;
    if (!cg_fold(cg, e->lhs, &v))
      return false;
    *out = e->op == OP_LNOT ? v == 0 : narrow(e->op == OP_NEG ? -v : ~v, e->type);
    return true;
  case ND_CAST:
    if (!is_int(e->lhs) || !cg_fold(cg, e->lhs, &v))
      return false;
    *out = narrow(v, e->type);
    return true;
  case ND_BINARY:
    return is_int(e->lhs) && is_int(e->rhs) && fold_binary(cg, e, out);
  case ND_TERNARY:
    if (!cg_fold(cg, e->cond, &v))
      return false;
    return cg_fold(cg, v ? e->then : e->els, out);
  default:
    return false;
  }
}
