/* exporter.c - `etrace exporter [--listen ADDR] [--prefix NAME] [--stacks]
 * PROGRAM.bt... [-e PROGRAM]...`: compile every program into one, load
 * and attach it, serve GET /metrics (Prometheus text 0.0.4, or
 * OpenMetrics 1.0 when Accept asks) and GET / (an index) until SIGTERM or
 * SIGINT.  The mapping from maps to metrics is in src/export/. */
#include "commands/exporter.h"
#include "export/export.h"
#include "export/httpd.h"
#include "load/load.h"
#include "runtime/session.h"

#include <dirent.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:9435"

static void usage(FILE *f) {
  fputs("USAGE:\n"
        "    etrace exporter [options] PROGRAM.bt|DIR... [-e 'program']...\n"
        "\n"
        "Runs every program in one process and serves their maps as Prometheus\n"
        "metrics: GET /metrics (text format 0.0.4, or OpenMetrics 1.0 when the\n"
        "Accept header asks for it) and GET / (the programs, maps and metric names).\n"
        "A DIR stands for the *.bt files in it (e.g. /etc/etrace/exporter.d).\n"
        "There is NO authentication and no TLS: anyone who can reach the address\n"
        "reads every metric.  Keep the default loopback address, or put a proxy or a\n"
        "firewall in front.\n"
        "\n"
        "OPTIONS:\n"
        "    --listen ADDR    HOST:PORT to serve on (default " DEFAULT_LISTEN ";\n"
        "                     ':PORT' is loopback, [::1]:PORT for IPv6, port 0 picks one)\n"
        "    --prefix NAME    metric name prefix (default 'etrace'): @x -> NAME_x\n"
        "    --stacks         export stack-keyed maps with a folded 'stack' label\n"
        "                     (skipped otherwise: stacks make many series)\n"
        "    --map-keys N     room for N keys in each map (default 4096)\n"
        "    --bpf-stats      turn on the kernel's BPF run-time accounting while the\n"
        "                     exporter runs (as kernel.bpf_stats_enabled=1 does) and\n"
        "                     export each program's run time and run count\n"
        "    -e 'program'     a program given on the command line (repeatable)\n"
        "    -v               verbose: the generated BPF and the hooks used\n"
        "    -h, --help       show this help\n"
        "\n"
        "Programs cannot call exit().  printf(), print() and other text output are\n"
        "discarded: the maps are the output.  See etrace(8), EXPORTER.\n",
        f);
}

typedef struct Args {
  const char *listen, *prefix;
  bool stacks, verbose, bpf_stats;
  int map_keys;
} Args;

/* Read, preprocess, parse and rewrite program i (its maps renamed as
 * program `as` of the set).  NULL after an error. */
static Program *front(Exporter *x, int i, int as) {
  ExportProgram *p = &x->progs[i];
  diag_source = &p->src;
  if (!p->src.shown) {
    p->src.shown = p->src.text;
    p->src.text = cdefs_process(x->types, &p->src, NULL, 0, NULL, 0);
    if (!p->src.text)
      return NULL;
  }
  Program *prog = parse_program(&p->src);
  if (!prog || export_check_program(prog) < 0)
    return NULL;
  prog->types = x->types;
  export_rewrite(x, prog, as);
  return prog;
}

/* All programs as one: each is checked alone first (so errors point into
 * the right file), then their probes are chained and compiled together. */
static Compiled *compile_all(Exporter *x, const Options *opt) {
  if (!x->types)
    x->types = program_types_new(); /* one set of C types for all the programs */
  if (x->nprogs > 1) {
    /* alone, each program keeps its own map names (for the messages),
     * recorded in a scratch table */
    Exporter alone = *x;
    alone.names = NULL;
    alone.nnames = 0;
    for (int i = 0; i < x->nprogs; i++) {
      Program *p = front(&alone, i, 0);
      if (!p || !sema_program(p, opt))
        return NULL;
    }
  }
  Program *all = NULL;
  Probe **tail = NULL;
  for (int i = 0; i < x->nprogs; i++) {
    Program *p = front(x, i, i);
    if (!p)
      return NULL;
    x->progs[i].prog = p;
    x->progs[i].first = p->probes;
    x->progs[i].nprobes = p->nprobes;
    if (!all) {
      all = p;
    } else {
      *tail = p->probes;
      all->nprobes += p->nprobes;
    }
    for (tail = &all->probes; *tail; tail = &(*tail)->next)
      ;
  }
  diag_source = &x->progs[0].src;
  return sema_program(all, opt);
}

