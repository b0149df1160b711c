/* ctf.c - CTF 1.8 writer: metadata, per-CPU packets, repair.
 *
 * Rules that shape this file:
 *  - metadata starts with the CTF 1.8 signature and is written before any
 *    data, via a hidden temporary file, fsync and rename (§1.2, §4.5);
 *  - one stream file per CPU with a unique stream_instance_id (§1.1);
 *  - each packet is built in memory and appended with one write(2), so a
 *    crash leaves whole packets only, except for a write cut short (§4.5);
 *  - events_discarded is a cumulative per-CPU counter sampled at packet
 *    close; the first packet of a stream carries 0 (an empty packet is
 *    written first if needed) so that every loss is reported with its
 *    count (§4.4);
 *  - timestamps never decrease within a stream: a record older than the
 *    last one written is clamped and counted; packet begin/end come from
 *    the first/last event (§4.3);
 *  - a final packet per CPU carries the final discarded count (§4.2).
 * With a sink (CtfOptions.sink, e.g. a relay daemon) the same packets go
 * to the sink instead of stream files, or to both (CtfOptions.tee).
 */
#include "formats/ctf.h"
#include "etrace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Packet header/context offsets. */
enum {
  PK_MAGIC = 0,
  PK_UUID = 4,
  PK_STREAM_ID = 20,
  PK_INSTANCE = 24,
  PK_TS_BEGIN = 32,
  PK_TS_END = 40,
  PK_CONTENT = 48,
  PK_SIZE = 56,
  PK_SEQ = 64,
  PK_DISCARDED = 72,
  PK_CPU = 80,
};

/* Events of one CPU can reach us slightly out of order: a program
 * interrupted between its ring-buffer reservation and its clock read by
 * another program (an interrupt's tracepoint) on the same CPU.  An event
 * older than the last one is moved back among the open packet's last
 * WINDOW events; only one older than all of those is clamped. */
#define WINDOW 32

typedef struct Stream {
  int fd;
  int cpu;
  unsigned char *buf;       /* the open packet; header at 0 */
  size_t len;               /* bytes used, header included */
  uint64_t pkt_events;
  uint64_t ts_begin;        /* first event of the open packet */
  uint64_t ts_last;         /* last event written to this stream */
  uint64_t last_end;        /* timestamp_end of the last packet written */
  uint64_t seq;             /* next packet_seq_num */
  uint64_t kdiscarded;      /* lost before us (ring buffer), cumulative */
  uint64_t wdiscarded;      /* in packets we failed to write, cumulative */
  uint64_t last_discarded;  /* value in the last packet written */
  uint64_t written;         /* packets in the file */
  off_t file_size;
  /* the last WINDOW events of the open packet: offsets and timestamps */
  uint32_t win_off[WINDOW];
  uint64_t win_ts[WINDOW];
  unsigned win_head, win_n;
} Stream;

struct CtfWriter {
  char *dir;
  int ncpus;
  Stream *s;
  CtfClass *classes;
  int nclasses;
  unsigned char uuid[16];
  size_t cap;               /* packet buffer size */
  unsigned char *scratch;   /* one event, while it is moved back */
  uint64_t start_ns;
  const CtfSink *sink;      /* NULL: stream files only */
  bool files;               /* stream files in dir (no sink, or tee) */
  uint64_t last_flush_ns;   /* the previous ctf_flush() */
  int trig_first, trig_last;  /* classes counted as triggers */
  uint64_t triggered;
  bool contiguous;          /* LTTng's packets: each stream covers start..stop */
  const CtfField *context;  /* more event context (CtfOptions.context) */
  int ncontext;
  int ctx_size;             /* their bytes, after each record's record_size */
  CtfStats st;
};

static void put16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* ------------------------------------------------------------ layout */

static int field_fixed_size(const CtfField *f) {
  switch (f->kind) {
  case CTF_INT: return f->size * (f->count > 0 ? f->count : 1);
  case CTF_TEXT: return f->count;
  default: return 0;
  }
}

int ctf_layout(CtfClass *c) {
  int fixed = CTF_EVENT_HEADER_SIZE, slots = 0;
  c->first_var = c->nfields;
  c->nvar = 0;
  for (int i = 0; i < c->nfields; i++) {
    const CtfField *f = &c->fields[i];
    bool var = f->kind == CTF_STRING || f->kind == CTF_SEQ;
    if ((f->kind == CTF_INT || f->kind == CTF_SEQ) &&
        f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8)
      return -1;
    if (var) {
      if (c->nvar == 0)
        c->first_var = i;
      c->nvar++;
      if (f->kind == CTF_STRING && f->slot < 1)
        return -1;
      if (f->kind == CTF_SEQ && (f->slot < 2 || (f->slot - 2) % f->size))
        return -1;
      slots += f->slot;
    } else {
      if (c->nvar)
        return -1;   /* fixed after variable */
      if (f->kind == CTF_TEXT && f->count < 1)
        return -1;
      fixed += field_fixed_size(f);
    }
  }
  c->fixed_size = fixed;
  c->record_size = fixed + slots;
  c->max_size = fixed + slots;
  return 0;
}

