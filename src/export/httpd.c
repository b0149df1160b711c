/* httpd.c - the exporter's HTTP server: non-blocking sockets in one epoll
 * set, bounded connections, a deadline per connection (see httpd.h). */
#define _GNU_SOURCE /* accept4 */
#include "export/httpd.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct Conn {
  int fd;                  /* -1: free slot */
  char in[HTTPD_MAX_REQUEST];
  size_t inlen;
  Buf out;                 /* kept between connections when small */
  size_t outpos;
  bool answered;
  uint64_t deadline_ms;
} Conn;

struct Httpd {
  int ep, lfd, tfd;
  HttpHandler handler;
  void *ctx;
  Buf body;                /* the handler's body, reused */
  Conn conns[HTTPD_MAX_CONNS];
  int nconns;
  bool listen_paused;      /* out of fds: accept again at the next tick */
};

#define TAG_LISTEN (-1)
#define TAG_TIMER (-2)

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" (loopback) -> host and port strings */
static int split_addr(const char *addr, char *host, size_t hn, char *port, size_t pn) {
  const char *colon = strrchr(addr, ':');
  if (!colon || !colon[1])
    return -1;
  const char *h = addr;
  size_t len = colon - addr;
  if (len >= 2 && h[0] == '[' && h[len - 1] == ']')
    h++, len -= 2;
  if (len == 0)
    h = "127.0.0.1", len = 9;
  if (len >= hn || strlen(colon + 1) >= pn)
    return -1;
  memcpy(host, h, len);
  host[len] = 0;
  strcpy(port, colon + 1);
  return 0;
}

static int listen_on(const char *addr, char *err, size_t errlen, char *bound, size_t boundlen) {
  char host[256], port[32];
  if (split_addr(addr, host, sizeof host, port, sizeof port) < 0) {
    snprintf(err, errlen, "invalid listen address '%s': expected HOST:PORT", addr);
    return -1;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc) {
    snprintf(err, errlen, "invalid listen address '%s': %s", addr, gai_strerror(rc));
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
    snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
    if (fd >= 0)
      close(fd);
    freeaddrinfo(res);
    return -1;
  }
  freeaddrinfo(res);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char h[128] = "?", p[16] = "?";
  if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(bound, boundlen, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
  return fd;
}

Httpd *httpd_open(const char *addr, HttpHandler h, void *ctx, char *err, size_t errlen,
                  char *bound, size_t boundlen) {
  int lfd = listen_on(addr, err, errlen, bound, boundlen);
  if (lfd < 0)
    return NULL;
  Httpd *s = calloc(1, sizeof *s);
  s->lfd = lfd;
  s->handler = h;
  s->ctx = ctx;
  s->ep = epoll_create1(EPOLL_CLOEXEC);
  s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  for (int i = 0; i < HTTPD_MAX_CONNS; i++)
    s->conns[i].fd = -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)TAG_LISTEN};
  epoll_ctl(s->ep, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.u64 = (uint64_t)(int64_t)TAG_TIMER;
  epoll_ctl(s->ep, EPOLL_CTL_ADD, s->tfd, &ev);
  /* one tick a second checks the deadlines */
  struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
  timerfd_settime(s->tfd, 0, &its, NULL);
  return s;
}

int httpd_fd(const Httpd *s) { return s->ep; }

static void conn_close(Httpd *s, Conn *c) {
  epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->out.len = 0;
  /* a big answer's copy is not kept per slot: 64 slots of a large
   * exposition would pin that much memory after a burst of scrapers */
  if (c->out.cap > (256u << 10))
    buf_free(&c->out);
  s->nconns--;
}

static void accept_all(Httpd *s) {
  for (int n = 0; n < 256; n++) {
    int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
      /* the pending connection stays queued and the listening socket
       * readable: stop watching it for a tick rather than spin */
      epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
      s->listen_paused = true;
      return;
    }
    if (fd < 0)
      return;
    Conn *c = NULL;
    for (int i = 0; i < HTTPD_MAX_CONNS && !c; i++)
      if (s->conns[i].fd < 0)
        c = &s->conns[i];
    if (!c) { /* flood: drop the newcomer, keep serving the others */
      close(fd);
      continue;
    }
    /* bound the kernel memory a client that never reads can pin: the
     * rest of its answer waits here, in c->out, until the deadline */
    int sndbuf = 256 << 10;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    c->fd = fd;
    c->inlen = c->outpos = 0;
    c->out.len = 0;
    c->answered = false;
    c->deadline_ms = now_ms() + HTTPD_TIMEOUT_MS;
    s->nconns++;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = c - s->conns};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
  }
}

