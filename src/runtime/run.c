/* run.c - attach, run BEGIN, the event loop, and the exit sequence.
 *
 * The loop waits on one epoll set holding the ring buffer and a signalfd;
 * there is no poll timeout anywhere, so exit() takes effect as soon as
 * its record arrives.  The exit sequence is: stop reading new work,
 * detach every probe, drain what is already in the ring buffer, run END,
 * drain again, print the maps, report drops.
 */
#include "etrace.h"
#include "providers/provider.h"
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct Run {
  Compiled *c;
  const Options *opt;
  Output *o;
  struct ring_buffer *rb;
  int *links;
  int nlinks;
  bool exiting;        /* exit() seen: ignore later records */
  int exit_code;
  bool child_exited;
  unsigned records;    /* records handled: a signal check every so many */
} Run;

static Run R;

static void out_write(const char *s, size_t n) {
  fwrite(s, 1, n, R.o->f);
}

static void out_flush(void) { fflush(R.o->f); }

/* ------------------------------------------------------------ records */

static void do_time(const Site *s) {
  char out[256];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  size_t n = strftime(out, sizeof out, s->fmt, &tm);
  rt_emit_text(R.o, "time", out, n);
}

/* cat(): at most BPFTRACE_CAT_BYTES_MAX bytes of the file; one "cat"
 * record with -f json. */
static void do_cat(const Site *s, const void *data) {
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
    rt_emit_text(R.o, "cat", text.data ? text.data : "", text.len);
  }
  buf_free(&text);
  buf_free(&path);
}

/* system(): the command's output; one "syscall" record with -f json
 * (bpftrace's name for it). */
static void do_system(const Site *s, const void *data) {
  Buf cmd = {0}, text = {0};
  rt_printf(&cmd, s->fmt, s->args, data);
  out_flush();
  FILE *p = popen(cmd.data ? cmd.data : "", "r");
  if (p) {
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, p)) > 0) {
      if (R.o->format == OUT_JSON)
        buf_put(&text, tmp, n);
      else
        out_write(tmp, n); /* as it comes: a long-running command streams */
    }
    pclose(p);
    if (R.o->format == OUT_JSON)
      rt_emit_text(R.o, "syscall", text.data ? text.data : "", text.len);
  }
  buf_free(&text);
  buf_free(&cmd);
}

/* join(): the argv strings up to the first empty one, separated. */
static void do_join(const Site *s, const char *data) {
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
  if (R.o->format != OUT_JSON) /* a JSON record's data has no newline */
    buf_put(&b, "\n", 1);
  rt_emit_text(R.o, "join", b.data ? b.data : "", b.len);
  buf_free(&b);
}

/* print(*p) / dump(p): the copied bytes of a kernel object. */
static void do_object(const Site *s, const void *data, size_t size) {
  int full = s->args->size;
  int have = size < (size_t)full ? (int)size : full;
  Buf b = {0};
  if (!strcmp(s->fmt, "print")) {
    bool json = R.o->format == OUT_JSON;
    rt_object_text(&b, s->args->btf_id, data, have, json);
    if (json) {
      Buf j = {0};
      buf_printf(&j, "{\"type\": \"value\", \"data\": %s}\n", b.data ? b.data : "null");
      out_write(j.data, j.len);
      buf_free(&j);
    } else {
      buf_put(&b, "\n", 1);
      out_write(b.data, b.len);
    }
  } else if (!strcmp(s->fmt, "kernel")) { /* rendered by bpf_snprintf_btf */
    buf_put(&b, data, strnlen(data, size));
    buf_put(&b, "\n", 1);
    rt_emit_text(R.o, "dump", b.data, b.len);
  } else {
    unsigned char *copy = calloc(1, full);
    memcpy(copy, data, have);
    if (rt_object_dump(&b, s->args->btf_id, copy, have, full, !strcmp(s->fmt, "compact")) < 0)
      buf_printf(&b, "(cannot dump %s)\n", ty_name(s->args));
    rt_emit_text(R.o, "dump", b.data, b.len);
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

static int on_record(void *ctx, void *data, size_t size) {
  if (++R.records % 256 == 0 && !R.exiting && stop_signal_pending())
    R.exiting = true; /* stop as asked: what is still queued is dropped */
  if (R.exiting || size < 8)
    return 0;
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
    if (id >= (uint32_t)R.c->nsites)
      break;
    const Site *s = R.c->sites[id];
    if (size < 8 + (size_t)s->args->size)
      break;
    if (kind == REC_PRINTF && R.o->ctf)
      rt_ctf_printf(R.o, (int)id, p, size - 8);
    else if (kind == REC_PRINTF)
      rt_emit_printf(R.o, s->fmt, s->args, p);
    else if (kind == REC_CAT)
      do_cat(s, p);
    else if (kind == REC_SYSTEM)
      do_system(s, p);
    else if (kind == REC_TIME)
      do_time(s);
    else if (kind == REC_JOIN)
      do_join(s, p);
    else
      rt_emit_value(R.o, s->args->fields[0], p);
    break;
  }
  case REC_OBJECT:
    if (id < (uint32_t)R.c->nsites)
      do_object(R.c->sites[id], p, size - 8);
    break;
  case REC_PID: { /* a process ustack/usym saw first: read its maps now */
    sym_pid_seen((int)id);
    const UserSite *site =
        size >= 24 && b >= 0 && b < R.c->ntargets ? target_user_site(R.c->targets[b]) : NULL;
    if (site)
      sym_pid_bias((int)id, site->path, (uint64_t)a);
    break;
  }
  case REC_EXIT:
    R.exiting = true;
    R.exit_code = (int)a;
    break;
  case REC_PRINT_MAP:
    if (id < (uint32_t)R.c->nmaps)
      rt_print_map(R.o, R.c->maps[id], a, b);
    break;
  case REC_CLEAR:
    if (id < (uint32_t)R.c->nmaps)
      rt_clear_map(R.c->maps[id]);
    break;
  case REC_ZERO:
    if (id < (uint32_t)R.c->nmaps)
      rt_zero_map(R.c->maps[id]);
    break;
  default:
    break;
  }
  if (R.opt && R.o->f == stdout && R.opt->verbose)
    out_flush();
  return 0;
}

