/* links.c - the list of attachments (load.h). */
#include "load/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void links_add(Links *l, int fd) {
  int *fds = realloc(l->fds, sizeof(int) * (l->n + 1));
  if (!fds) { /* as ealloc: out of memory is not an error we return */
    fprintf(stderr, "etrace: out of memory\n");
    abort();
  }
  l->fds = fds;
  l->fds[l->n++] = fd;
}

void links_keep(void *links, int fd) { links_add(links, fd); }

void links_drop(void *links, int fd) {
  Links *l = links;
  for (int i = 0; i < l->n; i++)
    if (l->fds[i] == fd) {
      close(fd);
      memmove(&l->fds[i], &l->fds[i + 1], sizeof(int) * (--l->n - i));
      return;
    }
}

void links_close(Links *l) {
  for (int i = 0; i < l->n; i++)
    close(l->fds[i]);
  l->n = 0;
}

void links_free(Links *l) {
  links_close(l);
  free(l->fds);
  l->fds = NULL;
}
