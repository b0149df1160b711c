/* sysdispatch.c - the raw-tracepoint dispatcher of syscalls:* (see
 * sysdispatch.h). */
#include "providers/sysdispatch.h"
#include "arch/arch.h"
#include "codegen/insn.h"
#include "providers/attach.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void sysdisp_init(SysDispatch *d, const char *enter_name, const char *exit_name,
                  SysFallthrough fallthrough, void *arg) {
  *d = (SysDispatch){.prog_array = {-1, -1}, .dispatcher = {-1, -1},
                     .fallthrough = fallthrough, .arg = arg, .name = {enter_name, exit_name}};
}

/* enter: tail_call(ctx, array, ctx->args[1])
 * exit:  tail_call(ctx, array, ((struct pt_regs *)ctx->args[0])->syscall_nr)
 * (sys_exit's arguments are the registers and the return value only;
 * tp_btf reads the typed pointer directly, raw_tp through a helper) */
static void gen_dispatch(Emitter *e, bool is_exit, int array_fd, bool typed, bool fallthrough) {
  /* arm64's syscallno is 32 bits, followed by padding */
  int nr_size = arch_current()->syscall_nr_size == 4 ? BPF_W : BPF_DW;
  if (fallthrough || (is_exit && !typed))
    em_insn(e, MOV64_REG(BPF_REG_6, BPF_REG_1));
  if (!is_exit) {
    em_insn(e, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 8));
  } else if (typed) {
    em_insn(e, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0));
    em_insn(e, LDX(nr_size, BPF_REG_3, BPF_REG_3, arch_current()->syscall_nr));
  } else {
    em_insn(e, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, 0));
    em_insn(e, ALU64_IMM(BPF_ADD, BPF_REG_3, arch_current()->syscall_nr));
    em_insn(e, MOV64_REG(BPF_REG_1, BPF_REG_10));
    em_insn(e, ALU64_IMM(BPF_ADD, BPF_REG_1, -8));
    em_insn(e, MOV64_IMM(BPF_REG_2, 8));
    em_insn(e, CALL(BPF_FUNC_probe_read_kernel));
    em_insn(e, LDX(nr_size, BPF_REG_3, BPF_REG_10, -8));
    em_insn(e, MOV64_REG(BPF_REG_1, BPF_REG_6));
  }
  em_map(e, BPF_REG_2, array_fd);
  em_insn(e, CALL(BPF_FUNC_tail_call));
}

static int load_dispatcher(SysDispatch *d, bool is_exit) {
  Emitter e = {0};
  int btf_id = d->btf_id[is_exit];
  gen_dispatch(&e, is_exit, d->prog_array[is_exit], btf_id > 0, d->fallthrough != NULL);
  if (d->fallthrough) {
    d->fallthrough(&e, is_exit, d->arg);
  } else {
    em_insn(&e, MOV64_IMM(BPF_REG_0, 0));
    em_insn(&e, EXIT_INSN());
  }
  int fd = -1;
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
              .attach_btf_id = btf_id);
  if (em_resolve(&e) == 0)
    fd = load_prog(btf_id > 0 ? BPF_PROG_TYPE_TRACING : BPF_PROG_TYPE_RAW_TRACEPOINT,
                   d->name[is_exit], e.insns, e.n, btf_id > 0 ? &opts : NULL, NULL,
                   is_exit ? "the sys_exit dispatcher" : "the sys_enter dispatcher");
  em_free(&e);
  return fd;
}

int sysdisp_add(SysDispatch *d, bool is_exit, int nr, int prog_fd, const Loc *loc,
                const char *what) {
  if (d->prog_array[is_exit] < 0) {
    d->prog_array[is_exit] = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "etrace_sys", 4, 4,
                                            SYSDISPATCH_MAX_NR, NULL);
    if (d->prog_array[is_exit] < 0) {
      diag_fatal("cannot set up the syscall dispatcher: %s", strerror(errno));
      return -1;
    }
    if ((d->dispatcher[is_exit] = load_dispatcher(d, is_exit)) < 0)
      return -1;
  }
  uint32_t key = nr, fd = prog_fd;
  if (bpf_map_update_elem(d->prog_array[is_exit], &key, &fd, BPF_ANY) < 0) {
    if (loc)
      diag_error(*loc, "cannot register %s: %s", what, strerror(errno));
    else
      diag_fatal("cannot register %s: %s", what, strerror(errno));
    return -1;
  }
  return 0;
}

int sysdisp_attach(SysDispatch *d, void (*keep)(void *arg, int fd), void *arg, bool verbose) {
  for (int x = 0; x < 2; x++) {
    if (d->dispatcher[x] < 0)
      continue;
    const char *tp = x ? "sys_exit" : "sys_enter";
    int fd = d->btf_id[x] > 0 ? prov_attach_tp_btf(d->dispatcher[x])
                              : prov_attach_raw_tp(d->dispatcher[x], tp);
    if (fd < 0) {
      diag_fatal("cannot attach to raw tracepoint %s: %s", tp, strerror(-fd));
      return -1;
    }
    if (verbose)
      fprintf(stderr, "etrace: syscalls:sys_%s_* through %s %s\n", x ? "exit" : "enter",
              d->btf_id[x] > 0 ? "tp_btf" : "raw tracepoint", tp);
    keep(arg, fd);
  }
  return 0;
}

void sysdisp_close(SysDispatch *d) {
  for (int x = 0; x < 2; x++) {
    if (d->dispatcher[x] >= 0)
      close(d->dispatcher[x]);
    if (d->prog_array[x] >= 0)
      close(d->prog_array[x]);
    d->dispatcher[x] = d->prog_array[x] = -1;
  }
}
