/* maps.c - print(@m, top, div), the maps printed at exit, clear(), zero().
 *
 * Output rules, checked against bpftrace 0.17 (tests/output/rt/expected/):
 *  - count/sum/min/max and integer-valued maps are sorted by value,
 *    ascending; avg/stats by average; hist/lhist by the sum of their
 *    buckets; every other map by key (integers unsigned, strings bytewise,
 *    multi-keys field by field).
 *  - Ties: 0.17 groups hist/lhist/avg/stats keys in a std::map, so equal
 *    values keep raw key byte order (little-endian: 256 before 1); for the
 *    other maps 0.17's order is the kernel's hash order, and we use the key
 *    order instead so output is deterministic.
 *  - top keeps the last `top` entries after sorting (ignored by stats);
 *    div divides printed values (ignored by stats and lhist; hist divides
 *    the counts but not the bars).
 *  - Text: one "@m[k]: v" line per entry, then one newline; hist/lhist
 *    print "@m[k]: " and the buckets, each histogram followed by a blank
 *    line; avg/stats end with a blank line.  An empty map prints only its
 *    trailing newline(s).
 *  - JSON: one line per map, {"type": "map"|"hist"|"stats", "data": ...};
 *    empty maps print nothing.
 *  - A scalar count() map always has a value in 0.17: "@c: 0" when the
 *    map is empty (never incremented, or cleared). */
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- order */

/* Keys as bpftrace's sort_by_key compares them. */
static int cmp_typed(const Type *t, const unsigned char *a, const unsigned char *b) {
  uint64_t x, y;
  switch (t->kind) {
  case TY_TUPLE:
    for (int i = 0; i < t->nfields; i++) {
      int c = cmp_typed(t->fields[i], a + t->offsets[i], b + t->offsets[i]);
      if (c)
        return c;
    }
    return 0;
  case TY_STR:
    return strncmp((const char *)a, (const char *)b, t->size);
  case TY_BUF:
    return memcmp(a, b, t->size);
  default:
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return x < y ? -1 : x > y;
  }
}

static const MapInfo *sort_map;
static int sort_ukey_size;

static int cmp_key(const MapEntry *a, const MapEntry *b) {
  if (sort_map->nkeys > 0 && sort_map->key) {
    int c = cmp_typed(sort_map->key, a->key, b->key);
    if (c)
      return c;
  }
  return memcmp(a->key, b->key, sort_ukey_size);
}

static int cmp_raw_key(const MapEntry *a, const MapEntry *b) {
  return memcmp(a->key, b->key, sort_ukey_size);
}

static int64_t average(const MapEntry *e) { return e->count ? e->sum / e->count : 0; }

#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y))

static int cmp_entries(const void *pa, const void *pb) {
  const MapEntry *a = pa, *b = pb;
  const Type *v = sort_map->val;
  int c;
  switch (v->kind) {
  case TY_COUNT:
    c = CMP(a->num, b->num);
    break;
  case TY_SUM:
    c = v->is_signed ? CMP((int64_t)a->num, (int64_t)b->num) : CMP(a->num, b->num);
    break;
  case TY_MIN: case TY_MAX:
    c = CMP((int64_t)a->num, (int64_t)b->num);
    break;
  case TY_INT: {
    int64_t x = rt_int_value(v, a->val), y = rt_int_value(v, b->val);
    c = v->is_signed ? CMP(x, y) : CMP((uint64_t)x, (uint64_t)y);
    break;
  }
  case TY_AVG: case TY_STATS:
    c = CMP(average(a), average(b));
    return c ? c : cmp_raw_key(a, b);
  case TY_HIST: case TY_LHIST:
    c = CMP(a->total, b->total);
    return c ? c : cmp_raw_key(a, b);
  default:
    c = 0;
  }
  return c ? c : cmp_key(a, b);
}

static void sort_entries(const MapInfo *m, MapEntry *e, int n, int ukey_size) {
  sort_map = m;
  sort_ukey_size = ukey_size;
  qsort(e, n, sizeof *e, cmp_entries);
}

/* ------------------------------------------------------------- printing */

