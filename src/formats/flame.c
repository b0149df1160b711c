/* flame.c - the stack-sample model: interned frame names, the merged
 * tree, folded-line parsing, format names, and text escaping for the
 * writers (flame.h describes the model). */
#include "formats/flame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Nodes come from chunks, freed together. */
#define NODES_PER_CHUNK 4096
typedef struct NodeChunk {
  struct NodeChunk *next;
  int used;
  FlameNode nodes[NODES_PER_CHUNK];
} NodeChunk;

struct FlameProfile {
  FlameNode root;
  NodeChunk *chunks;
  int max_depth;
  bool sorted;
  /* interned names: open addressing on the string */
  char **names;
  size_t nnames, namecap;
  /* nodes by (parent, name): open addressing on the pair */
  FlameNode **nodes;
  size_t nnodes, nodecap;
  /* the path of the last stack added: sorted input and repeated stacks
   * share prefixes, found here without hashing */
  FlameNode *last[FLAME_MAX_DEPTH + 1];
};

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) {
    fprintf(stderr, "etrace: out of memory\n");
    abort();
  }
  return p;
}

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

/* Pointers are aligned and close together: mix every bit into the low
 * ones the table uses (MurmurHash3's 64-bit finaliser). */
static uint64_t hash_pair(const void *a, const void *b) {
  uint64_t h = (uint64_t)(uintptr_t)a * 31 + (uint64_t)(uintptr_t)b;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

FlameProfile *flame_new(void) {
  FlameProfile *p = xcalloc(1, sizeof *p);
  p->root.name = "all";
  p->namecap = 256;
  p->names = xcalloc(p->namecap, sizeof *p->names);
  p->nodecap = 256;
  p->nodes = xcalloc(p->nodecap, sizeof *p->nodes);
  return p;
}

void flame_free(FlameProfile *p) {
  if (!p)
    return;
  while (p->chunks) {
    NodeChunk *next = p->chunks->next;
    for (int i = 0; i < p->chunks->used; i++)
      free(p->chunks->nodes[i].kids);
    free(p->chunks);
    p->chunks = next;
  }
  for (size_t i = 0; i < p->namecap; i++)
    free(p->names[i]);
  free(p->root.kids);
  free(p->nodes);
  free(p->names);
  free(p);
}

/* ------------------------------------------------------------ names */

/* ';' separates frames and a newline ends the line; trailing blanks would
 * merge with the blank before the count. */
void flame_sanitize_frame(char *name) {
  char *end = name;
  for (char *c = name; *c; c++) {
    if (*c == ';')
      *c = ':';
    else if (*c == '\n' || *c == '\r')
      *c = ' ';
    if (*c != ' ' && *c != '\t')
      end = c + 1;
  }
  *end = '\0';
}

static bool needs_sanitizing(const char *s, size_t n) {
  if (n == 0 || s[n - 1] == ' ' || s[n - 1] == '\t')
    return true;
  for (size_t i = 0; i < n; i++)
    if (s[i] == ';' || s[i] == '\n' || s[i] == '\r')
      return true;
  return false;
}

static void names_grow(FlameProfile *p) {
  size_t cap = p->namecap * 2;
  char **t = xcalloc(cap, sizeof *t);
  for (size_t i = 0; i < p->namecap; i++) {
    char *s = p->names[i];
    if (!s)
      continue;
    size_t j = hash_bytes(s, strlen(s)) & (cap - 1);
    while (t[j])
      j = (j + 1) & (cap - 1);
    t[j] = s;
  }
  free(p->names);
  p->names = t;
  p->namecap = cap;
}

/* The one copy of name s[0..n), sanitised. */
static const char *intern(FlameProfile *p, const char *s, size_t n) {
  if (needs_sanitizing(s, n)) {
    char *copy = xcalloc(n + 1, 1);
    memcpy(copy, s, n);
    flame_sanitize_frame(copy);
    const char *name = *copy ? intern(p, copy, strlen(copy)) : intern(p, "[unknown]", 9);
    free(copy);
    return name;
  }
  if (2 * (p->nnames + 1) > p->namecap)
    names_grow(p);
  size_t j = hash_bytes(s, n) & (p->namecap - 1);
  for (; p->names[j]; j = (j + 1) & (p->namecap - 1))
    if (!strncmp(p->names[j], s, n) && p->names[j][n] == '\0')
      return p->names[j];
  char *c = xcalloc(n + 1, 1);
  memcpy(c, s, n);
  p->names[j] = c;
  p->nnames++;
  return c;
}

/* ------------------------------------------------------------ tree */

static void nodes_grow(FlameProfile *p) {
  size_t cap = p->nodecap * 2;
  FlameNode **t = xcalloc(cap, sizeof *t);
  for (size_t i = 0; i < p->nodecap; i++) {
    FlameNode *n = p->nodes[i];
    if (!n)
      continue;
    size_t j = hash_pair(n->parent, n->name) & (cap - 1);
    while (t[j])
      j = (j + 1) & (cap - 1);
    t[j] = n;
  }
  free(p->nodes);
  p->nodes = t;
  p->nodecap = cap;
}

static FlameNode *child(FlameProfile *p, FlameNode *parent, const char *name) {
  if (2 * (p->nnodes + 1) > p->nodecap)
    nodes_grow(p);
  size_t j = hash_pair(parent, name) & (p->nodecap - 1);
  for (; p->nodes[j]; j = (j + 1) & (p->nodecap - 1))
    if (p->nodes[j]->parent == parent && p->nodes[j]->name == name)
      return p->nodes[j];
  if (!p->chunks || p->chunks->used == NODES_PER_CHUNK) {
    NodeChunk *c = malloc(sizeof *c);
    if (!c) {
      fprintf(stderr, "etrace: out of memory\n");
      abort();
    }
    c->next = p->chunks;
    c->used = 0;
    p->chunks = c;
  }
  FlameNode *n = &p->chunks->nodes[p->chunks->used++];
  memset(n, 0, sizeof *n);
  n->name = name;
  n->parent = parent;
  n->depth = parent->depth + 1;
  if (n->depth > p->max_depth)
    p->max_depth = n->depth;
  if (parent->nkids == parent->kidcap) {
    parent->kidcap = parent->kidcap ? 2 * parent->kidcap : 4;
    parent->kids = realloc(parent->kids, parent->kidcap * sizeof *parent->kids);
    if (!parent->kids) {
      fprintf(stderr, "etrace: out of memory\n");
      abort();
    }
  }
  parent->kids[parent->nkids++] = n;
  p->nodes[j] = n;
  p->nnodes++;
  p->sorted = false;
  return n;
}

/* Counts stop at UINT64_MAX rather than wrap (a node would outgrow its
 * parent's width). */
static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Add count to every node of the stack whose frames are the n names
 * frame(i) (interned), root first. */
static void add_interned(FlameProfile *p, const char **names, int n, uint64_t count) {
  FlameNode *node = &p->root;
  node->total = add_sat(node->total, count);
  for (int i = 0; i < n; i++) {
    FlameNode *prev = p->last[i + 1];
    node = prev && prev->parent == node && prev->name == names[i] ? prev : child(p, node, names[i]);
    p->last[i + 1] = node;
    node->total = add_sat(node->total, count);
  }
  node->self = add_sat(node->self, count);
}

void flame_add_stack(FlameProfile *p, const char *const *frames, int n, uint64_t count) {
  static const char *const unknown[] = {"[unknown]"};
  if (n == 0) /* no frame at all (the stack could not be read) */
    frames = unknown, n = 1;
  bool cut = n > FLAME_MAX_DEPTH;
  if (cut)
    n = FLAME_MAX_DEPTH - 1;
  const char *small[64];
  const char **names = n + 1 <= 64 ? small : xcalloc(n + 1, sizeof *names);
  for (int i = 0; i < n; i++)
    names[i] = intern(p, frames[i], strlen(frames[i]));
  if (cut)
    names[n++] = intern(p, "[truncated]", 11);
  add_interned(p, names, n, count);
  if (names != small)
    free(names);
}

static int fail(FlameError *err, int col, const char *msg) {
  err->col = col;
  snprintf(err->msg, sizeof err->msg, "%s", msg);
  return -1;
}

int flame_add_folded(FlameProfile *p, const char *line, size_t len, FlameError *err) {
  if (len && line[len - 1] == '\r')
    len--;
  size_t end = len;
  while (end && (line[end - 1] == ' ' || line[end - 1] == '\t'))
    end--;
  if (!end)
    return 0; /* blank */
  const char *nul = memchr(line, '\0', end);
  if (nul)
    return fail(err, (int)(nul - line) + 1, "NUL byte in the line: not a folded stack file");
  /* The count is the last space-separated word. */
  size_t sp = end;
  while (sp && line[sp - 1] != ' ' && line[sp - 1] != '\t')
    sp--;
  if (!sp) {
    bool digits = true;
    for (size_t i = 0; i < end; i++)
      digits = digits && line[i] >= '0' && line[i] <= '9';
    return digits ? fail(err, 1, "expected 'frame;frame;... COUNT': no stack before the count")
                  : fail(err, (int)end + 1,
                         "expected 'frame;frame;... COUNT': no sample count at the end of the line");
  }
  uint64_t count = 0;
  for (size_t i = sp; i < end; i++) {
    unsigned d = (unsigned char)line[i] - '0';
    if (d > 9)
      return fail(err, (int)sp + 1,
                  line[i] == '.' ? "the count must be a whole number of samples"
                                 : "expected a sample count (a whole number) at the end of the line");
    if (count > (UINT64_MAX - d) / 10)
      return fail(err, (int)sp + 1, "the sample count is too large");
    count = count * 10 + d;
  }
  size_t stack_end = sp;
  while (stack_end && (line[stack_end - 1] == ' ' || line[stack_end - 1] == '\t' ||
                       line[stack_end - 1] == '\r'))
    stack_end--;
  if (!stack_end)
    return fail(err, 1, "expected 'frame;frame;... COUNT': no stack before the count");
  /* Split the frames at ';'. */
  const char *small[64];
  int cap = 64, n = 0;
  const char **names = small;
  size_t start = 0;
  for (size_t i = 0; i <= stack_end; i++) {
    if (i < stack_end && line[i] != ';')
      continue;
    if (i == start) {
      if (names != small)
        free(names);
      return fail(err, (int)i + 1, "empty frame name in the stack");
    }
    if (n == FLAME_MAX_DEPTH) {
      if (names != small)
        free(names);
      return fail(err, (int)start + 1, "the stack is deeper than " FLAME_MAX_DEPTH_STR " frames");
    }
    if (n == cap) {
      const char **bigger = xcalloc(2 * cap, sizeof *bigger);
      memcpy(bigger, names, n * sizeof *names);
      if (names != small)
        free(names);
      names = bigger;
      cap *= 2;
    }
    names[n++] = intern(p, line + start, i - start);
    start = i + 1;
  }
  if (count)
    add_interned(p, names, n, count);
  if (names != small)
    free(names);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(FlameNode *const *)a)->name, (*(FlameNode *const *)b)->name);
}

