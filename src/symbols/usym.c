/* usym.c - user-space symbols: process maps and per-file symbol tables.
 *
 * An address in a process is symbolised in three steps:
 *   1. the process's mapping that holds it (from /proc/PID/maps);
 *   2. the file offset, addr - start + pgoff, and through the file's
 *      PT_LOAD segments the link-time address.  This one rule covers
 *      position-dependent executables, PIEs and shared libraries alike;
 *   3. the symbol at or below that address in the file's tables
 *      (elfsym.c: .symtab, .dynsym, or the separate debug file), kept only
 *      when it covers the address (its size), as bcc decides.
 *
 * Processes that exit before their stacks print.  /proc/PID/maps is empty
 * once a process has exited, and bpftrace 0.17 prints bare addresses for
 * such processes.  etrace reads a pid's maps while it lives:
 *   - the BPF program sends a REC_PID record the first time ustack or usym
 *     sees a pid (cg.c; a hash map of reported pids keeps it to once per
 *     pid) and the event loop calls sym_pid_seen() when it arrives, which
 *     is usually microseconds later, while the process still runs;
 *   - -p PID is read at start;
 *   - a pid never reported (the pid map was full) is read when first
 *     needed, at print time.
 * A snapshot is only reread when an address falls outside every mapping
 * (a library loaded later, an exec) and the process still lives, at most
 * every 200 ms.  Symbol tables are loaded per file, on first use, and
 * shared by every process mapping that file.  Files replaced or deleted
 * since they were mapped are read through /proc/PID/map_files while the
 * process lives, so a rebuilt binary does not lend its new symbols.
 *
 * Limits: a process that exits within microseconds of its first event
 * can still be gone when its REC_PID arrives (its frames then print as
 * addresses, as in bpftrace); a pid reused by a new process keeps the
 * first process's maps unless an address misses them.
 */
#include "etrace.h"

#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct UFile {
  char *path;          /* as /proc/PID/maps names it (module in perf mode) */
  char *load_path;     /* where to read it: path, or /proc/PID/map_files/... */
  unsigned long ino;
  ElfInfo *elf;        /* NULL until loaded, or when it cannot be read */
  bool tried;
  int generation;      /* arena generation elf was allocated in */
  struct UFile *next;  /* hash chain */
} UFile;

typedef struct UMap {
  uint64_t start, end, pgoff;
  UFile *file;
} UMap;

typedef struct UProc {
  int pid;
  UMap *maps;          /* sorted by start */
  int nmaps;
  double read_at;      /* monotonic seconds of the last read */
  UFile *bias_file;    /* a file placed by a uprobe hit (sym_pid_bias) */
  uint64_t bias;
  struct UProc *next;
} UProc;

#define NBUCKETS 1024
static UFile *files[NBUCKETS];
static UProc *procs[NBUCKETS];
static int nprocs, nfiles, nsyms_loaded;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned hash_str(const char *s) {
  unsigned h = 5381;
  while (*s)
    h = h * 33 + (unsigned char)*s++;
  return h;
}

/* ------------------------------------------------------------ files */

static UFile *file_get(const char *path, unsigned long ino) {
  unsigned h = (hash_str(path) ^ (unsigned)ino) % NBUCKETS;
  for (UFile *f = files[h]; f; f = f->next)
    if (f->ino == ino && !strcmp(f->path, path))
      return f;
  UFile *f = calloc(1, sizeof *f);
  f->path = strdup(path);
  f->ino = ino;
  f->next = files[h];
  files[h] = f;
  nfiles++;
  return f;
}

static ElfInfo *file_elf(UFile *f) {
  /* elfsym_open allocates from the compile arena: tables loaded before an
   * arena_free_all() (another compilation in this process) are gone */
  if (f->tried && f->generation != arena_generation()) {
    f->tried = false;
    f->elf = NULL;
  }
  if (!f->tried) {
    f->generation = arena_generation();
    f->tried = true;
    const char *err;
    f->elf = elfsym_open(f->load_path ? f->load_path : f->path, &err);
    if (f->elf)
      nsyms_loaded += f->elf->nby_addr;
  }
  return f->elf;
}

