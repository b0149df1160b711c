/* env.c - bpftrace's environment variables read by the runtime.
 *
 *   BPFTRACE_CAT_BYTES_MAX   bytes cat() prints of a file (default 10240)
 *   ETRACE_KERNEL_VERSION    the kernel version (6.1) code is generated
 *                            for, instead of the running kernel's
 *
 * Each reader parses the variable where it is used (no saved state);
 * rt_check_env() runs once before anything is loaded so that a bad value
 * is an error up front, in bpftrace's words, not a surprise mid-trace. */
#include "etrace.h"
#include "runtime/rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

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

/* "MAJOR.MINOR..." into *major, *minor; false when it is not one. */
static bool parse_version(const char *v, int *major, int *minor) {
  return v && sscanf(v, "%d.%d", major, minor) == 2 && *major >= 0 && *minor >= 0;
}

/* Is the kernel the code is for at least major.minor?  The running one
 * (it will load the code), or ETRACE_KERNEL_VERSION's.  Read once. */
bool rt_kernel_at_least(int want_major, int want_minor) {
  static int major = -1, minor = -1;
  if (major < 0) {
    struct utsname u;
    const char *v = getenv("ETRACE_KERNEL_VERSION");
    if (!(v && *v) && uname(&u) == 0)
      v = u.release;
    if (!parse_version(v, &major, &minor))
      major = minor = 0;
  }
  return major > want_major || (major == want_major && minor >= want_minor);
}

int rt_check_env(void) {
  if (positive_env("BPFTRACE_CAT_BYTES_MAX", CAT_BYTES_DEFAULT) < 0) {
    diag_cli_error("Env var 'BPFTRACE_CAT_BYTES_MAX' did not contain a valid uint64_t, or "
                   "was zero-valued.");
    return -1;
  }
  const char *v = getenv("ETRACE_KERNEL_VERSION");
  int major, minor;
  if (v && *v && !parse_version(v, &major, &minor)) {
    diag_cli_error("Env var 'ETRACE_KERNEL_VERSION' is not a kernel version such as 6.1: '%s'",
                   v);
    return -1;
  }
  return 0;
}
