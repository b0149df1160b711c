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
#include "codegen/cg.h"
#include "arch/arch.h"
#include "builtins/builtin.h"
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>


/* ------------------------------------------------------------ emission */

/* The shared emitter (emit.c) dropped an instruction past CG_MAX_EMIT. */
static void too_many(Cg *cg) {
  if (!cg->failed)
    diag_error(cg->t->probe->loc,
               "probe %s needs more than %d instructions; the kernel allows 1000000", cg->t->name,
               CG_MAX_EMIT);
  cg->failed = true;
}

void emit(Cg *cg, struct bpf_insn in) {
  if (!em_insn(&cg->em, in))
    too_many(cg);
}

void emit_imm64(Cg *cg, int reg, uint64_t v) {
  if ((int64_t)v == (int32_t)v) {
    emit(cg, MOV64_IMM(reg, (int32_t)v));
    return;
  }
  emit(cg, LD_IMM64_LO(reg, 0, v));
  emit(cg, LD_IMM64_HI(v));
}

/* Load a map's address.  imm holds the map id until load.c patches in
 * the fd. */
void emit_map(Cg *cg, int reg, const MapInfo *m) {
  emit(cg, LD_IMM64_LO(reg, BPF_PSEUDO_MAP_FD, m->id));
  emit(cg, LD_IMM64_HI(0));
}

/* reg = the address of the value of array map m's first element (direct
 * value access: no lookup call) */
static void emit_map_value(Cg *cg, int reg, const MapInfo *m) {
  emit(cg, LD_IMM64_LO(reg, BPF_PSEUDO_MAP_VALUE, m->id));
  emit(cg, LD_IMM64_HI(0));
}

int label_new(Cg *cg) { return em_label(&cg->em); }

void label_here(Cg *cg, int l) { em_place(&cg->em, l); }

static void jump_to(Cg *cg, struct bpf_insn in, int label) {
  if (!em_jump(&cg->em, in, label))
    too_many(cg);
}

void ja(Cg *cg, int label) { jump_to(cg, JA(0), label); }

/* reg = address of the subprogram at label (for bpf_for_each_map_elem) */
static void emit_func_addr(Cg *cg, int reg, int label) {
  if (!em_func_addr(&cg->em, reg, label))
    too_many(cg);
}
void jmp_imm(Cg *cg, int op, int reg, int32_t imm, int label) {
  jump_to(cg, JMP_IMM(op, reg, imm, 0), label);
}
void jmp_reg(Cg *cg, int op, int a, int b, int label) { jump_to(cg, JMP_REG(op, a, b, 0), label); }

void fail(Cg *cg, Loc loc, const char *fmt, const char *arg) {
  if (!cg->failed)
    diag_error(loc, fmt, arg);
  cg->failed = true;
}

/* ------------------------------------------------------------ stack */

int slot(Cg *cg, int size, Loc loc) {
  size = (size + 7) & ~7;
  cg->stack += size;
  if (cg->stack > cg->max_stack)
    cg->max_stack = cg->stack;
  if (cg->stack > STACK_MAX)
    fail(cg, loc,
         "this probe needs more than the %s bytes of BPF stack; use fewer or shorter strings",
         "512");
  return -cg->stack;
}

/* Give back the slots above mark (a statement or a temporary is done).
 * A spilled register-stack entry cached in one of them is forgotten: the
 * next spill at that depth takes a fresh slot, where reusing the old
 * offset would share it with whatever slot() hands out there next. */
void stack_release(Cg *cg, int mark) {
  cg->stack = mark;
  for (int d = 0; d < 64; d++)
    if (cg->spill[d] && -cg->spill[d] > mark)
      cg->spill[d] = 0;
}

void emit_zero(Cg *cg, int off, int size) {
  for (int i = 0; i < size; i += 8)
    emit(cg, ST_IMM(BPF_DW, BPF_REG_10, off + i, 0));
}

/* Copy size bytes from src_reg+soff to r10+doff: 8 at a time, then the
 * tail (a string cut to n - 1 bytes) in 4, 2 and 1-byte moves. */
void emit_copy(Cg *cg, int doff, int src_reg, int soff, int size) {
  int i = 0;
  for (int w = 8; w >= 1; w /= 2) {
    int sz = w == 8 ? BPF_DW : w == 4 ? BPF_W : w == 2 ? BPF_H : BPF_B;
    for (; i + w <= size; i += w) {
      emit(cg, LDX(sz, BPF_REG_1, src_reg, soff + i));
      emit(cg, STX(sz, BPF_REG_10, BPF_REG_1, doff + i));
    }
  }
}

void emit_addr(Cg *cg, int reg, int off) {
  /* a variable's slot read through a pointer keeps its stores (peephole) */
  for (int i = 0; i < cg->nvars; i++) {
    const VarInfo *v = cg->vars[i];
    int size = v->type && v->type->size ? v->type->size : 8;
    if (off >= v->stack_off && off < v->stack_off + size)
      cg->var_addressed |= 1ull << (i < 63 ? i : 63);
  }
  emit(cg, MOV64_REG(reg, BPF_REG_10));
  emit(cg, ALU64_IMM(BPF_ADD, reg, off));
}

/* ------------------------------------------------------------ register stack */

void push(Cg *cg, Loc loc) {
  if (cg->depth < NREGS) {
    emit(cg, MOV64_REG(BPF_REG_6 + cg->depth, BPF_REG_0));
  } else {
    int d = cg->depth - NREGS;
    if (d >= 64) {
      fail(cg, loc, "expression too deep (%s levels)", "68");
      return;
    }
    if (!cg->spill[d])
      cg->spill[d] = slot(cg, 8, loc);
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, cg->spill[d]));
  }
  cg->depth++;
}

/* Copy the register-stack entry at depth d (0 = bottom) into reg. */
void peek(Cg *cg, int reg, int d) {
  if (d < NREGS)
    emit(cg, MOV64_REG(reg, BPF_REG_6 + d));
  else
    emit(cg, LDX(BPF_DW, reg, BPF_REG_10, cg->spill[d - NREGS]));
}

void pop(Cg *cg, int reg) {
  cg->depth--;
  if (cg->depth < NREGS)
    emit(cg, MOV64_REG(reg, BPF_REG_6 + cg->depth));
  else
    emit(cg, LDX(BPF_DW, reg, BPF_REG_10, cg->spill[cg->depth - NREGS]));
}

/* ------------------------------------------------------------ helpers */

/* The cpu v4 instructions (signed division and remainder, sign-extending
 * moves: the off field set) came with Linux 6.6; older kernels refuse
 * them ("BPF_ALU uses reserved fields", "BPF_MOV uses reserved fields"). */
bool cg_kernel_has_cpuv4(void) { return rt_kernel_at_least(6, 6); }

void canonicalize(Cg *cg, int reg, const Type *t) {
  if (t->kind != TY_INT || t->int_size == 8)
    return;
  int bits = t->int_size * 8;
  if (t->is_signed && cg_kernel_has_cpuv4()) {
    emit(cg, MOVSX64_REG(reg, reg, bits));
  } else if (t->is_signed) {
    emit(cg, ALU64_IMM(BPF_LSH, reg, 64 - bits));
    emit(cg, ALU64_IMM(BPF_ARSH, reg, 64 - bits));
  } else if (bits == 32) {
    emit(cg, MOV32_REG(reg, reg));
  } else {
    emit(cg, ALU64_IMM(BPF_AND, reg, (1 << bits) - 1));
  }
}

/* After a conditional jump to `yes`: r0 = 0 on the path that fell
 * through, r0 = 1 at yes, and both continue after. */
void set_r0_bool(Cg *cg, int yes) {
  int done = label_new(cg);
  emit(cg, MOV64_IMM(BPF_REG_0, 0));
  ja(cg, done);
  label_here(cg, yes);
  emit(cg, MOV64_IMM(BPF_REG_0, 1));
  label_here(cg, done);
}

void load_ctx(Cg *cg, int reg) { emit(cg, LDX(BPF_DW, reg, BPF_REG_10, CTX_OFF)); }

/* The base register of a context field load: r10 when the context is a
 * stack record (*off moves to it), else reg loaded with the context. */
static int ctx_base(Cg *cg, int reg, int *off) {
  if (cg->ctx_rec) {
    *off += cg->ctx_rec;
    return BPF_REG_10;
  }
  load_ctx(cg, reg);
  return reg;
}


MapInfo *internal_map(Cg *cg, const char *name) {
  for (int i = 0; i < cg->c->nmaps; i++)
    if (!strcmp(cg->c->maps[i]->name, name))
      return cg->c->maps[i];
  return NULL;
}

/* reg = the address of .drops' counter `slot` (a map value address
 * the kernel resolves at load: no lookup call). */
static void emit_drop_slot_addr(Cg *cg, int reg, int slot) {
  const MapInfo *m = internal_map(cg, ".drops");
  emit(cg, LD_IMM64_LO(reg, BPF_PSEUDO_MAP_VALUE, m->id));
  emit(cg, INSN(0, 0, 0, 0, slot * 8));
}

/* The ring buffer's counter of this CPU: .drops[DROP_RINGBUF_CPU0 + cpu]
 * += 1 (per CPU, because a CTF stream reports its own CPU's losses).
 * The bound is for the verifier. */
static void emit_ringbuf_drop(Cg *cg) {
  int skip = label_new(cg);
  emit(cg, CALL(BPF_FUNC_get_smp_processor_id));
  jmp_imm(cg, BPF_JGE, BPF_REG_0, DROP_MAX_CPUS, skip);
  emit(cg, ALU64_IMM(BPF_LSH, BPF_REG_0, 3));
  emit_drop_slot_addr(cg, BPF_REG_1, DROP_RINGBUF_CPU0);
  emit(cg, ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_0));
  emit(cg, MOV64_IMM(BPF_REG_2, 1));
  emit(cg, ATOMIC_ADD64(BPF_REG_1, BPF_REG_2, 0));
  label_here(cg, skip);
}

/* The inline count of a lost event of kind idx (clobbers r0..r5).
 * Losses are totals, added atomically to one shared counter: they only
 * happen when the ring or a map is already full, and four instructions
 * beat a per-CPU lookup on every program's size.  A CTF trace's ring
 * losses are counted per CPU instead (its streams report their own). */
static void emit_drop(Cg *cg, int idx) {
  if (idx == DROP_RINGBUF && cg->c->ctf_records) {
    emit_ringbuf_drop(cg);
    return;
  }
  emit_drop_slot_addr(cg, BPF_REG_1, idx);
  emit(cg, MOV64_IMM(BPF_REG_2, 1));
  emit(cg, ATOMIC_ADD64(BPF_REG_1, BPF_REG_2, 0));
}

/* A kind counted at enough sites (cg_program decides) is counted by one
 * subprogram of its own that each site calls (a bpf-to-bpf call keeps
 * r6..r9). */
static void emit_drop_subs(Cg *cg) {
  for (int k = 0; k < 3; k++) {
    if (cg->drop_label[k] < 0)
      continue;
    label_here(cg, cg->drop_label[k]);
    emit_drop(cg, k);
    emit(cg, MOV64_IMM(BPF_REG_0, 0));
    emit(cg, EXIT_INSN());
  }
}

void count_drop(Cg *cg, int idx) {
  cg->drop_sites[idx]++;
  if (cg->drop_sub & (1u << idx)) {
    if (cg->drop_label[idx] < 0)
      cg->drop_label[idx] = label_new(cg);
    if (!em_call(&cg->em, cg->drop_label[idx]))
      cg->failed = true;
    return;
  }
  emit_drop(cg, idx);
}

/* ------------------------------------------------------------ variables */

int var_slot(Cg *cg, VarInfo *v) {
  for (int i = 0; i < cg->nvars; i++)
    if (cg->vars[i] == v)
      return v->stack_off;
  return 0;
}

static bool mentions(const Node *n, const VarInfo *v);

/* Does any node of the list n (linked by next) read or write v? */
static bool mentions_list(const Node *n, const VarInfo *v) {
  for (; n; n = n->next)
    if (mentions(n, v))
      return true;
  return false;
}

/* Does the node n, or anything under it, read or write v? */
static bool mentions(const Node *n, const VarInfo *v) {
  return n && (n->var == v || mentions_list(n->lhs, v) || mentions_list(n->rhs, v) ||
               mentions_list(n->cond, v) || mentions_list(n->then, v) ||
               mentions_list(n->els, v) || mentions_list(n->args, v) || mentions_list(n->body, v));
}

