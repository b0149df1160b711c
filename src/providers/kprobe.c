/* kprobe.c - kernel-function probes: kprobe, kretprobe, fentry, fexit.
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
 *
 * What a program may use follows the probe as written (retval in
 * kretprobe and fexit, args.NAME in fentry and fexit); the hook chosen
 * only decides where the values are read from.
 */
#define _GNU_SOURCE
#include "providers/attach.h"
#include "providers/provider.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/insn.h"

extern const Provider provider_kprobe;

typedef enum { K_KPROBE, K_KRETPROBE, K_FENTRY, K_FEXIT } KKind;

/* One kprobe / kretprobe / fentry / fexit site: a target's data. */
typedef struct KSite {
  KKind type;            /* the hook chosen */
  KKind written;         /* the probe type as written */
  char *name;            /* canonical: "kprobe:vfs_read", "fentry:vmlinux:vfs_read" */
  char *func;
  uint64_t offset;       /* kprobe:FUNC+OFFSET */
  int btf_id;            /* the function's BTF id, or -1 */
  TpFormat *args;        /* its parameters, fields at 8 * i (NULL without BTF) */
  TpField *ret;          /* its return value, at 8 * nargs (NULL without BTF) */
  int func_index;        /* func in Compiled.probe_names */
} KSite;

/* ------------------------------------------------------------ names */

static const struct {
  const char *name;
  KKind type;
} knames[] = {
    {"kprobe", K_KPROBE}, {"k", K_KPROBE},   {"kretprobe", K_KRETPROBE}, {"kr", K_KRETPROBE},
    {"fentry", K_FENTRY}, {"f", K_FENTRY},   {"kfunc", K_FENTRY},        {"fexit", K_FEXIT},
    {"fr", K_FEXIT},      {"kretfunc", K_FEXIT},
};

static bool kernel_provider(const char *prov, KKind *type) {
  for (size_t i = 0; i < sizeof knames / sizeof knames[0]; i++)
    if (!strcmp(prov, knames[i].name)) {
      *type = knames[i].type;
      return true;
    }
  return false;
}

static const char *kprobe_kind_name(KKind t) {
  switch (t) {
  case K_KPROBE: return "kprobe";
  case K_KRETPROBE: return "kretprobe";
  case K_FENTRY: return "fentry";
  case K_FEXIT: return "fexit";
  default: return "?";
  }
}

static bool is_exit(KKind t) { return t == K_KRETPROBE || t == K_FEXIT; }
static bool is_btf_kind(KKind t) { return t == K_FENTRY || t == K_FEXIT; }
static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* Kernel functions a kretprobe must not be put on: they are not marked
 * notrace, but the return probe's own bookkeeping takes the locks they
 * implement, which can lock the machine up.  bpftrace refuses them too
 * (in the words below); a glob leaves them out. */
static const char *const banned_kretprobes[] = {
    "_raw_spin_lock", "_raw_spin_lock_irqsave", "_raw_spin_unlock_irqrestore",
    "queued_spin_lock_slowpath",
};

static bool kretprobe_banned(KKind written, const char *func) {
  size_t n = sizeof banned_kretprobes / sizeof *banned_kretprobes;
  for (size_t i = 0; written == K_KRETPROBE && i < n; i++)
    if (!strcmp(func, banned_kretprobes[i]))
      return true;
  return false;
}

/* ------------------------------------------------------------ vmlinux BTF */

static struct btf *vmlinux_btf(void) { return btf_vmlinux(); } /* btf.c: loaded once */

static int btf_func_id(const char *name) {
  int id = btf_vmlinux_find(name, BTF_KIND_FUNC);
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
  if (type == -2)
    type = prov_pmu_type("kprobe");
  return type;
}

