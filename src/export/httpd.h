/* httpd.h - the exporter's small HTTP/1.x server.
 *
 * It never blocks the tracer: every socket is non-blocking and lives in
 * the server's own epoll set, whose fd the event loop watches next to the
 * ring buffer (Options.loop_fd).  Requests are GET/HEAD without a body,
 * at most HTTPD_MAX_REQUEST bytes of request line and headers; every
 * response closes its connection.  Bounds: HTTPD_MAX_CONNS connections
 * at once (more are closed at accept), and a connection is closed
 * HTTPD_TIMEOUT_MS after it was accepted whatever its state (a client
 * that sends nothing, or never reads its response). */
#ifndef ETRACE_HTTPD_H
#define ETRACE_HTTPD_H

#include "etrace.h"

#define HTTPD_MAX_REQUEST 8192
#define HTTPD_MAX_CONNS 64
#define HTTPD_TIMEOUT_MS 10000

typedef struct HttpRequest {
  char method[16];
  char path[256];        /* the target without its ?query */
  char accept[512];      /* the Accept header ("" when absent) */
} HttpRequest;

enum {
  HTTP_PARSE_MORE = 0,     /* no blank line yet: read more */
  HTTP_PARSE_OK = 1,
  HTTP_PARSE_BAD = -1,     /* 400 */
  HTTP_PARSE_TOO_BIG = -2, /* 413: no end of headers within max bytes */
};

/* Parse a request head from buf[0..len).  Pure: the fuzz target's entry. */
int http_parse_request(const char *buf, size_t len, size_t max, HttpRequest *r);

/* The answer to one request: status, content type and body (appended to
 * body, which the server empties before each call). */
typedef struct HttpReply {
  int status;
  const char *content_type;
  Buf *body;
} HttpReply;
typedef void (*HttpHandler)(void *ctx, const HttpRequest *req, HttpReply *rep);

typedef struct Httpd Httpd;

/* Listen on "HOST:PORT" ("[V6]:PORT"; ":PORT" is 127.0.0.1).  Returns NULL
 * with a message in err.  bound gets the actual address ("127.0.0.1:9435"). */
Httpd *httpd_open(const char *addr, HttpHandler h, void *ctx, char *err, size_t errlen,
                  char *bound, size_t boundlen);
int httpd_fd(const Httpd *s);    /* readable when httpd_ready has work */
void httpd_ready(void *s);       /* accept, read, answer, write, expire */
void httpd_close(Httpd *s);

#endif
