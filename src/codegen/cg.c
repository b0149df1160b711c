/* cg.c - AST to BPF instructions, one program per target.
 *
 * Scalars are computed into r0.  Intermediate results live on a register
 * stack (r6..r9, callee-saved, so they survive helper calls) that spills
 * to stack slots below r10 when it is deeper than four.  A binary
 * operator evaluates its left side, pushes it, evaluates its right side,
 * pops the left into r1 and combines.
 *
 * Strings and tuples never live in registers: they are written straight
 * into a destination on the BPF stack (cg_store).  Every destination is
 * zeroed before it is partly filled, because the verifier refuses reads
 * of uninitialised stack and because map keys must hash their padding.
 *
 * Invariant: a scalar in a register is the 64-bit canonical form of its
 * type (sign-extended if signed, zero-extended if not).
 *
 * Stack frame: r10-8 holds the context pointer (saved at entry); the
 * scratch variables follow; then temporaries, released per statement.
 */
#include "etrace.h"
#include "arch/arch.h"
#include "codegen/emit.h"
#include "codegen/insn.h"

#include <stdlib.h>
#include <string.h>

#define STACK_MAX 512
#define NREGS 4          /* r6..r9 */
#define CTX_OFF (-8)

/* A callback subprogram, emitted after the main program: the body of a
 * for-over-map loop, or the empty callback len() counts with. */
typedef struct Sub {
  int label;
  Node *loop;          /* ND_FOR_MAP, or NULL for len() */
} Sub;

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
  Target *t;
  Compiled *c;
  bool failed;
  int ctx_off;          /* the program's own ctx (bpf_get_stackid needs it) */
  long unrolled;        /* unroll copies made so far */
} Cg;

/* Nested unroll()s multiply (100^5 copies would take hours and all
 * memory): generation stops, with an error, once a probe is past these. */
#define CG_MAX_EMIT 2000000   /* instructions, twice the kernel's limit */
#define CG_MAX_UNROLLED 1000000

static Cg *G;

/* ------------------------------------------------------------ emission */

static void too_many(void) {
  if (!G->failed)
    diag_error(G->t->probe->loc, "probe %s needs more than %d instructions; the kernel allows 1000000",
               G->t->name, CG_MAX_EMIT);
  G->failed = true;
}

static void emit(struct bpf_insn in) {
  if (!em_insn(&G->em, in))
    too_many();
}

static void emit_imm64(int reg, uint64_t v) {
  if ((int64_t)v == (int32_t)v) {
    emit(MOV64_IMM(reg, (int32_t)v));
    return;
  }
  emit(LD_IMM64_LO(reg, 0, v));
  emit(LD_IMM64_HI(v));
}

/* Load a map's address.  imm holds the map id until load.c patches in
 * the fd. */
static void emit_map(int reg, const MapInfo *m) {
  emit(LD_IMM64_LO(reg, BPF_PSEUDO_MAP_FD, m->id));
  emit(LD_IMM64_HI(0));
}

static int label_new(void) { return em_label(&G->em); }

static void label_here(int l) { em_place(&G->em, l); }

static void jump_to(struct bpf_insn in, int label) {
  if (!em_jump(&G->em, in, label))
    too_many();
}

static void ja(int label) { jump_to(JA(0), label); }

/* reg = address of the subprogram at label (for bpf_for_each_map_elem) */
static void emit_func_addr(int reg, int label) {
  if (!em_func_addr(&G->em, reg, label))
    too_many();
}
static void jmp_imm(int op, int reg, int32_t imm, int label) { jump_to(JMP_IMM(op, reg, imm, 0), label); }
static void jmp_reg(int op, int a, int b, int label) { jump_to(JMP_REG(op, a, b, 0), label); }

static void fail(Loc loc, const char *fmt, const char *arg) {
  if (!G->failed)
    diag_error(loc, fmt, arg);
  G->failed = true;
}

/* ------------------------------------------------------------ stack */

static int slot(int size, Loc loc) {
  size = (size + 7) & ~7;
  G->stack += size;
  if (G->stack > G->max_stack)
    G->max_stack = G->stack;
  if (G->stack > STACK_MAX)
    fail(loc, "this probe needs more than the %s bytes of BPF stack; use fewer or shorter strings",
         "512");
  return -G->stack;
}

static void emit_zero(int off, int size) {
  for (int i = 0; i < size; i += 8)
    emit(ST_IMM(BPF_DW, BPF_REG_10, off + i, 0));
}

/* Copy size bytes (a multiple of 8) from src_reg+soff to r10+doff. */
static void emit_copy(int doff, int src_reg, int soff, int size) {
  for (int i = 0; i + 8 <= size; i += 8) {
    emit(LDX(BPF_DW, BPF_REG_1, src_reg, soff + i));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, doff + i));
  }
}

static void emit_addr(int reg, int off) {
  emit(MOV64_REG(reg, BPF_REG_10));
  emit(ALU64_IMM(BPF_ADD, reg, off));
}

/* ------------------------------------------------------------ register stack */

static void push(Loc loc) {
  if (G->depth < NREGS) {
    emit(MOV64_REG(BPF_REG_6 + G->depth, BPF_REG_0));
  } else {
    int d = G->depth - NREGS;
    if (d >= 64) {
      fail(loc, "expression too deep (%s levels)", "68");
      return;
    }
    if (!G->spill[d])
      G->spill[d] = slot(8, loc);
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, G->spill[d]));
  }
  G->depth++;
}

/* Copy the register-stack entry at depth d (0 = bottom) into reg. */
static void peek(int reg, int d) {
  if (d < NREGS)
    emit(MOV64_REG(reg, BPF_REG_6 + d));
  else
    emit(LDX(BPF_DW, reg, BPF_REG_10, G->spill[d - NREGS]));
}

static void pop(int reg) {
  G->depth--;
  if (G->depth < NREGS)
    emit(MOV64_REG(reg, BPF_REG_6 + G->depth));
  else
    emit(LDX(BPF_DW, reg, BPF_REG_10, G->spill[G->depth - NREGS]));
}

/* ------------------------------------------------------------ helpers */

static void canonicalize(int reg, const Type *t) {
  if (t->kind != TY_INT || t->int_size == 8)
    return;
  int bits = t->int_size * 8;
  if (t->is_signed) {
    emit(ALU64_IMM(BPF_LSH, reg, 64 - bits));
    emit(ALU64_IMM(BPF_ARSH, reg, 64 - bits));
  } else if (bits == 32) {
    emit(MOV32_REG(reg, reg));
  } else {
    emit(ALU64_IMM(BPF_AND, reg, (1 << bits) - 1));
  }
}

/* After a conditional jump to `yes`: r0 = 0 on the path that fell
 * through, r0 = 1 at yes, and both continue after. */
static void set_r0_bool(int yes) {
  int done = label_new();
  emit(MOV64_IMM(BPF_REG_0, 0));
  ja(done);
  label_here(yes);
  emit(MOV64_IMM(BPF_REG_0, 1));
  label_here(done);
}

static void load_ctx(int reg) { emit(LDX(BPF_DW, reg, BPF_REG_10, CTX_OFF)); }

/* Count a lost event: drops[idx] += 1 (per-CPU array). */
enum { DROP_RINGBUF = 0, DROP_MAP_FULL = 1, DROP_STACK = 2 };

static MapInfo *internal_map(const char *name) {
  for (int i = 0; i < G->c->nmaps; i++)
    if (!strcmp(G->c->maps[i]->name, name))
      return G->c->maps[i];
  return NULL;
}

static void count_drop(int idx) {
  int k = slot(8, (Loc){0});
  emit(ST_IMM(BPF_W, BPF_REG_10, k, idx));
  emit_map(BPF_REG_1, internal_map(".drops"));
  emit_addr(BPF_REG_2, k);
  emit(CALL(BPF_FUNC_map_lookup_elem));
  int skip = label_new();
  jmp_imm(BPF_JEQ, BPF_REG_0, 0, skip);
  emit(MOV64_IMM(BPF_REG_1, 1));
  emit(ATOMIC_ADD64(BPF_REG_0, BPF_REG_1, 0));
  label_here(skip);
}

/* ------------------------------------------------------------ variables */

static int var_slot(VarInfo *v) {
  for (int i = 0; i < G->nvars; i++)
    if (G->vars[i] == v)
      return v->stack_off;
  return 0;
}

static void declare_var(VarInfo *v, Loc loc) {
  if (!v || var_slot(v))
    return;
  int size = v->type && v->type->size ? v->type->size : 8;
  v->stack_off = slot(size, loc);
  emit_zero(v->stack_off, size);
  G->vars = realloc(G->vars, sizeof(VarInfo *) * (G->nvars + 1));
  G->vars[G->nvars++] = v;
}

/* Give every variable of the probe a zeroed slot up front, so that a
 * read on a path that skipped the assignment sees 0 / "". */
static void declare_vars(Node *n) {
  for (; n; n = n->next) {
    if ((n->kind == ND_VAR || n->kind == ND_LET || n->kind == ND_FOR_RANGE) && n->var)
      declare_var(n->var, n->loc);
    if (n->kind == ND_FOR_MAP)
      continue; /* its variables live in the callback's frame */
    declare_vars(n->lhs);
    declare_vars(n->rhs);
    declare_vars(n->cond);
    declare_vars(n->then);
    declare_vars(n->els);
    declare_vars(n->args);
    declare_vars(n->body);
  }
}

/* ------------------------------------------------------------ expressions */

static void cg_scalar(Node *e);
static void cg_store(Node *e, int off, const Type *dst);
static void cg_stmt(Node *s);
static void cg_for_each(MapInfo *m, Node *loop, Loc loc);
static void cg_loop_body(Node *body, int brk, int cont);

/* The stack offset where the value of aggregate e can be read: a
 * variable's own slot, or a temporary filled by cg_store. */
static int cg_addr(Node *e, const Type *as) {
  if (e->kind == ND_VAR && e->var && var_slot(e->var))
    return e->var->stack_off;
  int off = slot(as->size, e->loc);
  cg_store(e, off, as);
  return off;
}

static const TpField *tp_field(const char *name) {
  TpFormat *tp = G->t->tp;
  for (int i = 0; tp && i < tp->nfields; i++)
    if (!strcmp(tp->fields[i].name, name))
      return &tp->fields[i];
  return NULL;
}

static int size_code(int size) {
  return size == 1 ? BPF_B : size == 2 ? BPF_H : size == 4 ? BPF_W : BPF_DW;
}

/* Key of a map access, built on the stack; hist maps leave room for the
 * bucket index after the user key.  Returns the slot offset. */
static int build_key(Node *mapnode) {
  MapInfo *m = mapnode->map;
  int off = slot(m->key_size, mapnode->loc);
  /* Every key part is 8-byte aligned and sized and cg_store writes all
   * of it, so only the scalar-map key needs zeroing here. */
  if (m->nkeys == 0) {
    emit(ST_IMM(BPF_DW, BPF_REG_10, off, 0));
    return off;
  }
  if (m->nkeys == 1) {
    cg_store(mapnode->args, off, m->key);
    return off;
  }
  int i = 0;
  for (Node *a = mapnode->args; a; a = a->next, i++)
    cg_store(a, off + m->key->offsets[i], m->key->fields[i]);
  return off;
}

