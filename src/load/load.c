/* load.c - create maps and load programs through libbpf's low-level API.
 * No ELF, no skeleton: the instructions come straight from cg.c. */
#include "etrace.h"
#include "codegen/insn.h"
#include "load/load.h"
#include "providers/provider.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <linux/btf.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The ring buffer's pages count in our RSS once mapped.  Programs whose
 * probes emit records (printf on a tracepoint) get 2 MiB; programs that
 * only emit from BEGIN/END (exit, print) get 64 KiB.  ETRACE_RINGBUF_KB
 * overrides both (rounded up to a power of two). */
static uint32_t ringbuf_size(const Compiled *c) {
  const char *env = getenv("ETRACE_RINGBUF_KB");
  uint32_t want = c->probe_records ? 2u << 20 : 64u << 10;
  if (env && atoi(env) > 0)
    want = (uint32_t)atoi(env) << 10;
  uint32_t size = 4096;
  while (size < want && size < (1u << 30))
    size <<= 1;
  return size;
}
#define LOG_SIZE (4u << 20)

static int create_map(const Compiled *c, MapInfo *m) {
  enum bpf_map_type type;
  int key_size = m->key_size, val_size = m->val_size, entries = m->max_entries;
  if (!strcmp(m->name, ".ringbuf")) {
    type = BPF_MAP_TYPE_RINGBUF;
    key_size = val_size = 0;
    entries = ringbuf_size(c);
  } else if (!strcmp(m->name, ".drops")) {
    type = BPF_MAP_TYPE_ARRAY; /* one value of counters, addressed directly */
  } else if (!strncmp(m->name, ".stack", 6)) {
    type = BPF_MAP_TYPE_STACK_TRACE; /* stack id -> frames (cg.c, sym/stack.c) */
  } else if (!strcmp(m->name, ".pids")) {
    type = BPF_MAP_TYPE_HASH;        /* pids already reported by REC_PID */
  } else if (!strcmp(m->name, ".stop")) {
    type = BPF_MAP_TYPE_ARRAY; /* one flag all CPUs read (cg.c: skip_if_stopped) */
  } else {
    type = m->percpu ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH;
    if (m->array) { /* one slot, or one per bucket */
      type = BPF_MAP_TYPE_PERCPU_ARRAY;
      entries = m->val->kind == TY_HIST ? HIST_BUCKETS
                : m->val->kind == TY_LHIST /* below, (max - min) / step, above */
                ? (int)((m->val->lh_max - m->val->lh_min) / m->val->lh_step) + 2 : 1;
    }
    if (m->val->kind == TY_HIST)
      entries *= 8; /* one entry per (key, bucket) */
    else if (m->val->kind == TY_LHIST)
      entries *= 4;
  }
  char name[BPF_OBJ_NAME_LEN] = "";
  /* kernel map names allow [A-Za-z0-9_.]: '@' is not allowed */
  for (size_t i = 0, j = 0; m->name[i] && j < sizeof name - 1; i++)
    if (m->name[i] != '@')
      name[j++] = m->name[i];
  int fd = bpf_map_create(type, name[0] ? name : "at", key_size, val_size, entries, NULL);
  if (fd < 0 && errno == EINVAL)
    fd = bpf_map_create(type, NULL, key_size, val_size, entries, NULL);
  return fd;
}

/* Programs with callbacks (for-over-map, len()) must describe every
 * function with BTF func_info, or the verifier says "missing btf
 * func_info".  A tiny BTF blob is enough: int, a prototype returning it,
 * and FUNCs named after the program and "callback" of that prototype
 * (static linkage, so the verifier takes the arguments from the helper's
 * definition).  The program holds it once loaded: the caller closes its
 * fd. */
static int load_func_btf(const char *name) {
  /* "\0int\0callback\0" then the program's name: bpftool shows a
   * program with func_info under its first FUNC's name, which must be a
   * C identifier ("prog" for interval:s:1's "1") */
  bool ident = isalpha((unsigned char)name[0]) || name[0] == '_';
  for (const char *p = name; *p; p++)
    ident &= isalnum((unsigned char)*p) || *p == '_';
  if (!ident)
    name = "prog";
  char strs[16 + BPF_OBJ_NAME_LEN] = "\0int\0callback";
  size_t name_off = 14, str_len = name_off + strlen(name) + 1;
  memcpy(strs + name_off, name, strlen(name) + 1);
  uint32_t types[] = {
      /* [1] int: name, info (KIND_INT), size 4, encoding signed 32 bits */
      1, BTF_KIND_INT << 24, 4, (BTF_INT_SIGNED << 24) | 32,
      /* [2] int (void): name, info (FUNC_PROTO, 0 params), return [1] */
      0, BTF_KIND_FUNC_PROTO << 24, 1,
      /* [3] the program, [4] callback: FUNC of [2] */
      name_off, BTF_KIND_FUNC << 24, 2,
      5, BTF_KIND_FUNC << 24, 2,
  };
  struct btf_header hdr = {
      .magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof hdr,
      .type_off = 0, .type_len = sizeof types, .str_off = sizeof types, .str_len = str_len,
  };
  unsigned char blob[sizeof hdr + sizeof types + sizeof strs];
  memcpy(blob, &hdr, sizeof hdr);
  memcpy(blob + sizeof hdr, types, sizeof types);
  memcpy(blob + sizeof hdr + sizeof types, strs, str_len);
  return bpf_btf_load(blob, sizeof hdr + sizeof types + str_len, NULL);
}

