/* metrics.c - user maps as Prometheus families, written at each scrape.
 *
 *   count(), sum()           counter  NAME_total
 *   min(), max(), avg(), =   gauge    NAME
 *   stats()                  summary  NAME_count, NAME_sum; gauge NAME_avg
 *   hist(), lhist()          histogram NAME_bucket{le}, NAME_sum, NAME_count
 * Bounds are inclusive integers: hist's bucket [2^k, 2^(k+1)) is
 * le="2^(k+1)-1", lhist's [a, a+step) is le="a+step-1", v < 0 is le="-1".
 * Strings and other non-numeric values are not exported (a note at
 * start).  Values are read at scrape time, per-CPU slots merged
 * (mapread.c); the scratch buffers are reused, so scrapes do not grow
 * memory. */
#include "export/export.h"
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ building */

/* The key's fields as an array (a single key is a one-field tuple). */
static int key_fields(const MapInfo *m, const Type **f, int *off) {
  const Type *k = m->key;
  if (!k || m->nkeys <= 0)
    return 0;
  if (k->kind != TY_TUPLE) {
    f[0] = k;
    off[0] = 0;
    return 1;
  }
  int n = k->nfields < EXPORT_MAX_KEYS ? k->nfields : EXPORT_MAX_KEYS;
  for (int i = 0; i < n; i++) {
    f[i] = k->fields[i];
    off[i] = k->offsets[i];
  }
  return n;
}

static const char *why_not_numeric(const Type *v) {
  switch (v->kind) {
  case TY_COUNT: case TY_SUM: case TY_MIN: case TY_MAX: case TY_AVG: case TY_STATS:
  case TY_HIST: case TY_LHIST: case TY_INT:
    return NULL;
  default:
    return "its values are not numbers";
  }
}

/* Label names from the defining key expressions; keyN when unnamed,
 * taken, or reserved by Prometheus (le, quantile). */
static void name_labels(ExportMap *e, const Node *def, int nfields) {
  const Node *keys[EXPORT_MAX_KEYS] = {0};
  const Node *k = def ? def->args : NULL;
  if (k && def->nargs == 1 && k->kind == ND_TUPLE)
    k = k->args;
  for (int i = 0; i < nfields && k; i++, k = k->next)
    keys[i] = k;
  for (int i = 0; i < nfields; i++) {
    const char *name = keys[i] ? export_label_name(keys[i]) : NULL;
    for (int j = 0; name && j < i; j++)
      if (!strcmp(e->labels[j], name))
        name = NULL;
    if (!name || !strcmp(name, "le") || !strcmp(name, "quantile"))
      name = eprintf("key%d", i);
    e->labels[i] = name;
  }
  e->nlabels = nfields;
}

/* "FILE:LINE: the line, trimmed" */
static char *help_line(const ExportProgram *p, Loc loc) {
  const char *t = p->src.shown ? p->src.shown : p->src.text;
  for (int line = 1; t && line < loc.line; line++) {
    t = strchr(t, '\n');
    if (t)
      t++;
  }
  if (!t)
    return eprintf("%s", p->name);
  while (*t == ' ' || *t == '\t')
    t++;
  size_t n = strcspn(t, "\n");
  while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r'))
    n--;
  if (n > 200)
    n = 200;
  return eprintf("%s:%d: %.*s", p->name, loc.line, (int)n, t);
}

/* "@name" -> PREFIX_name; "@" -> PREFIX_<file stem> or PREFIX_value */
static char *family_name(const Exporter *x, const ExportProgram *p, const char *orig) {
  if (orig[1])
    return eprintf("%s_%s", x->prefix, orig + 1);
  if (strcmp(p->name, "-e")) {
    const char *base = strrchr(p->name, '/');
    base = base ? base + 1 : p->name;
    size_t n = strcspn(base, ".");
    char *stem = eprintf("%s_%.*s", x->prefix, (int)n, base);
    for (char *s = stem; *s; s++)
      if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
        *s = '_';
    if (prom_valid_metric_name(stem))
      return stem;
  }
  return eprintf("%s_value", x->prefix);
}

