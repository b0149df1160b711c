/* network.c - network addresses printed in text form: ntop() (IP),
 * macaddr() (Ethernet). */
#include "builtins/builtin.h"

#include <arpa/inet.h>
#include <string.h>

/* ntop(addr) or ntop(AF_INET, addr): an IPv4 address held in an
 * integer, in network byte order as it sits in memory */
static Type *check_ntop(Sema *sema, Node *e) {
  for (Node *a = e->args; a; a = a->next)
    if (!want_int(sema, a, e->name))
      return NULL;
  return new_kind(TY_INET, 24);
}

/* u64 family, then the address bytes */
static void gen_ntop(Cg *cg, Node *e, int off, const Type *dst) {
  Node *addr = e->nargs == 2 ? e->args->next : e->args;
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, off, 2 /* AF_INET */));
  cg_scalar(cg, addr);
  emit(cg, STX(BPF_W, BPF_REG_10, BPF_REG_0, off + 8));
}

static void format_ntop(Buf *b, const Type *t, const unsigned char *data) {
  char text[INET6_ADDRSTRLEN] = "";
  uint64_t family;
  memcpy(&family, data, 8);
  inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, data + 8, text, sizeof text);
  buf_put(b, text, strlen(text));
}

/* ------------------------------------------------------------ macaddr */

/* Whether e is a member or element read from memory (a struct's char[6]):
 * its bytes are read raw from its address, a NUL byte included. */
static bool in_object(const Node *e) {
  return (e->kind == ND_FIELD && e->lhs->type->kind != TY_CTX) ||
         (e->kind == ND_INDEX && (e->lhs->type->kind == TY_ARRAY || e->lhs->type->is_ptr)) ||
         (e->kind == ND_UNARY && e->op == OP_DEREF);
}

/* macaddr(addr): 6 bytes, from an address (integer or pointer) or a
 * 6-byte array (char mac[6] of a struct, a tracepoint field ...). */
static Type *check_macaddr(Sema *sema, Node *e) {
  Type *t = check_expr(sema, e->args);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind != TY_INT && t->kind != TY_STR && t->kind != TY_ARRAY) {
    serr(sema, e->args->loc, "macaddr() only supports array or pointer arguments (%s provided)",
         ty_name(t));
    return NULL;
  }
  if (e->args->kind == ND_STR) {
    serr(sema, e->args->loc, "macaddr() does not support literal string arguments");
    return NULL;
  }
  int size = t->kind == TY_ARRAY ? t->nelems * ty_mem_size(t->elem) : t->size;
  if (t->kind != TY_INT && size != 6) {
    serr(sema, e->args->loc, "macaddr() argument must be 6 bytes in size (%s is %d)", ty_name(t),
         size);
    return NULL;
  }
  return new_kind(TY_MACADDR, 8);
}

static void gen_macaddr(Cg *cg, Node *e, int off, const Type *dst) {
  Node *a = e->args;
  if (a->type->kind == TY_STR && !in_object(a)) { /* a copy held on the stack */
    int mark = cg->stack;
    int tmp = slot(cg, 8, e->loc);
    cg_store(cg, a, tmp, ty_str(8));
    emit_copy(cg, off, BPF_REG_10, tmp, 6);
    stack_release(cg, mark);
    return;
  }
  bool user;
  if (a->type->kind == TY_INT) {
    cg_scalar(cg, a);
    user = a->type->user;
  } else {
    cg_object_addr(cg, a);
    user = object_user(a);
  }
  emit(cg, MOV64_REG(BPF_REG_3, BPF_REG_0));
  emit_addr(cg, BPF_REG_1, off);
  emit(cg, MOV64_IMM(BPF_REG_2, 6));
  emit(cg, CALL(user ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read));
}

static void format_macaddr(Buf *b, const Type *t, const unsigned char *d) {
  buf_printf(b, "%02X:%02X:%02X:%02X:%02X:%02X", d[0], d[1], d[2], d[3], d[4], d[5]);
}

const Builtin builtins_network[] = {
    {.name = "ntop", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2, .check = check_ntop,
     .gen_store = gen_ntop, .prints = TY_INET, .format = format_ntop},
    {.name = "macaddr", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_macaddr, .gen_store = gen_macaddr, .prints = TY_MACADDR,
     .format = format_macaddr},
    {0},
};
