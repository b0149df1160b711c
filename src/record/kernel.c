/* kernel.c - `etrace record --profile kernel`: an LTTng-compatible
 * kernel trace that Trace Compass's kernel views read.
 *
 * Each LTTng event is built from a tracepoint with its fields renamed and
 * converted as lttng-modules does (tracefs `pid` of a task is LTTng's
 * `tid`, priorities lose MAX_RT_PRIO), and
 * the LTTng names of the Lttng29 layout (irq_softirq_*, sched_waking,
 * syscall_entry_NAME / syscall_exit_NAME).  Field types follow lttng-modules
 * (pid_t and int: i32, comm: a 16-byte text array, strings) with two
 * deliberate differences, both harmless to readers that look fields up by
 * name (Trace Compass, babeltrace2): variable-size fields (strings,
 * sequences) come after the fixed ones, because the writer packs them last
 * (out/ctf.h), and system-call arguments are 64-bit integers as the syscall
 * tracepoints give them, not narrowed to their C type.  System calls with no
 * `syscalls:` tracepoint, and the exit of rt_sigreturn (which resets
 * orig_ax to -1), become LTTng's syscall_entry_unknown /
 * syscall_exit_unknown, written by the raw-tracepoint dispatchers when
 * their tail call finds no program (record.c).
 *
 * Groups of events are chosen with --enable/--disable (kgroups.c);
 * docs/lttng.md lists every event and field mapping.
 *
 * sched_process_fork is taken from the raw tracepoint, whose arguments are
 * the parent and child task_structs: the tracepoint's record has no tgid,
 * and Trace Compass needs the child's (parent_pid / child_pid).  Offsets of
 * task_struct's pid, tgid and comm come from the running kernel's BTF.
 */
#include "arch/arch.h"
#include "record/record.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>


/* K_U64 / K_S64 / K_HEX64: 8 bytes as they are (K_HEX64: a pointer,
 * shown in base 16); K_LOW32: the low half of an 8-byte field that LTTng
 * writes in 4 (gfp_t); K_RWBS: the kernel's rwbs text ("WS", "FWFS", ...)
 * as LTTng's RWBS_FLAG_* set (u32); K_TID: the current thread (no field
 * of the tracepoint: LTTng's block events add current->pid). */
typedef enum {
  K_TEXT16, K_I32, K_U32, K_PRIO, K_STR, K_U64, K_LOW32, K_S64, K_HEX64, K_RWBS, K_TID
} KKind;

typedef struct KField {
  const char *name;   /* LTTng's */
  KKind kind;
  const char *from;   /* the tracefs field (NULL: same name) */
} KField;

typedef struct KEvent {
  const char *sys, *event, *lttng;
  KField fields[8];
} KEvent;