/* Does v's first use in the statement list run an assignment to it
 * before any read, on every path that reads it?  True when the first
 * statement that mentions v assigns it (from something else), or is a
 * block, if or loop that mentions v in one body only, where this holds,
 * with no later statement of the list mentioning v. */
static bool assigned_before_use(const Node *list, const VarInfo *v) {
  for (const Node *s = list; s; s = s->next) {
    if (!mentions(s, v))
      continue;
    const Node *a = s->kind == ND_EXPR_STMT ? s->lhs : NULL;
    if (a && a->kind == ND_ASSIGN && a->op == OP_NONE && a->lhs->kind == ND_VAR &&
        a->lhs->var == v)
      return !mentions(a->rhs, v);
    if (s->kind == ND_LET && s->var == v && s->rhs)
      return !mentions(s->rhs, v);
    if (mentions_list(s->next, v))
      return false;
    switch (s->kind) {
    case ND_BLOCK:
      return assigned_before_use(s->body, v);
    case ND_IF:
      if (mentions(s->cond, v) || (mentions(s->then, v) && mentions(s->els, v)))
        return false;
      return assigned_before_use(mentions(s->then, v) ? s->then : s->els, v);
    case ND_WHILE:
    case ND_UNROLL: /* each pass assigns before it reads */
      return !mentions(s->cond, v) && !mentions(s->lhs, v) && assigned_before_use(s->then, v);
    default:
      return false;
    }
  }
  return false;
}

/* Is v assigned before anything in probe p reads it, on every path that
 * reads it?  Then its slot needs no zeroing. */
static bool assigned_first(const Probe *p, const VarInfo *v) {
  return p && !mentions(p->pred, v) && p->body && p->body->kind == ND_BLOCK &&
         assigned_before_use(p->body->body, v);
}

static void declare_var(Cg *cg, VarInfo *v, Loc loc) {
  if (!v || var_slot(cg, v))
    return;
  int size = v->type && v->type->size ? v->type->size : 8;
  v->stack_off = slot(cg, size, loc);
  /* a whole number of words: the assignment writes every byte */
  if (size % 8 || !assigned_first(cg->zero_scope, v))
    emit_zero(cg, v->stack_off, size);
  cg->vars = realloc(cg->vars, sizeof(VarInfo *) * (cg->nvars + 1));
  cg->vars[cg->nvars++] = v;
}

/* Give every variable of the probe a zeroed slot up front, so that a
 * read on a path that skipped the assignment sees 0 / "". */
static void declare_vars(Cg *cg, Node *n) {
  for (; n; n = n->next) {
    if ((n->kind == ND_VAR || n->kind == ND_LET || n->kind == ND_FOR_RANGE) && n->var)
      declare_var(cg, n->var, n->loc);
    if (n->kind == ND_FOR_MAP)
      continue; /* its variables live in the callback's frame */
    declare_vars(cg, n->lhs);
    declare_vars(cg, n->rhs);
    declare_vars(cg, n->cond);
    declare_vars(cg, n->then);
    declare_vars(cg, n->els);
    declare_vars(cg, n->args);
    declare_vars(cg, n->body);
  }
}

/* ------------------------------------------------------------ expressions */

void cg_scalar(Cg *cg, Node *e);
void cg_store(Cg *cg, Node *e, int off, const Type *dst);
static void cg_stmt(Cg *cg, Node *s);
void cg_for_each(Cg *cg, MapInfo *m, Node *loop, Loc loc);
static void cg_incdec_value(Cg *cg, Node *e);
static void cg_loop_body(Cg *cg, Node *body, int brk, int cont);

static int is_comm(const Node *n) {
  return n->kind == ND_BUILTIN && n->name && !strcmp(n->name, "comm");
}

/* The stack offset where the value of aggregate e can be read: a
 * variable's own slot, the probe's shared comm, or a temporary filled by
 * cg_store. */
int cg_addr(Cg *cg, Node *e, const Type *as) {
  if (e->kind == ND_VAR && e->var && var_slot(cg, e->var))
    return e->var->stack_off;
  if (cg->comm_off && is_comm(e) && as->size == 16)
    return cg->comm_off;
  int off = slot(cg, as->size, e->loc);
  cg_store(cg, e, off, as);
  return off;
}

static const TpField *tp_field(Cg *cg, const char *name) {
  const TpFormat *tp = target_record(cg->t);
  for (int i = 0; tp && i < tp->nfields; i++)
    if (!strcmp(tp->fields[i].name, name))
      return &tp->fields[i];
  return NULL;
}

int size_code(int size) {
  return size == 1 ? BPF_B : size == 2 ? BPF_H : size == 4 ? BPF_W : BPF_DW;
}

/* An integer field of the tracepoint's record, read from the context
 * without a helper call and without side effects. */
static bool context_int(const Cg *cg, const Node *e) {
  return e->kind == ND_FIELD && ty_is_int(e->type) && !cg->t->prov->arg_loc &&
         e->lhs->kind == ND_BUILTIN && builtin_has(e->lhs, BUILTIN_ARGS_RECORD);
}

/* Key of a map access, built on the stack; hist maps leave room for the
 * bucket index after the user key.  Returns the slot offset. */
int build_key(Cg *cg, Node *mapnode) {
  MapInfo *m = mapnode->map;
  bool built;
  keycache_forget_values(cg, m); /* the caller may write the map */
  int off = keycache_slot(cg, mapnode, &built);
  if (built)
    return off;
  if (!off && m->nkeys == 1 && m->key_size == 16 && cg->comm_off && is_comm(mapnode->args))
    return cg->comm_off; /* @[comm]: the probe's comm is the key as it is */
  if (!off)
    off = slot(cg, m->key_size, mapnode->loc);
  /* Every key part is 8-byte aligned and sized and cg_store writes all
   * of it, so only the scalar-map key needs zeroing here. */
  if (m->nkeys == 0) {
    emit(cg, ST_IMM(m->array ? BPF_W : BPF_DW, BPF_REG_10, off, 0));
    return off;
  }
  if (m->nkeys == 1) {
    cg_store(cg, mapnode->args, off, m->key);
    return off;
  }
  /* parts read straight from the context first, while r1 may still
   * hold it: a helper call for another part would clobber it */
  for (int pass = 0; pass < 2; pass++) {
    int i = 0;
    for (Node *a = mapnode->args; a; a = a->next, i++)
      if (context_int(cg, a) == !pass)
        cg_store(cg, a, off + m->key->offsets[i], m->key->fields[i]);
  }
  return off;
}

/* r0 = lookup(map, r10+koff) */
void map_lookup(Cg *cg, const MapInfo *m, int koff) {
  emit_map(cg, BPF_REG_1, m);
  emit_addr(cg, BPF_REG_2, koff);
  emit(cg, CALL(BPF_FUNC_map_lookup_elem));
}

void map_update(Cg *cg, const MapInfo *m, int koff, int voff) {
  emit_map(cg, BPF_REG_1, m);
  emit_addr(cg, BPF_REG_2, koff);
  emit_addr(cg, BPF_REG_3, voff);
  emit(cg, MOV64_IMM(BPF_REG_4, BPF_ANY));
  emit(cg, CALL(BPF_FUNC_map_update_elem));
  cg_check_helper(cg, BPF_FUNC_map_update_elem, 1, cg->stmt_loc);
  /* A full map rejects new keys: count it instead of losing it silently. */
  int ok = label_new(cg);
  jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, ok);
  count_drop(cg, DROP_MAP_FULL);
  label_here(cg, ok);
}

static void cg_map_read_scalar(Cg *cg, Node *e) {
  if (keycache_value_load(cg, e))
    return;
  int koff = build_key(cg, e);
  map_lookup(cg, e->map, koff);
  cg_check_helper(cg, BPF_FUNC_map_lookup_elem, 2, e->loc);
  int miss = label_new(cg);
  /* a miss leaves r0 = NULL, which is the 0 a missing key reads as */
  jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, miss);
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_0, 0));
  label_here(cg, miss);
  keycache_value_keep(cg, e);
}

/* Read a per-CPU aggregation as one number: sum (count, sum), min, max
 * or the average over every possible CPU's slot. */
static void cg_map_read_agg(Cg *cg, Node *e) {
  MapInfo *m = e->map;
  TypeKind k = m->val->kind;
  bool sgn = m->val->is_signed;
  int koff = build_key(cg, e);
  int acc = slot(cg, 24, e->loc); /* value, count (avg) / seen (min, max) */
  emit_zero(cg, acc, 24);
  for (int cpu = 0; cpu < cg->c->possible_cpus; cpu++) {
    int next = label_new(cg);
    emit_map(cg, BPF_REG_1, m);
    emit_addr(cg, BPF_REG_2, koff);
    emit(cg, MOV64_IMM(BPF_REG_3, cpu));
    emit(cg, CALL(BPF_FUNC_map_lookup_percpu_elem));
    jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, next);
    emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0));
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_10, acc));
    if (k == TY_MIN || k == TY_MAX) {
      int take = label_new(cg);
      emit(cg, LDX(BPF_DW, BPF_REG_3, BPF_REG_0, 8));
      jmp_imm(cg, BPF_JEQ, BPF_REG_3, 0, next);           /* no value on this CPU */
      emit(cg, LDX(BPF_DW, BPF_REG_3, BPF_REG_10, acc + 8));
      jmp_imm(cg, BPF_JEQ, BPF_REG_3, 0, take);           /* first value seen */
      int keep = k == TY_MIN ? (sgn ? BPF_JSGE : BPF_JGE) : (sgn ? BPF_JSLE : BPF_JLE);
      jmp_reg(cg, keep, BPF_REG_1, BPF_REG_2, next);
      label_here(cg, take);
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_1, acc));
      emit(cg, ST_IMM(BPF_DW, BPF_REG_10, acc + 8, 1));
    } else {
      emit(cg, ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_2, acc));
      if (k == TY_AVG) {
        emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 8));
        emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_10, acc + 8));
        emit(cg, ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_1));
        emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_2, acc + 8));
      }
    }
    label_here(cg, next);
  }
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, acc));
  if (k == TY_AVG) {
    int done = label_new(cg);
    emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, acc + 8));
    jmp_imm(cg, BPF_JEQ, BPF_REG_1, 0, done);
    emit(cg, sgn ? SDIV64_REG(BPF_REG_0, BPF_REG_1) : ALU64_REG(BPF_DIV, BPF_REG_0, BPF_REG_1));
    label_here(cg, done);
  }
}

static void cg_field_scalar(Cg *cg, Node *e) {
  if (cg->t->prov->arg_loc) { /* args.NAME where the provider says */
    cg_arg(cg, e, ARG_FIELD, e->field_off);
    return;
  }
  const TpField *f = tp_field(cg, e->name);
  if (!f) {
    fail(cg, e->loc, "tracepoint has no field '%s'", e->name);
    return;
  }
  /* the bytes the value's type has (the low ones of a wider slot) */
  int width = ty_is_int(e->type) && !e->type->is_ptr && e->type->int_size < f->size
                  ? e->type->int_size : f->size;
  if (cg->t->prov->field_load && cg->t->prov->field_load(cg, cg->t, f, width)) {
    canonicalize(cg, BPF_REG_0, e->type);
    return;
  }
  int off = f->offset, base = ctx_base(cg, BPF_REG_1, &off);
  emit(cg, LDX(size_code(f->size), BPF_REG_0, base, off));
  canonicalize(cg, BPF_REG_0, e->type);
}

/* args.ARRAY[i]: a direct context load for a constant index; for a
 * computed one, a bounds check and a probe read (the verifier does not
 * allow variable offsets into the context). */
static void cg_index(Cg *cg, Node *e) {
  const TpField *f = tp_field(cg, e->lhs->name);
  if (!f) {
    fail(cg, e->loc, "tracepoint has no field '%s'", e->lhs->name);
    return;
  }
  int elem = f->size / f->array_len;
  if (e->rhs->kind == ND_INT) {
    int off = f->offset + (int)e->rhs->ival * elem, base = ctx_base(cg, BPF_REG_1, &off);
    emit(cg, LDX(size_code(elem), BPF_REG_0, base, off));
    canonicalize(cg, BPF_REG_0, e->type);
    return;
  }
  int tmp = slot(cg, 8, e->loc), out = label_new(cg);
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, tmp, 0));
  cg_scalar(cg, e->rhs);
  jmp_imm(cg, BPF_JGE, BPF_REG_0, f->array_len, out);
  emit(cg, ALU64_IMM(BPF_MUL, BPF_REG_0, elem));
  load_ctx(cg, BPF_REG_3);
  emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_3, f->offset));
  emit(cg, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_0));
  emit_addr(cg, BPF_REG_1, tmp);
  emit(cg, MOV64_IMM(BPF_REG_2, elem));
  emit(cg, CALL(BPF_FUNC_probe_read_kernel));
  label_here(cg, out);
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, tmp));
  canonicalize(cg, BPF_REG_0, e->type);
}