/* ------------------------------------------------------------ maps */

static int cmp_map(const void *a, const void *b) {
  const UMap *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* (Re)read /proc/PID/maps into p.  Keeps the old snapshot when the
 * process is gone (its maps read empty). */
static void read_maps(UProc *p) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", p->pid);
  p->read_at = now_s();
  FILE *fp = fopen(path, "re");
  if (!fp)
    return;
  UMap *maps = NULL;
  int n = 0, cap = 0;
  char line[4096 + 256];
  while (fgets(line, sizeof line, fp)) {
    unsigned long long start, end, pgoff;
    unsigned long ino;
    char perms[8];
    int name_at = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %*s %lu %n", &start, &end, perms, &pgoff, &ino,
               &name_at) < 5 || !name_at)
      continue;
    char *name = line + name_at;
    name[strcspn(name, "\n")] = 0;
    if (name[0] != '/')
      continue; /* anonymous memory, [vdso], [stack]: no symbols (as bcc) */
    bool deleted = false;
    size_t len = strlen(name);
    if (len > 10 && !strcmp(name + len - 10, " (deleted)")) {
      name[len - 10] = 0;
      deleted = true;
    }
    UFile *f = file_get(name, ino);
    if (!f->tried && !f->load_path) {
      /* the file at that path is no longer the one mapped: read the
       * mapped one through map_files while the process lives */
      struct stat st;
      if (deleted || stat(name, &st) || st.st_ino != ino) {
        char mf[96];
        snprintf(mf, sizeof mf, "/proc/%d/map_files/%llx-%llx", p->pid, start, end);
        f->load_path = strdup(mf);
        file_elf(f);
      }
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      maps = realloc(maps, sizeof(UMap) * cap);
    }
    maps[n++] = (UMap){start, end, pgoff, f};
  }
  fclose(fp);
  if (!n) { /* exited (or a kernel thread): keep what we had */
    free(maps);
    return;
  }
  qsort(maps, n, sizeof(UMap), cmp_map);
  free(p->maps);
  p->maps = maps;
  p->nmaps = n;
}

static UProc *proc_get(int pid, bool create) {
  unsigned h = (unsigned)pid % NBUCKETS;
  for (UProc *p = procs[h]; p; p = p->next)
    if (p->pid == pid)
      return p;
  if (!create)
    return NULL;
  UProc *p = calloc(1, sizeof *p);
  p->pid = pid;
  p->next = procs[h];
  procs[h] = p;
  nprocs++;
  read_maps(p);
  return p;
}

void sym_pid_seen(int pid) {
  if (pid <= 0)
    return;
  UProc *p = proc_get(pid, false);
  if (p)
    read_maps(p);
  else
    proc_get(pid, true);
}

static const UMap *find_map(const UProc *p, uint64_t addr) {
  int lo = 0, hi = p->nmaps;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (p->maps[mid].start <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || addr >= p->maps[lo - 1].end)
    return NULL;
  return &p->maps[lo - 1];
}

/* ------------------------------------------------------------ symbols */

static bool offset_to_vaddr(const ElfInfo *e, uint64_t off, uint64_t *vaddr) {
  for (int i = 0; i < e->nsegs; i++) {
    const ElfSeg *s = &e->segs[i];
    if (off >= s->offset && off < s->offset + s->filesz) {
      *vaddr = off - s->offset + s->vaddr;
      return true;
    }
  }
  return false;
}

/* The symbol covering vaddr: the nearest at or below it, or one a little
 * further down that contains it (a function around a sized label). */
