/* cg.h - the code generator's state and the emitter that cg.c and the
 * builtin table's code generators (src/builtins/) share.  See cg.c for
 * the register stack and the frame layout. */
#ifndef ETRACE_CG_H
#define ETRACE_CG_H

#include "etrace.h"
#include "codegen/emit.h"
#include "codegen/insn.h"

#define STACK_MAX 512
#define NREGS 4          /* r6..r9 */
#define CTX_OFF (-8)

/* A callback subprogram, emitted after the main program: the body of a
 * for-over-map loop, or the empty callback len() counts with. */
#define CAPTURE_MAX 16
typedef struct Sub {
  int label;
  Node *loop;          /* ND_FOR_MAP, or NULL for len() */
  /* the caller's variables the loop body uses, at their caller offsets */
  struct { VarInfo *var; int off; } cap[CAPTURE_MAX];
  int ncap;
} Sub;

/* A map key built once for the whole probe (keycache.c). */
#define KEYCACHE_MAX 8
typedef struct KeyCache {
  Node *first;          /* an access with these key bytes */
  int uses;
  int off;              /* its slot */
  int built_depth;      /* the cond_depth it was filled at, while the code
                         * being generated is still inside that region
                         * (-1: not filled on every path to here) */
  int val_off;          /* the value read with this key (0: not kept) */
  bool val_valid;       /* that slot holds the map's value on every path to here */
} KeyCache;

typedef struct Cg {
  Emitter em;           /* instructions, labels, jump fixups (emit.c) */
  int stack;            /* bytes in use below r10 */
  int max_stack;
  int depth;            /* register-stack depth */
  int spill[64];        /* stack slot of each spilled depth (0: none yet) */
  int brk[32], cont[32];/* loop labels */
  int nloops;
  int exit_label;
  Sub subs[16];
  int nsubs;
  VarInfo **vars;       /* variables of this target and their slots */
  int nvars;
  uint64_t var_addressed; /* bit i: vars[i]'s slot address was taken (bits 63+: any) */
  bool frame_escapes;   /* r10 itself was handed out (captures of a for-each) */
  Target *t;
  Compiled *c;
  bool failed;
  int ctx_off;          /* the program's own ctx (bpf_get_stackid needs it) */
  long unrolled;        /* unroll copies made so far */
  unsigned drop_sub;    /* kinds (1 << DROP_*) counted by calling a subprogram */
  int drop_label[3];    /* each one's label (-1: not called yet) */
  int drop_sites[3];    /* drop counts emitted, by kind */
  int comm_off;         /* slot holding the probe's one bpf_get_current_comm() (0: none) */
  int pid_tgid_off;     /* slot holding the probe's one bpf_get_current_pid_tgid()
                         * for pid and tid (0: they call it themselves) */
  bool dst_zeroed;      /* the next cg_store: its buffer is all zeros already */
  bool str_unzeroed;    /* the next cg_store: a str() read need not zero its
                         * buffer (a printf record is read up to the NUL) */
  Loc stmt_loc;         /* the statement being generated (-k reports) */
  KeyCache keys[KEYCACHE_MAX];
  int nkeys;
  int cond_depth;       /* > 0: the code being generated runs on some paths only */
  int loop_depth;       /* > 0: the code being generated may run again (a loop) */
  const Probe *zero_scope; /* declare_var: skip zeroing what this probe assigns first */
  int ctx_rec;          /* the context is the stack record at r10+ctx_rec
                         * (0: it is a pointer, in the slot at CTX_OFF) */
} Cg;

/* Nested unroll()s multiply (100^5 copies would take hours and all
 * memory): generation stops, with an error, once a probe is past these. */
#define CG_MAX_EMIT 2000000   /* instructions, twice the kernel's limit */
#define CG_MAX_UNROLLED 1000000


void emit(Cg *cg, struct bpf_insn in);
void emit_imm64(Cg *cg, int reg, uint64_t v);
void emit_map(Cg *cg, int reg, const MapInfo *m);
int label_new(Cg *cg);
void label_here(Cg *cg, int l);
void ja(Cg *cg, int label);
void jmp_imm(Cg *cg, int op, int reg, int32_t imm, int label);
void jmp_reg(Cg *cg, int op, int a, int b, int label);
void fail(Cg *cg, Loc loc, const char *fmt, const char *arg);
int slot(Cg *cg, int size, Loc loc);
void stack_release(Cg *cg, int mark);
void emit_zero(Cg *cg, int off, int size);
void emit_copy(Cg *cg, int doff, int src_reg, int soff, int size);
void emit_addr(Cg *cg, int reg, int off);
void cg_current_comm(Cg *cg, int off, int size); /* r10+off = comm, all size bytes written */
void cg_pid_tgid(Cg *cg); /* r0 = bpf_get_current_pid_tgid(), shared when used twice */
void push(Cg *cg, Loc loc);
void peek(Cg *cg, int reg, int d);
void pop(Cg *cg, int reg);
void canonicalize(Cg *cg, int reg, const Type *t);
bool cg_kernel_has_cpuv4(void); /* sdiv/smod, movsx, sign-extending loads: 6.6 on */
/* e into r1 or r2 beside r0 without the register stack, as the right
 * operand of op: the register, or 0 (nothing emitted) */
