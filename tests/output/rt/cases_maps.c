/* cases_maps.c - map printing: sort orders, value kinds, keys, top/div,
 * clear/zero, the maps printed at exit.  Expected output: bpftrace 0.17
 * running each case's program (tests/output/rt/record.sh). */
#include "harness.h"

#define S64 ty_s64
#define STR ty_str(64)

static void count_keys(void) {
  MapInfo *a = map_new("@a", S64, agg(TY_COUNT, false));
  MapInfo *b = map_new("@b", NULL, agg(TY_COUNT, false));
  count(a, key(a, I(1)), 1);
  count(a, key(a, I(2)), 2);
  count(a, key(a, I(3)), 3);
  count(b, key(b), 2);
  finish();
}
#define P_COUNT_KEYS                                                            \
  "BEGIN { @a[3] = count(); @a[1] = count(); @a[2] = count(); @a[2] = count(); " \
  "@a[3] = count(); @a[3] = count(); @b = count(); @b = count(); exit(); }"

static void sum_str_keys(void) {
  MapInfo *c = map_new("@c", STR, agg(TY_SUM, true));
  MapInfo *u = map_new("@u", NULL, agg(TY_SUM, false));
  sum(c, key(c, "x"), 5);
  sum(c, key(c, "y"), -3);
  sum(c, key(c, "zz"), 100);
  sum(c, key(c, "x"), 2);
  sum(u, key(u), -1);
  finish();
}
#define P_SUM_STR_KEYS                                                          \
  "BEGIN { @c[\"x\"] = sum(5); @c[\"y\"] = sum(-3); @c[\"zz\"] = sum(100); "     \
  "@c[\"x\"] = sum(2); @u = sum((uint64)-1); exit(); }"

static void min_max(void) {
  MapInfo *mi = map_new("@mi", S64, agg(TY_MIN, true));
  MapInfo *ma = map_new("@ma", S64, agg(TY_MAX, true));
  MapInfo *mu = map_new("@mu", NULL, agg(TY_MIN, false));
  min_(mi, key(mi, I(1)), 3);
  min_(mi, key(mi, I(2)), -10);
  min_(mi, key(mi, I(3)), 0);
  min_(mi, key(mi, I(3)), 5);
  max_(ma, key(ma, I(1)), 7);
  max_(ma, key(ma, I(2)), 100);
  max_(ma, key(ma, I(1)), 2);
  min_(mu, key(mu), -1);
  finish();
}
#define P_MIN_MAX                                                               \
  "BEGIN { @mi[1] = min(3); @mi[2] = min(-10); @mi[3] = min(0); @mi[3] = min(5); " \
  "@ma[1] = max(7); @ma[2] = max(100); @ma[1] = max(2); @mu = min((uint64)-1); " \
  "exit(); }"

static void avg_stats(void) {
  MapInfo *a = map_new("@a", NULL, agg(TY_AVG, true));
  MapInfo *s = map_new("@s", NULL, agg(TY_STATS, true));
  MapInfo *k = map_new("@k", S64, agg(TY_AVG, true));
  MapInfo *sk = map_new("@sk", STR, agg(TY_STATS, true));
  avg(a, key(a), -7);
  avg(a, key(a), 2);
  avg(s, key(s), 1);
  avg(s, key(s), 2);
  avg(s, key(s), 4);
  avg(k, key(k, I(1)), 10);
  avg(k, key(k, I(2)), 4);
  avg(k, key(k, I(3)), 7);
  avg(sk, key(sk, "x"), 10);
  avg(sk, key(sk, "y"), 3);
  avg(sk, key(sk, "y"), -20);
  finish();
}
#define P_AVG_STATS                                                             \
  "BEGIN { @a = avg(-7); @a = avg(2); @s = stats(1); @s = stats(2); "           \
  "@s = stats(4); @k[1] = avg(10); @k[2] = avg(4); @k[3] = avg(7); "            \
  "@sk[\"x\"] = stats(10); @sk[\"y\"] = stats(3); @sk[\"y\"] = stats(-20); exit(); }"