static void key_text(Buf *b, const MapInfo *m, const MapEntry *e, const char *sep) {
  const Type *k = m->key;
  if (!k)
    return;
  rt_stack_indent = 4; /* bpftrace indents stacks in keys by 4 */
  if (k->kind != TY_TUPLE) {
    rt_format_key(b, k, e->key);
  } else {
    /* Multi-keys (and tuple keys) print without the tuple's parentheses. */
    for (int i = 0; i < k->nfields; i++) {
      if (i)
        buf_put(b, sep, strlen(sep));
      rt_format_key(b, k->fields[i], e->key + k->offsets[i]);
    }
  }
  rt_stack_indent = 8;
}

static void value_of(Buf *b, const MapInfo *m, const MapEntry *e, int64_t div, bool json) {
  const Type *v = m->val;
  switch (v->kind) {
  case TY_COUNT:
    buf_printf(b, "%llu", (unsigned long long)(e->num / (uint64_t)div));
    break;
  case TY_SUM:
    if (v->is_signed)
      buf_printf(b, "%lld", (long long)((int64_t)e->num / div));
    else
      buf_printf(b, "%llu", (unsigned long long)(e->num / (uint64_t)div));
    break;
  case TY_MIN: case TY_MAX:
    /* 0.17 prints min/max as signed whatever the argument's sign. */
    buf_printf(b, "%lld", (long long)((int64_t)e->num / div));
    break;
  case TY_AVG:
    buf_printf(b, "%lld", (long long)(average(e) / div));
    break;
  case TY_STATS:
    buf_printf(b, json ? "{\"count\": %lld, \"average\": %lld, \"total\": %lld}"
                       : "count %lld, average %lld, total %lld",
               (long long)e->count, (long long)average(e), (long long)e->sum);
    break;
  case TY_HIST:
    (json ? rt_hist_json : rt_hist_text)(b, e->buckets, HIST_BUCKETS, div);
    break;
  case TY_LHIST:
    (json ? rt_lhist_json : rt_lhist_text)(b, e->buckets, rt_lhist_buckets(v), v);
    break;
  case TY_INT: {
    int64_t x = rt_int_value(v, e->val);
    if (v->is_signed || v->is_ptr) /* bpftrace prints pointer values signed */
      buf_printf(b, "%lld", (long long)(x / div));
    else
      buf_printf(b, "%llu", (unsigned long long)((uint64_t)x / (uint64_t)div));
    break;
  }
  default:
    rt_format_value(b, v, e->val, json ? OUT_JSON : OUT_TEXT);
  }
}

static void print_text(Buf *b, const MapInfo *m, const MapEntry *e, int n, int64_t div) {
  TypeKind kind = m->val->kind;
  bool hist = kind == TY_HIST || kind == TY_LHIST;
  for (int i = 0; i < n; i++) {
    if (i)
      buf_put(b, "\n", 1);
    buf_put(b, m->name, strlen(m->name));
    if (m->nkeys > 0) {
      buf_put(b, "[", 1);
      key_text(b, m, &e[i], ", ");
      buf_put(b, "]", 1);
    }
    buf_put(b, ": ", 2);
    if (hist)
      buf_put(b, "\n", 1);
    value_of(b, m, &e[i], div, false);
  }
  buf_put(b, "\n", 1);
  if (kind == TY_AVG || kind == TY_STATS)
    buf_put(b, "\n", 1);
}

static void print_json(Buf *b, const MapInfo *m, const MapEntry *e, int n, int64_t div) {
  TypeKind kind = m->val->kind;
  if (n == 0)
    return;
  const char *type = kind == TY_HIST || kind == TY_LHIST ? "hist"
                     : kind == TY_AVG || kind == TY_STATS ? "stats" : "map";
  buf_printf(b, "{\"type\": \"%s\", \"data\": {", type);
  rt_json_string(b, m->name, strlen(m->name));
  buf_put(b, ": ", 2);
  if (m->nkeys > 0)
    buf_put(b, "{", 1);
  for (int i = 0; i < n; i++) {
    if (i)
      buf_put(b, ", ", 2);
    if (m->nkeys > 0) {
      Buf k = {0};
      key_text(&k, m, &e[i], ",");
      rt_json_string(b, k.data ? k.data : "", k.len);
      buf_free(&k);
      buf_put(b, ": ", 2);
    }
    value_of(b, m, &e[i], div, true);
  }
  if (m->nkeys > 0)
    buf_put(b, "}", 1);
  buf_put(b, "}}\n", 3);
}

