/* kgroups.c - which events `etrace record --profile kernel` records.
 *
 * As `lttng enable-event -k` chooses them, by group (the tracepoint
 * system an LTTng kernel event comes from: sched, irq, kmem, block, net,
 * timer, power, writeback, and syscall for the system calls) or by LTTng
 * event name, globs allowed (`block_rq_*`, `timer_hrtimer_*`,
 * `syscall_entry_openat`).  Every group but timer is recorded unless
 * --disable names it; --enable adds to that, and --disable wins over
 * --enable.  An item that names no group and matches no event of the
 * profile is an error.
 */
#include "record/record.h"

#include <fnmatch.h>
#include <string.h>

static const char *const groups[] = {"sched", "irq", "kmem",  "block",     "net",
                                     "timer", "power", "writeback", "syscall"};
#define NGROUPS (sizeof groups / sizeof *groups)

static bool default_on(const char *group) { return strcmp(group, "timer") != 0; }

static bool is_group(const char *s) {
  if (!strcmp(s, "all"))
    return true;
  for (size_t i = 0; i < NGROUPS; i++)
    if (!strcmp(groups[i], s))
      return true;
  return false;
}

static int add_items(KSelect *k, const char *list, bool off, const char *opt) {
  char *copy = estrdup(list), *save = NULL;   /* arena strings, as the items */
  int before = k->n;
  for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
    k->item = egrow(k->item, k->n, sizeof *k->item);
    k->off = egrow(k->off, k->n, sizeof *k->off);
    k->hits = egrow(k->hits, k->n, sizeof *k->hits);
    k->item[k->n] = it;
    k->off[k->n] = off;
    k->hits[k->n] = 0;
    k->n++;
  }
  if (k->n == before) {
    diag_fatal("%s: an empty list (expected GROUP or EVENT names, e.g. block,net)", opt);
    return -1;
  }
  return 0;
}

int kprof_select_option(Rec *r, bool off, const char *list) {
  return add_items(&r->ksel, list, off, off ? "--disable" : "--enable");
}

bool kprof_wanted(Rec *r, const char *group, const char *name) {
  KSelect *k = &r->ksel;
  bool on = default_on(group), forced_off = false;
  for (int i = 0; i < k->n; i++) {
    const char *it = k->item[i];
    bool match = !strcmp(it, "all") || !strcmp(it, group) || !fnmatch(it, name, 0);
    if (!match)
      continue;
    k->hits[i]++;
    if (k->off[i])
      forced_off = true;
    else
      on = true;
  }
  return on && !forced_off;
}

int kprof_check_selection(const Rec *r) {
  const KSelect *k = &r->ksel;
  for (int i = 0; i < k->n; i++)
    if (!k->hits[i] && !is_group(k->item[i])) {
      diag_fatal("%s %s: no event group and no event of the kernel profile of that name "
                 "(groups: sched, irq, kmem, block, net, timer, power, writeback, syscall, "
                 "all; events by their LTTng names, globs allowed)",
                 k->off[i] ? "--disable" : "--enable", k->item[i]);
      return -1;
    }
  return 0;
}
