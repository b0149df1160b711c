/* strings.c - strings and buffers: str(), strncmp(), strcontains(),
 * buf(), strerror(), join(). */
#include "builtins/builtin.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ str */

/* A constant offset for str($N + k): an integer literal or a numeric
 * positional parameter. */
static bool offset_const(Sema *sema, Node *n, int64_t *out) {
  if (n->kind == ND_INT) {
    *out = (int64_t)n->ival;
    return true;
  }
  if (n->kind != ND_POSPARAM || !n->ival || n->ival > (uint64_t)sema->opt->nposparams)
    return false;
  const char *s = sema->opt->posparams[n->ival - 1];
  char *end;
  *out = strtoll(s, &end, 0);
  return *s && !*end;
}

/* str($N) is the parameter's text even when it reads as a number
 * ("1"), or "" when it is not given; str($N + k) skips k characters of
 * it, as bpftrace, which takes the text as a pointer to a string literal.
 * The argument becomes that literal.  False after an error. */
static bool posparam_text(Sema *sema, Node *e) {
  Node *a = e->args, *param = a;
  int64_t skip = 0;
  if (a->kind == ND_BINARY && a->op == OP_ADD) {
    if (a->lhs->kind == ND_POSPARAM && offset_const(sema, a->rhs, &skip))
      param = a->lhs;
    else if (a->rhs->kind == ND_POSPARAM && offset_const(sema, a->lhs, &skip))
      param = a->rhs;
    else
      return true;
    /* $1 + 1 with a numeric $1 is a number */
    int64_t v;
    if (offset_const(sema, param, &v))
      return true;
  } else if (a->kind != ND_POSPARAM) {
    return true;
  }
  const char *text = param->ival && param->ival <= (uint64_t)sema->opt->nposparams
                         ? sema->opt->posparams[param->ival - 1] : "";
  if (skip < 0 || skip > (int64_t)strlen(text)) {
    serr(sema, a->loc, "str(): offset %lld is outside positional parameter $%llu (\"%s\")",
         (long long)skip, (unsigned long long)param->ival, text);
    return false;
  }
  Node *lit = ealloc(sizeof(Node));
  *lit = (Node){.kind = ND_STR, .loc = a->loc, .next = a->next, .str = estrdup(text + skip),
                .slen = (int)strlen(text + skip)};
  e->args = lit;
  return true;
}

/* str(p[, n]): a NUL-terminated string read from p (n bytes at most,
 * including the NUL: current bpftrace) */
static Type *check_str(Sema *sema, Node *e) {
  if (!posparam_text(sema, e))
    return NULL;
  Type *t = check_expr(sema, e->args);
  if (t && t->kind == TY_STR) {
    /* str(s, n) of a string (a literal, $1, a tracepoint or BTF char
     * array): a copy cut to n - 1 characters */
    int64_t len;
    if (e->nargs < 2)
      return t;
    if (!want_const(sema, e->args->next, e->name, &len))
      return NULL;
    if (len < 1 || len > 256) {
      serr(sema, e->args->next->loc, "str() length must be between 1 and 256");
      return NULL;
    }
    return len < t->size ? ty_str(len) : t;
  }
  if (t && t->kind != TY_NONE && t->kind != TY_INT) {
    serr(sema, e->args->loc, "str() expects a pointer or integer, got %s", ty_name(t));
    return NULL;
  }
  int size = ETRACE_STRLEN;
  if (e->nargs == 2) {
    int64_t len;
    Node *n = e->args->next;
    if (n->kind == ND_INT || n->kind == ND_POSPARAM) {
      if (!want_const(sema, n, e->name, &len))
        return NULL;
      if (len < 1 || len > 256) {
        serr(sema, n->loc, "str() length must be between 1 and 256");
        return NULL;
      }
      size = len;
    } else if (!want_int(sema, n, e->name)) {
      return NULL;
    }
  }
  return ty_str(size);
}

