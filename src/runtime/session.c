/* session.c - compile, load, attach, run, detach (session.h). */
#include "runtime/session.h"

#include <time.h>
#include <unistd.h>

static void dump_programs(const Session *s) {
  const Compiled *c = s->c;
  if (s->dump_dis) {
    FILE *f = s->compile_only ? stdout : stderr;
    for (int i = 0; i < c->ntargets; i++) {
      fprintf(f, "%s:\n", c->targets[i]->name);
      disasm_print(f, c->targets[i]->insns, c->targets[i]->ninsns, c);
    }
  } else if (s->show_programs && !s->compile_only) {
    for (int i = 0; i < c->ntargets; i++) {
      fprintf(stderr, "%s: %d instructions\n", c->targets[i]->name, c->targets[i]->ninsns);
      disasm_print(stderr, c->targets[i]->insns, c->targets[i]->ninsns, c);
    }
  }
}

/* sema and code generation.  0, or -1 after located errors. */
static int compile(Session *s) {
  if (!s->c) {
    Program *prog = s->prog ? s->prog : parse_program(s->src);
    if (!prog || !(s->c = sema_program(prog, s->opt)))
      return -1;
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  s->c->start_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
  s->c->ctf_records = s->ctf_dir != NULL;
  if (cg_program(s->c, s->opt) < 0)
    return -1;
  dump_programs(s);
  return 0;
}

int session_run(Session *s) {
  if (compile(s) < 0)
    return 1;
  if (s->compile_only)
    return 0;
  if (load_program(s->c, s->opt) < 0)
    return 1;
  if (s->verify_only) /* the verifier accepted every program */
    return 0;
  s->out.c = s->c;
  if (s->ctf_dir && rt_ctf_open(&s->out, s->ctf_dir) < 0)
    return 1;
  if (s->loaded && s->loaded(s->loaded_arg) < 0)
    return 1;
  int rc = rt_run(s->c, s->opt, &s->out);
  if (s->out.ctf && rt_ctf_close(&s->out) < 0 && rc == 0)
    rc = 1;
  return rc;
}

void session_close(Session *s) {
  Compiled *c = s->c;
  if (!c)
    return;
  for (int i = 0; i < c->ntargets; i++)
    if (c->targets[i]->prog_fd >= 0) {
      close(c->targets[i]->prog_fd);
      c->targets[i]->prog_fd = -1;
    }
  for (int i = 0; i < c->nmaps; i++)
    if (c->maps[i]->fd >= 0) {
      close(c->maps[i]->fd);
      c->maps[i]->fd = -1;
    }
  systp_close(c);
  if (c->owns_types) {
    program_types_free(c->types);
    c->types = c->prog->types = NULL;
    c->owns_types = false;
  }
}
