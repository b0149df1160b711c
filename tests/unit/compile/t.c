/* t.c - several compilations in one process, one after the other, as
 * the exporter and the fuzzers run them: nothing a program defines (C
 * macros, typedefs, struct layouts, #if state, types read from DWARF)
 * may reach the next one.  Each case prints "PASS compile/NAME" or
 * "FAIL compile/NAME: why".  No privileges needed (nothing is loaded). */
#include "etrace.h"

#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(const char *name, bool ok, const char *why) {
  if (ok)
    printf("PASS compile/%s\n", name);
  else
    printf("FAIL compile/%s: %s\n", name, why);
}

/* The last compilation's C types (struct_size looks into them). */
static ProgramTypes *types;

/* C preamble, parse, sema and code generation of text, as main.c runs
 * them with --dry-run.  True when it compiled without an error.  The
 * arena is freed by the caller, after it looked at the types. */
static bool compile(const char *text) {
  types_init();
  program_types_free(types);
  types = program_types_new();
  static Source src;
  src = (Source){.name = "t.bt", .text = estrdup(text)};
  src.shown = src.text;
  diag_source = &src;
  Options opt = {.dry_run = true, .unsafe = true};
  int errs = diag_errors;
  src.text = cdefs_process(types, &src, NULL, 0, NULL, 0);
  Program *prog = src.text ? parse_program(&src) : NULL;
  if (prog)
    prog->types = types;
  Compiled *c = prog ? sema_program(prog, &opt) : NULL;
  return c && cg_program(c, &opt) >= 0 && diag_errors == errs;
}

/* The size of the program's `struct name`, or -1. */
static long struct_size(const char *name) {
  int id = btf_lookup(types, name, BTF_KIND_STRUCT);
  return id > 0 ? (long)btf__resolve_size(btf_program(types), id) : -1;
}

int main(int argc, char **argv) {
  const char *target = argc > 1 ? argv[1] : "tests/bin/struct_target";
  if (!getenv("VERBOSE")) /* VERBOSE=1 shows the expected errors */
    diag_out = fopen("/dev/null", "w");

  bool ok = compile("#define N 7\ntypedef unsigned int h_t;\n"
                    "BEGIN { printf(\"%d\\n\", N + (h_t)1); exit(); }");
  arena_free_all();
  check("macro-and-typedef", ok, "the program with #define N and typedef h_t failed");
  check("macro-gone", !compile("BEGIN { printf(\"%d\\n\", N); exit(); }"),
        "N of the previous program still defined");
  arena_free_all();
  check("typedef-gone", !compile("BEGIN { printf(\"%d\\n\", (h_t)1); exit(); }"),
        "typedef h_t of an earlier program still defined");
  arena_free_all();

  /* the same struct name, two layouts: each program sees its own */
  ok = compile("struct s { int a; };\nBEGIN { printf(\"%d\\n\", sizeof(struct s)); exit(); }");
  long first = struct_size("s");
  arena_free_all();
  bool ok2 = compile("struct s { long a; long b; };\n"
                     "BEGIN { printf(\"%d\\n\", sizeof(struct s)); exit(); }");
  long second = struct_size("s");
  arena_free_all();
  char why[128];
  snprintf(why, sizeof why, "compiled %d %d, sizes %ld and %ld (want 4 and 16)", ok, ok2, first,
           second);
  check("struct-redefined", ok && ok2 && first == 4 && second == 16, why);

  /* an #if left open is an error of its own program only */
  check("open-if-fails", !compile("#if 1\nBEGIN { exit(); }"), "an unterminated #if compiled");
  arena_free_all();
  check("after-open-if", compile("#define M 3\nBEGIN { printf(\"%d\\n\", M); exit(); }"),
        "the #if left open by the previous program leaked into this one");
  arena_free_all();

  /* DWARF types: two probes of one program share the struct (one type,
   * so one map takes both), and a second compilation reads it afresh */
  char *prog = eprintf("uprobe:%s:st_visit { @a = *args.p; }\n"
                       "uprobe:%s:st_visit { @a = *args.p; }",
                       target, target);
  char *text = strdup(prog); /* the arena goes between the two */
  arena_free_all();
  check("dwarf-shared", compile(text), "two probes storing the same DWARF struct did not compile");
  arena_free_all();
  check("dwarf-again", compile(text), "the second compilation of the DWARF program failed");
  arena_free_all();
  free(text);
  return 0;
}