static void gen_str(Cg *cg, Node *e, int off, const Type *dst) {
  Node *p = e->args;
  if (p->type->kind == TY_STR && e->type->size < p->type->size) {
    /* cut: the whole string into a temporary, its first n - 1 bytes
     * into off (already zeroed, so the NUL is there) */
    int mark = cg->stack, keep = (e->type->size < dst->size ? e->type->size : dst->size) - 1;
    int tmp = slot(cg, p->type->size, e->loc);
    cg_store(cg, p, tmp, p->type);
    emit_copy(cg, off, BPF_REG_10, tmp, keep);
    stack_release(cg, mark);
    return;
  }
  if (p->type->kind == TY_STR) { /* str("literal") or str($1) */
    cg_store(cg, p, off, dst);
    return;
  }
  int size = e->type->size < dst->size ? e->type->size : dst->size;
  int helper = cg_any_space_read(cg, true); /* x86: kernel or user address */
  if ((p->kind == ND_FIELD && p->field_user) || p->type->user) /* uptr(p) too */
    helper = BPF_FUNC_probe_read_user_str;
  if (e->nargs == 2 && e->args->next->kind != ND_INT && e->args->next->kind != ND_POSPARAM) {
    /* runtime length: clamp to the buffer so the verifier sees a bound */
    cg_scalar(cg, p);
    push(cg, e->loc);
    cg_scalar(cg, e->args->next);
    int ok = label_new(cg);
    jmp_imm(cg, BPF_JLE, BPF_REG_0, size, ok);
    emit(cg, MOV64_IMM(BPF_REG_0, size));
    label_here(cg, ok);
    emit(cg, MOV64_REG(BPF_REG_2, BPF_REG_0));
    pop(cg, BPF_REG_3);
    int skip = label_new(cg);
    jmp_imm(cg, BPF_JEQ, BPF_REG_2, 0, skip);
    emit_addr(cg, BPF_REG_1, off);
    emit(cg, CALL(helper));
    cg_check_helper(cg, helper, 2, e->loc);
    label_here(cg, skip);
    return;
  }
  cg_scalar(cg, p);
  emit(cg, MOV64_REG(BPF_REG_3, BPF_REG_0));
  read_str(cg, off, size, helper);
  cg_check_helper(cg, helper, 2, e->loc);
}

/* ------------------------------------------------------------ comparisons */

static Type *check_two_strings(Sema *sema, Node *e) {
  Type *a = check_expr(sema, e->args), *b = check_expr(sema, e->args->next);
  if ((a && a->kind != TY_STR && a->kind != TY_NONE) ||
      (b && b->kind != TY_STR && b->kind != TY_NONE)) {
    serr(sema, e->loc, "%s() expects two strings", e->name);
    return NULL;
  }
  return ty_u64;
}

/* strncmp(a, b, n): 0 when the first n bytes are equal */
static Type *check_strncmp(Sema *sema, Node *e) {
  Type *a = check_expr(sema, e->args), *b = check_expr(sema, e->args->next);
  int64_t len;
  if (!want_const(sema, arg_n(e, 2), e->name, &len))
    return NULL;
  if ((a && a->kind != TY_STR && a->kind != TY_NONE) ||
      (b && b->kind != TY_STR && b->kind != TY_NONE)) {
    serr(sema, e->loc, "strncmp() expects two strings");
    return NULL;
  }
  return ty_u64;
}

static void gen_strncmp(Cg *cg, Node *e) {
  Node *a = e->args, *b = a->next, *len = b->next;
  int64_t limit = len->kind == ND_INT ? (int64_t)len->ival : posparam_int(cg, len);
  cg_str_compare(cg, a, b, limit < 0 ? 0 : (int)limit);
  /* strncmp returns 0 when equal */
  emit(cg, ALU64_IMM(BPF_XOR, BPF_REG_0, 1));
}

/* r0 = 1 if needle occurs in haystack.  Both are on the stack; the
 * search is fully unrolled (haystack size x needle size compares: 16 x 8
 * for comm and a short literal), so the verifier walks it in one pass. */
static void gen_strcontains(Cg *cg, Node *e) {
  Node *hay = e->args, *needle = e->args->next;
  int mark = cg->stack;
  Type *ht = hay->type->size < 8 ? ty_str(8) : hay->type;
  Type *nt = needle->type->size < 8 ? ty_str(8) : needle->type;
  int hoff = cg_addr(cg, hay, ht), noff = cg_addr(cg, needle, nt);
  int found = label_new(cg), notfound = label_new(cg);
  /* Unrolled: for each start i, compare needle bytes until its NUL. */
  for (int i = 0; i < ht->size; i++) {
    int next = label_new(cg);
    for (int j = 0; j < nt->size && i + j <= ht->size; j++) {
      emit(cg, LDX(BPF_B, BPF_REG_2, BPF_REG_10, noff + j));
      jmp_imm(cg, BPF_JEQ, BPF_REG_2, 0, found);
      if (i + j == ht->size) {
        ja(cg, next);
        break;
      }
      emit(cg, LDX(BPF_B, BPF_REG_1, BPF_REG_10, hoff + i + j));
      jmp_reg(cg, BPF_JNE, BPF_REG_1, BPF_REG_2, next);
    }
    ja(cg, found);
    label_here(cg, next);
    emit(cg, LDX(BPF_B, BPF_REG_1, BPF_REG_10, hoff + i));
    jmp_imm(cg, BPF_JEQ, BPF_REG_1, 0, notfound);
  }
  label_here(cg, notfound);
  set_r0_bool(cg, found);
  stack_release(cg, mark);
}