/* Variable fields (K_STR) last: see the top of the file. */
static const KEvent kevents[] = {
  {"sched", "sched_pi_setprio", "sched_pi_setprio",
   {{"comm", K_TEXT16, NULL}, {"tid", K_I32, "pid"}, {"oldprio", K_PRIO, NULL},
    {"newprio", K_PRIO, NULL}}},
  {"sched", "sched_process_exec", "sched_process_exec",
   {{"tid", K_I32, "pid"}, {"old_tid", K_I32, "old_pid"}, {"filename", K_STR, NULL}}},
  {"irq", "irq_handler_entry", "irq_handler_entry", {{"irq", K_I32, NULL}, {"name", K_STR, NULL}}},
  {"irq", "irq_handler_exit", "irq_handler_exit", {{"irq", K_I32, NULL}, {"ret", K_I32, NULL}}},
  /* vec: a plain integer, not an enum (Trace Compass casts it to Long) */
  {"irq", "softirq_entry", "irq_softirq_entry", {{"vec", K_U32, NULL}}},
  {"irq", "softirq_exit", "irq_softirq_exit", {{"vec", K_U32, NULL}}},
  {"irq", "softirq_raise", "irq_softirq_raise", {{"vec", K_U32, NULL}}},
  /* LTTng's page alloc/free also have `page` (the struct page address),
   * which the tracepoints do not carry: left out */
  {"kmem", "mm_page_alloc", "kmem_mm_page_alloc",
   {{"pfn", K_U64, NULL}, {"order", K_U32, NULL}, {"gfp_flags", K_LOW32, NULL},
    {"migratetype", K_I32, NULL}}},
  {"kmem", "mm_page_free", "kmem_mm_page_free", {{"pfn", K_U64, NULL}, {"order", K_U32, NULL}}},
  /* block: LTTng's rwbs is a flag set, its rq/bio events add tid */
  {"block", "block_rq_insert", "block_rq_insert",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"bytes", K_U32, NULL}, {"tid", K_TID, NULL}, {"rwbs", K_RWBS, NULL}, {"comm", K_TEXT16, NULL}}},
  {"block", "block_rq_issue", "block_rq_issue",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"bytes", K_U32, NULL}, {"tid", K_TID, NULL}, {"rwbs", K_RWBS, NULL}, {"comm", K_TEXT16, NULL}}},
  {"block", "block_rq_complete", "block_rq_complete",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"error", K_I32, NULL}, {"rwbs", K_RWBS, NULL}}},
  {"block", "block_bio_complete", "block_bio_complete",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"error", K_I32, NULL}, {"rwbs", K_RWBS, NULL}}},
  {"block", "block_bio_queue", "block_bio_queue",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"rwbs", K_RWBS, NULL}, {"tid", K_TID, NULL}, {"comm", K_TEXT16, NULL}}},
  {"block", "block_bio_backmerge", "block_bio_backmerge",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"rwbs", K_RWBS, NULL}, {"tid", K_TID, NULL}, {"comm", K_TEXT16, NULL}}},
  {"block", "block_bio_frontmerge", "block_bio_frontmerge",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"rwbs", K_RWBS, NULL}, {"tid", K_TID, NULL}, {"comm", K_TEXT16, NULL}}},
  {"block", "block_bio_remap", "block_bio_remap",
   {{"dev", K_U32, NULL}, {"sector", K_U64, NULL}, {"nr_sector", K_U32, NULL},
    {"rwbs", K_RWBS, NULL}, {"old_dev", K_U32, NULL}, {"old_sector", K_U64, NULL}}},
  /* net: LTTng's receive events also have network_header_type and the
   * headers themselves (a variant), which the tracepoints do not carry */
  {"net", "net_dev_xmit", "net_dev_xmit",
   {{"skbaddr", K_HEX64, NULL}, {"rc", K_I32, NULL}, {"len", K_U32, NULL}, {"name", K_STR, NULL}}},
  {"net", "netif_receive_skb", "net_if_receive_skb",
   {{"skbaddr", K_HEX64, NULL}, {"len", K_U32, NULL}, {"name", K_STR, NULL}}},
  {"net", "net_dev_queue", "net_dev_queue",
   {{"skbaddr", K_HEX64, NULL}, {"len", K_U32, NULL}, {"name", K_STR, NULL}}},
  {"net", "netif_rx", "net_if_rx",
   {{"skbaddr", K_HEX64, NULL}, {"len", K_U32, NULL}, {"name", K_STR, NULL}}},
  /* timer: hrtimer and itimer events are renamed timer_* by LTTng */
  {"timer", "timer_init", "timer_init", {{"timer", K_HEX64, NULL}}},
  {"timer", "timer_start", "timer_start",
   {{"timer", K_HEX64, NULL}, {"function", K_HEX64, NULL}, {"expires", K_U64, NULL},
    {"bucket_expiry", K_U64, NULL}, {"now", K_U64, NULL}, {"flags", K_U32, NULL}}},
  {"timer", "timer_expire_entry", "timer_expire_entry",
   {{"timer", K_HEX64, NULL}, {"now", K_U64, NULL}, {"function", K_HEX64, NULL},
    {"baseclk", K_U64, NULL}}},
  {"timer", "timer_expire_exit", "timer_expire_exit", {{"timer", K_HEX64, NULL}}},
  {"timer", "timer_cancel", "timer_cancel", {{"timer", K_HEX64, NULL}}},
  {"timer", "hrtimer_start", "timer_hrtimer_start",
   {{"hrtimer", K_HEX64, NULL}, {"function", K_HEX64, NULL}, {"expires", K_S64, NULL},
    {"softexpires", K_S64, NULL}, {"mode", K_U32, NULL}}},
  {"timer", "hrtimer_expire_entry", "timer_hrtimer_expire_entry",
   {{"hrtimer", K_HEX64, NULL}, {"now", K_S64, NULL}, {"function", K_HEX64, NULL}}},
  {"timer", "hrtimer_expire_exit", "timer_hrtimer_expire_exit", {{"hrtimer", K_HEX64, NULL}}},
  {"timer", "hrtimer_cancel", "timer_hrtimer_cancel", {{"hrtimer", K_HEX64, NULL}}},
  /* power: renamed power_* by LTTng */
  {"power", "cpu_idle", "power_cpu_idle", {{"state", K_U32, NULL}, {"cpu_id", K_U32, NULL}}},
  {"power", "cpu_frequency", "power_cpu_frequency",
   {{"state", K_U32, NULL}, {"cpu_id", K_U32, NULL}}},
  {"writeback", "writeback_pages_written", "writeback_pages_written", {{"pages", K_S64, NULL}}},
};

