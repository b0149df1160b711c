/* watchpoint.h - what the watchpoint provider's two files share:
 * watchpoint.c (the address form, breakpoints, unwatch) and
 * watchpoint_func.c (the FUNCTION+argN form and its setup uprobes).
 */
#ifndef WATCHPOINT_H
#define WATCHPOINT_H

#include "providers/provider.h"

extern const Provider provider_watchpoint, provider_watchpoint_setup;

/* One breakpoint a watchpoint target opened (fd -1: refused, or closed
 * by unwatch()). */
typedef struct Armed {
  uint64_t addr;
  int fd;
} Armed;

/* A watchpoint target's data. */
typedef struct Watch {
  uint64_t addr;       /* the address form's address (0: FUNCTION+argN) */
  int len, mode;       /* 1, 2, 4, 8; HW_BREAKPOINT_* */
  bool on_arg;         /* FUNCTION+argN: armed at run time by its setup uprobe */
  bool async;          /* asyncwatchpoint: the process is not stopped meanwhile */
  Armed *armed;        /* every address seen, in order */
  int narmed;
} Watch;

/* Parse LENGTH and MODE into w (located errors).  0 or -1. */
int watch_parse_len_mode(const char *len, const char *mode, Loc loc, Watch *w);
/* w's mode in bpftrace's sorted spelling: "w", "rw", "x" ... */
const char *watch_mode_name(int mode);
/* Expand "FUNCTION+argN" (func_arg) of watchpoint x into a watchpoint
 * target and its setup uprobe per matching function.  0 or -1. */
int watch_expand_func(ProvExpand *x, const char *func_arg, Watch *w);

#endif