/* r0 = lookup(map, r10+koff) */
static void map_lookup(const MapInfo *m, int koff) {
  emit_map(BPF_REG_1, m);
  emit_addr(BPF_REG_2, koff);
  emit(CALL(BPF_FUNC_map_lookup_elem));
}

static void map_update(const MapInfo *m, int koff, int voff) {
  emit_map(BPF_REG_1, m);
  emit_addr(BPF_REG_2, koff);
  emit_addr(BPF_REG_3, voff);
  emit(MOV64_IMM(BPF_REG_4, BPF_ANY));
  emit(CALL(BPF_FUNC_map_update_elem));
  /* A full map rejects new keys: count it instead of losing it silently. */
  int ok = label_new();
  jmp_imm(BPF_JEQ, BPF_REG_0, 0, ok);
  count_drop(DROP_MAP_FULL);
  label_here(ok);
}

static void cg_map_read_scalar(Node *e) {
  int koff = build_key(e);
  map_lookup(e->map, koff);
  int miss = label_new(), done = label_new();
  jmp_imm(BPF_JEQ, BPF_REG_0, 0, miss);
  emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_0, 0));
  ja(done);
  label_here(miss);
  emit(MOV64_IMM(BPF_REG_0, 0));
  label_here(done);
}

/* Read a per-CPU aggregation as one number: sum (count, sum), min, max
 * or the average over every possible CPU's slot. */
static void cg_map_read_agg(Node *e) {
  MapInfo *m = e->map;
  TypeKind k = m->val->kind;
  bool sgn = m->val->is_signed;
  int koff = build_key(e);
  int acc = slot(24, e->loc); /* value, count (avg) / seen (min, max) */
  emit_zero(acc, 24);
  for (int cpu = 0; cpu < G->c->possible_cpus; cpu++) {
    int next = label_new();
    emit_map(BPF_REG_1, m);
    emit_addr(BPF_REG_2, koff);
    emit(MOV64_IMM(BPF_REG_3, cpu));
    emit(CALL(BPF_FUNC_map_lookup_percpu_elem));
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, next);
    emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0));
    emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_10, acc));
    if (k == TY_MIN || k == TY_MAX) {
      int take = label_new();
      emit(LDX(BPF_DW, BPF_REG_3, BPF_REG_0, 8));
      jmp_imm(BPF_JEQ, BPF_REG_3, 0, next);           /* no value on this CPU */
      emit(LDX(BPF_DW, BPF_REG_3, BPF_REG_10, acc + 8));
      jmp_imm(BPF_JEQ, BPF_REG_3, 0, take);           /* first value seen */
      int keep = k == TY_MIN ? (sgn ? BPF_JSGE : BPF_JGE) : (sgn ? BPF_JSLE : BPF_JLE);
      jmp_reg(keep, BPF_REG_1, BPF_REG_2, next);
      label_here(take);
      emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, acc));
      emit(ST_IMM(BPF_DW, BPF_REG_10, acc + 8, 1));
    } else {
      emit(ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
      emit(STX(BPF_DW, BPF_REG_10, BPF_REG_2, acc));
      if (k == TY_AVG) {
        emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 8));
        emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_10, acc + 8));
        emit(ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
        emit(STX(BPF_DW, BPF_REG_10, BPF_REG_2, acc + 8));
      }
    }
    label_here(next);
  }
  emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_10, acc));
  if (k == TY_AVG) {
    int done = label_new();
    emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_10, acc + 8));
    jmp_imm(BPF_JEQ, BPF_REG_1, 0, done);
    emit(sgn ? SDIV64_REG(BPF_REG_0, BPF_REG_1) : ALU64_REG(BPF_DIV, BPF_REG_0, BPF_REG_1));
    label_here(done);
  }
}

static void cg_user_arg(Node *e, int i);

static void cg_field_scalar(Node *e) {
  if (G->t->type == PT_UPROBE) { /* args.NAME: a DWARF-typed argN */
    cg_user_arg(e, e->field_off);
    return;
  }
  if (G->t->type == PT_KPROBE) { /* fentry's args.NAME, served by a kprobe */
    cg_user_arg(e, e->field_off / 8);
    return;
  }
  if (G->t->type == PT_RAWTP || G->t->type == PT_FENTRY || G->t->type == PT_FEXIT) {
    /* ctx: u64 args[] */
    load_ctx(BPF_REG_1);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, e->field_off));
    canonicalize(BPF_REG_0, e->type);
    return;
  }
  const TpField *f = tp_field(e->name);
  if (!f) {
    fail(e->loc, "tracepoint has no field '%s'", e->name);
    return;
  }
  load_ctx(BPF_REG_1);
  emit(LDX(size_code(f->size), BPF_REG_0, BPF_REG_1, f->offset));
  canonicalize(BPF_REG_0, e->type);
}

/* args.ARRAY[i]: a direct context load for a constant index; for a
 * computed one, a bounds check and a probe read (the verifier does not
 * allow variable offsets into the context). */
static void cg_index(Node *e) {
  const TpField *f = tp_field(e->lhs->name);
  if (!f) {
    fail(e->loc, "tracepoint has no field '%s'", e->lhs->name);
    return;
  }
  int elem = f->size / f->array_len;
  if (e->rhs->kind == ND_INT) {
    load_ctx(BPF_REG_1);
    emit(LDX(size_code(elem), BPF_REG_0, BPF_REG_1, f->offset + (int)e->rhs->ival * elem));
    canonicalize(BPF_REG_0, e->type);
    return;
  }
  int tmp = slot(8, e->loc), out = label_new();
  emit(ST_IMM(BPF_DW, BPF_REG_10, tmp, 0));
  cg_scalar(e->rhs);
  jmp_imm(BPF_JGE, BPF_REG_0, f->array_len, out);
  emit(ALU64_IMM(BPF_MUL, BPF_REG_0, elem));
  load_ctx(BPF_REG_3);
  emit(ALU64_IMM(BPF_ADD, BPF_REG_3, f->offset));
  emit(ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_0));
  emit_addr(BPF_REG_1, tmp);
  emit(MOV64_IMM(BPF_REG_2, elem));
  emit(CALL(BPF_FUNC_probe_read_kernel));
  label_here(out);
  emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_10, tmp));
  canonicalize(BPF_REG_0, e->type);
}

/* ------------------------------------------------------------ kernel objects
 *
 * A chain like curtask->real_parent->comm is address arithmetic on the
 * object's address, with one probe read per pointer followed: BPF cannot
 * load kernel memory directly outside BTF-aware program types. */

/* Whether the object e denotes lives in user memory (the root pointer's
 * address space). */
static bool object_user(const Node *e) {
  switch (e->kind) {
  case ND_FIELD: return e->arrow ? e->lhs->type->user : object_user(e->lhs);
  case ND_UNARY: return e->lhs->type->user;
  case ND_INDEX:
    return e->lhs->type->kind == TY_ARRAY ? object_user(e->lhs) : e->lhs->type->user;
  default: return false;
  }
}

/* Whether e is read from memory: a member of a record, p[i], a[i], *p. */
static bool is_object_read(const Node *e) {
  if (e->kind == ND_FIELD)
    return e->lhs->type->kind != TY_CTX;
  if (e->kind == ND_INDEX)
    return e->lhs->type->kind == TY_ARRAY || e->lhs->type->is_ptr;
  return e->kind == ND_UNARY && e->op == OP_DEREF;
}

/* r0 = the address of the object e denotes. */
static void cg_object_addr(Node *e) {
  switch (e->kind) {
  case ND_FIELD:
    if (e->arrow)
      cg_scalar(e->lhs);
    else
      cg_object_addr(e->lhs);
    if (e->field_off)
      emit(ALU64_IMM(BPF_ADD, BPF_REG_0, e->field_off));
    return;
  case ND_UNARY:
    cg_scalar(e->lhs);
    return;
  case ND_INDEX: {
    if (e->lhs->type->kind == TY_ARRAY)
      cg_object_addr(e->lhs);
    else
      cg_scalar(e->lhs);
    int elem = ty_mem_size(e->type);
    if (e->rhs->kind == ND_INT) {
      if (e->rhs->ival)
        emit(ALU64_IMM(BPF_ADD, BPF_REG_0, (int32_t)(e->rhs->ival * elem)));
      return;
    }
    push(e->loc);
    cg_scalar(e->rhs);
    emit(ALU64_IMM(BPF_MUL, BPF_REG_0, elem));
    pop(BPF_REG_1);
    emit(ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_1));
    return;
  }
  default:
    fail(e->loc, "cannot take the address of this expression%s", "");
  }
}

/* r0 = the integer or pointer e denotes in memory (zero if unreadable). */
static void cg_object_read(Node *e) {
  int mark = G->stack;
  int tmp = slot(8, e->loc);
  int size = e->bit_size ? (e->bit_shift + e->bit_size + 7) / 8 : ty_mem_size(e->type);
  emit(ST_IMM(BPF_DW, BPF_REG_10, tmp, 0));
  cg_object_addr(e);
  emit(MOV64_REG(BPF_REG_3, BPF_REG_0));
  emit_addr(BPF_REG_1, tmp);
  emit(MOV64_IMM(BPF_REG_2, size));
  emit(CALL(object_user(e) ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel));
  if (e->bit_size) {
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_10, tmp));
    if (e->bit_shift)
      emit(ALU64_IMM(BPF_RSH, BPF_REG_0, e->bit_shift));
    if (e->bit_size < 32) {
      emit(ALU64_IMM(BPF_AND, BPF_REG_0, (1 << e->bit_size) - 1));
    } else if (e->bit_size < 64) {
      emit(ALU64_IMM(BPF_LSH, BPF_REG_0, 64 - e->bit_size));
      emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 64 - e->bit_size));
    }
  } else {
    emit(LDX(size_code(size), BPF_REG_0, BPF_REG_10, tmp));
    canonicalize(BPF_REG_0, e->type);
  }
  G->stack = mark;
}

/* A char array member (task->comm) into a zeroed string buffer. */
static void cg_object_string(Node *e, int off, const Type *dst) {
  int n = e->type->size < dst->size ? e->type->size : dst->size - 1;
  cg_object_addr(e);
  emit(MOV64_REG(BPF_REG_3, BPF_REG_0));
  emit_addr(BPF_REG_1, off);
  emit(MOV64_IMM(BPF_REG_2, n));
  emit(CALL(object_user(e) ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel));
}

/* arg0..argN of uprobes (System V registers, then the stack above the
 * return address) and USDT probes (as the note's spec says).  ctx is
 * struct pt_regs: its fields are direct loads. */
