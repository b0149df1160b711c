/* elfsym.c - function symbols and USDT probes of user-space ELF files.
 *
 * Symbols come from .symtab and .dynsym (libelf); a uprobe attaches to a
 * file offset, so every address is translated through the PT_LOAD
 * segment that holds it (or, for files without program headers, the
 * section the symbol is in).  USDT probes are the notes of
 * .note.stapsdt: pc, the link-time address of .stapsdt.base (to undo
 * prelinking), the semaphore, provider, name and the argument specs
 * ("-4@%eax", "8@-8(%rbp)", "8@(%rdx,%rax,8)", "4@$5", "-8@sym(%rip)").
 *
 * Everything is allocated from the compile arena.
 */
#include "etrace.h"
#include "arch/arch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ USDT args */

/* A register name in a spec, per the architecture's table (arch.h). */
static bool parse_reg(const char **sp, int *off, int *size) {
  return arch_current()->usdt_reg(sp, off, size);
}

static bool parse_num(const char **sp, int64_t *v) {
  char *end;
  errno = 0;
  long long x = strtoll(*sp, &end, 0);
  if (end == *sp || errno)
    return false;
  *v = x;
  *sp = end;
  return true;
}

/* The operand after "N@" in arm64's syntax: a register "x0"/"w2"/"sp", a
 * memory operand "[sp]", "[sp, 16]", "[x1, -8]", or a bare constant "5". */
static int parse_arm_operand(const char *s, UsdtArg *a) {
  if (*s == '[') {
    int sz;
    s++;
    a->kind = UA_MEM;
    a->scale = 1;
    if (!parse_reg(&s, &a->reg, &sz) || sz != 8)
      return -1;
    if (*s == ',') {
      s++;
      while (*s == ' ')
        s++;
      if (*s == '#') /* some assemblers write immediates "#16" */
        s++;
      if (!parse_num(&s, &a->value))
        return -1;
    }
    return *s == ']' && !s[1] ? 0 : -1;
  }
  if (*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')) {
    a->kind = UA_CONST;
    return parse_num(&s, &a->value) && !*s ? 0 : -1;
  }
  a->kind = UA_REG;
  return parse_reg(&s, &a->reg, &a->reg_size) && !*s ? 0 : -1;
}

int usdt_parse_arg(const char *spec, UsdtArg *a) {
  memset(a, 0, sizeof *a);
  a->reg = a->index = -1;
  const char *s = spec;
  int64_t size;
  const char *at = strchr(s, '@');
  if (at) {
    if (!parse_num(&s, &size) || s != at)
      return -1;
    s = at + 1;
  } else {
    size = 8; /* very old notes have no size: a long */
  }
  if (size < -8 || size > 8) /* also keeps -size from overflowing */
    return -1;
  if (size < 0) {
    a->is_signed = true;
    size = -size;
  }
  if (size != 1 && size != 2 && size != 4 && size != 8)
    return -1;
  a->size = (int)size;
  if (arch_current()->usdt_syntax == USDT_SYNTAX_ARM)
    return parse_arm_operand(s, a);
  if (*s == '$') { /* constant */
    s++;
    if (!parse_num(&s, &a->value) || *s)
      return -1;
    a->kind = UA_CONST;
    return 0;
  }
  if (*s == '%' && !strchr(s, ',')) { /* register */
    if (!parse_reg(&s, &a->reg, &a->reg_size) || *s)
      return -1;
    a->kind = UA_REG;
    return 0;
  }
  /* memory: [disp | sym[+-off]](base[,index[,scale]]), or the same
   * without parentheses (base,index,scale) */
  a->kind = UA_MEM;
  a->scale = 1;
  if (*s == '-' || *s == '+' || isdigit((unsigned char)*s)) {
    if (!parse_num(&s, &a->value))
      return -1;
  } else if (isalpha((unsigned char)*s) || *s == '_' || *s == '.') {
    const char *b = s;
    while (isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '$')
      s++;
    a->sym = estrndup(b, s - b);
    if ((*s == '+' || *s == '-') && !parse_num(&s, &a->value))
      return -1;
  }
  bool paren = *s == '(';
  if (paren)
    s++;
  if (*s == '%') {
    int sz;
    if (!parse_reg(&s, &a->reg, &sz) || sz != 8)
      return -1;
  }
  if (*s == ',') {
    int sz;
    s++;
    if (!parse_reg(&s, &a->index, &sz) || sz != 8)
      return -1;
    if (*s == ',') {
      s++;
      int64_t scale;
      if (!parse_num(&s, &scale) || (scale != 1 && scale != 2 && scale != 4 && scale != 8))
        return -1;
      a->scale = (int)scale;
    }
  }
  if (paren && *s++ != ')')
    return -1;
  if (*s || (a->reg < 0 && a->index < 0 && !a->sym))
    return -1;
  if (a->reg == arch_current()->ip) { /* disp(%rip): relative to the probe's address */
    a->reg = -1;
    a->ip_rel = true;
  }
  return 0;
}

