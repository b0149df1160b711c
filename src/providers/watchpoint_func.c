/* watchpoint_func.c - watchpoint:FUNCTION+argN:LEN:MODE and
 * asyncwatchpoint: (aw:): watch the memory argument N of FUNCTION points
 * at, in the program of -c or -p.
 *
 * Each function matching FUNCTION (a glob) gives a watchpoint target
 * (watchpoint.c; a perf_event program running the probe's body, with no
 * breakpoint yet), and each such function one setup uprobe
 * (provider_watchpoint_setup below, a Target.helper) for all the
 * watchpoint targets on it.  The setup uprobe's program stops the process
 * with bpf_send_signal(SIGSTOP) (unless they are all asyncwatchpoints)
 * and sends each target's argN to user space in a REC_TARGET_EVENT
 * record, whose provider opens the breakpoint; the last record also asks
 * for SIGCONT.  So the thread cannot touch the memory before it is
 * watched.  If a record cannot be written (ring buffer full) the program
 * sends SIGCONT itself; and once the probes are detached the process is
 * sent SIGCONT, so no exit leaves it stopped.  After exit() (the stop
 * flag) the program neither stops the process nor sends records.
 */
#include "providers/watchpoint.h"
#include "providers/attach.h"
#include "arch/arch.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The setup uprobe target's data: one per function, serving every
 * watchpoint target on it (so one call stops the process once and
 * resumes it after the last of them is armed). */
typedef struct WatchSetup {
  const char *path;    /* FUNCTION's file (as the kernel opens it) and file offset */
  uint64_t offset;
  Target **watch;      /* the watchpoint targets it arms ... */
  int *arg_reg;        /* ... each with its argN's offset in struct pt_regs */
  int nwatch;
  bool stop;           /* one of them is not an asyncwatchpoint */
  int pid;             /* the traced process, once attached */
} WatchSetup;

/* ------------------------------------------------------------ expansion */

/* The file the -c command runs: its first word, found through $PATH when
 * it has no '/' (as execvp finds it); NULL when $PATH has no such file. */
static char *command_file(const char *cmd) {
  cmd += strspn(cmd, " \t");
  char *word = estrndup(cmd, strcspn(cmd, " \t"));
  if (word[0] == '\'' || word[0] == '"') { /* a quoted program name */
    char q = word[0];
    word = estrndup(cmd + 1, strcspn(cmd + 1, q == '"' ? "\"" : "'"));
  }
  if (strchr(word, '/'))
    return word;
  const char *dirs = getenv("PATH");
  for (const char *d = dirs ? dirs : "/usr/local/bin:/usr/bin:/bin"; *d;) {
    size_t n = strcspn(d, ":");
    char *path = eprintf("%.*s/%s", (int)n, n ? d : ".", word);
    if (access(path, X_OK) == 0)
      return path;
    d += n + (d[n] == ':');
  }
  return NULL;
}

/* "argN" -> N, or -1. */
static int parse_arg(const char *s) {
  if (strncmp(s, "arg", 3) || !s[3] || strspn(s + 3, "0123456789") != strlen(s + 3))
    return -1;
  return atoi(s + 3);
}

/* The setup target on (file, offset), made on first use. */
static WatchSetup *setup_for(ProvExpand *x, const char *shown, const char *file,
                             const ElfSym *sym, Probe *setup_probe) {
  for (int i = 0; i < x->c->ntargets; i++) {
    Target *t = x->c->targets[i];
    WatchSetup *s = t->data;
    if (t->prov == &provider_watchpoint_setup && !strcmp(s->path, file) &&
        s->offset == sym->offset)
      return s;
  }
  WatchSetup *s = ealloc(sizeof *s);
  *s = (WatchSetup){.path = file, .offset = sym->offset};
  Target *st = prov_add_target(x, &provider_watchpoint_setup,
                               eprintf("uprobe:%s:%s", shown, sym->name), "uprobe", 0, s);
  st->probe = setup_probe; /* its program is the setup alone, not the body */
  st->helper = true;
  return s;
}