/* ------------------------------------------------------------ kernel objects
 *
 * A chain like curtask->real_parent->comm is address arithmetic on the
 * object's address, with one probe read per pointer followed: BPF cannot
 * load kernel memory directly outside BTF-aware program types. */

/* An array in memory: TY_ARRAY, or a char array member read as a string
 * that is indexed (p->name[0]). */
static bool is_member_array(const Type *t) {
  return t->kind == TY_ARRAY || (t->kind == TY_STR && t->elem);
}

/* Whether the object e denotes lives in user memory (the root pointer's
 * address space). */
bool object_user(const Node *e) {
  switch (e->kind) {
  case ND_FIELD: return e->arrow ? e->lhs->type->user : object_user(e->lhs);
  case ND_UNARY: return e->lhs->type->user;
  case ND_INDEX:
    return is_member_array(e->lhs->type) ? object_user(e->lhs) : e->lhs->type->user;
  default: return false;
  }
}

/* The pointer through which the object e denotes is read (NULL: it is a
 * copy held in a variable, a map or a tuple). */
static const Type *object_base(const Node *e) {
  switch (e->kind) {
  case ND_FIELD: return e->arrow ? e->lhs->type : object_base(e->lhs);
  case ND_UNARY: return e->lhs->type;
  case ND_INDEX:
    return is_member_array(e->lhs->type) ? object_base(e->lhs) : e->lhs->type;
  default: return NULL;
  }
}

/* The helper that reads the object e denotes: probe_read_user for user
 * memory, probe_read_kernel for kernel memory; memory of no known address
 * space (a pointer cast from an integer in BEGIN, interval ...) with the
 * legacy probe_read where the kernel has it, as bpftrace does (it tries
 * kernel memory, then user memory: -EFAULT for address 0). */
static int object_read_helper(Cg *cg, const Node *e) {
  if (object_user(e))
    return BPF_FUNC_probe_read_user;
  const Type *base = object_base(e);
  if (base && base->any_space)
    return cg_any_space_read(cg, false);
  return BPF_FUNC_probe_read_kernel;
}

int cg_any_space_read(Cg *cg, bool str) {
  if (arch_current()->legacy_probe_read)
    return str ? BPF_FUNC_probe_read_str : BPF_FUNC_probe_read;
  if (cg->t->caps & PROBE_CAP_USER)
    return str ? BPF_FUNC_probe_read_user_str : BPF_FUNC_probe_read_user;
  return str ? BPF_FUNC_probe_read_kernel_str : BPF_FUNC_probe_read_kernel;
}

/* Where a failed read of e is reported: the start of the whole
 * expression, as bpftrace reports it. */
static Loc object_loc(const Node *e) { return e->start.line ? e->start : e->loc; }

/* Whether e is read from memory: a member of a record, p[i], a[i], *p. */
static bool is_object_read(const Node *e) {
  if (e->kind == ND_FIELD)
    return e->lhs->type->kind != TY_CTX;
  if (e->kind == ND_INDEX)
    return is_member_array(e->lhs->type) || e->lhs->type->is_ptr;
  return e->kind == ND_UNARY && e->op == OP_DEREF;
}

/* The root of a read from the program's context through a ctx pointer
 * (ctx->sample_period, ((struct x *)ctx)->regs.ip, ctx[0]) and the
 * read's offset from it; NULL when e does not read the context.  *konst
 * is false when the offset is not a constant. */
static Node *ctx_member(Node *e, int *off, bool *konst) {
  Node *root;
  switch (e->kind) {
  case ND_FIELD:
    if (e->arrow) {
      *off = e->field_off;
      *konst = true;
      return e->lhs->type->ctx ? e->lhs : NULL;
    }
    if ((root = ctx_member(e->lhs, off, konst)))
      *off += e->field_off;
    return root;
  case ND_UNARY:
    *off = 0;
    *konst = true;
    return e->op == OP_DEREF && e->lhs->type->ctx ? e->lhs : NULL;
  case ND_INDEX: {
    int step = e->rhs->kind == ND_INT ? (int)e->rhs->ival * ty_mem_size(e->type) : 0;
    if (is_member_array(e->lhs->type)) {
      if ((root = ctx_member(e->lhs, off, konst)))
        *off += step;
    } else {
      root = e->lhs->type->ctx ? e->lhs : NULL;
      *off = step;
      *konst = true;
    }
    if (e->rhs->kind != ND_INT)
      *konst = false;
    return root;
  }
  default:
    return NULL;
  }
}

/* r0 = a scalar of the context: one load at a constant offset from the
 * context pointer, the only form the verifier takes (and rewrites). */
static void cg_ctx_read(Cg *cg, Node *e, Node *root, int off, bool konst, int size) {
  if (!konst || (size != 1 && size != 2 && size != 4 && size != 8)) {
    fail(cg, e->loc, "%s: the context is read one 1, 2, 4 or 8-byte member at a constant offset",
         "ctx");
    return;
  }
  cg_scalar(cg, root);
  emit(cg, LDX(size_code(size), BPF_REG_0, BPF_REG_0, off));
}

/* r0 = the address of a struct or array held as a value: a variable's
 * slot, a map value (0 when the key is absent: the read then fails and
 * yields zeros), a tuple member.  These live in BPF memory, read with
 * probe_read_kernel like any object (object_user() is false for them). */
static void cg_held_object_addr(Cg *cg, Node *e) {
  switch (e->kind) {
  case ND_VAR:
    emit_addr(cg, BPF_REG_0, var_slot(cg, e->var));
    return;
  case ND_MAP: {
    map_lookup(cg, e->map, build_key(cg, e));
    /* the verifier allows no arithmetic on a maybe-NULL map value */
    int found = label_new(cg);
    jmp_imm(cg, BPF_JNE, BPF_REG_0, 0, found);
    emit(cg, MOV64_IMM(BPF_REG_0, 0));
    label_here(cg, found);
    return;
  }
  case ND_TUPLE_IDX: /* the tuple's slot stays reserved until the statement ends */
    emit_addr(cg, BPF_REG_0, cg_addr(cg, e->lhs, e->lhs->type) + e->lhs->type->offsets[e->ival]);
    return;
  default:
    fail(cg, e->loc, "cannot take the address of this expression%s", "");
  }
}

/* r0 = the address of the object e denotes. */
void cg_object_addr(Cg *cg, Node *e) {
  int coff;
  bool konst;
  if (ctx_member(e, &coff, &konst)) { /* its address is not the context's memory */
    fail(cg, e->loc, "%s: the context is read one member at a time, not copied", "ctx");
    return;
  }
  switch (e->kind) {
  case ND_VAR:
  case ND_MAP:
  case ND_TUPLE_IDX:
    cg_held_object_addr(cg, e);
    return;
  case ND_FIELD:
    if (e->arrow)
      cg_scalar(cg, e->lhs);
    else
      cg_object_addr(cg, e->lhs);
    if (e->field_off)
      emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_0, e->field_off));
    return;
  case ND_UNARY:
    cg_scalar(cg, e->lhs);
    return;
  case ND_INDEX: {
    if (is_member_array(e->lhs->type))
      cg_object_addr(cg, e->lhs);
    else
      cg_scalar(cg, e->lhs);
    int elem = ty_mem_size(e->type);
    if (e->rhs->kind == ND_INT) {
      if (e->rhs->ival)
        emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_0, (int32_t)(e->rhs->ival * elem)));
      return;
    }
    push(cg, e->loc);
    cg_scalar(cg, e->rhs);
    pop(cg, BPF_REG_1);
    int nelems = is_member_array(e->lhs->type) ? e->lhs->type->nelems : 0;
    int out = label_new(cg), done = label_new(cg);
    if (nelems > 0) /* out of bounds reads address 0: zeros (and the verifier
                     * needs the bound to add the index to a held copy's address) */
      jmp_imm(cg, BPF_JGE, BPF_REG_0, nelems, out);
    emit(cg, ALU64_IMM(BPF_MUL, BPF_REG_0, elem));
    emit(cg, ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_1));
    if (nelems > 0) {
      ja(cg, done);
      label_here(cg, out);
      emit(cg, MOV64_IMM(BPF_REG_0, 0));
      label_here(cg, done);
    }
    return;
  }
  case ND_CALL: /* an array a builtin makes (pton): its value is its address */
    cg_scalar(cg, e);
    return;
  default:
    fail(cg, e->loc, "cannot take the address of this expression%s", "");
  }
}

/* n bytes of the object e denotes into the stack at off (with the read
 * helper of the memory it lives in: object_read_helper). */
static void cg_object_read_into(Cg *cg, Node *e, int off, int n) {
  cg_object_addr(cg, e);
  emit(cg, MOV64_REG(BPF_REG_3, BPF_REG_0));
  emit_addr(cg, BPF_REG_1, off);
  emit(cg, MOV64_IMM(BPF_REG_2, n));
  emit(cg, CALL(object_read_helper(cg, e)));
  cg_check_helper(cg, object_read_helper(cg, e), 2, object_loc(e));
}

/* r0 = the integer or pointer e denotes in memory (zero if unreadable). */
static void cg_object_read(Cg *cg, Node *e) {
  int mark = cg->stack;
  int size = e->bit_size ? (e->bit_shift + e->bit_size + 7) / 8 : ty_mem_size(e->type);
  int coff;
  bool konst;
  Node *root = ctx_member(e, &coff, &konst);
  if (root && !e->bit_size) {
    cg_ctx_read(cg, e, root, coff, konst, size);
    canonicalize(cg, BPF_REG_0, e->type);
    return;
  }
  int tmp = slot(cg, 8, e->loc);
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, tmp, 0));
  cg_object_read_into(cg, e, tmp, size);
  if (e->bit_size) {
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, tmp));
    if (e->bit_shift)
      emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, e->bit_shift));
    if (e->bit_size < 32) {
      emit(cg, ALU64_IMM(BPF_AND, BPF_REG_0, (1 << e->bit_size) - 1));
    } else if (e->bit_size < 64) {
      emit(cg, ALU64_IMM(BPF_LSH, BPF_REG_0, 64 - e->bit_size));
      emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 64 - e->bit_size));
    }
  } else {
    emit(cg, LDX(size_code(size), BPF_REG_0, BPF_REG_10, tmp));
    canonicalize(cg, BPF_REG_0, e->type);
  }
  stack_release(cg, mark);
}

/* A struct or array in memory (*p, p->member, a[i]) into a zeroed
 * buffer of dst->size bytes: only the object's own size is read (a
 * user object may end at the end of a page). */
static void cg_object_copy(Cg *cg, Node *e, int off, const Type *dst) {
  int n = e->type->size < dst->size ? e->type->size : dst->size;
  cg_object_read_into(cg, e, off, n);
}

/* A char array member (task->comm) into a zeroed string buffer. */
static void cg_object_string(Cg *cg, Node *e, int off, const Type *dst) {
  int n = e->type->size < dst->size ? e->type->size : dst->size - 1;
  cg_object_read_into(cg, e, off, n);
}

/* argN, args.NAME, retval and func where the target's provider puts
 * them: a constant, or an argument spec on the context (a u64 at a ctx
 * offset, a pt_regs register, memory addressed from registers). */
