/* statedump_sys.c - the machine-wide part of the LTTng statedump of
 * `etrace record --profile kernel`, with LTTng 2.13's event names and
 * fields, read from /sys and /proc where lttng-modules walks the kernel's
 * tables:
 *
 *   lttng_statedump_interrupt {irq, name, action, tid}: one per action of
 *     each interrupt, from /sys/kernel/irq/N/{chip_name,actions}; tid is
 *     the kernel thread of a threaded handler ("irq/N-ACTION"), else 0;
 *   lttng_statedump_block_device {dev, diskname}: every disk and partition
 *     of /proc/partitions, dev as the kernel's dev_t (major << 20 | minor);
 *   lttng_statedump_network_interface {name, address_ipv4}: one per IPv4
 *     address of each interface (getifaddrs), 0 for an interface without
 *     one; the address in network byte order, as LTTng declares it;
 *   lttng_statedump_cpu_topology {architecture, cpu_id, vendor, family,
 *     model, model_name, physical_id, core_id, cores}: x86 only (as
 *     LTTng), one per CPU of /proc/cpuinfo.
 *
 * They carry etrace's own context, as LTTng's carry its session daemon's.
 */
#include "record/record.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define REC_MAX 2048

/* Byte offset in a user record of field i (fixed fields in order, then
 * one slot per variable field). */
static int field_at(const CtfClass *c, int i) {
  if (i < c->first_var)
    return ctf_field_offset(c, i);
  int off = c->fixed_size;
  for (int j = c->first_var; j < i; j++)
    off += c->fields[j].slot;
  return off;
}

static void put_int(unsigned char *rec, const CtfClass *c, int i, uint64_t v) {
  memcpy(rec + field_at(c, i), &v, c->fields[i].size); /* little-endian: the low bytes */
}

static void put_str(unsigned char *rec, const CtfClass *c, int i, const char *s) {
  snprintf((char *)rec + field_at(c, i), c->fields[i].slot, "%s", s);
}

/* A record of class index id, zeroed, or NULL when it would not fit. */
static const CtfClass *begin(Rec *r, int id, unsigned char *rec) {
  if (id < 0)
    return NULL;
  const CtfClass *c = &rec_event(r, id)->cls;
  if (c->record_size + r->ctx_size > REC_MAX)
    return NULL;
  memset(rec, 0, c->record_size + r->ctx_size);
  return c;
}

/* The first line of a small file, without its newline ("" if none). */
static void read_line(const char *path, char *out, size_t size) {
  out[0] = 0;
  FILE *f = fopen(path, "re");
  if (!f)
    return;
  if (fgets(out, (int)size, f))
    out[strcspn(out, "\n")] = 0;
  fclose(f);
}

/* The threads of threaded interrupt handlers: kernel threads named
 * "irq/IRQ-ACTION" (cut to 15 bytes as every comm), read once. */
typedef struct IrqThreads {
  char (*comm)[16];
  int *tid;
  int n;
} IrqThreads;

static void irq_threads(IrqThreads *t) {
  DIR *d = opendir("/proc");
  struct dirent *de;
  char path[64], comm[64];
  while (d && (de = readdir(d))) {
    if (de->d_name[0] < '1' || de->d_name[0] > '9')
      continue;
    snprintf(path, sizeof path, "/proc/%.20s/comm", de->d_name);
    read_line(path, comm, sizeof comm);
    if (strncmp(comm, "irq/", 4))
      continue;
    t->comm = egrow(t->comm, t->n, sizeof *t->comm);
    t->tid = egrow(t->tid, t->n, sizeof *t->tid);
    snprintf(t->comm[t->n], 16, "%.15s", comm);
    t->tid[t->n++] = atoi(de->d_name);
  }
  if (d)
    closedir(d);
}

/* The tid of the handler thread of IRQ's ACTION, 0 if there is none. */
static int irq_thread(const IrqThreads *t, int irq, const char *action) {
  char want[64];
  snprintf(want, sizeof want, "irq/%d-%s", irq, action);
  want[15] = 0;
  for (int i = 0; i < t->n; i++)
    if (!strcmp(t->comm[i], want))
      return t->tid[i];
  return 0;
}

static void dump_interrupts(Rec *r, CtfWriter *w, const KUserCtx *self) {
  int id = rec_kprof(r)->irq;
  unsigned char rec[REC_MAX];
  IrqThreads threads = {0};
  irq_threads(&threads);
  DIR *d = opendir("/sys/kernel/irq");
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    int irq = atoi(de->d_name);
    char path[128], chip[128], actions[1024];
    snprintf(path, sizeof path, "/sys/kernel/irq/%d/chip_name", irq);
    read_line(path, chip, sizeof chip);
    snprintf(path, sizeof path, "/sys/kernel/irq/%d/actions", irq);
    read_line(path, actions, sizeof actions);
    /* "a,b": one event per action, none for an interrupt without one */
    for (char *save, *a = strtok_r(actions, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
      const CtfClass *c = begin(r, id, rec);
      if (!c)
        return;
      put_int(rec, c, 0, (uint32_t)irq);
      put_int(rec, c, 1, (uint32_t)irq_thread(&threads, irq, a));
      put_str(rec, c, 2, chip[0] ? chip : "None");
      put_str(rec, c, 3, a);
      kprof_user_event(r, w, id, self, rec, c->record_size);
    }
  }
  if (d)
    closedir(d);
}

