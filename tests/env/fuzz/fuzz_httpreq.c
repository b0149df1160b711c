/* fuzz_httpreq.c - libFuzzer target: HTTP request heads through
 * http_parse_request() (the exporter's parser).  Aborts when a result is
 * outside the documented set, when an accepted request has an empty
 * method or a path not starting with '/', when a field is not
 * NUL-terminated within its array, or when a prefix of the input is
 * judged complete differently from the whole (the server parses every
 * prefix it has read so far). */
#include "export/httpd.h"

#include <stdlib.h>
#include <string.h>

static void check(const HttpRequest *r, int rc) {
  if (rc < HTTP_PARSE_TOO_BIG || rc > HTTP_PARSE_OK)
    abort();
  if (rc != HTTP_PARSE_OK)
    return;
  if (!memchr(r->method, 0, sizeof r->method) || !memchr(r->path, 0, sizeof r->path) ||
      !memchr(r->accept, 0, sizeof r->accept))
    abort();
  if (!r->method[0] || r->path[0] != '/')
    abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  HttpRequest r, p;
  int rc = http_parse_request((const char *)data, size, HTTPD_MAX_REQUEST, &r);
  check(&r, rc);
  /* a prefix is never BAD when the whole is OK: the server answers 400 as
   * soon as a prefix is BAD */
  if (rc == HTTP_PARSE_OK && size > 1) {
    int prc = http_parse_request((const char *)data, size / 2, HTTPD_MAX_REQUEST, &p);
    check(&p, prc);
    if (prc == HTTP_PARSE_BAD)
      abort();
  }
  return 0;
}