void cg_arg(Cg *cg, Node *e, int ref, int i) {
  ArgLoc loc;
  if (!cg->t->prov->arg_loc || !cg->t->prov->arg_loc(cg->t, ref, i, &loc)) {
    fail(cg, e->loc, "cannot generate code for '%s' in this probe", e->name);
    return;
  }
  if (loc.is_const) {
    emit_imm64(cg, BPF_REG_0, loc.value);
    return;
  }
  UsdtArg a = loc.a;
  load_ctx(cg, BPF_REG_1);
  if (a.kind == UA_CONST) {
    emit_imm64(cg, BPF_REG_0, a.value);
  } else if (a.kind == UA_REG) {
    emit(cg,
         LDX(size_code(a.size < a.reg_size ? a.size : a.reg_size), BPF_REG_0, BPF_REG_1, a.reg));
  } else {
    /* address = base + index * scale + disp (or pc + disp), read from
     * the process's memory */
    int tmp = slot(cg, 8, e->loc);
    if (a.ip_rel || a.reg >= 0)
      emit(cg, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, a.ip_rel ? arch_current()->ip : a.reg));
    else
      emit(cg, MOV64_IMM(BPF_REG_3, 0));
    if (a.index >= 0) {
      emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_1, a.index));
      emit(cg, ALU64_IMM(BPF_MUL, BPF_REG_2, a.scale));
      emit(cg, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2));
    }
    if (a.value == (int32_t)a.value) {
      if (a.value)
        emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_3, (int32_t)a.value));
    } else {
      emit_imm64(cg, BPF_REG_2, a.value);
      emit(cg, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2));
    }
    emit(cg, ST_IMM(BPF_DW, BPF_REG_10, tmp, 0));
    emit_addr(cg, BPF_REG_1, tmp);
    emit(cg, MOV64_IMM(BPF_REG_2, a.size));
    emit(cg,
         CALL(loc.kernel_mem ? BPF_FUNC_probe_read_kernel : BPF_FUNC_probe_read_user));
    emit(cg, LDX(size_code(a.size), BPF_REG_0, BPF_REG_10, tmp));
  }
  /* this target's own width and sign first: the probe's other targets
   * (a USDT wildcard) may give argN a wider common type */
  if (a.size < 8)
    canonicalize(cg, BPF_REG_0, ty_int(a.size, a.is_signed));
  canonicalize(cg, BPF_REG_0, e->type);
}

int target_index(Cg *cg, const Target *t) {
  for (int i = 0; i < cg->c->ntargets; i++)
    if (cg->c->targets[i] == t)
      return i;
  return 0;
}

/* Does the code use a builtin that needs the program's real context? */
static bool uses_real_ctx(const Node *n) {
  for (; n; n = n->next) {
    if (builtin_has(n, BUILTIN_REAL_CTX))
      return true;
    if (uses_real_ctx(n->lhs) || uses_real_ctx(n->rhs) || uses_real_ctx(n->cond) ||
        uses_real_ctx(n->then) || uses_real_ctx(n->els) || uses_real_ctx(n->args) ||
        uses_real_ctx(n->body))
      return true;
  }
  return false;
}

static bool signed_cmp(Node *e) { return e->lhs->type->is_signed && e->rhs->type->is_signed; }

/* Byte compare of two strings on the stack: jumps to `ne` at the first
 * difference, falls through when equal.  A literal side only needs its
 * own length + 1 bytes compared. */
static void str_eq_jumps(Cg *cg, int aoff, int asize, int boff, int bsize, const Node *lit,
                         int limit, int ne) {
  int eq = label_new(cg);
  int n = asize < bsize ? asize : bsize;
  if (lit && lit->slen + 1 < n)
    n = lit->slen + 1;
  if (limit >= 0 && limit < n)
    n = limit;
  for (int i = 0; lit && i < n;) {
    /* a literal is compared 4, 2 or 1 bytes at a time (little-endian words) */
    int w = n - i >= 4 ? 4 : n - i >= 2 ? 2 : 1;
    uint32_t v = 0;
    for (int j = 0; j < w; j++)
      v |= (uint32_t)(unsigned char)(i + j < lit->slen ? lit->str[i + j] : 0) << (8 * j);
    emit(cg, LDX(size_code(w), BPF_REG_1, BPF_REG_10, aoff + i));
    jump_to(cg, JMP32_IMM(BPF_JNE, BPF_REG_1, (int32_t)v, 0), ne);
    i += w;
  }
  for (int i = 0; !lit && i < n; i++) {
    emit(cg, LDX(BPF_B, BPF_REG_1, BPF_REG_10, aoff + i));
    emit(cg, LDX(BPF_B, BPF_REG_2, BPF_REG_10, boff + i));
    jmp_reg(cg, BPF_JNE, BPF_REG_1, BPF_REG_2, ne);
    if (i + 1 < n)
      jmp_imm(cg, BPF_JEQ, BPF_REG_1, 0, eq);
  }
  label_here(cg, eq);
}

/* Compare strings a and b (at most limit bytes when limit >= 0): jump to
 * `ne` when they differ, fall through when equal.  Literal operands are
 * not materialised. */
void cg_str_jumps(Cg *cg, Node *a, Node *b, int limit, int ne) {
  if (a->kind == ND_STR && b->kind != ND_STR) {
    Node *t = a;
    a = b;
    b = t;
  }
  int mark = cg->stack;
  Type *at = a->type->size < 8 ? ty_str(8) : a->type;
  int aoff = cg_addr(cg, a, at);
  if (b->kind == ND_STR) {
    str_eq_jumps(cg, aoff, at->size, 0, b->slen + 1, b, limit, ne);
  } else {
    Type *bt = b->type->size < 8 ? ty_str(8) : b->type;
    int boff = cg_addr(cg, b, bt);
    str_eq_jumps(cg, aoff, at->size, boff, bt->size, NULL, limit, ne);
  }
  stack_release(cg, mark);
}

/* r0 = (a == b) or (a != b) for two structs or arrays of one type: both
 * copied into zeroed 8-byte-word buffers, compared word by word. */
static void cg_object_compare(Cg *cg, Node *e) {
  int mark = cg->stack;
  Type held = *e->lhs->type;
  held.size = (held.size + 7) & ~7;
  int a = cg_addr(cg, e->lhs, &held);
  int b = cg_addr(cg, e->rhs, &held);
  int differ = label_new(cg), done = label_new(cg);
  for (int i = 0; i < held.size; i += 8) {
    emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, a + i));
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_10, b + i));
    jmp_reg(cg, BPF_JNE, BPF_REG_1, BPF_REG_2, differ);
  }
  emit(cg, MOV64_IMM(BPF_REG_0, e->op == OP_EQ));
  ja(cg, done);
  label_here(cg, differ);
  emit(cg, MOV64_IMM(BPF_REG_0, e->op != OP_EQ));
  label_here(cg, done);
  stack_release(cg, mark);
}

/* r0 = (a == b) for strings. */
void cg_str_compare(Cg *cg, Node *a, Node *b, int limit) {
  int ne = label_new(cg), done = label_new(cg);
  cg_str_jumps(cg, a, b, limit, ne);
  emit(cg, MOV64_IMM(BPF_REG_0, 1));
  ja(cg, done);
  label_here(cg, ne);
  emit(cg, MOV64_IMM(BPF_REG_0, 0));
  label_here(cg, done);
}


/* d = d / s or d % s, signed, without sdiv/smod: on the magnitudes, then
 * the sign (a quotient's is the operands' signs xored, a remainder's the
 * dividend's).  Division by zero keeps BPF's results (0, and the dividend
 * as remainder) and INT64_MIN / -1 wraps, as with sdiv.  Uses r2. */
static void emit_signed_divmod(Cg *cg, bool mod, int d, int s) {
  int d_pos = label_new(cg), s_pos = label_new(cg), done = label_new(cg);
  emit(cg, MOV64_REG(BPF_REG_2, d));
  if (!mod)
    emit(cg, ALU64_REG(BPF_XOR, BPF_REG_2, s));
  jmp_imm(cg, BPF_JSGE, d, 0, d_pos);
  emit(cg, NEG64(d));
  label_here(cg, d_pos);
  jmp_imm(cg, BPF_JSGE, s, 0, s_pos);
  emit(cg, NEG64(s));
  label_here(cg, s_pos);
  emit(cg, ALU64_REG(mod ? BPF_MOD : BPF_DIV, d, s));
  jmp_imm(cg, BPF_JSGE, BPF_REG_2, 0, done);
  emit(cg, NEG64(d));
  label_here(cg, done);
}

/* The immediate-form instruction for e = lhs OP constant, when it
 * computes e exactly (its dst register left 0); false otherwise. */
static bool arith_imm_insn(Cg *cg, const Node *e, struct bpf_insn *out) {
  int32_t imm;
  if (e->kind != ND_BINARY || e->type->is_ptr || !cg_const_imm(cg, e->rhs, &imm))
    return false;
  bool sgn = e->lhs->type->is_signed && e->rhs->type->is_signed;
  int op;
  switch (e->op) {
  case OP_ADD: op = BPF_ADD; break;
  case OP_SUB: op = BPF_SUB; break;
  case OP_MUL: op = BPF_MUL; break;
  case OP_BAND: op = BPF_AND; break;
  case OP_BOR: op = BPF_OR; break;
  case OP_BXOR: op = BPF_XOR; break;
  case OP_DIV: case OP_MOD:
    if (imm <= 0) /* BPF_K divides by imm as an unsigned 64-bit number */
      return false;
    if (sgn && !cg_kernel_has_cpuv4())
      return false; /* alu_reg computes it */
    op = e->op == OP_DIV ? BPF_DIV : BPF_MOD;
    break;
  case OP_SHL: case OP_SHR:
    if (imm < 0 || imm > 63) /* the verifier refuses other shift counts */
      return false;
    op = e->op == OP_SHL ? BPF_LSH : e->lhs->type->is_signed ? BPF_ARSH : BPF_RSH;
    break;
  default:
    return false;
  }
  /* signed division and modulo: the off field selects them (cpu v4) */
  *out = INSN(BPF_ALU64 | BPF_OP(op) | BPF_K, 0, 0, sgn && (op == BPF_DIV || op == BPF_MOD), imm);
  return true;
}

/* r0 = r0 OP imm for an arithmetic operator whose right side is a
 * constant that the immediate form computes exactly; false otherwise. */
static bool arith_imm(Cg *cg, Node *e) {
  struct bpf_insn in;
  if (!arith_imm_insn(cg, e, &in))
    return false;
  cg_scalar(cg, e->lhs);
  emit(cg, in);
  return true;
}

/* r0 = top OP r0 where the left operand (top of the register stack) is
 * in a register: commutative operators combine into r0 directly, the
 * others into the stack register, which is then copied.  False (nothing
 * emitted) for operators it does not handle. */
static bool binary_on_top(Cg *cg, Op op, bool lhs_signed, bool sgn) {
  int code;
  bool commutes = false;
  switch (op) {
  case OP_ADD: code = BPF_ADD; commutes = true; break;
  case OP_MUL: code = BPF_MUL; commutes = true; break;
  case OP_BAND: code = BPF_AND; commutes = true; break;
  case OP_BOR: code = BPF_OR; commutes = true; break;
  case OP_BXOR: code = BPF_XOR; commutes = true; break;
  case OP_SUB: code = BPF_SUB; break;
  case OP_SHL: code = BPF_LSH; break;
  case OP_SHR: code = lhs_signed ? BPF_ARSH : BPF_RSH; break;
  case OP_DIV: case OP_MOD:
    if (sgn)
      return false;
    code = op == OP_DIV ? BPF_DIV : BPF_MOD;
    break;
  default: return false;
  }
  cg->depth--;
  int top = BPF_REG_6 + cg->depth;
  if (commutes) {
    emit(cg, ALU64_REG(code, BPF_REG_0, top));
  } else {
    emit(cg, ALU64_REG(code, top, BPF_REG_0));
    emit(cg, MOV64_REG(BPF_REG_0, top));
  }
  return true;
}

/* r0 = 1 when buffers a and b hold the same length and bytes: both are
 * laid out as the bigger one (zero-filled), then compared word by word. */
static void cg_bytes_compare(Cg *cg, Node *a, Node *b) {
  int mark = cg->stack;
  const Type *t = a->type->size >= b->type->size ? a->type : b->type;
  int aoff = cg_addr(cg, a, t), boff = cg_addr(cg, b, t);
  int differ = label_new(cg), done = label_new(cg);
  for (int i = 0; i + 8 <= t->size; i += 8) {
    emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, aoff + i));
    emit(cg, LDX(BPF_DW, BPF_REG_2, BPF_REG_10, boff + i));
    jmp_reg(cg, BPF_JNE, BPF_REG_1, BPF_REG_2, differ);
  }
  emit(cg, MOV64_IMM(BPF_REG_0, 1));
  ja(cg, done);
  label_here(cg, differ);
  emit(cg, MOV64_IMM(BPF_REG_0, 0));
  label_here(cg, done);
  stack_release(cg, mark);
}

/* d = d op s for an arithmetic or bitwise operator: signed division and
 * remainder when sgn, an arithmetic right shift when shr_signed.  False
 * for any other operator. */
