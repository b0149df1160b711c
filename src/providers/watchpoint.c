/* watchpoint.c - watchpoint:ADDR:LEN:MODE (w:): a breakpoint-PMU event
 * on an address, following the -p / -c process, or on every CPU without
 * one.
 */
#include "providers/attach.h"
#include "providers/provider.h"

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern const Provider provider_watchpoint;

static const char *const aliases[] = {"w", NULL};

typedef struct Watch {
  uint64_t addr;
  int len, mode;       /* 1, 2, 4, 8; HW_BREAKPOINT_* */
} Watch;

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

static int expand_watchpoint(const char *rest, Loc loc, Watch *w, char **name) {
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
  w->addr = addr;
  w->len = (int)len;
  w->mode = mode;
  const char *ms = mode == HW_BREAKPOINT_RW ? "rw" : mode == HW_BREAKPOINT_W ? "w"
                 : mode == HW_BREAKPOINT_X ? "x" : mode == HW_BREAKPOINT_R ? "r"
                 : mode == (HW_BREAKPOINT_R | HW_BREAKPOINT_X) ? "rx"
                 : mode == (HW_BREAKPOINT_W | HW_BREAKPOINT_X) ? "wx" : "rwx";
  /* bpftrace's probe name spells the address in decimal */
  *name = eprintf("watchpoint:%llu:%d:%s", (unsigned long long)addr, (int)len, ms);
  return 0;
}

static int expand(ProvExpand *x) {
  Watch *w = ealloc(sizeof *w);
  char *name;
  if (expand_watchpoint(x->rest ? x->rest : "", x->loc, w, &name) < 0)
    return -1;
  prov_add_target(x, &provider_watchpoint, name, "watchpoint", 0, w);
  return 0;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_PERF_EVENT};
  return 0;
}

/* A watchpoint on process pid (> 0, any CPU) or on cpu for all processes. */
static int attach_watchpoint(int prog_fd, const Watch *w, pid_t pid, int cpu) {
  struct perf_event_attr attr = {
      .type = PERF_TYPE_BREAKPOINT,
      .bp_type = w->mode,
      .bp_addr = w->addr,
      /* an execute breakpoint covers one instruction: the kernel wants
       * the length of a long */
      .bp_len = w->mode == HW_BREAKPOINT_X ? sizeof(long) : w->len,
      .sample_period = 1,
      .wakeup_events = 1,
  };
  return prov_attach_perf_attr(prog_fd, &attr, pid, cpu);
}

static const char *why(const Watch *w, int err) {
  if (err == ENOSPC)
    return eprintf("no free hardware debug register (perf_event_open: %s); x86 has four",
                   strerror(err));
  if (err == EINVAL)
    return eprintf("the breakpoint PMU refused address 0x%llx, length %d (perf_event_open: %s); "
                   "the address must be aligned to the length",
                   (unsigned long long)w->addr, w->len, strerror(err));
  return strerror(err);
}

static int attach(Target *t, const AttachEnv *env) {
  const Watch *w = t->data;
  int pid = env->pid ? env->pid : env->cpid;
  int ncpu = pid > 0 ? 1 : env->ncpu;
  for (int cpu = 0; cpu < ncpu; cpu++) {
    int fd = attach_watchpoint(t->prog_fd, w, pid, cpu);
    if (fd == -ENODEV && cpu > 0)
      continue; /* a possible CPU that is offline */
    if (fd < 0) {
      diag_error(t->probe->loc, "cannot attach probe %s: %s", t->name, why(w, -fd));
      return -1;
    }
    attach_keep(env, fd);
  }
  return 0;
}

const Provider provider_watchpoint = {
    .name = "watchpoint",
    .aliases = aliases,
    .expand = expand,
    .prog_spec = prog_spec,
    .attach = attach,
};
