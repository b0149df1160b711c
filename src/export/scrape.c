/* scrape.c - one scrape: every exported map, then the exporter's own
 * metrics (see metrics.c for the mapping). */
#include "export/export.h"
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A stack key as folded frames, root first: "main;work;getppid". */
static void fold_stack(Buf *b, const Type *t, const unsigned char *data) {
  uint64_t v, ips[STACK_MAX_FRAMES];
  memcpy(&v, data, 8);
  int n = sym_stack_read(t->stack_limit, (int32_t)v, ips);
  int pid = (int)(v >> 32);
  for (int i = n - 1; i >= 0; i--) {
    const char *name, *module;
    uint64_t off;
    bool ok = t->stack_user ? sym_user(pid, ips[i], &name, &off, &module)
                            : sym_kernel(ips[i], &name, &off);
    if (i != n - 1)
      buf_put(b, ";", 1);
    if (ok)
      buf_put(b, name, strlen(name));
    else
      buf_printf(b, "0x%llx", (unsigned long long)ips[i]);
  }
}

/* The labels of one entry, their values in x->labels (reused). */
static int entry_labels(Exporter *x, const ExportMap *e, const MapEntry *me, PromLabel *l) {
  const MapInfo *m = e->m;
  const Type *k = m->key;
  x->labels.len = 0;
  size_t start[EXPORT_MAX_KEYS + 1];
  for (int i = 0; i < e->nlabels; i++) {
    const Type *t = k->kind == TY_TUPLE ? k->fields[i] : k;
    const unsigned char *data = me->key + (k->kind == TY_TUPLE ? k->offsets[i] : 0);
    start[i] = x->labels.len;
    if (t->kind == TY_STACK)
      fold_stack(&x->labels, t, data);
    else
      rt_format_value(&x->labels, t, data, OUT_TEXT);
  }
  start[e->nlabels] = x->labels.len;
  for (int i = 0; i < e->nlabels; i++)
    l[i] = (PromLabel){e->labels[i], x->labels.data ? x->labels.data + start[i] : "",
                       start[i + 1] - start[i]};
  return e->nlabels;
}

static int64_t average(const MapEntry *me) { return me->count ? me->sum / me->count : 0; }

static void num(char *out, const Type *v, uint64_t x) {
  if (v->is_signed)
    snprintf(out, 32, "%lld", (long long)x);
  else
    snprintf(out, 32, "%llu", (unsigned long long)x);
}

static const PromBound NO_LE;

/* ------------------------------------------------------------ histograms */

/* The inclusive upper bound of bucket i; false for the open top bucket. */
static bool bucket_le(const Type *v, int i, int n, int64_t *le) {
  if (v->kind == TY_LHIST) {
    if (i >= n - 1)
      return false;
    *le = v->lh_min + (int64_t)i * v->lh_step - 1;
    return true;
  }
  if (i == 0)
    *le = -1;
  else if (i == 1)
    *le = 0;
  else if (i - 1 <= 62)
    *le = (int64_t)((1ULL << (i - 1)) - 1);
  else
    return false;
  return true;
}

static int64_t hist_sum(Exporter *x, const ExportMap *e, const MapEntry *me) {
  if (!e->sum || bpf_map_lookup_elem(e->sum->fd, me->key, x->percpu))
    return 0;
  int64_t s = 0;
  for (int c = 0; c < rt_ncpus(); c++)
    s += (int64_t)x->percpu[c];
  return s;
}

static void write_hist(Exporter *x, ExportMap *e, PromFormat f, Buf *out, MapData *d) {
  for (int j = 0; j < d->n; j++)
    for (int i = 0; i < d->nbuckets; i++)
      if (d->e[j].buckets[i]) {
        if (e->lo < 0 || i < e->lo)
          e->lo = i;
        if (i > e->hi)
          e->hi = i;
      }
  PromLabel l[EXPORT_MAX_KEYS];
  char v[32];
  for (int j = 0; j < d->n; j++) {
    const MapEntry *me = &d->e[j];
    int nl = entry_labels(x, e, me, l);
    uint64_t cum = 0;
    for (int i = 0; i <= e->hi; i++) {
      cum += me->buckets[i];
      int64_t le;
      if (i < e->lo || !bucket_le(e->m->val, i, d->nbuckets, &le))
        continue;
      snprintf(v, sizeof v, "%llu", (unsigned long long)cum);
      prom_sample(out, f, e->family, "_bucket", l, nl, (PromBound){true, false, le}, v);
    }
    snprintf(v, sizeof v, "%llu", (unsigned long long)me->total);
    prom_sample(out, f, e->family, "_bucket", l, nl, (PromBound){true, true, 0}, v);
    snprintf(v, sizeof v, "%lld", (long long)hist_sum(x, e, me));
    prom_sample(out, f, e->family, "_sum", l, nl, NO_LE, v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)me->total);
    prom_sample(out, f, e->family, "_count", l, nl, NO_LE, v);
  }
}