static void on_writable(Httpd *s, Conn *c);

static const char *reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Content Too Large";
  default: return "Internal Server Error";
  }
}

static void answer(Httpd *s, Conn *c, int status, const HttpRequest *req) {
  HttpReply rep = {.status = status, .content_type = "text/plain; charset=utf-8",
                   .body = &s->body};
  s->body.len = 0;
  bool head = false;
  if (req) {
    head = !strcmp(req->method, "HEAD");
    if (strcmp(req->method, "GET") && !head)
      rep.status = 405;
    else
      s->handler(s->ctx, req, &rep);
  }
  if (rep.status != 200 && !s->body.len)
    buf_printf(&s->body, "%d %s\n", rep.status, reason(rep.status));
  c->out.len = 0;
  buf_printf(&c->out,
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n%s\r\n",
             rep.status, reason(rep.status), rep.content_type, s->body.len,
             rep.status == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (!head && s->body.len)
    buf_put(&c->out, s->body.data, s->body.len);
  c->outpos = 0;
  c->answered = true;
  struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = c - s->conns};
  epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
  on_writable(s, c); /* most answers fit the socket buffer at once */
}

static void on_readable(Httpd *s, Conn *c) {
  bool eof = false;
  for (;;) {
    if (c->inlen == sizeof c->in) {
      answer(s, c, 413, NULL);
      return;
    }
    ssize_t n = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EAGAIN) {
      conn_close(s, c);
      return;
    }
    if (n <= 0) {
      eof = n == 0; /* a client may shut its side down once it has asked */
      break;
    }
    c->inlen += n;
  }
  HttpRequest req;
  int rc = http_parse_request(c->in, c->inlen, sizeof c->in, &req);
  if (rc == HTTP_PARSE_OK)
    answer(s, c, 200, &req);
  else if (rc == HTTP_PARSE_BAD)
    answer(s, c, 400, NULL);
  else if (rc == HTTP_PARSE_TOO_BIG)
    answer(s, c, 413, NULL);
  else if (eof)
    conn_close(s, c);
}

static void on_writable(Httpd *s, Conn *c) {
  while (c->outpos < c->out.len) {
    ssize_t n = send(c->fd, c->out.data + c->outpos, c->out.len - c->outpos,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return; /* the client reads slowly: wait for EPOLLOUT or the deadline */
    if (n <= 0) {
      conn_close(s, c);
      return;
    }
    c->outpos += n;
  }
  shutdown(c->fd, SHUT_WR);
  conn_close(s, c);
}

static void expire(Httpd *s) {
  uint64_t buf;
  while (read(s->tfd, &buf, sizeof buf) > 0)
    ;
  if (s->listen_paused) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)TAG_LISTEN};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev);
    s->listen_paused = false;
  }
  uint64_t now = now_ms();
  for (int i = 0; i < HTTPD_MAX_CONNS; i++)
    if (s->conns[i].fd >= 0 && now >= s->conns[i].deadline_ms)
      conn_close(s, &s->conns[i]);
}

void httpd_ready(void *arg) {
  Httpd *s = arg;
  struct epoll_event evs[16];
  int n = epoll_wait(s->ep, evs, 16, 0);
  for (int i = 0; i < n; i++) {
    int64_t tag = (int64_t)evs[i].data.u64;
    if (tag == TAG_LISTEN) {
      accept_all(s);
      continue;
    }
    if (tag == TAG_TIMER) {
      expire(s);
      continue;
    }
    Conn *c = &s->conns[tag];
    if (c->fd < 0)
      continue;
    if (!c->answered && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
      on_readable(s, c);
    else if (c->answered)
      on_writable(s, c);
  }
}

void httpd_close(Httpd *s) {
  if (!s)
    return;
  for (int i = 0; i < HTTPD_MAX_CONNS; i++) {
    if (s->conns[i].fd >= 0)
      conn_close(s, &s->conns[i]);
    buf_free(&s->conns[i].out);
  }
  close(s->lfd);
  close(s->tfd);
  close(s->ep);
  buf_free(&s->body);
  free(s);
}
