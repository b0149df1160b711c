/* prov.h - probe providers: attach loaded programs, list probes.
 *
 * Extends the prov.c section of etrace.h.  Every attach function returns
 * one fd that owns the whole attachment (closing it detaches), or -errno.
 */
#ifndef PROV_H
#define PROV_H

#include "etrace.h"

/* raw_tp: a BPF_PROG_TYPE_RAW_TRACEPOINT program on tracepoint `name`
 * (e.g. "sched_switch", "sys_enter"). */
int prov_attach_raw_tp(int prog_fd, const char *name);

/* tp_btf: a BPF_PROG_TYPE_TRACING program loaded with expected attach type
 * BPF_TRACE_RAW_TP and its BTF target; the target is in the program. */
int prov_attach_tp_btf(int prog_fd);

/* Any perf event (PERF_TYPE_SOFTWARE / PERF_TYPE_HARDWARE ...) on one CPU
 * (cpu >= 0) for all processes, sampling every `period` events, or `freq`
 * times a second when freq != 0.  Never grouped with other events. */
int prov_attach_perf(int prog_fd, uint32_t type, uint64_t config, int cpu,
                     uint64_t period, uint64_t freq);

/* Attach prog_fd to the perf event pfd (already opened, disabled) and
 * enable it.  Consumes pfd: returns the fd owning the attachment, or
 * -errno with pfd closed. */
int prov_attach_perf_fd(int prog_fd, int pfd);

/* A software or hardware event by bpftrace name or alias ("cpu-clock",
 * "cpu", "page-faults", "faults", "cycles" ...).  provider is "software"
 * or "hardware".  Fills the perf type, config and bpftrace's default
 * sample period.  Returns false for an unknown name. */
bool prov_perf_event(const char *provider, const char *name, uint32_t *type,
                     uint64_t *config, uint64_t *default_period);

#endif
