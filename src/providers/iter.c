/* iter.c - BPF iterators (it:): iter:task, iter:task_file, iter:task_vma ...
 *
 * An iterator program is BPF_PROG_TYPE_TRACING with expected attach type
 * BPF_TRACE_ITER and the BTF id of the kernel's bpf_iter_NAME function.
 * It runs once per object when user space reads an iterator fd made from
 * its link; `ctx` is a struct bpf_iter__NAME *.  The program's printf and
 * other records go through etrace's ring buffer like any probe's, so the
 * output is formatted exactly as elsewhere (and -f json works).  To keep
 * the ring buffer from filling on a long walk, every object also writes
 * one byte to the iterator's seq_file (the epilogue) and the fd is read a few
 * bytes at a time, draining the ring buffer between reads: a read
 * returns after at most ITER_BATCH objects.
 */
#include "codegen/insn.h"
#include "providers/provider.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITER_BATCH 64 /* objects per read() of the iterator fd */

extern const Provider provider_iter;

static const char *const aliases[] = {"it", NULL};

typedef struct Iter {
  char *name;          /* "task" */
  int btf_id;          /* bpf_iter_NAME */
  int obj_off;         /* ctx offset of the object pointer (NULL: the end call) */
  int link;            /* after attach: the link iterators are created from */
} Iter;

static int btf_id_of(const char *name, int kind) {
  return btf_vmlinux_find(name, kind);
}

/* Offset of the last pointer member of struct bpf_iter__NAME: the object
 * the call is about (task, file, vma ...).  The kernel makes one more call
 * when the walk ends with that pointer NULL (seq_file stop); it is not an
 * object, and the program skips it. */
static int object_offset(int struct_id) {
  struct btf *b = btf_vmlinux();
  const struct btf_type *t = btf__type_by_id(b, struct_id);
  int off = -1;
  const struct btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++) {
    const char *mn = btf__name_by_offset(b, m->name_off);
    const struct btf_type *mt = btf__type_by_id(b, m->type);
    while (mt && (btf_is_typedef(mt) || btf_is_mod(mt)))
      mt = btf__type_by_id(b, mt->type);
    /* pointer members may sit in an anonymous union (__bpf_md_ptr) */
    if (mt && btf_is_union(mt) && btf_vlen(mt) == 1) {
      mn = btf__name_by_offset(b, btf_members(mt)->name_off);
      mt = btf__type_by_id(b, btf_members(mt)->type);
    }
    if (mn && !strcmp(mn, "meta"))
      continue;
    if (mt && btf_is_ptr(mt))
      off = btf_member_bit_offset(t, i) / 8;
  }
  return off;
}

static int expand(ProvExpand *x) {
  const char *name = x->rest ? x->rest : "";
  Loc loc = x->loc;
  if (strpbrk(name, "*?[")) {
    diag_error(loc, "iter probe type does not support wildcards");
    return -1;
  }
  if (strchr(name, ':')) {
    diag_error(loc, "pinning iterators (iter:NAME:PIN) is not supported by etrace");
    return -1;
  }
  if (!*name) {
    diag_error(loc, "iter should specify an iterator's name (etrace -l 'iter:*' lists them)");
    return -1;
  }
  if (!btf_vmlinux()) {
    diag_error(loc, "iter probes need the kernel's BTF (/sys/kernel/btf/vmlinux), which is missing");
    return -1;
  }
  int func = btf_id_of(eprintf("bpf_iter_%s", name), BTF_KIND_FUNC);
  int st = btf_id_of(eprintf("bpf_iter__%s", name), BTF_KIND_STRUCT);
  if (func < 0 || st < 0) {
    diag_error_bt(loc, eprintf("iter %s not available for your kernel version.", name),
                  "this kernel has no iterator '%s' (etrace -l 'iter:*' lists the iterators it "
                  "has)", name);
    return -1;
  }
  Iter *it = ealloc(sizeof *it);
  it->name = estrdup(name);
  it->btf_id = func;
  it->obj_off = object_offset(st);
  it->link = -1;
  /* iterators run in the reading process, etrace: -p does not filter them */
  prov_add_target(x, &provider_iter, eprintf("iter:%s", name), "iter", PROBE_CAP_ITER | PROBE_CAP_ANY_PROCESS, it);
  return 0;
}

