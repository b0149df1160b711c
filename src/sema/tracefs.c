/* tracefs.c - find (or mount) tracefs, parse tracepoint format files,
 * expand tracepoint globs.
 *
 * A format file looks like
 *
 *   name: sched_switch
 *   ID: 372
 *   format:
 *   	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
 *   	...
 *   	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
 *
 *   print fmt: ...
 *
 * Each field declaration is C-like text: a type, a name, and an optional
 * array suffix; `__data_loc char[] name` marks a dynamic string whose u32
 * slot holds (length << 16) | offset.
 */
#include "etrace.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRACEFS_DEFAULT "/sys/kernel/tracing"

/* Where tracefs is mounted: found (or mounted) once and kept for the
 * process, like the kernel it describes; not per-compilation state. */
static const char *tracefs_path;

/* A directory is a usable tracefs when it has an events/ directory. */
static bool has_events(const char *dir) {
  char path[256];
  struct stat st;
  snprintf(path, sizeof path, "%s/events", dir);
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *tracefs_root(bool verbose) {
  static const char *const candidates[] = {
    TRACEFS_DEFAULT,
    "/sys/kernel/debug/tracing",
  };
  if (tracefs_path)
    return tracefs_path;
  for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
    if (has_events(candidates[i])) {
      tracefs_path = candidates[i];
      return tracefs_path;
    }
  }
  if (mount("tracefs", TRACEFS_DEFAULT, "tracefs", 0, NULL) < 0 && errno != EBUSY)
    return NULL;
  if (!has_events(TRACEFS_DEFAULT)) {
    errno = ENOENT;
    return NULL;
  }
  if (verbose)
    fprintf(stderr, "etrace: mounted tracefs at %s\n", TRACEFS_DEFAULT);
  tracefs_path = TRACEFS_DEFAULT;
  return tracefs_path;
}

/* ------------------------------------------------------------ formats */

static bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

/* Read the integer after "key:" in a field line, e.g. "offset:8;". */
static bool field_attr(const char *line, const char *key, long *out) {
  const char *p = strstr(line, key);
  if (!p)
    return false;
  p += strlen(key);
  char *end;
  long v = strtol(p, &end, 10);
  if (end == p)
    return false;
  *out = v;
  return true;
}

/* Split a declaration such as "const char * filename", "char comm[16]" or
 * "__data_loc char[] name" into the field's type, name and array length. */
static bool parse_decl(const char *decl, size_t len, TpField *f) {
  while (len > 0 && decl[len - 1] == ' ')
    len--;
  if (len >= 11 && memcmp(decl, "__data_loc ", 11) == 0)
    f->data_loc = true;

  size_t end = len;
  if (end > 0 && decl[end - 1] == ']') {   /* name[N] */
    size_t open = end - 1;
    while (open > 0 && decl[open] != '[')
      open--;
    if (decl[open] != '[')
      return false;
    long n = strtol(decl + open + 1, NULL, 10);
    f->array_len = n < 0 || n > 0xffff ? -1 : (int)n;
    end = open;
  }
  size_t start = end;
  while (start > 0 && is_ident_char(decl[start - 1]))
    start--;
  if (start == end)
    return false;
  f->name = estrndup(decl + start, end - start);

  size_t tlen = start;
  while (tlen > 0 && decl[tlen - 1] == ' ')
    tlen--;
  if (tlen == 0)
    return false;
  f->ctype = estrndup(decl, tlen);
  return true;
}

