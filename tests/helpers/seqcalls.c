/* seqcalls.c - numbered system calls for the flight-recorder tests.
 *
 *   seqcalls N [signal:K]... [mark:K]...
 *
 * Calls getpgid(i) for i = 1..N: each call carries its sequence number as
 * its argument.  After call K of a `signal:K`, sends SIGUSR1 to the parent
 * (the tracer that started it with -c) and pauses 300 ms; after call K of
 * a `mark:K`, calls getsid(-K) (a trigger to match) and pauses 300 ms.
 * The pauses let the tracer write its snapshot before the next call.
 * Prints nothing on success.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(int ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  if (argc < 2 || atol(argv[1]) <= 0) {
    fprintf(stderr, "usage: seqcalls N [signal:K]... [mark:K]...\n");
    return 2;
  }
  long n = atol(argv[1]);
  char *action = calloc(n + 1, 1);   /* 's' or 'm' after call i */
  for (int a = 2; a < argc; a++) {
    long k;
    if (sscanf(argv[a], "signal:%ld", &k) == 1 && k >= 1 && k <= n)
      action[k] = 's';
    else if (sscanf(argv[a], "mark:%ld", &k) == 1 && k >= 1 && k <= n)
      action[k] = 'm';
    else {
      fprintf(stderr, "seqcalls: bad step '%s'\n", argv[a]);
      return 2;
    }
  }
  pid_t parent = getppid();
  for (long i = 1; i <= n; i++) {
    syscall(SYS_getpgid, (pid_t)i);
    if (action[i] == 's') {
      kill(parent, SIGUSR1);
      pause_ms(300);
    } else if (action[i] == 'm') {
      syscall(SYS_getsid, (pid_t)-i);
      pause_ms(300);
    }
  }
  free(action);
  return 0;
}