/* Equal averages keep raw key byte order (little-endian: 256 before 1). */
static void agg_ties(void) {
  MapInfo *a = map_new("@a", S64, agg(TY_AVG, true));
  MapInfo *s = map_new("@s", S64, agg(TY_STATS, true));
  MapInfo *t = map_new("@t", STR, agg(TY_AVG, true));
  avg(a, key(a, I(1)), 5);
  avg(a, key(a, I(256)), 5);
  avg(a, key(a, I(2)), 5);
  avg(a, key(a, I(-1)), 5);
  avg(s, key(s, I(1)), 5);
  avg(s, key(s, I(256)), 5);
  avg(s, key(s, I(2)), 5);
  avg(t, key(t, "b"), 1);
  avg(t, key(t, "a"), 1);
  avg(t, key(t, "ab"), 1);
  avg(t, key(t, ""), 1);
  finish();
}
#define P_AGG_TIES                                                              \
  "BEGIN { @a[1] = avg(5); @a[256] = avg(5); @a[2] = avg(5); @a[-1] = avg(5); "  \
  "@s[1] = stats(5); @s[256] = stats(5); @s[2] = stats(5); @t[\"b\"] = avg(1); " \
  "@t[\"a\"] = avg(1); @t[\"ab\"] = avg(1); @t[\"\"] = avg(1); exit(); }"

/* Equal counts: 0.17 prints them in kernel hash order (random); etrace
 * uses key order.  Manual expected file. */
static void count_ties(void) {
  MapInfo *a = map_new("@a", S64, agg(TY_COUNT, false));
  MapInfo *s = map_new("@s", STR, agg(TY_SUM, true));
  for (int k = 18; k >= -2; k--)
    count(a, key(a, I(k)), 1);
  sum(s, key(s, "b"), 4);
  sum(s, key(s, "a"), 4);
  sum(s, key(s, "c"), 1);
  finish();
}

static void multi_key(void) {
  Type *k = tuple(2, S64, STR);
  MapInfo *m = map_new("@m", k, agg(TY_COUNT, false));
  MapInfo *q = map_new("@q", k, agg(TY_COUNT, false));
  MapInfo *s = map_new("@s", k, STR);
  count(m, key(m, I(1), "b"), 1);
  count(m, key(m, I(2), "a"), 2);
  count(q, key(q, I(1), "b\"q"), 1);
  set(s, key(s, I(2), "a"), value(STR, "1"));
  set(s, key(s, I(1), "b"), value(STR, "2"));
  set(s, key(s, I(1), "a"), value(STR, "3"));
  set(s, key(s, I(-1), "z"), value(STR, "4"));
  set(s, key(s, I(2), "0"), value(STR, "5"));
  finish();
}
#define P_MULTI_KEY                                                             \
  "BEGIN { @m[1, \"b\"] = count(); @m[2, \"a\"] = count(); @m[2, \"a\"] = count(); " \
  "@q[1, \"b\\\"q\"] = count(); @s[2, \"a\"] = \"1\"; @s[1, \"b\"] = \"2\"; "    \
  "@s[1, \"a\"] = \"3\"; @s[-1, \"z\"] = \"4\"; @s[2, \"0\"] = \"5\"; exit(); }"

static void int_values(void) {
  MapInfo *i = map_new("@i", S64, ty_s64);
  MapInfo *w = map_new("@w", S64, ty_u32);
  MapInfo *n = map_new("@n", S64, ty_int(1, true));
  MapInfo *x = map_new("@x", NULL, ty_int(2, false));
  set(i, key(i, I(3)), value(ty_s64, I(10)));
  set(i, key(i, I(1)), value(ty_s64, I(-20)));
  set(i, key(i, I(2)), value(ty_s64, I(5)));
  set(w, key(w, I(1)), value(ty_u32, I(-1)));
  set(w, key(w, I(2)), value(ty_u32, I(5)));
  set(n, key(n, I(1)), value(n->val, I(-1)));
  set(n, key(n, I(2)), value(n->val, I(3)));
  set(x, key(x), value(x->val, I(70000)));
  finish();
}
#define P_INT_VALUES                                                            \
  "BEGIN { @i[3] = 10; @i[1] = -20; @i[2] = 5; @w[1] = (uint32)-1; "            \
  "@w[2] = (uint32)5; @n[1] = (int8)-1; @n[2] = (int8)3; @x = (uint16)70000; "  \
  "exit(); }"

