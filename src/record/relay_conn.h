/* relay_conn.h - internal to the lttng-relayd client (relay.c, relay_conn.c):
 * the connection's state, the wire constants and the command plumbing.
 * Every integer on the wire is big-endian.
 */
#ifndef ETRACE_RELAY_CONN_H
#define ETRACE_RELAY_CONN_H

#include "record/relay.h"

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

/* Commands (lttng-tools' enum lttcomm_relayd_command). */
enum {
  CMD_ADD_STREAM = 1,
  CMD_CREATE_SESSION = 2,
  CMD_VERSION = 5,
  CMD_SEND_METADATA = 6,
  CMD_CLOSE_STREAM = 7,
  CMD_DATA_PENDING = 8,
  CMD_SEND_INDEX = 13,
  CMD_STREAMS_SENT = 16,
  CMD_CREATE_TRACE_CHUNK = 19,
  CMD_CLOSE_TRACE_CHUNK = 20,
};

#define PROTO_MAJOR 2
#define PROTO_MINOR 13        /* announced: lttng-relayd 2.13's protocol */
#define CHUNKS_MINOR 11       /* sessions hold trace chunks since 2.11 */
#define PROTO_MIN_MINOR 4     /* live sessions and indexes appeared in 2.4 */
#define CHUNK_ID 0            /* the session's one trace chunk */
#define RELAY_OK 10           /* LTTNG_OK */
#define SESSION_NAME_LEN 255  /* create session (2.4): char[255] */
#define HOSTNAME_LEN 64       /* create session (2.4): char[64] */
#define CHANNEL_NAME_LEN 264  /* add stream (2.2): char[264] */
#define PATHNAME_LEN 4096     /* add stream (2.2): char[4096] */
#define METADATA_CHUNK 65536  /* metadata bytes per command */

typedef struct RelayStream {
  uint64_t handle;            /* the relay's id for the stream */
  uint64_t next_seq;          /* next network sequence number */
} RelayStream;

struct Relay {
  int ctrl, data;
  uint32_t minor;             /* negotiated protocol minor version */
  int timeout_ms;
  uint64_t session_id;
  uint32_t live_timer_us;
  bool chunk;                 /* protocol 2.11+: the trace chunk is open */
  char *path;                 /* the trace's directory below the relay's output */
  const char *stream_path;    /* the streams' path in the add-stream command */
  char where[300];            /* HOST:PORT of the control connection */
  RelayStream meta;
  RelayStream *streams;
  int nstreams;
  bool dead;
  char err[512];
};

static inline void put_be32(unsigned char *p, uint32_t v) {
  v = htobe32(v);
  memcpy(p, &v, 4);
}
static inline void put_be64(unsigned char *p, uint64_t v) {
  v = htobe64(v);
  memcpy(p, &v, 8);
}
static inline uint32_t get_be32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return be32toh(v);
}
static inline uint64_t get_be64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return be64toh(v);
}

/* Record the first error (later ones are consequences) and mark the
 * connection dead: every later command fails at once. */
void relay_fail(Relay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Connect to host:port within ms milliseconds; send and receive
 * timeouts of ms on the socket.  The fd, or -1 with the reason in err. */
int relay_tcp_connect(const char *host, int port, int ms, char *err, size_t errlen);

/* Send the iovecs whole (fd: either connection); false after relay_fail. */
bool relay_send_iov(Relay *r, int fd, struct iovec *iov, int n);

/* Read len bytes of reply from the control connection. */
bool relay_recv_all(Relay *r, void *buf, size_t len);

/* One command on the control connection; reads rlen bytes of reply when
 * reply is not NULL. */
bool relay_command(Relay *r, uint32_t cmd, const void *payload, size_t len, void *reply,
                   size_t rlen);

/* A command whose reply is {u32 ret_code}: true when it is LTTNG_OK;
 * `what` names the request in the message otherwise. */
bool relay_command_ok(Relay *r, uint32_t cmd, const void *payload, size_t len, const char *what);

#endif