#define STR_SLOT 256

static const KEvent *kevent_of(const Event *e) {
  for (size_t i = 0; i < sizeof kevents / sizeof *kevents; i++)
    if (!strcmp(kevents[i].sys, e->sys) && !strcmp(kevents[i].event, e->event))
      return &kevents[i];
  return NULL;
}

static const TpField *tp_field(const TpFormat *tp, const char *name) {
  for (int i = 0; i < tp->nfields; i++)
    if (!strcmp(tp->fields[i].name, name))
      return &tp->fields[i];
  return NULL;
}

static int layout_kevent(Event *e) {
  const KEvent *k = kevent_of(e);
  int dst = CTF_EVENT_HEADER_SIZE;
  for (const KField *f = k->fields; f < k->fields + 8 && f->name; f++) {
    if (f->kind == K_TID) {
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_INT, .size = 4, .is_signed = true});
      rec_add_copy(e, (Copy){.kind = CP_CUR_TID, .size = 4, .dst = dst});
      dst += 4;
      continue;
    }
    const char *from = f->from ? f->from : f->name;
    const TpField *tf = tp_field(e->tp, from);
    int want = f->kind == K_TEXT16 ? 16 : f->kind == K_RWBS ? 10
             : f->kind == K_U64 || f->kind == K_LOW32 ||
                       f->kind == K_S64 || f->kind == K_HEX64 ? 8 : 4;
    bool ok = tf && (f->kind == K_STR ? tf->data_loc
                                      : tf->data_loc ? f->kind == K_TEXT16 : tf->size == want);
    if (!ok) {
      diag_fatal("--profile kernel: tracepoint %s:%s has no field '%s' of the expected type",
                 e->sys, e->event, from);
      return -1;
    }
    switch (f->kind) {
    case K_TEXT16:
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_TEXT, .size = 1, .count = 16});
      if (tf->data_loc) /* a __data_loc string into the fixed 16 bytes */
        rec_add_copy(e, (Copy){.kind = CP_DATALOC_STR, .src = tf->offset, .size = 16, .dst = dst});
      else
        rec_add_copy(e, (Copy){.kind = CP_CTX, .src = tf->offset, .size = 16, .dst = dst});
      dst += 16;
      break;
    case K_I32:
    case K_U32:
    case K_PRIO:
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_INT, .size = 4,
                                  .is_signed = f->kind != K_U32});
      rec_add_copy(e, (Copy){.kind = f->kind == K_PRIO ? CP_CTX_PRIO : CP_CTX,
                             .src = tf->offset, .size = 4, .dst = dst});
      dst += 4;
      break;
    case K_RWBS:
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_INT, .size = 4});
      rec_add_copy(e, (Copy){.kind = CP_CTX_RWBS, .src = tf->offset, .size = 4, .dst = dst});
      dst += 4;
      break;
    case K_TID:
      break;
    case K_U64:
    case K_S64:
    case K_HEX64:
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_INT, .size = 8,
                                  .is_signed = f->kind == K_S64, .hex = f->kind == K_HEX64});
      rec_add_copy(e, (Copy){.kind = CP_CTX, .src = tf->offset, .size = 8, .dst = dst});
      dst += 8;
      break;
    case K_LOW32: /* little-endian: the low half comes first */
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_INT, .size = 4});
      rec_add_copy(e, (Copy){.kind = CP_CTX, .src = tf->offset, .size = 4, .dst = dst});
      dst += 4;
      break;
    case K_STR:
      rec_add_field(e, (CtfField){.name = f->name, .kind = CTF_STRING, .slot = STR_SLOT});
      rec_add_copy(e, (Copy){.kind = CP_DATALOC_STR, .src = tf->offset, .size = STR_SLOT,
                             .dst = dst});
      dst += STR_SLOT;
      break;
    }
  }
  e->cls.name = k->lttng;
  return 0;
}

