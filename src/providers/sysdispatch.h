/* sysdispatch.h - syscalls:* tracepoints served by raw tracepoints.
 *
 * Each perf-event tracepoint attachment costs an RCU grace period to
 * detach (60-75 ms here, serialised under a kernel mutex), so a program
 * on syscalls:sys_enter_* (over 300 events) would take half a minute to
 * exit.  Instead, every program for one system call is a program on the
 * raw tracepoint (raw_tp, or tp_btf with its BTF-typed arguments) stored
 * in a BPF_MAP_TYPE_PROG_ARRAY under its syscall number, and two small
 * dispatchers of the same type attached to the raw tracepoints sys_enter
 * and sys_exit tail-call into it.  Two links detach in well under a
 * millisecond, and a syscall nobody traces costs one failed tail call.
 *
 * The language (providers/syscalls.c) and `etrace record` both go
 * through this one dispatcher: the recorder adds a fall-through (an event
 * for system calls without a tracepoint) where the language returns.
 */
#ifndef ETRACE_SYSDISPATCH_H
#define ETRACE_SYSDISPATCH_H

#include "codegen/emit.h"
#include "load/load.h"

#define SYSDISPATCH_MAX_NR 1024 /* syscall numbers the arrays hold */

/* Code after a failed tail call (no program for this syscall number):
 * r6 = the raw tracepoint's ctx.  It must end the program. */
typedef void (*SysFallthrough)(Emitter *e, bool is_exit, void *arg);

typedef struct SysDispatch {
  int prog_array[2];   /* [0] sys_enter, [1] sys_exit: syscall nr -> program */
  int dispatcher[2];   /* their dispatcher programs, -1 until needed */
  SysFallthrough fallthrough; /* NULL: return 0 */
  void *arg;
  const char *name[2]; /* program names (kernel-visible) */
  /* per side: 0, a raw_tp dispatcher; else a tp_btf one on this BTF id
   * (btf_trace_sys_enter / _exit), for tp_btf programs: a tail call
   * stays within one program type */
  int btf_id[2];
} SysDispatch;

/* A dispatcher with no programs yet; fallthrough may be NULL. */
void sysdisp_init(SysDispatch *d, const char *enter_name, const char *exit_name,
                  SysFallthrough fallthrough, void *arg);
/* Register prog_fd for syscall nr (entry or exit), creating that side's
 * array and dispatcher (of the type btf_id says) on first use.  0, or -1 after an error. */
int sysdisp_add(SysDispatch *d, bool is_exit, int nr, int prog_fd, const Loc *loc,
                const char *what);
/* Attach the dispatchers in use, handing each link to keep(arg, fd)
 * (links_keep for a Links list).  With verbose, say so.  0, or -1 after
 * an error. */
int sysdisp_attach(SysDispatch *d, void (*keep)(void *arg, int fd), void *arg, bool verbose);
/* Close the programs and arrays (the links belong to the Links list). */
void sysdisp_close(SysDispatch *d);

#endif
