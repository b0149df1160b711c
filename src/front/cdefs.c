/* cdefs.c - the C part of a program, without a C compiler.
 *
 * Before its first probe a program may hold preprocessor lines and C type
 * definitions, as bpftrace allows:
 *
 *   #include "mytypes.h"            (searched next to the file, then -I
 *   #define MAX 64                   dirs, then /usr/local/include,
 *   struct req { int id; char name[16]; struct req *next; };   /usr/include)
 *   enum color { RED, GREEN = 4 };
 *   typedef unsigned int handle_t;
 *
 * Types go into a program BTF layered on vmlinux BTF (btf_writable(pt)), so
 * casts, member access, print() and dump() treat them like kernel types.
 * Object-like macros and enum constants are substituted in the rest of
 * the program (outside strings and comments).  Headers are read for what
 * etrace needs: directives and type definitions; function prototypes,
 * extern declarations and inline function bodies are skipped.  The
 * preamble's text is blanked (newlines kept) so locations stay right. */
#include "etrace.h"

#include <bpf/btf.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ macros */

typedef struct Macro {
  char *name, *body;
  bool function_like;
} Macro;

/* An #if being read: is its current branch on, was one taken already. */
typedef struct Cond {
  bool active, taken, parent_active;
} Cond;

/* One call of cdefs_process: everything it reads and defines.  The C
 * cursors below carry it, so nothing outlives the call. */
typedef struct Cdefs {
  Macro *macros;
  int nmacros;
  bool failed;
  bool quiet;      /* parsing a header's definition: a failure skips it */
  ProgramTypes *pt; /* the compilation's types */
  struct btf *btf;  /* their BTF (btf_writable(pt)) */
  struct { const char *name; int id; } ints[32]; /* int types made so far */
  int nints;
  Cond conds[64];  /* open #if's, innermost last */
  int nconds;
  const char *const *inc_dirs;
  int ninc_dirs;
  int include_depth;
  int macro_depth; /* macros expanded inside an #if expression */
} Cdefs;

static Macro *find_macro(Cdefs *cx, const char *name, size_t len) {
  for (int i = cx->nmacros - 1; i >= 0; i--)
    if (strlen(cx->macros[i].name) == len && !strncmp(cx->macros[i].name, name, len))
      return &cx->macros[i];
  return NULL;
}

static void define(Cdefs *cx, const char *name, const char *body, bool function_like) {
  cx->macros = egrow(cx->macros, cx->nmacros, sizeof(Macro));
  cx->macros[cx->nmacros++] = (Macro){estrdup(name), estrdup(body), function_like};
}

static void undefine(Cdefs *cx, const char *name) {
  Macro *m = find_macro(cx, name, strlen(name));
  if (m)
    m->name = estrdup(""); /* never matches an identifier */
}

/* ------------------------------------------------------------ C tokens */

typedef enum { CT_ID, CT_NUM, CT_PUNCT, CT_STR, CT_EOF } CTokKind;

typedef struct CTok {
  CTokKind kind;
  const char *text;
  int len;
  uint64_t val;
  Loc loc;
} CTok;

/* A cursor over one file's text. */
typedef struct Cur {
  const Source *src;
  const char *p;
  int line, col;
  char *blank;     /* main program: its copy, blanked as it is consumed */
  const char *base;
  bool header;     /* an #included file: skip what is not a definition */
  const char *dir; /* directory of the file, for #include "x" */
  Cdefs *cx;
} Cur;


static void cerr(Cdefs *cx, Loc loc, const Source *src, const char *fmt, const char *arg) {
  if (cx->quiet) {
    cx->failed = true;
    return;
  }
  const Source *saved = diag_source;
  diag_source = src;
  diag_error(loc, fmt, arg);
  diag_source = saved;
  cx->failed = true;
}

static void step(Cur *c) {
  if (c->blank && *c->p != '\n')
    c->blank[c->p - c->base] = ' ';
  if (*c->p == '\n') {
    c->line++;
    c->col = 1;
  } else {
    c->col++;
  }
  c->p++;
}

static void skip_space(Cur *c) {
  for (;;) {
    if (isspace((unsigned char)*c->p)) {
      step(c);
    } else if (c->p[0] == '/' && c->p[1] == '/') {
      while (*c->p && *c->p != '\n')
        step(c);
    } else if (c->p[0] == '/' && c->p[1] == '*') {
      step(c), step(c);
      while (*c->p && !(c->p[0] == '*' && c->p[1] == '/'))
        step(c);
      if (*c->p)
        step(c), step(c);
    } else {
      return;
    }
  }
}

static CTok next_tok(Cur *c) {
  skip_space(c);
  CTok t = {.text = c->p, .loc = {c->line, c->col}};
  if (!*c->p) {
    t.kind = CT_EOF;
    return t;
  }
  if (isalpha((unsigned char)*c->p) || *c->p == '_') {
    while (isalnum((unsigned char)*c->p) || *c->p == '_')
      step(c);
    t.kind = CT_ID;
  } else if (isdigit((unsigned char)*c->p)) {
    char *end;
    t.val = strtoull(c->p, &end, 0);
    while (c->p < end || isalnum((unsigned char)*c->p)) /* and suffixes: 10UL */
      step(c);
    t.kind = CT_NUM;
  } else if (*c->p == '"') {
    step(c);
    while (*c->p && *c->p != '"' && *c->p != '\n')
      step(c);
    if (*c->p == '"')
      step(c);
    t.kind = CT_STR;
  } else {
    step(c);
    t.kind = CT_PUNCT;
  }
  t.len = c->p - t.text;
  return t;
}

