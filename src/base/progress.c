/* progress.c - a progress line on a terminal (see progress.h). */
#include "base/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_begin(Progress *p, const char *what, const char *unit, uint64_t total) {
  *p = (Progress){.what = what, .unit = unit, .total = total, .tty = isatty(STDERR_FILENO)};
  if (p->tty)
    p->start = p->last = now_s();
}

void progress_step(Progress *p, uint64_t done) {
  if (!p->tty || (done & 63)) /* the clock every 64 items */
    return;
  double t = now_s();
  if (t - p->start < PROGRESS_DELAY_MS / 1000.0 || (p->shown && t - p->last < 0.1))
    return;
  p->last = t;
  p->shown = true;
  fprintf(stderr, "\retrace: %s: %3d%% (%llu of %llu %s)\033[K", p->what,
          p->total ? (int)(done * 100 / p->total) : 0, (unsigned long long)done,
          (unsigned long long)p->total, p->unit);
  fflush(stderr);
}

void progress_end(Progress *p) {
  if (p->shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  p->shown = false;
}
