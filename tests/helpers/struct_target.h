/* struct_target.h - the types struct_target passes to its probed
 * function.  The C-definitions tests #include this very header in an
 * etrace program (-I tests/helpers) to read them through a uprobe. */
#ifndef STRUCT_TARGET_H
#define STRUCT_TARGET_H

#define ST_TAG_LEN 12

enum st_kind { ST_SMALL = 1, ST_LARGE = 7 };

struct st_point {
  int x;
  short y;
  char tag[ST_TAG_LEN];
  unsigned int flags : 3, level : 5;
  struct st_point *next;
  enum st_kind kind;
};

/* Called once per point; returns x + y. */
long st_visit(struct st_point *p);

#endif
