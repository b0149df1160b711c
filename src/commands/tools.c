/* tools.c - `etrace tool`: list, explain and run the bundled tools.
 *
 *   etrace tool                        list the tools with a description
 *   etrace tool NAME -h                the tool's usage, options, examples
 *   etrace tool [FLAGS] NAME [ARGS]    run it; FLAGS are etrace's own
 *                                      (-o FILE, -f FORMAT, -B MODE, -v,
 *                                      --dry-run, --verify), before NAME or
 *                                      among ARGS where the tool declares no
 *                                      option of that name
 *
 * A tool is an ordinary program file, tools/NAME.bt, that also runs as
 * `etrace tools/NAME.bt $1 $2 ...`.  bpftrace programs only have
 * positional parameters, so the tool's leading comment block (after an
 * optional #! line) says how its command-line options become them:
 *
 *   // opensnoop - trace open() system calls, with results
 *   //
 *   // USAGE: etrace tool opensnoop [-h] [-T] [-x] [-p PID] [-d SECS]
 *   //
 *   // OPTIONS:
 *   //   -T              print a time column           -> $1
 *   //   -x              show only failed opens        -> $2
 *   //   -p, --pid PID   trace only this process       -> $3 = PID
 *   //   -n NAME         trace only this command name  -> $4 = NAME, default ""
 *   //   DURATION        stop after DURATION seconds   -> $5
 *   //
 *   // EXAMPLES:
 *   //   etrace tool opensnoop -x     failed opens only
 *
 * The first line is "NAME - description" (what `etrace tool` lists).  A
 * line containing "-> $N" declares one option; to its left, the option's
 * spelling (names beginning with '-', then an optional METAVAR for its
 * argument) is separated from its description by two or more spaces.
 *
 *   -X             a flag: $N is 1 when given, else the default
 *   -X = VALUE     (on the right: "-> $N = VALUE") a flag that sets VALUE,
 *                  so several flags may share one $N (-4 -> $1 = 4 ...)
 *   -X METAVAR     an option with an argument: $N is the argument
 *   METAVAR        (no dash) a positional argument, in declaration order
 *   ", default D"  the value when absent (default 0; "" is the empty
 *                  string).  An argument whose default is a number must be
 *                  a number.
 *
 * Every $N up to the highest declared is always passed (unset ones as 0),
 * so programs may test `$N` without caring whether it was given.  `-h`
 * prints the comment block without the "-> ..." mapping parts.
 *
 * Tools are looked up in $ETRACE_TOOLS_DIR, else <dir of etrace>/tools
 * (running from the source tree), else <dir of etrace>/../share/etrace/tools,
 * else ETRACE_PREFIX/share/etrace/tools.  A NAME containing '/' is a path.
 */
#include "commands/tools.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ETRACE_PREFIX
#define ETRACE_PREFIX "/usr/local"
#endif

#define MAX_OPTS 64
#define MAX_PARAMS 64
#define MAX_NAMES 4

typedef struct ToolOpt {
  char *names[MAX_NAMES]; /* "-p", "--pid"; none for a positional */
  int nnames;
  char *metavar;          /* argument name, NULL for a flag */
  int param;              /* $N */
  char *value;            /* a flag's value ("1" unless "= VALUE") */
  char *def;              /* value when absent, NULL if not declared */
} ToolOpt;

typedef struct Tool {
  char *path;
  char *desc;             /* from "NAME - description" */
  char **lines;           /* the comment block, "// " stripped */
  int nlines;
  ToolOpt opts[MAX_OPTS];
  int nopts;
  int nparams;            /* highest $N declared */
} Tool;

static const char *tool_name; /* for messages */

static void terr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void terr(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "etrace tool%s%s: ", tool_name ? " " : "", tool_name ? tool_name : "");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static char *xstrndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) {
    fprintf(stderr, "etrace: out of memory\n");
    exit(1);
  }
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_number(const char *s) {
  if (*s == '-' || *s == '+')
    s++;
  if (!*s)
    return false;
  char *end;
  errno = 0;
  strtoull(s, &end, 0);
  return !*end && !errno;
}

