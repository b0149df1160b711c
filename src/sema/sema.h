/* sema.h - the semantic checker's state and the helpers that the
 * builtin table's type checks (src/builtins/) share with sema.c. */
#ifndef ETRACE_SEMA_H
#define ETRACE_SEMA_H

#include "etrace.h"

/* One checker run (sema_program): everything the walks share. */
typedef struct Sema {
  Compiled *c;
  const Options *opt;
  Target *cur;          /* target being checked */
  bool final_pass;      /* report errors only in the last walk */
  int loop_depth;
  /* Scratch variables are scoped to one probe walk (bpftrace 0.17 rule). */
  VarInfo **vars;
  int nvars, cap_vars;
  /* Inside a for-over-map body, variables [0, for_outer_limit) belong to
   * the enclosing probe's frame and are out of reach (-1: not in one). */
  int for_outer_limit;
} Sema;

/* An error, reported only by the last walk (the quiet walks learn types). */
#define serr(sema, loc, ...)        \
  do {                              \
    if ((sema)->final_pass)         \
      diag_error(loc, __VA_ARGS__); \
  } while (0)

#endif
