/* builtin.h - the builtin table.
 *
 * Every builtin function (printf, str, count, bswap ...) and builtin
 * variable (pid, comm, nsecs, args, retval ...) of the language is one
 * Builtin entry in one of the theme files of this folder.  Semantic
 * analysis finds the entry by name (builtin_find), checks the arity and
 * the probe capabilities it needs, calls its type check and records the
 * entry in the node; code generation then calls the entry's generators
 * through the node.  Neither looks at a builtin's name.
 *
 * Adding a builtin = one entry (and its functions) in the theme file it
 * belongs to; a new theme file = one line in registry.c.
 */
#ifndef ETRACE_BUILTIN_H
#define ETRACE_BUILTIN_H

#include "etrace.h"
#include "sema/sema.h"
#include "codegen/cg.h"

/* How a builtin is written: as a variable (pid), a call (str(p)), or both
 * (kstack, kstack(perf)). */
enum { BUILTIN_VAR = 1, BUILTIN_FUNC = 2 };

/* What a builtin needs of the probe (Builtin.needs) is a set of
 * PROBE_CAP_* (etrace.h), which the probe's provider gives each target
 * (Target.caps); Target.kind names the probe type in messages. */

/* Flags of an entry. */
enum {
  BUILTIN_ARGS_RECORD = 1 << 0, /* args: args.NAME / args.ARRAY[i] read the record */
  BUILTIN_REAL_CTX = 1 << 1,    /* needs the program's real context (bpf_get_stackid) */
  BUILTIN_NUMBERED = 1 << 2,    /* the name is a prefix followed by digits: arg0, arg1 ... */
  BUILTIN_STABLE = 1 << 3,      /* a variable whose value cannot change while a program runs
                                 * (a map key of it is built once: codegen/keycache.c) */
};

#define ARGS_ANY (-1) /* max_args: the type check counts the arguments itself */

typedef struct Builtin {
  const char *name;
  int form;                 /* BUILTIN_VAR | BUILTIN_FUNC */
  int min_args, max_args;   /* functions; max_args ARGS_ANY: checked by .check */
  unsigned needs;           /* PROBE_CAP_* the probe must have */
  const char *needs_msg;    /* error elsewhere: {name} and {probe} are replaced */
  unsigned flags;           /* BUILTIN_* */
  /* The type of the expression (NULL after an error, reported with serr). */
  Type *(*check)(Sema *sema, Node *e);
  /* Aggregations (@m = count()): the map value's type, and the update. */
  TypeKind aggregate;
  Type *(*check_assign)(Sema *sema, Node *call);
  void (*gen_assign)(Cg *cg, Node *lhs, Node *call);
  /* Code: the value in r0; or written at r10+off laid out as dst (strings,
   * buffers, addresses, symbols: the buffer is already zeroed); or the
   * builtin as a statement (printf, exit ...).  A call used as a statement
   * without gen_stmt runs gen_value for its effects. */
  void (*gen_value)(Cg *cg, Node *e);
  void (*gen_store)(Cg *cg, Node *e, int off, const Type *dst);
  void (*gen_stmt)(Cg *cg, Node *e);
  /* gen_store writes the first store_fills bytes of its buffer in full
   * (a helper that pads with zeros): cg_store zeroes only the rest. */
  int store_fills;
  /* A printed type (ksym ...): the kind it returns and its text, which
   * builtin_check attaches to the type (Type.print) for the runtime. */
  TypeKind prints;
  void (*format)(Buf *b, const Type *t, const unsigned char *data);
} Builtin;

/* The entry for NAME written as `form` (BUILTIN_VAR or BUILTIN_FUNC), or NULL. */
const Builtin *builtin_find(const char *name, int form);
/* Type-check e (ND_BUILTIN or ND_CALL) through its entry: arity, probe
 * capabilities, then the entry's check; records the entry in e->builtin. */
Type *builtin_check(Sema *sema, Node *e);
/* The entry of e if e is a builtin (variable or call) with all of `flags`. */
bool builtin_has(const Node *e, unsigned flags);

/* The theme tables, each ended by an entry without a name. */
extern const Builtin builtins_aggregations[], builtins_strings[], builtins_time[],
    builtins_stacks[], builtins_network[], builtins_output[], builtins_maps[],
    builtins_process[], builtins_context[], builtins_integers[], builtins_debug[],
    builtins_cgroup[], builtins_watchpoints[];

/* output.c: a record of two integers (exit code, map id, top/div) for
 * user space; also clear() and zero() (maps.c). */
void cg_simple_record(Cg *cg, RecKind kind, int id, Node *a, Node *b, Loc loc);

#endif