static void cg_user_arg(Node *e, int i) {
  int stack_off;
  UsdtArg a = {.kind = UA_REG, .size = 8, .reg_size = 8, .index = -1};
  if (G->t->type == PT_FENTRY || G->t->type == PT_FEXIT) {
    /* fentry/fexit: ctx is an array of u64, argument i at 8 * i */
    load_ctx(BPF_REG_1);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 8 * i));
    canonicalize(BPF_REG_0, e->type);
    return;
  }
  if (G->t->type == PT_USDT)
    a = G->t->usdt->args[i];
  else if (!arch_func_arg(i, &a.reg, &stack_off))
    a = (UsdtArg){.kind = UA_MEM, .size = 8, .reg = arch_current()->sp, .index = -1,
                  .value = stack_off};
  load_ctx(BPF_REG_1);
  if (a.kind == UA_CONST) {
    emit_imm64(BPF_REG_0, a.value);
  } else if (a.kind == UA_REG) {
    emit(LDX(size_code(a.size < a.reg_size ? a.size : a.reg_size), BPF_REG_0, BPF_REG_1, a.reg));
  } else {
    /* address = base + index * scale + disp (or pc + disp), read from
     * the process's memory */
    int tmp = slot(8, e->loc);
    if (a.ip_rel || a.reg >= 0)
      emit(LDX(BPF_DW, BPF_REG_3, BPF_REG_1, a.ip_rel ? arch_current()->ip : a.reg));
    else
      emit(MOV64_IMM(BPF_REG_3, 0));
    if (a.index >= 0) {
      emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_1, a.index));
      emit(ALU64_IMM(BPF_MUL, BPF_REG_2, a.scale));
      emit(ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2));
    }
    if (a.value == (int32_t)a.value) {
      if (a.value)
        emit(ALU64_IMM(BPF_ADD, BPF_REG_3, (int32_t)a.value));
    } else {
      emit_imm64(BPF_REG_2, a.value);
      emit(ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2));
    }
    emit(ST_IMM(BPF_DW, BPF_REG_10, tmp, 0));
    emit_addr(BPF_REG_1, tmp);
    emit(MOV64_IMM(BPF_REG_2, a.size));
    emit(CALL(G->t->type == PT_KPROBE ? BPF_FUNC_probe_read_kernel : BPF_FUNC_probe_read_user));
    emit(LDX(size_code(a.size), BPF_REG_0, BPF_REG_10, tmp));
  }
  canonicalize(BPF_REG_0, e->type);
}

/* ------------------------------------------------------------ stacks */

static MapInfo *add_internal_map(Compiled *c, const char *name, int val_size);
static void submit_record(int roff, int size);

static int target_index(const Target *t) {
  for (int i = 0; i < G->c->ntargets; i++)
    if (G->c->targets[i] == t)
      return i;
  return 0;
}

/* The first time ustack/usym sees a process, tell user space (REC_PID)
 * so that it reads the process's maps while it lives (sym/usym.c).  A
 * hash map of reported processes makes it once per process: lookup, then
 * insert with BPF_NOEXIST, whose failure means another CPU reported it.
 * The key is the pid, the command name, and the time in 268 ms steps:
 * an exec (which replaces the maps and nearly always the name: a -c
 * child is etrace until it execs) is reported again at once, and a busy
 * process again every 268 ms, so that libraries mapped after its first
 * event (the dynamic loader's work, dlopen) are seen too. */
static void cg_pid_note(Loc loc) {
  MapInfo *m = internal_map(".pids");
  if (!m) {
    m = add_internal_map(G->c, ".pids", 8);
    m->key_size = 24; /* u64 pid, char comm[16] */
    m->max_entries = 16384;
  }
  int mark = G->stack;
  int k = slot(24, loc), v = slot(8, loc);
  int done = label_new();
  emit(CALL(BPF_FUNC_get_current_pid_tgid));
  emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
  jmp_imm(BPF_JEQ, BPF_REG_0, 0, done); /* the idle task has no user stack */
  emit(STX(BPF_W, BPF_REG_10, BPF_REG_0, k));
  emit(CALL(BPF_FUNC_ktime_get_ns));
  emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 28));
  emit(STX(BPF_W, BPF_REG_10, BPF_REG_0, k + 4));
  emit_zero(k + 8, 16);
  emit_addr(BPF_REG_1, k + 8);
  emit(MOV64_IMM(BPF_REG_2, 16));
  emit(CALL(BPF_FUNC_get_current_comm));
  map_lookup(m, k);
  jmp_imm(BPF_JNE, BPF_REG_0, 0, done);
  emit(ST_IMM(BPF_DW, BPF_REG_10, v, 1));
  emit_map(BPF_REG_1, m);
  emit_addr(BPF_REG_2, k);
  emit_addr(BPF_REG_3, v);
  emit(MOV64_IMM(BPF_REG_4, BPF_NOEXIST));
  emit(CALL(BPF_FUNC_map_update_elem));
  jmp_imm(BPF_JNE, BPF_REG_0, 0, done);
  /* header (REC_PID << 32) | pid, built at run time.  A uprobe or USDT
   * probe also knows where its file is loaded (ip - the probed
   * instruction's link-time address): sent along, it places that file
   * even if the process is gone before its maps are read. */
  uint64_t probe_vaddr;
  bool placed = (G->t->type == PT_UPROBE || G->t->type == PT_USDT) &&
                sym_probe_vaddr(G->t, &probe_vaddr);
  int roff = slot(placed ? 24 : 8, loc);
  emit_imm64(BPF_REG_1, REC_HEADER(REC_PID, 0));
  emit(LDX(BPF_W, BPF_REG_2, BPF_REG_10, k));
  emit(ALU64_REG(BPF_OR, BPF_REG_1, BPF_REG_2));
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, roff));
  if (placed) {
    load_ctx(BPF_REG_1);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, arch_current()->ip));
    emit_imm64(BPF_REG_1, probe_vaddr);
    emit(ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_1));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 8));
    emit_imm64(BPF_REG_0, target_index(G->t));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 16));
  }
  submit_record(roff, placed ? 24 : 8);
  label_here(done);
  G->stack = mark;
}

/* r0 = kstack/ustack value: the stack id in the low 32 bits (negative:
 * none) and, for ustack, the pid above it.  The frames go to the stack
 * map of this frame count.  Flags: BPF_F_USER_STACK for ustack; neither
 * FAST_STACK_CMP (a hash collision would merge two stacks) nor
 * REUSE_STACKID (it would rewrite stacks that map keys still name): a
 * collision returns -EEXIST and is counted as a lost stack. */
static void cg_stack(Node *e) {
  const Type *t = e->type;
  char name[16];
  snprintf(name, sizeof name, ".stack%d", t->stack_limit);
  MapInfo *m = internal_map(name);
  if (!m) {
    m = add_internal_map(G->c, name, 8 * t->stack_limit);
    /* distinct stacks hash into these buckets; two in one bucket lose
     * the second (-EEXIST, counted): 8192 keeps that rare for hundreds
     * of stacks, at about 8 MiB of kernel memory for 127 frames */
    m->max_entries = 8192;
  }
  if (t->stack_user)
    cg_pid_note(e->loc);
  int mark = G->stack;
  int id = slot(8, e->loc);
  emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_10, G->ctx_off));
  emit_map(BPF_REG_2, m);
  /* Raw tracepoints (and the syscall dispatcher) take the kernel stack
   * inside the helper: skip this program, bpf_trace_runN and
   * __bpf_trace_EVENT so that it starts where a tracepoint's does. */
  int skip = G->t->raw_syscall || G->t->type == PT_RAWTP ? 3 : 0;
  emit(MOV64_IMM(BPF_REG_3, t->stack_user ? BPF_F_USER_STACK : skip));
  emit(CALL(BPF_FUNC_get_stackid));
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, id));
  int ok = label_new();
  jmp_imm(BPF_JNE, BPF_REG_0, -17 /* -EEXIST */, ok);
  count_drop(DROP_STACK);
  label_here(ok);
  if (t->stack_user) {
    emit(CALL(BPF_FUNC_get_current_pid_tgid));
    emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    emit(ALU64_IMM(BPF_LSH, BPF_REG_0, 32));
    emit(LDX(BPF_W, BPF_REG_1, BPF_REG_10, id));
    emit(ALU64_REG(BPF_OR, BPF_REG_0, BPF_REG_1));
  } else {
    emit(LDX(BPF_W, BPF_REG_0, BPF_REG_10, id));
  }
  G->stack = mark;
}

/* kaddr, uaddr, reg, ksym: 8-byte values in r0. */
static void cg_sym_call(Node *e) {
  const char *n = e->name;
  if (!strcmp(n, "kstack") || !strcmp(n, "ustack")) {
    cg_stack(e);
  } else if (!strcmp(n, "ksym")) {
    cg_scalar(e->args);
  } else if (!strcmp(n, "kaddr")) {
    emit_imm64(BPF_REG_0, sym_kernel_addr(e->args->str));
  } else if (!strcmp(n, "uaddr")) {
    SymUaddr u;
    const char *why = sym_uaddr(G->t, e->args->str, &u);
    if (why) {
      fail(e->loc, "%s", why);
      return;
    }
    if (u.relative) { /* position-independent: the probe's ip + delta */
      load_ctx(BPF_REG_1);
      emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, arch_current()->ip));
      emit_imm64(BPF_REG_1, u.value);
      emit(ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_1));
    } else {
      emit_imm64(BPF_REG_0, u.value);
    }
  } else if (!strcmp(n, "reg")) {
    load_ctx(BPF_REG_1);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, arch_reg_offset(e->args->str)));
  } else {
    fail(e->loc, "%s() does not return a number", n);
  }
}

/* usym(addr): the address, then the pid that gives it a meaning. */
static void cg_usym(Node *e, int off) {
  cg_pid_note(e->loc);
  cg_scalar(e->args);
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
  emit(CALL(BPF_FUNC_get_current_pid_tgid));
  emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, off + 8));
}

static bool uses_stack(const Node *n) {
  for (; n; n = n->next) {
    if ((n->kind == ND_BUILTIN || n->kind == ND_CALL) &&
        (!strcmp(n->name, "kstack") || !strcmp(n->name, "ustack")))
      return true;
    if (uses_stack(n->lhs) || uses_stack(n->rhs) || uses_stack(n->cond) ||
        uses_stack(n->then) || uses_stack(n->els) || uses_stack(n->args) || uses_stack(n->body))
      return true;
  }
  return false;
}

