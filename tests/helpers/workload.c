/* workload.c - known, deterministic system-call workloads for the e2e tests.
 *
 *   workload [-w MS] STEP [STEP...]
 *
 * Steps (run in order):
 *   getppid N          N getppid() calls
 *   getpid N           N getpid() calls
 *   kill SIG N         N kill(getpid(), SIG): the process signals itself
 *                      (0, or a signal ignored by default such as SIGURG 23)
 *   tgkill SIG N       the same with tgkill(getpid(), gettid(), SIG), whose
 *                      signals carry si_code SI_TKILL (-6)
 *   open PATH N        N openat(AT_FDCWD, PATH, O_RDONLY), each closed when
 *                      it succeeds
 *   write SIZE N       N write()s of SIZE bytes to /dev/null, on fd 101
 *   read SIZE N        N read()s of SIZE bytes from /dev/zero, on fd 100
 *   readfd FD SIZE N   N read()s of SIZE bytes from FD, already open
 *                      (inherited from the caller)
 *   writefd FD SIZE N  N write()s of SIZE bytes to FD, already open
 *   sleep MS           one nanosleep of MS milliseconds
 *   nanosleep N USEC   N nanosleeps of USEC microseconds
 *   spin MS            busy loop for MS milliseconds (vDSO clock only)
 *   exit CODE          exit now with CODE
 *   comm NAME          prctl(PR_SET_NAME): the kernel keeps 15 characters
 *   connect PORT       one TCP connect() to 127.0.0.1:PORT, which the step
 *                      holds bound but not listening (refused), then close()
 *
 * -w MS sleeps first, so a tracer started at the same time is attached
 * before the work begins (not needed under `-c`, which starts the child
 * only once the probes are attached).
 *
 * Every step issues exactly the system calls it names, through syscall(2),
 * with nothing else in between; /dev/null and /dev/zero are opened before
 * the step's loop starts, and moved to fixed fds so that probes can tell
 * them from the dynamic loader's reads (which run under `-c` too).  The
 * program prints nothing on success.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_IO (1 << 20)
static char iobuf[MAX_IO];

static void usage(void) {
  fprintf(stderr,
          "usage: workload [-w MS] STEP...\n"
          "steps: getppid N | getpid N | kill SIG N | open PATH N | write SIZE N | read SIZE N |\n"
          "       readfd FD SIZE N | writefd FD SIZE N |\n"
          "       sleep MS | nanosleep N USEC | spin MS | exit CODE\n");
  exit(2);
}

static long number(const char *s) {
  char *end;
  long v = strtol(s, &end, 0);
  if (!*s || *end || v < 0)
    usage();
  return v;
}

static void sleep_ns(long ns) {
  struct timespec ts = {ns / 1000000000, ns % 1000000000};
  syscall(SYS_nanosleep, &ts, NULL);
}

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);   /* vDSO: no system call */
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

#define READ_FD 100
#define WRITE_FD 101

/* Open path as fd `want`. */
static int open_dev(const char *path, int flags, int want) {
  int fd = open(path, flags);
  if (fd < 0 || dup2(fd, want) < 0) {
    perror(path);
    exit(1);
  }
  close(fd);
  return want;
}

/* Run the step at argv[0]; returns how many arguments it used. */
static int step(int argc, char **argv) {
  const char *s = argv[0];
  if (!strcmp(s, "getppid") && argc >= 2) {
    for (long i = 0, n = number(argv[1]); i < n; i++)
      syscall(SYS_getppid);
    return 2;
  }
  if (!strcmp(s, "getpid") && argc >= 2) {
    for (long i = 0, n = number(argv[1]); i < n; i++)
      syscall(SYS_getpid);
    return 2;
  }
  if (!strcmp(s, "kill") && argc >= 3) {
    long sig = number(argv[1]), self = getpid();
    for (long i = 0, n = number(argv[2]); i < n; i++)
      syscall(SYS_kill, self, sig);
    return 3;
  }
  if (!strcmp(s, "tgkill") && argc >= 3) {
    long sig = number(argv[1]), self = getpid(), tid = syscall(SYS_gettid);
    for (long i = 0, n = number(argv[2]); i < n; i++)
      syscall(SYS_tgkill, self, tid, sig);
    return 3;
  }
  if (!strcmp(s, "open") && argc >= 3) {
    for (long i = 0, n = number(argv[2]); i < n; i++) {
      long fd = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY);
      if (fd >= 0)
        syscall(SYS_close, fd);
    }
    return 3;
  }
  if ((!strcmp(s, "write") || !strcmp(s, "read")) && argc >= 3) {
    long size = number(argv[1]), n = number(argv[2]);
    if (size > MAX_IO)
      usage();
    bool is_write = s[0] == 'w';
    int fd = is_write ? open_dev("/dev/null", O_WRONLY, WRITE_FD)
                      : open_dev("/dev/zero", O_RDONLY, READ_FD);
    for (long i = 0; i < n; i++)
      syscall(is_write ? SYS_write : SYS_read, fd, iobuf, size);
    close(fd);
    return 3;
  }
  if ((!strcmp(s, "writefd") || !strcmp(s, "readfd")) && argc >= 4) {
    long fd = number(argv[1]), size = number(argv[2]), n = number(argv[3]);
    if (size > MAX_IO)
      usage();
    for (long i = 0; i < n; i++)
      syscall(s[0] == 'w' ? SYS_write : SYS_read, fd, iobuf, size);
    return 4;
  }
  if (!strcmp(s, "sleep") && argc >= 2) {
    sleep_ns(number(argv[1]) * 1000000);
    return 2;
  }
  if (!strcmp(s, "nanosleep") && argc >= 3) {
    long usec = number(argv[2]);
    for (long i = 0, n = number(argv[1]); i < n; i++)
      sleep_ns(usec * 1000);
    return 3;
  }
  if (!strcmp(s, "spin") && argc >= 2) {
    long end = now_ns() + number(argv[1]) * 1000000;
    while (now_ns() < end)
      ;
    return 2;
  }
  if (!strcmp(s, "exit") && argc >= 2)
    exit((int)number(argv[1]));
  if (!strcmp(s, "comm") && argc >= 2) {
    syscall(SYS_prctl, PR_SET_NAME, argv[1], 0, 0, 0);
    return 2;
  }
  if (!strcmp(s, "connect") && argc >= 2) {
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)number(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    long own = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (own < 0 || syscall(SYS_bind, own, &to, sizeof to) < 0) {
      perror("workload: bind");
      exit(1);
    }
    long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) {
      syscall(SYS_connect, fd, &to, sizeof to);
      syscall(SYS_close, fd);
    }
    syscall(SYS_close, own);
    return 2;
  }
  usage();
  return 0;
}

int main(int argc, char **argv) {
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "-w")) {
    sleep_ns(number(argv[i + 1]) * 1000000);
    i += 2;
  }
  if (i >= argc)
    usage();
  while (i < argc)
    i += step(argc - i, argv + i);
  return 0;
}
