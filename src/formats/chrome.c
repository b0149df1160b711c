/* chrome.c - a trace (out/ctfread.h) as Chrome Trace Event JSON, for
 * Perfetto UI and chrome://tracing.
 *
 *   - one `M` process_name / thread_name event per process and thread
 *     seen, named from the trace's own facts: the statedump, sched_switch
 *     and sched_waking comms, fork child comms, exec file names;
 *   - system calls as `X` slices on their thread: a syscall_entry_NAME
 *     (--profile kernel) or sys_enter_NAME event opens one, the next
 *     matching exit on the same thread closes it (args: the entry's
 *     fields and the exit's `ret`).  A thread runs one system call at a
 *     time, so the slices of a thread never overlap.  An entry with no
 *     exit (the trace ended, or the exit was lost) becomes an instant;
 *   - every other event as a thread-scoped instant (`i`) with its fields.
 *
 * ts is in microseconds of CLOCK_MONOTONIC with nanoseconds as 3 decimals:
 * small numbers, which Perfetto converts without loss.
 */
#include "formats/chrome.h"
#include "etrace.h"
#include "base/progress.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ tid table */

typedef struct Thread {
  int32_t tid, pid;
  bool used;             /* seen in an event's context */
  const char *name;      /* best known comm */
  bool open;             /* a system call is open */
  const char *sys;       /* its name */
  size_t entry;          /* its entry event (index) */
} Thread;

typedef struct Tids {
  Thread *t;
  size_t cap, n;
} Tids;

static Thread *tid_get(Tids *h, int32_t tid) {
  if (h->n * 2 >= h->cap) {
    Tids g = {.cap = h->cap ? h->cap * 2 : 1024};
    g.t = calloc(g.cap, sizeof *g.t);
    for (size_t i = 0; i < h->cap; i++)
      if (h->t[i].used || h->t[i].name) {
        Thread *d = tid_get(&g, h->t[i].tid);
        *d = h->t[i];
      }
    free(h->t);
    *h = g;
  }
  size_t i = ((uint32_t)tid * 2654435761u) & (h->cap - 1);
  while (h->t[i].used || h->t[i].name) {
    if (h->t[i].tid == tid)
      return &h->t[i];
    i = (i + 1) & (h->cap - 1);
  }
  h->t[i].tid = tid;
  h->t[i].pid = -1;
  h->n++;
  return &h->t[i];
}

/* ------------------------------------------------------------ JSON */

static void json_str(FILE *f, const unsigned char *s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n && s[i]; i++) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else if (c < 0x80)
      fputc(c, f);
    else {
      /* keep valid UTF-8 sequences, replace stray bytes */
      int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
      bool ok = len && i + len <= n;
      for (int k = 1; ok && k < len; k++)
        ok = (s[i + k] & 0xc0) == 0x80;
      if (ok) {
        fwrite(s + i, 1, len, f);
        i += len - 1;
      } else {
        fputs("\\ufffd", f);
      }
    }
  }
  fputc('"', f);
}

/* hex fields as strings: JSON numbers are decimal */
static void json_int(FILE *f, const CtfrVal *v, int i) { ctfr_print_int(f, v, i, "\"0x%llx\""); }

static void json_val(FILE *f, const CtfrVal *v) {
  switch (v->f->kind) {
  case CTF_INT:
    if (v->f->count == 0) {
      json_int(f, v, 0);
      return;
    }
    /* fallthrough */
  case CTF_SEQ:
    fputc('[', f);
    for (int i = 0; i < v->count; i++) {
      if (i)
        fputc(',', f);
      json_int(f, v, i);
    }
    fputc(']', f);
    return;
  case CTF_TEXT:
  case CTF_STRING:
    json_str(f, v->data, v->count);
    return;
  }
}

static void json_ts(FILE *f, const char *key, uint64_t ns) {
  fprintf(f, ",\"%s\":%llu.%03llu", key, (unsigned long long)(ns / 1000),
          (unsigned long long)(ns % 1000));
}

