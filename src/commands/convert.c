/* convert.c - `etrace convert DIR -f chrome|text [-o FILE]` (-f is also --to): a trace
 * written by etrace as Chrome Trace Event JSON (out/chrome.c) or as text,
 * one line per event in babeltrace2's default format:
 *
 *   [HH:MM:SS.NNNNNNNNN] (+S.NNNNNNNNN) HOST EVENT: { cpu_id = N }, { pid = P, tid = T }, { FIELDS }
 *
 * The output goes next to the trace (DIR.json, DIR.txt by default), never
 * inside it: babeltrace2 and Trace Compass read every file in a trace
 * directory as a stream.
 */
#include "commands/convert.h"
#include "etrace.h"
#include "formats/chrome.h"
#include "formats/ctfread.h"
#include "base/progress.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f) {
  fputs("USAGE:\n"
        "    etrace convert DIR -f chrome|text [-o FILE]\n"
        "\n"
        "Convert a trace recorded by `etrace record` (in DIR); options may come\n"
        "before or after DIR (-- ends them).  -f FORMAT is also spelled --to FORMAT:\n"
        "    -f chrome      Chrome Trace Event JSON, for Perfetto UI (ui.perfetto.dev)\n"
        "                   and chrome://tracing: process and thread names, system\n"
        "                   calls as slices on their thread, other events as instants\n"
        "    -f text        one line per event, as babeltrace2 prints them\n"
        "    -o FILE        where to write (default DIR.json or DIR.txt; - for stdout).\n"
        "                   Never inside DIR: readers take every file there for a stream.\n",
        f);
}

/* ------------------------------------------------------------ text */

static void text_str(FILE *f, const unsigned char *s, int n) {
  fputc('"', f);
  for (int i = 0; i < n; i++) {
    unsigned char c = s[i];
    switch (c) {
    case '\n': fputs("\\n", f); break;
    case '\t': fputs("\\t", f); break;
    case '\r': fputs("\\r", f); break;
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    default: fputc(c, f);
    }
  }
  fputc('"', f);
}

/* babeltrace2 spells hex fields in capitals, base 8 with a leading 0 */
static void text_int(FILE *f, const CtfrVal *v, int i) {
  if (v->f->oct)
    fprintf(f, "0%llo", (unsigned long long)ctfr_int(v, i));
  else
    ctfr_print_int(f, v, i, "0x%llX");
}

static void text_array(FILE *f, const CtfrVal *v) {
  fputs("[", f);
  for (int i = 0; i < v->count; i++) {
    fprintf(f, "%s [%d] = ", i ? "," : "", i);
    text_int(f, v, i);
  }
  fputs(" ]", f);
}

