/* stack_target.c - known call stacks for the stack-trace tests.
 *
 *   stack_target [-w MS] STEP [STEP...]
 *
 * Steps (run in order):
 *   spin MS      busy loop for MS milliseconds in st_spin_leaf, called as
 *                main -> st_spin_outer -> st_spin_middle -> st_spin_leaf
 *   call N       N calls of st_probe_me(k) (k = 1..N) from st_caller, for
 *                uprobes with ustack: main -> st_caller -> st_probe_me
 *   libc N       N getppid() calls through libc, from st_libc_caller
 *                (a shared-library frame on top of the user stack)
 *   sleep MS     one nanosleep of MS milliseconds (an off-CPU stack)
 *   pause        wait for a signal forever
 *
 * Built with -fno-omit-frame-pointer (see the Makefile), as a PIE, so the
 * kernel's frame-pointer walk of the user stack reaches main and the
 * symbols need the process's load address to resolve.  The functions are
 * noinline and global so they keep their names in .symtab.  Prints
 * nothing on success.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KEEP __attribute__((noinline, used))

volatile unsigned long st_sink;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

KEEP void st_spin_leaf(long ms) {
  double end = now_ms() + ms;
  while (now_ms() < end)
    for (int i = 0; i < 10000; i++)
      st_sink += i;
  __asm__ volatile("" ::: "memory"); /* not a tail call: keep the frame */
}

KEEP void st_spin_middle(long ms) {
  st_spin_leaf(ms);
  __asm__ volatile("" ::: "memory");
}

KEEP void st_spin_outer(long ms) {
  st_spin_middle(ms);
  __asm__ volatile("" ::: "memory");
}

KEEP long st_probe_me(long k) {
  st_sink += k;
  return k * 2;
}

KEEP void st_caller(long n) {
  for (long k = 1; k <= n; k++)
    st_sink += st_probe_me(k);
  __asm__ volatile("" ::: "memory");
}

KEEP void st_libc_caller(long n) {
  pid_t (*volatile fn)(void) = getppid; /* a real call into libc */
  for (long k = 0; k < n; k++)
    st_sink += fn();
  __asm__ volatile("" ::: "memory");
}

static void usage(void) {
  fprintf(stderr, "usage: stack_target [-w MS] STEP...\n"
                  "steps: spin MS | call N | libc N | sleep MS | pause\n");
  exit(2);
}

static long number(const char *s) {
  char *end;
  long v = strtol(s, &end, 0);
  if (!*s || *end || v < 0)
    usage();
  return v;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "-w")) {
    sleep_ms(number(argv[i + 1]));
    i += 2;
  }
  if (i >= argc)
    usage();
  while (i < argc) {
    const char *step = argv[i++];
    if (!strcmp(step, "pause")) {
      for (;;)
        pause();
    }
    if (i >= argc)
      usage();
    long n = number(argv[i++]);
    if (!strcmp(step, "spin"))
      st_spin_outer(n);
    else if (!strcmp(step, "call"))
      st_caller(n);
    else if (!strcmp(step, "libc"))
      st_libc_caller(n);
    else if (!strcmp(step, "sleep"))
      sleep_ms(n);
    else
      usage();
  }
  return 0;
}