static void cg_builtin(Node *e) {
  const char *n = e->name;
  if (!strcmp(n, "pid") || !strcmp(n, "tid")) {
    emit(CALL(BPF_FUNC_get_current_pid_tgid));
    if (n[0] == 'p')
      emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    else
      emit(MOV32_REG(BPF_REG_0, BPF_REG_0));
  } else if (!strcmp(n, "uid") || !strcmp(n, "gid") || !strcmp(n, "username")) {
    emit(CALL(BPF_FUNC_get_current_uid_gid));
    if (n[0] == 'g')
      emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    else
      emit(MOV32_REG(BPF_REG_0, BPF_REG_0));
  } else if (!strcmp(n, "nsecs")) {
    emit(CALL(BPF_FUNC_ktime_get_ns));
  } else if (!strcmp(n, "elapsed")) {
    emit(CALL(BPF_FUNC_ktime_get_ns));
    emit_imm64(BPF_REG_1, G->c->start_ns);
    emit(ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_1));
  } else if (!strcmp(n, "cpu")) {
    emit(CALL(BPF_FUNC_get_smp_processor_id));
  } else if (!strcmp(n, "numaid")) {
    emit(CALL(BPF_FUNC_get_numa_node_id));
  } else if (!strcmp(n, "ncpus")) {
    emit_imm64(BPF_REG_0, G->c->ncpus);
  } else if (!strcmp(n, "rand")) {
    emit(CALL(BPF_FUNC_get_prandom_u32));
  } else if (!strcmp(n, "cgroup")) {
    emit(CALL(BPF_FUNC_get_current_cgroup_id));
  } else if (!strcmp(n, "jiffies")) {
    emit(CALL(BPF_FUNC_jiffies64));
  } else if (!strcmp(n, "curtask")) {
    emit(CALL(BPF_FUNC_get_current_task));
  } else if (!strcmp(n, "ctx")) {
    load_ctx(BPF_REG_0);
  } else if (!strcmp(n, "probe")) {
    emit_imm64(BPF_REG_0, G->t->probe_index);
  } else if (!strcmp(n, "cpid")) {
    emit_imm64(BPF_REG_0, G->c->cpid);
  } else if (!strcmp(n, "retval")) {
    load_ctx(BPF_REG_1);
    if (G->t->type == PT_FEXIT) /* after the arguments in fexit's u64 array */
      emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, G->t->k_ret->offset));
    else
      emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, arch_current()->retval));
    canonicalize(BPF_REG_0, e->type);
  } else if (!strcmp(n, "func")) {
    emit_imm64(BPF_REG_0, G->t->func_index);
  } else if (!strcmp(n, "kstack") || !strcmp(n, "ustack")) {
    cg_stack(e);
  } else if (!strncmp(n, "arg", 3) && n[3] >= '0' && n[3] <= '9' && G->t->type == PT_RAWTP) {
    load_ctx(BPF_REG_1);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 8 * atoi(n + 3)));
  } else if (!strncmp(n, "arg", 3) && n[3] >= '0' && n[3] <= '9') {
    cg_user_arg(e, atoi(n + 3));
  } else {
    fail(e->loc, "cannot generate code for '%s'", n);
  }
}

static bool signed_cmp(Node *e) { return e->lhs->type->is_signed && e->rhs->type->is_signed; }

/* Byte compare of two strings on the stack; r0 = 1 when equal.  A
 * literal side only needs its own length + 1 bytes compared. */
static void cg_str_eq(int aoff, int asize, int boff, int bsize, const Node *lit, int limit) {
  int ne = label_new(), eq = label_new(), done = label_new();
  int n = asize < bsize ? asize : bsize;
  if (lit && lit->slen + 1 < n)
    n = lit->slen + 1;
  if (limit >= 0 && limit < n)
    n = limit;
  for (int i = 0; i < n; i++) {
    emit(LDX(BPF_B, BPF_REG_1, BPF_REG_10, aoff + i));
    if (lit) {
      jmp_imm(BPF_JNE, BPF_REG_1, (unsigned char)lit->str[i], ne);
    } else {
      emit(LDX(BPF_B, BPF_REG_2, BPF_REG_10, boff + i));
      jmp_reg(BPF_JNE, BPF_REG_1, BPF_REG_2, ne);
      jmp_imm(BPF_JEQ, BPF_REG_1, 0, eq);
    }
  }
  label_here(eq);
  emit(MOV64_IMM(BPF_REG_0, 1));
  ja(done);
  label_here(ne);
  emit(MOV64_IMM(BPF_REG_0, 0));
  label_here(done);
}

/* r0 = (a == b) for strings; literal operands are not materialised. */
static void cg_str_compare(Node *a, Node *b, int limit) {
  if (a->kind == ND_STR && b->kind != ND_STR) {
    Node *t = a;
    a = b;
    b = t;
  }
  int mark = G->stack;
  Type *at = a->type->size < 8 ? ty_str(8) : a->type;
  int aoff = cg_addr(a, at);
  if (b->kind == ND_STR) {
    cg_str_eq(aoff, at->size, 0, b->slen + 1, b, limit);
  } else {
    Type *bt = b->type->size < 8 ? ty_str(8) : b->type;
    int boff = cg_addr(b, bt);
    cg_str_eq(aoff, at->size, boff, bt->size, NULL, limit);
  }
  G->stack = mark;
}

/* r0 = 1 if needle occurs in haystack.  Both are on the stack; the
 * search is fully unrolled (haystack size x needle size compares: 16 x 8
 * for comm and a short literal), so the verifier walks it in one pass. */
static void cg_strcontains(Node *hay, Node *needle) {
  int mark = G->stack;
  Type *ht = hay->type->size < 8 ? ty_str(8) : hay->type;
  Type *nt = needle->type->size < 8 ? ty_str(8) : needle->type;
  int hoff = cg_addr(hay, ht), noff = cg_addr(needle, nt);
  int found = label_new(), notfound = label_new();
  /* Unrolled: for each start i, compare needle bytes until its NUL. */
  for (int i = 0; i < ht->size; i++) {
    int next = label_new();
    for (int j = 0; j < nt->size && i + j <= ht->size; j++) {
      emit(LDX(BPF_B, BPF_REG_2, BPF_REG_10, noff + j));
      jmp_imm(BPF_JEQ, BPF_REG_2, 0, found);
      if (i + j == ht->size) {
        ja(next);
        break;
      }
      emit(LDX(BPF_B, BPF_REG_1, BPF_REG_10, hoff + i + j));
      jmp_reg(BPF_JNE, BPF_REG_1, BPF_REG_2, next);
    }
    ja(found);
    label_here(next);
    emit(LDX(BPF_B, BPF_REG_1, BPF_REG_10, hoff + i));
    jmp_imm(BPF_JEQ, BPF_REG_1, 0, notfound);
  }
  label_here(notfound);
  set_r0_bool(found);
  G->stack = mark;
}

static void cg_binary(Node *e) {
  if (e->op == OP_LAND || e->op == OP_LOR) {
    int short_label = label_new(), done = label_new();
    int op = e->op == OP_LAND ? BPF_JEQ : BPF_JNE;
    cg_scalar(e->lhs);
    jmp_imm(op, BPF_REG_0, 0, short_label);
    cg_scalar(e->rhs);
    jmp_imm(op, BPF_REG_0, 0, short_label);
    emit(MOV64_IMM(BPF_REG_0, e->op == OP_LAND ? 1 : 0));
    ja(done);
    label_here(short_label);
    emit(MOV64_IMM(BPF_REG_0, e->op == OP_LAND ? 0 : 1));
    label_here(done);
    return;
  }
  if (e->lhs->type->kind == TY_PROBE || e->rhs->type->kind == TY_PROBE) {
    Node *lit = e->lhs->kind == ND_STR ? e->lhs : e->rhs;
    Node *probe = lit == e->lhs ? e->rhs : e->lhs;
    if (lit->kind == ND_STR) {
      int index = -1;
      for (int i = 0; i < G->c->nprobe_names; i++)
        if (!strcmp(G->c->probe_names[i], lit->str))
          index = i;
      cg_scalar(probe);
      int yes = label_new();
      jmp_imm(e->op == OP_EQ ? BPF_JEQ : BPF_JNE, BPF_REG_0, index, yes);
      set_r0_bool(yes);
      return;
    }
  }
  if (e->lhs->type->kind == TY_STR) {
    cg_str_compare(e->lhs, e->rhs, -1);
    if (e->op == OP_NE)
      emit(ALU64_IMM(BPF_XOR, BPF_REG_0, 1));
    return;
  }
  cg_scalar(e->lhs);
  push(e->loc);
  cg_scalar(e->rhs);
  if (e->type->is_ptr && e->ival > 1) /* pointer + n: n elements */
    emit(ALU64_IMM(BPF_MUL, BPF_REG_0, (int32_t)e->ival));
  pop(BPF_REG_1);
  bool sgn = signed_cmp(e);
  int cmp = -1;
  switch (e->op) {
  case OP_ADD: emit(ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_0)); break;
  case OP_SUB: emit(ALU64_REG(BPF_SUB, BPF_REG_1, BPF_REG_0)); break;
  case OP_MUL: emit(ALU64_REG(BPF_MUL, BPF_REG_1, BPF_REG_0)); break;
  case OP_DIV:
  case OP_MOD: {
    /* Division by zero yields 0 in BPF; keep that (bpftrace warns). */
    if (sgn)
      emit(e->op == OP_DIV ? SDIV64_REG(BPF_REG_1, BPF_REG_0) : SMOD64_REG(BPF_REG_1, BPF_REG_0));
    else
      emit(ALU64_REG(e->op == OP_DIV ? BPF_DIV : BPF_MOD, BPF_REG_1, BPF_REG_0));
    break;
  }
  case OP_BAND: emit(ALU64_REG(BPF_AND, BPF_REG_1, BPF_REG_0)); break;
  case OP_BOR: emit(ALU64_REG(BPF_OR, BPF_REG_1, BPF_REG_0)); break;
  case OP_BXOR: emit(ALU64_REG(BPF_XOR, BPF_REG_1, BPF_REG_0)); break;
  case OP_SHL: emit(ALU64_REG(BPF_LSH, BPF_REG_1, BPF_REG_0)); break;
  case OP_SHR: emit(ALU64_REG(e->lhs->type->is_signed ? BPF_ARSH : BPF_RSH, BPF_REG_1, BPF_REG_0)); break;
  case OP_EQ: cmp = BPF_JEQ; break;
  case OP_NE: cmp = BPF_JNE; break;
  case OP_LT: cmp = sgn ? BPF_JSLT : BPF_JLT; break;
  case OP_LE: cmp = sgn ? BPF_JSLE : BPF_JLE; break;
  case OP_GT: cmp = sgn ? BPF_JSGT : BPF_JGT; break;
  case OP_GE: cmp = sgn ? BPF_JSGE : BPF_JGE; break;
  default: fail(e->loc, "unsupported operator %s", op_str(e->op)); return;
  }
  if (cmp >= 0) {
    int yes = label_new();
    jmp_reg(cmp, BPF_REG_1, BPF_REG_0, yes);
    set_r0_bool(yes);
    return;
  }
  emit(MOV64_REG(BPF_REG_0, BPF_REG_1));
}

static int64_t posparam_int(Node *e) {
  if (e->ival == 0 || e->ival > (uint64_t)G->c->nposparams)
    return 0;
  return strtoll(G->c->posparams[e->ival - 1], NULL, 0);
}

static void cg_call_scalar(Node *e) {
  const char *n = e->name;
  if (!strcmp(n, "strncmp")) {
    Node *a = e->args, *b = a->next, *len = b->next;
    int64_t limit = len->kind == ND_INT ? (int64_t)len->ival : posparam_int(len);
    cg_str_compare(a, b, limit < 0 ? 0 : (int)limit);
    /* strncmp returns 0 when equal */
    emit(ALU64_IMM(BPF_XOR, BPF_REG_0, 1));
  } else if (!strcmp(n, "strcontains")) {
    cg_strcontains(e->args, e->args->next);
  } else if (!strcmp(n, "has_key")) {
    Node *a = e->args, *key = a->next;
    Node probe = *a;
    probe.next = NULL;
    if (key->kind == ND_TUPLE && a->map->nkeys > 1) {
      probe.args = key->args;
      probe.nargs = key->nargs;
    } else {
      Node k = *key;
      k.next = NULL;
      probe.args = &k;
      probe.nargs = 1;
      int mark = G->stack;
      int koff = build_key(&probe);
      map_lookup(a->map, koff);
      G->stack = mark;
      goto bool_r0;
    }
    {
      int mark = G->stack;
      int koff = build_key(&probe);
      map_lookup(a->map, koff);
      G->stack = mark;
    }
  bool_r0: {
    int no = label_new();
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, no);
    emit(MOV64_IMM(BPF_REG_0, 1));
    label_here(no);
  }
  } else if (!strcmp(n, "len")) {
    cg_for_each(e->args->map, NULL, e->loc);
  } else if (!strcmp(n, "strftime")) {
    cg_scalar(e->args->next);
  } else if (!strcmp(n, "strerror")) {
    cg_scalar(e->args);
  } else if (sema_sym_name(n)) {
    cg_sym_call(e);
  } else {
    fail(e->loc, "%s() does not return a value", n);
  }
}

