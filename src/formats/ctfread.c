/* ctfread.c - read back the CTF traces out/ctf.c writes (see ctfread.h).
 *
 * Metadata: line-oriented, in the shape build_metadata() writes: the env
 * and clock blocks (key = value;), and event blocks whose field lines are
 *   integer { size = N; align = 8; signed = B; [base = 16;] [encoding = UTF8;] } _NAME[;|[N];|[ __NAME_length ];]
 *   string { encoding = UTF8; } _NAME;
 *   uint16_t __NAME_length;              (before its sequence)
 * Anything else inside an event's fields is an error with its line.  The
 * packet and event headers are fixed (out/ctf.h); the reader checks that
 * the metadata names our stream layout before it trusts them.
 */
#include "formats/ctfread.h"
#include "etrace.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Packet header/context offsets (as ctf.c). */
enum { PK_MAGIC = 0, PK_CONTENT = 48, PK_SIZE = 56, PK_DISCARDED = 72, PK_CPU = 80 };

static uint64_t get64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static void fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------ metadata */

typedef struct Meta {
  const char *path;
  int line;
  char *err;
  size_t errlen;
} Meta;

/* `\tKEY = VALUE;` -> value without quotes (arena); NULL if not that shape. */
static char *kv(const char *line, const char *key) {
  while (*line == '\t' || *line == ' ')
    line++;
  size_t k = strlen(key);
  if (strncmp(line, key, k) || strncmp(line + k, " = ", 3))
    return NULL;
  const char *v = line + k + 3;
  size_t n = strlen(v);
  if (n && v[n - 1] == ';')
    n--;
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    v++;
    n -= 2;
  }
  return estrndup(v, n);
}

/* One field declaration (the line without its leading tabs). */
static bool parse_field(Meta *m, const char *decl, CtfField *f, bool *is_len) {
  *is_len = false;
  memset(f, 0, sizeof *f);
  if (!strncmp(decl, "uint16_t __", 11)) {
    *is_len = true;
    return true;
  }
  const char *rest;
  if (!strncmp(decl, "string ", 7)) {
    f->kind = CTF_STRING;
    rest = strchr(decl, '}');
  } else if (!strncmp(decl, "integer {", 9)) {
    rest = strchr(decl, '}');
    if (!rest)
      goto bad;
    char *attrs = estrndup(decl + 9, rest - decl - 9);
    int size = 0;
    char *s;
    if ((s = strstr(attrs, "size = ")))
      size = atoi(s + 7);
    f->is_signed = strstr(attrs, "signed = true") != NULL;
    f->hex = strstr(attrs, "base = 16") != NULL;
    f->oct = strstr(attrs, "base = 8") != NULL;
    f->net_order = strstr(attrs, "byte_order = network") != NULL ||
                   strstr(attrs, "byte_order = be") != NULL;
    bool text = strstr(attrs, "encoding = UTF8") != NULL;
    if (size != 8 && size != 16 && size != 32 && size != 64)
      goto bad;
    f->size = size / 8;
    f->kind = text ? CTF_TEXT : CTF_INT;
  } else {
    goto bad;
  }
  if (!rest || strncmp(rest, "} _", 3))
    goto bad;
  const char *name = rest + 3;
  size_t n = strcspn(name, "[;");
  if (!n)
    goto bad;
  f->name = estrndup(name, n);
  const char *tail = name + n;
  if (*tail == '[') {
    if (tail[1] == ' ') {
      if (f->kind != CTF_INT)
        goto bad;
      f->kind = CTF_SEQ;
      f->slot = 1;
    } else {
      char *end;
      long cnt = strtol(tail + 1, &end, 10);
      if (cnt <= 0 || cnt > 65536 || *end != ']')
        goto bad;
      f->count = (int)cnt;
      if (f->kind == CTF_TEXT && f->size != 1)
        goto bad;
    }
  } else if (f->kind == CTF_TEXT) {
    goto bad;   /* a UTF8 integer that is not a char array */
  }
  return true;
bad:
  fail(m->err, m->errlen, "%s:%d: error: unexpected field declaration '%s'", m->path, m->line,
       decl);
  return false;
}

