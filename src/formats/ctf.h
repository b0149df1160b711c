/* ctf.h - CTF 1.8 trace writer (docs/lttng.md describes the kernel profile).
 *
 * A trace is a directory holding `metadata` (TSDL text, written first via
 * a temporary file and a rename) and one stream file per CPU,
 * `channel0_<cpu>`, made of whole packets appended with one write(2).
 *
 * Layout (byte-packed, little-endian, every basic type align = 8 bits):
 *
 *   packet: header {u32 magic, u8 uuid[16], u32 stream_id,
 *                   u64 stream_instance_id = cpu}                  24+8 B
 *           context {u64 timestamp_begin, timestamp_end, content_size,
 *                    packet_size, packet_seq_num, events_discarded;
 *                    u32 cpu_id}                                     52 B
 *           events...
 *   event:  header {u16 id, u64 timestamp}  context {i32 _pid, i32 _tid}
 *           payload: fixed fields, then variable fields (strings, sequences)
 *
 * The producer (BPF) writes each event as a record whose bytes are the
 * event's own bytes, except that every variable field sits in a fixed slot
 * of `slot` bytes: a NUL-terminated string, or a u16 element count followed
 * by the elements.  ctf_event() packs the slots and appends the event to
 * the stream's open packet; nothing is formatted as text on that path.
 */
#ifndef ETRACE_CTF_H
#define ETRACE_CTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CTF_PACKET_HEADER_SIZE 84   /* packet header + packet context */
#define CTF_EVENT_HEADER_SIZE 18    /* id, timestamp, _pid, _tid */
#define CTF_EV_ID 0                 /* u16 */
#define CTF_EV_TIMESTAMP 2          /* u64 */
#define CTF_EV_PID 10               /* i32 (tgid) */
#define CTF_EV_TID 14               /* i32 */
#define CTF_MAGIC 0xC1FC1FC1u

typedef enum {
  CTF_INT,      /* integer of `size` bytes; an array when count > 0 */
  CTF_TEXT,     /* char[count] shown as a string (NUL ends it) */
  CTF_STRING,   /* variable: NUL-terminated string in a slot */
  CTF_SEQ,      /* variable: u16 count, then count integers of `size` bytes */
} CtfKind;

typedef struct CtfField {
  const char *name;    /* as the reader shows it (no '_' prefix) */
  CtfKind kind;
  int size;            /* CTF_INT / CTF_SEQ: element size in bytes, 1..8 */
  bool is_signed;
  bool hex;            /* print in base 16 (pointers) */
  bool oct;            /* print in base 8 (flag sets LTTng declares so) */
  bool net_order;      /* big-endian (CTF byte_order = network) */
  int count;           /* CTF_INT array length (0: scalar); CTF_TEXT length */
  int slot;            /* CTF_STRING / CTF_SEQ: bytes reserved in the record */
} CtfField;

typedef struct CtfClass {
  const char *name;
  CtfField *fields;    /* fixed fields first, then variable ones */
  int nfields;
  /* computed by ctf_layout() */
  int fixed_size;      /* event header + context + fixed fields */
  int record_size;     /* fixed_size + all slots: what the producer writes */
  int max_size;        /* largest packed event */
  int first_var, nvar; /* variable fields: fields[first_var .. +nvar) */
} CtfClass;

/* Compute the class's sizes.  Returns -1 when a variable field precedes a
 * fixed one or a size is invalid. */
int ctf_layout(CtfClass *c);
/* The bytes that n context fields (CtfOptions.context) take: -1 when one
 * is not of fixed size. */
int ctf_context_size(const CtfField *f, int n);

/* Byte offset of fixed field i inside the event (after ctf_layout). */
int ctf_field_offset(const CtfClass *c, int i);

/* Where finished packets go when not to stream files in a directory: the
 * writer hands each packet, whole, with the fields of its packet index
 * (a relay daemon's live viewers seek with them). */
typedef struct CtfPacketInfo {
  int cpu;                  /* the stream (stream_instance_id) */
  uint64_t ts_begin, ts_end;
  uint64_t content_bits, size_bits;
  uint64_t seq;             /* packet_seq_num */
  uint64_t discarded;       /* events_discarded, cumulative */
  uint64_t events;          /* events in the packet */
} CtfPacketInfo;

typedef struct CtfSink {
  void *ctx;
  /* Once, before any packet: nstreams streams and the metadata text.
   * 0, or -1 when the sink cannot take the trace. */
  int (*open)(void *ctx, int nstreams, const char *metadata, size_t len);
  /* One whole packet: 0, or -1 with errno (the packet is lost). */
  int (*packet)(void *ctx, const void *buf, size_t len, const CtfPacketInfo *pi);
  /* Stream `cpu` has no event before ts (a live beacon); may be NULL. */
  int (*idle)(void *ctx, int cpu, uint64_t ts);
} CtfSink;

