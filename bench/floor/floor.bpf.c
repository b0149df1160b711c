/* floor.bpf.c - the hand-written floor for bench/codegen-floor.sh: the
 * five benchmark programs written directly in BPF C, compiled by
 * clang -O2, each doing the same job as its bpftrace one-liner with the
 * cheapest maps that keep the same results (per-CPU counters, 16-byte
 * comm keys, 64-byte str() keys as bpftrace's default strlen).
 * Loaded one program at a time by load.c. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned long long u64;
typedef unsigned int u32;

/* tracepoint records: the 8-byte common header, then the fields at the
 * offsets of tracing/events/.../format */
struct raw_sys_enter { u64 common; long id; unsigned long args[6]; };
struct sys_exit_rec { u64 common; long nr; long ret; };
struct sys_enter_openat { u64 common; long nr; long dfd; const char *filename; long flags, mode; };

#define STRLEN 64

struct comm_key { char comm[16]; };
struct path_key { char path[STRLEN]; };

struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 4096);
         __type(key, struct comm_key); __type(value, u64); } by_comm SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1);
         __type(key, u32); __type(value, u64); } n SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4096);
         __type(key, u64); __type(value, u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 66);
         __type(key, u32); __type(value, u64); } ns_hist SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 4096);
         __type(key, struct path_key); __type(value, u64); } by_path SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 20); } out SEC(".maps");

static __always_inline void count_key(void *map, const void *key) {
  u64 *v = bpf_map_lookup_elem(map, key);
  if (v) {
    *v += 1;
  } else {
    u64 one = 1;
    bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
  }
}

/* tracepoint:raw_syscalls:sys_enter { @[comm] = count(); } */
SEC("tracepoint/raw_syscalls/sys_enter")
int comm_count(void *ctx) {
  struct comm_key k;
  bpf_get_current_comm(&k, sizeof(k));
  count_key(&by_comm, &k);
  return 0;
}

/* tracepoint:raw_syscalls:sys_enter /pid > 100 && (cpu == 0 || tid != 1)/ { @n = count(); } */
SEC("tracepoint/raw_syscalls/sys_enter")
int predicate_count(void *ctx) {
  u64 id = bpf_get_current_pid_tgid();
  if ((id >> 32) > 100 && (bpf_get_smp_processor_id() == 0 || (u32)id != 1)) {
    u32 zero = 0;
    u64 *v = bpf_map_lookup_elem(&n, &zero);
    if (v)
      *v += 1;
  }
  return 0;
}

/* tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; } */
SEC("tracepoint/syscalls/sys_enter_read")
int read_start(void *ctx) {
  u64 tid = (u32)bpf_get_current_pid_tgid();
  u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
  return 0;
}

/* log2 bucket as bpftrace's hist(): 0 for negatives, 1 for 0, then
 * 2 + floor(log2(v)) */
static __always_inline u32 log2_bucket(long v) {
  if (v < 0)
    return 0;
  if (v == 0)
    return 1;
  u64 x = v;
  u32 r = 0;
  if (x >> 32) { x >>= 32; r += 32; }
  if (x >> 16) { x >>= 16; r += 16; }
  if (x >> 8) { x >>= 8; r += 8; }
  if (x >> 4) { x >>= 4; r += 4; }
  if (x >> 2) { x >>= 2; r += 2; }
  if (x >> 1) r += 1;
  return r + 2;
}

/* tracepoint:syscalls:sys_exit_read /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start[tid]); } */
SEC("tracepoint/syscalls/sys_exit_read")
int read_latency(void *ctx) {
  u64 tid = (u32)bpf_get_current_pid_tgid();
  u64 *t0 = bpf_map_lookup_elem(&start, &tid);
  if (!t0 || !*t0)
    return 0;
  u32 b = log2_bucket(bpf_ktime_get_ns() - *t0);
  u64 *v = bpf_map_lookup_elem(&ns_hist, &b);
  if (v)
    *v += 1;
  bpf_map_delete_elem(&start, &tid);
  return 0;
}

/* tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); } */
SEC("tracepoint/syscalls/sys_enter_openat")
int str_count(struct sys_enter_openat *ctx) {
  struct path_key k = {};
  bpf_probe_read_user_str(&k, sizeof(k), ctx->filename);
  count_key(&by_path, &k);
  return 0;
}

/* tracepoint:syscalls:sys_enter_openat { printf("%-16s %6d %s\n", comm, pid, str(args->filename)); } */
struct line { u64 fmt_id; char comm[16]; u64 pid; char path[STRLEN]; };

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_printf(struct sys_enter_openat *ctx) {
  struct line *l = bpf_ringbuf_reserve(&out, sizeof(*l), 0);
  if (!l)
    return 0;
  l->fmt_id = 0;
  bpf_get_current_comm(l->comm, sizeof(l->comm));
  l->pid = bpf_get_current_pid_tgid() >> 32;
  bpf_probe_read_user_str(l->path, sizeof(l->path), ctx->filename);
  bpf_ringbuf_submit(l, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
