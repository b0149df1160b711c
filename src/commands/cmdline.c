/* cmdline.c - option helpers shared by the subcommands (see cmdline.h). */
#include "commands/cmdline.h"
#include "etrace.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void cmdline_deprecated(const char *cmd, const char *old, const char *now) {
  fprintf(stderr, "etrace %s: note: '%s' is deprecated, use '%s'\n", cmd, old, now);
}

static bool parse_seconds(const char *arg, double *out) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (end == arg || *end || errno || !isfinite(v) || !(v > 0) || v > 86400.0 * 365)
    return false;
  *out = v;
  return true;
}

bool cmdline_seconds(const char *opt, const char *arg, double *out) {
  if (parse_seconds(arg, out))
    return true;
  diag_fatal("invalid %s '%s': expected seconds, e.g. 5 or 0.5", opt, arg);
  return false;
}

bool cmdline_old_duration(const char *cmd, const char *arg, double *out) {
  if (parse_seconds(arg, out)) {
    cmdline_deprecated(cmd, "-d SECONDS", "-D SECONDS");
    return true;
  }
  diag_fatal("%s: -d is the compiler-stage dump of the main command (-d ast|dis|all); "
             "stop after a duration with -D SECONDS",
             cmd);
  return false;
}
