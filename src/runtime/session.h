/* session.h - the one compile-and-run entry point: check a parsed (or
 * parse a) program, generate its code, load it, attach, run the event
 * loop, detach.  The main command, `etrace snoop`, the live flame-graph
 * sampler and the exporter all run programs through it.
 *
 * To serve something while the program runs (the exporter's HTTP
 * socket), set opt->loop_fd and opt->loop_ready: the event loop
 * (runtime/loop.h) calls loop_ready(loop_ctx) whenever loop_fd is
 * readable, between ring-buffer drains.  The maps stay readable after
 * session_run (s->c->maps) until session_close, so a caller can read
 * them while the program runs (from loop_ready) and after it ends.
 * Several programs: one Session each, run one after the other; a caller
 * wanting them concurrently builds on loop.h and ring.h directly (one
 * Loop, each program's ring buffer added with its own handler). */
#ifndef ETRACE_SESSION_H
#define ETRACE_SESSION_H

#include "etrace.h"

typedef struct Session {
  /* the program: c when the caller checked it already (sema_program:
   * the exporter adjusts its maps before code generation), else prog when
   * the caller parsed it, else src is parsed */
  Compiled *c;
  Program *prog;
  const Source *src;
  Options *opt;
  Output out;            /* f, format, no_exit_maps (out.c is set here) */
  const char *ctf_dir;   /* -f ctf: printf events to this trace */
  bool compile_only;     /* --dry-run: no kernel objects */
  bool verify_only;      /* --verify: load (the verifier runs), no attach */
  bool dump_dis;         /* -d dis: each program as BPF assembly */
  bool show_programs;    /* -v: the same on stderr, with sizes */
  /* after loading, before attaching (flame graph: "sampling...", the
   * exporter's HTTP server): 0, or -1 to stop there (session_run
   * returns 1) */
  int (*loaded)(void *arg);
  void *loaded_arg;
} Session;

/* Returns the exit code: the program's, or 1 after an error (printed). */
int session_run(Session *s);
/* Close the programs, maps and dispatcher of s->c. */
void session_close(Session *s);

#endif
