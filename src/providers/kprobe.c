/* prov_kprobe.c - kernel-function probes: kprobe, kretprobe, fentry, fexit.
 *
 * Expansion turns "kprobe:FUNC[+OFF]" / "fentry:[vmlinux:]FUNC" (and the
 * short and old names k, kr, f, fr, kfunc, kretfunc) into one site per
 * kernel function, FUNC being a name or a glob.  Functions come from
 * tracefs' available_filter_functions (what ftrace can patch), else from
 * /proc/kallsyms; fentry/fexit need the function's BTF prototype, which
 * also names and types its parameters (args.NAME) and its return value.
 *
 * Each site gets a hook.  fentry/fexit are preferred for f:/fr: and a
 * kprobe is the fallback; k:/kr: use a kprobe, and fentry/fexit when the
 * kernel has no kprobes.  The check happens here, at compile time, so a
 * kernel with neither gets a located error naming what is missing and
 * the nearest tracepoint.  A --dry-run keeps the hook as written and asks
 * the kernel nothing: listings do not depend on the machine.
 *
 * Attachment: a kprobe is a perf event of the kprobe PMU (config1 = the
 * function's name, config2 = the offset, the retprobe bit in config),
 * owned by a BPF link; fentry/fexit programs are BPF_PROG_TYPE_TRACING
 * loaded against the function's BTF id and attached with a BPF link.
 */
#define _GNU_SOURCE
#include "providers/prov.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "codegen/insn.h"

/* ------------------------------------------------------------ names */

static const struct {
  const char *name;
  ProbeType type;
} knames[] = {
    {"kprobe", PT_KPROBE}, {"k", PT_KPROBE},   {"kretprobe", PT_KRETPROBE}, {"kr", PT_KRETPROBE},
    {"fentry", PT_FENTRY}, {"f", PT_FENTRY},   {"kfunc", PT_FENTRY},        {"fexit", PT_FEXIT},
    {"fr", PT_FEXIT},      {"kretfunc", PT_FEXIT},
};

static bool kernel_provider(const char *prov, ProbeType *type) {
  for (size_t i = 0; i < sizeof knames / sizeof knames[0]; i++)
    if (!strcmp(prov, knames[i].name)) {
      *type = knames[i].type;
      return true;
    }
  return false;
}

bool kprobe_provider(const char *name) {
  ProbeType t;
  return kernel_provider(name, &t);
}

const char *kprobe_kind_name(ProbeType t) {
  switch (t) {
  case PT_KPROBE: return "kprobe";
  case PT_KRETPROBE: return "kretprobe";
  case PT_FENTRY: return "fentry";
  case PT_FEXIT: return "fexit";
  default: return "?";
  }
}

static bool is_exit(ProbeType t) { return t == PT_KRETPROBE || t == PT_FEXIT; }
static bool is_btf_kind(ProbeType t) { return t == PT_FENTRY || t == PT_FEXIT; }
static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* ------------------------------------------------------------ vmlinux BTF */

static struct btf *vmlinux_btf(void) { return btf_kernel(); } /* btf.c: loaded once */

static int btf_func_id(const char *name) {
  struct btf *b = vmlinux_btf();
  int id = b ? btf__find_by_name_kind(b, name, BTF_KIND_FUNC) : -1;
  return id > 0 ? id : -1;
}

/* A C-like name for a BTF type: "int", "struct file *", "char *". */
static void btf_ctype(Buf *b, const struct btf *btf, int id) {
  const struct btf_type *t = btf__type_by_id(btf, id);
  while (t && btf_is_mod(t)) { /* const, volatile: keep typedef names */
    id = t->type;
    t = btf__type_by_id(btf, id);
  }
  if (!t || id == 0) {
    buf_printf(b, "void");
    return;
  }
  if (btf_is_ptr(t)) {
    btf_ctype(b, btf, t->type);
    buf_printf(b, " *");
    return;
  }
  const char *name = btf__name_by_offset(btf, t->name_off);
  const char *tag = btf_is_struct(t) ? "struct " : btf_is_union(t) ? "union "
                    : btf_is_any_enum(t) ? "enum " : "";
  buf_printf(b, "%s%s", tag, name && *name ? name : "(anon)");
}

/* Describe BTF type id as a value: size (0: not an integer or pointer)
 * and signedness. */
