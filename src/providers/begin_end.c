/* begin_end.c - BEGIN and END: programs etrace runs itself.
 *
 * They are raw_tp programs run once through BPF_PROG_TEST_RUN, in
 * etrace's own context: BEGIN after every probe is attached, END after
 * they are detached.  Several of each run in program order.
 */
#include "providers/provider.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

extern const Provider provider_begin_end;

static const char *const aliases[] = {"begin", "END", "end", NULL};

static int expand(ProvExpand *x) {
  if (x->rest) { /* "BEGIN:..." */
    diag_error(x->loc, "unknown probe type '%s'", x->prefix);
    return -1;
  }
  bool end = x->prefix[0] == 'E' || x->prefix[0] == 'e';
  /* data: the phase the program runs in */
  prov_add_target(x, &provider_begin_end, end ? "END" : "BEGIN", end ? "END" : "BEGIN",
                  PROBE_CAP_ANY_PROCESS | PROBE_CAP_IN_ETRACE, (void *)(uintptr_t)(end ? RUN_END : RUN_BEGIN));
  return 0;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_RAW_TRACEPOINT};
  return 0;
}

static int attach(Target *t, const AttachEnv *env) { return 0; }

static int run(Target *t, RunPhase phase, const RunEnv *env) {
  if ((RunPhase)(uintptr_t)t->data != phase)
    return 0;
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  if (bpf_prog_test_run_opts(t->prog_fd, &opts)) {
    diag_fatal("cannot run %s: %s", t->name, strerror(errno));
    return -1;
  }
  if (phase == RUN_BEGIN) { /* it never runs again: give the kernel its memory back */
    close(t->prog_fd);
    t->prog_fd = -1;
  }
  return 0;
}

const Provider provider_begin_end = {
    .name = "BEGIN",
    .aliases = aliases,
    .no_address_space = true,
    .bare = true,
    .expand = expand,
    .prog_spec = prog_spec,
    .attach = attach,
    .run = run,
};