/* The bytes of the event-context fields after _pid and _tid (etrace's
 * --profile kernel: _procname, _prio, ...), one per line up to the
 * struct's end: integers and char arrays of fixed size.  -1 otherwise. */
static int context_size(const char *p) {
  int total = 0;
  while (*p && strncmp(p, "\t};", 3)) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
    int bits = 0, count = 1;
    const char *sz = strstr(line, "size = ");
    if (sz)
      bits = atoi(sz + 7);
    else if (strstr(line, "int8_t"))
      bits = 8;
    else if (strstr(line, "int16_t"))
      bits = 16;
    else if (strstr(line, "int32_t"))
      bits = 32;
    else if (strstr(line, "int64_t"))
      bits = 64;
    const char *br = strrchr(line, '[');
    if (br)
      count = atoi(br + 1);
    if (bits <= 0 || bits % 8 || count <= 0 || strstr(line, "string"))
      return -1;
    total += bits / 8 * count;
    if (!nl)
      break;
    p = nl + 1;
  }
  return total;
}

static bool parse_metadata(CtfTrace *t, const char *dir, char *err, size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/metadata", dir);
  char *text = read_file(path, NULL);
  if (!text) {
    fail(err, errlen, "%s: error: %s (not a trace directory?)", path, strerror(errno));
    return false;
  }
  Meta m = {.path = estrdup(path), .err = err, .errlen = errlen};
  bool ok = false;
  if (strncmp(text, "/* CTF 1.8 */", 13)) {
    fail(err, errlen, "%s:1: error: not CTF 1.8 text metadata", path);
    goto out;
  }
  const char *ctx = strstr(text, "event.context := struct {\n\t\tint32_t _pid;\n\t\tint32_t _tid;\n");
  if (!ctx ||
      !strstr(text, "\t\tuint32_t cpu_id;\n\t};\n\tevent.header := struct {\n\t\tuint16_t id;\n")) {
    fail(err, errlen, "%s: error: not a trace written by etrace (other stream layout)", path);
    goto out;
  }
  if ((t->ctx_size = context_size(strchr(strstr(ctx, "_tid;"), '\n') + 1)) < 0) {
    fail(err, errlen, "%s: error: event context with a field of no fixed size", path);
    goto out;
  }
  enum { NONE, ENV, CLOCK, EVENT, FIELDS } in = NONE;
  CtfClass cur = {0};
  int cur_id = -1;
  int64_t off_s = 0, off = 0;
  char *next = text;
  while (next && *next) {
    char *line = next;
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = 0;
    next = nl ? nl + 1 : NULL;
    m.line++;
    char *v;
    switch (in) {
    case NONE:
      if (!strcmp(line, "env {"))
        in = ENV;
      else if (!strcmp(line, "clock {"))
        in = CLOCK;
      else if (!strcmp(line, "event {")) {
        in = EVENT;
        memset(&cur, 0, sizeof cur);
        cur_id = -1;
      }
      break;
    case ENV:
      if (!strcmp(line, "};"))
        in = NONE;
      else if ((v = kv(line, "hostname")))
        t->hostname = v;
      else if ((v = kv(line, "domain")))
        t->domain = v;
      break;
    case CLOCK:
      if (!strcmp(line, "};"))
        in = NONE;
      else if ((v = kv(line, "offset_s")))
        off_s = strtoll(v, NULL, 10);
      else if ((v = kv(line, "offset")))
        off = strtoll(v, NULL, 10);
      break;
    case EVENT:
      if ((v = kv(line, "name")))
        cur.name = v;
      else if ((v = kv(line, "id")))
        cur_id = atoi(v);
      else if (!strcmp(line, "\tfields := struct {"))
        in = FIELDS;
      else if (!strcmp(line, "};")) {
        if (!cur.name || cur_id < 0 || cur_id > 65535) {
          fail(err, errlen, "%s:%d: error: event without a name or a valid id", path, m.line);
          goto out;
        }
        if (cur_id >= t->nclasses) {
          t->classes = realloc(t->classes, sizeof(CtfClass) * (cur_id + 1));
          memset(t->classes + t->nclasses, 0, sizeof(CtfClass) * (cur_id + 1 - t->nclasses));
          t->nclasses = cur_id + 1;
        }
        if (t->classes[cur_id].name) {
          fail(err, errlen, "%s:%d: error: two events with id %d", path, m.line, cur_id);
          goto out;
        }
        t->classes[cur_id] = cur;
        in = NONE;
      }
      break;
    case FIELDS: {
      if (!strcmp(line, "\t};")) {
        in = EVENT;
        break;
      }
      CtfField f;
      bool is_len;
      if (!parse_field(&m, line + strspn(line, "\t"), &f, &is_len))
        goto out;
      if (is_len)
        break;
      cur.fields = egrow(cur.fields, cur.nfields, sizeof(CtfField));
      cur.fields[cur.nfields++] = f;
      break;
    }
    }
  }
  if (in != NONE) {
    fail(err, errlen, "%s: error: the metadata ends inside a block", path);
    goto out;
  }
  for (int i = 0; i < t->nclasses; i++)
    if (!t->classes[i].name)
      t->classes[i].name = eprintf("<no class %d>", i);
  t->clock_offset_ns = off_s * 1000000000 + off;
  ok = true;
out:
  free(text);
  return ok;
}