int ctf_context_size(const CtfField *f, int n) {
  int size = 0;
  for (int i = 0; i < n; i++) {
    if (f[i].kind == CTF_TEXT && f[i].count > 0)
      size += f[i].count;
    else if (f[i].kind == CTF_INT && f[i].count == 0 &&
             (f[i].size == 1 || f[i].size == 2 || f[i].size == 4 || f[i].size == 8))
      size += f[i].size;
    else
      return -1;
  }
  return size;
}

int ctf_field_offset(const CtfClass *c, int i) {
  int off = CTF_EVENT_HEADER_SIZE;
  for (int j = 0; j < i && j < c->first_var; j++)
    off += field_fixed_size(&c->fields[j]);
  return off;
}

/* ------------------------------------------------------------ metadata */

static void tsdl_string(Buf *b, const char *s) {
  buf_put(b, "\"", 1);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\')
      buf_put(b, "\\", 1);
    if ((unsigned char)*s < 0x20)
      buf_put(b, " ", 1);
    else
      buf_put(b, s, 1);
  }
  buf_put(b, "\"", 1);
}

static void tsdl_int(Buf *b, const CtfField *f) {
  buf_printf(b, "integer { size = %d; align = 8; signed = %s;%s%s }", f->size * 8,
             f->is_signed ? "true" : "false",
             f->hex ? " base = 16;" : f->oct ? " base = 8;" : "",
             f->net_order ? " byte_order = network;" : "");
}

static void tsdl_field(Buf *b, const CtfField *f) {
  buf_printf(b, "\t\t");
  switch (f->kind) {
  case CTF_INT:
    tsdl_int(b, f);
    buf_printf(b, " _%s", f->name);
    if (f->count > 0)
      buf_printf(b, "[%d]", f->count);
    break;
  case CTF_TEXT:
    buf_printf(b, "integer { size = 8; align = 8; signed = false; encoding = UTF8; } _%s[%d]",
               f->name, f->count);
    break;
  case CTF_STRING:
    buf_printf(b, "string { encoding = UTF8; } _%s", f->name);
    break;
  case CTF_SEQ:
    buf_printf(b, "uint16_t __%s_length;\n\t\t", f->name);
    tsdl_int(b, f);
    buf_printf(b, " _%s[ __%s_length ]", f->name, f->name);
    break;
  }
  buf_printf(b, ";\n");
}

static void uuid_str(char out[37], const unsigned char u[16]) {
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
           u[13], u[14], u[15]);
}

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, read between two monotonic reads. */
static int64_t realtime_offset(void) {
  uint64_t m1 = clock_ns(CLOCK_MONOTONIC);
  uint64_t r = clock_ns(CLOCK_REALTIME);
  uint64_t m2 = clock_ns(CLOCK_MONOTONIC);
  return (int64_t)(r - (m1 + (m2 - m1) / 2));
}

