/* prov.c - attach loaded programs to kernel hooks.
 *
 * Every attachment is owned by one fd: a BPF link when the kernel has
 * perf links (5.15+), else the perf event fd itself with the program set
 * by ioctl.  Closing the fd detaches, so the kernel cleans up after us
 * even when etrace is killed.  Events are never grouped: a cpu-clock
 * event behind a tracepoint group leader never fires.
 */
#include "providers/prov.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int perf_open(struct perf_event_attr *attr, int cpu) {
  attr->size = sizeof *attr;
  attr->disabled = 1;
  int fd = syscall(__NR_perf_event_open, attr, -1 /* all processes */, cpu,
                   -1 /* no group */, PERF_FLAG_FD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* Attach prog_fd to the perf event pfd and enable it.  Consumes pfd:
 * returns the fd owning the attachment, or -errno with pfd closed. */
static int attach_to_perf(int prog_fd, int pfd) {
  int err;
  int link = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
  if (link >= 0) {
    /* The link holds its own reference to the perf event. */
    if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
      err = -errno;
      close(link);
      close(pfd);
      return err;
    }
    close(pfd);
    return link;
  }
  if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0 ||
      ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
    err = -errno;
    close(pfd);
    return err;
  }
  return pfd;
}

int prov_attach_perf_fd(int prog_fd, int pfd) { return attach_to_perf(prog_fd, pfd); }

int prov_attach_tracepoint(int prog_fd, int tp_id) {
  /* One event on CPU 0 is enough: the program hangs off the tracepoint
   * itself and runs on every CPU. */
  struct perf_event_attr attr = {
    .type = PERF_TYPE_TRACEPOINT,
    .config = (uint64_t)tp_id,
    .sample_period = 1,
    .wakeup_events = 1,
  };
  int pfd = perf_open(&attr, 0);
  if (pfd < 0)
    return pfd;
  return attach_to_perf(prog_fd, pfd);
}

int prov_attach_perf(int prog_fd, uint32_t type, uint64_t config, int cpu,
                     uint64_t period, uint64_t freq) {
  struct perf_event_attr attr = {
    .type = type,
    .config = config,
  };
  if (freq) {
    attr.freq = 1;
    attr.sample_freq = freq;
  } else {
    attr.sample_period = period ? period : 1;
  }
  int pfd = perf_open(&attr, cpu);
  if (pfd < 0)
    return pfd;
  return attach_to_perf(prog_fd, pfd);
}

int prov_attach_perf_clock(int prog_fd, int cpu, uint64_t period_ns, uint64_t freq_hz) {
  return prov_attach_perf(prog_fd, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, cpu,
                          period_ns, freq_hz);
}

int prov_attach_raw_tp(int prog_fd, const char *name) {
  int fd = bpf_raw_tracepoint_open(name, prog_fd);
  return fd < 0 ? (errno ? -errno : fd) : fd;
}

int prov_attach_tp_btf(int prog_fd) {
  int fd = bpf_raw_tracepoint_open(NULL, prog_fd);
  return fd < 0 ? (errno ? -errno : fd) : fd;
}

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

bool prov_perf_event(const char *provider, const char *name, uint32_t *type,
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

/* ----------------------------------------------------------- listing */

/* `-l` candidates: "tracepoint:sys:event", "software:name:" ...  Each
 * comma-separated glob's matches are sorted with strcmp and printed in
 * turn, as bpftrace does. */
typedef struct Listing {
  char **names;
  int n, cap;
} Listing;

static void listing_add(Listing *l, char *name) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    char **nv = ealloc(l->cap * sizeof *nv);
    if (l->n)
      memcpy(nv, l->names, l->n * sizeof *nv);
    l->names = nv;
  }
  l->names[l->n++] = name;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct TpGlob {
  Listing *out;
  const char *full_glob;   /* match "tracepoint:sys:event" against it, or NULL */
} TpGlob;

