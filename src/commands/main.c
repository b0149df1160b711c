/* main.c - the command line: bpftrace's flags, then the pipeline
 * parse -> sema -> cg -> load -> run. */
#include "etrace.h"
#include "commands/tools.h"
#include "record/record.h"
#include "commands/flamegraph.h"
#include "commands/convert.h"
#include "commands/snoop.h"
#include "commands/info.h"
#include "commands/exporter.h"
#include "runtime/session.h"
#include "arch/arch.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *f) {
  fputs("USAGE:\n"
        "    etrace [options] filename [args...]\n"
        "    etrace [options] - [args...]\n"
        "    etrace [options] -e 'program' [args...]\n"
        "    etrace tool [NAME [args...]]   (the bundled tools; 'etrace tool' lists them)\n"
        "    etrace record -o DIR EVENT...  (record tracepoints to a CTF trace)\n"
        "    etrace ctf repair DIR          (cut a damaged trace to its last whole packet)\n"
        "    etrace flamegraph -i F -o OUT  (flame graph: .svg, .folded, .speedscope.json)\n"
        "    etrace convert DIR --to chrome|text  (a trace as Chrome JSON or text, next to DIR)\n"
        "    etrace snoop 'EVENT(ARGS)'     (trace typed tracepoint arguments; 'etrace snoop -h')\n"
        "    etrace exporter PROGRAM.bt...  (serve maps as Prometheus metrics; no authentication)\n"
        "\n"
        "OPTIONS (anywhere on the line; -- ends them):\n"
        "    -B MODE        output buffering mode ('full', 'line', 'none')\n"
        "    -c 'CMD'       run CMD and trace it; exit when it exits\n"
        "    -d STAGE       print a compiler stage: ast, dis (BPF assembly), all\n"
        "    --dry-run      compile but do not load or run\n"
        "    --arch ARCH    with --dry-run: compile for ARCH's registers (x86_64, arm64)\n"
        "    --verify       compile and load (the kernel verifies), do not attach\n"
        "    -e 'program'   the program to run\n"
        "    -f FORMAT      output format ('text', 'json', 'ctf': printf events to a\n"
        "                   CTF trace in the -o directory, one event class per printf)\n"
        "    -h, --help     show this help message\n"
        "    -I DIR         search DIR for #include files\n"
        "    --include FILE include FILE before the program (C definitions, #define)\n"
        "    -l [GLOB]      list probes (tracepoints, uprobes, usdt, software, hardware, iter); -lv shows arguments;\n"
        "                   with -e PROG or a program file: the probes it would attach\n"
        "    -o FILE        write the output to FILE\n"
        "    -p PID         trace only process PID and exit when it exits\n"
        "    -k, -kk        report failed map updates and deletes; -kk also failed reads\n"
        "    --no-warnings  print no warnings (nor -k reports, in text)\n"
        "    -q             quiet: no 'Attaching N probes' line\n"
        "    --unsafe       allow system() and signal()\n"
        "    -v             verbose: print the generated BPF and the hooks used\n"
        "    -V, --version  print the version\n"
        "\n"
        "EXAMPLES:\n"
        "etrace -l '*sleep*'\n"
        "    list tracepoints containing \"sleep\"\n"
        "etrace -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'\n"
        "    count system calls by process name\n"
        "etrace -e 'tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, "
        "str(args.filename)); }'\n"
        "    trace files opened, with the process name\n",
        f);
}

/* ------------------------------------------------------------ main */

/* -d STAGE and -B MODE: 0, or -1 after an error. */
static int check_modes(const char *dump, const char *bufmode) {
  if (dump && strcmp(dump, "ast") && strcmp(dump, "dis") && strcmp(dump, "all")) {
    diag_fatal("unknown -d stage '%s': expected ast, dis or all", dump);
    return -1;
  }
  if (bufmode && strcmp(bufmode, "none") && strcmp(bufmode, "line") && strcmp(bufmode, "full")) {
    diag_cli_error("USAGE: -B must be either 'line', 'full', or 'none'.");
    return -1;
  }
  return 0;
}

