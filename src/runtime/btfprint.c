/* btfprint.c - kernel objects copied by print()/dump(), printed with BTF.
 *
 * print(*p) prints the bpftrace way, on one line:
 *   { .flags = 0, .cpu = 1, .comm = bash, .sig = [0], .next = -131387 }
 * (pointer members as signed decimals, as bpftrace 0.17 prints them)
 * (anonymous struct/union members are flattened into their parent, as
 * bpftrace does).  dump(p) prints libbpf's btf_dump rendering, the same
 * C-like form the kernel's bpf_snprintf_btf() produces. */
#include "etrace.h"
#include "runtime/rt.h"

#include <bpf/btf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int skip_mods(const struct btf *btf, int id) {
  for (;;) {
    const struct btf_type *t = btf__type_by_id(btf, id);
    if (!t || !(btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) ||
                btf_is_restrict(t) || btf_is_type_tag(t)))
      return id;
    id = t->type;
  }
}

static uint64_t load_uint(const unsigned char *p, int size) {
  uint64_t v = 0;
  memcpy(&v, p, size > 8 ? 8 : size); /* little endian */
  return v;
}

static void put_int(Buf *b, uint64_t v, int size, bool sgn) {
  if (sgn && size < 8 && (v >> (size * 8 - 1)) & 1)
    v |= ~0ull << (size * 8);
  if (sgn)
    buf_printf(b, "%lld", (long long)v);
  else
    buf_printf(b, "%llu", (unsigned long long)v);
}

static bool is_char(const struct btf *btf, int id) {
  const struct btf_type *t = btf__type_by_id(btf, skip_mods(btf, id));
  if (!t || !btf_is_int(t) || t->size != 1)
    return false;
  const char *n = btf__name_by_offset(btf, t->name_off);
  return (btf_int_encoding(t) & BTF_INT_CHAR) || (n && strstr(n, "char"));
}

/* How a record prints: as a value ({ .a = 1, .b = 0 }, pointers in
 * decimal), in JSON ({ "a": 1, "b": 0 }) or inside a map key
 * ({.a=1,.b=0x0}, pointers in hex), the three forms bpftrace 0.17 uses. */
typedef enum { OBJ_TEXT, OBJ_JSON, OBJ_KEY } ObjStyle;

static void put_value(Buf *b, const struct btf *btf, int id, const unsigned char *p, int avail,
                      ObjStyle style);

static void put_members(Buf *b, const struct btf *btf, const struct btf_type *t,
                        const unsigned char *p, int avail, ObjStyle style, bool *first) {
  static const char *const lead[] = {" .%s = ", " \"%s\": ", ".%s="};
  static const char *const next[] = {", .%s = ", ", \"%s\": ", ",.%s="};
  const struct btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++) {
    uint32_t bits = btf_member_bit_offset(t, i), bsize = btf_member_bitfield_size(t, i);
    const char *name = btf__name_by_offset(btf, m->name_off);
    int mid = skip_mods(btf, m->type);
    const struct btf_type *mt = btf__type_by_id(btf, mid);
    int off = bits / 8;
    if (!name || !*name) { /* anonymous struct/union: flattened */
      if (mt && (btf_is_struct(mt) || btf_is_union(mt)))
        put_members(b, btf, mt, p + off, avail - off, style, first);
      continue;
    }
    buf_printf(b, *first ? lead[style] : next[style], name);
    *first = false;
    if (bsize) {
      int nbytes = (bits % 8 + bsize + 7) / 8;
      uint64_t v = off + nbytes <= avail ? load_uint(p + off, nbytes) : 0;
      v = (v >> (bits % 8)) & (bsize == 64 ? ~0ull : (1ull << bsize) - 1);
      buf_printf(b, "%llu", (unsigned long long)v);
    } else {
      put_value(b, btf, mid, p + off, avail - off, style);
    }
  }
}