static void add_tracepoint(const char *sys, const char *event, void *arg) {
  TpGlob *g = arg;
  char *name = eprintf("tracepoint:%s:%s", sys, event);
  if (!g->full_glob || fnmatch(g->full_glob, name, 0) == 0)
    listing_add(g->out, name);
}

static void add_perf_names(Listing *l, const char *provider, const char *name_glob,
                           const char *full_glob) {
  size_t n;
  uint32_t type;
  const PerfName *tab = perf_table(provider, &n, &type);
  for (size_t i = 0; i < n; i++) {
    const char *names[2] = {tab[i].name, tab[i].alias};
    for (int j = 0; j < 2; j++) {
      if (!names[j])
        continue;
      char *full = eprintf("%s:%s:", provider, names[j]);
      if (name_glob ? fnmatch(name_glob, names[j], 0) == 0
                    : fnmatch(full_glob, full, 0) == 0)
        listing_add(l, full);
    }
  }
}

/* Split "provider:rest" into a canonical provider name and rest. */
static const char *split_provider(const char *glob, const char **rest) {
  static const struct { const char *name, *alias; } providers[] = {
    {"tracepoint", "t"}, {"software", "s"}, {"hardware", "h"}, {"iter", "it"},
  };
  const char *colon = strchr(glob, ':');
  if (!colon)
    return NULL;
  size_t len = colon - glob;
  for (size_t i = 0; i < NELEM(providers); i++) {
    if ((strlen(providers[i].name) == len && !strncmp(glob, providers[i].name, len)) ||
        (strlen(providers[i].alias) == len && !strncmp(glob, providers[i].alias, len))) {
      *rest = colon + 1;
      return providers[i].name;
    }
  }
  return NULL;
}

static void listing_add_cb(void *l, char *name) { listing_add(l, name); }

static void add_rawtp_name(void *l, const char *name) {
  listing_add(l, eprintf("rawtracepoint:vmlinux:%s", name));
}

/* rawtracepoint:[vmlinux:]GLOB: the tracepoints vmlinux BTF knows. */
static bool list_rawtp(Listing *l, const char *glob) {
  const char *rest;
  if (!strncmp(glob, "rawtracepoint:", 14))
    rest = glob + 14;
  else if (!strncmp(glob, "rt:", 3))
    rest = glob + 3;
  else
    return false;
  if (!strncmp(rest, "vmlinux:", 8))
    rest += 8;
  btf_raw_tp_glob(*rest ? rest : "*", add_rawtp_name, l);
  return true;
}

/* -lv for uprobe:PATH:FUNC: the parameters from DWARF, when it has them. */
static void print_uprobe_args(FILE *f, const char *name) {
  const char *path = name + strlen("uprobe:");
  const char *colon = strrchr(path, ':');
  if (!colon)
    return;
  DwParam *params = NULL;
  const char *why;
  int n = dwarf_func_params(estrndup(path, colon - path), colon + 1, &params, &why);
  for (int i = 0; i < n; i++)
    fprintf(f, "    %s %s\n", btf_c_name(params[i].type_id), params[i].name);
}

static void print_rawtp_args(FILE *f, const char *name) {
  const char **names;
  int *types;
  int n = btf_tp_params(strrchr(name, ':') + 1, &names, &types);
  for (int i = 0; i < n; i++)
    fprintf(f, "    %s %s\n", btf_c_name(types[i]), names[i]);
}

