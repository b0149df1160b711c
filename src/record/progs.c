/* progs.c - the BPF side of `etrace record`: one small program per event,
 * built with the shared emitter (codegen/emit.h), loaded with the shared
 * loader, system calls registered with the shared dispatcher
 * (providers/sysdispatch.h); the per-CPU ring buffers and the loss
 * counter they write to.  record.c describes the record layout. */
#include "etrace.h"
#include "arch/arch.h"
#include "codegen/insn.h"
#include "load/load.h"
#include "providers/attach.h"
#include "record/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the system-call argument registers' offsets in struct pt_regs */
#define regs_off (arch_current()->syscall_args)


static void emit(Prog *p, struct bpf_insn in) { em_insn(&p->em, in); }

/* A conditional jump to the program's exit: the event is not recorded. */
static void jmp_out(Prog *p, struct bpf_insn in) { em_jump(&p->em, in, p->out); }

/* Copy `size` bytes from ctx+src to r7+dst with aligned context loads. */
static void copy_ctx(Prog *p, int src, int size, int dst) {
  while (size > 0) {
    int k = 8;
    while (k > size || src % k)
      k /= 2;
    int sz = k == 8 ? BPF_DW : k == 4 ? BPF_W : k == 2 ? BPF_H : BPF_B;
    emit(p, LDX(sz, BPF_REG_1, BPF_REG_6, src));
    emit(p, STX(sz, BPF_REG_7, BPF_REG_1, dst));
    src += k;
    dst += k;
    size -= k;
  }
}

#define REGS_BUF (-80) /* stack copy of the argument registers (64 bytes) */

/* System-call entry: one read of the argument registers' span to the stack
 * at REGS_BUF.  Returns the lowest register offset read. */
static int gen_regs(Prog *p, const Event *e) {
  int lo = 1 << 30, hi = 0;
  for (int i = 0; i < e->ncopies; i++) {
    const Copy *c = &e->copies[i];
    if (c->kind == CP_SYS_ARG || c->kind == CP_SYS_USTR) {
      int ro = regs_off[c->src];
      lo = ro < lo ? ro : lo;
      hi = ro + 8 > hi ? ro + 8 : hi;
    }
  }
  if (hi > 0) {
    emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 0)); /* ctx->args[0]: struct pt_regs * */
    emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, lo));
    emit(p, MOV64_REG(BPF_REG_1, BPF_REG_10));
    emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, REGS_BUF));
    emit(p, MOV64_IMM(BPF_REG_2, hi - lo));
    emit(p, CALL(BPF_FUNC_probe_read_kernel));
  }
  return lo;
}

/* LTTng's RWBS_FLAG_* (its block.h) */
enum {
  RWBS_WRITE = 1 << 0, RWBS_DISCARD = 1 << 1, RWBS_READ = 1 << 2, RWBS_RAHEAD = 1 << 3,
  RWBS_SYNC = 1 << 5, RWBS_META = 1 << 6, RWBS_SECURE = 1 << 7, RWBS_FLUSH = 1 << 8,
  RWBS_FUA = 1 << 9, RWBS_PREFLUSH = 1 << 10,
};

/* r4 |= flag when r1 == ch. */
static void rwbs_map(Prog *p, char ch, int flag) {
  emit(p, JMP_IMM(BPF_JNE, BPF_REG_1, ch, 1));
  emit(p, ALU32_IMM(BPF_OR, BPF_REG_4, flag));
}

/* The kernel's rwbs text (blk_fill_rwbs: an optional 'F' for a preflush,
 * the operation W/D/F/R/N, 'E' after 'D' for a secure erase, then F (FUA),
 * A (read-ahead), S (sync), M (meta), NUL-terminated in char[10]) read
 * from ctx+src, stored at r7+dst as LTTng's flag set.  A leading 'F' is a
 * preflush when an operation letter follows it. */
