/* harness.h - unit tests for src/runtime: real BPF maps filled from user space,
 * printed by the runtime, compared with what bpftrace 0.17 printed.
 *
 * Each case names the bpftrace program it mirrors.  tests/output/rt/record.sh runs
 * that program under the installed bpftrace and stores its output (minus
 * the "Attaching N probes..." line) in tests/output/rt/expected/NAME.txt; the case
 * function performs the same map updates and printing through etrace's
 * runtime, and run.sh diffs the two.  Cases whose expected text cannot come
 * from bpftrace 0.17 (where etrace deliberately follows current bpftrace or
 * C) are marked MANUAL and their expected files are written by hand. */
#ifndef RT_HARNESS_H
#define RT_HARNESS_H

#include "etrace.h"
#include "runtime/rt.h"

typedef enum {
  MODE_TEXT,    /* bpftrace -e PROG */
  MODE_JSON,    /* bpftrace -f json -e PROG */
  MODE_CHECK,   /* printf's compile-time check: the text after "ERROR: " in
                 * bpftrace's stderr, or "(ok)" */
} Mode;

typedef struct Case {
  const char *name;
  Mode mode;
  bool manual;        /* expected file written by hand: etrace deliberately
                       * differs from 0.17 here (the case says why) */
  const char *prog;   /* the bpftrace program the case mirrors */
  void (*fn)(void);
} Case;

/* Table rows. */
#define TEXT(name, prog) {#name, MODE_TEXT, false, prog, name}
#define JSON(name, fn, prog) {#name, MODE_JSON, false, prog, fn}
#define CHECK(name, prog) {#name, MODE_CHECK, false, prog, name}
#define MANUAL(name, mode, prog) {#name, mode, true, prog, name}

extern const Case cases_maps[], cases_hist[], cases_printf[], cases_values[];

/* The output every case writes to (stdout, TEXT or JSON per the mode). */
extern Output out;

/* Maps: created as BPF maps (per-CPU for aggregations), registered in the
 * Compiled that `out` points at. key NULL means a scalar map (@x). */
MapInfo *map_new(const char *name, Type *key, Type *val);
Type *agg(TypeKind kind, bool is_signed);
Type *lhist_type(int64_t min, int64_t max, int64_t step);
Type *tuple(int n, ...);        /* Type * fields */
Type *buf_type(int cap);        /* buf(): u64 length + cap bytes */
Type *ty8(TypeKind kind);       /* an 8-byte TY_USERNAME, TY_PROBE, ... */
Type *timestamp_type(const char *fmt);

/* A key for m: one argument per key field: int64_t for integers (wrap
 * literals in I()), const char * for strings, a pointer to value() bytes
 * for a nested tuple, (const char *, int64_t length) for a buf.  Scalar
 * maps take no arguments. */
unsigned char *key(MapInfo *m, ...);

/* Aggregation updates, spread over the possible CPUs to test merging. */
void count(MapInfo *m, const void *k, int times);
void sum(MapInfo *m, const void *k, int64_t v);
void min_(MapInfo *m, const void *k, int64_t v);
void max_(MapInfo *m, const void *k, int64_t v);
void avg(MapInfo *m, const void *k, int64_t v);   /* also stats() */
void hist(MapInfo *m, const void *k, int64_t v);  /* hist() or lhist() */
/* A plain value: the bytes at val (m->val_size of them). */
void set(MapInfo *m, const void *k, const void *val);

/* A zeroed buffer of t->size bytes with its fields set, one argument per
 * field as for key(). */
unsigned char *value(const Type *t, ...);

/* A printf record: args is the tuple of argument types (NULL: none), then
 * one value per argument as for key(). */
void pf(const char *fmt, Type *args, ...);
/* printf's compile-time check of fmt against n argument types. */
void check(const char *fmt, int n, ...);

void probe_names(int n, ...);    /* Compiled.probe_names */
void finish(void);               /* the end of a run: rt_print_all_maps */

#define I(x) ((int64_t)(x))

#endif