static void drain(void) {
  if (R.rb)
    ring_buffer__consume(R.rb);
}

/* ------------------------------------------------------------ probes */

static void drain_arg(void *arg) { drain(); }

static void add_link(void *arg, int fd) {
  R.links = realloc(R.links, sizeof(int) * (R.nlinks + 1));
  R.links[R.nlinks++] = fd;
}

/* Several probes on one event run in program order, as in bpftrace: the
 * first pass (order[0..n)) visits the targets in order, for the hooks the
 * kernel runs oldest first; the second (order[n..2n)) visits the probes
 * last to first, each probe's own targets (a wildcard's matches) still in
 * order, for the hooks it runs newest first (Provider.newest_first). */
static void attach_order(int *order) {
  Target **t = R.c->targets;
  int n = R.c->ntargets, m = 0;
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
static int attach_all(void) {
  AttachEnv env = {.pid = R.opt->pid, .cpid = R.opt->cpid, .ncpu = libbpf_num_possible_cpus(),
                   .add_link = add_link};
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->attach_program && providers[i]->attach_program(R.c, &env) < 0)
      return -1;
  int n = R.c->ntargets, *order = malloc(sizeof(int) * (2 * n + 1)), rc = 0;
  if (!order)
    return -1;
  attach_order(order);
  for (int k = 0; k < 2 * n && rc == 0; k++) {
    Target *t = R.c->targets[order[k]];
    if (newest_first(t) == (k >= n) && t->prov->attach(t, &env) < 0)
      rc = -1;
  }
  free(order);
  return rc;
}

/* Run every target's work for phase (BEGIN and END programs in program
 * order, iterators): 1 when one says the program is done, -1 on error. */
static int run_phase(RunPhase phase) {
  RunEnv env = {.drain = drain_arg, .stop = &R.exiting};
  int done = 0;
  for (int i = 0; i < R.c->ntargets; i++) {
    Target *t = R.c->targets[i];
    int rc = t->prov->run ? t->prov->run(t, phase, &env) : 0;
    if (rc < 0)
      return -1;
    if (rc > 0)
      done = 1;
  }
  return done;
}

static void detach_all(void) {
  for (int i = 0; i < R.nlinks; i++)
    close(R.links[i]);
  R.nlinks = 0;
}

static int count_attached(void) {
  /* bpftrace counts attach points after wildcard expansion */
  return R.c->ntargets;
}

/* ------------------------------------------------------------ drops */

static void report_drops(void) {
  if (load_drops_fd < 0)
    return;
  int ncpu = libbpf_num_possible_cpus();
  uint64_t *vals = calloc(ncpu, 8);
  for (uint32_t k = 0; k < 3; k++) {
    if (bpf_map_lookup_elem(load_drops_fd, &k, vals))
      continue;
    uint64_t sum = 0;
    for (int i = 0; i < ncpu; i++)
      sum += vals[i];
    if (!sum)
      continue;
    if (k == 0)
      fprintf(stderr, "etrace: lost %llu events: the ring buffer was full\n",
              (unsigned long long)sum);
    else if (k == 1)
      fprintf(stderr,
              "etrace: %llu map updates failed because a map was full (4096 entries); "
              "those values are missing from the output\n",
              (unsigned long long)sum);
    else
      fprintf(stderr,
              "etrace: lost %llu stack traces: the stack map was full or two stacks "
              "collided in it; they print as empty stacks\n",
              (unsigned long long)sum);
  }
  free(vals);
}