static CTok peek_tok(Cur *c) {
  Cur save = *c;
  char *blank = c->blank;
  c->blank = NULL; /* peeking consumes nothing */
  CTok t = next_tok(c);
  *c = save;
  c->blank = blank;
  return t;
}

static bool is(const CTok *t, const char *s) {
  return (int)strlen(s) == t->len && !strncmp(t->text, s, t->len);
}

static char *tok_str(const CTok *t) { return estrndup(t->text, t->len); }

/* ------------------------------------------------------------ types */

/* An integer type in the program BTF (made once per name). */
static int int_type(Cdefs *cx, const char *name, int size, bool sgn) {
  /* remembered here: libbpf's lookup scans all of vmlinux's types */
  for (int i = 0; i < cx->nints; i++)
    if (!strcmp(cx->ints[i].name, name))
      return cx->ints[i].id;
  int id = btf__add_int(cx->btf, name, size, sgn ? BTF_INT_SIGNED : 0);
  if (id > 0 && cx->nints < 32)
    cx->ints[cx->nints].name = estrdup(name), cx->ints[cx->nints++].id = id;
  return id;
}

/* A named type: a program typedef, a kernel typedef, or etrace's names. */
static int named_type(Cdefs *cx, const char *name) {
  int id = btf_lookup(cx->pt, name, BTF_KIND_TYPEDEF);
  if (id > 0)
    return id;
  Type *t = btf_int_named(name);
  if (t && !strcmp(name, "bool"))
    return int_type(cx, "_Bool", 1, false);
  if (t)
    return int_type(cx, name, t->int_size, t->is_signed);
  return -1;
}

static int type_size(Cdefs *cx, int id) {
  long long s = btf__resolve_size(cx->btf, id);
  return s < 0 ? 0 : (int)s;
}

static int type_align(Cdefs *cx, int id) {
  int a = btf__align_of(cx->btf, id);
  return a > 0 ? a : 1;
}

static int parse_record(Cur *c, bool is_union, const char *name, Loc loc);
static int parse_enum(Cur *c, const char *name);
static bool is_tok_lbrace(Cur *c);

/* __attribute__((...)): a balanced parenthesised group, skipped. */
static void skip_parens(Cur *c) {
  CTok t = peek_tok(c);
  if (!is(&t, "("))
    return;
  int depth = 0;
  do {
    t = next_tok(c);
    if (is(&t, "("))
      depth++;
    else if (is(&t, ")"))
      depth--;
  } while (depth > 0 && t.kind != CT_EOF);
}

/* type-specifier: C integer words, struct/union/enum NAME, an inline
 * struct/union/enum body, or a typedef name.  Returns a BTF id (0 for
 * void), or -1 after an error. */
static int parse_specifier(Cur *c) {
  Cdefs *cx = c->cx;
  int unsig = 0, sig = 0, longs = 0, shorts = 0, chars = 0, ints = 0, bools = 0, voids = 0;
  bool any = false;
  for (;;) {
    CTok t = peek_tok(c);
    if (t.kind != CT_ID)
      break;
    if (is(&t, "const") || is(&t, "volatile") || is(&t, "static") || is(&t, "extern") ||
        is(&t, "inline") || is(&t, "__restrict") || is(&t, "restrict") || is(&t, "register") ||
        is(&t, "__extension__") || is(&t, "__inline") || is(&t, "__inline__") ||
        is(&t, "__const") || is(&t, "__volatile__") || is(&t, "_Noreturn")) {
      next_tok(c);
      continue;
    }
    if (is(&t, "__attribute__") || is(&t, "__attribute") || is(&t, "__aligned")) {
      next_tok(c);
      skip_parens(c);
      continue;
    }
    if (is(&t, "unsigned")) unsig++;
    else if (is(&t, "signed") || is(&t, "__signed__") || is(&t, "__signed")) sig++;
    else if (is(&t, "long")) longs++;
    else if (is(&t, "short")) shorts++;
    else if (is(&t, "char")) chars++;
    else if (is(&t, "int")) ints++;
    else if (is(&t, "_Bool") || is(&t, "bool")) bools++;
    else if (is(&t, "void")) voids++;
    else if (!any && (is(&t, "struct") || is(&t, "union") || is(&t, "enum"))) {
      next_tok(c);
      CTok n = peek_tok(c);
      char *name = NULL;
      if (n.kind == CT_ID) {
        next_tok(c);
        name = tok_str(&n);
      }
      if (is_tok_lbrace(c))
        return t.text[0] == 'e' ? parse_enum(c, name) : parse_record(c, t.text[0] == 'u', name, t.loc);
      if (!name) {
        cerr(cx, t.loc, c->src, "expected a name or '{' after '%s'", tok_str(&t));
        return -1;
      }
      int kind = t.text[0] == 's' ? BTF_KIND_STRUCT : t.text[0] == 'u' ? BTF_KIND_UNION
                                                                       : BTF_KIND_ENUM;
      int id = btf_lookup(cx->pt, name, kind);
      if (id < 0) /* not defined yet: a forward declaration */
        id = btf__add_fwd(cx->btf, name, kind == BTF_KIND_UNION ? BTF_FWD_UNION : BTF_FWD_STRUCT);
      return id;
    } else if (!any) {
      int id = named_type(cx, tok_str(&t));
      if (id < 0)
        break;
      next_tok(c);
      return id;
    } else {
      break;
    }
    any = true;
    next_tok(c);
  }
  if (!any) {
    CTok t = peek_tok(c);
    cerr(cx, t.loc, c->src, "unknown type name '%s'",
         t.kind == CT_EOF ? "end of file" : tok_str(&t));
    return -1;
  }
  if (voids)
    return 0;
  if (bools)
    return int_type(cx, "_Bool", 1, false);
  if (chars)
    return int_type(cx, unsig ? "unsigned char" : "char", 1, !unsig);
  if (shorts)
    return int_type(cx, unsig ? "short unsigned int" : "short int", 2, !unsig);
  if (longs >= 2)
    return int_type(cx, unsig ? "long long unsigned int" : "long long int", 8, !unsig);
  if (longs)
    return int_type(cx, unsig ? "long unsigned int" : "long int", 8, !unsig);
  (void)ints, (void)sig;
  return int_type(cx, unsig ? "unsigned int" : "int", 4, !unsig);
}

