/* stream.c - the user-space side of `etrace record`: the per-CPU ring
 * buffers read with the shared reader (runtime/ring.h) into the CTF
 * writer, in the shared event loop (runtime/loop.h).
 *
 * Programs submit without waking the reader unless their ring is a
 * quarter full, so the loop polls the rings every DRAIN_MS and after any
 * wake-up; a second pass follows at once while a pass stopped on its
 * budget.  A timer (1 s, --live-timer) flushes packets, reads the loss
 * counters and redraws the progress line; -d adds a deadline timer;
 * SIGUSR1 and trigger events take --snapshot's snapshots; the -c child
 * and the -p process end the run through the loop itself. */
#include "etrace.h"
#include "record/record.h"

#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t rec_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int rec_map_rings(Rec *r) {
  r->rings = calloc(r->ncpus, sizeof *r->rings);
  for (int i = 0; i < r->ncpus; i++)
    if (ring_map(&r->rings[i], r->rb_fds[i], i) < 0)
      return -1;
  return 0;
}

void rec_unmap_rings(Rec *r) {
  if (r->rings)
    for (int i = 0; i < r->ncpus; i++)
      ring_unmap(&r->rings[i]);
  free(r->rings);
  r->rings = NULL;
}

static void to_writer(void *arg, const Ring *ring, const void *data, size_t size) {
  Rec *r = arg;
  ctf_event(r->w, ring->cpu, data, size);
}

static bool consume_all(Rec *r, long budget) {
  bool more = false;
  for (int i = 0; i < r->ncpus; i++)
    more |= ring_consume(&r->rings[i], budget, to_writer, r);
  return more;
}

/* After detaching: everything the kernel still holds, waiting briefly for
 * records still being written by a program that was running. */
void rec_drain_all(Rec *r) {
  for (int tries = 0; tries < 100; tries++) {
    while (consume_all(r, 1 << 20))
      ;
    bool pending = false;
    for (int i = 0; i < r->ncpus; i++)
      pending |= ring_pending(&r->rings[i]);
    if (!pending)
      break;
    usleep(1000);
  }
}

/* A program's recursion_misses: the times the kernel did not run it
 * because another tracing program was running on that CPU (an interrupt
 * during a tracepoint program); 0 when the kernel does not say. */
static uint64_t prog_misses(int fd) {
  struct bpf_prog_info info;
  uint32_t len = sizeof info;
  memset(&info, 0, sizeof info);
  if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
    return 0;
  return info.recursion_misses;
}

void rec_print_misses(const Rec *r) {
  for (int i = 0; i < r->nev; i++) {
    const Event *e = &r->ev[i];
    uint64_t m = e->syscall || e->user ? 0 : prog_misses(e->prog_fd);
    if (m)
      fprintf(stderr, "etrace: %s:%s: %llu not recorded\n", e->sys, e->event,
              (unsigned long long)m);
  }
}

uint64_t rec_update_drops(Rec *r) {
  uint32_t key = 0;
  uint64_t sum = 0;
  if (!r->drop_vals)
    r->drop_vals = calloc(r->ncpus, sizeof(uint64_t));
  if (bpf_map_lookup_elem(r->drops_fd, &key, r->drop_vals) < 0)
    return 0;
  /* system-call programs are tail calls of the dispatchers: counted there */
  uint64_t missed = prog_misses(r->sys.dispatcher[0]) + prog_misses(r->sys.dispatcher[1]);
  for (int i = 0; i < r->nev; i++)
    if (!r->ev[i].syscall && !r->ev[i].user)
      missed += prog_misses(r->ev[i].prog_fd);
  r->missed = missed;
  for (int i = 0; i < r->ncpus; i++) {
    ctf_set_discarded(r->w, i, r->drop_vals[i] + (i == 0 ? missed : 0));
    sum += r->drop_vals[i];
  }
  return sum;
}

/* ------------------------------------------------------------ the loop */