static void handle(void *ctx, const HttpRequest *req, HttpReply *rep) {
  Exporter *x = ctx;
  if (!strcmp(req->path, "/metrics")) {
    PromFormat f = prom_negotiate(req->accept);
    rep->content_type = prom_content_type(f);
    export_scrape(x, f, rep->body);
  } else if (!strcmp(req->path, "/")) {
    rep->content_type = "text/html; charset=utf-8";
    export_index_html(x, rep->body);
  } else {
    rep->status = 404;
  }
}

/* What the exporter sets up once its programs are loaded. */
typedef struct Serving {
  Exporter *x;
  const Args *a;
  Options *opt;
  Httpd *h;
  int stats_fd;
} Serving;

/* Loaded: the drop counters, --bpf-stats, the HTTP server in the event
 * loop (Options.loop_fd).  0, or -1 after an error. */
static int serve_loaded(void *arg) {
  Serving *sv = arg;
  Exporter *x = sv->x;
  Compiled *c = x->c;
  int fd = load_map_fd(c, ".drops"); /* the lost-event counters (cg, load) */
  if (fd >= 0)
    x->drops_fd = fd;
  /* an fd-held switch: the kernel turns the accounting off again when the
   * exporter exits, however it exits */
  sv->stats_fd = sv->a->bpf_stats ? bpf_enable_stats(BPF_STATS_RUN_TIME) : -1;
  if (sv->a->bpf_stats && sv->stats_fd < 0) {
    diag_fatal("--bpf-stats: cannot enable BPF run-time statistics: %s", strerror(errno));
    return -1;
  }
  char err[256], bound[160];
  sv->h = httpd_open(sv->a->listen, handle, x, err, sizeof err, bound, sizeof bound);
  if (!sv->h) {
    diag_fatal("%s", err);
    return -1;
  }
  sv->opt->loop_fd = httpd_fd(sv->h);
  sv->opt->loop_ready = httpd_ready;
  sv->opt->loop_ctx = sv->h;
  fprintf(stderr, "etrace exporter: %d program%s, %d probe%s; serving http://%s/metrics "
          "(no authentication)\n", x->nprogs, x->nprogs == 1 ? "" : "s", c->ntargets,
          c->ntargets == 1 ? "" : "s", bound);
  return 0;
}

/* Compile, load, listen, run until a signal, through the one
 * compile-and-run entry point (runtime/session.h). */
static int serve(Exporter *x, const Args *a) {
  if (types_check_env() < 0 || privs_check() < 0)
    return 1;
  types_init();
  Options opt = {.quiet = true, .verbose = a->verbose};
  Compiled *c = compile_all(x, &opt);
  if (!c)
    return 1;
  x->c = c;
  if (a->map_keys > 0)
    for (int i = 0; i < c->nmaps; i++)
      if (c->maps[i]->name && c->maps[i]->name[0] == '@')
        c->maps[i]->max_entries = a->map_keys;
  if (export_build(x) < 0)
    return 1;
  FILE *null = fopen("/dev/null", "w");
  if (!null) {
    diag_fatal("cannot open /dev/null: %s", strerror(errno));
    return 1;
  }
  Serving sv = {.x = x, .a = a, .opt = &opt, .stats_fd = -1};
  Session s = {.c = c, .opt = &opt,
               .out = {.f = null, .format = OUT_TEXT, .no_exit_maps = true},
               .loaded = serve_loaded, .loaded_arg = &sv};
  int rc = session_run(&s);
  session_close(&s);
  httpd_close(sv.h);
  fclose(null);
  if (sv.stats_fd >= 0)
    close(sv.stats_fd);
  return rc;
}

