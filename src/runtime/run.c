/* run.c - run BEGIN, attach, the event loop, and the exit sequence.
 *
 * The loop (loop.c) waits on the ring buffer (read with ring.c), a
 * signalfd and whatever a caller adds; there is no poll timeout, so
 * exit() takes effect as soon as its record arrives.  The exit sequence is: stop reading new work,
 * detach every probe, drain what is already in the ring buffer, run END,
 * drain again, print the maps, report drops.
 */
#include "etrace.h"
#include "load/load.h"
#include "providers/provider.h"
#include "runtime/loop.h"
#include "runtime/ring.h"
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One program's run: what it prints to, its ring buffer, its links. */
typedef struct Run {
  Compiled *c;
  const Options *opt;
  Output *o;
  Ring ring;
  Links links;
  AttachEnv env;       /* attaching, at start and at run time (Provider.on_event) */
  bool exiting;        /* exit() seen: ignore later records */
  bool exit_seen;      /* an exit record was read */
  bool stopped;        /* a probe called exit(): the stop flag is set */
  int stop_fd;         /* the stop flag's map (cg.c: skip_if_stopped), or -1 */
  int exit_code;
  unsigned records;    /* records handled: a signal check every so many */
} Run;

static void out_write(Run *r, const char *s, size_t n) {
  fwrite(s, 1, n, r->o->f);
}

static void out_flush(Run *r) { fflush(r->o->f); }

/* ------------------------------------------------------------ records */

static void do_time(Run *r, const Site *s) {
  char out[256];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  size_t n = strftime(out, sizeof out, s->fmt, &tm);
  rt_emit_text(r->o, "time", out, n);
}

/* cat(): at most BPFTRACE_CAT_BYTES_MAX bytes of the file; one "cat"
 * record with -f json. */
static void do_cat(Run *r, const Site *s, const void *data) {
  Buf path = {0}, text = {0};
  rt_printf(&path, s->fmt, s->args, data);
  FILE *f = fopen(path.data ? path.data : "", "r");
  if (!f) {
    fprintf(stderr, "ERROR: failed to open file '%s': %s\n", path.data ? path.data : "", strerror(errno));
  } else {
    long max = rt_cat_bytes_max();
    char tmp[4096];
    size_t n;
    while ((long)text.len < max && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
      buf_put(&text, tmp, (long)(text.len + n) > max ? (size_t)(max - (long)text.len) : n);
    fclose(f);
    rt_emit_text(r->o, "cat", text.data ? text.data : "", text.len);
  }
  buf_free(&text);
  buf_free(&path);
}

/* system(): the command's output; one "syscall" record with -f json
 * (bpftrace's name for it). */
static void do_system(Run *r, const Site *s, const void *data) {
  Buf cmd = {0}, text = {0};
  rt_printf(&cmd, s->fmt, s->args, data);
  out_flush(r);
  FILE *p = popen(cmd.data ? cmd.data : "", "r");
  if (p) {
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, p)) > 0) {
      if (r->o->format == OUT_JSON)
        buf_put(&text, tmp, n);
      else
        out_write(r, tmp, n); /* as it comes: a long-running command streams */
    }
    pclose(p);
    if (r->o->format == OUT_JSON)
      rt_emit_text(r->o, "syscall", text.data ? text.data : "", text.len);
  }
  buf_free(&text);
  buf_free(&cmd);
}

/* join(): the argv strings up to the first empty one, separated. */
static void do_join(Run *r, const Site *s, const char *data) {
  Buf b = {0};
  for (int i = 0; i < s->args->nfields; i++) {
    const char *str = data + s->args->offsets[i];
    int max = s->args->fields[i]->size;
    size_t len = strnlen(str, max);
    if (!len)
      break;
    if (i)
      buf_put(&b, s->fmt, strlen(s->fmt));
    buf_put(&b, str, len);
  }
  if (r->o->format != OUT_JSON) /* a JSON record's data has no newline */
    buf_put(&b, "\n", 1);
  rt_emit_text(r->o, "join", b.data ? b.data : "", b.len);
  buf_free(&b);
}

