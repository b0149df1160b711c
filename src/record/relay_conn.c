/* relay_conn.c - the lttng-relayd client's connection: TCP sockets with
 * bounded operations, the command header, replies, errors, and the relay
 * URL.  A command is a 24-byte header {u64 circuit_id (unused, 0), u64
 * payload size, u32 command, u32 command version (0)} and its payload on
 * the control connection; most commands get a reply.
 */
#include "record/relay_conn.h"
#include "etrace.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

void relay_fail(Relay *r, const char *fmt, ...) {
  if (r->dead)
    return;
  r->dead = true;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof r->err, fmt, ap);
  va_end(ap);
}


/* ------------------------------------------------------------ sockets */

static void set_timeouts(int fd, int ms) {
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Connect to host:port within ms milliseconds.  Returns the fd, or -1 with
 * the reason in err. */
int relay_tcp_connect(const char *host, int port, int ms, char *err, size_t errlen) {
  char svc[16];
  snprintf(svc, sizeof svc, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
  int g = getaddrinfo(host, svc, &hints, &res);
  if (g) {
    snprintf(err, errlen, "cannot resolve relay host '%s': %s", host, gai_strerror(g));
    return -1;
  }
  int fd = -1, e = 0;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      e = errno;
      continue;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
      e = errno;
    } else {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      int n = poll(&p, 1, ms);
      socklen_t len = sizeof e;
      if (n == 0)
        e = ETIMEDOUT;
      else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
      if (!e)
        break;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, errlen, "cannot connect to relay %s:%d: %s", host, port, strerror(e));
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  set_timeouts(fd, ms);
  return fd;
}

/* Send the iovecs whole; false (and the relay marked dead) otherwise. */
bool relay_send_iov(Relay *r, int fd, struct iovec *iov, int n) {
  while (n > 0) {
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = n};
    ssize_t k = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        relay_fail(r, "the relay at %s accepted no data for %.1f s", r->where, r->timeout_ms / 1e3);
      else
        relay_fail(r, "lost the connection to the relay at %s: %s", r->where, strerror(errno));
      return false;
    }
    while (n > 0 && (size_t)k >= iov->iov_len) {
      k -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + k;
      iov->iov_len -= k;
    }
  }
  return true;
}

bool relay_recv_all(Relay *r, void *buf, size_t len) {
  char *p = buf;
  while (len) {
    ssize_t k = recv(r->ctrl, p, len, 0);
    if (k < 0 && errno == EINTR)
      continue;
    if (k == 0) {
      relay_fail(r, "the relay at %s closed the connection", r->where);
      return false;
    }
    if (k < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        relay_fail(r, "the relay at %s sent no reply for %.1f s", r->where, r->timeout_ms / 1e3);
      else
        relay_fail(r, "lost the connection to the relay at %s: %s", r->where, strerror(errno));
      return false;
    }
    p += k;
    len -= k;
  }
  return true;
}

/* One command on the control connection; reads `rlen` bytes of reply
 * when reply is not NULL. */
bool relay_command(Relay *r, uint32_t cmd, const void *payload, size_t len, void *reply,
                    size_t rlen) {
  if (r->dead)
    return false;
  unsigned char hdr[24] = {0};
  put_be64(hdr + 8, len);
  put_be32(hdr + 16, cmd);
  struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)payload, len}};
  if (!relay_send_iov(r, r->ctrl, iov, len ? 2 : 1))
    return false;
  return !reply || relay_recv_all(r, reply, rlen);
}

/* A command whose reply is {u32 ret_code}; true when it is LTTNG_OK. */
bool relay_command_ok(Relay *r, uint32_t cmd, const void *payload, size_t len,
                       const char *what) {
  unsigned char rep[4];
  if (!relay_command(r, cmd, payload, len, rep, sizeof rep))
    return false;
  uint32_t code = get_be32(rep);
  if (code != RELAY_OK) {
    relay_fail(r, "the relay at %s refused %s (code %u)", r->where, what, code);
    return false;
  }
  return true;
}

/* ------------------------------------------------------------ session */

int relay_parse_url(const char *url, RelayTarget *t, char *err, size_t errlen) {
  const char *p = url;
  if (!strncmp(p, "net://", 6) || !strncmp(p, "tcp://", 6))
    p += 6;
  else if (strstr(p, "://")) {
    snprintf(err, errlen, "relay URL '%s': expected net://HOST[:CONTROL_PORT[:DATA_PORT]]", url);
    return -1;
  }
  t->control_port = RELAY_DEFAULT_CONTROL_PORT;
  t->data_port = RELAY_DEFAULT_DATA_PORT;
  const char *ports;
  size_t hl;
  if (*p == '[') { /* [IPv6] */
    const char *end = strchr(p, ']');
    if (!end) {
      snprintf(err, errlen, "relay URL '%s': missing ']'", url);
      return -1;
    }
    p++;
    hl = end - p;
    ports = end + 1;
  } else {
    ports = strchr(p, ':');
    if (!ports)
      ports = p + strlen(p);
    hl = ports - p;
  }
  if (hl == 0 || hl >= sizeof t->host) {
    snprintf(err, errlen, "relay URL '%s': expected a host name", url);
    return -1;
  }
  memcpy(t->host, p, hl);
  t->host[hl] = 0;
  int *port[2] = {&t->control_port, &t->data_port};
  for (int i = 0; i < 2 && *ports == ':'; i++) {
    char *end;
    long v = strtol(ports + 1, &end, 10);
    if (end == ports + 1 || v <= 0 || v > 65535 || (*end && *end != ':' && *end != '/')) {
      snprintf(err, errlen, "relay URL '%s': invalid port '%.*s'", url,
               (int)strcspn(ports + 1, ":/"), ports + 1);
      return -1;
    }
    *port[i] = (int)v;
    if (i == 0)
      t->data_port = (int)v + 1; /* as lttng: the data port follows the control port */
    ports = end;
  }
  if (*ports && strcmp(ports, "/")) {
    snprintf(err, errlen, "relay URL '%s': unexpected '%s'", url, ports);
    return -1;
  }
  return 0;
}