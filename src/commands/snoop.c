/* snoop.c - `etrace snoop`: a ksnoop for tracepoints.
 *
 *   etrace snoop info EVENT...            typed prototypes (BTF), tracefs fields
 *   etrace snoop [OPTIONS] EVENT[(ARGS)]  one line per event, typed values
 *
 * EVENT is SYS:EVENT as in `etrace record` (sched:sched_switch), a bare
 * event name, rawtracepoint:NAME or tracepoint:SYS:EVENT.  Events with a
 * BTF prototype (the kernel's __probestub_NAME) are traced as
 * rawtracepoints with their typed parameters; the others (syscalls:*) as
 * tracepoints with their tracefs format fields.
 *
 * ARGS is a comma-separated list of expressions over the parameters, by
 * name: `prev`, `next->comm`, `prev->se.load`, `bprm->filename`.  A last
 * expression holding a comparison (`prev->pid == 1`) is a predicate.
 * Without a list every parameter is printed.
 *
 * snoop does not trace on its own: it writes an etrace program and runs it
 * through the ordinary pipeline (parse, sema, cg, load, rt_run).  That
 * takes two compilations: the first checks the expressions and learns
 * their types (nothing is loaded); the second prints each value the way
 * its type asks (strings quoted, pointers in hex, structs as bpftrace
 * records through printf's %s, JSON literals through %#s).  Errors in
 * the user's expressions are reported at their place in the command line:
 * the generated text keeps, byte for byte, the column each piece came
 * from (diag_remap).
 */
#include "etrace.h"
#include "commands/snoop.h"
#include "commands/cmdline.h"
#include "runtime/session.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SNOOP_MAX_ARGS 48 /* printf takes 63 values; 5 go to the prefix */

typedef enum { EV_RAWTP, EV_TRACEPOINT, EV_FUNC } EventKind;

/* How a value is printed, from its type in the first compilation. */
typedef enum { V_INT, V_UINT, V_PTR, V_STR, V_CHARPTR, V_RECORD, V_OTHER } ValKind;

typedef struct Arg {
  const char *text;   /* as written, without surrounding blanks */
  int col;            /* 1-based column of text[0] in the spec */
  ValKind vk;
  const char *cast;   /* "int32": a tracefs field wider than its C type */
  bool skip;          /* an argument of "print all" that cannot be printed */
} Arg;

typedef struct Event {
  const char *spec;   /* the argument as given */
  int line;           /* its line in spec_src */
  const char *label;  /* "sched:sched_switch" */
  const char *name;   /* "sched_switch" */
  char *sys;          /* tracefs system, NULL when unknown */
  EventKind kind;
  const char *probe;  /* "rawtracepoint:sched_switch" */
  int nparams;
  const char **params;
  int *param_types;   /* EV_RAWTP: BTF type ids */
  TpFormat *tp;       /* tracefs format, when there is one */
  int func_id;        /* EV_FUNC: BTF FUNC id */
  Arg *args;
  int nargs;
  Arg *pred;
} Event;

/* The program being generated, and for each of its bytes where it came
 * from in spec_src: line << 16 | column, or 0 for generated text. */
typedef struct Gen {
  Buf text;
  int *map;
  size_t mapcap;
} Gen;

static Source spec_src = {.name = "snoop"};
static Source gen_src = {.name = "snoop-program"};
static Gen *cur_gen;

/* ------------------------------------------------------------ errors */

