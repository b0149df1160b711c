/* cases_hist.c - hist() and lhist() rendering: labels, suffixes, bars,
 * trimming, keyed histograms.  Expected output: bpftrace 0.17. */
#include "harness.h"

#define S64 ty_s64
#define HIST agg(TY_HIST, true)

static void hist_basic(void) {
  MapInfo *h = map_new("@h", NULL, HIST);
  int64_t vals[] = {5, 0, -1, 1000, 1, 1};
  for (int i = 0; i < 6; i++)
    hist(h, key(h), vals[i]);
  finish();
}
#define P_HIST_BASIC                                                            \
  "BEGIN { @h = hist(5); @h = hist(0); @h = hist(-1); @h = hist(1000); "        \
  "@h = hist(1); @h = hist(1); exit(); }"

static void hist_suffixes(void) {
  MapInfo *g = map_new("@g", NULL, HIST);
  MapInfo *k = map_new("@k", NULL, HIST);
  int64_t gv[] = {1 << 30, (1LL << 31) + 5, 1 << 20, 1024 * 1023, 1 << 20};
  for (int i = 0; i < 5; i++)
    hist(g, key(g), gv[i]);
  int64_t kv[] = {1024, 2047, 4096};
  for (int i = 0; i < 3; i++)
    hist(k, key(k), kv[i]);
  finish();
}
#define P_HIST_SUFFIXES                                                         \
  "BEGIN { @g = hist(1 << 30); @g = hist((1 << 31) + 5); @g = hist(1 << 20); "  \
  "@g = hist(1024 * 1023); @g = hist(1 << 20); @k = hist(1024); "               \
  "@k = hist(2047); @k = hist(4096); exit(); }"

static void hist_single(void) {
  MapInfo *a = map_new("@a", NULL, HIST);
  MapInfo *b = map_new("@b", NULL, HIST);
  MapInfo *c = map_new("@c", NULL, HIST);
  MapInfo *d = map_new("@d", NULL, HIST);
  hist(a, key(a), 7);
  hist(b, key(b), 0);
  hist(c, key(c), -5);
  hist(d, key(d), 1);
  finish();
}
#define P_HIST_SINGLE                                                           \
  "BEGIN { @a = hist(7); @b = hist(0); @c = hist(-5); @d = hist(1); exit(); }"

/* Bars are count / max * 52 in float, truncated: 1, 2, 3, 7 of 11. */
static void hist_bars(void) {
  MapInfo *h = map_new("@h", NULL, HIST);
  hist(h, key(h), 1);
  hist(h, key(h), 2);
  hist(h, key(h), 2);
  for (int i = 0; i < 3; i++)
    hist(h, key(h), 4);
  for (int i = 0; i < 7; i++)
    hist(h, key(h), 8);
  for (int i = 0; i < 11; i++)
    hist(h, key(h), 64);
  finish();
}
#define P_HIST_BARS                                                             \
  "BEGIN { @h = hist(1); @h = hist(2); @h = hist(2); unroll(3) { @h = hist(4); } " \
  "unroll(7) { @h = hist(8); } unroll(11) { @h = hist(64); } exit(); }"

/* Keyed hists sort by total count; ties keep raw key byte order. */
static void hist_keys(void) {
  MapInfo *h = map_new("@h", S64, HIST);
  MapInfo *s = map_new("@s", ty_str(64), HIST);
  hist(h, key(h, I(1)), 1);
  hist(h, key(h, I(256)), 1);
  hist(h, key(h, I(2)), 1);
  hist(h, key(h, I(3)), 1);
  hist(h, key(h, I(3)), 2);
  hist(s, key(s, "b"), 10);
  hist(s, key(s, "a"), 100);
  hist(s, key(s, "a"), 100);
  finish();
}
#define P_HIST_KEYS                                                             \
  "BEGIN { @h[1] = hist(1); @h[256] = hist(1); @h[2] = hist(1); @h[3] = hist(1); " \
  "@h[3] = hist(2); @s[\"b\"] = hist(10); @s[\"a\"] = hist(100); "              \
  "@s[\"a\"] = hist(100); exit(); }"

/* More stored elements (key, bucket) than the map's max_entries keys:
 * all of them must be read. */
static void hist_many_elements(void) {
  MapInfo *h = map_new("@h", S64, HIST);
  h->max_entries = 2;
  hist(h, key(h, I(1)), 1);
  hist(h, key(h, I(1)), 1 << 20);
  hist(h, key(h, I(2)), 0);
  hist(h, key(h, I(2)), 1 << 30);
  finish();
}
#define P_HIST_MANY_ELEMENTS                                                    \
  "BEGIN { @h[1] = hist(1); @h[1] = hist(1 << 20); @h[2] = hist(0); "           \
  "@h[2] = hist(1 << 30); exit(); }"

