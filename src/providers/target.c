/* target.c - what every provider shares: making targets, reporting. */
#include "providers/provider.h"
#include "arch/arch.h"

#include <string.h>

static unsigned name_hash(const char *s) {
  unsigned h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* The slot of name in c->probe_name_slots: where it is, or the empty
 * slot where it goes. */
static int *name_slot(Compiled *c, const char *name) {
  unsigned mask = c->probe_name_cap - 1;
  unsigned i = name_hash(name) & mask;
  while (c->probe_name_slots[i] && strcmp(c->probe_names[c->probe_name_slots[i] - 1], name))
    i = (i + 1) & mask;
  return &c->probe_name_slots[i];
}

/* Hashed: a glob can give a program tens of thousands of probes. */
int prov_probe_name(Compiled *c, const char *name) {
  if (2 * (c->nprobe_names + 1) > c->probe_name_cap) {
    c->probe_name_cap = c->probe_name_cap ? 2 * c->probe_name_cap : 64;
    c->probe_name_slots = ealloc(sizeof(int) * c->probe_name_cap);
    for (int i = 0; i < c->nprobe_names; i++)
      *name_slot(c, c->probe_names[i]) = i + 1;
  }
  int *slot = name_slot(c, name);
  if (*slot)
    return *slot - 1;
  c->probe_names = egrow(c->probe_names, c->nprobe_names, sizeof(char *));
  c->probe_names[c->nprobe_names] = estrdup(name);
  *slot = c->nprobe_names + 1;
  return c->nprobe_names++;
}

Target *prov_add_target(ProvExpand *x, const Provider *p, const char *name, const char *kind,
                        unsigned caps, void *data) {
  Compiled *c = x->c;
  Target *t = ealloc(sizeof(Target));
  t->prov = p;
  t->data = data;
  t->kind = kind;
  t->caps = caps;
  t->probe = x->probe;
  t->name = estrdup(name);
  t->probe_index = prov_probe_name(c, name);
  t->prog_fd = -1;
  c->targets = egrow(c->targets, c->ntargets, sizeof(Target *));
  c->targets[c->ntargets++] = t;
  return t;
}

void prov_attach_error(const Target *t, int err) {
  diag_error(t->probe->loc, "cannot attach probe %s: %s", t->name, strerror(-err));
}

int prov_attach_result(const Target *t, const AttachEnv *env, int fd) {
  if (fd < 0) {
    prov_attach_error(t, fd);
    return -1;
  }
  attach_keep(env, fd);
  return 0;
}

void prov_regs_arg(int i, bool kernel, ArgLoc *out) {
  int reg, stack_off;
  *out = (ArgLoc){.kernel_mem = kernel};
  if (arch_func_arg(i, &reg, &stack_off))
    out->a = (UsdtArg){.kind = UA_REG, .size = 8, .reg_size = 8, .index = -1, .reg = reg};
  else
    out->a = (UsdtArg){.kind = UA_MEM, .size = 8, .reg = arch_current()->sp, .index = -1,
                       .value = stack_off};
}

void prov_regs_retval(ArgLoc *out) {
  *out = (ArgLoc){
      .a = {.kind = UA_REG, .size = 8, .reg_size = 8, .index = -1, .reg = arch_current()->retval}};
}
