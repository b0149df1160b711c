/* btf.c - kernel types from vmlinux BTF.
 *
 * The BTF is parsed on first use only (about 14 ms and 13 MB here), so
 * programs that never touch a kernel type do not pay for it.  Offsets
 * come from the live kernel's BTF at compile time: no relocations. */
#include "etrace.h"

#include <bpf/btf.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* vmlinux BTF: a process-wide cache of a read-only kernel file, parsed
 * once and shared by every compilation in the process (the running
 * kernel's types do not change under us).  Not per-compilation state. */
static struct btf *kbase;
static bool kbase_tried;

/* ------------------------------------------------------------ program types
 *
 * C definitions in a program (cdefs.c) and types read from DWARF (dwarf.c)
 * go into a BTF split from vmlinux BTF: kernel ids stay the same, program
 * types get ids after them, and every lookup below sees both.  Program
 * names shadow kernel names. */

/* Records are made once per BTF id, so that ty_same() and the runtime
 * can compare them by id and a self-referencing struct costs nothing. */
typedef struct {
  int id;
  Type *t;
} RecCache;

typedef struct UserName {
  const char *name;
  int kind, id;
} UserName;

/* Everything one compilation adds to or remembers about the types. */
struct ProgramTypes {
  struct btf *btf; /* the program's split BTF, or vmlinux BTF until one is made */
  int nbase_types; /* ids below this are the kernel's (0: no split yet) */
  RecCache *recs;
  int nrecs;
  UserName *unames;
  int nunames;
  /* Forward declarations made while converting a self-referencing type
   * (dwarf.c) and the type they stand for. */
  int (*fwds)[2];
  int nfwds;
  /* Where names neither the program nor the kernel defines are looked
   * up last (btf_set_fallback). */
  BtfFallback fallback;
  void *fallback_arg;
};

static struct btf *vmlinux(void) {
  if (!kbase_tried) {
    kbase_tried = true;
    kbase = btf__load_vmlinux_btf(); /* NULL when the kernel has none */
  }
  return kbase;
}

struct btf *btf_vmlinux(void) { return vmlinux(); }

/* One compilation's types: made by whoever compiles (before cdefs_process),
 * kept until the runtime printers are done with the program's records. */
ProgramTypes *program_types_new(void) {
  ProgramTypes *pt = calloc(1, sizeof *pt);
  pt->btf = vmlinux();
  return pt;
}

void program_types_free(ProgramTypes *pt) {
  if (!pt)
    return;
  free(pt->recs);
  free(pt->unames);
  free(pt->fwds);
  if (pt->nbase_types)
    btf__free(pt->btf);
  free(pt);
}

struct btf *btf_program(ProgramTypes *pt) { return pt->btf; }

struct btf *btf_writable(ProgramTypes *pt) {
  struct btf *base = vmlinux();
  if (pt->nbase_types)
    return pt->btf;
  struct btf *b = base ? btf__new_empty_split(base) : btf__new_empty();
  if (!b)
    return NULL;
  pt->nbase_types = base ? btf__type_cnt(base) : 1;
  pt->btf = b;
  return pt->btf;
}

void btf_user_define(ProgramTypes *pt, const char *name, int kind, int id) {
  pt->unames = realloc(pt->unames, sizeof(UserName) * (pt->nunames + 1));
  pt->unames[pt->nunames++] = (UserName){estrdup(name), kind, id};
}

void btf_set_fallback(ProgramTypes *pt, BtfFallback fn, void *arg) {
  pt->fallback = fn;
  pt->fallback_arg = arg;
}

static int program_or_kernel_type(ProgramTypes *pt, const char *name, int kind);

int btf_lookup(ProgramTypes *pt, const char *name, int kind) {
  int id = program_or_kernel_type(pt, name, kind);
  if (id < 0 && pt->fallback)
    id = pt->fallback(pt->fallback_arg, name, kind);
  return id;
}

static int program_or_kernel_type(ProgramTypes *pt, const char *name, int kind) {
  if (!pt->btf)
    return -1;
  for (int i = pt->nunames - 1; i >= 0; i--)
    if (pt->unames[i].kind == kind && !strcmp(pt->unames[i].name, name))
      return pt->unames[i].id;
  if (!kbase)
    return -1;
  int id = btf_vmlinux_find(name, kind); /* indexed (btfindex.c) */
  if (id < 0 && kind == BTF_KIND_ENUM)
    id = btf_vmlinux_find(name, BTF_KIND_ENUM64);
  return id;
}

/* The value of the kernel enumerator `name` (TASK_COMM_LEN,
 * BPF_MAP_TYPE_HASH ...): true when some enum of vmlinux defines it. */
bool btf_enum_value(const char *name, uint64_t *out) {
  if (!vmlinux())
    return false;
  int n = btf__type_cnt(kbase);
  for (int id = 1; id < n; id++) {
    const struct btf_type *t = btf__type_by_id(kbase, id);
    if (!btf_is_enum(t) && !btf_is_enum64(t))
      continue;
    for (int i = 0; i < btf_vlen(t); i++) {
      bool e32 = btf_is_enum(t);
      const char *en = btf__name_by_offset(kbase, e32 ? btf_enum(t)[i].name_off
                                                      : btf_enum64(t)[i].name_off);
      if (en && !strcmp(en, name)) {
        *out = e32 ? (uint64_t)(int64_t)btf_enum(t)[i].val : btf_enum64_value(&btf_enum64(t)[i]);
        return true;
      }
    }
  }
  return false;
}

void btf_resolve_fwd(ProgramTypes *pt, int fwd_id, int real_id) {
  pt->fwds = realloc(pt->fwds, sizeof *pt->fwds * (pt->nfwds + 1));
  pt->fwds[pt->nfwds][0] = fwd_id;
  pt->fwds[pt->nfwds++][1] = real_id;
}

bool btf_is_kernel_type(ProgramTypes *pt, int id) { return pt->nbase_types == 0 || id < pt->nbase_types; }


static int skip_modifiers(ProgramTypes *pt, int id) {
  for (;;) {
    const struct btf_type *t = btf__type_by_id(pt->btf, id);
    if (!t)
      return id;
    switch (btf_kind(t)) {
    case BTF_KIND_TYPEDEF: case BTF_KIND_CONST: case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
      id = t->type;
      break;
    default:
      return id;
    }
  }
}

static Type *record_type(ProgramTypes *pt, int id, const struct btf_type *t) {
  for (int i = 0; i < pt->nrecs; i++)
    if (pt->recs[i].id == id)
      return pt->recs[i].t;
  Type *r = ealloc(sizeof(Type));
  r->kind = TY_RECORD;
  r->size = t->size;
  r->btf_id = id;
  r->btf = pt->btf; /* the runtime printers read the record with it */
  const char *name = btf__name_by_offset(pt->btf, t->name_off);
  r->tag = eprintf("%s %s", btf_is_union(t) ? "union" : "struct",
                   name && *name ? name : "(anonymous)");
  pt->recs = realloc(pt->recs, sizeof(RecCache) * (pt->nrecs + 1));
  pt->recs[pt->nrecs++] = (RecCache){id, r};
  return r;
}

/* A char array member: a string, whose bytes can also be indexed
 * (p->name[0]) as elements of type `elem`. */
static Type *char_array(Type *elem, int nelems) {
  Type *s = ty_str(nelems);
  s->elem = elem;
  s->nelems = nelems;
  return s;
}

Type *btf_type_of(ProgramTypes *pt, int id, bool user) {
  if (!pt->btf)
    return NULL;
  id = skip_modifiers(pt, id);
  const struct btf_type *t = btf__type_by_id(pt->btf, id);
  if (!t || id == 0)
    return NULL; /* void */
  switch (btf_kind(t)) {
  case BTF_KIND_INT: {
    int enc = btf_int_encoding(t);
    int size = t->size;
    if (size != 1 && size != 2 && size != 4 && size != 8)
      return NULL; /* __int128 */
    return ty_int(size, (enc & BTF_INT_SIGNED) != 0);
  }
  case BTF_KIND_ENUM:
  case BTF_KIND_ENUM64:
    return ty_int(t->size, btf_kflag(t));
  case BTF_KIND_PTR: {
    int to = skip_modifiers(pt, t->type);
    const struct btf_type *target = btf__type_by_id(pt->btf, to);
    Type *pointee = NULL;
    if (target && to != 0 && btf_kind(target) != BTF_KIND_FUNC_PROTO)
      pointee = btf_type_of(pt, to, user);
    return ty_ptr(pointee, user);
  }
  case BTF_KIND_STRUCT:
  case BTF_KIND_UNION:
    return record_type(pt, id, t);
  case BTF_KIND_FWD: { /* a struct used before its definition was complete */
    for (int i = 0; i < pt->nfwds; i++)
      if (pt->fwds[i][0] == id)
        return btf_type_of(pt, pt->fwds[i][1], user);
    const char *name = btf__name_by_offset(pt->btf, t->name_off);
    int def = btf_lookup(pt, name, btf_kflag(t) ? BTF_KIND_UNION : BTF_KIND_STRUCT);
    return def > 0 && def != id ? btf_type_of(pt, def, user) : NULL;
  }
  case BTF_KIND_ARRAY: {
    const struct btf_array *a = btf_array(t);
    Type *elem = btf_type_of(pt, a->type, user);
    if (!elem)
      return NULL;
    /* char arrays read as strings, as bpftrace does (comm, filename) */
    if (elem->kind == TY_INT && elem->int_size == 1 && !elem->is_ptr) {
      const struct btf_type *et = btf__type_by_id(pt->btf, skip_modifiers(pt, a->type));
      const char *en = btf__name_by_offset(pt->btf, et->name_off);
      if (a->nelems > 0 && ((btf_is_int(et) && (btf_int_encoding(et) & BTF_INT_CHAR)) ||
                            (en && strstr(en, "char"))))
        return char_array(elem, a->nelems);
    }
    Type *arr = ealloc(sizeof(Type));
    arr->kind = TY_ARRAY;
    arr->elem = elem;
    arr->nelems = a->nelems;
    arr->size = a->nelems * ty_mem_size(elem);
    return arr;
  }
  default:
    return NULL; /* float, function */
  }
}

/* ------------------------------------------------------------ type names */

static const struct {
  const char *name;
  int size;
  bool sgn;
} int_names[] = {
    {"int8", 1, 1},  {"int16", 2, 1},  {"int32", 4, 1},  {"int64", 8, 1},
    {"uint8", 1, 0}, {"uint16", 2, 0}, {"uint32", 4, 0}, {"uint64", 8, 0},
    {"s8", 1, 1},    {"s16", 2, 1},    {"s32", 4, 1},    {"s64", 8, 1},
    {"u8", 1, 0},    {"u16", 2, 0},    {"u32", 4, 0},    {"u64", 8, 0},
    {"bool", 1, 0},
};

Type *btf_int_named(const char *name) {
  for (size_t i = 0; i < sizeof int_names / sizeof int_names[0]; i++)
    if (!strcmp(name, int_names[i].name))
      return ty_int(int_names[i].size, int_names[i].sgn);
  return NULL;
}

/* C base types spelled with several words: "unsigned long", "char"... */
static Type *c_base_type(char **words, int n) {
  bool is_unsigned = false, is_signed = false;
  int longs = 0, shorts = 0, chars = 0, ints = 0;
  for (int i = 0; i < n; i++) {
    if (!strcmp(words[i], "unsigned")) is_unsigned = true;
    else if (!strcmp(words[i], "signed")) is_signed = true;
    else if (!strcmp(words[i], "long")) longs++;
    else if (!strcmp(words[i], "short")) shorts++;
    else if (!strcmp(words[i], "char")) chars++;
    else if (!strcmp(words[i], "int")) ints++;
    else return NULL;
  }
  if (chars)
    return ty_int(1, !is_unsigned);
  if (shorts)
    return ty_int(2, !is_unsigned);
  if (longs)
    return ty_int(8, !is_unsigned);
  if (ints || is_unsigned || is_signed)
    return ty_int(4, !is_unsigned);
  return NULL;
}

/* "struct task_struct *", "unsigned int", "u32", "pid_t *", "void *".
 * Kernel names come from BTF; NULL with *why set when unknown. */
Type *btf_parse_type(ProgramTypes *pt, const char *text, bool user, const char **why) {
  char *words[16];
  int n = 0, stars = 0;
  char *s = estrdup(text);
  for (char *p = s; *p;) {
    if (isspace((unsigned char)*p)) {
      p++;
    } else if (*p == '*') {
      stars++;
      p++;
    } else {
      char *start = p;
      while (*p && !isspace((unsigned char)*p) && *p != '*')
        p++;
      if (n == 16) {
        *why = "type name too long";
        return NULL;
      }
      words[n++] = estrndup(start, p - start);
    }
  }
  /* drop qualifiers */
  int m = 0;
  for (int i = 0; i < n; i++)
    if (strcmp(words[i], "const") && strcmp(words[i], "volatile"))
      words[m++] = words[i];
  n = m;
  if (n == 0) {
    *why = "missing type name";
    return NULL;
  }
  Type *base = NULL;
  bool is_void = n == 1 && !strcmp(words[0], "void");
  if (is_void) {
    if (!stars) {
      *why = "cannot cast to void";
      return NULL;
    }
  } else if (n == 2 && (!strcmp(words[0], "struct") || !strcmp(words[0], "union") ||
                        !strcmp(words[0], "enum"))) {
    if (!pt->btf) {
      *why = "the kernel has no BTF (/sys/kernel/btf/vmlinux), so kernel types are unknown";
      return NULL;
    }
    int kind = words[0][0] == 's' ? BTF_KIND_STRUCT : words[0][0] == 'u' ? BTF_KIND_UNION
                                                                        : BTF_KIND_ENUM;
    int id = btf_lookup(pt, words[1], kind);
    if (id < 0) {
      *why = eprintf("unknown type '%s %s' (not in the kernel's BTF)", words[0], words[1]);
      return NULL;
    }
    base = btf_type_of(pt, id, user);
  } else if (n == 1 && (base = btf_int_named(words[0]))) {
    /* etrace's own integer names */
  } else if ((base = c_base_type(words, n))) {
    /* C integer types */
  } else if (n == 1) {
    int id = btf_lookup(pt, words[0], BTF_KIND_TYPEDEF);
    if (id < 0) {
      *why = eprintf("unknown type '%s'", words[0]);
      return NULL;
    }
    base = btf_type_of(pt, id, user);
    if (!base) {
      *why = eprintf("type '%s' cannot be used (it is not an integer, pointer or struct)",
                     words[0]);
      return NULL;
    }
  } else {
    *why = eprintf("unknown type '%s'", text);
    return NULL;
  }
  Type *t = base;
  for (int i = 0; i < stars; i++)
    t = ty_ptr(t, user);
  return t;
}

/* ------------------------------------------------------------ members */

static bool find_in(ProgramTypes *pt, int id, const char *name, int base_bits, BtfMember *out) {
  const struct btf_type *t = btf__type_by_id(pt->btf, id);
  if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
    return false;
  const struct btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++) {
    const char *mn = btf__name_by_offset(pt->btf, m->name_off);
    int bits = base_bits + btf_member_bit_offset(t, i);
    if (mn && *mn) {
      if (strcmp(mn, name))
        continue;
      out->type_id = m->type;
      out->bit_size = btf_member_bitfield_size(t, i);
      out->offset = bits / 8;
      out->bit_shift = out->bit_size ? bits % 8 : 0;
      return true;
    }
    /* an anonymous struct or union: its members belong to this one */
    if (find_in(pt, skip_modifiers(pt, m->type), name, bits, out))
      return true;
  }
  return false;
}