static void gen_rwbs(Prog *p, int src, int dst) {
  int op = em_label(&p->em), done = em_label(&p->em), from2 = em_label(&p->em);
  emit(p, MOV64_IMM(BPF_REG_4, 0));
  emit(p, MOV64_IMM(BPF_REG_5, 1));            /* where the suffix starts */
  emit(p, LDX(BPF_B, BPF_REG_1, BPF_REG_6, src));
  emit(p, LDX(BPF_B, BPF_REG_2, BPF_REG_6, src + 1));
  em_jump(&p->em, JMP_IMM(BPF_JNE, BPF_REG_1, 'F', 0), op);
  static const char ops[] = "WDFRN";
  int pf = em_label(&p->em);
  for (const char *c = ops; *c; c++)
    em_jump(&p->em, JMP_IMM(BPF_JEQ, BPF_REG_2, *c, 0), pf);
  em_jump(&p->em, JA(0), op);
  em_place(&p->em, pf);
  emit(p, ALU32_IMM(BPF_OR, BPF_REG_4, RWBS_PREFLUSH));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_2));
  emit(p, MOV64_IMM(BPF_REG_5, 2));
  em_place(&p->em, op);                         /* the operation letter in r1 */
  rwbs_map(p, 'W', RWBS_WRITE);
  rwbs_map(p, 'D', RWBS_DISCARD);
  rwbs_map(p, 'F', RWBS_FLUSH);
  rwbs_map(p, 'R', RWBS_READ);
  /* after a preflush, position 1 held the operation: the suffix starts at 2 */
  em_jump(&p->em, JMP_IMM(BPF_JNE, BPF_REG_5, 1, 0), from2);
  for (int j = 1; j < 10; j++) {
    if (j == 2)
      em_place(&p->em, from2);
    emit(p, LDX(BPF_B, BPF_REG_1, BPF_REG_6, src + j));
    em_jump(&p->em, JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 0), done);
    rwbs_map(p, 'F', RWBS_FUA);
    rwbs_map(p, 'A', RWBS_RAHEAD);
    rwbs_map(p, 'S', RWBS_SYNC);
    rwbs_map(p, 'M', RWBS_META);
    rwbs_map(p, 'E', RWBS_SECURE);
  }
  em_place(&p->em, done);
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_4, dst));
}

/* The kernel's task states (include/linux/sched.h) that sched_switch's
 * prev_state reports */
enum {
  TASK_UNINTERRUPTIBLE = 0x2, TASK_REPORT = 0x7f, TASK_REPORT_IDLE = 0x80,
  TASK_IDLE = 0x402, TASK_RTLOCK_WAIT = 0x1000, TASK_FROZEN = 0x8000,
};

/* Raw sched_switch(preempt, prev, next, prev_state): prev_state as the
 * tracepoint reports it (kswitch.c), 0 when preempted; 8 bytes at r7+dst.
 * exit_off: task_struct.exit_state. */
static void gen_switch_state(Prog *p, int exit_off, int dst) {
  int store = em_label(&p->em);
  emit(p, MOV64_IMM(BPF_REG_5, 0));
  emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_6, 0));              /* preempt */
  em_jump(&p->em, JMP_IMM(BPF_JNE, BPF_REG_1, 0, 0), store);
  emit(p, ST_IMM(BPF_W, BPF_REG_7, dst, 0));
  emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 8));              /* prev */
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, exit_off));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, dst));
  emit(p, MOV64_IMM(BPF_REG_2, 4));
  emit(p, CALL(BPF_FUNC_probe_read_kernel));
  emit(p, LDX(BPF_DW, BPF_REG_2, BPF_REG_6, 24));             /* prev_state */
  emit(p, LDX(BPF_W, BPF_REG_4, BPF_REG_7, dst));             /* exit_state */
  emit(p, ALU64_REG(BPF_OR, BPF_REG_4, BPF_REG_2));
  emit(p, ALU32_IMM(BPF_AND, BPF_REG_4, TASK_REPORT));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_2));
  emit(p, ALU32_IMM(BPF_AND, BPF_REG_1, TASK_IDLE));
  emit(p, JMP_IMM(BPF_JNE, BPF_REG_1, TASK_IDLE, 1));
  emit(p, MOV64_IMM(BPF_REG_4, TASK_REPORT_IDLE));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_2));
  emit(p, ALU32_IMM(BPF_AND, BPF_REG_1, TASK_RTLOCK_WAIT | TASK_FROZEN));
  emit(p, JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 1));
  emit(p, MOV64_IMM(BPF_REG_4, TASK_UNINTERRUPTIBLE));
  /* its highest bit (1 << (fls(state) - 1)), 0 for 0 */
  for (int b = 7; b >= 0; b--) {
    emit(p, MOV64_IMM(BPF_REG_5, 1 << b));
    em_jump(&p->em, JMP_IMM(BPF_JSET, BPF_REG_4, 1 << b, 0), store);
  }
  emit(p, MOV64_IMM(BPF_REG_5, 0));
  em_place(&p->em, store);
  emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_5, dst));
}