static int kprobe_retprobe_bit(void) {
  static int bit = -2;
  if (bit == -2)
    bit = prov_pmu_format_bit("kprobe", "retprobe");
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
/* The tracepoint closest to kernel function func ("syscalls:sys_enter_read"
 * for vfs_read; sys_exit_ for a return probe), if this kernel has it. */
static const char *kprobe_tracepoint_hint(const char *func, bool ret) {
  const char *tp = NULL;
  for (size_t i = 0; i < sizeof tp_hints / sizeof tp_hints[0] && !tp; i++)
    if (!strcmp(func, tp_hints[i][0]))
      tp = tp_hints[i][1];
  /* a syscall's own entry points: __x64_sys_NAME, __do_sys_NAME ... */
  static const char *const sys_prefixes[] = {"__x64_sys_", "__ia32_sys_", "__arm64_sys_", "__se_sys_",
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

static KKind entry_kind(KKind t, bool fentry) {
  if (fentry)
    return is_exit(t) ? K_FEXIT : K_FENTRY;
  return is_exit(t) ? K_KRETPROBE : K_KPROBE;
}

/* Pick the hook for an attach point written as `written` on function
 * `func` (first of a glob).  Returns the hook, or -1 after the located
 * error naming the missing kernel features. */
static int choose_hook(KKind written, const char *name, const char *func, bool single,
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

/* PROV:A:B with A not vmlinux: bpftrace 0.17's words for the form (newer
 * bpftrace reads A as a module, which etrace does not support); a
 * tracepoint written as a kprobe gets a hint. */
static void two_parts_error(KKind written, const char *text, const char *prov, const char *a,
                            const char *b, Loc loc) {
  const char *tp = !strchr(b, ':') && !has_glob(a) && !has_glob(b) ? eprintf("%s:%s", a, b)
                                                                   : NULL;
  const char *hint = tp && tp_exists(tp) ? eprintf("; did you mean tracepoint:%s?", tp) : "";
  const char *kind = kprobe_kind_name(written);
  diag_error(loc, "invalid %s '%s': %s probe type requires 1 argument (%s:FUNC, or "
                  "%s:vmlinux:FUNC: functions of kernel modules cannot be probed)%s",
             kind, text, kind, prov, prov, hint);
}

static KSite *new_site(KSite **sites, int *n) {
  *sites = egrow(*sites, *n, sizeof(KSite));
  KSite *s = &(*sites)[(*n)++];
  memset(s, 0, sizeof *s);
  return s;
}

/* Expand an attach point (globs too) and choose each site's hook
 * (fentry/fexit first for f:/fr:, kprobes for k:/kr:, the other as the
 * fallback; with opt->dry_run, the hook as written).  Returns the number
 * of sites in *out, or -1 after a located error (which names the missing
 * kernel feature and the closest tracepoint). */
static int kprobe_expand(const char *text, Loc loc, const Options *opt, KSite **out) {
  const char *colon = strchr(text, ':');
  char *prov = estrndup(text, colon - text);
  KKind written;
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
      two_parts_error(written, text, prov, spec, c2 + 1, loc);
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
    if (written != K_KPROBE || *end || end == plus + 1 || has_glob(spec)) {
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
  if (kretprobe_banned(written, spec)) {
    diag_error(loc, "kretprobe:%s can't be used as it might lock up your system.", spec);
    return -1;
  }
  if (has_glob(spec)) {
    nfuncs = match_funcs(spec, btf_needed, &funcs);
    int kept = 0;
    for (int i = 0; i < nfuncs; i++)
      if (!kretprobe_banned(written, funcs[i]))
        funcs[kept++] = funcs[i];
    nfuncs = kept;
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
      else if (btf_needed || (!nkfuncs && !vmlinux_btf()))
        diag_error(loc, "kernel function '%s' not found%s", spec,
                   btf_needed ? " in the kernel's BTF" : "");
      else { /* skipped as bpftrace skips a probe expanding to no function (tools
              * name functions some kernels lack); sema fails when none is left */
        diag_warn(loc, "kernel function '%s' not found, skipping probe", spec);
        return 0;
      }
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

static int attach_kprobe(int prog_fd, const char *func, uint64_t offset, bool retprobe) {
  int type = kprobe_pmu_type(), bit = kprobe_retprobe_bit();
  if (type < 0 || (retprobe && bit < 0))
    return -ENOSYS;
  return prov_attach_probe_pmu(prog_fd, type, retprobe ? 1ull << bit : 0, func, offset, -1);
}

static int attach_fentry(int prog_fd, bool fexit) {
  int fd = bpf_link_create(prog_fd, 0, fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, NULL);
  if (fd < 0 && errno == EINVAL) /* kernels before 5.8 */
    fd = bpf_raw_tracepoint_open(NULL, prog_fd);
  return fd < 0 ? -errno : fd;
}

/* ------------------------------------------------------------ listing */

static int list(const ListQuery *q) {
  const char *glob = q->glob;
  const char *colon = strchr(glob, ':');
  KKind type;
  if (!q->prefix || !colon || !kernel_provider(estrndup(glob, colon - glob), &type))
    return 0;
  const char *spec = colon + 1;
  if (!strncmp(spec, "vmlinux:", 8))
    spec += 8;
  if (!*spec)
    spec = "*";
  char **names;
  int n = match_funcs(spec, is_btf_kind(type), &names);
  for (int i = 0; i < n; i++)
    q->add(q->arg, is_btf_kind(type) ? eprintf("%s:vmlinux:%s", kprobe_kind_name(type), names[i])
                                     : eprintf("%s:%s", kprobe_kind_name(type), names[i]));
  return 0;
}

static void list_verbose(FILE *f, const char *name) {
  const char *colon = strchr(name, ':');
  KKind type;
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
  if (type == K_FEXIT)
    fprintf(f, "    %s retval\n", ret->ctype);
}

/* ------------------------------------------------------------ provider */

static const char *const aliases[] = {"k",     "kretprobe", "kr", "fentry", "f",
                                      "kfunc", "fexit",     "fr", "kretfunc", NULL};

static int expand(ProvExpand *x) {
  KSite *sites;
  int n = kprobe_expand(x->text, x->loc, x->opt, &sites);
  for (int i = 0; i < n; i++) {
    KSite *k = &sites[i];
    bool regs = k->type == K_KPROBE || k->type == K_KRETPROBE;
    /* what the probe as written allows is refined by type_builtin */
    prov_add_target(x, &provider_kprobe, k->name, kprobe_kind_name(k->type),
                    PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_RETVAL | PROBE_CAP_FUNC |
                        (regs ? PROBE_CAP_PT_REGS : 0),
                    k);
    k->func_index = prov_probe_name(x->c, k->func);
  }
  return n < 0 ? -1 : 0;
}

static Type *type_retval(Sema *sema, const KSite *k, Node *e) {
  if (!is_exit(k->written)) {
    serr(sema, e->loc, "the retval builtin is only available in kretprobe and fexit probes, "
                          "not in %s probes", kprobe_kind_name(k->written));
    return NULL;
  }
  Type *rt = k->written == K_FEXIT && k->ret ? btf_type_of(sema->c->types, k->ret->type_id, false) : NULL;
  if (rt && rt->kind != TY_RECORD && rt->kind != TY_ARRAY && rt->kind != TY_STR)
    return rt;
  if (k->written == K_FEXIT && k->ret) {
    serr(sema, e->loc, "%s returns %s, which retval cannot hold", k->func, k->ret->ctype);
    return NULL;
  }
  return ty_u64;
}

static Type *type_args(Sema *sema, const KSite *k, Node *e) {
  if (!is_btf_kind(k->written))
    serr(sema, e->loc, "the args builtin is not available in %s probes: use arg0..argN, or an "
                          "fentry probe for the arguments by name", kprobe_kind_name(k->written));
  else if (!k->args)
    serr(sema, e->loc, "args needs the BTF prototype of %s, which this kernel does not have",
               k->func);
  else if (k->type == K_KRETPROBE)
    serr(sema, e->loc, "args cannot be read: this kernel cannot run fexit programs and the "
                          "kretprobe used instead does not see the arguments");
  else {
    Type *t = ealloc(sizeof(Type));
    t->kind = TY_CTX;
    return t;
  }
  return NULL;
}

static bool type_builtin(Sema *sema, Target *t, Node *e, Type **out) {
  const KSite *k = t->data;
  const char *n = e->name;
  if (!strcmp(n, "func")) {
    *out = ealloc(sizeof(Type));
    (*out)->kind = TY_PROBE;
    (*out)->size = 8;
  } else if (!strcmp(n, "retval")) {
    *out = type_retval(sema, k, e);
  } else if (!strcmp(n, "args")) {
    *out = type_args(sema, k, e);
  } else if (!strncmp(n, "arg", 3) && n[3] >= '0' && n[3] <= '9') {
    *out = ty_u64;
    if (is_exit(k->written)) {
      serr(sema, e->loc, "%s is not available in %s probes (the arguments are gone when the "
                            "function returns)%s", n, kprobe_kind_name(k->written),
                 is_btf_kind(k->written) ? "; use args.NAME" : "");
      *out = NULL;
    }
  } else {
    return false;
  }
  return true;
}

/* args.NAME of fentry/fexit: typed from the function's BTF prototype
 * (pointers to kernel structs can be followed); ctx is u64 args[]. */
static Type *type_field(Sema *sema, Target *t, Node *e) {
  const KSite *k = t->data;
  const TpField *f = NULL;
  for (int i = 0; k->args && i < k->args->nfields; i++)
    if (!strcmp(k->args->fields[i].name, e->name))
      f = &k->args->fields[i];
  if (!f) {
    Buf b = {0};
    for (int i = 0; k->args && i < k->args->nfields; i++)
      buf_printf(&b, "%s%s", i ? ", " : "", k->args->fields[i].name);
    serr(sema, e->loc, "kernel function %s has no parameter named '%s' (it has: %s)", k->func,
               e->name, b.data ? b.data : "none");
    buf_free(&b);
    return NULL;
  }
  Type *ty = btf_type_of(sema->c->types, f->type_id, false);
  if (!ty || ty->kind == TY_RECORD || ty->kind == TY_ARRAY || ty->kind == TY_STR) {
    serr(sema, e->loc, "argument '%s' of %s has type '%s', which etrace cannot read", e->name,
               k->func, f->ctype);
    return NULL;
  }
  if (k->type == K_KPROBE && f->offset >= 6 * 8) {
    serr(sema, e->loc, "argument '%s' is passed on the stack, which the kprobe used instead "
                          "of fentry cannot read", e->name);
    return NULL;
  }
  e->field_off = f->offset;
  return ty;
}

static void ctx_u64(int off, ArgLoc *out) {
  *out = (ArgLoc){.a = {.kind = UA_REG, .size = 8, .reg_size = 8, .index = -1, .reg = off}};
}

static bool arg_loc(const Target *t, ArgRef ref, int i, ArgLoc *out) {
  const KSite *k = t->data;
  bool btf = is_btf_kind(k->type); /* fentry/fexit: ctx is u64 args[] */
  switch (ref) {
  case ARG_INDEX:
    if (btf)
      ctx_u64(8 * i, out);
    else
      prov_regs_arg(i, k->type == K_KPROBE, out);
    return true;
  case ARG_FIELD: /* i: the offset in u64 args[] */
    if (btf)
      ctx_u64(i, out);
    else /* fentry's args.NAME, served by a kprobe */
      prov_regs_arg(i / 8, k->type == K_KPROBE, out);
    return true;
  case ARG_RETVAL:
    if (k->type == K_FEXIT) /* after the arguments in fexit's u64 array */
      ctx_u64(k->ret->offset, out);
    else
      prov_regs_retval(out);
    return true;
  case ARG_FUNC:
    *out = (ArgLoc){.is_const = true, .value = k->func_index};
    return true;
  }
  return false;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  const KSite *k = t->data;
  if (attempt > 0)
    return -1;
  if (is_btf_kind(k->type)) /* the function, by vmlinux BTF id; ctx is the arguments as u64s */
    *out = (ProgSpec){.type = BPF_PROG_TYPE_TRACING,
                      .expected_attach_type = k->type == K_FENTRY ? BPF_TRACE_FENTRY
                                                                  : BPF_TRACE_FEXIT,
                      .attach_btf_id = k->btf_id};
  else
    *out = (ProgSpec){.type = BPF_PROG_TYPE_KPROBE};
  return 0;
}

static int attach(Target *t, const AttachEnv *env) {
  const KSite *k = t->data;
  int fd = is_btf_kind(k->type) ? attach_fentry(t->prog_fd, k->type == K_FEXIT)
                                : attach_kprobe(t->prog_fd, k->func, k->offset,
                                                k->type == K_KRETPROBE);
  if (fd < 0 && fd == -524 && is_btf_kind(k->type)) { /* the kernel's ENOTSUPP */
    /* fentry programs load, but the trampoline cannot be installed: arm64
     * kernels before 6.4 have no ftrace direct calls */
    diag_error(t->probe->loc, "cannot attach probe %s: this kernel cannot attach fentry/fexit "
               "trampolines (ENOTSUPP); use kprobe:%s or kretprobe:%s", t->name, k->func, k->func);
    return -1;
  }
  return prov_attach_result(t, env, fd);
}

/* kprobes and fentry programs run newest first; kretprobes and fexit in order */
static bool newest_first(const Target *t) {
  const KSite *k = t->data;
  return k->type == K_KPROBE || k->type == K_FENTRY;
}

const Provider provider_kprobe = {
    .name = "kprobe",
    .aliases = aliases,
    .expand = expand,
    .type_builtin = type_builtin,
    .type_field = type_field,
    .arg_loc = arg_loc,
    .prog_spec = prog_spec,
    .attach = attach,
    .newest_first = newest_first,
    .list = list,
    .list_verbose = list_verbose,
};
