/* progress.h - a progress line on a terminal for long operations
 * (converting big traces, symbolising many stacks).
 *
 * It appears only when standard error is a terminal and the operation
 * has run for PROGRESS_DELAY_MS, is redrawn at most ten times a second in
 * place ("\r...\033[K"), and is erased when the operation ends: never a
 * byte of it in a pipe or a file. */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_DELAY_MS 300

typedef struct Progress {
  const char *what;  /* "converting", "symbolising" */
  const char *unit;  /* "events", "stacks" */
  uint64_t total;
  double start, last; /* seconds, CLOCK_MONOTONIC */
  bool tty, shown;
} Progress;

void progress_begin(Progress *p, const char *what, const char *unit, uint64_t total);
/* `done` of total are done.  Cheap enough to call for every item. */
void progress_step(Progress *p, uint64_t done);
void progress_end(Progress *p);

#endif
