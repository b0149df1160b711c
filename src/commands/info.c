/* info.c - `etrace --info`: what this system and this kernel offer, in the
 * layout of `bpftrace --info` (tools and test engines read its "NAME: yes"
 * lines).  Every kernel answer is a live probe (a tiny program or map the
 * kernel is asked to accept, or a sysfs/tracefs file), never a guess from
 * the kernel version. */
#include "etrace.h"
#include "commands/info.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *yes(bool b) { return b ? "yes" : "no"; }

static bool helper_ok(enum bpf_prog_type t, enum bpf_func_id id) {
  return libbpf_probe_bpf_helper(t, id, NULL) == 1;
}

static bool map_ok(enum bpf_map_type t) { return libbpf_probe_bpf_map_type(t, NULL) == 1; }

static bool prog_ok(enum bpf_prog_type t) { return libbpf_probe_bpf_prog_type(t, NULL) == 1; }

/* A bounded backward jump: accepted only by kernels with loop support. */
static bool loops_ok(void) {
  struct bpf_insn insns[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
      {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_0, .imm = 1},
      {.code = BPF_JMP | BPF_JLT | BPF_K, .dst_reg = BPF_REG_0, .off = -2, .imm = 4},
      {.code = BPF_JMP | BPF_EXIT},
  };
  int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 4, NULL);
  if (fd >= 0)
    close(fd);
  return fd >= 0;
}

static bool map_batch_ok(void) {
  int fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4, 4, 4, NULL);
  if (fd < 0)
    return false;
  char keys[16], vals[16];
  __u32 count = 4, out;
  int err = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &count, NULL);
  close(fd);
  return err == 0 || errno == ENOENT; /* an empty map ends the batch at once */
}

static bool file_ok(const char *p) { return access(p, F_OK) == 0; }

/* A kernel function in vmlinux BTF (the iterator targets are such). */
static bool btf_func(struct btf *b, const char *name) {
  return b && btf__find_by_name_kind(b, name, BTF_KIND_FUNC) > 0;
}

/* An empty fentry program on a kernel function: some kernels refuse them
 * (no trampoline support, or a lockdown) even with BTF present. */
static bool fentry_ok(struct btf *b) {
  int id = b ? btf__find_by_name_kind(b, "bpf_fentry_test1", BTF_KIND_FUNC) : -1;
  if (id <= 0)
    return false;
  struct bpf_insn insns[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY,
              .attach_btf_id = id);
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &o);
  if (fd >= 0)
    close(fd);
  return fd >= 0;
}

void info_print(FILE *f) {
  struct utsname u;
  uname(&u);
  enum bpf_prog_type kp = BPF_PROG_TYPE_KPROBE;
  fprintf(f, "System\n  OS: %s %s %s\n  Arch: %s\n\n", u.sysname, u.release, u.version, u.machine);
  fprintf(f, "Build\n  version: v%s\n  libdw (DWARF support): yes\n\n", ETRACE_VERSION);
  fprintf(f, "Kernel helpers\n");
  static const struct { const char *name; enum bpf_func_id id; } helpers[] = {
      {"probe_read", BPF_FUNC_probe_read},
      {"probe_read_str", BPF_FUNC_probe_read_str},
      {"probe_read_user", BPF_FUNC_probe_read_user},
      {"probe_read_user_str", BPF_FUNC_probe_read_user_str},
      {"probe_read_kernel", BPF_FUNC_probe_read_kernel},
      {"probe_read_kernel_str", BPF_FUNC_probe_read_kernel_str},
      {"get_current_cgroup_id", BPF_FUNC_get_current_cgroup_id},
      {"send_signal", BPF_FUNC_send_signal},
      {"override_return", BPF_FUNC_override_return},
      {"get_boot_ns", BPF_FUNC_ktime_get_boot_ns},
      {"dpath", BPF_FUNC_d_path},
      {"skboutput", BPF_FUNC_skb_output},
  };
  for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++) {
    bool ok = helper_ok(kp, helpers[i].id);
    if (helpers[i].id == BPF_FUNC_d_path || helpers[i].id == BPF_FUNC_skb_output)
      ok = helper_ok(BPF_PROG_TYPE_TRACING, helpers[i].id); /* fentry-only helpers */
    fprintf(f, "  %s: %s\n", helpers[i].name, yes(ok));
  }
  fprintf(f, "\nKernel features\n  Loop support: %s\n  btf: %s\n  map batch: %s\n",
          yes(loops_ok()), yes(file_ok("/sys/kernel/btf/vmlinux")), yes(map_batch_ok()));
  fprintf(f, "  uprobe refcount: %s\n\n",
          yes(file_ok("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset")));
  fprintf(f, "Map types\n  hash: %s\n  percpu hash: %s\n  array: %s\n  percpu array: %s\n"
             "  stack_trace: %s\n  perf_event_array: %s\n  ringbuf: %s\n\n",
          yes(map_ok(BPF_MAP_TYPE_HASH)), yes(map_ok(BPF_MAP_TYPE_PERCPU_HASH)),
          yes(map_ok(BPF_MAP_TYPE_ARRAY)), yes(map_ok(BPF_MAP_TYPE_PERCPU_ARRAY)),
          yes(map_ok(BPF_MAP_TYPE_STACK_TRACE)), yes(map_ok(BPF_MAP_TYPE_PERF_EVENT_ARRAY)),
          yes(map_ok(BPF_MAP_TYPE_RINGBUF)));
  fprintf(f, "Probe types\n  kprobe: %s\n  tracepoint: %s\n  perf_event: %s\n",
          yes(file_ok("/sys/bus/event_source/devices/kprobe")),
          yes(prog_ok(BPF_PROG_TYPE_TRACEPOINT)), yes(prog_ok(BPF_PROG_TYPE_PERF_EVENT)));
  struct btf *b = btf__load_vmlinux_btf();
  fprintf(f, "  kfunc: %s\n  iter:task: %s\n  iter:task_file: %s\n  raw_tp_special: %s\n",
          yes(fentry_ok(b)), yes(btf_func(b, "bpf_iter_task")),
          yes(btf_func(b, "bpf_iter_task_file")), yes(prog_ok(BPF_PROG_TYPE_RAW_TRACEPOINT)));
  btf__free(b);
}
