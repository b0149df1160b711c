/* flame.h - stack samples and the flame-graph writers.
 *
 * The model: stacks are added one at a time, each a list of frame names
 * from the root (outermost caller) to the leaf, with a count (samples, or
 * time for off-CPU profiles).  They are merged as they come into a tree
 * whose nodes are (parent, frame name) pairs: a node's `total` is the
 * count of every stack passing through it, its `self` the count of the
 * stacks that end there.  Identical stacks therefore merge, and each node
 * with self > 0 is one distinct stack of the input.
 *
 * Frame names are kept verbatim.  By convention (perf's and
 * stackcollapse's), a kernel frame's name ends in "_[k]": the live mode
 * appends it to kernel symbols, the SVG colours such frames apart, and the
 * folded and speedscope files carry it unchanged.  A name cannot contain
 * ';' (the folded separator) nor a newline, nor end in a blank: names are
 * stored with ';' replaced by ':', '\r' and '\n' by ' ', trailing blanks
 * cut, and "[unknown]" for a name left empty (flame_sanitize_frame does
 * the same for callers who format folded lines themselves, except the
 * last step).  So whatever was added, the folded output reads back as the
 * same profile.
 *
 * Writers:
 *   folded      "frame;frame;frame COUNT" lines, Brendan Gregg's format, one
 *               per distinct stack, in tree order (a depth-first walk with
 *               siblings in byte order, a stack before its extensions), so
 *               a file in that order reads back and writes out unchanged.
 *   svg         one self-contained interactive SVG (embedded CSS and
 *               script, nothing fetched): zoom on click, reset zoom, search
 *               by regular expression with highlighting and the matched
 *               percentage, a title per frame with its count and share.
 *               Frames narrower than `min_width_pct` of the whole are left
 *               out (their count stays in their parent's width) and the
 *               graph says how many were elided.
 *   speedscope  the speedscope file format, one "sampled" profile: each
 *               distinct stack is a sample, its count the weight.
 *
 * Live sampling (`etrace flamegraph -p/-F/-d/--off-cpu`) goes through
 * flame_live_sample() in src/flame_live.c, the one place to wire a
 * profiling program to this model.
 */
#ifndef ETRACE_FLAME_H
#define ETRACE_FLAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FLAME_KERNEL_SUFFIX "_[k]"

/* The deepest stack kept, in frames (perf and BPF stop at 127): deeper
 * folded lines are an error, and flame_add_stack keeps the outermost
 * FLAME_MAX_DEPTH - 1 frames and a last one named "[truncated]". */
#define FLAME_MAX_DEPTH 4096
#define FLAME_MAX_DEPTH_STR "4096"

typedef struct FlameNode FlameNode;
struct FlameNode {
  const char *name;        /* interned: equal names are equal pointers */
  uint64_t total;          /* count of the stacks through this node */
  uint64_t self;           /* count of the stacks ending here */
  int depth;               /* the root ("all") is 0 */
  FlameNode *parent;
  FlameNode **kids;        /* sorted by name after flame_sort() */
  int nkids, kidcap;
};

typedef struct FlameProfile FlameProfile;  /* opaque: flame.c */

typedef enum { FLAME_FOLDED, FLAME_SVG, FLAME_SPEEDSCOPE } FlameFormat;

/* What a count measures: sampled stacks, or time (off-CPU). */
typedef enum { FLAME_SAMPLES, FLAME_NANOSECONDS, FLAME_MICROSECONDS } FlameUnit;

typedef struct FlameOptions {
  const char *title;       /* NULL: "Flame Graph" (speedscope: the profile name) */
  const char *subtitle;    /* NULL: none (e.g. "etrace flamegraph -F 99 -D 5") */
  FlameUnit unit;
  bool off_cpu;            /* SVG: the cool palette for off-CPU time */
  double min_width_pct;    /* SVG: elide frames narrower (0 keeps all); 0.1 */
  int width;               /* SVG: image width in pixels; 1200 */
} FlameOptions;

#define FLAME_OPTIONS_DEFAULT {.min_width_pct = 0.1, .width = 1200}

/* ------------------------------------------------------------- flame.c */

FlameProfile *flame_new(void);
void flame_free(FlameProfile *p);

/* Add `count` samples of the stack frames[0..n), root first.  An empty
 * stack (n == 0: none could be read) counts as the one frame "[unknown]";
 * one deeper than FLAME_MAX_DEPTH is cut (see above).
 * Names are copied (sanitised: see above). */
void flame_add_stack(FlameProfile *p, const char *const *frames, int n, uint64_t count);

/* Why a folded line was rejected: the 1-based column, and a message. */
typedef struct FlameError {
  int col;
  char msg[160];
} FlameError;

/* Add one folded line, "f1;f2;...;fN COUNT" (no newline; a trailing '\r'
 * is ignored, a blank line adds nothing).  Returns 0, or -1 and fills err
 * when the line is not a stack and a count. */
int flame_add_folded(FlameProfile *p, const char *line, size_t len, FlameError *err);

/* Replace the characters a folded name cannot hold, in place. */
void flame_sanitize_frame(char *name);

/* The tree.  flame_sort() orders every node's children by name (writers
 * call it; call it before walking the tree yourself). */
const FlameNode *flame_root(const FlameProfile *p);
void flame_sort(FlameProfile *p);
uint64_t flame_total(const FlameProfile *p);    /* == flame_root()->total */
int flame_max_depth(const FlameProfile *p);
bool flame_is_kernel(const char *name);          /* ends in FLAME_KERNEL_SUFFIX */

/* Output formats by name ("folded", "svg", "speedscope") or by a file
 * name's suffix (.folded, .svg, .speedscope.json, .json).  -1: unknown. */
int flame_format_parse(const char *name);
int flame_format_from_path(const char *path);
const char *flame_format_name(FlameFormat f);

/* Write the profile in format f.  Returns 0, or -1 if writing failed
 * (errno set by stdio). */
int flame_write(FlameProfile *p, FlameFormat f, const FlameOptions *o, FILE *out);

/* The writers flame_write() dispatches to (flame_folded.c, flame_svg.c,
 * flame_speedscope.c). */
void flame_write_folded(FlameProfile *p, FILE *out);
void flame_write_svg(FlameProfile *p, const FlameOptions *o, FILE *out);
void flame_write_speedscope(FlameProfile *p, const FlameOptions *o, FILE *out);

/* Text escaping shared by the writers.  Bytes that are not valid UTF-8,
 * and control characters but tab, become '?' (XML 1.0 and JSON allow
 * neither raw); JSON escapes a tab. */
void flame_put_xml(FILE *out, const char *s);
void flame_put_json(FILE *out, const char *s);

/* ------------------------------------------------------- flame_live.c */

/* `etrace flamegraph` without -i: sample the running system. */
typedef struct FlameLive {
  int pid;                 /* 0: every process */
  int hz;                  /* on-CPU sampling frequency (-F), default 49 */
  double seconds;          /* -d; 0: until Ctrl-C */
  bool off_cpu;            /* --off-cpu: time blocked, by stack */
  bool verbose;            /* -v */
} FlameLive;

/* Fill p with the stacks seen (kernel frames named with
 * FLAME_KERNEL_SUFFIX, counts in o->unit, which it may set) and return 0,
 * or report an error (diag_fatal) and return -1. */
int flame_live_sample(const FlameLive *l, FlameProfile *p, FlameOptions *o);

#endif
