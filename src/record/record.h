/* record.h - `etrace record` (tracepoints to a CTF trace) and
 * `etrace ctf repair`.  argv[1] is the subcommand name. */
#ifndef ETRACE_RECORD_H
#define ETRACE_RECORD_H

#include "etrace.h"
#include "codegen/emit.h"
#include "formats/ctf.h"
#include "load/load.h"
#include "providers/sysdispatch.h"
#include "record/relay.h"
#include "record/snapshot.h"
#include "runtime/loop.h"
#include "runtime/ring.h"

#include <linux/bpf.h>

int record_main(int argc, char **argv);

/* ---------------------------------------------------------------- internal
 * Shared by record.c (options, events, layouts), progs.c (BPF programs,
 * maps, attaching), stream.c (ring buffers to the trace, the loop),
 * kernel.c (--profile kernel), statedump.c and filter.c. */

#define STR_SLOT 256            /* bytes kept of a string, NUL included */
#define SEQ_BYTES 256           /* bytes kept of a __data_loc array */
#define DEFAULT_RINGBUF_KB 4096 /* per CPU */
#define DRAIN_MS 10             /* ring buffer poll period */

typedef enum {
  CP_CTX,      /* fixed bytes from the tracepoint record */
  CP_DATALOC_STR, /* __data_loc char[]: string slot */
  CP_DATALOC_SEQ, /* __data_loc T[]: count + elements slot */
  CP_SYS_NR,   /* constant: the syscall number (int) */
  CP_SYS_ARG,  /* syscall argument `src` (0..5) from pt_regs, 8 bytes */
  CP_SYS_USTR, /* syscall argument `src` as a user string: slot */
  CP_SYS_RET,  /* sys_exit: the return value, 8 bytes */
  CP_CTX_PRIO, /* int at record offset src, minus 100 (MAX_RT_PRIO), as LTTng */
  CP_TASK,     /* raw tracepoint: `size` bytes at ((char *)ctx->args[src]) + off */
  CP_IMM,      /* the constant imm, `size` bytes (1, 2, 4 or 8) */
  CP_CTX_RWBS, /* the block layer's rwbs text (char[10] at record offset src)
                  as LTTng's RWBS_FLAG_* set, a u32 */
  CP_CUR_TID,  /* the current thread's id (the event header's), 4 bytes */
  CP_TASK_PRIO,/* as CP_TASK, 4 bytes, minus 100 (MAX_RT_PRIO), as LTTng */
  CP_ARG,      /* raw tracepoint: ctx->args[src], its low `size` bytes (4 or 8) */
  CP_SWITCH_STATE, /* raw sched_switch: prev_state as the tracepoint reports
                  it, 0 when preempted (kswitch.c); off: task_struct.exit_state */
} CopyKind;

typedef struct Copy {
  CopyKind kind;
  int src;     /* record offset, or argument index */
  int size;    /* bytes (fixed), or slot bytes */
  int dst;     /* offset in the ring-buffer record */
  int elem;    /* CP_DATALOC_SEQ: element size */
  bool sext32; /* CP_SYS_ARG: sign-extend from 32 bits (an int argument) */
  int off;     /* CP_TASK: byte offset from the pointer */
  int32_t imm; /* CP_IMM */
} Copy;

typedef struct RecFilter RecFilter;

typedef struct Event Event;
struct Event {
  char *sys, *event;
  TpFormat *tp;
  bool syscall, sys_exit;
  int sys_nr;
  CtfClass cls;
  Copy *copies;
  int ncopies;
  int prog_fd;
  /* set before prepare: */
  bool lttng;             /* syscall: LTTng names (syscall_entry_NAME, no __syscall_nr) */
  bool user;              /* written from user space (statedump): no program */
  const char *raw_tp;     /* attach as a raw tracepoint of this name */
  int (*layout)(Event *); /* custom layout (after the format is read); -1: error */
  RecFilter *filter;      /* EVENT /predicate/, or NULL */
};

/* A BPF program being built (record.c) with the shared emitter; `out`
 * is the label of its exit: a jump there drops the event. */
typedef struct Prog {
  Emitter em;
  int out;
} Prog;

/* Per-event filters (filter.c): `EVENT /PREDICATE/`. */
/* Parse the predicate text (between the slashes); NULL after a located
 * error.  `spec` names the argument in messages. */
