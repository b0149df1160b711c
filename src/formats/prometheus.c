/* prometheus.c - text format 0.0.4 and OpenMetrics 1.0 writer (see
 * prometheus.h for where the two differ). */
#define _GNU_SOURCE /* strcasestr, memmem */
#include "formats/prometheus.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

PromFormat prom_negotiate(const char *accept) {
  if (!accept)
    return PROM_TEXT;
  /* Prometheus asks "application/openmetrics-text;version=1.0.0,...;
   * text/plain;version=0.0.4;q=0.5": any OpenMetrics entry not refused
   * with q=0 wins. */
  const char *p = accept;
  while ((p = strcasestr(p, "application/openmetrics-text"))) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *q = memmem(p, n, "q=", 2);
    if (!q || strtod(q + 2, NULL) > 0)
      return PROM_OPENMETRICS;
    p += n;
  }
  return PROM_TEXT;
}

const char *prom_content_type(PromFormat f) {
  return f == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                               : "text/plain; version=0.0.4; charset=utf-8";
}

static const char *type_name(PromType t) {
  switch (t) {
  case PROM_COUNTER: return "counter";
  case PROM_HISTOGRAM: return "histogram";
  case PROM_SUMMARY: return "summary";
  default: return "gauge";
  }
}

void prom_family(Buf *b, PromFormat f, const char *name, PromType t, const char *help) {
  const char *suffix = t == PROM_COUNTER && f == PROM_TEXT ? "_total" : "";
  if (help) {
    buf_printf(b, "# HELP %s%s ", name, suffix);
    for (const char *p = help; *p; p++) {
      if (*p == '\\')
        buf_put(b, "\\\\", 2);
      else if (*p == '\n')
        buf_put(b, "\\n", 2);
      else if (*p == '"' && f == PROM_OPENMETRICS)
        buf_put(b, "\\\"", 2);
      else
        buf_put(b, p, 1);
    }
    buf_put(b, "\n", 1);
  }
  buf_printf(b, "# TYPE %s%s %s\n", name, suffix, type_name(t));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static int utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  int len;
  unsigned min;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4, min = 0x10000;
  else
    return 0;
  if (n < (size_t)len)
    return 0;
  unsigned cp = c & (0x7f >> len);
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

static void label_value(Buf *b, const char *v, size_t n) {
  const unsigned char *s = (const unsigned char *)v;
  size_t i = 0;
  while (i < n) {
    if (s[i] == '\\') {
      buf_put(b, "\\\\", 2);
      i++;
    } else if (s[i] == '"') {
      buf_put(b, "\\\"", 2);
      i++;
    } else if (s[i] == '\n') {
      buf_put(b, "\\n", 2);
      i++;
    } else {
      int len = utf8_len(s + i, n - i);
      if (len) {
        buf_put(b, s + i, len);
        i += len;
      } else {
        buf_put(b, "\xef\xbf\xbd", 3); /* U+FFFD */
        i++;
      }
    }
  }
}

void prom_sample(Buf *b, PromFormat f, const char *name, const char *suffix,
                 const PromLabel *labels, int nlabels, PromBound le, const char *value) {
  buf_put(b, name, strlen(name));
  if (suffix)
    buf_put(b, suffix, strlen(suffix));
  if (nlabels || le.has_le) {
    buf_put(b, "{", 1);
    for (int i = 0; i < nlabels; i++) {
      if (i)
        buf_put(b, ",", 1);
      buf_printf(b, "%s=\"", labels[i].name);
      label_value(b, labels[i].value, labels[i].len);
      buf_put(b, "\"", 1);
    }
    if (le.has_le) {
      if (nlabels)
        buf_put(b, ",", 1);
      if (le.le_inf)
        buf_put(b, "le=\"+Inf\"", 9);
      else
        buf_printf(b, "le=\"%lld.0\"", (long long)le.le);
    }
    buf_put(b, "}", 1);
  }
  buf_put(b, " ", 1);
  buf_put(b, value, strlen(value));
  buf_put(b, "\n", 1);
}

void prom_end(Buf *b, PromFormat f) {
  if (f == PROM_OPENMETRICS)
    buf_put(b, "# EOF\n", 6);
}

static bool valid_name(const char *s, bool colon) {
  if (!s || !*s)
    return false;
  for (const char *p = s; *p; p++) {
    char c = *p;
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    if (!alpha && !(p > s && c >= '0' && c <= '9'))
      return false;
  }
  return true;
}

bool prom_valid_metric_name(const char *s) { return valid_name(s, true); }
bool prom_valid_label_name(const char *s) { return valid_name(s, false) && strncmp(s, "__", 2); }
