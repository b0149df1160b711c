/* filter.c - per-event filters of `etrace record`, written as
 * bpftrace predicates after the event:
 *
 *   etrace record -o DIR 'syscalls:sys_enter_openat /args.flags & 1/' \
 *                        'sched:sched_switch /prev_prio < 120 && next_pid != 0/'
 *
 * Grammar (C precedence, as bpftrace):
 *   expr  := or
 *   or    := and ('||' and)*          and := bor ('&&' bor)*
 *   bor   := bxor ('|' bxor)*         bxor := band ('^' band)*
 *   band  := eq ('&' eq)*             eq := rel (('==' | '!=') rel)*
 *   rel   := sum (('<' | '<=' | '>' | '>=') sum)*
 *   sum   := unary (('+' | '-') unary)*
 *   unary := ('!' | '-' | '~') unary | primary
 *   primary := NUMBER | FIELD | 'pid' | 'tid' | '(' expr ')'
 *   FIELD := args.NAME | args->NAME | NAME     (an integer field of the event)
 * Values are 64-bit; fields are sign-extended when signed; comparisons are
 * signed.  `pid` is the process id (tgid), `tid` the thread id.
 *
 * Why a small compiler of its own rather than the language front end
 * (sema + cg): the record programs are hand-built around raw records
 * (record.c), with r6-r9 holding the context, the reservation, pid_tgid and
 * the ring, while cg owns r6-r9 as its expression stack and expects a
 * probe, maps and a printf runtime around it.  A predicate over a
 * tracepoint's integer fields needs none of that: the fields' offsets and
 * signedness are already in the event's layout, and each is one load from
 * the context (or from the saved syscall registers).  The test runs before
 * the ring-buffer reservation, so a rejected event costs no ring space.
 * String comparisons are not supported (a located error says so).
 */
#include "arch/arch.h"
#include "record/record.h"
#include "codegen/insn.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
  N_NUM, N_FIELD, N_PID, N_TID, N_NOT, N_NEG, N_INV,
  N_OR, N_AND, N_BOR, N_BXOR, N_BAND, N_EQ, N_NE, N_LT, N_LE, N_GT, N_GE, N_ADD, N_SUB,
} FKind;

typedef struct FNode FNode;
struct FNode {
  FKind kind;
  FNode *a, *b;
  int64_t num;
  const char *name;   /* N_FIELD */
  int col;
};

struct RecFilter {
  FNode *root;
  Source src;         /* for located errors */
};

/* ------------------------------------------------------------ parser */

typedef struct P {
  const char *s;
  int pos;
  bool err;
  int depth;          /* parentheses and unary operators open */
  int ops;            /* binary operators so far */
  RecFilter *f;
} P;

#define MAX_OPS 256     /* bounds the tree, hence the recursion of check/gen */
#define MAX_DEPTH 64    /* deeper needs more than r0-r5 anyway; bounds recursion */

static void perr(P *p, int col, const char *msg, const char *arg) {
  if (p->err)
    return;
  p->err = true;
  diag_source = &p->f->src;
  diag_error((Loc){1, col + 1}, msg, arg);
  diag_source = NULL;
}

static void skip(P *p) {
  while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
    p->pos++;
}

static bool accept(P *p, const char *op) {
  skip(p);
  size_t n = strlen(op);
  if (strncmp(p->s + p->pos, op, n))
    return false;
  /* '&' is not the start of '&&', '|' not of '||', '<' not of '<=' ... */
  char next = p->s[p->pos + n];
  if (n == 1 && (next == op[0] && (op[0] == '&' || op[0] == '|')))
    return false;
  if (n == 1 && next == '=' && (op[0] == '<' || op[0] == '>' || op[0] == '!'))
    return false;
  p->pos += n;
  return true;
}

static FNode *node(FKind k, FNode *a, FNode *b, int col) {
  FNode *n = ealloc(sizeof *n);
  n->kind = k;
  n->a = a;
  n->b = b;
  n->col = col;
  return n;
}

static FNode *expr(P *p);

