/* relay.c - lttng-relayd client: version, session, trace chunk, streams,
 * metadata, packets, beacons, close (relay.h describes the protocol's
 * shape; relay_conn.c the connection and its commands).
 *
 * Packets go on the data connection: a 32-byte header {u64 circuit_id,
 * u64 relay stream id, u64 network sequence number, u32 size, u32
 * padding} then the bytes.  The relay writes a packet's index entry once
 * it has both the packet (data connection) and its index command (control
 * connection) carrying the same sequence number.
 */
#include "record/relay_conn.h"
#include "etrace.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* The bytes as text for a message, '.' for the unprintable ones. */
static const char *printable(const unsigned char *p, size_t n) {
  static char out[64];
  size_t i = 0;
  for (; i < n && i + 1 < sizeof out; i++)
    out[i] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' ? (char)p[i] : '.';
  out[i] = 0;
  return out;
}

static bool handshake(Relay *r, uint32_t max_minor) {
  unsigned char v[8], rep[8];
  put_be32(v, PROTO_MAJOR);
  put_be32(v + 4, max_minor);
  if (!relay_command(r, CMD_VERSION, v, sizeof v, rep, sizeof rep)) {
    char why[512];
    snprintf(why, sizeof why, "%s", r->err);
    r->dead = false;
    relay_fail(r, "no version reply from %s (%s): is it an lttng-relayd?", r->where, why);
    return false;
  }
  uint32_t major = get_be32(rep), minor = get_be32(rep + 4);
  if (major > 255 || minor > 255) { /* e.g. "HTTP/1.1" */
    relay_fail(r, "%s answered the version handshake with bytes that are not a relay version "
            "(\"%.8s\"...): is it an lttng-relayd?",
         r->where, printable(rep, sizeof rep));
    return false;
  }
  if (major != PROTO_MAJOR || minor < PROTO_MIN_MINOR) {
    relay_fail(r, "%s speaks relay protocol %u.%u; etrace speaks %d.%d to %d.%d (lttng-relayd 2.4 or "
            "later)",
         r->where, major, minor, PROTO_MAJOR, PROTO_MIN_MINOR, PROTO_MAJOR, PROTO_MINOR);
    return false;
  }
  r->minor = minor < max_minor ? minor : max_minor;
  return true;
}

/* Protocol 2.4 to 2.10: fixed-size names; the streams carry the whole
 * path below the relay's output directory. */
static bool create_session_2_4(Relay *r, const RelayOptions *opt) {
  unsigned char m[SESSION_NAME_LEN + HOSTNAME_LEN + 8] = {0};
  snprintf((char *)m, SESSION_NAME_LEN, "%s", opt->session);
  snprintf((char *)m + SESSION_NAME_LEN, HOSTNAME_LEN, "%s", opt->hostname);
  put_be32(m + SESSION_NAME_LEN + HOSTNAME_LEN, opt->live_timer_us);
  put_be32(m + SESSION_NAME_LEN + HOSTNAME_LEN + 4, 0); /* not a snapshot */
  unsigned char rep[12];
  if (!relay_command(r, CMD_CREATE_SESSION, m, sizeof m, rep, sizeof rep))
    return false;
  if (get_be32(rep + 8) != RELAY_OK) {
    relay_fail(r, "the relay at %s refused to create session '%s' (code %u)", r->where, opt->session,
         get_be32(rep + 8));
    return false;
  }
  r->session_id = get_be64(rep);
  char date[32];
  struct tm tm;
  localtime_r(&opt->creation_time, &tm);
  strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
  char path[PATHNAME_LEN];
  if (opt->name_has_date)
    snprintf(path, sizeof path, "%s/%s/kernel", opt->hostname, opt->session);
  else
    snprintf(path, sizeof path, "%s/%s-%s/kernel", opt->hostname, opt->session, date);
  r->path = strdup(path);
  r->stream_path = r->path;
  return true;
}

/* Protocol 2.11+ (struct lttcomm_relayd_create_session_2_11): lengths,
 * live timer, flags, the session daemon's UUID and session id (etrace's
 * own, random), the creation time, no current trace chunk; then the names.
 * The reply gives the session's directory; the relay names it. */