static void btf_scalar(const struct btf *btf, int id, int *size, bool *is_signed) {
  const struct btf_type *t = btf__type_by_id(btf, id);
  *size = 0;
  *is_signed = false;
  while (t && (btf_is_mod(t) || btf_is_typedef(t)))
    t = btf__type_by_id(btf, t->type);
  if (!t)
    return;
  if (btf_is_ptr(t)) {
    *size = 8;
  } else if (btf_is_int(t)) {
    *size = t->size;
    *is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
  } else if (btf_is_any_enum(t)) {
    *size = t->size;
    *is_signed = btf_is_enum(t) ? true : btf_kflag(t);
  }
  if (*size != 1 && *size != 2 && *size != 4 && *size != 8)
    *size = 0;
}

/* The parameters of FUNC as tracepoint-like fields of a context that is
 * an array of u64 (what fentry/fexit programs get): parameter i at
 * offset 8 * i.  ret: the return value, at offset 8 * nargs (fexit). */
static TpFormat *btf_args(int func_id, const char *func, TpField **ret) {
  struct btf *btf = vmlinux_btf();
  const struct btf_type *fn = btf__type_by_id(btf, func_id);
  const struct btf_type *proto = btf__type_by_id(btf, fn->type);
  TpFormat *f = ealloc(sizeof(TpFormat));
  f->sys = "fentry";
  f->event = estrdup(func);
  int n = btf_vlen(proto);
  const struct btf_param *p = btf_params(proto);
  f->fields = ealloc(sizeof(TpField) * (n ? n : 1));
  for (int i = 0; i < n; i++) {
    TpField *fl = &f->fields[f->nfields];
    if (p[i].type == 0)
      break; /* varargs: "..." */
    const char *name = btf__name_by_offset(btf, p[i].name_off);
    fl->name = estrdup(name && *name ? name : eprintf("arg%d", i));
    Buf b = {0};
    btf_ctype(&b, btf, p[i].type);
    fl->ctype = estrdup(b.data);
    buf_free(&b);
    fl->offset = 8 * i;
    fl->type_id = p[i].type;
    btf_scalar(btf, p[i].type, &fl->size, &fl->is_signed);
    f->nfields++;
  }
  TpField *r = ealloc(sizeof(TpField));
  r->type_id = proto->type;
  r->name = "retval";
  Buf b = {0};
  btf_ctype(&b, btf, proto->type);
  r->ctype = estrdup(b.data);
  buf_free(&b);
  r->offset = 8 * f->nfields;
  btf_scalar(btf, proto->type, &r->size, &r->is_signed);
  *ret = r;
  return f;
}

/* ------------------------------------------------------------ kernel functions */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the kernel's functions (vmlinux only), sorted and unique:
 * available_filter_functions when it can be read (exactly what a kprobe
 * on a function entry can use), else the text symbols of kallsyms. */
static char **kfuncs;
static int nkfuncs;

static void add_kfunc(const char *name, size_t len, int *cap) {
  if (nkfuncs == *cap) {
    *cap = *cap ? 2 * *cap : 4096;
    kfuncs = realloc(kfuncs, sizeof(char *) * *cap);
  }
  kfuncs[nkfuncs++] = strndup(name, len); /* kept across compilations */
}

static void load_kfuncs(void) {
  static bool done;
  if (done)
    return;
  done = true;
  int cap = 0;
  const char *root = tracefs_root(false);
  char *text = root ? read_file(eprintf("%s/available_filter_functions", root), NULL) : NULL;
  if (text && *text) {
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
      if (strchr(line, '[')) /* "name [module]" */
        continue;
      add_kfunc(line, strcspn(line, " \t"), &cap);
    }
  } else {
    free(text);
    text = read_file("/proc/kallsyms", NULL);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
      char type, name[256];
      if (sscanf(line, "%*s %c %255s", &type, name) != 2 || (type != 't' && type != 'T') ||
          strchr(line, '['))
        continue;
      add_kfunc(name, strlen(name), &cap);
    }
  }
  free(text);
  if (nkfuncs)
    qsort(kfuncs, nkfuncs, sizeof(char *), cmp_str);
  int j = 0;
  for (int i = 0; i < nkfuncs; i++)
    if (!j || strcmp(kfuncs[j - 1], kfuncs[i]))
      kfuncs[j++] = kfuncs[i];
    else
      free(kfuncs[i]);
  nkfuncs = j;
}