/* ------------------------------------------------------------ lookup */

static const char *tools_dir(void) {
  static char buf[PATH_MAX + 32];
  const char *env = getenv("ETRACE_TOOLS_DIR");
  if (env && *env)
    return env;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      snprintf(buf, sizeof buf, "%s/tools", exe);
      if (is_dir(buf))
        return buf;
      snprintf(buf, sizeof buf, "%s/../share/etrace/tools", exe);
      char real[PATH_MAX]; /* /usr/share/etrace/tools, not /usr/bin/../share/... */
      if (is_dir(buf) && realpath(buf, real) && strlen(real) < sizeof buf)
        strcpy(buf, real);
      if (is_dir(buf))
        return buf;
    }
  }
  return ETRACE_PREFIX "/share/etrace/tools";
}

/* ------------------------------------------------------------ header */

static char *skip_ws(char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* A token of the mapping: "..." (quotes removed) or a bare word. */
static char *map_token(char **pp) {
  char *p = skip_ws(*pp), *start;
  if (*p == '"') {
    start = ++p;
    while (*p && *p != '"')
      p++;
    char *tok = xstrndup(start, p - start);
    *pp = *p ? p + 1 : p;
    return tok;
  }
  start = p;
  while (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != ')')
    p++;
  *pp = p;
  return xstrndup(start, p - start);
}

/* Parse "SPEC  description  -> $N [= VALUE] [, default D]".  `arrow`
 * points at "->".  Returns false (after a message) when malformed. */
static bool parse_mapping(Tool *t, char *line, char *arrow, int lineno) {
  if (t->nopts == MAX_OPTS) {
    terr("%s:%d: too many options", t->path, lineno);
    return false;
  }
  ToolOpt *o = &t->opts[t->nopts];
  memset(o, 0, sizeof *o);

  /* right side */
  char *p = skip_ws(arrow + 2);
  if (*p != '$' || !isdigit((unsigned char)p[1])) {
    terr("%s:%d: expected '$N' after '->'", t->path, lineno);
    return false;
  }
  o->param = (int)strtol(p + 1, &p, 10);
  if (o->param < 1 || o->param > MAX_PARAMS) {
    terr("%s:%d: parameter $%d out of range", t->path, lineno, o->param);
    return false;
  }
  p = skip_ws(p);
  if (*p == '=') {
    p++;
    o->value = map_token(&p);
  }
  p = skip_ws(p);
  if (*p == ',')
    p = skip_ws(p + 1);
  if (*p == '(')
    p = skip_ws(p + 1);
  if (!strncmp(p, "default", 7)) {
    p += 7;
    o->def = map_token(&p);
  }

  /* left side: the spec ends at two spaces (or the arrow) */
  char *s = skip_ws(line);
  char *end = s;
  while (end < arrow && !(end[0] == ' ' && (end[1] == ' ' || end[1] == '\t')) && end[0] != '\t')
    end++;
  char *spec = xstrndup(s, end - s);
  for (char *tok = strtok(spec, " ,"); tok; tok = strtok(NULL, " ,")) {
    if (tok[0] == '-') {
      if (o->nnames == MAX_NAMES) {
        terr("%s:%d: too many names for one option", t->path, lineno);
        return false;
      }
      o->names[o->nnames++] = xstrndup(tok, strlen(tok));
    } else if (!o->metavar) {
      o->metavar = xstrndup(tok, strlen(tok));
    }
  }
  free(spec);
  if (!o->nnames && !o->metavar) {
    terr("%s:%d: no option name before '->'", t->path, lineno);
    return false;
  }
  if (o->nnames && !o->metavar && !o->value)
    o->value = "1";
  if (o->param > t->nparams)
    t->nparams = o->param;
  t->nopts++;
  return true;
}

/* Read the comment block of the tool at path.  Returns false after a
 * message.  With `opts` false only the description is needed. */
static bool read_header(Tool *t, const char *path, bool opts) {
  memset(t, 0, sizeof *t);
  t->path = xstrndup(path, strlen(path));
  FILE *f = fopen(path, "r");
  if (!f) {
    terr("cannot read %s: %s", path, strerror(errno));
    return false;
  }
  char buf[1024];
  int lineno = 0, cap = 0;
  bool ok = true;
  while (fgets(buf, sizeof buf, f)) {
    lineno++;
    buf[strcspn(buf, "\n")] = 0;
    if (lineno == 1 && buf[0] == '#' && buf[1] == '!')
      continue;
    char *p = skip_ws(buf);
    if (p[0] != '/' || p[1] != '/')
      break;
    p += 2;
    if (*p == ' ')
      p++;
    if (!t->nlines) {
      char *dash = strstr(p, " - ");
      t->desc = xstrndup(dash ? dash + 3 : p, strlen(dash ? dash + 3 : p));
    }
    if (t->nlines == cap) {
      cap = cap ? 2 * cap : 32;
      t->lines = realloc(t->lines, cap * sizeof(char *));
    }
    t->lines[t->nlines++] = xstrndup(p, strlen(p));
    if (!opts)
      break;
    char *arrow = strstr(p, "-> $");
    if (arrow && !parse_mapping(t, p, arrow, lineno))
      ok = false;
  }
  fclose(f);
  if (!t->desc)
    t->desc = "";
  return ok;
}

/* -h: the comment block without the "-> $N ..." parts. */
static void print_help(const Tool *t, FILE *f) {
  for (int i = 0; i < t->nlines; i++) {
    const char *l = t->lines[i];
    const char *arrow = strstr(l, "-> $");
    size_t n = arrow ? (size_t)(arrow - l) : strlen(l);
    while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
      n--;
    fprintf(f, "%.*s\n", (int)n, l);
  }
}

static void print_usage_line(const Tool *t, FILE *f) {
  for (int i = 0; i < t->nlines; i++)
    if (!strncmp(t->lines[i], "USAGE:", 6)) {
      fprintf(f, "%s\n", t->lines[i]);
      break;
    }
  fprintf(f, "'etrace tool %s -h' shows the options\n", tool_name);
}

/* ------------------------------------------------------------ listing */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_tools(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    terr("cannot open the tools directory %s: %s", dir, strerror(errno));
    return 1;
  }
  char **names = NULL;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".bt"))
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      names = realloc(names, cap * sizeof(char *));
    }
    names[n++] = xstrndup(e->d_name, len - 3);
  }
  closedir(d);
  qsort(names, n, sizeof(char *), cmp_str);
  printf("usage: etrace tool NAME [OPTIONS]   ('etrace tool NAME -h' for help)\n"
         "tools in %s:\n",
         dir);
  for (int i = 0; i < n; i++) {
    char path[PATH_MAX];
    Tool t;
    if (snprintf(path, sizeof path, "%s/%s.bt", dir, names[i]) >= (int)sizeof path)
      continue;
    printf("  %-16s %s\n", names[i], read_header(&t, path, false) ? t.desc : "?");
  }
  return 0;
}