/* Keys sort unsigned at their width: -5 after 100, (int32)-7 before -1. */
static void int_keys(void) {
  MapInfo *a = map_new("@a", S64, STR);
  MapInfo *b = map_new("@b", ty_s32, STR);
  MapInfo *c = map_new("@c", ty_u8, STR);
  MapInfo *d = map_new("@d", tuple(2, ty_int(2, false), ty_int(2, true)), STR);
  set(a, key(a, I(10)), value(STR, "x"));
  set(a, key(a, I(-1)), value(STR, "y"));
  set(a, key(a, I(2)), value(STR, "z"));
  set(a, key(a, I(100)), value(STR, "w"));
  set(a, key(a, I(-5)), value(STR, "v"));
  set(b, key(b, I(-1)), value(STR, "x"));
  set(b, key(b, I(5)), value(STR, "y"));
  set(b, key(b, I(-7)), value(STR, "z"));
  set(c, key(c, I(300)), value(STR, "q"));
  set(c, key(c, I(7)), value(STR, "r"));
  set(d, key(d, I(-1), I(-2)), value(STR, "s"));
  finish();
}
#define P_INT_KEYS                                                              \
  "BEGIN { @a[10] = \"x\"; @a[-1] = \"y\"; @a[2] = \"z\"; @a[100] = \"w\"; "     \
  "@a[-5] = \"v\"; @b[(int32)-1] = \"x\"; @b[(int32)5] = \"y\"; "                \
  "@b[(int32)-7] = \"z\"; @c[(uint8)300] = \"q\"; @c[(uint8)7] = \"r\"; "        \
  "@d[(uint16)-1, (int16)-2] = \"s\"; exit(); }"

static void string_values(void) {
  MapInfo *s = map_new("@s", STR, STR);
  MapInfo *v = map_new("@v", NULL, STR);
  MapInfo *e = map_new("@e", STR, STR);
  set(s, key(s, "bb"), value(STR, "1"));
  set(s, key(s, "a"), value(STR, "2"));
  set(s, key(s, "ab"), value(STR, "3"));
  set(s, key(s, "B"), value(STR, "4"));
  set(s, key(s, ""), value(STR, "5"));
  set(v, key(v), value(STR, "v"));
  set(e, key(e, "k\"ey"), value(STR, "a\nb\t\"c\"\\\x01"));
  finish();
}
#define P_STRING_VALUES                                                         \
  "BEGIN { @s[\"bb\"] = \"1\"; @s[\"a\"] = \"2\"; @s[\"ab\"] = \"3\"; "          \
  "@s[\"B\"] = \"4\"; @s[\"\"] = \"5\"; @v = \"v\"; "                           \
  "@e[\"k\\\"ey\"] = \"a\\nb\\t\\\"c\\\"\\\\\\x01\"; exit(); }"

static void tuple_values(void) {
  Type *inner = tuple(2, S64, STR);
  Type *t = tuple(2, S64, STR);
  Type *n3 = tuple(3, S64, inner, STR);
  Type *m2 = tuple(2, S64, ty_u8);
  MapInfo *mt = map_new("@t", NULL, t);
  MapInfo *mn = map_new("@n", S64, n3);
  MapInfo *mm = map_new("@m", STR, m2);
  set(mt, key(mt), value(t, I(1), "abc"));
  set(mn, key(mn, I(1)), value(n3, I(1), value(inner, I(2), "x"), "y"));
  set(mn, key(mn, I(0)), value(n3, I(-1), value(inner, I(3), "z"), ""));
  set(mm, key(mm, "k"), value(m2, I(-1), I(255)));
  finish();
}
#define P_TUPLE_VALUES                                                          \
  "BEGIN { @t = (1, \"abc\"); @n[1] = (1, (2, \"x\"), \"y\"); "                  \
  "@n[0] = (-1, (3, \"z\"), \"\"); @m[\"k\"] = (-1, (uint8)255); exit(); }"