static void gen_body(Prog *p, const Event *e, int lo) {
  for (int i = 0; i < e->ncopies; i++) {
    const Copy *c = &e->copies[i];
    switch (c->kind) {
    case CP_CTX:
      copy_ctx(p, c->src, c->size, c->dst);
      break;
    case CP_DATALOC_STR:
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_6, c->src));
      emit(p, ALU64_IMM(BPF_AND, BPF_REG_1, 0xffff));
      emit(p, MOV64_REG(BPF_REG_3, BPF_REG_6));
      emit(p, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst));
      emit(p, MOV64_IMM(BPF_REG_2, c->size));
      emit(p, CALL(BPF_FUNC_probe_read_kernel_str));
      break;
    case CP_DATALOC_SEQ: {
      int shift = c->elem == 8 ? 3 : c->elem == 4 ? 2 : c->elem == 2 ? 1 : 0;
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_6, c->src));
      emit(p, MOV64_REG(BPF_REG_2, BPF_REG_1));
      emit(p, ALU64_IMM(BPF_RSH, BPF_REG_2, 16));            /* length in bytes */
      emit(p, JMP_IMM(BPF_JLE, BPF_REG_2, SEQ_BYTES, 1));
      emit(p, MOV64_IMM(BPF_REG_2, SEQ_BYTES));
      emit(p, ALU64_IMM(BPF_RSH, BPF_REG_2, shift));
      emit(p, STX(BPF_H, BPF_REG_7, BPF_REG_2, c->dst));      /* element count */
      emit(p, ALU64_IMM(BPF_LSH, BPF_REG_2, shift));
      emit(p, ALU64_IMM(BPF_AND, BPF_REG_1, 0xffff));
      emit(p, MOV64_REG(BPF_REG_3, BPF_REG_6));
      emit(p, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst + 2));
      emit(p, CALL(BPF_FUNC_probe_read_kernel));
      break;
    }
    case CP_SYS_NR:
      emit(p, ST_IMM(BPF_W, BPF_REG_7, c->dst, e->sys_nr));
      break;
    case CP_SYS_ARG:
      emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, REGS_BUF + regs_off[c->src] - lo));
      if (c->sext32) {
        emit(p, ALU64_IMM(BPF_LSH, BPF_REG_1, 32));
        emit(p, ALU64_IMM(BPF_ARSH, BPF_REG_1, 32));
      }
      emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_SYS_USTR:
      emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_10, REGS_BUF + regs_off[c->src] - lo));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst));
      emit(p, MOV64_IMM(BPF_REG_2, c->size));
      emit(p, CALL(BPF_FUNC_probe_read_user_str));
      break;
    case CP_SYS_RET:
      emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_6, 8)); /* ctx->args[1] */
      emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_CTX_PRIO:
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_6, c->src));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, -100));
      emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_TASK:
      emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 8 * c->src));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, c->off));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst));
      emit(p, MOV64_IMM(BPF_REG_2, c->size));
      emit(p, CALL(BPF_FUNC_probe_read_kernel));
      break;
    case CP_TASK_PRIO:
      emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 8 * c->src));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, c->off));
      emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
      emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, c->dst));
      emit(p, MOV64_IMM(BPF_REG_2, 4));
      emit(p, CALL(BPF_FUNC_probe_read_kernel));
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_7, c->dst));
      emit(p, ALU32_IMM(BPF_SUB, BPF_REG_1, 100));
      emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_ARG:
      emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_6, 8 * c->src));
      emit(p, STX(c->size == 8 ? BPF_DW : BPF_W, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_SWITCH_STATE:
      gen_switch_state(p, c->off, c->dst);
      break;
    case CP_CTX_RWBS:
      gen_rwbs(p, c->src, c->dst);
      break;
    case CP_CUR_TID:
      emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_7, CTF_EV_TID));
      emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_1, c->dst));
      break;
    case CP_IMM: {
      int sz = c->size == 8 ? BPF_DW : c->size == 4 ? BPF_W : c->size == 2 ? BPF_H : BPF_B;
      emit(p, ST_IMM(sz, BPF_REG_7, c->dst, c->imm));
      break;
    }
    }
  }
}