static bool alu_reg(Cg *cg, Op op, int d, int s, bool sgn, bool shr_signed) {
  switch (op) {
  case OP_ADD: emit(cg, ALU64_REG(BPF_ADD, d, s)); return true;
  case OP_SUB: emit(cg, ALU64_REG(BPF_SUB, d, s)); return true;
  case OP_MUL: emit(cg, ALU64_REG(BPF_MUL, d, s)); return true;
  /* Division by zero yields 0 in BPF; keep that (bpftrace warns). */
  case OP_DIV:
  case OP_MOD:
    if (sgn && !cg_kernel_has_cpuv4())
      emit_signed_divmod(cg, op == OP_MOD, d, s);
    else if (sgn)
      emit(cg, op == OP_DIV ? SDIV64_REG(d, s) : SMOD64_REG(d, s));
    else
      emit(cg, ALU64_REG(op == OP_DIV ? BPF_DIV : BPF_MOD, d, s));
    return true;
  case OP_BAND: emit(cg, ALU64_REG(BPF_AND, d, s)); return true;
  case OP_BOR: emit(cg, ALU64_REG(BPF_OR, d, s)); return true;
  case OP_BXOR: emit(cg, ALU64_REG(BPF_XOR, d, s)); return true;
  case OP_SHL: emit(cg, ALU64_REG(BPF_LSH, d, s)); return true;
  case OP_SHR: emit(cg, ALU64_REG(shr_signed ? BPF_ARSH : BPF_RSH, d, s)); return true;
  default: return false;
  }
}

static bool alu_r1_r0(Cg *cg, Op op, bool sgn, bool shr_signed) {
  return alu_reg(cg, op, BPF_REG_1, BPF_REG_0, sgn, shr_signed);
}

/* The stack slot that holds e's value as it is now, when e is an
 * integer variable or a map value keycache.c kept (0: none): read
 * straight into a second register, it needs no register-stack push. */
static int slot_operand(Cg *cg, const Node *e) {
  if (!e->type || e->type->kind != TY_INT || e->type->is_ptr)
    return 0;
  if (e->kind == ND_VAR && e->var)
    return var_slot(cg, e->var);
  return e->kind == ND_MAP ? keycache_value_slot(cg, e) : 0;
}

/* Is e one load from the tracepoint record (args.NAME, args.ARRAY[a
 * constant])?  Its size and offset in it. */
static bool ctx_operand(Cg *cg, const Node *e, int *size, int *off) {
  if (cg->t->prov->arg_loc || cg->t->prov->field_load || !ty_is_int(e->type) || e->type->is_ptr)
    return false;
  bool indexed = e->kind == ND_INDEX && e->rhs->kind == ND_INT && !is_object_read(e);
  const Node *field = indexed ? e->lhs : e;
  if (field->kind != ND_FIELD || is_object_read(field) || field->lhs->kind != ND_BUILTIN ||
      !builtin_has(field->lhs, BUILTIN_ARGS_RECORD))
    return false;
  const TpField *f = tp_field(cg, field->name);
  if (!f || (indexed ? f->array_len <= 0 || e->rhs->ival >= (uint64_t)f->array_len : f->array_len))
    return false;
  *size = indexed ? f->size / f->array_len : f->size;
  *off = f->offset + (indexed ? (int)e->rhs->ival * *size : 0);
  return *size == 1 || *size == 2 || *size == 4 || *size == 8;
}

static bool commutative(Op op) {
  return op == OP_ADD || op == OP_MUL || op == OP_BAND || op == OP_BOR || op == OP_BXOR;
}

/* Is e computed by record loads and arithmetic with constants alone:
 * args.a, args.b[2] << 8, (args.c & 0xff) + 1 ...? */
static bool record_operand(Cg *cg, const Node *e) {
  int size, off;
  struct bpf_insn in;
  if (ctx_operand(cg, e, &size, &off))
    return true;
  return arith_imm_insn(cg, e, &in) && record_operand(cg, e->lhs);
}

/* reg = a record_operand, with r1 as the context pointer. */
static void emit_record_operand(Cg *cg, const Node *e, int reg) {
  int size, off;
  struct bpf_insn in;
  if (ctx_operand(cg, e, &size, &off)) {
    int base = ctx_base(cg, BPF_REG_1, &off);
    emit(cg, LDX(size_code(size), reg, base, off));
    canonicalize(cg, reg, e->type);
    return;
  }
  arith_imm_insn(cg, e, &in);
  emit_record_operand(cg, e->lhs, reg);
  in.dst_reg = reg;
  emit(cg, in);
}

/* e straight into a second register beside r0, without the register
 * stack, when it is in a stack slot (r1) or is record loads (r2; not as
 * the divisor of / and %, whose signed form uses r2 before cpu v4): the
 * register, or 0 with nothing emitted. */
int cg_operand_reg(Cg *cg, const Node *e, Op op) {
  int slot = slot_operand(cg, e);
  if (slot) {
    emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, slot));
    return BPF_REG_1;
  }
  if (op == OP_DIV || op == OP_MOD || !record_operand(cg, e))
    return 0;
  emit_record_operand(cg, e, BPF_REG_2);
  return BPF_REG_2;
}

/* lhs op rhs, commutative, where only lhs goes straight into a second
 * register: rhs first, into r0. */
static bool binary_swapped_operand(Cg *cg, Node *e) {
  if (e->type->is_ptr || !commutative(e->op) || !record_operand(cg, e->lhs) ||
      record_operand(cg, e->rhs) || slot_operand(cg, e->rhs))
    return false;
  cg_scalar(cg, e->rhs);
  int r = cg_operand_reg(cg, e->lhs, e->op);
  if (!alu_reg(cg, e->op, BPF_REG_0, r, signed_cmp(e), e->lhs->type->is_signed))
    fail(cg, e->loc, "unsupported operator %s", op_str(e->op));
  return true;
}

static void cg_binary(Cg *cg, Node *e) {
  if (e->lhs->type->kind == TY_RECORD || e->lhs->type->kind == TY_ARRAY) {
    cg_object_compare(cg, e);
    return;
  }
  if (e->lhs->type->kind == TY_BUF) {
    cg_bytes_compare(cg, e->lhs, e->rhs);
    if (e->op == OP_NE)
      emit(cg, ALU64_IMM(BPF_XOR, BPF_REG_0, 1));
    return;
  }
  if (e->lhs->type->kind == TY_STR && e->op != OP_EQ && e->op != OP_NE) {
    cg_str_compare(cg, e->lhs, e->rhs, -1);
    return;
  }
  if (cg_is_condition(e)) {
    cg_bool_value(cg, e);
    return;
  }
  if (arith_imm(cg, e) || binary_swapped_operand(cg, e))
    return;
  cg_scalar(cg, e->lhs);
  int r = e->type->is_ptr ? 0 : cg_operand_reg(cg, e->rhs, e->op);
  if (r) {
    if (!alu_reg(cg, e->op, BPF_REG_0, r, signed_cmp(e), e->lhs->type->is_signed))
      fail(cg, e->loc, "unsupported operator %s", op_str(e->op));
    return;
  }
  push(cg, e->loc);
  cg_scalar(cg, e->rhs);
  if (e->type->is_ptr && e->ival > 1) /* pointer + n: n elements */
    emit(cg, ALU64_IMM(BPF_MUL, BPF_REG_0, (int32_t)e->ival));
  bool sgn = signed_cmp(e);
  if (cg->depth <= NREGS && binary_on_top(cg, e->op, e->lhs->type->is_signed, sgn))
    return;
  pop(cg, BPF_REG_1);
  if (!alu_r1_r0(cg, e->op, sgn, e->lhs->type->is_signed)) {
    fail(cg, e->loc, "unsupported operator %s", op_str(e->op));
    return;
  }
  emit(cg, MOV64_REG(BPF_REG_0, BPF_REG_1));
}

int64_t posparam_int(Cg *cg, Node *e) {
  if (e->ival == 0 || e->ival > (uint64_t)cg->c->nposparams)
    return 0;
  return strtoll(cg->c->posparams[e->ival - 1], NULL, 0);
}

void cg_scalar(Cg *cg, Node *e) {
  if (cg->failed)
    return;
  uint64_t known;
  bool composite = e->kind == ND_BINARY || e->kind == ND_UNARY || e->kind == ND_TERNARY ||
                   e->kind == ND_CAST;
  if (composite && cg_fold(cg, e, &known)) {
    emit_imm64(cg, BPF_REG_0, known);
    return;
  }
  switch (e->kind) {
  case ND_INT:
    emit_imm64(cg, BPF_REG_0, e->ival);
    return;
  case ND_POSPARAM:
    emit_imm64(cg, BPF_REG_0, posparam_int(cg, e));
    return;
  case ND_POSCOUNT:
    emit_imm64(cg, BPF_REG_0, cg->c->nposparams);
    return;
  case ND_BUILTIN:
    if (e->builtin && e->builtin->gen_value)
      e->builtin->gen_value(cg, e);
    else
      fail(cg, e->loc, "cannot generate code for '%s'", e->name);
    return;
  case ND_VAR:
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, var_slot(cg, e->var)));
    return;
  case ND_MAP:
    if (ty_is_agg(e->map->val))
      cg_map_read_agg(cg, e);
    else
      cg_map_read_scalar(cg, e);
    return;
  case ND_FIELD:
  case ND_INDEX:
    if (is_object_read(e))
      cg_object_read(cg, e);
    else if (e->kind == ND_FIELD)
      cg_field_scalar(cg, e);
    else
      cg_index(cg, e);
    return;
  case ND_BINARY:
    cg_binary(cg, e);
    return;
  case ND_UNARY:
    if (e->op == OP_DEREF) {
      cg_object_read(cg, e);
      return;
    }
    if (e->op == OP_LNOT) {
      cg_bool_value(cg, e);
      return;
    }
    cg_scalar(cg, e->lhs);
    if (e->op == OP_NEG)
      emit(cg, NEG64(BPF_REG_0));
    else if (e->op == OP_BNOT)
      emit(cg, ALU64_IMM(BPF_XOR, BPF_REG_0, -1));
    canonicalize(cg, BPF_REG_0, e->type);
    return;
  case ND_TERNARY: {
    int els = label_new(cg), done = label_new(cg);
    cg_cond(cg, e->cond, els, false);
    cg_cond_enter(cg);
    cg_scalar(cg, e->then);
    cg_cond_leave(cg);
    ja(cg, done);
    label_here(cg, els);
    cg_cond_enter(cg);
    cg_scalar(cg, e->els);
    cg_cond_leave(cg);
    label_here(cg, done);
    return;
  }
  case ND_CAST:
    cg_scalar(cg, e->lhs);
    canonicalize(cg, BPF_REG_0, e->type);
    return;
  case ND_TUPLE_IDX: {
    int mark = cg->stack;
    int off = cg_addr(cg, e->lhs, e->lhs->type->kind == TY_TUPLE ? e->lhs->type : e->lhs->type);
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, off + e->lhs->type->offsets[e->ival]));
    stack_release(cg, mark);
    return;
  }
  case ND_CALL:
    if (e->builtin && e->builtin->gen_value)
      e->builtin->gen_value(cg, e);
    else if (e->builtin && e->builtin->gen_stmt && e->type->kind == TY_VOID)
      e->builtin->gen_stmt(cg, e); /* a branch of c ? printf(..) : exit() */
    else
      fail(cg, e->loc, "%s() does not return a value", e->name);
    return;
  case ND_INCDEC:
    cg_incdec_value(cg, e);
    return;
  default:
    fail(cg, e->loc, "cannot compute this expression as an integer%s", "");
  }
}

/* Read a string from a pointer in r3 into r10+off (size bytes). */
void read_str(Cg *cg, int off, int size, int helper) {
  emit_addr(cg, BPF_REG_1, off);
  emit(cg, MOV64_IMM(BPF_REG_2, size));
  emit(cg, CALL(helper));
}

void store_string_literal(Cg *cg, const char *s, int len, int off, int size) {
  /* 4-byte immediate stores; the buffer is already zeroed. */
  int n = len + 1 < size ? len + 1 : size - 1;
  for (int i = 0; i < n; i += 4) {
    uint32_t w = 0;
    for (int j = 0; j < 4 && i + j < n && i + j < len; j++)
      w |= (uint32_t)(unsigned char)s[i + j] << (8 * j);
    if (i + 4 > size)
      break;
    if (w)
      emit(cg, ST_IMM(BPF_W, BPF_REG_10, off + i, (int32_t)w));
  }
}