bool tracefs_c_int_type(const char *ctype, int *size, bool *is_signed, bool *widened) {
  /* w: bpftrace widens these C names to the field's slot (an "int" in
   * an 8-byte slot is an s64); typedefs keep their own size */
  static const struct { const char *name; int size; bool sgn, w; } types[] = {
      {"char", 1, 1, 1}, {"short", 2, 1, 1}, {"int", 4, 1, 1}, {"int8_t", 1, 1, 1},
      {"int16_t", 2, 1, 1}, {"int32_t", 4, 1, 1}, {"unsigned char", 1, 0, 1},
      {"unsigned short", 2, 0, 1}, {"unsigned int", 4, 0, 1}, {"uint8_t", 1, 0, 1},
      {"uint16_t", 2, 0, 1}, {"uint32_t", 4, 0, 1}, {"signed char", 1, 1, 0},
      {"unsigned", 4, 0, 0}, {"bool", 1, 0, 0}, {"long", 8, 1, 0}, {"unsigned long", 8, 0, 0},
      {"long long", 8, 1, 0}, {"unsigned long long", 8, 0, 0}, {"u8", 1, 0, 0},
      {"u16", 2, 0, 0}, {"u32", 4, 0, 0}, {"u64", 8, 0, 0}, {"s8", 1, 1, 0}, {"s16", 2, 1, 0},
      {"s32", 4, 1, 0}, {"s64", 8, 1, 0}, {"__u8", 1, 0, 0}, {"__u16", 2, 0, 0},
      {"__u32", 4, 0, 0}, {"__u64", 8, 0, 0}, {"__s8", 1, 1, 0}, {"__s16", 2, 1, 0},
      {"__s32", 4, 1, 0}, {"__s64", 8, 1, 0}, {"size_t", 8, 0, 0}, {"ssize_t", 8, 1, 0},
      {"pid_t", 4, 1, 0}, {"uid_t", 4, 0, 0}, {"gid_t", 4, 0, 0}, {"qid_t", 4, 0, 0},
      {"mode_t", 4, 0, 0}, {"umode_t", 2, 0, 0}, {"key_t", 4, 1, 0}, {"key_serial_t", 4, 1, 0},
      {"clockid_t", 4, 1, 0}, {"mqd_t", 4, 1, 0}, {"rwf_t", 4, 1, 0}, {"off_t", 8, 1, 0},
      {"loff_t", 8, 1, 0},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(ctype, types[i].name)) {
      *size = types[i].size;
      *is_signed = types[i].sgn;
      *widened = types[i].w;
      return true;
    }
  return false;
}

/* Parse one "\tfield:DECL;\toffset:N;\tsize:N;\tsigned:N;" line. */
static bool parse_field(const char *line, TpField *f) {
  const char *decl = strstr(line, "field:");
  if (!decl)
    return false;
  decl += 6;
  const char *semi = strchr(decl, ';');
  if (!semi || !parse_decl(decl, semi - decl, f))
    return false;
  long off, size, sign = 0;
  if (!field_attr(semi, "offset:", &off) || !field_attr(semi, "size:", &size))
    return false;
  field_attr(semi, "signed:", &sign);
  /* the kernel never writes these, but a field the code generator would
   * index with them must not get through: drop it */
  if (off < 0 || off > 0xffff || size < 0 || size > 0xffff || f->array_len < 0 ||
      (f->array_len > 0 && (size < f->array_len || size % f->array_len)))
    return false;
  f->offset = (int)off;
  f->size = (int)size;
  f->is_signed = sign != 0;
  return true;
}

