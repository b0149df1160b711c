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
  int max_stack;        /* frames a stack keeps at most (read once; 0: not yet) */
  DwarfTypes *dwarf;    /* uprobe argument types read from DWARF so far */
} Sema;

/* An error, reported only by the last walk (the quiet walks learn types). */
#define serr(sema, loc, ...)        \
  do {                              \
    if ((sema)->final_pass)         \
      diag_error(loc, __VA_ARGS__); \
  } while (0)

/* Helpers of sema.c that the builtins' type checks use. */
Type *store_type(Type *t);
bool is_scalar(const Type *t);
bool is_object(const Type *t);
bool object_value_ok(Sema *sema, const Type *t, Loc loc);
bool is_symbolic(const Type *t);
Type *new_kind(TypeKind kind, int size);
MapInfo *find_map(Sema *sema, const char *name);
void check_map_keys(Sema *sema, Node *e, MapInfo *m);
int add_site(Sema *sema, RecKind kind, const char *fmt, Type *args, Loc loc);
bool is_user_probe(Sema *sema);
Node *arg_n(Node *e, int i);
bool want_args(Sema *sema, Node *e, int min, int max);
bool want_int(Sema *sema, Node *a, const char *fn);
bool want_str_lit(Sema *sema, Node *a, const char *fn, const char *what);
bool want_const(Sema *sema, Node *a, const char *fn, int64_t *out);
bool want_map(Sema *sema, Node *a, const char *fn);
MapInfo *map_arg(Sema *sema, Node *a, const char *fn);
Type *check_expr(Sema *sema, Node *e);

#endif