static void cg_field_store(Cg *cg, Node *e, int off, const Type *dst) {
  if (cg->t->prov->arg_loc) { /* not a tracefs record */
    cg_scalar(cg, e);
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
    return;
  }
  const TpField *f = tp_field(cg, e->name);
  if (!f) {
    fail(cg, e->loc, "tracepoint has no field '%s'", e->name);
    return;
  }
  if (dst->kind != TY_STR) {
    cg_scalar(cg, e);
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
    return;
  }
  if (cg->ctx_rec)
    emit_addr(cg, BPF_REG_3, cg->ctx_rec);
  else
    load_ctx(cg, BPF_REG_3);
  if (f->data_loc) {
    /* __data_loc: u32 with the offset of the bytes in the low 16 bits */
    emit(cg, LDX(BPF_W, BPF_REG_1, BPF_REG_3, f->offset));
    emit(cg, ALU64_IMM(BPF_AND, BPF_REG_1, 0xffff));
    emit(cg, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
    read_str(cg, off, dst->size, BPF_FUNC_probe_read_kernel_str);
    return;
  }
  /* char name[N] inside the record */
  int n = f->array_len < dst->size ? f->array_len : dst->size - 1;
  emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_3, f->offset));
  emit_addr(cg, BPF_REG_1, off);
  emit(cg, MOV64_IMM(BPF_REG_2, n));
  emit(cg, CALL(BPF_FUNC_probe_read_kernel));
}

/* A char name[N] of the record, at an 8-byte aligned offset, into the
 * string at r10+off with loads and stores: the context of a tracepoint
 * program and a record a prologue built on the stack are both directly
 * readable (a tracepoint's context only at offsets aligned to the load's
 * size, which the 8, 4, 2, 1 byte steps of emit_copy keep).  As with the
 * helper, a field that fills the string loses its last byte to the NUL.
 * False, emitting nothing, for anything else. */
static bool field_copy_direct(Cg *cg, Node *e, int off, const Type *dst, bool zeroed) {
  if (e->kind != ND_FIELD || dst->kind != TY_STR || cg->t->prov->arg_loc || is_object_read(e))
    return false;
  const TpField *f = tp_field(cg, e->name);
  if (!f || f->data_loc || f->array_len <= 0 || f->offset % 8)
    return false;
  int n = f->array_len < dst->size ? f->array_len : dst->size;
  int soff = f->offset, base = ctx_base(cg, BPF_REG_3, &soff);
  emit_copy(cg, off, base, soff, n);
  if (n == dst->size)
    emit(cg, ST_IMM(BPF_B, BPF_REG_10, off + n - 1, 0));
  if (!zeroed)
    emit_zero(cg, off + n, dst->size - n);
  return true;
}

/* Evaluate e into r10+off laid out as dst (already the stored type). */
void cg_store(Cg *cg, Node *e, int off, const Type *dst) {
  bool unzeroed = cg->str_unzeroed; /* for this store only, not those inside it */
  bool zeroed = cg->dst_zeroed;
  cg->str_unzeroed = cg->dst_zeroed = false;
  if (cg->failed)
    return;
  int32_t imm;
  if (!ty_in_memory(dst) && cg_const_imm(cg, e, &imm)) {
    emit(cg, ST_IMM(BPF_DW, BPF_REG_10, off, imm)); /* sign-extended, as emit_imm64 loads it */
    return;
  }
  if (!ty_in_memory(dst)) {
    cg_scalar(cg, e);
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
    return;
  }
  if ((e->kind == ND_CALL || e->kind == ND_BUILTIN) && e->builtin && e->builtin->gen_store) {
    int filled = e->builtin->store_fills < dst->size ? e->builtin->store_fills : dst->size;
    /* str(p) fills all of a buffer it is no smaller than, as far as the
     * verifier knows (the helper's size): no zeroing where only the
     * bytes up to the NUL are ever read */
    if (unzeroed && !strcmp(e->name, "str") && e->nargs == 1 &&
        e->args->type->kind != TY_STR && e->type->size >= dst->size)
      filled = dst->size;
    if (!zeroed)
      emit_zero(cg, off + filled, dst->size - filled);
    e->builtin->gen_store(cg, e, off, dst);
    return;
  }
  if (field_copy_direct(cg, e, off, dst, zeroed))
    return;
  if (!zeroed)
    emit_zero(cg, off, dst->size);
  switch (e->kind) {
  case ND_STR:
    store_string_literal(cg, e->str, e->slen, off, dst->size);
    return;
  case ND_POSPARAM: {
    const char *s =
        e->ival && e->ival <= (uint64_t)cg->c->nposparams ? cg->c->posparams[e->ival - 1] : "";
    store_string_literal(cg, s, strlen(s), off, dst->size);
    return;
  }
  case ND_VAR: {
    int size = e->var->type->size < dst->size ? e->var->type->size : dst->size;
    if (dst->kind == TY_TUPLE && !ty_same(e->var->type, dst))
      break;
    emit_copy(cg, off, BPF_REG_10, var_slot(cg, e->var), size);
    return;
  }
  case ND_MAP: {
    int mark = cg->stack;
    int koff = build_key(cg, e);
    map_lookup(cg, e->map, koff);
    int miss = label_new(cg);
    jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, miss);
    int size = e->map->val_size < dst->size ? e->map->val_size : dst->size;
    for (int i = 0; i + 8 <= size; i += 8) {
      emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_0, i));
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_1, off + i));
    }
    label_here(cg, miss);
    stack_release(cg, mark);
    return;
  }
  case ND_CALL: /* an array a builtin makes (pton) */
  case ND_FIELD:
  case ND_INDEX:
  case ND_UNARY:
    if ((dst->kind == TY_RECORD || dst->kind == TY_ARRAY) &&
        (e->kind == ND_CALL || is_object_read(e))) {
      cg_object_copy(cg, e, off, dst);
      return;
    }
    if (e->type->kind == TY_STR && is_object_read(e)) {
      cg_object_string(cg, e, off, dst);
      return;
    }
    if (e->kind == ND_FIELD) {
      cg_field_store(cg, e, off, dst);
      return;
    }
    break;
  case ND_TERNARY: {
    int els = label_new(cg), done = label_new(cg);
    /* the buffer was zeroed above, before the branches part */
    cg_cond(cg, e->cond, els, false);
    cg_cond_enter(cg);
    cg->dst_zeroed = true;
    cg_store(cg, e->then, off, dst);
    cg_cond_leave(cg);
    ja(cg, done);
    label_here(cg, els);
    cg_cond_enter(cg);
    cg->dst_zeroed = true;
    cg_store(cg, e->els, off, dst);
    cg_cond_leave(cg);
    label_here(cg, done);
    return;
  }
  case ND_TUPLE: {
    if (dst->kind != TY_TUPLE || dst->nfields != e->nargs)
      break;
    int i = 0;
    for (Node *a = e->args; a; a = a->next, i++)
      cg_store(cg, a, off + dst->offsets[i], dst->fields[i]);
    return;
  }
  case ND_TUPLE_IDX: {
    int mark = cg->stack;
    const Type *tt = e->lhs->type;
    int toff = cg_addr(cg, e->lhs, tt);
    const Type *ft = tt->fields[e->ival];
    emit_copy(cg, off, BPF_REG_10, toff + tt->offsets[e->ival],
              ft->size < dst->size ? ft->size : dst->size);
    stack_release(cg, mark);
    return;
  }
  default:
    break;
  }
  fail(cg, e->loc, "cannot store this expression as a %s", ty_name(dst));
}

/* ------------------------------------------------------------ map iteration */

/* r0 = bpf_for_each_map_elem(map, callback, ctx, 0): the number of
 * elements visited; ctx is this frame. */
void cg_for_each(Cg *cg, MapInfo *m, Node *loop, Loc loc) {
  if (cg->nsubs == 16) {
    fail(cg, loc, "too many for loops over maps in one probe%s", "");
    return;
  }
  Sub *sub = &cg->subs[cg->nsubs++];
  sub->label = label_new(cg);
  sub->loop = loop;
  capture_find(cg, sub);
  emit_map(cg, BPF_REG_1, m);
  emit_func_addr(cg, BPF_REG_2, sub->label);
  /* the callback context is this frame: the body reads its variables
   * (capture.c) and its context slot (args.NAME, retval ...) through it */
  cg->frame_escapes = true;
  emit(cg, MOV64_REG(BPF_REG_3, BPF_REG_10));
  emit(cg, MOV64_IMM(BPF_REG_4, 0));
  emit(cg, CALL(BPF_FUNC_for_each_map_elem));
}

/* Emit the callbacks after the main program.  A callback is a function
 * of its own (r1 map, r2 key, r3 value, r4 ctx) with a fresh stack frame:
 * it returns 0 to continue and 1 to stop (break, exit(), return). */
static void emit_subs(Cg *cg) {
  for (int i = 0; i < cg->nsubs; i++) {
    Sub sub = cg->subs[i];
    int saved_stack = cg->stack, saved_nvars = cg->nvars, saved_exit = cg->exit_label;
    /* in the probe's frame, not the callback's */
    int saved_pid_tgid = cg->pid_tgid_off, saved_comm = cg->comm_off;
    int saved_ctx_rec = cg->ctx_rec, saved_nkeys = cg->nkeys;
    cg->pid_tgid_off = cg->comm_off = 0;
    cg->ctx_rec = 0;
    cg->nkeys = 0; /* the cached keys are in the probe's frame */
    VarInfo **saved_vars = cg->vars;
    int saved_spill[64];
    memcpy(saved_spill, cg->spill, sizeof saved_spill);
    memset(cg->spill, 0, sizeof cg->spill);
    cg->stack = 8;
    cg->vars = NULL;
    cg->nvars = 0;
    cg->depth = 0;
    label_here(cg, sub.label);
    if (!sub.loop) {
      emit(cg, MOV64_IMM(BPF_REG_0, 0));
      emit(cg, EXIT_INSN());
    } else {
      Node *s = sub.loop;
      MapInfo *m = s->lhs->map;
      int stop = label_new(cg), next = label_new(cg), ctx_slot = 0;
      emit(cg, MOV64_REG(BPF_REG_6, BPF_REG_2));
      emit(cg, MOV64_REG(BPF_REG_7, BPF_REG_3));
      /* the probe's context pointer (or its record on the probe's stack)
       * into this frame's context slot */
      emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_4, CTX_OFF));
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_1, CTX_OFF));
      if (sub.ncap)
        ctx_slot = capture_copy_in(cg, &sub, s->loc);
      declare_var(cg, s->var, s->loc);
      const Type *kv = s->var->type;
      emit_copy(cg, s->var->stack_off, BPF_REG_6, 0, m->key->size);
      emit_copy(cg, s->var->stack_off + kv->offsets[1], BPF_REG_7, 0, m->val_size);
      declare_vars(cg, s->then);
      cg->exit_label = stop;
      cg_loop_body(cg, s->then, stop, next);
      label_here(cg, next);
      if (sub.ncap)
        capture_copy_out(cg, &sub, ctx_slot);
      emit(cg, MOV64_IMM(BPF_REG_0, 0));
      emit(cg, EXIT_INSN());
      label_here(cg, stop);
      if (sub.ncap)
        capture_copy_out(cg, &sub, ctx_slot);
      emit(cg, MOV64_IMM(BPF_REG_0, 1));
      emit(cg, EXIT_INSN());
      capture_restore(&sub);
    }
    free(cg->vars);
    cg->vars = saved_vars;
    cg->nvars = saved_nvars;
    cg->stack = saved_stack;
    cg->exit_label = saved_exit;
    cg->pid_tgid_off = saved_pid_tgid;
    cg->comm_off = saved_comm;
    cg->ctx_rec = saved_ctx_rec;
    cg->nkeys = saved_nkeys;
    memcpy(cg->spill, saved_spill, sizeof saved_spill);
  }
}

/* ------------------------------------------------------------ records */

/* The stop flag: .stop[0] = {u32 set; s32 exit code}.  exit() sets it,
 * then emits its record (submit_exit_record), and a probe that sees it
 * set emits no record (a jump to label): records after exit() are never
 * printed, and skipped they cannot fill the ring and be reported as lost.
 * The count stays honest: a probe that read the flag clear counts its
 * drop when the ring is full.  User space reads the flag after each
 * drain, so an exit whose own record found the ring full still stops the
 * run.  BEGIN and END run in etrace before the probes attach and after
 * they detach: no check; nor where no probe calls exit(). */
