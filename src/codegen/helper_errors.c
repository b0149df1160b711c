/* helper_errors.c - -k / -kk: a helper call that fails sends a record
 * (the helper, its return code, where in the program) that etrace prints
 * as bpftrace does ("WARNING: Failed to map_update_elem: ...").  -k checks
 * map updates and deletes; -kk also probe reads and map lookups that miss.
 * Without the flag nothing is emitted, so programs stay as small. */
#include "codegen/cg.h"

/* Right after CALL(helper), r0 its result: report a failure (r0 != 0; for
 * the string reads, which return a length, r0 < 0; for map_lookup_elem a
 * NULL r0, reported with code 0) when the program
 * was compiled with at least `level` k's.  r0 comes back unchanged, so
 * the caller's own test of it still works; r1-r5 are dead after a call. */
void cg_check_helper(Cg *cg, int helper, int level, Loc loc) {
  if (cg->c->helper_errors < level)
    return;
  bool lookup = helper == BPF_FUNC_map_lookup_elem;
  bool length = helper == BPF_FUNC_probe_read_str || helper == BPF_FUNC_probe_read_kernel_str ||
                helper == BPF_FUNC_probe_read_user_str;
  int ok = label_new(cg);
  jmp_imm(cg, lookup ? BPF_JNE : length ? BPF_JSGE : BPF_JEQ, BPF_REG_0, 0, ok);
  int roff = slot(cg, 24, loc);
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 8));
  emit_store_halves(cg, BPF_REG_10, roff, helper, REC_HELPER_ERROR); /* REC_HEADER */
  emit_store_halves(cg, BPF_REG_10, roff + 16, loc.col, loc.line);
  submit_record(cg, roff, 24);
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, roff + 8));
  label_here(cg, ok);
}
