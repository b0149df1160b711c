/* btfindex.c - vmlinux BTF's named types by name and kind.
 *
 * libbpf's btf__find_by_name_kind() walks every type (about 150k here,
 * a few ms a lookup), so a glob that matches thousands of kernel
 * functions (kretprobe:*) spent minutes finding their BTF ids one scan
 * at a time.  This index is built on the first lookup, once per process
 * (vmlinux BTF is read-only kernel data, like the parsed BTF it points
 * into), as an open-addressing hash of type ids keyed by (name, kind):
 * one walk to build, then each lookup is a few probes.  Building costs
 * about as much as a handful of scans (4 ms here), so the first
 * LINEAR_LOOKUPS lookups still scan: a program naming a few kernel types
 * or functions does not pay for the index.
 */
#include "etrace.h"

#include <bpf/btf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { LINEAR_LOOKUPS = 8 };

static struct {
  int lookups;
  bool built;
  const struct btf *btf;
  uint32_t *ids; /* 0: an empty slot */
  size_t mask;
} idx;

static size_t slot_of(const char *name, int kind) {
  uint64_t h = 1469598103934665603ull ^ (unsigned)kind; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29));
}

static void build(void) {
  idx.built = true;
  const struct btf *btf = btf_vmlinux();
  if (!btf)
    return;
  int n = btf__type_cnt(btf);
  size_t cap = 1024;
  while (cap < 2 * (size_t)n)
    cap *= 2;
  idx.ids = calloc(cap, sizeof *idx.ids);
  if (!idx.ids)
    return;
  idx.btf = btf;
  idx.mask = cap - 1;
  for (int id = 1; id < n; id++) {
    const struct btf_type *t = btf__type_by_id(btf, id);
    const char *name = btf__name_by_offset(btf, t->name_off);
    if (!name || !*name)
      continue;
    int kind = btf_kind(t);
    size_t i = slot_of(name, kind) & idx.mask;
    for (; idx.ids[i]; i = (i + 1) & idx.mask) {
      const struct btf_type *o = btf__type_by_id(btf, idx.ids[i]);
      if (btf_kind(o) == kind && !strcmp(btf__name_by_offset(btf, o->name_off), name))
        break; /* a repeated name: the lowest id stays, as libbpf finds it */
    }
    if (!idx.ids[i])
      idx.ids[i] = id;
  }
}

int btf_vmlinux_find(const char *name, int kind) {
  if (!idx.built && idx.lookups++ < LINEAR_LOOKUPS) {
    const struct btf *btf = btf_vmlinux();
    int id = btf ? btf__find_by_name_kind(btf, name, kind) : -1;
    return id > 0 ? id : -1;
  }
  if (!idx.built)
    build();
  if (!idx.ids)
    return -1;
  for (size_t i = slot_of(name, kind) & idx.mask; idx.ids[i]; i = (i + 1) & idx.mask) {
    const struct btf_type *t = btf__type_by_id(idx.btf, idx.ids[i]);
    if (btf_kind(t) == kind && !strcmp(btf__name_by_offset(idx.btf, t->name_off), name))
      return idx.ids[i];
  }
  return -1;
}