int rt_print_map(Output *o, const MapInfo *m, int64_t top, int64_t div) {
  if (o->c)
    rt_set_probe_names(o->c->probe_names, o->c->nprobe_names);
  MapData d;
  int err = rt_map_read(m, &d);
  if (err)
    return err;
  static unsigned char zero_key[64];
  MapEntry zero = {.key = zero_key};
  MapEntry *e = d.e;
  int n = d.n;
  if (n == 0 && m->nkeys <= 0 && m->val->kind == TY_COUNT) {
    e = &zero;
    n = 1;
  }
  sort_entries(m, e, n, d.ukey_size);

  TypeKind kind = m->val->kind;
  if (kind == TY_STATS)
    top = div = 0;
  if (kind == TY_LHIST)
    div = 0;
  if (div <= 0)
    div = 1;
  int skip = top > 0 && n > top ? n - (int)top : 0;

  Buf b = {0};
  if (o->format == OUT_JSON)
    print_json(&b, m, e + skip, n - skip, div);
  else
    print_text(&b, m, e + skip, n - skip, div);
  if (b.len)
    fwrite(b.data, 1, b.len, o->f);
  buf_free(&b);
  rt_map_data_free(&d);
  return 0;
}

/* bpftrace keeps its maps in a std::map, so at exit they come out sorted
 * by name, not in order of first use. */
static int cmp_map_name(const void *a, const void *b) {
  const MapInfo *x = *(MapInfo *const *)a, *y = *(MapInfo *const *)b;
  return strcmp(x->name, y->name);
}

static void print_all_maps(Output *o, bool at_exit) {
  if (o->no_exit_maps)
    return;
  /* bpftrace always prints two newlines before the exit-time maps, even
   * when there are none (in JSON mode too); not before SIGUSR1's. */
  if (at_exit)
    fputs("\n\n", o->f);
  const Compiled *c = o->c;
  if (!c || c->nmaps <= 0) {
    fflush(o->f);
    return;
  }
  MapInfo **maps = malloc(sizeof *maps * c->nmaps);
  int n = 0;
  for (int i = 0; maps && i < c->nmaps; i++)
    if (c->maps[i] && c->maps[i]->name && c->maps[i]->name[0] == '@')
      maps[n++] = c->maps[i];
  if (maps) {
    qsort(maps, n, sizeof *maps, cmp_map_name);
    for (int i = 0; i < n; i++)
      rt_print_map(o, maps[i], 0, 0);
  }
  free(maps);
  fflush(o->f);
}

void rt_print_all_maps(Output *o) { print_all_maps(o, true); }

void rt_print_maps_now(Output *o) { print_all_maps(o, false); }

/* --------------------------------------------------------- clear, zero */

int rt_clear_map(const MapInfo *m) {
  if (m->array) { /* an array slot cannot be deleted: zero it, not a key again */
    ((MapInfo *)m)->array_live = false;
    int err = rt_zero_map(m);
    /* bpftrace prints a cleared count() as @x: 0 (zero's read above kept
     * it a key) but no cleared histogram */
    if (m->val->kind == TY_HIST || m->val->kind == TY_LHIST)
      ((MapInfo *)m)->array_live = false;
    return err;
  }
  unsigned char *keys;
  int n, err = rt_map_keys(m, &keys, &n);
  if (err)
    return err;
  int ksize = rt_map_key_size(m);
  for (int i = 0; i < n && !err; i++)
    if (bpf_map_delete_elem(m->fd, keys + (size_t)i * ksize) && errno != ENOENT)
      err = -errno;
  free(keys);
  return err;
}

int rt_zero_map(const MapInfo *m) {
  if (m->array && !m->array_live) { /* a slot that counted is kept as @x: 0 */
    MapData d;
    if (!rt_map_read(m, &d))
      rt_map_data_free(&d);
  }
  unsigned char *keys;
  int n, err = rt_map_keys(m, &keys, &n);
  if (err)
    return err;
  int ksize = rt_map_key_size(m);
  size_t total = (size_t)((rt_map_val_size(m) + 7) & ~7) * (m->percpu ? rt_ncpus() : 1);
  void *zeros = calloc(1, total ? total : 8);
  if (!zeros)
    err = -ENOMEM;
  for (int i = 0; i < n && !err; i++)
    if (bpf_map_update_elem(m->fd, keys + (size_t)i * ksize, zeros, BPF_EXIST) &&
        errno != ENOENT)
      err = -errno;
  free(zeros);
  free(keys);
  return err;
}
