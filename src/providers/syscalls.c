/* syscalls.c - syscall tracepoints of the language, served by raw
 * tracepoints through the dispatcher of sysdispatch.c (the reason is
 * there).
 *
 * The target programs see the same record layout as the tracefs format
 * (cg.c builds it on the stack), so `args.NAME` works unchanged.
 */
#include "etrace.h"
#include "providers/sysdispatch.h"

#include <string.h>

static const struct {
  const char *name;
  int nr;
} syscall_table[] = {
#include "syscall_table.h"
};

int systp_nr(const char *event, bool *is_exit) {
  const char *name;
  if (!strncmp(event, "sys_enter_", 10)) {
    name = event + 10;
    *is_exit = false;
  } else if (!strncmp(event, "sys_exit_", 9)) {
    name = event + 9;
    *is_exit = true;
  } else {
    return -1;
  }
  for (size_t i = 0; i < sizeof syscall_table / sizeof syscall_table[0]; i++)
    if (!strcmp(syscall_table[i].name, name))
      return syscall_table[i].nr < SYSDISPATCH_MAX_NR ? syscall_table[i].nr : -1;
  return -1;
}

/* Decide which syscall targets take the raw-tracepoint path: one program
 * per (direction, number); a second probe on the same syscall keeps the
 * perf-event path. */
void systp_assign(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    if (t->type != PT_TRACEPOINT || strcmp(t->tp_sys, "syscalls"))
      continue;
    bool is_exit;
    int nr = systp_nr(t->tp_event, &is_exit);
    if (nr < 0)
      continue;
    bool taken = false;
    for (int j = 0; j < i; j++) {
      Target *o = c->targets[j];
      if (o->raw_syscall && o->sys_nr == nr && o->sys_exit == is_exit)
        taken = true;
    }
    if (taken)
      continue;
    t->raw_syscall = true;
    t->sys_nr = nr;
    t->sys_exit = is_exit;
  }
}

int systp_load(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    if (!t->raw_syscall)
      continue;
    if (!c->sysdisp) {
      c->sysdisp = ealloc(sizeof(SysDispatch));
      sysdisp_init(c->sysdisp, "etrace_sys_enter", "etrace_sys_exit", NULL, NULL);
    }
    if (sysdisp_add(c->sysdisp, t->sys_exit, t->sys_nr, t->prog_fd, &t->probe->loc, t->name) < 0)
      return -1;
  }
  return 0;
}

int systp_attach(Compiled *c, Links *l) {
  return c->sysdisp ? sysdisp_attach(c->sysdisp, l, false) : 0;
}

int systp_dispatcher_fd(const Compiled *c, int is_exit) {
  return c->sysdisp ? c->sysdisp->dispatcher[is_exit ? 1 : 0] : -1;
}

void systp_close(Compiled *c) {
  if (c->sysdisp)
    sysdisp_close(c->sysdisp);
}