static void skip_if_stopped(Cg *cg, int label) {
  if ((cg->t->caps & PROBE_CAP_IN_ETRACE) || !cg->c->probe_exit)
    return;
  emit_map_value(cg, BPF_REG_1, internal_map(cg, ".stop"));
  emit(cg, LDX(BPF_W, BPF_REG_1, BPF_REG_1, 0));
  jmp_imm(cg, BPF_JNE, BPF_REG_1, 0, label);
}

void cg_skip_if_stopped(Cg *cg, int label) { skip_if_stopped(cg, label); }

void cg_set_stop(Cg *cg, Node *code) {
  if (code)
    cg_scalar(cg, code);
  else
    emit(cg, MOV64_IMM(BPF_REG_0, 0));
  emit_map_value(cg, BPF_REG_1, internal_map(cg, ".stop"));
  emit(cg, STX(BPF_W, BPF_REG_1, BPF_REG_0, 4));
  emit(cg, ST_IMM(BPF_W, BPF_REG_1, 0, 1));
}

/* The record at roff into the ring buffer.  A full ring loses it and
 * counts a drop; not exit()'s own record (is_exit): its stop flag is set
 * and ends the run without it, so nothing the user would see is lost. */
static void output_record(Cg *cg, int roff, int size, bool is_exit) {
  if (!(cg->t->caps & PROBE_CAP_IN_ETRACE))
    cg->c->probe_records = true;
  int ok = label_new(cg);
  if (!is_exit)
    skip_if_stopped(cg, ok);
  emit_map(cg, BPF_REG_1, internal_map(cg, ".ringbuf"));
  emit_addr(cg, BPF_REG_2, roff);
  emit(cg, MOV64_IMM(BPF_REG_3, size));
  emit(cg, MOV64_IMM(BPF_REG_4, 0));
  emit(cg, CALL(BPF_FUNC_ringbuf_output));
  if (!is_exit) {
    jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, ok);
    count_drop(cg, DROP_RINGBUF);
  }
  label_here(cg, ok);
}

void submit_record(Cg *cg, int roff, int size) { output_record(cg, roff, size, false); }

void submit_exit_record(Cg *cg, int roff, int size) { output_record(cg, roff, size, true); }

/* *(u64 *)(base + off) = (hi << 32) | lo as two 32-bit immediate stores,
 * low half first (both architectures are little-endian): no register,
 * and one instruction fewer than a 64-bit constant and a store. */
void emit_store_halves(Cg *cg, int base, int off, uint32_t lo, uint32_t hi) {
  emit(cg, ST_IMM(BPF_W, base, off, (int32_t)lo));
  emit(cg, ST_IMM(BPF_W, base, off + 4, (int32_t)hi));
}

int record_header(Cg *cg, RecKind kind, int id, int datasize, Loc loc) {
  int roff = slot(cg, 8 + datasize, loc);
  emit_store_halves(cg, BPF_REG_10, roff, id, kind); /* REC_HEADER(kind, id) */
  return roff;
}

/* Reserve `size` bytes of the ring buffer for a record written in place
 * (too big for the stack) and store its header.  On success the
 * reservation is pushed on the register stack and its depth returned; when
 * the ring is full the drop is counted and execution goes to `done`, which
 * the caller places after popping the reservation. */
int reserve_record(Cg *cg, int size, RecKind kind, int id, int done) {
  if (!(cg->t->caps & PROBE_CAP_IN_ETRACE))
    cg->c->probe_records = true;
  skip_if_stopped(cg, done);
  emit_map(cg, BPF_REG_1, internal_map(cg, ".ringbuf"));
  emit(cg, MOV64_IMM(BPF_REG_2, size));
  emit(cg, MOV64_IMM(BPF_REG_3, 0));
  emit(cg, CALL(BPF_FUNC_ringbuf_reserve));
  int got = label_new(cg);
  jmp_imm(cg, BPF_JNE, BPF_REG_0, 0, got);
  count_drop(cg, DROP_RINGBUF);
  ja(cg, done);
  label_here(cg, got);
  emit_store_halves(cg, BPF_REG_0, 0, id, kind); /* REC_HEADER(kind, id) */
  push(cg, cg->t->probe->loc); /* it must survive helper calls */
  return cg->depth - 1;
}

/* Submit the reservation on top of the register stack (and pop it). */
void submit_reserved(Cg *cg) {
  pop(cg, BPF_REG_1);
  emit(cg, MOV64_IMM(BPF_REG_2, 0));
  emit(cg, CALL(BPF_FUNC_ringbuf_submit));
}

/* ------------------------------------------------------------ statements */

static void store_scalar_to(Cg *cg, Node *target, Loc loc) {
  /* value in r0 */
  if (target->kind == ND_VAR) {
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(cg, target->var)));
    return;
  }
  push(cg, loc);
  int koff = build_key(cg, target);
  int voff = slot(cg, 8, loc);
  pop(cg, BPF_REG_0);
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, voff));
  map_update(cg, target->map, koff, voff);
}

/* x op= y and x++ / x--: r0 = the target's new value (not stored yet). */
static void cg_modified_value(Cg *cg, Node *s) {
  Node *lhs = s->lhs, *rhs = s->rhs;
  int32_t imm = 1;
  /* a pointer steps by elements: sema sets ival to the element size */
  int64_t step = s->ival > 1 ? (int64_t)s->ival : 1;
  if ((!rhs || cg_const_imm(cg, rhs, &imm)) && imm * step == (int32_t)(imm * step) &&
      (s->op == OP_ADD || s->op == OP_SUB || s->op == OP_BAND || s->op == OP_BOR ||
       s->op == OP_BXOR || s->op == OP_MUL)) {
    /* x++, x -= 2, x |= 4 ...: the constant as an immediate operand */
    static const int codes[] = {[OP_ADD] = BPF_ADD, [OP_SUB] = BPF_SUB, [OP_MUL] = BPF_MUL,
                                [OP_BAND] = BPF_AND, [OP_BOR] = BPF_OR, [OP_BXOR] = BPF_XOR};
    cg_scalar(cg, lhs);
    emit(cg, ALU64_IMM(codes[s->op], BPF_REG_0, (int32_t)(imm * step)));
    canonicalize(cg, BPF_REG_0, lhs->type);
    return;
  }
  cg_scalar(cg, lhs);
  push(cg, s->loc);
  if (rhs)
    cg_scalar(cg, rhs);
  else
    emit(cg, MOV64_IMM(BPF_REG_0, 1));
  if (s->ival > 1) /* pointer += n: n elements (sema sets ival) */
    emit(cg, ALU64_IMM(BPF_MUL, BPF_REG_0, (int32_t)s->ival));
  pop(cg, BPF_REG_1);
  Op op = s->op;
  bool sgn = lhs->type->is_signed && (!rhs || rhs->type->is_signed);
  if (!alu_r1_r0(cg, op, sgn, lhs->type->is_signed)) {
    fail(cg, s->loc, "unsupported compound operator %s", op_str(op));
    return;
  }
  emit(cg, MOV64_REG(BPF_REG_0, BPF_REG_1));
  canonicalize(cg, BPF_REG_0, lhs->type);
}

/* x++ / ++x as a value: the target is updated, r0 = its old / new value */
static void cg_incdec_value(Cg *cg, Node *e) {
  cg_modified_value(cg, e);
  push(cg, e->loc);
  store_scalar_to(cg, e->lhs, e->loc);
  pop(cg, BPF_REG_0);
  if (!e->prefix) {
    emit(cg, ALU64_IMM(e->op == OP_ADD ? BPF_SUB : BPF_ADD, BPF_REG_0,
                       e->ival > 1 ? (int32_t)e->ival : 1));
    canonicalize(cg, BPF_REG_0, e->lhs->type);
  }
}

static void cg_assign(Cg *cg, Node *s) {
  Node *lhs = s->lhs, *rhs = s->rhs;
  int32_t imm;
  if (rhs && rhs->kind == ND_CALL && rhs->builtin && rhs->builtin->gen_assign &&
      lhs->kind == ND_MAP && ty_is_agg(lhs->map->val) &&
      s->op == OP_NONE && s->kind == ND_ASSIGN) {
    rhs->builtin->gen_assign(cg, lhs, rhs);
    return;
  }
  if (s->kind == ND_INCDEC || s->op != OP_NONE) {
    cg_modified_value(cg, s);
    store_scalar_to(cg, lhs, s->loc);
    return;
  }
  if (lhs->kind == ND_VAR) {
    const Type *vt = lhs->var->type;
    if (ty_in_memory(vt)) {
      /* evaluate into a temporary first: the value may read the variable */
      int mark = cg->stack;
      int tmp = slot(cg, vt->size, s->loc);
      cg_store(cg, rhs, tmp, vt);
      emit_copy(cg, var_slot(cg, lhs->var), BPF_REG_10, tmp, vt->size);
      stack_release(cg, mark);
    } else if (vt->kind == TY_INT && vt->int_size == 8 && cg_const_imm(cg, rhs, &imm)) {
      emit(cg, ST_IMM(BPF_DW, BPF_REG_10, var_slot(cg, lhs->var), imm)); /* $x = constant */
    } else {
      cg_scalar(cg, rhs);
      canonicalize(cg, BPF_REG_0, vt);
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(cg, lhs->var)));
    }
    return;
  }
  MapInfo *m = lhs->map;
  int voff = slot(cg, m->val_size, s->loc);
  cg_store(cg, rhs, voff, m->val);
  int koff = build_key(cg, lhs);
  map_update(cg, m, koff, voff);
}

static void cg_block(Cg *cg, Node *b) {
  for (Node *s = b->body; s && !cg->failed; s = s->next)
    cg_stmt(cg, s);
}

static void cg_loop_body(Cg *cg, Node *body, int brk, int cont) {
  if (cg->nloops == 32) {
    fail(cg, body->loc, "loops nested too deeply%s", "");
    return;
  }
  cg->brk[cg->nloops] = brk;
  cg->cont[cg->nloops] = cont;
  cg->nloops++;
  cg_cond_enter(cg);
  cg->loop_depth++;
  cg_stmt(cg, body);
  cg->loop_depth--;
  cg_cond_leave(cg);
  cg->nloops--;
}

static void cg_stmt(Cg *cg, Node *s) {
  int mark = cg->stack;
  cg->stmt_loc = s->loc;
  switch (s->kind) {
  case ND_EXPR_STMT:
    if (s->lhs->kind == ND_ASSIGN || s->lhs->kind == ND_INCDEC)
      cg_assign(cg, s->lhs);
    else if (s->lhs->kind == ND_CALL && s->lhs->builtin && s->lhs->builtin->gen_stmt)
      s->lhs->builtin->gen_stmt(cg, s->lhs);
    else if (s->lhs->kind == ND_CALL)
      cg_scalar(cg, s->lhs); /* a value call used as a statement: for its effects */
    else if (s->lhs->type && (s->lhs->type->kind == TY_STR || s->lhs->type->kind == TY_TUPLE))
      ; /* a string or tuple value alone does nothing */
    else
      cg_scalar(cg, s->lhs);
    break;
  case ND_BLOCK:
    cg_block(cg, s);
    break;
  case ND_IF: {
    int els = label_new(cg), done = label_new(cg);
    cg_cond(cg, s->cond, els, false);
    cg_cond_enter(cg);
    cg_stmt(cg, s->then);
    cg_cond_leave(cg);
    if (s->els)
      ja(cg, done);
    label_here(cg, els);
    if (s->els) {
      cg_cond_enter(cg);
      cg_stmt(cg, s->els);
      cg_cond_leave(cg);
    }
    label_here(cg, done);
    break;
  }
  case ND_WHILE: {
    int top = label_new(cg), end = label_new(cg);
    label_here(cg, top);
    cg_cond_enter(cg); /* again after each pass of the body */
    cg->loop_depth++;
    cg_cond(cg, s->cond, end, false);
    cg->loop_depth--;
    cg_cond_leave(cg);
    cg_loop_body(cg, s->then, end, top);
    ja(cg, top);
    label_here(cg, end);
    break;
  }
  case ND_UNROLL: {
    int end = label_new(cg);
    for (uint64_t i = 0; i < s->ival && !cg->failed; i++) {
      if (++cg->unrolled > CG_MAX_UNROLLED) {
        fail(cg, s->loc, "unroll() expands to more than %s copies of its body", "1000000");
        break;
      }
      int next = label_new(cg);
      cg_loop_body(cg, s->then, end, next);
      label_here(cg, next);
    }
    label_here(cg, end);
    break;
  }
  case ND_FOR_RANGE: {
    int top = label_new(cg), cont = label_new(cg), end = label_new(cg);
    int lim = slot(cg, 8, s->loc);
    cg_scalar(cg, s->rhs);
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, lim));
    cg_scalar(cg, s->lhs);
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(cg, s->var)));
    label_here(cg, top);
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, var_slot(cg, s->var)));
    emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, lim));
    jmp_reg(cg, BPF_JSGE, BPF_REG_0, BPF_REG_1, end);
    cg_loop_body(cg, s->then, end, cont);
    label_here(cg, cont);
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, var_slot(cg, s->var)));
    emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_0, 1));
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, var_slot(cg, s->var)));
    ja(cg, top);
    label_here(cg, end);
    /* the limit slot stays reserved: it is live across the loop body */
    return;
  }
  case ND_FOR_MAP:
    cg_for_each(cg, s->lhs->map, s, s->loc);
    keycache_forget_values(cg, NULL); /* its body may write any map */
    break;
  case ND_BREAK:
  case ND_CONTINUE:
    if (!cg->nloops) {
      fail(cg, s->loc, "%s outside of a loop", s->kind == ND_BREAK ? "break" : "continue");
      break;
    }
    ja(cg, s->kind == ND_BREAK ? cg->brk[cg->nloops - 1] : cg->cont[cg->nloops - 1]);
    break;
  case ND_RETURN:
    ja(cg, cg->exit_label);
    break;
  case ND_LET:
    if (s->rhs) {
      Node target = {.kind = ND_VAR, .name = s->name, .var = s->var, .loc = s->loc,
                     .type = s->var->type};
      Node assign = {.kind = ND_ASSIGN, .lhs = &target, .rhs = s->rhs, .loc = s->loc};
      cg_assign(cg, &assign);
    }
    break;
  default:
    fail(cg, s->loc, "cannot generate code for this statement%s", "");
  }
  stack_release(cg, mark);
}

