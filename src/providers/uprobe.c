/* uprobe.c - uprobe (u:), uretprobe (ur:) and usdt (U:) probes.
 *
 * Expansion turns "uprobe:BIN:FUNC" into (file, file offset) sites:
 * BIN is a path, a program found through $PATH, or a library short name
 * ("libc", "c") found the way the dynamic loader finds it
 * (/proc/PID/maps with -p, /etc/ld.so.cache, the usual lib dirs); FUNC
 * is a symbol, a glob over the symbols, SYMBOL+OFF or an address.  USDT
 * probes ("usdt:BIN:[PROVIDER:]NAME") are the stapsdt notes of BIN.
 *
 * Attachment is one perf event of the uprobe PMU per site
 * (config1 = path, config2 = offset, the retprobe bit of config, and
 * the USDT semaphore in config's ref_ctr_offset bits, so the kernel
 * itself increments the semaphore in every process that maps the file),
 * owned by a BPF link.
 *
 * Programs see struct pt_regs: argN are the System V argument registers
 * (then stack slots), or as the USDT note's spec says; args.NAME comes
 * from the binary's DWARF.
 */
#define _GNU_SOURCE
#include "providers/attach.h"
#include "providers/provider.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const Provider provider_uprobe;

typedef enum { U_UPROBE, U_URETPROBE, U_USDT } UKind;

/* One uprobe / uretprobe / USDT location from an attach point. */
typedef struct USite {
  UKind type;
  char *name;            /* canonical: "uprobe:/usr/bin/bash:readline" */
  char *path;            /* absolute path of the file */
  uint64_t offset, ref_ctr;
  char *func;            /* the probed function (`func`) */
  UsdtProbe *usdt;
} USite;

/* A target's data. */
typedef struct UTarget {
  UserSite site;         /* file, file offset, uretprobe */
  UKind type;
  uint64_t ref_ctr;      /* the USDT semaphore's file offset (0: none) */
  UsdtProbe *usdt;
  const char *func;
  int func_index;        /* func in Compiled.probe_names */
  /* args.NAME: the function's parameters from DWARF, read on first use
   * (nparams < 0: none, params_why says why) */
  DwParam *params;
  int nparams;
  bool params_read;
  const char *params_why;
} UTarget;

/* ------------------------------------------------------------ names */

static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* "uprobe" / "u" ... -> type; false for other providers. */
static bool user_provider(const char *prov, size_t len, UKind *type) {
  static const struct {
    const char *name;
    UKind type;
  } names[] = {
      {"uprobe", U_UPROBE}, {"u", U_UPROBE},   {"uretprobe", U_URETPROBE},
      {"ur", U_URETPROBE},  {"usdt", U_USDT}, {"U", U_USDT},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i].name) == len && !strncmp(prov, names[i].name, len)) {
      *type = names[i].type;
      return true;
    }
  return false;
}

static const char *type_name(UKind t) {
  return t == U_URETPROBE ? "uretprobe" : t == U_USDT ? "usdt" : "uprobe";
}

/* $1..$N in an attach point take the positional parameters' text. */
static char *subst_posparams(const char *s, const Options *opt) {
  Buf b = {0};
  while (*s) {
    if (*s == '$' && isdigit((unsigned char)s[1])) {
      char *end;
      long n = strtol(s + 1, &end, 10);
      if (n >= 1 && n <= opt->nposparams)
        buf_put(&b, opt->posparams[n - 1], strlen(opt->posparams[n - 1]));
      s = end;
      continue;
    }
    buf_put(&b, s, 1);
    s++;
  }
  char *r = estrdup(b.data ? b.data : "");
  buf_free(&b);
  return r;
}

/* "name" -> name (attach points may quote names with odd characters) */
static char *unquote(const char *s) {
  size_t n = strlen(s);
  if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
    return estrndup(s + 1, n - 2);
  return estrdup(s);
}

/* ------------------------------------------------------------ binaries */

/* Absolute path without "." and ".." components (symlinks kept, as
 * written: /bin/bash stays /bin/bash). */
