/* t.c - driver for the tracefs/prov unit test (tests/probes/tracefs/run.sh).
 *
 *   t root                  print the tracefs root
 *   t format SYS EVENT      print the parsed fields, one per line:
 *                           name offset size signed array_len data_loc user_ptr ctype
 *   t formats               parse every event's format; print
 *                           "events N fields N failed N"
 *   t glob SYS_GLOB EV_GLOB print the matches, then "count N"
 *   t list [GLOB] [-v]      prov_list
 *   t attach KIND           attach a counting program and check it fires:
 *                           tracepoint | raw_tp | clock; prints "ok ..." or
 *                           "bad ..." lines
 */
#include "codegen/insn.h"
#include "providers/attach.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int cmd_format(const char *sys, const char *event) {
  TpFormat *f = tracefs_format(sys, event);
  if (!f) {
    printf("error %s\n", strerror(errno));
    return 1;
  }
  printf("id %d\n", f->id);
  for (int i = 0; i < f->nfields; i++) {
    TpField *x = &f->fields[i];
    printf("%s %d %d %d %d %d %d %s\n", x->name, x->offset, x->size, x->is_signed,
           x->array_len, x->data_loc, x->user_ptr, x->ctype);
  }
  return 0;
}

typedef struct Totals {
  int events, fields, failed;
} Totals;

static void parse_one(const char *sys, const char *event, void *arg) {
  Totals *t = arg;
  TpFormat *f = tracefs_format(sys, event);
  t->events++;
  if (!f) {
    t->failed++;
    printf("failed %s:%s\n", sys, event);
    return;
  }
  t->fields += f->nfields;
}

static void print_match(const char *sys, const char *event, void *arg) {
  printf("%s:%s\n", sys, event);
}

/* A program that adds 1 to slot 0 of an array map.  With filter_pid set
 * it only counts events of this process; with filter_nr >= 0 (raw_tp
 * sys_enter) only that syscall. */
static int load_counter(enum bpf_prog_type type, int map_fd, int filter_pid,
                        int filter_nr) {
  struct bpf_insn p[32];
  int n = 0;
  int skip[4], nskip = 0;
  p[n++] = MOV64_REG(BPF_REG_6, BPF_REG_1);
  if (filter_nr >= 0) {
    p[n++] = LDX(BPF_DW, BPF_REG_2, BPF_REG_6, 8);   /* ctx->args[1]: id */
    skip[nskip++] = n;
    p[n++] = JMP_IMM(BPF_JNE, BPF_REG_2, filter_nr, 0);
  }
  if (filter_pid) {
    p[n++] = CALL(BPF_FUNC_get_current_pid_tgid);
    p[n++] = ALU64_IMM(BPF_RSH, BPF_REG_0, 32);
    skip[nskip++] = n;
    p[n++] = JMP_IMM(BPF_JNE, BPF_REG_0, filter_pid, 0);
  }
  p[n++] = ST_IMM(BPF_W, BPF_REG_10, -4, 0);
  p[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
  p[n++] = ALU64_IMM(BPF_ADD, BPF_REG_2, -4);
  p[n++] = LD_IMM64_LO(BPF_REG_1, BPF_PSEUDO_MAP_FD, map_fd);
  p[n++] = LD_IMM64_HI(0);
  p[n++] = CALL(BPF_FUNC_map_lookup_elem);
  skip[nskip++] = n;
  p[n++] = JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0);
  p[n++] = MOV64_IMM(BPF_REG_1, 1);
  p[n++] = ATOMIC_ADD64(BPF_REG_0, BPF_REG_1, 0);
  int out = n;
  p[n++] = MOV64_IMM(BPF_REG_0, 0);
  p[n++] = EXIT_INSN();
  for (int i = 0; i < nskip; i++)
    p[skip[i]].off = out - skip[i] - 1;
  char log[4096] = "";
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof log,
              .log_level = 0);
  int fd = bpf_prog_load(type, "t_counter", "GPL", p, n, &opts);
  if (fd < 0) {
    /* retry with a log to explain the failure */
    opts.log_level = 1;
    fd = bpf_prog_load(type, "t_counter", "GPL", p, n, &opts);
    if (fd < 0)
      fprintf(stderr, "load failed: %s\n%s\n", strerror(errno), log);
  }
  return fd;
}

