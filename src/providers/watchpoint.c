/* watchpoint.c - watchpoint:ADDR:LEN:MODE (w:): a breakpoint-PMU event
 * on an address, following the -p / -c process, or on every CPU without
 * one; and watchpoint:FUNCTION+argN:LEN:MODE / asyncwatchpoint: (aw:),
 * whose address is argument N of FUNCTION in the -c / -p program, armed
 * at run time (watchpoint_func.c expands it and writes the setup uprobe).
 *
 * Run time (Provider.on_event): TEV_WATCH from a setup uprobe opens the
 * breakpoint for a new address (each distinct address once per target);
 * TEV_WATCH_LAST, the last record of a call that stopped the process,
 * then lets the process continue; TEV_UNWATCH from unwatch() closes
 * every breakpoint on that address.
 */
#include "providers/watchpoint.h"
#include "providers/attach.h"

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const aliases[] = {"w", "asyncwatchpoint", "aw", NULL};

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

const char *watch_mode_name(int mode) {
  return mode == HW_BREAKPOINT_RW ? "rw" : mode == HW_BREAKPOINT_W ? "w"
       : mode == HW_BREAKPOINT_X ? "x" : mode == HW_BREAKPOINT_R ? "r"
       : mode == (HW_BREAKPOINT_R | HW_BREAKPOINT_X) ? "rx"
       : mode == (HW_BREAKPOINT_W | HW_BREAKPOINT_X) ? "wx" : "rwx";
}

int watch_parse_len_mode(const char *len_text, const char *mode_text, Loc loc, Watch *w) {
  uint64_t len;
  if (!parse_u64(len_text, &len) || (len != 1 && len != 2 && len != 4 && len != 8)) {
    diag_error(loc, "watchpoint length must be one of (1,2,4,8), not '%s'", len_text);
    return -1;
  }
  int mode = parse_mode(mode_text, loc);
  if (mode < 0)
    return -1;
  w->len = (int)len;
  w->mode = mode;
  return 0;
}

/* "ADDR:LEN:MODE" or "FUNCTION+argN:LEN:MODE" after the prefix. */
static int expand(ProvExpand *x) {
  const char *rest = x->rest ? x->rest : "";
  bool async = !strcmp(x->prefix, "asyncwatchpoint") || !strcmp(x->prefix, "aw");
  const char *shown = async ? "asyncwatchpoint" : "watchpoint";
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
    diag_error(x->loc, "invalid %s '%s': expected %s:ADDRESS:LENGTH:MODE or "
                       "%s:FUNCTION+argN:LENGTH:MODE", shown, rest, shown, shown);
    return -1;
  }
  Watch *w = ealloc(sizeof *w);
  w->async = async;
  if (watch_parse_len_mode(parts[1], parts[2], x->loc, w) < 0)
    return -1;
  if (strchr(parts[0], '+'))
    return watch_expand_func(x, parts[0], w);
  if (async) {
    diag_error(x->loc, "asyncwatchpoint requires a function name (FUNCTION+argN), not an address");
    return -1;
  }
  if (!parse_u64(parts[0], &w->addr)) {
    diag_error(x->loc, "invalid watchpoint address '%s'", parts[0]);
    return -1;
  }
  if (w->addr == 0) {
    diag_error(x->loc, "watchpoint must be attached to a non-zero address");
    return -1;
  }
  /* bpftrace's probe name spells the address in decimal */
  char *name = eprintf("watchpoint:%llu:%d:%s", (unsigned long long)w->addr, w->len,
                       watch_mode_name(w->mode));
  prov_add_target(x, &provider_watchpoint, name, "watchpoint", 0, w);
  return 0;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_PERF_EVENT};
  return 0;
}

/* A breakpoint on addr for process pid (> 0, any CPU) or on cpu for all
 * processes, running prog_fd: the fd owning it, or -errno. */
static int open_breakpoint(int prog_fd, const Watch *w, uint64_t addr, pid_t pid, int cpu) {
  struct perf_event_attr attr = {
      .type = PERF_TYPE_BREAKPOINT,
      .bp_type = w->mode,
      .bp_addr = addr,
      /* an execute breakpoint covers one instruction: the kernel wants
       * the length of a long */
      .bp_len = w->mode == HW_BREAKPOINT_X ? sizeof(long) : w->len,
      .sample_period = 1,
      .wakeup_events = 1,
  };
  return prov_attach_perf_attr(prog_fd, &attr, pid, cpu);
}