static char *absolute(const char *path) {
  char cwd[4096];
  const char *full = path;
  if (path[0] != '/') {
    if (!getcwd(cwd, sizeof cwd))
      return estrdup(path);
    full = eprintf("%s/%s", cwd, path);
  }
  char *out = ealloc(strlen(full) + 2);
  size_t len = 0;
  for (const char *p = full; *p;) {
    while (*p == '/')
      p++;
    const char *e = strchrnul(p, '/');
    size_t n = e - p;
    if (n == 0 || (n == 1 && p[0] == '.')) {
      /* skip */
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      while (len > 0 && out[len - 1] != '/')
        len--;
      if (len > 0)
        len--;
    } else {
      out[len++] = '/';
      memcpy(out + len, p, n);
      len += n;
    }
    p = e;
  }
  if (!len)
    out[len++] = '/';
  out[len] = 0;
  return out;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_elf64(const char *path) {
  FILE *f = fopen(path, "rb");
  unsigned char id[5] = {0};
  if (!f)
    return false;
  size_t n = fread(id, 1, 5, f);
  fclose(f);
  return n == 5 && !memcmp(id, "\177ELF", 4) && id[4] == (sizeof(void *) == 8 ? 2 : 1);
}

/* Does file name `name` belong to library `soname` ("libc.so")?  The
 * name is the soname or the soname followed by a version (".6"). */
static bool lib_name_matches(const char *name, const char *soname) {
  size_t n = strlen(soname);
  return !strncmp(name, soname, n) && (name[n] == 0 || name[n] == '.');
}

/* /etc/ld.so.cache (glibc's "glibc-ld.so.cache1.1" format, possibly after
 * an old "ld.so-1.7.0" table): the first library of our word size. */
static char *ld_cache_lookup(const char *soname) {
  size_t len;
  char *data = read_file("/etc/ld.so.cache", &len);
  if (!data)
    return NULL;
  static const char magic[] = "glibc-ld.so.cache1.1";
  char *hdr = memmem(data, len, magic, sizeof magic - 1);
  char *found = NULL;
  if (hdr && (size_t)(hdr - data) + 48 <= len) {
    size_t base = hdr - data;
    uint32_t nlibs;
    memcpy(&nlibs, hdr + 20, 4);
    for (uint32_t i = 0; i < nlibs && !found; i++) {
      size_t ent = base + 48 + (size_t)i * 24;
      if (ent + 24 > len)
        break;
      uint32_t key, value;
      memcpy(&key, data + ent + 4, 4);
      memcpy(&value, data + ent + 8, 4);
      if (base + key >= len || base + value >= len ||
          !memchr(data + base + key, 0, len - base - key) ||
          !memchr(data + base + value, 0, len - base - value))
        continue;
      const char *name = data + base + key, *path = data + base + value;
      if (lib_name_matches(name, soname) && is_elf64(path))
        found = estrdup(path);
    }
  }
  free(data);
  return found;
}

static char *lib_dirs_lookup(const char *soname) {
  static const char *const dirs[] = {
#if defined(__aarch64__)
      "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
#else
      "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
#endif
      "/lib64", "/usr/lib64",
      "/lib", "/usr/lib", "/usr/local/lib",
  };
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    DIR *d = opendir(dirs[i]);
    if (!d)
      continue;
    char *best = NULL;
    struct dirent *de;
    while ((de = readdir(d)))
      if (lib_name_matches(de->d_name, soname) && (!best || strcmp(de->d_name, best) < 0))
        best = estrdup(de->d_name);
    closedir(d);
    if (best) {
      char *path = eprintf("%s/%s", dirs[i], best);
      if (is_elf64(path))
        return path;
    }
  }
  return NULL;
}

/* A library mapped into process pid. */
static char *maps_lookup(int pid, const char *soname) {
  FILE *f = fopen(eprintf("/proc/%d/maps", pid), "r");
  if (!f)
    return NULL;
  char line[4096], *found = NULL;
  while (!found && fgets(line, sizeof line, f)) {
    char *path = strchr(line, '/');
    if (!path)
      continue;
    path[strcspn(path, "\n")] = 0;
    const char *base = strrchr(path, '/') + 1;
    if (lib_name_matches(base, soname))
      found = estrdup(path);
  }
  fclose(f);
  return found;
}

static char *path_lookup(const char *name) {
  const char *env = getenv("PATH");
  char *paths = estrdup(env && *env ? env : "/usr/local/bin:/usr/bin:/bin");
  for (char *save = NULL, *dir = strtok_r(paths, ":", &save); dir;
       dir = strtok_r(NULL, ":", &save)) {
    char *p = eprintf("%s/%s", dir, name);
    if (is_file(p) && access(p, X_OK) == 0)
      return absolute(p);
  }
  return NULL;
}