/* An iter probe may only share the program with BEGIN and END, and there
 * may be one. */
static int check_program(const Compiled *c) {
  const Target *iter = NULL;
  for (int i = 0; i < c->ntargets; i++)
    if (c->targets[i]->prov == &provider_iter) {
      if (iter) {
        diag_error(c->targets[i]->probe->loc,
                   "only one iter probe is allowed in a program (%s is already one)", iter->name);
        return -1;
      }
      iter = c->targets[i];
    }
  if (!iter)
    return 0;
  for (int i = 0; i < c->ntargets; i++) {
    const Target *t = c->targets[i];
    if (t->prov != &provider_iter && !(t->caps & PROBE_CAP_IN_ETRACE)) {
      diag_error(t->probe->loc,
                 "an iter probe cannot be mixed with other probes (only BEGIN and END): %s", t->name);
      return -1;
    }
  }
  return 0;
}

/* ctx: struct bpf_iter__NAME * */
static bool type_builtin(Sema *sema, Target *t, Node *e, Type **out) {
  if (strcmp(e->name, "ctx"))
    return false;
  const Iter *it = t->data;
  const char *why;
  *out = btf_parse_type(sema->c->types, eprintf("struct bpf_iter__%s *", it->name), false, &why);
  if (!*out)
    serr(sema, e->loc, "cannot type ctx of %s: %s", t->name, why);
  return true;
}

/* The kernel calls the program once more after the last object with the
 * object pointer NULL: skip that call.  Returns the label the skip jumps
 * to (past the epilogue). */
static int prologue(Cg *g, Target *t) {
  const Iter *it = t->data;
  int skip = label_new(g);
  if (it->obj_off >= 0) {
    emit(g, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, it->obj_off));
    jmp_imm(g, BPF_JEQ, BPF_REG_0, 0, skip);
  }
  return skip;
}

/* One byte per object into the iterator's seq_file (ctx->meta->seq), so
 * that a short read() of the iterator fd returns after a few objects and
 * user space drains the ring buffer before it can fill. */
static void epilogue(Cg *g, Target *t, int skip) {
  int byte = slot(g, 8, t->probe->loc);
  emit(g, ST_IMM(BPF_DW, BPF_REG_10, byte, '\n'));
  load_ctx(g, BPF_REG_1);
  emit(g, LDX(BPF_DW, BPF_REG_1, BPF_REG_1, 0)); /* meta */
  emit(g, LDX(BPF_DW, BPF_REG_1, BPF_REG_1, 0)); /* meta->seq */
  emit_addr(g, BPF_REG_2, byte);
  emit(g, MOV64_IMM(BPF_REG_3, 1));
  emit(g, CALL(BPF_FUNC_seq_write));
  label_here(g, skip);
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  const Iter *it = t->data;
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_TRACING, .expected_attach_type = BPF_TRACE_ITER,
                    .attach_btf_id = it->btf_id};
  return 0;
}

static int attach_iter(int prog_fd, int pid) {
  /* -p PID: the task iterators visit that process only (as bpftrace) */
  union bpf_iter_link_info info = {.task.pid = pid > 0 ? pid : 0};
  LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &info, .iter_info_len = sizeof info);
  int link = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, pid > 0 ? &opts : NULL);
  return link < 0 ? -errno : link;
}

static int attach(Target *t, const AttachEnv *env) {
  Iter *it = t->data;
  int fd = attach_iter(t->prog_fd, env->pid);
  if (fd < 0) {
    /* bpf_map_elem, sockmap, cgroup ... walk a map or cgroup given by fd */
    diag_error(t->probe->loc, "cannot attach probe %s: %s%s", t->name, strerror(-fd),
               fd == -EBADF ? " (this iterator walks a map or cgroup that etrace cannot "
                              "name yet)" : "");
    return -1;
  }
  it->link = fd;
  attach_keep(env, fd);
  return 0;
}

/* Create an iterator from link and read it to the end; between reads
 * drain the ring buffer, and stop early once *env->stop is true.  0 or
 * -errno. */