/* Stack slots of gen_context, below REGS_BUF (which gen_body reads after
 * it): the task, a struct pid pointer, its namespace level. */
#define CTX_TASK (-104)
#define CTX_PID (-96)
#define CTX_LEVEL (-88)

/* r3 = &pid->numbers[level].nr for the struct pid * at CTX_PID and the
 * level at CTX_LEVEL. */
static void gen_upid_nr(Rec *r, Prog *p) {
  emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_10, CTX_LEVEL));
  emit(p, ALU64_IMM(BPF_MUL, BPF_REG_1, r->task.upid_size));
  emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_10, CTX_PID));
  emit(p, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, r->task.pid_numbers + r->task.upid_nr));
}

/* probe_read_kernel(dst, size, r3): dst is r10+off (stack) or r7+off. */
static void gen_read(Prog *p, int base, int off, int size) {
  emit(p, MOV64_REG(BPF_REG_1, base));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, off));
  emit(p, MOV64_IMM(BPF_REG_2, size));
  emit(p, CALL(BPF_FUNC_probe_read_kernel));
}

/* The stack slot `to` = the `size`-byte kernel field at `off` in the
 * object whose pointer is in stack slot `from`. */
static void gen_field_to_slot(Prog *p, int from, int off, int to, int size) {
  emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_10, from));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, off));
  gen_read(p, BPF_REG_10, to, size);
}

/* --profile kernel: the procname, prio, vpid and vtid contexts
 * (kprof_context) at byte `at` of the reservation in r7.  vtid and vpid
 * are the thread's and its group leader's numbers in the thread's own pid
 * namespace (task_pid_vnr / task_tgid_vnr): struct pid's numbers[level].
 * Clobbers r0-r5. */
