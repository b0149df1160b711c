/* format.c - one value as bpftrace prints it: in print(value), as a map
 * key, as a map value, and as printf's %s.  Text and JSON forms.
 *
 * Memory layout (fixed by the code generator, see etrace.h): integers are
 * 8-byte slots sign-extended from their declared width, strings are
 * `size`-byte buffers, tuples hold their fields at 8-byte aligned offsets. */
#include "runtime/rt.h"

#include <pwd.h>
#include <string.h>
#include <time.h>

/* Stacks print with 8 spaces before each frame, 4 in map keys. */
int rt_stack_indent = 8;

static char *const *probe_names;
static int nprobe_names;

void rt_set_probe_names(char *const *names, int n) {
  probe_names = names;
  nprobe_names = n;
}

/* ------------------------------------------------------------ primitives */

int64_t rt_int_value(const Type *t, const void *data) {
  int64_t v;
  memcpy(&v, data, 8);
  if (t->kind != TY_INT)
    return v;
  switch (t->int_size) {
  case 1: return t->is_signed ? (int64_t)(int8_t)v : (int64_t)(uint8_t)v;
  case 2: return t->is_signed ? (int64_t)(int16_t)v : (int64_t)(uint16_t)v;
  case 4: return t->is_signed ? (int64_t)(int32_t)v : (int64_t)(uint32_t)v;
  default: return v;
  }
}

static void put_s64(Buf *b, int64_t v) { buf_printf(b, "%lld", (long long)v); }
static void put_u64(Buf *b, uint64_t v) { buf_printf(b, "%llu", (unsigned long long)v); }

void rt_json_string(Buf *b, const char *s, size_t n) {
  buf_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = s[i];
    switch (c) {
    case '"': buf_put(b, "\\\"", 2); break;
    case '\\': buf_put(b, "\\\\", 2); break;
    case '\n': buf_put(b, "\\n", 2); break;
    case '\r': buf_put(b, "\\r", 2); break;
    case '\t': buf_put(b, "\\t", 2); break;
    default:
      /* bpftrace 0.17 also mangles bytes >= 0x80 (a signed-char bug that
       * breaks UTF-8); we pass them through so UTF-8 text stays valid. */
      if (c < 0x20)
        buf_printf(b, "\\u%04x", c);
      else
        buf_put(b, &s[i], 1);
    }
  }
  buf_put(b, "\"", 1);
}

/* ---------------------------------------------------- special value types */

/* A uid as a user name; the number when no passwd entry exists.  The last
 * lookup is cached: printf("%s", username) runs once per event. */
