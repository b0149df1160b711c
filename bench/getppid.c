/* getppid.c - a syscall loop for the benchmarks.
 *   getppid N        N getppid calls; prints ns_per_call=F
 *   getppid -f       call getppid every 100 us until killed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "-f")) {
    struct timespec pause = {0, 100000};
    for (;;) {
      syscall(SYS_getppid);
      nanosleep(&pause, NULL);
    }
  }
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++)
    syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("ns_per_call=%.1f\n", ns / n);
  return 0;
}
