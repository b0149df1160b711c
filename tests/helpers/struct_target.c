/* struct_target.c - a known struct passed to a probed function.
 *
 *   struct_target N     st_visit(&p[i]) for i = 0..N-1, where p[i] is
 *                       { x = i, y = -i, tag = "pt<i>", flags = i % 8,
 *                         level = 31 - i, next = &p[i + 1] or NULL,
 *                         kind = ST_LARGE for odd i, else ST_SMALL }
 */
#include <stdio.h>
#include <stdlib.h>

#include "struct_target.h"

volatile long st_sink;

__attribute__((noipa, used)) long st_visit(struct st_point *p) { return p->x + p->y; }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  if (n < 1 || n > 31) {
    fprintf(stderr, "usage: struct_target N (1..31)\n");
    return 2;
  }
  struct st_point *p = calloc(n, sizeof *p);
  for (int i = 0; i < n; i++) {
    p[i].x = i;
    p[i].y = (short)-i;
    snprintf(p[i].tag, sizeof p[i].tag, "pt%d", i);
    p[i].flags = i % 8;
    p[i].level = 31 - i;
    p[i].next = i + 1 < n ? &p[i + 1] : NULL;
    p[i].kind = i % 2 ? ST_LARGE : ST_SMALL;
  }
  for (int i = 0; i < n; i++)
    st_sink += st_visit(&p[i]);
  free(p);
  return 0;
}
