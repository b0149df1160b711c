/* rt.h - runtime helpers shared inside src/rt/ and with the event loop.
 *
 * etrace.h declares the module's public entry points (rt_print_map,
 * rt_format_value, rt_printf, ...).  This header adds what the event loop
 * needs on top of them to print records the way bpftrace does, plus the
 * pieces the printing files share with each other. */
#ifndef ETRACE_RT_H
#define ETRACE_RT_H

#include "etrace.h"

/* ------------------------------------------------------------ format.c */

/* Names for TY_PROBE values (Compiled.probe_names).  Every function taking
 * an Output sets them from o->c; call this when formatting without one. */
void rt_set_probe_names(char *const *names, int n);

/* Spaces before each frame of a stack in bpftrace mode: 8, and 4 while
 * map keys are formatted (maps.c sets it). */
extern int rt_stack_indent;

/* Append s[0..n) as a JSON string literal, quotes included, escaped the
 * way bpftrace escapes (\" \\ \n \r \t, other control bytes as \u00XX). */
void rt_json_string(Buf *b, const char *s, size_t n);

/* print(value): "TEXT\n", or {"type": "value", "data": JSON} in JSON. */
void rt_emit_value(Output *o, const Type *t, const void *data);
/* -k/-kk: a failed helper call (helper_error.c) */
void rt_helper_error(Output *o, int helper, int64_t retcode, uint64_t where);

/* A message record (printf, time, cat, join, ...): the text as is, or
 * {"type": "<type>", "data": "<escaped text>"} on one line in JSON. */
void rt_emit_text(Output *o, const char *type, const char *s, size_t n);

/* The lost-event counters behind fd (a program's .drops map, drops.c):
 * totals by enum Drop, and, when per_cpu is given, the ring buffer's
 * losses of CPUs 0..ncpu-1.  false (all zero) when they cannot be read. */
bool rt_drops_read(int fd, uint64_t totals[3], uint64_t *per_cpu, int ncpu);

/* bpftrace's runtime environment variables (env.c) */
long rt_cat_bytes_max(void); /* BPFTRACE_CAT_BYTES_MAX, or its default */

/* buf() value as text.  mode 'r': printable ASCII kept, other bytes \xNN
 * (print() and %r); 'x': every byte \xNN (%rx); 'h': "61 62 63" (%rh). */
void rt_format_buf(Buf *b, const Type *t, const void *data, char mode);

/* Signed or unsigned 64-bit view of an integer slot, normalised to the
 * declared width (int_size) the way C converts to that type. */
int64_t rt_int_value(const Type *t, const void *data);

/* ------------------------------------------------------------ printf.c */

/* rt_printf_check for printf-like calls other than printf: messages start
 * with func ("system: Not enough arguments ..."), as bpftrace's do. */
const char *rt_format_check(const char *func, const char *fmt, Type **args, int nargs);

/* printf(fmt, args...) record -> text or JSON message line. */
void rt_emit_printf(Output *o, const char *fmt, const Type *args, const void *data);

/* ---------------------------------------------------------- btfprint.c */

/* A kernel object (record type rec: its BTF and id; `size` bytes at data) as bpftrace
 * prints records: "{ .a = 1, .b = { .c = 2 }, .name = bash }", or as a
 * JSON object. */
void rt_object_text(Buf *b, const Type *rec, const void *data, int size, bool json);
/* The same object inside a map key: {.a=1,.b=0x0} */
void rt_object_key_text(Buf *b, const Type *rec, const void *data, int size);
/* libbpf's typed dump (btf_dump__dump_type_data) of `full` bytes, of which
 * the first `size` were copied; a note follows when size < full. */
int rt_object_dump(Buf *b, const Type *rec, const void *data, int size, int full,
                   bool compact);

/* ----------------------------------------------------------- mapread.c */

/* One user-visible map element after the per-CPU merge. */
typedef struct MapEntry {
  unsigned char *key;     /* user key bytes (ukey_size), without a bucket */
  unsigned char *val;     /* plain maps: the value (val_size bytes) */
  uint64_t num;           /* count/sum/min/max: merged value (two's compl.) */
  int64_t sum, count;     /* avg/stats: merged sum and count */
  uint64_t *buckets;      /* hist/lhist: nbuckets counts */
  uint64_t total;         /* hist/lhist: sum of the buckets */
} MapEntry;

typedef struct MapData {
  MapEntry *e;
  int n;
  int ukey_size;          /* bytes of the user key in each entry */
  int nbuckets;           /* hist/lhist */
  /* storage the entries point into */
  unsigned char *keys, *vals;
  uint64_t *buckets;
} MapData;

/* Read every element of m (merging per-CPU values; grouping hist buckets
 * by key).  Returns 0, or -errno with d empty. */
int rt_map_read(const MapInfo *m, MapData *d);
void rt_map_data_free(MapData *d);
/* The stored keys of m (rt_map_key_size bytes each), malloc'd. */
int rt_map_keys(const MapInfo *m, unsigned char **keys, int *n);
int rt_map_key_size(const MapInfo *m);   /* full stored key */
int rt_map_val_size(const MapInfo *m);   /* one CPU's value */
int rt_ncpus(void);             /* libbpf_num_possible_cpus(), cached */
int rt_lhist_buckets(const Type *val);  /* (max - min) / step + 2 */

/* --------------------------------------------------------------- hist.c */

/* The bucket lines of one histogram (text), or its JSON array. */
void rt_hist_text(Buf *b, const uint64_t *counts, int n, int64_t div);
void rt_lhist_text(Buf *b, const uint64_t *counts, int n, const Type *val);
void rt_hist_json(Buf *b, const uint64_t *counts, int n, int64_t div);
void rt_lhist_json(Buf *b, const uint64_t *counts, int n, const Type *val);

#endif