/* ------------------------------------------------------------ fork */

/* Byte offset of member `name` of `type_id`, looking into anonymous
 * struct/union members (randomized layouts wrap fields in them); -1 if absent. */
int kprof_member_off(const struct btf *btf, int type_id, const char *name) {
  const struct btf_type *t = btf__type_by_id(btf, type_id);
  if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
    return -1;
  const struct btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++) {
    uint32_t bits = btf_member_bit_offset(t, i);
    const char *mn = btf__name_by_offset(btf, m->name_off);
    if (mn && !strcmp(mn, name))
      return bits % 8 ? -1 : (int)(bits / 8);
    if (!mn || !*mn) {
      int inner = kprof_member_off(btf, btf__resolve_type(btf, m->type), name);
      if (inner >= 0)
        return (int)(bits / 8) + inner;
    }
  }
  return -1;
}

static int layout_fork(Event *e) {
  struct btf *btf = btf__load_vmlinux_btf();
  if (!btf) {
    diag_fatal("--profile kernel: cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s",
               strerror(errno));
    return -1;
  }
  int ts = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
  int pid = ts > 0 ? kprof_member_off(btf, ts, "pid") : -1;
  int tgid = ts > 0 ? kprof_member_off(btf, ts, "tgid") : -1;
  int comm = ts > 0 ? kprof_member_off(btf, ts, "comm") : -1;
  btf__free(btf);
  if (pid < 0 || tgid < 0 || comm < 0) {
    diag_fatal("--profile kernel: struct task_struct has no pid, tgid or comm in the kernel's BTF");
    return -1;
  }
  /* raw tracepoint sched_process_fork(parent, child): args[0], args[1] */
  static const struct { const char *name; int task, what; bool imm; } f[] = {
    {"parent_comm", 0, 2, false}, {"parent_tid", 0, 0, false}, {"parent_pid", 0, 1, false},
    {"parent_ns_inum", 0, 0, true}, {"child_comm", 1, 2, false}, {"child_tid", 1, 0, false},
    {"child_pid", 1, 1, false}, {"child_ns_inum", 0, 0, true},
  };
  int dst = CTF_EVENT_HEADER_SIZE;
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
    if (f[i].imm) { /* no namespace inode: 0 */
      rec_add_field(e, (CtfField){.name = f[i].name, .kind = CTF_INT, .size = 4});
      rec_add_copy(e, (Copy){.kind = CP_IMM, .size = 4, .dst = dst, .imm = 0});
      dst += 4;
    } else if (f[i].what == 2) {
      rec_add_field(e, (CtfField){.name = f[i].name, .kind = CTF_TEXT, .size = 1, .count = 16});
      rec_add_copy(e, (Copy){.kind = CP_TASK, .src = f[i].task, .off = comm, .size = 16,
                             .dst = dst});
      dst += 16;
    } else {
      rec_add_field(e, (CtfField){.name = f[i].name, .kind = CTF_INT, .size = 4,
                                  .is_signed = true});
      rec_add_copy(e, (Copy){.kind = CP_TASK, .src = f[i].task, .off = f[i].what ? tgid : pid,
                             .size = 4, .dst = dst});
      dst += 4;
    }
  }
  /* vtids: the child's tid in each pid namespace; here the root one only */
  rec_add_field(e, (CtfField){.name = "vtids", .kind = CTF_SEQ, .size = 4, .is_signed = true,
                              .slot = 2 + 4});
  rec_add_copy(e, (Copy){.kind = CP_IMM, .size = 2, .dst = dst, .imm = 1});
  rec_add_copy(e, (Copy){.kind = CP_TASK, .src = 1, .off = pid, .size = 4, .dst = dst + 2});
  e->cls.name = "sched_process_fork";
  return 0;
}

