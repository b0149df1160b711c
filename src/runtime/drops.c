/* drops.c - reading the lost-event counters of a loaded program (the
 * .drops map: one array value of u64 slots, enum Drop in etrace.h). */
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <stdlib.h>

bool rt_drops_read(int fd, uint64_t totals[3], uint64_t *per_cpu, int ncpu) {
  totals[DROP_RINGBUF] = totals[DROP_MAP_FULL] = totals[DROP_STACK] = 0;
  for (int i = 0; per_cpu && i < ncpu; i++)
    per_cpu[i] = 0;
  if (fd < 0)
    return false;
  uint64_t *v = calloc(DROP_RINGBUF_CPU0 + DROP_MAX_CPUS, sizeof *v);
  uint32_t key = 0;
  if (!v || bpf_map_lookup_elem(fd, &key, v) < 0) {
    free(v);
    return false;
  }
  totals[DROP_RINGBUF] = v[DROP_RINGBUF]; /* outside CTF traces, the ring's are totals too */
  totals[DROP_MAP_FULL] = v[DROP_MAP_FULL];
  totals[DROP_STACK] = v[DROP_STACK];
  for (int i = 0; i < DROP_MAX_CPUS; i++) {
    totals[DROP_RINGBUF] += v[DROP_RINGBUF_CPU0 + i];
    if (per_cpu && i < ncpu)
      per_cpu[i] = v[DROP_RINGBUF_CPU0 + i];
  }
  free(v);
  return true;
}
