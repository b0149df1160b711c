/* peephole.c - instructions that can go once a program is laid out
 * (jumps resolved), before dead code is dropped: the dropping pass
 * (remove_dead_code in cg.c) removes what this marks and re-aims jumps.
 *
 *  - stores to the context save slot (r10-8) when nothing reads it back,
 *    or when a later store replaces it before any read;
 *  - a stack store whose bytes later stores all replace, with only
 *    register arithmetic and other stack stores between;
 *  - loads of the context pointer into a register that still holds it;
 *  - register moves into a register that already holds the value, and a
 *    stack load right after a store of the same register to the same slot;
 *  - jumps to the next instruction;
 *  - 64-bit arithmetic that leaves its register as it was (+0, /1, *1,
 *    <<0, &-1 ...: lhist's step 1 divides by 1);
 *  - the zero extension of a narrow load (loads zero-extend), and its
 *    sign extension made part of it (a sign-extending load, cpu v4);
 *  - stores to the pid_tgid slot, a kept map value's slot or an integer
 *    variable's that nothing loads (their addresses are never taken).
 *
 * Only straight-line stretches are looked at: an instruction some jump
 * lands on starts a new stretch.
 */
#include "etrace.h"
#include "codegen/cg.h"

#include <stdlib.h>
#include <string.h>

static bool is_ld_imm64(const struct bpf_insn *in) { return in->code == (BPF_LD | BPF_DW | BPF_IMM); }

static bool is_branch(const struct bpf_insn *in) {
  return BPF_CLASS(in->code) == BPF_JMP || BPF_CLASS(in->code) == BPF_JMP32;
}

/* A plain store to r10+off (ST or STX, not atomic); its size in bytes. */
static int stack_store(const struct bpf_insn *in, int *off) {
  int cls = BPF_CLASS(in->code);
  if ((cls != BPF_ST && cls != BPF_STX) || BPF_MODE(in->code) != BPF_MEM ||
      in->dst_reg != BPF_REG_10)
    return 0;
  *off = in->off;
  static const int sizes[4] = {4, 2, 1, 8}; /* BPF_W, BPF_H, BPF_B, BPF_DW */
  return sizes[BPF_SIZE(in->code) >> 3];
}

static bool reads_ctx_slot(const struct bpf_insn *in) {
  return BPF_CLASS(in->code) == BPF_LDX && in->src_reg == BPF_REG_10 && in->off == CTX_OFF;
}

/* Is the store at i replaced by a later one before anything can read it?
 * The context slot's address is never taken: only loads from r10-8 read
 * it.  Other slots may be read through a pointer or by a helper. */
static bool store_replaced(const struct bpf_insn *insns, int n, const char *target,
                           const char *kill, int i) {
  int off, size = stack_store(&insns[i], &off);
  bool ctx_slot = off == CTX_OFF && size == 8;
  unsigned covered = 0, all = (1u << size) - 1; /* its bytes later stores write */
  for (int j = i + 1; j < n; j++) {
    const struct bpf_insn *in = &insns[j];
    if (kill[j] && !target[j])
      continue; /* gone */
    if (target[j] || (is_branch(in) && !(ctx_slot && BPF_OP(in->code) == BPF_CALL)) ||
        is_ld_imm64(in))
      return false;
    if (ctx_slot) {
      int o2;
      if (reads_ctx_slot(in))
        return false;
      if (stack_store(in, &o2) == 8 && o2 == CTX_OFF)
        return true;
      continue;
    }
    int o2, s2 = stack_store(in, &o2);
    if (s2) {
      for (int b = o2 > off ? o2 : off; b < o2 + s2 && b < off + size; b++)
        covered |= 1u << (b - off);
      if (covered == all)
        return true;
      if (BPF_CLASS(in->code) == BPF_STX && in->src_reg == BPF_REG_10)
        return false; /* the stack's address escapes */
      continue;
    }
    int cls = BPF_CLASS(in->code);
    if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX || cls == BPF_LD)
      return false; /* a memory access that might read it */
    if ((cls == BPF_ALU64 || cls == BPF_ALU) && BPF_SRC(in->code) == BPF_X &&
        in->src_reg == BPF_REG_10)
      return false; /* its address is taken */
  }
  return false;
}

