/* mapread.c - read a map from the kernel and merge per-CPU values.
 *
 * Stored layouts (written by the code generator, see etrace.h):
 *   count, sum        u64 per CPU                       -> added
 *   min, max          {s64 value; u64 valid} per CPU    -> min/max of valid
 *   avg, stats        {s64 sum; u64 count} per CPU      -> both added
 *   hist, lhist       u64 count per CPU, one element per (key, bucket)
 *   anything else     a plain value of val_size bytes
 * Per-CPU lookups return one value per possible CPU, each rounded up to 8
 * bytes. */
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rt_ncpus(void) {
  static int n;
  if (!n) {
    n = libbpf_num_possible_cpus();
    if (n <= 0)
      n = 1;
  }
  return n;
}

static bool is_hist(const MapInfo *m) {
  return m->val->kind == TY_HIST || m->val->kind == TY_LHIST;
}

int rt_map_key_size(const MapInfo *m) {
  if (m->key_size > 0)
    return m->key_size;
  int size = m->nkeys && m->key ? m->key->size : 8;
  return is_hist(m) ? size + 8 : size;
}

int rt_map_val_size(const MapInfo *m) {
  if (m->val_size > 0)
    return m->val_size;
  return is_hist(m) ? 8 : m->val->size;
}

int rt_map_keys(const MapInfo *m, unsigned char **keysp, int *np) {
  int ksize = rt_map_key_size(m);
  /* A key deleted while we walk makes get_next_key restart from the
   * first key; the cap keeps that from looping forever.  It must stay
   * above the kernel map's size, which for hist maps is a multiple of
   * max_entries (one element per key and bucket). */
  long cap = (long)(m->max_entries > 0 ? m->max_entries : 4096) * (HIST_BUCKETS + 1);
  int n = 0, alloc = 16;
  unsigned char *keys = malloc((size_t)alloc * ksize);
  if (!keys)
    return -ENOMEM;
  while (n < cap) {
    if (n == alloc) {
      alloc *= 2;
      unsigned char *k = realloc(keys, (size_t)alloc * ksize);
      if (!k) {
        free(keys);
        return -ENOMEM;
      }
      keys = k;
    }
    /* the previous key by index: realloc may have moved keys */
    unsigned char *next = keys + (size_t)n * ksize, *prev = n ? next - ksize : NULL;
    if (bpf_map_get_next_key(m->fd, prev, next)) {
      int err = errno;
      if (err == ENOENT)
        break;
      free(keys);
      return -err;
    }
    n++;
  }
  *keysp = keys;
  *np = n;
  return 0;
}

/* Merge one element's per-CPU values into e. */
static void merge(const MapInfo *m, MapEntry *e, const unsigned char *v, int nvals, int stride) {
  TypeKind kind = m->val->kind;
  bool sign = m->val->is_signed;
  bool have = false;
  for (int c = 0; c < nvals; c++) {
    const unsigned char *p = v + (size_t)c * stride;
    uint64_t a, b;
    memcpy(&a, p, 8);
    switch (kind) {
    case TY_COUNT: case TY_SUM: case TY_HIST: case TY_LHIST:
      e->num += a;
      break;
    case TY_MIN: case TY_MAX: {
      memcpy(&b, p + 8, 8);
      if (!b)
        break;
      bool less = sign ? (int64_t)a < (int64_t)e->num : a < e->num;
      bool greater = sign ? (int64_t)a > (int64_t)e->num : a > e->num;
      if (!have || (kind == TY_MIN ? less : greater))
        e->num = a;
      have = true;
      break;
    }
    case TY_AVG: case TY_STATS:
      memcpy(&b, p + 8, 8);
      e->sum += (int64_t)a;
      e->count += (int64_t)b;
      break;
    default:
      return;  /* plain values are copied by the caller */
    }
  }
}

typedef struct Raw {
  unsigned char *key;
  uint64_t bucket, count;
} Raw;

static int raw_ukey_size;
static int cmp_raw(const void *a, const void *b) {
  const Raw *x = a, *y = b;
  return memcmp(x->key, y->key, raw_ukey_size);
}

/* hist/lhist: one stored element per (key, bucket); group them by key. */
static int group_buckets(const MapInfo *m, MapData *d, Raw *raw, int n) {
  d->nbuckets = m->val->kind == TY_HIST ? HIST_BUCKETS : rt_lhist_buckets(m->val);
  raw_ukey_size = d->ukey_size;
  qsort(raw, n, sizeof *raw, cmp_raw);
  int groups = 0;
  for (int i = 0; i < n; i++)
    if (i == 0 || memcmp(raw[i].key, raw[i - 1].key, d->ukey_size))
      groups++;
  d->e = calloc(groups ? groups : 1, sizeof *d->e);
  d->buckets = calloc((size_t)(groups ? groups : 1) * d->nbuckets, 8);
  if (!d->e || !d->buckets)
    return -ENOMEM;
  MapEntry *e = NULL;
  for (int i = 0; i < n; i++) {
    if (!e || memcmp(raw[i].key, e->key, d->ukey_size)) {
      e = &d->e[d->n];
      e->key = raw[i].key;
      e->buckets = d->buckets + (size_t)d->n * d->nbuckets;
      d->n++;
    }
    if (raw[i].bucket < (uint64_t)d->nbuckets) {
      e->buckets[raw[i].bucket] += raw[i].count;
      e->total += raw[i].count;
    }
  }
  return 0;
}

/* Keys and values of every element through BPF_MAP_LOOKUP_BATCH, a chunk
 * of elements a call instead of two system calls an element.  Returns
 * the element count, or -errno (-EINVAL, -ENOTSUPP ...: the caller walks
 * the keys instead).  The buffers are zeroed first: valgrind does not
 * know what the kernel writes into them. */