static void build_metadata(Buf *b, const CtfWriter *w, const CtfOptions *opt) {
  char uuid[37];
  uuid_str(uuid, w->uuid);
  struct utsname u;
  uname(&u);
  char boot_id[64] = "";
  char *bid = read_file("/proc/sys/kernel/random/boot_id", NULL);
  if (bid) {
    snprintf(boot_id, sizeof boot_id, "%.36s", bid);
    free(bid);
  }
  char date[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%Y%m%dT%H%M%S+0000", &tm);
  int64_t off = realtime_offset();

  buf_printf(b, "/* CTF 1.8 */\n\n"
                "typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
                "typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n"
                "typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
                "typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
                "typealias integer { size = 32; align = 8; signed = true; } := int32_t;\n"
                "typealias integer { size = 64; align = 8; signed = true; } := int64_t;\n\n");
  buf_printf(b, "trace {\n\tmajor = 1;\n\tminor = 8;\n\tuuid = \"%s\";\n\tbyte_order = le;\n"
                "\tpacket.header := struct {\n\t\tuint32_t magic;\n\t\tuint8_t uuid[16];\n"
                "\t\tuint32_t stream_id;\n\t\tuint64_t stream_instance_id;\n\t};\n};\n\n",
             uuid);
  buf_printf(b, "env {\n\thostname = ");
  tsdl_string(b, u.nodename);
  /* The kernel profile claims lttng-modules 2.13 so that Trace Compass
   * picks its Lttng29 event layout; etrace is named in
   * tracer_version / ebpf_tracer. */
  buf_printf(b, ";\n\tdomain = \"%s\";\n\tsysname = ", opt->lttng_kernel ? "kernel" : "etrace");
  tsdl_string(b, u.sysname);
  buf_printf(b, ";\n\tkernel_release = ");
  tsdl_string(b, u.release);
  buf_printf(b, ";\n\tkernel_version = ");
  tsdl_string(b, u.version);
  if (opt->lttng_kernel)
    buf_printf(b, ";\n\ttracer_name = \"lttng-modules\";\n\ttracer_major = 2;\n"
                  "\ttracer_minor = 13;\n\ttracer_patchlevel = 0;\n"
                  "\ttrace_buffering_scheme = \"global\";\n"
                  "\tebpf_tracer = \"etrace %s\";\n\ttrace_name = ",
               ETRACE_VERSION);
  else
    buf_printf(b, ";\n\ttracer_name = \"etrace\";\n\ttracer_major = 0;\n\ttracer_minor = 1;\n"
                  "\ttracer_patchlevel = 0;\n\ttracer_version = \"%s\";\n\ttrace_name = ",
               ETRACE_VERSION);
  tsdl_string(b, opt->trace_name);
  buf_printf(b, ";\n\ttrace_creation_datetime = \"%s\";\n", date);
  if (opt->command) {
    buf_printf(b, "\tcommand = ");
    tsdl_string(b, opt->command);
    buf_printf(b, ";\n");
  }
  buf_printf(b, "};\n\n");
  buf_printf(b, "clock {\n\tname = \"monotonic\";\n");
  if (boot_id[0])
    buf_printf(b, "\tuuid = \"%s\";\n", boot_id);
  buf_printf(b, "\tdescription = \"Monotonic Clock\";\n\tfreq = 1000000000;\n\tprecision = 1;\n"
                "\toffset_s = %lld;\n\toffset = %lld;\n\tabsolute = TRUE;\n};\n\n",
             (long long)(off / 1000000000), (long long)(off % 1000000000));
  buf_printf(b, "typealias integer { size = 64; align = 8; signed = false; "
                "map = clock.monotonic.value; } := uint64_clock_monotonic_t;\n\n");
  buf_printf(b, "stream {\n\tid = 0;\n\tpacket.context := struct {\n"
                "\t\tuint64_clock_monotonic_t timestamp_begin;\n"
                "\t\tuint64_clock_monotonic_t timestamp_end;\n"
                "\t\tuint64_t content_size;\n\t\tuint64_t packet_size;\n"
                "\t\tuint64_t packet_seq_num;\n\t\tuint64_t events_discarded;\n"
                "\t\tuint32_t cpu_id;\n\t};\n"
                "\tevent.header := struct {\n\t\tuint16_t id;\n"
                "\t\tuint64_clock_monotonic_t timestamp;\n\t};\n"
                "\tevent.context := struct {\n\t\tint32_t _pid;\n\t\tint32_t _tid;\n");
  for (int i = 0; i < w->ncontext; i++)
    tsdl_field(b, &w->context[i]);
  buf_printf(b, "\t};\n};\n");
  for (int i = 0; i < w->nclasses; i++) {
    const CtfClass *c = &w->classes[i];
    buf_printf(b, "\nevent {\n\tname = ");
    tsdl_string(b, c->name);
    buf_printf(b, ";\n\tid = %d;\n\tstream_id = 0;\n", i);
    if (c->nfields) {
      buf_printf(b, "\tfields := struct {\n");
      for (int j = 0; j < c->nfields; j++)
        tsdl_field(b, &c->fields[j]);
      buf_printf(b, "\t};\n");
    }
    buf_printf(b, "};\n");
  }
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t k = write(fd, c, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    c += k;
    n -= k;
  }
  return 0;
}

static int write_metadata(const char *dir, const Buf *b) {
  char tmp[4096], path[4096];
  snprintf(tmp, sizeof tmp, "%s/.metadata.tmp", dir);
  snprintf(path, sizeof path, "%s/metadata", dir);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -1;
  if (write_all(fd, b->data, b->len) < 0 || fsync(fd) < 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    errno = e;
    return -1;
  }
  close(fd);
  return rename(tmp, path);
}

/* The missing parents of DIR, as `mkdir -p` makes them. */
static int make_parents(const char *dir, char *err, size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *s = path + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = 0;
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
      snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
      return -1;
    }
    *s = '/';
  }
  return 0;
}

