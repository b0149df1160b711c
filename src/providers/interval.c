/* interval.c - interval:UNIT:N (i:) and profile:UNIT:N (p:): timers.
 *
 * Both are cpu-clock perf events.  interval fires on one CPU in no
 * particular process; profile samples every CPU (one event each), in
 * whatever runs there.  Units: s, ms, us, ns, hz ("interval:1s" too).
 */
#include "providers/provider.h"
#include "providers/attach.h"

#include <stdlib.h>
#include <string.h>

extern const Provider provider_interval;

static const char *const aliases[] = {"i", "profile", "p", NULL};

typedef struct Timer {
  uint64_t period_ns, freq_hz;   /* one of them */
  bool profile;
} Timer;

/* interval:s:1, interval:1s, interval:hz:10, profile:hz:99, profile:ms:10 */
static bool parse_rate(const char *spec, uint64_t *period_ns, uint64_t *freq_hz) {
  char unit[8] = "";
  unsigned long long n = 0;
  const char *colon = strchr(spec, ':');
  char *end;
  if (colon) {
    size_t ul = colon - spec;
    if (ul >= sizeof unit)
      return false;
    memcpy(unit, spec, ul);
    unit[ul] = 0;
    n = strtoull(colon + 1, &end, 10);
    if (end == colon + 1 || *end)
      return false;
  } else {
    n = strtoull(spec, &end, 10);
    if (end == spec || strlen(end) >= sizeof unit)
      return false;
    strcpy(unit, end);
  }
  if (n == 0)
    return false;
  *period_ns = *freq_hz = 0;
  if (!strcmp(unit, "s"))
    *period_ns = n * 1000000000ull;
  else if (!strcmp(unit, "ms"))
    *period_ns = n * 1000000ull;
  else if (!strcmp(unit, "us"))
    *period_ns = n * 1000ull;
  else if (!strcmp(unit, "ns") || !*unit)
    *period_ns = n;
  else if (!strcmp(unit, "hz"))
    *freq_hz = n;
  else
    return false;
  return true;
}

static int expand(ProvExpand *x) {
  Timer *tm = ealloc(sizeof *tm);
  tm->profile = x->prefix[0] == 'p';
  const char *kind = tm->profile ? "profile" : "interval";
  const char *rest = x->rest ? x->rest : "";
  if (!parse_rate(rest, &tm->period_ns, &tm->freq_hz)) {
    diag_error(x->loc, "invalid %s rate '%s': expected UNIT:N with UNIT one of s, ms, us, hz",
               kind, rest);
    return -1;
  }
  /* interval timers run in no particular process: -p does not filter them */
  prov_add_target(x, &provider_interval, eprintf("%s:%s", kind, rest), kind,
                  PROBE_CAP_PT_REGS | (tm->profile ? 0 : PROBE_CAP_ANY_PROCESS), tm);
  return 0;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_PERF_EVENT};
  return 0;
}

static int attach(Target *t, const AttachEnv *env) {
  const Timer *tm = t->data;
  if (!tm->profile) {
    int fd = prov_attach_perf_clock(t->prog_fd, 0, tm->period_ns, tm->freq_hz);
    return prov_attach_result(t, env, fd);
  }
  /* one sampling event per online CPU */
  int attached = 0;
  for (int cpu = 0; cpu < env->ncpu; cpu++) {
    int fd = prov_attach_perf_clock(t->prog_fd, cpu, tm->period_ns, tm->freq_hz);
    if (fd >= 0) {
      attach_keep(env, fd);
      attached++;
    }
  }
  if (!attached) {
    diag_error(t->probe->loc, "cannot attach %s", t->name);
    return -1;
  }
  return 0;
}

const Provider provider_interval = {
    .name = "interval",
    .aliases = aliases,
    .no_address_space = true,
    .expand = expand,
    .ctx_type = "struct bpf_perf_event_data *",
    .prog_spec = prog_spec,
    .attach = attach,
};
