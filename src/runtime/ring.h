/* ring.h - the one BPF ring-buffer reader: the map's pages mapped into
 * etrace, records handed to a callback, the consumer position published
 * once per batch.  The language reads its one ring with it; `etrace
 * record` reads one per CPU.  A Ring's fd goes into the event loop
 * (loop.h): it is readable when the kernel wakes readers. */
#ifndef ETRACE_RING_H
#define ETRACE_RING_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Ring {
  int fd;
  int cpu;                     /* a caller's tag (record: the ring's CPU) */
  unsigned long *consumer;     /* consumer page */
  const unsigned long *producer;
  const unsigned char *data;   /* mapped twice: records never wrap */
  unsigned long mask;
  size_t map_len;
} Ring;

/* One record (the discarded ones are skipped). */
typedef void (*RingFn)(void *arg, const Ring *r, const void *data, size_t size);

/* Map the ring buffer map fd.  0, or -1 (errno). */
int ring_map(Ring *r, int fd, int cpu);
void ring_unmap(Ring *r);
/* Hand up to `budget` records to fn.  Returns true when it stopped on the
 * budget (records remain). */
bool ring_consume(Ring *r, long budget, RingFn fn, void *arg);
/* Records written (or being written) that were not consumed yet. */
bool ring_pending(const Ring *r);

#endif
