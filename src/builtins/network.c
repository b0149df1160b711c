/* network.c - ntop(): an IP address printed in text form. */
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

const Builtin builtins_network[] = {
    {.name = "ntop", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2, .check = check_ntop,
     .gen_store = gen_ntop, .prints = TY_INET, .format = format_ntop},
    {0},
};
