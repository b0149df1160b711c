/* loop.c - the event loop (loop.h). */
#include "etrace.h"
#include "runtime/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

enum { TAG_SIGNAL = -1, TAG_PIDFD = -2 }; /* epoll tags; >= 0: index in fds */

static void watch(Loop *l, int fd, int tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)tag};
  epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
}

int loop_init(Loop *l, int pid, pid_t child) {
  *l = (Loop){.ep = -1, .sfd = -1, .pidfd = -1, .child = child, .poll_ms = -1};
  sigemptyset(&l->mask);
  sigaddset(&l->mask, SIGINT);
  sigaddset(&l->mask, SIGTERM);
  sigaddset(&l->mask, SIGHUP);
  sigaddset(&l->mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &l->mask, NULL);
  l->sfd = signalfd(-1, &l->mask, SFD_CLOEXEC | SFD_NONBLOCK);
  l->ep = epoll_create1(EPOLL_CLOEXEC);
  if (l->sfd < 0 || l->ep < 0)
    return -1;
  watch(l, l->sfd, TAG_SIGNAL);
  /* -p PID: a pidfd becomes readable when that process exits */
  l->pidfd = pid ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
  if (l->pidfd >= 0)
    watch(l, l->pidfd, TAG_PIDFD);
  return 0;
}

static void add(Loop *l, int fd, LoopFn fn, void *arg, bool owned) {
  l->fds = realloc(l->fds, sizeof(LoopFd) * (l->nfds + 1));
  l->fds[l->nfds] = (LoopFd){fd, fn, arg, owned};
  watch(l, fd, l->nfds++);
}

void loop_add(Loop *l, int fd, LoopFn fn, void *arg) { add(l, fd, fn, arg, false); }

void loop_add_signal(Loop *l, int signo, LoopFn fn, void *arg) {
  l->signo = signo;
  l->on_signo = fn;
  l->signo_arg = arg;
  sigaddset(&l->mask, signo);
  sigprocmask(SIG_BLOCK, &l->mask, NULL);
  signalfd(l->sfd, &l->mask, SFD_CLOEXEC | SFD_NONBLOCK); /* the same fd, one more signal */
}

int loop_add_timer(Loop *l, double seconds, bool repeat, LoopFn fn, void *arg) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (fd < 0)
    return -1;
  time_t sec = (time_t)seconds;
  struct timespec t = {sec, (long)((seconds - sec) * 1e9)};
  if (!t.tv_sec && !t.tv_nsec)
    t.tv_nsec = 1;
  struct itimerspec its = {.it_value = t};
  if (repeat)
    its.it_interval = t;
  timerfd_settime(fd, 0, &its, NULL);
  add(l, fd, fn, arg, true);
  return 0;
}

/* The signalfd: true when the loop must stop. */
static bool on_signal(Loop *l) {
  bool stop = false;
  struct signalfd_siginfo si;
  while (read(l->sfd, &si, sizeof si) == sizeof si) {
    if (l->signo && (int)si.ssi_signo == l->signo)
      stop |= l->on_signo(l, l->signo, l->signo_arg);
    else if (si.ssi_signo != SIGCHLD)
      stop = true;
    else if (l->child > 0 && waitpid(l->child, NULL, WNOHANG) == l->child) {
      l->child = 0;
      l->child_exited = true;
      child_reaped();
      stop = true;
    }
  }
  return stop;
}

void loop_run(Loop *l) {
  bool stop = false, more = false;
  while (!stop) {
    struct epoll_event evs[16];
    int n = epoll_wait(l->ep, evs, 16, more ? 0 : l->poll_ms);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      int tag = (int)(int64_t)evs[i].data.u64;
      if (tag == TAG_SIGNAL)
        stop |= on_signal(l);
      else if (tag == TAG_PIDFD)
        stop = true;
      else if (tag >= 0 && tag < l->nfds) {
        LoopFd *f = &l->fds[tag];
        uint64_t expirations;
        if (f->owned && read(f->fd, &expirations, sizeof expirations) < 0) {
          /* a timer read early: nothing to do */
        }
        stop |= f->fn(l, f->fd, f->arg);
      }
    }
    more = l->after ? l->after(l->after_arg) : false;
  }
}

void loop_fini(Loop *l) {
  for (int i = 0; i < l->nfds; i++)
    if (l->fds[i].owned)
      close(l->fds[i].fd);
  free(l->fds);
  l->fds = NULL;
  l->nfds = 0;
  if (l->ep >= 0)
    close(l->ep);
  if (l->sfd >= 0)
    close(l->sfd);
  if (l->pidfd >= 0)
    close(l->pidfd);
  l->ep = l->sfd = l->pidfd = -1;
}