static void cg_scalar(Node *e) {
  if (G->failed)
    return;
  switch (e->kind) {
  case ND_INT:
    emit_imm64(BPF_REG_0, e->ival);
    return;
  case ND_POSPARAM:
    emit_imm64(BPF_REG_0, posparam_int(e));
    return;
  case ND_POSCOUNT:
    emit_imm64(BPF_REG_0, G->c->nposparams);
    return;
  case ND_BUILTIN:
    cg_builtin(e);
    return;
  case ND_VAR:
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_10, var_slot(e->var)));
    return;
  case ND_MAP:
    if (ty_is_agg(e->map->val))
      cg_map_read_agg(e);
    else
      cg_map_read_scalar(e);
    return;
  case ND_FIELD:
  case ND_INDEX:
    if (is_object_read(e))
      cg_object_read(e);
    else if (e->kind == ND_FIELD)
      cg_field_scalar(e);
    else
      cg_index(e);
    return;
  case ND_BINARY:
    cg_binary(e);
    return;
  case ND_UNARY:
    if (e->op == OP_DEREF) {
      cg_object_read(e);
      return;
    }
    cg_scalar(e->lhs);
    if (e->op == OP_NEG)
      emit(NEG64(BPF_REG_0));
    else if (e->op == OP_BNOT)
      emit(ALU64_IMM(BPF_XOR, BPF_REG_0, -1));
    else if (e->op == OP_LNOT) {
      int zero = label_new();
      jmp_imm(BPF_JEQ, BPF_REG_0, 0, zero);
      set_r0_bool(zero);
    }
    canonicalize(BPF_REG_0, e->type);
    return;
  case ND_TERNARY: {
    int els = label_new(), done = label_new();
    cg_scalar(e->cond);
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, els);
    cg_scalar(e->then);
    ja(done);
    label_here(els);
    cg_scalar(e->els);
    label_here(done);
    return;
  }
  case ND_CAST:
    cg_scalar(e->lhs);
    canonicalize(BPF_REG_0, e->type);
    return;
  case ND_TUPLE_IDX: {
    int mark = G->stack;
    int off = cg_addr(e->lhs, e->lhs->type->kind == TY_TUPLE ? e->lhs->type : e->lhs->type);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_10, off + e->lhs->type->offsets[e->ival]));
    G->stack = mark;
    return;
  }
  case ND_CALL:
    cg_call_scalar(e);
    return;
  default:
    fail(e->loc, "cannot compute this expression as an integer%s", "");
  }
}

/* Read a string from a pointer in r3 into r10+off (size bytes). */
static void read_str(int off, int size, int helper) {
  emit_addr(BPF_REG_1, off);
  emit(MOV64_IMM(BPF_REG_2, size));
  emit(CALL(helper));
}

static void store_string_literal(const char *s, int len, int off, int size) {
  /* 4-byte immediate stores; the buffer is already zeroed. */
  int n = len + 1 < size ? len + 1 : size - 1;
  for (int i = 0; i < n; i += 4) {
    uint32_t w = 0;
    for (int j = 0; j < 4 && i + j < n && i + j < len; j++)
      w |= (uint32_t)(unsigned char)s[i + j] << (8 * j);
    if (i + 4 > size)
      break;
    if (w)
      emit(ST_IMM(BPF_W, BPF_REG_10, off + i, (int32_t)w));
  }
}

static void cg_str_call(Node *e, int off, const Type *dst) {
  Node *p = e->args;
  if (p->type->kind == TY_STR) { /* str("literal") or str($1) */
    cg_store(p, off, dst);
    return;
  }
  int size = e->type->size < dst->size ? e->type->size : dst->size;
  int helper = BPF_FUNC_probe_read_str; /* x86: kernel or user address */
  if (p->kind == ND_FIELD && p->field_user)
    helper = BPF_FUNC_probe_read_user_str;
  if (e->nargs == 2 && e->args->next->kind != ND_INT && e->args->next->kind != ND_POSPARAM) {
    /* runtime length: clamp to the buffer so the verifier sees a bound */
    cg_scalar(p);
    push(e->loc);
    cg_scalar(e->args->next);
    int ok = label_new();
    jmp_imm(BPF_JLE, BPF_REG_0, size, ok);
    emit(MOV64_IMM(BPF_REG_0, size));
    label_here(ok);
    emit(MOV64_REG(BPF_REG_2, BPF_REG_0));
    pop(BPF_REG_3);
    int skip = label_new();
    jmp_imm(BPF_JEQ, BPF_REG_2, 0, skip);
    emit_addr(BPF_REG_1, off);
    emit(CALL(helper));
    label_here(skip);
    return;
  }
  cg_scalar(p);
  emit(MOV64_REG(BPF_REG_3, BPF_REG_0));
  read_str(off, size, helper);
}

static void cg_field_store(Node *e, int off, const Type *dst) {
  if (G->t->type == PT_RAWTP || G->t->type == PT_UPROBE ||
      (G->t->type >= PT_KPROBE && G->t->type <= PT_FEXIT)) {
    cg_scalar(e);
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
    return;
  }
  const TpField *f = tp_field(e->name);
  if (!f) {
    fail(e->loc, "tracepoint has no field '%s'", e->name);
    return;
  }
  if (dst->kind != TY_STR) {
    cg_scalar(e);
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
    return;
  }
  load_ctx(BPF_REG_3);
  if (f->data_loc) {
    /* __data_loc: u32 with the offset of the bytes in the low 16 bits */
    emit(LDX(BPF_W, BPF_REG_1, BPF_REG_3, f->offset));
    emit(ALU64_IMM(BPF_AND, BPF_REG_1, 0xffff));
    emit(ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
    read_str(off, dst->size, BPF_FUNC_probe_read_kernel_str);
    return;
  }
  /* char name[N] inside the record */
  int n = f->array_len < dst->size ? f->array_len : dst->size - 1;
  emit(ALU64_IMM(BPF_ADD, BPF_REG_3, f->offset));
  emit_addr(BPF_REG_1, off);
  emit(MOV64_IMM(BPF_REG_2, n));
  emit(CALL(BPF_FUNC_probe_read_kernel));
}

/* Evaluate e into r10+off laid out as dst (already the stored type). */
static void cg_store(Node *e, int off, const Type *dst) {
  if (G->failed)
    return;
  if (dst->kind == TY_RECORD) { /* printf("%s", *p): a copy of the struct */
    emit_zero(off, dst->size);
    cg_object_addr(e);
    emit(MOV64_REG(BPF_REG_3, BPF_REG_0));
    emit_addr(BPF_REG_1, off);
    emit(MOV64_IMM(BPF_REG_2, e->type->size));
    emit(CALL(object_user(e) ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel));
    return;
  }
  if (dst->kind != TY_STR && dst->kind != TY_TUPLE && dst->kind != TY_BUF && dst->kind != TY_INET &&
      dst->kind != TY_USYM) {
    cg_scalar(e);
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
    return;
  }
  emit_zero(off, dst->size);
  if (dst->kind == TY_INET && e->kind == ND_CALL && !strcmp(e->name, "ntop")) {
    Node *addr = e->nargs == 2 ? e->args->next : e->args;
    emit(ST_IMM(BPF_DW, BPF_REG_10, off, 2 /* AF_INET */));
    cg_scalar(addr);
    emit(STX(BPF_W, BPF_REG_10, BPF_REG_0, off + 8));
    return;
  }
  if (dst->kind == TY_USYM && e->kind == ND_CALL && !strcmp(e->name, "usym")) {
    cg_usym(e, off);
    return;
  }
  if (dst->kind == TY_BUF && e->kind == ND_CALL && !strcmp(e->name, "buf")) {
    /* u64 length, then the bytes */
    int len = (int)e->type->lh_max;
    if (len > dst->size - 8)
      len = dst->size - 8;
    emit(ST_IMM(BPF_DW, BPF_REG_10, off, len));
    cg_scalar(e->args);
    emit(MOV64_REG(BPF_REG_3, BPF_REG_0));
    emit_addr(BPF_REG_1, off + 8);
    emit(MOV64_IMM(BPF_REG_2, len));
    emit(CALL(BPF_FUNC_probe_read));
    return;
  }
  switch (e->kind) {
  case ND_STR:
    store_string_literal(e->str, e->slen, off, dst->size);
    return;
  case ND_POSPARAM: {
    const char *s = e->ival && e->ival <= (uint64_t)G->c->nposparams ? G->c->posparams[e->ival - 1] : "";
    store_string_literal(s, strlen(s), off, dst->size);
    return;
  }
  case ND_BUILTIN:
    if (!strcmp(e->name, "comm")) {
      emit_addr(BPF_REG_1, off);
      emit(MOV64_IMM(BPF_REG_2, dst->size < 16 ? dst->size : 16));
      emit(CALL(BPF_FUNC_get_current_comm));
      return;
    }
    break;
  case ND_VAR: {
    int size = e->var->type->size < dst->size ? e->var->type->size : dst->size;
    if (dst->kind == TY_TUPLE && !ty_same(e->var->type, dst))
      break;
    emit_copy(off, BPF_REG_10, var_slot(e->var), size);
    return;
  }
  case ND_MAP: {
    int mark = G->stack;
    int koff = build_key(e);
    map_lookup(e->map, koff);
    int miss = label_new();
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, miss);
    int size = e->map->val_size < dst->size ? e->map->val_size : dst->size;
    for (int i = 0; i + 8 <= size; i += 8) {
      emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_0, i));
      emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, off + i));
    }
    label_here(miss);
    G->stack = mark;
    return;
  }
  case ND_FIELD:
  case ND_INDEX:
  case ND_UNARY:
    if (e->type->kind == TY_STR && is_object_read(e)) {
      cg_object_string(e, off, dst);
      return;
    }
    if (e->kind == ND_FIELD) {
      cg_field_store(e, off, dst);
      return;
    }
    break;
  case ND_CALL:
    if (!strcmp(e->name, "str")) {
      cg_str_call(e, off, dst);
      return;
    }
    break;
  case ND_TERNARY: {
    int els = label_new(), done = label_new();
    cg_scalar(e->cond);
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, els);
    cg_store(e->then, off, dst);
    ja(done);
    label_here(els);
    cg_store(e->els, off, dst);
    label_here(done);
    return;
  }
  case ND_TUPLE: {
    if (dst->kind != TY_TUPLE || dst->nfields != e->nargs)
      break;
    int i = 0;
    for (Node *a = e->args; a; a = a->next, i++)
      cg_store(a, off + dst->offsets[i], dst->fields[i]);
    return;
  }
  case ND_TUPLE_IDX: {
    int mark = G->stack;
    const Type *tt = e->lhs->type;
    int toff = cg_addr(e->lhs, tt);
    const Type *ft = tt->fields[e->ival];
    emit_copy(off, BPF_REG_10, toff + tt->offsets[e->ival], ft->size < dst->size ? ft->size : dst->size);
    G->stack = mark;
    return;
  }
  default:
    break;
  }
  fail(e->loc, "cannot store this expression as a %s", ty_name(dst));
}

