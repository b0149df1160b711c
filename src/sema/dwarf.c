/* dwarf.c - typed uprobe arguments from a binary's DWARF (libdw).
 *
 * For `uprobe:BIN:FUNC { args.NAME }` the function's DW_TAG_subprogram
 * gives parameter names and types; the types are converted into the
 * program BTF (btf_writable(pt)) so that member access, print() and dump()
 * work on them exactly as on kernel types.  Arguments are found where the
 * System V x86-64 ABI puts them at function entry: integer and pointer
 * parameters take rdi, rsi, rdx, rcx, r8, r9, then the stack; floating
 * point ones go to xmm registers (not readable here). */
#include "etrace.h"

#include <bpf/btf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A DIE (file, offset) converted into a BTF id. */
typedef struct Seen {
  const char *path;
  Dwarf_Off off;
  int id;
} Seen;

/* A type looked up by name in a file (id -1: the file defines none). */
typedef struct Named {
  const char *path, *name;
  int btf_kind, id;
} Named;

/* One compilation's conversions, so that a struct two uprobes share
 * becomes one BTF type (one Type, comparable by id). */
struct DwarfTypes {
  ProgramTypes *pt; /* the compilation's types: where conversions go */
  Seen *seen;
  int nseen;
  Named *named;
  int nnamed;
};

DwarfTypes *dwarf_types_new(ProgramTypes *pt) {
  DwarfTypes *dt = ealloc(sizeof(DwarfTypes));
  dt->pt = pt;
  return dt;
}

/* One dwarf_func_params call: where converted types go. */
typedef struct Conv {
  struct btf *btf; /* the program BTF */
  DwarfTypes *dt;
  const char *path; /* the file being read: DIE offsets are per file */
} Conv;

static int seen_id(Conv *cv, Dwarf_Off off) {
  for (int i = 0; i < cv->dt->nseen; i++)
    if (cv->dt->seen[i].off == off && !strcmp(cv->dt->seen[i].path, cv->path))
      return cv->dt->seen[i].id;
  return -1;
}

static void remember(Conv *cv, Dwarf_Off off, int id) {
  DwarfTypes *dt = cv->dt;
  dt->seen = egrow(dt->seen, dt->nseen, sizeof(Seen));
  dt->seen[dt->nseen++] = (Seen){cv->path, off, id};
}

static int convert(Conv *cv, Dwarf_Die *die);

/* The type a DIE's DW_AT_type names, converted; 0 for void. */
static int type_of(Conv *cv, Dwarf_Die *die) {
  Dwarf_Attribute a;
  Dwarf_Die t;
  if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
    return 0;
  return convert(cv, &t);
}

static uint64_t udata(Dwarf_Die *die, int attr, uint64_t dflt) {
  Dwarf_Attribute a;
  Dwarf_Word w;
  if (!dwarf_attr_integrate(die, attr, &a) || dwarf_formudata(&a, &w) != 0)
    return dflt;
  return w;
}