/* The watchpoint target for one function, and its setup uprobe. */
static void add_watch(ProvExpand *x, const Watch *proto, const char *shown, const char *file,
                      const ElfSym *sym, int argn, int arg_reg, Probe *setup_probe) {
  Watch *w = ealloc(sizeof *w);
  *w = *proto;
  w->on_arg = true;
  /* bpftrace's name: the argument's number only when it is not 0 */
  char *name = eprintf("%s:%s:%s%s:%d:%s", w->async ? "asyncwatchpoint" : "watchpoint", shown,
                       sym->name, argn ? eprintf(":%d", argn) : "", w->len,
                       watch_mode_name(w->mode));
  Target *wt = prov_add_target(x, &provider_watchpoint, name, "watchpoint", 0, w);
  WatchSetup *s = setup_for(x, shown, file, sym, setup_probe);
  s->watch = egrow(s->watch, s->nwatch, sizeof(Target *));
  s->arg_reg = egrow(s->arg_reg, s->nwatch, sizeof(int));
  s->watch[s->nwatch] = wt;
  s->arg_reg[s->nwatch++] = arg_reg;
  s->stop |= !w->async;
}

int watch_expand_func(ProvExpand *x, const char *func_arg, Watch *w) {
  const char *plus = strchr(func_arg, '+');
  char *func = estrndup(func_arg, plus - func_arg);
  if (!*func || strchr(plus + 1, '+')) {
    diag_error(x->loc, "invalid function/address argument '%s': expected FUNCTION+argN", func_arg);
    return -1;
  }
  int argn = parse_arg(plus + 1), arg_reg, stack_off;
  if (argn < 0) {
    diag_error(x->loc, "invalid function argument '%s': expected argN", plus + 1);
    return -1;
  }
  if (!arch_func_arg(argn, &arg_reg, &stack_off)) {
    diag_error(x->loc, "%s doesn't support arg%d: a watchpoint reads the argument registers, "
                       "arg0 to arg%d", arch_current()->name, argn,
               arch_current()->nfunc_args - 1);
    return -1;
  }
  /* bpftrace names the program as -c wrote it, or /proc/PID/exe */
  if (x->opt->pid <= 0 && !x->opt->cmd) {
    diag_error(x->loc, "-p PID or -c CMD required for watchpoint");
    return -1;
  }
  const char *shown = x->opt->pid > 0 ? eprintf("/proc/%d/exe", x->opt->pid)
                                      : command_file(x->opt->cmd);
  if (!shown) {
    diag_error(x->loc, "cannot find the program of -c '%s' on $PATH", x->opt->cmd);
    return -1;
  }
  char real[PATH_MAX];
  const char *file = shown[0] == '/' || !realpath(shown, real) ? shown : estrdup(real);
  const char *why = NULL;
  ElfInfo *e = elfsym_open(file, &why);
  if (!e) {
    diag_error(x->loc, "cannot read %s: %s", shown, why);
    return -1;
  }
  Probe *setup = ealloc(sizeof *setup);
  setup->loc = x->probe->loc;
  setup->body = ealloc(sizeof(Node));
  setup->body->kind = ND_BLOCK;
  setup->body->loc = x->probe->loc;
  int found = 0;
  if (strpbrk(func, "*?[")) {
    for (int i = 0; i < e->nsyms; i++)
      if (fnmatch(func, e->syms[i].name, 0) == 0) {
        add_watch(x, w, shown, file, &e->syms[i], argn, arg_reg, setup);
        found++;
      }
  } else if (elfsym_find(e, func)) {
    add_watch(x, w, shown, file, elfsym_find(e, func), argn, arg_reg, setup);
    found++;
  }
  if (!found) {
    diag_error(x->loc, "no function in %s matches '%s'", shown, func);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ the setup uprobe */

static int setup_prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_KPROBE, .label = "uprobe"}; /* ctx: struct pt_regs */
  return 0;
}

static void send_signal(Cg *cg, int sig) {
  emit(cg, MOV64_IMM(BPF_REG_1, sig));
  emit(cg, CALL(BPF_FUNC_send_signal));
}

