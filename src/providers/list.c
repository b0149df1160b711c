/* list.c - `etrace -l [GLOB]` and `-lv`: asks every provider through the
 * registry.  Each comma-separated glob's matches are sorted with strcmp
 * and printed in turn, as bpftrace does.  With a program (-l -e PROG),
 * the probes it would attach instead.
 */
#include "providers/provider.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct Listing {
  char **names;
  int n, cap;
} Listing;

static void listing_add(void *arg, char *name) {
  Listing *l = arg;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    char **nv = ealloc(l->cap * sizeof *nv);
    if (l->n)
      memcpy(nv, l->names, l->n * sizeof *nv);
    l->names = nv;
  }
  l->names[l->n++] = name;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "PROVIDER:..." goes to that provider; a glob naming none ("*",
 * "*:sched_*") to every provider, which matches its full names. */
static int list_one(Listing *l, const char *glob, int pid) {
  const char *colon = strchr(glob, ':');
  const Provider *p = colon ? provider_find(glob, colon - glob) : NULL;
  ListQuery q = {.glob = glob, .add = listing_add, .arg = l, .pid = pid};
  if (p) {
    q.prefix = estrndup(glob, colon - glob);
    q.rest = colon + 1;
    return p->list && p->list(&q) < 0 ? -EINVAL : 0;
  }
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->list && providers[i]->list(&q) < 0)
      return -EINVAL;
  return 0;
}

static void print_verbose(FILE *f, const char *name) {
  const char *colon = strchr(name, ':');
  const Provider *p = colon ? provider_find(name, colon - name) : NULL;
  if (p && p->list_verbose)
    p->list_verbose(f, name);
}

int prov_list(FILE *f, const char *glob, bool verbose, int pid) {
  if (glob) {
    int types = btf_list_types(f, glob, verbose);
    if (types)
      return types < 0 ? -EINVAL : 0;
  }
  if (!tracefs_root(false)) {
    int err = errno;
    diag_fatal("cannot find or mount tracefs: %s", strerror(err));
    return -err;
  }
  if ((!glob || !*glob) && pid > 0)
    glob = "uprobe:*,usdt:*"; /* -l -p PID: the process's own probes */
  else if (!glob || !*glob)
    glob = "*";
  char *all = estrdup(glob);
  for (char *save = NULL, *one = strtok_r(all, ",", &save); one;
       one = strtok_r(NULL, ",", &save)) {
    Listing l = {0};
    int err = list_one(&l, one, pid);
    if (err < 0)
      return err;
    qsort(l.names, l.n, sizeof *l.names, cmp_str);
    for (int i = 0; i < l.n; i++) {
      if (i > 0 && !strcmp(l.names[i - 1], l.names[i]))
        continue;
      fprintf(f, "%s\n", l.names[i]);
      if (verbose)
        print_verbose(f, l.names[i]);
    }
  }
  return 0;
}

void prov_list_targets(FILE *f, const Compiled *c, bool verbose) {
  for (int i = 0; i < c->ntargets; i++) {
    const char *name = c->targets[i]->name;
    if (c->targets[i]->helper)
      continue; /* part of another target (a watchpoint's setup uprobe) */
    bool seen = false; /* one probe may name a target twice (BEGIN,BEGIN) */
    for (int j = 0; j < i && !seen; j++)
      seen = !strcmp(c->targets[j]->name, name);
    if (seen)
      continue;
    fprintf(f, "%s\n", name);
    if (verbose)
      print_verbose(f, name);
  }
}
