/* loop.h - the one event loop: epoll over the ring buffers, a signalfd,
 * the -p process's pidfd, timers, and any fd a caller adds.
 *
 * SIGINT, SIGTERM and SIGHUP stop it; SIGCHLD stops it when the -c child
 * exits (the child is reaped here); the -p process exiting stops it.
 * There is no poll timeout unless a caller asks for one (the recorder
 * polls its rings every few ms instead of being woken per event).
 *
 * Hooking into it: loop_add(loop, fd, handler, arg) before loop_run; the
 * handler runs whenever fd is readable and returns true to stop the
 * loop.  A program run through session.h gets one such fd from
 * Options.loop_fd / loop_ready (the exporter's HTTP server).  Several
 * compiled programs can share one Loop: each adds its own ring buffer
 * (ring.h) with its handler.
 */
#ifndef ETRACE_LOOP_H
#define ETRACE_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct Loop Loop;
/* fd is readable.  Return true to stop the loop. */
typedef bool (*LoopFn)(Loop *l, int fd, void *arg);

typedef struct LoopFd {
  int fd;
  LoopFn fn;
  void *arg;
  bool owned;          /* closed by loop_fini (timers) */
} LoopFd;

struct Loop {
  int ep, sfd, pidfd;
  sigset_t mask;       /* the signals the signalfd takes */
  int signo;           /* one more signal with a handler (0: none) */
  LoopFn on_signo;
  void *signo_arg;
  pid_t child;         /* -c: stop when it exits */
  bool child_exited;
  LoopFd *fds;
  int nfds;
  int poll_ms;         /* wait at most this long (-1: no timeout) */
  /* after every wake-up (and poll_ms timeout): returns true while work
   * remains, so that the next wait does not sleep */
  bool (*after)(void *arg);
  void *after_arg;
};

/* Block the stop signals and take them through a signalfd; watch pid
 * (-p, 0: none) and the child (-c, 0: none).  0 or -1 (errno). */
int loop_init(Loop *l, int pid, pid_t child);
void loop_add(Loop *l, int fd, LoopFn fn, void *arg);
/* Signal signo (SIGUSR1: record's snapshot) runs fn(l, signo, arg)
 * instead of being ignored or fatal; fn returns true to stop. */
void loop_add_signal(Loop *l, int signo, LoopFn fn, void *arg);
/* A timer firing after `seconds`, then every `seconds` when repeat. */
int loop_add_timer(Loop *l, double seconds, bool repeat, LoopFn fn, void *arg);
/* Run until a handler, a signal, the child or the -p process stops it. */
void loop_run(Loop *l);
void loop_fini(Loop *l);

#endif