/* ------------------------------------------------------------ arguments */

static ToolOpt *find_opt(Tool *t, const char *name, size_t len) {
  for (int i = 0; i < t->nopts; i++)
    for (int j = 0; j < t->opts[i].nnames; j++)
      if (strlen(t->opts[i].names[j]) == len && !strncmp(t->opts[i].names[j], name, len))
        return &t->opts[i];
  return NULL;
}

/* The declared default of $N ("0" when none). */
static const char *param_default(const Tool *t, int param) {
  for (int i = 0; i < t->nopts; i++)
    if (t->opts[i].param == param && t->opts[i].def)
      return t->opts[i].def;
  return "0";
}

static bool set_param(Tool *t, const char **params, ToolOpt *o, const char *val,
                      const char *as) {
  if (!o->value || o->metavar) { /* a user-supplied argument */
    if (is_number(param_default(t, o->param)) && !is_number(val)) {
      terr("%s: expected a number, got '%s'", as, val);
      return false;
    }
    params[o->param] = val;
  } else {
    params[o->param] = o->value;
  }
  return true;
}

/* etrace's own flags, passed on to the etrace that runs the tool. */
typedef struct Pass {
  const char *args[16];
  int n;
} Pass;

/* If argv[*i] is one of etrace's own flags (-o FILE, -f FORMAT, -B MODE,
 * -v, --dry-run, --verify; -oFILE too), add it to `pass`
 * and return 1 (advancing *i past its argument); 0 when it is not one;
 * -1 after a message. */