int ctf_make_dir(const char *dir, char *err, size_t errlen) {
  if (make_parents(dir, err, errlen) < 0)
    return -1;
  if (mkdir(dir, 0755) == 0)
    return 0;
  if (errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return -1;
  }
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
    return -1;
  }
  struct dirent *e;
  bool empty = true;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      empty = false;
  closedir(d);
  if (!empty) {
    snprintf(err, errlen, "%s is not empty: record into a new directory", dir);
    return -1;
  }
  return 0;
}

static bool write_packet(CtfWriter *w, Stream *s, unsigned char *buf, size_t len,
                         uint64_t ts_begin, uint64_t ts_end, uint64_t discarded);

CtfWriter *ctf_open(const char *dir, int ncpus, CtfClass *classes, int nclasses,
                    const CtfOptions *opt, char *err, size_t errlen) {
  size_t cap = opt->packet_size ? opt->packet_size : 1u << 20;
  int maxev = 0;
  for (int i = 0; i < nclasses; i++) {
    if (ctf_layout(&classes[i]) < 0) {
      snprintf(err, errlen, "event %s: invalid field layout", classes[i].name);
      return NULL;
    }
    if (classes[i].max_size > maxev)
      maxev = classes[i].max_size;
  }
  if (nclasses > 65535) {
    snprintf(err, errlen, "too many event classes (%d)", nclasses);
    return NULL;
  }
  int ctx_size = ctf_context_size(opt->context, opt->ncontext);
  if (ctx_size < 0) {
    snprintf(err, errlen, "event context: only fixed-size fields");
    return NULL;
  }
  cap += CTF_PACKET_HEADER_SIZE + maxev + ctx_size;
  if ((!opt->sink || opt->tee) && ctf_make_dir(dir, err, errlen) < 0)
    return NULL;

  CtfWriter *w = calloc(1, sizeof *w);
  w->dir = strdup(dir);
  w->ncpus = ncpus;
  w->classes = classes;
  w->nclasses = nclasses;
  w->cap = cap;
  w->scratch = malloc(maxev);
  w->start_ns = opt->start_ns ? opt->start_ns : clock_ns(CLOCK_MONOTONIC);
  w->last_flush_ns = w->start_ns;
  w->sink = opt->sink;
  w->files = !opt->sink || opt->tee;
  w->contiguous = opt->lttng_kernel;
  w->context = opt->context;
  w->ncontext = opt->ncontext;
  w->ctx_size = ctx_size;
  if (getrandom(w->uuid, sizeof w->uuid, 0) != sizeof w->uuid) {
    uint64_t a = clock_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32), b = clock_ns(CLOCK_MONOTONIC);
    memcpy(w->uuid, &a, 8);
    memcpy(w->uuid + 8, &b, 8);
  }
  w->uuid[6] = (w->uuid[6] & 0x0f) | 0x40;
  w->uuid[8] = (w->uuid[8] & 0x3f) | 0x80;

  CtfOptions o = *opt;
  if (!o.trace_name) {
    const char *slash = strrchr(dir, '/');
    o.trace_name = slash && slash[1] ? slash + 1 : dir;
  }
  Buf meta = {0};
  build_metadata(&meta, w, &o);
  bool file_err = w->files && write_metadata(dir, &meta) < 0;
  if (file_err || (w->sink && w->sink->open(w->sink->ctx, ncpus, meta.data, meta.len) < 0)) {
    if (file_err)
      snprintf(err, errlen, "cannot write %s/metadata: %s", dir, strerror(errno));
    else
      snprintf(err, errlen, "cannot send the trace's metadata");
    buf_free(&meta);
    free(w->scratch);
    free(w->dir);
    free(w);
    return NULL;
  }
  buf_free(&meta);

  w->s = calloc(ncpus, sizeof *w->s);
  for (int i = 0; i < ncpus; i++) {
    Stream *s = &w->s[i];
    char path[4096];
    snprintf(path, sizeof path, "%s/channel0_%d", dir, i);
    s->fd = !w->files ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    s->buf = malloc(cap);
    if ((w->files && s->fd < 0) || !s->buf) {
      snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
      for (int j = 0; j <= i; j++) {
        if (w->s[j].fd >= 0)
          close(w->s[j].fd);
        free(w->s[j].buf);
      }
      free(w->s);
      free(w->scratch);
      free(w->dir);
      free(w);
      return NULL;
    }
    s->cpu = i;
    s->len = CTF_PACKET_HEADER_SIZE;
    s->last_end = w->start_ns;
    s->ts_last = w->start_ns;
  }
  if (w->sink) /* live viewers wait on a stream until it has a packet */
    for (int i = 0; i < ncpus; i++) {
      unsigned char hdr[CTF_PACKET_HEADER_SIZE];
      write_packet(w, &w->s[i], hdr, sizeof hdr, w->start_ns, w->start_ns, 0);
    }
  return w;
}

