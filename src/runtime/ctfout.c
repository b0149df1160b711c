/* ctfout.c - `etrace -f ctf -o DIR -e PROGRAM`: printf events to a CTF
 * trace (out/ctf.c) instead of text.
 *
 * Each printf site becomes an event class, named printf_<site> (class id =
 * site index, so ids stay dense; other kinds of sites get an empty class
 * that is never written), whose fields are its arguments, arg0..argN:
 * integers as 64-bit integers with their signedness, strings as strings,
 * and values printed through a conversion of their own (usernames, probe
 * names, timestamps, buffers, addresses, errno) as their text.  The
 * format string itself never enters the trace.
 *
 * With -f ctf the code generator puts the event's time, pid_tgid and CPU
 * in front of each printf record's arguments (Compiled.ctf_records); the
 * record is then laid out as the CTF writer's input (out/ctf.h): header,
 * integer fields, then one slot per string.  Everything else the program
 * prints (maps at exit, print(), time()) still goes to the text output.
 *
 * `-o net://HOST[:PORT[:DATA_PORT]]` streams the trace to an lttng-relayd
 * instead (record/relay.h).  The run loop closes the open packets every
 * second (rt_ctf_tick), so live viewers see events within about a second.
 */
#include "etrace.h"
#include "load/load.h"
#include "runtime/rt.h"
#include "formats/ctf.h"
#include "record/relay.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_SLOT 256   /* a value printed as text */

static CtfClass *classes;
static int nclasses;
static unsigned char *recbuf;
static size_t recbuf_size;
static Relay *relay;       /* -o net://...: the relay the trace goes to */
static CtfSink relay_out;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Field of argument j: fixed (an integer) or a slot. */
static CtfField arg_field(const Type *t, int j) {
  CtfField f = {.name = eprintf("arg%d", j)};
  if (t->kind == TY_INT) {
    f.kind = CTF_INT;
    f.size = 8;
    f.is_signed = t->is_signed;
  } else {
    f.kind = CTF_STRING;
    f.slot = t->kind == TY_STR ? t->size + 1 : TEXT_SLOT;
  }
  return f;
}

int rt_ctf_open(Output *o, const char *dir) {
  const Compiled *c = o->c;
  nclasses = c->nsites;
  classes = calloc(nclasses ? nclasses : 1, sizeof *classes);
  size_t maxrec = 0;
  for (int i = 0; i < c->nsites; i++) {
    const Site *s = c->sites[i];
    CtfClass *cl = &classes[i];
    if (s->kind != REC_PRINTF) {
      cl->name = eprintf("site_%d", i);
      continue;
    }
    cl->name = eprintf("printf_%d", i);
    int n = s->args->nfields;
    cl->fields = ealloc(sizeof(CtfField) * (n ? n : 1));
    for (int pass = 0; pass < 2; pass++)   /* integers first, then slots */
      for (int j = 0; j < n; j++) {
        CtfField f = arg_field(s->args->fields[j], j);
        if ((f.kind == CTF_INT) == (pass == 0))
          cl->fields[cl->nfields++] = f;
      }
    if (ctf_layout(cl) < 0) {
      diag_fatal("-f ctf: cannot lay out the fields of printf site %d", i);
      return -1;
    }
    if ((size_t)cl->record_size > maxrec)
      maxrec = cl->record_size;
  }
  recbuf_size = maxrec + 8;
  recbuf = calloc(1, recbuf_size);
  CtfOptions opt = {.start_ns = mono_ns()};
  char err[512];
  if (!strncmp(dir, "net://", 6) || !strncmp(dir, "tcp://", 6)) {
    if (!(relay = relay_open(dir, NULL, 1.0, err, sizeof err))) {
      diag_fatal("%s", err);
      return -1;
    }
    relay_out = relay_sink(relay);
    opt.sink = &relay_out;
    dir = relay_path(relay);
  }
  o->ctf = ctf_open(dir, libbpf_num_possible_cpus(), classes, nclasses, &opt, err, sizeof err);
  if (!o->ctf) {
    diag_fatal("%s%s%s", err, relay ? ": " : "", relay ? relay_error(relay) : "");
    relay_close(relay, NULL, 0);
    relay = NULL;
    return -1;
  }
  return 0;
}

