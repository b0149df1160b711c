/* privs.c - check, before anything is created, that etrace may load and
 * attach BPF programs.  Since Linux 5.8 that takes CAP_BPF (maps,
 * programs) and CAP_PERFMON (tracing programs, perf events, uprobes);
 * CAP_SYS_ADMIN still grants both.  Without them the first failure would
 * come half-way (a -c child forked, tracefs mounted, maps created), with
 * an EPERM that does not say what is missing. */
#include "etrace.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct *d, int cap) {
  return (d[cap / 32].effective >> (cap % 32)) & 1;
}

int privs_check(void) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {{0}};
  if (syscall(SYS_capget, &h, d) < 0)
    return 0; /* cannot tell: let the kernel decide */
  bool admin = has_cap(d, CAP_SYS_ADMIN);
  bool bpf = admin || has_cap(d, CAP_BPF), perfmon = admin || has_cap(d, CAP_PERFMON);
  if (bpf && perfmon)
    return 0;
  diag_fatal("loading BPF programs needs root, or the CAP_BPF and CAP_PERFMON capabilities (missing: %s%s%s)",
             bpf ? "" : "CAP_BPF", !bpf && !perfmon ? ", " : "", perfmon ? "" : "CAP_PERFMON");
  return -1;
}
