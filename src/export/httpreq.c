/* httpreq.c - HTTP/1.x request head parser (no I/O; fuzzed by
 * tests/fuzz/fuzz_httpreq.c).
 *
 *   request-line = method SP request-target SP "HTTP/1." DIGIT CRLF
 *   header       = field-name ":" OWS field-value OWS CRLF
 *   end          = CRLF
 * Bare LF is accepted for CRLF.  Control bytes other than tab, a target
 * that is not an absolute path, or a malformed header make it BAD. */
#include "export/httpd.h"

#include <string.h>
#include <strings.h>

static bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Next line of buf[*pos..end): its start and length without CR/LF, or
 * false when no LF follows. */
static bool next_line(const char *buf, size_t end, size_t *pos, const char **line, size_t *n) {
  const char *s = buf + *pos;
  const char *lf = memchr(s, '\n', end - *pos);
  if (!lf)
    return false;
  *line = s;
  *n = lf - s;
  if (*n && s[*n - 1] == '\r')
    (*n)--;
  *pos = lf + 1 - buf;
  return true;
}

static int request_line(const char *s, size_t n, HttpRequest *r) {
  size_t i = 0, m = 0;
  while (i < n && is_tchar(s[i]) && m < sizeof r->method - 1)
    r->method[m++] = s[i++];
  r->method[m] = 0;
  if (!m || i >= n || s[i] != ' ')
    return HTTP_PARSE_BAD;
  i++;
  if (i >= n || s[i] != '/')
    return HTTP_PARSE_BAD;
  size_t p = 0;
  bool query = false;
  while (i < n && s[i] != ' ') {
    unsigned char c = s[i];
    if (c <= 0x20 || c == 0x7f)
      return HTTP_PARSE_BAD;
    if (c == '?')
      query = true;
    if (!query) {
      if (p >= sizeof r->path - 1)
        return HTTP_PARSE_BAD;
      r->path[p++] = c;
    }
    i++;
  }
  r->path[p] = 0;
  if (i >= n || s[i] != ' ')
    return HTTP_PARSE_BAD;
  i++;
  if (n - i != 8 || memcmp(s + i, "HTTP/1.", 7) || s[i + 7] < '0' || s[i + 7] > '9')
    return HTTP_PARSE_BAD;
  return HTTP_PARSE_OK;
}

static int header_line(const char *s, size_t n, HttpRequest *r) {
  size_t i = 0;
  while (i < n && is_tchar(s[i]))
    i++;
  if (!i || i >= n || s[i] != ':')
    return HTTP_PARSE_BAD;
  size_t name_len = i++;
  for (size_t j = i; j < n; j++) {
    unsigned char c = s[j];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return HTTP_PARSE_BAD;
  }
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  size_t end = n;
  while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
    end--;
  if (name_len == 6 && !strncasecmp(s, "accept", 6)) {
    size_t len = end - i < sizeof r->accept - 1 ? end - i : sizeof r->accept - 1;
    memcpy(r->accept, s + i, len);
    r->accept[len] = 0;
  }
  return HTTP_PARSE_OK;
}

int http_parse_request(const char *buf, size_t len, size_t max, HttpRequest *r) {
  memset(r, 0, sizeof *r);
  size_t end = len < max ? len : max;
  size_t pos = 0, n;
  const char *line;
  if (!next_line(buf, end, &pos, &line, &n))
    goto incomplete;
  /* a request line that cannot become valid is BAD before it ends */
  if (memchr(line, 0, n) || request_line(line, n, r) != HTTP_PARSE_OK)
    return HTTP_PARSE_BAD;
  for (;;) {
    if (!next_line(buf, end, &pos, &line, &n))
      goto incomplete;
    if (n == 0)
      return HTTP_PARSE_OK;
    if (memchr(line, 0, n) || header_line(line, n, r) != HTTP_PARSE_OK)
      return HTTP_PARSE_BAD;
  }
incomplete:
  if (len >= max)
    return HTTP_PARSE_TOO_BIG;
  /* garbage is BAD as soon as it is seen, not after the timeout */
  for (size_t i = 0; i < end && buf[i] != ' '; i++)
    if (!is_tchar(buf[i]))
      return HTTP_PARSE_BAD;
  return HTTP_PARSE_MORE;
}
