/* prometheus.h - the Prometheus exposition formats, written into a Buf.
 *
 * Two formats share one writer: the text format 0.0.4 and OpenMetrics
 * 1.0.  They differ in a few places, all handled here:
 *   - a counter family is declared as NAME_total in the text format and
 *     as NAME in OpenMetrics; its samples are NAME_total in both, so
 *     Prometheus stores the same series whichever format it negotiated;
 *   - HELP text escapes backslash and newline (text) and also '"' (OM);
 *   - OpenMetrics ends with "# EOF".
 * Histogram bounds are written as floats ("127.0") in both, so a series
 * keeps its labels whichever format Prometheus negotiated.
 * Label values are escaped (\\, \", \n) and made valid UTF-8 (a byte that
 * does not start a valid sequence becomes U+FFFD). */
#ifndef ETRACE_PROMETHEUS_H
#define ETRACE_PROMETHEUS_H

#include "etrace.h"

typedef enum { PROM_TEXT, PROM_OPENMETRICS } PromFormat;
typedef enum { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_SUMMARY } PromType;

typedef struct PromLabel {
  const char *name;
  const char *value;
  size_t len;
} PromLabel;

/* The format a scraper's Accept header asks for (NULL: text). */
PromFormat prom_negotiate(const char *accept);
const char *prom_content_type(PromFormat f);

/* "# HELP" (when help is not NULL) and "# TYPE" lines of one family. */
void prom_family(Buf *b, PromFormat f, const char *name, PromType t, const char *help);

/* One sample line: NAME SUFFIX {labels, le="..."} VALUE.  suffix may be
 * NULL ("_total", "_bucket", "_sum", "_count"); le is a bucket bound as
 * an integer (le_inf: "+Inf") and is written only when has_le is set. */
typedef struct PromBound {
  bool has_le, le_inf;
  int64_t le;
} PromBound;
void prom_sample(Buf *b, PromFormat f, const char *name, const char *suffix,
                 const PromLabel *labels, int nlabels, PromBound le, const char *value);

void prom_end(Buf *b, PromFormat f);   /* "# EOF" in OpenMetrics */

/* Names: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, no ':' for labels. */
bool prom_valid_metric_name(const char *s);
bool prom_valid_label_name(const char *s);

#endif