/* -o FILE (NULL: stdout) with -B's buffering.  NULL after an error. */
static FILE *open_output(const char *file, const char *bufmode) {
  FILE *out = stdout;
  if (file && !(out = fopen(file, "w"))) {
    diag_cli_error("Failed to open output file: \"%s\": %s", file, strerror(errno));
    return NULL;
  }
  if (bufmode && !strcmp(bufmode, "none"))
    setvbuf(out, NULL, _IONBF, 0);
  else if (bufmode && !strcmp(bufmode, "full"))
    setvbuf(out, NULL, _IOFBF, 1 << 16);
  else
    setvbuf(out, NULL, _IOLBF, 1 << 16);
  return out;
}

/* -c CMD: the child, held until the probes are attached.  0, or -1. */
static int spawn_child(const char *cmd, bool dry_run, Options *opt) {
  if (dry_run) {
    opt->cpid = 1; /* a placeholder pid: the program is never loaded */
    return 0;
  }
  pid_t child = child_spawn(cmd);
  if (child < 0)
    return -1;
  opt->cpid = opt->child_pid = child;
  opt->start_child = child_start;
  return 0;
}

enum { OPT_DRY_RUN = 256, OPT_UNSAFE, OPT_VERIFY, OPT_INCLUDE, OPT_INFO, OPT_USDT_FILE_ACT, OPT_ARCH,
       OPT_NO_WARNINGS };

/* -l [GLOB] (-p PID: its binaries): the exit status. */
static int list_probes(const char *glob, bool verbose, int pid) {
  for (const char *p = glob; p && *p; p++)
    if (*p == '\\' || !isprint((unsigned char)*p)) { /* no probe name has one */
      diag_cli_error("invalid character '%c' in search expression",
                     isprint((unsigned char)*p) ? *p : '?');
      return 1;
    }
  return prov_list(stdout, glob, verbose, pid) < 0 ? 1 : 0;
}

/* -l's argument names a program file (not a probe glob) when it is one. */
static bool is_program_file(const char *path) {
  struct stat st;
  return strchr(path, '/') || strstr(path, ".bt") ? stat(path, &st) == 0 && S_ISREG(st.st_mode)
                                                   : false;
}

/* -f FORMAT: 0, or -1 after bpftrace's error. */
static int parse_format(const char *arg, OutFormat *format) {
  if (!strcmp(arg, "json"))
    *format = OUT_JSON;
  else if (!strcmp(arg, "ctf"))
    *format = OUT_CTF;
  else if (!strcmp(arg, "text"))
    *format = OUT_TEXT;
  else {
    diag_cli_error("Invalid output format \"%s\"\nValid formats: 'text', 'json', 'ctf'", arg);
    return -1;
  }
  return 0;
}

/* The config block's settings, then the environment checks again. */
static int apply_config(const Program *prog) {
  if (!prog->config)
    return 0;
  if (config_apply(prog) < 0 || types_check_env() < 0 || rt_check_env() < 0)
    return -1;
  types_reload_env();
  return 0;
}

/* -l with a program: the probes it would attach; the exit status. */
static int list_program(Program *prog, const Options *opt) {
  Compiled *c = sema_program(prog, opt);
  if (!c)
    return 1;
  prov_list_targets(stdout, c, opt->verbose);
  return 0;
}

/* `etrace NAME ...` for a subcommand: its exit status in *rc, true. */
static bool subcommand(int argc, char **argv, int *rc) {
  const char *n = argc > 1 ? argv[1] : "";
  if (!strcmp(n, "tool"))
    *rc = tool_main(argc - 1, argv + 1);
  else if (!strcmp(n, "snoop"))
    *rc = snoop_main(argc - 1, argv + 1);
  else if (!strcmp(n, "record") || !strcmp(n, "ctf"))
    *rc = record_main(argc, argv);
  else if (!strcmp(n, "flamegraph"))
    *rc = flamegraph_main(argc - 1, argv + 1);
  else if (!strcmp(n, "exporter"))
    *rc = exporter_main(argc - 1, argv + 1);
  else if (!strcmp(n, "convert"))
    *rc = convert_main(argc, argv);
  else
    return false;
  return true;
}