static FNode *primary(P *p) {
  skip(p);
  int col = p->pos;
  const char *s = p->s + p->pos;
  if (*s == '(') {
    p->pos++;
    if (++p->depth > MAX_DEPTH) {
      perr(p, col, "the filter nests too deeply%s", "");
      return node(N_NUM, NULL, NULL, col);
    }
    FNode *n = expr(p);
    p->depth--;
    if (!accept(p, ")"))
      perr(p, p->pos, "expected ')'%s", "");
    return n;
  }
  if (isdigit((unsigned char)*s)) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno == ERANGE) {
      perr(p, col, "number out of range (64 bits)%s", "");
      return node(N_NUM, NULL, NULL, col);
    }
    if (isalnum((unsigned char)*end) || *end == '_') {
      perr(p, col, "invalid number%s", "");
      return node(N_NUM, NULL, NULL, col);
    }
    p->pos += end - s;
    FNode *n = node(N_NUM, NULL, NULL, col);
    n->num = (int64_t)v;
    return n;
  }
  if (isalpha((unsigned char)*s) || *s == '_') {
    int n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
      n++;
    char *word = estrndup(s, n);
    p->pos += n;
    if (!strcmp(word, "args")) {
      if (!accept(p, ".") && !accept(p, "->")) {
        perr(p, p->pos, "expected args.FIELD%s", "");
        return node(N_NUM, NULL, NULL, col);
      }
      skip(p);
      const char *f = p->s + p->pos;
      int k = 0;
      while (isalnum((unsigned char)f[k]) || f[k] == '_')
        k++;
      if (!k) {
        perr(p, p->pos, "expected a field name after args.%s", "");
        return node(N_NUM, NULL, NULL, col);
      }
      p->pos += k;
      FNode *nd = node(N_FIELD, NULL, NULL, col);
      nd->name = estrndup(f, k);
      return nd;
    }
    if (!strcmp(word, "pid"))
      return node(N_PID, NULL, NULL, col);
    if (!strcmp(word, "tid"))
      return node(N_TID, NULL, NULL, col);
    FNode *nd = node(N_FIELD, NULL, NULL, col);
    nd->name = word;
    return nd;
  }
  if (*s == '"')
    perr(p, col, "filters compare integers: strings are not supported%s", "");
  else if (!*s)
    perr(p, col, "unexpected end of the filter%s", "");
  else
    perr(p, col, "unexpected '%.1s'", s);
  return node(N_NUM, NULL, NULL, col);
}

static FNode *unary(P *p) {
  skip(p);
  int col = p->pos;
  if (p->depth > MAX_DEPTH) {
    perr(p, col, "the filter nests too deeply%s", "");
    return node(N_NUM, NULL, NULL, col);
  }
  if (strchr("!-~", p->s[p->pos]) && p->s[p->pos]) {
    p->depth++;
    FNode *n = NULL;
    if (accept(p, "!"))
      n = node(N_NOT, unary(p), NULL, col);
    else if (accept(p, "-"))
      n = node(N_NEG, unary(p), NULL, col);
    else if (accept(p, "~"))
      n = node(N_INV, unary(p), NULL, col);
    p->depth--;
    if (n)
      return n;
  }
  return primary(p);
}

typedef struct FOp { const char *tok; FKind kind; } FOp;

/* One precedence level: operand (op operand)* */
static FNode *level(P *p, int lv);

static const FOp levels[][5] = {
  {{"||", N_OR}},
  {{"&&", N_AND}},
  {{"|", N_BOR}},
  {{"^", N_BXOR}},
  {{"&", N_BAND}},
  {{"==", N_EQ}, {"!=", N_NE}},
  {{"<=", N_LE}, {">=", N_GE}, {"<", N_LT}, {">", N_GT}},
  {{"+", N_ADD}, {"-", N_SUB}},
};
#define NLEVELS (int)(sizeof levels / sizeof *levels)

static FNode *level(P *p, int lv) {
  if (lv == NLEVELS)
    return unary(p);
  FNode *n = level(p, lv + 1);
  for (;;) {
    skip(p);
    int col = p->pos;
    const FOp *op = NULL;
    for (const FOp *o = levels[lv]; o < levels[lv] + 5 && o->tok; o++)
      if (accept(p, o->tok)) {
        op = o;
        break;
      }
    if (!op || p->err)
      return n;
    if (++p->ops > MAX_OPS) {
      perr(p, col, "the filter is too long (more than %s operators)", "256");
      return n;
    }
    n = node(op->kind, n, level(p, lv + 1), col);
  }
}

