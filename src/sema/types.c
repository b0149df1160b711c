/* types.c - the type model shared by sema, cg and the runtime.
 *
 * Integers of every declared width occupy 8 bytes wherever they are stored
 * (map keys and values, ring-buffer records, tuples): the declared width
 * only matters for casts, arithmetic wrap-around and printing. */
#include "etrace.h"

#include <stdlib.h>
#include <string.h>

Type *ty_void, *ty_u64, *ty_s64, *ty_u32, *ty_s32, *ty_u8;
int etrace_strlen = 64;

static const char *strlen_env(const char **name) {
  *name = "ETRACE_STRLEN";
  const char *v = getenv(*name);
  if (!v)
    v = getenv(*name = "BPFTRACE_STRLEN");
  return v;
}

int types_check_env(void) {
  const char *name, *v = strlen_env(&name);
  if (!v)
    return 0;
  char *end;
  long n = strtol(v, &end, 10);
  /* bpftrace's words: the environment is the command line's business */
  if (end == v || *end || n <= 0) {
    diag_cli_error("Env var '%s' did not contain a valid uint64_t, or was zero-valued.", name);
    return -1;
  }
  if (n > 200) {
    diag_cli_error("'%s' %s exceeds the current maximum of 200 bytes.\n"
                   "This limitation is because strings are currently stored on the 512 byte "
                   "BPF stack.", name, v);
    return -1;
  }
  return 0;
}

static void strlen_from_env(void) {
  const char *name, *v = strlen_env(&name);
  if (!v)
    return;
  int n = atoi(v);
  if (n < 8)
    n = 8;
  if (n > 200)
    n = 200; /* several strings must fit in the 512-byte BPF stack */
  etrace_strlen = n;
}

static Type *new_type(TypeKind kind, int size) {
  Type *t = ealloc(sizeof(Type));
  t->kind = kind;
  t->size = size;
  return t;
}

/* After the config block has set BPFTRACE_STRLEN (main). */
void types_reload_env(void) { strlen_from_env(); }

void types_init(void) {
  strlen_from_env();
  ty_void = new_type(TY_VOID, 0);
  ty_u64 = ty_int(8, false);
  ty_s64 = ty_int(8, true);
  ty_u32 = ty_int(4, false);
  ty_s32 = ty_int(4, true);
  ty_u8 = ty_int(1, false);
}

Type *ty_int(int int_size, bool is_signed) {
  Type *t = new_type(TY_INT, 8);
  t->int_size = int_size;
  t->is_signed = is_signed;
  return t;
}

Type *ty_str(int size) { return new_type(TY_STR, size); }

Type *ty_ptr(Type *pointee, bool user) {
  Type *t = ty_int(8, false);
  t->is_ptr = true;
  t->user = user;
  t->pointee = pointee;
  return t;
}

int ty_mem_size(const Type *t) {
  if (t->kind == TY_INT)
    return t->int_size;
  return t->size;
}

int ty_lang_size(const Type *t) {
  return t->kind == TY_STR && t->lang_size ? t->lang_size : t->size;
}

Type *ty_tuple(Type **fields, int n) {
  Type *t = new_type(TY_TUPLE, 0);
  t->nfields = n;
  t->fields = ealloc(sizeof(Type *) * (n ? n : 1));
  t->offsets = ealloc(sizeof(int) * (n ? n : 1));
  int off = 0;
  for (int i = 0; i < n; i++) {
    t->fields[i] = fields[i];
    t->offsets[i] = off;
    off += (fields[i]->size + 7) & ~7;
  }
  t->size = off;
  return t;
}

/* Stored size of one CPU's aggregation value (see rt/maps.c for the merge). */
Type *ty_agg(TypeKind kind, bool is_signed) {
  int size = 8;
  if (kind == TY_MIN || kind == TY_MAX || kind == TY_AVG || kind == TY_STATS)
    size = 16;
  Type *t = new_type(kind, size);
  t->is_signed = is_signed;
  return t;
}

bool ty_is_agg(const Type *t) { return t && t->kind >= TY_COUNT && t->kind <= TY_LHIST; }

bool ty_is_int(const Type *t) { return t && t->kind == TY_INT; }

/* Values kept as bytes in memory (copied, never in a register): strings,
 * tuples, and builtins' byte values (buf, ntop, usym ...). */
bool ty_in_memory(const Type *t) {
  switch (t->kind) {
  case TY_STR: case TY_TUPLE: case TY_BUF: case TY_INET: case TY_USYM: case TY_MACADDR:
  case TY_RECORD: case TY_ARRAY: /* copies of structs and arrays */
    return true;
  default:
    return false;
  }
}

bool ty_same(const Type *a, const Type *b) {
  if (a->kind != b->kind)
    return false;
  switch (a->kind) {
  case TY_TUPLE:
    if (a->nfields != b->nfields)
      return false;
    for (int i = 0; i < a->nfields; i++)
      if (!ty_same(a->fields[i], b->fields[i]))
        return false;
    return true;
  case TY_LHIST:
    return a->lh_min == b->lh_min && a->lh_max == b->lh_max && a->lh_step == b->lh_step;
  case TY_RECORD:
    return a->btf_id == b->btf_id;
  case TY_ARRAY:
    return a->nelems == b->nelems && ty_same(a->elem, b->elem);
  case TY_STACK:
    return a->stack_user == b->stack_user && a->stack_mode == b->stack_mode &&
           a->stack_limit == b->stack_limit;
  default:
    return true;
  }
}

const char *ty_name(const Type *t) {
  switch (t->kind) {
  case TY_NONE: return "none";
  case TY_VOID: return "void";
  case TY_INT:
    if (t->is_ptr)
      return eprintf("%s *", t->pointee ? ty_name(t->pointee) : "void");
    return eprintf("%sint%d", t->is_signed ? "" : "u", t->int_size * 8);
  case TY_RECORD: return t->tag;
  case TY_ARRAY: return eprintf("%s[%d]", ty_name(t->elem), t->nelems);
  case TY_STR: return eprintf("string[%d]", t->size);
  case TY_TUPLE: {
    Buf b = {0};
    buf_put(&b, "(", 1);
    for (int i = 0; i < t->nfields; i++)
      buf_printf(&b, "%s%s", i ? "," : "", ty_name(t->fields[i]));
    buf_put(&b, ")", 1);
    char *s = estrdup(b.data);
    buf_free(&b);
    return s;
  }
  case TY_USERNAME: return "username";
  case TY_PROBE: return "probe";
  case TY_TIMESTAMP: return "timestamp";
  case TY_BUF: return eprintf("buffer[%d]", t->size - 8);
  case TY_CTX: return "args";
  case TY_STRERROR: return "strerror";
  case TY_INET: return "inet";
  case TY_STACK: return t->stack_user ? "ustack" : "kstack";
  case TY_KSYM: return "ksym";
  case TY_USYM: return "usym";
  case TY_MACADDR: return "mac_address";
  case TY_CGROUP_PATH: return "cgroup_path";
  case TY_COUNT: return "count";
  case TY_SUM: return "sum";
  case TY_MIN: return "min";
  case TY_MAX: return "max";
  case TY_AVG: return "avg";
  case TY_STATS: return "stats";
  case TY_HIST: return "hist";
  case TY_LHIST: return "lhist";
  }
  return "?";
}