/* A declarator: '*'* NAME ('[' N ']')* — function pointers are not
 * supported.  Returns the BTF id of the declared type. */
static int parse_declarator(Cur *c, int base, char **name) {
  Cdefs *cx = c->cx;
  int id = base;
  CTok t;
  while ((t = peek_tok(c)).kind == CT_PUNCT && is(&t, "*")) {
    next_tok(c);
    id = btf__add_ptr(cx->btf, id);
    while ((t = peek_tok(c)).kind == CT_ID && (is(&t, "const") || is(&t, "volatile")))
      next_tok(c);
  }
  t = next_tok(c);
  if (t.kind != CT_ID) {
    cerr(cx, t.loc, c->src, "expected a member name, got '%s'",
         t.kind == CT_EOF ? "end of file" : tok_str(&t));
    return -1;
  }
  *name = tok_str(&t);
  while ((t = peek_tok(c)).kind == CT_ID && (is(&t, "__attribute__") || is(&t, "__attribute"))) {
    next_tok(c);
    skip_parens(c);
  }
  int dims[8], nd = 0;
  while ((t = peek_tok(c)).kind == CT_PUNCT && is(&t, "[")) {
    next_tok(c);
    CTok n = next_tok(c);
    uint64_t v = n.val;
    if (n.kind == CT_ID) { /* a macro: #define LEN 16 */
      Macro *m = find_macro(cx, n.text, n.len);
      v = m ? strtoull(m->body, NULL, 0) : 0;
    }
    CTok close = next_tok(c);
    if ((n.kind != CT_NUM && n.kind != CT_ID) || !is(&close, "]") || nd == 8) {
      cerr(cx, n.loc, c->src, "expected an array size, got '%s'", tok_str(&n));
      return -1;
    }
    dims[nd++] = (int)v;
  }
  int index = int_type(cx, "int", 4, true);
  for (int i = nd - 1; i >= 0; i--)
    id = btf__add_array(cx->btf, index, id, dims[i]);
  while ((t = peek_tok(c)).kind == CT_ID && (is(&t, "__attribute__") || is(&t, "__attribute"))) {
    next_tok(c);
    skip_parens(c);
  }
  return id;
}

static bool is_tok_lbrace(Cur *c) {
  CTok t = peek_tok(c);
  return t.kind == CT_PUNCT && is(&t, "{");
}

static bool expect(Cur *c, const char *s) {
  CTok t = next_tok(c);
  if (t.kind == CT_PUNCT && is(&t, s))
    return true;
  cerr(c->cx, t.loc, c->src, eprintf("expected '%s', got '%%s'", s),
       t.kind == CT_EOF ? "end of file" : tok_str(&t));
  return false;
}

typedef struct Field {
  char *name;
  int type, bits; /* bits: bitfield width, 0 for none */
} Field;

/* '{' member-declaration* '}' with C layout rules for x86-64 (natural
 * alignment, bitfields packed into units of their type). */