/* The main command's command line. */
typedef struct MainArgs {
  const char *prog_text, *prog_file, *cmd, *out_file, *dump, *bufmode;
  bool list, dry_run, verify;
  const Arch *native_arch; /* set when --arch chose a table */
  Options opt;
  OutFormat format;
  const char **inc_dirs, **includes;
  int ninc_dirs, nincludes;
} MainArgs;

/* Options anywhere, as bpftrace's: `etrace -e PROG ARG -q` is quiet, and
 * `--` ends them (`etrace -e PROG -- -q` has $1 == "-q").  Returns 0 to
 * go on, else the exit status plus one (1: exit 0, 2: exit 1). */
static int parse_args(int argc, char **argv, MainArgs *a) {
  static const struct option longopts[] = {
      {"dry-run", no_argument, 0, OPT_DRY_RUN}, {"unsafe", no_argument, 0, OPT_UNSAFE},
      {"verify", no_argument, 0, OPT_VERIFY},   {"include", required_argument, 0, OPT_INCLUDE},
      {"help", no_argument, 0, 'h'},            {"version", no_argument, 0, 'V'},
      {"info", no_argument, 0, OPT_INFO},
      {"usdt-file-activation", no_argument, 0, OPT_USDT_FILE_ACT},
      {"arch", required_argument, 0, OPT_ARCH},
      {"no-warnings", no_argument, 0, OPT_NO_WARNINGS},
      {0, 0, 0, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "B:c:d:e:f:hI:klo:p:qvV", longopts, NULL)) != -1) {
    switch (ch) {
    case 'B': a->bufmode = optarg; break;
    case 'c': a->cmd = optarg; break;
    case 'd':
      if (optarg[0] == '-') { /* bpftrace 0.17's bare -d */
        a->dump = "all";
        optind--;
      } else {
        a->dump = optarg;
      }
      break;
    case 'e': a->prog_text = optarg; break;
    case 'f':
      if (parse_format(optarg, &a->format) < 0)
        return 2;
      break;
    case 'h': usage(stdout); return 1;
    case 'k': a->opt.helper_errors += a->opt.helper_errors < 2; break;
    case 'l': a->list = true; break;
    case 'o': a->out_file = optarg; break;
    case 'p':
      if ((a->opt.pid = pid_arg(optarg)) < 0)
        return 2;
      break;
    case 'q': a->opt.quiet = true; break;
    case 'v': a->opt.verbose = true; break;
    case 'V': printf("etrace v%s\n", ETRACE_VERSION); return 1;
    case OPT_INFO: info_print(stdout); return 1;
    /* USDT semaphores are always set through the uprobe's reference
     * counter (the kernel's), for every process: nothing left to turn on */
    case OPT_USDT_FILE_ACT: break;
    case OPT_DRY_RUN: a->dry_run = true; break;
    case OPT_NO_WARNINGS: diag_no_warnings = true; break;
    case OPT_ARCH:
      a->native_arch = arch_current();
      if (arch_select(optarg) < 0) {
        diag_cli_error("unknown architecture '%s' (--arch takes x86_64 or arm64)", optarg);
        return 2;
      }
      break;
    case OPT_VERIFY: a->verify = true; break;
    case OPT_UNSAFE: a->opt.unsafe = true; break;
    case 'I':
      a->inc_dirs = realloc(a->inc_dirs, sizeof(char *) * (a->ninc_dirs + 1));
      a->inc_dirs[a->ninc_dirs++] = optarg;
      break;
    case OPT_INCLUDE:
      a->includes = realloc(a->includes, sizeof(char *) * (a->nincludes + 1));
      a->includes[a->nincludes++] = optarg;
      break;
    default: usage(stderr); return 2;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  int sub_rc;
  if (subcommand(argc, argv, &sub_rc))
    return sub_rc;
  MainArgs args = {.format = OUT_TEXT}, *a = &args;
  int parsed = parse_args(argc, argv, a);
  if (parsed)
    return parsed - 1;
  const char *prog_text = a->prog_text, *prog_file = NULL, *cmd = a->cmd;
  const char *out_file = a->out_file, *dump = a->dump, *bufmode = a->bufmode;
  bool list = a->list, dry_run = a->dry_run, verify = a->verify;
  const Arch *native_arch = a->native_arch;
  Options opt = a->opt;
  opt.cmd = cmd; /* the program watchpoint:FUNC+argN probes, with -l too */
  OutFormat format = a->format;
  const char **inc_dirs = a->inc_dirs, **includes = a->includes;
  int ninc_dirs = a->ninc_dirs, nincludes = a->nincludes;
  if (check_modes(dump, bufmode) < 0)
    return 1;
  if (native_arch && native_arch != arch_current() && !dry_run) {
    diag_cli_error("--arch %s needs --dry-run: this machine is %s", arch_current()->name,
                   native_arch->name);
    return 1;
  }

  /* -l GLOB: what exists; -l with a program: its probes (list_program) */
  if (list && !prog_text && !(optind < argc && is_program_file(argv[optind])))
    return list_probes(optind < argc ? argv[optind] : NULL, opt.verbose, opt.pid);

  if (prog_text && !*prog_text) { /* -e '': bpftrace takes it for no program */
    diag_cli_error("USAGE: filename or -e 'program' required.");
    return 1;
  }
  if (!prog_text) {
    if (optind >= argc) {
      usage(stderr);
      return 1;
    }
    prog_file = argv[optind++];
  }
  opt.posparams = (const char *const *)argv + optind;
  opt.nposparams = argc - optind;

  if (types_check_env() < 0 || rt_check_env() < 0)
    return 1;
  types_init();
  Source src = {.name = prog_file ? (strcmp(prog_file, "-") ? prog_file : "stdin") : "-e",
                .text = prog_text};
  char *file_text = NULL;
  if (prog_file && !(src.text = file_text = read_file(prog_file, NULL))) {
    diag_cli_error("failed to open file '%s': %s", prog_file, strerror(errno));
    return 1;
  }
  diag_source = &src;

  int rc = 1;
  FILE *out = stdout;
  ProgramTypes *types = program_types_new(); /* this compilation's C types */
  /* #include, #define and C type definitions before the first probe */
  src.shown = src.text;
  src.text = cdefs_process(types, &src, inc_dirs, ninc_dirs, includes, nincludes);
  if (!src.text)
    goto out;
  Program *prog = parse_program(&src);
  if (!prog || apply_config(prog) < 0)
    goto out;
  prog->types = types;
  if (dump && (!strcmp(dump, "ast") || !strcmp(dump, "all")))
    ast_dump(stdout, prog);
  if (dry_run && dump && !strcmp(dump, "ast")) {
    rc = 0;
    goto out;
  }
  if (list) {
    rc = list_program(prog, &opt);
    goto out;
  }
  if (format == OUT_CTF && !out_file) {
    diag_fatal("-f ctf needs -o DIR: the trace directory to write");
    goto out;
  }
  if (!dry_run && privs_check() < 0) /* before any file, child or map */
    goto out;
  if (!(out = open_output(out_file && !dry_run && format != OUT_CTF ? out_file : NULL, bufmode)))
    goto out;
  if (cmd && spawn_child(cmd, dry_run, &opt) < 0)
    goto out;

  opt.dry_run = dry_run;
  Session session = {
      .prog = prog, .opt = &opt,
      .out = {.f = out, .format = format == OUT_CTF ? OUT_TEXT : format},
      .ctf_dir = format == OUT_CTF ? out_file : NULL,
      .compile_only = dry_run, .verify_only = verify,
      .dump_dis = dump && strcmp(dump, "ast"), .show_programs = opt.verbose,
  };
  rc = session_run(&session);
  session_close(&session);
out:
  child_kill();
  if (out && out != stdout)
    fclose(out);
  free(file_text);
  free(inc_dirs);
  free(includes);
  program_types_free(types);
  arena_free_all();
  return rc;
}
