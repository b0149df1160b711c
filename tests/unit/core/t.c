/* t.c - the shared core on its own: the emitter (codegen/emit.c), the
 * event loop (runtime/loop.c), the ring-buffer reader (runtime/ring.c),
 * the syscall dispatcher (providers/sysdispatch.c), the list of
 * attachments (load/links.c) and the register table (arch/).  Each case
 * prints "PASS core/NAME" or "FAIL core/NAME: why".  Needs root (BPF maps
 * and programs). */
#include "etrace.h"
#include "arch/arch.h"
#include "codegen/emit.h"
#include "codegen/insn.h"
#include "load/load.h"
#include "providers/sysdispatch.h"
#include "runtime/loop.h"
#include "runtime/ring.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void check(const char *name, bool ok, const char *why) {
  if (ok)
    printf("PASS core/%s\n", name);
  else
    printf("FAIL core/%s: %s\n", name, why);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ emitter */

static void emit_cases(void) {
  /* 0: r0 = 0; 1: if r0 == 0 goto L; 2: r0 = 1; L 3: r0 += 1; 4: goto 3 if r0 < 5; 5: exit */
  Emitter e = {0};
  int l = em_label(&e), top = em_label(&e);
  em_insn(&e, MOV64_IMM(BPF_REG_0, 0));
  em_jump(&e, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0), l);
  em_insn(&e, MOV64_IMM(BPF_REG_0, 1));
  em_place(&e, l);
  em_place(&e, top);
  em_insn(&e, ALU64_IMM(BPF_ADD, BPF_REG_0, 1));
  em_jump(&e, JMP_IMM(BPF_JLT, BPF_REG_0, 5, 0), top);
  em_insn(&e, EXIT_INSN());
  int rc = em_resolve(&e);
  check("emit_resolve", rc == 0 && e.n == 6 && e.insns[1].off == 1 && e.insns[4].off == -2,
        "forward jump off 1 and backward jump off -2 expected");
  em_free(&e);

  Emitter u = {0};
  int never = em_label(&u);
  em_jump(&u, JA(0), never);
  check("emit_unplaced_label", em_resolve(&u) == -1, "a jump to a label never placed resolved");
  em_free(&u);

  /* 0: goto L; 1: r0 = 7 (dead); 2: r0 = 8 (dead); L 3: r0 = 0; 4: exit; 5: r0 = 9 (dead) */
  Emitter d = {0};
  int l2 = em_label(&d);
  em_jump(&d, JA(0), l2);
  em_insn(&d, MOV64_IMM(BPF_REG_0, 7));
  em_insn(&d, MOV64_IMM(BPF_REG_0, 8));
  em_place(&d, l2);
  em_insn(&d, MOV64_IMM(BPF_REG_0, 0));
  em_insn(&d, EXIT_INSN());
  em_insn(&d, MOV64_IMM(BPF_REG_0, 9));
  em_resolve(&d);
  em_remove_dead_code(&d, NULL);
  check("emit_dead_code", d.n == 3 && d.insns[0].off == 0 && d.insns[1].imm == 0 &&
                              d.insns[2].code == (BPF_JMP | BPF_EXIT),
        "expected goto +0; r0 = 0; exit");
  em_free(&d);

  Emitter m = {.max = 3};
  bool ok = em_insn(&m, MOV64_IMM(0, 0)) && em_insn(&m, MOV64_IMM(0, 0)) &&
            em_insn(&m, MOV64_IMM(0, 0));
  bool fourth = em_insn(&m, MOV64_IMM(0, 0));
  int lm = em_label(&m);
  bool jump = em_jump(&m, JA(0), lm);
  check("emit_limit", ok && !fourth && !jump && m.overflow && m.n == 3 && m.nfixups == 0,
        "instructions past max must be refused and flagged");
  em_free(&m);
}

/* ------------------------------------------------------------ loop */

static int calls;

static bool read_and_stop(Loop *l, int fd, void *arg) {
  char c;
  calls++;
  return read(fd, &c, 1) == 1 && c == 'x';
}

static bool count_to_three(Loop *l, int fd, void *arg) { return ++calls == 3; }

