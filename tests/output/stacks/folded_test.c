/* folded_test.c - rt_folded_stacks() on maps filled by hand.
 *
 * A hash map laid out like a stack map (id -> frames) stands in for the
 * kernel's stack map (user space cannot write those); the frames are real
 * kernel addresses (from kallsyms) and addresses of this program's own
 * functions, so symbolisation is real.  Prints the folded lines; run.sh
 * compares them with the expected text.
 */
#include "etrace.h"
#include "runtime/rt.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline, used)) int leaf_fn(int x) { return x * 3 + 1; }

static MapInfo *count_map(Type *stack) {
  Type *f[2] = {stack, ty_str(16)};
  MapInfo *m = calloc(1, sizeof *m);
  m->name = "@";
  m->key = ty_tuple(f, 2);
  m->nkeys = 2;
  m->val = ty_agg(TY_COUNT, false);
  m->percpu = true;
  m->key_size = m->key->size;
  m->val_size = 8;
  m->fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "fold", m->key_size, 8, 16, NULL);
  return m;
}

static void add(MapInfo *m, uint64_t stack, const char *comm, uint64_t n) {
  unsigned char key[24] = {0};
  memcpy(key, &stack, 8);
  strncpy((char *)key + 8, comm, 15);
  int ncpu = libbpf_num_possible_cpus();
  uint64_t *vals = calloc(ncpu, 8);
  vals[0] = n;
  bpf_map_update_elem(m->fd, key, vals, BPF_ANY);
  free(vals);
}

int main(void) {
  types_init();
  int sfd = bpf_map_create(BPF_MAP_TYPE_HASH, "fakestack", 4, 4 * 8, 16, NULL);
  if (sfd < 0) {
    perror("bpf_map_create");
    return 1;
  }
  sym_stack_map_set(4, sfd);
  uint64_t vr = sym_kernel_addr("vfs_read"), kr = sym_kernel_addr("ksys_read");
  uint64_t frames[3][4] = {
      {vr + 5, kr + 10, 0, 0},                                /* leaf first */
      {vr + 9, kr + 3, 0, 0},                                 /* same functions */
      {(uint64_t)(uintptr_t)leaf_fn + 1, (uint64_t)(uintptr_t)main + 2, 0, 0},
  };
  for (uint32_t id = 0; id < 3; id++)
    bpf_map_update_elem(sfd, &id, frames[id], BPF_ANY);

  Type ks = {.kind = TY_STACK, .size = 8, .stack_limit = 4};
  Type us = ks;
  us.stack_user = true;
  MapInfo *km = count_map(&ks), *um = count_map(&us);
  add(km, 0, "reader", 3);
  add(km, 1, "reader", 2);
  add(km, (uint64_t)-1 & 0xffffffff, "nostack", 7); /* id -1: no frames */
  add(um, 2 | (uint64_t)getpid() << 32, "self", 4);
  Buf b = {0};
  int n1 = rt_folded_stacks(km, &b, "_[k]");
  int n2 = rt_folded_stacks(um, &b, "_[k]");
  fwrite(b.data, 1, b.len, stdout);
  printf("lines %d %d\n", n1, n2);
  return 0;
}