/* ------------------------------------------------------------ the set */

static void add_syscall(const char *sys, const char *event, void *arg) {
  Rec *r = arg;
  bool is_exit;
  if (systp_nr(event, &is_exit) < 0)
    return;           /* no raw-tracepoint slot: left out */
  char name[128];
  snprintf(name, sizeof name, "syscall_%s_%s", is_exit ? "exit" : "entry",
           event + (is_exit ? 9 : 10));
  if (kprof_wanted(r, "syscall", name))
    rec_event(r, rec_add_event(r, sys, event))->lttng = true;
}

static void count_tp(const char *sys, const char *event, void *arg) { (void)sys, (void)event, (void)arg; }

/* The tracepoint exists in this kernel (-v says when it does not). */
static bool have_tp(const Rec *r, const char *sys, const char *event) {
  if (tracefs_glob(sys, event, count_tp, NULL) > 0)
    return true;
  if (r->verbose)
    fprintf(stderr, "etrace: --profile kernel: no tracepoint %s:%s in this kernel, left out\n",
            sys, event);
  return false;
}

static int add_user(Rec *r, const char *name, CtfField *fields, int n) {
  int i = rec_add_event(r, "lttng_statedump", name);
  Event *e = rec_event(r, i);
  e->user = true;
  e->cls.name = eprintf("lttng_statedump_%s", name);
  for (int j = 0; j < n; j++)
    rec_add_field(e, fields[j]);
  if (ctf_layout(&e->cls) < 0)
    return -1;
  return i;
}

/* syscall_entry_unknown {id, args[6]} / syscall_exit_unknown {id, ret,
 * args[6]} (LTTng's syscalls_unknown.h), generated into the raw-tracepoint
 * dispatchers (record.c) for system calls that have no tracepoint: id is
 * pt_regs->orig_ax, the arguments are the argument registers. */
static int add_unknown(Rec *r, bool is_exit) {
  int i = rec_add_event(r, "lttng_syscall", is_exit ? "unknown_exit" : "unknown_entry");
  Event *e = rec_event(r, i);
  e->user = true;         /* no program of its own: part of the dispatcher */
  e->syscall = true;
  e->sys_exit = is_exit;
  e->cls.name = is_exit ? "syscall_exit_unknown" : "syscall_entry_unknown";
  int dst = CTF_EVENT_HEADER_SIZE;
  rec_add_field(e, (CtfField){.name = "id", .kind = CTF_INT, .size = 4, .is_signed = true});
  rec_add_copy(e, (Copy){.kind = CP_TASK, .src = 0, .off = arch_current()->syscall_nr, .size = 4,
                         .dst = dst});
  dst += 4;
  if (is_exit) {
    rec_add_field(e, (CtfField){.name = "ret", .kind = CTF_INT, .size = 8, .is_signed = true});
    rec_add_copy(e, (Copy){.kind = CP_SYS_RET, .size = 8, .dst = dst});
    dst += 8;
  }
  rec_add_field(e, (CtfField){.name = "args", .kind = CTF_INT, .size = 8, .count = 6});
  for (int k = 0; k < 6; k++)
    rec_add_copy(e, (Copy){.kind = CP_SYS_ARG, .src = k, .size = 8, .dst = dst + 8 * k});
  return ctf_layout(&e->cls) < 0 ? -1 : i;
}

