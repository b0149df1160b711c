/* parse_driver.c - the front end alone, for tests before main.c has -d ast.
 *
 *   cc -std=gnu11 -Isrc -o parse_driver tests/unit/parse_driver.c \
 *      src/front/lex.c src/front/parse.c src/front/ast.c src/base/util.c src/front/diag.c src/sema/types.c
 *   ETRACE=./parse_driver tests/language/frontend/run.sh
 *
 * Accepts the same command line as `etrace -d ast --dry-run (-e PROG | FILE)`,
 * prints the AST to stdout, and exits 1 after a parse error. */
#include "etrace.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *prog = NULL, *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-d") && i + 1 < argc)
      i++;                              /* only "ast" is meaningful here */
    else if (!strcmp(argv[i], "--dry-run"))
      continue;
    else if (!strcmp(argv[i], "-e") && i + 1 < argc)
      prog = argv[++i];
    else
      path = argv[i];
  }
  Source src = {0};
  if (prog) {
    src.name = "-e";
    src.text = prog;
  } else if (path) {
    src.name = path;
    src.text = read_file(path, NULL);
    if (!src.text) {
      perror(path);
      return 1;
    }
  } else {
    fprintf(stderr, "usage: parse_driver [-d ast] [--dry-run] (-e PROG | FILE)\n");
    return 2;
  }
  types_init();
  Program *p = parse_program(&src);
  if (p)
    ast_dump(stdout, p);
  if (path)
    free((char *)src.text);
  arena_free_all();
  return p ? 0 : 1;
}