static int write_text(FILE *f, const CtfTrace *t) {
  int maxf = 1;
  for (int i = 0; i < t->nclasses; i++)
    if (t->classes[i].nfields > maxf)
      maxf = t->classes[i].nfields;
  CtfrVal *vals = malloc(sizeof *vals * maxf);
  uint64_t prev = 0;
  Progress pr;
  progress_begin(&pr, "converting", "events", t->nev);
  for (size_t i = 0; i < t->nev; i++) {
    const CtfrEvent *e = &t->ev[i];
    progress_step(&pr, i);
    int64_t real = (int64_t)e->ts + t->clock_offset_ns;
    time_t sec = (time_t)(real / 1000000000);
    long ns = (long)(real % 1000000000);
    if (ns < 0) {
      ns += 1000000000;
      sec--;
    }
    struct tm tm;
    localtime_r(&sec, &tm);
    fprintf(f, "[%02d:%02d:%02d.%09ld] ", tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
    if (i == 0)
      fputs("(+?.????????" "?) ", f); /* split: not a trigraph */
    else {
      uint64_t d = e->ts - prev;
      fprintf(f, "(+%llu.%09llu) ", (unsigned long long)(d / 1000000000),
              (unsigned long long)(d % 1000000000));
    }
    prev = e->ts;
    if (t->hostname)
      fprintf(f, "%s ", t->hostname);
    fprintf(f, "%s: { cpu_id = %u }, { pid = %d, tid = %d }", t->classes[e->id].name, e->cpu,
            e->pid, e->tid);
    int n = ctfr_fields(t, e, vals);
    if (n) {
      fputs(", { ", f);
      for (int k = 0; k < n; k++) {
        const CtfrVal *v = &vals[k];
        if (k)
          fputs(", ", f);
        if (v->f->kind == CTF_SEQ)
          fprintf(f, "_%s_length = %d, ", v->f->name, v->count);
        fprintf(f, "%s = ", v->f->name);
        switch (v->f->kind) {
        case CTF_INT:
          if (v->f->count)
            text_array(f, v);
          else
            text_int(f, v, 0);
          break;
        case CTF_SEQ: text_array(f, v); break;
        case CTF_TEXT:
        case CTF_STRING: text_str(f, v->data, v->count); break;
        }
      }
      fputs(" }", f);
    }
    fputc('\n', f);
  }
  progress_end(&pr);
  free(vals);
  return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------ main */

/* Is `path` (a file to create) inside directory `dir`? */
static bool inside(const char *path, const char *dir) {
  char rdir[PATH_MAX], rparent[PATH_MAX];
  if (!realpath(dir, rdir))
    return false;
  char *copy = strdup(path);
  char *slash = strrchr(copy, '/');
  const char *parent = slash ? (slash == copy ? "/" : (*slash = 0, copy)) : ".";
  bool in = false;
  if (realpath(parent, rparent)) {
    size_t n = strlen(rdir);
    in = !strncmp(rparent, rdir, n) && (rparent[n] == 0 || rparent[n] == '/');
  }
  free(copy);
  return in;
}

int convert_main(int argc, char **argv) {
  const char *dir = NULL, *to = NULL, *out = NULL;
  bool only_args = false;
  for (int i = 2; i < argc; i++) { /* options before or after DIR */
    const char *a = argv[i];
    if (!only_args && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
      usage(stdout);
      return 0;
    } else if (!only_args && !strcmp(a, "--")) {
      only_args = true;
    } else if (!only_args && (!strcmp(a, "--to") || !strcmp(a, "-f")) && i + 1 < argc) {
      to = argv[++i];
    } else if (!only_args && !strncmp(a, "--to=", 5)) {
      to = a + 5;
    } else if (!only_args && !strncmp(a, "-f", 2) && a[2]) {
      to = a + 2;
    } else if (!only_args && !strcmp(a, "-o") && i + 1 < argc) {
      out = argv[++i];
    } else if (!only_args && a[0] == '-' && a[1]) {
      diag_fatal("convert: unknown option '%s'", a);
      usage(stderr);
      return 1;
    } else if (!dir) {
      dir = a;
    } else {
      diag_fatal("convert: more than one trace directory ('%s', '%s')", dir, a);
      return 1;
    }
  }
  if (!dir || !to) {
    diag_fatal("convert: %s", !dir ? "no trace directory given" : "-f chrome or -f text is required");
    usage(stderr);
    return 1;
  }
  bool chrome = !strcmp(to, "chrome") || !strcmp(to, "json");
  if (!chrome && strcmp(to, "text")) {
    diag_fatal("convert: unknown format '%s': expected chrome or text", to);
    return 1;
  }
  /* DIR without trailing slashes: the default output is its sibling */
  char *base = strdup(dir);
  for (size_t n = strlen(base); n > 1 && base[n - 1] == '/'; n--)
    base[n - 1] = 0;
  char *def = NULL;
  if (!out) {
    size_t n = strlen(base) + 6;
    def = malloc(n);
    snprintf(def, n, "%s.%s", base, chrome ? "json" : "txt");
    out = def;
  }
  int rc = 1;
  FILE *f = NULL;
  bool to_stdout = !strcmp(out, "-");
  char err[1024];
  CtfTrace *t = ctfr_open(dir, err, sizeof err);
  if (!t) {
    fprintf(stderr, "%s\n", err);
    goto done;
  }
  if (!to_stdout && inside(out, dir)) {
    diag_fatal("convert: %s is inside the trace directory %s, where readers take every file "
               "for a stream: write it next to the trace", out, dir);
    goto done;
  }
  f = to_stdout ? stdout : fopen(out, "w");
  if (!f) {
    diag_fatal("convert: cannot create %s: %s", out, strerror(errno));
    goto done;
  }
  const char *slash = strrchr(base, '/');
  const char *name = slash && slash[1] ? slash + 1 : base;
  ChromeStats st;
  int w = chrome ? chrome_write(f, t, name, &st) : write_text(f, t);
  if (!to_stdout && fclose(f) != 0)
    w = -1;
  else if (to_stdout)
    fflush(stdout);
  f = NULL;
  if (w < 0) {
    diag_fatal("convert: cannot write %s: %s", out, strerror(errno));
    if (!to_stdout)
      unlink(out);
    goto done;
  }
  if (!to_stdout) {
    if (chrome)
      fprintf(stderr, "etrace: %zu events -> %s: %llu system-call slices, %llu instants, "
                      "%llu threads named\n", t->nev, out, (unsigned long long)st.slices,
              (unsigned long long)(st.instants + st.unmatched), (unsigned long long)st.threads);
    else
      fprintf(stderr, "etrace: %zu events -> %s\n", t->nev, out);
  }
  if (t->discarded)
    fprintf(stderr, "etrace: the trace reports %llu events discarded while recording\n",
            (unsigned long long)t->discarded);
  rc = 0;
done:
  ctfr_free(t);
  free(base);
  free(def);
  arena_free_all();
  return rc;
}
