/* writer.c - drive the CTF writer (src/formats/ctf.c) with synthetic records,
 * no kernel involved: every field kind, small packets, out-of-order
 * timestamps, losses.  tests/record/ctf/run.sh reads the trace with babeltrace2.
 *
 *   writer DIR     writes the trace, prints what babeltrace2 must show:
 *                  "events N", "discarded N", "reordered N", "clamped N"
 */
#include "formats/ctf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CtfField f_all[] = {
  {.name = "u8", .kind = CTF_INT, .size = 1},
  {.name = "s16", .kind = CTF_INT, .size = 2, .is_signed = true},
  {.name = "s32", .kind = CTF_INT, .size = 4, .is_signed = true},
  {.name = "ptr", .kind = CTF_INT, .size = 8, .hex = true},
  {.name = "arr", .kind = CTF_INT, .size = 4, .count = 3},
  {.name = "comm", .kind = CTF_TEXT, .count = 16},
  {.name = "str", .kind = CTF_STRING, .slot = 32},
  {.name = "seq", .kind = CTF_SEQ, .size = 8, .slot = 2 + 8 * 4},
  {.name = "last", .kind = CTF_STRING, .slot = 8},
};
static CtfField f_one[] = {
  {.name = "seqno", .kind = CTF_INT, .size = 8},
};
static CtfClass classes[] = {
  {.name = "all_kinds", .fields = f_all, .nfields = sizeof f_all / sizeof *f_all},
  {.name = "tick", .fields = f_one, .nfields = 1},
  {.name = "empty"},
};

static unsigned char rec[1024];

static void header(int id, uint64_t ts, int pid) {
  memset(rec, 0xee, sizeof rec); /* garbage where the producer writes nothing */
  uint16_t i = id;
  memcpy(rec + CTF_EV_ID, &i, 2);
  memcpy(rec + CTF_EV_TIMESTAMP, &ts, 8);
  memcpy(rec + CTF_EV_PID, &pid, 4);
  memcpy(rec + CTF_EV_TID, &pid, 4);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: writer DIR\n");
    return 2;
  }
  char err[256];
  CtfOptions opt = {.trace_name = "writer-test", .packet_size = 512, .start_ns = 1000};
  CtfWriter *w = ctf_open(argv[1], 2, classes, 3, &opt, err, sizeof err);
  if (!w) {
    fprintf(stderr, "ctf_open: %s\n", err);
    return 1;
  }
  const CtfClass *a = &classes[0];
  /* all_kinds on CPU 0 */
  header(0, 2000, 42);
  unsigned char *p = rec + CTF_EVENT_HEADER_SIZE;
  uint8_t u8 = 200; int16_t s16 = -300; int32_t s32 = -70000; uint64_t ptr = 0xffffffff81000000ull;
  uint32_t arr[3] = {1, 2, 3};
  memcpy(p, &u8, 1); p += 1;
  memcpy(p, &s16, 2); p += 2;
  memcpy(p, &s32, 4); p += 4;
  memcpy(p, &ptr, 8); p += 8;
  memcpy(p, arr, 12); p += 12;
  memset(p, 0, 16); memcpy(p, "swapper/0", 9); p += 16;
  if (p - rec != a->fixed_size) {
    fprintf(stderr, "fixed size %d, expected %d\n", (int)(p - rec), a->fixed_size);
    return 1;
  }
  strcpy((char *)p, "hello, world"); p += 32;
  uint16_t cnt = 2; uint64_t seq[2] = {7, 0xabc};
  memcpy(p, &cnt, 2); memcpy(p + 2, seq, 16); p += 2 + 32;
  memcpy(p, "12345678", 8); p += 8;  /* no NUL in the slot: cut to 7 */
  ctf_event(w, 0, rec, p - rec);
  header(2, 2100, 42);
  ctf_event(w, 0, rec, CTF_EVENT_HEADER_SIZE);

  /* ticks on CPU 1, with timestamps out of order; 512-byte packets hold
   * about 24 ticks (26 bytes each) */
  static const uint64_t ts[] = {
    3000, 3010, 3005,              /* one back */
    3020, 3030, 3040, 2990,        /* back to the start of the packet */
  };
  uint64_t n = 0, reordered = 3;   /* 3005, 2990, then 4015 below */
  for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
    header(1, ts[i], 7);
    memcpy(rec + CTF_EVENT_HEADER_SIZE, &n, 8);
    n++;
    ctf_event(w, 1, rec, CTF_EVENT_HEADER_SIZE + 8);
  }
  for (int i = 0; i < 40; i++) {   /* fill a few packets */
    header(1, 4000 + 10 * i, 7);
    memcpy(rec + CTF_EVENT_HEADER_SIZE, &n, 8);
    n++;
    ctf_event(w, 1, rec, CTF_EVENT_HEADER_SIZE + 8);
    if (i == 5) {
      header(1, 4015, 7);          /* between two events of this packet */
      memcpy(rec + CTF_EVENT_HEADER_SIZE, &n, 8);
      n++;
      ctf_event(w, 1, rec, CTF_EVENT_HEADER_SIZE + 8);
    }
  }
  ctf_set_discarded(w, 1, 5);
  ctf_flush(w);
  /* after a flush, an event older than the last packet's end is clamped */
  header(1, 4100, 7);
  memcpy(rec + CTF_EVENT_HEADER_SIZE, &n, 8);
  n++;
  ctf_event(w, 1, rec, CTF_EVENT_HEADER_SIZE + 8);
  ctf_set_discarded(w, 1, 9);      /* 4 more after the last packet */
  ctf_set_discarded(w, 0, 3);      /* CPU 0: 3, never in an event packet */
  CtfStats st;
  if (ctf_close(w, 10000, &st) < 0) {
    fprintf(stderr, "ctf_close failed\n");
    return 1;
  }
  printf("events %llu\ndiscarded %llu\nreordered %llu\nclamped %llu\n",
         (unsigned long long)st.events, (unsigned long long)st.discarded,
         (unsigned long long)st.reordered, (unsigned long long)st.clamped);
  if (st.events != n + 2 || st.discarded != 12 || st.reordered != reordered || st.clamped != 1) {
    fprintf(stderr, "unexpected stats (want events %llu, discarded 12, reordered %llu, clamped 1)\n",
            (unsigned long long)(n + 2), (unsigned long long)reordered);
    return 1;
  }
  return 0;
}