/* Maps that were never written: only a scalar count() prints a value. */
static void never_written(void) {
  map_new("@c", NULL, agg(TY_COUNT, false));
  map_new("@h", NULL, agg(TY_HIST, true));
  map_new("@s", NULL, agg(TY_SUM, true));
  map_new("@k", S64, agg(TY_COUNT, false));
  map_new("@v", NULL, agg(TY_AVG, true));
  finish();
}
#define P_NEVER_WRITTEN                                                         \
  "BEGIN { if (pid == 0) { @c = count(); @h = hist(1); @s = sum(1); "            \
  "@k[1] = count(); @v = avg(1); } exit(); }"

static void clear_maps(void) {
  MapInfo *a = map_new("@a", S64, agg(TY_COUNT, false));
  MapInfo *h = map_new("@h", NULL, agg(TY_HIST, true));
  MapInfo *s = map_new("@s", NULL, agg(TY_STATS, true));
  MapInfo *v = map_new("@v", NULL, agg(TY_AVG, true));
  MapInfo *x = map_new("@x", S64, ty_s64);
  MapInfo *c = map_new("@c", NULL, agg(TY_COUNT, false));
  MapInfo *k = map_new("@k", NULL, ty_s64);
  count(a, key(a, I(1)), 1);
  hist(h, key(h), 1);
  avg(s, key(s), 1);
  avg(v, key(v), 1);
  set(x, key(x, I(1)), value(ty_s64, I(5)));
  count(c, key(c), 1);
  set(k, key(k), value(ty_s64, I(1)));
  MapInfo *all[] = {a, h, s, v, x, c};
  for (int i = 0; i < 6; i++)
    rt_clear_map(all[i]);
  finish();
}
#define P_CLEAR_MAPS                                                            \
  "BEGIN { @a[1] = count(); @h = hist(1); @s = stats(1); @v = avg(1); "         \
  "@x[1] = 5; @c = count(); @k = 1; clear(@a); clear(@h); clear(@s); "          \
  "clear(@v); clear(@x); clear(@c); exit(); }"

static void zero_maps(void) {
  MapInfo *h = map_new("@h", NULL, agg(TY_HIST, true));
  MapInfo *hk = map_new("@hk", S64, agg(TY_HIST, true));
  MapInfo *l = map_new("@l", NULL, lhist_type(0, 10, 1));
  MapInfo *s = map_new("@s", NULL, agg(TY_STATS, true));
  MapInfo *s2 = map_new("@s2", S64, agg(TY_STATS, true));
  MapInfo *a = map_new("@a", NULL, agg(TY_AVG, true));
  MapInfo *c = map_new("@c", S64, agg(TY_COUNT, false));
  MapInfo *m = map_new("@m", NULL, agg(TY_MIN, true));
  MapInfo *x = map_new("@x", NULL, agg(TY_MAX, true));
  MapInfo *u = map_new("@u", NULL, agg(TY_SUM, true));
  MapInfo *v = map_new("@v", S64, ty_s64);
  hist(h, key(h), 5);
  hist(hk, key(hk, I(1)), 5);
  hist(hk, key(hk, I(2)), 5);
  hist(l, key(l), 5);
  avg(s, key(s), 5);
  avg(s2, key(s2, I(1)), 4);
  avg(a, key(a), 3);
  count(c, key(c, I(1)), 1);
  min_(m, key(m), 5);
  max_(x, key(x), 5);
  sum(u, key(u), 5);
  set(v, key(v, I(1)), value(ty_s64, I(5)));
  MapInfo *all[] = {h, hk, l, s, s2, a, c, m, x, u, v};
  for (int i = 0; i < 11; i++)
    rt_zero_map(all[i]);
  finish();
}
#define P_ZERO_MAPS                                                             \
  "BEGIN { @h = hist(5); @hk[1] = hist(5); @hk[2] = hist(5); "                  \
  "@l = lhist(5, 0, 10, 1); @s = stats(5); @s2[1] = stats(4); @a = avg(3); "    \
  "@c[1] = count(); @m = min(5); @x = max(5); @u = sum(5); @v[1] = 5; "         \
  "zero(@h); zero(@hk); zero(@l); zero(@s); zero(@s2); zero(@a); zero(@c); "    \
  "zero(@m); zero(@x); zero(@u); zero(@v); exit(); }"

