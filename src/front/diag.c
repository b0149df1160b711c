/* diag.c - located diagnostics: "FILE:LINE:COL: error: MSG", the source
 * line, and a caret under the column. */
#include "etrace.h"

#include <string.h>

const Source *diag_source;
int diag_errors;
bool diag_no_warnings;
FILE *diag_out;   /* NULL: stderr */

#define OUT (diag_out ? diag_out : stderr)

const Source *(*diag_remap)(Loc *loc);

static void print_source_line(const Source *src, Loc loc) {
  if (!src || !src->text || loc.line <= 0)
    return;
  const char *p = src->shown ? src->shown : src->text;
  for (int l = 1; l < loc.line && *p; p++)
    if (*p == '\n')
      l++;
  const char *end = strchr(p, '\n');
  int len = end ? (int)(end - p) : (int)strlen(p);
  fprintf(OUT, "%.*s\n", len, p);
  for (int i = 1; i < loc.col; i++)
    fputc(i - 1 < len && p[i - 1] == '\t' ? '\t' : ' ', OUT);
  fputs("^\n", OUT);
}

static void report(const char *what, Loc loc, const char *fmt, va_list ap) {
  const Source *src = diag_remap && loc.line > 0 ? diag_remap(&loc) : diag_source;
  const char *name = src && src->name ? src->name : "etrace";
  if (loc.line > 0)
    fprintf(OUT, "%s:%d:%d: %s: ", name, loc.line, loc.col, what);
  else
    fprintf(OUT, "%s: %s: ", name, what);
  vfprintf(OUT, fmt, ap);
  fputc('\n', OUT);
  print_source_line(src, loc);
}

/* A probe with several attach points is checked once per point, so the
 * same error can come up several times: print it once. */
static bool seen_before(Loc loc, const char *fmt, va_list ap) {
  static struct { int line, col; unsigned long hash; } seen[64];
  static int nseen;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  unsigned long h = 5381;
  for (const char *p = msg; *p; p++)
    h = h * 33 + (unsigned char)*p;
  for (int i = 0; i < nseen; i++)
    if (seen[i].line == loc.line && seen[i].col == loc.col && seen[i].hash == h)
      return true;
  if (nseen < 64)
    seen[nseen++].line = loc.line, seen[nseen - 1].col = loc.col, seen[nseen - 1].hash = h;
  return false;
}

/* Counts the error and prints it unless the same message was already
 * reported at the same place; says whether it printed. */
static bool report_error(Loc loc, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  bool dup = loc.line > 0 && seen_before(loc, fmt, again);
  va_end(again);
  diag_errors++;
  if (!dup)
    report("error", loc, fmt, ap);
  return !dup;
}

void diag_error(Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report_error(loc, fmt, ap);
  va_end(ap);
}

/* The located error, then bpftrace's own line for the same fault.  The
 * second line is skipped with its located error when that is a repeat. */
void diag_error_bt(Loc loc, const char *bpftrace_words, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bool printed = report_error(loc, fmt, ap);
  va_end(ap);
  if (printed)
    fprintf(OUT, "ERROR: %s\n", bpftrace_words);
}

void diag_warn(Loc loc, const char *fmt, ...) {
  if (diag_no_warnings)
    return;
  va_list ap;
  va_start(ap, fmt);
  report("warning", loc, fmt, ap);
  va_end(ap);
}

void diag_cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("ERROR: ", OUT);
  vfprintf(OUT, fmt, ap);
  fputc('\n', OUT);
  va_end(ap);
  diag_errors++;
}

void diag_fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("etrace: error: ", OUT);
  vfprintf(OUT, fmt, ap);
  fputc('\n', OUT);
  va_end(ap);
  diag_errors++;
}