/* ------------------------------------------------------------ packets */

static uint64_t discarded(const Stream *s) { return s->kdiscarded + s->wdiscarded; }

/* Fill the packet header and context of buf[0..len) and append it.
 * Returns false when it could not be written. */
static bool write_packet(CtfWriter *w, Stream *s, unsigned char *buf, size_t len,
                         uint64_t ts_begin, uint64_t ts_end, uint64_t discarded) {
  uint64_t events = buf == s->buf ? s->pkt_events : 0;
  put32(buf + PK_MAGIC, CTF_MAGIC);
  memcpy(buf + PK_UUID, w->uuid, 16);
  put32(buf + PK_STREAM_ID, 0);
  put64(buf + PK_INSTANCE, s->cpu);
  put64(buf + PK_TS_BEGIN, ts_begin);
  put64(buf + PK_TS_END, ts_end);
  put64(buf + PK_CONTENT, (uint64_t)len * 8);
  put64(buf + PK_SIZE, (uint64_t)len * 8);
  put64(buf + PK_SEQ, s->seq++);
  put64(buf + PK_DISCARDED, discarded);
  put32(buf + PK_CPU, s->cpu);
  ssize_t n = (ssize_t)len;
  if (w->sink && !w->st.sink_failed) {
    CtfPacketInfo pi = {.cpu = s->cpu, .ts_begin = ts_begin, .ts_end = ts_end,
                        .content_bits = (uint64_t)len * 8, .size_bits = (uint64_t)len * 8,
                        .seq = s->seq - 1, .discarded = discarded, .events = events};
    if (w->sink->packet(w->sink->ctx, buf, len, &pi) < 0) {
      if (w->files)
        w->st.sink_failed = true;   /* leave it; the files go on */
      else
        n = -1;
    }
  }
  if (w->st.sink_failed)
    w->st.undelivered += events;
  if (w->files)
    n = write(s->fd, buf, len);
  s->last_end = ts_end;
  if (n == (ssize_t)len) {
    s->file_size += len;
    s->written++;
    s->last_discarded = discarded;
    w->st.bytes += len;
    w->st.packets++;
    return true;
  }
  /* Never leave a partial packet: cut the file back.  The gap in
   * packet_seq_num tells readers that a packet is missing, and its
   * events count as discarded in the next packet written. */
  w->st.write_errno = n < 0 ? errno : ENOSPC;
  w->st.packets_lost++;
  if (n > 0 && w->files && ftruncate(s->fd, s->file_size) < 0)
    w->st.write_errno = errno;
  return false;
}

/* An empty packet [ts, ts] carrying `discarded`. */
static bool write_empty(CtfWriter *w, Stream *s, uint64_t ts_begin, uint64_t ts_end,
                        uint64_t discarded) {
  unsigned char hdr[CTF_PACKET_HEADER_SIZE];
  return write_packet(w, s, hdr, sizeof hdr, ts_begin, ts_end, discarded);
}

static void close_packet(CtfWriter *w, Stream *s) {
  if (!s->pkt_events)
    return;
  uint64_t d = discarded(s);
  if (!s->written && d) {
    /* babeltrace2 gives no count for losses before a file's first packet */
    uint64_t t = s->last_end < s->ts_begin ? s->last_end : s->ts_begin;
    write_empty(w, s, t, t, 0);
  }
  /* LTTng's packets follow each other with no gap, from the start of the
   * session: babeltrace 1 (lttng-analyses) reads only the time range that
   * every stream covers. */
  uint64_t begin = w->contiguous && s->last_end < s->ts_begin ? s->last_end : s->ts_begin;
  if (!write_packet(w, s, s->buf, s->len, begin, s->ts_last, d)) {
    s->wdiscarded += s->pkt_events;
    w->st.unwritten += s->pkt_events;
  }
  s->len = CTF_PACKET_HEADER_SIZE;
  s->pkt_events = 0;
  s->win_n = 0;
}

