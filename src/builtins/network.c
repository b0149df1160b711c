/* network.c - network addresses: ntop() (IP, printed as text), pton()
 * (text to IP bytes), macaddr() (Ethernet, printed as text). */
#include "builtins/builtin.h"

#include <arpa/inet.h>
#include <string.h>

/* The address bytes of a string or an array (a held copy of an array
 * is rounded up to 8 bytes: its elements say how many are the array's). */
static int addr_bytes(const Type *t) {
  return t->kind == TY_ARRAY ? t->nelems * ty_mem_size(t->elem) : t->size;
}

/* ntop([family, ]addr): an IPv4 address held in an integer (in network
 * byte order as it sits in memory), or the 4 or 16 bytes of an array or
 * string (an IPv6 address when 16, or when family says AF_INET6). */
static Type *check_ntop(Sema *sema, Node *e) {
  Node *addr = e->nargs == 2 ? e->args->next : e->args;
  if (e->nargs == 2 && !want_int(sema, e->args, e->name))
    return NULL;
  Type *t = check_expr(sema, addr);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind != TY_INT && t->kind != TY_STR && t->kind != TY_ARRAY) {
    serr(sema, addr->loc, "ntop() expects an integer or array argument, got %s", ty_name(t));
    return NULL;
  }
  if (t->kind != TY_INT && addr_bytes(t) != 4 && addr_bytes(t) != 16) {
    serr(sema, addr->loc, "ntop() argument must be 4 or 16 bytes in size (%s is %d)", ty_name(t),
         addr_bytes(t));
    return NULL;
  }
  return new_kind(TY_INET, 24);
}

/* u64 family, then the address bytes */
static void gen_ntop(Cg *cg, Node *e, int off, const Type *dst) {
  Node *addr = e->nargs == 2 ? e->args->next : e->args;
  const Type *t = addr->type;
  if (e->nargs == 2) {
    cg_scalar(cg, e->args);
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
  } else {
    emit(cg, ST_IMM(BPF_DW, BPF_REG_10, off,
                    t->kind != TY_INT && addr_bytes(t) == 16 ? AF_INET6 : AF_INET));
  }
  if (t->kind == TY_INT) {
    cg_scalar(cg, addr);
    emit(cg, STX(BPF_W, BPF_REG_10, BPF_REG_0, off + 8));
  } else if (t->kind == TY_STR) { /* a string's bytes, copied */
    int mark = cg->stack;
    int tmp = slot(cg, 16, e->loc);
    cg_store(cg, addr, tmp, ty_str(16));
    emit_copy(cg, off + 8, BPF_REG_10, tmp, t->size);
    stack_release(cg, mark);
  } else { /* an array in memory (a struct's u8 addr[16], pton()) */
    cg_object_addr(cg, addr);
    emit(cg, MOV64_REG(BPF_REG_3, BPF_REG_0));
    emit_addr(cg, BPF_REG_1, off + 8);
    emit(cg, MOV64_IMM(BPF_REG_2, addr_bytes(t)));
    emit(cg, CALL(object_user(addr) ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel));
  }
}

/* ------------------------------------------------------------ pton */

/* pton("addr"): the bytes of an IPv4 (uint8[4]) or IPv6 (uint8[16])
 * address written as text; the family follows a '.' or a ':'. */
static Type *check_pton(Sema *sema, Node *e) {
  Node *a = e->args;
  if (!want_str_lit(sema, a, e->name, "address"))
    return NULL;
  int family = strchr(a->str, '.') ? AF_INET : strchr(a->str, ':') ? AF_INET6 : 0;
  unsigned char bytes[16];
  if (!family) {
    serr(sema, a->loc, "pton() expects a string argument of an IPv4/IPv6 address, got %s",
         a->str);
    return NULL;
  }
  if (inet_pton(family, a->str, bytes) != 1) {
    serr(sema, a->loc, "pton() expects a valid IPv4/IPv6 address, got %s", a->str);
    return NULL;
  }
  Type *t = new_kind(TY_ARRAY, family == AF_INET ? 4 : 16);
  t->elem = ty_u8;
  t->nelems = t->size;
  return t;
}

/* An array's value is its address: the bytes go to a stack slot that
 * lives until the end of the statement, read back like any array
 * (pton("::1")[15], ntop(pton(..))). */
static void gen_pton(Cg *cg, Node *e) {
  unsigned char bytes[16] = {0};
  inet_pton(e->type->size == 4 ? AF_INET : AF_INET6, e->args->str, bytes);
  int off = slot(cg, 16, e->loc);
  for (int i = 0; i < 16; i += 4) {
    uint32_t w;
    memcpy(&w, bytes + i, 4);
    emit(cg, ST_IMM(BPF_W, BPF_REG_10, off + i, (int32_t)w));
  }
  emit_addr(cg, BPF_REG_0, off);
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
  emit(cg, CALL(user ? BPF_FUNC_probe_read_user : cg_any_space_read(cg, false)));
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
    {.name = "pton", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_pton,
     .gen_value = gen_pton},
    {0},
};