/* ------------------------------------------------------------ packets */

/* Bytes of payload starting at p (at most avail), or -1 if it overruns. */
static long payload_len(const CtfClass *c, const unsigned char *p, size_t avail) {
  size_t n = 0;
  for (int i = 0; i < c->nfields; i++) {
    const CtfField *f = &c->fields[i];
    size_t k;
    switch (f->kind) {
    case CTF_INT: k = (size_t)f->size * (f->count > 0 ? f->count : 1); break;
    case CTF_TEXT: k = f->count; break;
    case CTF_STRING: {
      const unsigned char *z = n < avail ? memchr(p + n, 0, avail - n) : NULL;
      if (!z)
        return -1;
      k = z - (p + n) + 1;
      break;
    }
    case CTF_SEQ: {
      if (n + 2 > avail)
        return -1;
      uint16_t cnt;
      memcpy(&cnt, p + n, 2);
      k = 2 + (size_t)cnt * f->size;
      break;
    }
    default: return -1;
    }
    if (k > avail - n)
      return -1;
    n += k;
  }
  return (long)n;
}

typedef struct Pending {
  CtfrEvent *ev;
  size_t n, cap;
  uint64_t *order;   /* file/sequence order, for a stable merge */
} Pending;

static void push(Pending *pd, const CtfrEvent *e) {
  if (pd->n == pd->cap) {
    pd->cap = pd->cap ? pd->cap * 2 : 4096;
    pd->ev = realloc(pd->ev, sizeof *pd->ev * pd->cap);
  }
  pd->ev[pd->n++] = *e;
}