/* The event of n bytes at the end of the open packet is older (ts) than
 * the last one: move it back to its place among the window's events. */
static void reorder(CtfWriter *w, Stream *s, size_t n, uint64_t ts) {
  unsigned char *ev = s->buf + s->len;
  uint32_t off[WINDOW + 1];
  uint64_t tss[WINDOW + 1];
  unsigned c = s->win_n;
  for (unsigned i = 0; i < c; i++) {
    unsigned k = (s->win_head + WINDOW - c + i) % WINDOW;
    off[i] = s->win_off[k];
    tss[i] = s->win_ts[k];
  }
  /* insert before the first window event younger than ts */
  unsigned j = c;
  while (j > 0 && tss[j - 1] > ts)
    j--;
  if (c == 0 || (j == 0 && off[0] != CTF_PACKET_HEADER_SIZE)) {
    /* older than what we can still move: clamp it in place */
    ts = c ? tss[c - 1] : s->ts_last;
    put64(ev + CTF_EV_TIMESTAMP, ts);
    w->st.clamped++;
    if (!s->pkt_events)
      s->ts_begin = ts;
    s->ts_last = ts;
    s->len += n;
    s->pkt_events++;
    w->st.events++;
    return;
  }
  if (j == 0 && ts < s->last_end) { /* the packet's first: not before the last packet */
    ts = s->last_end;
    put64(ev + CTF_EV_TIMESTAMP, ts);
    w->st.clamped++;
  }
  uint32_t at = off[j];
  memcpy(w->scratch, ev, n);
  memmove(s->buf + at + n, s->buf + at, s->len - at);
  memcpy(s->buf + at, w->scratch, n);
  if (j == 0)
    s->ts_begin = ts;
  for (unsigned i = c; i > j; i--) {
    off[i] = off[i - 1] + (uint32_t)n;
    tss[i] = tss[i - 1];
  }
  off[j] = at;
  tss[j] = ts;
  c++;
  unsigned keep = c < WINDOW ? c : WINDOW;
  for (unsigned i = 0; i < keep; i++) {
    s->win_off[i] = off[c - keep + i];
    s->win_ts[i] = tss[c - keep + i];
  }
  s->win_n = keep;
  s->win_head = keep % WINDOW;
  s->len += n;
  s->pkt_events++;
  w->st.events++;
  w->st.reordered++;
}

void ctf_set_trigger(CtfWriter *w, int first, int last) {
  w->trig_first = first;
  w->trig_last = last;
}

uint64_t ctf_triggered(const CtfWriter *w) { return w->triggered; }

void ctf_packet_set_discarded(unsigned char *pkt, uint64_t discarded) {
  put64(pkt + PK_DISCARDED, discarded);
}

void ctf_packet_empty_like(unsigned char out[CTF_PACKET_HEADER_SIZE], const unsigned char *pkt,
                           uint64_t ts, uint64_t seq, uint64_t discarded) {
  memcpy(out, pkt, CTF_PACKET_HEADER_SIZE);
  put64(out + PK_TS_BEGIN, ts);
  put64(out + PK_TS_END, ts);
  put64(out + PK_CONTENT, CTF_PACKET_HEADER_SIZE * 8);
  put64(out + PK_SIZE, CTF_PACKET_HEADER_SIZE * 8);
  put64(out + PK_SEQ, seq);
  put64(out + PK_DISCARDED, discarded);
}