static void sort_node(FlameNode *n) {
  if (n->nkids > 1)
    qsort(n->kids, n->nkids, sizeof *n->kids, by_name);
  for (int i = 0; i < n->nkids; i++)
    sort_node(n->kids[i]);
}

void flame_sort(FlameProfile *p) {
  if (p->sorted)
    return;
  sort_node(&p->root);
  p->sorted = true;
}

const FlameNode *flame_root(const FlameProfile *p) { return &p->root; }
uint64_t flame_total(const FlameProfile *p) { return p->root.total; }
int flame_max_depth(const FlameProfile *p) { return p->max_depth; }

bool flame_is_kernel(const char *name) {
  size_t n = strlen(name), k = strlen(FLAME_KERNEL_SUFFIX);
  return n > k && !strcmp(name + n - k, FLAME_KERNEL_SUFFIX);
}

/* ------------------------------------------------------------ formats */

static const char *const format_names[] = {"folded", "svg", "speedscope"};

int flame_format_parse(const char *name) {
  for (int i = 0; i < 3; i++)
    if (!strcmp(name, format_names[i]))
      return i;
  return -1;
}

const char *flame_format_name(FlameFormat f) { return format_names[f]; }

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

int flame_format_from_path(const char *path) {
  if (ends_with(path, ".folded"))
    return FLAME_FOLDED;
  if (ends_with(path, ".svg"))
    return FLAME_SVG;
  if (ends_with(path, ".speedscope.json") || ends_with(path, ".json"))
    return FLAME_SPEEDSCOPE;
  return -1;
}