#define BATCH_CHUNK 1024
static int read_batch(const MapInfo *m, int ksize, size_t vsize_all, unsigned char **keysp,
                      unsigned char **valsp) {
  int alloc = BATCH_CHUNK, n = 0;
  unsigned char *keys = calloc(alloc, ksize), *vals = calloc(alloc, vsize_all);
  uint64_t in = 0, out = 0;
  bool first = true;
  int err = 0;
  while (keys && vals) {
    if (n + BATCH_CHUNK > alloc) {
      unsigned char *k = realloc(keys, (size_t)alloc * 2 * ksize);
      unsigned char *v = k ? realloc(vals, (size_t)alloc * 2 * vsize_all) : NULL;
      if (k)
        keys = k;
      if (!v)
        break;
      vals = v;
      memset(keys + (size_t)alloc * ksize, 0, (size_t)alloc * ksize);
      memset(vals + (size_t)alloc * vsize_all, 0, (size_t)alloc * vsize_all);
      alloc *= 2;
    }
    uint32_t count = BATCH_CHUNK;
    int rc = bpf_map_lookup_batch(m->fd, first ? NULL : &in, &out, keys + (size_t)n * ksize,
                                  vals + (size_t)n * vsize_all, &count, NULL);
    err = rc ? -errno : 0;
    n += count;
    first = false;
    in = out;
    if (err == -ENOENT) { /* the end (count may be non-zero) */
      *keysp = keys;
      *valsp = vals;
      return n;
    }
    if (err)
      break;
  }
  free(keys);
  free(vals);
  return err ? err : -ENOMEM;
}

/* Every element's key and (per-CPU) value: batched when the kernel can,
 * else the keys walked and each looked up. */
static int read_elements(const MapInfo *m, int ksize, size_t vsize_all, unsigned char **keys,
                         unsigned char **vals) {
  int n = read_batch(m, ksize, vsize_all, keys, vals);
  if (n >= 0 || n == -ENOMEM)
    return n;
  int err = rt_map_keys(m, keys, &n);
  if (err)
    return err;
  *vals = calloc(n ? n : 1, vsize_all);
  if (!*vals) {
    free(*keys);
    return -ENOMEM;
  }
  int kept = 0;
  for (int i = 0; i < n; i++) {
    unsigned char *key = *keys + (size_t)i * ksize;
    if (bpf_map_lookup_elem(m->fd, key, *vals + (size_t)kept * vsize_all)) {
      if (errno == ENOENT)
        continue; /* deleted by a probe since we listed it */
      free(*keys);
      free(*vals);
      return -errno;
    }
    memmove(*keys + (size_t)kept * ksize, key, ksize);
    kept++;
  }
  return kept;
}

int rt_map_read(const MapInfo *m, MapData *d) {
  memset(d, 0, sizeof *d);
  int ksize = rt_map_key_size(m);
  bool hist = is_hist(m);
  d->ukey_size = hist ? ksize - 8 : ksize;
  if (d->ukey_size < 0)
    d->ukey_size = 0;

  int vsize = rt_map_val_size(m);
  int stride = (vsize + 7) & ~7;
  int nvals = m->percpu ? rt_ncpus() : 1;
  unsigned char *allvals = NULL;
  int n = read_elements(m, ksize, (size_t)nvals * stride, &d->keys, &allvals);
  if (n < 0)
    return n;
  int err = 0;
  d->vals = malloc((size_t)(n ? n : 1) * stride);
  Raw *raw = hist ? calloc(n ? n : 1, sizeof *raw) : NULL;
  if (!hist)
    d->e = calloc(n ? n : 1, sizeof *d->e);
  if (!d->vals || (hist ? !raw : !d->e)) {
    err = -ENOMEM;
    goto out;
  }

  int nraw = 0;
  for (int i = 0; i < n; i++) {
    unsigned char *key = d->keys + (size_t)i * ksize;
    const unsigned char *vbuf = allvals + (size_t)i * nvals * stride;
    MapEntry tmp = {0};
    merge(m, &tmp, vbuf, nvals, stride);
    if (m->array && hist) { /* key: the bucket; an empty one is no key */
      uint32_t bucket;
      memcpy(&bucket, key, 4);
      if (tmp.num)
        ((MapInfo *)m)->array_live = true;
      /* once it counted, a zeroed histogram is still a key (@h: with no
       * bucket, as a zeroed hash map prints): one empty bucket keeps it */
      if (tmp.num || (i == n - 1 && nraw == 0 && m->array_live))
        raw[nraw++] = (Raw){key, bucket, tmp.num};
      continue;
    }
    if (m->array) { /* the one slot is a key once it counted something */
      if (tmp.num)
        ((MapInfo *)m)->array_live = true;
      if (!m->array_live)
        continue;
    }
    if (hist) {
      uint64_t bucket;
      memcpy(&bucket, key + ksize - 8, 8);
      raw[nraw++] = (Raw){key, bucket, tmp.num};
      continue;
    }
    MapEntry *e = &d->e[d->n];
    *e = tmp;
    e->key = key;
    e->val = d->vals + (size_t)d->n * stride;
    memcpy(e->val, vbuf, vsize);
    d->n++;
  }
  if (hist)
    err = group_buckets(m, d, raw, nraw);
out:
  free(allvals);
  free(raw);
  if (err)
    rt_map_data_free(d);
  return err;
}

void rt_map_data_free(MapData *d) {
  free(d->e);
  free(d->keys);
  free(d->vals);
  free(d->buckets);
  memset(d, 0, sizeof *d);
}