static void put_username(Buf *b, uint64_t uid) {
  static uint64_t cached_uid = (uint64_t)-1;
  static char cached_name[256];
  if (uid != cached_uid) {
    struct passwd pw, *res = NULL;
    char tmp[4096];
    if (getpwuid_r((uid_t)uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
      snprintf(cached_name, sizeof cached_name, "%s", res->pw_name);
    else
      snprintf(cached_name, sizeof cached_name, "%llu", (unsigned long long)uid);
    cached_uid = uid;
  }
  buf_put(b, cached_name, strlen(cached_name));
}

static void put_probe(Buf *b, uint64_t idx) {
  if (idx < (uint64_t)nprobe_names && probe_names[idx])
    buf_put(b, probe_names[idx], strlen(probe_names[idx]));
  else
    buf_printf(b, "%llu", (unsigned long long)idx);
}

/* strftime(fmt, nsecs): nsecs come from bpf_ktime_get_ns (CLOCK_MONOTONIC);
 * wall clock = realtime - monotonic + nsecs, with the offset taken once. */
static void put_timestamp(Buf *b, const char *fmt, uint64_t nsecs) {
  static bool have_base;
  static struct timespec base;
  if (!have_base) {
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    base.tv_sec = rt.tv_sec - mono.tv_sec;
    base.tv_nsec = rt.tv_nsec - mono.tv_nsec;
    if (base.tv_nsec < 0) {
      base.tv_nsec += 1000000000L;
      base.tv_sec--;
    }
    have_base = true;
  }
  uint64_t ns = (uint64_t)base.tv_nsec + nsecs;
  time_t secs = base.tv_sec + (time_t)(ns / 1000000000ULL);
  unsigned long usecs = (unsigned long)(ns % 1000000000ULL / 1000);
  struct tm tm;
  if (!fmt || !localtime_r(&secs, &tm)) {
    buf_put(b, "(?)", 3);
    return;
  }
  /* bpftrace's %f extension: every "%f" (scanning left to right, as its
   * regex replace does) becomes the 6-digit microseconds. */
  Buf f = {0};
  for (const char *p = fmt; *p; p++) {
    if (p[0] == '%' && p[1] == 'f') {
      buf_printf(&f, "%06lu", usecs);
      p++;
    } else {
      buf_put(&f, p, 1);
    }
  }
  char out[1024];
  size_t n = f.data ? strftime(out, sizeof out, f.data, &tm) : 0;
  buf_put(b, out, n);
  buf_free(&f);
}

/* buf(): u64 length, then at most size - 8 bytes. */
void rt_format_buf(Buf *b, const Type *t, const void *data, char mode) {
  uint64_t len;
  memcpy(&len, data, 8);
  uint64_t cap = t->size > 8 ? (uint64_t)t->size - 8 : 0;
  if (len > cap)
    len = cap;
  const unsigned char *p = (const unsigned char *)data + 8;
  for (uint64_t i = 0; i < len; i++) {
    if (mode == 'h')
      buf_printf(b, i + 1 < len ? "%02x " : "%02x", p[i]);
    else if (mode == 'r' && p[i] >= 32 && p[i] <= 126)
      buf_put(b, &p[i], 1);
    else
      buf_printf(b, "\\x%02x", p[i]);
  }
}

/* ------------------------------------------------------------ the values */

static void format(Buf *b, const Type *t, const unsigned char *data, bool json);

/* A held struct or array as bpftrace prints it: as a value, in JSON, or
 * inside a map key (records {.a=1}, pointers in hex). */
typedef enum { HELD_TEXT, HELD_JSON, HELD_KEY } HeldStyle;

/* An integer of t->int_size bytes as laid out in C memory (array
 * elements are packed, unlike the 8-byte slots of integer values). */
static int64_t packed_int(const Type *t, const unsigned char *p) {
  int64_t v = 0;
  memcpy(&v, p, t->int_size);
  int bits = t->int_size * 8;
  if (bits < 64 && (t->is_signed || t->is_ptr) && (v >> (bits - 1)) & 1)
    v |= (int64_t)(~0ULL << bits);
  return v;
}

static void format_held(Buf *b, const Type *t, const unsigned char *data, HeldStyle style) {
  switch (t->kind) {
  case TY_RECORD:
    if (style == HELD_KEY)
      rt_object_key_text(b, t, data, t->size);
    else
      rt_object_text(b, t, data, t->size, style == HELD_JSON);
    return;
  case TY_ARRAY: {
    int esize = ty_mem_size(t->elem);
    buf_put(b, "[", 1);
    for (int i = 0; i < t->nelems; i++) {
      if (i)
        buf_put(b, ",", 1);
      format_held(b, t->elem, data + (size_t)i * esize, style);
    }
    buf_put(b, "]", 1);
    return;
  }
  case TY_INT: {
    int64_t v = packed_int(t, data);
    if (t->is_ptr && style == HELD_KEY)
      buf_printf(b, "0x%llx", (unsigned long long)v);
    else if (t->is_signed || t->is_ptr)
      put_s64(b, v);
    else
      put_u64(b, (uint64_t)v);
    return;
  }
  case TY_STR: /* a row of a char matrix */
    if (style == HELD_JSON)
      rt_json_string(b, (const char *)data, strnlen((const char *)data, t->size));
    else
      buf_put(b, data, strnlen((const char *)data, t->size));
    return;
  default:
    buf_put(b, "?", 1);
  }
}

/* Types whose JSON form is a quoted string.  bpftrace 0.17 leaves
 * timestamps unquoted (invalid JSON); current bpftrace quotes them. */
static bool json_quoted(const Type *t) {
  switch (t->kind) {
  case TY_STR: case TY_USERNAME: case TY_PROBE: case TY_TIMESTAMP: case TY_BUF:
  case TY_STACK:
    return true;
  default: /* builtins' printed types (ksym ...) are text */
    return t->print != NULL;
  }
}

static void format_tuple(Buf *b, const Type *t, const unsigned char *data, bool json) {
  buf_put(b, json ? "[" : "(", 1);
  for (int i = 0; i < t->nfields; i++) {
    if (i)
      buf_put(b, json ? "," : ", ", json ? 1 : 2);
    format(b, t->fields[i], data + t->offsets[i], json);
  }
  buf_put(b, json ? "]" : ")", 1);
}

/* The text of a value, before any JSON quoting. */
static void format_plain(Buf *b, const Type *t, const unsigned char *data) {
  uint64_t u;
  int64_t s[2];
  switch (t->kind) {
  case TY_INT: {
    int64_t v = rt_int_value(t, data);
    if (t->is_signed || t->is_ptr) /* bpftrace prints pointer values signed */
      put_s64(b, v);
    else
      put_u64(b, (uint64_t)v);
    break;
  }
  case TY_STR:
    buf_put(b, data, strnlen((const char *)data, t->size));
    break;
  case TY_USERNAME:
    memcpy(&u, data, 8);
    put_username(b, u);
    break;
  case TY_PROBE:
    memcpy(&u, data, 8);
    put_probe(b, u);
    break;
  case TY_TIMESTAMP:
    memcpy(&u, data, 8);
    put_timestamp(b, t->fmt, u);
    break;
  case TY_BUF:
    rt_format_buf(b, t, data, 'r');
    break;
  case TY_STACK: {
    uint64_t ips[STACK_MAX_FRAMES];
    memcpy(&u, data, 8);
    int n = sym_stack_read(t->stack_limit, (int32_t)u, ips);
    sym_stack_text(b, ips, n, t->stack_user, (int)(u >> 32), t->stack_mode, rt_stack_indent);
    break;
  }
  case TY_COUNT:
    memcpy(&u, data, 8);
    put_u64(b, u);
    break;
  case TY_SUM:
    memcpy(&u, data, 8);
    if (t->is_signed)
      put_s64(b, (int64_t)u);
    else
      put_u64(b, u);
    break;
  case TY_MIN: case TY_MAX:
    memcpy(s, data, 8);
    put_s64(b, s[0]);
    break;
  case TY_AVG:
    memcpy(s, data, 16);
    put_s64(b, s[1] ? s[0] / s[1] : 0);
    break;
  case TY_RECORD: /* printf("%s", *p): the struct the bpftrace way */
    rt_object_text(b, t, data, t->size, false);
    break;
  default: /* a builtin's printed type (ksym ...); void, ctx, hist: nothing */
    if (t->print)
      t->print(b, t, data);
    break;
  }
}

static void format(Buf *b, const Type *t, const unsigned char *data, bool json) {
  if (t->kind == TY_TUPLE) {
    format_tuple(b, t, data, json);
    return;
  }
  if (t->kind == TY_STATS) {
    int64_t s[2];
    memcpy(s, data, 16);
    int64_t avg = s[1] ? s[0] / s[1] : 0;
    buf_printf(b, json ? "{\"count\": %lld, \"average\": %lld, \"total\": %lld}"
                       : "count %lld, average %lld, total %lld",
               (long long)s[1], (long long)avg, (long long)s[0]);
    return;
  }
  if (t->kind == TY_ARRAY || (json && t->kind == TY_RECORD)) {
    format_held(b, t, data, json ? HELD_JSON : HELD_TEXT);
    return;
  }
  if (!json || !json_quoted(t)) {
    format_plain(b, t, data);
    return;
  }
  Buf tmp = {0};
  format_plain(&tmp, t, data);
  rt_json_string(b, tmp.data ? tmp.data : "", tmp.len);
  buf_free(&tmp);
}

void rt_format_value(Buf *b, const Type *t, const void *data, OutFormat fmt) {
  format(b, t, data, fmt == OUT_JSON);
}

/* Map keys print as values do, except pointers: in hex, as bpftrace. */
void rt_format_key(Buf *b, const Type *t, const void *data) {
  if (t->kind == TY_INT && t->is_ptr)
    buf_printf(b, "0x%llx", (unsigned long long)rt_int_value(t, data));
  else if (t->kind == TY_RECORD || t->kind == TY_ARRAY)
    format_held(b, t, data, HELD_KEY);
  else
    format(b, t, data, false);
}

/* ----------------------------------------------------------- emit records */

static void flush_buf(Output *o, Buf *b) {
  if (b->len)
    fwrite(b->data, 1, b->len, o->f);
  buf_free(b);
}

void rt_emit_value(Output *o, const Type *t, const void *data) {
  if (o->c)
    rt_set_probe_names(o->c->probe_names, o->c->nprobe_names);
  Buf b = {0};
  if (o->format == OUT_JSON) {
    buf_printf(&b, "{\"type\": \"value\", \"data\": ");
    rt_format_value(&b, t, data, OUT_JSON);
    buf_put(&b, "}\n", 2);
  } else {
    rt_format_value(&b, t, data, OUT_TEXT);
    buf_put(&b, "\n", 1);
  }
  flush_buf(o, &b);
}

void rt_emit_text(Output *o, const char *type, const char *s, size_t n) {
  if (o->format != OUT_JSON) {
    fwrite(s, 1, n, o->f);
    return;
  }
  Buf b = {0};
  buf_printf(&b, "{\"type\": \"%s\", \"data\": ", type);
  rt_json_string(&b, s, n);
  buf_put(&b, "}\n", 2);
  flush_buf(o, &b);
}