static FNode *expr(P *p) { return level(p, 0); }

RecFilter *rfilter_parse(const char *text, const char *spec) {
  RecFilter *f = ealloc(sizeof *f);
  f->src.name = eprintf("filter of '%s'", spec);
  f->src.text = estrdup(text);
  P p = {.s = f->src.text, .f = f};
  f->root = expr(&p);
  skip(&p);
  if (!p.err && p.s[p.pos])
    perr(&p, p.pos, "unexpected '%s' after the expression", p.s + p.pos);
  return p.err ? NULL : f;
}

/* ------------------------------------------------------------ names */

/* The copy that fills integer field `name` of e, or NULL. */
static const Copy *field_copy(const Event *e, const char *name, const CtfField **fp) {
  const CtfClass *c = &e->cls;
  for (int i = 0; i < c->nfields && i < c->first_var; i++) {
    const CtfField *f = &c->fields[i];
    if (strcmp(f->name, name) || f->kind != CTF_INT || f->count)
      continue;
    int off = ctf_field_offset(c, i);
    for (int k = 0; k < e->ncopies; k++)
      if (e->copies[k].dst == off) {
        *fp = f;
        return &e->copies[k];
      }
  }
  return NULL;
}

static int need(const FNode *n);

static int check(RecFilter *rf, const FNode *n, const Event *e) {
  if (!n)
    return 0;
  if (n->kind == N_FIELD) {
    const CtfField *f;
    const Copy *c = field_copy(e, n->name, &f);
    bool ok = c && (c->kind == CP_CTX || c->kind == CP_SYS_ARG || c->kind == CP_SYS_NR ||
                    c->kind == CP_SYS_RET);
    if (!ok) {
      diag_source = &rf->src;
      diag_error((Loc){1, n->col + 1}, "%s:%s has no integer field '%s'", e->sys, e->event,
                 n->name);
      diag_source = NULL;
      return -1;
    }
    return 0;
  }
  return check(rf, n->a, e) < 0 || check(rf, n->b, e) < 0 ? -1 : 0;
}