static const ElfSym *sym_at(const ElfInfo *e, uint64_t vaddr) {
  int lo = 0, hi = e->nby_addr;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (e->by_addr[mid].vaddr <= vaddr)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (int i = lo - 1, tries = 0; i >= 0 && tries < 16; i--, tries++) {
    const ElfSym *s = &e->by_addr[i];
    if (vaddr < s->vaddr + s->size || (s->size == 0 && vaddr == s->vaddr))
      return s;
  }
  return NULL;
}

void sym_pid_bias(int pid, const char *path, uint64_t bias) {
  UProc *p = proc_get(pid, true);
  p->bias_file = file_get(path, 0);
  p->bias = bias;
}

bool sym_probe_vaddr(const UserSite *site, uint64_t *vaddr) {
  ElfInfo *e = site->path ? file_elf(file_get(site->path, 0)) : NULL;
  return e && offset_to_vaddr(e, site->offset, vaddr);
}

static bool in_segments(const ElfInfo *e, uint64_t vaddr) {
  for (int i = 0; i < e->nsegs; i++)
    if (vaddr >= e->segs[i].vaddr && vaddr < e->segs[i].vaddr + e->segs[i].filesz)
      return true;
  return false;
}

bool sym_user(int pid, uint64_t addr, const char **name, uint64_t *off, const char **module) {
  *module = NULL;
  if (pid <= 0)
    return false;
  UProc *p = proc_get(pid, true);
  const UMap *m = find_map(p, addr);
  if (!m && now_s() - p->read_at > 0.2) {
    read_maps(p);
    m = find_map(p, addr);
  }
  ElfInfo *e;
  uint64_t vaddr;
  const char *path;
  if (m) {
    *module = m->file->path; /* known even when the file has no symbols */
    e = file_elf(m->file);
    path = m->file->path;
    if (!e || !offset_to_vaddr(e, addr - m->start + m->pgoff, &vaddr))
      return false;
  } else if (p->bias_file && (e = file_elf(p->bias_file)) && in_segments(e, addr - p->bias)) {
    vaddr = addr - p->bias; /* the process is gone; a uprobe placed this file */
    path = p->bias_file->path;
  } else {
    return false;
  }
  *module = path; /* also without a symbol there */
  const ElfSym *s = sym_at(e, vaddr);
  if (!s)
    return false;
  *name = s->name;
  *off = vaddr - s->vaddr;
  return true;
}

void sym_user_stats(int *np, int *nf, int *ns) {
  *np = nprocs;
  *nf = nfiles;
  *ns = nsyms_loaded;
}

/* ------------------------------------------------------------ uaddr */

const char *sym_uaddr(const UserSite *site, const char *name, SymUaddr *out) {
  UFile *f = file_get(site->path, 0);
  ElfInfo *e = file_elf(f);
  if (!e)
    return eprintf("cannot read the symbols of %s", site->path);
  const ElfSym *s = elfsym_find(e, name); /* functions, every alias */
  for (int i = 0; i < e->nby_addr && !s; i++)
    if (!strcmp(e->by_addr[i].name, name))
      s = &e->by_addr[i];
  if (!s)
    return eprintf("no symbol named '%s' in %s", name, site->path);
  out->size = s->size;
  out->relative = e->elf_type == ET_DYN;
  out->value = s->vaddr;
  if (!out->relative)
    return NULL;
  /* Position-independent: the load address is only known at run time.
   * A uprobe or USDT probe sees its own address in ip, and the probed
   * instruction's link-time address is known here. */
  if (site->is_return)
    return eprintf("%s is position-independent and a uretprobe does not know where it is "
                   "loaded; use uaddr() in a uprobe or usdt probe",
                   site->path);
  uint64_t probe_vaddr;
  if (!offset_to_vaddr(e, site->offset, &probe_vaddr))
    return eprintf("cannot place the probe of %s in its segments", site->path);
  out->value = s->vaddr - probe_vaddr;
  return NULL;
}
