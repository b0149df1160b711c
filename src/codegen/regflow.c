/* regflow.c - the peephole rewrites that need register liveness (which
 * registers a later instruction may still read), computed over the whole
 * program, jumps included:
 *
 *  - a register write nothing reads goes (r1 = ctx before a call that
 *    overwrites r1, r6 = r0 kept for a value never used);
 *  - `rA = X; rB = rA` with rA dead afterwards becomes `rB = X`;
 *  - a stack load into a register that already holds what the slot holds
 *    (stored from it, with neither changed since) goes;
 *  - a zero extension of what a narrow load just zero-extended goes.
 *
 * Instructions marked in kill[] are treated as gone.  Each pass returns
 * whether it changed anything; peephole() runs them until none does.
 */
#include "etrace.h"
#include "codegen/cg.h"

#include <stdlib.h>
#include <string.h>

#define REG(r) (1u << (r))
#define CALL_ARGS (REG(1) | REG(2) | REG(3) | REG(4) | REG(5))
#define CALL_CLOBBERS (REG(0) | CALL_ARGS)

static bool is_ld_imm64(const struct bpf_insn *in) { return in->code == (BPF_LD | BPF_DW | BPF_IMM); }

static bool is_jmp_class(const struct bpf_insn *in) {
  return BPF_CLASS(in->code) == BPF_JMP || BPF_CLASS(in->code) == BPF_JMP32;
}

/* The argument registers a helper call reads: helpers that take none
 * (the rest are taken to read all five). */
static unsigned call_args(const struct bpf_insn *in) {
  if (in->src_reg == BPF_PSEUDO_CALL)
    return CALL_ARGS;
  switch (in->imm) {
  case BPF_FUNC_ktime_get_ns:
  case BPF_FUNC_ktime_get_boot_ns:
  case BPF_FUNC_ktime_get_coarse_ns:
  case BPF_FUNC_get_prandom_u32:
  case BPF_FUNC_get_smp_processor_id:
  case BPF_FUNC_get_current_pid_tgid:
  case BPF_FUNC_get_current_uid_gid:
  case BPF_FUNC_get_current_task:
  case BPF_FUNC_get_current_cgroup_id:
  case BPF_FUNC_get_numa_node_id:
  case BPF_FUNC_jiffies64:
    return 0;
  default:
    return CALL_ARGS;
  }
}

/* Registers instruction in reads (*use) and writes (*def). */
static void use_def(const struct bpf_insn *in, unsigned *use, unsigned *def) {
  int cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
  unsigned src = BPF_SRC(in->code) == BPF_X ? REG(in->src_reg) : 0;
  *use = *def = 0;
  switch (cls) {
  case BPF_ALU:
  case BPF_ALU64:
    *def = REG(in->dst_reg);
    *use = op == BPF_MOV ? src : REG(in->dst_reg) | (op == BPF_NEG || op == BPF_END ? 0 : src);
    return;
  case BPF_LDX:
    *use = REG(in->src_reg);
    *def = REG(in->dst_reg);
    return;
  case BPF_ST:
    *use = REG(in->dst_reg);
    return;
  case BPF_STX:
    *use = REG(in->dst_reg) | REG(in->src_reg);
    if (BPF_MODE(in->code) == BPF_ATOMIC && (in->imm & BPF_FETCH))
      *def = in->imm == BPF_CMPXCHG ? REG(0) : REG(in->src_reg);
    return;
  case BPF_LD:
    *def = is_ld_imm64(in) ? REG(in->dst_reg) : CALL_CLOBBERS; /* legacy packet loads: r0, scratch */
    *use = is_ld_imm64(in) ? 0 : REG(6) | src;
    return;
  default: /* jumps */
    if (op == BPF_CALL) {
      *use = call_args(in);
      *def = CALL_CLOBBERS;
    } else if (op == BPF_EXIT) {
      *use = REG(0);
    } else if (op != BPF_JA) {
      *use = REG(in->dst_reg) | src;
    }
  }
}

/* live[i]: registers live after instruction i (read on some path before
 * being written). */