static void loop_cases(void) {
  Loop l;
  int p[2];
  if (pipe(p) < 0 || loop_init(&l, 0, 0) < 0) {
    check("loop_fd", false, "pipe or loop_init failed");
    return;
  }
  calls = 0;
  loop_add(&l, p[0], read_and_stop, NULL);
  if (write(p[1], "x", 1) != 1)
    return;
  loop_run(&l);
  check("loop_fd", calls == 1, "the fd handler should run once and stop the loop");
  loop_fini(&l);
  close(p[0]);
  close(p[1]);

  calls = 0;
  loop_init(&l, 0, 0);
  loop_add_timer(&l, 0.05, true, count_to_three, NULL);
  double t0 = now_s();
  loop_run(&l);
  double dt = now_s() - t0;
  check("loop_timer", calls == 3 && dt >= 0.14 && dt < 2, "a 50 ms timer should fire 3 times");
  loop_fini(&l);

  loop_init(&l, 0, 0);
  kill(getpid(), SIGTERM); /* blocked by loop_init: read from the signalfd */
  t0 = now_s();
  loop_run(&l);
  check("loop_signal", now_s() - t0 < 1, "SIGTERM should stop the loop");
  loop_fini(&l);

  pid_t child = fork();
  if (child == 0) {
    usleep(50000);
    _exit(0);
  }
  loop_init(&l, 0, child);
  loop_run(&l);
  check("loop_child", l.child_exited && l.child == 0 && waitpid(child, NULL, WNOHANG) < 0,
        "the -c child's exit should stop the loop, reaped");
  loop_fini(&l);
}

/* ------------------------------------------------------------ ring */

static uint64_t got[8];
static int ngot;

static void collect(void *arg, const Ring *r, const void *data, size_t size) {
  if (size == 8 && ngot < 8)
    memcpy(&got[ngot++], data, 8);
}

/* A raw_tp program writing the 8-byte records 1, 2, 3 to the map. */
static int ring_writer(int map_fd) {
  Emitter e = {0};
  for (int v = 1; v <= 3; v++) {
    em_insn(&e, ST_IMM(BPF_DW, BPF_REG_10, -8, v));
    em_map(&e, BPF_REG_1, map_fd);
    em_insn(&e, MOV64_REG(BPF_REG_2, BPF_REG_10));
    em_insn(&e, ALU64_IMM(BPF_ADD, BPF_REG_2, -8));
    em_insn(&e, MOV64_IMM(BPF_REG_3, 8));
    em_insn(&e, MOV64_IMM(BPF_REG_4, 0));
    em_insn(&e, CALL(BPF_FUNC_ringbuf_output));
  }
  em_insn(&e, MOV64_IMM(BPF_REG_0, 0));
  em_insn(&e, EXIT_INSN());
  int fd = load_prog(BPF_PROG_TYPE_RAW_TRACEPOINT, "core_test", e.insns, e.n, NULL, NULL,
                     "the ring test writer");
  em_free(&e);
  return fd;
}

static void ring_cases(void) {
  int map = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "core_rb", 0, 0, 4096 * 4, NULL);
  int prog = map >= 0 ? ring_writer(map) : -1;
  Ring r;
  if (prog < 0 || ring_map(&r, map, 0) < 0) {
    check("ring_consume", false, "cannot create, load or map");
    return;
  }
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  bpf_prog_test_run_opts(prog, &opts);
  ngot = 0;
  bool more = ring_consume(&r, 2, collect, NULL);
  check("ring_budget", more && ngot == 2 && got[0] == 1 && got[1] == 2,
        "a budget of 2 should hand over records 1 and 2 and say more remain");
  more = ring_consume(&r, 100, collect, NULL);
  check("ring_consume", !more && ngot == 3 && got[2] == 3 && !ring_pending(&r),
        "the third record, then nothing pending");
  ring_unmap(&r);
  close(prog);
  close(map);
}

/* ------------------------------------------------------------ dispatcher */

/* sys_enter program for one syscall: count calls of this process into
 * slot 0 of an array. */
