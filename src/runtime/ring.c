/* ring.c - the BPF ring-buffer reader (ring.h). */
#include "runtime/ring.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ring_map(Ring *r, int fd, int cpu) {
  memset(r, 0, sizeof *r);
  struct bpf_map_info info = {0};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
    return -1;
  long page = sysconf(_SC_PAGESIZE);
  uint32_t size = info.max_entries;
  r->cpu = cpu;
  r->fd = fd;
  r->mask = size - 1;
  void *c = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (c == MAP_FAILED)
    return -1;
  r->consumer = c;
  r->map_len = page + 2 * (size_t)size;
  void *p = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED, fd, page);
  if (p == MAP_FAILED) {
    munmap(c, page);
    r->consumer = NULL;
    return -1;
  }
  r->producer = p;
  r->data = (const unsigned char *)p + page;
  return 0;
}

void ring_unmap(Ring *r) {
  if (r->consumer)
    munmap(r->consumer, sysconf(_SC_PAGESIZE));
  if (r->producer)
    munmap((void *)r->producer, r->map_len);
  r->consumer = NULL;
  r->producer = NULL;
}

bool ring_consume(Ring *r, long budget, RingFn fn, void *arg) {
  unsigned long cons = *r->consumer;
  unsigned long prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
  long n = 0;
  while (cons < prod && n < budget) {
    const unsigned char *rec = r->data + (cons & r->mask);
    uint32_t len = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
    if (len & BPF_RINGBUF_BUSY_BIT)
      break;                 /* reserved, not yet submitted */
    uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if (!(len & BPF_RINGBUF_DISCARD_BIT))
      fn(arg, r, rec + BPF_RINGBUF_HDR_SZ, size);
    cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
    /* give the space back now and then, not once per record (an atomic
     * store each) nor only at the end of a long batch */
    if (++n % 256 == 0)
      __atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
    if (cons >= prod)
      prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
  }
  __atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
  return n == budget;
}

bool ring_pending(const Ring *r) {
  return *r->consumer < __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
}
