/* keycache.c - a map key used several times in a probe is built once.
 *
 * `@start[tid]` in a predicate, again in the body and in delete() builds
 * the same bytes three times.  Before a probe is generated, keys made only
 * of values that cannot change while the program runs (constants,
 * BUILTIN_STABLE variables such as pid, tid, comm, tracepoint fields)
 * and used at least twice get a slot of their own for the whole program.
 * The first build fills it; later uses take it as it is, provided that
 * first build runs on every path to them: code is generated in program
 * order, and a key built inside a branch, loop body or short-circuit
 * operand (a region: cg_cond_enter .. cg_cond_leave) is forgotten when
 * that region ends, so only code after the build in the same region, or
 * in regions inside it, uses it.  A loop's next pass may find the key of
 * the last one in the slot: the same bytes, since they cannot change.
 *
 * Maps of hist()/lhist() are left out: the bucket index is written into
 * their key after the user's part.
 *
 * The integer read with such a key is kept too (`/@start[tid]/` and then
 * `nsecs - @start[tid]` look the map up once, as hand-written C would):
 * a read made on every path (cond_depth 0) outside any loop stores r0 in
 * a slot; later reads outside loops load it until code that may write the
 * map is generated (build_key: any access of the same map; a for-each
 * over any map).  Code is generated in program order, so a write on some
 * path only also forgets the value for all the code after it.
 */
#include "etrace.h"
#include "codegen/cg.h"
#include "builtins/builtin.h"
#include "providers/provider.h"

#include <string.h>

/* Does e have the same value wherever it appears in the probe? */
static bool stable(const Cg *cg, const Node *e) {
  switch (e->kind) {
  case ND_INT:
  case ND_STR:
  case ND_POSPARAM:
    return true;
  case ND_BUILTIN:
    return builtin_has(e, BUILTIN_STABLE);
  case ND_FIELD: /* a field of the tracepoint's record: the context is read-only */
    return !cg->t->prov->arg_loc && e->lhs->kind == ND_BUILTIN &&
           builtin_has(e->lhs, BUILTIN_ARGS_RECORD);
  case ND_CAST:
    return stable(cg, e->lhs);
  default:
    return false;
  }
}

static bool same(const Node *a, const Node *b) {
  if (a->kind != b->kind || !ty_same(a->type, b->type))
    return false;
  switch (a->kind) {
  case ND_INT:
  case ND_POSPARAM:
    return a->ival == b->ival;
  case ND_STR:
    return a->slen == b->slen && !memcmp(a->str, b->str, a->slen);
  case ND_BUILTIN:
    return !strcmp(a->name, b->name);
  case ND_FIELD:
    return !strcmp(a->name, b->name) && same(a->lhs, b->lhs);
  case ND_CAST:
    return same(a->lhs, b->lhs);
  default:
    return false;
  }
}

static bool cacheable(const Cg *cg, const Node *m) {
  const MapInfo *map = m->map;
  if (m->kind != ND_MAP || !map || map->nkeys < 1 || !m->args || map->key_size > 64 ||
      map->val->kind == TY_HIST || map->val->kind == TY_LHIST)
    return false;
  for (const Node *a = m->args; a; a = a->next)
    if (!stable(cg, a))
      return false;
  return true;
}

/* Same key bytes: the same layout and the same expressions. */
static bool same_key(const Node *a, const Node *b) {
  if (a->map->key_size != b->map->key_size || !ty_same(a->map->key, b->map->key))
    return false;
  const Node *x = a->args, *y = b->args;
  for (; x && y; x = x->next, y = y->next)
    if (!same(x, y))
      return false;
  return !x && !y;
}

static KeyCache *find(Cg *cg, const Node *m) {
  for (int i = 0; i < cg->nkeys; i++)
    if (same_key(cg->keys[i].first, m))
      return &cg->keys[i];
  return NULL;
}

/* Count the cacheable map accesses under n (for-over-map bodies run in a
 * frame of their own and are left out). */
static void collect(Cg *cg, Node *n) {
  for (; n; n = n->next) {
    if (n->kind == ND_FOR_MAP)
      continue;
    if (n->kind == ND_MAP && cacheable(cg, n)) {
      KeyCache *k = find(cg, n);
      if (k)
        k->uses++;
      else if (cg->nkeys < KEYCACHE_MAX)
        cg->keys[cg->nkeys++] = (KeyCache){.first = n, .uses = 1, .built_depth = -1};
    }
    collect(cg, n->lhs);
    collect(cg, n->rhs);
    collect(cg, n->cond);
    collect(cg, n->then);
    collect(cg, n->els);
    collect(cg, n->args);
    collect(cg, n->body);
  }
}

void keycache_plan(Cg *cg, const Probe *p) {
  cg->nkeys = 0;
  collect(cg, p->pred);
  collect(cg, p->body);
  int kept = 0;
  for (int i = 0; i < cg->nkeys; i++) {
    KeyCache k = cg->keys[i];
    if (k.uses < 2)
      continue;
    k.off = slot(cg, k.first->map->key_size, p->loc);
    if (ty_is_int(k.first->map->val))
      k.val_off = slot(cg, 8, p->loc);
    cg->keys[kept++] = k;
  }
  cg->nkeys = kept;
}

int keycache_slot(Cg *cg, const Node *m, bool *built) {
  *built = false;
  if (!cg->nkeys || !cacheable(cg, m))
    return 0;
  KeyCache *k = find(cg, m);
  if (!k)
    return 0;
  *built = k->built_depth >= 0;
  if (!*built)
    k->built_depth = cg->cond_depth; /* the caller builds it now */
  return k->off;
}

void cg_cond_enter(Cg *cg) { cg->cond_depth++; }

void cg_cond_leave(Cg *cg) {
  for (int i = 0; i < cg->nkeys; i++)
    if (cg->keys[i].built_depth >= cg->cond_depth)
      cg->keys[i].built_depth = -1;
  cg->cond_depth--;
}

static KeyCache *value_key(Cg *cg, const Node *m) {
  if (!cg->nkeys || cg->loop_depth || !cacheable(cg, m))
    return NULL;
  KeyCache *k = find(cg, m);
  /* maps with the same key bytes share the key's entry: the value kept
   * is that of the first map's */
  return k && k->val_off && k->first->map == m->map ? k : NULL;
}

int keycache_value_slot(Cg *cg, const Node *m) {
  KeyCache *k = value_key(cg, m);
  return k && k->val_valid ? k->val_off : 0;
}

bool keycache_value_load(Cg *cg, const Node *m) {
  KeyCache *k = value_key(cg, m);
  if (!k || !k->val_valid)
    return false;
  emit(cg, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, k->val_off));
  return true;
}

void keycache_value_keep(Cg *cg, const Node *m) {
  KeyCache *k = value_key(cg, m);
  if (!k || cg->cond_depth)
    return;
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, k->val_off));
  k->val_valid = true;
}

void keycache_forget_values(Cg *cg, const MapInfo *m) {
  for (int i = 0; i < cg->nkeys; i++)
    if (!m || cg->keys[i].first->map == m)
      cg->keys[i].val_valid = false;
}