/* print(@m, top, div) for each kind, then clear: 0.17 ignores top and div
 * for stats, and div for lhist; hist divides counts but not bars. */
static void print_top_div(void) {
  MapInfo *c = map_new("@c", S64, agg(TY_SUM, true));
  MapInfo *h = map_new("@h", S64, agg(TY_HIST, true));
  MapInfo *l = map_new("@l", S64, lhist_type(0, 100, 10));
  MapInfo *s = map_new("@s", S64, agg(TY_STATS, true));
  MapInfo *a = map_new("@a", S64, agg(TY_AVG, true));
  MapInfo *m = map_new("@m", S64, agg(TY_MIN, true));
  sum(c, key(c, I(1)), 10);
  sum(c, key(c, I(2)), 30);
  sum(c, key(c, I(3)), 20);
  sum(c, key(c, I(4)), 7);
  rt_print_map(&out, c, 2, 0);
  rt_print_map(&out, c, 0, 10);
  rt_print_map(&out, c, 2, 3);
  hist(h, key(h, I(1)), 10);
  hist(h, key(h, I(1)), 10);
  hist(h, key(h, I(2)), 100);
  hist(h, key(h, I(2)), 1000);
  hist(h, key(h, I(2)), 3);
  hist(h, key(h, I(3)), 1);
  rt_print_map(&out, h, 2, 2);
  for (int i = 0; i < 3; i++)
    hist(l, key(l, I(1)), 5);
  hist(l, key(l, I(2)), 50);
  rt_print_map(&out, l, 1, 2);
  avg(s, key(s, I(1)), 10);
  avg(s, key(s, I(2)), 100);
  avg(s, key(s, I(3)), 50);
  rt_print_map(&out, s, 1, 10);
  avg(a, key(a, I(1)), 10);
  avg(a, key(a, I(2)), 100);
  avg(a, key(a, I(3)), 50);
  rt_print_map(&out, a, 1, 10);
  min_(m, key(m, I(1)), 10);
  min_(m, key(m, I(2)), 100);
  min_(m, key(m, I(3)), 50);
  rt_print_map(&out, m, 2, 10);
  MapInfo *all[] = {c, h, l, s, a, m};
  for (int i = 0; i < 6; i++)
    rt_clear_map(all[i]);
  finish();
}
#define P_PRINT_TOP_DIV                                                         \
  "BEGIN { @c[1] = sum(10); @c[2] = sum(30); @c[3] = sum(20); @c[4] = sum(7); "  \
  "print(@c, 2); print(@c, 0, 10); print(@c, 2, 3); @h[1] = hist(10); "          \
  "@h[1] = hist(10); @h[2] = hist(100); @h[2] = hist(1000); @h[2] = hist(3); "   \
  "@h[3] = hist(1); print(@h, 2, 2); @l[1] = lhist(5, 0, 100, 10); "             \
  "@l[1] = lhist(5, 0, 100, 10); @l[1] = lhist(5, 0, 100, 10); "                 \
  "@l[2] = lhist(50, 0, 100, 10); print(@l, 1, 2); @s[1] = stats(10); "          \
  "@s[2] = stats(100); @s[3] = stats(50); print(@s, 1, 10); @a[1] = avg(10); "   \
  "@a[2] = avg(100); @a[3] = avg(50); print(@a, 1, 10); @m[1] = min(10); "       \
  "@m[2] = min(100); @m[3] = min(50); print(@m, 2, 10); clear(@c); clear(@h); "  \
  "clear(@l); clear(@s); clear(@a); clear(@m); exit(); }"