int rt_ctf_tick(Output *o, void (*drain)(void *arg), void *arg) {
  uint64_t quiet = mono_ns() - 1000000; /* older events are in the rings (1 ms margin) */
  drain(arg);
  return ctf_flush_at(o->ctf, quiet) < 0 && relay ? -1 : 0;
}

/* rec: u64 ts, u64 pid_tgid, u64 cpu, then the arguments (site->args). */
void rt_ctf_printf(Output *o, int site, const void *rec, size_t size) {
  const Compiled *c = o->c;
  if (site < 0 || site >= nclasses || size < 24)
    return;
  const Site *s = c->sites[site];
  const CtfClass *cl = &classes[site];
  if (size < 24 + (size_t)s->args->size)
    return;
  const unsigned char *p = rec;
  uint64_t ts, pid_tgid, cpu;
  memcpy(&ts, p, 8);
  memcpy(&pid_tgid, p + 8, 8);
  memcpy(&cpu, p + 16, 8);
  const unsigned char *args = p + 24;
  unsigned char *r = recbuf;
  memset(r, 0, cl->record_size);
  uint16_t id = site;
  int32_t pid = pid_tgid >> 32, tid = (int32_t)pid_tgid;
  memcpy(r + CTF_EV_ID, &id, 2);
  memcpy(r + CTF_EV_TIMESTAMP, &ts, 8);
  memcpy(r + CTF_EV_PID, &pid, 4);
  memcpy(r + CTF_EV_TID, &tid, 4);
  int fixed = CTF_EVENT_HEADER_SIZE;
  size_t slot = cl->fixed_size;
  int k = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int j = 0; j < s->args->nfields; j++) {
      const Type *t = s->args->fields[j];
      const unsigned char *v = args + s->args->offsets[j];
      bool is_int = t->kind == TY_INT;
      if (is_int != (pass == 0))
        continue;
      const CtfField *f = &cl->fields[k++];
      if (is_int) {
        memcpy(r + fixed, v, 8);   /* stored as 8 bytes, extended */
        fixed += 8;
      } else if (t->kind == TY_STR) {
        memcpy(r + slot, v, t->size);
        r[slot + t->size] = 0;
        slot += f->slot;
      } else {
        Buf b = {0};
        rt_format_value(&b, t, v, OUT_TEXT);
        size_t n = b.len < (size_t)f->slot - 1 ? b.len : (size_t)f->slot - 1;
        if (n)
          memcpy(r + slot, b.data, n);
        r[slot + n] = 0;
        buf_free(&b);
        slot += f->slot;
      }
    }
  ctf_event(o->ctf, (int)cpu, r, cl->record_size);
}

int rt_ctf_close(Output *o) {
  /* Records the ring buffer could not take (per CPU, key 0 of the loss
   * counter) become the streams' discarded-event counts. */
  int ncpu = libbpf_num_possible_cpus();
  uint64_t *lost = calloc(ncpu, sizeof *lost), totals[3];
  if (lost && rt_drops_read(load_map_fd(o->c, ".drops"), totals, lost, ncpu))
    for (int i = 0; i < ncpu; i++)
      ctf_set_discarded(o->ctf, i, lost[i]);
  free(lost);
  CtfStats st;
  int rc = ctf_close(o->ctf, mono_ns(), &st);
  o->ctf = NULL;
  char rerr[512] = "";
  if (relay && relay_close(relay, rerr, sizeof rerr) < 0)
    rc = -1;
  relay = NULL;
  fprintf(stderr, "etrace: %llu printf events written to the CTF trace\n",
          (unsigned long long)(st.events - st.unwritten));
  if (rerr[0])
    fprintf(stderr, "etrace: %s: %llu events not delivered\n", rerr,
            (unsigned long long)st.unwritten);
  if (st.clamped)
    fprintf(stderr, "etrace: %llu events arrived too late to be put in order on their CPU; "
                    "their timestamps were raised\n", (unsigned long long)st.clamped);
  free(classes);
  free(recbuf);
  classes = NULL;
  recbuf = NULL;
  return rc;
}