static void gen_context(Rec *r, Prog *p, int at) {
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_1, at + KPROF_CTX_PROCNAME));
  emit(p, MOV64_IMM(BPF_REG_2, 16));
  emit(p, CALL(BPF_FUNC_get_current_comm));
  emit(p, CALL(BPF_FUNC_get_current_task));
  emit(p, STX(BPF_DW, BPF_REG_10, BPF_REG_0, CTX_TASK));
  emit(p, MOV64_REG(BPF_REG_3, BPF_REG_0));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, r->task.prio));
  gen_read(p, BPF_REG_7, at + KPROF_CTX_PRIO, 4);
  /* LTTng's prio is the kernel's minus MAX_RT_PRIO (100): 20 for nice 0 */
  emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_7, at + KPROF_CTX_PRIO));
  emit(p, ALU32_IMM(BPF_SUB, BPF_REG_1, 100));
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_1, at + KPROF_CTX_PRIO));
  /* vtid: task->thread_pid->numbers[level].nr */
  emit(p, ST_IMM(BPF_DW, BPF_REG_10, CTX_PID, 0));
  emit(p, ST_IMM(BPF_W, BPF_REG_10, CTX_LEVEL, 0));
  gen_field_to_slot(p, CTX_TASK, r->task.thread_pid, CTX_PID, 8);
  gen_field_to_slot(p, CTX_PID, r->task.pid_level, CTX_LEVEL, 4);
  /* the root namespace (level 0, nearly every task): the header's ids */
  int nested = em_label(&p->em), done = em_label(&p->em);
  emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_10, CTX_LEVEL));
  em_jump(&p->em, JMP_IMM(BPF_JNE, BPF_REG_1, 0, 0), nested);
  emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_7, CTF_EV_TID));
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_1, at + KPROF_CTX_VTID));
  emit(p, LDX(BPF_W, BPF_REG_1, BPF_REG_7, CTF_EV_PID));
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_1, at + KPROF_CTX_VPID));
  em_jump(&p->em, JA(0), done);
  em_place(&p->em, nested);
  gen_upid_nr(r, p);
  gen_read(p, BPF_REG_7, at + KPROF_CTX_VTID, 4);
  /* vpid: task->group_leader->thread_pid->numbers[level].nr (a thread
   * group shares one pid namespace, hence one level) */
  gen_field_to_slot(p, CTX_TASK, r->task.group_leader, CTX_PID, 8);
  gen_field_to_slot(p, CTX_PID, r->task.thread_pid, CTX_PID, 8);
  gen_upid_nr(r, p);
  gen_read(p, BPF_REG_7, at + KPROF_CTX_VPID, 4);
  em_place(&p->em, done);
}