/* The register an instruction writes, or -1. */
static int written_reg(const struct bpf_insn *in) {
  int cls = BPF_CLASS(in->code);
  if (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX || is_ld_imm64(in))
    return in->dst_reg;
  return -1;
}

/* Loads of the context pointer (r10-8) into a register that still holds
 * it from an earlier load or store in the same straight-line stretch. */
static void reused_ctx_loads(const struct bpf_insn *insns, int n, const char *target, char *kill) {
  bool holds[11] = {0};
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *in = &insns[i];
    if (target[i])
      memset(holds, 0, sizeof holds);
    if (kill[i])
      continue;
    int off;
    if (reads_ctx_slot(in) && BPF_SIZE(in->code) == BPF_DW) {
      if (holds[in->dst_reg]) {
        kill[i] = 1;
        continue;
      }
      holds[in->dst_reg] = true;
      continue;
    }
    if (stack_store(in, &off) && off == CTX_OFF) {
      memset(holds, 0, sizeof holds);
      if (BPF_CLASS(in->code) == BPF_STX && BPF_SIZE(in->code) == BPF_DW)
        holds[in->src_reg] = true;
      continue;
    }
    if (is_branch(in) && BPF_OP(in->code) == BPF_CALL) {
      for (int r = 0; r <= 5; r++)
        holds[r] = false;
      continue;
    }
    if (is_branch(in) && (BPF_OP(in->code) == BPF_EXIT || BPF_OP(in->code) == BPF_JA)) {
      memset(holds, 0, sizeof holds);
      continue;
    }
    int w = written_reg(in);
    if (w >= 0 && w <= 10)
      holds[w] = false;
    if (is_ld_imm64(in))
      i++;
  }
}

/* Forget what is known about register r. */
static void clobber(bool eq[11][11], int r) {
  for (int k = 0; k < 11; k++)
    eq[r][k] = eq[k][r] = false;
}

/* Register moves whose destination already holds the source's value
 * (r6 = r0 ... r0 = r6 with neither written between) in a straight-line
 * stretch. */
static void redundant_moves(const struct bpf_insn *insns, int n, const char *target, char *kill) {
  bool eq[11][11] = {{0}};
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *in = &insns[i];
    if (target[i])
      memset(eq, 0, sizeof eq);
    if (kill[i])
      continue;
    if (in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && in->off == 0 /* not a sign extension */ &&
        in->dst_reg < 11 && in->src_reg < 11) {
      int d = in->dst_reg, r = in->src_reg;
      if (d == r || eq[d][r]) {
        kill[i] = 1;
        continue;
      }
      clobber(eq, d);
      eq[d][r] = eq[r][d] = true;
      for (int k = 0; k < 11; k++) /* d now equals whatever r equals */
        if (eq[r][k] && k != d)
          eq[d][k] = eq[k][d] = true;
      continue;
    }
    if (is_branch(in)) {
      int op = BPF_OP(in->code);
      if (op == BPF_CALL)
        for (int r = 0; r <= 5; r++)
          clobber(eq, r);
      else if (op == BPF_EXIT || op == BPF_JA)
        memset(eq, 0, sizeof eq);
      continue;
    }
    int w = written_reg(in);
    if (w >= 0 && w < 11)
      clobber(eq, w);
    if (is_ld_imm64(in))
      i++;
  }
}

static void dead_stores(const struct bpf_insn *insns, int n, const char *target, char *kill);

/* A load and, next, its register's own extension to no more bits than
 * it loaded: the load of just those bytes (the low ones, where they are
 * on a little-endian machine), which zero-extends them, replaces both for
 * w = w; a sign-extending load of them for r = (sN)r, where the kernel
 * has those (cpu v4).  An 8-byte load is narrowed only from the stack:
 * some contexts take no narrower loads (a perf event's registers). */
