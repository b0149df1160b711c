/* x86_64.c - the x86-64 register table (arch.h).
 *
 * Offsets are those of the kernel's struct pt_regs (arch/x86/include/asm/
 * ptrace.h), which is also the layout user space sees for a uprobe.
 * Functions take their integer arguments in rdi rsi rdx rcx r8 r9 (System
 * V ABI); system calls take the fourth in r10 instead of rcx, because the
 * syscall instruction overwrites rcx. */
#include "arch/arch.h"

#include <ctype.h>
#include <string.h>

enum {
  R15 = 0, R14 = 8, R13 = 16, R12 = 24, BP = 32, BX = 40, R11 = 48, R10 = 56,
  R9 = 64, R8 = 72, AX = 80, CX = 88, DX = 96, SI = 104, DI = 112, ORIG_AX = 120,
  IP = 128, CS = 136, FLAGS = 144, SP = 152, SS = 160,
};

/* bpftrace's names for reg() */
static const ArchReg regs[] = {
    {"r15", R15}, {"r14", R14}, {"r13", R13}, {"r12", R12}, {"bp", BP},
    {"bx", BX},   {"r11", R11}, {"r10", R10}, {"r9", R9},   {"r8", R8},
    {"ax", AX},   {"cx", CX},   {"dx", DX},   {"si", SI},   {"di", DI},
    {"orig_ax", ORIG_AX}, {"ip", IP}, {"cs", CS}, {"flags", FLAGS}, {"sp", SP},
    {"ss", SS},
};

/* Register names as GCC writes them in USDT notes, with the width each
 * selects (ah..dh are the second byte of their register). */
static const ArchUsdtReg usdt_regs[] = {
    {"rax", AX, 8},  {"eax", AX, 4},  {"ax", AX, 2},  {"al", AX, 1},   {"ah", AX + 1, 1},
    {"rbx", BX, 8},  {"ebx", BX, 4},  {"bx", BX, 2},  {"bl", BX, 1},   {"bh", BX + 1, 1},
    {"rcx", CX, 8},  {"ecx", CX, 4},  {"cx", CX, 2},  {"cl", CX, 1},   {"ch", CX + 1, 1},
    {"rdx", DX, 8},  {"edx", DX, 4},  {"dx", DX, 2},  {"dl", DX, 1},   {"dh", DX + 1, 1},
    {"rsi", SI, 8},  {"esi", SI, 4},  {"si", SI, 2},  {"sil", SI, 1},
    {"rdi", DI, 8},  {"edi", DI, 4},  {"di", DI, 2},  {"dil", DI, 1},
    {"rbp", BP, 8},  {"ebp", BP, 4},  {"bp", BP, 2},  {"bpl", BP, 1},
    {"rsp", SP, 8},  {"esp", SP, 4},  {"sp", SP, 2},  {"spl", SP, 1},
    {"rip", IP, 8},  {"eip", IP, 4},
    {"r8", R8, 8},   {"r9", R9, 8},   {"r10", R10, 8}, {"r11", R11, 8},
    {"r12", R12, 8}, {"r13", R13, 8}, {"r14", R14, 8}, {"r15", R15, 8},
};

/* "%rax" -> offset and width; r8d/r8w/r8b style suffixes narrow r8..r15. */
static bool usdt_reg(const char **sp, int *off, int *size) {
  const char *s = *sp;
  if (*s != '%')
    return false;
  s++;
  char name[8];
  int n = 0;
  while (isalnum((unsigned char)s[n]) && n < 7) {
    name[n] = s[n];
    n++;
  }
  name[n] = 0;
  int width = 8;
  if (n >= 3 && name[0] == 'r' && isdigit((unsigned char)name[1])) {
    char last = name[n - 1];
    if (last == 'd' || last == 'w' || last == 'b') {
      width = last == 'd' ? 4 : last == 'w' ? 2 : 1;
      name[n - 1] = 0;
    }
  }
  for (size_t i = 0; i < sizeof usdt_regs / sizeof usdt_regs[0]; i++)
    if (!strcmp(name, usdt_regs[i].name)) {
      *off = usdt_regs[i].off;
      *size = width < usdt_regs[i].size ? width : usdt_regs[i].size;
      *sp = s + n;
      return true;
    }
  return false;
}

const Arch arch_x86_64 = {
    .name = "x86_64",
    .ip = IP,
    .sp = SP,
    .retval = AX,
    .syscall_nr = ORIG_AX,
    .nfunc_args = 6,
    .func_args = {DI, SI, DX, CX, R8, R9},
    .nsyscall_args = 6,
    .syscall_args = {DI, SI, DX, R10, R8, R9},
    .stack_arg0 = 8, /* the return address is at sp */
    .regs = regs,
    .nregs = sizeof regs / sizeof regs[0],
    .usdt_reg = usdt_reg,
};