static void put_value(Buf *b, const struct btf *btf, int id, const unsigned char *p, int avail,
                      ObjStyle style) {
  bool json = style == OBJ_JSON;
  id = skip_mods(btf, id);
  const struct btf_type *t = btf__type_by_id(btf, id);
  long long size = btf__resolve_size(btf, id);
  if (!t || size < 0 || size > avail) {
    buf_printf(b, json ? "null" : "?");
    return;
  }
  switch (btf_kind(t)) {
  case BTF_KIND_INT:
    if (t->size > 8) { buf_printf(b, json ? "null" : "?"); return; }
    put_int(b, load_uint(p, t->size), t->size, btf_int_encoding(t) & BTF_INT_SIGNED);
    return;
  case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
    put_int(b, load_uint(p, t->size), t->size, btf_kflag(t));
    return;
  case BTF_KIND_PTR: /* as pointer values and keys print */
    if (style == OBJ_KEY)
      buf_printf(b, "0x%llx", (unsigned long long)load_uint(p, 8));
    else
      buf_printf(b, "%lld", (long long)load_uint(p, 8));
    return;
  case BTF_KIND_STRUCT: case BTF_KIND_UNION: {
    bool first = true;
    buf_printf(b, "{");
    put_members(b, btf, t, p, avail, style, &first);
    buf_printf(b, first || style == OBJ_KEY ? "}" : " }");
    return;
  }
  case BTF_KIND_ARRAY: {
    const struct btf_array *a = btf_array(t);
    if (is_char(btf, a->type)) {
      size_t n = strnlen((const char *)p, a->nelems);
      if (json) {
        rt_json_string(b, (const char *)p, n);
      } else {
        buf_put(b, p, n);
      }
      return;
    }
    long long esize = btf__resolve_size(btf, a->type);
    buf_printf(b, "[");
    for (uint32_t i = 0; i < a->nelems && esize > 0; i++) {
      if (i)
        buf_printf(b, ",");
      put_value(b, btf, a->type, p + i * esize, avail - i * esize, style);
    }
    buf_printf(b, "]");
    return;
  }
  default:
    buf_printf(b, json ? "null" : "?");
  }
}

void rt_object_text(Buf *b, const Type *rec, const void *data, int size, bool json) {
  struct btf *btf = rec->btf;
  int btf_id = rec->btf_id;
  if (!btf) {
    buf_printf(b, "?");
    return;
  }
  put_value(b, btf, btf_id, data, size, json ? OBJ_JSON : OBJ_TEXT);
}

void rt_object_key_text(Buf *b, const Type *rec, const void *data, int size) {
  struct btf *btf = rec->btf;
  int btf_id = rec->btf_id;
  if (!btf) {
    buf_printf(b, "?");
    return;
  }
  put_value(b, btf, btf_id, data, size, OBJ_KEY);
}

/* ------------------------------------------------------------ btf_dump */

static void dump_printf(void *ctx, const char *fmt, va_list ap) {
  Buf *b = ctx;
  char tmp[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
  va_end(ap2);
  if (n < (int)sizeof tmp) {
    buf_put(b, tmp, n);
    return;
  }
  char *big = malloc(n + 1);
  vsnprintf(big, n + 1, fmt, ap);
  buf_put(b, big, n);
  free(big);
}

/* libbpf's typed dump of `size` bytes of type btf_id.  When the copy was
 * cut short (an object bigger than DUMP_MAX), the missing tail is zero
 * in `data` and a note says how much was real. */
int rt_object_dump(Buf *b, const Type *rec, const void *data, int size, int full,
                   bool compact) {
  struct btf *btf = rec->btf;
  int btf_id = rec->btf_id;
  if (!btf)
    return -1;
  struct btf_dump *d = btf_dump__new(btf, dump_printf, b, NULL);
  if (!d)
    return -1;
  LIBBPF_OPTS(btf_dump_type_data_opts, opts, .compact = compact, .emit_zeroes = false);
  int err = btf_dump__dump_type_data(d, btf_id, data, full, &opts);
  btf_dump__free(d);
  if (err < 0)
    return err;
  buf_put(b, "\n", 1);
  if (size < full)
    buf_printf(b, "... %d of %d bytes (the rest was not copied and shows as zero)\n", size, full);
  return 0;
}
