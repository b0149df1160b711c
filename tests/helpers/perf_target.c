/* perf_target - workloads with known counts for the perf-event,
 * watchpoint and iterator tests (tests/probes/perf/run.sh).  Built without PIE
 * (Makefile) so that `watched` has its link-time address at run time.
 *
 *   perf_target faults N     touch N fresh anonymous pages: N page faults
 *                            between two getppid() calls (markers)
 *   perf_target watch K      write the global `watched` K times, read it
 *                            K times
 *   perf_target watcharg N K [MS]
 *                            K rounds (0: until killed) of bump(1, &cells[i])
 *                            for i < N (at most 8), each call one write of
 *                            8 bytes to a cell of its own, sleeping MS ms
 *                            after each round
 *   perf_target switch N     sleep 1 ms N times: at least N context switches;
 *                            then print "csw=N", the switches getrusage saw
 *   perf_target spin MS      burn MS ms of CPU time (at most 20 x MS of wall
 *                            time), then print "cpu_ms=N", the CPU time used
 *   perf_target wait         print the pid, then sleep until killed
 *   perf_target addr         print the address of `watched` (e.g. 0x404080)
 *   perf_target bpcheck      print "bp_hits=N": how many of 10 writes to
 *                            `watched` a counting hardware breakpoint saw
 *                            (0 where the hypervisor does not deliver
 *                            debug-register traps)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* initialised: in .data, which exec maps from the file; a .bss variable
 * shares a page the kernel zeroes at exec, which a watchpoint sees as one
 * more write */
volatile long watched = -1;

/* watcharg: its second argument is what watchpoint:bump+arg1 watches */
volatile long cells[8] = {-1, -1, -1, -1, -1, -1, -1, -1};

/* On x86-64 it starts with push %rbp, which the kernel emulates for a
 * uprobe instead of single-stepping it: under QEMU's TCG
 * (tests/env/perfvm) a single-step trap also reports the armed data
 * breakpoint, a spurious hit (598 hits for 300 writes with a plain
 * uprobe on bump beginning with a load). */
__attribute__((noinline)) void bump(long step, volatile long *p) {
#if defined(__x86_64__)
  __asm__ volatile("push %%rbp\n\tpop %%rbp" ::: "memory");
#endif
  *p += step;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static long clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: perf_target faults N | watch K | watcharg N K [MS] | switch N | "
                    "spin MS | wait\n");
    return 2;
  }
  long n = argc > 2 ? atol(argv[2]) : 0;
  if (!strcmp(argv[1], "faults")) {
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return 1;
    madvise(p, n * page, MADV_NOHUGEPAGE); /* one fault per 4 KiB page */
    getppid(); /* markers for the tests: the touching starts */
    for (long i = 0; i < n; i++)
      p[i * page] = 1;
    getppid(); /* ... and ends */
    return 0;
  }
  if (!strcmp(argv[1], "watch")) {
    long sum = 0;
    for (long i = 0; i < n; i++) {
      watched = i;
      sum += watched;
    }
    return sum == n * (n - 1) / 2 ? 0 : 1;
  }
  if (!strcmp(argv[1], "watcharg")) {
    long k = argc > 3 ? atol(argv[3]) : 0, ms = argc > 4 ? atol(argv[4]) : 0;
    if (n < 1 || n > 8)
      return 2;
    for (long r = 0; k == 0 || r < k; r++) {
      for (long i = 0; i < n; i++)
        bump(1, &cells[i]);
      if (ms)
        sleep_ms(ms);
    }
    return 0;
  }
  if (!strcmp(argv[1], "switch")) {
    for (long i = 0; i < n; i++)
      sleep_ms(1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("csw=%ld\n", ru.ru_nvcsw + ru.ru_nivcsw);
    return 0;
  }
  if (!strcmp(argv[1], "spin")) {
    /* until it has had MS ms of CPU, or 20 times that of wall time */
    long start = clock_ms(CLOCK_PROCESS_CPUTIME_ID), deadline = clock_ms(CLOCK_MONOTONIC) + 20 * n;
    volatile unsigned long x = 0;
    while (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - start < n && clock_ms(CLOCK_MONOTONIC) < deadline)
      x++;
    printf("cpu_ms=%ld\n", clock_ms(CLOCK_PROCESS_CPUTIME_ID));
    return 0;
  }
  if (!strcmp(argv[1], "addr")) {
    printf("%p\n", (void *)&watched);
    return 0;
  }
  if (!strcmp(argv[1], "bpcheck")) {
    struct perf_event_attr a = {.size = sizeof a, .type = PERF_TYPE_BREAKPOINT,
                                .bp_type = HW_BREAKPOINT_W, .bp_addr = (uintptr_t)&watched,
                                .bp_len = sizeof watched, .sample_period = 1};
    int fd = syscall(__NR_perf_event_open, &a, 0, -1, -1, 0);
    uint64_t hits = 0;
    for (int i = 0; i < 10; i++)
      watched = i;
    if (fd < 0 || read(fd, &hits, sizeof hits) != sizeof hits)
      return 1;
    printf("bp_hits=%llu\n", (unsigned long long)hits);
    return 0;
  }
  if (!strcmp(argv[1], "wait")) {
    printf("%d\n", getpid());
    fflush(stdout);
    pause();
    return 0;
  }
  return 2;
}
