/* watchpoints.c - unwatch(addr): stop watching an address that a
 * watchpoint:FUNCTION+argN probe (or watchpoint:ADDR) watches.  User
 * space closes the breakpoints (a REC_TARGET_EVENT record to every
 * target whose provider takes events), so the watchpoint can still fire
 * a few times until that record is read. */
#include "builtins/builtin.h"

static Type *check_unwatch(Sema *sema, Node *e) {
  Type *t = check_expr(sema, e->args);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind != TY_INT) {
    serr(sema, e->args->loc, "unwatch() expects an integer address, got %s", ty_name(t));
    return NULL;
  }
  return ty_void;
}

static void gen_unwatch(Cg *cg, Node *e) {
  int roff = record_header(cg, REC_TARGET_EVENT, TARGET_EVENT_ALL, 16, e->loc);
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, roff + 8, TEV_UNWATCH));
  cg_scalar(cg, e->args);
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 16));
  submit_record(cg, roff, 24);
}

const Builtin builtins_watchpoints[] = {
    {.name = "unwatch", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_unwatch, .gen_stmt = gen_unwatch},
    {0},
};
