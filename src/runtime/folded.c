/* folded.c - folded stacks from a stack-keyed count map, for flame graphs.
 *
 * Brendan Gregg's folded format: one line per distinct call path,
 * "comm;root;...;leaf COUNT", frames named by function (no offsets) so
 * that samples at different offsets of one function merge.  The map's key
 * may hold a kstack, a ustack or both, and optionally a comm string (the
 * first string field) and other fields (a pid, ignored).  With both
 * stacks, the kernel frames follow the user frames (the kernel runs on
 * behalf of the user code below it).  A frame without a symbol is
 * "[MODULE]" (the base name of the file it is mapped from) or "[unknown]",
 * so that such frames merge into one box instead of one per address;
 * kernel frames get kernel_suffix appended when it is not NULL (flame.h's
 * "_[k]" convention).  Lines come out
 * sorted, duplicates merged.
 */
#include "runtime/rt.h"
#include "base/progress.h"

#include <stdlib.h>
#include <string.h>

typedef struct Line {
  char *text;
  uint64_t count;
} Line;

static int cmp_line(const void *a, const void *b) {
  return strcmp(((const Line *)a)->text, ((const Line *)b)->text);
}

/* Append the frames of one stack value, root first. */
static void put_frames(Buf *b, const Type *t, const unsigned char *data, const char *ksuffix) {
  uint64_t v, ips[STACK_MAX_FRAMES];
  memcpy(&v, data, 8);
  int n = sym_stack_read(t->stack_limit, (int32_t)v, ips);
  int pid = (int)(v >> 32);
  for (int i = n - 1; i >= 0; i--) {
    const char *name, *module = NULL;
    uint64_t off;
    bool ok = t->stack_user ? sym_user(pid, ips[i], &name, &off, &module)
                            : sym_kernel(ips[i], &name, &off);
    if (b->len)
      buf_put(b, ";", 1);
    if (ok)
      buf_put(b, name, strlen(name));
    else if (t->stack_user && module)
      buf_printf(b, "[%s]", strrchr(module, '/') ? strrchr(module, '/') + 1 : module);
    else
      buf_put(b, "[unknown]", 9);
    if (!t->stack_user && ksuffix)
      buf_put(b, ksuffix, strlen(ksuffix));
  }
}

/* The key's fields as an array (a single key is a one-field tuple). */
static int key_fields(const MapInfo *m, const Type **f, int *off, int max) {
  const Type *k = m->key;
  if (!k)
    return 0;
  if (k->kind != TY_TUPLE) {
    f[0] = k;
    off[0] = 0;
    return 1;
  }
  int n = k->nfields < max ? k->nfields : max;
  for (int i = 0; i < n; i++) {
    f[i] = k->fields[i];
    off[i] = k->offsets[i];
  }
  return n;
}

int rt_folded_stacks(const MapInfo *m, Buf *out, const char *kernel_suffix) {
  const Type *f[16];
  int off[16];
  int nf = key_fields(m, f, off, 16);
  int comm = -1, ust = -1, kst = -1;
  for (int i = 0; i < nf; i++) {
    if (f[i]->kind == TY_STR && comm < 0)
      comm = i;
    else if (f[i]->kind == TY_STACK && f[i]->stack_user && ust < 0)
      ust = i;
    else if (f[i]->kind == TY_STACK && !f[i]->stack_user && kst < 0)
      kst = i;
  }
  TypeKind vk = m->val ? m->val->kind : TY_NONE;
  if ((ust < 0 && kst < 0) || (vk != TY_COUNT && vk != TY_SUM && vk != TY_INT))
    return -22; /* -EINVAL: not a stack-keyed count/sum map */
  MapData d;
  int err = rt_map_read(m, &d);
  if (err)
    return err;
  Line *lines = calloc(d.n ? d.n : 1, sizeof(Line));
  Progress pr;
  progress_begin(&pr, "symbolising", "stacks", d.n);
  for (int i = 0; i < d.n; i++) {
    const unsigned char *key = d.e[i].key;
    progress_step(&pr, i);
    Buf b = {0};
    if (comm >= 0)
      buf_put(&b, key + off[comm], strnlen((const char *)key + off[comm], f[comm]->size));
    if (ust >= 0)
      put_frames(&b, f[ust], key + off[ust], NULL);
    if (kst >= 0)
      put_frames(&b, f[kst], key + off[kst], kernel_suffix);
    buf_put(&b, "", 1);
    lines[i].text = b.data;
    if (vk == TY_INT)
      lines[i].count = (uint64_t)rt_int_value(m->val, d.e[i].val);
    else
      lines[i].count = d.e[i].num;
  }
  progress_end(&pr);
  qsort(lines, d.n, sizeof(Line), cmp_line);
  int nout = 0;
  for (int i = 0; i < d.n;) {
    uint64_t total = 0;
    int j = i;
    for (; j < d.n && !strcmp(lines[j].text, lines[i].text); j++)
      total += lines[j].count;
    if (lines[i].text[0]) { /* no comm and no frames: nothing to draw */
      buf_printf(out, "%s %llu\n", lines[i].text, (unsigned long long)total);
      nout++;
    }
    i = j;
  }
  for (int i = 0; i < d.n; i++)
    free(lines[i].text);
  free(lines);
  rt_map_data_free(&d);
  return nout;
}
