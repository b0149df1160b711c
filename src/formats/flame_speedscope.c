/* flame_speedscope.c - the speedscope file format
 * (https://www.speedscope.app/file-format-schema.json): the frame names
 * once in shared.frames, then one profile of type "sampled" whose samples
 * are the distinct stacks (frame indices, root first) and whose weights
 * are their counts. */
#include "etrace.h"
#include "formats/flame.h"

#include <inttypes.h>
#include <stdlib.h>

/* Frame indices by interned name pointer (open addressing). */
typedef struct FrameIndex {
  const char **keys;
  int *idx;
  size_t cap;
  int n;
  const char **order; /* names by index */
} FrameIndex;

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) {
    fprintf(stderr, "etrace: out of memory\n");
    abort();
  }
  return p;
}

static size_t slot(const FrameIndex *fi, const char *name) {
  uint64_t h = (uintptr_t)name; /* MurmurHash3's finaliser: pointers are aligned */
  h = (h ^ h >> 33) * 0xff51afd7ed558ccdull;
  h = (h ^ h >> 33) * 0xc4ceb9fe1a85ec53ull;
  size_t j = (h ^ h >> 33) & (fi->cap - 1);
  while (fi->keys[j] && fi->keys[j] != name)
    j = (j + 1) & (fi->cap - 1);
  return j;
}

static void count_nodes(const FlameNode *n, size_t *count) {
  (*count)++;
  for (int i = 0; i < n->nkids; i++)
    count_nodes(n->kids[i], count);
}

static void index_names(FrameIndex *fi, const FlameNode *n) {
  if (n->depth > 0) {
    size_t j = slot(fi, n->name);
    if (!fi->keys[j]) {
      fi->keys[j] = n->name;
      fi->idx[j] = fi->n;
      fi->order[fi->n++] = n->name;
    }
  }
  for (int i = 0; i < n->nkids; i++)
    index_names(fi, n->kids[i]);
}

typedef struct Walk {
  FrameIndex *fi;
  int *path;
  FILE *out;
  bool first;
} Walk;

static void write_samples(Walk *w, const FlameNode *n) {
  if (n->depth > 0)
    w->path[n->depth - 1] = w->fi->idx[slot(w->fi, n->name)];
  if (n->self && n->depth > 0) {
    fputs(w->first ? "\n    [" : ",\n    [", w->out);
    w->first = false;
    for (int i = 0; i < n->depth; i++)
      fprintf(w->out, i ? ",%d" : "%d", w->path[i]);
    fputc(']', w->out);
  }
  for (int i = 0; i < n->nkids; i++)
    write_samples(w, n->kids[i]);
}

static void write_weights(const FlameNode *n, bool *first, FILE *out) {
  if (n->self && n->depth > 0) {
    fprintf(out, *first ? "%" PRIu64 : ",%" PRIu64, n->self);
    *first = false;
  }
  for (int i = 0; i < n->nkids; i++)
    write_weights(n->kids[i], first, out);
}

static const char *unit_name(FlameUnit u) {
  switch (u) {
  case FLAME_NANOSECONDS: return "nanoseconds";
  case FLAME_MICROSECONDS: return "microseconds";
  default: return "none";
  }
}

void flame_write_speedscope(FlameProfile *p, const FlameOptions *o, FILE *out) {
  const FlameNode *root = flame_root(p);
  size_t nodes = 0;
  count_nodes(root, &nodes);
  FrameIndex fi = {.cap = 16};
  while (fi.cap < 2 * nodes)
    fi.cap *= 2;
  fi.keys = xcalloc(fi.cap, sizeof *fi.keys);
  fi.idx = xcalloc(fi.cap, sizeof *fi.idx);
  fi.order = xcalloc(nodes, sizeof *fi.order);
  index_names(&fi, root);

  const char *name = o && o->title ? o->title : "Flame Graph";
  fputs("{\n  \"$schema\": \"https://www.speedscope.app/file-format-schema.json\",\n", out);
  fputs("  \"exporter\": \"etrace " ETRACE_VERSION "\",\n  \"name\": ", out);
  flame_put_json(out, name);
  fputs(",\n  \"activeProfileIndex\": 0,\n  \"shared\": {\"frames\": [", out);
  for (int i = 0; i < fi.n; i++) {
    fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
    flame_put_json(out, fi.order[i]);
    fputc('}', out);
  }
  fputs("\n  ]},\n  \"profiles\": [{\n    \"type\": \"sampled\",\n    \"name\": ", out);
  flame_put_json(out, name);
  fprintf(out,
          ",\n    \"unit\": \"%s\",\n    \"startValue\": 0,\n    \"endValue\": %" PRIu64
          ",\n    \"samples\": [",
          unit_name(o ? o->unit : FLAME_SAMPLES), root->total);
  Walk w = {.fi = &fi, .path = xcalloc(flame_max_depth(p) + 1, sizeof(int)), .out = out, .first = true};
  write_samples(&w, root);
  fputs("\n    ],\n    \"weights\": [", out);
  bool first = true;
  write_weights(root, &first, out);
  fputs("]\n  }]\n}\n", out);
  free(w.path);
  free(fi.keys);
  free(fi.idx);
  free(fi.order);
}
