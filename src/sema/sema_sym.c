/* sema_sym.c - type checking of the stack and symbol builtins:
 *
 *   kstack, ustack                      the stack in bpftrace mode, 127 frames
 *   kstack(MODE), kstack(N), kstack(MODE, N)   MODE: bpftrace, perf, raw
 *   ksym(addr), usym(addr)              an address printed as a symbol
 *   kaddr("name")                       a kernel symbol's address (kallsyms)
 *   uaddr("name")                       a symbol's run-time address in the
 *                                       probed file (uprobe/usdt only)
 *   reg("name")                         a register of the probed context
 *
 * sema.c calls in here for these names; errors are reported only when
 * `report` is set (sema's final walk).  The code generator (cg.c) reads
 * what is decided here back from the node's type and from sym/.
 */
#include "etrace.h"
#include "arch/arch.h"

#include <stdlib.h>
#include <string.h>

#define err(loc, ...)              \
  do {                             \
    if (report)                    \
      diag_error(loc, __VA_ARGS__); \
  } while (0)

/* The frames a stack keeps at most: kernel.perf_event_max_stack (a
 * stack map whose values are longer is refused by the kernel), capped at
 * STACK_MAX_FRAMES. */
int sema_max_stack(void) {
  static int max;
  if (!max) {
    size_t len;
    char *s = read_file("/proc/sys/kernel/perf_event_max_stack", &len);
    max = s ? atoi(s) : 0;
    free(s);
    if (max < 1 || max > 1024)
      max = STACK_MAX_FRAMES;
    if (max > STACK_MAX_FRAMES)
      max = STACK_MAX_FRAMES; /* etrace's own cap: rt reads at most this many */
  }
  return max;
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
static Type *stack_call(Node *e, bool report) {
  bool user = e->name[0] == 'u';
  int mode = STACK_MODE_BPFTRACE, limit = sema_max_stack();
  if (e->nargs > 2) {
    err(e->loc, "%s() takes up to 2 arguments (%d provided)", e->name, e->nargs);
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
        err(a->loc, "unknown stack mode '%s': expected bpftrace, perf or raw", a->name);
        return NULL;
      }
      mode = m;
      a->type = ty_void;
      continue;
    }
    if (i == 0 && e->nargs == 2) {
      err(a->loc, "%s() expects a stack mode (bpftrace, perf or raw) as its first argument",
          e->name);
      return NULL;
    }
    if (a->kind != ND_INT) {
      if (i == 0 && e->nargs == 2)
        err(a->loc, "%s() expects a stack mode (bpftrace, perf or raw) here", e->name);
      else
        err(a->loc, "%s() expects an integer literal: the number of frames", e->name);
      return NULL;
    }
    a->type = ty_s64;
    if (a->ival < 1 || a->ival > (uint64_t)sema_max_stack()) {
      err(a->loc, "%s(): the number of frames must be between 1 and %d "
                  "(kernel.perf_event_max_stack), got %lld",
          e->name, sema_max_stack(), (long long)a->ival);
      return NULL;
    }
    limit = (int)a->ival;
  }
  return stack_type(user, mode, limit);
}

/* Probes whose context is struct pt_regs (perf events start with it). */
static bool ctx_is_pt_regs(ProbeType t) {
  return t == PT_UPROBE || t == PT_URETPROBE || t == PT_USDT || t == PT_PROFILE ||
         t == PT_INTERVAL || t == PT_KPROBE || t == PT_KRETPROBE;
}

static const char *probe_kind(ProbeType t) {
  switch (t) {
  case PT_BEGIN: return "BEGIN";
  case PT_END: return "END";
  case PT_TRACEPOINT: return "tracepoint";
  case PT_RAWTP: return "rawtracepoint";
  case PT_INTERVAL: return "interval";
  case PT_PROFILE: return "profile";
  case PT_UPROBE: return "uprobe";
  case PT_URETPROBE: return "uretprobe";
  case PT_USDT: return "usdt";
  case PT_KPROBE: return "kprobe";
  case PT_KRETPROBE: return "kretprobe";
  case PT_FENTRY: return "fentry";
  case PT_FEXIT: return "fexit";
  default: return "this";
  }
}

static bool str_arg(Node *e, bool report) {
  if (e->nargs != 1) {
    err(e->loc, "%s() takes 1 argument, got %d", e->name, e->nargs);
    return false;
  }
  if (e->args->kind != ND_STR) {
    err(e->args->loc, "%s() expects a string literal", e->name);
    return false;
  }
  e->args->type = ty_str(e->args->slen + 1);
  return true;
}

bool sema_sym_name(const char *name) {
  static const char *const names[] = {"kstack", "ustack", "ksym", "usym", "kaddr", "uaddr", "reg"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(name, names[i]))
      return true;
  return false;
}

Type *sema_sym_builtin(Node *e, const Target *t, bool report) {
  (void)t;
  (void)report;
  return stack_type(e->name[0] == 'u', STACK_MODE_BPFTRACE, sema_max_stack());
}

Type *sema_sym_call(Node *e, const Target *t, bool report, Type *(*check)(Node *)) {
  const char *n = e->name;
  if (!strcmp(n, "kstack") || !strcmp(n, "ustack"))
    return stack_call(e, report);
  if (!strcmp(n, "ksym") || !strcmp(n, "usym")) {
    if (e->nargs != 1) {
      err(e->loc, "%s() takes 1 argument, got %d", n, e->nargs);
      return NULL;
    }
    Type *a = check(e->args);
    if (a && a->kind != TY_NONE && a->kind != TY_INT) {
      err(e->args->loc, "%s() expects an integer or pointer argument, got %s", n, ty_name(a));
      return NULL;
    }
    Type *r = ealloc(sizeof(Type));
    r->kind = n[0] == 'k' ? TY_KSYM : TY_USYM;
    r->size = n[0] == 'k' ? 8 : 16;
    return r;
  }
  if (!strcmp(n, "kaddr")) {
    if (!str_arg(e, report))
      return NULL;
    if (!sym_kernel_addr(e->args->str)) {
      err(e->args->loc, "kaddr(): no kernel symbol named '%s' in /proc/kallsyms", e->args->str);
      return NULL;
    }
    return ty_u64;
  }
  if (!strcmp(n, "uaddr")) {
    if (!str_arg(e, report))
      return NULL;
    if (t->type != PT_UPROBE && t->type != PT_URETPROBE && t->type != PT_USDT) {
      err(e->loc, "uaddr() can only be used in uprobe, uretprobe and usdt probes (not %s)",
          probe_kind(t->type));
      return NULL;
    }
    SymUaddr u;
    const char *why = sym_uaddr(t, e->args->str, &u);
    if (why) {
      err(e->args->loc, "uaddr(\"%s\"): %s", e->args->str, why);
      return NULL;
    }
    return ty_ptr(ty_int(u.size == 1 || u.size == 2 || u.size == 4 ? (int)u.size : 8, false),
                  true);
  }
  /* reg */
  if (!str_arg(e, report))
    return NULL;
  if (!ctx_is_pt_regs(t->type)) {
    err(e->loc, "reg() can not be used with \"%s\" probes: their context holds no registers",
        probe_kind(t->type));
    return NULL;
  }
  if (arch_reg_offset(e->args->str) < 0) {
    err(e->args->loc, "'%s' is not a valid register on this architecture (%s)",
        e->args->str, arch_current()->name);
    return NULL;
  }
  return ty_u64;
}
