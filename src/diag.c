/* diag.c - located diagnostics: "FILE:LINE:COL: error: MSG", the source
 * line, and a caret under the column. */
#include "etrace.h"

#include <string.h>

const Source *diag_source;
int diag_errors;

static void print_source_line(Loc loc) {
  if (!diag_source || !diag_source->text || loc.line <= 0)
    return;
  const char *p = diag_source->text;
  for (int l = 1; l < loc.line && *p; p++)
    if (*p == '\n')
      l++;
  const char *end = strchr(p, '\n');
  int len = end ? (int)(end - p) : (int)strlen(p);
  fprintf(stderr, "%.*s\n", len, p);
  for (int i = 1; i < loc.col; i++)
    fputc(i - 1 < len && p[i - 1] == '\t' ? '\t' : ' ', stderr);
  fputs("^\n", stderr);
}

static void report(const char *what, Loc loc, const char *fmt, va_list ap) {
  const char *name = diag_source && diag_source->name ? diag_source->name : "etrace";
  if (loc.line > 0)
    fprintf(stderr, "%s:%d:%d: %s: ", name, loc.line, loc.col, what);
  else
    fprintf(stderr, "%s: %s: ", name, what);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  print_source_line(loc);
}

void diag_error(Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report("error", loc, fmt, ap);
  va_end(ap);
  diag_errors++;
}

void diag_warn(Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report("warning", loc, fmt, ap);
  va_end(ap);
}

void diag_fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("etrace: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  diag_errors++;
}
