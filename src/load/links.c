/* links.c - the list of attachments (load.h).
 *
 * What detaching costs (measured on 6.18).  Closing a perf link takes
 * its program out of the event's program array and then waits for an
 * RCU tasks-trace grace period (some 35 ms) outside any kernel lock, so
 * links are closed from a bounded pool of threads whose waits share
 * grace periods.  Releasing the perf event of a tracepoint or a uprobe
 * then unregisters it, waiting for more grace periods (60-200 ms each)
 * with the kernel's event_mutex held: those releases go one at a time
 * whatever the number of threads.  So such an event is kept open behind
 * its link (links_perf_event); links_close closes the links (every
 * program out), waits for one RCU grace period (no program still runs),
 * and hands the events to a background process, which releases them
 * while etrace goes on and exits.
 */
#include "load/load.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *grow(void *p, size_t size) {
  p = realloc(p, size);
  if (!p) { /* as ealloc: out of memory is not an error we return */
    fprintf(stderr, "etrace: out of memory\n");
    abort();
  }
  return p;
}

void links_add(Links *l, int fd) {
  l->fds = grow(l->fds, sizeof(int) * (l->n + 1));
  l->fds[l->n++] = fd;
}

void links_keep(void *links, int fd) { links_add(links, fd); }

/* ------------------------------------------------------------ perf events behind links */

/* Process-wide: the attach helpers make the links, the Links lists own them. */
static struct { int link, perf; } *behind;
static int nbehind;

void links_perf_event(int link_fd, int perf_fd) {
  for (int i = 0; i < nbehind; i++)
    if (behind[i].link == link_fd) { /* that link was closed elsewhere and its number reused */
      close(behind[i].perf);
      behind[i].perf = perf_fd;
      return;
    }
  behind = grow(behind, sizeof *behind * (nbehind + 1));
  behind[nbehind].link = link_fd;
  behind[nbehind++].perf = perf_fd;
}

/* The perf event kept for link_fd (forgotten here), or -1. */
static int take_perf_event(int link_fd) {
  for (int i = 0; i < nbehind; i++)
    if (behind[i].link == link_fd) {
      int perf = behind[i].perf;
      behind[i] = behind[--nbehind];
      return perf;
    }
  return -1;
}

static int cmp_int(const void *a, const void *b) {
  return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* In the background process: every fd but the events is closed (so no
 * pipe of etrace's stays open behind it), then the events. */
static void release_and_exit(int *perf, int n) {
  prctl(PR_SET_NAME, "etrace-detach"); /* as ps shows it */
  setsid(); /* no terminal signal reaches it; the blocked ones stay blocked */
  qsort(perf, n, sizeof *perf, cmp_int);
  unsigned lo = 0;
  for (int i = 0; i < n; i++) {
    if ((unsigned)perf[i] > lo)
      syscall(SYS_close_range, lo, (unsigned)perf[i] - 1, 0);
    lo = perf[i] + 1;
  }
  syscall(SYS_close_range, lo, ~0U, 0);
  for (int i = 0; i < n; i++)
    close(perf[i]);
  _exit(0);
}

/* Release the perf events without waiting for them: a grandchild
 * (reparented to init, so never a zombie of ours) holds the last
 * references.  Without fork, here and now. */
static void release_events(int *perf, int n) {
  pid_t pid = fork();
  if (pid == 0) {
    if (fork() == 0)
      release_and_exit(perf, n);
    _exit(0); /* a failed fork leaves the parent's copies as the last ones */
  }
  for (int i = 0; i < n; i++)
    close(perf[i]);
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
}

/* ------------------------------------------------------------ detaching */

void links_drop(void *links, int fd) {
  Links *l = links;
  for (int i = 0; i < l->n; i++)
    if (l->fds[i] == fd) {
      int perf = take_perf_event(fd);
      close(fd);
      if (perf >= 0)
        close(perf);
      memmove(&l->fds[i], &l->fds[i + 1], sizeof(int) * (--l->n - i));
      return;
    }
}

/* Closing links from several threads: each close of a perf link waits
 * for an RCU tasks-trace grace period after the program is out, outside
 * any kernel lock, and concurrent waits share grace periods. */
#define CLOSERS_MAX 32

typedef struct Closing {
  const int *fds;
  int n;
  atomic_int next; /* the next fd to close */
  atomic_int err;  /* the first close's errno, or 0 */
} Closing;

static void *closer(void *arg) {
  Closing *c = arg;
  for (int i; (i = atomic_fetch_add(&c->next, 1)) < c->n;)
    if (close(c->fds[i]) < 0) {
      int none = 0;
      atomic_compare_exchange_strong(&c->err, &none, errno);
    }
  return NULL;
}

/* Close fds[0..n), from up to CLOSERS_MAX threads (the calling one
 * included).  0, or the first errno. */
static int close_all(const int *fds, int n) {
  Closing c = {.fds = fds, .n = n};
  pthread_t t[CLOSERS_MAX];
  int nt = 0;
  while (nt < CLOSERS_MAX - 1 && nt < n - 1 && pthread_create(&t[nt], NULL, closer, &c) == 0)
    nt++;
  closer(&c);
  for (int i = 0; i < nt; i++)
    pthread_join(t[i], NULL);
  return c.err;
}

int links_close(Links *l) {
  int *perf = grow(NULL, sizeof(int) * (l->n + 1)), nperf = 0;
  for (int i = 0; i < l->n; i++) {
    int p = take_perf_event(l->fds[i]);
    if (p >= 0)
      perf[nperf++] = p;
  }
  int err = close_all(l->fds, l->n);
  l->n = 0;
  if (nperf) {
    /* A program taken out of an event's array may still be running on
     * another CPU: one RCU grace period (what the events' release would
     * have waited for) and none is, before maps and END. */
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
      release_events(perf, nperf);
    else /* no membarrier (nohz_full): the releases wait for it */
      for (int i = 0; i < nperf; i++)
        close(perf[i]);
  }
  free(perf);
  if (err) {
    diag_warn((Loc){0}, "detaching: %s", strerror(err));
    return -1;
  }
  return 0;
}

void links_free(Links *l) {
  links_close(l);
  free(l->fds);
  l->fds = NULL;
}