/* ------------------------------------------------------------ programs */

/* Does the probe read args.NAME (name == NULL: any field)? */
static bool uses_field(const Node *n, const char *name) {
  for (; n; n = n->next) {
    if (n->kind == ND_FIELD && n->lhs->kind == ND_BUILTIN &&
        builtin_has(n->lhs, BUILTIN_ARGS_RECORD) &&
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

/* ------------------------------------------------------------ provider hooks */

/* What providers' prologues use besides the emitter (cg.h). */
void cg_set_ctx(Cg *cg, int reg) { emit(cg, STX(BPF_DW, BPF_REG_10, reg, CTX_OFF)); }

void cg_set_ctx_record(Cg *cg, int rec) {
  emit_addr(cg, BPF_REG_1, rec);
  cg_set_ctx(cg, BPF_REG_1); /* for builtins that take the pointer; dropped when unread */
  cg->ctx_rec = rec;
}


void cg_keep_real_ctx(Cg *cg, Loc loc) {
  cg->ctx_off = slot(cg, 8, loc);
  emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, CTX_OFF));
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_1, cg->ctx_off));
}

bool cg_probe_uses_field(const Probe *p, const char *name) { return probe_uses_field(p, name); }

bool cg_probe_uses_stack(const Probe *p) {
  return uses_real_ctx(p->pred) || uses_real_ctx(p->body);
}

/* Unreachable code and what the peephole pass finds redundant go together
 * (the verifier refuses unreachable instructions). */
static void remove_dead_code(Cg *cg) {
  /* unreachable code first: a jump over it becomes one to the next
   * instruction, which the peephole pass removes with what it blocked */
  em_remove_dead_code(&cg->em, NULL);
  char *kill = calloc(cg->em.n + 1, 1);
  peephole(cg, kill);
  em_remove_dead_code(&cg->em, kill);
  free(kill);
}

/* How many bpf_get_current_pid_tgid() calls n makes: pid and tid one,
 * ustack and usym() two (the process note and the value's pid). */
static int pid_tgid_calls(const Node *n) {
  if ((n->kind != ND_BUILTIN && n->kind != ND_CALL) || !n->name)
    return 0;
  if (!strcmp(n->name, "ustack") || (n->kind == ND_CALL && !strcmp(n->name, "usym")))
    return 2;
  return n->kind == ND_BUILTIN && (!strcmp(n->name, "pid") || !strcmp(n->name, "tid"));
}

static int is_exit_call(const Node *n) { return n->kind == ND_CALL && !strcmp(n->name, "exit"); }

/* The sum of match's counts over the nodes one path through the tree
 * can run: the larger branch of an if/else or a ternary counts, not
 * both, and code a known condition skips (fold.c) not at all. */
static int path_uses(Cg *cg, const Node *n, int (*match)(const Node *)) {
  int uses = 0;
  for (; n; n = n->next) {
    uint64_t known;
    uses += match(n);
    if (n->kind == ND_BINARY && (n->op == OP_LAND || n->op == OP_LOR) &&
        cg_fold(cg, n->lhs, &known) && (known != 0) == (n->op == OP_LOR)) {
      uses += path_uses(cg, n->lhs, match); /* the right side never runs */
      continue;
    }
    if ((n->kind == ND_IF || n->kind == ND_TERNARY) && cg_fold(cg, n->cond, &known)) {
      uses += path_uses(cg, known ? n->then : n->els, match);
      continue;
    }
    int then = path_uses(cg, n->then, match), els = path_uses(cg, n->els, match);
    bool branches = n->kind == ND_IF || n->kind == ND_TERNARY;
    uses += path_uses(cg, n->lhs, match) + path_uses(cg, n->rhs, match) +
            path_uses(cg, n->cond, match) + (branches ? (then > els ? then : els) : then + els) +
            path_uses(cg, n->args, match) + path_uses(cg, n->body, match);
  }
  return uses;
}

/* path_uses over t's predicate and body */
static int probe_uses(Cg *cg, const Target *t, int (*match)(const Node *)) {
  return path_uses(cg, t->probe->pred, match) + path_uses(cg, t->probe->body, match);
}

static int cg_target(Compiled *c, Target *t, unsigned drop_sub, int drop_sites[3]) {
  Cg state = {.em.max = CG_MAX_EMIT}, *cg = &state;
  cg->t = t;
  cg->c = c;
  cg->drop_sub = drop_sub;
  cg->drop_label[0] = cg->drop_label[1] = cg->drop_label[2] = -1;
  cg->exit_label = label_new(cg);
  cg->stack = 8; /* ctx save slot */
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_1, CTX_OFF));
  cg->ctx_off = CTX_OFF;
  if (t->prov->entry_check)
    t->prov->entry_check(cg, t);
  if (c->filter_pid && !(t->caps & PROBE_CAP_ANY_PROCESS)) {
    /* -p PID: probes ignore other processes; BEGIN/END and interval
     * timers run in no particular process, so they are not filtered */
    emit(cg, CALL(BPF_FUNC_get_current_pid_tgid));
    emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    jmp_imm(cg, BPF_JNE, BPF_REG_0, c->filter_pid, cg->exit_label);
    if (t->prov->prologue)
      load_ctx(cg, BPF_REG_1); /* the call clobbered it; prologues start from ctx in r1 */
  }
  if (probe_uses(cg, t, pid_tgid_calls) > 1) {
    cg->pid_tgid_off = slot(cg, 8, t->probe->loc);
    emit(cg, CALL(BPF_FUNC_get_current_pid_tgid));
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, cg->pid_tgid_off));
    if (t->prov->prologue)
      load_ctx(cg, BPF_REG_1);
  }
  if (probe_uses(cg, t, is_comm) > 1) {
    /* read by each use (cg_addr, gen_comm) instead of a helper call each */
    cg->comm_off = slot(cg, 16, t->probe->loc);
    cg_current_comm(cg, cg->comm_off, 16);
    if (t->prov->prologue)
      load_ctx(cg, BPF_REG_1);
  }
  int prologue = t->prov->prologue ? t->prov->prologue(cg, t) : -1;
  cg->zero_scope = t->probe;
  declare_vars(cg, t->probe->pred);
  declare_vars(cg, t->probe->body);
  cg->zero_scope = NULL; /* callbacks zero all theirs */
  keycache_plan(cg, t->probe);
  if (t->probe->pred)
    cg_cond(cg, t->probe->pred, cg->exit_label, false);
  cg_block(cg, t->probe->body);
  label_here(cg, cg->exit_label);
  if (t->prov->epilogue)
    t->prov->epilogue(cg, t, prologue);
  emit(cg, MOV64_IMM(BPF_REG_0, 0));
  emit(cg, EXIT_INSN());
  emit_subs(cg);
  emit_drop_subs(cg);
  memcpy(drop_sites, cg->drop_sites, sizeof cg->drop_sites);
  int rc = 0;
  if (cg->failed) {
    rc = -1;
  } else if (em_resolve(&cg->em) < 0) {
    diag_error(t->probe->loc, "probe %s is too large: a jump spans more than 32767 instructions",
               t->name);
    rc = -1;
  } else if ((remove_dead_code(cg), cg->em.n > 1000000)) {
    diag_error(t->probe->loc, "probe %s needs %d instructions; the kernel allows 1000000", t->name,
               cg->em.n);
    rc = -1;
  }
  t->insns = ealloc(sizeof(struct bpf_insn) * cg->em.n);
  memcpy(t->insns, cg->em.insns, sizeof(struct bpf_insn) * cg->em.n);
  t->ninsns = cg->em.n;
  em_free(&cg->em);
  free(cg->vars);
  return rc;
}

/* t's program into t->insns. */
static int cg_listing(Compiled *c, Target *t) {
  int sites[3] = {0};
  if (cg_target(c, t, 0, sites) < 0)
    return -1;
  /* again, with a shared counting subprogram for each kind where that
   * is shorter: a call per site and the body once (a CTF trace's ring
   * buffer: 8 instructions inline, 10 as a body; the others 4 and 6) */
  int ring_sub = c->ctf_records ? 2 : 3;
  unsigned sub = (sites[DROP_RINGBUF] >= ring_sub ? 1u << DROP_RINGBUF : 0) |
                 (sites[DROP_MAP_FULL] >= 3 ? 1u << DROP_MAP_FULL : 0) |
                 (sites[DROP_STACK] >= 3 ? 1u << DROP_STACK : 0);
  if (sub && cg_target(c, t, sub, sites) < 0) /* the first listing stays in the arena */
    return -1;
  return 0;
}

/* One listing of t per program spec of its provider, each compiled with
 * Target.load_attempt set to its spec; t->insns is spec 0's. */
static int cg_target_specs(Compiled *c, Target *t) {
  ProgSpec spec;
  int n = 0;
  while (t->prov->prog_spec(t, n, &spec) == 0)
    n++;
  t->nspecs = n;
  t->spec_insns = ealloc(sizeof(*t->spec_insns) * (n ? n : 1));
  t->spec_ninsns = ealloc(sizeof(*t->spec_ninsns) * (n ? n : 1));
  for (int a = n - 1; a >= 0; a--) {
    t->load_attempt = a;
    if (cg_listing(c, t) < 0)
      return -1;
    t->spec_insns[a] = t->insns;
    t->spec_ninsns[a] = t->ninsns;
  }
  return 0;
}

MapInfo *add_internal_map(Compiled *c, const char *name, int val_size) {
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

/* Does a probe that runs in the kernel (not BEGIN/END) call exit()?  Then
 * the probes test the stop flag before each record (skip_if_stopped). */
static bool probes_may_exit(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    Cg cg = {.c = c, .t = t};
    uint64_t known;
    bool never = t->probe->pred && cg_fold(&cg, t->probe->pred, &known) && !known;
    if ((t->caps & PROBE_CAP_IN_ETRACE) || never)
      continue;
    if (probe_uses(&cg, t, is_exit_call))
      return true;
  }
  return false;
}

int cg_program(Compiled *c, const Options *opt) {
  c->probe_exit = probes_may_exit(c);
  add_internal_map(c, ".stop", 8)->max_entries = 1; /* exit() was called, and its code */
  add_internal_map(c, ".ringbuf", 0);
  /* one array value of counters (enum Drop in etrace.h) */
  MapInfo *d = add_internal_map(c, ".drops", 8 * (DROP_RINGBUF_CPU0 + DROP_MAX_CPUS));
  d->max_entries = 1;
  int rc = 0;
  for (int i = 0; i < c->ntargets; i++)
    if ((c->targets[i]->prov->code_per_spec ? cg_target_specs : cg_listing)(c, c->targets[i]) < 0)
      rc = -1;
  return rc;
}