/* ------------------------------------------------------------ main loop */

static bool has_map(const Compiled *c, const char *name) {
  for (int i = 0; i < c->nmaps; i++)
    if (!strcmp(c->maps[i]->name, name))
      return true;
  return false;
}

int rt_run(Compiled *c, const Options *opt, Output *o) {
  R.c = c;
  R.opt = opt;
  R.o = o;
  rt_set_probe_names(c->probe_names, c->nprobe_names);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGUSR1);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  R.rb = ring_buffer__new(load_ringbuf_fd, on_record, NULL, NULL);
  if (!R.rb) {
    diag_fatal("cannot set up the ring buffer: %s", strerror(errno));
    return 1;
  }
  /* BEGIN runs before any other probe is attached (as in bpftrace), so no
   * probe sees the maps before BEGIN has set them; its output is read
   * after the "Attaching" line. */
  if (run_phase(RUN_BEGIN) < 0)
    return 1;
  if (attach_all() < 0) {
    detach_all();
    return 1;
  }
  if (!opt->quiet) {
    int n = count_attached();
    if (o->format == OUT_JSON)
      fprintf(o->f, "{\"type\": \"attached_probes\", \"data\": {\"probes\": %d}}\n", n);
    else
      fprintf(o->f, "Attaching %d probe%s...\n", n, n == 1 ? "" : "s");
  }
  /* bpftrace's runtime test engine sets this and starts a test's AFTER
   * command (and its timeout) when the line appears: probes are live.
   * bpftrace prints it before BEGIN's output reaches the terminal. */
  if (getenv("__BPFTRACE_NOTIFY_PROBES_ATTACHED"))
    fprintf(stderr, "__BPFTRACE_NOTIFY_PROBES_ATTACHED\n");
  drain();
  out_flush();
  if (opt->pid && has_map(c, ".pids"))
    sym_pid_seen(opt->pid); /* -p PID with ustack/usym: its maps, now */
  if (opt->start_child)
    opt->start_child();

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
  epoll_ctl(ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(R.rb), &ev);
  ev.data.u32 = 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  /* -p PID: a pidfd becomes readable when that process exits */
  int pidfd = opt->pid ? (int)syscall(SYS_pidfd_open, opt->pid, 0) : -1;
  if (pidfd >= 0) {
    ev.data.u32 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
  }
  /* -f ctf: close the open packets every second (live relay viewers) */
  int tfd = o->ctf ? timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK) : -1;
  if (tfd >= 0) {
    struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
    timerfd_settime(tfd, 0, &its, NULL);
    ev.data.u32 = 3;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
  }
  if (opt->loop_ready) {
    ev.data.u32 = 4;
    epoll_ctl(ep, EPOLL_CTL_ADD, opt->loop_fd, &ev);
  }

  bool stop = R.exiting;
  /* iter probes: the program ends when the iterators have been read */
  if (!stop) {
    int rc = run_phase(RUN_MAIN);
    if (rc < 0)
      R.exit_code = 1;
    stop = rc != 0;
  }
  while (!stop) {
    struct epoll_event evs[4];
    int n = epoll_wait(ep, evs, 4, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u32 == 0) {
        drain();
        if (R.exiting)
          stop = true;
        continue;
      }
      if (evs[i].data.u32 == 2) {
        stop = true;
        continue;
      }
      if (evs[i].data.u32 == 3) {
        uint64_t x;
        if (read(tfd, &x, sizeof x) < 0) { /* nothing */ }
        if (rt_ctf_tick(o, drain) < 0)
          stop = true; /* the relay is gone */
        continue;
      }
      if (evs[i].data.u32 == 4) {
        opt->loop_ready(opt->loop_ctx);
        continue;
      }
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGUSR1) { /* bpftrace's: print every map, carry on */
          drain();
          out_flush();
          rt_print_all_maps(o);
        } else if (si.ssi_signo == SIGCHLD) {
          if (opt->child_pid && waitpid(opt->child_pid, NULL, WNOHANG) == opt->child_pid) {
            R.child_exited = true;
            child_reaped();
            stop = true;
          }
        } else {
          stop = true;
        }
      }
    }
    out_flush();
  }
  /* Exit sequence: detach, drain, END, drain, maps.  The first drain
   * prints what was queued before the stop; after an exit() it discards
   * what other CPUs queued behind the exit record (on_record ignores
   * records while R.exiting).  END's own output is always printed. */
  detach_all();
  drain();
  R.exiting = false;
  run_phase(RUN_END);
  drain();
  R.exiting = false;
  out_flush();
  rt_print_all_maps(o);
  out_flush();
  report_drops();
  ring_buffer__free(R.rb);
  close(ep);
  if (tfd >= 0)
    close(tfd);
  close(sfd);
  if (pidfd >= 0)
    close(pidfd);
  free(R.links);
  return R.exit_code;
}
