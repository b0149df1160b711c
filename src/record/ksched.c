/* ksched.c - the scheduler events of `etrace record --profile kernel`
 * that come from raw tracepoints, read from their task_struct arguments:
 * the kernel skips a perf-event tracepoint program whenever another such
 * program runs on the CPU, which loses wakeups by the thousand on a
 * machine other tools trace, while a raw-tracepoint program is only kept
 * from nesting in itself (sched_switch: kswitch.c).
 *
 * LTTng's fields, from sched_waking(p), sched_wakeup_new(p),
 * sched_migrate_task(p, dest_cpu), sched_process_exit(p, group_dead),
 * sched_process_free(p) and sched_stat_runtime(curr, runtime):
 *
 *   comm = p->comm, tid = p->pid, prio = p->prio - 100 (MAX_RT_PRIO),
 *   target_cpu / orig_cpu = task_cpu(p) (p->thread_info.cpu), as the
 *   tracepoints take them; dest_cpu and runtime are the arguments.
 *
 * Offsets come from the running kernel's BTF.
 */
#include "record/record.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <string.h>

typedef enum { R_COMM, R_TID, R_PRIO, R_CPU, R_ARG32, R_ARG64 } RKind;

typedef struct RField {
  const char *name;
  RKind kind;
  int arg;            /* which raw argument (0: the task) */
} RField;

typedef struct RSched {
  const char *event;  /* the raw tracepoint, and LTTng's name */
  RField f[5];
} RSched;

static const RSched rsched[] = {
  {"sched_waking", {{"comm", R_COMM, 0}, {"tid", R_TID, 0}, {"prio", R_PRIO, 0},
                    {"target_cpu", R_CPU, 0}}},
  {"sched_wakeup_new", {{"comm", R_COMM, 0}, {"tid", R_TID, 0}, {"prio", R_PRIO, 0},
                        {"target_cpu", R_CPU, 0}}},
  {"sched_migrate_task", {{"comm", R_COMM, 0}, {"tid", R_TID, 0}, {"prio", R_PRIO, 0},
                          {"orig_cpu", R_CPU, 0}, {"dest_cpu", R_ARG32, 1}}},
  {"sched_process_exit", {{"comm", R_COMM, 0}, {"tid", R_TID, 0}, {"prio", R_PRIO, 0}}},
  {"sched_process_free", {{"comm", R_COMM, 0}, {"tid", R_TID, 0}, {"prio", R_PRIO, 0}}},
  {"sched_stat_runtime", {{"comm", R_COMM, 0}, {"tid", R_TID, 0}, {"runtime", R_ARG64, 1}}},
};

/* The fields are laid out when the event is added: nothing left to do. */
static int laid_out(Event *e) { (void)e; return 0; }

static void add_one(Rec *r, const RSched *s, const int off[4]) {
  Event *e = rec_event(r, rec_add_event(r, "sched", s->event));
  e->raw_tp = s->event;
  e->layout = laid_out;
  e->cls.name = s->event;
  int dst = CTF_EVENT_HEADER_SIZE;
  for (const RField *f = s->f; f < s->f + 5 && f->name; f++) {
    int size = f->kind == R_COMM ? 16 : f->kind == R_ARG64 ? 8 : 4;
    if (f->kind == R_COMM)
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_TEXT, .size = 1, .count = 16});
    else
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_INT, .size = size,
                                  .is_signed = f->kind != R_ARG64});
    if (f->kind == R_ARG32 || f->kind == R_ARG64)
      rec_add_copy(e, (Copy){.kind = CP_ARG, .src = f->arg, .size = size, .dst = dst});
    else
      rec_add_copy(e, (Copy){.kind = f->kind == R_PRIO ? CP_TASK_PRIO : CP_TASK, .src = f->arg,
                             .off = off[f->kind], .size = size, .dst = dst});
    dst += size;
  }
}

int kprof_add_raw_sched(Rec *r) {
  struct btf *btf = btf__load_vmlinux_btf();
  int ts = btf ? btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT) : -1;
  int ti = btf ? btf__find_by_name_kind(btf, "thread_info", BTF_KIND_STRUCT) : -1;
  int off[4] = {-1, -1, -1, -1}; /* R_COMM, R_TID, R_PRIO, R_CPU */
  if (ts > 0 && ti > 0) {
    off[R_COMM] = kprof_member_off(btf, ts, "comm");
    off[R_TID] = kprof_member_off(btf, ts, "pid");
    off[R_PRIO] = kprof_member_off(btf, ts, "prio");
    int info = kprof_member_off(btf, ts, "thread_info"), cpu = kprof_member_off(btf, ti, "cpu");
    off[R_CPU] = info >= 0 && cpu >= 0 ? info + cpu : -1;
  }
  btf__free(btf);
  for (int i = 0; i < 4; i++)
    if (off[i] < 0) {
      diag_fatal("--profile kernel: the kernel's BTF has no task_struct comm, pid, prio or "
                 "thread_info.cpu (for the scheduler events)");
      return -1;
    }
  for (size_t i = 0; i < sizeof rsched / sizeof *rsched; i++)
    if (kprof_wanted(r, "sched", rsched[i].event))
      add_one(r, &rsched[i], off);
  return 0;
}
