/* debug.c - debugf(): a line in the kernel's trace buffer through
 * bpf_trace_printk(), read from tracefs (trace, trace_pipe), as
 * bpftrace 0.17 writes it: etrace itself prints nothing for it. */
#include "builtins/builtin.h"

#include <string.h>

#define PRINTK_MAX_ARGS 3 /* bpf_trace_printk() takes three values */

/* The conversion at p (after '%'): its length, and whether it takes a
 * string; 0 when bpf_trace_printk() does not know it.  Flags, width and
 * precision are skipped, as bpftrace checks them. */
static int printk_conversion(const char *p, bool *is_str) {
  static const char *const convs[] = {"llu", "lld", "llx", "lu", "ld", "lx", "d", "u", "x",
                                      "p", "s"};
  const char *q = p;
  if (*q == '-')
    q++;
  while ((*q >= '0' && *q <= '9') || *q == '.')
    q++;
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
    if (!strncmp(q, convs[i], strlen(convs[i]))) {
      *is_str = !strcmp(convs[i], "s");
      return (int)(q - p) + (int)strlen(convs[i]);
    }
  return 0;
}

static Type *check_debugf(Sema *sema, Node *e) {
  Node *fmt = e->args;
  if (!want_str_lit(sema, fmt, e->name, "format"))
    return NULL;
  bool want_str[PRINTK_MAX_ARGS + 1];
  const char *token[PRINTK_MAX_ARGS + 1];
  int token_len[PRINTK_MAX_ARGS + 1];
  int n = 0;
  for (const char *p = fmt->str; (p = strchr(p, '%')); ) {
    if (p[1] == '%') {
      p += 2;
      continue;
    }
    bool is_str;
    int len = printk_conversion(p + 1, &is_str);
    if (!len) {
      serr(sema, fmt->loc, "debugf: Unknown format string token: %%%.*s", (int)strcspn(p + 1, " "),
           p + 1);
      return NULL;
    }
    if (n <= PRINTK_MAX_ARGS) {
      want_str[n] = is_str;
      token[n] = p;
      token_len[n] = 1 + len;
    }
    n++;
    p += 1 + len;
  }
  int nargs = e->nargs - 1;
  if (nargs != n) {
    serr(sema, e->loc, "debugf: %s arguments for format string (%d supplied, %d expected)",
         nargs < n ? "Not enough" : "Too many", nargs, n);
    return NULL;
  }
  if (n > PRINTK_MAX_ARGS) {
    serr(sema, e->loc, "debugf: Cannot use more than %d conversion specifiers", PRINTK_MAX_ARGS);
    return NULL;
  }
  int i = 0;
  for (Node *a = fmt->next; a; a = a->next, i++) {
    Type *t = check_expr(sema, a);
    if (!t || t->kind == TY_NONE)
      return NULL;
    if (want_str[i] ? t->kind != TY_STR : t->kind != TY_INT) {
      serr(sema, a->loc, "debugf: %.*s specifier expects a value of type %s (%s supplied)",
           token_len[i], token[i], want_str[i] ? "string" : "integer",
           t->kind == TY_INT ? "integer" : t->kind == TY_STR ? "string" : ty_name(t));
      return NULL;
    }
  }
  if (sema->final_pass)
    diag_warn(e->loc, "The debugf() builtin is not recommended for production use. For more "
                      "information see bpf_trace_printk in bpf-helpers(7).");
  return ty_void;
}

/* Each value goes to the stack first (evaluating one clobbers r1-r5),
 * strings as their bytes, whose address bpf_trace_printk() reads. */
static void gen_debugf(Cg *cg, Node *e) {
  int mark = cg->stack;
  Node *fmt = e->args;
  int fsize = (fmt->slen + 1 + 7) & ~7;
  int foff = slot(cg, fsize, e->loc);
  emit_zero(cg, foff, fsize);
  store_string_literal(cg, fmt->str, fmt->slen, foff, fsize);
  int offs[PRINTK_MAX_ARGS];
  int n = 0;
  for (Node *a = fmt->next; a && n < PRINTK_MAX_ARGS; a = a->next, n++) {
    if (a->type->kind == TY_STR) {
      Type *st = ty_str((a->type->size + 7) & ~7);
      offs[n] = slot(cg, st->size, a->loc);
      cg_store(cg, a, offs[n], st);
    } else {
      offs[n] = slot(cg, 8, a->loc);
      cg_scalar(cg, a);
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, offs[n]));
    }
  }
  int i = 0;
  for (Node *a = fmt->next; a && i < n; a = a->next, i++) {
    if (a->type->kind == TY_STR)
      emit_addr(cg, BPF_REG_3 + i, offs[i]);
    else
      emit(cg, LDX(BPF_DW, BPF_REG_3 + i, BPF_REG_10, offs[i]));
  }
  emit_addr(cg, BPF_REG_1, foff);
  emit(cg, MOV64_IMM(BPF_REG_2, fmt->slen + 1));
  emit(cg, CALL(BPF_FUNC_trace_printk));
  stack_release(cg, mark);
}

const Builtin builtins_debug[] = {
    {.name = "debugf", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 64, .check = check_debugf,
     .gen_stmt = gen_debugf},
    {0},
};