/* Collect the matches of one glob (no commas) into l. */
static int list_one(Listing *l, const char *glob) {
  int user = prov_uprobe_list(glob, listing_add_cb, l);
  if (user)
    return user < 0 ? -EINVAL : 0;
  if (prov_kprobe_list(glob, listing_add_cb, l))
    return 0;
  if (list_rawtp(l, glob))
    return 0;
  const char *rest = NULL;
  const char *provider = split_provider(glob, &rest);
  if (!provider) {
    /* No known provider: match the whole "provider:..." name. */
    TpGlob g = {l, glob};
    tracefs_glob("*", "*", add_tracepoint, &g);
    add_perf_names(l, "software", NULL, glob);
    add_perf_names(l, "hardware", NULL, glob);
    prov_iter_list(glob, listing_add_cb, l);
    return 0;
  }
  if (!strcmp(provider, "iter")) {
    prov_iter_list(eprintf("iter:%s", rest), listing_add_cb, l);
    return 0;
  }
  if (!strcmp(provider, "tracepoint")) {
    const char *colon = strchr(rest, ':');
    TpGlob g = {l, NULL};
    if (colon) {
      if (strchr(colon + 1, ':')) {
        diag_fatal("tracepoint probe type requires 2 arguments: %s", glob);
        return -EINVAL;
      }
      char *sys = estrndup(rest, colon - rest);
      tracefs_glob(sys, colon + 1, add_tracepoint, &g);
    } else if (strchr(rest, '*')) {
      /* "tracepoint:*" and the like: match "sys:event" as a whole. */
      g.full_glob = eprintf("tracepoint:%s", rest);
      tracefs_glob("*", "*", add_tracepoint, &g);
    } else {
      diag_fatal("tracepoint probe type requires 2 arguments: %s", glob);
      return -EINVAL;
    }
    return 0;
  }
  /* software / hardware: "name" or "name:period"; list names only. */
  const char *colon = strchr(rest, ':');
  char *name_glob = colon ? estrndup(rest, colon - rest) : estrdup(rest);
  add_perf_names(l, provider, *name_glob ? name_glob : "*", NULL);
  return 0;
}

static void print_tracepoint_args(FILE *f, const char *name) {
  const char *sys = name + strlen("tracepoint:");
  const char *colon = strchr(sys, ':');
  char *sysname = estrndup(sys, colon - sys);
  TpFormat *fmt = tracefs_format(sysname, colon + 1);
  if (!fmt)
    return;
  for (int i = 0; i < fmt->nfields; i++) {
    TpField *fl = &fmt->fields[i];
    fprintf(f, "    %s %s", fl->ctype, fl->name);
    if (fl->array_len > 0)
      fprintf(f, "[%d]", fl->array_len);
    else if (fl->size == 0 && !fl->data_loc)
      fputs("[]", f);   /* flexible array member */
    fputc('\n', f);
  }
}

int prov_list(FILE *f, const char *glob, bool verbose) {
  if (glob) {
    int types = btf_list_types(f, glob, verbose);
    if (types)
      return types < 0 ? -EINVAL : 0;
  }
  if (!tracefs_root(false)) {
    int err = errno;
    diag_fatal("cannot find or mount tracefs: %s", strerror(err));
    return -err;
  }
  if (!glob || !*glob)
    glob = "*";
  char *all = estrdup(glob);
  for (char *save = NULL, *one = strtok_r(all, ",", &save); one;
       one = strtok_r(NULL, ",", &save)) {
    Listing l = {0};
    int err = list_one(&l, one);
    if (err < 0)
      return err;
    qsort(l.names, l.n, sizeof *l.names, cmp_str);
    for (int i = 0; i < l.n; i++) {
      if (i > 0 && !strcmp(l.names[i - 1], l.names[i]))
        continue;
      fprintf(f, "%s\n", l.names[i]);
      if (verbose && !strncmp(l.names[i], "tracepoint:", 11))
        print_tracepoint_args(f, l.names[i]);
      else if (verbose && !strncmp(l.names[i], "rawtracepoint:", 14))
        print_rawtp_args(f, l.names[i]);
      else if (verbose && !strncmp(l.names[i], "uprobe:", 7))
        print_uprobe_args(f, l.names[i]);
      else if (verbose && !strncmp(l.names[i], "iter:", 5))
        prov_iter_print_fields(f, l.names[i] + 5);
      else if (verbose)
        prov_kprobe_print_args(f, l.names[i]);
    }
  }
  return 0;
}
