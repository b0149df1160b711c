/* flame_live.c - live sampling for `etrace flamegraph` (without -i): the
 * one place where a profiling program is wired to the flame-graph model.
 *
 * Not built yet: it needs kstack/ustack and their symbolisation in the
 * language.  The plan, for whoever wires it:
 *   on-CPU   profile:hz:HZ [/pid == PID/] { @[kstack, ustack, comm] = count(); }
 *   off-CPU  tracepoint:sched:sched_switch: store the time and the stacks
 *            of the task leaving the CPU; on its next switch-in, add the
 *            time it was off (FLAME_MICROSECONDS) to @[stacks, comm]
 * run for l->seconds (or until SIGINT), then, for each map entry, build
 * the frames root first: comm, the user frames outermost first, then the
 * kernel frames outermost first with FLAME_KERNEL_SUFFIX appended; call
 * flame_add_stack(p, frames, n, count) (or format the line and call
 * flame_add_folded).  Set o->unit, o->off_cpu, and a default o->title /
 * o->subtitle when the user gave none.
 */
#include "etrace.h"
#include "out/flame.h"

int flame_live_sample(const FlameLive *l, FlameProfile *p, FlameOptions *o) {
  (void)l, (void)p, (void)o;
  diag_fatal("live sampling needs stack support (not built yet); "
             "'etrace flamegraph -i FILE.folded -o OUT' converts folded stacks");
  return -1;
}