static bool create_session_2_11(Relay *r, const RelayOptions *opt) {
  size_t ln = strlen(opt->session) + 1, lh = strlen(opt->hostname) + 1, lb = 1;
  size_t len = 59 + ln + lh + lb;
  unsigned char *m = calloc(1, len), uuid[16];
  put_be32(m, ln);
  put_be32(m + 4, lh);
  put_be32(m + 8, lb);
  put_be32(m + 12, opt->live_timer_us);
  m[16] = 0;                        /* not a snapshot session */
  m[17] = opt->name_has_date;
  if (getrandom(uuid, sizeof uuid, 0) != sizeof uuid)
    for (int i = 0; i < 16; i++)
      uuid[i] = (unsigned char)(getpid() >> (i % 4 * 8)) ^ (unsigned char)(i * 37 + 1);
  memcpy(m + 18, uuid, 16);         /* never nil: nil means a peer before 2.11 */
  put_be64(m + 34, 1);              /* the session's id on etrace's side */
  put_be64(m + 42, (uint64_t)opt->creation_time);
  /* m[50..58]: current trace chunk, not set */
  memcpy(m + 59, opt->session, ln);
  memcpy(m + 59 + ln, opt->hostname, lh);
  unsigned char rep[16];
  bool ok = relay_command(r, CMD_CREATE_SESSION, m, len, rep, sizeof rep);
  free(m);
  if (!ok)
    return false;
  uint32_t code = get_be32(rep + 8), plen = get_be32(rep + 12);
  if (plen >= PATHNAME_LEN) {
    relay_fail(r, "the relay at %s sent a session path of %u bytes", r->where, plen);
    return false;
  }
  char path[PATHNAME_LEN + 8] = "";
  if (plen && !relay_recv_all(r, path, plen))
    return false;
  path[plen] = 0;
  if (code != RELAY_OK) {
    relay_fail(r, "the relay at %s refused to create session '%s' (code %u)", r->where, opt->session,
         code);
    return false;
  }
  r->session_id = get_be64(rep);
  strcat(path, "/kernel");
  r->path = strdup(path);
  r->stream_path = "kernel";        /* relative to the trace chunk */
  return true;
}

/* The session's trace chunk (2.11+): its directory is the session's own
 * (an unnamed first chunk), where the streams' "kernel" goes. */
static bool create_chunk(Relay *r, time_t t) {
  unsigned char m[20] = {0};
  put_be64(m, CHUNK_ID);
  put_be64(m + 8, (uint64_t)t);
  put_be32(m + 16, 0);              /* no name of its own */
  if (!relay_command_ok(r, CMD_CREATE_TRACE_CHUNK, m, sizeof m, "to create the trace chunk"))
    return false;
  r->chunk = true;
  return true;
}

static bool close_chunk(Relay *r) {
  unsigned char m[21] = {0}, rep[8];
  put_be64(m, CHUNK_ID);
  put_be64(m + 8, (uint64_t)time(NULL));
  /* m[16..20]: no close command */
  if (!relay_command(r, CMD_CLOSE_TRACE_CHUNK, m, sizeof m, rep, sizeof rep))
    return false;
  uint32_t plen = get_be32(rep + 4);
  char path[PATHNAME_LEN];
  if (plen >= sizeof path || (plen && !relay_recv_all(r, path, plen))) {
    relay_fail(r, "the relay at %s sent a malformed reply to the trace chunk's close", r->where);
    return false;
  }
  if (get_be32(rep) != RELAY_OK) {
    relay_fail(r, "the relay at %s refused to close the trace chunk (code %u)", r->where,
         get_be32(rep));
    return false;
  }
  return true;
}

static bool create_session(Relay *r, const RelayOptions *opt) {
  if (r->minor < CHUNKS_MINOR)
    return create_session_2_4(r, opt);
  return create_session_2_11(r, opt) && create_chunk(r, opt->creation_time);
}

Relay *relay_connect(const RelayTarget *t, const RelayOptions *opt, char *err, size_t errlen) {
  Relay *r = calloc(1, sizeof *r);
  r->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 5000;
  r->data = -1;
  snprintf(r->where, sizeof r->where, "%s:%d", t->host, t->control_port);
  r->ctrl = relay_tcp_connect(t->host, t->control_port, r->timeout_ms, err, errlen);
  if (r->ctrl < 0) {
    free(r);
    return NULL;
  }
  uint32_t max = opt->max_minor >= PROTO_MIN_MINOR && opt->max_minor < PROTO_MINOR
                     ? opt->max_minor : PROTO_MINOR;
  if (!handshake(r, max) || !create_session(r, opt))
    goto fail;
  r->data = relay_tcp_connect(t->host, t->data_port, r->timeout_ms, r->err, sizeof r->err);
  if (r->data < 0) {
    r->dead = true;
    goto fail;
  }
  r->live_timer_us = opt->live_timer_us;
  return r;
fail:
  snprintf(err, errlen, "%s", r->err);
  free(r->path);
  close(r->ctrl);
  if (r->data >= 0)
    close(r->data);
  free(r);
  return NULL;
}

