/* symbolise.c - stack symbolisation throughput (src/symbols/), in frames/s.
 *
 *   symbolise [SECONDS]
 *
 * Kernel: 20-frame stacks of addresses inside real kernel functions
 * (taken from /proc/kallsyms), formatted the way `@[kstack]` prints them.
 * User: 20-frame stacks of addresses inside this process's executable
 * code (the program and libc), formatted as `@[ustack]`, through
 * /proc/self/maps and the files' ELF symbols.  Prints the one-time
 * costs (kallsyms load; maps + symbol tables) and the steady rate.
 * Built against etrace's objects by bench/run.sh.  Figures, not a test.
 */
#include "etrace.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FRAMES 20
#define NADDR 20000

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t kaddrs[NADDR], uaddrs[NADDR];

static int kernel_addrs(void) {
  FILE *f = fopen("/proc/kallsyms", "r");
  if (!f)
    return 0;
  uint64_t *all = malloc(sizeof(uint64_t) * 400000);
  int n = 0;
  char line[512];
  while (n < 400000 && fgets(line, sizeof line, f)) {
    unsigned long long a;
    char type;
    if (sscanf(line, "%llx %c", &a, &type) == 2 && (type == 't' || type == 'T') && a)
      all[n++] = a;
  }
  fclose(f);
  for (int i = 0; i < NADDR && n; i++)
    kaddrs[i] = all[rand() % n] + rand() % 64;
  free(all);
  return n ? NADDR : 0;
}

static int user_addrs(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  uint64_t lo[64], hi[64];
  int nr = 0;
  char line[4096];
  while (nr < 64 && fgets(line, sizeof line, f)) {
    unsigned long long a, b;
    char perms[8];
    if (sscanf(line, "%llx-%llx %7s", &a, &b, perms) == 3 && perms[2] == 'x' && strchr(line, '/'))
      lo[nr] = a, hi[nr++] = b;
  }
  fclose(f);
  for (int i = 0; i < NADDR && nr; i++) {
    int r = rand() % nr;
    uaddrs[i] = lo[r] + (uint64_t)rand() % (hi[r] - lo[r]);
  }
  return nr ? NADDR : 0;
}

/* Format stacks of FRAMES addresses from addrs for `secs` seconds. */
static double rate(const uint64_t *addrs, bool user, double secs, size_t *bytes) {
  double t0 = now(), t;
  long frames = 0;
  int i = 0;
  Buf b = {0};
  do {
    for (int k = 0; k < 100; k++) {
      b.len = 0;
      sym_stack_text(&b, addrs + i, FRAMES, user, getpid(), STACK_MODE_BPFTRACE, 4);
      *bytes += b.len;
      frames += FRAMES;
      i = (i + FRAMES) % (NADDR - FRAMES);
    }
    t = now();
  } while (t - t0 < secs);
  buf_free(&b);
  return frames / (t - t0);
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  srand(42);
  size_t bytes = 0;
  if (kernel_addrs()) {
    const char *name;
    uint64_t off;
    double t0 = now();
    sym_kernel(kaddrs[0], &name, &off);
    double load = now() - t0;
    double r = rate(kaddrs, false, secs, &bytes);
    printf("kernel: kallsyms load %.1f ms; %.2f M frames/s (%d-frame kstacks)\n", load * 1e3,
           r / 1e6, FRAMES);
  } else {
    printf("kernel: /proc/kallsyms unreadable\n");
  }
  if (user_addrs()) {
    const char *name, *module;
    uint64_t off;
    double t0 = now();
    for (int i = 0; i < NADDR; i++) /* first touch of every file */
      sym_user(getpid(), uaddrs[i], &name, &off, &module);
    double load = now() - t0;
    int procs, files, syms;
    sym_user_stats(&procs, &files, &syms);
    double r = rate(uaddrs, true, secs, &bytes);
    printf("user:   maps + %d files (%d symbols) %.1f ms; %.2f M frames/s (%d-frame ustacks)\n",
           files, syms, load * 1e3, r / 1e6, FRAMES);
  }
  return bytes == 0;
}