static const char *why(uint64_t addr, int len, int err) {
  if (err == ENOSPC)
    return eprintf("no free hardware debug register (perf_event_open: %s); x86 has four",
                   strerror(err));
  if (err == EINVAL)
    return eprintf("the breakpoint PMU refused address 0x%llx, length %d (perf_event_open: %s); "
                   "the address must be aligned to the length",
                   (unsigned long long)addr, len, strerror(err));
  return strerror(err);
}

static void add_armed(Watch *w, uint64_t addr, int fd) {
  w->armed = egrow(w->armed, w->narmed, sizeof(Armed));
  w->armed[w->narmed++] = (Armed){addr, fd};
}

static int attach(Target *t, const AttachEnv *env) {
  Watch *w = t->data;
  if (w->on_arg)
    return 0; /* armed at run time, when the function runs */
  int pid = env->pid ? env->pid : env->cpid;
  int ncpu = pid > 0 ? 1 : env->ncpu;
  for (int cpu = 0; cpu < ncpu; cpu++) {
    int fd = open_breakpoint(t->prog_fd, w, w->addr, pid, cpu);
    if (fd == -ENODEV && cpu > 0)
      continue; /* a possible CPU that is offline */
    if (fd < 0) {
      diag_error(t->probe->loc, "cannot attach probe %s: %s", t->name, why(w->addr, w->len, -fd));
      return -1;
    }
    attach_keep(env, fd);
    add_armed(w, w->addr, fd);
  }
  return 0;
}

/* TEV_WATCH: watch addr in the traced process (once per address), then
 * let the process, stopped by the setup uprobe, continue.  Out of debug
 * registers: bpftrace's message, and the process goes on unwatched. */
static int arm(Target *t, Watch *w, uint64_t addr, const EventEnv *env) {
  const AttachEnv *a = env->attach;
  int pid = a->pid ? a->pid : a->cpid;
  for (int i = 0; i < w->narmed; i++)
    if (w->armed[i].addr == addr)
      return 0;
  int fd = open_breakpoint(t->prog_fd, w, addr, pid, -1);
  add_armed(w, addr, fd < 0 ? -1 : fd);
  if (fd >= 0)
    attach_keep(a, fd);
  else if (fd == -ENOSPC)
    env->message(env->arg, "lost_events",
                 "Failed to attach watchpoint probe. You are out of watchpoint registers.");
  else /* a misaligned address, say: it goes unwatched */
    fprintf(stderr, "etrace: cannot watch 0x%llx for %s: %s\n", (unsigned long long)addr,
            t->name, why(addr, w->len, -fd));
  return 0;
}

static int on_event(Target *t, uint64_t event, uint64_t value, const EventEnv *env) {
  Watch *w = t->data;
  if (event == TEV_UNWATCH) {
    /* every breakpoint on the address; an address never watched is no
     * error (bpftrace's unwatch() is silent too) */
    for (int i = 0; i < w->narmed; i++)
      if (w->armed[i].addr == value && w->armed[i].fd >= 0) {
        attach_drop(env->attach, w->armed[i].fd);
        w->armed[i].fd = -1;
      }
    return 0;
  }
  if ((event != TEV_WATCH && event != TEV_WATCH_LAST) || !w->on_arg)
    return 0;
  int rc = arm(t, w, value, env);
  const AttachEnv *a = env->attach;
  int pid = a->pid ? a->pid : a->cpid;
  if (event == TEV_WATCH_LAST && pid > 0 && kill(pid, SIGCONT) < 0 && errno != ESRCH) {
    diag_fatal("cannot resume process %d after arming %s: %s", pid, t->name, strerror(errno));
    return -1;
  }
  return rc;
}

const Provider provider_watchpoint = {
    .name = "watchpoint",
    .aliases = aliases,
    .no_address_space = true,
    .expand = expand,
    .ctx_type = "struct bpf_perf_event_data *",
    .prog_spec = prog_spec,
    .attach = attach,
    .on_event = on_event,
};
