/* attach.c - the attach helpers every provider builds on.
 *
 * Every attachment is owned by one fd: a BPF link when the kernel has
 * perf links (5.15+), else the perf event fd itself with the program set
 * by ioctl.  Closing the fd detaches, so the kernel cleans up after us
 * even when etrace is killed.  Events are never grouped: a cpu-clock
 * event behind a tracepoint group leader never fires.
 */
#include "providers/attach.h"
#include "load/load.h"

#include <bpf/bpf.h>
#include <linux/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int prov_perf_open(struct perf_event_attr *attr, int pid, int cpu) {
  attr->size = sizeof *attr;
  attr->disabled = 1;
  int fd = syscall(__NR_perf_event_open, attr, pid > 0 ? pid : -1 /* all processes */,
                   pid > 0 ? -1 : cpu, -1 /* no group */, PERF_FLAG_FD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

static int perf_open(struct perf_event_attr *attr, int cpu) { return prov_perf_open(attr, -1, cpu); }

/* Whether releasing an event of this type waits for RCU grace periods:
 * tracepoints and the kprobe/uprobe PMUs (dynamic types) do; software
 * events and breakpoints are released at once (and a breakpoint's slot
 * must be free for the next session). */
static bool slow_release(uint32_t type) {
  return type == PERF_TYPE_TRACEPOINT || type >= PERF_TYPE_MAX;
}

/* Attach prog_fd to the perf event pfd (of that type) and enable it.
 * Consumes pfd: returns the fd owning the attachment, or -errno with pfd
 * closed.  With a link and a slow release, pfd stays open behind it
 * (links_perf_event): closing the link takes the program out, and the
 * event is released later, in the background. */
static int attach_to_perf(int prog_fd, int pfd, uint32_t type) {
  int err;
  int link = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
  if (link >= 0) {
    if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
      err = -errno;
      close(link);
      close(pfd);
      return err;
    }
    if (slow_release(type))
      links_perf_event(link, pfd);
    else
      close(pfd); /* the link holds its own reference */
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

int prov_attach_perf_fd(int prog_fd, int pfd) {
  return attach_to_perf(prog_fd, pfd, PERF_TYPE_SOFTWARE);
}

int prov_attach_perf_attr(int prog_fd, struct perf_event_attr *attr, int pid, int cpu) {
  int pfd = prov_perf_open(attr, pid, cpu);
  return pfd < 0 ? pfd : attach_to_perf(prog_fd, pfd, attr->type);
}

/* ------------------------------------------------------------ kprobe and uprobe PMUs */

int prov_pmu_type(const char *pmu) {
  char *text = read_file(eprintf("/sys/bus/event_source/devices/%s/type", pmu), NULL);
  int type = text ? atoi(text) : -1;
  free(text);
  return type;
}

int prov_pmu_format_bit(const char *pmu, const char *field) {
  char *text = read_file(eprintf("/sys/bus/event_source/devices/%s/format/%s", pmu, field), NULL);
  int bit = text && !strncmp(text, "config:", 7) ? atoi(text + 7) : -1;
  free(text);
  return bit;
}

int prov_attach_probe_pmu(int prog_fd, int type, uint64_t config, const char *target,
                          uint64_t offset, int pid) {
  struct perf_event_attr attr = {
      .type = type,
      .config = config,
      .config1 = (uint64_t)(uintptr_t)target,
      .config2 = offset,
      .sample_period = 1,
      .wakeup_events = 1,
  };
  /* All processes: one event on CPU 0 (the program runs on every CPU);
   * one process: that process on any CPU. */
  return prov_attach_perf_attr(prog_fd, &attr, pid, 0);
}

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
  return attach_to_perf(prog_fd, pfd, attr.type);
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
  return attach_to_perf(prog_fd, pfd, attr.type);
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

int prov_tp_btf_id(const char *name) {
  const char *off = getenv("ETRACE_NO_TP_BTF");
  if (off && *off && strcmp(off, "0"))
    return -1;
  int id = btf_vmlinux_find(eprintf("btf_trace_%s", name), BTF_KIND_TYPEDEF);
  return id < 0 ? -1 : id;
}

int prov_attach_uprobe(int prog_fd, const char *path, uint64_t offset, uint64_t ref_ctr,
                       bool retprobe, int pid) {
  static int type = -2, ret_bit = -2, ref_bit = -2;
  if (type == -2) {
    type = prov_pmu_type("uprobe");
    ret_bit = prov_pmu_format_bit("uprobe", "retprobe");
    ref_bit = prov_pmu_format_bit("uprobe", "ref_ctr_offset");
  }
  if (type < 0 || (retprobe && ret_bit < 0))
    return -ENOSYS;
  if (ref_ctr && ref_bit < 0)
    return -EOPNOTSUPP;
  uint64_t config = (retprobe ? 1ull << ret_bit : 0) | (ref_ctr ? ref_ctr << ref_bit : 0);
  return prov_attach_probe_pmu(prog_fd, type, config, path, offset, pid);
}