bool btf_find_member(ProgramTypes *pt, const Type *rec, const char *name, bool user,
                     BtfMember *out) {
  if (rec->kind != TY_RECORD || !pt->btf)
    return false;
  memset(out, 0, sizeof *out);
  if (!find_in(pt, rec->btf_id, name, 0, out))
    return false;
  out->type = btf_type_of(pt, out->type_id, user);
  return true;
}

/* The parameters of raw tracepoint `name`, from the prototype of the
 * kernel's __probestub_NAME (it has parameter names; the btf_trace_NAME
 * typedef does not).  The first parameter (void *__data) is not an
 * argument.  Returns the number of arguments, or -1 if unknown. */
int btf_tp_params(const char *name, const char ***names, int **type_ids) {
  struct btf *kb = vmlinux();
  if (!kb)
    return -1;
  int id = btf_vmlinux_find(eprintf("__probestub_%s", name), BTF_KIND_FUNC);
  if (id < 0)
    return -1;
  const struct btf_type *f = btf__type_by_id(kb, id);
  const struct btf_type *proto = btf__type_by_id(kb, f->type);
  if (!proto || !btf_is_func_proto(proto) || btf_vlen(proto) < 1)
    return -1;
  int n = btf_vlen(proto) - 1;
  const struct btf_param *p = btf_params(proto) + 1;
  *names = ealloc(sizeof(char *) * (n + 1));
  *type_ids = ealloc(sizeof(int) * (n + 1));
  for (int i = 0; i < n; i++) {
    (*names)[i] = estrdup(btf__name_by_offset(kb, p[i].name_off));
    (*type_ids)[i] = p[i].type;
  }
  return n;
}