static const ExportName *lookup(const Exporter *x, const char *internal) {
  for (int i = 0; i < x->nnames; i++)
    if (!strcmp(x->names[i].internal, internal))
      return &x->names[i];
  return NULL;
}

static const MapInfo *find_map(const Compiled *c, const char *name) {
  for (int i = 0; i < c->nmaps; i++)
    if (c->maps[i]->name && !strcmp(c->maps[i]->name, name))
      return c->maps[i];
  return NULL;
}

static bool clashes(const ExportMap *a, const ExportMap *b) {
  return !strcmp(a->family, b->family);
}

/* The exporter's own families (scrape.c) */
static bool reserved(const char *family) {
  return !strcmp(family, "etrace_programs_loaded") || !strcmp(family, "etrace_events_lost") ||
         !strncmp(family, "etrace_program_run", 18) || !strncmp(family, "etrace_exporter_", 16);
}

static int add_map(Exporter *x, MapInfo *m) {
  const ExportName *n = lookup(x, m->name);
  if (!n || n->is_sum)
    return 0;
  const ExportProgram *p = &x->progs[n->prog];
  ExportMap e = {.m = m, .prog = n->prog, .orig = n->orig, .lo = -1, .hi = -1};
  e.family = family_name(x, p, n->orig);
  /* @requests_total = count(): samples etrace_requests_total, not _total_total */
  size_t flen = strlen(e.family);
  if ((m->val->kind == TY_COUNT || m->val->kind == TY_SUM) && flen > 6 &&
      !strcmp(e.family + flen - 6, "_total"))
    e.family[flen - 6] = 0;
  e.avg_family = eprintf("%s_avg", e.family);
  const Node *def = export_defining_node(p->prog, m->name);
  e.help = help_line(p, def ? def->loc : m->loc);
  const Type *f[EXPORT_MAX_KEYS];
  int off[EXPORT_MAX_KEYS];
  int nf = key_fields(m, f, off);
  name_labels(&e, def, nf);
  e.skip = why_not_numeric(m->val);
  for (int i = 0; i < nf && !e.skip; i++)
    if (f[i]->kind == TY_STACK && !x->stacks)
      e.skip = "its key holds a stack (export it as a folded `stack` label with --stacks)";
  if (m->val->kind == TY_HIST || m->val->kind == TY_LHIST)
    e.sum = find_map(x->c, eprintf("%s__etrace_sum", m->name));
  if (!e.skip && !prom_valid_metric_name(e.family))
    e.skip = "its name is not a valid Prometheus metric name";
  if (e.skip) {
    fprintf(stderr, "etrace exporter: %s: %s is not exported: %s\n", p->name, n->orig, e.skip);
  } else if (reserved(e.family)) {
    diag_fatal("metric %s of %s in %s is one of the exporter's own metrics: rename the map or "
               "use --prefix", e.family, n->orig, p->name);
    return -1;
  } else {
    for (int i = 0; i < x->nmaps; i++) {
      if (!x->maps[i].skip && clashes(&x->maps[i], &e)) {
        const ExportMap *o = &x->maps[i];
        diag_fatal("metric %s of %s in %s clashes with %s in %s: rename one of the maps or "
                   "use --prefix", e.family, n->orig, p->name, o->orig, x->progs[o->prog].name);
        return -1;
      }
    }
  }
  x->maps = egrow(x->maps, x->nmaps, sizeof *x->maps);
  x->maps[x->nmaps++] = e;
  return 0;
}

int export_build(Exporter *x) {
  x->percpu = calloc(rt_ncpus(), 8);
  for (int i = 0; i < x->c->nmaps; i++) {
    MapInfo *m = x->c->maps[i];
    if (m->name && m->name[0] == '@' && add_map(x, m) < 0)
      return -1;
  }
  return 0;
}
