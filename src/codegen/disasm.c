/* disasm.c - print BPF instructions as readable assembly (-d dis, golden
 * tests).  Syntax follows the kernel verifier log: "r1 = r10", "if r0 == 0x0
 * goto +3", "call 14".  Map loads show the map's name. */
#include "etrace.h"
#include "codegen/insn.h"

static const char *alu_op(int op) {
  switch (op) {
  case BPF_ADD: return "+=";
  case BPF_SUB: return "-=";
  case BPF_MUL: return "*=";
  case BPF_DIV: return "/=";
  case BPF_OR: return "|=";
  case BPF_AND: return "&=";
  case BPF_LSH: return "<<=";
  case BPF_RSH: return ">>=";
  case BPF_MOD: return "%=";
  case BPF_XOR: return "^=";
  case BPF_MOV: return "=";
  case BPF_ARSH: return "s>>=";
  }
  return "?=";
}

static const char *jmp_op(int op) {
  switch (op) {
  case BPF_JEQ: return "==";
  case BPF_JGT: return ">";
  case BPF_JGE: return ">=";
  case BPF_JSET: return "&";
  case BPF_JNE: return "!=";
  case BPF_JSGT: return "s>";
  case BPF_JSGE: return "s>=";
  case BPF_JLT: return "<";
  case BPF_JLE: return "<=";
  case BPF_JSLT: return "s<";
  case BPF_JSLE: return "s<=";
  }
  return "?";
}

static const char *size_name(int sz) {
  switch (sz) {
  case BPF_B: return "u8";
  case BPF_H: return "u16";
  case BPF_W: return "u32";
  default: return "u64";
  }
}

static void print_insn(FILE *f, const struct bpf_insn *in, const struct bpf_insn *next,
                       const Compiled *c) {
  int cls = BPF_CLASS(in->code);
  int op = BPF_OP(in->code);
  switch (cls) {
  case BPF_ALU64:
  case BPF_ALU: {
    const char *r = cls == BPF_ALU64 ? "r" : "w";
    if (op == BPF_NEG) {
      fprintf(f, "%s%d = -%s%d", r, in->dst_reg, r, in->dst_reg);
      break;
    }
    if (op == BPF_END) { /* byte order: r0 = be16 r0 */
      fprintf(f, "r%d = %s%d r%d", in->dst_reg, BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le",
              in->imm, in->dst_reg);
      break;
    }
    if (op == BPF_MOV && BPF_SRC(in->code) == BPF_X && in->off) { /* sign extension */
      fprintf(f, "%s%d = (s%d)%s%d", r, in->dst_reg, in->off, r, in->src_reg);
      break;
    }
    const char *o = alu_op(op);
    if ((op == BPF_DIV || op == BPF_MOD) && in->off == 1)
      o = op == BPF_DIV ? "s/=" : "s%=";
    if (BPF_SRC(in->code) == BPF_X)
      fprintf(f, "%s%d %s %s%d", r, in->dst_reg, o, r, in->src_reg);
    else
      fprintf(f, "%s%d %s %d", r, in->dst_reg, o, in->imm);
    break;
  }
  case BPF_LDX:
    fprintf(f, "r%d = *(%s%s *)(r%d %+d)", in->dst_reg, BPF_MODE(in->code) == BPF_MEMSX ? "s" : "",
            size_name(BPF_SIZE(in->code)) + (BPF_MODE(in->code) == BPF_MEMSX), in->src_reg, in->off);
    break;
  case BPF_STX:
    if (BPF_MODE(in->code) == BPF_ATOMIC)
      fprintf(f, "lock *(%s *)(r%d %+d) += r%d", size_name(BPF_SIZE(in->code)), in->dst_reg,
              in->off, in->src_reg);
    else
      fprintf(f, "*(%s *)(r%d %+d) = r%d", size_name(BPF_SIZE(in->code)), in->dst_reg, in->off,
              in->src_reg);
    break;
  case BPF_ST:
    fprintf(f, "*(%s *)(r%d %+d) = %d", size_name(BPF_SIZE(in->code)), in->dst_reg, in->off,
            in->imm);
    break;
  case BPF_LD:
    if (in->src_reg == BPF_PSEUDO_MAP_FD) {
      const char *name = c && in->imm >= 0 && in->imm < c->nmaps ? c->maps[in->imm]->name : "?";
      fprintf(f, "r%d = map[%s]", in->dst_reg, name);
    } else if (in->src_reg == BPF_PSEUDO_MAP_VALUE) {
      const char *name = c && in->imm >= 0 && in->imm < c->nmaps ? c->maps[in->imm]->name : "?";
      fprintf(f, "r%d = &map[%s] %+d", in->dst_reg, name, next ? next->imm : 0);
    } else {
      uint64_t v = (uint32_t)in->imm | (uint64_t)(next ? (uint32_t)next->imm : 0) << 32;
      fprintf(f, "r%d = 0x%llx ll", in->dst_reg, (unsigned long long)v);
    }
    break;
  case BPF_JMP:
    if (op == BPF_CALL && in->src_reg == BPF_PSEUDO_CALL)
      fprintf(f, "call pc%+d", in->imm);
    else if (op == BPF_CALL)
      fprintf(f, "call %d", in->imm);
    else if (op == BPF_EXIT)
      fprintf(f, "exit");
    else if (op == BPF_JA)
      fprintf(f, "goto %+d", in->off);
    else if (BPF_SRC(in->code) == BPF_X)
      fprintf(f, "if r%d %s r%d goto %+d", in->dst_reg, jmp_op(op), in->src_reg, in->off);
    else
      fprintf(f, "if r%d %s %d goto %+d", in->dst_reg, jmp_op(op), in->imm, in->off);
    break;
  case BPF_JMP32: /* compares the low 32 bits */
    if (BPF_SRC(in->code) == BPF_X)
      fprintf(f, "if w%d %s w%d goto %+d", in->dst_reg, jmp_op(op), in->src_reg, in->off);
    else
      fprintf(f, "if w%d %s %d goto %+d", in->dst_reg, jmp_op(op), in->imm, in->off);
    break;
  default:
    fprintf(f, "(code 0x%02x)", in->code);
  }
}

void disasm_print(FILE *f, const struct bpf_insn *insns, int n, const Compiled *c) {
  for (int i = 0; i < n; i++) {
    fprintf(f, "%4d: ", i);
    bool wide = BPF_CLASS(insns[i].code) == BPF_LD && BPF_SIZE(insns[i].code) == BPF_DW;
    print_insn(f, &insns[i], wide && i + 1 < n ? &insns[i + 1] : NULL, c);
    fputc('\n', f);
    if (wide)
      i++;
  }
}