const CtfField kprof_context[KPROF_NCONTEXT] = {
    {.name = "procname", .kind = CTF_TEXT, .size = 1, .count = 16},
    {.name = "prio", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "vpid", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "vtid", .kind = CTF_INT, .size = 4, .is_signed = true},
};

/* The offsets the contexts read through the current task (KTask). */
static int find_task_offsets(Rec *r) {
  struct btf *btf = btf__load_vmlinux_btf();
  KTask *k = &r->task;
  *k = (KTask){-1, -1, -1, -1, -1, -1, -1};
  int ts = btf ? btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT) : -1;
  int pid = btf ? btf__find_by_name_kind(btf, "pid", BTF_KIND_STRUCT) : -1;
  int upid = btf ? btf__find_by_name_kind(btf, "upid", BTF_KIND_STRUCT) : -1;
  if (ts > 0) {
    k->prio = kprof_member_off(btf, ts, "prio");
    k->thread_pid = kprof_member_off(btf, ts, "thread_pid");
    k->group_leader = kprof_member_off(btf, ts, "group_leader");
  }
  if (pid > 0) {
    k->pid_level = kprof_member_off(btf, pid, "level");
    k->pid_numbers = kprof_member_off(btf, pid, "numbers");
  }
  if (upid > 0) {
    k->upid_size = btf__resolve_size(btf, upid);
    k->upid_nr = kprof_member_off(btf, upid, "nr");
  }
  btf__free(btf);
  if (k->prio < 0 || k->thread_pid < 0 || k->group_leader < 0 || k->pid_level < 0 ||
      k->pid_numbers < 0 || k->upid_size <= 0 || k->upid_nr < 0) {
    diag_fatal("--profile kernel: the kernel's BTF lacks task_struct.prio/thread_pid/"
               "group_leader, pid.level/numbers or upid.nr (for the prio, vpid and vtid "
               "contexts)");
    return -1;
  }
  r->ctx_size = ctf_context_size(kprof_context, KPROF_NCONTEXT);
  return 0;
}

