/* provider.h - the provider table.
 *
 * A provider is one kind of probe (tracepoint, uprobe, iter ...).  Each
 * lives in one file of src/providers/ and exports one `const Provider`:
 * its names, how it expands attach points into targets, what programs on
 * its targets may read (args, argN, retval, func, ctx), how they are
 * loaded, prologue and epilogue code, attaching, running, and listing.
 * Semantic analysis, code generation, loading, attaching and listing loop
 * over the registry (registry.c) and never name a provider.
 *
 * Adding a provider: write src/providers/NAME.c exporting
 * `const Provider provider_NAME = {...}` and add X(provider_NAME) to the
 * list in registry.c.  Every hook may be NULL (the field says what that
 * means); a provider needs at least a name, expand, prog_spec and attach.
 *
 * Layering: providers call the attach helpers (attach.h) and the target
 * helpers below; list.c and the stages call providers through the
 * registry.  Nothing below a provider calls back up.
 */
#ifndef PROVIDER_H
#define PROVIDER_H

#include "etrace.h"
#include "codegen/cg.h"
#include "sema/sema.h"

#include <linux/bpf.h>

/* ------------------------------------------------------- semantic analysis */

/* One attach point to expand, "PREFIX:REST" as written (positional
 * parameters substituted). */
typedef struct ProvExpand {
  Compiled *c;
  const Options *opt;
  Probe *probe;
  const char *text;     /* the whole attach point */
  const char *prefix;   /* the provider name as written ("ur", "t", "BEGIN") */
  const char *rest;     /* after "PREFIX:"; NULL when the text has no colon */
  Loc loc;
} ProvExpand;

/* Add a target for x's probe (also registers its name for `probe`). */
Target *prov_add_target(ProvExpand *x, const Provider *p, const char *name, const char *kind,
                        unsigned caps, void *data);
/* Index of name in c->probe_names, added when new (`probe`, `func`). */
int prov_probe_name(Compiled *c, const char *name);

/* ----------------------------------------------------------- code generation */

/* Where a value a builtin reads lives: a constant, or an argument spec on
 * the context (UA_REG: a u64 at a ctx offset, pt_regs or u64 args[];
 * UA_MEM: memory addressed from ctx registers). */
typedef enum { ARG_INDEX, ARG_FIELD, ARG_RETVAL, ARG_FUNC } ArgRef;
typedef struct ArgLoc {
  bool is_const;
  uint64_t value;       /* is_const */
  UsdtArg a;
  bool kernel_mem;      /* UA_MEM reads kernel memory (else user) */
} ArgLoc;

/* x86-64 function arguments and return value in struct pt_regs (kprobes,
 * uprobes): argument i in the System V registers, then on the stack above
 * the return address (read from kernel or user memory). */
void prov_regs_arg(int i, bool kernel, ArgLoc *out);
void prov_regs_retval(ArgLoc *out);

/* Prologue and epilogue hooks emit with the shared emitter (codegen/cg.h). */

/* ------------------------------------------------------- load, attach, run */

/* How to load a target's program.  A provider may offer several in order
 * (tp_btf, then raw_tp): the first the kernel takes is used, and its
 * number is stored in Target.load_attempt. */
typedef struct ProgSpec {
  enum bpf_prog_type type;
  enum bpf_attach_type expected_attach_type;
  int attach_btf_id;
  const char *label;    /* for -v: "tp_btf" */
} ProgSpec;

typedef struct AttachEnv {
  int pid;              /* -p */
  int cpid;             /* -c child */
  int ncpu;             /* possible CPUs */
  /* keep an fd owning an attachment (closed at detach): add_link(arg, fd) */
  void (*add_link)(void *arg, int fd);
  /* close a kept fd now (a watchpoint unwatch()ed while running) */
  void (*drop_link)(void *arg, int fd);
  void *arg;
} AttachEnv;

static inline void attach_keep(const AttachEnv *env, int fd) { env->add_link(env->arg, fd); }
static inline void attach_drop(const AttachEnv *env, int fd) { env->drop_link(env->arg, fd); }

/* What a provider's run-time event handler (Provider.on_event) may do:
 * attach and detach, and print a line of the program's output (a JSON
 * record of `type` with -f json). */
typedef struct EventEnv {
  const AttachEnv *attach;
  void (*message)(void *arg, const char *type, const char *text);
  void *arg;
} EventEnv;

/* Say why attaching t failed with -errno err (the usual message). */
void prov_attach_error(const Target *t, int err);

/* The end of most attach functions: keep fd (0), or say why attaching
 * failed with -errno fd (-1). */
int prov_attach_result(const Target *t, const AttachEnv *env, int fd);

typedef enum {
  RUN_BEGIN,            /* before attaching (BEGIN sees no other probe fire first) */
  RUN_MAIN,             /* instead of waiting for events (iterators) */
  RUN_END,              /* after detaching */
} RunPhase;
typedef struct RunEnv {
  void (*drain)(void *arg);  /* read the ring buffer: drain(arg) */
  void *arg;
  const bool *stop;     /* set when the program should stop */
} RunEnv;

/* ----------------------------------------------------------------- listing */

typedef struct ListQuery {
  const char *glob;     /* one glob of -l (no commas) */
  const char *prefix;   /* its provider as written; NULL: it names no provider */
  const char *rest;     /* after "PREFIX:" (NULL with prefix) */
  int pid;              /* -p: list in that process (uprobes, USDT); 0: none */
  void (*add)(void *arg, char *name);
  void *arg;
} ListQuery;