void ctf_event(CtfWriter *w, int cpu, const void *rec, size_t size) {
  const unsigned char *p = rec;
  if ((unsigned)cpu >= (unsigned)w->ncpus || size < CTF_EVENT_HEADER_SIZE) {
    w->st.bad++;
    return;
  }
  uint16_t id;
  memcpy(&id, p, 2);
  if (id >= w->nclasses || size < (size_t)w->classes[id].record_size + w->ctx_size) {
    w->st.bad++;
    return;
  }
  const CtfClass *c = &w->classes[id];
  Stream *s = &w->s[cpu];
  if (id >= w->trig_first && id < w->trig_last)
    w->triggered++;
  if (s->len + c->max_size + w->ctx_size > w->cap)
    close_packet(w, s);
  unsigned char *d = s->buf + s->len;
  /* header, the context the record carries at its end, the payload */
  size_t n = c->fixed_size + w->ctx_size;
  memcpy(d, p, CTF_EVENT_HEADER_SIZE);
  memcpy(d + CTF_EVENT_HEADER_SIZE, p + c->record_size, w->ctx_size);
  memcpy(d + CTF_EVENT_HEADER_SIZE + w->ctx_size, p + CTF_EVENT_HEADER_SIZE,
         c->fixed_size - CTF_EVENT_HEADER_SIZE);
  if (c->nvar) {
    const unsigned char *src = p + c->fixed_size;
    for (int i = c->first_var; i < c->nfields; i++) {
      const CtfField *f = &c->fields[i];
      if (f->kind == CTF_STRING) {
        size_t k = strnlen((const char *)src, f->slot);
        if (k == (size_t)f->slot)
          k--;
        memcpy(d + n, src, k);
        d[n + k] = 0;
        n += k + 1;
      } else {
        uint16_t cnt;
        memcpy(&cnt, src, 2);
        uint16_t max = (f->slot - 2) / f->size;
        if (cnt > max)
          cnt = max;
        put16(d + n, cnt);
        memcpy(d + n + 2, src + 2, (size_t)cnt * f->size);
        n += 2 + (size_t)cnt * f->size;
      }
      src += f->slot;
    }
  }
  uint64_t ts = get64(d + CTF_EV_TIMESTAMP);
  if (ts < s->ts_last) {
    reorder(w, s, n, ts);
    return;
  }
  if (!s->pkt_events)
    s->ts_begin = ts;
  s->ts_last = ts;
  s->win_off[s->win_head] = (uint32_t)s->len;
  s->win_ts[s->win_head] = ts;
  s->win_head = (s->win_head + 1) % WINDOW;
  if (s->win_n < WINDOW)
    s->win_n++;
  s->len += n;
  s->pkt_events++;
  w->st.events++;
}

void ctf_set_discarded(CtfWriter *w, int cpu, uint64_t total) {
  if ((unsigned)cpu < (unsigned)w->ncpus && total > w->s[cpu].kdiscarded)
    w->s[cpu].kdiscarded = total;
}

/* A sink's idle stream: no event before ts (see ctf_flush_at).  An event
 * older than that arriving later is clamped to ts (and counted). */
static void mark_idle(CtfWriter *w, Stream *s, uint64_t ts) {
  if (ts <= s->last_end || ts < s->ts_last)
    return;
  if (w->sink->idle(w->sink->ctx, s->cpu, ts) < 0)
    return;
  s->last_end = ts;
  s->ts_last = ts;
}

bool ctf_sink_failed(const CtfWriter *w) { return w->st.sink_failed; }

int ctf_flush(CtfWriter *w) { return ctf_flush_at(w, w->last_flush_ns); }

int ctf_flush_at(CtfWriter *w, uint64_t quiet) {
  w->last_flush_ns = clock_ns(CLOCK_MONOTONIC);
  for (int i = 0; i < w->ncpus; i++) {
    Stream *s = &w->s[i];
    /* distinct per stream: live viewers warn about streams whose next
     * messages tie */
    if (!s->pkt_events && w->sink && w->sink->idle && !w->st.sink_failed &&
        quiet > (uint64_t)s->cpu)
      mark_idle(w, s, quiet - s->cpu);
    close_packet(w, s);
  }
  return w->st.write_errno ? -1 : 0;
}

int ctf_close(CtfWriter *w, uint64_t stop_ns, CtfStats *st) {
  int rc = 0;
  for (int i = 0; i < w->ncpus; i++) {
    Stream *s = &w->s[i];
    if (w->contiguous && s->pkt_events && stop_ns > s->ts_last)
      s->ts_last = stop_ns; /* every stream ends at the stop instant */
    close_packet(w, s);
    if (w->contiguous && discarded(s) == s->last_discarded && s->last_end < stop_ns)
      write_empty(w, s, s->last_end, stop_ns, discarded(s));
    if (discarded(s) != s->last_discarded) {
      uint64_t begin = s->last_end;
      if (!s->written) /* losses and no packet: 0 first, then the count */
        write_empty(w, s, begin, begin, 0);
      write_empty(w, s, begin, stop_ns > begin ? stop_ns : begin, discarded(s));
    }
    if (s->fd >= 0 && fsync(s->fd) < 0 && errno != EINVAL)
      rc = -1;
    if (s->fd >= 0)
      close(s->fd);
    free(s->buf);
  }
  if (w->st.write_errno)
    rc = -1;
  if (st)
    ctf_stats(w, st);
  free(w->s);
  free(w->scratch);
  free(w->dir);
  free(w);
  return rc;
}

void ctf_stats(const CtfWriter *w, CtfStats *st) {
  *st = w->st;
  st->discarded = 0;
  for (int i = 0; i < w->ncpus; i++)
    st->discarded += w->s[i].kdiscarded;
}

