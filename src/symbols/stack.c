/* stack.c - stack maps and the text of stacks, ksym() and usym().
 *
 * A stack value is the id bpf_get_stackid() returned (low 32 bits,
 * negative when there was no stack: a kstack taken in user context, a
 * bucket collision) and, for ustack, the pid (high 32 bits).  The frames
 * live in the BPF_MAP_TYPE_STACK_TRACE map of the stack's frame count.
 *
 * Text, as bpftrace 0.17 prints it:
 *   bpftrace mode   "\n" + per frame: indent spaces, "sym+off" or "0xADDR"
 *   perf mode       "\n" + per frame: "\t" ADDR " sym+off" (kernel), or
 *                   " sym+off (module)" / " 0xADDR ([unknown])" (user)
 *   raw mode        "\n" + per frame: ADDR (hex, current bpftrace)
 * and "" when the stack id names no stack.  The indent is 4 in map keys
 * and 8 elsewhere (print, printf, map values).
 */
#include "etrace.h"

#include <bpf/bpf.h>
#include <string.h>

static int stack_fds[STACK_MAX_FRAMES + 1];
static bool fds_init;

void sym_stack_map_set(int limit, int fd) {
  if (!fds_init) {
    for (int i = 0; i <= STACK_MAX_FRAMES; i++)
      stack_fds[i] = -1;
    fds_init = true;
  }
  if (limit >= 1 && limit <= STACK_MAX_FRAMES)
    stack_fds[limit] = fd;
}

int sym_stack_read(int limit, int32_t id, uint64_t *ips) {
  if (id < 0 || !fds_init || limit < 1 || limit > STACK_MAX_FRAMES || stack_fds[limit] < 0)
    return -1;
  uint64_t buf[STACK_MAX_FRAMES];
  memset(buf, 0, sizeof buf);
  if (bpf_map_lookup_elem(stack_fds[limit], &id, buf))
    return -1;
  int n = 0;
  while (n < limit && buf[n])
    n++;
  memcpy(ips, buf, sizeof(uint64_t) * n);
  return n;
}

/* C++'s ostream << (void *)addr: "0x1f" (and "0" for a null pointer). */
static void put_addr(Buf *b, uint64_t addr) {
  if (addr)
    buf_printf(b, "0x%llx", (unsigned long long)addr);
  else
    buf_put(b, "0", 1);
}

void sym_stack_text(Buf *b, const uint64_t *ips, int n, bool user, int pid, int mode,
                    int indent) {
  if (n < 0)
    return;
  buf_put(b, "\n", 1);
  for (int i = 0; i < n; i++) {
    uint64_t a = ips[i];
    const char *name, *module = NULL;
    uint64_t off;
    if (mode == STACK_MODE_RAW) {
      buf_printf(b, "%llx\n", (unsigned long long)a);
      continue;
    }
    bool ok = user ? sym_user(pid, a, &name, &off, &module) : sym_kernel(a, &name, &off);
    if (mode == STACK_MODE_PERF)
      buf_printf(b, "\t%llx ", (unsigned long long)a);
    else
      buf_printf(b, "%*s", indent, "");
    if (ok)
      buf_printf(b, "%s+%llu", name, (unsigned long long)off);
    else
      put_addr(b, a);
    if (mode == STACK_MODE_PERF && user)
      buf_printf(b, " (%s)", ok ? module : "[unknown]");
    buf_put(b, "\n", 1);
  }
}

void sym_ksym_text(Buf *b, uint64_t addr) {
  const char *name;
  uint64_t off;
  if (sym_kernel(addr, &name, &off))
    buf_put(b, name, strlen(name));
  else
    put_addr(b, addr);
}

void sym_usym_text(Buf *b, uint64_t addr, int pid) {
  const char *name, *module;
  uint64_t off;
  if (sym_user(pid, addr, &name, &off, &module))
    buf_put(b, name, strlen(name));
  else
    put_addr(b, addr);
}