/* The next blank-separated spec of a note's argument list, NUL-terminated
 * in place, or NULL at the end.  A blank inside brackets belongs to the
 * spec: arm64 writes "-8@[x1, 8]". */
static char *next_spec(char **sp) {
  char *s = *sp;
  while (*s == ' ' || *s == '\t')
    s++;
  if (!*s)
    return NULL;
  char *start = s;
  int depth = 0;
  for (; *s && (depth > 0 || (*s != ' ' && *s != '\t')); s++)
    depth += *s == '[' ? 1 : *s == ']' && depth > 0 ? -1 : 0;
  if (*s)
    *s++ = 0;
  *sp = s;
  return start;
}

/* ------------------------------------------------------------ ELF */

typedef struct Raw {
  char *name;
  uint64_t vaddr, size;
  int shndx;
  bool func, hidden_version;
  int bind;              /* 2 global, 1 weak, 0 local: alias preference */
  int order;             /* position in the tables read, in read order */
} Raw;

static int cmp_raw(const void *a, const void *b) {
  const Raw *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  /* the default version (not hidden) first, then .symtab before .dynsym order */
  return (int)x->hidden_version - (int)y->hidden_version;
}

/* By address; at one address the preferred alias last: global before
 * weak before local, then the later one in the tables (so the debug
 * file's names win over .dynsym's). */
static int cmp_raw_addr(const void *a, const void *b) {
  const Raw *x = a, *y = b;
  if (x->vaddr != y->vaddr)
    return x->vaddr < y->vaddr ? -1 : 1;
  if (x->bind != y->bind)
    return x->bind - y->bind;
  return x->order - y->order;
}

/* e->by_addr: functions and data objects sorted by address, one per
 * address (the preferred alias), for symbolisation (sym/usym.c). */
static void by_address(ElfInfo *e, const Raw *raw, int nraw) {
  Raw *r = malloc(sizeof(Raw) * (nraw ? nraw : 1));
  if (nraw) /* raw is NULL for a file without symbols */
    memcpy(r, raw, sizeof(Raw) * nraw);
  qsort(r, nraw, sizeof(Raw), cmp_raw_addr);
  e->by_addr = ealloc(sizeof(ElfSym) * (nraw ? nraw : 1));
  e->nby_addr = 0;
  for (int i = 0; i < nraw; i++) {
    if (i + 1 < nraw && r[i + 1].vaddr == r[i].vaddr)
      continue; /* a better alias follows */
    e->by_addr[e->nby_addr++] = (ElfSym){.name = r[i].name, .vaddr = r[i].vaddr,
                                         .size = r[i].size};
  }
  free(r);
}

static int cmp_sym_name(const void *a, const void *b) {
  return strcmp(((const ElfSym *)a)->name, ((const ElfSym *)b)->name);
}

/* File offset of a link-time address: through the PT_LOAD segments, else
 * through section shndx. */
static bool to_offset(Elf *elf, const ElfSeg *segs, int nsegs, uint64_t vaddr, int shndx,
                      uint64_t *off) {
  for (int i = 0; i < nsegs; i++)
    if (vaddr >= segs[i].vaddr && vaddr < segs[i].vaddr + segs[i].filesz) {
      *off = vaddr - segs[i].vaddr + segs[i].offset;
      return true;
    }
  GElf_Shdr sh;
  Elf_Scn *scn = shndx > 0 ? elf_getscn(elf, shndx) : NULL;
  if (scn && gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS && vaddr >= sh.sh_addr &&
      vaddr < sh.sh_addr + sh.sh_size) {
    *off = vaddr - sh.sh_addr + sh.sh_offset;
    return true;
  }
  return false;
}

