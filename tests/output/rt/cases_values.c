/* cases_values.c - single values: print(value), user names, probe names,
 * buf(), strftime() timestamps.  Expected output: bpftrace 0.17 unless
 * MANUAL. */
#include "harness.h"

#include <string.h>
#include <time.h>

#define S64 ty_s64
#define STR ty_str(64)

static void print_values(void) {
  Type *t2 = tuple(2, S64, STR);
  Type *inner = tuple(2, S64, STR);
  Type *t3 = tuple(3, S64, inner, STR);
  rt_emit_value(&out, S64, value(S64, I(5)));
  rt_emit_value(&out, S64, value(S64, I(-3)));
  rt_emit_value(&out, ty_int(1, true), value(ty_int(1, true), I(-1)));
  rt_emit_value(&out, ty_u8, value(ty_u8, I(300)));
  rt_emit_value(&out, STR, value(STR, "str"));
  rt_emit_value(&out, t2, value(t2, I(1), "a"));
  rt_emit_value(&out, t3, value(t3, I(1), value(inner, I(2), "b"), "c"));
  finish();
}
#define P_PRINT_VALUES                                                          \
  "BEGIN { print(5); print(-3); print((int8)-1); print((uint8)300); "           \
  "print(\"str\"); print((1, \"a\")); print((1, (2, \"b\"), \"c\")); exit(); }"

/* uid 0 is root here (the tests run as root). */
static void username_probe(void) {
  probe_names(1, "BEGIN");
  Type *user = ty8(TY_USERNAME), *probe = ty8(TY_PROBE);
  MapInfo *u = map_new("@u", user, agg(TY_COUNT, false));
  MapInfo *p = map_new("@p", probe, agg(TY_COUNT, false));
  MapInfo *n = map_new("@n", user, user);
  MapInfo *pp = map_new("@pp", NULL, probe);
  count(u, key(u, I(0)), 1);
  count(p, key(p, I(0)), 1);
  set(n, key(n, I(0)), value(user, I(0)));
  set(pp, key(pp), value(probe, I(0)));
  rt_emit_value(&out, user, value(user, I(0)));
  rt_emit_value(&out, probe, value(probe, I(0)));
  finish();
}
#define P_USERNAME_PROBE                                                        \
  "BEGIN { @u[username] = count(); @p[probe] = count(); @n[username] = username; " \
  "@pp = probe; print(username); print(probe); exit(); }"

static void buf_values(void) {
  Type *b = buf_type(9);
  const char bytes[] = "ab\x01\xff" "c\"\\ ";   /* 8 bytes + NUL = buf(..., 9) */
  MapInfo *m = map_new("@b", NULL, b);
  pf("%r|%rx|\n", tuple(2, b, b), bytes, I(9), bytes, I(9));
  unsigned char *v = value(b, bytes, I(9));
  rt_emit_value(&out, b, v);
  set(m, key(m), v);
  finish();
}
#define P_BUF_VALUES                                                            \
  "BEGIN { $b = buf(\"ab\\x01\\xffc\\\"\\\\ \", 9); printf(\"%r|%rx|\\n\", $b, $b); " \
  "print($b); @b = $b; exit(); }"

/* strftime(): wall clock from CLOCK_MONOTONIC nsecs, bpftrace's %f
 * (microseconds), and a quoted JSON string (0.17 leaves it unquoted). */
static void timestamp_values(void) {
  for (int attempt = 0; attempt < 2; attempt++) {
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    time_t now = time(NULL);
    uint64_t ns = (uint64_t)mono.tv_sec * 1000000000ULL + mono.tv_nsec;
    Type *t = timestamp_type("%Y-%m-%d %H:%M|%f");
    Buf b = {0};
    rt_format_value(&b, t, &ns, OUT_TEXT);
    char want[64];
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(want, sizeof want, "%Y-%m-%d %H:%M|", &tm);
    bool same = b.data && !strncmp(b.data, want, strlen(want));
    bool usecs = b.len == strlen(want) + 6;
    buf_free(&b);
    if (same || attempt) {   /* retry once across a minute boundary */
      printf("wall clock matches: %s\nmicroseconds: %s\n", same ? "yes" : "no",
             usecs ? "6 digits" : "wrong");
      break;
    }
  }
  uint64_t zero = 0;
  out.format = OUT_JSON;
  rt_emit_value(&out, timestamp_type("at %%"), &zero);
}

/* Bytes >= 0x80 pass through JSON escaping unchanged (0.17 turns each into
 * a bogus \uffffffNN); control bytes become \u00NN. */
static void json_utf8(void) {
  MapInfo *s = map_new("@s", NULL, STR);
  set(s, key(s), value(STR, "caf\xc3\xa9 \x7f\x1b"));
  finish();
}

const Case cases_values[] = {
  TEXT(print_values, P_PRINT_VALUES),
  JSON(print_values_json, print_values, P_PRINT_VALUES),
  TEXT(username_probe, P_USERNAME_PROBE),
  JSON(username_probe_json, username_probe, P_USERNAME_PROBE),
  TEXT(buf_values, P_BUF_VALUES),
  JSON(buf_values_json, buf_values, P_BUF_VALUES),
  MANUAL(timestamp_values, MODE_TEXT, NULL),
  MANUAL(json_utf8, MODE_JSON, NULL),
  {0},
};