static int etrace_flag(int argc, char **argv, int *i, Pass *pass) {
  const char *a = argv[*i];
  if (pass->n > 12) {
    terr("too many flags");
    return -1;
  }
  if (!strcmp(a, "-v") || !strcmp(a, "--dry-run") || !strcmp(a, "--verify")) {
    pass->args[pass->n++] = a;
    return 1;
  }
  if (a[0] != '-' || !a[1] || !strchr("ofB", a[1]))
    return 0;
  pass->args[pass->n++] = xstrndup(a, 2);
  if (a[2]) {
    pass->args[pass->n++] = a + 2;
  } else if (*i + 1 < argc) {
    pass->args[pass->n++] = argv[++*i];
  } else {
    terr("%s needs an argument", a);
    return -1;
  }
  return 1;
}

/* Translate argv (after NAME) into params[1..nparams]; etrace's own flags
 * that the tool does not declare go to `pass`.  Returns 0 to run, 1 on a
 * usage error, 2 when -h was handled. */
static int parse_args(Tool *t, int argc, char **argv, const char **params, Pass *pass) {
  int npos = 0;
  bool only_pos = false;
  for (int i = 1; i <= t->nparams; i++)
    params[i] = param_default(t, i);
  for (int i = 0; i < argc; i++) {
    char *a = argv[i];
    if (!only_pos && !strcmp(a, "--")) {
      only_pos = true;
      continue;
    }
    if (!only_pos && (!strcmp(a, "-h") || !strcmp(a, "--help")) && !find_opt(t, a, strlen(a))) {
      print_help(t, stdout);
      return 2;
    }
    if (!only_pos && a[0] == '-' && a[1] == '-' && a[2]) { /* --long[=value] */
      size_t len = strcspn(a, "=");
      ToolOpt *o = find_opt(t, a, len);
      if (!o) {
        int fl = etrace_flag(argc, argv, &i, pass);
        if (fl > 0)
          continue;
        if (fl == 0)
          terr("unknown option '%.*s'", (int)len, a);
        return 1;
      }
      const char *val = NULL;
      if (o->metavar) {
        if (a[len] == '=')
          val = a + len + 1;
        else if (i + 1 < argc)
          val = argv[++i];
        else {
          terr("option '%s' needs an argument (%s)", a, o->metavar);
          return 1;
        }
      } else if (a[len] == '=') {
        terr("option '%.*s' takes no argument", (int)len, a);
        return 1;
      }
      if (!set_param(t, params, o, val, o->names[0]))
        return 1;
      continue;
    }
    char first[3] = {'-', a[1], 0};
    if (!only_pos && a[0] == '-' && a[1] && !find_opt(t, first, 2)) {
      int fl = etrace_flag(argc, argv, &i, pass); /* etrace's own, after NAME */
      if (fl < 0)
        return 1;
      if (fl)
        continue;
    }
    if (!only_pos && a[0] == '-' && a[1] && (!is_number(a) || find_opt(t, first, 2))) {
      /* -x, -xyz, -pPID (a negative number unless -DIGIT is declared) */
      for (char *c = a + 1; *c; c++) {
        char name[3] = {'-', *c, 0};
        ToolOpt *o = find_opt(t, name, 2);
        if (!o) {
          terr("unknown option '%s'", name);
          return 1;
        }
        if (o->metavar) {
          const char *val = c[1] ? c + 1 : i + 1 < argc ? argv[++i] : NULL;
          if (!val) {
            terr("option '%s' needs an argument (%s)", name, o->metavar);
            return 1;
          }
          if (!set_param(t, params, o, val, name))
            return 1;
          break;
        }
        set_param(t, params, o, NULL, name);
      }
      continue;
    }
    /* a positional argument: the next positional declaration */
    ToolOpt *o = NULL;
    for (int k = 0, seen = 0; k < t->nopts; k++)
      if (!t->opts[k].nnames && seen++ == npos) {
        o = &t->opts[k];
        break;
      }
    if (!o) {
      terr("unexpected argument '%s'", a);
      return 1;
    }
    npos++;
    if (!set_param(t, params, o, a, o->metavar))
      return 1;
  }
  return 0;
}

