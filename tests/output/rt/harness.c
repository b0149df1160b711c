/* harness.c - map helpers and the case runner for the src/rt unit tests.
 *
 *   rt_test --list          NAME<TAB>MODE<TAB>PROGRAM, one case a line
 *   rt_test NAME            run one case, printing to stdout */
#include "harness.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static Compiled compiled;
Output out = {.c = &compiled};

/* ----------------------------------------------------------------- types */

Type *agg(TypeKind kind, bool is_signed) { return ty_agg(kind, is_signed); }

Type *lhist_type(int64_t min, int64_t max, int64_t step) {
  Type *t = ty_agg(TY_LHIST, true);
  t->lh_min = min;
  t->lh_max = max;
  t->lh_step = step;
  return t;
}

Type *tuple(int n, ...) {
  Type *f[16];
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    f[i] = va_arg(ap, Type *);
  va_end(ap);
  return ty_tuple(f, n);
}

Type *buf_type(int cap) {
  Type *t = ealloc(sizeof *t);
  t->kind = TY_BUF;
  t->size = 8 + cap;
  return t;
}

Type *ty8(TypeKind kind) {
  Type *t = ealloc(sizeof *t);
  t->kind = kind;
  t->size = 8;
  return t;
}

Type *timestamp_type(const char *fmt) {
  Type *t = ty8(TY_TIMESTAMP);
  t->fmt = fmt;
  return t;
}

/* Write one value of type t at p from the va_list (see harness.h). */
static void put(const Type *t, unsigned char *p, va_list *ap) {
  switch (t->kind) {
  case TY_TUPLE:
    memcpy(p, va_arg(*ap, const unsigned char *), t->size);
    break;
  case TY_STR: {
    const char *s = va_arg(*ap, const char *);
    memcpy(p, s, strnlen(s, t->size));
    break;
  }
  case TY_BUF: {
    const char *s = va_arg(*ap, const char *);
    uint64_t n = va_arg(*ap, int64_t);
    memcpy(p, &n, 8);
    memcpy(p + 8, s, n);
    break;
  }
  default: {
    /* Integers are stored sign- (or zero-) extended from their width. */
    int64_t v = va_arg(*ap, int64_t);
    if (t->kind == TY_INT)
      v = rt_int_value(t, &v);
    memcpy(p, &v, 8);
  }
  }
}

static void put_fields(const Type *t, unsigned char *p, va_list *ap) {
  if (t->kind != TY_TUPLE) {
    put(t, p, ap);
    return;
  }
  for (int i = 0; i < t->nfields; i++)
    put(t->fields[i], p + t->offsets[i], ap);
}

void pf(const char *fmt, Type *args, ...) {
  if (!args)
    args = ty_tuple(NULL, 0);
  unsigned char *p = ealloc(args->size + 8);
  va_list ap;
  va_start(ap, args);
  put_fields(args, p, &ap);
  va_end(ap);
  rt_emit_printf(&out, fmt, args, p);
}

unsigned char *value(const Type *t, ...) {
  unsigned char *p = ealloc(t->size + 8);
  va_list ap;
  va_start(ap, t);
  put_fields(t, p, &ap);
  va_end(ap);
  return p;
}

/* ------------------------------------------------------------------ maps */

static bool is_hist(const MapInfo *m) {
  return m->val->kind == TY_HIST || m->val->kind == TY_LHIST;
}

MapInfo *map_new(const char *name, Type *k, Type *val) {
  MapInfo *m = ealloc(sizeof *m);
  m->name = estrdup(name);
  m->key = k;
  m->nkeys = !k ? 0 : k->kind == TY_TUPLE ? k->nfields : 1;
  m->val = val;
  m->percpu = ty_is_agg(val);
  m->key_size = (k ? k->size : 8) + (is_hist(m) ? 8 : 0);
  m->val_size = is_hist(m) ? 8 : val->size;
  m->max_entries = 4096;
  m->id = compiled.nmaps;
  enum bpf_map_type type = m->percpu ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH;
  /* Like load.c: a hist map holds one element per (key, bucket). */
  int entries = m->max_entries * (is_hist(m) ? 8 : 1);
  m->fd = bpf_map_create(type, NULL, m->key_size, m->val_size, entries, NULL);
  if (m->fd < 0) {
    fprintf(stderr, "bpf_map_create(%s): %s\n", name, strerror(errno));
    exit(2);
  }
  MapInfo **maps = ealloc(sizeof *maps * (compiled.nmaps + 1));
  if (compiled.nmaps)
    memcpy(maps, compiled.maps, sizeof *maps * compiled.nmaps);
  maps[compiled.nmaps++] = m;
  compiled.maps = maps;
  return m;
}

unsigned char *key(MapInfo *m, ...) {
  unsigned char *p = ealloc(m->key_size + 8);
  if (!m->key)
    return p;
  va_list ap;
  va_start(ap, m);
  put_fields(m->key, p, &ap);
  va_end(ap);
  return p;
}

/* Read-modify-write one CPU's slot of a per-CPU element. */
static int next_cpu;