static unsigned *liveness(const struct bpf_insn *insns, int n, const char *kill) {
  unsigned *out = calloc(n + 1, sizeof *out), *in = calloc(n + 2, sizeof *in);
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = n - 1; i >= 0; i--) {
      const struct bpf_insn *x = &insns[i];
      if (i > 0 && is_ld_imm64(&insns[i - 1]))
        continue; /* the second half of a 64-bit load */
      int op = BPF_OP(x->code);
      unsigned o = 0, use, def;
      if (is_jmp_class(x) && op != BPF_CALL && op != BPF_EXIT) {
        int t = i + 1 + x->off;
        if (t >= 0 && t <= n)
          o |= in[t];
        if (op != BPF_JA || BPF_CLASS(x->code) != BPF_JMP)
          o |= in[i + 1];
      } else if (!(is_jmp_class(x) && op == BPF_EXIT)) {
        o = in[is_ld_imm64(x) ? i + 2 : i + 1];
      }
      if (kill[i])
        use = def = 0;
      else
        use_def(x, &use, &def);
      unsigned li = use | (o & ~def);
      if (o != out[i] || li != in[i]) {
        out[i] = o;
        in[i] = li;
        changed = true;
      }
    }
  }
  free(in);
  return out;
}

/* A write with no other effect: ALU, a load from memory, a 64-bit
 * constant (not a callback's address: reachability follows those). */
static bool pure_def(const struct bpf_insn *in) {
  int cls = BPF_CLASS(in->code);
  if (cls == BPF_ALU || cls == BPF_ALU64)
    return in->dst_reg != BPF_REG_10;
  if (cls == BPF_LDX)
    return BPF_MODE(in->code) == BPF_MEM && in->dst_reg != BPF_REG_10;
  return is_ld_imm64(in) && in->src_reg != BPF_PSEUDO_FUNC;
}

static int next_live(const char *kill, int n, int i, const struct bpf_insn *insns) {
  for (i += is_ld_imm64(&insns[i]) ? 2 : 1; i < n && kill[i]; i++)
    ;
  return i;
}

/* Dead writes, and rA = X; rB = rA with rA dead after. */
static bool dead_defs_and_moves(const struct bpf_insn *cinsns, int n, const char *target, char *kill) {
  struct bpf_insn *insns = (struct bpf_insn *)cinsns;
  unsigned *live = liveness(insns, n, kill);
  bool changed = false;
  for (int i = 0; i < n; i++) {
    struct bpf_insn *in = &insns[i];
    if (kill[i] || (i > 0 && is_ld_imm64(&insns[i - 1])))
      continue;
    if (!pure_def(in))
      continue;
    int d = in->dst_reg;
    if (!(live[i] & REG(d))) {
      kill[i] = 1;
      if (is_ld_imm64(in))
        kill[i + 1] = 1;
      changed = true;
      continue;
    }
    /* rA = X (X not reading rA); rB = rA; rA dead after */
    int j = next_live(kill, n, i, insns);
    if (j >= n || target[j] || (is_ld_imm64(in) && i + 1 < n && target[i + 1]))
      continue;
    struct bpf_insn *mv = &insns[j];
    if (mv->code != (BPF_ALU64 | BPF_MOV | BPF_X) || mv->off || mv->src_reg != d ||
        mv->dst_reg == d || mv->dst_reg == BPF_REG_10 || (live[j] & REG(d)))
      continue;
    unsigned use, def;
    use_def(in, &use, &def);
    bool plain = (BPF_CLASS(in->code) == BPF_ALU64 || BPF_CLASS(in->code) == BPF_ALU)
                     ? BPF_OP(in->code) == BPF_MOV && !(use & REG(d))
                     : !(use & REG(d)) || BPF_CLASS(in->code) == BPF_LDX;
    if (!plain)
      continue;
    in->dst_reg = mv->dst_reg;
    kill[j] = 1;
    changed = true;
  }
  free(live);
  return changed;
}

/* Stack loads of a value a register still holds: after *(r10+s) = rX,
 * a load rX = *(r10+s) in the same straight-line stretch, with neither
 * rX nor memory written between, goes.  Calls and stores through other
 * pointers may write the stack: they end what is known. */