static void load_extensions(Cg *cg, struct bpf_insn *insns, int n, const char *target,
                            char *kill) {
  static const int bits[4] = {32, 16, 8, 64}; /* BPF_W, BPF_H, BPF_B, BPF_DW */
  for (int i = 0; i + 1 < n; i++) {
    struct bpf_insn *ld = &insns[i], *ext = &insns[i + 1];
    if (is_ld_imm64(ld)) {
      i++;
      continue;
    }
    if (kill[i] || kill[i + 1] || target[i + 1] || BPF_CLASS(ld->code) != BPF_LDX ||
        BPF_MODE(ld->code) != BPF_MEM || ext->dst_reg != ld->dst_reg ||
        ext->src_reg != ld->dst_reg)
      continue;
    int loaded = bits[BPF_SIZE(ld->code) >> 3];
    if (loaded == 64 && ld->src_reg != BPF_REG_10)
      continue;
    if (ext->code == (BPF_ALU | BPF_MOV | BPF_X) && ext->off == 0) {
      if (loaded == 64)
        ld->code = BPF_LDX | BPF_MEM | BPF_W;
      kill[i + 1] = 1;
    } else if (ext->code == (BPF_ALU64 | BPF_MOV | BPF_X) && ext->off && ext->off <= loaded &&
               cg_kernel_has_cpuv4()) {
      ld->code = BPF_LDX | BPF_MEMSX | size_code(ext->off / 8);
      kill[i + 1] = 1;
    }
  }
}

/* r op= imm that changes nothing (64-bit only: 32-bit operations clear
 * the upper half). */
static void identity_alu(const struct bpf_insn *insns, int n, char *kill) {
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *in = &insns[i];
    if (is_ld_imm64(in)) {
      i++;
      continue;
    }
    if (BPF_CLASS(in->code) != BPF_ALU64 || BPF_SRC(in->code) != BPF_K)
      continue;
    switch (BPF_OP(in->code)) {
    case BPF_ADD: case BPF_SUB: case BPF_OR: case BPF_XOR:
    case BPF_LSH: case BPF_RSH: case BPF_ARSH:
      kill[i] |= in->imm == 0;
      break;
    case BPF_MUL: case BPF_DIV: /* unsigned or signed (off 1): both */
      kill[i] |= in->imm == 1;
      break;
    case BPF_AND:
      kill[i] |= in->imm == -1;
      break;
    }
  }
}

/* An integer variable whose slot is only ever read by stack loads. */
static bool private_var(const Cg *cg, int i) {
  const Type *t = cg->vars[i]->type;
  return i < 63 && !(cg->var_addressed & (1ull << i)) && t && t->kind == TY_INT && !t->is_ptr &&
         cg->vars[i]->stack_off;
}

/* Stores to a slot of the program's own frame whose address the code
 * generator never takes (the pid_tgid slot, kept map values: read only
 * by stack loads) when no load of it is left; n: where that frame's code
 * ends (subprograms have frames of their own). */
static void unread_private_stores(const struct bpf_insn *insns, int n, char *kill, int off) {
  if (!off)
    return;
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *in = &insns[i];
    if (!kill[i] && BPF_CLASS(in->code) == BPF_LDX && in->src_reg == BPF_REG_10 &&
        in->off < off + 8 && off < in->off + 8)
      return;
    if (is_ld_imm64(in))
      i++;
  }
  for (int i = 0; i < n; i++) {
    int o;
    if (!kill[i] && stack_store(&insns[i], &o) == 8 && o == off)
      kill[i] = 1;
    if (is_ld_imm64(&insns[i]))
      i++;
  }
}

/* Where jumps land, over the instructions left (a jump to a removed one
 * lands on the next one left), and where subprograms start (*main_end:
 * the first).  A jump that lands on the next instruction left goes. */
