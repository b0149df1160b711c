/* t.c - driver for the unit tests of src/symbols/elfsym.c (tests/probes/uprobe/run.sh).
 *
 *   t arg [--arch A] SPEC...
 *                     parse USDT argument specs (as architecture A writes
 *                     them: x86_64 by default, arm64), one line each:
 *                     "SPEC: const|reg|mem size=N signed=B reg=OFF rsize=N
 *                      index=OFF scale=N value=V ip=B sym=NAME", or "SPEC: error"
 *   t syms FILE       "NAME VADDR OFFSET SIZE" for every function symbol
 *   t usdt FILE       "PROVIDER:NAME PC OFFSET SEMAPHORE ARGS" for every note
 */
#include "etrace.h"
#include "arch/arch.h"

#include <inttypes.h>
#include <string.h>

static const char *kinds[] = {"const", "reg", "mem"};

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "arg")) {
    int first = 2;
    if (argc >= 4 && !strcmp(argv[2], "--arch")) {
      if (arch_select(argv[3]) < 0)
        return 2;
      first = 4;
    }
    for (int i = first; i < argc; i++) {
      UsdtArg a;
      if (usdt_parse_arg(argv[i], &a) < 0) {
        printf("%s: error\n", argv[i]);
        continue;
      }
      printf("%s: %s size=%d signed=%d reg=%d rsize=%d index=%d scale=%d value=%" PRId64
             " ip=%d sym=%s\n",
             argv[i], kinds[a.kind], a.size, a.is_signed, a.reg, a.reg_size, a.index, a.scale,
             a.value, a.ip_rel, a.sym ? a.sym : "-");
    }
    return 0;
  }
  if (argc == 3 && (!strcmp(argv[1], "syms") || !strcmp(argv[1], "usdt"))) {
    const char *err;
    ElfInfo *e = elfsym_open(argv[2], &err);
    if (!e) {
      printf("error: %s\n", err);
      return 1;
    }
    if (argv[1][0] == 's')
      for (int i = 0; i < e->nsyms; i++)
        printf("%s %#" PRIx64 " %#" PRIx64 " %" PRIu64 "\n", e->syms[i].name, e->syms[i].vaddr,
               e->syms[i].offset, e->syms[i].size);
    else
      for (int i = 0; i < e->nusdt; i++) {
        UsdtProbe *p = &e->usdt[i];
        printf("%s:%s %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %s%s\n", p->provider, p->name,
               p->pc, p->offset, p->sema_offset, p->args_text, p->args_ok ? "" : " (unparsed)");
      }
    return 0;
  }
  fprintf(stderr, "usage: t arg SPEC... | t syms FILE | t usdt FILE\n");
  return 2;
}