int cg_operand_reg(Cg *cg, const Node *e, Op op);
void set_r0_bool(Cg *cg, int yes);
void load_ctx(Cg *cg, int reg);
MapInfo *internal_map(Cg *cg, const char *name);
void count_drop(Cg *cg, int idx);
int cg_addr(Cg *cg, Node *e, const Type *as);
int size_code(int size);
int build_key(Cg *cg, Node *mapnode);
void map_lookup(Cg *cg, const MapInfo *m, int koff);
void map_update(Cg *cg, const MapInfo *m, int koff, int voff);
/* for loops over maps sharing the probe's variables (capture.c) */
void capture_find(Cg *cg, Sub *sub);
int capture_copy_in(Cg *cg, const Sub *sub, Loc loc);
void capture_copy_out(Cg *cg, const Sub *sub, int ctx_slot);
void capture_restore(const Sub *sub);
/* -k/-kk: report a failed helper call (helper_errors.c) */
void cg_check_helper(Cg *cg, int helper, int level, Loc loc);
/* argN, args.NAME, retval, func where the target's provider says
 * (ArgRef: providers/provider.h). */
void cg_arg(Cg *cg, Node *e, int ref, int i);
void cg_object_addr(Cg *cg, Node *e);
bool object_user(const Node *e);
/* The helper that reads memory of no known address space (str, buf of an
 * integer address): the legacy probe_read(_str) where the kernel has it
 * (x86-64: kernel memory, else user memory); else (arm64) the user read
 * in a probe of a user binary, the kernel read elsewhere. */
int cg_any_space_read(Cg *cg, bool str);
void cg_str_compare(Cg *cg, Node *a, Node *b, int limit);
void cg_str_jumps(Cg *cg, Node *a, Node *b, int limit, int ne);
/* cond.c: conditions as jumps */
void cg_cond(Cg *cg, Node *e, int label, bool when);
bool cg_is_condition(const Node *e);
void cg_bool_value(Cg *cg, Node *e);
bool cg_const_imm(Cg *cg, const Node *e, int32_t *out);
bool cg_fold(Cg *cg, const Node *e, uint64_t *out); /* e's value when known now (fold.c) */
/* keycache.c: slots for keys used more than once (before the probe's
 * code), and the slot of a key (0: none; *built: already filled) */
void keycache_plan(Cg *cg, const Probe *p);
int keycache_slot(Cg *cg, const Node *m, bool *built);
/* Code that runs on some paths only starts and ends (cond_depth; a key
 * built inside is forgotten when it ends) */
void cg_cond_enter(Cg *cg);
void cg_cond_leave(Cg *cg);
/* The value of a read with a cached key, kept for later reads of it: r0
 * := the kept value (true), or false when none is kept here; keep r0 as
 * the value just read; forget the values of map m (NULL: every map). */
int keycache_value_slot(Cg *cg, const Node *m); /* the slot of a kept value of m (0: none) */
bool keycache_value_load(Cg *cg, const Node *m);
void keycache_value_keep(Cg *cg, const Node *m);
void keycache_forget_values(Cg *cg, const MapInfo *m);
/* peephole.c: marks in kill[] the instructions that can go */
void peephole(Cg *cg, char *kill);
/* regflow.c: the rewrites that need register liveness (peephole's) */
bool regflow(Cg *cg, const char *target, char *kill);
void cg_scalar(Cg *cg, Node *e);
void read_str(Cg *cg, int off, int size, int helper);
void store_string_literal(Cg *cg, const char *s, int len, int off, int size);
void cg_store(Cg *cg, Node *e, int off, const Type *dst);
void cg_for_each(Cg *cg, MapInfo *m, Node *loop, Loc loc);
void submit_record(Cg *cg, int roff, int size);
void submit_exit_record(Cg *cg, int roff, int size); /* after the stop flag; no drop count */
void cg_set_stop(Cg *cg, Node *code); /* exit(code): no more records from the probes */
void cg_skip_if_stopped(Cg *cg, int label); /* to label once exit() has set the stop flag */
void emit_store_halves(Cg *cg, int base, int off, uint32_t lo, uint32_t hi);
int record_header(Cg *cg, RecKind kind, int id, int datasize, Loc loc);
int reserve_record(Cg *cg, int size, RecKind kind, int id, int done);
void submit_reserved(Cg *cg);
int target_index(Cg *cg, const Target *t);
MapInfo *add_internal_map(Compiled *c, const char *name, int val_size);
int64_t posparam_int(Cg *cg, Node *e);
int var_slot(Cg *cg, VarInfo *v);

/* For providers' prologues: the context pointer := reg; keep the real
 * context for stack walks before pointing it at a rebuilt record (leaves
 * it in r1); what the probe reads. */
void cg_set_ctx(Cg *cg, int reg);
/* The context is a record the prologue built at r10+rec: args.NAME loads
 * read the stack directly (only the fields the probe reads need be set). */
void cg_set_ctx_record(Cg *cg, int rec);
void cg_keep_real_ctx(Cg *cg, Loc loc);
bool cg_probe_uses_field(const Probe *p, const char *name); /* args.NAME (NULL: any) */
bool cg_probe_uses_stack(const Probe *p);

#endif
