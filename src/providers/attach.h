/* attach.h - attaching loaded programs to kernel hooks (attach.c): the
 * base layer providers (and etrace record) build on.  It calls nothing
 * above it.  Every attach function returns one fd that owns the whole
 * attachment (closing it detaches), or -errno.
 */
#ifndef ATTACH_H
#define ATTACH_H

#include "etrace.h"

/* raw_tp: a BPF_PROG_TYPE_RAW_TRACEPOINT program on tracepoint `name`
 * (e.g. "sched_switch", "sys_enter"). */
int prov_attach_raw_tp(int prog_fd, const char *name);

/* tp_btf: a BPF_PROG_TYPE_TRACING program loaded with expected attach type
 * BPF_TRACE_RAW_TP and its BTF target; the target is in the program. */
int prov_attach_tp_btf(int prog_fd);

/* The BTF id of tracepoint `name`'s prototype (btf_trace_NAME), the
 * attach_btf_id of a tp_btf program on it; -1 when the kernel has no BTF
 * for it, or when ETRACE_NO_TP_BTF is set in the environment (raw_tp
 * only, as on kernels without tp_btf). */
int prov_tp_btf_id(const char *name);

/* Any perf event (PERF_TYPE_SOFTWARE / PERF_TYPE_HARDWARE ...) on one CPU
 * (cpu >= 0) for all processes, sampling every `period` events, or `freq`
 * times a second when freq != 0.  Never grouped with other events. */
int prov_attach_perf(int prog_fd, uint32_t type, uint64_t config, int cpu,
                     uint64_t period, uint64_t freq);

/* Attach prog_fd to the perf event pfd (already opened, disabled) and
 * enable it.  Consumes pfd: returns the fd owning the attachment, or
 * -errno with pfd closed.  The event is released with the attachment
 * (use prov_attach_perf_attr for tracepoint and probe PMU events, whose
 * release is left to the background: load/links.c). */
int prov_attach_perf_fd(int prog_fd, int pfd);

/* Open the perf event attr describes (its type, config, sample fields
 * set by the caller; size and disabled are set here) for process pid
 * (> 0, on any CPU) or, with pid <= 0, for every process on cpu.  Never
 * grouped.  The fd, or -errno. */
struct perf_event_attr;
int prov_perf_open(struct perf_event_attr *attr, int pid, int cpu);

/* prov_perf_open, then prov_attach_perf_fd. */
int prov_attach_perf_attr(int prog_fd, struct perf_event_attr *attr, int pid, int cpu);

/* A dynamic PMU of /sys/bus/event_source/devices ("kprobe", "uprobe"):
 * its perf type, and the first config bit of a format field
 * ("retprobe", "ref_ctr_offset"); -1 when the kernel has none. */
int prov_pmu_type(const char *pmu);
int prov_pmu_format_bit(const char *pmu, const char *field);

/* A kprobe or uprobe event of PMU type `type`: target (a function name or
 * a file path) + offset, with the PMU's config bits; for process pid
 * (> 0) or for every process (one event on CPU 0: the probe fires on
 * every CPU). */
int prov_attach_probe_pmu(int prog_fd, int type, uint64_t config, const char *target,
                          uint64_t offset, int pid);
/* A uprobe (retprobe: a uretprobe) of the uprobe PMU on file `path` at
 * file offset `offset`, with the USDT semaphore at file offset ref_ctr
 * (0: none), in process pid (> 0) or in every process. */
int prov_attach_uprobe(int prog_fd, const char *path, uint64_t offset, uint64_t ref_ctr,
                       bool retprobe, int pid);

/* A tracepoint by its tracefs id, as a perf event. */
int prov_attach_tracepoint(int prog_fd, int tp_id);

/* The cpu-clock software event on one CPU: every period_ns, or freq_hz
 * times a second. */
int prov_attach_perf_clock(int prog_fd, int cpu, uint64_t period_ns, uint64_t freq_hz);

#endif