/* print(*p) / dump(p): the copied bytes of a kernel object. */
static void do_object(Run *r, const Site *s, const void *data, size_t size) {
  int full = s->args->size;
  int have = size < (size_t)full ? (int)size : full;
  Buf b = {0};
  if (!strcmp(s->fmt, "print")) {
    bool json = r->o->format == OUT_JSON;
    rt_object_text(&b, s->args, data, have, json);
    if (json) {
      Buf j = {0};
      buf_printf(&j, "{\"type\": \"value\", \"data\": %s}\n", b.data ? b.data : "null");
      out_write(r, j.data, j.len);
      buf_free(&j);
    } else {
      buf_put(&b, "\n", 1);
      out_write(r, b.data, b.len);
    }
  } else if (!strcmp(s->fmt, "kernel")) { /* rendered by bpf_snprintf_btf */
    buf_put(&b, data, strnlen(data, size));
    buf_put(&b, "\n", 1);
    rt_emit_text(r->o, "dump", b.data, b.len);
  } else {
    unsigned char *copy = calloc(1, full);
    memcpy(copy, data, have);
    if (rt_object_dump(&b, s->args, copy, have, full, !strcmp(s->fmt, "compact")) < 0)
      buf_printf(&b, "(cannot dump %s)\n", ty_name(s->args));
    rt_emit_text(r->o, "dump", b.data, b.len);
    free(copy);
  }
  buf_free(&b);
}

/* Is a SIGINT, SIGTERM or SIGHUP waiting (they are blocked and read from
 * a signalfd between drains)?  A drain can last as long as events keep
 * coming, e.g. when each record runs system() and that makes new events. */
static bool stop_signal_pending(void) {
  sigset_t s;
  return sigpending(&s) == 0 &&
         (sigismember(&s, SIGINT) || sigismember(&s, SIGTERM) || sigismember(&s, SIGHUP));
}

/* A line a provider prints while the program runs (EventEnv.message). */
static void event_message(void *arg, const char *type, const char *text) {
  Run *r = arg;
  Buf b = {0};
  buf_put(&b, text, strlen(text));
  if (r->o->format != OUT_JSON) /* a JSON record's data has no newline */
    buf_put(&b, "\n", 1);
  rt_emit_text(r->o, type, b.data, b.len);
  buf_free(&b);
}

/* REC_TARGET_EVENT: the target's provider acts on it (to all targets
 * whose provider takes events: TARGET_EVENT_ALL).  An error stops the
 * program with exit code 1. */
static void target_event(Run *r, uint32_t id, uint64_t event, uint64_t value) {
  EventEnv env = {.attach = &r->env, .message = event_message, .arg = r};
  for (int i = 0; i < r->c->ntargets; i++) {
    Target *t = r->c->targets[i];
    if ((id != TARGET_EVENT_ALL && (uint32_t)i != id) || !t->prov->on_event)
      continue;
    if (t->prov->on_event(t, event, value, &env) < 0) {
      r->exiting = true;
      r->exit_code = 1;
      return;
    }
  }
}

