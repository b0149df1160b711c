/* registry.c - every provider.  The once-per-program hooks (check_program,
 * finish, loaded, attach_program) run in this order.
 * Adding a provider is one line here (and its file). */
#include "providers/provider.h"

#include <string.h>

/* One line per provider (each line ends with a backslash). */
#define PROVIDERS(X)        \
  X(provider_begin_end)     \
  X(provider_tracepoint)    \
  X(provider_syscalls)      \
  X(provider_rawtracepoint) \
  X(provider_interval)      \
  X(provider_uprobe)        \
  X(provider_kprobe)        \
  X(provider_perf)          \
  X(provider_watchpoint)    \
  X(provider_watchpoint_setup) \
  X(provider_iter)          \
  /* end of the list */

#define DECLARE(p) extern const Provider p;
PROVIDERS(DECLARE)

#define ENTRY(p) &p,
const Provider *const providers[] = {PROVIDERS(ENTRY)};
const int nproviders = sizeof providers / sizeof providers[0];

static bool name_is(const char *want, const char *name, size_t len) {
  return strlen(want) == len && !strncmp(want, name, len);
}

const Provider *provider_find(const char *name, size_t len) {
  for (int i = 0; i < nproviders; i++) {
    const Provider *p = providers[i];
    if (!p->expand)
      continue; /* not written in programs (the syscall dispatcher) */
    if (name_is(p->name, name, len))
      return p;
    for (const char *const *a = p->aliases; a && *a; a++)
      if (name_is(*a, name, len))
        return p;
  }
  return NULL;
}
