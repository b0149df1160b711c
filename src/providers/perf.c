/* prov_perf.c - software, hardware and watchpoint probes.
 *
 *   software:EVENT[:COUNT]   s:   a software perf event on every CPU
 *   hardware:EVENT[:COUNT]   h:   a hardware (PMU) event on every CPU
 *   watchpoint:ADDR:LEN:MODE w:   a breakpoint-PMU event on an address
 *
 * Event names, aliases and default counts are bpftrace's (prov.c holds
 * the table).  Every event is opened on its own, never in a group: a
 * sampling event behind a leader of another type never fires.
 */
#include "providers/prov.h"

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

bool perf_provider(const char *prov) {
  static const char *const names[] = {"software", "s", "hardware", "h", "watchpoint", "w"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(prov, names[i]))
      return true;
  return false;
}

/* A decimal or 0x-hex number filling all of s. */
static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (!*s || *s == '-')
    return false;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end || errno)
    return false;
  *out = v;
  return true;
}

static int expand_event(const char *prov, const char *rest, Loc loc, Target *t) {
  bool hw = prov[0] == 'h';
  const char *pname = hw ? "hardware" : "software";
  if (strpbrk(rest, "*?[")) {
    diag_error(loc, "wildcards are not allowed for %s probes", pname);
    return -1;
  }
  const char *colon = strchr(rest, ':');
  char *event = colon ? estrndup(rest, colon - rest) : estrdup(rest);
  if (!*event) {
    diag_error(loc, "%s probe must have a %s event name", pname, pname);
    return -1;
  }
  uint64_t period;
  if (!prov_perf_event(pname, event, &t->perf_type, &t->perf_config, &period)) {
    diag_error(loc, "%s is not a %s probe (etrace -l '%s:*' lists them)", event, pname, pname);
    return -1;
  }
  if (colon) {
    if (!parse_u64(colon + 1, &period) || period == 0) {
      diag_error(loc, "%s probe count must be a positive integer, not '%s'", pname, colon + 1);
      return -1;
    }
  }
  t->type = hw ? PT_HARDWARE : PT_SOFTWARE;
  t->perf_period = period;
  t->name = colon ? eprintf("%s:%s:%s", pname, event, colon + 1) : eprintf("%s:%s", pname, event);
  return 0;
}

/* bpftrace's watchpoint modes, in its sorted spelling ("wr" is "rw").
 * x86 debug registers cannot watch reads alone: "r" is refused there. */
static int parse_mode(const char *s, Loc loc) {
  int mode = 0;
  for (const char *p = s; *p; p++) {
    int bit = *p == 'r' ? HW_BREAKPOINT_R : *p == 'w' ? HW_BREAKPOINT_W
            : *p == 'x' ? HW_BREAKPOINT_X : 0;
    if (!bit) {
      diag_error(loc, "watchpoint mode must be a combination of r, w and x, not '%s'", s);
      return -1;
    }
    if (mode & bit) {
      diag_error(loc, "watchpoint modes may not be duplicated: '%s'", s);
      return -1;
    }
    mode |= bit;
  }
#if defined(__x86_64__) || defined(__i386__)
  if (mode != HW_BREAKPOINT_W && mode != HW_BREAKPOINT_RW && mode != HW_BREAKPOINT_X) {
    diag_error(loc, "invalid watchpoint mode: %s (this CPU supports rw, w and x)", s);
    return -1;
  }
#endif
  if (!mode) {
    diag_error(loc, "watchpoint mode must be a combination of r, w and x");
    return -1;
  }
  return mode;
}

