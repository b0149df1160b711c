/* systp.c - syscall tracepoints served by raw tracepoints.
 *
 * Each perf-event tracepoint attachment costs an RCU grace period to
 * detach (60-75 ms here, serialised under a kernel mutex), so a program
 * on syscalls:sys_enter_* (over 300 events) would take half a minute to
 * exit.  Instead, every syscalls:* target is loaded as a raw-tracepoint
 * program, stored in a BPF_MAP_TYPE_PROG_ARRAY under its syscall number,
 * and two small dispatchers attached to the raw tracepoints sys_enter and
 * sys_exit tail-call into it.  Two links detach in well under a
 * millisecond, and a syscall nobody traces costs one failed tail call.
 *
 * The target programs see the same record layout as the tracefs format
 * (cg.c builds it on the stack), so `args.NAME` works unchanged.
 */
#include "etrace.h"
#include "arch/arch.h"
#include "codegen/insn.h"
#include "providers/prov.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *name;
  int nr;
} syscall_table[] = {
#include "syscall_table.h"
};

#define MAX_SYSCALL 1024

int systp_nr(const char *event, bool *is_exit) {
  const char *name;
  if (!strncmp(event, "sys_enter_", 10)) {
    name = event + 10;
    *is_exit = false;
  } else if (!strncmp(event, "sys_exit_", 9)) {
    name = event + 9;
    *is_exit = true;
  } else {
    return -1;
  }
  for (size_t i = 0; i < sizeof syscall_table / sizeof syscall_table[0]; i++)
    if (!strcmp(syscall_table[i].name, name))
      return syscall_table[i].nr < MAX_SYSCALL ? syscall_table[i].nr : -1;
  return -1;
}

/* Decide which syscall targets take the raw-tracepoint path: one program
 * per (direction, number); a second probe on the same syscall keeps the
 * perf-event path. */
void systp_assign(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    if (t->type != PT_TRACEPOINT || strcmp(t->tp_sys, "syscalls"))
      continue;
    bool is_exit;
    int nr = systp_nr(t->tp_event, &is_exit);
    if (nr < 0)
      continue;
    bool taken = false;
    for (int j = 0; j < i; j++) {
      Target *o = c->targets[j];
      if (o->raw_syscall && o->sys_nr == nr && o->sys_exit == is_exit)
        taken = true;
    }
    if (taken)
      continue;
    t->raw_syscall = true;
    t->sys_nr = nr;
    t->sys_exit = is_exit;
  }
}

static int prog_array[2] = {-1, -1}, dispatcher[2] = {-1, -1};

/* enter: tail_call(ctx, array, ctx->args[1])
 * exit:  tail_call(ctx, array, ((struct pt_regs *)ctx->args[0])->orig_ax) */
static int load_dispatcher(bool is_exit, int array_fd) {
  struct bpf_insn insns[16];
  int n = 0;
  if (!is_exit) {
    insns[n++] = LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 8);
  } else {
    insns[n++] = MOV64_REG(BPF_REG_6, BPF_REG_1);
    insns[n++] = LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0);
    insns[n++] = ALU64_IMM(BPF_ADD, BPF_REG_3, arch_current()->syscall_nr);
    insns[n++] = MOV64_REG(BPF_REG_1, BPF_REG_10);
    insns[n++] = ALU64_IMM(BPF_ADD, BPF_REG_1, -8);
    insns[n++] = MOV64_IMM(BPF_REG_2, 8);
    insns[n++] = CALL(BPF_FUNC_probe_read_kernel);
    insns[n++] = LDX(BPF_DW, BPF_REG_3, BPF_REG_10, -8);
    insns[n++] = MOV64_REG(BPF_REG_1, BPF_REG_6);
  }
  insns[n++] = LD_IMM64_LO(BPF_REG_2, BPF_PSEUDO_MAP_FD, array_fd);
  insns[n++] = LD_IMM64_HI(0);
  insns[n++] = CALL(BPF_FUNC_tail_call);
  insns[n++] = MOV64_IMM(BPF_REG_0, 0);
  insns[n++] = EXIT_INSN();
  return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, is_exit ? "etrace_sys_exit" : "etrace_sys_enter",
                       "GPL", insns, n, NULL);
}

int systp_load(Compiled *c) {
  for (int i = 0; i < c->ntargets; i++) {
    Target *t = c->targets[i];
    if (!t->raw_syscall)
      continue;
    int d = t->sys_exit;
    if (prog_array[d] < 0) {
      prog_array[d] = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, NULL, 4, 4, MAX_SYSCALL, NULL);
      if (prog_array[d] < 0 || (dispatcher[d] = load_dispatcher(d, prog_array[d])) < 0) {
        diag_fatal("cannot set up the syscall dispatcher: %s", strerror(errno));
        return -1;
      }
    }
    uint32_t key = t->sys_nr, fd = t->prog_fd;
    if (bpf_map_update_elem(prog_array[d], &key, &fd, BPF_ANY) < 0) {
      diag_error(t->probe->loc, "cannot register %s: %s", t->name, strerror(errno));
      return -1;
    }
  }
  return 0;
}

/* Attach the dispatchers; returns the number of fds stored in fds[]. */
int systp_attach(int fds[2]) {
  int n = 0;
  for (int d = 0; d < 2; d++) {
    if (dispatcher[d] < 0)
      continue;
    int fd = prov_attach_raw_tp(dispatcher[d], d ? "sys_exit" : "sys_enter");
    if (fd < 0) {
      diag_fatal("cannot attach to raw tracepoint %s: %s", d ? "sys_exit" : "sys_enter",
                 strerror(-fd));
      return -1;
    }
    fds[n++] = fd;
  }
  return n;
}
