/* export.h - etrace exporter: programs' maps as Prometheus metrics.
 *
 * The exporter compiles every program into ONE Compiled (one load, one
 * ring buffer, one event loop).  Before sema, each program's AST is
 * rewritten (rewrite.c):
 *   - maps of the second and later programs get an internal name
 *     ("@x__etrace_p2") so that programs never share a map;
 *   - every hist()/lhist() map gets a companion sum() map fed the same
 *     value ("@x__etrace_sum"), cleared/zeroed/deleted with it: the
 *     Prometheus histogram's _sum;
 *   - exit() is a located error (it would stop the exporter).
 * After sema, metrics.c gives each user map a family name, labels named
 * after its key expressions and a HELP line, and writes them at each
 * scrape from the per-CPU maps merged. */
#ifndef ETRACE_EXPORT_H
#define ETRACE_EXPORT_H

#include "etrace.h"
#include "formats/prometheus.h"

#define EXPORT_MAX_KEYS 16

typedef struct ExportProgram {
  const char *name;      /* the file as given, or "-e" */
  Source src;
  char *file_text;       /* malloc'd */
  Program *prog;
  Probe *first;          /* its probes in the merged program: first, count */
  int nprobes;
} ExportProgram;

/* An internal map name and where it came from. */
typedef struct ExportName {
  char *internal;        /* as sema sees it */
  char *orig;            /* as written: "@x" */
  int prog;
  bool is_sum;           /* the companion of orig's hist/lhist */
} ExportName;

typedef struct ExportMap {
  const MapInfo *m;
  const MapInfo *sum;    /* hist/lhist: the companion sum map */
  int prog;
  const char *orig;
  char *family;
  char *avg_family;      /* stats(): the average's gauge, NAME_avg */
  char *help;
  const char *labels[EXPORT_MAX_KEYS];
  int nlabels;           /* key fields of m */
  const char *skip;      /* why the map is not exported, or NULL */
  int lo, hi;            /* hist/lhist: buckets written so far (a window that
                            only grows, so each series keeps its buckets) */
} ExportMap;

typedef struct Exporter {
  ExportProgram *progs;
  int nprogs;
  const char *prefix;
  bool stacks;           /* --stacks: export stack-keyed maps */
  bool bpf_stats;        /* --bpf-stats: run-time accounting held on by an fd
                            (the sysctl does not show it) */
  ExportName *names;
  int nnames;
  Compiled *c;
  ProgramTypes *types;   /* the programs' C types (kept while they run) */
  ExportMap *maps;
  int nmaps;
  int drops_fd;          /* the per-CPU drop counters (load.c) */
  /* scratch reused by every scrape */
  Buf labels;
  uint64_t *percpu;
  double last_scrape_s;
  uint64_t scrapes;
} Exporter;

/* rewrite.c */
int export_check_program(const Program *p);          /* -1 after located errors */
void export_rewrite(Exporter *x, Program *p, int prog);
Node *export_defining_node(const Program *p, const char *internal);
const char *export_label_name(const Node *key);       /* NULL: keyN */

/* metrics.c */
int export_build(Exporter *x);      /* after sema: families, labels; -1 on a clash */
void export_scrape(Exporter *x, PromFormat f, Buf *out);
void export_index_html(const Exporter *x, Buf *out);

#endif
