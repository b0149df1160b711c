/* helper_error.c - prints a -k / -kk report (REC_HELPER_ERROR): a BPF
 * helper call that failed, in bpftrace's words, where the program's output
 * goes.  Text: "FILE:LINE:COL: WARNING: Failed to HELPER: ERRNO TEXT (-N)",
 * the source line and a caret; JSON: a "helper_error" record. */
#include "etrace.h"
#include "runtime/rt.h"

#include <linux/bpf.h>
#include <string.h>

/* The helper's kernel name without "bpf_", as bpftrace 0.17 names it. */
static const char *helper_name(int helper) {
  switch (helper) {
  case BPF_FUNC_map_lookup_elem: return "map_lookup_elem";
  case BPF_FUNC_map_update_elem: return "map_update_elem";
  case BPF_FUNC_map_delete_elem: return "map_delete_elem";
  case BPF_FUNC_probe_read: return "probe_read";
  case BPF_FUNC_probe_read_kernel: return "probe_read_kernel";
  case BPF_FUNC_probe_read_user: return "probe_read_user";
  case BPF_FUNC_probe_read_str: return "probe_read_str";
  case BPF_FUNC_probe_read_kernel_str: return "probe_read_kernel_str";
  case BPF_FUNC_probe_read_user_str: return "probe_read_user_str";
  default: return "helper";
  }
}

static void print_source_line(FILE *f, int line, int col) {
  const Source *src = diag_source;
  if (!src || !src->text || line <= 0)
    return;
  const char *p = src->shown ? src->shown : src->text;
  for (int l = 1; l < line && *p; p++)
    if (*p == '\n')
      l++;
  const char *end = strchr(p, '\n');
  int len = end ? (int)(end - p) : (int)strlen(p);
  fprintf(f, "%.*s\n", len, p);
  for (int i = 1; i < col; i++)
    fputc(i - 1 < len && p[i - 1] == '\t' ? '\t' : ' ', f);
  fputs("^\n", f);
}

void rt_helper_error(Output *o, int helper, int64_t retcode, uint64_t where) {
  int line = (int)(where >> 32), col = (int)(uint32_t)where;
  const char *name = helper_name(helper);
  if (o->format == OUT_JSON) {
    fprintf(o->f, "{\"type\": \"helper_error\", \"helper\": \"%s\", \"retcode\": %lld, "
                  "\"line\": %d, \"col\": %d}\n", name, (long long)retcode, line, col);
    return;
  }
  if (diag_no_warnings) /* a text report is a warning (JSON keeps its records, as bpftrace) */
    return;
  const char *file = diag_source && diag_source->name ? diag_source->name : "etrace";
  fprintf(o->f, "%s:%d:%d: WARNING: Failed to %s: ", file, line, col, name);
  if (helper == BPF_FUNC_map_lookup_elem)
    fprintf(o->f, "%lld\n", (long long)retcode); /* a miss: bpftrace prints 0 */
  else
    fprintf(o->f, "%s (%lld)\n", strerror((int)-retcode), (long long)retcode);
  print_source_line(o->f, line, col);
}