/* Whether the kernel has a raw tracepoint `name` (btf_trace_NAME). */
bool btf_has_raw_tp(const char *name) {
  return btf_vmlinux_find(eprintf("btf_trace_%s", name), BTF_KIND_TYPEDEF) >= 0;
}

/* Every raw tracepoint name matching glob, for -l and wildcards. */
int btf_raw_tp_glob(const char *glob, void (*add)(void *arg, const char *name), void *arg) {
  struct btf *kb = vmlinux();
  if (!kb)
    return -1;
  int n = 0, cnt = btf__type_cnt(kb);
  for (int id = 1; id < cnt; id++) {
    const struct btf_type *t = btf__type_by_id(kb, id);
    if (!btf_is_typedef(t))
      continue;
    const char *nm = btf__name_by_offset(kb, t->name_off);
    if (strncmp(nm, "btf_trace_", 10) || fnmatch(glob, nm + 10, 0))
      continue;
    add(arg, nm + 10);
    n++;
  }
  return n;
}

/* A BTF type as C spells it, for -lv: "struct task_struct *",
 * "unsigned int", "const char *". */
const char *btf_c_name(ProgramTypes *pt, int id) {
  if (!pt->btf)
    return "?";
  const struct btf_type *t = btf__type_by_id(pt->btf, id);
  if (!t || id == 0)
    return "void";
  const char *name = btf__name_by_offset(pt->btf, t->name_off);
  switch (btf_kind(t)) {
  case BTF_KIND_PTR: {
    const struct btf_type *target = btf__type_by_id(pt->btf, t->type);
    if (target && btf_is_func_proto(target))
      return "void *"; /* a function pointer */
    const char *to = btf_c_name(pt, t->type);
    return eprintf("%s%s*", to, to[strlen(to) - 1] == '*' ? "" : " ");
  }
  case BTF_KIND_CONST: return eprintf("const %s", btf_c_name(pt, t->type));
  case BTF_KIND_VOLATILE: return eprintf("volatile %s", btf_c_name(pt, t->type));
  case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG: return btf_c_name(pt, t->type);
  case BTF_KIND_STRUCT: return eprintf("struct %s", name);
  case BTF_KIND_UNION: return eprintf("union %s", name);
  case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return eprintf("enum %s", name);
  case BTF_KIND_ARRAY: return eprintf("%s[%u]", btf_c_name(pt, btf_array(t)->type), btf_array(t)->nelems);
  default: return name && *name ? name : "?";
  }
}

