/* loop.c - the event source of bench/codegen-floor.sh:
 *   loop getppid N | read N | openat N
 * makes N such system calls and prints ns_per_call=F */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: loop getppid|read|openat N\n");
    return 2;
  }
  long n = atol(argv[2]);
  int fd = open("/dev/zero", O_RDONLY);
  char c;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    if (!strcmp(argv[1], "read")) {
      if (read(fd, &c, 1) != 1)
        return 1;
    } else if (!strcmp(argv[1], "openat")) {
      int f = open("/dev/null", O_RDONLY);
      if (f >= 0)
        close(f);
    } else {
      syscall(SYS_getppid);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("ns_per_call=%.1f\n", ns / n);
  return 0;
}