typedef struct CtfOptions {
  const char *trace_name;   /* env trace_name (default: the directory name) */
  const char *command;      /* env command, when a -c command is traced */
  size_t packet_size;       /* bytes of content before a packet is closed */
  uint64_t start_ns;        /* CLOCK_MONOTONIC when recording starts */
  bool lttng_kernel;        /* env of an LTTng kernel trace:
                               domain "kernel", tracer lttng-modules 2.13 */
  const CtfField *context;  /* more event context after _pid and _tid (as
                               `lttng add-context`): fixed-size CTF_INT
                               scalars or CTF_TEXT; each record carries
                               their values after its class's record_size
                               bytes, and ctf_event() moves them in place */
  int ncontext;
  const CtfSink *sink;      /* NULL: stream files in the directory; else the
                               sink takes the metadata and the packets, each
                               stream starts with an empty packet, and
                               ctf_flush() sends beacons for idle streams */
  bool tee;                 /* with sink: the stream files in the directory
                               too; a sink that fails is then left (its
                               events counted as undelivered) and the files
                               go on */
} CtfOptions;

typedef struct CtfWriter CtfWriter;

/* Create DIR (which must not exist, or be empty), write the metadata for
 * `classes` (ids are their indexes), open one stream file per CPU.
 * With opt->sink, DIR only names the trace: nothing is written locally.
 * Returns NULL with a message in err. */
CtfWriter *ctf_open(const char *dir, int ncpus, CtfClass *classes, int nclasses,
                    const CtfOptions *opt, char *err, size_t errlen);

/* Count the events of classes [first, last) as they are appended: a
 * snapshot trigger (ctf_triggered() returns the count so far). */
void ctf_set_trigger(CtfWriter *w, int first, int last);
uint64_t ctf_triggered(const CtfWriter *w);

/* Packets handed to a sink, rewritten (snapshots): set the cumulative
 * events_discarded of pkt; build an empty packet of the same trace and
 * stream covering [ts, ts]. */
void ctf_packet_set_discarded(unsigned char *pkt, uint64_t discarded);
void ctf_packet_empty_like(unsigned char out[CTF_PACKET_HEADER_SIZE], const unsigned char *pkt,
                           uint64_t ts, uint64_t seq, uint64_t discarded);

/* Append one record (see above) produced on `cpu`.  The hot path. */
void ctf_event(CtfWriter *w, int cpu, const void *rec, size_t size);

/* Update the cumulative count of events lost on `cpu` (never decreases). */
void ctf_set_discarded(CtfWriter *w, int cpu, uint64_t total);

/* With tee: the sink has failed (the files go on). */
bool ctf_sink_failed(const CtfWriter *w);

/* Close every open packet that holds events (the periodic flush).  A
 * sink's idle streams are announced as having no event before the
 * previous flush. */
int ctf_flush(CtfWriter *w);
/* The same, announcing idle streams up to `quiet`: the caller has handed
 * over every event older than that. */
int ctf_flush_at(CtfWriter *w, uint64_t quiet);

/* Close the open packets, write a final packet per CPU carrying the final
 * discarded count (stop_ns: the time recording stopped), fsync, free.
 * Fills *st (when not NULL) with the final figures.  Returns 0, or -1 when
 * some data could not be written. */
typedef struct CtfStats CtfStats;
int ctf_close(CtfWriter *w, uint64_t stop_ns, CtfStats *st);

struct CtfStats {
  uint64_t events;          /* events received (appended to packets) */
  uint64_t unwritten;       /* of those, events in packets not written */
  uint64_t bytes;           /* bytes written to stream files */
  uint64_t packets;         /* packets written */
  uint64_t discarded;       /* lost before the writer: sum of the per-CPU counts */
  uint64_t reordered;       /* events older than the previous one, moved back */
  uint64_t clamped;         /* events too old to move back: timestamp raised */
  uint64_t bad;             /* malformed records skipped */
  uint64_t packets_lost;    /* packets that could not be written */
  int write_errno;          /* the last write error, or 0 */
  bool sink_failed;         /* tee: the sink failed, the files went on */
  uint64_t undelivered;     /* tee: events the sink did not take */
};
void ctf_stats(const CtfWriter *w, CtfStats *st);

/* `etrace ctf repair DIR`: truncate each stream file after its last
 * complete packet.  Reports per file on `out`; with dry_run, only reports.
 * Returns the number of files changed (or that would change), -1 on error. */
int ctf_repair(const char *dir, FILE *out, bool dry_run);

/* The trace directory in DIR: DIR itself, or DIR/kernel when DIR is an
 * LTTng session directory (etrace record --profile kernel -o DIR) with no
 * metadata of its own.  Writes it to out (outlen bytes). */
const char *ctf_trace_dir(const char *dir, char *out, size_t outlen);

/* DIR must be new or empty; its missing parents are created.  -1 with
 * a message in err. */
int ctf_make_dir(const char *dir, char *err, size_t errlen);

#endif