Relay *relay_open(const char *url, const char *session, double live_timer_s, char *err,
                  size_t errlen) {
  RelayTarget t;
  if (relay_parse_url(url, &t, err, errlen) < 0)
    return NULL;
  char host[HOSTNAME_LEN], date[32], name[SESSION_NAME_LEN];
  if (gethostname(host, sizeof host) < 0 || !host[0])
    snprintf(host, sizeof host, "localhost");
  host[sizeof host - 1] = 0;
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
  if (session) {
    if (!session[0] || session[0] == '.' || strchr(session, '/') ||
        strlen(session) >= SESSION_NAME_LEN - 16) {
      snprintf(err, errlen, "invalid session name '%s': it names a directory (no '/', no "
                            "leading '.', at most %d bytes)", session, SESSION_NAME_LEN - 17);
      return NULL;
    }
    snprintf(name, sizeof name, "%s", session);
  } else {
    snprintf(name, sizeof name, "etrace-%s", date);
  }
  RelayOptions o = {.session = name, .hostname = host, .name_has_date = !session,
                    .creation_time = now, .live_timer_us = (uint32_t)(live_timer_s * 1e6),
                    .timeout_ms = 5000};
  /* ETRACE_RELAY_PROTOCOL=2.N: announce at most 2.N (tests: the 2.10 path) */
  const char *proto = getenv("ETRACE_RELAY_PROTOCOL");
  unsigned maj, min;
  if (proto && sscanf(proto, "%u.%u", &maj, &min) == 2 && maj == PROTO_MAJOR)
    o.max_minor = min;
  return relay_connect(&t, &o, err, errlen);
}

/* ------------------------------------------------------------ streams */

/* Add stream: 2.2 to 2.10, fixed-size names; 2.11+, lengths, the sizes and
 * the trace chunk id, then the names.  tracefile_size and tracefile_count
 * are 0: one file of any size. */
static bool add_stream(Relay *r, const char *name, RelayStream *s) {
  static unsigned char m[CHANNEL_NAME_LEN + PATHNAME_LEN + 32];
  memset(m, 0, sizeof m);
  size_t len;
  if (r->minor < CHUNKS_MINOR) {
    snprintf((char *)m, CHANNEL_NAME_LEN, "%s", name);
    snprintf((char *)m + CHANNEL_NAME_LEN, PATHNAME_LEN, "%s", r->stream_path);
    len = CHANNEL_NAME_LEN + PATHNAME_LEN + 16;
  } else {
    size_t lc = strlen(name) + 1, lp = strlen(r->stream_path) + 1;
    put_be32(m, lc);
    put_be32(m + 4, lp);
    put_be64(m + 24, CHUNK_ID);
    memcpy(m + 32, name, lc);
    memcpy(m + 32 + lc, r->stream_path, lp);
    len = 32 + lc + lp;
  }
  unsigned char rep[12];
  if (!relay_command(r, CMD_ADD_STREAM, m, len, rep, sizeof rep))
    return false;
  if (get_be32(rep + 8) != RELAY_OK) {
    relay_fail(r, "the relay at %s refused stream %s/%s (code %u)", r->where, r->path, name,
         get_be32(rep + 8));
    return false;
  }
  s->handle = get_be64(rep);
  s->next_seq = 0;
  return true;
}

static bool send_metadata(Relay *r, const char *text, size_t len) {
  unsigned char *m = malloc(12 + METADATA_CHUNK);
  bool ok = true;
  for (size_t off = 0; ok && off < len; off += METADATA_CHUNK) {
    size_t n = len - off < METADATA_CHUNK ? len - off : METADATA_CHUNK;
    put_be64(m, r->meta.handle);
    put_be32(m + 8, 0); /* padding */
    memcpy(m + 12, text + off, n);
    ok = relay_command(r, CMD_SEND_METADATA, m, 12 + n, NULL, 0); /* no reply */
  }
  free(m);
  return ok;
}

/* The sink's open: one relay stream per CTF stream, the metadata, then
 * "streams sent", which makes them visible to live viewers. */
static int sink_open(void *ctx, int nstreams, const char *metadata, size_t len) {
  Relay *r = ctx;
  r->streams = calloc(nstreams, sizeof *r->streams);
  r->nstreams = nstreams;
  if (!add_stream(r, "metadata", &r->meta))
    return -1;
  for (int i = 0; i < nstreams; i++) {
    char name[32];
    snprintf(name, sizeof name, "channel0_%d", i);
    if (!add_stream(r, name, &r->streams[i]))
      return -1;
  }
  if (!send_metadata(r, metadata, len) || !relay_command_ok(r, CMD_STREAMS_SENT, NULL, 0, "the streams"))
    return -1;
  return 0;
}

/* The index command's payload (struct lttcomm_relayd_index): 10 u64, the
 * last two since protocol 2.8. */
static size_t index_payload(const Relay *r, unsigned char *m, const RelayStream *s, uint64_t seq,
                            const CtfPacketInfo *pi) {
  uint64_t f[10] = {s->handle,  seq,           pi->size_bits, pi->content_bits, pi->ts_begin,
                    pi->ts_end, pi->discarded, 0 /* stream class id */, (uint64_t)pi->cpu,
                    pi->seq};
  for (int i = 0; i < 10; i++)
    put_be64(m + 8 * i, f[i]);
  return r->minor >= 8 ? 80 : 64;
}