static bool forwarded_loads(const struct bpf_insn *insns, int n, const char *target, char *kill) {
  int slot_of[11];
  bool changed = false;
  for (int r = 0; r < 11; r++)
    slot_of[r] = 1; /* 1: holds no known slot (slots are negative) */
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *in = &insns[i];
    if (target[i])
      for (int r = 0; r < 11; r++)
        slot_of[r] = 1;
    if (kill[i])
      continue;
    int cls = BPF_CLASS(in->code);
    if (cls == BPF_LDX && in->src_reg == BPF_REG_10 && BPF_SIZE(in->code) == BPF_DW &&
        BPF_MODE(in->code) == BPF_MEM && slot_of[in->dst_reg] == in->off) {
      kill[i] = 1;
      changed = true;
      continue;
    }
    if (cls == BPF_STX || cls == BPF_ST) {
      bool dw = BPF_SIZE(in->code) == BPF_DW && BPF_MODE(in->code) == BPF_MEM;
      /* a store elsewhere may alias the stack; one to the stack ends what
       * is known of the slots it overlaps (any size: within 8 bytes) */
      for (int r = 0; r < 11; r++)
        if (slot_of[r] != 1 && (in->dst_reg != BPF_REG_10 || BPF_MODE(in->code) != BPF_MEM ||
                                (slot_of[r] < in->off + 8 && in->off < slot_of[r] + 8)))
          slot_of[r] = 1;
      if (BPF_MODE(in->code) != BPF_MEM) /* an atomic may write its source register */
        for (int r = 0; r < 11; r++)
          slot_of[r] = 1;
      if (cls == BPF_STX && dw && in->dst_reg == BPF_REG_10 && in->src_reg != BPF_REG_10)
        slot_of[in->src_reg] = in->off;
      continue;
    }
    if (is_jmp_class(in)) {
      int op = BPF_OP(in->code);
      if (op == BPF_CALL || op == BPF_EXIT || op == BPF_JA)
        for (int r = 0; r < 11; r++)
          slot_of[r] = 1;
      continue;
    }
    unsigned use, def;
    use_def(in, &use, &def);
    for (int r = 0; r < 11; r++)
      if (def & REG(r))
        slot_of[r] = 1;
    if (is_ld_imm64(in))
      i++;
  }
  return changed;
}

/* A zero extension right after a load that zero-extended already:
 * rX = *(u32 *)...; wX = wX (or rX &= 0xffff after a u16 load ...). */
static bool extended_loads(const struct bpf_insn *insns, int n, const char *target, char *kill) {
  bool changed = false;
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *ld = &insns[i];
    if (kill[i] || BPF_CLASS(ld->code) != BPF_LDX || BPF_MODE(ld->code) != BPF_MEM ||
        BPF_SIZE(ld->code) == BPF_DW)
      continue;
    int j = next_live(kill, n, i, insns);
    if (j >= n || target[j])
      continue;
    const struct bpf_insn *x = &insns[j];
    int bits = BPF_SIZE(ld->code) == BPF_W ? 32 : BPF_SIZE(ld->code) == BPF_H ? 16 : 8;
    bool mov32 = x->code == (BPF_ALU | BPF_MOV | BPF_X) && x->off == 0 &&
                 x->dst_reg == ld->dst_reg && x->src_reg == ld->dst_reg;
    bool mask = x->code == (BPF_ALU64 | BPF_AND | BPF_K) && x->dst_reg == ld->dst_reg &&
                bits < 32 && (uint32_t)x->imm == (1u << bits) - 1;
    if (mov32 || mask) {
      kill[j] = 1;
      changed = true;
    }
  }
  return changed;
}

bool regflow(Cg *cg, const char *target, char *kill) {
  bool a = forwarded_loads(cg->em.insns, cg->em.n, target, kill);
  bool b = dead_defs_and_moves(cg->em.insns, cg->em.n, target, kill);
  bool c = extended_loads(cg->em.insns, cg->em.n, target, kill);
  return a || b || c;
}