/* One TEV_WATCH(_LAST) record: argN's address for watchpoint target i;
 * jumps to `failed` when the ring buffer is full. */
static void send_address(Cg *cg, const WatchSetup *s, int i, bool last, int failed, Loc loc) {
  int mark = cg->stack;
  int roff = record_header(cg, REC_TARGET_EVENT, target_index(cg, s->watch[i]), 16, loc);
  emit(cg, ST_IMM(BPF_DW, BPF_REG_10, roff + 8, last ? TEV_WATCH_LAST : TEV_WATCH));
  load_ctx(cg, BPF_REG_1);
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, s->arg_reg[i]));
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 16));
  emit_map(cg, BPF_REG_1, internal_map(cg, ".ringbuf"));
  emit_addr(cg, BPF_REG_2, roff);
  emit(cg, MOV64_IMM(BPF_REG_3, 24));
  emit(cg, MOV64_IMM(BPF_REG_4, 0));
  emit(cg, CALL(BPF_FUNC_ringbuf_output));
  jmp_imm(cg, BPF_JNE, BPF_REG_0, 0, failed);
  stack_release(cg, mark);
}

/* The whole program (the probe of a setup target has an empty body):
 * stop the process, then one record per watchpoint target with its
 * argument; the last one tells user space to resume the process once it
 * is armed. */
static int setup_prologue(Cg *cg, Target *t) {
  const WatchSetup *s = t->data;
  if (!cg->c->filter_pid && cg->c->cpid > 0) {
    /* the -c program's calls only (-p filters every probe already) */
    emit(cg, CALL(BPF_FUNC_get_current_pid_tgid));
    emit(cg, ALU64_IMM(BPF_RSH, BPF_REG_0, 32));
    jmp_imm(cg, BPF_JNE, BPF_REG_0, cg->c->cpid, cg->exit_label);
  }
  /* after exit(): no stop and no records (which, unread, would fill the
   * ring and be counted as lost) */
  cg_skip_if_stopped(cg, cg->exit_label);
  /* stopped before the records go: user space's SIGCONT cannot come
   * first (a SIGCONT also discards a pending SIGSTOP) */
  if (s->stop)
    send_signal(cg, SIGSTOP);
  cg->c->probe_records = true;
  int failed = label_new(cg);
  for (int i = 0; i < s->nwatch; i++)
    send_address(cg, s, i, s->stop && i == s->nwatch - 1, failed, t->probe->loc);
  ja(cg, cg->exit_label);
  label_here(cg, failed);
  count_drop(cg, DROP_RINGBUF);
  if (s->stop)
    send_signal(cg, SIGCONT); /* the resuming record is lost: go on unwatched */
  return -1;
}

static int setup_attach(Target *t, const AttachEnv *env) {
  WatchSetup *s = t->data;
  /* every process running the file; the program keeps the traced one's
   * calls (with -p the kernel filters by the process too) */
  int fd = prov_attach_uprobe(t->prog_fd, s->path, s->offset, 0, false, env->pid);
  if (fd < 0) {
    prov_attach_error(t, fd);
    return -1;
  }
  attach_keep(env, fd);
  s->pid = env->pid ? env->pid : env->cpid;
  return 0;
}

static bool setup_newest_first(const Target *t) { return true; }

/* After detaching: a call that stopped the process while etrace was
 * exiting is never armed; let the process go on. */
static int setup_run(Target *t, RunPhase phase, const RunEnv *env) {
  const WatchSetup *s = t->data;
  if (phase == RUN_END && s->stop && s->pid > 0)
    kill(s->pid, SIGCONT);
  return 0;
}

/* Not written in programs (no expand): watch_expand_func makes its targets. */
const Provider provider_watchpoint_setup = {
    .name = "watchpoint setup",
    .prog_spec = setup_prog_spec,
    .prologue = setup_prologue,
    .attach = setup_attach,
    .newest_first = setup_newest_first,
    .run = setup_run,
};