static void progress(Rec *r, uint64_t lost) {
  CtfStats st;
  ctf_stats(r->w, &st);
  uint64_t t = rec_now_ns();
  double dt = (t - r->last_t) / 1e9;
  double rate = dt > 0 ? (st.events - r->last_events) / dt : 0;
  fprintf(stderr, "\r\033[Ketrace: %.0f events/s, %llu events, %.1f MB written, %llu lost",
          rate, (unsigned long long)st.events, st.bytes / 1e6, (unsigned long long)lost);
  fflush(stderr);
  r->last_events = st.events;
  r->last_t = t;
  r->shown = true;
}

static bool on_flush_timer(Loop *l, int fd, void *arg) {
  Rec *r = arg;
  bool stop = false;
  uint64_t lost = rec_update_drops(r);
  /* every event older than q is in a ring (bar one being written: 1 ms
   * of margin) and, once drained, handed over */
  uint64_t q = rec_now_ns() - 1000000;
  bool drained = !consume_all(r, 1 << 20);
  if ((drained ? ctf_flush_at(r->w, q) : ctf_flush(r->w)) < 0 && r->relay && !r->tee)
    stop = true; /* the relay is gone: stop, count what was not delivered */
  if (r->tee && ctf_sink_failed(r->w) && !r->relay_left) {
    r->relay_left = true;
    fprintf(stderr, "etrace: %s: recording goes on in %s only\n", relay_error(r->relay), r->dir);
  }
  if (!r->quiet && isatty(2))
    progress(r, lost);
  return stop;
}

/* --snapshot: write one when asked (SIGUSR1) or when a trigger event was
 * recorded since the last look; the open packets are closed first. */
static void snapshot_poll(Rec *r) {
  uint64_t t = ctf_triggered(r->w);
  if (!r->snap_req && t == r->trig_seen)
    return;
  r->trig_seen = t;
  r->snap_req = false;
  ctf_flush(r->w);
  SnapStats st;
  char err[512];
  if (snap_write(r->snap, &st, err, sizeof err) < 0)
    fprintf(stderr, "etrace: snapshot: %s\n", err);
  else if (!r->quiet)
    fprintf(stderr, "etrace: snapshot %d: %llu events in %s/snapshot-%d (%llu older events "
                    "overwritten)\n",
            st.n, (unsigned long long)st.events, r->dir, st.n, (unsigned long long)st.overwritten);
}

static bool on_sigusr1(Loop *l, int signo, void *arg) {
  ((Rec *)arg)->snap_req = true;
  return false;
}

static bool on_deadline(Loop *l, int fd, void *arg) { return true; }

/* The rings are consumed on readiness and after every wake-up. */
static bool on_ring(Loop *l, int fd, void *arg) { return false; }

static bool after_wakeup(void *arg) {
  Rec *r = arg;
  bool more = consume_all(r, 1 << 16);
  if (r->snap)
    snapshot_poll(r);
  return more;
}

int rec_run_loop(Rec *r) {
  Loop loop;
  if (loop_init(&loop, r->pid, r->child > 0 ? r->child : 0) < 0) {
    diag_fatal("cannot set up the event loop");
    loop_fini(&loop);
    return -1;
  }
  for (int i = 0; i < r->ncpus; i++)
    loop_add(&loop, r->rings[i].fd, on_ring, r);
  loop_add_timer(&loop, r->flush_s, true, on_flush_timer, r);
  if (r->snap)
    loop_add_signal(&loop, SIGUSR1, on_sigusr1, r);
  if (r->duration > 0)
    loop_add_timer(&loop, r->duration, false, on_deadline, r);
  loop.poll_ms = DRAIN_MS;
  loop.after = after_wakeup;
  loop.after_arg = r;
  r->last_t = rec_now_ns();
  if (r->child > 0)
    child_start();
  loop_run(&loop);
  if (loop.child_exited)
    r->child = 0;
  if (r->shown)
    fputc('\n', stderr);
  loop_fini(&loop);
  return 0;
}