int kprof_add_events(Rec *r) {
  KProf *k = rec_kprof(r);
  if (find_task_offsets(r) < 0)
    return -1;
  /* The statedump first: its events are written before any other. */
  static CtfField state[] = {
    {.name = "tid", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "pid", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "ppid", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "name", .kind = CTF_TEXT, .size = 1, .count = 16},
    {.name = "type", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "mode", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "submode", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "status", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "cpu", .kind = CTF_INT, .size = 4},
    {.name = "file_table_address", .kind = CTF_INT, .size = 8, .hex = true},
  };
  /* LTTng 2.13's: the file table it belongs to, not the pid (see
   * statedump.c for what file_table_address holds) */
  static CtfField fd[] = {
    {.name = "file_table_address", .kind = CTF_INT, .size = 8, .hex = true},
    {.name = "fd", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "flags", .kind = CTF_INT, .size = 4, .oct = true},
    {.name = "fmode", .kind = CTF_INT, .size = 4, .hex = true},
    {.name = "filename", .kind = CTF_STRING, .slot = STR_SLOT},
  };
  /* statedump_sys.c's; strings last (see the top of the file) */
  static CtfField irq[] = {
    {.name = "irq", .kind = CTF_INT, .size = 4},
    {.name = "tid", .kind = CTF_INT, .size = 4, .is_signed = true},
    {.name = "name", .kind = CTF_STRING, .slot = STR_SLOT},
    {.name = "action", .kind = CTF_STRING, .slot = STR_SLOT},
  };
  static CtfField blockdev[] = {
    {.name = "dev", .kind = CTF_INT, .size = 4},
    {.name = "diskname", .kind = CTF_STRING, .slot = STR_SLOT},
  };
  static CtfField netif[] = {
    {.name = "address_ipv4", .kind = CTF_INT, .size = 4, .hex = true, .net_order = true},
    {.name = "name", .kind = CTF_STRING, .slot = STR_SLOT},
  };
  /* LTTng writes the CPU topology on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
  static CtfField cpu[] = {
    {.name = "cpu_id", .kind = CTF_INT, .size = 2},
    {.name = "family", .kind = CTF_INT, .size = 1},
    {.name = "model", .kind = CTF_INT, .size = 1},
    {.name = "physical_id", .kind = CTF_INT, .size = 2},
    {.name = "core_id", .kind = CTF_INT, .size = 2},
    {.name = "cores", .kind = CTF_INT, .size = 2},
    {.name = "architecture", .kind = CTF_STRING, .slot = STR_SLOT},
    {.name = "vendor", .kind = CTF_STRING, .slot = STR_SLOT},
    {.name = "model_name", .kind = CTF_STRING, .slot = STR_SLOT},
  };
#endif
#define N(a) (int)(sizeof a / sizeof *a)
  if ((k->start = add_user(r, "start", NULL, 0)) < 0 ||
      (k->fd = add_user(r, "file_descriptor", fd, N(fd))) < 0 ||
      (k->state = add_user(r, "process_state", state, N(state))) < 0 ||
      (k->irq = add_user(r, "interrupt", irq, N(irq))) < 0 ||
      (k->blockdev = add_user(r, "block_device", blockdev, N(blockdev))) < 0 ||
      (k->netif = add_user(r, "network_interface", netif, N(netif))) < 0 ||
#if defined(__x86_64__) || defined(__i386__)
      (k->cpu = add_user(r, "cpu_topology", cpu, N(cpu))) < 0 ||
#endif
      (k->end = add_user(r, "end", NULL, 0)) < 0) {
    diag_fatal("--profile kernel: cannot lay out the statedump events");
    return -1;
  }
  for (size_t i = 0; i < sizeof kevents / sizeof *kevents; i++) {
    const KEvent *ke = &kevents[i];
    if (kprof_wanted(r, ke->sys, ke->lttng) && have_tp(r, ke->sys, ke->event))
      rec_event(r, rec_add_event(r, ke->sys, ke->event))->layout = layout_kevent;
  }
  if (kprof_wanted(r, "sched", "sched_switch")) {
    Event *sw = rec_event(r, rec_add_event(r, "sched", "sched_switch"));
    sw->layout = kprof_layout_switch;
    sw->raw_tp = "sched_switch";
  }
  if (kprof_add_raw_sched(r) < 0)
    return -1;
  if (kprof_wanted(r, "sched", "sched_process_fork")) {
    Event *fork = rec_event(r, rec_add_event(r, "sched", "sched_process_fork"));
    fork->layout = layout_fork;
    fork->raw_tp = "sched_process_fork";
  }
  tracefs_glob("syscalls", "sys_enter_*", add_syscall, r);
  tracefs_glob("syscalls", "sys_exit_*", add_syscall, r);
  for (int x = 0; x < 2; x++)
    if (kprof_wanted(r, "syscall", x ? "syscall_exit_unknown" : "syscall_entry_unknown") &&
        (k->unknown[x] = add_unknown(r, x)) < 0) {
      diag_fatal("--profile kernel: cannot lay out the unknown-syscall events");
      return -1;
    }
  return kprof_check_selection(r);
}