RecFilter *rfilter_parse(const char *text, const char *spec);
/* Check the predicate's names against e's fields (after layout). */
int rfilter_check(RecFilter *f, const Event *e);
/* Emit the test: r6 = ctx, r8 = pid_tgid, the syscall argument registers
 * at r10+regs_buf (lowest register offset regs_lo); jumps out when false.
 * Uses r0-r5 only. */
void rfilter_gen(Prog *p, const RecFilter *f, const Event *e, int regs_buf, int regs_lo);

/* The recorder's state: options, events, kernel objects, the loop.
 * record.c owns it; the kernel profile (kernel.c, statedump.c) adds its
 * events to it. */
/* --profile kernel: the indexes of its user-written and fall-through
 * events (-1: none). */
typedef struct KProf {
  int start, state, end;  /* lttng_statedump_start / _process_state / _end */
  int fd;                 /* lttng_statedump_file_descriptor */
  int irq, blockdev, netif, cpu; /* _interrupt, _block_device,
                             _network_interface, _cpu_topology (-1 off x86) */
  int unknown[2];         /* syscall_entry_unknown / syscall_exit_unknown */
} KProf;

/* --profile kernel: byte offsets in the running kernel (BTF) that the
 * prio, vpid and vtid contexts read through the current task. */
typedef struct KTask {
  int prio;               /* task_struct.prio */
  int thread_pid;         /* task_struct.thread_pid (struct pid *) */
  int group_leader;       /* task_struct.group_leader */
  int pid_level;          /* struct pid.level (its namespace's depth) */
  int pid_numbers;        /* struct pid.numbers (struct upid[level + 1]) */
  int upid_size, upid_nr; /* sizeof(struct upid), upid.nr */
} KTask;

/* --profile kernel --enable / --disable (kgroups.c): the items in order. */
typedef struct KSelect {
  char **item;            /* a group, "all", or an LTTng event-name glob */
  bool *off;              /* from --disable */
  int *hits;              /* events it matched */
  int n;
} KSelect;

typedef struct Rec {
  /* options */
  const char *dir;
  double duration;        /* -d, seconds (0: none) */
  const char *cmd;
  bool cmd_only;
  int pid;                /* -p */
  bool quiet, verbose;
  uint32_t ringbuf_kb;
  bool kernel;            /* --profile kernel */
  KSelect ksel;           /* its --enable / --disable */
  const char *relay_url;  /* --relay (instead of -o) */
  const char *session;    /* --session */
  double flush_s;         /* --live-timer: packet flush period */
  Relay *relay;
  char relay_dir[4096];   /* the session's directory under the relay's output */
  bool tee;               /* --relay with -o: local files too */
  size_t snap_size;       /* --snapshot: bytes kept per CPU (0: off) */
  const char *trigger;    /* --trigger */
  int trig_first, trig_last; /* its events */
  Snapshot *snap;
  /* events */
  Event *ev;
  int nev;
  KProf kprof;
  /* kernel objects */
  int ncpus;
  int *rb_fds;            /* one ring buffer per CPU */
  int outer_fd, drops_fd;
  int enabled_fd;         /* one u32: every program records only while it is 1 */
  int ctx_size;           /* --profile kernel: kprof_context's bytes, at the
                             end of every record (CtfOptions.context) */
  KTask task;             /* --profile kernel: offsets for the contexts */
  SysDispatch sys;
  Links links;
  /* user space */
  Ring *rings;
  CtfWriter *w;
  uint64_t *drop_vals;    /* per-CPU loss counters, read each second */
  uint64_t missed;        /* events whose program the kernel skipped: it
                             fired while another BPF program ran on that
                             CPU (recursion_misses); counted on CPU 0 */
  pid_t child;
  int filter_pid;
  bool shown;             /* the progress line was drawn */
  uint64_t last_events, last_t;
  bool snap_req;          /* SIGUSR1 asked for a snapshot */
  uint64_t trig_seen;     /* trigger events already answered with one */
  bool relay_left;        /* with -o too: the relay went away, said once */
} Rec;

/* progs.c */
uint32_t rec_ringbuf_bytes(const Rec *r);
int rec_create_maps(Rec *r);
int rec_load_all(Rec *r);      /* generate and load every event's program */
int rec_attach_all(Rec *r);    /* links go to r->links */
/* Start or stop every program at one instant (the shared enabled flag). */
int rec_set_enabled(Rec *r, bool on);

/* sinks.c: --relay, --session, --live-timer, --snapshot, --trigger */
int rec_sink_option(Rec *r, int opt, const char *arg); /* opt: REC_OPT_* */
int rec_check_sink_options(const Rec *r);
/* Where the packets go besides (or instead of) -o DIR: the relay, or the
 * flight recorder.  Fills copt->sink with *sink. */
