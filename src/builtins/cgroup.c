/* cgroup.c - cgroup_path(id[, filter]): a cgroup id (the `cgroup`
 * builtin, process.c) printed as its path in each cgroup hierarchy
 * mounted here, "unified:/a/b,cpu:/a", found in user space when the
 * value is printed, as bpftrace does. */
#include "builtins/builtin.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static Type *check_cgroup_path(Sema *sema, Node *e) {
  if (!want_int(sema, e->args, e->name))
    return NULL;
  const char *filter = "*";
  if (e->nargs == 2) {
    if (!want_str_lit(sema, e->args->next, e->name, "filter"))
      return NULL;
    filter = e->args->next->str;
  }
  Type *t = new_kind(TY_CGROUP_PATH, 8);
  t->fmt = filter; /* which hierarchies to look in (a wildcard on their names) */
  return t;
}

static void gen_cgroup_path(Cg *cg, Node *e) { cg_scalar(cg, e->args); }

/* ------------------------------------------------------------ printing */

/* Below dir (path `rel` from the hierarchy's root): the directory whose
 * inode number is id, its path appended to out. */
static bool find_inode(int dirfd, Buf *rel, uint64_t id, int depth) {
  DIR *d = fdopendir(dirfd);
  if (!d) {
    close(dirfd);
    return false;
  }
  bool found = false;
  struct dirent *de;
  while (!found && (de = readdir(d))) {
    struct stat st;
    if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    size_t len = rel->len;
    buf_printf(rel, "/%s", de->d_name);
    if (st.st_ino == id) {
      found = true;
      break;
    }
    int sub = depth < 64 ? openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY) : -1;
    if (sub >= 0 && find_inode(sub, rel, id, depth + 1)) {
      found = true;
      break;
    }
    rel->len = len;
    rel->data[len] = 0;
  }
  closedir(d);
  return found;
}

typedef struct Hierarchy {
  char name[64];
  char path[256]; /* "/" or the cgroup's path in it; "" when absent */
} Hierarchy;

static int hierarchy_order(const void *a, const void *b) {
  const Hierarchy *x = a, *y = b;
  if (!strcmp(x->name, "unified") || !strcmp(y->name, "unified"))
    return strcmp(x->name, "unified") ? 1 : strcmp(y->name, "unified") ? -1 : 0;
  return strcmp(x->name, y->name);
}

/* The hierarchies are /proc/mounts lines of device "cgroup2" (named
 * "unified") and "cgroup" (named after their mount directory). */
static void format_cgroup_path(Buf *b, const Type *t, const unsigned char *data) {
  uint64_t id;
  memcpy(&id, data, 8);
  FILE *f = fopen("/proc/mounts", "r");
  if (!f)
    return;
  Hierarchy hs[32];
  int n = 0;
  char dev[64], dir[256];
  while (n < 32 && fscanf(f, "%63s %255s %*[^\n]", dev, dir) == 2) {
    bool v2 = !strcmp(dev, "cgroup2");
    if (!v2 && strcmp(dev, "cgroup"))
      continue;
    Hierarchy *h = &hs[n];
    char copy[256];
    snprintf(copy, sizeof copy, "%s", dir);
    snprintf(h->name, sizeof h->name, "%s", v2 ? "unified" : basename(copy));
    if (fnmatch(t->fmt ? t->fmt : "*", h->name, 0))
      continue;
    h->path[0] = 0;
    struct stat st;
    if (stat(dir, &st) == 0 && st.st_ino == id) {
      strcpy(h->path, "/");
    } else {
      Buf rel = {0};
      buf_put(&rel, "", 0);
      int fd = open(dir, O_RDONLY | O_DIRECTORY);
      if (fd >= 0 && find_inode(fd, &rel, id, 0))
        snprintf(h->path, sizeof h->path, "%s", rel.data);
      buf_free(&rel);
    }
    n++;
  }
  fclose(f);
  qsort(hs, n, sizeof hs[0], hierarchy_order);
  bool first = true;
  for (int i = 0; i < n; i++) {
    if (!hs[i].path[0])
      continue;
    buf_printf(b, "%s%s:%s", first ? "" : ",", hs[i].name, hs[i].path);
    first = false;
  }
}

const Builtin builtins_cgroup[] = {
    {.name = "cgroup_path", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2,
     .check = check_cgroup_path, .gen_value = gen_cgroup_path, .prints = TY_CGROUP_PATH,
     .format = format_cgroup_path},
    {0},
};