/* func_info for the program at insn 0, every callback it loads and
 * every subprogram it calls (the shared drop counter, cg.c). */
static int collect_funcs(const struct bpf_insn *insns, int n, struct bpf_func_info **out) {
  struct bpf_func_info *fi = malloc(sizeof(*fi) * (n + 1));
  int nf = 0;
  fi[nf++] = (struct bpf_func_info){0, 3};
  for (int i = 0; i < n; i++)
    if ((insns[i].code == (BPF_LD | BPF_DW | BPF_IMM) && insns[i].src_reg == BPF_PSEUDO_FUNC) ||
        (insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == BPF_PSEUDO_CALL)) {
      uint32_t start = i + 1 + insns[i].imm;
      bool seen = false;
      for (int j = 0; j < nf; j++)
        seen |= fi[j].insn_off == start;
      if (!seen)
        fi[nf++] = (struct bpf_func_info){start, 4};
    }
  /* the kernel wants them in instruction order */
  for (int i = 1; i < nf; i++)
    for (int j = i; j > 0 && fi[j - 1].insn_off > fi[j].insn_off; j--) {
      struct bpf_func_info t = fi[j];
      fi[j] = fi[j - 1];
      fi[j - 1] = t;
    }
  *out = fi;
  return nf;
}

/* Print the last lines of the verifier log (the reason is at the end). */
static void print_log_tail(const char *log) {
  size_t len = strlen(log);
  const char *p = log + len;
  int lines = 0;
  while (p > log && lines < 16)
    if (*--p == '\n')
      lines++;
  if (p > log)
    p++;
  fprintf(stderr, "%s", p);
  if (len && log[len - 1] != '\n')
    fputc('\n', stderr);
}

/* The kernel refused a program (errno err): load it again with the
 * verifier's log, which says why, and report. */
static void report_rejection(enum bpf_prog_type type, const char *name,
                             const struct bpf_insn *insns, int n,
                             const struct bpf_prog_load_opts *opts, int err, const Loc *loc,
                             const char *what) {
  char *log = calloc(1, LOG_SIZE);
  LIBBPF_OPTS(bpf_prog_load_opts, lopts);
  if (opts)
    lopts = *opts;
  lopts.log_buf = log;
  lopts.log_size = LOG_SIZE;
  lopts.log_level = 1;
  int fd = bpf_prog_load(type, name, "GPL", insns, n, &lopts);
  if (fd >= 0)
    close(fd);
  if (loc)
    diag_error(*loc, "the kernel's verifier rejected probe %s (%s)", what, strerror(err));
  else
    diag_fatal("the kernel's verifier rejected the program for %s (%s)", what, strerror(err));
  if (log[0])
    print_log_tail(log);
  if (err == EPERM)
    fprintf(stderr, "etrace needs root, or CAP_BPF and CAP_PERFMON, to load programs\n");
  free(log);
}

int load_prog(enum bpf_prog_type type, const char *name, const struct bpf_insn *insns, int n,
              const struct bpf_prog_load_opts *opts, const Loc *loc, const char *what) {
  int fd = bpf_prog_load(type, name, "GPL", insns, n, opts);
  if (fd < 0)
    report_rejection(type, name, insns, n, opts, errno, loc, what);
  return fd < 0 ? -1 : fd;
}

int load_map_fd(const Compiled *c, const char *name) {
  for (int i = 0; i < c->nmaps; i++)
    if (!strcmp(c->maps[i]->name, name))
      return c->maps[i]->fd;
  return -1;
}

/* The kernel's name of a target's program, as bpftrace names them (what
 * bpftool prog shows): the probe's last part, "sys_enter" for
 * tracepoint:raw_syscalls:sys_enter, "END" for END; at most 15
 * characters of [A-Za-z0-9_.]. */
