/* flamegraph.c - `etrace flamegraph`: write a flame graph as folded
 * stacks, an interactive SVG or speedscope JSON (src/out/flame*.c).
 *
 *   etrace flamegraph -i FILE.folded -o OUT [output options]
 *       convert folded stacks (from etrace, perf + stackcollapse, ...)
 *   etrace flamegraph [-p PID] [-F HZ] [-D SECONDS] [--off-cpu] -o OUT
 *       sample the running system (flame_live_sample, src/flame_live.c)
 *
 * Options may come in any order (`--` ends them).  The format is -f's,
 * else the output file's suffix.  The file is
 * written under a temporary name and renamed, so a failed run leaves no
 * half-written graph behind.
 */
#include "etrace.h"
#include "commands/flamegraph.h"
#include "commands/cmdline.h"
#include "formats/flame.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
  fputs("USAGE:\n"
        "    etrace flamegraph -i FILE.folded -o OUT [options]\n"
        "    etrace flamegraph [-p PID] [-F HZ] [-D SECONDS] [--off-cpu] -o OUT [options]\n"
        "\n"
        "Writes a flame graph: an interactive SVG (click to zoom, Search to highlight),\n"
        "folded stacks, or speedscope JSON, chosen by OUT's suffix (.svg, .folded,\n"
        ".speedscope.json) or by -f.  Options may come in any order.\n"
        "\n"
        "OPTIONS:\n"
        "    -i FILE           read folded stacks ('frame;frame;frame COUNT' lines; - is stdin;\n"
        "                      also a lone FILE argument)\n"
        "    -o FILE           the file to write (- is stdout, with -f)\n"
        "    -f FORMAT         folded, svg or speedscope (also --format)\n"
        "    --title T         the graph's title (speedscope: the profile name)\n"
        "    --subtitle T      a line under the title (SVG)\n"
        "    --minwidth PCT    leave out frames narrower than PCT% of the graph (SVG; 0.1)\n"
        "    --width PX        the SVG's width in pixels (1200)\n"
        "    --unit U          what a count is: samples, ns or us (samples)\n"
        "    --off-cpu         with -i: the stacks are off-CPU time (blue palette)\n"
        "  live sampling:\n"
        "    -p PID            sample only process PID\n"
        "    -F HZ             sampling frequency (49)\n"
        "    -D SECONDS        sample for SECONDS (default: until Ctrl-C; --duration)\n"
        "    --off-cpu         time spent blocked, by stack, instead of CPU samples (us)\n"
        "    -v                verbose\n"
        "    -h, --help        show this help message\n"
        "\n"
        "EXAMPLES:\n"
        "etrace flamegraph -i out.folded -o out.svg\n"
        "    draw folded stacks as an interactive SVG\n"
        "etrace flamegraph -p 1234 -F 99 -D 10 -o cpu.svg\n"
        "    sample process 1234's stacks 99 times a second for 10 s\n",
        f);
}

/* Parse a decimal number in [lo, hi] for option `opt`. */
static bool number_arg(const char *opt, const char *arg, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (end == arg || *end || errno || !isfinite(v) || v < lo || v > hi) {
    diag_fatal("invalid %s '%s': expected a number from %g to %g", opt, arg, lo, hi);
    return false;
  }
  *out = v;
  return true;
}

/* Read folded stacks from path into p; a bad line is a located error. */
static int read_folded(const char *path, FlameProfile *p) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) {
    diag_fatal("cannot read '%s': %s", path, strerror(errno));
    return -1;
  }
  Source src = {.name = strcmp(path, "-") ? path : "stdin", .text = text};
  const Source *saved = diag_source;
  diag_source = &src;
  int rc = 0, line = 1;
  for (const char *at = text; at < text + len; line++) {
    const char *nl = memchr(at, '\n', text + len - at);
    size_t n = nl ? (size_t)(nl - at) : (size_t)(text + len - at);
    FlameError err;
    if (flame_add_folded(p, at, n, &err) < 0) {
      diag_error((Loc){line, err.col}, "%s", err.msg);
      rc = -1;
      break;
    }
    at += n + 1;
  }
  diag_source = saved;
  free(text);
  if (rc == 0 && flame_total(p) == 0) {
    diag_fatal("'%s' holds no samples: expected 'frame;frame;frame COUNT' lines", path);
    rc = -1;
  }
  return rc;
}

/* Write p to path (via a temporary file and a rename), or to stdout. */
static int write_graph(FlameProfile *p, const char *path, FlameFormat fmt, const FlameOptions *o) {
  if (!strcmp(path, "-"))
    return flame_write(p, fmt, o, stdout) < 0 ? -1 : 0;
  char *tmp = eprintf("%s.tmp%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    diag_fatal("cannot create '%s': %s", path, strerror(errno));
    return -1;
  }
  int rc = flame_write(p, fmt, o, f);
  int err = errno;
  if (fclose(f) && !rc)
    rc = -1, err = errno;
  if (!rc && rename(tmp, path) < 0)
    rc = -1, err = errno;
  if (rc) {
    unlink(tmp);
    diag_fatal("cannot write '%s': %s", path, strerror(err));
  }
  return rc;
}