/* The fields of e as an args object's members (no braces). */
static int json_fields(FILE *f, const CtfTrace *t, const CtfrEvent *e, CtfrVal *vals, bool lead) {
  int n = ctfr_fields(t, e, vals);
  for (int i = 0; i < n; i++) {
    fprintf(f, "%s\"%s\":", lead || i ? "," : "", vals[i].f->name);
    json_val(f, &vals[i]);
  }
  return n;
}

/* ------------------------------------------------------------ names */

static const char *sys_entry(const char *name) {
  const char *c = strrchr(name, ':');   /* "syscalls:sys_enter_x" */
  if (c)
    name = c + 1;
  if (!strncmp(name, "syscall_entry_", 14))
    return name + 14;
  if (!strncmp(name, "sys_enter_", 10))
    return name + 10;
  return NULL;
}

static const char *sys_exit(const char *name) {
  const char *c = strrchr(name, ':');
  if (c)
    name = c + 1;
  if (!strncmp(name, "syscall_exit_", 13))
    return name + 13;
  if (!strncmp(name, "sys_exit_", 9))
    return name + 9;
  return NULL;
}

static char *text_of(const CtfrVal *v) {
  return estrndup((const char *)v->data, v->count);
}

/* Names from fields: (PREFIX_comm, PREFIX_tid|PREFIX_pid) pairs, the
 * statedump's (name, tid), and exec's filename for the running thread. */
static void learn_names(Tids *h, const CtfTrace *t, const CtfrEvent *e, CtfrVal *vals) {
  const CtfClass *c = &t->classes[e->id];
  int n = ctfr_fields(t, e, vals);
  if (!strcmp(c->name, "lttng_statedump_process_state")) {
    int ti = ctfr_field_index(c, "tid"), pi = ctfr_field_index(c, "pid"),
        ni = ctfr_field_index(c, "name");
    if (ti >= 0 && pi >= 0 && ni >= 0) {
      Thread *th = tid_get(h, (int32_t)ctfr_int(&vals[ti], 0));
      th->pid = (int32_t)ctfr_int(&vals[pi], 0);
      th->name = text_of(&vals[ni]);
    }
    return;
  }
  if (!strcmp(c->name, "sched_process_exec") || !strcmp(c->name, "sched:sched_process_exec")) {
    int fi = ctfr_field_index(c, "filename");
    if (fi >= 0) {
      const char *path = text_of(&vals[fi]);
      const char *base = strrchr(path, '/');
      tid_get(h, e->tid)->name = base ? base + 1 : path;
    }
    return;
  }
  for (int i = 0; i < n; i++) {
    const CtfField *f = vals[i].f;
    size_t len = strlen(f->name);
    if (f->kind != CTF_TEXT || len < 4 || strcmp(f->name + len - 4, "comm"))
      continue;
    /* "prev_comm" -> "prev_tid" / "prev_pid"; "comm" -> "tid" / "pid" */
    char key[128];
    int j = -1;
    snprintf(key, sizeof key, "%.*stid", (int)(len - 4), f->name);
    if ((j = ctfr_field_index(c, key)) < 0) {
      snprintf(key, sizeof key, "%.*spid", (int)(len - 4), f->name);
      j = ctfr_field_index(c, key);
    }
    if (j >= 0 && vals[j].f->kind == CTF_INT && vals[j].f->count == 0 && vals[i].count > 0) {
      Thread *th = tid_get(h, (int32_t)ctfr_int(&vals[j], 0));
      if (!th->name || strncmp(th->name, (const char *)vals[i].data, vals[i].count))
        th->name = text_of(&vals[i]);
    }
  }
}

/* ------------------------------------------------------------ output */

static void instant(FILE *f, const CtfTrace *t, const CtfrEvent *e, const char *name,
                    CtfrVal *vals, bool *first) {
  fprintf(f, "%s\n{\"ph\":\"i\",\"s\":\"t\",\"name\":", *first ? "" : ",");
  *first = false;
  json_str(f, (const unsigned char *)name, strlen(name));
  fprintf(f, ",\"cat\":\"event\",\"pid\":%d,\"tid\":%d", e->pid, e->tid);
  json_ts(f, "ts", e->ts);
  fprintf(f, ",\"args\":{\"cpu\":%u", e->cpu);
  json_fields(f, t, e, vals, true);
  fputs("}}", f);
}