static void on_record(void *arg, const Ring *ring, const void *data, size_t size) {
  Run *r = arg;
  if (++r->records % 256 == 0 && !r->exiting && stop_signal_pending())
    r->exiting = true; /* stop as asked: what is still queued is dropped */
  if (r->exiting || size < 8)
    return;
  uint64_t h;
  memcpy(&h, data, 8);
  RecKind kind = h >> 32;
  uint32_t id = (uint32_t)h;
  const char *p = (const char *)data + 8;
  int64_t a = 0, b = 0;
  if (size >= 24) {
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
  }
  switch (kind) {
  case REC_PRINTF:
  case REC_CAT:
  case REC_SYSTEM:
  case REC_TIME:
  case REC_JOIN:
  case REC_PRINT_VALUE: {
    if (id >= (uint32_t)r->c->nsites)
      break;
    const Site *s = r->c->sites[id];
    if (size < 8 + (size_t)s->args->size)
      break;
    if (kind == REC_PRINTF && r->o->ctf)
      rt_ctf_printf(r->o, (int)id, p, size - 8);
    else if (kind == REC_PRINTF)
      rt_emit_printf(r->o, s->fmt, s->args, p);
    else if (kind == REC_CAT)
      do_cat(r, s, p);
    else if (kind == REC_SYSTEM)
      do_system(r, s, p);
    else if (kind == REC_TIME)
      do_time(r, s);
    else if (kind == REC_JOIN)
      do_join(r, s, p);
    else
      rt_emit_value(r->o, s->args->fields[0], p);
    break;
  }
  case REC_OBJECT:
    if (id < (uint32_t)r->c->nsites)
      do_object(r, r->c->sites[id], p, size - 8);
    break;
  case REC_PID: { /* a process ustack/usym saw first: read its maps now */
    sym_pid_seen((int)id);
    const UserSite *site =
        size >= 24 && b >= 0 && b < r->c->ntargets ? target_user_site(r->c->targets[b]) : NULL;
    if (site)
      sym_pid_bias((int)id, site->path, (uint64_t)a);
    break;
  }
  case REC_HELPER_ERROR:
    if (size >= 24)
      rt_helper_error(r->o, (int)id, a, (uint64_t)b);
    break;
  case REC_TARGET_EVENT:
    if (size >= 24)
      target_event(r, id, (uint64_t)a, (uint64_t)b);
    break;
  case REC_EXIT:
    r->exiting = r->exit_seen = true;
    r->exit_code = (int)a;
    break;
  case REC_PRINT_MAP:
    if (id < (uint32_t)r->c->nmaps)
      rt_print_map(r->o, r->c->maps[id], a, b);
    break;
  case REC_CLEAR:
    if (id < (uint32_t)r->c->nmaps)
      rt_clear_map(r->c->maps[id]);
    break;
  case REC_ZERO:
    if (id < (uint32_t)r->c->nmaps)
      rt_zero_map(r->c->maps[id]);
    break;
  default:
    break;
  }
  if (r->opt && r->o->f == stdout && r->opt->verbose)
    out_flush(r);
}

static void drain(void *arg) {
  Run *r = arg;
  if (r->ring.consumer)
    ring_consume(&r->ring, 1L << 62, on_record, r);
}

/* ------------------------------------------------------------ probes */

/* Several probes on one event run in program order, as in bpftrace: the
 * first pass (order[0..n)) visits the targets in order, for the hooks the
 * kernel runs oldest first; the second (order[n..2n)) visits the probes
 * last to first, each probe's own targets (a wildcard's matches) still in
 * order, for the hooks it runs newest first (Provider.newest_first). */
static void attach_order(const Compiled *c, int *order) {
  Target **t = c->targets;
  int n = c->ntargets, m = 0;
  for (int i = 0; i < n; i++)
    order[m++] = i;
  for (int end = n; end > 0;) {
    int start = end - 1;
    while (start > 0 && t[start - 1]->probe == t[end - 1]->probe)
      start--;
    for (int i = start; i < end; i++)
      order[m++] = i;
    end = start;
  }
}

static bool newest_first(const Target *t) {
  return t->prov->newest_first && t->prov->newest_first(t);
}

/* Every provider's program-wide attachments, then every target's. */
static int attach_all(Run *r) {
  const AttachEnv *env = &r->env;
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->attach_program && providers[i]->attach_program(r->c, env) < 0)
      return -1;
  int n = r->c->ntargets, *order = malloc(sizeof(int) * (2 * n + 1)), rc = 0;
  if (!order)
    return -1;
  attach_order(r->c, order);
  for (int k = 0; k < 2 * n && rc == 0; k++) {
    Target *t = r->c->targets[order[k]];
    if (newest_first(t) == (k >= n) && t->prov->attach(t, env) < 0)
      rc = -1;
  }
  free(order);
  return rc;
}

/* Run every target's work for phase (BEGIN and END programs in program
 * order, iterators): 1 when one says the program is done, -1 on error. */