enum {
  OPT_FORMAT = 256, OPT_TITLE, OPT_SUBTITLE, OPT_MINWIDTH, OPT_WIDTH, OPT_UNIT, OPT_OFF_CPU,
  OPT_DURATION
};

int flamegraph_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"format", required_argument, 0, OPT_FORMAT},     {"title", required_argument, 0, OPT_TITLE},
      {"subtitle", required_argument, 0, OPT_SUBTITLE}, {"minwidth", required_argument, 0, OPT_MINWIDTH},
      {"width", required_argument, 0, OPT_WIDTH},       {"unit", required_argument, 0, OPT_UNIT},
      {"off-cpu", no_argument, 0, OPT_OFF_CPU},         {"help", no_argument, 0, 'h'},
      {"duration", required_argument, 0, OPT_DURATION}, {0, 0, 0, 0},
  };
  const char *input = NULL, *output = NULL, *live_opt = NULL;
  int format = -1;
  FlameOptions o = FLAME_OPTIONS_DEFAULT;
  FlameLive live = {.hz = 49};
  bool hz_set = false;
  double v;
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "i:o:f:p:F:d:D:vh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'i': input = optarg; break;
    case 'o': output = optarg; break;
    case 'f':
    case OPT_FORMAT:
      if ((format = flame_format_parse(optarg)) < 0) {
        diag_fatal("unknown format '%s': expected folded, svg or speedscope", optarg);
        return 1;
      }
      break;
    case OPT_TITLE: o.title = optarg; break;
    case OPT_SUBTITLE: o.subtitle = optarg; break;
    case OPT_MINWIDTH:
      if (!number_arg("--minwidth", optarg, 0, 100, &o.min_width_pct))
        return 1;
      break;
    case OPT_WIDTH:
      if (!number_arg("--width", optarg, 200, 100000, &v))
        return 1;
      o.width = (int)v;
      break;
    case OPT_UNIT:
      if (!strcmp(optarg, "samples"))
        o.unit = FLAME_SAMPLES;
      else if (!strcmp(optarg, "ns"))
        o.unit = FLAME_NANOSECONDS;
      else if (!strcmp(optarg, "us"))
        o.unit = FLAME_MICROSECONDS;
      else {
        diag_fatal("unknown unit '%s': expected samples, ns or us", optarg);
        return 1;
      }
      break;
    case 'p':
      if ((live.pid = pid_arg(optarg)) < 0)
        return 1;
      live_opt = "-p";
      break;
    case 'F':
      if (!number_arg("-F frequency", optarg, 1, 100000, &v))
        return 1;
      live.hz = (int)v;
      hz_set = true;
      live_opt = "-F";
      break;
    case 'd':
      if (!cmdline_old_duration("flamegraph", optarg, &live.seconds))
        return 1;
      live_opt = "-D";
      break;
    case 'D':
    case OPT_DURATION:
      if (!cmdline_seconds("duration", optarg, &live.seconds))
        return 1;
      live_opt = "-D";
      break;
    case OPT_OFF_CPU: /* with -i: the input is off-CPU time (palette, title) */
      live.off_cpu = o.off_cpu = true;
      break;
    case 'v': live.verbose = true; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 1;
    }
  }
  if (optind < argc && !input) /* a lone FILE: the input, as -i FILE */
    input = argv[optind++];
  if (optind < argc) {
    diag_fatal("unexpected argument '%s' (etrace flamegraph -h shows the usage)", argv[optind]);
    return 1;
  }
  if (!output) {
    diag_fatal("no output file: use -o FILE.svg, FILE.folded or FILE.speedscope.json");
    return 1;
  }
  if (format < 0 && (format = flame_format_from_path(output)) < 0) {
    diag_fatal("cannot tell the format of '%s' from its name: use -f folded, svg or "
               "speedscope, or a .svg, .folded or .speedscope.json file",
               output);
    return 1;
  }
  if (input && live_opt) {
    diag_fatal("%s is for live sampling: it does not apply to -i (a file of folded stacks)", live_opt);
    return 1;
  }
  if (live.off_cpu && hz_set) {
    diag_fatal("-F sets the on-CPU sampling frequency: it does not apply to --off-cpu");
    return 1;
  }

  if (!o.title && o.off_cpu)
    o.title = "Off-CPU Time Flame Graph";

  FlameProfile *p = flame_new();
  int rc = input ? read_folded(input, p) : flame_live_sample(&live, p, &o);
  if (rc == 0)
    rc = write_graph(p, output, format, &o);
  flame_free(p);
  return rc ? 1 : 0;
}