/* The files of process pid, as bpftrace names them: the executable
 * (all: false) or every ELF file it maps (all: true), each as
 * /proc/PID/root/PATH so that a process in another mount namespace is
 * reached through its own root.  Returns the count. */
static int process_files(int pid, bool all, char ***out) {
  char **paths = NULL;
  int n = 0;
  char exe[4096];
  ssize_t len = readlink(eprintf("/proc/%d/exe", pid), exe, sizeof exe - 1);
  if (len > 0 && !all) {
    exe[len] = 0;
    paths = egrow(paths, n, sizeof(char *));
    paths[n++] = eprintf("/proc/%d/root%s", pid, exe);
  }
  FILE *f = all ? fopen(eprintf("/proc/%d/maps", pid), "r") : NULL;
  char line[4096];
  while (f && fgets(line, sizeof line, f)) {
    char *path = strchr(line, '/');
    if (!path || strstr(path, " (deleted)"))
      continue;
    path[strcspn(path, "\n")] = 0;
    char *full = eprintf("/proc/%d/root%s", pid, path);
    bool seen = false;
    for (int i = 0; i < n && !seen; i++)
      seen = !strcmp(paths[i], full);
    if (seen || !is_elf64(full))
      continue;
    paths = egrow(paths, n, sizeof(char *));
    paths[n++] = full;
  }
  if (f)
    fclose(f);
  *out = paths;
  return n;
}

/* A file named by an absolute path with -p: the process's own when it
 * sees another file there (another mount namespace), else ours. */
