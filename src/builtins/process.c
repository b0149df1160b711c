/* process.c - the current task and CPU: pid, tid, uid, gid, username,
 * comm, cpu, numaid, ncpus, rand, cgroup, curtask, cpid, signal(). */
#include "builtins/builtin.h"

#include <string.h>

static Type *type_u32(Sema *sema, Node *e) { return ty_int(4, false); }
static Type *type_u64(Sema *sema, Node *e) { return ty_u64; }

/* r0 = bpf_get_current_pid_tgid(), called once by the probe when it
 * needs it more than once (cg_target) */
void cg_pid_tgid(Cg *cg) {
  if (cg->pid_tgid_off)
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, cg->pid_tgid_off));
  else
    emit(cg, CALL(BPF_FUNC_get_current_pid_tgid));
}

static void gen_pid(Cg *cg, Node *e) {
  cg_pid_tgid(cg);
  emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
}

static void gen_tid(Cg *cg, Node *e) {
  cg_pid_tgid(cg);
  emit(cg, MOV32_REG(BPF_REG_0, BPF_REG_0));
}

/* uid (and username, the uid printed as a name) and gid */
static void gen_uid(Cg *cg, Node *e) {
  emit(cg, CALL(BPF_FUNC_get_current_uid_gid));
  emit(cg, MOV32_REG(BPF_REG_0, BPF_REG_0));
}

static void gen_gid(Cg *cg, Node *e) {
  emit(cg, CALL(BPF_FUNC_get_current_uid_gid));
  emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
}

static Type *check_username(Sema *sema, Node *e) { return new_kind(TY_USERNAME, 8); }

static Type *check_comm(Sema *sema, Node *e) { return ty_str(16); }

/* bpf_get_current_comm() zeroes the buffer after the NUL from Linux 6.4
 * (and before 5.19, with strncpy); between, it leaves those bytes as
 * they were, and they are part of a map key or a compared string. */
static bool kernel_pads_comm(void) { return rt_kernel_at_least(6, 4); }

void cg_current_comm(Cg *cg, int off, int size) {
  if (!kernel_pads_comm())
    emit_zero(cg, off, size);
  emit_addr(cg, BPF_REG_1, off);
  emit(cg, MOV64_IMM(BPF_REG_2, size));
  emit(cg, CALL(BPF_FUNC_get_current_comm));
}

static void gen_comm(Cg *cg, Node *e, int off, const Type *dst) {
  int size = dst->size < 16 ? dst->size : 16;
  if (!cg->comm_off)
    cg_current_comm(cg, off, size);
  else if (off != cg->comm_off) /* the probe read it once (cg_target) */
    emit_copy(cg, off, BPF_REG_10, cg->comm_off, size);
}

static void gen_cpu(Cg *cg, Node *e) { emit(cg, CALL(BPF_FUNC_get_smp_processor_id)); }
static void gen_numaid(Cg *cg, Node *e) { emit(cg, CALL(BPF_FUNC_get_numa_node_id)); }
static void gen_ncpus(Cg *cg, Node *e) { emit_imm64(cg, BPF_REG_0, cg->c->ncpus); }
static void gen_rand(Cg *cg, Node *e) { emit(cg, CALL(BPF_FUNC_get_prandom_u32)); }
static void gen_cgroup(Cg *cg, Node *e) { emit(cg, CALL(BPF_FUNC_get_current_cgroup_id)); }

/* struct task_struct * when the kernel has BTF; else an integer */
static Type *check_curtask(Sema *sema, Node *e) {
  const char *why;
  Type *t = btf_vmlinux() ? btf_parse_type(sema->c->types, "struct task_struct *", false, &why) : NULL;
  return t ? t : ty_u64;
}

static void gen_curtask(Cg *cg, Node *e) { emit(cg, CALL(BPF_FUNC_get_current_task)); }

static Type *check_cpid(Sema *sema, Node *e) {
  if (!sema->opt->cpid)
    serr(sema, e->loc, "cpid cannot be used without a child command (-c)");
  return ty_int(4, false);
}

static void gen_cpid(Cg *cg, Node *e) { emit_imm64(cg, BPF_REG_0, cg->c->cpid); }

/* signal(SIG or "SIGNAME"): sent to the current task. */
static Type *check_signal(Sema *sema, Node *e) {
  if (!sema->opt->unsafe) {
    serr(sema, e->loc, "signal() is unsafe and needs --unsafe");
    return NULL;
  }
  if (e->args->kind == ND_STR) {
    static const char *names[] = {"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP",
                                  "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
                                  "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM"};
    for (int i = 1; i < 16; i++)
      if (!strcmp(e->args->str, names[i]) || !strcmp(e->args->str, names[i] + 3)) {
        e->args->kind = ND_INT;
        e->args->ival = i;
      }
    if (e->args->kind == ND_STR) {
      serr(sema, e->args->loc, "unknown signal name '%s'", e->args->str);
      return NULL;
    }
  }
  want_int(sema, e->args, e->name);
  return ty_void;
}

static void gen_signal(Cg *cg, Node *e) {
  cg_scalar(cg, e->args);
  emit(cg, MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(cg, CALL(BPF_FUNC_send_signal));
}

const Builtin builtins_process[] = {
    {.name = "pid", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u32, .gen_value = gen_pid},
    {.name = "tid", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u32, .gen_value = gen_tid},
    {.name = "uid", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u32, .gen_value = gen_uid},
    {.name = "gid", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u32, .gen_value = gen_gid},
    {.name = "username", .form = BUILTIN_VAR, .check = check_username, .gen_value = gen_uid},
    /* all 16 bytes written: cg_current_comm zeroes them first where the
     * kernel's helper leaves the bytes after the NUL as they were */
    {.name = "comm", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE,
     .check = check_comm, .gen_store = gen_comm, .store_fills = 16},
    {.name = "cpu", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u32, .gen_value = gen_cpu},
    {.name = "numaid", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u32, .gen_value = gen_numaid},
    {.name = "ncpus", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u64, .gen_value = gen_ncpus},
    {.name = "rand", .form = BUILTIN_VAR, .check = type_u32, .gen_value = gen_rand},
    {.name = "cgroup", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = type_u64, .gen_value = gen_cgroup},
    {.name = "curtask", .form = BUILTIN_VAR, .check = check_curtask, .gen_value = gen_curtask},
    {.name = "cpid", .form = BUILTIN_VAR, .flags = BUILTIN_STABLE, .check = check_cpid, .gen_value = gen_cpid},
    {.name = "signal", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1,
     .check = check_signal, .gen_stmt = gen_signal},
    {0},
};