static void prog_name(const Target *t, char name[BPF_OBJ_NAME_LEN]) {
  const char *last = strrchr(t->name, ':');
  last = last ? last + 1 : t->name;
  int n = 0;
  for (; last[n] && n < BPF_OBJ_NAME_LEN - 1; n++)
    name[n] = isalnum((unsigned char)last[n]) || last[n] == '.' ? last[n] : '_';
  name[n] = 0;
}

/* The listing to load for spec a, its maps resolved (*n instructions;
 * *funcs its subprograms): freed by the caller. */
static struct bpf_insn *resolved_listing(const Compiled *c, const Target *t, int a, int *n,
                                         struct bpf_func_info **funcs, int *nfuncs) {
  const struct bpf_insn *src = a < t->nspecs ? t->spec_insns[a] : t->insns;
  *n = a < t->nspecs ? t->spec_ninsns[a] : t->ninsns;
  struct bpf_insn *insns = malloc(sizeof(*insns) * *n);
  memcpy(insns, src, sizeof(*insns) * *n);
  for (int i = 0; i < *n; i++)
    if (insns[i].code == (BPF_LD | BPF_DW | BPF_IMM) &&
        (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE))
      insns[i].imm = c->maps[insns[i].imm]->fd;
  *nfuncs = collect_funcs(insns, *n, funcs);
  return insns;
}

static int load_target(Compiled *c, Target *t, bool verbose) {
  struct bpf_insn *insns = NULL;
  struct bpf_func_info *funcs = NULL;
  int ninsns = 0, nfuncs = 0, btf_fd = -1;
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  char name[BPF_OBJ_NAME_LEN];
  prog_name(t, name);
  /* the provider's program specs in order (tp_btf, then raw_tp ...):
   * the first the kernel takes */
  ProgSpec spec = {0};
  int fd = -1, err = 0;
  for (int a = 0; t->prov->prog_spec(t, a, &spec) == 0; a++) {
    if (!insns || a < t->nspecs) { /* each spec its own listing, or one for all */
      free(insns);
      free(funcs);
      funcs = NULL;
      insns = resolved_listing(c, t, a, &ninsns, &funcs, &nfuncs);
      if (nfuncs > 1 && btf_fd <= 0) /* the same for every listing */
        btf_fd = load_func_btf(name);
      opts.prog_btf_fd = nfuncs > 1 ? btf_fd : 0;
      opts.func_info = nfuncs > 1 ? funcs : NULL;
      opts.func_info_cnt = nfuncs > 1 ? nfuncs : 0;
      opts.func_info_rec_size = nfuncs > 1 ? sizeof(*funcs) : 0;
    }
    opts.expected_attach_type = spec.expected_attach_type;
    opts.attach_btf_id = spec.attach_btf_id;
    fd = bpf_prog_load(spec.type, name, "GPL", insns, ninsns, &opts);
    err = errno;
    t->load_attempt = a;
    ProgSpec next;
    bool more = t->prov->prog_spec(t, a + 1, &next) == 0;
    if (fd >= 0) {
      if (verbose && more && spec.label)
        fprintf(stderr, "%s: attached as %s\n", t->name, spec.label);
      break;
    }
    if (!more)
      break;
    if (verbose)
      fprintf(stderr, "%s: %s refused (%s), using %s\n", t->name, spec.label ? spec.label : "?",
              strerror(err), next.label ? next.label : "?");
  }
  if (fd < 0)
    report_rejection(spec.type, NULL, insns, ninsns, &opts, err, &t->probe->loc, t->name);
  free(insns);
  free(funcs);
  if (btf_fd > 0)
    close(btf_fd);
  t->prog_fd = fd;
  return fd < 0 ? -1 : 0;
}

int load_program(Compiled *c, const Options *opt) {
  for (int i = 0; i < c->nmaps; i++) {
    MapInfo *m = c->maps[i];
    m->fd = create_map(c, m);
    if (m->fd < 0) {
      int err = errno;
      diag_error(m->loc, "cannot create map %s: %s", m->name[0] == '.' ? m->name + 1 : m->name,
                 strerror(err));
      if (err == EPERM)
        fprintf(stderr, "etrace needs root, or CAP_BPF and CAP_PERFMON\n");
      return -1;
    }
    if (!strncmp(m->name, ".stack", 6))
      sym_stack_map_set(m->val_size / 8, m->fd);
  }
  for (int i = 0; i < c->ntargets; i++)
    if (load_target(c, c->targets[i], opt->verbose) < 0)
      return -1;
  for (int i = 0; i < nproviders; i++)
    if (providers[i]->loaded && providers[i]->loaded(c) < 0)
      return -1;
  return 0;
}