/* Read one symbol table into raw[] (functions and data objects). */
static void read_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data *versym,
                        bool foreign, Raw **raw, int *nraw) {
  Elf_Data *data = elf_getdata(scn, NULL);
  if (!data || !sh->sh_entsize)
    return;
  int n = sh->sh_size / sh->sh_entsize;
  for (int i = 1; i < n; i++) {
    GElf_Sym sym;
    if (!gelf_getsym(data, i, &sym))
      continue;
    int type = GELF_ST_TYPE(sym.st_info);
    if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT)
      continue;
    if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
      continue;
    const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
    if (!name || !*name)
      continue;
    bool hidden = false;
    if (versym) {
      GElf_Versym v;
      if (gelf_getversym(versym, i, &v))
        hidden = (v & 0x8000) != 0;
    }
    int bind = GELF_ST_BIND(sym.st_info);
    *raw = egrow(*raw, *nraw, sizeof(Raw));
    (*raw)[*nraw] = (Raw){estrdup(name), sym.st_value, sym.st_size,
                          foreign ? 0 : sym.st_shndx, type != STT_OBJECT, hidden,
                          bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0, *nraw};
    (*nraw)++;
  }
}

/* Resolve "sym(%rip)" operands: the address of sym relative to the pc. */
static bool resolve_usdt_syms(UsdtProbe *p, const Raw *raw, int nraw) {
  for (int i = 0; i < p->nargs; i++) {
    UsdtArg *a = &p->args[i];
    if (!a->sym)
      continue;
    const Raw *r = NULL;
    for (int j = 0; j < nraw && !r; j++)
      if (!strcmp(raw[j].name, a->sym))
        r = &raw[j];
    if (!r || a->reg >= 0 || a->index >= 0)
      return false;
    a->value += (int64_t)(r->vaddr - p->pc);
    a->ip_rel = true;
  }
  return true;
}

/* The bytes of a section, or NULL: a NOBITS section (or one a broken
 * header places outside the file) has a NULL d_buf with a non-zero size. */
static Elf_Data *scn_bytes(Elf_Scn *scn) {
  Elf_Data *d = elf_getdata(scn, NULL);
  return d && d->d_buf && d->d_size ? d : NULL;
}

static void read_stapsdt(Elf *elf, Elf_Scn *scn, uint64_t base_addr, bool have_base,
                         const ElfSeg *segs, int nsegs, const Raw *raw, int nraw, ElfInfo *e) {
  Elf_Data *data = scn_bytes(scn);
  if (!data)
    return;
  bool is64 = gelf_getclass(elf) == ELFCLASS64;
  size_t asz = is64 ? 8 : 4;
  size_t off = 0, next;
  GElf_Nhdr nh;
  size_t name_off, desc_off;
  while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
    off = next;
    if (nh.n_type != 3 || nh.n_namesz != 8 ||
        memcmp((char *)data->d_buf + name_off, "stapsdt", 8) || nh.n_descsz < 3 * asz + 3)
      continue;
    const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;
    uint64_t pc = 0, base = 0, sema = 0;
    if (is64) {
      memcpy(&pc, d, 8);
      memcpy(&base, d + 8, 8);
      memcpy(&sema, d + 16, 8);
    } else {
      uint32_t v[3];
      memcpy(v, d, 12);
      pc = v[0], base = v[1], sema = v[2];
    }
    const char *str = (const char *)d + 3 * asz, *end = (const char *)d + nh.n_descsz;
    const char *prov = str;
    const char *name = memchr(prov, 0, end - prov);
    if (!name || ++name >= end) /* no NUL after the provider: not a probe */
      continue;
    const char *args = memchr(name, 0, end - name);
    if (!args)
      continue;
    args++;
    if (args >= end || !memchr(args, 0, end - args))
      args = "";
    /* prelink moved the code: shift by the move of .stapsdt.base */
    if (have_base && base) {
      pc += base_addr - base;
      if (sema)
        sema += base_addr - base;
    }
    UsdtProbe p = {.provider = estrdup(prov), .name = estrdup(name), .pc = pc};
    p.args_text = estrdup(args);
    if (!to_offset(elf, segs, nsegs, pc, 0, &p.offset))
      continue;
    if (sema && !to_offset(elf, segs, nsegs, sema, 0, &p.sema_offset))
      continue;
    /* arguments: whitespace-separated specs */
    char *copy = estrdup(args), *save = copy;
    bool ok = true;
    for (char *a = next_spec(&save); a; a = next_spec(&save)) {
      if (p.nargs == USDT_MAX_ARGS || usdt_parse_arg(a, &p.args[p.nargs]) < 0) {
        ok = false;
        break;
      }
      p.nargs++;
    }
    if (ok)
      ok = resolve_usdt_syms(&p, raw, nraw);
    p.args_ok = ok;
    e->usdt = egrow(e->usdt, e->nusdt, sizeof(UsdtProbe));
    e->usdt[e->nusdt++] = p;
  }
}