static int iter_read(int link, const RunEnv *env) {
  int fd = bpf_iter_create(link);
  if (fd < 0)
    return -errno;
  char buf[ITER_BATCH];
  int err = 0;
  while (!*env->stop) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue; /* the kernel pauses a walk after a million objects */
    if (n < 0)
      err = -errno;
    env->drain(env->arg);
    if (n <= 0)
      break;
  }
  close(fd);
  return err;
}

/* The program's work: read the iterator, then the program ends. */
static int run(Target *t, RunPhase phase, const RunEnv *env) {
  if (phase != RUN_MAIN)
    return 0;
  const Iter *it = t->data;
  int err = iter_read(it->link, env);
  if (err < 0) {
    diag_fatal("reading iterator %s failed: %s", t->name, strerror(-err));
    return -1;
  }
  return 1;
}

/* ------------------------------------------------------------ listing */

/* `-l 'iter:GLOB'` (and globs naming no provider): every iterator of the kernel. */
static int list(const ListQuery *q) {
  const char *glob = q->prefix ? eprintf("iter:%s", q->rest) : q->glob;
  struct btf *b = btf_vmlinux();
  if (!b)
    return 0;
  int cnt = btf__type_cnt(b);
  for (int id = 1; id < cnt; id++) {
    const struct btf_type *t = btf__type_by_id(b, id);
    if (!btf_is_struct(t))
      continue;
    const char *nm = btf__name_by_offset(b, t->name_off);
    if (strncmp(nm, "bpf_iter__", 10) || btf_id_of(eprintf("bpf_iter_%s", nm + 10), BTF_KIND_FUNC) < 0)
      continue;
    char *full = eprintf("iter:%s", nm + 10);
    if (!glob || fnmatch(glob, full, 0) == 0)
      q->add(q->arg, full);
  }
  return 0;
}

/* A member type as C spells it: "struct task_struct *", "u32". */
static char *type_text(struct btf *b, int id) {
  const struct btf_type *t = btf__type_by_id(b, id);
  if (!t || id == 0)
    return estrdup("void");
  const char *nm = btf__name_by_offset(b, t->name_off);
  switch (btf_kind(t)) {
  case BTF_KIND_PTR: return eprintf("%s *", type_text(b, t->type));
  case BTF_KIND_CONST: return eprintf("const %s", type_text(b, t->type));
  case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
    return type_text(b, t->type);
  case BTF_KIND_STRUCT: return eprintf("struct %s", *nm ? nm : "(anonymous)");
  case BTF_KIND_UNION: return eprintf("union %s", *nm ? nm : "(anonymous)");
  case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return eprintf("enum %s", nm);
  case BTF_KIND_FUNC_PROTO: return estrdup("void (*)()");
  default: return estrdup(*nm ? nm : "?");
  }
}

/* `-lv`: the ctx fields of iter:NAME, one "    TYPE NAME" line each. */
static void list_verbose(FILE *f, const char *full) {
  const char *name = full + strlen("iter:");
  struct btf *b = btf_vmlinux();
  int st = btf_id_of(eprintf("bpf_iter__%s", name), BTF_KIND_STRUCT);
  if (st < 0)
    return;
  const struct btf_type *t = btf__type_by_id(b, st);
  const struct btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++) {
    const char *mn = btf__name_by_offset(b, m->name_off);
    int tid = m->type;
    const struct btf_type *mt = btf__type_by_id(b, tid);
    /* __bpf_md_ptr(T *, name) is an anonymous union around one pointer */
    if (mt && btf_is_union(mt) && btf_vlen(mt) == 1 && !*btf__name_by_offset(b, mt->name_off)) {
      const struct btf_member *um = btf_members(mt);
      tid = um->type;
      mn = btf__name_by_offset(b, um->name_off);
    }
    if (mn && !strcmp(mn, "meta"))
      continue;
    fprintf(f, "    %s %s\n", type_text(b, tid), mn ? mn : "");
  }
}

const Provider provider_iter = {
    .name = "iter",
    .aliases = aliases,
    .expand = expand,
    .check_program = check_program,
    .type_builtin = type_builtin,
    .prologue = prologue,
    .epilogue = epilogue,
    .prog_spec = prog_spec,
    .attach = attach,
    .run = run,
    .list = list,
    .list_verbose = list_verbose,
};