static void find_targets(const struct bpf_insn *insns, int n, char *target, char *kill,
                         int *main_end) {
  memset(target, 0, n + 1);
  *main_end = n; /* subprograms (own frames) follow the program's own code */
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *in = &insns[i];
    if (is_ld_imm64(in)) {
      if (in->src_reg == BPF_PSEUDO_FUNC && i + 1 + in->imm <= n) {
        target[i + 1 + in->imm] = 1;
        if (i + 1 + in->imm < *main_end)
          *main_end = i + 1 + in->imm;
      }
      i++;
      continue;
    }
    int op = BPF_OP(in->code);
    if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL &&
        i + 1 + in->imm >= 0 && i + 1 + in->imm <= n) {
      target[i + 1 + in->imm] = 1; /* a subprogram starts there */
      if (i + 1 + in->imm < *main_end)
        *main_end = i + 1 + in->imm;
    }
    if (kill[i] || !is_branch(in) || op == BPF_CALL || op == BPF_EXIT)
      continue;
    int t = i + 1 + in->off;
    if (t > n || t < 0)
      continue;
    while (t < n && kill[t])
      t++;
    int next = i + 1;
    while (next < n && kill[next])
      next++;
    if (in->code == (BPF_JMP | BPF_JA) && t == next)
      kill[i] = 1;
    else
      target[t] = 1;
  }
}

void peephole(Cg *cg, char *kill) {
  int n = cg->em.n;
  struct bpf_insn *insns = cg->em.insns;
  char *target = calloc(n + 1, 1);
  int main_end;
  /* each removal can expose another: until nothing changes (bounded) */
  for (int round = 0; round < 8; round++) {
    int before = 0, after = 0;
    for (int i = 0; i < n; i++)
      before += kill[i];
    find_targets(insns, n, target, kill, &main_end);
    reused_ctx_loads(insns, n, target, kill);
    find_targets(insns, n, target, kill, &main_end);
    redundant_moves(insns, n, target, kill);
    find_targets(insns, n, target, kill, &main_end);
    regflow(cg, target, kill);
    find_targets(insns, n, target, kill, &main_end);
    dead_stores(insns, n, target, kill);
    identity_alu(insns, n, kill);
    find_targets(insns, n, target, kill, &main_end);
    load_extensions(cg, insns, n, target, kill);
    unread_private_stores(insns, main_end, kill, cg->pid_tgid_off);
    for (int k = 0; k < cg->nkeys; k++)
      unread_private_stores(insns, main_end, kill, cg->keys[k].val_off);
    for (int v = 0; v < cg->nvars && !cg->frame_escapes; v++)
      if (private_var(cg, v))
        unread_private_stores(insns, main_end, kill, cg->vars[v]->stack_off);
    for (int i = 0; i < n; i++)
      after += kill[i];
    if (after == before)
      break;
  }
  free(target);
}

/* Stores nothing reads: to the context slot when no load of it is left,
 * and those a later store replaces first. */
static void dead_stores(const struct bpf_insn *insns, int n, const char *target, char *kill) {
  /* the last load of the context slot; with no backward jump, a store
   * after it is never read (callbacks' loads, in frames of their own,
   * count too: that only keeps more) */
  int last_read = -1;
  bool loops = false;
  for (int i = 0; i < n; i++) {
    if (reads_ctx_slot(&insns[i]) && !kill[i])
      last_read = i;
    if (is_branch(&insns[i]) && BPF_OP(insns[i].code) != BPF_CALL && insns[i].off < 0)
      loops = true;
  }
  for (int i = 0; i < n; i++) {
    const struct bpf_insn *in = &insns[i];
    if (is_ld_imm64(in)) {
      i++;
      continue;
    }
    if (kill[i])
      continue;
    int off;
    if (stack_store(in, &off)) {
      if (off == CTX_OFF && BPF_SIZE(in->code) == BPF_DW &&
          (last_read < 0 || (!loops && last_read < i)))
        kill[i] = 1;
      else if (store_replaced(insns, n, target, kill, i))
        kill[i] = 1;
    } else if (i > 0 && !target[i] && BPF_CLASS(in->code) == BPF_LDX && in->src_reg == BPF_REG_10 &&
               BPF_MODE(in->code) == BPF_MEM &&
               insns[i - 1].code == (BPF_STX | BPF_DW | BPF_MEM) && BPF_SIZE(in->code) == BPF_DW &&
               insns[i - 1].dst_reg == BPF_REG_10 && insns[i - 1].off == in->off &&
               insns[i - 1].src_reg == in->dst_reg && !kill[i - 1]) {
      kill[i] = 1; /* a load of what the previous instruction stored from the same register */
    } else if (in->code == (BPF_JMP | BPF_JA) && in->off == 0) {
      kill[i] = 1;
    }
  }
}