/* ------------------------------------------------------------ -l 'struct X' */

static void print_to_file(void *ctx, const char *fmt, va_list ap) { vfprintf(ctx, fmt, ap); }

/* The C definition of a struct/union/enum, one member per line, as
 * bpftrace's -lv prints it. */
static void print_definition(FILE *f, struct btf *btf, struct btf_dump *d, int id) {
  const struct btf_type *t = btf__type_by_id(btf, id);
  const char *name = btf__name_by_offset(btf, t->name_off);
  if (btf_is_enum(t) || btf_is_enum64(t)) {
    fprintf(f, "enum %s {\n", name);
    for (int i = 0; i < btf_vlen(t); i++) {
      const char *en = btf_is_enum(t) ? btf__name_by_offset(btf, btf_enum(t)[i].name_off)
                                      : btf__name_by_offset(btf, btf_enum64(t)[i].name_off);
      long long v = btf_is_enum(t) ? (long long)btf_enum(t)[i].val
                                   : (long long)btf_enum64_value(&btf_enum64(t)[i]);
      fprintf(f, "\t%s = %lld,\n", en, v);
    }
    fprintf(f, "};\n\n");
    return;
  }
  fprintf(f, "%s %s {\n", btf_is_union(t) ? "union" : "struct", name);
  const struct btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++) {
    LIBBPF_OPTS(btf_dump_emit_type_decl_opts, opts,
                .field_name = btf__name_by_offset(btf, m->name_off), .indent_level = 1);
    fputc('\t', f);
    btf_dump__emit_type_decl(d, m->type, &opts);
    if (btf_member_bitfield_size(t, i))
      fprintf(f, ": %u", btf_member_bitfield_size(t, i));
    fprintf(f, ";\n");
  }
  fprintf(f, "};\n\n");
}

