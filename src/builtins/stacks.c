/* stacks.c - stacks and symbols:
 *
 *   kstack, ustack                      the stack in bpftrace mode, 127 frames
 *   kstack(MODE), kstack(N), kstack(MODE, N)   MODE: bpftrace, perf, raw
 *   ksym(addr), usym(addr)              an address printed as a symbol
 *   kaddr("name")                       a kernel symbol's address (kallsyms)
 *   uaddr("name")                       a symbol's run-time address in the
 *                                       probed file (uprobe/usdt only)
 *   reg("name")                         a register of the probed context
 *
 * User space reads the frames back from the stack maps and names the
 * addresses (src/symbols/).
 */
#include "arch/arch.h"
#include "builtins/builtin.h"
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>

/* The frames a stack keeps at most: kernel.perf_event_max_stack (a
 * stack map whose values are longer is refused by the kernel), capped at
 * STACK_MAX_FRAMES. */
static int max_stack(Sema *sema) {
  if (!sema->max_stack) {
    size_t len;
    char *s = read_file("/proc/sys/kernel/perf_event_max_stack", &len);
    int max = s ? atoi(s) : 0;
    free(s);
    if (max < 1 || max > 1024)
      max = STACK_MAX_FRAMES;
    if (max > STACK_MAX_FRAMES)
      max = STACK_MAX_FRAMES; /* etrace's own cap: rt reads at most this many */
    sema->max_stack = max;
  }
  return sema->max_stack;
}

static Type *stack_type(bool user, int mode, int limit) {
  Type *t = ealloc(sizeof(Type));
  t->kind = TY_STACK;
  t->size = 8;
  t->stack_user = user;
  t->stack_mode = mode;
  t->stack_limit = limit;
  return t;
}

static const char *const mode_names[] = {"bpftrace", "perf", "raw"};

/* kstack(perf, 3): arguments are a mode name and/or a frame count, both
 * literal. */
static Type *check_stack_call(Sema *sema, Node *e) {
  bool user = e->name[0] == 'u';
  int mode = STACK_MODE_BPFTRACE, limit = max_stack(sema);
  if (e->nargs > 2) {
    serr(sema, e->loc, "%s() takes up to 2 arguments (%d provided)", e->name, e->nargs);
    return NULL;
  }
  int i = 0;
  for (Node *a = e->args; a; a = a->next, i++) {
    if (a->kind == ND_BUILTIN && i == 0) {
      int m = -1;
      for (int k = 0; k < 3; k++)
        if (!strcmp(a->name, mode_names[k]))
          m = k;
      if (m < 0) {
        serr(sema, a->loc, "unknown stack mode '%s': expected bpftrace, perf or raw", a->name);
        return NULL;
      }
      mode = m;
      a->type = ty_void;
      continue;
    }
    if (i == 0 && e->nargs == 2) {
      serr(sema, a->loc, "%s() expects a stack mode (bpftrace, perf or raw) as its first argument",
          e->name);
      return NULL;
    }
    if (a->kind != ND_INT) {
      if (i == 0 && e->nargs == 2)
        serr(sema, a->loc, "%s() expects a stack mode (bpftrace, perf or raw) here", e->name);
      else
        serr(sema, a->loc, "%s() expects an integer literal: the number of frames", e->name);
      return NULL;
    }
    a->type = ty_s64;
    if (a->ival < 1 || a->ival > (uint64_t)max_stack(sema)) {
      serr(sema, a->loc, "%s(): the number of frames must be between 1 and %d "
                  "(kernel.perf_event_max_stack), got %lld",
          e->name, max_stack(sema), (long long)a->ival);
      return NULL;
    }
    limit = (int)a->ival;
  }
  return stack_type(user, mode, limit);
}

/* A positional parameter given where a literal is expected ($1 or
 * str($1), as in kaddr(str($1))): the node becomes the parameter's text
 * (a missing parameter is ""), as bpftrace reads it. */
