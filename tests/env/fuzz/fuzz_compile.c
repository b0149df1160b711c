/* fuzz_compile.c - libFuzzer target: program text through the lexer,
 * parser, type checker and code generator (nothing is loaded).  Any
 * crash, sanitizer report or hang is a bug; diagnostics are expected. */
#include "etrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  /* located errors are the normal outcome: keep the output readable */
  if (!getenv("FUZZ_VERBOSE"))
    diag_out = fopen("/dev/null", "w");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192)
    return 0;
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0;
  types_init();
  Source src = {.name = "fuzz", .text = text};
  diag_source = &src;
  static const char *const params[] = {"1", "two"};
  Options opt = {.posparams = params, .nposparams = 2, .unsafe = true, .cpid = 1,
                 .dry_run = true};
  src.shown = src.text; /* the C preamble (#define, struct ...) first */
  ProgramTypes *types = program_types_new(); /* this input's C types */
  src.text = cdefs_process(types, &src, NULL, 0, NULL, 0);
  Program *prog = src.text ? parse_program(&src) : NULL;
  if (prog) {
    prog->types = types;
    Compiled *c = sema_program(prog, &opt);
    if (c)
      cg_program(c, &opt);
  }
  program_types_free(types);
  arena_free_all();
  diag_source = NULL;
  free(text);
  return 0;
}