int chrome_write(FILE *f, const CtfTrace *t, const char *trace_name, ChromeStats *st) {
  int maxf = 1;
  for (int i = 0; i < t->nclasses; i++)
    if (t->classes[i].nfields > maxf)
      maxf = t->classes[i].nfields;
  CtfrVal *vals = malloc(sizeof *vals * maxf);
  CtfrVal *vals2 = malloc(sizeof *vals2 * maxf);
  Tids h = {0};
  memset(st, 0, sizeof *st);

  /* pass 1: threads (pid, name) */
  for (size_t i = 0; i < t->nev; i++) {
    const CtfrEvent *e = &t->ev[i];
    Thread *th = tid_get(&h, e->tid);
    th->used = true;
    th->pid = e->pid;
    learn_names(&h, t, e, vals);
  }

  fputs("{\"traceEvents\":[", f);
  bool first = true;
  for (size_t i = 0; i < h.cap; i++) {
    Thread *th = &h.t[i];
    if (!th->used || !th->name)
      continue;
    if (th->tid == th->pid) {
      fprintf(f, "%s\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
              first ? "" : ",", th->pid, th->tid);
      json_str(f, (const unsigned char *)th->name, strlen(th->name));
      fputs("}}", f);
      first = false;
      st->processes++;
    }
    fprintf(f, "%s\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
            first ? "" : ",", th->pid, th->tid);
    json_str(f, (const unsigned char *)th->name, strlen(th->name));
    fputs("}}", f);
    first = false;
    st->threads++;
  }

  /* pass 2: slices and instants, in time order */
  Progress pr;
  progress_begin(&pr, "converting", "events", t->nev);
  for (size_t i = 0; i < t->nev; i++) {
    const CtfrEvent *e = &t->ev[i];
    progress_step(&pr, i);
    const char *name = t->classes[e->id].name;
    const char *sys;
    Thread *th = tid_get(&h, e->tid);
    if ((sys = sys_entry(name))) {
      if (th->open) { /* the previous one never exited */
        instant(f, t, &t->ev[th->entry], t->classes[t->ev[th->entry].id].name, vals, &first);
        st->unmatched++;
      }
      th->open = true;
      th->sys = sys;
      th->entry = i;
      continue;
    }
    /* syscall_exit_unknown: its number was lost (rt_sigreturn resets
     * orig_ax to -1), so it closes whatever call is open on the thread */
    if ((sys = sys_exit(name)) && th->open && (!strcmp(sys, th->sys) || !strcmp(sys, "unknown"))) {
      sys = th->sys;
      const CtfrEvent *b = &t->ev[th->entry];
      fprintf(f, "%s\n{\"ph\":\"X\",\"name\":", first ? "" : ",");
      first = false;
      json_str(f, (const unsigned char *)sys, strlen(sys));
      fprintf(f, ",\"cat\":\"syscall\",\"pid\":%d,\"tid\":%d", b->pid, b->tid);
      json_ts(f, "ts", b->ts);
      json_ts(f, "dur", e->ts - b->ts);
      fprintf(f, ",\"args\":{\"cpu\":%u", b->cpu);
      json_fields(f, t, b, vals, true);
      int n = ctfr_fields(t, e, vals2);
      for (int k = 0; k < n; k++)
        if (!strcmp(vals2[k].f->name, "ret")) {
          fputs(",\"ret\":", f);
          json_val(f, &vals2[k]);
        }
      fputs("}}", f);
      th->open = false;
      st->slices++;
      continue;
    }
    instant(f, t, e, name, vals, &first);
    st->instants++;
  }
  progress_end(&pr);
  for (size_t i = 0; i < h.cap; i++)
    if (h.t[i].open) {
      instant(f, t, &t->ev[h.t[i].entry], t->classes[t->ev[h.t[i].entry].id].name, vals, &first);
      st->unmatched++;
    }
  fputs("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"CLOCK_MONOTONIC\",\"trace\":", f);
  json_str(f, (const unsigned char *)trace_name, strlen(trace_name));
  fprintf(f, ",\"discarded_events\":%llu}}\n", (unsigned long long)t->discarded);
  free(h.t);
  free(vals);
  free(vals2);
  return ferror(f) ? -1 : 0;
}