/* ----------------------------------------------------------------- the table */

struct Provider {
  const char *name;               /* canonical: "tracepoint" */
  const char *const *aliases;     /* other prefixes it answers to, NULL-ended */
  bool bare;                      /* written without a colon (BEGIN, END) */

  /* Expand x into targets with prov_add_target: 0, or -1 after a
   * located error. */
  int (*expand)(ProvExpand *x);
  /* After every attach point is expanded: the program as a whole
   * (iter: alone with BEGIN/END).  0 or -1 after an error. */
  int (*check_program)(const Compiled *c);
  /* After semantic analysis (the syscall dispatcher takes over
   * syscalls:* tracepoint targets). */
  void (*finish)(Compiled *c);
  /* The type of builtin e (args, argN, retval, func, ctx: those its
   * target's caps allow) on t, in *out (NULL after an error, reported
   * with serr).  False: the usual type (args: a record, argN and retval:
   * u64, func: a probe name). */
  bool (*type_builtin)(Sema *sema, Target *t, Node *e, Type **out);
  /* args.NAME (e->name): its type, setting e->field_off, or NULL after an
   * error.  NULL hook: args is the record of record(). */
  Type *(*type_field)(Sema *sema, Target *t, Node *e);
  /* The record args points at, when it is a tracefs-style record. */
  const TpFormat *(*record)(const Target *t);
  /* The C type of the `ctx` builtin on its targets, as bpftrace types it
   * per program type ("struct bpf_perf_event_data *").  NULL: struct
   * pt_regs * on targets with PROBE_CAP_PT_REGS, else ctx is an error
   * (unless type_builtin types it). */
  const char *ctx_type;
  /* Its programs run in no particular address space (BEGIN/END, timers,
   * perf events, watchpoints): a pointer cast from a plain integer there
   * may be a kernel or a user address, read as bpftrace reads it (the
   * legacy probe_read where the kernel has it).  false: kernel memory,
   * or user memory on targets with a user site. */
  bool no_address_space;
  /* Where t sits in a user file (uprobes), for uaddr() and usym(). */
  const UserSite *(*user_site)(const Target *t);

  /* Where argN (i), args.NAME (i: e->field_off), retval and func live. */
  bool (*arg_loc)(const Target *t, ArgRef ref, int i, ArgLoc *out);
  int stack_skip;                 /* kernel frames kstack skips */
  /* Code before the predicate, with the context in r1; returns a state
   * for the epilogue (-1: none).  The epilogue runs after the probe body, before exit. */
  int (*prologue)(Cg *g, Target *t);
  /* args.NAME (f, a field of `record`) into r0, at least its low `width`
   * bytes (the value's type, which may be narrower than the field; the
   * caller extends them), without reading the record (r1 may be
   * clobbered, nothing else): true when emitted; false, or a NULL hook:
   * read the record. */
  bool (*field_load)(Cg *g, Target *t, const TpField *f, int width);
  /* Code first of all, with the context in r1 (left there): leave early
   * when the event is not t's (a syscall probe alone on a raw
   * tracepoint runs for every syscall), before -p, pid/tid or keys. */
  void (*entry_check)(Cg *g, Target *t);
  void (*epilogue)(Cg *g, Target *t, int state);

  /* Program spec number `attempt` for t: 0, or -1 when there is none. */
  int (*prog_spec)(Target *t, int attempt, ProgSpec *out);
  /* Its code depends on the program spec (a tp_btf program reads typed
   * pointers directly, a raw_tp one through helpers): each target is
   * compiled once per spec, with Target.load_attempt set to it while its
   * hooks run.  false: one listing serves every spec. */
  bool code_per_spec;
  /* After every program is loaded.  0 or -1 after an error. */
  int (*loaded)(Compiled *c);

  /* Once, before any target is attached (the syscall dispatchers). */
  int (*attach_program)(Compiled *c, const AttachEnv *env);
  /* Attach t, handing each fd to env->add_link: 0, or -1 after an error. */
  int (*attach)(Target *t, const AttachEnv *env);
  /* Does the kernel run the programs on t's hook last attached first (a
   * uprobe's or kprobe's consumer list is prepended to)?  Then targets of
   * such hooks are attached in reverse probe order, so that several
   * probes on one event run in program order.  NULL: no. */
  bool (*newest_first)(const Target *t);
  /* A REC_TARGET_EVENT record for t (TEV_* event, value) while the
   * program runs: 0, or -1 after an error (reported; the program stops). */
  int (*on_event)(Target *t, uint64_t event, uint64_t value, const EventEnv *env);
  /* Run t at phase: 0 nothing to do, 1 done and the program should end,
   * -1 after an error. */
  int (*run)(Target *t, RunPhase phase, const RunEnv *env);

  /* -l: add the probes matching q; 0, or -1 after an error. */
  int (*list)(const ListQuery *q);
  /* -lv: print the arguments of listed probe `name`, one "    TYPE NAME" each. */
  void (*list_verbose)(FILE *f, const char *name);
};

/* ----------------------------------------------------------------- registry.c */

extern const Provider *const providers[];
extern const int nproviders;
/* The provider answering to name[0..len). */
const Provider *provider_find(const char *name, size_t len);
/* t->prov's user site, or NULL */
static inline const UserSite *target_user_site(const Target *t) {
  return t->prov->user_site ? t->prov->user_site(t) : NULL;
}
static inline const TpFormat *target_record(const Target *t) {
  return t->prov->record ? t->prov->record(t) : NULL;
}

#endif
