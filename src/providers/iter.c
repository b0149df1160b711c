/* prov_iter.c - BPF iterators: iter:task, iter:task_file, iter:task_vma ...
 *
 * An iterator program is BPF_PROG_TYPE_TRACING with expected attach type
 * BPF_TRACE_ITER and the BTF id of the kernel's bpf_iter_NAME function.
 * It runs once per object when user space reads an iterator fd made from
 * its link; `ctx` is a struct bpf_iter__NAME *.  The program's printf and
 * other records go through etrace's ring buffer like any probe's, so the
 * output is formatted exactly as elsewhere (and -f json works).  To keep
 * the ring buffer from filling on a long walk, every object also writes
 * one byte to the iterator's seq_file (cg.c) and the fd is read a few
 * bytes at a time, draining the ring buffer between reads: a read
 * returns after at most ITER_BATCH objects.
 */
#include "providers/prov.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITER_BATCH 64 /* objects per read() of the iterator fd */

bool iter_provider(const char *prov) { return !strcmp(prov, "iter") || !strcmp(prov, "it"); }

static int btf_id_of(const char *name, int kind) {
  struct btf *b = btf_kernel();
  return b ? btf__find_by_name_kind(b, name, kind) : -1;
}

/* Offset of the last pointer member of struct bpf_iter__NAME: the object
 * the call is about (task, file, vma ...).  The kernel makes one more call
 * when the walk ends with that pointer NULL (seq_file stop); it is not an
 * object, and the program skips it. */
static int object_offset(int struct_id) {
  struct btf *b = btf_kernel();
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

int iter_expand(const char *text, Loc loc, Target *t) {
  const char *name = strchr(text, ':') + 1;
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
  if (!btf_kernel()) {
    diag_error(loc, "iter probes need the kernel's BTF (/sys/kernel/btf/vmlinux), which is missing");
    return -1;
  }
  int func = btf_id_of(eprintf("bpf_iter_%s", name), BTF_KIND_FUNC);
  int st = btf_id_of(eprintf("bpf_iter__%s", name), BTF_KIND_STRUCT);
  if (func < 0 || st < 0) {
    diag_error(loc, "iter %s not available for your kernel version (etrace -l 'iter:*' lists "
                    "the iterators it has)", name);
    return -1;
  }
  t->type = PT_ITER;
  t->name = eprintf("iter:%s", name);
  t->iter_name = estrdup(name);
  t->iter_btf_id = func;
  t->iter_obj_off = object_offset(st);
  return 0;
}

int iter_check_mix(const Compiled *c) {
  const Target *iter = NULL;
  for (int i = 0; i < c->ntargets; i++)
    if (c->targets[i]->type == PT_ITER) {
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
    if (t->type != PT_ITER && t->type != PT_BEGIN && t->type != PT_END) {
      diag_error(t->probe->loc,
                 "an iter probe cannot be mixed with other probes (only BEGIN and END): %s", t->name);
      return -1;
    }
  }
  return 0;
}

Type *iter_ctx_type(const Target *t) {
  if (t->type != PT_ITER)
    return NULL;
  const char *why;
  return btf_parse_type(eprintf("struct bpf_iter__%s *", t->iter_name), false, &why);
}

int prov_attach_iter(int prog_fd, int pid) {
  /* -p PID: the task iterators visit that process only (as bpftrace) */
  union bpf_iter_link_info info = {.task.pid = pid > 0 ? pid : 0};
  LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &info, .iter_info_len = sizeof info);
  int link = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, pid > 0 ? &opts : NULL);
  return link < 0 ? -errno : link;
}

int prov_iter_run(int link, void (*drain)(void *arg), void *arg, const bool *stop) {
  int fd = bpf_iter_create(link);
  if (fd < 0)
    return -errno;
  char buf[ITER_BATCH];
  int err = 0;
  while (!*stop) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue; /* the kernel pauses a walk after a million objects */
    if (n < 0)
      err = -errno;
    drain(arg);
    if (n <= 0)
      break;
  }
  close(fd);
  return err;
}

/* ------------------------------------------------------------ listing */

void prov_iter_list(const char *glob, void (*add)(void *arg, char *name), void *arg) {
  struct btf *b = btf_kernel();
  if (!b)
    return;
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
      add(arg, full);
  }
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

void prov_iter_print_fields(FILE *f, const char *name) {
  struct btf *b = btf_kernel();
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
