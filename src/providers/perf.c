/* perf.c - software:EVENT[:COUNT] (s:) and hardware:EVENT[:COUNT] (h:):
 * a perf event on every CPU, sampling every COUNT events.
 *
 * Event names, aliases and default counts are bpftrace's.  Every event is
 * opened on its own, never in a group: a sampling event behind a leader
 * of another type never fires.
 */
#include "providers/attach.h"
#include "providers/provider.h"

#include <errno.h>
#include <fnmatch.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const Provider provider_perf;

static const char *const aliases[] = {"s", "hardware", "h", NULL};

typedef struct PerfTarget {
  bool hw;
  uint32_t type;
  uint64_t config, period;
} PerfTarget;

/* ------------------------------------------------- perf event names */

typedef struct PerfName {
  const char *name, *alias;
  uint64_t config;
  uint64_t default_period;
} PerfName;

/* bpftrace's names, aliases and default sample periods. */
static const PerfName sw_events[] = {
  {"alignment-faults", NULL, PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
  {"bpf-output", NULL, PERF_COUNT_SW_BPF_OUTPUT, 1},
  {"context-switches", "cs", PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
  {"cpu-clock", "cpu", PERF_COUNT_SW_CPU_CLOCK, 1000000},
  {"cpu-migrations", NULL, PERF_COUNT_SW_CPU_MIGRATIONS, 1},
  {"dummy", NULL, PERF_COUNT_SW_DUMMY, 1},
  {"emulation-faults", NULL, PERF_COUNT_SW_EMULATION_FAULTS, 1},
  {"major-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
  {"minor-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
  {"page-faults", "faults", PERF_COUNT_SW_PAGE_FAULTS, 100},
  {"task-clock", NULL, PERF_COUNT_SW_TASK_CLOCK, 1},
};

static const PerfName hw_events[] = {
  {"backend-stalls", NULL, PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
  {"branch-instructions", "branches", PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
  {"branch-misses", NULL, PERF_COUNT_HW_BRANCH_MISSES, 100000},
  {"bus-cycles", NULL, PERF_COUNT_HW_BUS_CYCLES, 100000},
  {"cache-misses", NULL, PERF_COUNT_HW_CACHE_MISSES, 1000000},
  {"cache-references", NULL, PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
  {"cpu-cycles", "cycles", PERF_COUNT_HW_CPU_CYCLES, 1000000},
  {"frontend-stalls", NULL, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000},
  {"instructions", NULL, PERF_COUNT_HW_INSTRUCTIONS, 1000000},
  {"ref-cycles", NULL, PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* "software"/"s" or "hardware"/"h": its table. */
static const PerfName *perf_table(const char *provider, size_t *n, uint32_t *type) {
  if (!strcmp(provider, "software") || !strcmp(provider, "s")) {
    *n = NELEM(sw_events);
    *type = PERF_TYPE_SOFTWARE;
    return sw_events;
  }
  if (!strcmp(provider, "hardware") || !strcmp(provider, "h")) {
    *n = NELEM(hw_events);
    *type = PERF_TYPE_HARDWARE;
    return hw_events;
  }
  *n = 0;
  return NULL;
}

static bool perf_event(const char *provider, const char *name, uint32_t *type,
                     uint64_t *config, uint64_t *default_period) {
  size_t n;
  uint32_t t;
  const PerfName *tab = perf_table(provider, &n, &t);
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(name, tab[i].name) || (tab[i].alias && !strcmp(name, tab[i].alias))) {
      *type = t;
      *config = tab[i].config;
      *default_period = tab[i].default_period;
      return true;
    }
  }
  return false;
}


static int expand(ProvExpand *x) {
  const char *rest = x->rest ? x->rest : "";
  bool hw = x->prefix[0] == 'h';
  const char *pname = hw ? "hardware" : "software";
  if (strpbrk(rest, "*?[")) {
    diag_error(x->loc, "wildcards are not allowed for %s probes", pname);
    return -1;
  }
  const char *colon = strchr(rest, ':');
  char *event = colon ? estrndup(rest, colon - rest) : estrdup(rest);
  if (!*event) {
    diag_error(x->loc, "%s probe must have a %s event name", pname, pname);
    return -1;
  }
  PerfTarget *p = ealloc(sizeof *p);
  p->hw = hw;
  if (!perf_event(pname, event, &p->type, &p->config, &p->period)) {
    diag_error(x->loc, "%s is not a %s probe (etrace -l '%s:*' lists them)", event, pname, pname);
    return -1;
  }
  if (colon && (!parse_u64(colon + 1, &p->period) || p->period == 0)) {
    diag_error(x->loc, "%s probe count must be a positive integer, not '%s'", pname, colon + 1);
    return -1;
  }
  char *name = colon ? eprintf("%s:%s:%s", pname, event, colon + 1) : eprintf("%s:%s", pname, event);
  prov_add_target(x, &provider_perf, name, pname, 0, p);
  return 0;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_PERF_EVENT};
  return 0;
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

/* Why attaching failed with errno err, for the user (names a missing PMU). */
static const char *why(const PerfTarget *p, int err) {
  if (p->hw && (err == ENOENT || err == EOPNOTSUPP || err == ENODEV)) {
    if (!have_cpu_pmu())
      return eprintf("this machine has no hardware PMU (performance-monitoring unit; "
                     "perf_event_open: %s). Virtual machines often expose none; "
                     "software:cpu-clock samples CPU time without one", strerror(err));
    return eprintf("the CPU's PMU does not support this event (perf_event_open: %s)",
                   strerror(err));
  }
  if (!p->hw && (err == ENOENT || err == EOPNOTSUPP))
    return eprintf("this kernel does not provide the event (perf_event_open: %s)", strerror(err));
  return strerror(err);
}

/* One event per CPU, counting every process. */
static int attach(Target *t, const AttachEnv *env) {
  const PerfTarget *p = t->data;
  for (int cpu = 0; cpu < env->ncpu; cpu++) {
    int fd = prov_attach_perf(t->prog_fd, p->type, p->config, cpu, p->period, 0);
    if (fd == -ENODEV && cpu > 0)
      continue; /* a possible CPU that is offline */
    if (fd < 0) {
      diag_error(t->probe->loc, "cannot attach probe %s: %s", t->name, why(p, -fd));
      return -1;
    }
    attach_keep(env, fd);
  }
  return 0;
}

/* ------------------------------------------------------------ listing */

static void add_perf_names(const ListQuery *q, const char *provider, const char *name_glob) {
  size_t n;
  uint32_t type;
  const PerfName *tab = perf_table(provider, &n, &type);
  for (size_t i = 0; i < n; i++) {
    const char *names[2] = {tab[i].name, tab[i].alias};
    for (int j = 0; j < 2; j++) {
      if (!names[j])
        continue;
      char *full = eprintf("%s:%s:", provider, names[j]);
      if (name_glob ? fnmatch(name_glob, names[j], 0) == 0 : fnmatch(q->glob, full, 0) == 0)
        q->add(q->arg, full);
    }
  }
}

/* "software:NAME[:PERIOD]": names only; no provider: the full names. */
static int list(const ListQuery *q) {
  if (!q->prefix) {
    add_perf_names(q, "software", NULL);
    add_perf_names(q, "hardware", NULL);
    return 0;
  }
  const char *colon = strchr(q->rest, ':');
  char *name_glob = colon ? estrndup(q->rest, colon - q->rest) : estrdup(q->rest);
  add_perf_names(q, q->prefix[0] == 'h' ? "hardware" : "software", *name_glob ? name_glob : "*");
  return 0;
}

/* software events keep their overflow handlers newest first */
static bool newest_first(const Target *t) { return !((const PerfTarget *)t->data)->hw; }

const Provider provider_perf = {
    .name = "software",
    .aliases = aliases,
    .no_address_space = true,
    .expand = expand,
    .ctx_type = "struct bpf_perf_event_data *",
    .prog_spec = prog_spec,
    .attach = attach,
    .newest_first = newest_first,
    .list = list,
};
