/* hist.c - rendering of hist() and lhist() buckets, text and JSON.
 *
 * Bucket numbering (etrace.h, next to HIST_BUCKETS):
 *   hist:  0 holds v < 0, 1 holds 0, 2 + floor(log2(v)) holds v >= 1;
 *   lhist: 0 holds v < min, 1 + (v - min) / step for min <= v < max, and
 *          1 + (max - min) / step holds v >= max.
 * Only the buckets from the first to the last non-zero one are printed.
 * A text line is the label padded to 16 columns, the count right-aligned
 * in 8, then a bar of '@' scaled so the largest bucket fills 52 columns. */
#include "runtime/rt.h"

#include <string.h>

#define BAR_WIDTH 52

/* First and last non-zero bucket and the largest count; false if none. */
static bool nonzero_range(const uint64_t *counts, int n, int *first, int *last, uint64_t *max) {
  *first = *last = -1;
  *max = 0;
  for (int i = 0; i < n; i++) {
    if (counts[i]) {
      if (*first < 0)
        *first = i;
      *last = i;
    }
    if (counts[i] > *max)
      *max = counts[i];
  }
  return *first >= 0;
}

static void bucket_line(Buf *b, const char *label, uint64_t shown, uint64_t count, uint64_t max) {
  /* bpftrace computes the bar in single-precision float and truncates:
   * keep the same arithmetic so rounding matches (2 of 3 -> 34, not 35). */
  int width = (int)((float)count / (float)max * BAR_WIDTH);
  char bar[BAR_WIDTH + 1];
  memset(bar, '@', width);
  bar[width] = 0;
  buf_printf(b, "%-16s%8llu |%-*s|\n", label, (unsigned long long)shown, BAR_WIDTH, bar);
}

/* 2^power with a K/M/G/T/P/E suffix: 1, 512, 1K, 2M, ...  bpftrace 0.17
 * stops at T (its log2 never exceeds 2^32); beyond that we use P and E
 * like current bpftrace. */
static void pow2_label(char *out, size_t size, int power) {
  static const char suffix[] = "\0KMGTPE";
  int unit = power / 10;
  if (unit > 6)
    unit = 6;
  int rest = power - unit * 10;
  if (unit)
    snprintf(out, size, "%llu%c", 1ULL << rest, suffix[unit]);
  else
    snprintf(out, size, "%llu", 1ULL << rest);
}

static void hist_label(char *out, size_t size, int i) {
  if (i == 0) {
    snprintf(out, size, "(..., 0)");
  } else if (i == 1) {
    snprintf(out, size, "[0]");
  } else if (i == 2) {
    snprintf(out, size, "[1]");
  } else {
    char lo[32], hi[32];
    pow2_label(lo, sizeof lo, i - 2);
    pow2_label(hi, sizeof hi, i - 1);
    snprintf(out, size, "[%s, %s)", lo, hi);
  }
}

void rt_hist_text(Buf *b, const uint64_t *counts, int n, int64_t div) {
  int first, last;
  uint64_t max;
  if (div <= 0)
    div = 1;
  if (!nonzero_range(counts, n, &first, &last, &max))
    return;
  for (int i = first; i <= last; i++) {
    char label[80];
    hist_label(label, sizeof label, i);
    /* div divides the printed count but not the bar (as in bpftrace). */
    bucket_line(b, label, counts[i] / (uint64_t)div, counts[i], max);
  }
}

/* lhist bound: 0, exact multiples of 1M as "NM", of 1K as "NK". */
static void lhist_bound(char *out, size_t size, int64_t v) {
  if (v != 0 && v % (1 << 20) == 0)
    snprintf(out, size, "%lldM", (long long)(v / (1 << 20)));
  else if (v != 0 && v % 1024 == 0)
    snprintf(out, size, "%lldK", (long long)(v / 1024));
  else
    snprintf(out, size, "%lld", (long long)v);
}

int rt_lhist_buckets(const Type *val) {
  if (val->lh_step <= 0 || val->lh_max < val->lh_min)
    return 2;
  return (int)((val->lh_max - val->lh_min) / val->lh_step) + 2;
}

void rt_lhist_text(Buf *b, const uint64_t *counts, int n, const Type *val) {
  int first, last;
  uint64_t max;
  if (!nonzero_range(counts, n, &first, &last, &max))
    return;
  for (int i = first; i <= last; i++) {
    char label[96], lo[40], hi[40];
    if (i == 0) {
      lhist_bound(lo, sizeof lo, val->lh_min);
      snprintf(label, sizeof label, "(..., %s)", lo);
    } else if (i == n - 1) {
      lhist_bound(lo, sizeof lo, val->lh_max);
      snprintf(label, sizeof label, "[%s, ...)", lo);
    } else {
      lhist_bound(lo, sizeof lo, val->lh_min + (i - 1) * val->lh_step);
      lhist_bound(hi, sizeof hi, val->lh_min + i * val->lh_step);
      snprintf(label, sizeof label, "[%s, %s)", lo, hi);
    }
    /* lhist counts are never divided: bpftrace ignores print()'s div here. */
    bucket_line(b, label, counts[i], counts[i], max);
  }
}

void rt_hist_json(Buf *b, const uint64_t *counts, int n, int64_t div) {
  int first, last;
  uint64_t max;
  if (div <= 0)
    div = 1;
  buf_put(b, "[", 1);
  if (nonzero_range(counts, n, &first, &last, &max)) {
    for (int i = first; i <= last; i++) {
      if (i > first)
        buf_put(b, ", ", 2);
      if (i == 0) {
        buf_printf(b, "{\"max\": -1, ");
      } else if (i == 1) {
        buf_printf(b, "{\"min\": 0, \"max\": 0, ");
      } else {
        uint64_t lo = 1ULL << (i - 2);
        uint64_t hi = i - 1 >= 64 ? UINT64_MAX : (1ULL << (i - 1)) - 1;
        buf_printf(b, "{\"min\": %llu, \"max\": %llu, ", (unsigned long long)lo,
                   (unsigned long long)hi);
      }
      buf_printf(b, "\"count\": %llu}", (unsigned long long)(counts[i] / (uint64_t)div));
    }
  }
  buf_put(b, "]", 1);
}

void rt_lhist_json(Buf *b, const uint64_t *counts, int n, const Type *val) {
  int first, last;
  uint64_t max;
  buf_put(b, "[", 1);
  if (nonzero_range(counts, n, &first, &last, &max)) {
    for (int i = first; i <= last; i++) {
      if (i > first)
        buf_put(b, ", ", 2);
      if (i == 0)
        buf_printf(b, "{\"max\": %lld, ", (long long)(val->lh_min - 1));
      else if (i == n - 1)
        buf_printf(b, "{\"min\": %lld, ", (long long)val->lh_max);
      else
        buf_printf(b, "{\"min\": %lld, \"max\": %lld, ",
                   (long long)(val->lh_min + (i - 1) * val->lh_step),
                   (long long)(val->lh_min + i * val->lh_step - 1));
      buf_printf(b, "\"count\": %llu}", (unsigned long long)counts[i]);
    }
  }
  buf_put(b, "]", 1);
}
