/* config.c - the config block: `config = { max_strlen = 64; ... }` at the
 * top of a program (current bpftrace).  A setting is named as its
 * environment variable (BPFTRACE_MAX_STRLEN), without the prefix
 * (MAX_STRLEN) or in lower case (max_strlen).  Each setting etrace knows
 * becomes the environment variable it reads, unless the environment has
 * the variable already: the environment wins, as in bpftrace.  bpftrace's
 * other settings are accepted with a warning (no effect here); any other
 * name is an error. */
#include "etrace.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Settings with an effect: the config name, the environment variables
 * that set the same thing (the first is the one etrace reads). */
static const struct {
  const char *name;
  const char *env[3];
} effective[] = {
    {"max_strlen", {"BPFTRACE_STRLEN", "BPFTRACE_MAX_STRLEN", "ETRACE_STRLEN"}},
    {"strlen", {"BPFTRACE_STRLEN", "BPFTRACE_MAX_STRLEN", "ETRACE_STRLEN"}},
    {"max_cat_bytes", {"BPFTRACE_CAT_BYTES_MAX", "BPFTRACE_MAX_CAT_BYTES"}},
    {"cat_bytes_max", {"BPFTRACE_CAT_BYTES_MAX", "BPFTRACE_MAX_CAT_BYTES"}},
};

/* bpftrace's other settings: accepted, no effect in etrace. */
static const char *const no_effect[] = {
    "cache_user_symbols", "cpp_demangle", "lazy_symbolication", "log_size",
    "max_bpf_progs", "max_map_keys", "max_probes", "max_type_res_iterations",
    "missing_probes", "on_stack_limit", "perf_rb_pages", "print_maps_on_exit",
    "show_debug_info", "stack_mode", "str_trunc_trailer", "license",
    "symbol_source", "use_blazesym",
};

/* "BPFTRACE_MAX_STRLEN", "MAX_STRLEN" or "max_strlen" -> "max_strlen" */
static char *canonical(const char *name) {
  if (strncasecmp(name, "BPFTRACE_", 9) == 0)
    name += 9;
  char *s = estrdup(name);
  for (char *p = s; *p; p++)
    *p = tolower((unsigned char)*p);
  return s;
}

static int apply_one(const ConfigSetting *s) {
  char *name = canonical(s->name);
  for (size_t i = 0; i < sizeof effective / sizeof effective[0]; i++) {
    if (strcmp(effective[i].name, name))
      continue;
    for (int k = 0; k < 3 && effective[i].env[k]; k++)
      if (getenv(effective[i].env[k]))
        return 0; /* the environment wins */
    setenv(effective[i].env[0], s->value, 1);
    return 0;
  }
  bool known = !strncmp(name, "unstable_", 9); /* bpftrace's feature gates */
  for (size_t i = 0; i < sizeof no_effect / sizeof no_effect[0] && !known; i++)
    known = !strcmp(no_effect[i], name);
  if (known) {
    diag_warn(s->loc, "config variable '%s' has no effect in etrace", s->name);
    return 0;
  }
  diag_error(s->loc, "unrecognized config variable '%s'", s->name);
  return -1;
}

int config_apply(const Program *prog) {
  int rc = 0;
  for (const ConfigSetting *s = prog->config; s; s = s->next)
    if (apply_one(s) < 0)
      rc = -1;
  return rc;
}
