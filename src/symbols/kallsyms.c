/* kallsyms.c - kernel symbols from /proc/kallsyms, loaded on first use.
 *
 * The file (about 200 000 lines here) is read once into one buffer; the
 * names stay in it, NUL-terminated in place, and an array of (address,
 * name) sorted by address answers lookups by binary search.  An address
 * belongs to the nearest symbol at or below it, as bcc (and so bpftrace)
 * decides; among symbols sharing an address the last one in the file wins.
 * Nothing here runs unless a program prints a kernel symbol or calls
 * kaddr().  Addresses read as 0 when kptr_restrict hides them: then
 * nothing resolves and stacks print raw addresses.
 */
#include "etrace.h"

#include <stdlib.h>
#include <string.h>

typedef struct KSym {
  uint64_t addr;
  const char *name;
} KSym;

static KSym *ksyms;
static int nksyms;
static bool loaded;
static char *text;   /* the file, names cut out in place */

/* By address, then file order (names point into `text` in file order). */
static int cmp_ksym(const void *a, const void *b) {
  const KSym *x = a, *y = b;
  if (x->addr != y->addr)
    return x->addr < y->addr ? -1 : 1;
  return x->name < y->name ? -1 : x->name > y->name;
}

static uint64_t hex(const char **p) {
  uint64_t v = 0;
  for (;; (*p)++) {
    char c = **p;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0)
      return v;
    v = v << 4 | d;
  }
}

static void load(void) {
  if (loaded)
    return;
  loaded = true;
  size_t len;
  text = read_file("/proc/kallsyms", &len);
  if (!text)
    return;
  int cap = 1 << 16;
  ksyms = malloc(sizeof(KSym) * cap);
  bool sorted = true;
  for (char *p = text; p < text + len;) {
    char *eol = memchr(p, '\n', text + len - p);
    if (!eol)
      eol = text + len;
    *eol = 0;
    /* "ffffffff816d5370 T vfs_read" or "... t name\t[module]" */
    const char *q = p;
    uint64_t addr = hex(&q);
    if (*q == ' ' && q[1] && q[2] == ' ' && addr) {
      char *name = (char *)q + 3;
      char *tab = strchr(name, '\t');
      if (tab)
        *tab = 0;
      char type = q[1];
      /* absolute symbols (per-CPU offsets, ...) are not code locations */
      if (type != 'a' && type != 'A') {
        if (nksyms == cap) {
          cap *= 2;
          ksyms = realloc(ksyms, sizeof(KSym) * cap);
        }
        if (nksyms && addr < ksyms[nksyms - 1].addr)
          sorted = false;
        ksyms[nksyms++] = (KSym){addr, name};
      }
    }
    p = eol + 1;
  }
  if (!sorted) /* module symbols come after the core kernel's */
    qsort(ksyms, nksyms, sizeof(KSym), cmp_ksym);
}

bool sym_kernel(uint64_t addr, const char **name, uint64_t *off) {
  load();
  int lo = 0, hi = nksyms; /* first index with ksyms[i].addr > addr */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (ksyms[mid].addr <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return false;
  *name = ksyms[lo - 1].name;
  *off = addr - ksyms[lo - 1].addr;
  return true;
}

uint64_t sym_kernel_addr(const char *name) {
  load();
  /* first in file order, as bpftrace's kaddr() scans the file */
  const KSym *best = NULL;
  for (int i = 0; i < nksyms; i++)
    if (!strcmp(ksyms[i].name, name) && (!best || ksyms[i].name < best->name))
      best = &ksyms[i];
  return best ? best->addr : 0;
}