static int counter_prog(int array_fd) {
  Emitter e = {0};
  int out = em_label(&e);
  em_insn(&e, CALL(BPF_FUNC_get_current_pid_tgid));
  em_insn(&e, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
  em_jump(&e, JMP_IMM(BPF_JNE, BPF_REG_0, getpid(), 0), out);
  em_insn(&e, ST_IMM(BPF_W, BPF_REG_10, -4, 0));
  em_map(&e, BPF_REG_1, array_fd);
  em_insn(&e, MOV64_REG(BPF_REG_2, BPF_REG_10));
  em_insn(&e, ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
  em_insn(&e, CALL(BPF_FUNC_map_lookup_elem));
  em_jump(&e, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0), out);
  em_insn(&e, MOV64_IMM(BPF_REG_1, 1));
  em_insn(&e, ATOMIC_ADD64(BPF_REG_0, BPF_REG_1, 0));
  em_place(&e, out);
  em_insn(&e, MOV64_IMM(BPF_REG_0, 0));
  em_insn(&e, EXIT_INSN());
  em_resolve(&e);
  int fd = load_prog(BPF_PROG_TYPE_RAW_TRACEPOINT, "core_cnt", e.insns, e.n, NULL, NULL,
                     "the dispatcher test counter");
  em_free(&e);
  return fd;
}

static void dispatcher_cases(void) {
  bool is_exit;
  int nr = systp_nr("sys_enter_getppid", &is_exit);
  int counts = bpf_map_create(BPF_MAP_TYPE_ARRAY, "core_cnt", 4, 8, 1, NULL);
  int prog = counts >= 0 ? counter_prog(counts) : -1;
  SysDispatch d;
  sysdisp_init(&d, "core_sys_enter", "core_sys_exit", NULL, NULL);
  Links links = {0};
  if (nr < 0 || prog < 0 || sysdisp_add(&d, false, nr, prog, NULL, "getppid") < 0 ||
      sysdisp_attach(&d, links_keep, &links, false) < 0) {
    check("dispatcher_count", false, "cannot set up the dispatcher");
    return;
  }
  for (int i = 0; i < 5; i++)
    syscall(SYS_getppid);
  links_close(&links);
  for (int i = 0; i < 3; i++) /* detached: not counted */
    syscall(SYS_getppid);
  uint32_t key = 0;
  uint64_t n = 0;
  bpf_map_lookup_elem(counts, &key, &n);
  char why[64];
  snprintf(why, sizeof why, "expected 5 getppid calls, counted %llu", (unsigned long long)n);
  check("dispatcher_count", n == 5 && d.dispatcher[1] < 0, why);
  links_free(&links);
  sysdisp_close(&d);
  close(prog);
  close(counts);
}

/* ------------------------------------------------------------ links */

/* links_drop closes one kept fd now (an unwatch()ed watchpoint) and
 * keeps the others, in order; an fd it does not hold is left alone. */
static void links_cases(void) {
  int p[2], q[2];
  if (pipe(p) < 0 || pipe(q) < 0) {
    check("links_drop", false, "pipe failed");
    return;
  }
  Links links = {0};
  links_add(&links, p[0]);
  links_add(&links, p[1]);
  links_add(&links, q[0]);
  links_drop(&links, p[1]);
  bool closed = fcntl(p[1], F_GETFD) < 0;
  links_drop(&links, q[1]); /* not held: stays open */
  bool kept = links.n == 2 && links.fds[0] == p[0] && links.fds[1] == q[0] &&
              fcntl(q[1], F_GETFD) >= 0;
  links_free(&links);
  check("links_drop", closed && kept && fcntl(p[0], F_GETFD) < 0,
        "the dropped fd must be closed, the others kept in order and closed by links_free");
  close(q[1]);
}

/* ------------------------------------------------------------ arch */

static void arch_cases(void) {
  const Arch *a = arch_current();
  int reg = -1, stack = -1;
  bool in_reg = arch_func_arg(0, &reg, &stack);
  bool past = arch_func_arg(a->nfunc_args + 1, &reg, &stack);
  check("arch_table",
        arch_reg_offset("ip") == a->ip && arch_reg_offset("sp") == a->sp &&
            arch_reg_offset("no_such_reg") == -1 && in_reg && !past &&
            stack == a->stack_arg0 + 8,
        "reg() names, argument registers and stack slots disagree with the table");
}

int main(void) {
  emit_cases();
  loop_cases();
  ring_cases();
  dispatcher_cases();
  links_cases();
  arch_cases();
  return 0;
}
