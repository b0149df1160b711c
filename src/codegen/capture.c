/* capture.c - a for loop over a map (`for ($kv : @m) { $sum += $kv.1; }`)
 * whose body reads and writes the probe's own variables.  The body is a
 * callback of bpf_for_each_map_elem with a stack frame of its own, so the
 * variables it shares with its caller are copied in: the caller passes
 * its frame pointer as the callback context, the callback copies each
 * shared variable into a slot of its own frame on entry and back into the
 * caller's frame before it returns (the call is synchronous, so the
 * caller sees every write).  The verifier lets a callback read and write
 * its caller's stack through that pointer. */
#include "codegen/cg.h"

#include <stdlib.h>

static int var_size(const VarInfo *v) { return v->type && v->type->size ? v->type->size : 8; }

static void add_capture(Cg *cg, Sub *sub, VarInfo *v, Loc loc) {
  for (int i = 0; i < sub->ncap; i++)
    if (sub->cap[i].var == v)
      return;
  if (sub->ncap == CAPTURE_MAX) {
    fail(cg, loc, "a for loop over a map may use at most 16 variables of its probe%s", "");
    return;
  }
  sub->cap[sub->ncap].var = v;
  sub->cap[sub->ncap].off = v->stack_off;
  sub->ncap++;
}

/* Every variable of the caller's frame the body names (nested loops
 * included: their callbacks copy from this one's frame). */
static void walk(Cg *cg, Sub *sub, Node *n) {
  for (; n; n = n->next) {
    if (n->kind == ND_VAR && n->var && var_slot(cg, n->var))
      add_capture(cg, sub, n->var, n->loc);
    walk(cg, sub, n->lhs);
    walk(cg, sub, n->rhs);
    walk(cg, sub, n->cond);
    walk(cg, sub, n->then);
    walk(cg, sub, n->els);
    walk(cg, sub, n->args);
    walk(cg, sub, n->body);
  }
}

void capture_find(Cg *cg, Sub *sub) {
  sub->ncap = 0;
  if (sub->loop)
    walk(cg, sub, sub->loop->then);
}

/* On entry to the callback (r4: the caller's frame pointer): each shared
 * variable gets a slot in this frame, filled from the caller's.  Returns
 * the slot holding the caller's frame pointer. */
int capture_copy_in(Cg *cg, const Sub *sub, Loc loc) {
  int ctx_slot = slot(cg, 8, loc);
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_4, ctx_slot));
  emit(cg, MOV64_REG(BPF_REG_2, BPF_REG_4));
  for (int i = 0; i < sub->ncap; i++) {
    VarInfo *v = sub->cap[i].var;
    v->stack_off = slot(cg, var_size(v), loc);
    cg->vars = realloc(cg->vars, sizeof(VarInfo *) * (cg->nvars + 1));
    cg->vars[cg->nvars++] = v;
    emit_copy(cg, v->stack_off, BPF_REG_2, sub->cap[i].off, var_size(v));
  }
  return ctx_slot;
}

/* Before each return of the callback: the shared variables back to the
 * caller's frame (r0 is left alone). */
void capture_copy_out(Cg *cg, const Sub *sub, int ctx_slot) {
  emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_10, ctx_slot));
  for (int i = 0; i < sub->ncap; i++) {
    const VarInfo *v = sub->cap[i].var;
    int size = var_size(v), k = 0;
    for (int w = 8; w >= 1; w /= 2) {
      int sz = w == 8 ? BPF_DW : w == 4 ? BPF_W : w == 2 ? BPF_H : BPF_B;
      for (; k + w <= size; k += w) {
        emit(cg, LDX(sz, BPF_REG_1, BPF_REG_10, v->stack_off + k));
        emit(cg, STX(sz, BPF_REG_2, BPF_REG_1, sub->cap[i].off + k));
      }
    }
  }
}

/* After the callback is emitted: the variables' slots in the caller. */
void capture_restore(const Sub *sub) {
  for (int i = 0; i < sub->ncap; i++)
    sub->cap[i].var->stack_off = sub->cap[i].off;
}
