/* flame_live.c - live sampling for `etrace flamegraph` (without -i): the
 * one place where a profiling program is wired to the flame-graph model.
 *
 * It compiles and runs an ordinary etrace program through the usual
 * pipeline (parse, sema, cg, load, rt_run), with the text output thrown
 * away, then turns the stack-keyed map into folded lines with
 * rt_folded_stacks() (kernel frames get FLAME_KERNEL_SUFFIX) and feeds
 * them to flame_add_folded():
 *   on-CPU   profile:hz:HZ /FILTER/ { @[kstack, ustack, comm] = count(); }
 *   off-CPU  sched_switch stores the time and stacks of the task leaving
 *            the CPU; on its next switch-in the microseconds it was off
 *            are added to @[kstack, ustack, comm]
 * The run ends after -D SECONDS (an interval probe calls exit()), at
 * Ctrl-C, or when -p's process exits.  The idle task is left out, and so
 * is etrace itself (its symbolisation at exit would otherwise fill a
 * system-wide graph).  The subtitle says what was sampled.
 */
#include "etrace.h"
#include "formats/flame.h"
#include "runtime/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *live_program(const FlameLive *l) {
  Buf b = {0};
  if (!l->off_cpu) {
    buf_printf(&b,
               "profile:hz:%d /pid != 0 && pid != %d/ { @[kstack, ustack, comm] = count(); }\n",
               l->hz > 0 ? l->hz : 49, (int)getpid());
  } else {
    buf_printf(&b,
               "tracepoint:sched:sched_switch {\n"
               "  if (args.prev_pid != 0 && args.prev_pid != %d && (%d == 0 || pid == %d)) {\n"
               "    @start[args.prev_pid] = nsecs;\n"
               "    @kst[args.prev_pid] = kstack; @ust[args.prev_pid] = ustack;\n"
               "  }\n"
               "  $ts = @start[args.next_pid];\n"
               "  if ($ts) {\n"
               "    @[@kst[args.next_pid], @ust[args.next_pid], args.next_comm] ="
               " sum((nsecs - $ts) / 1000);\n"
               "    delete(@start[args.next_pid]);\n"
               "  }\n"
               "}\n",
               (int)getpid(), l->pid, l->pid);
  }
  if (l->seconds > 0)
    buf_printf(&b, "interval:ms:%lld { exit(); }\n",
               (long long)(l->seconds * 1000 + 0.5) > 0 ? (long long)(l->seconds * 1000 + 0.5)
                                                        : 1LL);
  return b.data;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "pid 181 (gzip), 49 Hz, 5.0 s: 245 samples, 3 without a stack" */
static char *subtitle(const FlameLive *l, const char *comm, double secs, uint64_t total,
                      uint64_t no_stack) {
  Buf b = {0};
  if (l->pid)
    buf_printf(&b, "pid %d%s%s%s", l->pid, *comm ? " (" : "", comm, *comm ? ")" : "");
  else
    buf_printf(&b, "all processes but etrace");
  if (l->off_cpu)
    buf_printf(&b, ", off-CPU, %.1f s: %llu us blocked", secs, (unsigned long long)total);
  else
    buf_printf(&b, ", %d Hz, %.1f s: %llu samples", l->hz > 0 ? l->hz : 49, secs,
               (unsigned long long)total);
  buf_printf(&b, ", %llu %s without a stack", (unsigned long long)no_stack,
             l->off_cpu ? "us" : no_stack == 1 ? "sample" : "samples");
  return b.data;
}

/* Once the programs are loaded. */
static int announce(void *arg) {
  const FlameLive *l = arg;
  if (!l->off_cpu || l->verbose)
    fprintf(stderr, "etrace flamegraph: sampling %s%s... Hit Ctrl-C to end.\n",
            l->off_cpu ? "off-CPU time" : "stacks", l->pid ? " of one process" : "");
  return 0;
}

int flame_live_sample(const FlameLive *l, FlameProfile *p, FlameOptions *o) {
  types_init(); /* flamegraph_main bypasses main.c's set-up */
  double t0 = now_s();
  char comm[64] = "";
  if (l->pid) { /* now: the process may be gone at the end */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", l->pid);
    FILE *cf = fopen(path, "r");
    if (cf && fgets(comm, sizeof comm, cf))
      comm[strcspn(comm, "\n")] = 0;
    if (cf)
      fclose(cf);
  }
  uint64_t no_stack = 0;
  char *text = live_program(l);
  Source src = {.name = "flamegraph", .text = text};
  diag_source = &src;
  /* -p: on-CPU, etrace's own pid filter (which also ends the run when
   * the process exits); off-CPU filters in the program, because the
   * switch back in runs in the context of the task leaving the CPU */
  Options opt = {.quiet = true, .verbose = l->verbose, .pid = l->off_cpu ? 0 : l->pid};
  int rc = -1;
  FILE *null = fopen("/dev/null", "w");
  if (!null)
    return -1;
  /* the maps printed at exit go to /dev/null; the symbols they load stay
   * cached for the folded lines below */
  Session s = {.src = &src, .opt = &opt, .out = {.f = null, .format = OUT_TEXT},
               .loaded = announce, .loaded_arg = (void *)l};
  session_run(&s);
  Compiled *c = s.c;
  if (!c || c->ntargets == 0 || c->targets[0]->prog_fd < 0)
    goto out;
  const MapInfo *m = NULL;
  for (int i = 0; i < c->nmaps; i++)
    if (!strcmp(c->maps[i]->name, "@"))
      m = c->maps[i];
  Buf folded = {0};
  int n = m ? rt_folded_stacks(m, &folded, FLAME_KERNEL_SUFFIX) : -1;
  if (n < 0) {
    diag_fatal("flamegraph: cannot read the sampled stacks");
    buf_free(&folded);
    goto out;
  }
  FlameError err;
  char *line = folded.data;
  for (int i = 0; i < n && line; i++) {
    char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    if (!memchr(line, ';', len)) { /* "comm COUNT": neither stack could be read */
      size_t sp = len;
      while (sp > 0 && line[sp - 1] != ' ')
        sp--;
      no_stack += strtoull(line + sp, NULL, 10);
    }
    if (flame_add_folded(p, line, len, &err) < 0) {
      diag_fatal("flamegraph: bad folded line from the sampler: %s", err.msg);
      buf_free(&folded);
      goto out;
    }
    line = nl ? nl + 1 : NULL;
  }
  buf_free(&folded);
  o->unit = l->off_cpu ? FLAME_MICROSECONDS : FLAME_SAMPLES;
  o->off_cpu = l->off_cpu;
  if (!o->subtitle)
    o->subtitle = subtitle(l, comm, now_s() - t0, flame_total(p), no_stack);
  rc = 0;
out:
  session_close(&s);
  fclose(null);
  free(text);
  return rc;
}