/* The separate debug file of a stripped binary: by build id
 * (/usr/lib/debug/.build-id/ab/cdef....debug), else by .gnu_debuglink
 * next to the file, in its .debug directory, or under /usr/lib/debug. */
static char *debug_file(const char *path, const unsigned char *id, size_t idlen,
                        const char *link) {
  if (idlen >= 2) {
    Buf b = {0};
    buf_printf(&b, "/usr/lib/debug/.build-id/%02x/", id[0]);
    for (size_t i = 1; i < idlen; i++)
      buf_printf(&b, "%02x", id[i]);
    buf_printf(&b, ".debug");
    char *p = estrdup(b.data);
    buf_free(&b);
    if (access(p, R_OK) == 0)
      return p;
  }
  if (link && *link) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? estrndup(path, slash - path) : estrdup(".");
    char *cands[] = {eprintf("%s/%s", dir, link), eprintf("%s/.debug/%s", dir, link),
                     eprintf("/usr/lib/debug%s/%s", dir, link)};
    for (int i = 0; i < 3; i++)
      if (strcmp(cands[i], path) && access(cands[i], R_OK) == 0)
        return cands[i];
  }
  return NULL;
}

/* The symbol tables of a debug file (its code sections are NOBITS:
 * offsets still come from the binary's segments). */
static void read_debug_symtab(const char *dpath, Raw **raw, int *nraw) {
  int fd = open(dpath, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (elf && elf_kind(elf) == ELF_K_ELF) {
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn))) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
        read_symtab(elf, scn, &sh, NULL, true, raw, nraw);
    }
  }
  if (elf)
    elf_end(elf);
  close(fd);
}

