/* arch.c - choose the register table (arch.h) and look things up in it. */
#include "arch/arch.h"

#include <string.h>

/* The one place that picks an architecture: the one etrace was built for. */
const Arch *arch_current(void) {
#if defined(__x86_64__)
  return &arch_x86_64;
#else
#error "no register table for this architecture: add src/arch/NAME.c (see arch.h)"
#endif
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
