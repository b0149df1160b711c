/* statedump.c - the LTTng statedump of `etrace record --profile kernel`:
 * one lttng_statedump_process_state event per thread alive when recording
 * starts, between lttng_statedump_start and _end, so that Trace Compass
 * knows the threads (names, parents, states) that existed before the
 * first sched_* event.  LTTng's kernel module walks the task list; here
 * /proc/PID/task/TID/stat gives the same facts:
 *
 *   tid, pid = tgid, ppid (field 4), name = comm (field 2), cpu (field 39),
 *   type = 1 for a kernel thread (PF_KTHREAD in flags, field 9), else 0,
 *   mode = 5 (unknown), submode = 0,
 *   status: R -> 2 (wait for CPU), S/D/I -> 5 (wait), Z -> 4 (zombie),
 *           X -> 7 (dead), other -> 0 (unknown): LTTng's enums.
 *
 * Each event's context is the thread it describes (its fd events: the
 * process), where LTTng's is the thread that ran the dump; see
 * docs/lttng.md.  The events are written from user space into CPU 0's
 * stream before the recording starts (the programs' shared enabled flag,
 * progs.c), so they precede every recorded event there.  The machine-wide
 * part (interrupts, disks, network, CPUs) is statedump_sys.c's.
 */
#include "record/record.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PF_KTHREAD 0x00200000

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The last two numbers of /proc/PID/task/TID/status's NStgid and NSpid
 * lines: the thread group's and the thread's ids in their own (innermost)
 * pid namespace.  Without those lines (no pid namespaces), pid and tid. */
static void read_vids(int pid, int tid, int32_t *vpid, int32_t *vtid) {
  *vpid = pid;
  *vtid = tid;
  /* the pid namespace of etrace's own (the root, nearly always): the ids
   * are the same, and the link is much cheaper to read than status */
  char path[96], line[256], ns[64], own[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
  ssize_t n = readlink(path, ns, sizeof ns - 1), m = readlink("/proc/self/ns/pid", own, sizeof own - 1);
  if (n > 0 && m == n && !memcmp(ns, own, (size_t)n))
    return;
  snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, tid);
  FILE *f = fopen(path, "re");
  while (f && fgets(line, sizeof line, f)) {
    bool tgid = !strncmp(line, "NStgid:", 7), spid = !strncmp(line, "NSpid:", 6);
    if (!tgid && !spid)
      continue;
    char *last = strrchr(line, '\t');
    if (last && last[1] >= '0' && last[1] <= '9')
      *(tgid ? vpid : vtid) = (int32_t)strtol(last + 1, NULL, 10);
  }
  if (f)
    fclose(f);
}

void kprof_self_ctx(KUserCtx *c) {
  memset(c, 0, sizeof *c);
  c->pid = c->tid = getpid();
  prctl(PR_GET_NAME, c->procname);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  c->prio = 20 + (errno ? 0 : nice);   /* LTTng's prio: task->prio - 100 */
  read_vids(c->pid, c->tid, &c->vpid, &c->vtid);
}

void kprof_user_event(Rec *r, CtfWriter *w, int id, const KUserCtx *c, unsigned char *rec,
                      size_t size) {
  uint16_t id16 = id;
  uint64_t ts = mono_ns();
  memcpy(rec + CTF_EV_ID, &id16, 2);
  memcpy(rec + CTF_EV_TIMESTAMP, &ts, 8);
  memcpy(rec + CTF_EV_PID, &c->pid, 4);
  memcpy(rec + CTF_EV_TID, &c->tid, 4);
  if (r->ctx_size) {
    memcpy(rec + size + KPROF_CTX_PROCNAME, c->procname, 16);
    memcpy(rec + size + KPROF_CTX_PRIO, &c->prio, 4);
    memcpy(rec + size + KPROF_CTX_VPID, &c->vpid, 4);
    memcpy(rec + size + KPROF_CTX_VTID, &c->vtid, 4);
  }
  ctf_event(w, 0, rec, size + r->ctx_size);
}

static void put_i32(unsigned char *rec, const CtfClass *c, int field, int32_t v) {
  memcpy(rec + ctf_field_offset(c, field), &v, 4);
}

static int status_of(char state) {
  switch (state) {
  case 'R': return 2;
  case 'S': case 'D': case 'I': return 5;
  case 'Z': return 4;
  case 'X': case 'x': return 7;
  default: return 0;
  }
}

/* What /proc/PID/task/TID/stat says of a thread. */
typedef struct TaskStat {
  KUserCtx ctx;           /* as the context of the events that describe it */
  char state;
  long ppid, cpu;
  unsigned long flags;
} TaskStat;

/* Parse a thread's stat line; false when it is gone or the line is
 * malformed. */
static bool read_stat(int pid, int tid, TaskStat *t) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  char line[1024];
  bool ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  if (!ok)
    return false;
  /* "TID (COMM) S PPID ..." - comm may hold spaces and ')': take the last ')' */
  char *lp = strchr(line, '('), *rp = strrchr(line, ')');
  if (!lp || !rp || rp < lp)
    return false;
  memset(t, 0, sizeof *t);
  size_t n = rp - lp - 1;
  memcpy(t->ctx.procname, lp + 1, n < 15 ? n : 15);
  t->ctx.pid = pid;
  t->ctx.tid = tid;
  /* fields from 3 on, numbered as in proc(5) */
  int field = 3;
  for (char *tok = strtok(rp + 1, " \n"); tok; tok = strtok(NULL, " \n"), field++) {
    if (field == 3)
      t->state = tok[0];
    else if (field == 4)
      t->ppid = strtol(tok, NULL, 10);
    else if (field == 9)
      t->flags = strtoul(tok, NULL, 10);
    else if (field == 18) /* priority: task->prio - MAX_RT_PRIO, LTTng's prio */
      t->ctx.prio = (int32_t)strtol(tok, NULL, 10);
    else if (field == 39) {
      t->cpu = strtol(tok, NULL, 10);
      break;
    }
  }
  if (field < 9)
    return false;
  read_vids(pid, tid, &t->ctx.vpid, &t->ctx.vtid);
  return true;
}