static int parse_record(Cur *c, bool is_union, const char *name, Loc loc) {
  Cdefs *cx = c->cx;
  next_tok(c); /* '{' */
  Field *f = NULL;
  int nf = 0;
  for (bool closed = false; !closed;) {
    CTok t = peek_tok(c);
    if (t.kind == CT_PUNCT && is(&t, "}")) {
      next_tok(c);
      break;
    }
    if (t.kind == CT_EOF) {
      cerr(cx, loc, c->src, "unterminated definition of '%s'", name ? name : "(anonymous)");
      return -1;
    }
    int base = parse_specifier(c);
    if (base < 0)
      return -1;
    CTok after = peek_tok(c);
    if (after.kind == CT_PUNCT && is(&after, ";")) { /* anonymous struct/union member */
      next_tok(c);
      f = egrow(f, nf, sizeof(Field));
      f[nf++] = (Field){NULL, base, 0};
      continue;
    }
    for (;;) {
      char *mname;
      int id = parse_declarator(c, base, &mname);
      if (id < 0)
        return -1;
      int bits = 0;
      CTok sep = next_tok(c);
      if (is(&sep, ":")) {
        CTok w = next_tok(c);
        bits = (int)w.val;
        if (w.kind != CT_NUM || bits <= 0 || bits > 64) {
          cerr(cx, w.loc, c->src, "invalid bitfield width '%s'", tok_str(&w));
          return -1;
        }
        sep = next_tok(c);
      }
      f = egrow(f, nf, sizeof(Field));
      f[nf++] = (Field){mname, id, bits};
      if (is(&sep, ";"))
        break;
      if (is(&sep, "}")) { /* the last member's ';' may be left out (C compilers warn) */
        closed = true;
        break;
      }
      if (!is(&sep, ",")) {
        cerr(cx, sep.loc, c->src, "expected ';' or ',' after member '%s'", mname);
        return -1;
      }
    }
  }
  /* layout */
  int *offs = malloc(sizeof(int) * (nf + 1));
  long bit = 0, size = 0;
  int align = 1;
  for (int i = 0; i < nf; i++) {
    const struct btf_type *ft = btf__type_by_id(cx->btf, f[i].type);
    if (ft && btf_is_fwd(ft)) { /* a struct member of an incomplete type */
      cerr(cx, loc, c->src, "member '%s' has an incomplete type", f[i].name ? f[i].name : "");
      free(offs);
      return -1;
    }
    int fs = type_size(cx, f[i].type), fa = type_align(cx, f[i].type);
    if (fa > align)
      align = fa;
    if (is_union) {
      offs[i] = 0;
      long fb = f[i].bits ? f[i].bits : fs * 8L;
      if (fb > bit)
        bit = fb;
      continue;
    }
    if (f[i].bits) {
      long unit = fs * 8L;
      if (unit && bit / unit != (bit + f[i].bits - 1) / unit)
        bit = (bit + unit - 1) / unit * unit;
      offs[i] = (int)bit;
      bit += f[i].bits;
    } else {
      bit = (bit + fa * 8L - 1) / (fa * 8L) * (fa * 8L);
      offs[i] = (int)bit;
      bit += fs * 8L;
    }
  }
  size = (bit + 7) / 8;
  size = (size + align - 1) / align * align;
  int id = is_union ? btf__add_union(cx->btf, name, size) : btf__add_struct(cx->btf, name, size);
  for (int i = 0; i < nf && id > 0; i++)
    if (btf__add_field(cx->btf, f[i].name, f[i].type, offs[i], f[i].bits) < 0) {
      cerr(cx, loc, c->src, "cannot describe member '%s'", f[i].name ? f[i].name : "");
      id = -1;
    }
  free(offs);
  if (id > 0 && name)
    btf_user_define(cx->pt, name, is_union ? BTF_KIND_UNION : BTF_KIND_STRUCT, id);
  return id;
}

/* '{' NAME ('=' value)? (',' ...)* '}' — the constants become macros. */
static int parse_enum(Cur *c, const char *name) {
  Cdefs *cx = c->cx;
  next_tok(c); /* '{' */
  int id = btf__add_enum(cx->btf, name, 4);
  int64_t v = 0;
  for (;;) {
    CTok t = next_tok(c);
    if (is(&t, "}"))
      break;
    if (t.kind != CT_ID) {
      cerr(cx, t.loc, c->src, "expected an enumerator name, got '%s'",
           t.kind == CT_EOF ? "end of file" : tok_str(&t));
      return -1;
    }
    CTok n = peek_tok(c);
    if (is(&n, "=")) {
      next_tok(c);
      bool neg = false;
      CTok val = next_tok(c);
      if (is(&val, "-")) {
        neg = true;
        val = next_tok(c);
      }
      Macro *m = val.kind == CT_ID ? find_macro(cx, val.text, val.len) : NULL;
      if (val.kind != CT_NUM && !m) {
        cerr(cx, val.loc, c->src, "expected a number, got '%s'", tok_str(&val));
        return -1;
      }
      v = m ? strtoll(m->body, NULL, 0) : (int64_t)val.val;
      if (neg)
        v = -v;
    }
    char *en = tok_str(&t);
    btf__add_enum_value(cx->btf, en, v);
    define(cx, en, eprintf("%lld", (long long)v), false);
    v++;
    CTok sep = next_tok(c);
    if (is(&sep, "}"))
      break;
    if (!is(&sep, ",")) {
      cerr(cx, sep.loc, c->src, "expected ',' or '}' in enum, got '%s'", tok_str(&sep));
      return -1;
    }
  }
  if (name)
    btf_user_define(cx->pt, name, BTF_KIND_ENUM, id);
  return id;
}

/* struct/union/enum definitions and typedefs, up to the closing ';'.
 * In the program itself (not a header) a struct/union/enum body may end
 * without its ';' before the first probe, as bpftrace accepts it. */
