/* kswitch.c - sched_switch of `etrace record --profile kernel`, taken from
 * the raw tracepoint sched_switch(preempt, prev, next, prev_state) rather
 * than from the perf-event tracepoint.
 *
 * The kernel skips a perf-event tracepoint program whenever another such
 * program (any tool's) runs on that CPU; a raw-tracepoint program is only
 * kept from nesting in itself.  A missed sched_switch makes LTTng's
 * analyses charge every later event of that CPU to the wrong thread, so
 * this one event is read from the task_structs: LTTng's fields
 *
 *   prev_comm, prev_tid, prev_prio, prev_state, next_comm, next_tid, next_prio
 *
 * with the priorities minus MAX_RT_PRIO (100) and prev_state as the
 * tracepoint reports it (__trace_sched_switch_state: the highest bit of
 * (state | exit_state) & TASK_REPORT, TASK_IDLE as TASK_REPORT_IDLE,
 * RTLOCK_WAIT and FROZEN as UNINTERRUPTIBLE), 0 when prev was preempted,
 * as LTTng writes it.  Offsets come from the running kernel's BTF.  A raw
 * tracepoint also detaches at once.
 */
#include "record/record.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

int kprof_layout_switch(Event *e) {
  struct btf *btf = btf__load_vmlinux_btf();
  int ts = btf ? btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT) : -1;
  int pid = ts > 0 ? kprof_member_off(btf, ts, "pid") : -1;
  int comm = ts > 0 ? kprof_member_off(btf, ts, "comm") : -1;
  int prio = ts > 0 ? kprof_member_off(btf, ts, "prio") : -1;
  int exit_state = ts > 0 ? kprof_member_off(btf, ts, "exit_state") : -1;
  btf__free(btf);
  if (pid < 0 || comm < 0 || prio < 0 || exit_state < 0) {
    diag_fatal("--profile kernel: the kernel's BTF has no task_struct pid, comm, prio or "
               "exit_state (for sched_switch)");
    return -1;
  }
  int dst = CTF_EVENT_HEADER_SIZE;
  for (int task = 1; task <= 2; task++) { /* args[1] prev, args[2] next */
    const char *who = task == 1 ? "prev" : "next";
    rec_add_field(e, (CtfField){.name = eprintf("%s_comm", who), .kind = CTF_TEXT, .size = 1,
                                .count = 16});
    rec_add_copy(e, (Copy){.kind = CP_TASK, .src = task, .off = comm, .size = 16, .dst = dst});
    dst += 16;
    rec_add_field(e, (CtfField){.name = eprintf("%s_tid", who), .kind = CTF_INT, .size = 4,
                                .is_signed = true});
    rec_add_copy(e, (Copy){.kind = CP_TASK, .src = task, .off = pid, .size = 4, .dst = dst});
    dst += 4;
    rec_add_field(e, (CtfField){.name = eprintf("%s_prio", who), .kind = CTF_INT, .size = 4,
                                .is_signed = true});
    rec_add_copy(e, (Copy){.kind = CP_TASK_PRIO, .src = task, .off = prio, .size = 4, .dst = dst});
    dst += 4;
    if (task == 1) {
      rec_add_field(e, (CtfField){.name = "prev_state", .kind = CTF_INT, .size = 8,
                                  .is_signed = true});
      rec_add_copy(e, (Copy){.kind = CP_SWITCH_STATE, .off = exit_state, .size = 8, .dst = dst});
      dst += 8;
    }
  }
  e->cls.name = "sched_switch";
  return 0;
}