static int convert_record(Conv *cv, Dwarf_Die *die, bool is_union) {
  const char *name = dwarf_diename(die);
  if (dwarf_hasattr(die, DW_AT_declaration))
    return btf__add_fwd(cv->btf, name ? name : "", is_union ? BTF_FWD_UNION : BTF_FWD_STRUCT);
  /* Members may point back at this record: they see a forward declaration
   * that btf_type_of() resolves to the record once it exists. */
  int fwd = btf__add_fwd(cv->btf, name ? name : "", is_union ? BTF_FWD_UNION : BTF_FWD_STRUCT);
  remember(cv, dwarf_dieoffset(die), fwd);
  typedef struct { const char *name; int type; uint32_t bits, bitsize; } M;
  M *m = NULL;
  int nm = 0;
  Dwarf_Die child;
  if (dwarf_child(die, &child) == 0) {
    do {
      if (dwarf_tag(&child) != DW_TAG_member)
        continue;
      int t = type_of(cv, &child);
      if (t < 0)
        return -1;
      uint64_t bitsize = udata(&child, DW_AT_bit_size, 0);
      uint64_t bits = udata(&child, DW_AT_data_bit_offset, UINT64_MAX);
      if (bits == UINT64_MAX)
        bits = udata(&child, DW_AT_data_member_location, 0) * 8;
      m = egrow(m, nm, sizeof(M));
      m[nm++] = (M){dwarf_diename(&child), t, (uint32_t)bits, (uint32_t)bitsize};
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  uint64_t size = udata(die, DW_AT_byte_size, 0);
  int id = is_union ? btf__add_union(cv->btf, name, size) : btf__add_struct(cv->btf, name, size);
  for (int i = 0; i < nm && id > 0; i++)
    if (btf__add_field(cv->btf, m[i].name, m[i].type, m[i].bits, m[i].bitsize) < 0)
      return -1;
  btf_resolve_fwd(cv->dt->pt, fwd, id);
  return id;
}

static int convert_array(Conv *cv, Dwarf_Die *die) {
  int elem = type_of(cv, die);
  if (elem < 0)
    return -1;
  uint32_t dims[8];
  int nd = 0;
  Dwarf_Die child;
  if (dwarf_child(die, &child) == 0) {
    do {
      if (dwarf_tag(&child) != DW_TAG_subrange_type || nd == 8)
        continue;
      uint64_t count = udata(&child, DW_AT_count, UINT64_MAX);
      if (count == UINT64_MAX) {
        uint64_t ub = udata(&child, DW_AT_upper_bound, UINT64_MAX);
        count = ub == UINT64_MAX ? 0 : ub + 1; /* flexible array: 0 */
      }
      dims[nd++] = (uint32_t)count;
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  int index = btf__find_by_name_kind(cv->btf, "int", BTF_KIND_INT);
  if (index < 0)
    index = btf__add_int(cv->btf, "int", 4, BTF_INT_SIGNED);
  int id = elem;
  for (int i = nd - 1; i >= 0; i--)
    id = btf__add_array(cv->btf, index, id, dims[i]);
  return nd ? id : btf__add_array(cv->btf, index, elem, 0);
}

static int convert_enum(Conv *cv, Dwarf_Die *die) {
  int id = btf__add_enum(cv->btf, dwarf_diename(die), udata(die, DW_AT_byte_size, 4));
  Dwarf_Die child;
  if (dwarf_child(die, &child) == 0) {
    do {
      Dwarf_Attribute a;
      Dwarf_Sword v = 0;
      if (dwarf_tag(&child) == DW_TAG_enumerator &&
          dwarf_attr(&child, DW_AT_const_value, &a) && dwarf_formsdata(&a, &v) == 0)
        btf__add_enum_value(cv->btf, dwarf_diename(&child), v);
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  return id;
}

/* A DWARF type DIE as a BTF id in the program BTF (-1: cannot). */
static int convert(Conv *cv, Dwarf_Die *die) {
  Dwarf_Off off = dwarf_dieoffset(die);
  int id = seen_id(cv, off);
  if (id >= 0)
    return id;
  const char *name = dwarf_diename(die);
  switch (dwarf_tag(die)) {
  case DW_TAG_base_type: {
    uint64_t size = udata(die, DW_AT_byte_size, 0), enc = udata(die, DW_AT_encoding, 0);
    if (enc == DW_ATE_float || enc == DW_ATE_complex_float || size > 16)
      id = btf__add_int(cv->btf, name ? name : "float", size <= 8 ? size : 8, 0); /* bits only */
    else
      id = btf__add_int(cv->btf, name ? name : "int", size,
                        enc == DW_ATE_signed || enc == DW_ATE_signed_char ? BTF_INT_SIGNED
                        : enc == DW_ATE_boolean                          ? BTF_INT_BOOL
                                                                         : 0);
    break;
  }
  case DW_TAG_pointer_type:
  case DW_TAG_reference_type: {
    Dwarf_Attribute a;
    Dwarf_Die t;
    bool to_func = dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, &t) &&
                   dwarf_tag(&t) == DW_TAG_subroutine_type;
    int to = to_func ? 0 : type_of(cv, die);
    id = to < 0 ? -1 : btf__add_ptr(cv->btf, to);
    break;
  }
  case DW_TAG_const_type: { /* kept: -lv prints it ("const char* path") */
    int to = type_of(cv, die);
    id = to < 0 ? -1 : btf__add_const(cv->btf, to);
    break;
  }
  case DW_TAG_volatile_type:
  case DW_TAG_restrict_type:
  case DW_TAG_atomic_type:
    id = type_of(cv, die);
    break;
  case DW_TAG_typedef: {
    int to = type_of(cv, die);
    id = to < 0 ? -1 : btf__add_typedef(cv->btf, name, to);
    break;
  }
  case DW_TAG_structure_type:
  case DW_TAG_class_type:
    id = convert_record(cv, die, false);
    break;
  case DW_TAG_union_type:
    id = convert_record(cv, die, true);
    break;
  case DW_TAG_array_type:
    id = convert_array(cv, die);
    break;
  case DW_TAG_enumeration_type:
    id = convert_enum(cv, die);
    break;
  default:
    id = -1;
  }
  if (id >= 0)
    remember(cv, off, id);
  return id;
}

/* Whether a parameter of this type travels in one general register. */
static bool in_gp_register(Dwarf_Die *param, bool *is_float) {
  Dwarf_Attribute a;
  Dwarf_Die t;
  *is_float = false;
  if (!dwarf_attr_integrate(param, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
    return false;
  for (;;) { /* through typedefs and qualifiers */
    int tag = dwarf_tag(&t);
    if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type)
      break;
    if (!dwarf_attr_integrate(&t, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
      return false;
  }
  switch (dwarf_tag(&t)) {
  case DW_TAG_base_type:
    *is_float = udata(&t, DW_AT_encoding, 0) == DW_ATE_float;
    return !*is_float && udata(&t, DW_AT_byte_size, 0) <= 8;
  case DW_TAG_pointer_type: case DW_TAG_reference_type: case DW_TAG_enumeration_type:
    return true;
  default:
    return false; /* structs and unions by value */
  }
}

/* The first top-level DIE of any compilation unit that `want` accepts. */
typedef bool (*DieTest)(Dwarf_Die *die, const void *arg);
static bool find_top_die(Dwarf *dw, DieTest want, const void *arg, Dwarf_Die *out) {
  Dwarf_Off off = 0, next;
  size_t hsize;
  while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
    Dwarf_Die cu, child;
    if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
      do {
        if (want(&child, arg)) {
          *out = child;
          return true;
        }
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    off = next;
  }
  return false;
}

static bool is_function_def(Dwarf_Die *die, const void *func) {
  const char *n;
  return dwarf_tag(die) == DW_TAG_subprogram && !dwarf_hasattr(die, DW_AT_declaration) &&
         (n = dwarf_diename(die)) && !strcmp(n, func);
}

/* The defining DIE of function `func` in the file's DWARF. */
static bool find_function(Dwarf *dw, const char *func, Dwarf_Die *out) {
  return find_top_die(dw, is_function_def, func, out);
}

int dwarf_func_params(DwarfTypes *dt, const char *path, const char *func, DwParam **out,
                      const char **why) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = eprintf("cannot open %s", path);
    return -1;
  }
  Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
  if (!dw) {
    close(fd);
    *why = eprintf("%s has no DWARF debug information (build it with -g)", path);
    return -1;
  }
  Conv cv = {.btf = btf_writable(dt->pt), .dt = dt, .path = estrdup(path)};
  Dwarf_Die fn;
  int n = -1;
  if (!cv.btf) {
    *why = "cannot make a BTF for the program's types";
  } else if (!find_function(dw, func, &fn)) {
    *why = eprintf("%s has no DWARF description of function %s", path, func);
  } else {
    n = 0;
    int reg = 0;
    bool lost = false; /* after a struct passed by value: positions unknown */
    Dwarf_Die child;
    if (dwarf_child(&fn, &child) == 0) {
      do {
        if (dwarf_tag(&child) != DW_TAG_formal_parameter)
          continue;
        bool is_float;
        bool gp = in_gp_register(&child, &is_float);
        DwParam p = {.name = estrdup(dwarf_diename(&child) ? dwarf_diename(&child) : ""),
                     .type_id = type_of(&cv, &child), .arg = -1};
        if (gp && !lost)
          p.arg = reg++;
        else if (!is_float)
          lost = true;
        *out = egrow(*out, n, sizeof(DwParam));
        (*out)[n++] = p;
      } while (dwarf_siblingof(&child, &child) == 0);
    }
  }
  dwarf_end(dw);
  close(fd);
  return n;
}

/* The DWARF tag of a named type of BTF kind btf_kind. */
static bool tag_matches(int tag, int btf_kind) {
  switch (btf_kind) {
  case BTF_KIND_STRUCT: return tag == DW_TAG_structure_type || tag == DW_TAG_class_type;
  case BTF_KIND_UNION: return tag == DW_TAG_union_type;
  case BTF_KIND_ENUM: return tag == DW_TAG_enumeration_type;
  case BTF_KIND_TYPEDEF: return tag == DW_TAG_typedef;
  default: return false;
  }
}

typedef struct {
  const char *name;
  int btf_kind;
} NamedWant;

static bool is_named_def(Dwarf_Die *die, const void *arg) {
  const NamedWant *w = arg;
  const char *n;
  return tag_matches(dwarf_tag(die), w->btf_kind) && !dwarf_hasattr(die, DW_AT_declaration) &&
         (n = dwarf_diename(die)) && !strcmp(n, w->name);
}

/* The first definition (not a declaration) of the named type among the
 * top-level DIEs of every compilation unit. */
static bool find_named(Dwarf *dw, const char *name, int btf_kind, Dwarf_Die *out) {
  NamedWant w = {name, btf_kind};
  return find_top_die(dw, is_named_def, &w, out);
}

static int named_cached(DwarfTypes *dt, const char *path, const char *name, int btf_kind,
                        int **slot) {
  for (int i = 0; i < dt->nnamed; i++) {
    Named *n = &dt->named[i];
    if (n->btf_kind == btf_kind && !strcmp(n->name, name) && !strcmp(n->path, path)) {
      *slot = &n->id;
      return 1;
    }
  }
  dt->named = egrow(dt->named, dt->nnamed, sizeof(Named));
  dt->named[dt->nnamed] = (Named){estrdup(path), estrdup(name), btf_kind, -1};
  *slot = &dt->named[dt->nnamed++].id;
  return 0;
}

int dwarf_named_type(DwarfTypes *dt, const char *path, const char *name, int btf_kind) {
  int *id;
  if (named_cached(dt, path, name, btf_kind, &id))
    return *id;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
  Conv cv = {.btf = btf_writable(dt->pt), .dt = dt, .path = estrdup(path)};
  Dwarf_Die die;
  if (dw && cv.btf && find_named(dw, name, btf_kind, &die)) {
    int got = convert(&cv, &die);
    *id = got > 0 ? got : -1;
  }
  if (dw)
    dwarf_end(dw);
  close(fd);
  return *id;
}
