/* record.h - `etrace record` (tracepoints to a CTF trace) and
 * `etrace ctf repair`.  argv[1] is the subcommand name. */
#ifndef ETRACE_RECORD_H
#define ETRACE_RECORD_H

#include "etrace.h"
#include "formats/ctf.h"

#include <linux/bpf.h>

int record_main(int argc, char **argv);

/* ---------------------------------------------------------------- internal
 * Shared by record.c (programs, loop), record_kernel.c (--profile kernel)
 * and statedump.c. */

typedef enum {
  CP_CTX,      /* fixed bytes from the tracepoint record */
  CP_DATALOC_STR, /* __data_loc char[]: string slot */
  CP_DATALOC_SEQ, /* __data_loc T[]: count + elements slot */
  CP_SYS_NR,   /* constant: the syscall number (int) */
  CP_SYS_ARG,  /* syscall argument `src` (0..5) from pt_regs, 8 bytes */
  CP_SYS_USTR, /* syscall argument `src` as a user string: slot */
  CP_SYS_RET,  /* sys_exit: the return value, 8 bytes */
  CP_CTX_PRIO, /* int at record offset src, minus 100 (MAX_RT_PRIO), as LTTng */
  CP_CTX_STATE,/* sched_switch prev_state (long): a preemption (bit 0x100,
                  TASK_REPORT_MAX) becomes 0, as docs/ctf.md §3.2 asks */
  CP_TASK,     /* raw tracepoint: `size` bytes at ((char *)ctx->args[src]) + off */
  CP_IMM,      /* the constant imm, `size` bytes (1, 2, 4 or 8) */
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

/* A BPF program being built (record.c). */
typedef struct Prog {
  struct bpf_insn *insns;
  int n, cap;
  int *to_out, nout;     /* jumps to the exit */
} Prog;
void rec_emit(Prog *p, struct bpf_insn in);
void rec_jmp_out(Prog *p, struct bpf_insn in); /* a jump to "drop this event" */

/* Per-event filters (record_filter.c): `EVENT /PREDICATE/`. */
/* Parse the predicate text (between the slashes); NULL after a located
 * error.  `spec` names the argument in messages. */
RecFilter *rfilter_parse(const char *text, const char *spec);
/* Check the predicate's names against e's fields (after layout). */
int rfilter_check(RecFilter *f, const Event *e);
/* Emit the test: r6 = ctx, r8 = pid_tgid, the syscall argument registers
 * at r10+regs_buf (lowest register offset regs_lo); jumps out when false.
 * Uses r0-r5 only. */
void rfilter_gen(Prog *p, const RecFilter *f, const Event *e, int regs_buf, int regs_lo);

/* Add (or find) the event SYS:EVENT; returns its index in the event table.
 * Pointers from rec_event() stay valid until the next rec_add_event(). */
int rec_add_event(const char *sys, const char *event);
Event *rec_event(int i);
void rec_add_field(Event *e, CtfField f);
void rec_add_copy(Event *e, Copy c);

/* --profile kernel (record_kernel.c): add the LTTng kernel event set.
 * Returns 0, or -1 after an error message. */
int kprof_add_events(void);
/* The event (index) written for a system call with no tracepoint:
 * syscall_entry_unknown / syscall_exit_unknown; -1 if none. */
int kprof_unknown(bool is_exit);
/* The class ids of lttng_statedump_start / _process_state / _end. */
int kprof_statedump_ids(int *start, int *state, int *end);
/* After ctf_open, before attaching: the statedump of the threads alive now
 * (statedump.c), written to CPU 0's stream.  Returns the number of threads. */
int kprof_statedump(CtfWriter *w);

#endif
