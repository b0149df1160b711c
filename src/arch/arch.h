/* arch.h - the machine's registers, as BPF programs see them.
 *
 * One table per architecture describes struct pt_regs (the context of
 * uprobe, kprobe, USDT and perf-event programs, and what the sys_enter /
 * sys_exit raw tracepoints point at): where the instruction and stack
 * pointers, the function and system-call arguments, the return value and
 * the system-call number are, every register by the name reg() accepts,
 * and the register names a USDT note's argument specs use.
 *
 * arch_current() is the one place that chooses the table: it is the
 * machine etrace was built for, since programs are compiled and run on
 * the same machine.  Adding an architecture = one file (arch/NAME.c)
 * defining one `const Arch` and one line in arch_current().
 */
#ifndef ETRACE_ARCH_H
#define ETRACE_ARCH_H

#include <stdbool.h>

#define ARCH_MAX_ARGS 8 /* argument registers the tables may list */

/* A register by name: its byte offset in struct pt_regs. */
typedef struct ArchReg {
  const char *name;
  short off;
} ArchReg;

/* A register name in a USDT argument spec ("%eax", "%r8d"): its offset
 * and the width the name selects (%al: 1 byte). */
typedef struct ArchUsdtReg {
  const char *name;
  short off, size;
} ArchUsdtReg;

/* How a USDT note writes a memory operand: "-8(%rbp)" (AT&T, x86-64) or
 * "[sp, 16]" (arm64, where a constant is a bare number, not "$5"). */
typedef enum { USDT_SYNTAX_ATT, USDT_SYNTAX_ARM } UsdtSyntax;

typedef struct ArchSyscall {
  const char *name;
  int nr;
} ArchSyscall;

typedef struct Arch {
  const char *name;           /* "x86_64": uname -m, and in messages */
  int ip, sp;                 /* instruction and stack pointer offsets */
  int retval;                 /* return value (uretprobe, kretprobe) */
  int syscall_nr;             /* the system-call number (orig_ax on x86-64) */
  int syscall_nr_size;        /* its width when not 8 (arm64's syscallno: 4) */
  int nfunc_args;             /* function arguments in registers */
  int func_args[ARCH_MAX_ARGS];
  int nsyscall_args;          /* system-call arguments (in the registers at entry) */
  int syscall_args[ARCH_MAX_ARGS];
  /* function arguments past the registers: 8-byte slots above sp, the
   * first at sp + stack_arg0 (past the return address on x86-64) */
  int stack_arg0;
  const ArchReg *regs;        /* every pt_regs field, by the name reg() takes */
  int nregs;
  /* USDT: parse one register name at *s ("%eax" on x86-64); on success
   * advance *s and set the offset and width.  false when it is not a
   * register.  (The memory-operand syntax around it, "-8(%rbp)", is
   * parsed by symbols/elfsym.c; an architecture writing it differently,
   * arm64's "[sp, 16]", extends that parser.) */
  bool (*usdt_reg)(const char **s, int *off, int *size);
  UsdtSyntax usdt_syntax;
  /* system-call names (as in sys_enter_NAME) and numbers */
  const ArchSyscall *syscalls;
  int nsyscalls;
  /* The kernel offers the legacy bpf_probe_read (kernel, else user memory):
   * only where the two address spaces do not overlap
   * (CONFIG_ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE: x86-64, not arm64). */
  bool legacy_probe_read;
} Arch;

/* The table of the machine etrace runs on, or the one arch_select chose. */
const Arch *arch_current(void);

/* --arch NAME: compile for another machine's registers (code listings with
 * --dry-run; nothing compiled for another architecture can be loaded).
 * "x86_64"/"amd64", "aarch64"/"arm64".  -1 for an unknown name. */
int arch_select(const char *name);

/* A system call's number by name, or -1. */
int arch_syscall_nr(const char *name);

/* reg("name"): the pt_regs offset, or -1 for a name this arch lacks. */
int arch_reg_offset(const char *name);

/* Function argument i (0-based): true with the pt_regs offset of its
 * register; false with *stack_off the offset from sp of its stack slot. */
bool arch_func_arg(int i, int *reg_off, int *stack_off);

extern const Arch arch_x86_64, arch_arm64;

#endif
