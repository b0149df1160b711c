/* uprobe_target.c - known functions and USDT probes for the uprobe tests.
 *
 *   uprobe_target [-w MS] STEP [STEP...]
 *
 * Steps (run in order):
 *   add N        ut_add(i, 10 * i) for i = 1..N; returns 11 * i
 *   neg N        ut_neg(-i) for i = 1..N; returns -i (32-bit signed)
 *   mul N        ut_mul(i, 3) for i = 1..N (a second probe target for
 *                wildcards: ut_add, ut_mul and ut_neg match 'ut_*')
 *   greet NAME   ut_greet(NAME) once; returns strlen(NAME)
 *   many N       ut_many(i, i + 1, ..., i + 7) for i = 1..N: eight long
 *                arguments, the last two on the stack; returns their sum
 *   getpid N     N calls of libc's getpid() (a libc uprobe target)
 *   usdt N       USDT ut:tick(i, -i, i * 1000000000000) for i = 1..N
 *   konst N      USDT ut:konst(5, ut_global) N times: a constant argument and
 *                a global variable (a memory operand); ut_global = 7 * N
 *   guarded N    N loop turns that fire USDT ut:guarded(i) only while its
 *                semaphore is set (a tracer has attached)
 *   twice N      USDT ut:twice(i) and then ut:twice(100 * i) for i = 1..N:
 *                one probe at two places in the code (two notes)
 *   grid N       ut_grid(&a, &b) for i = 1..N: a struct ut_grid (below)
 *                holding vals = {i, i+1, i+2, i+3}, cells = {{10i, -10i},
 *                {i, -i}}, pair = {i, 2i}, tag = "g<i>"; b is a copy of a
 *                for odd i and the grid of i = 1 for even i
 *   sleep MS     one sleep of MS milliseconds
 *   pause        sleep until killed
 *
 * -w MS sleeps first.  Nothing is printed on success.  The probed
 * functions are noipa: gcc keeps them out of line, keeps their
 * signatures, and cannot drop the calls.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<sys/sdt.h>)
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#define HAVE_SDT 1
#endif
#endif

#ifdef HAVE_SDT
/* The semaphore of ut:guarded: the kernel increments it while a uprobe
 * with a ref_ctr_offset on it is attached. */
unsigned short ut_guarded_semaphore __attribute__((unused, section(".probes")));
#define UT_GUARDED_ENABLED() __builtin_expect(ut_guarded_semaphore, 0)
#else
#define DTRACE_PROBE1(p, n, a) ((void)(a))
#define DTRACE_PROBE2(p, n, a, b) ((void)(a), (void)(b))
#define DTRACE_PROBE3(p, n, a, b, c) ((void)(a), (void)(b), (void)(c))
#define STAP_PROBE1(p, n, a) ((void)(a))
#define UT_GUARDED_ENABLED() 0
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define PROBED __attribute__((noipa, used))
#else
#define PROBED __attribute__((noinline, used))
#endif

volatile long ut_global;
volatile long ut_sink;

PROBED int ut_add(int a, int b) { return a + b; }
PROBED int ut_neg(int a) { return -a; }
PROBED long ut_mul(long a, long b) { return a * b; }
PROBED int ut_greet(const char *name) { return (int)strlen(name); }
PROBED long ut_many(long a, long b, long c, long d, long e, long f, long g, long h) {
  return a + b + c + d + e + f + g + h;
}

/* Arrays and structs as values: the tests define the same types in
 * their programs. */
struct ut_pair {
  int m, n;
};
struct ut_grid {
  int vals[4];
  short cells[2][2];
  struct ut_pair pair;
  char tag[8];
};
PROBED long ut_grid(struct ut_grid *a, struct ut_grid *b) { return a->vals[0] + b->vals[0]; }

static void fill_grid(struct ut_grid *g, int i) {
  memset(g, 0, sizeof *g);
  for (int k = 0; k < 4; k++)
    g->vals[k] = i + k;
  g->cells[0][0] = (short)(10 * i);
  g->cells[0][1] = (short)(-10 * i);
  g->cells[1][0] = (short)i;
  g->cells[1][1] = (short)-i;
  g->pair.m = i;
  g->pair.n = 2 * i;
  snprintf(g->tag, sizeof g->tag, "g%d", i);
}

/* ut:guarded is the one probe with a semaphore: only this function is
 * compiled while sdt.h's semaphore macros are on. */
static void fire_guarded(long k) {
  if (UT_GUARDED_ENABLED())
    STAP_PROBE1(ut, guarded, k);
}

#ifdef HAVE_SDT
/* Every later probe has no semaphore (address 0 in its note), like most
 * USDT probes in the wild. */
#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n) _SDT_ASM_1(_SDT_ASM_ADDR 0)
#undef _SDT_NOTE_SEMAPHORE_USE
#define _SDT_NOTE_SEMAPHORE_USE(p, n)
#endif

static void usage(void) {
  fprintf(stderr, "usage: uprobe_target [-w MS] STEP...\n"
                  "steps: add N | neg N | mul N | greet NAME | many N | getpid N | usdt N |\n"
                  "       konst N | guarded N | twice N | grid N | sleep MS | pause\n");
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
  pid_t (*volatile getpid_fn)(void) = getpid; /* a real call into libc */
  while (i < argc) {
    const char *step = argv[i++];
    if (!strcmp(step, "pause")) {
      for (;;)
        pause();
    }
    if (i >= argc)
      usage();
    const char *arg = argv[i++];
    if (!strcmp(step, "greet")) {
      ut_sink += ut_greet(arg);
      continue;
    }
    long n = number(arg);
    if (!strcmp(step, "add")) {
      for (long k = 1; k <= n; k++)
        ut_sink += ut_add((int)k, (int)(10 * k));
    } else if (!strcmp(step, "neg")) {
      for (long k = 1; k <= n; k++)
        ut_sink += ut_neg((int)k);
    } else if (!strcmp(step, "mul")) {
      for (long k = 1; k <= n; k++)
        ut_sink += ut_mul(k, 3);
    } else if (!strcmp(step, "many")) {
      for (long k = 1; k <= n; k++)
        ut_sink += ut_many(k, k + 1, k + 2, k + 3, k + 4, k + 5, k + 6, k + 7);
    } else if (!strcmp(step, "getpid")) {
      for (long k = 0; k < n; k++)
        ut_sink += getpid_fn();
    } else if (!strcmp(step, "usdt")) {
      for (long k = 1; k <= n; k++) {
        int small = (int)k;
        long big = k * 1000000000000L;
        DTRACE_PROBE3(ut, tick, small, -small, big);
        ut_sink += small;
      }
    } else if (!strcmp(step, "konst")) {
      ut_global = 7 * n;
      for (long k = 0; k < n; k++)
        DTRACE_PROBE2(ut, konst, 5, ut_global);
    } else if (!strcmp(step, "guarded")) {
      for (long k = 1; k <= n; k++) {
        fire_guarded(k);
        ut_sink += k;
      }
    } else if (!strcmp(step, "twice")) {
      for (long k = 1; k <= n; k++) {
        DTRACE_PROBE1(ut, twice, k);
        ut_sink += k;
        DTRACE_PROBE1(ut, twice, 100 * k);
      }
    } else if (!strcmp(step, "grid")) {
      for (long k = 1; k <= n; k++) {
        struct ut_grid a, b;
        fill_grid(&a, (int)k);
        fill_grid(&b, k % 2 ? (int)k : 1);
        ut_sink += ut_grid(&a, &b);
      }
    } else if (!strcmp(step, "sleep")) {
      sleep_ms(n);
    } else {
      usage();
    }
  }
  return 0;
}