/* -l / -lv for "struct GLOB", "union GLOB", "enum GLOB".  Returns 1 when
 * glob names such types (listed), 0 when it does not, -1 without BTF. */
int btf_list_types(FILE *f, const char *glob, bool verbose) {
  static const struct { const char *word; int kind; } kinds[] = {
      {"struct ", BTF_KIND_STRUCT}, {"union ", BTF_KIND_UNION}, {"enum ", BTF_KIND_ENUM}};
  int kind = -1;
  const char *pat = NULL;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strncmp(glob, kinds[i].word, strlen(kinds[i].word))) {
      kind = kinds[i].kind;
      pat = glob + strlen(kinds[i].word);
    }
  if (kind < 0)
    return 0;
  struct btf *btf = vmlinux();
  if (!btf) {
    diag_fatal("cannot list %s: the kernel has no BTF (/sys/kernel/btf/vmlinux)", glob);
    return -1;
  }
  struct btf_dump *d = btf_dump__new(btf, print_to_file, f, NULL);
  int cnt = btf__type_cnt(btf), found = 0;
  const char **names = NULL;
  int *ids = NULL;
  for (int id = 1; id < cnt; id++) {
    const struct btf_type *t = btf__type_by_id(btf, id);
    int k = btf_kind(t) == BTF_KIND_ENUM64 ? BTF_KIND_ENUM : btf_kind(t);
    const char *name = btf__name_by_offset(btf, t->name_off);
    if (k != kind || !name || !*name || fnmatch(pat, name, 0))
      continue;
    bool dup = false; /* BTF may repeat a name; list it once */
    for (int j = 0; j < found && !dup; j++)
      dup = !strcmp(names[j], name);
    if (dup)
      continue;
    names = realloc(names, sizeof(char *) * (found + 1));
    ids = realloc(ids, sizeof(int) * (found + 1));
    names[found] = name;
    ids[found++] = id;
  }
  /* sorted by name, as bpftrace lists */
  for (int i = 1; i < found; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      const char *tn = names[j]; names[j] = names[j - 1]; names[j - 1] = tn;
      int ti = ids[j]; ids[j] = ids[j - 1]; ids[j - 1] = ti;
    }
  for (int i = 0; i < found; i++) {
    if (verbose)
      print_definition(f, btf, d, ids[i]);
    else
      fprintf(f, "%s%s\n", glob[0] == 's' ? "struct " : glob[0] == 'u' ? "union " : "enum ",
              names[i]);
  }
  btf_dump__free(d);
  free(names);
  free(ids);
  return 1;
}
