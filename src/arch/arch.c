/* arch.c - choose the register table (arch.h) and look things up in it. */
#include "arch/arch.h"

#include <string.h>

static const Arch *selected; /* --arch, for listings of another machine's code */

/* The one place that picks an architecture: the one etrace was built for,
 * unless --arch chose another. */
const Arch *arch_current(void) {
  if (selected)
    return selected;
#if defined(__x86_64__)
  return &arch_x86_64;
#elif defined(__aarch64__)
  return &arch_arm64;
#else
#error "no register table for this architecture: add src/arch/NAME.c (see arch.h)"
#endif
}

int arch_select(const char *name) {
  if (!strcmp(name, "x86_64") || !strcmp(name, "amd64") || !strcmp(name, "x86-64"))
    selected = &arch_x86_64;
  else if (!strcmp(name, "aarch64") || !strcmp(name, "arm64"))
    selected = &arch_arm64;
  else
    return -1;
  return 0;
}

int arch_syscall_nr(const char *name) {
  const Arch *a = arch_current();
  for (int i = 0; i < a->nsyscalls; i++)
    if (!strcmp(a->syscalls[i].name, name))
      return a->syscalls[i].nr;
  return -1;
}

int arch_reg_offset(const char *name) {
  const Arch *a = arch_current();
  for (int i = 0; i < a->nregs; i++)
    if (!strcmp(a->regs[i].name, name))
      return a->regs[i].off;
  return -1;
}

bool arch_func_arg(int i, int *reg_off, int *stack_off) {
  const Arch *a = arch_current();
  if (i < a->nfunc_args) {
    *reg_off = a->func_args[i];
    return true;
  }
  *stack_off = a->stack_arg0 + 8 * (i - a->nfunc_args);
  return false;
}