static int sink_packet(void *ctx, const void *buf, size_t len, const CtfPacketInfo *pi) {
  Relay *r = ctx;
  if (r->dead || pi->cpu < 0 || pi->cpu >= r->nstreams) {
    errno = EPIPE;
    return -1;
  }
  RelayStream *s = &r->streams[pi->cpu];
  uint64_t seq = s->next_seq;
  unsigned char hdr[32] = {0};
  put_be64(hdr + 8, s->handle);
  put_be64(hdr + 16, seq);
  put_be32(hdr + 24, (uint32_t)len);
  struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)buf, len}};
  if (!relay_send_iov(r, r->data, iov, 2)) {
    errno = EPIPE;
    return -1;
  }
  s->next_seq++;
  unsigned char m[80];
  size_t n = index_payload(r, m, s, seq, pi);
  if (!relay_command_ok(r, CMD_SEND_INDEX, m, n, "a packet index")) {
    errno = EPIPE;
    return -1;
  }
  return 0;
}

/* A beacon: an index of packet_size 0 telling live viewers that stream
 * `cpu` has no event before ts. */
static int sink_idle(void *ctx, int cpu, uint64_t ts) {
  Relay *r = ctx;
  if (r->dead || cpu < 0 || cpu >= r->nstreams)
    return -1;
  RelayStream *s = &r->streams[cpu];
  CtfPacketInfo pi = {.cpu = cpu, .ts_begin = ts, .ts_end = ts};
  unsigned char m[80];
  size_t n = index_payload(r, m, s, s->next_seq ? s->next_seq - 1 : 0, &pi);
  return relay_command_ok(r, CMD_SEND_INDEX, m, n, "a live beacon") ? 0 : -1;
}

CtfSink relay_sink(Relay *r) {
  return (CtfSink){.ctx = r, .open = sink_open, .packet = sink_packet, .idle = sink_idle};
}

const char *relay_error(const Relay *r) { return r->err; }
const char *relay_path(const Relay *r) { return r->path; }

/* ------------------------------------------------------------ close */

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask until the relay has written every packet (and index) sent, within
 * the timeout.  Returns false when data is still pending then. */
static bool wait_written(Relay *r) {
  uint64_t deadline = mono_ms() + r->timeout_ms;
  for (int i = 0; i < r->nstreams && !r->dead; i++) {
    RelayStream *s = &r->streams[i];
    if (!s->next_seq)
      continue;
    for (;;) {
      unsigned char m[16], rep[4];
      put_be64(m, s->handle);
      put_be64(m + 8, s->next_seq - 1);
      if (!relay_command(r, CMD_DATA_PENDING, m, sizeof m, rep, sizeof rep))
        return false;
      if (get_be32(rep) == 0)
        break;
      if (mono_ms() > deadline) {
        relay_fail(r, "the relay at %s had not written all the data after %.1f s", r->where,
             r->timeout_ms / 1e3);
        return false;
      }
      usleep(2000);
    }
  }
  return !r->dead;
}

static bool close_stream(Relay *r, const RelayStream *s, uint64_t last_seq) {
  unsigned char m[16];
  put_be64(m, s->handle);
  put_be64(m + 8, last_seq);
  return relay_command_ok(r, CMD_CLOSE_STREAM, m, sizeof m, "to close a stream");
}

/* The end of a live session: every event has been sent, so each stream
 * is idle from now on; then give viewers one live period to fetch the
 * last packets before the session closes (a viewer stops reading a
 * stream of a closed session). */
static void live_linger(Relay *r) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
  for (int i = 0; i < r->nstreams && !r->dead; i++)
    sink_idle(r, i, now - i);
  uint32_t us = r->live_timer_us < 2000000 ? r->live_timer_us : 2000000;
  usleep(us);
}

int relay_close(Relay *r, char *err, size_t errlen) {
  if (!r)
    return 0;
  if (!r->dead && r->streams && wait_written(r)) {
    if (r->live_timer_us)
      live_linger(r);
    /* the metadata stream has no data packets: no last sequence number */
    close_stream(r, &r->meta, UINT64_MAX);
    for (int i = 0; i < r->nstreams && !r->dead; i++)
      close_stream(r, &r->streams[i], r->streams[i].next_seq - 1);
    if (r->chunk && !r->dead)
      close_chunk(r);
  }
  int rc = r->dead ? -1 : 0;
  if (err && errlen)
    snprintf(err, errlen, "%s", r->err);
  close(r->ctrl);
  if (r->data >= 0)
    close(r->data);
  free(r->streams);
  free(r->path);
  free(r);
  return rc;
}
