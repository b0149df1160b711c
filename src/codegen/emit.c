/* emit.c - the BPF instruction emitter (emit.h). */
#include "codegen/emit.h"
#include "codegen/insn.h"

#include <stdlib.h>

/* Room for element n of a malloc'd array of n: the capacity doubles when
 * n reaches a power of two (growing by one made unroll quadratic). */
static void *grow(void *arr, int n, size_t elem) {
  if (n > 0 && (n & (n - 1)))
    return arr;
  return realloc(arr, elem * (n ? 2 * (size_t)n : 4));
}

static bool full(Emitter *e, int more);

bool em_insn(Emitter *e, struct bpf_insn in) {
  if (full(e, 1))
    return false;
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 256;
    e->insns = realloc(e->insns, sizeof(*e->insns) * e->cap);
  }
  e->insns[e->n++] = in;
  return true;
}

void em_imm64(Emitter *e, int reg, uint64_t v) {
  if ((int64_t)v == (int32_t)v) {
    em_insn(e, MOV64_IMM(reg, (int32_t)v));
    return;
  }
  em_insn(e, LD_IMM64_LO(reg, 0, v));
  em_insn(e, LD_IMM64_HI(v));
}

void em_map(Emitter *e, int reg, int fd_or_id) {
  em_insn(e, LD_IMM64_LO(reg, BPF_PSEUDO_MAP_FD, fd_or_id));
  em_insn(e, LD_IMM64_HI(0));
}

int em_label(Emitter *e) {
  e->labels = grow(e->labels, e->nlabels, sizeof(int));
  e->labels[e->nlabels] = -1;
  return e->nlabels++;
}

void em_place(Emitter *e, int label) { e->labels[label] = e->n; }

static void add_fixup(Emitter *e, int label, bool func) {
  e->fixups = grow(e->fixups, e->nfixups, sizeof(EmitFixup));
  e->fixups[e->nfixups++] = (EmitFixup){e->n, label, func};
}

static bool full(Emitter *e, int more) {
  if (e->max && e->n + more > e->max) {
    e->overflow = true;
    return true;
  }
  return false;
}

bool em_jump(Emitter *e, struct bpf_insn in, int label) {
  if (full(e, 1))
    return false;
  add_fixup(e, label, false);
  return em_insn(e, in);
}

bool em_func_addr(Emitter *e, int reg, int label) {
  if (full(e, 2))
    return false;
  add_fixup(e, label, true);
  em_insn(e, LD_IMM64_LO(reg, BPF_PSEUDO_FUNC, 0));
  return em_insn(e, LD_IMM64_HI(0));
}

bool em_call(Emitter *e, int label) {
  if (full(e, 1))
    return false;
  add_fixup(e, label, true);
  return em_insn(e, INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0));
}

int em_resolve(Emitter *e) {
  for (int i = 0; i < e->nfixups; i++) {
    int at = e->fixups[i].insn, target = e->labels[e->fixups[i].label];
    if (target < 0)
      return -1;
    int off = target - (at + 1);
    if (e->fixups[i].func) {
      e->insns[at].imm = off;
      continue;
    }
    if (off < -32768 || off > 32767)
      return -1;
    e->insns[at].off = off;
  }
  return 0;
}

static bool is_jump(const struct bpf_insn *in) {
  int op = BPF_OP(in->code), cls = BPF_CLASS(in->code);
  return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

static bool is_local_call(const struct bpf_insn *in) {
  return in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL;
}

/* Which instructions are reachable from insn 0 (and from every callback
 * whose address is loaded). */
static char *reachable(const Emitter *e) {
  int n = e->n;
  char *live = calloc(n + 1, 1);
  int *stack = malloc(sizeof(int) * (2 * n + 1)), sp = 0;
  stack[sp++] = 0;
  while (sp) {
    int i = stack[--sp];
    while (i < n && !live[i]) {
      live[i] = 1;
      const struct bpf_insn *in = &e->insns[i];
      if (in->code == (BPF_LD | BPF_DW | BPF_IMM)) {
        if (in->src_reg == BPF_PSEUDO_FUNC)
          stack[sp++] = i + 1 + in->imm; /* a callback is reachable too */
        live[i + 1] = 1;
        i += 2;
        continue;
      }
      if (BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) == BPF_EXIT)
        break;
      if (is_local_call(in))
        stack[sp++] = i + 1 + in->imm; /* a subprogram it calls */
      if (is_jump(in)) {
        stack[sp++] = i + 1 + in->off;
        if (BPF_OP(in->code) == BPF_JA)
          break;
      }
      i++;
    }
  }
  free(stack);
  return live;
}

void em_remove_dead_code(Emitter *e, const char *kill) {
  int n = e->n;
  char *live = reachable(e);
  for (int i = 0; kill && i < n; i++)
    if (kill[i])
      live[i] = 0;
  int *newpos = malloc(sizeof(int) * (n + 1)), m = 0;
  for (int i = 0; i < n; i++) {
    newpos[i] = m;
    if (live[i])
      m++;
  }
  newpos[n] = m;
  if (m != n) {
    for (int i = 0; i < n; i++) {
      struct bpf_insn *in = &e->insns[i];
      if (live[i] && is_jump(in))
        in->off = newpos[i + 1 + in->off] - (newpos[i] + 1);
      else if (live[i] && ((in->code == (BPF_LD | BPF_DW | BPF_IMM) &&
                            in->src_reg == BPF_PSEUDO_FUNC) || is_local_call(in)))
        in->imm = newpos[i + 1 + in->imm] - (newpos[i] + 1);
    }
    for (int i = 0, j = 0; i < n; i++)
      if (live[i])
        e->insns[j++] = e->insns[i];
    e->n = m;
  }
  free(live);
  free(newpos);
}

void em_free(Emitter *e) {
  free(e->insns);
  free(e->labels);
  free(e->fixups);
  e->insns = NULL;
  e->labels = NULL;
  e->fixups = NULL;
  e->n = e->cap = e->nlabels = e->nfixups = 0;
}