static bool parse_definition(Cur *c, bool has_body) {
  CTok first = peek_tok(c);
  if (is(&first, "typedef")) {
    next_tok(c);
    int base = parse_specifier(c);
    if (base < 0)
      return false;
    char *name;
    int id = parse_declarator(c, base, &name);
    if (id < 0)
      return false;
    int td = btf__add_typedef(c->cx->btf, name, id);
    btf_user_define(c->cx->pt, name, BTF_KIND_TYPEDEF, td);
    return expect(c, ";");
  }
  int base = parse_specifier(c);
  if (base < 0)
    return false;
  CTok t = peek_tok(c);
  if (is(&t, ";")) {
    next_tok(c);
    return true;
  }
  if (has_body && !c->header)
    return true;
  cerr(c->cx, t.loc, c->src, "expected ';' after the definition, got '%s'",
       t.kind == CT_EOF ? "end of file" : tok_str(&t));
  return false;
}

/* In a header: skip a declaration etrace has no use for (a prototype,
 * an extern variable, an inline function with its body). */
static void skip_declaration(Cur *c) {
  int depth = 0;
  for (;;) {
    CTok t = next_tok(c);
    if (t.kind == CT_EOF)
      return;
    if (is(&t, "{"))
      depth++;
    else if (is(&t, "}") && --depth <= 0) {
      CTok n = peek_tok(c);
      if (is(&n, ";"))
        next_tok(c);
      return;
    } else if (is(&t, ";") && depth == 0)
      return;
  }
}

/* ------------------------------------------------------------ directives */


static bool active(Cdefs *cx) { return cx->nconds == 0 || cx->conds[cx->nconds - 1].active; }

static bool process_text(Cdefs *cx, const Source *src, char *blank, bool header, const char *dir);
static bool directive(Cur *c);

/* A header is preprocessed line by line first: directives run (an
 * #include is read then and there), and their lines and the lines of
 * inactive #if branches are blanked.  What is left is plain C. */
static char *header_clean(Cdefs *cx, const Source *s, const char *dir, bool *ok) {
  char *clean = estrdup(s->text);
  Cur c = {.src = s, .p = s->text, .line = 1, .col = 1, .base = s->text, .header = true,
           .dir = dir, .cx = cx};
  bool in_comment = false;
  int depth0 = cx->nconds;
  *ok = true;
  while (*c.p) {
    const char *start = c.p;
    const char *q = c.p;
    while (*q == ' ' || *q == '\t')
      q++;
    if (!in_comment && *q == '#') {
      while (c.p < q)
        step(&c);
      if (!directive(&c)) {
        *ok = false;
        return clean;
      }
    } else {
      bool keep = active(cx);
      while (*c.p && *c.p != '\n') { /* track block comments across lines */
        if (!in_comment && c.p[0] == '/' && c.p[1] == '*')
          in_comment = true, step(&c);
        else if (in_comment && c.p[0] == '*' && c.p[1] == '/')
          in_comment = false, step(&c);
        else if (!in_comment && c.p[0] == '/' && c.p[1] == '/')
          while (c.p[1] && c.p[1] != '\n')
            step(&c);
        step(&c);
      }
      if (keep)
        start = c.p; /* nothing to blank */
    }
    for (const char *b = start; b < c.p; b++)
      if (*b != '\n')
        clean[b - s->text] = ' ';
    if (*c.p)
      step(&c);
  }
  if (cx->nconds != depth0) /* an #if left open at the end of a header */
    cx->nconds = depth0;
  return clean;
}

/* The compiler's own headers (gcc's include directory may not be
 * installed): what etrace programs need from them. */
static char *builtin_header(const char *name) {
  static const char *const hdrs[][2] = {
      {"stddef.h", "typedef unsigned long size_t;\ntypedef long ptrdiff_t;\n"
                   "typedef int wchar_t;\n#define NULL 0\n"},
      {"stdbool.h", "#define bool _Bool\n#define true 1\n#define false 0\n"},
      {"stdarg.h", ""},
      {"stdint.h", "typedef signed char int8_t;\ntypedef short int16_t;\ntypedef int int32_t;\n"
                   "typedef long int64_t;\ntypedef unsigned char uint8_t;\n"
                   "typedef unsigned short uint16_t;\ntypedef unsigned int uint32_t;\n"
                   "typedef unsigned long uint64_t;\ntypedef long intptr_t;\n"
                   "typedef unsigned long uintptr_t;\n"},
  };
  for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++)
    if (!strcmp(name, hdrs[i][0])) {
      char *t = malloc(strlen(hdrs[i][1]) + 1);
      strcpy(t, hdrs[i][1]);
      return t;
    }
  return NULL;
}