/* ------------------------------------------------------------ main */

static void tool_usage(FILE *f) {
  fputs("USAGE:\n"
        "    etrace tool                         list the tools\n"
        "    etrace tool NAME -h                 a tool's options and examples\n"
        "    etrace tool [FLAGS] NAME [ARGS...]  run a tool\n"
        "\n"
        "FLAGS (etrace's own: before NAME, or after it when the tool has no\n"
        "option of that name):\n"
        "    -o FILE      write the output to FILE\n"
        "    -f FORMAT    output format ('text', 'json')\n"
        "    -B MODE      output buffering mode ('full', 'line', 'none')\n"
        "    -v           verbose: print the generated BPF and the hooks used\n"
        "    --dry-run    compile only;  --verify: compile and load, do not attach\n"
        "\n"
        "Tools live in $ETRACE_TOOLS_DIR, <etrace's directory>/tools or\n"
        "<prefix>/share/etrace/tools; NAME may also be the path of a .bt file.\n",
        f);
}

int tool_main(int argc, char **argv) {
  Pass pass = {0};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      tool_usage(stdout);
      return 0;
    }
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
    int fl = etrace_flag(argc, argv, &i, &pass);
    if (fl < 0)
      return 1;
    if (fl == 0) {
      terr("unknown flag '%s'", a);
      tool_usage(stderr);
      return 1;
    }
  }
  const char *dir = tools_dir();
  if (i >= argc)
    return list_tools(dir);

  const char *name = argv[i];
  char path[PATH_MAX];
  int len = strchr(name, '/') ? snprintf(path, sizeof path, "%s", name)
                              : snprintf(path, sizeof path, "%s/%s.bt", dir, name);
  if (len >= (int)sizeof path) {
    terr("name too long");
    return 1;
  }
  const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
  tool_name = xstrndup(base, strcspn(base, "."));
  if (access(path, R_OK) < 0) {
    if (strchr(name, '/'))
      terr("cannot read %s: %s", path, strerror(errno));
    else
      terr("no such tool in %s ('etrace tool' lists them)", dir);
    return 1;
  }

  Tool t;
  if (!read_header(&t, path, true))
    return 1;
  const char *params[MAX_PARAMS + 1];
  int rc = parse_args(&t, argc - i - 1, argv + i + 1, params, &pass);
  if (rc == 2)
    return 0;
  if (rc) {
    print_usage_line(&t, stderr);
    return 1;
  }

  /* etrace -q FLAGS -- PATH $1..$N (`--`: a parameter may start with '-') */
  char **args = calloc(pass.n + t.nparams + 5, sizeof(char *));
  int n = 0;
  args[n++] = "etrace";
  args[n++] = "-q";
  for (int k = 0; k < pass.n; k++)
    args[n++] = (char *)pass.args[k];
  args[n++] = "--";
  args[n++] = path;
  for (int k = 1; k <= t.nparams; k++)
    args[n++] = (char *)params[k];
  args[n] = NULL;
  /* exec the binary by its own name (not /proc/self/exe, which would make
   * the command name "exe") */
  char exe[PATH_MAX];
  ssize_t len_exe = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len_exe > 0)
    exe[len_exe] = 0;
  else
    snprintf(exe, sizeof exe, "/proc/self/exe");
  fflush(stdout);
  execv(exe, args);
  if (strcmp(exe, "/proc/self/exe"))
    execv("/proc/self/exe", args);
  terr("cannot run etrace (%s): %s", exe, strerror(errno));
  return 1;
}
