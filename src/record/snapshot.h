/* snapshot.h - flight recorder: `etrace record --snapshot SIZE -o DIR`.
 *
 * A CTF sink (formats/ctf.h) that keeps, per CPU, the newest SIZE bytes of
 * whole packets in memory, dropping the oldest packets as new ones come,
 * and counting the events they held.  snap_write() puts what it holds in
 * DIR/snapshot-N/ as a complete trace: the metadata, then per CPU an empty
 * packet and the packets kept, whose events_discarded counters include
 * the events overwritten so far, so that readers show the gap with its
 * count.  Recording goes on after a snapshot.
 *
 * Memory: SIZE per CPU of packets (plus a small header per packet) and a
 * copy of the metadata.
 */
#ifndef ETRACE_SNAPSHOT_H
#define ETRACE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/ctf.h"

typedef struct Snapshot Snapshot;

typedef struct SnapStats {
  int n;                    /* the snapshot's number (DIR/snapshot-N) */
  uint64_t events;          /* events written */
  uint64_t packets;         /* packets written */
  uint64_t overwritten;     /* events overwritten before it, all CPUs */
  uint64_t bytes;           /* bytes of packets written */
} SnapStats;

/* "64M", "512K", "1G" or bytes.  Returns 0 on a malformed size. */
size_t snap_parse_size(const char *s);

/* DIR must be new or empty; size: bytes kept per CPU. */
Snapshot *snap_new(const char *dir, size_t size, char *err, size_t errlen);
CtfSink snap_sink(Snapshot *s);

/* Write DIR/snapshot-N (N = 1, 2, ...).  Returns 0, or -1 with err. */
int snap_write(Snapshot *s, SnapStats *st, char *err, size_t errlen);

/* Bytes held now, and the most ever held (packets and their headers). */
size_t snap_held(const Snapshot *s);
size_t snap_peak(const Snapshot *s);

void snap_free(Snapshot *s);

#endif