static bool include_file(Cur *c, const char *name, bool quoted, Loc loc) {
  Cdefs *cx = c->cx;
  char *path = NULL;
  if (name[0] == '/') {
    path = estrdup(name);
  } else {
    /* the compiler's default search list on Debian (x86-64 or arm64) */
#if defined(__aarch64__)
    const char *sys[] = {"/usr/local/include", "/usr/include/aarch64-linux-gnu", "/usr/include"};
#else
    const char *sys[] = {"/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include"};
#endif
    int n = (quoted ? 1 : 0) + cx->ninc_dirs + 3;
    for (int i = 0; i < n && !path; i++) {
      int k = i - (quoted ? 1 : 0); /* index past the file's own directory */
      const char *d = quoted && i == 0     ? c->dir
                      : k < cx->ninc_dirs ? cx->inc_dirs[k]
                                          : sys[k - cx->ninc_dirs];
      char *p = eprintf("%s/%s", d, name);
      if (access(p, R_OK) == 0)
        path = p;
    }
  }
  char *text = path ? read_file(path, NULL) : NULL;
  if (!text && (text = builtin_header(name)))
    path = eprintf("<built-in %s>", name);
  if (!text) {
    cerr(cx, loc, c->src, "'%s' file not found (add its directory with -I)", name);
    return false;
  }
  if (++cx->include_depth > 32) {
    cerr(cx, loc, c->src, "#include nested too deeply at '%s'", name);
    return false;
  }
  Source *s = ealloc(sizeof(Source));
  s->name = path;
  s->text = estrdup(text);
  free(text);
  char *d = estrdup(path);
  if (strrchr(d, '/'))
    *strrchr(d, '/') = 0;
  else
    d = ".";
  bool ok;
  Source *clean = ealloc(sizeof(Source));
  clean->name = path;
  clean->shown = s->text;
  clean->text = header_clean(cx, s, d, &ok);
  if (ok)
    ok = process_text(cx, clean, NULL, true, d);
  cx->include_depth--;
  return ok;
}

/* #if expressions: integers, defined(X), macros, ! && || == != < > <= >= ( ) */
static int64_t cond_or(Cur *c);

static int64_t cond_primary(Cur *c) {
  Cdefs *cx = c->cx;
  CTok t = next_tok(c);
  if (is(&t, "!"))
    return !cond_primary(c);
  if (is(&t, "(")) {
    int64_t v = cond_or(c);
    next_tok(c);
    return v;
  }
  if (t.kind == CT_NUM)
    return (int64_t)t.val;
  if (t.kind == CT_ID && is(&t, "defined")) {
    CTok n = next_tok(c);
    bool paren = is(&n, "(");
    if (paren)
      n = next_tok(c);
    int64_t v = find_macro(cx, n.text, n.len) != NULL;
    if (paren)
      next_tok(c);
    return v;
  }
  if (t.kind == CT_ID) { /* a macro's body is an expression too */
    Macro *m = find_macro(cx, t.text, t.len);
    if (!m || m->function_like || cx->macro_depth > 16)
      return 0;
    Source bs = {"macro", m->body, NULL};
    Cur bc = {.src = &bs, .p = m->body, .line = 1, .col = 1, .cx = cx};
    cx->macro_depth++;
    int64_t v = *m->body ? cond_or(&bc) : 0;
    cx->macro_depth--;
    return v;
  }
  return 0;
}

static int64_t cond_cmp(Cur *c) {
  int64_t v = cond_primary(c);
  for (;;) {
    CTok t = peek_tok(c);
    CTok t2 = t;
    if (t.kind != CT_PUNCT || !strchr("=!<>", t.text[0]))
      return v;
    next_tok(c);
    bool eq = peek_tok(c).text[0] == '=' && (t2 = peek_tok(c)).kind == CT_PUNCT;
    if (eq)
      next_tok(c);
    int64_t r = cond_primary(c);
    switch (t.text[0]) {
    case '=': v = v == r; break;
    case '!': v = v != r; break;
    case '<': v = eq ? v <= r : v < r; break;
    case '>': v = eq ? v >= r : v > r; break;
    }
  }
}

static int64_t cond_and(Cur *c) {
  int64_t v = cond_cmp(c);
  while (peek_tok(c).text[0] == '&' && peek_tok(c).kind == CT_PUNCT) {
    next_tok(c), next_tok(c);
    int64_t r = cond_cmp(c);
    v = v && r;
  }
  return v;
}

static int64_t cond_logical_or(Cur *c) {
  int64_t v = cond_and(c);
  while (peek_tok(c).text[0] == '|' && peek_tok(c).kind == CT_PUNCT) {
    next_tok(c), next_tok(c);
    int64_t r = cond_and(c);
    v = v || r;
  }
  return v;
}

/* cond ? a : b, the loosest #if operator */
static int64_t cond_or(Cur *c) {
  int64_t v = cond_logical_or(c);
  CTok t = peek_tok(c);
  if (t.kind != CT_PUNCT || !is(&t, "?"))
    return v;
  next_tok(c);
  int64_t a = cond_or(c);
  next_tok(c); /* ':' */
  int64_t b = cond_or(c);
  return v ? a : b;
}

/* One directive line, c at the '#'.  The line (with \-continuations) is
 * consumed whatever happens. */