/* ------------------------------------------------------------ buf */

/* The length argument of buf() is known when compiling (a literal or a
 * numeric positional parameter); otherwise it is read at run time. */
static bool buf_len_known(const Node *n) {
  return n->kind == ND_INT || n->kind == ND_POSPARAM ||
         (n->kind == ND_UNARY && n->op == OP_NEG && n->lhs->kind == ND_INT);
}

/* buf(src[, n]): n raw bytes of src, an address (integer or pointer), a
 * string (its bytes, the NUL and what follows included) or an array
 * member (its whole size by default).  n is a constant, or an integer
 * expression read at run time and capped at the string size (as
 * bpftrace 0.17 caps it at BPFTRACE_STRLEN). */
static Type *check_buf(Sema *sema, Node *e) {
  Type *src = check_expr(sema, e->args);
  if (!src || src->kind == TY_NONE)
    return NULL;
  if (src->kind != TY_INT && src->kind != TY_STR && src->kind != TY_ARRAY) {
    serr(sema, e->args->loc, "buf() expects an integer, string, or array argument, got %s",
         ty_name(src));
    return NULL;
  }
  int64_t len = src->kind == TY_ARRAY  ? (int64_t)src->nelems * ty_mem_size(src->elem)
                : src->kind == TY_STR ? src->size
                                       : ETRACE_STRLEN;
  Node *n = e->args->next;
  if (n && buf_len_known(n)) {
    if (!want_const(sema, n, e->name, &len))
      return NULL;
    if (len < 1 || len > 256) {
      serr(sema, n->loc, "buf() length must be between 1 and 256");
      return NULL;
    }
  } else if (n) {
    if (!want_int(sema, n, e->name))
      return NULL;
    len = ETRACE_STRLEN; /* the most it reads */
  }
  if (len > 256)
    len = 256;
  Type *t = new_kind(TY_BUF, 8 + ((len + 7) & ~7));
  t->lh_max = len; /* bytes to read (at most, with a run-time length) */
  return t;
}

/* The source's bytes at r10+off+8 (len of them, the buffer is zeroed). */
static void buf_read(Cg *cg, Node *src, int off, int len, Loc loc) {
  if (src->type->kind == TY_STR) { /* a copy of the string, cut to len */
    int mark = cg->stack;
    Type *whole = ty_str((src->type->size + 7) & ~7); /* literals are stored by words */
    int tmp = slot(cg, whole->size, src->loc);
    cg_store(cg, src, tmp, whole);
    emit_copy(cg, off + 8, BPF_REG_10, tmp, len < src->type->size ? len : src->type->size);
    stack_release(cg, mark);
    return;
  }
  bool user = src->type->kind == TY_ARRAY ? object_user(src) : src->type->user;
  if (src->type->kind == TY_ARRAY)
    cg_object_addr(cg, src);
  else
    cg_scalar(cg, src);
  emit(cg, MOV64_REG(BPF_REG_3, BPF_REG_0));
  emit_addr(cg, BPF_REG_1, off + 8);
  emit(cg, MOV64_IMM(BPF_REG_2, len));
  int helper = user ? BPF_FUNC_probe_read_user : cg_any_space_read(cg, false);
  emit(cg, CALL(helper));
  cg_check_helper(cg, helper, 2, loc);
}

/* u64 length, then the bytes */
static void gen_buf(Cg *cg, Node *e, int off, const Type *dst) {
  int len = (int)e->type->lh_max;
  if (len > dst->size - 8)
    len = dst->size - 8;
  buf_read(cg, e->args, off, len, e->loc);
  Node *n = e->args->next;
  if (!n || buf_len_known(n)) {
    emit(cg, ST_IMM(BPF_DW, BPF_REG_10, off, len));
    return;
  }
  /* a run-time length: the bytes past it are printed as nothing */
  cg_scalar(cg, n);
  int ok = label_new(cg);
  jmp_imm(cg, BPF_JLE, BPF_REG_0, len, ok); /* unsigned: a negative one is huge */
  emit(cg, MOV64_IMM(BPF_REG_0, len));
  label_here(cg, ok);
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
}