/* ------------------------------------------------------------ map iteration */

/* r0 = bpf_for_each_map_elem(map, callback, NULL, 0): the number of
 * elements visited. */
static void cg_for_each(MapInfo *m, Node *loop, Loc loc) {
  if (G->nsubs == 16) {
    fail(loc, "too many for loops over maps in one probe%s", "");
    return;
  }
  Sub *sub = &G->subs[G->nsubs++];
  sub->label = label_new();
  sub->loop = loop;
  emit_map(BPF_REG_1, m);
  emit_func_addr(BPF_REG_2, sub->label);
  emit(MOV64_IMM(BPF_REG_3, 0));
  emit(MOV64_IMM(BPF_REG_4, 0));
  emit(CALL(BPF_FUNC_for_each_map_elem));
}

/* Emit the callbacks after the main program.  A callback is a function
 * of its own (r1 map, r2 key, r3 value, r4 ctx) with a fresh stack frame:
 * it returns 0 to continue and 1 to stop (break, exit(), return). */
static void emit_subs(void) {
  for (int i = 0; i < G->nsubs; i++) {
    Sub sub = G->subs[i];
    int saved_stack = G->stack, saved_nvars = G->nvars, saved_exit = G->exit_label;
    VarInfo **saved_vars = G->vars;
    int saved_spill[64];
    memcpy(saved_spill, G->spill, sizeof saved_spill);
    memset(G->spill, 0, sizeof G->spill);
    G->stack = 8;
    G->vars = NULL;
    G->nvars = 0;
    G->depth = 0;
    label_here(sub.label);
    if (!sub.loop) {
      emit(MOV64_IMM(BPF_REG_0, 0));
      emit(EXIT_INSN());
    } else {
      Node *s = sub.loop;
      MapInfo *m = s->lhs->map;
      int stop = label_new(), next = label_new();
      emit(MOV64_REG(BPF_REG_6, BPF_REG_2));
      emit(MOV64_REG(BPF_REG_7, BPF_REG_3));
      declare_var(s->var, s->loc);
      const Type *kv = s->var->type;
      emit_copy(s->var->stack_off, BPF_REG_6, 0, m->key->size);
      emit_copy(s->var->stack_off + kv->offsets[1], BPF_REG_7, 0, m->val_size);
      declare_vars(s->then);
      G->exit_label = stop;
      cg_loop_body(s->then, stop, next);
      label_here(next);
      emit(MOV64_IMM(BPF_REG_0, 0));
      emit(EXIT_INSN());
      label_here(stop);
      emit(MOV64_IMM(BPF_REG_0, 1));
      emit(EXIT_INSN());
    }
    free(G->vars);
    G->vars = saved_vars;
    G->nvars = saved_nvars;
    G->stack = saved_stack;
    G->exit_label = saved_exit;
    memcpy(G->spill, saved_spill, sizeof saved_spill);
  }
}

/* ------------------------------------------------------------ records */

static void submit_record(int roff, int size) {
  if (G->t->type != PT_BEGIN && G->t->type != PT_END)
    G->c->probe_records = true;
  emit_map(BPF_REG_1, internal_map(".ringbuf"));
  emit_addr(BPF_REG_2, roff);
  emit(MOV64_IMM(BPF_REG_3, size));
  emit(MOV64_IMM(BPF_REG_4, 0));
  emit(CALL(BPF_FUNC_ringbuf_output));
  int ok = label_new();
  jmp_imm(BPF_JEQ, BPF_REG_0, 0, ok);
  count_drop(DROP_RINGBUF);
  label_here(ok);
}

static int record_header(RecKind kind, int id, int datasize, Loc loc) {
  int roff = slot(8 + datasize, loc);
  emit_imm64(BPF_REG_1, REC_HEADER(kind, id));
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, roff));
  return roff;
}

/* printf, cat, system, print(value): header + argument tuple. */
static void cg_site_record(Node *e, Node *first_arg) {
  if (e->site < 0 || e->site >= G->c->nsites) {
    fail(e->loc, "internal error: %s() has no record layout", e->name);
    return;
  }
  Site *s = G->c->sites[e->site];
  /* -f ctf: the event's time, pid_tgid and CPU before the arguments */
  int pre = G->c->ctf_records && s->kind == REC_PRINTF ? 24 : 0;
  int roff = record_header(s->kind, e->site, pre + s->args->size, e->loc);
  if (pre) {
    emit(CALL(BPF_FUNC_ktime_get_ns));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 8));
    emit(CALL(BPF_FUNC_get_current_pid_tgid));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 16));
    emit(CALL(BPF_FUNC_get_smp_processor_id));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 24));
  }
  int i = 0;
  for (Node *a = first_arg; a; a = a->next, i++)
    cg_store(a, roff + 8 + pre + s->args->offsets[i], s->args->fields[i]);
  submit_record(roff, 8 + pre + s->args->size);
}

static void cg_simple_record(RecKind kind, int id, Node *a, Node *b, Loc loc) {
  int roff = record_header(kind, id, 16, loc);
  int vals[2] = {8, 16};
  Node *args[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    if (args[i]) {
      cg_scalar(args[i]);
      emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + vals[i]));
    } else {
      emit(ST_IMM(BPF_DW, BPF_REG_10, roff + vals[i], 0));
    }
  }
  submit_record(roff, 24);
}

/* print(*p) / dump(p): the object is copied straight into a ring-buffer
 * reservation (kernel structs are far bigger than the 512-byte stack).
 * probe_read zero-fills on failure, so a bad pointer prints zeros. */
/* Reserve `size` bytes of the ring buffer for a record written in place
 * (too big for the stack) and store its header.  On success the
 * reservation is pushed on the register stack and its depth returned; when
 * the ring is full the drop is counted and execution goes to `done`, which
 * the caller places after popping the reservation. */
static int reserve_record(int size, RecKind kind, int id, int done) {
  if (G->t->type != PT_BEGIN && G->t->type != PT_END)
    G->c->probe_records = true;
  emit_map(BPF_REG_1, internal_map(".ringbuf"));
  emit(MOV64_IMM(BPF_REG_2, size));
  emit(MOV64_IMM(BPF_REG_3, 0));
  emit(CALL(BPF_FUNC_ringbuf_reserve));
  int got = label_new();
  jmp_imm(BPF_JNE, BPF_REG_0, 0, got);
  count_drop(DROP_RINGBUF);
  ja(done);
  label_here(got);
  emit_imm64(BPF_REG_1, REC_HEADER(kind, id));
  emit(STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0));
  push(G->t->probe->loc); /* it must survive helper calls */
  return G->depth - 1;
}

/* Submit the reservation on top of the register stack (and pop it). */
static void submit_reserved(void) {
  pop(BPF_REG_1);
  emit(MOV64_IMM(BPF_REG_2, 0));
  emit(CALL(BPF_FUNC_ringbuf_submit));
}

/* dump(p, "kernel"): the kernel renders the object with
 * bpf_snprintf_btf() into a ring-buffer string (OBJECT_COPY_MAX bytes). */
static void cg_object_kernel_dump(Node *e) {
  Site *s = G->c->sites[e->site];
  int mark = G->stack;
  int bp = slot(16, e->loc); /* struct btf_ptr { ptr; u32 type_id; u32 flags; } */
  cg_scalar(e->args);
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, bp));
  emit(ST_IMM(BPF_W, BPF_REG_10, bp + 8, s->args->btf_id));
  emit(ST_IMM(BPF_W, BPF_REG_10, bp + 12, 0));
  int done = label_new();
  reserve_record(8 + OBJECT_COPY_MAX, REC_OBJECT, e->site, done);
  emit(ST_IMM(BPF_B, BPF_REG_0, 8, 0)); /* an empty string if it fails */
  emit(MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(ALU64_IMM(BPF_ADD, BPF_REG_1, 8));
  emit(MOV64_IMM(BPF_REG_2, OBJECT_COPY_MAX));
  emit_addr(BPF_REG_3, bp);
  emit(MOV64_IMM(BPF_REG_4, 16));
  emit(MOV64_IMM(BPF_REG_5, 4 /* BTF_F_PTR_RAW: pointers unhashed, as ours */));
  emit(CALL(BPF_FUNC_snprintf_btf));
  submit_reserved();
  label_here(done);
  G->stack = mark;
}

