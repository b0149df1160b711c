/* target.c - what every provider shares: making targets, reporting. */
#include "providers/provider.h"
#include "arch/arch.h"

#include <string.h>

int prov_probe_name(Compiled *c, const char *name) {
  for (int i = 0; i < c->nprobe_names; i++)
    if (!strcmp(c->probe_names[i], name))
      return i;
  c->probe_names = egrow(c->probe_names, c->nprobe_names, sizeof(char *));
  c->probe_names[c->nprobe_names] = estrdup(name);
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