int rfilter_check(RecFilter *f, const Event *e) {
  if (e->lttng || e->layout) {
    diag_fatal("%s:%s: filters apply to the events named on the command line, not to the "
               "kernel profile's", e->sys, e->event);
    return -1;
  }
  if (check(f, f->root, e) < 0)
    return -1;
  if (need(f->root) > 6) { /* r0-r5: r6-r9 hold the program's state */
    diag_source = &f->src;
    diag_error((Loc){1, 1}, "the filter nests too deeply (at most 6 pending operands)");
    diag_source = NULL;
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ code */

#define regs_off_of(i) (arch_current()->syscall_args[i])

typedef struct G {
  Prog *p;
  const Event *e;
  int regs_buf, regs_lo;
  bool deep;
} G;

static void sext(Prog *p, int reg, int bytes) {
  if (bytes >= 8)
    return;
  int sh = 64 - 8 * bytes;
  em_insn(&p->em, ALU64_IMM(BPF_LSH, reg, sh));
  em_insn(&p->em, ALU64_IMM(BPF_ARSH, reg, sh));
}

/* reg = (reg OP other) ? 1 : 0 */
static void setcc(Prog *p, int op, int reg, int other) {
  em_insn(&p->em, JMP_REG(op, reg, other, 2));
  em_insn(&p->em, MOV64_IMM(reg, 0));
  em_insn(&p->em, JA(1));
  em_insn(&p->em, MOV64_IMM(reg, 1));
}

/* Evaluate n into register `reg` (r0..r5); deeper registers are free. */
static void gen(G *g, const FNode *n, int reg) {
  Prog *p = g->p;
  if (reg > BPF_REG_5) {
    g->deep = true;
    return;
  }
  switch (n->kind) {
  case N_NUM:
    em_imm64(&p->em, reg, (uint64_t)n->num);
    return;
  case N_PID:
    em_insn(&p->em, MOV64_REG(reg, BPF_REG_8));
    em_insn(&p->em, ALU64_IMM(BPF_RSH, reg, 32));
    return;
  case N_TID:
    em_insn(&p->em, MOV64_REG(reg, BPF_REG_8));
    em_insn(&p->em, ALU64_IMM(BPF_LSH, reg, 32));
    em_insn(&p->em, ALU64_IMM(BPF_RSH, reg, 32));
    return;
  case N_FIELD: {
    const CtfField *f;
    const Copy *c = field_copy(g->e, n->name, &f);
    switch (c->kind) {
    case CP_CTX: {
      int sz = f->size == 8 ? BPF_DW : f->size == 4 ? BPF_W : f->size == 2 ? BPF_H : BPF_B;
      em_insn(&p->em, LDX(sz, reg, BPF_REG_6, c->src));
      if (f->is_signed)
        sext(p, reg, f->size);
      break;
    }
    case CP_SYS_ARG:
      em_insn(&p->em, LDX(BPF_DW, reg, BPF_REG_10, g->regs_buf + regs_off_of(c->src) - g->regs_lo));
      if (c->sext32)
        sext(p, reg, 4);
      break;
    case CP_SYS_NR:
      em_insn(&p->em, MOV64_IMM(reg, g->e->sys_nr));
      break;
    case CP_SYS_RET:
      em_insn(&p->em, LDX(BPF_DW, reg, BPF_REG_6, 8));
      break;
    default:
      break;
    }
    return;
  }
  case N_NOT:
    gen(g, n->a, reg);
    em_insn(&p->em, JMP_IMM(BPF_JEQ, reg, 0, 2));
    em_insn(&p->em, MOV64_IMM(reg, 0));
    em_insn(&p->em, JA(1));
    em_insn(&p->em, MOV64_IMM(reg, 1));
    return;
  case N_NEG:
    gen(g, n->a, reg);
    em_insn(&p->em, NEG64(reg));
    return;
  case N_INV:
    gen(g, n->a, reg);
    em_insn(&p->em, ALU64_IMM(BPF_XOR, reg, -1));
    return;
  default:
    break;
  }
  /* binary */
  gen(g, n->a, reg);
  gen(g, n->b, reg + 1);
  if (g->deep)
    return;
  int r2 = reg + 1;
  switch (n->kind) {
  case N_OR:
  case N_AND:
    /* both operands as 0/1, then | or & (no side effects: no need to
     * short-circuit) */
    em_insn(&p->em, JMP_IMM(BPF_JEQ, reg, 0, 1));
    em_insn(&p->em, MOV64_IMM(reg, 1));
    em_insn(&p->em, JMP_IMM(BPF_JEQ, r2, 0, 1));
    em_insn(&p->em, MOV64_IMM(r2, 1));
    em_insn(&p->em, ALU64_REG(n->kind == N_OR ? BPF_OR : BPF_AND, reg, r2));
    return;
  case N_BOR: em_insn(&p->em, ALU64_REG(BPF_OR, reg, r2)); return;
  case N_BXOR: em_insn(&p->em, ALU64_REG(BPF_XOR, reg, r2)); return;
  case N_BAND: em_insn(&p->em, ALU64_REG(BPF_AND, reg, r2)); return;
  case N_ADD: em_insn(&p->em, ALU64_REG(BPF_ADD, reg, r2)); return;
  case N_SUB: em_insn(&p->em, ALU64_REG(BPF_SUB, reg, r2)); return;
  case N_EQ: setcc(p, BPF_JEQ, reg, r2); return;
  case N_NE: setcc(p, BPF_JNE, reg, r2); return;
  case N_LT: setcc(p, BPF_JSLT, reg, r2); return;
  case N_LE: setcc(p, BPF_JSLE, reg, r2); return;
  case N_GT: setcc(p, BPF_JSGT, reg, r2); return;
  case N_GE: setcc(p, BPF_JSGE, reg, r2); return;
  default: return;
  }
}

/* Registers gen() uses for n: the left operand in reg, the right one from
 * reg + 1 on. */
static int need(const FNode *n) {
  if (!n->a)
    return 1;
  if (!n->b)
    return need(n->a);
  int l = need(n->a), r = need(n->b) + 1;
  return l > r ? l : r;
}

void rfilter_gen(Prog *p, const RecFilter *f, const Event *e, int regs_buf, int regs_lo) {
  G g = {.p = p, .e = e, .regs_buf = regs_buf, .regs_lo = regs_lo};
  gen(&g, f->root, BPF_REG_0);
  em_jump(&p->em, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0), p->out);
}