enum { OPT_LISTEN = 256, OPT_PREFIX, OPT_STACKS, OPT_MAP_KEYS, OPT_BPF_STATS };

static int add_program(Exporter *x, const char *name, const char *text, char *file_text) {
  x->progs = realloc(x->progs, sizeof *x->progs * (x->nprogs + 1));
  x->progs[x->nprogs++] = (ExportProgram){.name = name, .src = {.name = name, .text = text},
                                          .file_text = file_text};
  return 0;
}

static int add_file(Exporter *x, const char *path) {
  char *text = read_file(path, NULL);
  if (!text) {
    diag_fatal("cannot read program file '%s': %s", path, strerror(errno));
    return -1;
  }
  return add_program(x, path, text, text);
}

static int is_bt(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return d->d_name[0] != '.' && n > 3 && !strcmp(d->d_name + n - 3, ".bt");
}

/* A directory (/etc/etrace/exporter.d) stands for its *.bt files, in
 * name order. */
static int add_path(Exporter *x, const char *path) {
  struct stat st;
  if (stat(path, &st) || !S_ISDIR(st.st_mode))
    return add_file(x, path);
  struct dirent **list;
  int n = scandir(path, &list, is_bt, alphasort);
  if (n < 0) {
    diag_fatal("cannot read directory '%s': %s", path, strerror(errno));
    return -1;
  }
  int rc = 0;
  for (int i = 0; i < n; i++) {
    if (!rc)
      rc = add_file(x, eprintf("%s/%s", path, list[i]->d_name));
    free(list[i]);
  }
  free(list);
  if (!rc && n == 0) {
    diag_fatal("no *.bt program in directory '%s'", path);
    return -1;
  }
  return rc;
}

int exporter_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"listen", required_argument, 0, OPT_LISTEN}, {"prefix", required_argument, 0, OPT_PREFIX},
      {"stacks", no_argument, 0, OPT_STACKS},       {"map-keys", required_argument, 0, OPT_MAP_KEYS},
      {"bpf-stats", no_argument, 0, OPT_BPF_STATS}, {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  Args a = {.listen = DEFAULT_LISTEN, .prefix = "etrace"};
  Exporter x = {.drops_fd = -1};
  int ch, rc = 1;
  char *end;
  while ((ch = getopt_long(argc, argv, "e:hv", longopts, NULL)) != -1) {
    switch (ch) {
    case 'e': add_program(&x, "-e", optarg, NULL); break;
    case 'h': usage(stdout); return 0;
    case 'v': a.verbose = true; break;
    case OPT_LISTEN: a.listen = optarg; break;
    case OPT_PREFIX: a.prefix = optarg; break;
    case OPT_STACKS: a.stacks = true; break;
    case OPT_BPF_STATS: a.bpf_stats = true; break;
    case OPT_MAP_KEYS:
      a.map_keys = (int)strtol(optarg, &end, 10);
      if (*end || a.map_keys <= 0 || a.map_keys > (1 << 24)) {
        diag_fatal("invalid --map-keys '%s': expected a number from 1 to 16777216", optarg);
        goto out;
      }
      break;
    default: usage(stderr); goto out;
    }
  }
  if (!prom_valid_metric_name(a.prefix)) {
    diag_fatal("invalid --prefix '%s': a metric name is [a-zA-Z_:][a-zA-Z0-9_:]*", a.prefix);
    goto out;
  }
  for (int i = optind; i < argc; i++)
    if (add_path(&x, argv[i]) < 0)
      goto out;
  if (!x.nprogs) {
    usage(stderr);
    goto out;
  }
  x.prefix = a.prefix;
  x.stacks = a.stacks;
  x.bpf_stats = a.bpf_stats;
  rc = serve(&x, &a);
out:
  for (int i = 0; i < x.nprogs; i++)
    free(x.progs[i].file_text);
  free(x.progs);
  program_types_free(x.types);
  free(x.percpu);
  buf_free(&x.labels);
  arena_free_all();
  return rc;
}