TpFormat *tracefs_format(const char *sys, const char *event) {
  const char *root = tracefs_root(false);
  if (!root)
    return NULL;
  if (strchr(sys, '/') || strchr(event, '/') || !strcmp(sys, "..") ||
      !strcmp(event, "..")) {
    errno = ENOENT;
    return NULL;
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/events/%s/%s/format", root, sys, event);
  char *text = read_file(path, NULL);
  if (!text)
    return NULL;
  TpFormat *fmt = tracefs_parse_format(sys, event, text);
  free(text);
  return fmt;
}

TpFormat *tracefs_parse_format(const char *sys, const char *event, char *text) {
  TpFormat *fmt = ealloc(sizeof *fmt);
  fmt->sys = estrdup(sys);
  fmt->event = estrdup(event);
  fmt->id = -1;
  bool syscall = strcmp(sys, "syscalls") == 0;
  int cap = 0;

  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = 0;
    long id;
    if (strncmp(line, "ID:", 3) == 0 && field_attr(line, "ID:", &id)) {
      fmt->id = (int)id;
    } else if (strncmp(line + strspn(line, " \t"), "field:", 6) == 0) {
      TpField f = {0};
      if (parse_field(line, &f) && strncmp(f.name, "common_", 7) != 0) {
        f.user_ptr = syscall && strchr(f.ctype, '*') != NULL;
        if (fmt->nfields == cap) {
          cap = cap ? cap * 2 : 8;
          TpField *nf = ealloc(cap * sizeof *nf);
          if (fmt->nfields)
            memcpy(nf, fmt->fields, fmt->nfields * sizeof *nf);
          fmt->fields = nf;
        }
        fmt->fields[fmt->nfields++] = f;
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  if (fmt->id < 0) {
    errno = EINVAL;
    return NULL;
  }
  return fmt;
}

/* -------------------------------------------------------------- globs */

typedef struct EventName {
  char *sys, *event;
} EventName;

static int cmp_event(const void *a, const void *b) {
  const EventName *x = a, *y = b;
  int c = strcmp(x->sys, y->sys);
  return c ? c : strcmp(x->event, y->event);
}

static void add_match(EventName **v, int *n, int *cap, const char *sys,
                      size_t syslen, const char *event, size_t evlen) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    EventName *nv = realloc(*v, *cap * sizeof **v);
    if (!nv) {
      fprintf(stderr, "etrace: out of memory\n");
      abort();
    }
    *v = nv;
  }
  (*v)[*n].sys = estrndup(sys, syslen);
  (*v)[*n].event = estrndup(event, evlen);
  (*n)++;
}

/* Collect matches from available_events ("sys:event" per line). */
static int glob_available(const char *root, const char *sys_glob,
                          const char *event_glob, EventName **v, int *n, int *cap) {
  char path[256];
  snprintf(path, sizeof path, "%s/available_events", root);
  char *text = read_file(path, NULL);
  if (!text)
    return -1;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = 0;
    char *colon = strchr(line, ':');
    if (colon) {
      *colon = 0;
      if (fnmatch(sys_glob, line, 0) == 0 && fnmatch(event_glob, colon + 1, 0) == 0)
        add_match(v, n, cap, line, strlen(line), colon + 1, strlen(colon + 1));
    }
    if (!nl)
      break;
    line = nl + 1;
  }
  free(text);
  return 0;
}

/* Fallback: walk events/SYS/EVENT directories that hold a format file. */
static int glob_events_dir(const char *root, const char *sys_glob,
                           const char *event_glob, EventName **v, int *n, int *cap) {
  char path[1024];
  snprintf(path, sizeof path, "%s/events", root);
  DIR *d = opendir(path);
  if (!d)
    return -1;
  struct dirent *s;
  while ((s = readdir(d))) {
    if (s->d_name[0] == '.' || fnmatch(sys_glob, s->d_name, 0) != 0)
      continue;
    snprintf(path, sizeof path, "%s/events/%s", root, s->d_name);
    DIR *sd = opendir(path);
    if (!sd)
      continue;
    struct dirent *e;
    while ((e = readdir(sd))) {
      if (e->d_name[0] == '.' || fnmatch(event_glob, e->d_name, 0) != 0)
        continue;
      snprintf(path, sizeof path, "%s/events/%s/%s/format", root, s->d_name,
               e->d_name);
      if (access(path, R_OK) == 0)
        add_match(v, n, cap, s->d_name, strlen(s->d_name), e->d_name,
                  strlen(e->d_name));
    }
    closedir(sd);
  }
  closedir(d);
  return 0;
}

/* The names passed to fn come from the compile arena: callers may keep
 * them.  Matching is fnmatch(3) on each part; the order is that of
 * strcmp on "sys:event", as bpftrace -l prints it. */
int tracefs_glob(const char *sys_glob, const char *event_glob,
                 void (*fn)(const char *sys, const char *event, void *arg), void *arg) {
  const char *root = tracefs_root(false);
  if (!root)
    return 0;
  EventName *v = NULL;
  int n = 0, cap = 0;
  if (glob_available(root, sys_glob, event_glob, &v, &n, &cap) < 0)
    glob_events_dir(root, sys_glob, event_glob, &v, &n, &cap);
  if (n > 1)
    qsort(v, n, sizeof *v, cmp_event);
  int count = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && cmp_event(&v[i - 1], &v[i]) == 0)
      continue;
    if (fn)
      fn(v[i].sys, v[i].event, arg);
    count++;
  }
  free(v);
  return count;
}