/* ------------------------------------------------------------ strerror */

static Type *check_strerror(Sema *sema, Node *e) {
  if (!want_int(sema, e->args, e->name))
    return NULL;
  return new_kind(TY_STRERROR, 8);
}

static void gen_strerror(Cg *cg, Node *e) { cg_scalar(cg, e->args); }

static void format_strerror(Buf *b, const Type *t, const unsigned char *data) {
  uint64_t u;
  memcpy(&u, data, 8);
  const char *msg = strerror((int)u);
  buf_put(b, msg, strlen(msg));
}

/* ------------------------------------------------------------ join */

/* join(argv[, sep]): argv is a user char ** (execve's argv) */
static Type *check_join(Sema *sema, Node *e) {
  if (!want_int(sema, e->args, e->name))
    return NULL;
  const char *sep = " ";
  if (e->nargs == 2) {
    if (!want_str_lit(sema, e->args->next, e->name, "separator"))
      return NULL;
    sep = e->args->next->str;
  }
  Type *strs[JOIN_MAX_ARGS];
  for (int i = 0; i < JOIN_MAX_ARGS; i++)
    strs[i] = ty_str(ETRACE_STRLEN);
  e->site = add_site(sema, REC_JOIN, sep, ty_tuple(strs, JOIN_MAX_ARGS), e->loc);
  return ty_void;
}

/* join(argv): the record (16 strings) is too big for the BPF stack, so it
 * is written straight into a ring-buffer reservation.  Reserved memory is
 * not zeroed: every string slot gets a NUL first, then argv[i] is read
 * until the first NULL pointer. */
static void gen_join(Cg *cg, Node *e) {
  Site *s = cg->c->sites[e->site];
  int size = 8 + s->args->size, slen = s->args->fields[0]->size;
  int done = label_new(cg), out = label_new(cg);
  cg_scalar(cg, e->args);
  push(cg, e->loc);
  int argv_at = cg->depth - 1;
  int rec_at = reserve_record(cg, size, REC_JOIN, e->site, done);
  for (int i = 0; i < JOIN_MAX_ARGS; i++)
    emit(cg, ST_IMM(BPF_B, BPF_REG_0, 8 + s->args->offsets[i], 0));
  int tmp = slot(cg, 8, e->loc);
  for (int i = 0; i < JOIN_MAX_ARGS; i++) {
    emit_addr(cg, BPF_REG_1, tmp);
    emit(cg, MOV64_IMM(BPF_REG_2, 8));
    peek(cg, BPF_REG_3, argv_at);
    emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_3, 8 * i));
    emit(cg, CALL(BPF_FUNC_probe_read_user));
    jmp_imm(cg, BPF_JNE, BPF_REG_0, 0, out);
    emit(cg, LDX(BPF_DW, BPF_REG_3, BPF_REG_10, tmp));
    jmp_imm(cg, BPF_JEQ, BPF_REG_3, 0, out);
    peek(cg, BPF_REG_1, rec_at);
    emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_1, 8 + s->args->offsets[i]));
    emit(cg, MOV64_IMM(BPF_REG_2, slen));
    emit(cg, CALL(BPF_FUNC_probe_read_user_str));
  }
  label_here(cg, out);
  submit_reserved(cg);
  label_here(cg, done);
  pop(cg, BPF_REG_1);
}

const Builtin builtins_strings[] = {
    {.name = "str", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2, .check = check_str,
     .gen_store = gen_str},
    {.name = "strncmp", .form = BUILTIN_FUNC, .min_args = 3, .max_args = 3,
     .check = check_strncmp, .gen_value = gen_strncmp},
    {.name = "strcontains", .form = BUILTIN_FUNC, .min_args = 2, .max_args = 2,
     .check = check_two_strings, .gen_value = gen_strcontains},
    {.name = "buf", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2, .check = check_buf,
     .gen_store = gen_buf},
    {.name = "strerror", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_strerror, .gen_value = gen_strerror, .prints = TY_STRERROR,
     .format = format_strerror},
    {.name = "join", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2, .check = check_join,
     .gen_stmt = gen_join},
    {0},
};