static void print_empty(void) {
  MapInfo *c = map_new("@c", S64, agg(TY_COUNT, false));
  MapInfo *s = map_new("@s", NULL, agg(TY_STATS, true));
  MapInfo *h = map_new("@h", NULL, agg(TY_HIST, true));
  MapInfo *v = map_new("@v", S64, ty_s64);
  pf("a\n", NULL);
  rt_print_map(&out, c, 0, 0);
  pf("b\n", NULL);
  rt_print_map(&out, s, 0, 0);
  pf("c\n", NULL);
  rt_print_map(&out, h, 0, 0);
  pf("d\n", NULL);
  rt_print_map(&out, v, 0, 0);
  pf("e\n", NULL);
  finish();
}
#define P_PRINT_EMPTY                                                           \
  "BEGIN { if (pid == 0) { @c[1] = count(); @s = stats(1); @h = hist(1); "       \
  "@v[1] = 5; } printf(\"a\\n\"); print(@c); printf(\"b\\n\"); print(@s); "     \
  "printf(\"c\\n\"); print(@h); printf(\"d\\n\"); print(@v); printf(\"e\\n\"); " \
  "exit(); }"

/* Exit-time maps come out sorted by name, not in order of first use. */
static void exit_order(void) {
  MapInfo *z = map_new("@z", NULL, ty_s64);
  MapInfo *a = map_new("@", NULL, ty_s64);
  MapInfo *b = map_new("@B", NULL, ty_s64);
  MapInfo *m = map_new("@mid", NULL, ty_s64);
  map_new("internal_fmt", NULL, ty_s64);   /* not a user map: skipped */
  set(z, key(z), value(ty_s64, I(1)));
  set(a, key(a), value(ty_s64, I(2)));
  set(b, key(b), value(ty_s64, I(3)));
  set(m, key(m), value(ty_s64, I(4)));
  finish();
}
#define P_EXIT_ORDER "BEGIN { @z = 1; @ = 2; @B = 3; @mid = 4; exit(); }"

const Case cases_maps[] = {
  TEXT(count_keys, P_COUNT_KEYS),
  JSON(count_keys_json, count_keys, P_COUNT_KEYS),
  TEXT(sum_str_keys, P_SUM_STR_KEYS),
  JSON(sum_str_keys_json, sum_str_keys, P_SUM_STR_KEYS),
  TEXT(min_max, P_MIN_MAX),
  JSON(min_max_json, min_max, P_MIN_MAX),
  TEXT(avg_stats, P_AVG_STATS),
  JSON(avg_stats_json, avg_stats, P_AVG_STATS),
  TEXT(agg_ties, P_AGG_TIES),
  MANUAL(count_ties, MODE_TEXT, NULL),
  TEXT(multi_key, P_MULTI_KEY),
  JSON(multi_key_json, multi_key, P_MULTI_KEY),
  TEXT(int_values, P_INT_VALUES),
  JSON(int_values_json, int_values, P_INT_VALUES),
  TEXT(int_keys, P_INT_KEYS),
  TEXT(string_values, P_STRING_VALUES),
  JSON(string_values_json, string_values, P_STRING_VALUES),
  TEXT(tuple_values, P_TUPLE_VALUES),
  JSON(tuple_values_json, tuple_values, P_TUPLE_VALUES),
  TEXT(never_written, P_NEVER_WRITTEN),
  JSON(never_written_json, never_written, P_NEVER_WRITTEN),
  TEXT(clear_maps, P_CLEAR_MAPS),
  JSON(clear_maps_json, clear_maps, P_CLEAR_MAPS),
  TEXT(zero_maps, P_ZERO_MAPS),
  JSON(zero_maps_json, zero_maps, P_ZERO_MAPS),
  TEXT(print_top_div, P_PRINT_TOP_DIV),
  JSON(print_top_div_json, print_top_div, P_PRINT_TOP_DIV),
  TEXT(print_empty, P_PRINT_EMPTY),
  TEXT(exit_order, P_EXIT_ORDER),
  {0},
};
