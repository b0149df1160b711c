/* load.h - the one program loader and the one list of attachments,
 * shared by the language pipeline (load.c, runtime/run.c), the syscall
 * dispatcher (providers/sysdispatch.c) and `etrace record`. */
#ifndef ETRACE_LOAD_H
#define ETRACE_LOAD_H

#include "etrace.h"

#include <bpf/bpf.h>

/* Load one program (opts may be NULL).  When the kernel refuses it: an
 * error located at *loc (or, without one, naming `what`), the tail of the
 * verifier's log, and a hint when permission was refused.  Returns the
 * program fd, or -1. */
int load_prog(enum bpf_prog_type type, const char *name, const struct bpf_insn *insns, int n,
              const struct bpf_prog_load_opts *opts, const Loc *loc, const char *what);

/* The fd of an internal map of a loaded program (".ringbuf", ".drops"),
 * or -1 when it has none. */
int load_map_fd(const Compiled *c, const char *name);

/* Attachments: every one is an fd (a link or a perf event) that detaches
 * when closed, so the kernel cleans up even if etrace is killed. */
typedef struct Links {
  int *fds;
  int n;
} Links;

void links_add(Links *l, int fd);
void links_keep(void *links, int fd); /* links_add as a keep(arg, fd) callback */
void links_drop(void *links, int fd); /* close one kept fd now, as a drop(arg, fd) callback */
/* Detach all (the list stays usable); a failed close is reported as a
 * warning and gives -1.  Every program is detached and no longer running
 * on return; the perf events behind perf links are released by a
 * background process (links.c says why). */
int links_close(Links *l);
void links_free(Links *l);  /* close and release */
/* perf_fd is the perf event behind the perf link link_fd: kept open until
 * the link is closed through a Links list (links_close). */
void links_perf_event(int link_fd, int perf_fd);

#endif