static bool kfunc_exists(const char *name) {
  load_kfuncs();
  return nkfuncs && bsearch(&name, kfuncs, nkfuncs, sizeof(char *), cmp_str);
}

/* Functions matching glob: the kernel's list, or BTF FUNCs for fentry.
 * Compiler-made clones ("name.isra.0", "name.cold") are left out. */
static int match_funcs(const char *glob, bool from_btf, char ***out) {
  char **names = NULL;
  int n = 0;
  if (from_btf) {
    struct btf *btf = vmlinux_btf();
    int cnt = btf ? btf__type_cnt(btf) : 0;
    for (int id = 1; id < cnt; id++) {
      const struct btf_type *t = btf__type_by_id(btf, id);
      if (!btf_is_func(t))
        continue;
      const char *name = btf__name_by_offset(btf, t->name_off);
      if (!fnmatch(glob, name, 0)) {
        names = egrow(names, n, sizeof(char *));
        names[n++] = estrdup(name);
      }
    }
    if (n)
      qsort(names, n, sizeof(char *), cmp_str);
  } else {
    load_kfuncs();
    for (int i = 0; i < nkfuncs; i++)
      if (!strchr(kfuncs[i], '.') && !fnmatch(glob, kfuncs[i], 0)) {
        names = egrow(names, n, sizeof(char *));
        names[n++] = kfuncs[i];
      }
  }
  *out = names;
  return n;
}

/* ------------------------------------------------------------ kernel features */

static int kprobe_pmu_type(void) {
  static int type = -2;
  if (type == -2) {
    char *text = read_file("/sys/bus/event_source/devices/kprobe/type", NULL);
    type = text ? atoi(text) : -1;
    free(text);
  }
  return type;
}

static int kprobe_retprobe_bit(void) {
  static int bit = -2;
  if (bit == -2) {
    char *text = read_file("/sys/bus/event_source/devices/kprobe/format/retprobe", NULL);
    bit = text && !strncmp(text, "config:", 7) ? atoi(text + 7) : -1;
    free(text);
  }
  return bit;
}

/* Can this kernel load fentry programs on the function with BTF id
 * btf_id?  Tried with an empty program (the kernel also refuses some
 * functions, e.g. migrate_disable, which trampolines call themselves).
 * 0, or the errno. */
static int fentry_errno(int btf_id) {
  static int last_id = -1, err = -1;
  if (btf_id == last_id)
    return err;
  last_id = btf_id;
  if (!vmlinux_btf()) {
    err = ENOENT;
    return err;
  }
  struct bpf_insn insns[] = {MOV64_IMM(BPF_REG_0, 0), EXIT_INSN()};
  LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY,
              .attach_btf_id = btf_id);
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &o);
  err = fd >= 0 ? 0 : errno;
  if (fd >= 0)
    close(fd);
  return err;
}

/* ------------------------------------------------------------ tracepoint hints */

/* Kernel functions people probe and the tracepoint that sees the same
 * event (a syscall's kernel function -> its syscall tracepoint). */