static bool directive(Cur *c) {
  Cdefs *cx = c->cx;
  Loc loc = {c->line, c->col};
  const char *start = c->p;
  while (*c->p && !(*c->p == '\n' && c->p[-1] != '\\'))
    step(c);
  char *line = estrndup(start + 1, c->p - start - 1);
  for (char *q = line; *q; q++) /* join continuation lines */
    if (*q == '\\' && q[1] == '\n')
      q[0] = q[1] = ' ';
  Source ls = {c->src->name, line, NULL};
  Cur lc = {.src = &ls, .p = line, .line = loc.line, .col = loc.col + 1, .cx = cx};
  CTok name = next_tok(&lc);
  if (line[0] == '!' && loc.line == 1) /* #! shebang */
    return true;
  if (name.kind == CT_EOF)
    return true;
  char *dname = tok_str(&name);
  if (!strcmp(dname, "ifdef") || !strcmp(dname, "ifndef") || !strcmp(dname, "if")) {
    bool v;
    if (dname[2] == 'd' || dname[2] == 'n') {
      CTok m = next_tok(&lc);
      v = (find_macro(cx, m.text, m.len) != NULL) == (dname[2] == 'd');
    } else {
      v = cond_or(&lc) != 0;
    }
    if (cx->nconds == 64) {
      cerr(cx, loc, c->src, "#if nested too deeply%s", "");
      return false;
    }
    bool parent = active(cx);
    cx->conds[cx->nconds++] = (Cond){parent && v, v, parent};
    return true;
  }
  if (!strcmp(dname, "elif") || !strcmp(dname, "else") || !strcmp(dname, "endif")) {
    if (cx->nconds == 0) {
      cerr(cx, loc, c->src, "#%s without #if", dname);
      return false;
    }
    Cond *k = &cx->conds[cx->nconds - 1];
    if (dname[1] == 'n') {
      cx->nconds--;
    } else if (dname[2] == 's') { /* else */
      k->active = k->parent_active && !k->taken;
      k->taken = true;
    } else { /* elif */
      bool v = cond_or(&lc) != 0;
      k->active = k->parent_active && !k->taken && v;
      k->taken |= v;
    }
    return true;
  }
  if (!active(cx))
    return true;
  if (!strcmp(dname, "define")) {
    CTok m = next_tok(&lc);
    if (m.kind != CT_ID) {
      cerr(cx, loc, c->src, "#define expects a name%s", "");
      return false;
    }
    bool fn = *lc.p == '(';
    while (*lc.p == ' ' || *lc.p == '\t')
      lc.p++;
    char *body = estrdup(lc.p);
    for (char *e = body + strlen(body); e > body && isspace((unsigned char)e[-1]);)
      *--e = 0;
    define(cx, tok_str(&m), body, fn);
    return true;
  }
  if (!strcmp(dname, "undef")) {
    CTok m = next_tok(&lc);
    undefine(cx, tok_str(&m));
    return true;
  }
  if (!strcmp(dname, "include")) {
    skip_space(&lc);
    char open = *lc.p, close = open == '<' ? '>' : '"';
    const char *end = open == '<' || open == '"' ? strchr(lc.p + 1, close) : NULL;
    if (!end) {
      cerr(cx, loc, c->src, "#include expects \"FILE\" or <FILE>%s", "");
      return false;
    }
    return include_file(c, estrndup(lc.p + 1, end - lc.p - 1), open == '"', loc);
  }
  if (!strcmp(dname, "error")) {
    skip_space(&lc);
    cerr(cx, loc, c->src, "#error %s", lc.p);
    return false;
  }
  /* #include_next reaches gcc's own copy of a header (limits.h), which
   * has nothing etrace needs */
  if (!strcmp(dname, "pragma") || !strcmp(dname, "warning") || !strcmp(dname, "include_next") || !strcmp(dname, "line") ||
      !strcmp(dname, "ident"))
    return true;
  cerr(cx, loc, c->src, "unknown preprocessor directive '#%s'", dname);
  return false;
}

/* ------------------------------------------------------------ driver */

static bool at_word(Cur *c, const char *const *words) {
  CTok t = peek_tok(c);
  for (; *words; words++)
    if (t.kind == CT_ID && is(&t, *words))
      return true;
  return false;
}

/* The main program (blank != NULL): stop at the first thing that is not
 * a directive or a definition.  A header: read it all. */
static bool process_text(Cdefs *cx, const Source *src, char *blank, bool header, const char *dir) {
  static const char *const def_words[] = {"struct", "union", "enum", "typedef", NULL};
  Cur c = {.src = src, .p = src->text, .line = 1, .col = 1, .blank = blank,
           .base = src->text, .header = header, .dir = dir, .cx = cx};
  for (;;) {
    skip_space(&c);
    if (!*c.p)
      break;
    if (*c.p == '#' && (c.col == 1 || header || 1)) {
      if (!directive(&c))
        return false;
      continue;
    }
    if (!active(cx)) { /* inside #if 0: skip the line */
      while (*c.p && *c.p != '\n')
        step(&c);
      continue;
    }
    if (at_word(&c, def_words)) {
      CTok kw = peek_tok(&c);
      Cur probe = c;
      probe.blank = NULL;
      next_tok(&probe);
      CTok n = next_tok(&probe);
      CTok after = n.kind == CT_ID ? next_tok(&probe) : n;
      bool definition = is(&kw, "typedef") || is(&after, "{") || is(&after, ";");
      if (!definition && !header)
        break; /* not C: let the parser say what is wrong */
      if (definition) {
        /* a header's definition etrace cannot read is skipped: it only
         * matters if the program uses it, and then that is the error */
        Cur before = c;
        cx->quiet = header;
        bool ok = parse_definition(&c, is(&after, "{"));
        cx->quiet = false;
        if (!ok && !header)
          return false;
        if (!ok) {
          cx->failed = false;
          c = before;
          skip_declaration(&c);
        }
        continue;
      }
    }
    if (!header)
      break;
    skip_declaration(&c);
  }
  if (header && cx->nconds > 0 && cx->include_depth == 0) {
    cerr(cx, (Loc){c.line, c.col}, src, "unterminated #if%s", "");
    return false;
  }
  return true;
}