static bool read_stream(CtfTrace *t, const char *path, const unsigned char *d, size_t size,
                        Pending *pd, char *err, size_t errlen) {
  size_t off = 0;
  uint64_t last_discarded = 0;
  for (int pkt = 0; off < size; pkt++) {
    if (size - off < CTF_PACKET_HEADER_SIZE) {
      fail(err, errlen, "%s: error: packet %d at byte %zu: cut short (%zu bytes left); "
                        "`etrace ctf repair` truncates it", path, pkt, off, size - off);
      return false;
    }
    const unsigned char *h = d + off;
    uint32_t magic;
    memcpy(&magic, h + PK_MAGIC, 4);
    uint64_t content = get64(h + PK_CONTENT), psize = get64(h + PK_SIZE);
    if (magic != CTF_MAGIC) {
      fail(err, errlen, "%s: error: packet %d at byte %zu: bad magic 0x%08x", path, pkt, off, magic);
      return false;
    }
    if (psize % 8 || content % 8 || content > psize || content < 8 * CTF_PACKET_HEADER_SIZE) {
      fail(err, errlen, "%s: error: packet %d at byte %zu: invalid sizes (content %llu, packet %llu bits)",
           path, pkt, off, (unsigned long long)content, (unsigned long long)psize);
      return false;
    }
    if (psize / 8 > size - off) {
      fail(err, errlen, "%s: error: packet %d at byte %zu: %llu bytes, but only %zu remain; "
                        "`etrace ctf repair` truncates it",
           path, pkt, off, (unsigned long long)(psize / 8), size - off);
      return false;
    }
    uint64_t disc = get64(h + PK_DISCARDED);
    if (disc > last_discarded)
      t->discarded += disc - last_discarded;
    last_discarded = disc;
    uint32_t cpu;
    memcpy(&cpu, h + PK_CPU, 4);
    size_t end = off + content / 8;
    size_t at = off + CTF_PACKET_HEADER_SIZE;
    while (at < end) {
      if (end - at < CTF_EVENT_HEADER_SIZE) {
        fail(err, errlen, "%s: error: packet %d: event at byte %zu: header cut by the packet's end",
             path, pkt, at);
        return false;
      }
      CtfrEvent e = {.cpu = cpu};
      memcpy(&e.id, d + at + CTF_EV_ID, 2);
      memcpy(&e.ts, d + at + CTF_EV_TIMESTAMP, 8);
      memcpy(&e.pid, d + at + CTF_EV_PID, 4);
      memcpy(&e.tid, d + at + CTF_EV_TID, 4);
      if (e.id >= t->nclasses || t->classes[e.id].name[0] == '<') {
        fail(err, errlen, "%s: error: packet %d: event at byte %zu: unknown event id %u", path, pkt, at,
             e.id);
        return false;
      }
      size_t hdr = CTF_EVENT_HEADER_SIZE + t->ctx_size;
      e.p = d + at + hdr;
      long len = end - at < hdr ? -1 : payload_len(&t->classes[e.id], e.p, end - at - hdr);
      if (len < 0) {
        fail(err, errlen, "%s: error: packet %d: event %s at byte %zu runs past the packet's content",
             path, pkt, t->classes[e.id].name, at);
        return false;
      }
      e.len = (uint32_t)len;
      push(pd, &e);
      at += hdr + len;
    }
    off += psize / 8;
  }
  return true;
}