static int expand_watchpoint(const char *rest, Loc loc, Target *t) {
  /* ADDR:LEN:MODE */
  char *spec = estrdup(rest);
  char *parts[3] = {0};
  int n = 0;
  for (char *p = spec; n < 3;) {
    parts[n++] = p;
    char *c = strchr(p, ':');
    if (!c)
      break;
    *c = 0;
    p = c + 1;
  }
  if (n != 3 || strchr(parts[2], ':')) {
    diag_error(loc, "invalid watchpoint '%s': expected watchpoint:ADDRESS:LENGTH:MODE", rest);
    return -1;
  }
  uint64_t addr, len;
  if (!parse_u64(parts[0], &addr)) {
    /* bpftrace's FUNC+argN form needs a uprobe that arms the watchpoint
     * when FUNC runs: not supported. */
    if (strchr(parts[0], '+'))
      diag_error(loc, "watchpoint on a function argument ('%s') is not supported by etrace; "
                      "give the address to watch", parts[0]);
    else
      diag_error(loc, "invalid watchpoint address '%s'", parts[0]);
    return -1;
  }
  if (addr == 0) {
    diag_error(loc, "watchpoint must be attached to a non-zero address");
    return -1;
  }
  if (!parse_u64(parts[1], &len) || (len != 1 && len != 2 && len != 4 && len != 8)) {
    diag_error(loc, "watchpoint length must be one of (1,2,4,8), not '%s'", parts[1]);
    return -1;
  }
  int mode = parse_mode(parts[2], loc);
  if (mode < 0)
    return -1;
  t->type = PT_WATCHPOINT;
  t->wp_addr = addr;
  t->wp_len = (int)len;
  t->wp_mode = mode;
  const char *ms = mode == HW_BREAKPOINT_RW ? "rw" : mode == HW_BREAKPOINT_W ? "w"
                 : mode == HW_BREAKPOINT_X ? "x" : mode == HW_BREAKPOINT_R ? "r"
                 : mode == (HW_BREAKPOINT_R | HW_BREAKPOINT_X) ? "rx"
                 : mode == (HW_BREAKPOINT_W | HW_BREAKPOINT_X) ? "wx" : "rwx";
  /* bpftrace's probe name spells the address in decimal */
  t->name = eprintf("watchpoint:%llu:%d:%s", (unsigned long long)addr, (int)len, ms);
  return 0;
}

int perf_expand(const char *text, Loc loc, Target *t) {
  const char *colon = strchr(text, ':');
  char *prov = estrndup(text, colon - text);
  if (prov[0] == 'w')
    return expand_watchpoint(colon + 1, loc, t);
  return expand_event(prov, colon + 1, loc, t);
}

/* ------------------------------------------------------------ attach */

static int perf_open(struct perf_event_attr *attr, pid_t pid, int cpu) {
  attr->size = sizeof *attr;
  attr->disabled = 1;
  int fd = syscall(__NR_perf_event_open, attr, pid, cpu, -1 /* no group */, PERF_FLAG_FD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int prov_attach_watchpoint(int prog_fd, const Target *t, pid_t pid, int cpu) {
  struct perf_event_attr attr = {
      .type = PERF_TYPE_BREAKPOINT,
      .bp_type = t->wp_mode,
      .bp_addr = t->wp_addr,
      /* an execute breakpoint covers one instruction: the kernel wants
       * the length of a long */
      .bp_len = t->wp_mode == HW_BREAKPOINT_X ? sizeof(long) : t->wp_len,
      .sample_period = 1,
      .wakeup_events = 1,
  };
  int pfd = perf_open(&attr, pid > 0 ? pid : -1, pid > 0 ? -1 : cpu);
  if (pfd < 0)
    return pfd;
  return prov_attach_perf_fd(prog_fd, pfd);
}

/* The core PMU's sysfs directory: "cpu" on x86, "cpu_core"/"cpu_atom"
 * on hybrid Intel parts, "armv8_pmuv3..." on arm64. */
static bool have_cpu_pmu(void) {
  static const char *const dirs[] = {"cpu", "cpu_core", "cpu_atom", "armv8_pmuv3", "armv8_pmuv3_0"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (access(eprintf("/sys/bus/event_source/devices/%s", dirs[i]), F_OK) == 0)
      return true;
  return false;
}

const char *prov_perf_why(const Target *t, int err) {
  if (t->type == PT_HARDWARE && (err == ENOENT || err == EOPNOTSUPP || err == ENODEV)) {
    if (!have_cpu_pmu())
      return eprintf("this machine has no hardware PMU (performance-monitoring unit; "
                     "perf_event_open: %s). Virtual machines often expose none; "
                     "software:cpu-clock samples CPU time without one", strerror(err));
    return eprintf("the CPU's PMU does not support this event (perf_event_open: %s)",
                   strerror(err));
  }
  if (t->type == PT_WATCHPOINT && err == ENOSPC)
    return eprintf("no free hardware debug register (perf_event_open: %s); x86 has four",
                   strerror(err));
  if (t->type == PT_WATCHPOINT && err == EINVAL)
    return eprintf("the breakpoint PMU refused address 0x%llx, length %d (perf_event_open: %s); "
                   "the address must be aligned to the length",
                   (unsigned long long)t->wp_addr, t->wp_len, strerror(err));
  if (t->type == PT_SOFTWARE && (err == ENOENT || err == EOPNOTSUPP))
    return eprintf("this kernel does not provide the event (perf_event_open: %s)", strerror(err));
  return strerror(err);
}
