/* relay.h - client of lttng-relayd, the relay daemon of lttng-tools.
 *
 * etrace streams a CTF trace to a relay the way LTTng's consumer daemon
 * does: two TCP connections (control and data), a version handshake, a
 * session, one relay stream per CTF stream file plus one for the metadata,
 * then for each packet its bytes on the data connection and its packet
 * index on the control connection (live viewers seek with the indexes).
 * An index with packet_size 0 is a "beacon": no event on that stream
 * before its timestamp, so a live viewer can move past an idle CPU.
 *
 * etrace announces protocol 2.13 and speaks what the relay answers, down
 * to 2.4 (every field of a command is big-endian): from 2.11 the session
 * holds a trace chunk and the relay names the session's directory; before,
 * the streams carry the whole path.  Either way the trace lands under the
 * relay's output directory at HOSTNAME/SESSION-YYYYMMDD-HHMMSS/kernel/.
 *
 * Every socket operation is bounded by a timeout: a relay that stops
 * reading is reported, never waited on forever.
 */
#ifndef ETRACE_RELAY_H
#define ETRACE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "formats/ctf.h"

#define RELAY_DEFAULT_CONTROL_PORT 5342
#define RELAY_DEFAULT_DATA_PORT 5343

typedef struct RelayTarget {
  char host[256];
  int control_port, data_port;
} RelayTarget;

typedef struct RelayOptions {
  const char *session;      /* session name (viewers list it) */
  const char *hostname;     /* host name the session is filed under */
  bool name_has_date;       /* the name holds its date: no -DATE suffix */
  time_t creation_time;
  uint32_t live_timer_us;   /* 0: not a live session */
  int timeout_ms;           /* bound on each socket operation */
  uint32_t max_minor;       /* announce at most 2.max_minor (0: 2.13) */
} RelayOptions;

typedef struct Relay Relay;

/* net://HOST[:CONTROL_PORT[:DATA_PORT]] (also tcp://, or a bare HOST).
 * Returns 0, or -1 with a message in err. */
int relay_parse_url(const char *url, RelayTarget *t, char *err, size_t errlen);

/* Connect both sockets, check the protocol version and create the session.
 * Returns NULL with a message in err (nothing left open). */
Relay *relay_connect(const RelayTarget *t, const RelayOptions *opt, char *err, size_t errlen);

/* `etrace record --relay URL [--session NAME]`: parse URL, name the session
 * (default "etrace-YYYYMMDD-HHMMSS", local time, as LTTng's "auto-"
 * sessions), file it under this host's name, connect.  live_timer_s is
 * the period at which the recorder flushes packets and sends beacons.
 * Returns NULL with a message in err. */
Relay *relay_open(const char *url, const char *session, double live_timer_s, char *err,
                  size_t errlen);

/* The sink that ctf_open() hands the trace to (metadata, packets, beacons). */
CtfSink relay_sink(Relay *r);

/* The first error met (empty when none). */
const char *relay_error(const Relay *r);

/* The session's directory, relative to the relay's output. */
const char *relay_path(const Relay *r);

/* Wait (bounded) until the relay has written all the data sent, give live
 * viewers one live period, close the streams (and the trace chunk),
 * disconnect and free.  Returns 0, or -1 when the relay failed at any
 * point (its first error copied to err, when err is not NULL). */
int relay_close(Relay *r, char *err, size_t errlen);

#endif