static int cmp_names(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  size_t lx = strlen(x), ly = strlen(y);
  return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Merge order: timestamp, then CPU, then the order read (stable). */
static int cmp_events(const void *a, const void *b) {
  const CtfrEvent *x = a, *y = b;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  if (x->cpu != y->cpu)
    return x->cpu < y->cpu ? -1 : 1;
  return x->p < y->p ? -1 : x->p > y->p;
}

CtfTrace *ctfr_open(const char *session_dir, char *err, size_t errlen) {
  char tdir[4096];
  const char *dir = ctf_trace_dir(session_dir, tdir, sizeof tdir);
  CtfTrace *t = calloc(1, sizeof *t);
  if (!parse_metadata(t, dir, err, errlen)) {
    ctfr_free(t);
    return NULL;
  }
  DIR *dp = opendir(dir);
  if (!dp) {
    fail(err, errlen, "%s: error: %s", dir, strerror(errno));
    ctfr_free(t);
    return NULL;
  }
  char **names = NULL;
  int n = 0;
  struct dirent *de;
  char path[4096];
  while ((de = readdir(dp))) {
    /* as babeltrace2: every regular file but metadata and dot-names */
    if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata"))
      continue;
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
      continue;
    names = realloc(names, sizeof *names * (n + 1));
    names[n++] = strdup(de->d_name);
  }
  closedir(dp);
  qsort(names, n, sizeof *names, cmp_names);
  Pending pd = {0};
  bool ok = true;
  t->data = calloc(n ? n : 1, sizeof *t->data);
  for (int i = 0; i < n && ok; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    size_t len;
    unsigned char *d = (unsigned char *)read_file(path, &len);
    if (!d) {
      fail(err, errlen, "%s: error: %s", path, strerror(errno));
      ok = false;
      break;
    }
    t->data[t->nfiles++] = d;
    ok = read_stream(t, path, d, len, &pd, err, errlen);
  }
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
  if (!ok) {
    free(pd.ev);
    ctfr_free(t);
    return NULL;
  }
  /* Files are in memory for good: event pointers order them (stable merge). */
  qsort(pd.ev, pd.n, sizeof *pd.ev, cmp_events);
  t->ev = pd.ev;
  t->nev = pd.n;
  return t;
}

void ctfr_free(CtfTrace *t) {
  if (!t)
    return;
  for (int i = 0; i < t->nfiles; i++)
    free(t->data[i]);
  free(t->data);
  free(t->classes);
  free(t->ev);
  free(t);
}

/* ------------------------------------------------------------ fields */

int ctfr_fields(const CtfTrace *t, const CtfrEvent *e, CtfrVal *vals) {
  const CtfClass *c = &t->classes[e->id];
  const unsigned char *p = e->p;
  for (int i = 0; i < c->nfields; i++) {
    const CtfField *f = &c->fields[i];
    CtfrVal *v = &vals[i];
    v->f = f;
    v->data = p;
    switch (f->kind) {
    case CTF_INT:
      v->count = f->count > 0 ? f->count : 1;
      p += (size_t)f->size * v->count;
      break;
    case CTF_TEXT:
      v->count = (int)strnlen((const char *)p, f->count);
      p += f->count;
      break;
    case CTF_STRING:
      v->count = (int)strlen((const char *)p);
      p += v->count + 1;
      break;
    case CTF_SEQ: {
      uint16_t cnt;
      memcpy(&cnt, p, 2);
      v->count = cnt;
      v->data = p + 2;
      p += 2 + (size_t)cnt * f->size;
      break;
    }
    }
  }
  return c->nfields;
}

int64_t ctfr_int(const CtfrVal *v, int i) {
  const unsigned char *p = v->data + (size_t)i * v->f->size;
  if (v->f->net_order) { /* big-endian */
    uint64_t x = 0;
    for (int k = 0; k < v->f->size; k++)
      x = x << 8 | p[k];
    int shift = 64 - 8 * v->f->size;
    return v->f->is_signed && shift ? (int64_t)(x << shift) >> shift : (int64_t)x;
  }
  switch (v->f->size) {
  case 1: return v->f->is_signed ? (int64_t)(int8_t)p[0] : (int64_t)p[0];
  case 2: { uint16_t x; memcpy(&x, p, 2); return v->f->is_signed ? (int16_t)x : (int64_t)x; }
  case 4: { uint32_t x; memcpy(&x, p, 4); return v->f->is_signed ? (int32_t)x : (int64_t)x; }
  default: { int64_t x; memcpy(&x, p, 8); return x; }
  }
}

void ctfr_print_int(FILE *f, const CtfrVal *v, int i, const char *hex_fmt) {
  int64_t x = ctfr_int(v, i);
  if (v->f->hex)
    fprintf(f, hex_fmt, (unsigned long long)x);
  else if (v->f->is_signed)
    fprintf(f, "%lld", (long long)x);
  else
    fprintf(f, "%llu", (unsigned long long)x);
}

int ctfr_field_index(const CtfClass *c, const char *name) {
  for (int i = 0; i < c->nfields; i++)
    if (!strcmp(c->fields[i].name, name))
      return i;
  return -1;
}