static void cg_object_record(Node *e) {
  Site *s = G->c->sites[e->site];
  if (!strcmp(s->fmt, "kernel")) {
    cg_object_kernel_dump(e);
    return;
  }
  Node *a = e->args;
  int size = s->args->size < OBJECT_COPY_MAX ? s->args->size : OBJECT_COPY_MAX;
  bool user = a->type->is_ptr ? a->type->user : object_user(a);
  if (a->type->is_ptr)
    cg_scalar(a);
  else
    cg_object_addr(a);
  push(e->loc); /* the object's address */
  int addr_at = G->depth - 1, done = label_new();
  reserve_record((8 + size + 7) & ~7, REC_OBJECT, e->site, done);
  emit(MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(ALU64_IMM(BPF_ADD, BPF_REG_1, 8));
  emit(MOV64_IMM(BPF_REG_2, size));
  peek(BPF_REG_3, addr_at);
  emit(CALL(user ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel));
  submit_reserved();
  label_here(done);
  pop(BPF_REG_1);
}

/* join(argv): the record (16 strings) is too big for the BPF stack, so it
 * is written straight into a ring-buffer reservation.  Reserved memory is
 * not zeroed: every string slot gets a NUL first, then argv[i] is read
 * until the first NULL pointer. */
static void cg_join(Node *e) {
  Site *s = G->c->sites[e->site];
  int size = 8 + s->args->size, slen = s->args->fields[0]->size;
  int done = label_new(), out = label_new();
  cg_scalar(e->args);
  push(e->loc);
  int argv_at = G->depth - 1;
  int rec_at = reserve_record(size, REC_JOIN, e->site, done);
  for (int i = 0; i < JOIN_MAX_ARGS; i++)
    emit(ST_IMM(BPF_B, BPF_REG_0, 8 + s->args->offsets[i], 0));
  int tmp = slot(8, e->loc);
  for (int i = 0; i < JOIN_MAX_ARGS; i++) {
    emit_addr(BPF_REG_1, tmp);
    emit(MOV64_IMM(BPF_REG_2, 8));
    peek(BPF_REG_3, argv_at);
    emit(ALU64_IMM(BPF_ADD, BPF_REG_3, 8 * i));
    emit(CALL(BPF_FUNC_probe_read_user));
    jmp_imm(BPF_JNE, BPF_REG_0, 0, out);
    emit(LDX(BPF_DW, BPF_REG_3, BPF_REG_10, tmp));
    jmp_imm(BPF_JEQ, BPF_REG_3, 0, out);
    peek(BPF_REG_1, rec_at);
    emit(ALU64_IMM(BPF_ADD, BPF_REG_1, 8 + s->args->offsets[i]));
    emit(MOV64_IMM(BPF_REG_2, slen));
    emit(CALL(BPF_FUNC_probe_read_user_str));
  }
  label_here(out);
  submit_reserved();
  label_here(done);
  pop(BPF_REG_1);
}

/* ------------------------------------------------------------ aggregations */

/* r0 = hist bucket of the value in r0 (see HIST_BUCKETS in etrace.h). */
static void hist_index(void) {
  int neg = label_new(), zero = label_new(), done = label_new();
  jmp_imm(BPF_JSLT, BPF_REG_0, 0, neg);
  jmp_imm(BPF_JEQ, BPF_REG_0, 0, zero);
  emit(MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(MOV64_IMM(BPF_REG_0, 2));
  for (int shift = 32; shift >= 1; shift /= 2) {
    int skip = label_new();
    emit(MOV64_REG(BPF_REG_2, BPF_REG_1));
    emit(ALU64_IMM(BPF_RSH, BPF_REG_2, shift));
    jmp_imm(BPF_JEQ, BPF_REG_2, 0, skip);
    emit(MOV64_REG(BPF_REG_1, BPF_REG_2));
    emit(ALU64_IMM(BPF_ADD, BPF_REG_0, shift));
    label_here(skip);
  }
  ja(done);
  label_here(neg);
  emit(MOV64_IMM(BPF_REG_0, 0));
  ja(done);
  label_here(zero);
  emit(MOV64_IMM(BPF_REG_0, 1));
  label_here(done);
}

static void lhist_index(const Type *t) {
  int below = label_new(), above = label_new(), done = label_new();
  emit_imm64(BPF_REG_1, t->lh_min);
  jmp_reg(BPF_JSLT, BPF_REG_0, BPF_REG_1, below);
  emit_imm64(BPF_REG_1, t->lh_max);
  jmp_reg(BPF_JSGE, BPF_REG_0, BPF_REG_1, above);
  emit_imm64(BPF_REG_1, t->lh_min);
  emit(ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_1));
  emit_imm64(BPF_REG_1, t->lh_step);
  emit(ALU64_REG(BPF_DIV, BPF_REG_0, BPF_REG_1));
  emit(ALU64_IMM(BPF_ADD, BPF_REG_0, 1));
  ja(done);
  label_here(below);
  emit(MOV64_IMM(BPF_REG_0, 0));
  ja(done);
  label_here(above);
  emit_imm64(BPF_REG_0, 1 + (t->lh_max - t->lh_min) / t->lh_step);
  label_here(done);
}

/* @m[k] = count() / sum(v) / min(v) / max(v) / avg(v) / stats(v) /
 * hist(v) / lhist(v, ...).  Per-CPU maps, so plain read-modify-write is
 * safe: a BPF program is never migrated off its CPU while it runs. */
static void cg_aggregate(Node *lhs, Node *call) {
  MapInfo *m = lhs->map;
  TypeKind k = m->val->kind;
  bool has_value = k != TY_COUNT;
  if (has_value) {
    cg_scalar(call->args);
    push(call->loc);
  }
  int koff = build_key(lhs);
  if (k == TY_HIST || k == TY_LHIST) {
    pop(BPF_REG_0);
    if (k == TY_HIST)
      hist_index();
    else
      lhist_index(m->val);
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, koff + m->key->size));
    has_value = false;
  }
  int voff = slot(16, lhs->loc);
  map_lookup(m, koff);
  if (has_value)
    pop(BPF_REG_1);
  else
    emit(MOV64_IMM(BPF_REG_1, 1));
  int init = label_new(), done = label_new();
  jmp_imm(BPF_JEQ, BPF_REG_0, 0, init);
  switch (k) {
  case TY_COUNT: case TY_SUM: case TY_HIST: case TY_LHIST:
    emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
    emit(ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
    emit(STX(BPF_DW, BPF_REG_0, BPF_REG_2, 0));
    break;
  case TY_MIN: case TY_MAX: {
    int set = label_new();
    emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 8));
    jmp_imm(BPF_JEQ, BPF_REG_2, 0, set);
    emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
    bool s = m->val->is_signed;
    int keep = k == TY_MIN ? (s ? BPF_JSGE : BPF_JGE) : (s ? BPF_JSLE : BPF_JLE);
    jmp_reg(keep, BPF_REG_1, BPF_REG_2, done);
    label_here(set);
    emit(STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0));
    emit(ST_IMM(BPF_DW, BPF_REG_0, 8, 1));
    break;
  }
  case TY_AVG: case TY_STATS:
    emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
    emit(ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
    emit(STX(BPF_DW, BPF_REG_0, BPF_REG_2, 0));
    emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 8));
    emit(ALU64_IMM(BPF_ADD, BPF_REG_2, 1));
    emit(STX(BPF_DW, BPF_REG_0, BPF_REG_2, 8));
    break;
  default:
    break;
  }
  ja(done);
  label_here(init);
  /* first value on this CPU: {v} for count/sum/hist, {v, 1} otherwise */
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, voff));
  emit(ST_IMM(BPF_DW, BPF_REG_10, voff + 8, 1));
  map_update(m, koff, voff);
  label_here(done);
}

/* ------------------------------------------------------------ statements */

static void store_scalar_to(Node *target, Loc loc) {
  /* value in r0 */
  if (target->kind == ND_VAR) {
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(target->var)));
    return;
  }
  push(loc);
  int koff = build_key(target);
  int voff = slot(8, loc);
  pop(BPF_REG_0);
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, voff));
  map_update(target->map, koff, voff);
}

static void cg_assign(Node *s) {
  Node *lhs = s->lhs, *rhs = s->rhs;
  if (rhs && rhs->kind == ND_CALL && lhs->kind == ND_MAP && ty_is_agg(lhs->map->val) &&
      s->op == OP_NONE && s->kind == ND_ASSIGN) {
    cg_aggregate(lhs, rhs);
    return;
  }
  if (s->kind == ND_INCDEC || s->op != OP_NONE) {
    /* read-modify-write on an integer target */
    cg_scalar(lhs);
    push(s->loc);
    if (rhs)
      cg_scalar(rhs);
    else
      emit(MOV64_IMM(BPF_REG_0, 1));
    pop(BPF_REG_1);
    Op op = s->op;
    bool sgn = lhs->type->is_signed && (!rhs || rhs->type->is_signed);
    switch (op) {
    case OP_ADD: emit(ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_0)); break;
    case OP_SUB: emit(ALU64_REG(BPF_SUB, BPF_REG_1, BPF_REG_0)); break;
    case OP_MUL: emit(ALU64_REG(BPF_MUL, BPF_REG_1, BPF_REG_0)); break;
    case OP_DIV: emit(sgn ? SDIV64_REG(BPF_REG_1, BPF_REG_0) : ALU64_REG(BPF_DIV, BPF_REG_1, BPF_REG_0)); break;
    case OP_MOD: emit(sgn ? SMOD64_REG(BPF_REG_1, BPF_REG_0) : ALU64_REG(BPF_MOD, BPF_REG_1, BPF_REG_0)); break;
    case OP_BAND: emit(ALU64_REG(BPF_AND, BPF_REG_1, BPF_REG_0)); break;
    case OP_BOR: emit(ALU64_REG(BPF_OR, BPF_REG_1, BPF_REG_0)); break;
    case OP_BXOR: emit(ALU64_REG(BPF_XOR, BPF_REG_1, BPF_REG_0)); break;
    case OP_SHL: emit(ALU64_REG(BPF_LSH, BPF_REG_1, BPF_REG_0)); break;
    case OP_SHR: emit(ALU64_REG(lhs->type->is_signed ? BPF_ARSH : BPF_RSH, BPF_REG_1, BPF_REG_0)); break;
    default: fail(s->loc, "unsupported compound operator %s", op_str(op)); return;
    }
    emit(MOV64_REG(BPF_REG_0, BPF_REG_1));
    canonicalize(BPF_REG_0, lhs->type);
    store_scalar_to(lhs, s->loc);
    return;
  }
  if (lhs->kind == ND_VAR) {
    const Type *vt = lhs->var->type;
    if (vt->kind == TY_STR || vt->kind == TY_TUPLE || vt->kind == TY_USYM) {
      /* evaluate into a temporary first: the value may read the variable */
      int mark = G->stack;
      int tmp = slot(vt->size, s->loc);
      cg_store(rhs, tmp, vt);
      emit_copy(var_slot(lhs->var), BPF_REG_10, tmp, vt->size);
      G->stack = mark;
    } else {
      cg_scalar(rhs);
      canonicalize(BPF_REG_0, vt);
      emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(lhs->var)));
    }
    return;
  }
  MapInfo *m = lhs->map;
  int voff = slot(m->val_size, s->loc);
  cg_store(rhs, voff, m->val);
  int koff = build_key(lhs);
  map_update(m, koff, voff);
}

static void cg_call_stmt(Node *e) {
  const char *n = e->name;
  if (!strcmp(n, "printf") || !strcmp(n, "cat") || !strcmp(n, "system")) {
    cg_site_record(e, e->args->next);
  } else if (!strcmp(n, "print")) {
    Node *a = e->args;
    if (e->site < 0) { /* print(@map[, top[, div]]) */
      Node *top = a->next, *div = top ? top->next : NULL;
      cg_simple_record(REC_PRINT_MAP, a->map->id, top, div, e->loc);
    } else if (G->c->sites[e->site]->kind == REC_OBJECT) {
      cg_object_record(e);
    } else {
      cg_site_record(e, e->args);
    }
  } else if (!strcmp(n, "dump")) {
    cg_object_record(e);
  } else if (!strcmp(n, "join")) {
    cg_join(e);
  } else if (!strcmp(n, "time")) {
    int roff = record_header(REC_TIME, e->site, 0, e->loc);
    submit_record(roff, 8);
  } else if (!strcmp(n, "exit")) {
    cg_simple_record(REC_EXIT, 0, e->args, NULL, e->loc);
    ja(G->exit_label);
  } else if (!strcmp(n, "clear") || !strcmp(n, "zero")) {
    cg_simple_record(n[0] == 'c' ? REC_CLEAR : REC_ZERO, e->args->map->id, NULL, NULL, e->loc);
  } else if (!strcmp(n, "delete")) {
    Node *a = e->args;
    int koff = build_key(a);
    emit_map(BPF_REG_1, a->map);
    emit_addr(BPF_REG_2, koff);
    emit(CALL(BPF_FUNC_map_delete_elem));
  } else if (!strcmp(n, "signal")) {
    cg_scalar(e->args);
    emit(MOV64_REG(BPF_REG_1, BPF_REG_0));
    emit(CALL(BPF_FUNC_send_signal));
  } else {
    /* a value call used as a statement: evaluate for its effects */
    cg_scalar(e);
  }
}