/* One thread's lttng_statedump_process_state, with the thread as its
 * context (see kprof_statedump). */
static void dump_thread(Rec *r, CtfWriter *w, const CtfClass *c, int id, const TaskStat *t) {
  unsigned char rec[256 + 64];
  memset(rec, 0, sizeof rec);
  put_i32(rec, c, 0, t->ctx.tid);
  put_i32(rec, c, 1, t->ctx.pid);
  put_i32(rec, c, 2, (int32_t)t->ppid);
  memcpy(rec + ctf_field_offset(c, 3), t->ctx.procname, 16);
  put_i32(rec, c, 4, t->flags & PF_KTHREAD ? 1 : 0);
  put_i32(rec, c, 5, 5);
  put_i32(rec, c, 6, 0);
  put_i32(rec, c, 7, status_of(t->state));
  put_i32(rec, c, 8, (int32_t)t->cpu);
  /* file_table_address: /proc does not show the files_struct's address;
   * the thread group id stands for it (threads share their file table),
   * 0 for kernel threads, which have none */
  if (!(t->flags & PF_KTHREAD)) {
    uint64_t table = (uint64_t)t->ctx.pid;
    memcpy(rec + ctf_field_offset(c, 9), &table, 8);
  }
  kprof_user_event(r, w, id, &t->ctx, rec, c->record_size);
}

/* The file descriptors of a process (its main thread's TaskStat):
 * lttng_statedump_file_descriptor {file_table_address (= pid, as in
 * dump_thread), fd, flags (fdinfo's open(2) flags, O_CLOEXEC included),
 * fmode (FMODE_READ 0x1 / FMODE_WRITE 0x2 from the access mode), filename
 * (the /proc/PID/fd link)}, with the process as their context.  Returns
 * the number. */
static int dump_fds(Rec *r, CtfWriter *w, const CtfClass *c, int id, const TaskStat *t) {
  int pid = t->ctx.pid;
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *d = opendir(path);
  if (!d)
    return 0;
  unsigned char rec[512 + 64];
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    int fd = atoi(de->d_name);
    char link[96], target[STR_SLOT];
    snprintf(link, sizeof link, "/proc/%d/fd/%d", pid, fd);
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len < 0)
      continue;
    target[len] = 0;
    unsigned flags = 0;
    snprintf(link, sizeof link, "/proc/%d/fdinfo/%d", pid, fd);
    FILE *f = fopen(link, "re");
    char line[128];
    while (f && fgets(line, sizeof line, f))
      if (sscanf(line, "flags: %o", &flags) == 1)
        break;
    if (f)
      fclose(f);
    int acc = flags & 3;   /* O_RDONLY 0, O_WRONLY 1, O_RDWR 2 */
    uint32_t fmode = (acc == 0 || acc == 2 ? 0x1 : 0) | (acc == 1 || acc == 2 ? 0x2 : 0);
    memset(rec, 0, sizeof rec);
    uint64_t table = (uint64_t)pid;
    memcpy(rec + ctf_field_offset(c, 0), &table, 8);
    put_i32(rec, c, 1, fd);
    put_i32(rec, c, 2, (int32_t)flags);
    memcpy(rec + ctf_field_offset(c, 3), &fmode, 4);
    memcpy(rec + c->fixed_size, target, (size_t)len + 1);   /* the filename slot */
    kprof_user_event(r, w, id, &t->ctx, rec, c->record_size);
    n++;
  }
  closedir(d);
  return n;
}

static bool all_digits(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

int kprof_statedump(Rec *r, CtfWriter *w) {
  const KProf *k = rec_kprof(r);
  int id_start = k->start, id_state = k->state, id_end = k->end;
  if (id_start < 0)
    return 0;
  const CtfClass *c = &rec_event(r, id_state)->cls;
  const CtfClass *cfd = k->fd >= 0 ? &rec_event(r, k->fd)->cls : NULL;
  if (c->record_size > 256 || (cfd && cfd->record_size > 512))
    return 0;
  KUserCtx self;
  kprof_self_ctx(&self);
  unsigned char rec[CTF_EVENT_HEADER_SIZE + 64];
  kprof_user_event(r, w, id_start, &self, rec, CTF_EVENT_HEADER_SIZE);
  int threads = 0;
  DIR *proc = opendir("/proc");
  struct dirent *pe;
  while (proc && (pe = readdir(proc))) {
    if (!all_digits(pe->d_name))
      continue;
    int pid = atoi(pe->d_name);
    TaskStat leader, t;
    bool have_leader = read_stat(pid, pid, &leader);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *task = opendir(path);
    struct dirent *te;
    while (task && (te = readdir(task)))
      if (all_digits(te->d_name) && read_stat(pid, atoi(te->d_name), &t)) {
        dump_thread(r, w, c, id_state, &t);
        threads++;
      }
    if (task)
      closedir(task);
    if (cfd && have_leader && !(leader.flags & PF_KTHREAD))
      dump_fds(r, w, cfd, k->fd, &leader);
  }
  if (proc)
    closedir(proc);
  kprof_sys_statedump(r, w, &self);
  kprof_user_event(r, w, id_end, &self, rec, CTF_EVENT_HEADER_SIZE);
  return threads;
}