/* Substitute object-like macros in the program text, outside strings
 * and comments.  Bodies are re-scanned (a macro naming another), with a
 * depth limit against recursion. */
static void substitute(Cdefs *cx, Buf *out, const char *s, size_t n, int depth) {
  const char *end = s + n;
  for (const char *p = s; p < end;) {
    if (*p == '"') {
      const char *q = p + 1;
      while (q < end && *q != '"' && *q != '\n')
        q += *q == '\\' && q + 1 < end ? 2 : 1;
      q = q < end ? q + 1 : q;
      buf_put(out, p, q - p);
      p = q;
    } else if (p + 1 < end && p[0] == '/' && (p[1] == '/' || p[1] == '*')) {
      const char *q = p[1] == '/' ? memchr(p, '\n', end - p) : strstr(p + 2, "*/");
      q = !q ? end : p[1] == '/' ? q : q + 2;
      buf_put(out, p, q - p);
      p = q;
    } else if (isalpha((unsigned char)*p) || *p == '_' || *p == '$' || *p == '@') {
      const char *q = p + 1;
      while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
        q++;
      Macro *m = *p != '$' && *p != '@' && depth < 16 ? find_macro(cx, p, q - p) : NULL;
      if (m && !m->function_like)
        substitute(cx, out, m->body, strlen(m->body), depth + 1);
      else
        buf_put(out, p, q - p);
      p = q;
    } else {
      buf_put(out, p, 1);
      p++;
    }
  }
}

/* What gcc predefines on Debian x86-64 (arm64 when built for it: char is
 * unsigned there), so that system headers take the branches they take
 * when compiled. */
static void predefine(Cdefs *cx) {
  static const char *const defs[][2] = {
#if defined(__aarch64__)
      {"__aarch64__", "1"}, {"__CHAR_UNSIGNED__", "1"},
#else
      {"__x86_64__", "1"}, {"__x86_64", "1"},
#endif
      {"__linux__", "1"}, {"__linux", "1"},
      {"__unix__", "1"}, {"__unix", "1"}, {"__GNUC__", "12"}, {"__GNUC_MINOR__", "2"},
      {"__STDC__", "1"}, {"__STDC_VERSION__", "201710L"}, {"__LP64__", "1"}, {"_LP64", "1"},
      {"__CHAR_BIT__", "8"}, {"__SIZEOF_INT__", "4"}, {"__SIZEOF_LONG__", "8"},
      {"__SIZEOF_POINTER__", "8"}, {"__ORDER_LITTLE_ENDIAN__", "1234"},
      {"__ORDER_BIG_ENDIAN__", "4321"}, {"__BYTE_ORDER__", "1234"}, {"__ETRACE__", "1"},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
    define(cx, defs[i][0], defs[i][1], false);
  /* bpftrace's own: programs (and the tools Debian ships) skip their
   * #include of kernel headers when the kernel's types come from BTF */
  if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
    define(cx, "BPFTRACE_HAVE_BTF", "1", false);
}

const char *cdefs_process(ProgramTypes *pt, const Source *src, const char *const *dirs,
                          int ndirs, const char *const *includes, int nincludes) {
  Cdefs ctx = {.pt = pt, .inc_dirs = dirs, .ninc_dirs = ndirs};
  Cdefs *cx = &ctx;
  /* the fast path: no C at all (most programs) */
  const char *p = src->text;
  while (isspace((unsigned char)*p))
    p++;
  bool maybe = nincludes > 0 || *p == '#' || !strncmp(p, "struct", 6) ||
               !strncmp(p, "union", 5) || !strncmp(p, "enum", 4) || !strncmp(p, "typedef", 7) ||
               !strncmp(p, "//", 2) || !strncmp(p, "/*", 2);
  if (!maybe)
    return src->text;
  predefine(cx);
  cx->btf = btf_writable(pt);
  if (!cx->btf) {
    diag_fatal("cannot make a BTF for the program's C types: %s", strerror(errno));
    return NULL;
  }
  char *blank = estrdup(src->text);
  const char *dir = ".";
  if (strchr(src->name, '/')) {
    char *d = estrdup(src->name);
    *strrchr(d, '/') = 0;
    dir = d;
  }
  for (int i = 0; i < nincludes; i++) {
    Cur c = {.src = src, .p = "", .line = 1, .col = 1, .dir = ".", .cx = cx};
    if (!include_file(&c, includes[i], true, (Loc){1, 1}))
      return NULL;
  }
  if (!process_text(cx, src, blank, false, dir) || cx->failed)
    return NULL;
  if (cx->nconds > 0) {
    diag_fatal("%s: unterminated #if in the program", src->name);
    return NULL;
  }
  if (cx->nmacros == 0)
    return blank;
  Buf out = {0};
  substitute(cx, &out, blank, strlen(blank), 0);
  char *text = estrdup(out.data ? out.data : "");
  buf_free(&out);
  return text;
}