int flame_write(FlameProfile *p, FlameFormat f, const FlameOptions *o, FILE *out) {
  flame_sort(p);
  switch (f) {
  case FLAME_FOLDED: flame_write_folded(p, out); break;
  case FLAME_SVG: flame_write_svg(p, o, out); break;
  case FLAME_SPEEDSCOPE: flame_write_speedscope(p, o, out); break;
  }
  return fflush(out) || ferror(out) ? -1 : 0;
}

/* ------------------------------------------------------------ escaping */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s) {
  if (s[0] < 0x80)
    return 1;
  int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
  if (!n || s[0] > 0xf4)
    return 0;
  for (int i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  uint32_t cp = n == 2 ? (s[0] & 0x1f) : n == 3 ? (s[0] & 0x0f) : (s[0] & 0x07);
  for (int i = 1; i < n; i++)
    cp = cp << 6 | (s[i] & 0x3f);
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
    return 0;
  return n;
}

void flame_put_xml(FILE *out, const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c;) {
    int n = utf8_len(c);
    if (!n || (*c < 0x20 && *c != '\t')) {
      fputc('?', out);
      c++;
      continue;
    }
    switch (*c) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&apos;", out); break;
    default: fwrite(c, 1, n, out);
    }
    c += n;
  }
}

void flame_put_json(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *c = (const unsigned char *)s; *c;) {
    int n = utf8_len(c);
    if (!n || *c < 0x20) {
      fputs(*c == '\t' ? "\\t" : "?", out);
      c++;
      continue;
    }
    if (*c == '"' || *c == '\\')
      fputc('\\', out);
    fwrite(c, 1, n, out);
    c += n;
  }
  fputc('"', out);
}
