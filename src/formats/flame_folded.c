/* flame_folded.c - the folded-stacks writer: "frame;frame;frame COUNT",
 * one line per distinct stack, in tree order (see flame.h). */
#include "formats/flame.h"

#include <inttypes.h>
#include <stdlib.h>

/* path[0..depth) are the frames above n (root excluded). */
static void walk(const FlameNode *n, const char **path, FILE *out) {
  if (n->depth > 0)
    path[n->depth - 1] = n->name;
  if (n->self && n->depth > 0) {
    for (int i = 0; i < n->depth; i++) {
      if (i)
        fputc(';', out);
      fputs(path[i], out);
    }
    fprintf(out, " %" PRIu64 "\n", n->self);
  }
  for (int i = 0; i < n->nkids; i++)
    walk(n->kids[i], path, out);
}

void flame_write_folded(FlameProfile *p, FILE *out) {
  const char **path = calloc(flame_max_depth(p) + 1, sizeof *path);
  if (!path) {
    fprintf(stderr, "etrace: out of memory\n");
    abort();
  }
  walk(flame_root(p), path, out);
  free(path);
}
