/* arm64.c - the arm64 (aarch64) register table (arch.h).
 *
 * Offsets are those of the kernel's struct pt_regs (arch/arm64/include/
 * asm/ptrace.h): it begins with struct user_pt_regs (x0..x30, sp, pc,
 * pstate), which is what user space sees for a uprobe, followed by
 * orig_x0 and the 32-bit syscallno.  Functions take their integer
 * arguments in x0..x7 (AAPCS64) and return in x0; the return address is
 * in x30, so stack arguments start at sp itself.  System calls take their
 * arguments in x0..x5; at sys_exit x0 holds the return value (orig_x0
 * keeps the first argument), but every reader of syscall_args runs at
 * sys_enter, where x0 is still the argument the call will use, and
 * x0..x5 are one span that one read copies (etrace record). */
#include "arch/arch.h"

#include <stdlib.h>
#include <string.h>

#define X(n) (8 * (n))
enum { SP = 248, PC = 256, PSTATE = 264, ORIG_X0 = 272, SYSCALLNO = 280 };

/* reg() names: x0..x30 and bpftrace's r0..r30 for the same registers.
 * syscallno is 32 bits wide and reg() reads 64, so it is not listed. */
#define XR(n) {"x" #n, X(n)}, {"r" #n, X(n)}
static const ArchReg regs[] = {
    XR(0),  XR(1),  XR(2),  XR(3),  XR(4),  XR(5),  XR(6),  XR(7),
    XR(8),  XR(9),  XR(10), XR(11), XR(12), XR(13), XR(14), XR(15),
    XR(16), XR(17), XR(18), XR(19), XR(20), XR(21), XR(22), XR(23),
    XR(24), XR(25), XR(26), XR(27), XR(28), XR(29), XR(30),
    {"fp", X(29)}, {"lr", X(30)},
    {"sp", SP}, {"pc", PC}, {"pstate", PSTATE}, {"orig_x0", ORIG_X0},
};

/* A register as GCC writes it in an aarch64 USDT note: x0..x30 (8 bytes),
 * w0..w30 (their low 4 bytes), sp.  No '%' prefix. */
static bool usdt_reg(const char **sp, int *off, int *size) {
  const char *s = *sp;
  if (!strncmp(s, "sp", 2) && !(s[2] >= 'a' && s[2] <= 'z') && !(s[2] >= '0' && s[2] <= '9')) {
    *off = SP;
    *size = 8;
    *sp = s + 2;
    return true;
  }
  if ((*s != 'x' && *s != 'w') || !(s[1] >= '0' && s[1] <= '9'))
    return false;
  char *end;
  long n = strtol(s + 1, &end, 10);
  if (n > 30 || end - (s + 1) > 2 || (end - (s + 1) == 2 && s[1] == '0'))
    return false;
  *off = X(n);
  *size = *s == 'x' ? 8 : 4;
  *sp = end;
  return true;
}

/* the generic table (asm-generic/unistd.h): scripts/gen-syscalls-arm64.sh */
static const ArchSyscall syscalls[] = {
#include "syscall_table_arm64.h"
};

const Arch arch_arm64 = {
    .name = "aarch64",
    .ip = PC,
    .sp = SP,
    .retval = X(0),
    .syscall_nr = SYSCALLNO,
    .syscall_nr_size = 4,
    .nfunc_args = 8,
    .func_args = {X(0), X(1), X(2), X(3), X(4), X(5), X(6), X(7)},
    .nsyscall_args = 6,
    .syscall_args = {X(0), X(1), X(2), X(3), X(4), X(5)},
    .stack_arg0 = 0, /* the return address is in x30, not on the stack */
    .regs = regs,
    .nregs = sizeof regs / sizeof regs[0],
    .usdt_reg = usdt_reg,
    .usdt_syntax = USDT_SYNTAX_ARM,
    .syscalls = syscalls,
    .nsyscalls = sizeof syscalls / sizeof syscalls[0],
};