/* r6 = ctx, r7 = the reservation, r8 = pid_tgid, r9 = this CPU's ring. */
static void gen_prog(Rec *r, Prog *p, const Event *e, int id) {
  p->out = em_label(&p->em);
  emit(p, MOV64_REG(BPF_REG_6, BPF_REG_1));
  /* Nothing before the start or after the stop: the programs attach and
   * detach one at a time, the flag turns them all on and off at once. */
  emit(p, ST_IMM(BPF_W, BPF_REG_10, -4, 0));
  em_map(&p->em, BPF_REG_1, r->enabled_fd);
  emit(p, MOV64_REG(BPF_REG_2, BPF_REG_10));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
  emit(p, CALL(BPF_FUNC_map_lookup_elem));
  jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0));
  emit(p, LDX(BPF_W, BPF_REG_0, BPF_REG_0, 0));
  jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0));
  emit(p, CALL(BPF_FUNC_get_current_pid_tgid));
  emit(p, MOV64_REG(BPF_REG_8, BPF_REG_0));
  if (r->filter_pid) {
    emit(p, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    jmp_out(p, JMP_IMM(BPF_JNE, BPF_REG_0, r->filter_pid, 0));
  } else if (e->syscall) {
    /* not the recorder's own system calls: each write and poll would
     * record more events to write */
    emit(p, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, getpid(), 0));
  }
  /* The argument registers are read before the reservation so that a
   * filter can test them without reserving room for an event it drops. */
  int lo = gen_regs(p, e);
  if (e->filter)
    rfilter_gen(p, e->filter, e, REGS_BUF, lo);
  emit(p, CALL(BPF_FUNC_get_smp_processor_id));
  emit(p, STX(BPF_W, BPF_REG_10, BPF_REG_0, -4));
  em_map(&p->em, BPF_REG_1, r->outer_fd);
  emit(p, MOV64_REG(BPF_REG_2, BPF_REG_10));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
  emit(p, CALL(BPF_FUNC_map_lookup_elem));
  jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0));
  emit(p, MOV64_REG(BPF_REG_9, BPF_REG_0));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(p, MOV64_IMM(BPF_REG_2, e->cls.record_size + r->ctx_size));
  emit(p, MOV64_IMM(BPF_REG_3, 0));
  emit(p, CALL(BPF_FUNC_ringbuf_reserve));
  int drop = em_label(&p->em);
  em_jump(&p->em, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0), drop);
  emit(p, MOV64_REG(BPF_REG_7, BPF_REG_0));
  emit(p, ST_IMM(BPF_H, BPF_REG_7, CTF_EV_ID, id));
  emit(p, CALL(BPF_FUNC_ktime_get_ns));
  emit(p, STX(BPF_DW, BPF_REG_7, BPF_REG_0, CTF_EV_TIMESTAMP));
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_8, CTF_EV_TID));
  emit(p, ALU64_IMM(BPF_RSH, BPF_REG_8, 32));
  emit(p, STX(BPF_W, BPF_REG_7, BPF_REG_8, CTF_EV_PID));
  if (r->ctx_size)
    gen_context(r, p, e->cls.record_size);
  gen_body(p, e, lo);
  /* Wake the reader only once the ring is a quarter full: below that it
   * polls every DRAIN_MS (see the top of the file). */
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_9));
  emit(p, MOV64_IMM(BPF_REG_2, BPF_RB_AVAIL_DATA));
  emit(p, CALL(BPF_FUNC_ringbuf_query));
  emit(p, MOV64_IMM(BPF_REG_2, BPF_RB_NO_WAKEUP));
  emit(p, JMP_IMM(BPF_JLT, BPF_REG_0, rec_ringbuf_bytes(r) / 4, 1));
  emit(p, MOV64_IMM(BPF_REG_2, BPF_RB_FORCE_WAKEUP));
  emit(p, MOV64_REG(BPF_REG_1, BPF_REG_7));
  emit(p, CALL(BPF_FUNC_ringbuf_submit));
  em_place(&p->em, p->out);
  emit(p, MOV64_IMM(BPF_REG_0, 0));
  emit(p, EXIT_INSN());
  /* drop: this CPU's slot of the per-CPU counter += 1 */
  em_place(&p->em, drop);
  emit(p, ST_IMM(BPF_W, BPF_REG_10, -4, 0));
  em_map(&p->em, BPF_REG_1, r->drops_fd);
  emit(p, MOV64_REG(BPF_REG_2, BPF_REG_10));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
  emit(p, CALL(BPF_FUNC_map_lookup_elem));
  jmp_out(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 0));
  emit(p, MOV64_IMM(BPF_REG_1, 1));
  emit(p, ATOMIC_ADD64(BPF_REG_0, BPF_REG_1, 0));
  jmp_out(p, JA(0));
  em_resolve(&p->em);
}

/* The dispatchers' fall-through (sysdispatch.h): with --profile kernel,
 * a system call with no tracepoint is recorded as syscall_entry_unknown /
 * syscall_exit_unknown; otherwise nothing. */
static void unknown_syscall(Emitter *em, bool is_exit, void *arg) {
  Rec *r = arg;
  int unknown = r->kernel ? r->kprof.unknown[is_exit] : -1;
  if (unknown < 0) {
    em_insn(em, MOV64_IMM(BPF_REG_0, 0));
    em_insn(em, EXIT_INSN());
    return;
  }
  Prog p = {.em = *em};
  em_insn(&p.em, MOV64_REG(BPF_REG_1, BPF_REG_6));
  gen_prog(r, &p, rec_event(r, unknown), unknown);
  *em = p.em;
}

uint32_t rec_ringbuf_bytes(const Rec *r) {
  uint64_t want = (uint64_t)r->ringbuf_kb << 10;
  uint32_t size = (uint32_t)sysconf(_SC_PAGESIZE);
  while (size < want && size < (1u << 30))
    size <<= 1;
  return size;
}