/* ------------------------------------------------------------ repair */

/* The trace UUID: the first `uuid = "..."` of the trace block. */
static bool metadata_uuid(const char *dir, unsigned char out[16]) {
  char path[4096];
  snprintf(path, sizeof path, "%s/metadata", dir);
  char *text = read_file(path, NULL);
  if (!text)
    return false;
  bool ok = false;
  char *t = strstr(text, "trace {");
  char *u = t ? strstr(t, "uuid = \"") : NULL;
  if (u) {
    u += 8;
    int n = 0;
    for (; *u && *u != '"' && n < 16; u++) {
      if (*u == '-')
        continue;
      unsigned v;
      if (sscanf(u, "%2x", &v) != 1)
        break;
      out[n++] = v;
      u++;
    }
    ok = n == 16;
  }
  free(text);
  return ok;
}

static int repair_file(const char *dir, const char *name, const unsigned char *uuid, FILE *out,
                       bool dry_run) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, (dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    fprintf(out, "%s: cannot open: %s\n", name, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  off_t off = 0;
  uint64_t packets = 0, events_bytes = 0;
  const char *why = NULL;
  while (off < st.st_size) {
    unsigned char h[CTF_PACKET_HEADER_SIZE];
    if (st.st_size - off < (off_t)sizeof h) {
      why = "a partial packet header";
      break;
    }
    if (pread(fd, h, sizeof h, off) != (ssize_t)sizeof h) {
      why = "a read error";
      break;
    }
    uint32_t magic;
    memcpy(&magic, h + PK_MAGIC, 4);
    uint64_t content = get64(h + PK_CONTENT), size = get64(h + PK_SIZE);
    if (magic != CTF_MAGIC) {
      why = "a bad magic number";
      break;
    }
    if (uuid && memcmp(h + PK_UUID, uuid, 16)) {
      why = "a packet of another trace (uuid)";
      break;
    }
    if (size % 8 || content > size || content < 8 * sizeof h) {
      why = "an invalid packet size";
      break;
    }
    if ((uint64_t)(st.st_size - off) < size / 8) {
      why = "a partial packet";
      break;
    }
    if (get64(h + PK_TS_END) < get64(h + PK_TS_BEGIN)) {
      why = "a packet ending before it begins";
      break;
    }
    off += size / 8;
    events_bytes += content / 8 - sizeof h;
    packets++;
  }
  int changed = 0;
  if (off < st.st_size) {
    fprintf(out, "%s: %llu packets (%lld bytes) are valid; %s %lld bytes after them (%s)\n",
            name, (unsigned long long)packets, (long long)off,
            dry_run ? "would drop" : "dropped", (long long)(st.st_size - off), why);
    if (!dry_run && ftruncate(fd, off) < 0) {
      fprintf(out, "%s: cannot truncate: %s\n", name, strerror(errno));
      close(fd);
      return -1;
    }
    changed = 1;
  } else {
    fprintf(out, "%s: %llu packets (%lld bytes): complete\n", name,
            (unsigned long long)packets, (long long)off);
  }
  close(fd);
  return changed;
}

static int cmp_names(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  size_t lx = strlen(x), ly = strlen(y);
  return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

const char *ctf_trace_dir(const char *dir, char *out, size_t outlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/metadata", dir);
  snprintf(out, outlen, "%s", dir);
  if (access(path, F_OK) == 0)
    return out;
  snprintf(path, sizeof path, "%s/kernel/metadata", dir);
  if (access(path, F_OK) == 0)
    snprintf(out, outlen, "%s/kernel", dir);
  return out;
}

int ctf_repair(const char *session_dir, FILE *out, bool dry_run) {
  char tdir[4096];
  const char *dir = ctf_trace_dir(session_dir, tdir, sizeof tdir);
  unsigned char uuid[16];
  bool have_uuid = metadata_uuid(dir, uuid);
  char path[4096];
  snprintf(path, sizeof path, "%s/metadata", dir);
  if (access(path, R_OK) < 0) {
    fprintf(out, "%s: no metadata file: not a trace, or one cut before it started\n", dir);
    return -1;
  }
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(out, "%s: %s\n", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "metadata"))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
      continue;
    names = realloc(names, sizeof *names * (n + 1));
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_names);
  int changed = 0, rc = 0;
  for (int i = 0; i < n; i++) {
    int r = repair_file(dir, names[i], have_uuid ? uuid : NULL, out, dry_run);
    if (r < 0)
      rc = -1;
    else
      changed += r;
    free(names[i]);
  }
  free(names);
  return rc < 0 ? -1 : changed;
}