static int run_phase(Run *r, RunPhase phase) {
  RunEnv env = {.drain = drain, .arg = r, .stop = &r->exiting};
  int done = 0;
  for (int i = 0; i < r->c->ntargets; i++) {
    Target *t = r->c->targets[i];
    int rc = t->prov->run ? t->prov->run(t, phase, &env) : 0;
    if (rc < 0)
      return -1;
    if (rc > 0)
      done = 1;
  }
  return done;
}

static int count_attached(const Run *r) {
  /* bpftrace counts attach points after wildcard expansion (a
   * watchpoint's setup uprobe is part of its watchpoint) */
  int n = 0;
  for (int i = 0; i < r->c->ntargets; i++)
    n += !r->c->targets[i]->helper;
  return n;
}

/* ------------------------------------------------------------ drops */

static void report_drops(const Compiled *c) {
  uint64_t lost[3];
  if (!rt_drops_read(load_map_fd(c, ".drops"), lost, NULL, 0))
    return;
  if (lost[DROP_RINGBUF])
    fprintf(stderr, "etrace: lost %llu events: the ring buffer was full\n",
            (unsigned long long)lost[DROP_RINGBUF]);
  if (lost[DROP_MAP_FULL])
    fprintf(stderr,
            "etrace: %llu map updates failed because a map was full (4096 entries); "
            "those values are missing from the output\n",
            (unsigned long long)lost[DROP_MAP_FULL]);
  if (lost[DROP_STACK])
    fprintf(stderr,
            "etrace: lost %llu stack traces: the stack map was full or two stacks "
            "collided in it; they print as empty stacks\n",
            (unsigned long long)lost[DROP_STACK]);
}

/* ------------------------------------------------------------ main loop */

static bool has_map(const Compiled *c, const char *name) {
  for (int i = 0; i < c->nmaps; i++)
    if (!strcmp(c->maps[i]->name, name))
      return true;
  return false;
}

/* Has a probe called exit()?  Its code in *code.  exit() sets the flag
 * before it emits its record, which a full ring buffer can lose. */
static bool stop_flag(const Run *r, int *code) {
  uint32_t key = 0;
  int32_t v[2] = {0, 0};
  if (r->stop_fd < 0 || bpf_map_lookup_elem(r->stop_fd, &key, v) || !v[0])
    return false;
  *code = v[1];
  return true;
}

/* The ring buffer is readable: print what it holds; exit() stops (its
 * record, or the stop flag when the record was lost; the records still
 * queued before it are printed by finish()). */
static bool on_ring(Loop *l, int fd, void *arg) {
  Run *r = arg;
  drain(r);
  int code;
  if (!r->exiting && stop_flag(r, &code))
    r->stopped = true;
  return r->exiting || r->stopped;
}

/* -f ctf: close the open packets every second (live relay viewers); a
 * relay that went away stops the run. */
static bool on_ctf_tick(Loop *l, int fd, void *arg) {
  Run *r = arg;
  return rt_ctf_tick(r->o, drain, r) < 0;
}

/* Options.loop_fd is readable (the exporter's server). */
static bool on_caller_fd(Loop *l, int fd, void *arg) {
  const Options *opt = arg;
  opt->loop_ready(opt->loop_ctx);
  return false;
}

/* SIGUSR1, as bpftrace: print every map and carry on. */
static bool on_sigusr1(Loop *l, int signo, void *arg) {
  Run *r = arg;
  drain(r);
  out_flush(r);
  rt_print_maps_now(r->o);
  return false;
}

static bool after_wakeup(void *arg) {
  out_flush(arg);
  return false;
}

/* Current bpftrace's rule: a program whose only probes are BEGIN and END
 * has nothing left to wait for once BEGIN has run, so it runs END and
 * exits on its own.  Not with a -c child or a -p process to outlive, nor
 * when a caller (the exporter) keeps its own work in the loop. */
static bool only_begin_end(const Run *r) {
  if (r->opt->cpid || r->opt->pid || r->opt->loop_ready)
    return false;
  for (int i = 0; i < r->c->ntargets; i++)
    if (!r->c->targets[i]->prov->bare)
      return false;
  return true;
}

