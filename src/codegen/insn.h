/* insn.h - BPF instruction constructors (struct bpf_insn initialisers). */
#ifndef ETRACE_INSN_H
#define ETRACE_INSN_H

#include <linux/bpf.h>

#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80 /* sign-extending load (cpu v4, Linux 6.6) */
#endif

#define INSN(c, d, s, o, i) \
  ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

#define ALU64_REG(op, d, s) INSN(BPF_ALU64 | BPF_OP(op) | BPF_X, d, s, 0, 0)
#define ALU64_IMM(op, d, i) INSN(BPF_ALU64 | BPF_OP(op) | BPF_K, d, 0, 0, i)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | BPF_OP(op) | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV32_REG(d, s) INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
/* d = s sign-extended from its low 8, 16 or 32 bits (cpu v4) */
#define MOVSX64_REG(d, s, bits) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, bits, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV32_IMM(d, i) INSN(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define NEG64(d) INSN(BPF_ALU64 | BPF_NEG, d, 0, 0, 0)
/* d = d in big-endian byte order, bits 16/32/64 wide: a byte swap on x86 */
#define TO_BE(d, bits) INSN(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, bits)
/* Signed division and modulo: the off field selects them (cpu v4). */
#define SDIV64_REG(d, s) INSN(BPF_ALU64 | BPF_DIV | BPF_X, d, s, 1, 0)
#define SMOD64_REG(d, s) INSN(BPF_ALU64 | BPF_MOD | BPF_X, d, s, 1, 0)

#define LDX(size, d, s, o) INSN(BPF_LDX | BPF_SIZE(size) | BPF_MEM, d, s, o, 0)
#define STX(size, d, s, o) INSN(BPF_STX | BPF_SIZE(size) | BPF_MEM, d, s, o, 0)
#define ST_IMM(size, d, o, i) INSN(BPF_ST | BPF_SIZE(size) | BPF_MEM, d, 0, o, i)
#define ATOMIC_ADD64(d, s, o) INSN(BPF_STX | BPF_DW | BPF_ATOMIC, d, s, o, BPF_ADD)

/* 64-bit immediate: two instruction slots. */
#define LD_IMM64_LO(d, src, v) INSN(BPF_LD | BPF_DW | BPF_IMM, d, src, 0, (int32_t)(uint32_t)(v))
#define LD_IMM64_HI(v) INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(v) >> 32))

#define JMP_REG(op, d, s, o) INSN(BPF_JMP | BPF_OP(op) | BPF_X, d, s, o, 0)
#define JMP_IMM(op, d, i, o) INSN(BPF_JMP | BPF_OP(op) | BPF_K, d, 0, o, i)
/* compares the low 32 bits of d with imm */
#define JMP32_IMM(op, d, i, o) INSN(BPF_JMP32 | BPF_OP(op) | BPF_K, d, 0, o, i)
#define JA(o) INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define CALL(fn) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#endif
