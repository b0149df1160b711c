/* api.c - the flame-graph model through the API the live mode uses:
 * stacks added frame by frame (flame_add_stack) and as folded lines
 * (flame_add_folded), then written as folded stacks to stdout, with the
 * tree's totals on stderr.  tests/output/flame/run.sh compares both with what
 * they must be. */
#include "formats/flame.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void check_line(FlameProfile *p, const char *line, int want_col, const char *want_msg) {
  FlameError err = {0};
  int rc = flame_add_folded(p, line, strlen(line), &err);
  if (want_col == 0 && rc != 0)
    printf("UNEXPECTED ERROR %s: %d %s\n", line, err.col, err.msg);
  if (want_col && (rc == 0 || err.col != want_col || !strstr(err.msg, want_msg)))
    printf("WRONG ERROR %s: rc %d col %d msg %s\n", line, rc, err.col, err.msg);
}

int main(void) {
  FlameProfile *p = flame_new();
  const char *a[] = {"main", "work", "spin"};
  flame_add_stack(p, a, 3, 5);
  flame_add_stack(p, a, 3, 2);          /* merges: spin 7 */
  flame_add_stack(p, a, 2, 1);          /* a stack ending in work */
  const char *odd[] = {"main", "a;b", "line\nbreak", "do_syscall_64" FLAME_KERNEL_SUFFIX};
  flame_add_stack(p, odd, 4, 3);        /* ';' -> ':', '\n' -> ' ' */
  flame_add_stack(p, NULL, 0, 4);       /* nothing read: [unknown] */
  char names[100][16];
  const char *deep[100];
  for (int i = 0; i < 100; i++) {
    snprintf(names[i], sizeof names[i], "f%02d", i);
    deep[i] = names[i];
  }
  flame_add_stack(p, deep, 100, 1);     /* deeper than the 64-frame fast path */
  static char gnames[5000][8];
  static const char *too_deep[5000];
  static char line[5000 * 7 + 8];
  size_t at = 0;
  for (int i = 0; i < 5000; i++) {
    snprintf(gnames[i], sizeof gnames[i], "g%d", i);
    too_deep[i] = gnames[i];
    at += sprintf(line + at, i ? ";g%d" : "g%d", i);
  }
  flame_add_stack(p, too_deep, 5000, 1); /* cut: g0..g4094;[truncated] */
  strcpy(line + at, " 1");
  int col = (int)(strstr(line, ";g4096;") - line) + 2;
  FlameError err = {0};
  if (flame_add_folded(p, line, strlen(line), &err) == 0 || err.col != col ||
      !strstr(err.msg, "deeper than 4096 frames"))
    printf("WRONG ERROR for 5000 frames: col %d (want %d) %s\n", err.col, col, err.msg);
  check_line(p, "main;work;spin 10\r", 0, NULL);
  check_line(p, "   ", 0, NULL);
  check_line(p, "main;a:b;line break;do_syscall_64_[k]  1", 0, NULL);
  check_line(p, "main;work 0", 0, NULL); /* no samples: adds nothing */
  check_line(p, "main;;spin 3", 6, "empty frame");
  check_line(p, "main;work;spin", 15, "sample count");
  check_line(p, "main;work;spin 2.5", 16, "whole number");
  check_line(p, "42", 1, "no stack");
  check_line(p, "main 99999999999999999999999", 6, "too large");
  check_line(p, ";main 1", 1, "empty frame");
  check_line(p, "main; 1", 6, "empty frame");
  fprintf(stderr, "total %" PRIu64 " depth %d kernel %d,%d\n", flame_total(p), flame_max_depth(p),
          flame_is_kernel("x_[k]"), flame_is_kernel("_[k]"));
  flame_write(p, FLAME_FOLDED, NULL, stdout);
  flame_free(p);
  return 0;
}