static void spec_error(int line, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void spec_error(int line, int col, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const Source *saved = diag_source;
  const Source *(*saved_remap)(Loc *) = diag_remap;
  diag_source = &spec_src;
  diag_remap = NULL;
  diag_error((Loc){line, col}, "%s", msg);
  diag_source = saved;
  diag_remap = saved_remap;
}

/* diag_remap: a location in the generated program -> the user's text. */
static const Source *remap(Loc *loc) {
  Gen *g = cur_gen;
  if (!g || !g->text.data)
    return diag_source;
  size_t off = 0;
  for (int l = 1; l < loc->line && off < g->text.len; off++)
    if (g->text.data[off] == '\n')
      l++;
  off += loc->col - 1;
  if (off < g->text.len && g->map[off]) {
    int m = g->map[off];
    loc->line = m >> 16;
    loc->col = m & 0xffff;
    return &spec_src;
  }
  /* just after the user's text (a syntax error at its end): the column
   * after it */
  if (off > 0 && off <= g->text.len && g->map[off - 1] && g->text.data[off - 1] != '\n') {
    int m = g->map[off - 1];
    loc->line = m >> 16;
    loc->col = (m & 0xffff) + 1;
    return &spec_src;
  }
  return &gen_src;
}

/* ------------------------------------------------------------ generating */

/* Append s[0..n); line/col > 0: it is the user's text from that column
 * (step: each byte its own column, else all of it maps to col). */
static void gen_put(Gen *g, const char *s, size_t n, int line, int col, bool step) {
  size_t at = g->text.len;
  buf_put(&g->text, s, n);
  if (g->text.len > g->mapcap) {
    size_t cap = g->mapcap ? g->mapcap : 1024;
    while (cap < g->text.len)
      cap *= 2;
    g->map = realloc(g->map, cap * sizeof(int));
    memset(g->map + g->mapcap, 0, (cap - g->mapcap) * sizeof(int));
    g->mapcap = cap;
  }
  for (size_t i = 0; i < n; i++)
    g->map[at + i] = line > 0 ? line << 16 | (col + (step ? (int)i : 0)) : 0;
}

static void gen_str(Gen *g, const char *s) { gen_put(g, s, strlen(s), 0, 0, false); }

static void gen_printf(Gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gen_printf(Gen *g, const char *fmt, ...) {
  char tmp[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  gen_str(g, tmp);
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static bool is_param(const Event *ev, const char *s, size_t n) {
  for (int i = 0; i < ev->nparams; i++)
    if (strlen(ev->params[i]) == n && !strncmp(ev->params[i], s, n))
      return true;
  return false;
}

/* Builtins that are followed by -> or . themselves. */
static bool is_object_builtin(const char *s, size_t n) {
  return (n == 7 && !strncmp(s, "curtask", 7)) || (n == 4 && !strncmp(s, "args", 4)) ||
         (n == 3 && !strncmp(s, "ctx", 3));
}

/* One token of an argument's text, t[start..end).  A root name is an
 * identifier that is not a member (after . or ->), a struct/union/enum
 * tag or a call: a parameter, a builtin, or unknown. */
typedef struct Tok {
  size_t start, end;
  bool root;
  bool accessed; /* followed by ., -> or [ */
  bool after_member, after_tag; /* scanner state */
} Tok;

/* The token at *i (advanced past it); false at the end of t. */
static bool next_tok(const char *t, size_t *i, Tok *k) {
  size_t n = strlen(t), j = *i;
  if (j >= n)
    return false;
  char c = t[j];
  k->start = j;
  k->root = false;
  if (c == '"') {
    for (j++; j < n && t[j] != '"'; j++)
      if (t[j] == '\\' && j + 1 < n)
        j++;
    if (j < n)
      j++;
    k->after_member = k->after_tag = false;
  } else if (c == '$' || c == '@' || isdigit((unsigned char)c)) {
    for (j++; j < n && is_ident_char(t[j]); j++)
      ;
    k->after_member = k->after_tag = false;
  } else if (is_ident_start(c)) {
    while (j < n && is_ident_char(t[j]))
      j++;
    size_t m = j;
    while (m < n && isspace((unsigned char)t[m]))
      m++;
    k->accessed = m < n && (t[m] == '.' || t[m] == '[' || (t[m] == '-' && t[m + 1] == '>'));
    k->root = !k->after_member && !k->after_tag && !(m < n && t[m] == '(');
    const char *w = t + k->start;
    size_t wn = j - k->start;
    k->after_tag = (wn == 6 && !strncmp(w, "struct", 6)) || (wn == 5 && !strncmp(w, "union", 5)) ||
                   (wn == 4 && !strncmp(w, "enum", 4));
    k->after_member = false;
  } else if (c == '-' && t[j + 1] == '>') {
    j += 2;
    k->after_member = true;
  } else if (c == '.') {
    j++;
    k->after_member = true;
  } else if (isspace((unsigned char)c)) {
    j++;
  } else {
    j++;
    k->after_member = k->after_tag = false;
  }
  k->end = *i = j;
  return true;
}

/* The user's expression with parameter names turned into args.NAME.  A
 * name that is not a parameter but is used like one (followed by ->, .
 * or [) is turned too, so the compiler names the parameters it lacks. */
static void gen_expr(Gen *g, const Event *ev, const Arg *a) {
  const char *t = a->text;
  size_t i = 0;
  Tok k = {0};
  while (next_tok(t, &i, &k)) {
    const char *w = t + k.start;
    size_t wn = k.end - k.start;
    if (k.root && (is_param(ev, w, wn) || (k.accessed && !is_object_builtin(w, wn))))
      gen_put(g, "args.", 5, ev->line, a->col + (int)k.start, false);
    gen_put(g, w, wn, ev->line, a->col + (int)k.start, true);
  }
}

/* Does the expression compare (==, !=, <, <=, >, >=, &&, ||)?  Then it is
 * a predicate, unless it is a ternary's condition. */
static bool is_predicate(const char *t) {
  bool cmp = false;
  for (size_t i = 0; t[i]; i++) {
    char c = t[i];
    if (c == '"') {
      for (i++; t[i] && t[i] != '"'; i++)
        if (t[i] == '\\' && t[i + 1])
          i++;
      if (!t[i])
        break;
      continue;
    }
    if (c == '?')
      return false;
    if ((c == '=' && t[i + 1] == '=') || (c == '!' && t[i + 1] == '=') ||
        (c == '&' && t[i + 1] == '&') || (c == '|' && t[i + 1] == '|')) {
      cmp = true;
      i++;
    } else if (c == '<' || c == '>') {
      if (t[i + 1] == c) { /* << >> */
        i++;
        continue;
      }
      if (c == '>' && i > 0 && t[i - 1] == '-') /* -> */
        continue;
      cmp = true;
    }
  }
  return cmp;
}

/* ------------------------------------------------------------ BTF text */

static void to_buf(void *ctx, const char *fmt, va_list ap) {
  Buf *b = ctx;
  char tmp[1024];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  if (n > 0)
    buf_put(b, tmp, n < (int)sizeof tmp ? n : (int)sizeof tmp - 1);
}

/* "struct task_struct *prev": a C declaration of `name` with type id. */
static char *c_decl(int id, const char *name) {
  struct btf *btf = btf_vmlinux();
  Buf b = {0};
  struct btf_dump *d = btf_dump__new(btf, to_buf, &b, NULL);
  if (!d)
    return estrdup("?");
  LIBBPF_OPTS(btf_dump_emit_type_decl_opts, o, .field_name = name);
  if (btf_dump__emit_type_decl(d, id, &o) < 0)
    buf_printf(&b, "? %s", name);
  btf_dump__free(d);
  char *s = estrndup(b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

/* "name(T1 a, T2 b)" from a FUNC_PROTO, parameters from `first` on;
 * with the return type in front when ret is set. */
static char *prototype(int proto_id, const char *name, int first, bool ret) {
  struct btf *btf = btf_vmlinux();
  const struct btf_type *fp = btf__type_by_id(btf, proto_id);
  Buf b = {0};
  buf_printf(&b, "%s(", name);
  const struct btf_param *p = btf_params(fp);
  int n = btf_vlen(fp);
  for (int i = first; i < n; i++) {
    if (i > first)
      buf_printf(&b, ", ");
    if (!p[i].type)
      buf_printf(&b, "...");
    else
      buf_printf(&b, "%s", c_decl(p[i].type, btf__name_by_offset(btf, p[i].name_off)));
  }
  if (n <= first)
    buf_printf(&b, "void");
  buf_printf(&b, ")");
  char *s = estrndup(b.data, b.len);
  buf_free(&b);
  if (!ret)
    return s;
  return fp->type ? c_decl(fp->type, s) : eprintf("void %s", s);
}

/* ------------------------------------------------------------ events */

typedef struct Found {
  char *sys, *event;
  int n;
} Found;

static void found_one(const char *sys, const char *event, void *arg) {
  Found *f = arg;
  if (!f->n++) {
    f->sys = estrdup(sys);
    f->event = estrdup(event);
  }
}

static bool have_tracefs_event(const char *sys, const char *event) {
  Found f = {0};
  return tracefs_glob(sys, event, found_one, &f) > 0;
}

/* Tracepoints that see what kernel function fn does, when the name says
 * so: vfs_read -> syscalls:sys_enter_read, kfree -> kmem:kfree. */
static char *alternatives(const char *fn) {
  static const char *const prefixes[] = {"__x64_sys_", "__ia32_sys_", "__se_sys_", "__do_sys_",
                                         "do_sys_",    "ksys_",       "vfs_",      "sys_",
                                         "do_",        "__"};
  Buf b = {0};
  Found f = {0};
  if (tracefs_glob("*", fn, found_one, &f) > 0)
    buf_printf(&b, "%s:%s", f.sys, f.event);
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(fn, prefixes[i], n) || !fn[n])
      continue;
    const char *stem = fn + n;
    if (have_tracefs_event("syscalls", eprintf("sys_enter_%s", stem)))
      buf_printf(&b, "%ssyscalls:sys_enter_%s, syscalls:sys_exit_%s", b.len ? ", " : "", stem,
                 stem);
    Found g = {0};
    if (!b.len && tracefs_glob("*", stem, found_one, &g) > 0)
      buf_printf(&b, "%s%s:%s", b.len ? ", " : "", g.sys, g.event);
    break;
  }
  char *s = b.len ? estrndup(b.data, b.len) : NULL;
  buf_free(&b);
  return s;
}

static bool kernel_has_kprobes(void) {
  const char *root = tracefs_root(false);
  return root && access(eprintf("%s/kprobe_events", root), F_OK) == 0;
}

static const char *func_note(const char *fn) {
  char *alt = alternatives(fn);
  const char *why = kernel_has_kprobes()
                        ? "tracing a kernel function needs kprobes or fentry, which etrace snoop "
                          "does not use yet"
                        : "tracing a kernel function needs kprobes or fentry, which this kernel "
                          "lacks";
  return alt ? eprintf("%s; try the tracepoint%s %s", why, strchr(alt, ',') ? "s" : "", alt)
             : eprintf("%s; no tracepoint by that name", why);
}

/* Trace the tracefs tracepoint: its format's fields are the names. */
static void use_tracefs_fields(Event *ev) {
  ev->kind = EV_TRACEPOINT;
  ev->nparams = ev->tp->nfields;
  ev->params = ealloc(sizeof(char *) * (ev->nparams + 1));
  for (int i = 0; i < ev->nparams; i++)
    ev->params[i] = ev->tp->fields[i].name;
  ev->param_types = NULL;
  ev->probe = eprintf("tracepoint:%s:%s", ev->sys, ev->name);
}

/* Find what `name` (as written, at line/col) names.  for_info: a kernel
 * function is fine (it is described, not traced). */
static bool resolve(Event *ev, const char *name, int col, bool for_info) {
  const char *n = name;
  bool want_raw = false, want_tp = false;
  if (!strncmp(n, "rawtracepoint:", 14)) {
    n += 14;
    if (!strncmp(n, "vmlinux:", 8))
      n += 8;
    want_raw = true;
  } else if (!strncmp(n, "tracepoint:", 11)) {
    n += 11;
    want_tp = true;
  }
  const char *colon = strchr(n, ':');
  ev->sys = colon ? estrndup(n, colon - n) : NULL;
  ev->name = estrdup(colon ? colon + 1 : n);
  if (!*ev->name || strchr(ev->name, ':') || (want_tp && !ev->sys)) {
    spec_error(ev->line, col, "expected an event SYS:EVENT (sched:sched_switch), got '%s'", name);
    return false;
  }
  if (!ev->sys) { /* a bare name: find its system */
    Found f = {0};
    if (tracefs_glob("*", ev->name, found_one, &f) > 0)
      ev->sys = f.sys;
  }
  if (ev->sys)
    ev->tp = tracefs_format(ev->sys, ev->name);
  ev->label = ev->sys ? eprintf("%s:%s", ev->sys, ev->name) : ev->name;
  int np = want_tp || (colon && !want_raw && !ev->tp)
               ? -1
               : btf_tp_params(ev->name, &ev->params, &ev->param_types);
  if (np >= 0) {
    ev->kind = EV_RAWTP;
    ev->nparams = np;
    ev->probe = eprintf("rawtracepoint:%s", ev->name);
    return true;
  }
  if (ev->tp) {
    use_tracefs_fields(ev);
    return true;
  }
  struct btf *btf = btf_vmlinux();
  int fid = btf && !colon ? btf_vmlinux_find(ev->name, BTF_KIND_FUNC) : -1;
  if (fid > 0) {
    ev->kind = EV_FUNC;
    ev->func_id = fid;
    ev->label = ev->name;
    if (for_info)
      return true;
    spec_error(ev->line, col, "%s is a kernel function: %s", ev->name, func_note(ev->name));
    return false;
  }
  if (want_raw)
    spec_error(ev->line, col, "no raw tracepoint named '%s' in the kernel's BTF", ev->name);
  else if (colon)
    spec_error(ev->line, col, "no tracepoint %s:%s ('etrace -l' lists them)", ev->sys, ev->name);
  else
    spec_error(ev->line, col,
               "no tracepoint or kernel function named '%s' ('etrace -l' lists tracepoints)",
               ev->name);
  return false;
}

/* ------------------------------------------------------------ info */

static void print_fields(const TpFormat *tp) {
  for (int i = 0; i < tp->nfields; i++) {
    const TpField *fl = &tp->fields[i];
    printf("    %s %s", fl->ctype, fl->name);
    if (fl->array_len > 0)
      printf("[%d]", fl->array_len);
    printf("\n");
  }
}

static void print_info(const Event *ev) {
  struct btf *btf = btf_vmlinux();
  if (ev->kind == EV_FUNC) {
    const struct btf_type *f = btf__type_by_id(btf, ev->func_id);
    printf("kernel function %s (BTF):\n    %s\n", ev->name,
           prototype(f->type, ev->name, 0, true));
    printf("note: %s\n", func_note(ev->name));
    return;
  }
  if (ev->kind == EV_RAWTP) {
    int id = btf__find_by_name_kind(btf, eprintf("__probestub_%s", ev->name), BTF_KIND_FUNC);
    const struct btf_type *f = btf__type_by_id(btf, id);
    printf("rawtracepoint %s (BTF, what snoop traces):\n    %s\n", ev->label,
           prototype(f->type, ev->name, 1, false));
  }
  if (ev->tp) {
    if (ev->kind == EV_RAWTP)
      printf("tracepoint %s (tracefs format: args.FIELD of tracepoint:%s):\n", ev->label,
             ev->label);
    else
      printf("tracepoint %s (tracefs format, what snoop traces):\n", ev->label);
    print_fields(ev->tp);
  }
}

/* ------------------------------------------------------------ parsing */

/* No list: every parameter.  tracefs arrays other than strings
 * (raw_syscalls' args[6]) have no value etrace can print: left out. */
static void all_params(Event *ev) {
  ev->args = ealloc(sizeof(Arg) * (ev->nparams + 1));
  ev->nargs = 0;
  for (int i = 0; i < ev->nparams; i++) {
    const TpField *fl = ev->kind == EV_TRACEPOINT ? &ev->tp->fields[i] : NULL;
    if (fl && fl->array_len > 0 && !strstr(fl->ctype, "char"))
      continue;
    ev->args[ev->nargs++] = (Arg){.text = ev->params[i], .col = 0};
  }
}

static bool is_tracefs_field(const Event *ev, const char *s, size_t n) {
  for (int i = 0; ev->tp && i < ev->tp->nfields; i++)
    if (strlen(ev->tp->fields[i].name) == n && !strncmp(ev->tp->fields[i].name, s, n))
      return true;
  return false;
}

/* Count the root names of the arguments (and the predicate) that only
 * the BTF arguments have, only the tracefs fields have, or neither. */
static void count_names(const Event *ev, const Arg *args, int n, const Arg *pred, int *btf_only,
                        int *tracefs_only, int *neither) {
  *btf_only = *tracefs_only = *neither = 0;
  for (int i = 0; i <= n; i++) {
    const Arg *a = i < n ? &args[i] : pred;
    size_t j = 0;
    Tok k = {0};
    while (a && next_tok(a->text, &j, &k)) {
      if (!k.root)
        continue;
      const char *w = a->text + k.start;
      size_t wn = k.end - k.start;
      bool btf = ev->kind == EV_RAWTP && is_param(ev, w, wn), tf = is_tracefs_field(ev, w, wn);
      *btf_only += btf && !tf;
      *tracefs_only += tf && !btf;
      *neither += !btf && !tf;
    }
  }
}

/* `etrace snoop info` shows both the BTF arguments and the tracefs fields
 * of a tracepoint: names that only the tracefs format has (filename of
 * sched_process_exec) make snoop trace the tracefs tracepoint, unless a
 * name only the BTF arguments have is used too. */
static void choose_names(Event *ev, const Arg *args, int n, const Arg *pred) {
  int btf_only, tracefs_only, neither;
  if (ev->kind != EV_RAWTP || !ev->tp)
    return;
  count_names(ev, args, n, pred, &btf_only, &tracefs_only, &neither);
  if (tracefs_only && !btf_only)
    use_tracefs_fields(ev);
}

/* After a failed compilation: the names an event offers, when the
 * arguments used a name it has neither as BTF argument nor tracefs field,
 * or names of both kinds (one event is traced one way or the other). */
static void note_names(const Event *ev) {
  int btf_only, tracefs_only, neither;
  count_names(ev, ev->args, ev->args && ev->args[0].col ? ev->nargs : 0, ev->pred, &btf_only,
              &tracefs_only, &neither);
  if (!neither && !(btf_only && tracefs_only)) /* unknown names, or both kinds mixed */
    return;
  Buf b = {0};
  if (ev->kind == EV_RAWTP) {
    for (int i = 0; i < ev->nparams; i++)
      buf_printf(&b, "%s%s", i ? ", " : "", ev->params[i]);
    buf_printf(&b, " (BTF arguments)");
  }
  if (ev->tp) {
    buf_printf(&b, "%s", b.len ? "; " : "");
    for (int i = 0; i < ev->tp->nfields; i++)
      buf_printf(&b, "%s%s", i ? ", " : "", ev->tp->fields[i].name);
    buf_printf(&b, " (tracefs fields%s)", ev->kind == EV_RAWTP ? ", used when no BTF-only "
                                                                 "argument is named" : "");
  }
  if (b.len)
    fprintf(stderr, "etrace snoop: note: %s has %s\n", ev->label, b.data);
  buf_free(&b);
}

/* "NAME" or "NAME(ARG, ARG, ...)" into ev.  Returns false after an error. */
static bool parse_spec(Event *ev, bool for_info) {
  const char *s = ev->spec;
  const char *paren = strchr(s, '(');
  size_t nlen = paren ? (size_t)(paren - s) : strlen(s);
  size_t b = 0;
  while (b < nlen && isspace((unsigned char)s[b]))
    b++;
  while (nlen > b && isspace((unsigned char)s[nlen - 1]))
    nlen--;
  if (nlen == b) {
    spec_error(ev->line, 1, "expected an event name before '('");
    return false;
  }
  if (!resolve(ev, estrndup(s + b, nlen - b), (int)b + 1, for_info))
    return false;
  if (!paren) {
    if (for_info)
      return true;
    all_params(ev);
    return true;
  }
  if (for_info) {
    spec_error(ev->line, (int)(paren - s) + 1, "snoop info takes an event name, not arguments");
    return false;
  }
  const char *p = paren + 1;
  int depth = 0;
  const char *start = p;
  Arg *list = ealloc(sizeof(Arg) * (strlen(s) + 1));
  int n = 0;
  for (;; p++) {
    if (*p == '"') {
      for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
          p++;
      if (!*p)
        break;
      continue;
    }
    if (!*p)
      break;
    if (*p == '(' || *p == '[')
      depth++;
    else if ((*p == ']' || *p == ')') && depth > 0)
      depth--;
    else if ((*p == ',' || *p == ')') && depth == 0) {
      const char *a = start, *e = p;
      while (a < e && isspace((unsigned char)*a))
        a++;
      while (e > a && isspace((unsigned char)e[-1]))
        e--;
      if (a == e && (*p == ',' || n > 0)) {
        spec_error(ev->line, (int)(p - s) + 1, "expected an argument before '%c'", *p);
        return false;
      }
      if (a < e)
        list[n++] = (Arg){.text = estrndup(a, e - a), .col = (int)(a - s) + 1};
      start = p + 1;
      if (*p == ')')
        break;
    }
  }
  if (*p != ')') {
    spec_error(ev->line, (int)strlen(s) + 1, "expected ')' to close the argument list");
    return false;
  }
  for (const char *q = p + 1; *q; q++)
    if (!isspace((unsigned char)*q)) {
      spec_error(ev->line, (int)(q - s) + 1, "unexpected text after the argument list");
      return false;
    }
  if (n > 0 && is_predicate(list[n - 1].text)) {
    ev->pred = &list[n - 1];
    n--;
  }
  choose_names(ev, list, n, ev->pred);
  if (n == 0) { /* NAME() or NAME(predicate): every parameter */
    all_params(ev);
    return true;
  }
  for (int i = 0; i < n; i++)
    if (is_predicate(list[i].text)) {
      spec_error(ev->line, list[i].col,
                 "only the last expression may be a predicate (it compares); "
                 "print a comparison as (a == b) ? 1 : 0");
      return false;
    }
  if (n > SNOOP_MAX_ARGS) {
    spec_error(ev->line, list[SNOOP_MAX_ARGS].col, "at most %d values per event", SNOOP_MAX_ARGS);
    return false;
  }
  ev->args = list;
  ev->nargs = n;
  return true;
}

/* ------------------------------------------------------------ programs */

typedef struct Snoop {
  Event *events;
  int nevents;
  bool json;
  int duration_ms;    /* -D SECONDS, 0: none */
  bool child;         /* -c: only the child */
  bool header;
} Snoop;

static void gen_value(Gen *g, const Event *ev, const Arg *a) {
  if (a->col == 0) { /* a parameter of "print all": errors point at the event */
    gen_put(g, "args.", 5, ev->line, 1, false);
    gen_put(g, a->text, strlen(a->text), ev->line, 1, false);
    return;
  }
  gen_expr(g, ev, a);
}

/* Check pass: each expression as a statement, to learn its type. */
static void gen_check(Gen *g, const Snoop *S) {
  for (int i = 0; i < S->nevents; i++) {
    Event *ev = &S->events[i];
    gen_printf(g, "%s", ev->probe);
    if (ev->pred) {
      gen_str(g, " /");
      gen_value(g, ev, ev->pred);
      gen_str(g, "/");
    }
    gen_str(g, " {\n");
    for (int k = 0; k < ev->nargs; k++) {
      gen_str(g, "  ");
      gen_value(g, ev, &ev->args[k]);
      gen_str(g, ";\n");
    }
    gen_str(g, "}\n");
  }
}

/* Escape a name for a string literal holding a printf format. */
static void put_name(Buf *b, const char *s, bool json) {
  for (; *s; s++) {
    char c = isspace((unsigned char)*s) ? ' ' : *s;
    if (c == ' ' && (s[1] == ' ' || !s[1]))
      continue; /* runs of blanks: one */
    if (c == '%')
      buf_put(b, "%%", 2);
    else if (c == '"' || c == '\\')
      buf_printf(b, json ? "\\\\\\%c" : "\\%c", c); /* JSON \" inside an etrace literal */
    else
      buf_put(b, &c, 1);
  }
}

static const char *conv(ValKind vk, bool json) {
  switch (vk) {
  case V_INT: return "%lld";
  case V_UINT: return "%llu";
  case V_PTR: return json ? "\\\"0x%llx\\\"" : "0x%llx";
  case V_STR: case V_CHARPTR: return "%#s";
  case V_RECORD: return json ? "%#s" : "%s";
  default: return json ? "%#s" : "%s";
  }
}

/* Final pass: one printf per event: TIME COMM PID EVENT name=value ... */
static void gen_final(Gen *g, const Snoop *S) {
  if (S->header && !S->json)
    gen_str(g, "BEGIN { printf(\"%-15s %-16s %-7s %s\\n\", \"TIME\", \"COMM\", \"PID\", "
               "\"EVENT ARGS\"); }\n");
  for (int i = 0; i < S->nevents; i++) {
    Event *ev = &S->events[i];
    gen_printf(g, "%s", ev->probe);
    if (ev->pred || S->child) {
      gen_str(g, " /");
      if (ev->pred) {
        gen_str(g, "(");
        gen_value(g, ev, ev->pred);
        gen_str(g, ")");
      }
      if (ev->pred && S->child)
        gen_str(g, " && ");
      if (S->child)
        gen_str(g, "pid == cpid");
      gen_str(g, "/");
    }
    Buf fmt = {0};
    if (S->json)
      buf_printf(&fmt, "{\\\"time\\\": %%#s, \\\"comm\\\": %%#s, \\\"pid\\\": %%d, "
                       "\\\"tid\\\": %%d, \\\"event\\\": \\\"%s\\\", \\\"args\\\": {",
                 ev->label);
    else
      buf_printf(&fmt, "%%-15s %%-16s %%-7d %s", ev->name);
    for (int k = 0, first = 1; k < ev->nargs; k++) {
      if (ev->args[k].skip)
        continue;
      if (S->json) {
        buf_printf(&fmt, "%s\\\"", first ? "" : ", ");
        first = 0;
        put_name(&fmt, ev->args[k].text, true);
        buf_printf(&fmt, "\\\": %s", conv(ev->args[k].vk, true));
      } else {
        buf_put(&fmt, " ", 1);
        put_name(&fmt, ev->args[k].text, false);
        buf_printf(&fmt, "=%s", conv(ev->args[k].vk, false));
      }
    }
    buf_printf(&fmt, "%s\\n", S->json ? "}}" : "");
    gen_str(g, " {\n  printf(\"");
    gen_put(g, fmt.data, fmt.len, 0, 0, false);
    buf_free(&fmt);
    gen_printf(g, "\", strftime(\"%%H:%%M:%%S.%%f\", nsecs), comm, pid%s", S->json ? ", tid" : "");
    for (int k = 0; k < ev->nargs; k++) {
      if (ev->args[k].skip)
        continue;
      gen_str(g, ",\n    ");
      bool s = ev->args[k].vk == V_CHARPTR;
      if (s)
        gen_str(g, "str(");
      if (ev->args[k].cast)
        gen_printf(g, "(%s)", ev->args[k].cast);
      gen_value(g, ev, &ev->args[k]);
      if (s)
        gen_str(g, ")");
    }
    gen_str(g, ");\n}\n");
  }
  if (S->duration_ms)
    gen_printf(g, "interval:ms:%d { exit(); }\n", S->duration_ms);
}

/* Syscall tracepoints store every argument in 8 bytes (the register),
 * whatever its C type: `int dfd` holds -100 as 0x00000000ffffff9c.  Read
 * such a field as its C type (ctype from the format, size from BTF). */
static bool narrow_cast(ProgramTypes *pt, Arg *a, const TpField *fl) {
  const char *why = NULL;
  Type *c = btf_vmlinux() ? btf_parse_type(pt, fl->ctype, false, &why) : NULL;
  if (!c || c->kind != TY_INT || c->is_ptr || c->int_size >= fl->size)
    return false;
  a->cast = eprintf("%sint%d", c->is_signed ? "" : "u", c->int_size * 8);
  a->vk = c->is_signed ? V_INT : V_UINT;
  return true;
}

/* From the checked program: how each value prints.  False after an
 * error (a value that cannot be printed on one line). */
static bool learn_types(Snoop *S, Program *prog) {
  bool ok = true;
  Probe *p = prog->probes;
  for (int i = 0; i < S->nevents && p; i++, p = p->next) {
    Event *ev = &S->events[i];
    Node *st = p->body ? p->body->body : NULL;
    for (int k = 0; k < ev->nargs && st; k++, st = st->next) {
      Arg *a = &ev->args[k];
      Type *t = st->lhs ? st->lhs->type : NULL;
      int col = a->col ? a->col : 1;
      if (!t) {
        ok = false;
        continue;
      }
      if (!a->col && (t->kind == TY_ARRAY || t->kind == TY_VOID ||
                      (t->kind == TY_RECORD && t->size > PRINTF_RECORD_MAX) ||
                      t->kind == TY_CTX || t->kind == TY_NONE)) {
        a->skip = true; /* print all: what does not fit a line is left out */
        continue;
      }
      const TpField *fl = NULL; /* a tracefs field named as such */
      for (int f = 0; ev->kind == EV_TRACEPOINT && f < ev->tp->nfields; f++)
        if (!strcmp(ev->tp->fields[f].name, a->text))
          fl = &ev->tp->fields[f];
      switch (t->kind) {
      case TY_INT:
        if (fl && strchr(fl->ctype, '*')) /* tracefs pointers are plain integers */
          a->vk = strstr(fl->ctype, "char *") ? V_CHARPTR : V_PTR;
        else if (fl && !t->is_ptr && narrow_cast(prog->types, a, fl))
          ;
        else if (t->is_ptr)
          a->vk = t->pointee && t->pointee->kind == TY_INT && t->pointee->int_size == 1
                      ? V_CHARPTR : V_PTR;
        else
          a->vk = t->is_signed ? V_INT : V_UINT;
        break;
      case TY_STR: a->vk = V_STR; break;
      case TY_RECORD:
        if (t->size > PRINTF_RECORD_MAX) {
          spec_error(ev->line, col,
                     "'%s' is a %s of %d bytes, too big for one line (at most %d): "
                     "name its members, or print it with etrace -e 'print(...)'",
                     a->text, ty_name(t), t->size, PRINTF_RECORD_MAX);
          ok = false;
        }
        a->vk = V_RECORD;
        break;
      case TY_ARRAY:
        spec_error(ev->line, col, "'%s' is an array (%s): print one element, %s[0]", a->text,
                   ty_name(t), a->text);
        ok = false;
        break;
      case TY_VOID: case TY_CTX: case TY_NONE:
        spec_error(ev->line, col, "'%s' has no value to print (%s)", a->text, ty_name(t));
        ok = false;
        break;
      default:
        if (ty_is_agg(t)) {
          spec_error(ev->line, col, "'%s' cannot be printed", a->text);
          ok = false;
        }
        a->vk = V_OTHER;
      }
    }
  }
  return ok;
}

/* Parse and check one generated program (diagnostics point at the
 * user's text).  NULL after errors. */
static void use_gen(Gen *g) {
  gen_src.text = g->text.data;
  cur_gen = g;
  diag_remap = remap;
}

static Program *compile_text(Gen *g, Options *opt, Compiled **out) {
  use_gen(g);
  Program *prog = parse_program(&gen_src);
  Compiled *c = prog ? sema_program(prog, opt) : NULL;
  *out = c;
  return c ? prog : NULL;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f) {
  fputs("USAGE:\n"
        "    etrace snoop info EVENT...                 typed prototype of an event or function\n"
        "    etrace snoop [OPTIONS] 'EVENT[(ARGS)]'...  trace events, one line each\n"
        "\n"
        "EVENT is SYS:EVENT (sched:sched_switch) or a bare event name; ARGS are\n"
        "expressions over the event's arguments by name (prev, next->comm,\n"
        "prev->se.load).  A last expression that compares (prev->pid == 1) is a\n"
        "predicate: only events where it holds print.  No ARGS: every argument.\n"
        "\n"
        "OPTIONS (anywhere among the events; -- ends them):\n"
        "    -p PID       only process PID (exit when it exits)\n"
        "    -c 'CMD'     run CMD and trace only it; exit when it exits\n"
        "    -D SECONDS   stop after SECONDS (--duration)\n"
        "    -f FORMAT    output: text (default) or json (one object per line)\n"
        "    -o FILE      write the output to FILE\n"
        "    -n           no header line\n"
        "    -v           verbose: print the generated program and the hooks used\n"
        "    --dry-run    print the generated program, do not run it\n"
        "\n"
        "EXAMPLES:\n"
        "etrace snoop info sched:sched_switch\n"
        "etrace snoop 'sched:sched_switch(prev->comm, next->comm, prev->pid == 1)'\n"
        "etrace snoop -c 'ls' 'sched:sched_process_exec(p->comm, p->pid)'\n"
        "etrace snoop -f json 'raw_syscalls:sys_enter(id, id == 0)'\n",
        f);
}

static int info_main(int argc, char **argv) {
  int nev = 0;
  bool only_events = false;
  for (int i = 0; i < argc; i++) { /* -h anywhere; `--` ends the options */
    if (!only_events && !strcmp(argv[i], "--"))
      only_events = true;
    else if (!only_events && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
      usage(stdout);
      return 0;
    } else if (!only_events && argv[i][0] == '-') {
      diag_fatal("snoop info: unknown option '%s'", argv[i]);
      return 1;
    } else
      argv[nev++] = argv[i];
  }
  argc = nev;
  if (argc < 1) {
    usage(stderr);
    return 1;
  }
  Buf all = {0};
  for (int i = 0; i < argc; i++)
    buf_printf(&all, "%s%s", i ? "\n" : "", argv[i]);
  spec_src.text = all.data;
  int rc = 0;
  for (int i = 0; i < argc; i++) {
    Event ev = {.spec = argv[i], .line = i + 1};
    if (!parse_spec(&ev, true)) {
      rc = 1;
      continue;
    }
    if (i)
      printf("\n");
    print_info(&ev);
  }
  fflush(stdout);
  buf_free(&all);
  return rc;
}

enum { OPT_DRY_RUN = 256, OPT_DURATION };

/* -o json / -o text: the output format in older versions (now -f). */
static bool format_arg(Snoop *S, const char *arg) {
  if (!strcmp(arg, "json"))
    S->json = true;
  else if (!strcmp(arg, "text"))
    S->json = false;
  else {
    diag_fatal("snoop: invalid output format '%s': expected text or json", arg);
    return false;
  }
  return true;
}

/* The options, anywhere among the events (argv is permuted so that the
 * events follow them from optind on).  Returns -1 to exit with 1, 1 when
 * -h was handled, 0 to go on. */
static int parse_options(int argc, char **argv, Snoop *S, Options *opt, const char **cmd,
                         const char **out_file, bool *dry_run) {
  static const struct option longopts[] = {{"dry-run", no_argument, 0, OPT_DRY_RUN},
                                           {"duration", required_argument, 0, OPT_DURATION},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  double secs = 0;
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "c:d:D:f:ho:np:v", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c': *cmd = optarg; break;
    case 'd':
      if (!cmdline_old_duration("snoop", optarg, &secs))
        return -1;
      break;
    case 'D':
    case OPT_DURATION:
      if (!cmdline_seconds("duration", optarg, &secs))
        return -1;
      break;
    case 'f':
      if (!format_arg(S, optarg))
        return -1;
      break;
    case 'h': usage(stdout); return 1;
    case 'n': S->header = false; break;
    case 'o':
      if (!strcmp(optarg, "json") || !strcmp(optarg, "text")) {
        cmdline_deprecated("snoop", "-o FORMAT", "-f FORMAT");
        format_arg(S, optarg);
      } else {
        *out_file = optarg;
      }
      break;
    case 'p':
      if ((opt->pid = pid_arg(optarg)) < 0)
        return -1;
      break;
    case 'v': opt->verbose = true; opt->quiet = false; break;
    case OPT_DRY_RUN: *dry_run = true; break;
    default: usage(stderr); return -1;
    }
  }
  if (secs > 0)
    S->duration_ms = secs * 1000 < 1 ? 1 : (int)(secs * 1000 + 0.5);
  return 0;
}

int snoop_main(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    usage(stdout);
    return 0;
  }
  types_init();
  if (argc > 1 && !strcmp(argv[1], "info"))
    return info_main(argc - 2, argv + 2);

  Snoop S = {.header = true};
  Options opt = {.quiet = true};
  const char *cmd = NULL, *out_file = NULL;
  bool dry_run = false;
  int prc = parse_options(argc, argv, &S, &opt, &cmd, &out_file, &dry_run);
  if (prc)
    return prc < 0 ? 1 : 0;
  if (optind >= argc) {
    usage(stderr);
    return 1;
  }
  if (cmd && opt.pid) {
    diag_fatal("snoop: -c and -p cannot be used together");
    return 1;
  }

  /* the specs, one per line of the source errors are shown in */
  S.nevents = argc - optind;
  S.events = ealloc(sizeof(Event) * S.nevents);
  Buf all = {0};
  for (int i = 0; i < S.nevents; i++)
    buf_printf(&all, "%s%s", i ? "\n" : "", argv[optind + i]);
  spec_src.text = all.data;
  int rc = 1;
  bool ok = true;
  for (int i = 0; i < S.nevents; i++) {
    S.events[i] = (Event){.spec = argv[optind + i], .line = i + 1};
    if (!parse_spec(&S.events[i], false))
      ok = false;
  }
  Gen check = {0}, final = {0};
  Compiled *c = NULL;
  Program *prog;
  if (!ok)
    goto out;

  /* 1: check the expressions and learn their types */
  gen_check(&check, &S);
  prog = compile_text(&check, &opt, &c);
  if (!prog || !learn_types(&S, prog)) {
    for (int i = 0; i < S.nevents; i++)
      note_names(&S.events[i]);
    goto out;
  }

  /* 2: the program that prints them */
  S.child = cmd != NULL;
  gen_final(&final, &S);
  if (dry_run || opt.verbose) {
    fwrite(final.text.data, 1, final.text.len, dry_run ? stdout : stderr);
    if (dry_run) {
      opt.cpid = cmd ? 1 : 0; /* a placeholder: the program is not loaded */
      use_gen(&final);
      Session s = {.src = &gen_src, .opt = &opt, .compile_only = true};
      rc = session_run(&s);
      goto out;
    }
  }
  if (cmd) {
    pid_t child = child_spawn(cmd);
    if (child < 0)
      goto out;
    opt.cpid = opt.child_pid = child;
    opt.start_child = child_start;
    opt.cmd = cmd;
  }
  FILE *outf = stdout;
  if (out_file && !(outf = fopen(out_file, "w"))) {
    diag_fatal("snoop: cannot open output file '%s': %s", out_file, strerror(errno));
    goto out;
  }
  setvbuf(outf, NULL, _IOLBF, 1 << 16);
  use_gen(&final);
  Session s = {.src = &gen_src, .opt = &opt,
               .out = {.f = outf, .format = OUT_TEXT, .no_exit_maps = true}};
  rc = session_run(&s);
  session_close(&s);
  if (outf != stdout && fclose(outf) != 0 && rc == 0) {
    diag_fatal("snoop: cannot write '%s': %s", out_file, strerror(errno));
    rc = 1;
  }
out:
  child_kill();
  diag_remap = NULL;
  cur_gen = NULL;
  buf_free(&check.text);
  free(check.map);
  buf_free(&final.text);
  free(final.map);
  buf_free(&all);
  fflush(stdout);
  arena_free_all();
  return rc;
}
