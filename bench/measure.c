/* measure.c - run a command and report, in milliseconds: its wall time,
 * its peak RSS (KiB, from wait4), when a line containing MARK first
 * appeared on its stdout, and how long it lived after that line.
 *
 *   measure [-m MARK] -- CMD ARGS...
 * prints: wall_ms=F rss_kb=N mark_ms=F after_mark_ms=F status=N
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  const char *mark = NULL;
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], "-m") && i + 1 < argc)
      mark = argv[++i];
  if (i + 1 >= argc) {
    fprintf(stderr, "usage: measure [-m MARK] -- CMD ARGS...\n");
    return 2;
  }
  int fds[2];
  if (pipe(fds) < 0)
    return 2;
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execvp(argv[i + 1], argv + i + 1);
    _exit(127);
  }
  close(fds[1]);
  FILE *in = fdopen(fds[0], "r");
  char line[4096];
  double mark_ms = -1;
  while (fgets(line, sizeof line, in))
    if (mark && mark_ms < 0 && strstr(line, mark))
      mark_ms = now_ms() - t0;
  int status;
  struct rusage ru;
  wait4(pid, &status, 0, &ru);
  double wall = now_ms() - t0;
  printf("wall_ms=%.2f rss_kb=%ld mark_ms=%.2f after_mark_ms=%.2f status=%d\n", wall,
         ru.ru_maxrss, mark_ms, mark_ms < 0 ? -1 : wall - mark_ms,
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
