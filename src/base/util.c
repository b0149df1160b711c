/* util.c - the compile arena, growable buffers, file reading. */
#include "etrace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The arena is a list of chunks; ealloc never fails (it aborts on OOM,
 * the only allocation failure we cannot report usefully). */
typedef struct Chunk {
  struct Chunk *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} Chunk;

static Chunk *arena_head;

void *ealloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!arena_head || arena_head->used + n > arena_head->cap) {
    size_t cap = n > 65536 ? n : 65536;
    Chunk *c = malloc(sizeof(Chunk) + cap);
    if (!c) {
      fprintf(stderr, "etrace: out of memory\n");
      abort();
    }
    c->next = arena_head;
    c->used = 0;
    c->cap = cap;
    arena_head = c;
  }
  void *p = arena_head->data + arena_head->used;
  arena_head->used += n;
  memset(p, 0, n);
  return p;
}

static int generation;

int arena_generation(void) { return generation; }

void arena_free_all(void) {
  generation++;
  while (arena_head) {
    Chunk *next = arena_head->next;
    free(arena_head);
    arena_head = next;
  }
}

/* Make room for element n of an arena array that holds n elements:
 * capacity doubles each time n reaches a power of two. */
void *egrow(void *arr, int n, size_t elem) {
  if (n > 0 && (n & (n - 1)))
    return arr;
  void *p = ealloc(elem * (n ? 2 * (size_t)n : 4));
  if (n)
    memcpy(p, arr, elem * n);
  return p;
}

char *estrndup(const char *s, size_t n) {
  char *p = ealloc(n + 1);
  memcpy(p, s, n);
  return p;
}

char *estrdup(const char *s) { return estrndup(s, strlen(s)); }

char *eprintf(const char *fmt, ...) {
  va_list ap;
  char probe[1];
  va_start(ap, fmt);
  int n = vsnprintf(probe, sizeof probe, fmt, ap);
  va_end(ap);
  char *p = ealloc(n + 1);
  va_start(ap, fmt);
  vsnprintf(p, n + 1, fmt, ap);
  va_end(ap);
  return p;
}

void buf_put(Buf *b, const void *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
      fprintf(stderr, "etrace: out of memory\n");
      abort();
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
}

void buf_printf(Buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < (int)sizeof tmp) {
    buf_put(b, tmp, n);
    return;
  }
  char *big = malloc(n + 1);
  if (!big)
    abort();
  va_start(ap, fmt);
  vsnprintf(big, n + 1, fmt, ap);
  va_end(ap);
  buf_put(b, big, n);
  free(big);
}

void buf_free(Buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (!*s || *s == '-')
    return false;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end || errno)
    return false;
  *out = v;
  return true;
}

char *read_file(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f)
    return NULL;
  Buf b = {0};
  char tmp[4096];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
    buf_put(&b, tmp, n);
  int err = ferror(f);
  if (f != stdin)
    fclose(f);
  if (err) {
    buf_free(&b);
    errno = EIO;
    return NULL;
  }
  if (!b.data)
    buf_put(&b, "", 0);
  if (len)
    *len = b.len;
  return b.data;
}
