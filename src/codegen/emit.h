/* emit.h - the one BPF instruction emitter: a growing instruction array,
 * labels and jump fixups, and the final passes (label resolution, dead
 * code removal).  The language's code generator (cg.c) and the recorder's
 * event programs (record/) both build their programs with it.
 *
 *   Emitter e = {0};
 *   int out = em_label(&e);
 *   em_jump(&e, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0), out);
 *   ...
 *   em_place(&e, out);
 *   em_insn(&e, EXIT_INSN());
 *   if (em_resolve(&e) < 0) ...      (then e.insns[0..e.n) is the program)
 *   em_free(&e);
 */
#ifndef ETRACE_EMIT_H
#define ETRACE_EMIT_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct EmitFixup {
  int insn, label;
  bool func;           /* a BPF_PSEUDO_FUNC load: patch imm, not off */
} EmitFixup;

typedef struct Emitter {
  struct bpf_insn *insns;
  int n, cap;
  int *labels;         /* label -> insn index, -1 until placed */
  int nlabels;
  EmitFixup *fixups;
  int nfixups;
  int max;             /* instructions kept at most (0: no limit) */
  bool overflow;       /* an instruction past max was dropped */
} Emitter;

/* Append one instruction.  false (and e->overflow) past e->max. */
bool em_insn(Emitter *e, struct bpf_insn in);
/* reg = v: one mov when it fits 32 signed bits, else a 64-bit load. */
void em_imm64(Emitter *e, int reg, uint64_t v);
/* reg = map: imm is the map's fd, or an id that the loader replaces. */
void em_map(Emitter *e, int reg, int fd_or_id);

int em_label(Emitter *e);                 /* a new label, not placed yet */
void em_place(Emitter *e, int label);     /* the label is the next insn */
/* A jump (its off patched by em_resolve) to label. */
bool em_jump(Emitter *e, struct bpf_insn in, int label);
/* reg = address of the subprogram at label (bpf_for_each_map_elem etc.).
 * Both return false, like em_insn, past e->max. */
bool em_func_addr(Emitter *e, int reg, int label);
/* A bpf-to-bpf call of the subprogram at label. */
bool em_call(Emitter *e, int label);

/* Patch every jump.  -1 when a label was never placed or a jump spans
 * more than 32767 instructions. */
int em_resolve(Emitter *e);
/* Drop unreachable instructions (the verifier refuses them) and those
 * marked in kill[] (NULL: none), and re-aim the jumps and calls; after
 * em_resolve. */
void em_remove_dead_code(Emitter *e, const char *kill);
void em_free(Emitter *e);

#endif
