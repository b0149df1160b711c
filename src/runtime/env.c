/* env.c - bpftrace's environment variables read by the runtime.
 *
 *   BPFTRACE_CAT_BYTES_MAX   bytes cat() prints of a file (default 10240)
 *
 * Each reader parses the variable where it is used (no saved state);
 * rt_check_env() runs once before anything is loaded so that a bad value
 * is an error up front, in bpftrace's words, not a surprise mid-trace. */
#include "etrace.h"
#include "runtime/rt.h"

#include <stdlib.h>

#define CAT_BYTES_DEFAULT 10240

/* The value of a positive-integer variable: def when unset, -1 when bad. */
static long positive_env(const char *name, long def) {
  const char *v = getenv(name);
  if (!v)
    return def;
  char *end;
  long n = strtol(v, &end, 10);
  return end == v || *end || n <= 0 ? -1 : n;
}

long rt_cat_bytes_max(void) {
  long n = positive_env("BPFTRACE_CAT_BYTES_MAX", CAT_BYTES_DEFAULT);
  return n < 0 ? CAT_BYTES_DEFAULT : n;
}

int rt_check_env(void) {
  if (positive_env("BPFTRACE_CAT_BYTES_MAX", CAT_BYTES_DEFAULT) < 0) {
    diag_cli_error("Env var 'BPFTRACE_CAT_BYTES_MAX' did not contain a valid uint64_t, or "
                   "was zero-valued.");
    return -1;
  }
  return 0;
}