/* BEGIN, attach, start the -c child.  0, or -1 after an error. */
static int start(Run *r) {
  /* BEGIN runs before any other probe is attached (as in bpftrace), so no
   * probe sees the maps before BEGIN has set them; its output is read
   * after the "Attaching" line. */
  if (run_phase(r, RUN_BEGIN) < 0)
    return -1;
  if (attach_all(r) < 0)
    return -1;
  if (!r->opt->quiet) {
    int n = count_attached(r);
    if (r->o->format == OUT_JSON)
      fprintf(r->o->f, "{\"type\": \"attached_probes\", \"data\": {\"probes\": %d}}\n", n);
    else
      fprintf(r->o->f, "Attaching %d probe%s...\n", n, n == 1 ? "" : "s");
  }
  /* bpftrace's runtime test engine sets this and starts a test's AFTER
   * command (and its timeout) when the line appears: probes are live.
   * bpftrace prints it before BEGIN's output reaches the terminal. */
  if (getenv("__BPFTRACE_NOTIFY_PROBES_ATTACHED"))
    fprintf(stderr, "__BPFTRACE_NOTIFY_PROBES_ATTACHED\n");
  drain(r);
  out_flush(r);
  if (r->opt->pid && has_map(r->c, ".pids"))
    sym_pid_seen(r->opt->pid); /* -p PID with ustack/usym: its maps, now */
  if (r->opt->start_child)
    r->opt->start_child();
  return 0;
}

/* Exit sequence: detach, drain, END, drain, maps.  The first drain
 * prints what was queued before the stop; after an exit() it discards
 * what other CPUs queued behind the exit record (on_record ignores
 * records while exiting).  END's own output is always printed. */
static void finish(Run *r) {
  links_close(&r->links);
  drain(r);
  int code;
  if (!r->exit_seen && stop_flag(r, &code)) /* exit()'s record was lost */
    r->exit_code = code;
  r->exiting = false;
  run_phase(r, RUN_END);
  drain(r);
  r->exiting = false;
  out_flush(r);
  rt_print_all_maps(r->o);
  out_flush(r);
  report_drops(r->c);
}

int rt_run(Compiled *c, const Options *opt, Output *o) {
  Run run = {.c = c, .opt = opt, .o = o, .stop_fd = load_map_fd(c, ".stop")}, *r = &run;
  r->env = (AttachEnv){.pid = opt->pid, .cpid = opt->cpid, .ncpu = libbpf_num_possible_cpus(),
                       .add_link = links_keep, .drop_link = links_drop, .arg = &r->links};
  rt_set_probe_names(c->probe_names, c->nprobe_names);
  Loop loop;
  if (loop_init(&loop, opt->pid, opt->child_pid) < 0) {
    diag_fatal("cannot set up the event loop: %s", strerror(errno));
    loop_fini(&loop);
    return 1;
  }
  loop_add_signal(&loop, SIGUSR1, on_sigusr1, r);
  int rb_fd = load_map_fd(c, ".ringbuf");
  if (rb_fd < 0 || ring_map(&r->ring, rb_fd, 0) < 0) {
    diag_fatal("cannot set up the ring buffer: %s", strerror(errno));
    loop_fini(&loop);
    return 1;
  }
  if (start(r) < 0) {
    links_free(&r->links);
    ring_unmap(&r->ring);
    loop_fini(&loop);
    return 1;
  }
  loop_add(&loop, rb_fd, on_ring, r);
  if (o->ctf)
    loop_add_timer(&loop, 1, true, on_ctf_tick, r);
  if (opt->loop_ready)
    loop_add(&loop, opt->loop_fd, on_caller_fd, (void *)opt);
  loop.after = after_wakeup;
  loop.after_arg = r;
  /* iter probes: the program ends when the iterators have been read */
  if (!r->exiting) {
    int rc = run_phase(r, RUN_MAIN);
    if (rc < 0)
      r->exit_code = 1;
    if (rc == 0 && !only_begin_end(r))
      loop_run(&loop);
  }
  finish(r);
  ring_unmap(&r->ring);
  links_free(&r->links);
  loop_fini(&loop);
  return r->exit_code;
}