/* ------------------------------------------------------------ one map */

static void write_stats(Exporter *x, const ExportMap *e, PromFormat f, Buf *out, MapData *d) {
  PromLabel l[EXPORT_MAX_KEYS];
  char v[32];
  for (int j = 0; j < d->n; j++) {
    int nl = entry_labels(x, e, &d->e[j], l);
    snprintf(v, sizeof v, "%lld", (long long)d->e[j].count);
    prom_sample(out, f, e->family, "_count", l, nl, NO_LE, v);
    snprintf(v, sizeof v, "%lld", (long long)d->e[j].sum);
    prom_sample(out, f, e->family, "_sum", l, nl, NO_LE, v);
  }
  const char *avg = e->avg_family;
  prom_family(out, f, avg, PROM_GAUGE, e->help);
  for (int j = 0; j < d->n; j++) {
    int nl = entry_labels(x, e, &d->e[j], l);
    snprintf(v, sizeof v, "%lld", (long long)average(&d->e[j]));
    prom_sample(out, f, avg, NULL, l, nl, NO_LE, v);
  }
}

static void write_map(Exporter *x, ExportMap *e, PromFormat f, Buf *out) {
  const Type *val = e->m->val;
  MapData d;
  if (rt_map_read(e->m, &d) < 0)
    return;
  PromType t = val->kind == TY_COUNT || val->kind == TY_SUM ? PROM_COUNTER
               : val->kind == TY_HIST || val->kind == TY_LHIST ? PROM_HISTOGRAM
               : val->kind == TY_STATS ? PROM_SUMMARY : PROM_GAUGE;
  prom_family(out, f, e->family, t, e->help);
  if (t == PROM_HISTOGRAM) {
    write_hist(x, e, f, out, &d);
  } else if (t == PROM_SUMMARY) {
    write_stats(x, e, f, out, &d);
  } else {
    const char *suffix = t == PROM_COUNTER ? "_total" : NULL;
    PromLabel l[EXPORT_MAX_KEYS];
    char v[32];
    if (d.n == 0 && e->m->nkeys <= 0 && t == PROM_COUNTER) /* cleared or never hit: 0 */
      prom_sample(out, f, e->family, suffix, NULL, 0, NO_LE, "0");
    for (int j = 0; j < d.n; j++) {
      const MapEntry *me = &d.e[j];
      int nl = entry_labels(x, e, me, l);
      if (val->kind == TY_AVG)
        snprintf(v, sizeof v, "%lld", (long long)average(me));
      else if (val->kind == TY_MIN || val->kind == TY_MAX)
        snprintf(v, sizeof v, "%lld", (long long)me->num);
      else if (val->kind == TY_INT)
        num(v, val, (uint64_t)rt_int_value(val, me->val));
      else
        num(v, val, me->num);
      prom_sample(out, f, e->family, suffix, l, nl, NO_LE, v);
    }
  }
  rt_map_data_free(&d);
}

/* ------------------------------------------------------------ self */

static bool bpf_stats_on(void) {
  FILE *fp = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
  int on = 0;
  if (fp) {
    if (fscanf(fp, "%d", &on) != 1)
      on = 0;
    fclose(fp);
  }
  return on > 0;
}

static int program_of(const Exporter *x, const Probe *pr) {
  for (int i = 0; i < x->nprogs; i++) {
    const Probe *p = x->progs[i].first;
    for (int j = 0; j < x->progs[i].nprobes && p; j++, p = p->next)
      if (p == pr)
        return i;
  }
  return 0;
}

static void run_time_sample(Exporter *x, PromFormat f, Buf *out, int k, int fd, const char *prog,
                            const char *probe) {
  static const char *const names[2] = {"etrace_program_run_seconds", "etrace_program_runs"};
  struct bpf_prog_info info = {0};
  uint32_t len = sizeof info;
  char v[32];
  if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
    return;
  PromLabel l[2] = {{"program", prog, strlen(prog)}, {"probe", probe, strlen(probe)}};
  if (k == 0)
    snprintf(v, sizeof v, "%.9f", info.run_time_ns / 1e9);
  else
    snprintf(v, sizeof v, "%llu", (unsigned long long)info.run_cnt);
  prom_sample(out, f, names[k], "_total", l, 2, NO_LE, v);
}

/* syscalls:* probes are tail-called from one dispatcher per direction
 * (providers/syscalls.c); the kernel accounts their time to it, so they
 * appear as one series, program="*", probe="syscalls:sys_enter_*". */
