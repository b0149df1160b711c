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
 * The events are written from user space into CPU 0's stream before the
 * recording starts (the programs' shared enabled flag, progs.c), so they
 * precede every recorded event there.
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

/* The event header and context of a user-space record. */
static void put_header(unsigned char *rec, int id) {
  uint16_t id16 = id;
  uint64_t ts = mono_ns();
  int32_t pid = getpid();
  memcpy(rec + CTF_EV_ID, &id16, 2);
  memcpy(rec + CTF_EV_TIMESTAMP, &ts, 8);
  memcpy(rec + CTF_EV_PID, &pid, 4);
  memcpy(rec + CTF_EV_TID, &pid, 4);
}

void kprof_user_event(Rec *r, CtfWriter *w, unsigned char *rec, size_t size) {
  if (r->ctx_size) {
    char comm[16] = {0};
    prctl(PR_GET_NAME, comm);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    int32_t prio = 20 + (errno ? 0 : nice);   /* LTTng's prio: task->prio - 100 */
    memcpy(rec + size + KPROF_CTX_PROCNAME, comm, 16);
    memcpy(rec + size + KPROF_CTX_PRIO, &prio, 4);
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

/* One thread: parse its stat line and write the event.  False when the
 * thread is gone or the line is malformed. */
static bool dump_thread(Rec *r, CtfWriter *w, const CtfClass *c, int id, int pid, int tid) {
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
  char comm[16] = {0};
  size_t n = rp - lp - 1;
  memcpy(comm, lp + 1, n < 15 ? n : 15);
  /* fields from 3 on, numbered as in proc(5) */
  char state = 0;
  long ppid = 0, cpu = 0;
  unsigned long flags = 0;
  int field = 3;
  for (char *tok = strtok(rp + 1, " \n"); tok; tok = strtok(NULL, " \n"), field++) {
    if (field == 3)
      state = tok[0];
    else if (field == 4)
      ppid = strtol(tok, NULL, 10);
    else if (field == 9)
      flags = strtoul(tok, NULL, 10);
    else if (field == 39) {
      cpu = strtol(tok, NULL, 10);
      break;
    }
  }
  if (field < 9)
    return false;
  unsigned char rec[256 + 64];
  memset(rec, 0, sizeof rec);
  put_header(rec, id);
  put_i32(rec, c, 0, tid);
  put_i32(rec, c, 1, pid);
  put_i32(rec, c, 2, (int32_t)ppid);
  memcpy(rec + ctf_field_offset(c, 3), comm, 16);
  put_i32(rec, c, 4, flags & PF_KTHREAD ? 1 : 0);
  put_i32(rec, c, 5, 5);
  put_i32(rec, c, 6, 0);
  put_i32(rec, c, 7, status_of(state));
  put_i32(rec, c, 8, (int32_t)cpu);
  /* file_table_address: /proc does not show the files_struct's address;
   * the thread group id stands for it (threads share their file table),
   * 0 for kernel threads, which have none */
  if (!(flags & PF_KTHREAD)) {
    uint64_t table = (uint64_t)pid;
    memcpy(rec + ctf_field_offset(c, 9), &table, 8);
  }
  kprof_user_event(r, w, rec, c->record_size);
  return true;
}

/* The file descriptors of process pid: lttng_statedump_file_descriptor
 * {file_table_address (= pid, as in dump_thread), fd, flags (fdinfo's, an
 * octal open(2) flag set), fmode (FMODE_READ 0x1 / FMODE_WRITE 0x2 from the
 * access mode), filename (the /proc/PID/fd link)}.  Returns the number. */
static int dump_fds(Rec *r, CtfWriter *w, const CtfClass *c, int id, int pid) {
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
    put_header(rec, id);
    uint64_t table = (uint64_t)pid;
    memcpy(rec + ctf_field_offset(c, 0), &table, 8);
    put_i32(rec, c, 1, fd);
    put_i32(rec, c, 2, (int32_t)flags);
    memcpy(rec + ctf_field_offset(c, 3), &fmode, 4);
    memcpy(rec + c->fixed_size, target, (size_t)len + 1);   /* the filename slot */
    kprof_user_event(r, w, rec, c->record_size);
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
  unsigned char rec[CTF_EVENT_HEADER_SIZE + 64];
  put_header(rec, id_start);
  kprof_user_event(r, w, rec, CTF_EVENT_HEADER_SIZE);
  int threads = 0;
  DIR *proc = opendir("/proc");
  struct dirent *pe;
  while (proc && (pe = readdir(proc))) {
    if (!all_digits(pe->d_name))
      continue;
    int pid = atoi(pe->d_name);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *task = opendir(path);
    struct dirent *te;
    while (task && (te = readdir(task)))
      if (all_digits(te->d_name) && dump_thread(r, w, c, id_state, pid, atoi(te->d_name)))
        threads++;
    if (task)
      closedir(task);
    if (cfd)
      dump_fds(r, w, cfd, k->fd, pid);
  }
  if (proc)
    closedir(proc);
  put_header(rec, id_end);
  kprof_user_event(r, w, rec, CTF_EVENT_HEADER_SIZE);
  return threads;
}