static void fold_posparam_text(Sema *sema, Node *a) {
  Node *p = a->kind == ND_CALL && !strcmp(a->name, "str") && a->nargs == 1 ? a->args : a;
  if (p->kind != ND_POSPARAM)
    return;
  const char *text = p->ival && p->ival <= (uint64_t)sema->opt->nposparams
                         ? sema->opt->posparams[p->ival - 1]
                         : "";
  a->kind = ND_STR;
  a->str = estrdup(text);
  a->slen = strlen(text);
  a->args = NULL;
  a->nargs = 0;
}

static bool str_arg(Sema *sema, Node *e) {
  fold_posparam_text(sema, e->args);
  if (e->args->kind != ND_STR) {
    serr(sema, e->args->loc, "%s() expects a string literal", e->name);
    return false;
  }
  e->args->type = ty_str(e->args->slen + 1);
  return true;
}


/* ------------------------------------------------------------ type checks */

/* kstack / ustack written without arguments */
static Type *check_stack(Sema *sema, Node *e) {
  if (e->kind == ND_CALL)
    return check_stack_call(sema, e);
  return stack_type(e->name[0] == 'u', STACK_MODE_BPFTRACE, max_stack(sema));
}

static Type *check_sym(Sema *sema, Node *e) {
  Type *a = check_expr(sema, e->args);
  if (a && a->kind != TY_NONE && a->kind != TY_INT) {
    serr(sema, e->args->loc, "%s() expects an integer or pointer argument, got %s", e->name,
         ty_name(a));
    return NULL;
  }
  return e->name[0] == 'k' ? new_kind(TY_KSYM, 8) : new_kind(TY_USYM, 16);
}

static Type *check_kaddr(Sema *sema, Node *e) {
  if (!str_arg(sema, e))
    return NULL;
  if (!sym_kernel_addr(e->args->str)) {
    if (sema->final_pass)
      diag_error_bt(e->args->loc, eprintf("Failed to resolve kernel symbol: %s", e->args->str),
                    "kaddr(): no kernel symbol named '%s' in /proc/kallsyms", e->args->str);
    return NULL;
  }
  return ty_u64;
}

static Type *check_uaddr(Sema *sema, Node *e) {
  if (!str_arg(sema, e))
    return NULL;
  SymUaddr u;
  const UserSite *site = target_user_site(sema->cur); /* PROBE_CAP_USER */
  const char *why = site ? sym_uaddr(site, e->args->str, &u) : "not in a user probe";
  if (why) {
    serr(sema, e->args->loc, "uaddr(\"%s\"): %s", e->args->str, why);
    return NULL;
  }
  return ty_ptr(ty_int(u.size == 1 || u.size == 2 || u.size == 4 ? (int)u.size : 8, false), true);
}

static Type *check_reg(Sema *sema, Node *e) {
  if (!str_arg(sema, e))
    return NULL;
  if (arch_reg_offset(e->args->str) < 0) {
    serr(sema, e->args->loc, "'%s' is not a valid register on this architecture (%s)",
         e->args->str, arch_current()->name);
    return NULL;
  }
  return ty_u64;
}

/* ------------------------------------------------------------ code */

/* The first time ustack/usym sees a process, tell user space (REC_PID)
 * so that it reads the process's maps while it lives (sym/usym.c).  A
 * hash map of reported processes makes it once per process: lookup, then
 * insert with BPF_NOEXIST, whose failure means another CPU reported it.
 * The key is the pid, the command name, and the time in 268 ms steps:
 * an exec (which replaces the maps and nearly always the name: a -c
 * child is etrace until it execs) is reported again at once, and a busy
 * process again every 268 ms, so that libraries mapped after its first
 * event (the dynamic loader's work, dlopen) are seen too. */