static const char *in_process(const char *path, int pid) {
  if (pid <= 0 || path[0] != '/')
    return path;
  char *theirs = eprintf("/proc/%d/root%s", pid, path);
  struct stat a, b;
  if (stat(theirs, &b) != 0 || !S_ISREG(b.st_mode))
    return path;
  if (stat(path, &a) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
    return path;
  return theirs;
}

/* Resolve BIN to file paths (a glob may give several): a path as
 * written (names and listings show it so, as bpftrace does), a program
 * or library found by lookup as an absolute path.
 * Returns the count, or -1 after a located error. */
static int resolve_binary(const char *bin, int pid, Loc loc, bool usdt, char ***out) {
  char **paths = NULL;
  int n = 0;
  if (pid > 0 && (!*bin || !strcmp(bin, "*"))) {
    /* with -p, no binary or "*": the process's executable (uprobes) or
     * every file it maps (USDT) */
    n = process_files(pid, usdt, out);
    if (!n)
      diag_error(loc, "cannot read the files of process %d", pid);
    return n ? n : -1;
  }
  if (!*bin) {
    diag_error(loc, "missing binary: expected PROVIDER:BINARY:...");
    return -1;
  }
  if (has_glob(bin)) {
    glob_t g;
    if (glob(bin, 0, NULL, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; i++)
        if (is_file(g.gl_pathv[i])) {
          paths = egrow(paths, n, sizeof(char *));
          paths[n++] = estrdup(g.gl_pathv[i]);
        }
      globfree(&g);
    }
    if (!n) {
      diag_error(loc, "no file matches '%s'", bin);
      return -1;
    }
    *out = paths;
    return n;
  }
  char *path = NULL;
  if (strchr(bin, '/')) {
    if (!is_file(in_process(bin, pid))) {
      diag_error(loc, "uprobe target file '%s' does not exist or is not a regular file", bin);
      return -1;
    }
    path = estrdup(bin);
  } else {
    /* a program on $PATH, else a library: "libc" and "c" are libc.so */
    char *soname = strstr(bin, ".so")          ? estrdup(bin)
                   : !strncmp(bin, "lib", 3) ? eprintf("%s.so", bin)
                                             : eprintf("lib%s.so", bin);
    path = path_lookup(bin);
    if (!path && pid > 0)
      path = maps_lookup(pid, soname);
    if (!path)
      path = ld_cache_lookup(soname);
    if (!path)
      path = lib_dirs_lookup(soname);
    if (!path) {
      diag_error(loc, "cannot find '%s': not a file, a program on $PATH or a library "
                      "(%s) the dynamic loader knows", bin, soname);
      return -1;
    }
  }
  paths = egrow(paths, 0, sizeof(char *));
  paths[0] = path;
  *out = paths;
  return 1;
}

static ElfInfo *open_elf(const char *path, Loc loc) {
  const char *why = NULL;
  ElfInfo *e = elfsym_open(path, &why);
  if (!e)
    diag_error(loc, "cannot read %s: %s", path, why);
  return e;
}

/* ------------------------------------------------------------ expansion */

typedef struct Sites {
  USite *v;
  int n;
} Sites;

static USite *add_usite(Sites *s, UKind type, char *name, const char *path) {
  s->v = egrow(s->v, s->n, sizeof(USite));
  USite *u = &s->v[s->n++];
  *u = (USite){.type = type, .name = name, .path = (char *)path};
  return u;
}

/* A uprobe in the middle of an instruction corrupts the process, and
 * etrace has no x86 decoder to check: like bpftrace without one, offsets
 * into functions need --unsafe. */
static bool offset_allowed(const char *what, bool unsafe, Loc loc) {
  if (!unsafe)
    diag_error(loc, "cannot check that %s is the start of an instruction (a uprobe inside an "
                    "instruction corrupts the process); use --unsafe to attach anyway", what);
  return unsafe;
}

/* expand_func's result for a plain function name the file lacks */
#define MISSING_FUNCTION (-2)

/* uprobe:BIN:ADDRESS: an address in the file's link-time address space */
static int expand_address(Sites *s, UKind type, const ElfInfo *e, const char *shown,
                          const char *text, Loc loc, bool unsafe) {
  const char *tn = type_name(type);
  char *end;
  errno = 0;
  unsigned long long addr = strtoull(text, &end, 0);
  if (*end || errno) {
    diag_error(loc, "invalid address '%s'", text);
    return -1;
  }
  /* bpftrace's words when no symbol holds the address */
  const char *bt = eprintf("Could not resolve address: %s:0x%llx", shown, addr);
  uint64_t off;
  if (!elfsym_offset(e, addr, &off)) {
    diag_error_bt(loc, bt, "address 0x%llx is not in a loaded segment of %s", addr, shown);
    return -1;
  }
  const ElfSym *in = elfsym_at(e, addr);
  if (!in && !unsafe) {
    diag_error_bt(loc, bt, "no function of %s holds address 0x%llx, so etrace cannot check that "
                  "it is the start of an instruction (a uprobe inside an instruction corrupts "
                  "the process); use --unsafe to attach anyway", shown, addr);
    return -1;
  }
  if (in && in->vaddr != addr && !offset_allowed(text, unsafe, loc))
    return -1;
  USite *u = add_usite(s, type, eprintf("%s:%s:%llu", tn, shown, addr), e->path);
  u->offset = off;
  u->func = in ? (addr == in->vaddr ? in->name : eprintf("%s+%llu", in->name,
                                                        (unsigned long long)(addr - in->vaddr)))
               : eprintf("0x%llx", addr);
  return 1;
}

/* uprobe:BIN:FUNC+OFFSET (off_text: OFFSET).  0 when some_file lacks FUNC. */
static int expand_offset(Sites *s, UKind type, const ElfInfo *e, const char *shown,
                         const char *func, const char *off_text, Loc loc, bool unsafe,
                         bool some_file) {
  const char *tn = type_name(type);
  char *end;
  errno = 0;
  unsigned long long off = strtoull(off_text, &end, 0);
  if (*end || errno || !*off_text || !*func) {
    diag_error(loc, "invalid function offset '%s+%s': expected FUNCTION+OFFSET", func, off_text);
    return -1;
  }
  if (type == U_URETPROBE) {
    diag_error(loc, "a uretprobe cannot be attached at an offset into a function");
    return -1;
  }
  const ElfSym *sym = elfsym_find(e, func);
  if (!sym && some_file)
    return 0;
  if (!sym) {
    diag_error(loc, "function '%s' not found in %s", func, shown);
    return -1;
  }
  if (sym->size && off >= sym->size) {
    diag_error_bt(loc, eprintf("Offset outside the function bounds ('%s' size is %llu)", func,
                               (unsigned long long)sym->size),
                  "offset %llu is outside function '%s' (its size is %llu)", off, func,
                  (unsigned long long)sym->size);
    return -1;
  }
  if (off && !offset_allowed(eprintf("%s+%llu", func, off), unsafe, loc))
    return -1;
  char *name = off ? eprintf("%s:%s:%s+%llu", tn, shown, func, off)
                   : eprintf("%s:%s:%s", tn, shown, func);
  USite *u = add_usite(s, type, name, e->path);
  u->offset = sym->offset + off;
  u->func = sym->name;
  return 1;
}

static int expand_func(Sites *s, UKind type, const ElfInfo *e, const char *shown,
                       const char *spec, Loc loc,
                       bool unsafe, bool some_file) {
  const char *tn = type_name(type);
  bool quoted = spec[0] == '"';
  /* "NAME"+OFFSET: a quoted name (C++ names hold ':' and '+') then an offset */
  const char *close = quoted ? strchr(spec + 1, '"') : NULL;
  char *func = close && close[1] == '+' ? estrndup(spec + 1, close - spec - 1) : unquote(spec);
  char *plus = close && close[1] == '+' ? (char *)close + 1 : quoted ? NULL : strrchr(func, '+');
  if (!*func) {
    diag_error(loc, "missing function name: expected %s:BINARY:FUNCTION", tn);
    return -1;
  }
  if (!quoted && isdigit((unsigned char)func[0]))
    return expand_address(s, type, e, shown, func, loc, unsafe);
  if (plus) {
    if (!quoted)
      *plus = 0;
    return expand_offset(s, type, e, shown, func, plus + 1, loc, unsafe, some_file);
  }
  if (!quoted && has_glob(func)) {
    int before = s->n;
    for (int i = 0; i < e->nsyms; i++)
      if (fnmatch(func, e->syms[i].name, 0) == 0) {
        USite *u = add_usite(s, type, eprintf("%s:%s:%s", tn, shown, e->syms[i].name), e->path);
        u->offset = e->syms[i].offset;
        u->func = e->syms[i].name;
      }
    return s->n - before;
  }
  const ElfSym *sym = elfsym_find(e, func);
  if (!sym && some_file) /* BIN was a glob: the files that have it */
    return 0;
  if (!sym) {
    /* bpftrace skips such a probe and runs the others (the ssl tools
     * name functions some OpenSSL builds lack); sema fails when no
     * probe is left */
    diag_warn(loc, "function '%s' not found in %s, skipping probe", func, shown);
    return MISSING_FUNCTION;
  }
  USite *u = add_usite(s, type, eprintf("%s:%s:%s", tn, shown, func), e->path);
  u->offset = sym->offset;
  u->func = sym->name;
  return 1;
}

static int expand_usdt(Sites *s, const ElfInfo *e, const char *shown, const char *prov,
                       const char *name) {
  int before = s->n;
  for (int i = 0; i < e->nusdt; i++) {
    UsdtProbe *p = &e->usdt[i];
    if ((prov && fnmatch(prov, p->provider, 0)) || fnmatch(name, p->name, 0))
      continue;
    USite *u = add_usite(s, U_USDT, eprintf("usdt:%s:%s:%s", shown, p->provider, p->name),
                        e->path);
    u->offset = p->offset;
    u->ref_ctr = p->sema_offset;
    u->usdt = p;
    const ElfSym *in = elfsym_at(e, p->pc);
    u->func = in ? in->name : eprintf("0x%llx", (unsigned long long)p->pc);
  }
  return s->n - before;
}

/* Split "BIN:REST" at the first ':' outside quotes. */
static char *split_colon(char *s) {
  bool q = false;
  for (; *s; s++) {
    if (*s == '"')
      q = !q;
    else if (*s == ':' && !q) {
      *s = 0;
      return s + 1;
    }
  }
  return NULL;
}

/* Expand "uprobe:BIN:FUNC" (u, uretprobe, ur, usdt, U; FUNC+OFF, ADDR,
 * wildcards, library short names, $N in the text).  Returns the number
 * of sites in *out (at least one), or -1 after a located error. */
static int uprobe_expand(const char *text, Loc loc, const Options *opt, USite **out) {
  UKind type;
  const char *colon = strchr(text, ':');
  if (!colon || !user_provider(text, colon - text, &type)) {
    diag_error(loc, "invalid probe '%s'", text);
    return -1;
  }
  const char *tn = type_name(type);
  char *rest = subst_posparams(colon + 1, opt);
  int pid = opt->pid;
  /* BIN, then FUNC (uprobes) or [PROVIDER:]NAME (usdt) */
  char *bin = rest, *spec = split_colon(rest);
  if (!spec && pid > 0) {
    /* "uprobe:FUNC" with -p: the process's own executable */
    char exe[4096];
    ssize_t n = readlink(eprintf("/proc/%d/exe", pid), exe, sizeof exe - 1);
    if (n > 0) {
      exe[n] = 0;
      spec = bin;
      bin = estrdup(exe);
    }
  }
  if (!spec) {
    diag_error(loc, "invalid %s '%s': expected %s:BINARY:%s", tn, text, tn,
               type == U_USDT ? "[PROVIDER:]NAME" : "FUNCTION");
    return -1;
  }
  char *prov = NULL, *name = spec;
  if (type == U_USDT) {
    char *second = split_colon(spec);
    if (second) {
      prov = unquote(spec);
      name = second;
      if (!*prov) /* usdt:BIN::NAME: any provider */
        prov = NULL;
    }
    name = unquote(name);
    if (!*name) {
      diag_error(loc, "invalid usdt '%s': expected usdt:BINARY:[PROVIDER:]NAME", text);
      return -1;
    }
  }
  char **paths;
  int npaths = resolve_binary(bin, pid, loc, type == U_USDT, &paths);
  if (npaths < 0)
    return -1;
  Sites s = {0};
  for (int i = 0; i < npaths; i++) {
    ElfInfo *e = open_elf(absolute(in_process(paths[i], pid)), loc);
    if (!e)
      return -1;
    if (type != U_USDT) {
      int r = expand_func(&s, type, e, paths[i], spec, loc, opt->unsafe, npaths > 1);
      if (r == MISSING_FUNCTION)
        return 0;
      if (r < 0)
        return -1;
    } else if (!e->nusdt && npaths == 1) {
      diag_error(loc, "%s has no USDT probes", paths[i]);
      return -1;
    } else {
      expand_usdt(&s, e, paths[i], prov, name);
    }
  }
  if (!s.n) {
    if (type == U_USDT)
      diag_error(loc, "no USDT probe %s%s%s in %s", prov ? prov : "", prov ? ":" : "", name,
                 npaths == 1 ? paths[0] : bin);
    else
      diag_error(loc, "no function in %s matches '%s'", npaths == 1 ? paths[0] : bin, spec);
    return -1;
  }
  *out = s.v;
  return s.n;
}

/* ------------------------------------------------------------ listing */

static int list(const ListQuery *q);

/* "*:BIN:..." (a wildcard provider naming a file): the uprobes (a
 * FUNC pattern) and USDT probes of BIN that the provider glob matches,
 * as bpftrace lists them; a glob without a file path is not ours. */
static int list_any_type(const ListQuery *q) {
  const char *colon = strchr(q->glob, ':');
  if (!colon)
    return 0;
  char *ptype = estrndup(q->glob, colon - q->glob);
  char *bin = estrdup(colon + 1), *spec = split_colon(bin);
  if (!has_glob(ptype) || !strchr(bin, '/') ||
      (!has_glob(bin) && !is_file(in_process(bin, q->pid))))
    return 0;
  static const char *const types[] = {"uprobe", "usdt"};
  for (int i = 0; i < 2; i++) {
    if (fnmatch(ptype, types[i], 0) || (i == 0 && spec && strchr(spec, ':')))
      continue;
    ListQuery one = *q;
    one.prefix = types[i];
    one.glob = eprintf("%s:%s", types[i], colon + 1);
    if (list(&one) < 0)
      return -1;
  }
  return 0;
}

static int list(const ListQuery *q) {
  UKind type;
  const char *glob = q->glob;
  void (*add)(void *, char *) = q->add;
  void *arg = q->arg;
  const char *colon = strchr(glob, ':');
  if (!q->prefix)
    return list_any_type(q);
  if (!colon || !user_provider(glob, colon - glob, &type))
    return 0;
  const char *tn = type_name(type);
  char *rest = estrdup(colon + 1);
  char *bin = rest, *spec = split_colon(rest);
  /* usdt: [PROVIDER:]NAME, split once for every file */
  char *prov = NULL, *name = spec && *spec ? spec : "*";
  char *second = type == U_USDT && spec ? split_colon(spec) : NULL;
  if (second) {
    prov = *spec ? spec : NULL;
    name = *second ? second : "*";
  }
  char **paths;
  Loc none = {0};
  int npaths = resolve_binary(bin, q->pid, none, type == U_USDT, &paths);
  if (npaths < 0)
    return -1;
  for (int i = 0; i < npaths; i++) {
    ElfInfo *e = open_elf(absolute(in_process(paths[i], q->pid)), none);
    if (!e)
      return -1;
    if (type != U_USDT) {
      const char *pat = spec && *spec ? spec : "*";
      for (int j = 0; j < e->nsyms; j++)
        if (fnmatch(pat, e->syms[j].name, 0) == 0)
          add(arg, eprintf("%s:%s:%s", tn, paths[i], e->syms[j].name));
      continue;
    }
    for (int j = 0; j < e->nusdt; j++) {
      UsdtProbe *p = &e->usdt[j];
      if ((!prov || fnmatch(prov, p->provider, 0) == 0) && fnmatch(name, p->name, 0) == 0)
        add(arg, eprintf("usdt:%s:%s:%s", paths[i], p->provider, p->name));
    }
  }
  return 0;
}

/* A DWARF parameter's type as bpftrace's -lv spells it: the C name with
 * the stars against the type ("int* n", "struct Foo** f"). */
static const char *dwarf_type_text(const char *c_name) {
  char *s = estrdup(c_name), *o = s;
  for (const char *p = c_name; *p; p++)
    if (!(*p == ' ' && p[1] == '*'))
      *o++ = *p;
  *o = 0;
  return s;
}

/* -lv for uprobe:PATH:FUNC: the parameters from DWARF, when it has them. */
static void list_verbose(FILE *f, const char *name) {
  if (strncmp(name, "uprobe:", 7))
    return;
  const char *path = name + strlen("uprobe:");
  const char *colon = strrchr(path, ':');
  if (!colon)
    return;
  DwParam *params = NULL;
  const char *why;
  ProgramTypes *pt = program_types_new(); /* the parameters' types, converted from DWARF */
  int n = dwarf_func_params(dwarf_types_new(pt), estrndup(path, colon - path), colon + 1, &params,
                            &why);
  for (int i = 0; i < n; i++)
    fprintf(f, "    %s %s\n", dwarf_type_text(btf_c_name(pt, params[i].type_id)), params[i].name);
  program_types_free(pt);
}

/* ------------------------------------------------------------ provider */

static const char *const aliases[] = {"u", "uretprobe", "ur", "usdt", "U", NULL};

/* args.NAME in uprobes only; argN is typed (uretprobe: gone) */
static const unsigned caps[] = {
    [U_UPROBE] = PROBE_CAP_ARGS | PROBE_CAP_ARGN | PROBE_CAP_FUNC | PROBE_CAP_PT_REGS |
                 PROBE_CAP_USER,
    [U_URETPROBE] = PROBE_CAP_ARGN | PROBE_CAP_RETVAL | PROBE_CAP_FUNC | PROBE_CAP_PT_REGS |
                    PROBE_CAP_USER,
    [U_USDT] = PROBE_CAP_ARGN | PROBE_CAP_FUNC | PROBE_CAP_PT_REGS | PROBE_CAP_USER,
};

static int expand(ProvExpand *x) {
  USite *sites;
  int n = uprobe_expand(x->text, x->loc, x->opt, &sites);
  for (int i = 0; i < n; i++) {
    UTarget *u = ealloc(sizeof *u);
    u->site = (UserSite){sites[i].path, sites[i].offset, sites[i].type == U_URETPROBE};
    u->type = sites[i].type;
    u->ref_ctr = sites[i].ref_ctr;
    u->usdt = sites[i].usdt;
    u->func = sites[i].func;
    prov_add_target(x, &provider_uprobe, sites[i].name, type_name(u->type), caps[u->type], u);
    u->func_index = prov_probe_name(x->c, sites[i].func);
  }
  return n < 0 ? -1 : 0;
}

/* argN of a USDT target: its spec's width and sign ("-4@%eax": int32).
 * One node serves every target of the probe, so when the probe's USDT
 * targets disagree (a wildcard over probes of several types), argN is
 * an int64 that each target fills from its own spec. */
static Type *usdt_arg_type(const Compiled *c, const Target *t, int i) {
  const UsdtArg *mine = &((const UTarget *)t->data)->usdt->args[i];
  for (int k = 0; k < c->ntargets; k++) {
    const Target *o = c->targets[k];
    if (o->probe != t->probe || o->prov != t->prov)
      continue;
    const UTarget *ou = o->data;
    if (ou->type != U_USDT || !ou->usdt->args_ok || i >= ou->usdt->nargs)
      continue;
    const UsdtArg *a = &ou->usdt->args[i];
    if (a->size != mine->size || a->is_signed != mine->is_signed)
      return ty_int(8, true);
  }
  return ty_int(mine->size, mine->is_signed);
}

/* arg0..argN: uprobe arguments are u64 registers (then stack slots);
 * USDT arguments are typed by their spec ("-4@%eax": int32). */
static Type *type_arg(Sema *sema, Target *t, Node *e, int i) {
  const UTarget *u = t->data;
  if (u->type == U_URETPROBE) {
    serr(sema, e->loc, "%s is not available in uretprobe probes (the arguments are gone when "
                          "the function returns); read it in a uprobe", e->name);
    return NULL;
  }
  if (u->type == U_UPROBE)
    return ty_u64;
  if (!u->usdt->args_ok) {
    serr(sema, e->loc, "cannot read the arguments of %s: unsupported argument specs '%s'",
               t->name, u->usdt->args_text);
    return NULL;
  }
  if (i >= u->usdt->nargs) {
    serr(sema, e->loc, "%s has %d argument%s, so there is no %s", t->name, u->usdt->nargs,
               u->usdt->nargs == 1 ? "" : "s", e->name);
    return NULL;
  }
  return usdt_arg_type(sema->c, t, i);
}

/* argN (args, retval and func have their usual types) */
static bool type_builtin(Sema *sema, Target *t, Node *e, Type **out) {
  const char *n = e->name;
  if (strncmp(n, "arg", 3) || !isdigit((unsigned char)n[3]))
    return false;
  *out = type_arg(sema, t, e, atoi(n + 3));
  return true;
}

/* args.NAME on a uprobe: the parameter from the binary's DWARF, read
 * from its System V register (or stack slot) like argN. */
static Type *type_field(Sema *sema, Target *t, Node *e) {
  UTarget *u = t->data;
  if (!u->params_read) {
    u->params_read = true;
    u->nparams =
        dwarf_func_params(sema->dwarf, u->site.path, u->func, &u->params, &u->params_why);
  }
  if (u->nparams < 0) {
    serr(sema, e->loc, "cannot type args.%s of %s: %s", e->name, t->name, u->params_why);
    return NULL;
  }
  for (int i = 0; i < u->nparams; i++) {
    DwParam *p = &u->params[i];
    if (strcmp(p->name, e->name))
      continue;
    Type *ty = btf_type_of(sema->c->types, p->type_id, true);
    if (p->arg < 0 || !ty || ty->kind == TY_RECORD || ty->kind == TY_ARRAY || ty->kind == TY_STR) {
      serr(sema, e->loc, "argument '%s' of %s is not passed in a general register (a struct "
                            "by value, a floating-point value, or after one), so etrace cannot "
                            "read it", e->name, t->name);
      return NULL;
    }
    e->field_off = p->arg;
    return ty;
  }
  Buf b = {0};
  for (int i = 0; i < u->nparams; i++)
    buf_printf(&b, "%s%s", i ? ", " : "", u->params[i].name);
  serr(sema, e->loc, "%s has no argument named '%s' (it has: %s)", t->name, e->name,
             b.data ? b.data : "none");
  buf_free(&b);
  return NULL;
}

static const UserSite *user_site(const Target *t) { return &((UTarget *)t->data)->site; }

static bool arg_loc(const Target *t, ArgRef ref, int i, ArgLoc *out) {
  const UTarget *u = t->data;
  switch (ref) {
  case ARG_INDEX:
  case ARG_FIELD: /* i: the argument's index (DWARF) */
    if (u->type == U_USDT)
      *out = (ArgLoc){.a = u->usdt->args[i]};
    else
      prov_regs_arg(i, false, out);
    return true;
  case ARG_RETVAL:
    prov_regs_retval(out);
    return true;
  case ARG_FUNC:
    *out = (ArgLoc){.is_const = true, .value = u->func_index};
    return true;
  }
  return false;
}

static int prog_spec(Target *t, int attempt, ProgSpec *out) {
  if (attempt > 0)
    return -1;
  *out = (ProgSpec){.type = BPF_PROG_TYPE_KPROBE}; /* ctx is struct pt_regs */
  return 0;
}

static int attach(Target *t, const AttachEnv *env) {
  const UTarget *u = t->data;
  int fd = prov_attach_uprobe(t->prog_fd, u->site.path, u->site.offset, u->ref_ctr,
                              u->site.is_return, env->pid);
  return prov_attach_result(t, env, fd);
}

static bool newest_first(const Target *t) { return true; }

const Provider provider_uprobe = {
    .name = "uprobe",
    .aliases = aliases,
    .expand = expand,
    .type_builtin = type_builtin,
    .type_field = type_field,
    .user_site = user_site,
    .arg_loc = arg_loc,
    .prog_spec = prog_spec,
    .attach = attach,
    .newest_first = newest_first,
    .list = list,
    .list_verbose = list_verbose,
};