static void dump_block_devices(Rec *r, CtfWriter *w, const KUserCtx *self) {
  int id = rec_kprof(r)->blockdev;
  unsigned char rec[REC_MAX];
  FILE *f = fopen("/proc/partitions", "re");
  char line[256], name[64];
  unsigned major, minor;
  unsigned long long blocks;
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, " %u %u %llu %63s", &major, &minor, &blocks, name) != 4)
      continue;   /* the header and the blank line */
    const CtfClass *c = begin(r, id, rec);
    if (!c)
      break;
    put_int(rec, c, 0, (uint32_t)(major << 20 | minor));   /* the kernel's MKDEV */
    put_str(rec, c, 1, name);
    kprof_user_event(r, w, id, self, rec, c->record_size);
  }
  if (f)
    fclose(f);
}

static void dump_network_interfaces(Rec *r, CtfWriter *w, const KUserCtx *self) {
  int id = rec_kprof(r)->netif;
  unsigned char rec[REC_MAX];
  struct ifaddrs *all;
  if (id < 0 || getifaddrs(&all) < 0)
    return;
  /* AF_PACKET lists every interface once; AF_INET each IPv4 address */
  for (struct ifaddrs *p = all; p; p = p->ifa_next) {
    if (!p->ifa_addr)
      continue;
    int fam = p->ifa_addr->sa_family;
    bool has_v4 = false;
    if (fam == AF_PACKET)
      for (struct ifaddrs *q = all; q && !has_v4; q = q->ifa_next)
        has_v4 = q->ifa_addr && q->ifa_addr->sa_family == AF_INET &&
                 !strcmp(q->ifa_name, p->ifa_name);
    if (fam != AF_INET && (fam != AF_PACKET || has_v4))
      continue;
    const CtfClass *c = begin(r, id, rec);
    if (!c)
      break;
    if (fam == AF_INET) /* s_addr is already in network order: as it is */
      memcpy(rec + field_at(c, 0), &((struct sockaddr_in *)p->ifa_addr)->sin_addr.s_addr, 4);
    put_str(rec, c, 1, p->ifa_name);
    kprof_user_event(r, w, id, self, rec, c->record_size);
  }
  freeifaddrs(all);
}

/* "key\t: value" lines of /proc/cpuinfo, one CPU per blank-line block. */
typedef struct CpuInfo {
  long cpu, family, model, physical_id, core_id, cores;
  char vendor[64], model_name[128];
} CpuInfo;

static void put_cpu(Rec *r, CtfWriter *w, const KUserCtx *self, const CpuInfo *ci) {
  int id = rec_kprof(r)->cpu;
  unsigned char rec[REC_MAX];
  const CtfClass *c = begin(r, id, rec);
  if (!c || ci->cpu < 0)
    return;
  long v[] = {ci->cpu, ci->family, ci->model, ci->physical_id, ci->core_id, ci->cores};
  for (int i = 0; i < 6; i++)
    put_int(rec, c, i, (uint64_t)v[i]);
  put_str(rec, c, 6, "x86");
  put_str(rec, c, 7, ci->vendor[0] ? ci->vendor : "unknown");
  put_str(rec, c, 8, ci->model_name[0] ? ci->model_name : "unknown");
  kprof_user_event(r, w, id, self, rec, c->record_size);
}

static void dump_cpu_topology(Rec *r, CtfWriter *w, const KUserCtx *self) {
  if (rec_kprof(r)->cpu < 0)
    return;
  FILE *f = fopen("/proc/cpuinfo", "re");
  char line[512];
  CpuInfo ci = {.cpu = -1};
  while (f && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) { /* the blank line after each CPU */
      put_cpu(r, w, self, &ci);
      ci = (CpuInfo){.cpu = -1};
      continue;
    }
    char *val = colon + 1 + (colon[1] == ' ');
    val[strcspn(val, "\n")] = 0;
    size_t klen = colon - line;
    while (klen && (line[klen - 1] == '\t' || line[klen - 1] == ' '))
      klen--;
    line[klen] = 0;
    if (!strcmp(line, "processor")) ci.cpu = atol(val);
    else if (!strcmp(line, "vendor_id")) snprintf(ci.vendor, sizeof ci.vendor, "%s", val);
    else if (!strcmp(line, "cpu family")) ci.family = atol(val);
    else if (!strcmp(line, "model")) ci.model = atol(val);
    else if (!strcmp(line, "model name")) snprintf(ci.model_name, sizeof ci.model_name, "%s", val);
    else if (!strcmp(line, "physical id")) ci.physical_id = atol(val);
    else if (!strcmp(line, "core id")) ci.core_id = atol(val);
    else if (!strcmp(line, "cpu cores")) ci.cores = atol(val);
  }
  put_cpu(r, w, self, &ci);   /* no blank line after the last one */
  if (f)
    fclose(f);
}

void kprof_sys_statedump(Rec *r, CtfWriter *w, const KUserCtx *self) {
  dump_interrupts(r, w, self);
  dump_block_devices(r, w, self);
  dump_network_interfaces(r, w, self);
  dump_cpu_topology(r, w, self);
}