int rec_open_sink(Rec *r, CtfOptions *copt, CtfSink *sink);
/* After ctf_close: close the relay session.  -1 when events were not
 * delivered and no local copy has them (the reason in err). */
int rec_close_relay(Rec *r, const CtfStats *st, char *err, size_t errlen);
enum { REC_OPT_CMD_ONLY = 256, REC_OPT_VERIFY, REC_OPT_PROFILE, REC_OPT_RELAY, REC_OPT_SESSION,
       REC_OPT_LIVE_TIMER, REC_OPT_SNAPSHOT, REC_OPT_TRIGGER,
       REC_OPT_DURATION, REC_OPT_ENABLE, REC_OPT_DISABLE };

/* stream.c */
uint64_t rec_now_ns(void);
int rec_map_rings(Rec *r);
void rec_unmap_rings(Rec *r);
int rec_run_loop(Rec *r);      /* until -d, Ctrl-C, the -c child or -p process ends */
void rec_drain_all(Rec *r);    /* after detaching */
/* Ring-buffer losses and skipped programs into the writer's discarded
 * counts; returns the ring-buffer losses (r->missed: the skipped). */
uint64_t rec_update_drops(Rec *r);
void rec_print_misses(const Rec *r); /* -v: the skipped events per tracepoint */

/* Add (or find) the event SYS:EVENT; returns its index in the event table.
 * Pointers from rec_event() stay valid until the next rec_add_event(). */
int rec_add_event(Rec *r, const char *sys, const char *event);
Event *rec_event(Rec *r, int i);
KProf *rec_kprof(Rec *r);
void rec_add_field(Event *e, CtfField f);
void rec_add_copy(Event *e, Copy c);

/* --profile kernel's event groups (kgroups.c).  kprof_select_option:
 * one --enable (off = false) or --disable list; -1 after an error. */
int kprof_select_option(Rec *r, bool off, const char *list);
/* Whether the event `name` (LTTng's) of `group` is recorded; counts the
 * items that matched it. */
bool kprof_wanted(Rec *r, const char *group, const char *name);
/* After every event was asked for: -1 (after an error) when an item
 * matched nothing. */
int kprof_check_selection(const Rec *r);

/* Byte offset of member `name` of BTF struct type_id, looking into
 * anonymous members; -1 if absent (kernel.c). */
struct btf;
int kprof_member_off(const struct btf *btf, int type_id, const char *name);
/* sched_switch from its raw tracepoint (kswitch.c): Event.layout. */
int kprof_layout_switch(Event *e);
/* The other scheduler events from raw tracepoints (ksched.c); -1 after an
 * error. */
int kprof_add_raw_sched(Rec *r);

/* --profile kernel (kernel.c): add the LTTng kernel event set.
 * Returns 0, or -1 after an error message. */
int kprof_add_events(Rec *r);
/* The event context of the kernel profile, as `lttng add-context -k -t
 * procname -t prio -t vpid -t vtid` adds it after pid and tid:
 * KPROF_NCONTEXT fields. */
#define KPROF_NCONTEXT 4
extern const CtfField kprof_context[KPROF_NCONTEXT];
#define KPROF_CTX_PROCNAME 0    /* byte offsets inside the context */
#define KPROF_CTX_PRIO 16
#define KPROF_CTX_VPID 20
#define KPROF_CTX_VTID 24
/* The context of a user-space record (statedump.c). */
typedef struct KUserCtx {
  int32_t pid, tid;       /* the event header's */
  char procname[16];
  int32_t prio, vpid, vtid;
} KUserCtx;
/* etrace's own context. */
void kprof_self_ctx(KUserCtx *c);
/* A user-space record of `size` bytes (room for r->ctx_size more) with
 * event id `id`: its header (now) and context (c) filled, then written
 * to CPU 0's stream. */
void kprof_user_event(Rec *r, CtfWriter *w, int id, const KUserCtx *c, unsigned char *rec,
                      size_t size);
/* After ctf_open, before attaching: the statedump of the threads alive now
 * (statedump.c), written to CPU 0's stream.  Returns the number of threads. */
int kprof_statedump(Rec *r, CtfWriter *w);
/* The rest of the statedump, with etrace's context (statedump_sys.c):
 * interrupts, block devices, network interfaces, CPU topology. */
void kprof_sys_statedump(Rec *r, CtfWriter *w, const KUserCtx *self);

#endif