static void cg_pid_note(Cg *cg, Loc loc) {
  MapInfo *m = internal_map(cg, ".pids");
  if (!m) {
    m = add_internal_map(cg->c, ".pids", 8);
    m->key_size = 24; /* u64 pid, char comm[16] */
    m->max_entries = 16384;
  }
  int mark = cg->stack;
  int k = slot(cg, 24, loc), v = slot(cg, 8, loc);
  int done = label_new(cg);
  cg_pid_tgid(cg);
  emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
  jmp_imm(cg, BPF_JEQ, BPF_REG_0, 0, done); /* the idle task has no user stack */
  emit(cg, STX(BPF_W, BPF_REG_10, BPF_REG_0, k));
  emit(cg, CALL(BPF_FUNC_ktime_get_ns));
  emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 28));
  emit(cg, STX(BPF_W, BPF_REG_10, BPF_REG_0, k + 4));
  cg_current_comm(cg, k + 8, 16);
  map_lookup(cg, m, k);
  jmp_imm(cg, BPF_JNE, BPF_REG_0, 0, done);
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, v, 1));
  emit_map(cg, BPF_REG_1, m);
  emit_addr(cg, BPF_REG_2, k);
  emit_addr(cg, BPF_REG_3, v);
  emit(cg, MOV64_IMM(BPF_REG_4, BPF_NOEXIST));
  emit(cg, CALL(BPF_FUNC_map_update_elem));
  jmp_imm(cg, BPF_JNE, BPF_REG_0, 0, done);
  /* header (REC_PID << 32) | pid, built at run time.  A uprobe or USDT
   * probe also knows where its file is loaded (ip - the probed
   * instruction's link-time address): sent along, it places that file
   * even if the process is gone before its maps are read. */
  uint64_t probe_vaddr;
  const UserSite *site = target_user_site(cg->t);
  bool placed = site && !site->is_return && sym_probe_vaddr(site, &probe_vaddr);
  int roff = slot(cg, placed ? 24 : 8, loc);
  emit_imm64(cg, BPF_REG_1, REC_HEADER(REC_PID, 0));
  emit(cg, LDX(BPF_W, BPF_REG_2, BPF_REG_10, k));
  emit(cg, ALU64_REG(BPF_OR, BPF_REG_1, BPF_REG_2));
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_1, roff));
  if (placed) {
    load_ctx(cg, BPF_REG_1);
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, arch_current()->ip));
    emit_imm64(cg, BPF_REG_1, probe_vaddr);
    emit(cg, ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_1));
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 8));
    emit_imm64(cg, BPF_REG_0, target_index(cg, cg->t));
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 16));
  }
  submit_record(cg, roff, placed ? 24 : 8);
  label_here(cg, done);
  stack_release(cg, mark);
}

/* r0 = kstack/ustack value: the stack id in the low 32 bits (negative:
 * none) and, for ustack, the pid above it.  The frames go to the stack
 * map of this frame count.  Flags: BPF_F_USER_STACK for ustack; neither
 * FAST_STACK_CMP (a hash collision would merge two stacks) nor
 * REUSE_STACKID (it would rewrite stacks that map keys still name): a
 * collision returns -EEXIST and is counted as a lost stack. */
static void gen_stack(Cg *cg, Node *e) {
  const Type *t = e->type;
  char name[16];
  snprintf(name, sizeof name, ".stack%d", t->stack_limit);
  MapInfo *m = internal_map(cg, name);
  if (!m) {
    m = add_internal_map(cg->c, name, 8 * t->stack_limit);
    /* distinct stacks hash into these buckets; two in one bucket lose
     * the second (-EEXIST, counted): 8192 keeps that rare for hundreds
     * of stacks, at about 8 MiB of kernel memory for 127 frames */
    m->max_entries = 8192;
  }
  if (t->stack_user)
    cg_pid_note(cg, e->loc);
  int mark = cg->stack;
  int id = slot(cg, 8, e->loc);
  emit(cg, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, cg->ctx_off));
  emit_map(cg, BPF_REG_2, m);
  /* frames of the provider's own (raw tracepoints take the kernel stack
   * inside the helper) */
  int skip = cg->t->prov->stack_skip;
  emit(cg, MOV64_IMM(BPF_REG_3, t->stack_user ? BPF_F_USER_STACK : skip));
  emit(cg, CALL(BPF_FUNC_get_stackid));
  int ok = label_new(cg);
  if (!t->stack_user && !(cg->drop_sub & (1u << DROP_STACK))) {
    /* the inline count leaves r0 as it is: no slot needed */
    jmp_imm(cg, BPF_JNE, BPF_REG_0, -17 /* -EEXIST */, ok);
    count_drop(cg, DROP_STACK);
    /* no zero extension: an id is below 2^31, an error is one negative
     * value per errno, and readers take the low 32 bits as signed */
    label_here(cg, ok);
    stack_release(cg, mark);
    return;
  }
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, id));
  jmp_imm(cg, BPF_JNE, BPF_REG_0, -17 /* -EEXIST */, ok);
  count_drop(cg, DROP_STACK);
  label_here(cg, ok);
  if (t->stack_user) {
    cg_pid_tgid(cg);
    emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    emit(cg, ALU64_IMM(BPF_LSH, BPF_REG_0, 32));
    emit(cg, LDX(BPF_W, BPF_REG_1, BPF_REG_10, id));
    emit(cg, ALU64_REG(BPF_OR, BPF_REG_0, BPF_REG_1));
  } else {
    emit(cg, LDX(BPF_W, BPF_REG_0, BPF_REG_10, id));
  }
  stack_release(cg, mark);
}