static void cg_block(Node *b) {
  for (Node *s = b->body; s && !G->failed; s = s->next)
    cg_stmt(s);
}

static void cg_loop_body(Node *body, int brk, int cont) {
  if (G->nloops == 32) {
    fail(body->loc, "loops nested too deeply%s", "");
    return;
  }
  G->brk[G->nloops] = brk;
  G->cont[G->nloops] = cont;
  G->nloops++;
  cg_stmt(body);
  G->nloops--;
}

static void cg_stmt(Node *s) {
  int mark = G->stack;
  switch (s->kind) {
  case ND_EXPR_STMT:
    if (s->lhs->kind == ND_ASSIGN || s->lhs->kind == ND_INCDEC)
      cg_assign(s->lhs);
    else if (s->lhs->kind == ND_CALL)
      cg_call_stmt(s->lhs);
    else if (s->lhs->type && (s->lhs->type->kind == TY_STR || s->lhs->type->kind == TY_TUPLE))
      ; /* a string or tuple value alone does nothing */
    else
      cg_scalar(s->lhs);
    break;
  case ND_BLOCK:
    cg_block(s);
    break;
  case ND_IF: {
    int els = label_new(), done = label_new();
    cg_scalar(s->cond);
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, els);
    cg_stmt(s->then);
    if (s->els)
      ja(done);
    label_here(els);
    if (s->els)
      cg_stmt(s->els);
    label_here(done);
    break;
  }
  case ND_WHILE: {
    int top = label_new(), end = label_new();
    label_here(top);
    cg_scalar(s->cond);
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, end);
    cg_loop_body(s->then, end, top);
    ja(top);
    label_here(end);
    break;
  }
  case ND_UNROLL: {
    int end = label_new();
    for (uint64_t i = 0; i < s->ival && !G->failed; i++) {
      if (++G->unrolled > CG_MAX_UNROLLED) {
        fail(s->loc, "unroll() expands to more than %s copies of its body", "1000000");
        break;
      }
      int next = label_new();
      cg_loop_body(s->then, end, next);
      label_here(next);
    }
    label_here(end);
    break;
  }
  case ND_FOR_RANGE: {
    int top = label_new(), cont = label_new(), end = label_new();
    int lim = slot(8, s->loc);
    cg_scalar(s->rhs);
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, lim));
    cg_scalar(s->lhs);
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(s->var)));
    label_here(top);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_10, var_slot(s->var)));
    emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_10, lim));
    jmp_reg(BPF_JSGE, BPF_REG_0, BPF_REG_1, end);
    cg_loop_body(s->then, end, cont);
    label_here(cont);
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_10, var_slot(s->var)));
    emit(ALU64_IMM(BPF_ADD, BPF_REG_0, 1));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(s->var)));
    ja(top);
    label_here(end);
    /* the limit slot stays reserved: it is live across the loop body */
    return;
  }
  case ND_FOR_MAP:
    cg_for_each(s->lhs->map, s, s->loc);
    break;
  case ND_BREAK:
  case ND_CONTINUE:
    if (!G->nloops) {
      fail(s->loc, "%s outside of a loop", s->kind == ND_BREAK ? "break" : "continue");
      break;
    }
    ja(s->kind == ND_BREAK ? G->brk[G->nloops - 1] : G->cont[G->nloops - 1]);
    break;
  case ND_RETURN:
    ja(G->exit_label);
    break;
  case ND_LET:
    if (s->rhs) {
      Node target = {.kind = ND_VAR, .name = s->name, .var = s->var, .loc = s->loc,
                     .type = s->var->type};
      Node assign = {.kind = ND_ASSIGN, .lhs = &target, .rhs = s->rhs, .loc = s->loc};
      cg_assign(&assign);
    }
    break;
  default:
    fail(s->loc, "cannot generate code for this statement%s", "");
  }
  G->stack = mark;
}

/* ------------------------------------------------------------ programs */

/* Does the probe read args.NAME (name == NULL: any field)? */
static bool uses_field(const Node *n, const char *name) {
  for (; n; n = n->next) {
    if (n->kind == ND_FIELD && n->lhs->kind == ND_BUILTIN && !strcmp(n->lhs->name, "args") &&
        (!name || !strcmp(n->name, name)))
      return true;
    if (uses_field(n->lhs, name) || uses_field(n->rhs, name) || uses_field(n->cond, name) ||
        uses_field(n->then, name) || uses_field(n->els, name) || uses_field(n->args, name) ||
        uses_field(n->body, name))
      return true;
  }
  return false;
}

static bool probe_uses_field(const Probe *p, const char *name) {
  return uses_field(p->pred, name) || uses_field(p->body, name);
}

/* A syscall target runs as a raw tracepoint (see providers/sysdispatch.h): rebuild the
 * tracefs record on the stack so that args.NAME loads work unchanged,
 * and point the saved context at it.  Enter: ctx->args[0] is the
 * struct pt_regs *, whose argument registers are read one by one (only
 * those the probe uses).
 * Exit: ctx->args[1] is the return value. */
static void syscall_record_prologue(Target *t) {
  int size = 16 + (t->sys_exit ? 8 : 48);
  int rec = slot(size, t->probe->loc);
  emit_zero(rec, size);
  emit(ST_IMM(BPF_DW, BPF_REG_10, rec + 8, t->sys_nr));
  if (t->sys_exit) {
    emit(LDX(BPF_DW, BPF_REG_2, BPF_REG_1, 8));
    emit(STX(BPF_DW, BPF_REG_10, BPF_REG_2, rec + 16));
  } else {
    emit(LDX(BPF_DW, BPF_REG_6, BPF_REG_1, 0));
    for (int i = 0; i < t->tp->nfields; i++) {
      int arg = (t->tp->fields[i].offset - 16) / 8;
      if (t->tp->fields[i].offset < 16 || arg >= arch_current()->nsyscall_args ||
          !probe_uses_field(t->probe, t->tp->fields[i].name))
        continue;
      emit_addr(BPF_REG_1, rec + 16 + 8 * arg);
      emit(MOV64_IMM(BPF_REG_2, 8));
      emit(MOV64_REG(BPF_REG_3, BPF_REG_6));
      emit(ALU64_IMM(BPF_ADD, BPF_REG_3, arch_current()->syscall_args[arg]));
      emit(CALL(BPF_FUNC_probe_read_kernel));
    }
  }
  emit_addr(BPF_REG_1, rec);
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, CTX_OFF));
}

/* iter probes (prov_iter.c).  The kernel calls the program once more
 * after the last object with the object pointer NULL: skip that call.
 * Returns the label the skip jumps to (past the epilogue). */
static int iter_prologue(Target *t) {
  int skip = label_new();
  if (t->iter_obj_off >= 0) {
    emit(LDX(BPF_DW, BPF_REG_0, BPF_REG_1, t->iter_obj_off));
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, skip);
  }
  return skip;
}

/* One byte per object into the iterator's seq_file (ctx->meta->seq), so
 * that a short read() of the iterator fd returns after a few objects and
 * user space drains the ring buffer before it can fill. */
static void iter_epilogue(int skip) {
  int byte = slot(8, G->t->probe->loc);
  emit(ST_IMM(BPF_DW, BPF_REG_10, byte, '\n'));
  load_ctx(BPF_REG_1);
  emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_1, 0)); /* meta */
  emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_1, 0)); /* meta->seq */
  emit_addr(BPF_REG_2, byte);
  emit(MOV64_IMM(BPF_REG_3, 1));
  emit(CALL(BPF_FUNC_seq_write));
  label_here(skip);
}

static int cg_target(Compiled *c, Target *t) {
  Cg cg = {.em.max = CG_MAX_EMIT};
  G = &cg;
  cg.t = t;
  cg.c = c;
  cg.exit_label = label_new();
  cg.stack = 8; /* ctx save slot */
  emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, CTX_OFF));
  cg.ctx_off = CTX_OFF;
  int iter_skip = t->type == PT_ITER ? iter_prologue(t) : -1;
  if (c->filter_pid && t->type != PT_BEGIN && t->type != PT_END && t->type != PT_INTERVAL &&
      t->type != PT_ITER) {
    /* -p PID: probes ignore other processes; BEGIN/END and interval
     * timers run in no particular process, so they are not filtered */
    emit(CALL(BPF_FUNC_get_current_pid_tgid));
    emit(ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    jmp_imm(BPF_JNE, BPF_REG_0, c->filter_pid, cg.exit_label);
  }
  if (t->raw_syscall && probe_uses_field(t->probe, NULL)) {
    if (uses_stack(t->probe->pred) || uses_stack(t->probe->body)) {
      /* the prologue points CTX_OFF at a rebuilt record: keep the
       * real context for bpf_get_stackid */
      cg.ctx_off = slot(8, t->probe->loc);
      emit(LDX(BPF_DW, BPF_REG_1, BPF_REG_10, CTX_OFF));
      emit(STX(BPF_DW, BPF_REG_10, BPF_REG_1, cg.ctx_off));
    }
    syscall_record_prologue(t);
  }
  declare_vars(t->probe->pred);
  declare_vars(t->probe->body);
  if (t->probe->pred) {
    cg_scalar(t->probe->pred);
    jmp_imm(BPF_JEQ, BPF_REG_0, 0, cg.exit_label);
  }
  cg_block(t->probe->body);
  label_here(cg.exit_label);
  if (iter_skip >= 0)
    iter_epilogue(iter_skip);
  emit(MOV64_IMM(BPF_REG_0, 0));
  emit(EXIT_INSN());
  emit_subs();
  int rc = 0;
  if (cg.failed) {
    rc = -1;
  } else if (em_resolve(&cg.em) < 0) {
    diag_error(t->probe->loc, "probe %s is too large: a jump spans more than 32767 instructions",
               t->name);
    rc = -1;
  } else if ((em_remove_dead_code(&cg.em), cg.em.n > 1000000)) {
    diag_error(t->probe->loc, "probe %s needs %d instructions; the kernel allows 1000000", t->name,
               cg.em.n);
    rc = -1;
  }
  t->insns = ealloc(sizeof(struct bpf_insn) * cg.em.n);
  memcpy(t->insns, cg.em.insns, sizeof(struct bpf_insn) * cg.em.n);
  t->ninsns = cg.em.n;
  em_free(&cg.em);
  free(cg.vars);
  G = NULL;
  return rc;
}

static MapInfo *add_internal_map(Compiled *c, const char *name, int val_size) {
  MapInfo *m = ealloc(sizeof(MapInfo));
  m->name = estrdup(name);
  m->id = c->nmaps;
  m->val_size = val_size;
  m->key_size = 4;
  m->fd = -1;
  c->maps = egrow(c->maps, c->nmaps, sizeof(MapInfo *));
  c->maps[c->nmaps++] = m;
  return m;
}

int cg_program(Compiled *c, const Options *opt) {
  add_internal_map(c, ".ringbuf", 0);
  MapInfo *d = add_internal_map(c, ".drops", 8);
  d->max_entries = 3; /* DROP_RINGBUF, DROP_MAP_FULL, DROP_STACK */
  d->percpu = true;
  int rc = 0;
  for (int i = 0; i < c->ntargets; i++)
    if (cg_target(c, c->targets[i]) < 0)
      rc = -1;
  return rc;
}