int rec_create_maps(Rec *r) {
  uint32_t size = rec_ringbuf_bytes(r);
  r->rb_fds = malloc(sizeof(int) * r->ncpus);
  for (int i = 0; i < r->ncpus; i++) {
    r->rb_fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "etrace_rec_rb", 0, 0, size, NULL);
    if (r->rb_fds[i] < 0) {
      diag_fatal("cannot create a %u KiB ring buffer: %s", size >> 10, strerror(errno));
      if (errno == EPERM)
        fprintf(stderr, "etrace needs root, or CAP_BPF and CAP_PERFMON\n");
      return -1;
    }
  }
  LIBBPF_OPTS(bpf_map_create_opts, o, .inner_map_fd = r->rb_fds[0]);
  r->outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "etrace_rec_rbs", 4, 4, r->ncpus, &o);
  if (r->outer_fd < 0) {
    diag_fatal("cannot create the per-CPU ring buffer array: %s", strerror(errno));
    return -1;
  }
  for (uint32_t i = 0; i < (uint32_t)r->ncpus; i++) {
    uint32_t fd = r->rb_fds[i];
    if (bpf_map_update_elem(r->outer_fd, &i, &fd, BPF_ANY) < 0) {
      diag_fatal("cannot set up ring buffer %u: %s", i, strerror(errno));
      return -1;
    }
  }
  r->enabled_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "etrace_rec_on", 4, 4, 1, NULL);
  if (r->enabled_fd < 0) {
    diag_fatal("cannot create the enabled flag: %s", strerror(errno));
    return -1;
  }
  r->drops_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "etrace_rec_drop", 4, 8, 1, NULL);
  if (r->drops_fd < 0) {
    diag_fatal("cannot create the loss counter: %s", strerror(errno));
    return -1;
  }
  return 0;
}

int rec_load_all(Rec *r) {
  sysdisp_init(&r->sys, "etrace_rsys_e", "etrace_rsys_x", unknown_syscall, r);
  for (int i = 0; i < r->nev; i++) {
    Event *e = &r->ev[i];
    if (e->user)
      continue;
    Prog p = {0};
    gen_prog(r, &p, e, i);
    char what[256];
    snprintf(what, sizeof what, "%s:%s", e->sys, e->event);
    if (r->verbose) {
      fprintf(stderr, "%s: %d instructions, %d-byte records\n", what, p.em.n, e->cls.record_size);
      disasm_print(stderr, p.em.insns, p.em.n, NULL);
    }
    e->prog_fd = load_prog(e->syscall || e->raw_tp ? BPF_PROG_TYPE_RAW_TRACEPOINT
                                                   : BPF_PROG_TYPE_TRACEPOINT,
                           "etrace_rec", p.em.insns, p.em.n, NULL, NULL, what);
    em_free(&p.em);
    if (e->prog_fd < 0)
      return -1;
    if (e->syscall && sysdisp_add(&r->sys, e->sys_exit, e->sys_nr, e->prog_fd, NULL, what) < 0)
      return -1;
  }
  return 0;
}

int rec_set_enabled(Rec *r, bool on) {
  uint32_t key = 0, val = on;
  if (bpf_map_update_elem(r->enabled_fd, &key, &val, BPF_ANY) < 0) {
    diag_fatal("cannot %s the recording: %s", on ? "start" : "stop", strerror(errno));
    return -1;
  }
  return 0;
}

int rec_attach_all(Rec *r) {
  if (sysdisp_attach(&r->sys, links_keep, &r->links, r->verbose) < 0)
    return -1;
  for (int i = 0; i < r->nev; i++) {
    Event *e = &r->ev[i];
    if (e->syscall || e->user)
      continue;
    int fd = e->raw_tp ? prov_attach_raw_tp(e->prog_fd, e->raw_tp)
                       : prov_attach_tracepoint(e->prog_fd, e->tp->id);
    if (fd < 0) {
      diag_fatal("cannot attach to tracepoint %s:%s: %s", e->sys, e->event, strerror(-fd));
      return -1;
    }
    links_add(&r->links, fd);
  }
  return 0;
}