static void gen_ksym(Cg *cg, Node *e) { cg_scalar(cg, e->args); }

static void gen_kaddr(Cg *cg, Node *e) { emit_imm64(cg, BPF_REG_0, sym_kernel_addr(e->args->str)); }

static void gen_uaddr(Cg *cg, Node *e) {
  SymUaddr u;
  const UserSite *site = target_user_site(cg->t);
  const char *why = site ? sym_uaddr(site, e->args->str, &u) : "not in a user probe";
  if (why) {
    fail(cg, e->loc, "%s", why);
    return;
  }
  if (u.relative) { /* position-independent: the probe's ip + delta */
    load_ctx(cg, BPF_REG_1);
    emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, arch_current()->ip));
    emit_imm64(cg, BPF_REG_1, u.value);
    emit(cg, ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_1));
  } else {
    emit_imm64(cg, BPF_REG_0, u.value);
  }
}

static void gen_reg(Cg *cg, Node *e) {
  load_ctx(cg, BPF_REG_1);
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, arch_reg_offset(e->args->str)));
}

/* usym's value is 16 bytes (gen_usym), not a number */
static void gen_not_number(Cg *cg, Node *e) {
  fail(cg, e->loc, "%s() does not return a number", e->name);
}

/* usym(addr): the address, then the pid that gives it a meaning. */
static void gen_usym(Cg *cg, Node *e, int off, const Type *dst) {
  cg_pid_note(cg, e->loc);
  cg_scalar(cg, e->args);
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, off));
  cg_pid_tgid(cg);
  emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, off + 8));
}


/* ------------------------------------------------------------ printing */

static void format_ksym(Buf *b, const Type *t, const unsigned char *data) {
  uint64_t addr;
  memcpy(&addr, data, 8);
  sym_ksym_text(b, addr);
}

static void format_usym(Buf *b, const Type *t, const unsigned char *data) {
  uint64_t addr, pid;
  memcpy(&addr, data, 8);
  memcpy(&pid, data + 8, 8);
  sym_usym_text(b, addr, (int)pid);
}

const Builtin builtins_stacks[] = {
    {.name = "kstack", .form = BUILTIN_VAR | BUILTIN_FUNC, .max_args = ARGS_ANY,
     .flags = BUILTIN_REAL_CTX, .check = check_stack, .gen_value = gen_stack},
    {.name = "ustack", .form = BUILTIN_VAR | BUILTIN_FUNC, .max_args = ARGS_ANY,
     .flags = BUILTIN_REAL_CTX, .check = check_stack, .gen_value = gen_stack},
    {.name = "ksym", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_sym,
     .gen_value = gen_ksym, .prints = TY_KSYM, .format = format_ksym},
    {.name = "usym", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_sym,
     .gen_value = gen_not_number, .gen_store = gen_usym, .prints = TY_USYM,
     .format = format_usym},
    {.name = "kaddr", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_kaddr,
     .gen_value = gen_kaddr},
    {.name = "uaddr", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_uaddr,
     .needs = PROBE_CAP_USER,
     .needs_msg = "uaddr() can only be used in uprobe, uretprobe and usdt probes (not {probe})",
     .gen_value = gen_uaddr},
    {.name = "reg", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 1, .check = check_reg,
     .needs = PROBE_CAP_PT_REGS,
     .needs_msg = "reg() can not be used with \"{probe}\" probes: their context holds no "
                  "registers",
     .gen_value = gen_reg},
    {0},
};