static const char *const tp_hints[][2] = {
    {"vfs_read", "syscalls:sys_enter_read"},
    {"ksys_read", "syscalls:sys_enter_read"},
    {"vfs_write", "syscalls:sys_enter_write"},
    {"ksys_write", "syscalls:sys_enter_write"},
    {"do_sys_openat2", "syscalls:sys_enter_openat"},
    {"do_sys_open", "syscalls:sys_enter_openat"},
    {"do_filp_open", "syscalls:sys_enter_openat"},
    {"vfs_open", "syscalls:sys_enter_openat"},
    {"do_unlinkat", "syscalls:sys_enter_unlinkat"},
    {"vfs_unlink", "syscalls:sys_enter_unlinkat"},
    {"do_mkdirat", "syscalls:sys_enter_mkdirat"},
    {"vfs_fsync_range", "syscalls:sys_enter_fsync"},
    {"do_nanosleep", "syscalls:sys_enter_nanosleep"},
    {"hrtimer_nanosleep", "syscalls:sys_enter_nanosleep"},
    {"do_mmap", "syscalls:sys_enter_mmap"},
    {"tcp_v4_connect", "sock:inet_sock_set_state"},
    {"tcp_v6_connect", "sock:inet_sock_set_state"},
    {"tcp_connect", "sock:inet_sock_set_state"},
    {"tcp_set_state", "sock:inet_sock_set_state"},
    {"tcp_close", "sock:inet_sock_set_state"},
    {"inet_csk_accept", "sock:inet_sock_set_state"},
    {"tcp_retransmit_skb", "tcp:tcp_retransmit_skb"},
    {"tcp_v4_send_reset", "tcp:tcp_send_reset"},
    {"tcp_v4_destroy_sock", "tcp:tcp_destroy_sock"},
    {"tcp_rcv_established", "tcp:tcp_probe"},
    {"kfree_skb_reason", "skb:kfree_skb"},
    {"consume_skb", "skb:consume_skb"},
    {"__schedule", "sched:sched_switch"},
    {"schedule", "sched:sched_switch"},
    {"finish_task_switch", "sched:sched_switch"},
    {"try_to_wake_up", "sched:sched_wakeup"},
    {"wake_up_new_task", "sched:sched_wakeup_new"},
    {"do_exit", "sched:sched_process_exit"},
    {"kernel_clone", "sched:sched_process_fork"},
    {"do_execveat_common", "sched:sched_process_exec"},
    {"bprm_execve", "sched:sched_process_exec"},
    {"handle_mm_fault", "exceptions:page_fault_user"},
    {"exc_page_fault", "exceptions:page_fault_user"},
    {"submit_bio", "block:block_bio_queue"},
    {"blk_mq_start_request", "block:block_rq_issue"},
    {"blk_mq_end_request", "block:block_rq_complete"},
    {"__kmalloc", "kmem:kmalloc"},
    {"kmalloc_trace", "kmem:kmalloc"},
    {"kfree", "kmem:kfree"},
    {"kmem_cache_alloc", "kmem:kmem_cache_alloc"},
    {"kmem_cache_free", "kmem:kmem_cache_free"},
    {"oom_kill_process", "oom:mark_victim"},
    {"get_signal", "signal:signal_deliver"},
    {"__do_softirq", "irq:softirq_entry"},
    {"handle_irq_event", "irq:irq_handler_entry"},
};

static bool tp_exists(const char *tp) {
  const char *colon = strchr(tp, ':');
  return tracefs_root(false) && tracefs_format(estrndup(tp, colon - tp), colon + 1);
}

/* The closest tracepoint to FUNC ("syscalls:sys_exit_read" for a return
 * probe of vfs_read), or NULL: only tracepoints this kernel has. */
const char *kprobe_tracepoint_hint(const char *func, bool ret) {
  const char *tp = NULL;
  for (size_t i = 0; i < sizeof tp_hints / sizeof tp_hints[0] && !tp; i++)
    if (!strcmp(func, tp_hints[i][0]))
      tp = tp_hints[i][1];
  /* a syscall's own entry points: __x64_sys_NAME, __do_sys_NAME ... */
  static const char *const sys_prefixes[] = {"__x64_sys_", "__ia32_sys_", "__se_sys_",
                                             "__do_sys_", "ksys_"};
  for (size_t i = 0; i < sizeof sys_prefixes / sizeof sys_prefixes[0] && !tp; i++)
    if (!strncmp(func, sys_prefixes[i], strlen(sys_prefixes[i])))
      tp = eprintf("syscalls:sys_enter_%s", func + strlen(sys_prefixes[i]));
  if (!tp)
    return NULL;
  if (ret && !strncmp(tp, "syscalls:sys_enter_", 19))
    tp = eprintf("syscalls:sys_exit_%s", tp + 19);
  return tp_exists(tp) ? tp : NULL;
}

/* ------------------------------------------------------------ expansion */

static ProbeType entry_kind(ProbeType t, bool fentry) {
  if (fentry)
    return is_exit(t) ? PT_FEXIT : PT_FENTRY;
  return is_exit(t) ? PT_KRETPROBE : PT_KPROBE;
}

/* Pick the hook for an attach point written as `written` on function
 * `func` (first of a glob).  Returns the hook, or -1 after the located
 * error naming the missing kernel features. */