static void update(MapInfo *m, const void *ukey, uint64_t bucket,
                   void (*fn)(unsigned char *slot, int64_t v), int64_t v) {
  int ncpus = m->percpu ? rt_ncpus() : 1;
  int stride = (m->val_size + 7) & ~7;
  unsigned char k[512] = {0}, vals[4096] = {0};
  int ukey_size = m->key_size - (is_hist(m) ? 8 : 0);
  memcpy(k, ukey, ukey_size);
  if (is_hist(m))
    memcpy(k + ukey_size, &bucket, 8);
  if (bpf_map_lookup_elem(m->fd, k, vals) && errno != ENOENT) {
    perror("bpf_map_lookup_elem");
    exit(2);
  }
  int cpu = next_cpu++ % ncpus;
  fn(vals + cpu * stride, v);
  if (bpf_map_update_elem(m->fd, k, vals, BPF_ANY)) {
    perror("bpf_map_update_elem");
    exit(2);
  }
}

static void op_add(unsigned char *s, int64_t v) {
  int64_t x;
  memcpy(&x, s, 8);
  x += v;
  memcpy(s, &x, 8);
}

static void op_min_max(unsigned char *s, int64_t v, bool is_min) {
  int64_t x, valid;
  memcpy(&x, s, 8);
  memcpy(&valid, s + 8, 8);
  if (!valid || (is_min ? v < x : v > x))
    x = v;
  valid = 1;
  memcpy(s, &x, 8);
  memcpy(s + 8, &valid, 8);
}
static void op_min(unsigned char *s, int64_t v) { op_min_max(s, v, true); }
static void op_max(unsigned char *s, int64_t v) { op_min_max(s, v, false); }

static void op_avg(unsigned char *s, int64_t v) {
  op_add(s, v);
  op_add(s + 8, 1);
}

void count(MapInfo *m, const void *k, int times) {
  for (int i = 0; i < times; i++)
    update(m, k, 0, op_add, 1);
}
void sum(MapInfo *m, const void *k, int64_t v) { update(m, k, 0, op_add, v); }
void min_(MapInfo *m, const void *k, int64_t v) { update(m, k, 0, op_min, v); }
void max_(MapInfo *m, const void *k, int64_t v) { update(m, k, 0, op_max, v); }
void avg(MapInfo *m, const void *k, int64_t v) { update(m, k, 0, op_avg, v); }

/* The bucket index the code generator computes (etrace.h). */
static uint64_t bucket_of(const Type *t, int64_t v) {
  if (t->kind == TY_LHIST) {
    if (v < t->lh_min)
      return 0;
    if (v >= t->lh_max)
      return 1 + (t->lh_max - t->lh_min) / t->lh_step;
    return 1 + (v - t->lh_min) / t->lh_step;
  }
  if (v < 0)
    return 0;
  if (v == 0)
    return 1;
  int log2 = 63 - __builtin_clzll((uint64_t)v);
  return 2 + log2;
}

void hist(MapInfo *m, const void *k, int64_t v) {
  update(m, k, bucket_of(m->val, v), op_add, 1);
}

void set(MapInfo *m, const void *k, const void *val) {
  unsigned char kb[512] = {0};
  memcpy(kb, k, m->key_size);
  if (bpf_map_update_elem(m->fd, kb, val, BPF_ANY)) {
    perror("bpf_map_update_elem");
    exit(2);
  }
}

void probe_names(int n, ...) {
  va_list ap;
  va_start(ap, n);
  compiled.probe_names = ealloc(sizeof(char *) * n);
  for (int i = 0; i < n; i++)
    compiled.probe_names[i] = estrdup(va_arg(ap, const char *));
  va_end(ap);
  compiled.nprobe_names = n;
  rt_set_probe_names(compiled.probe_names, n);
}

void finish(void) { rt_print_all_maps(&out); }

/* ---------------------------------------------------------------- runner */

static const Case *const tables[] = {cases_maps, cases_hist, cases_printf, cases_values};

static const char *mode_name(Mode m) {
  static const char *names[] = {"text", "json", "check"};
  return names[m];
}

/* check cases: the first argument of the case's printf-like call. */
void check(const char *fmt, int n, ...) {
  Type *args[16];
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    args[i] = va_arg(ap, Type *);
  va_end(ap);
  const char *err = rt_printf_check(fmt, args, n);
  printf("%s\n", err ? err : "(ok)");
}

int main(int argc, char **argv) {
  types_init();
  out.f = stdout;
  bool list = argc > 1 && !strcmp(argv[1], "--list");
  if (argc < 2) {
    fprintf(stderr, "usage: %s --list | NAME\n", argv[0]);
    return 2;
  }
  for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
    for (const Case *c = tables[t]; c->name; c++) {
      if (list) {
        printf("%s\t%s\t%s\t%s\n", c->name, mode_name(c->mode),
               c->manual ? "manual" : "bpftrace", c->prog ? c->prog : "");
        continue;
      }
      if (strcmp(c->name, argv[1]))
        continue;
      out.format = c->mode == MODE_JSON ? OUT_JSON : OUT_TEXT;
      c->fn();
      fflush(stdout);
      return 0;
    }
  }
  if (list)
    return 0;
  fprintf(stderr, "no case %s\n", argv[1]);
  return 2;
}
