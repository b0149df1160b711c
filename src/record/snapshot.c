/* snapshot.c - the flight recorder's packet store and snapshot writer
 * (snapshot.h).  Each CPU's packets are a FIFO list; a packet is dropped
 * only whole, so every snapshot holds whole packets, and the newest one of
 * each CPU is always kept even when it alone is larger than SIZE.
 */
#include "record/snapshot.h"
#include "etrace.h"
#include "formats/ctf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct SnapPacket {
  struct SnapPacket *next;
  CtfPacketInfo pi;         /* pi.discarded: the value the writer gave */
  size_t len;
  unsigned char data[];
} SnapPacket;

typedef struct SnapCpu {
  SnapPacket *head, *tail;  /* oldest, newest */
  size_t bytes;
  uint64_t overwritten;     /* events in packets dropped so far */
} SnapCpu;

struct Snapshot {
  char *dir;
  size_t size;
  int ncpus;
  SnapCpu *cpu;
  char *metadata;
  size_t metalen;
  int count;
  size_t held, peak;
};

size_t snap_parse_size(const char *s) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || s[0] == '-')
    return 0;
  unsigned long long mul = 1;
  if (*end == 'k' || *end == 'K')
    mul = 1ull << 10;
  else if (*end == 'm' || *end == 'M')
    mul = 1ull << 20;
  else if (*end == 'g' || *end == 'G')
    mul = 1ull << 30;
  else if (*end)
    return 0;
  if (mul > 1 && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
    return 0;
  if (v > (1ull << 40) / mul)
    return 0;
  return (size_t)(v * mul);
}

Snapshot *snap_new(const char *dir, size_t size, char *err, size_t errlen) {
  if (ctf_make_dir(dir, err, errlen) < 0)
    return NULL;
  Snapshot *s = calloc(1, sizeof *s);
  s->dir = strdup(dir);
  s->size = size;
  return s;
}

static int sink_open(void *ctx, int nstreams, const char *metadata, size_t len) {
  Snapshot *s = ctx;
  s->ncpus = nstreams;
  s->cpu = calloc(nstreams, sizeof *s->cpu);
  s->metadata = malloc(len);
  if (!s->cpu || !s->metadata)
    return -1;
  memcpy(s->metadata, metadata, len);
  s->metalen = len;
  return 0;
}

static void drop_oldest(Snapshot *s, SnapCpu *c) {
  SnapPacket *p = c->head;
  c->head = p->next;
  c->bytes -= p->len;
  s->held -= sizeof *p + p->len;
  c->overwritten += p->pi.events;
  free(p);
}

static int sink_packet(void *ctx, const void *buf, size_t len, const CtfPacketInfo *pi) {
  Snapshot *s = ctx;
  if (pi->cpu < 0 || pi->cpu >= s->ncpus) {
    errno = EINVAL;
    return -1;
  }
  SnapCpu *c = &s->cpu[pi->cpu];
  SnapPacket *p = malloc(sizeof *p + len);
  if (!p)
    return -1;
  p->next = NULL;
  p->pi = *pi;
  p->len = len;
  memcpy(p->data, buf, len);
  if (c->tail)
    c->tail->next = p;
  else
    c->head = p;
  c->tail = p;
  c->bytes += len;
  s->held += sizeof *p + len;
  if (s->held > s->peak) /* before the oldest go: both are in memory now */
    s->peak = s->held;
  while (c->bytes > s->size && c->head != c->tail)
    drop_oldest(s, c);
  return 0;
}

CtfSink snap_sink(Snapshot *s) {
  return (CtfSink){.ctx = s, .open = sink_open, .packet = sink_packet};
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t k = write(fd, c, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    c += k;
    n -= k;
  }
  return 0;
}

/* One CPU's stream file: an empty packet first when packets were dropped
 * (it carries 0, so that the next one's count shows as a loss), then the
 * packets kept, their discarded counts raised by the overwritten events. */
static int write_stream(Snapshot *s, int fd, SnapCpu *c, SnapStats *st) {
  SnapPacket *h = c->head;
  if (h && c->overwritten && h->pi.seq > 0) {
    unsigned char empty[CTF_PACKET_HEADER_SIZE];
    ctf_packet_empty_like(empty, h->data, h->pi.ts_begin, h->pi.seq - 1, 0);
    if (write_all(fd, empty, sizeof empty) < 0)
      return -1;
  }
  for (SnapPacket *p = h; p; p = p->next) {
    ctf_packet_set_discarded(p->data, p->pi.discarded + c->overwritten);
    if (write_all(fd, p->data, p->len) < 0)
      return -1;
    st->events += p->pi.events;
    st->packets++;
    st->bytes += p->len;
  }
  st->overwritten += c->overwritten;
  return 0;
}

int snap_write(Snapshot *s, SnapStats *st, char *err, size_t errlen) {
  memset(st, 0, sizeof *st);
  st->n = ++s->count;
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s/snapshot-%d", s->dir, st->n);
  if (mkdir(dir, 0755) < 0) {
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return -1;
  }
  snprintf(path, sizeof path, "%s/metadata", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 || write_all(fd, s->metadata, s->metalen) < 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  close(fd);
  for (int i = 0; i < s->ncpus; i++) {
    snprintf(path, sizeof path, "%s/channel0_%d", dir, i);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write_stream(s, fd, &s->cpu[i], st) < 0) {
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
      if (fd >= 0)
        close(fd);
      return -1;
    }
    close(fd);
  }
  return 0;
}

size_t snap_held(const Snapshot *s) { return s->held; }
size_t snap_peak(const Snapshot *s) { return s->peak; }

void snap_free(Snapshot *s) {
  if (!s)
    return;
  for (int i = 0; i < s->ncpus; i++)
    while (s->cpu[i].head) {
      SnapPacket *p = s->cpu[i].head;
      s->cpu[i].head = p->next;
      free(p);
    }
  free(s->cpu);
  free(s->metadata);
  free(s->dir);
  free(s);
}