static int choose_hook(ProbeType written, const char *name, const char *func, bool single,
                       bool offset, Loc loc, const Options *opt) {
  if (opt->dry_run)
    return written;
  bool want_fentry = is_btf_kind(written);
  int btf_id = btf_func_id(func);
  bool kprobes = kprobe_pmu_type() >= 0;
  int ferr = btf_id > 0 ? fentry_errno(btf_id) : ENOENT;
  const char *fname = kprobe_kind_name(entry_kind(written, true));
  const char *kname = kprobe_kind_name(entry_kind(written, false));
  const char *why_not_f = ferr == ENOENT && btf_id < 0 ? "the function is not in the kernel's BTF"
                                                      : eprintf("loading one fails: %s", strerror(ferr));
  int hook = -1;
  if (want_fentry && !ferr)
    hook = written;
  else if (want_fentry && kprobes) {
    if (opt->verbose)
      fprintf(stderr, "etrace: %s: using a %s, since %s is not available (%s)\n", name, kname,
              fname, why_not_f);
    hook = entry_kind(written, false);
  } else if (!want_fentry && kprobes)
    hook = written;
  else if (!want_fentry && !offset && !ferr) {
    if (opt->verbose)
      fprintf(stderr, "etrace: %s: using %s, since this kernel has no kprobes\n", name, fname);
    hook = entry_kind(written, true);
  }
  if (hook >= 0) {
    if (opt->verbose && hook == (int)written)
      fprintf(stderr, "etrace: %s: using %s (%s)\n", name, kprobe_kind_name(written),
              is_btf_kind(written) ? "the kernel loads BPF trampoline programs"
                                   : "the kernel has the kprobe PMU");
    return hook;
  }
  const char *tp = single ? kprobe_tracepoint_hint(func, is_exit(written)) : NULL;
  const char *hint = tp ? eprintf("; the closest tracepoint is tracepoint:%s", tp) : "";
  if (offset)
    diag_error(loc, "%s: this kernel has no kprobes (CONFIG_KPROBES is not set), which probes "
                    "at a function offset need%s", name, hint);
  else if (want_fentry)
    diag_error(loc, "%s: this kernel cannot run %s programs (%s) and has no kprobes to fall back "
                    "on (CONFIG_KPROBES is not set)%s", name, fname, why_not_f, hint);
  else
    diag_error(loc, "%s: this kernel has no kprobes (CONFIG_KPROBES is not set) and cannot run "
                    "%s programs instead (%s)%s", name, fname, why_not_f, hint);
  return -1;
}

static KSite *new_site(KSite **sites, int *n) {
  *sites = egrow(*sites, *n, sizeof(KSite));
  KSite *s = &(*sites)[(*n)++];
  memset(s, 0, sizeof *s);
  return s;
}

int kprobe_expand(const char *text, Loc loc, const Options *opt, KSite **out) {
  const char *colon = strchr(text, ':');
  char *prov = estrndup(text, colon - text);
  ProbeType written;
  if (!kernel_provider(prov, &written)) {
    diag_error(loc, "unknown probe type '%s'", prov);
    return -1;
  }
  char *spec = estrdup(colon + 1);
  /* "fentry:vmlinux:FUNC" (bpftrace's module form); other modules are
   * not supported */
  char *c2 = strchr(spec, ':');
  if (c2) {
    *c2 = 0;
    if (strcmp(spec, "vmlinux") || strchr(c2 + 1, ':')) {
      diag_error(loc, "invalid %s '%s': only functions of the kernel itself (%s:FUNC or "
                      "%s:vmlinux:FUNC) can be probed, not kernel modules", kprobe_kind_name(written),
                 text, prov, prov);
      return -1;
    }
    spec = c2 + 1;
  }
  uint64_t offset = 0;
  char *plus = strchr(spec, '+');
  if (plus) {
    char *end;
    *plus = 0;
    offset = strtoull(plus + 1, &end, 0);
    if (written != PT_KPROBE || *end || end == plus + 1 || has_glob(spec)) {
      diag_error(loc, "invalid probe '%s': only kprobes on one function take an offset "
                      "(kprobe:FUNC+OFFSET)", text);
      return -1;
    }
  }
  if (!*spec) {
    diag_error(loc, "invalid %s '%s': expected %s:FUNCTION", kprobe_kind_name(written), text,
               prov);
    return -1;
  }
  const char *kind = kprobe_kind_name(written);
  /* the functions */
  char **funcs;
  int nfuncs;
  bool btf_needed = is_btf_kind(written);
  if (has_glob(spec)) {
    nfuncs = match_funcs(spec, btf_needed, &funcs);
    if (nfuncs == 0) {
      diag_error(loc, "no kernel function matches '%s'%s", spec,
                 btf_needed ? " in the kernel's BTF" : "");
      return -1;
    }
  } else {
    if (btf_needed ? btf_func_id(spec) < 0 : !kfunc_exists(spec) && btf_func_id(spec) < 0) {
      if (btf_needed && !vmlinux_btf())
        diag_error(loc, "%s:%s: the kernel has no BTF (/sys/kernel/btf/vmlinux), which %s "
                        "probes need", kind, spec, kind);
      else
        diag_error(loc, "kernel function '%s' not found%s", spec,
                   btf_needed ? " in the kernel's BTF" : "");
      return -1;
    }
    funcs = &spec;
    nfuncs = 1;
  }
  const char *ap_name = is_btf_kind(written) ? eprintf("%s:vmlinux:%s", kind, spec)
                        : plus ? eprintf("%s:%s+%s", kind, spec, plus + 1)
                               : eprintf("%s:%s", kind, spec);
  int hook = choose_hook(written, ap_name, funcs[0], !has_glob(spec), plus != NULL, loc, opt);
  if (hook < 0)
    return -1;
  KSite *sites = NULL;
  int n = 0;
  for (int i = 0; i < nfuncs; i++) {
    KSite *s = new_site(&sites, &n);
    s->written = written;
    s->type = hook;
    s->func = funcs[i];
    s->offset = offset;
    s->name = is_btf_kind(written) ? eprintf("%s:vmlinux:%s", kind, funcs[i])
              : plus ? eprintf("%s:%s+%s", kind, funcs[i], plus + 1)
                     : eprintf("%s:%s", kind, funcs[i]);
    s->btf_id = btf_func_id(funcs[i]);
    if (s->btf_id > 0)
      s->args = btf_args(s->btf_id, funcs[i], &s->ret);
  }
  *out = sites;
  return n;
}