static void write_run_times(Exporter *x, PromFormat f, Buf *out) {
  static const char *const names[2] = {"etrace_program_run_seconds", "etrace_program_runs"};
  static const char *const helps[2] = {
      "Time the program's BPF code ran (kernel.bpf_stats_enabled=1 or --bpf-stats)",
      "Times the program's BPF code ran (kernel.bpf_stats_enabled=1 or --bpf-stats)"};
  for (int k = 0; k < 2; k++) {
    prom_family(out, f, names[k], PROM_COUNTER, helps[k]);
    for (int i = 0; i < x->c->ntargets; i++) {
      const Target *t = x->c->targets[i];
      if (!(t->caps & (PROBE_CAP_TAIL_CALLED | PROBE_CAP_IN_ETRACE)))
        run_time_sample(x, f, out, k, t->prog_fd, x->progs[program_of(x, t->probe)].name, t->name);
    }
    run_time_sample(x, f, out, k, systp_dispatcher_fd(x->c, 0), "*", "syscalls:sys_enter_*");
    run_time_sample(x, f, out, k, systp_dispatcher_fd(x->c, 1), "*", "syscalls:sys_exit_*");
  }
}

static void write_self(Exporter *x, PromFormat f, Buf *out, double t0) {
  char v[64];
  prom_family(out, f, "etrace_programs_loaded", PROM_GAUGE, "Programs this exporter runs");
  snprintf(v, sizeof v, "%d", x->nprogs);
  prom_sample(out, f, "etrace_programs_loaded", NULL, NULL, 0, NO_LE, v);
  prom_family(out, f, "etrace_events_lost", PROM_COUNTER,
              "Events the BPF programs could not record, by reason");
  static const char *const reasons[3] = {"ringbuf_full", "map_full", "stack_map_full"};
  uint64_t lost[3];
  rt_drops_read(x->drops_fd, lost, NULL, 0);
  for (int k = 0; k < 3; k++) {
    PromLabel l = {"reason", reasons[k], strlen(reasons[k])};
    snprintf(v, sizeof v, "%llu", (unsigned long long)lost[k]);
    prom_sample(out, f, "etrace_events_lost", "_total", &l, 1, NO_LE, v);
  }
  if (x->bpf_stats || bpf_stats_on())
    write_run_times(x, f, out);
  prom_family(out, f, "etrace_exporter_scrapes", PROM_COUNTER, "Scrapes served");
  snprintf(v, sizeof v, "%llu", (unsigned long long)x->scrapes);
  prom_sample(out, f, "etrace_exporter_scrapes", "_total", NULL, 0, NO_LE, v);
  prom_family(out, f, "etrace_exporter_scrape_duration_seconds", PROM_GAUGE,
              "Time this scrape took to read the maps and write them");
  snprintf(v, sizeof v, "%.6f", now_s() - t0);
  prom_sample(out, f, "etrace_exporter_scrape_duration_seconds", NULL, NULL, 0, NO_LE, v);
}

void export_scrape(Exporter *x, PromFormat f, Buf *out) {
  double t0 = now_s();
  x->scrapes++;
  rt_set_probe_names(x->c->probe_names, x->c->nprobe_names);
  for (int i = 0; i < x->nmaps; i++)
    if (!x->maps[i].skip)
      write_map(x, &x->maps[i], f, out);
  write_self(x, f, out, t0);
  prom_end(out, f);
  x->last_scrape_s = now_s() - t0;
}

/* ------------------------------------------------------------ index page */

static void html(Buf *b, const char *s) {
  for (; *s; s++) {
    if (*s == '<')
      buf_put(b, "&lt;", 4);
    else if (*s == '>')
      buf_put(b, "&gt;", 4);
    else if (*s == '&')
      buf_put(b, "&amp;", 5);
    else if (*s == '"')
      buf_put(b, "&quot;", 6);
    else
      buf_put(b, s, 1);
  }
}

void export_index_html(const Exporter *x, Buf *b) {
  buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>etrace exporter"
                "</title></head>\n<body><h1>etrace exporter</h1>\n<p><a href=\"/metrics\">"
                "/metrics</a> (no authentication: anyone who can reach this port reads it)</p>\n");
  for (int i = 0; i < x->nprogs; i++) {
    buf_printf(b, "<h2>");
    html(b, x->progs[i].name);
    buf_printf(b, "</h2>\n<table><tr><th>map</th><th>metric</th><th>labels</th></tr>\n");
    for (int j = 0; j < x->nmaps; j++) {
      const ExportMap *e = &x->maps[j];
      if (e->prog != i)
        continue;
      buf_printf(b, "<tr><td>");
      html(b, e->orig);
      buf_printf(b, "</td><td>");
      html(b, e->skip ? "(not exported: " : e->family);
      if (e->skip) {
        html(b, e->skip);
        buf_put(b, ")", 1);
      }
      buf_printf(b, "</td><td>");
      for (int k = 0; k < e->nlabels; k++) {
        if (k)
          buf_put(b, ", ", 2);
        html(b, e->labels[k]);
      }
      buf_printf(b, "</td></tr>\n");
    }
    buf_printf(b, "</table>\n");
  }
  buf_printf(b, "</body></html>\n");
}
