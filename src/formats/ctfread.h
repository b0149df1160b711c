/* ctfread.h - reader for the CTF traces etrace writes (out/ctf.h layout),
 * for `etrace convert`.
 *
 * It parses our own metadata (the TSDL that out/ctf.c emits, not TSDL in
 * general) into CtfClass descriptions, then walks every packet of every
 * stream file, checking each size against what is left of the file and of
 * the packet, so that a truncated or corrupt trace gives an error naming
 * the file, the packet and the byte offset, never a read out of bounds.
 * Events of all streams are merged in timestamp order (ties: lower CPU
 * first, then file order), as babeltrace2's muxer does.
 */
#ifndef ETRACE_CTFREAD_H
#define ETRACE_CTFREAD_H

#include "formats/ctf.h"

typedef struct CtfrEvent {
  uint64_t ts;                 /* clock cycles (ns of CLOCK_MONOTONIC) */
  uint32_t cpu;                /* the packet's cpu_id */
  uint16_t id;                 /* class index */
  int32_t pid, tid;            /* stream event context */
  const unsigned char *p;      /* payload */
  uint32_t len;                /* payload bytes */
} CtfrEvent;

typedef struct CtfTrace {
  CtfClass *classes;
  int nclasses;
  char *hostname;              /* env hostname (may be NULL) */
  char *domain;                /* env domain: "kernel" for --profile kernel */
  int64_t clock_offset_ns;     /* realtime - monotonic at recording */
  CtfrEvent *ev;               /* merged, in time order */
  size_t nev;
  uint64_t discarded;          /* events_discarded, summed over streams */
  int ctx_size;                /* event context bytes after _pid, _tid (skipped) */
  int nfiles;
  unsigned char **data;        /* file contents (owned) */
} CtfTrace;

/* Read the whole trace in DIR.  NULL after an error, described in err
 * ("DIR/channel0_1: packet 3 at byte 8192: ..."). */
CtfTrace *ctfr_open(const char *dir, char *err, size_t errlen);
void ctfr_free(CtfTrace *t);

/* One decoded field of an event's payload. */
typedef struct CtfrVal {
  const CtfField *f;
  const unsigned char *data;   /* first element (INT, SEQ), bytes (TEXT, STRING) */
  int count;                   /* elements (INT array, SEQ); text bytes before NUL */
} CtfrVal;

/* Decode the payload of e into vals (room for the class's nfields).
 * Returns the number of fields.  Sizes were checked by ctfr_open. */
int ctfr_fields(const CtfTrace *t, const CtfrEvent *e, CtfrVal *vals);

/* Element i of an integer field, sign-extended when signed. */
int64_t ctfr_int(const CtfrVal *v, int i);

/* Print element i of an integer field: in decimal (signed or not), or
 * through hex_fmt (a printf format taking one unsigned long long) when the
 * field is shown in hex. */
void ctfr_print_int(FILE *f, const CtfrVal *v, int i, const char *hex_fmt);

/* The index of field `name` of a class, or -1. */
int ctfr_field_index(const CtfClass *c, const char *name);

#endif