/* ------------------------------------------------------------ attach */

int prov_attach_kprobe(int prog_fd, const char *func, uint64_t offset, bool retprobe) {
  int type = kprobe_pmu_type(), bit = kprobe_retprobe_bit();
  if (type < 0 || (retprobe && bit < 0))
    return -ENOSYS;
  struct perf_event_attr attr = {
      .size = sizeof attr,
      .type = type,
      .config1 = (uint64_t)(uintptr_t)func,
      .config2 = offset,
      .sample_period = 1,
      .wakeup_events = 1,
      .disabled = 1,
  };
  if (retprobe)
    attr.config |= 1ull << bit;
  /* one event on CPU 0: the probe itself fires on every CPU */
  int fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0)
    return -errno;
  return prov_attach_perf_fd(prog_fd, fd);
}

int prov_attach_fentry(int prog_fd, bool fexit) {
  int fd = bpf_link_create(prog_fd, 0, fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, NULL);
  if (fd < 0 && errno == EINVAL) /* kernels before 5.8 */
    fd = bpf_raw_tracepoint_open(NULL, prog_fd);
  return fd < 0 ? -errno : fd;
}

/* ------------------------------------------------------------ listing */

int prov_kprobe_list(const char *glob, void (*add)(void *arg, char *name), void *arg) {
  const char *colon = strchr(glob, ':');
  ProbeType type;
  if (!colon || !kernel_provider(estrndup(glob, colon - glob), &type))
    return 0;
  const char *spec = colon + 1;
  if (!strncmp(spec, "vmlinux:", 8))
    spec += 8;
  if (!*spec)
    spec = "*";
  char **names;
  int n = match_funcs(spec, is_btf_kind(type), &names);
  for (int i = 0; i < n; i++)
    add(arg, is_btf_kind(type) ? eprintf("%s:vmlinux:%s", kprobe_kind_name(type), names[i])
                               : eprintf("%s:%s", kprobe_kind_name(type), names[i]));
  return 1;
}

void prov_kprobe_print_args(FILE *f, const char *name) {
  const char *colon = strchr(name, ':');
  ProbeType type;
  if (!colon || !kernel_provider(estrndup(name, colon - name), &type) || !is_btf_kind(type))
    return;
  const char *func = strrchr(name, ':') + 1;
  int id = btf_func_id(func);
  if (id < 0)
    return;
  TpField *ret;
  TpFormat *args = btf_args(id, func, &ret);
  for (int i = 0; i < args->nfields; i++)
    fprintf(f, "    %s %s\n", args->fields[i].ctype, args->fields[i].name);
  if (type == PT_FEXIT)
    fprintf(f, "    %s retval\n", ret->ctype);
}
