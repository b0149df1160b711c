/* fuzz_elfsym.c - libFuzzer target: an ELF image through elfsym_open()
 * (symbol tables, PT_LOAD translation, .note.stapsdt and its argument
 * specs, build id and debug link), then every lookup the uprobe
 * provider makes.  elfsym_open() takes a path: the image is written to
 * a memfd and opened as /proc/self/fd/N.  Results the provider would
 * trust blindly (an unnamed symbol, a symbol elfsym_find() cannot find
 * again, a USDT probe with more arguments than it has room for) abort. */
#define _GNU_SOURCE
#include "etrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int memfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1 << 20))
    return 0;
  if (memfd < 0 && (memfd = memfd_create("fuzz_elf", 0)) < 0)
    abort();
  if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
    abort();
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
  const char *err = NULL;
  ElfInfo *e = elfsym_open(path, &err);
  if (!e) {
    if (!err || !*err)
      abort();
  } else {
    for (int i = 0; i < e->nsyms; i++) {
      const ElfSym *s = &e->syms[i];
      if (!s->name || !*s->name)
        abort();
      if (elfsym_find(e, s->name) == NULL)
        abort();
      elfsym_at(e, s->vaddr);
      uint64_t off;
      elfsym_offset(e, s->vaddr, &off);
    }
    for (int i = 0; i < e->nusdt; i++) {
      const UsdtProbe *p = &e->usdt[i];
      if (!p->provider || !p->name || !p->args_text)
        abort();
      if (p->nargs < 0 || p->nargs > USDT_MAX_ARGS)
        abort();
      elfsym_at(e, p->pc);
    }
    elfsym_find(e, "main");
  }
  arena_free_all();
  return 0;
}