static void lhist_basic(void) {
  MapInfo *l = map_new("@l", NULL, lhist_type(0, 100, 10));
  MapInfo *k = map_new("@k", S64, lhist_type(0, 100, 10));
  hist(l, key(l), 5);
  hist(l, key(l), -5);
  hist(l, key(l), 150);
  hist(k, key(k, I(1)), 20);
  finish();
}
#define P_LHIST_BASIC                                                           \
  "BEGIN { @l = lhist(5, 0, 100, 10); @l = lhist(-5, 0, 100, 10); "             \
  "@l = lhist(150, 0, 100, 10); @k[1] = lhist(20, 0, 100, 10); exit(); }"

/* K/M bounds, trimming, a range not divisible by the step. */
static void lhist_labels(void) {
  MapInfo *a = map_new("@a", NULL, lhist_type(0, 4096, 1024));
  MapInfo *b = map_new("@b", NULL, lhist_type(10, 30, 5));
  MapInfo *c = map_new("@c", NULL, lhist_type(0, 3145728, 1048576));
  MapInfo *d = map_new("@d", NULL, lhist_type(0, 25, 10));
  MapInfo *e = map_new("@e", NULL, lhist_type(1024, 2048, 512));
  MapInfo *f = map_new("@f", NULL, lhist_type(0, 10, 1));
  hist(a, key(a), 1500);
  hist(a, key(a), 5000);
  int64_t bv[] = {12, 3, 27, 27, 27};
  for (int i = 0; i < 5; i++)
    hist(b, key(b), bv[i]);
  hist(c, key(c), 2097152);
  hist(d, key(d), 22);
  hist(d, key(d), 26);
  hist(e, key(e), 1536);
  int64_t fv[] = {5, 5, 6, 4, 4, 4};
  for (int i = 0; i < 6; i++)
    hist(f, key(f), fv[i]);
  finish();
}
#define P_LHIST_LABELS                                                          \
  "BEGIN { @a = lhist(1500, 0, 4096, 1024); @a = lhist(5000, 0, 4096, 1024); "   \
  "@b = lhist(12, 10, 30, 5); @b = lhist(3, 10, 30, 5); @b = lhist(27, 10, 30, 5); " \
  "@b = lhist(27, 10, 30, 5); @b = lhist(27, 10, 30, 5); "                       \
  "@c = lhist(2097152, 0, 3145728, 1048576); @d = lhist(22, 0, 25, 10); "        \
  "@d = lhist(26, 0, 25, 10); @e = lhist(1536, 1024, 2048, 512); "               \
  "@f = lhist(5, 0, 10, 1); @f = lhist(5, 0, 10, 1); @f = lhist(6, 0, 10, 1); "  \
  "@f = lhist(4, 0, 10, 1); @f = lhist(4, 0, 10, 1); @f = lhist(4, 0, 10, 1); "  \
  "exit(); }"

/* Values past 2^32: 0.17's log2 stops at 32 bits and lumps them into
 * [2G, 4G); etrace buckets all 64 bits like current bpftrace, with T, P
 * and E suffixes.  Manual expected file. */
static void hist_huge(void) {
  MapInfo *a = map_new("@a", NULL, HIST);
  MapInfo *b = map_new("@b", NULL, HIST);
  MapInfo *c = map_new("@c", NULL, HIST);
  hist(a, key(a), 1LL << 40);
  hist(a, key(a), (1LL << 42) + 1);
  hist(b, key(b), 1LL << 50);
  hist(c, key(c), 1LL << 62);
  hist(c, key(c), INT64_MAX);
  finish();
}

const Case cases_hist[] = {
  TEXT(hist_basic, P_HIST_BASIC),
  JSON(hist_basic_json, hist_basic, P_HIST_BASIC),
  TEXT(hist_suffixes, P_HIST_SUFFIXES),
  /* Manual: recorded from 0.17, then its [2G, 4G) bucket corrected from
   * {"min": -2147483648, "max": 0} (a 32-bit int overflow in 0.17). */
  {"hist_suffixes_json", MODE_JSON, true, P_HIST_SUFFIXES, hist_suffixes},
  TEXT(hist_single, P_HIST_SINGLE),
  JSON(hist_single_json, hist_single, P_HIST_SINGLE),
  TEXT(hist_bars, P_HIST_BARS),
  TEXT(hist_keys, P_HIST_KEYS),
  JSON(hist_keys_json, hist_keys, P_HIST_KEYS),
  TEXT(hist_many_elements, P_HIST_MANY_ELEMENTS),
  TEXT(lhist_basic, P_LHIST_BASIC),
  JSON(lhist_basic_json, lhist_basic, P_LHIST_BASIC),
  TEXT(lhist_labels, P_LHIST_LABELS),
  JSON(lhist_labels_json, lhist_labels, P_LHIST_LABELS),
  MANUAL(hist_huge, MODE_TEXT, NULL),
  {0},
};