ElfInfo *elfsym_open(const char *path, const char **err) {
  static const char *const msgs[] = {"cannot open it", "not an ELF file",
                                     "cannot read its ELF headers"};
  if (elf_version(EV_CURRENT) == EV_NONE) {
    *err = "libelf is unusable";
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = msgs[0];
    return NULL;
  }
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (!elf || elf_kind(elf) != ELF_K_ELF) {
    *err = msgs[1];
    if (elf)
      elf_end(elf);
    close(fd);
    return NULL;
  }
  size_t shstrndx, nphdr;
  if (elf_getshdrstrndx(elf, &shstrndx) || elf_getphdrnum(elf, &nphdr)) {
    *err = msgs[2];
    elf_end(elf);
    close(fd);
    return NULL;
  }
  ElfInfo *e = ealloc(sizeof(ElfInfo));
  e->path = estrdup(path);
  GElf_Ehdr eh;
  if (gelf_getehdr(elf, &eh))
    e->elf_type = eh.e_type;
  ElfSeg *segs = ealloc(sizeof(ElfSeg) * (nphdr + 1));
  int nsegs = 0;
  for (size_t i = 0; i < nphdr; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
      segs[nsegs++] = (ElfSeg){ph.p_vaddr, ph.p_filesz, ph.p_offset};
  }
  /* the version table of .dynsym, to prefer default symbol versions */
  Elf_Data *versym = NULL;
  Elf_Scn *scn = NULL, *notes = NULL;
  uint64_t base_addr = 0;
  bool have_base = false, have_symtab = false;
  unsigned char build_id[64];
  size_t build_id_len = 0;
  const char *debuglink = NULL;
  while ((scn = elf_nextscn(elf, scn))) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh))
      continue;
    const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
    Elf_Data *d;
    have_symtab |= sh.sh_type == SHT_SYMTAB;
    if (sh.sh_type == SHT_GNU_versym)
      versym = elf_getdata(scn, NULL);
    else if (sh.sh_type == SHT_NOTE && name && !strcmp(name, ".note.gnu.build-id") &&
             (d = scn_bytes(scn))) {
      GElf_Nhdr nh;
      size_t noff, doff;
      if (gelf_getnote(d, 0, &nh, &noff, &doff) && nh.n_type == NT_GNU_BUILD_ID &&
          nh.n_descsz <= sizeof build_id) {
        memcpy(build_id, (char *)d->d_buf + doff, nh.n_descsz);
        build_id_len = nh.n_descsz;
      }
    } else if (name && !strcmp(name, ".gnu_debuglink") && (d = scn_bytes(scn)) &&
               memchr(d->d_buf, 0, d->d_size))
      debuglink = estrdup(d->d_buf);
    else if (sh.sh_type == SHT_NOTE && name && !strcmp(name, ".note.stapsdt"))
      notes = scn;
    else if (name && !strcmp(name, ".stapsdt.base")) {
      base_addr = sh.sh_addr;
      have_base = true;
    }
  }
  Raw *raw = NULL;
  int nraw = 0;
  while ((scn = elf_nextscn(elf, scn))) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
      read_symtab(elf, scn, &sh, sh.sh_type == SHT_DYNSYM ? versym : NULL, false, &raw,
                  &nraw);
  }
  if (!have_symtab) {
    char *dpath = debug_file(path, build_id, build_id_len, debuglink);
    if (dpath)
      read_debug_symtab(dpath, &raw, &nraw);
  }
  if (notes)
    read_stapsdt(elf, notes, base_addr, have_base, segs, nsegs, raw, nraw, e);
  by_address(e, raw, nraw);
  /* functions, one per name (the default version when there are several) */
  if (nraw)
    qsort(raw, nraw, sizeof *raw, cmp_raw);
  e->syms = ealloc(sizeof(ElfSym) * (nraw + 1));
  for (int i = 0; i < nraw; i++) {
    if (!raw[i].func || (e->nsyms && !strcmp(e->syms[e->nsyms - 1].name, raw[i].name)))
      continue;
    ElfSym *s = &e->syms[e->nsyms];
    *s = (ElfSym){.name = raw[i].name, .vaddr = raw[i].vaddr, .size = raw[i].size};
    if (to_offset(elf, segs, nsegs, s->vaddr, raw[i].shndx, &s->offset))
      e->nsyms++;
  }
  e->segs = segs;
  e->nsegs = nsegs;
  elf_end(elf);
  close(fd);
  return e;
}

const ElfSym *elfsym_find(const ElfInfo *e, const char *name) {
  ElfSym key = {.name = (char *)name};
  return e->nsyms ? bsearch(&key, e->syms, e->nsyms, sizeof(ElfSym), cmp_sym_name) : NULL;
}

const ElfSym *elfsym_at(const ElfInfo *e, uint64_t vaddr) {
  const ElfSym *best = NULL;
  for (int i = 0; i < e->nsyms; i++) {
    const ElfSym *s = &e->syms[i];
    if (vaddr >= s->vaddr && (vaddr < s->vaddr + s->size || (!s->size && vaddr == s->vaddr)) &&
        (!best || s->vaddr > best->vaddr))
      best = s;
  }
  return best;
}

bool elfsym_offset(const ElfInfo *e, uint64_t vaddr, uint64_t *off) {
  for (int i = 0; i < e->nsegs; i++) {
    const ElfSeg *s = &e->segs[i];
    if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz) {
      *off = vaddr - s->vaddr + s->offset;
      return true;
    }
  }
  return false;
}