static uint64_t read_count(int map_fd) {
  uint32_t key = 0;
  uint64_t v = 0;
  bpf_map_lookup_elem(map_fd, &key, &v);
  return v;
}

static void check(bool ok, const char *what, uint64_t got) {
  printf("%s %s (%llu)\n", ok ? "ok" : "bad", what, (unsigned long long)got);
}

static int cmd_attach(const char *kind) {
  int map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_count", 4, 8, 1, NULL);
  if (map_fd < 0) {
    printf("bad map_create %s\n", strerror(errno));
    return 1;
  }
  int pid = getpid();
  int link;
  if (!strcmp(kind, "clock")) {
    int prog = load_counter(BPF_PROG_TYPE_PERF_EVENT, map_fd, 0, -1);
    link = prov_attach_perf_clock(prog, 0, 1000000, 0);   /* every 1 ms */
    if (link < 0) {
      printf("bad attach %s\n", strerror(-link));
      return 1;
    }
    struct timespec ts = {0, 100 * 1000000};
    nanosleep(&ts, NULL);
    check(read_count(map_fd) >= 10, "clock fired", read_count(map_fd));
    close(link);
    uint64_t before = read_count(map_fd);
    nanosleep(&ts, NULL);
    check(read_count(map_fd) == before, "clock detached", read_count(map_fd) - before);
    return 0;
  }
  int prog;
  if (!strcmp(kind, "tracepoint")) {
    TpFormat *f = tracefs_format("syscalls", "sys_enter_getppid");
    if (!f) {
      printf("bad format %s\n", strerror(errno));
      return 1;
    }
    prog = load_counter(BPF_PROG_TYPE_TRACEPOINT, map_fd, pid, -1);
    link = prov_attach_tracepoint(prog, f->id);
  } else {
    prog = load_counter(BPF_PROG_TYPE_RAW_TRACEPOINT, map_fd, pid, SYS_getppid);
    link = prov_attach_raw_tp(prog, "sys_enter");
  }
  if (prog < 0 || link < 0) {
    printf("bad attach %s\n", strerror(link < 0 ? -link : errno));
    return 1;
  }
  close(prog);   /* the attachment keeps the program alive */
  for (int i = 0; i < 10; i++)
    syscall(SYS_getppid);
  check(read_count(map_fd) == 10, "counted 10 getppid", read_count(map_fd));
  close(link);
  for (int i = 0; i < 5; i++)
    syscall(SYS_getppid);
  check(read_count(map_fd) == 10, "detached on close", read_count(map_fd));
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "root")) {
    const char *r = tracefs_root(true);
    printf("%s\n", r ? r : "(null)");
    return !r;
  }
  if (argc == 4 && !strcmp(argv[1], "format"))
    return cmd_format(argv[2], argv[3]);
  if (argc == 2 && !strcmp(argv[1], "formats")) {
    Totals t = {0};
    tracefs_glob("*", "*", parse_one, &t);
    printf("events %d fields %d failed %d\n", t.events, t.fields, t.failed);
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "glob")) {
    int n = tracefs_glob(argv[2], argv[3], print_match, NULL);
    printf("count %d\n", n);
    return 0;
  }
  if (argc >= 2 && !strcmp(argv[1], "list")) {
    bool v = argc >= 4 && !strcmp(argv[3], "-v");
    return prov_list(stdout, argc >= 3 ? argv[2] : NULL, v, 0) < 0;
  }
  if (argc == 3 && !strcmp(argv[1], "attach"))
    return cmd_attach(argv[2]);
  fprintf(stderr, "usage: t root|format|glob|list|attach ...\n");
  return 2;
}
