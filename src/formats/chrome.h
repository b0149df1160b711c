/* chrome.h - Chrome Trace Event JSON from a CTF trace (etrace convert). */
#ifndef ETRACE_CHROME_H
#define ETRACE_CHROME_H

#include "formats/ctfread.h"

#include <stdio.h>

typedef struct ChromeStats {
  uint64_t slices;      /* system calls (X) */
  uint64_t instants;    /* other events (i) */
  uint64_t unmatched;   /* system-call entries without their exit (i) */
  uint64_t processes, threads;   /* M events */
} ChromeStats;

/* Write the whole trace as one JSON object.  Returns 0, -1 on a write error. */
int chrome_write(FILE *f, const CtfTrace *t, const char *trace_name, ChromeStats *st);

#endif
