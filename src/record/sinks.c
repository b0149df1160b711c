/* sinks.c - where `etrace record`'s packets go besides (or instead of)
 * -o DIR: an lttng-relayd (--relay, relay.c) or the flight recorder
 * (--snapshot, snapshot.c); their options and checks. */
#include "etrace.h"
#include "record/record.h"

#include <stdio.h>
#include <stdlib.h>

/* --relay, --session, --live-timer, --snapshot, --trigger. */
int rec_sink_option(Rec *r, int ch, const char *arg) {
  char *end;
  switch (ch) {
  case REC_OPT_RELAY: r->relay_url = arg; break;
  case REC_OPT_SESSION: r->session = arg; break;
  case REC_OPT_LIVE_TIMER:
    r->flush_s = strtod(arg, &end);
    if (*end || !(r->flush_s >= 0.01 && r->flush_s <= 3600)) {
      diag_fatal("invalid --live-timer '%s': expected seconds, 0.01 to 3600", arg);
      return -1;
    }
    break;
  case REC_OPT_SNAPSHOT:
    if (!(r->snap_size = snap_parse_size(arg)) || r->snap_size < 4096) {
      diag_fatal("invalid --snapshot size '%s': expected bytes per CPU, at least 4K, e.g. 64M",
                 arg);
      return -1;
    }
    break;
  case REC_OPT_TRIGGER: r->trigger = arg; break;
  }
  return 0;
}

/* --relay / --snapshot / --trigger / --session combinations. */
int rec_check_sink_options(const Rec *r) {
  if (r->snap_size && r->relay_url) {
    diag_fatal("--snapshot writes snapshots under -o DIR: not with --relay");
    return -1;
  }
  if (r->trigger && !r->snap_size) {
    diag_fatal("--trigger needs --snapshot SIZE");
    return -1;
  }
  if (r->session && !r->relay_url) {
    diag_fatal("--session needs --relay");
    return -1;
  }
  return 0;
}

/* Where the packets go besides (or instead of) -o DIR: the relay, or the
 * flight recorder.  Fills copt->sink with *sink. */
int rec_open_sink(Rec *r, CtfOptions *copt, CtfSink *sink) {
  char err[512];
  if (r->relay_url) {
    if (!(r->relay = relay_open(r->relay_url, r->session, r->flush_s, err, sizeof err))) {
      diag_fatal("%s", err);
      return -1;
    }
    *sink = relay_sink(r->relay);
    copt->sink = sink;
    copt->trace_name = r->session;
    snprintf(r->relay_dir, sizeof r->relay_dir, "%s", relay_path(r->relay));
    copt->tee = r->tee = r->dir != NULL;
    if (!r->dir)
      r->dir = r->relay_dir;
  }
  if (r->snap_size) {
    if (!(r->snap = snap_new(r->dir, r->snap_size, err, sizeof err))) {
      diag_fatal("%s", err);
      return -1;
    }
    *sink = snap_sink(r->snap);
    copt->sink = sink;
    /* several packets per SIZE, so that the oldest go a little at a time */
    size_t ps = r->snap_size / 8;
    copt->packet_size = ps < 4096 ? 4096 : ps > (1u << 20) ? 1u << 20 : ps;
  }
  return 0;
}

/* After ctf_close: close the session on the relay (waiting until it has
 * written everything).  -1 when events were not delivered and no local
 * copy has them (the reason in err). */
int rec_close_relay(Rec *r, const CtfStats *st, char *err, size_t errlen) {
  if (!r->relay)
    return 0;
  int rc = relay_close(r->relay, err, errlen);
  r->relay = NULL;
  if (r->tee && err[0])
    fprintf(stderr, "etrace: %s: %llu events not delivered to the relay (all of them are in %s)\n",
            err, (unsigned long long)st->undelivered, r->dir);
  return r->tee ? 0 : rc;
}

