/* cases_printf.c - printf formatting and its compile-time check.
 * Expected output: bpftrace 0.17, except the MANUAL cases where etrace
 * follows C / current bpftrace (each says why). */
#include "harness.h"

#define S64 ty_s64
#define STR ty_str(64)

static void printf_ints(void) {
  pf("%d|%x|%u|%d|%X|%o|%c|%p|%s|\n",
     tuple(9, ty_u8, S64, S64, S64, S64, S64, S64, S64, STR),
     I(300), I(-1), I(-1), I(-1), I(255), I(8), I(65), I(4096), "str");
  finish();
}
#define P_PRINTF_INTS                                                           \
  "BEGIN { printf(\"%d|%x|%u|%d|%X|%o|%c|%p|%s|\\n\", (uint8)300, -1, -1, -1, "  \
  "255, 8, 65, 4096, \"str\"); exit(); }"

/* Narrow declared types, then C's int conversion for %d/%u/%x. */
static void printf_narrow(void) {
  Type *i8 = ty_int(1, true);
  pf("%d %d %u %x %d %x %c|\n", tuple(7, ty_u8, i8, i8, i8, ty_s32, ty_s32, S64),
     I(300), I(-1), I(-1), I(-1), I(-1), I(-1), I(0x141));
  finish();
}
#define P_PRINTF_NARROW                                                         \
  "BEGIN { printf(\"%d %d %u %x %d %x %c|\\n\", (uint8)300, (int8)-1, (int8)-1, " \
  "(int8)-1, (int32)-1, (int32)-1, 0x141); exit(); }"

/* No length modifier: 32 bits; l and ll: all 64. */
static void printf_64(void) {
  pf("%d %x %u %ld %lx %lu %lld %llx %llu\n",
     tuple(9, S64, S64, S64, S64, S64, S64, S64, S64, S64),
     I((1LL << 32) | 5), I(-1), I(-1), I(1LL << 33), I(-1), I(-1), I(-2), I(-2), I(-2));
  finish();
}
#define P_PRINTF_64                                                             \
  "BEGIN { printf(\"%d %x %u %ld %lx %lu %lld %llx %llu\\n\", (1 << 32) | 5, "   \
  "-1, -1, 1 << 33, -1, -1, -2, -2, -2); exit(); }"

static void printf_len(void) {
  Type *f[16];
  for (int i = 0; i < 16; i++)
    f[i] = S64;
  pf("%hhd|%hd|%ld|%lld|%hhx|%hx|%lx|%llu|%zd|%jd|%td|%hhu|%hu|%zu|%tu|%jx\n",
     ty_tuple(f, 16), I(300), I(70000), I(-1), I(-1), I(-1), I(-1), I(-1), I(-1),
     I(5), I(6), I(7), I(-1), I(-1), I(-1), I(-1), I(-1));
  finish();
}
#define P_PRINTF_LEN                                                            \
  "BEGIN { printf(\"%hhd|%hd|%ld|%lld|%hhx|%hx|%lx|%llu|%zd|%jd|%td|%hhu|%hu|"  \
  "%zu|%tu|%jx\\n\", 300, 70000, -1, -1, -1, -1, -1, -1, 5, 6, 7, -1, -1, -1, "  \
  "-1, -1); exit(); }"

static void printf_width(void) {
  Type *f[8];
  for (int i = 0; i < 8; i++)
    f[i] = S64;
  pf("[%5d][%-5d][%05d][%.3d][%010.5d][%-05d][%5x][%5.2x]\n", ty_tuple(f, 8),
     I(42), I(42), I(42), I(7), I(65), I(65), I(255), I(5));
  finish();
}
#define P_PRINTF_WIDTH                                                          \
  "BEGIN { printf(\"[%5d][%-5d][%05d][%.3d][%010.5d][%-05d][%5x][%5.2x]\\n\", "  \
  "42, 42, 42, 7, 65, 65, 255, 5); exit(); }"

static void printf_str(void) {
  pf("[%s][%8.3s][%-8s][%.2s][%5s][%.0s]\n", tuple(6, STR, STR, STR, STR, STR, STR),
     "abc", "abcdef", "ab", "xyz", "toolongstr", "gone");
  finish();
}
#define P_PRINTF_STR                                                            \
  "BEGIN { printf(\"[%s][%8.3s][%-8s][%.2s][%5s][%.0s]\\n\", \"abc\", "           \
  "\"abcdef\", \"ab\", \"xyz\", \"toolongstr\", \"gone\"); exit(); }"

/* %p of 0 is glibc's "(nil)"; %c of 0 prints nothing (bpftrace stops at
 * the NUL). */
static void printf_char_ptr(void) {
  pf("%p|%5p|%-8p|%x|%5c|%-3c|%c|\n", tuple(7, S64, S64, S64, S64, S64, S64, S64),
     I(0), I(16), I(16), I(0), I(66), I(67), I(0));
  finish();
}
#define P_PRINTF_CHAR_PTR                                                       \
  "BEGIN { printf(\"%p|%5p|%-8p|%x|%5c|%-3c|%c|\\n\", 0, 16, 16, 0, 66, 67, 0); " \
  "exit(); }"

static void printf_literal(void) {
  pf("no args\n", NULL);
  pf("tab\there \"q\" back\\slash\n", NULL);
  pf("50% \n", NULL);
  pf("%ds\n", tuple(1, S64), I(1));
  pf("no newline", NULL);
  finish();
}
#define P_PRINTF_LITERAL                                                        \
  "BEGIN { printf(\"no args\\n\"); printf(\"tab\\there \\\"q\\\" back\\\\slash\\n\"); " \
  "printf(\"50% \\n\"); printf(\"%ds\\n\", 1); printf(\"no newline\"); exit(); }"

static void printf_symbols(void) {
  probe_names(1, "BEGIN");
  pf("%s %s|%-6s|\n", tuple(3, ty8(TY_USERNAME), ty8(TY_PROBE), STR), I(0), I(0), "x");
  finish();
}

static void printf_json(void) {
  pf("a\"b\\c\td\n", NULL);
  pf("x=%d\n", tuple(1, S64), I(5));
  pf("%s|", tuple(1, STR), "ctl\x01\x1f");
  pf("no newline", NULL);
  finish();
}
#define P_PRINTF_JSON                                                           \
  "BEGIN { printf(\"a\\\"b\\\\c\\td\\n\"); printf(\"x=%d\\n\", 5); "             \
  "printf(\"%s|\", \"ctl\\x01\\x1f\"); printf(\"no newline\"); exit(); }"

/* C semantics where 0.17 is broken: %% is '%' everywhere (0.17 prints
 * "%%" after the last conversion); flags + ' ' # and %i work (0.17 does
 * not count them as conversions).  Expected text from coreutils printf(1):
 *   printf '100%%\n5%%\n[%+d][% d][%#x][%#o][%i][%+5d][%-+5d][% 05d]\n' \
 *     5 42 42 255 8 7 3 3 3    (then the two exit newlines) */
static void printf_c_flags(void) {
  pf("100%%\n", NULL);
  pf("%d%%\n", tuple(1, S64), I(5));
  Type *f[8];
  for (int i = 0; i < 8; i++)
    f[i] = S64;
  pf("[%+d][% d][%#x][%#o][%i][%+5d][%-+5d][% 05d]\n", ty_tuple(f, 8),
     I(42), I(42), I(255), I(8), I(7), I(3), I(3), I(3));
  finish();
}

/* Like current bpftrace: a '%' before a non-conversion is text, a length
 * on %s / %c is ignored, L is long long. */
static void printf_lenient(void) {
  pf("%Y-%m %ls %hhc %Lx|\n", tuple(3, STR, S64, S64), "s", I(65), I(-1));
  finish();
}

/* %s takes any value (current bpftrace); %r %rx %rh print a buf. */
static void printf_s_any(void) {
  Type *t = tuple(2, S64, STR);
  Type *b = buf_type(4);
  pf("%s|%s|%5s|%r|%rx|%rh|\n", tuple(6, S64, t, ty_u8, b, b, b), I(-7),
     value(t, I(1), "a"), I(300), "a\x01\xff ", I(4), "a\x01\xff ", I(4), "a\x01\xff ", I(4));
  finish();
}

/* ------------------------------------------------------ compile checks */

static void check_too_many(void) { check("%d\n", 2, S64, S64); }
static void check_not_enough(void) { check("%d %s\n", 1, S64); }
static void check_int_str(void) { check("%d\n", 1, STR); }
static void check_int_tuple(void) { check("%x\n", 1, tuple(2, S64, S64)); }
static void check_lld_str(void) { check("%-5lld\n", 1, STR); }
static void check_c_str(void) { check("%c\n", 1, STR); }
static void check_r_str(void) { check("%r\n", 1, STR); }
static void check_username_int(void) { check("%d\n", 1, ty8(TY_USERNAME)); }
static void check_count(void) { check("%d\n", 1, agg(TY_COUNT, false)); }
static void check_cat(void) {
  Type *args[] = {S64};
  printf("%s\n", rt_format_check("cat", "/tmp/%d %d", args, 1));
}
static void check_ok(void) { check("%d %s %5.2x %%\n", 3, S64, STR, S64); }
/* Manual: deliberate differences from 0.17 (see printf.c). */
static void check_s_int(void) { check("%s %s\n", 2, S64, tuple(2, S64, STR)); }
static void check_flags(void) { check("%+d % d %#x %i\n", 4, S64, S64, S64, S64); }
static void check_unknown(void) { check("%Y %f\n", 1, S64); }
static void check_star(void) { check("%*d\n", 2, S64, S64); }
static void check_ls(void) { check("%ls %hhc %Y\n", 2, STR, S64); }
static void check_pct_only(void) { check("100%%\n", 1, S64); }

const Case cases_printf[] = {
  TEXT(printf_ints, P_PRINTF_INTS),
  TEXT(printf_narrow, P_PRINTF_NARROW),
  TEXT(printf_64, P_PRINTF_64),
  TEXT(printf_len, P_PRINTF_LEN),
  TEXT(printf_width, P_PRINTF_WIDTH),
  TEXT(printf_str, P_PRINTF_STR),
  TEXT(printf_char_ptr, P_PRINTF_CHAR_PTR),
  TEXT(printf_literal, P_PRINTF_LITERAL),
  TEXT(printf_symbols, "BEGIN { printf(\"%s %s|%-6s|\\n\", username, probe, \"x\"); exit(); }"),
  JSON(printf_json, printf_json, P_PRINTF_JSON),
  MANUAL(printf_c_flags, MODE_TEXT, NULL),
  MANUAL(printf_s_any, MODE_TEXT, NULL),
  MANUAL(printf_lenient, MODE_TEXT, NULL),
  CHECK(check_too_many, "BEGIN { printf(\"%d\\n\", 1, 2); }"),
  CHECK(check_not_enough, "BEGIN { printf(\"%d %s\\n\", 1); }"),
  CHECK(check_int_str, "BEGIN { printf(\"%d\\n\", \"s\"); }"),
  CHECK(check_int_tuple, "BEGIN { printf(\"%x\\n\", (1, 2)); }"),
  CHECK(check_lld_str, "BEGIN { printf(\"%-5lld\\n\", \"s\"); }"),
  CHECK(check_c_str, "BEGIN { printf(\"%c\\n\", \"s\"); }"),
  CHECK(check_r_str, "BEGIN { printf(\"%r\\n\", \"s\"); }"),
  CHECK(check_username_int, "BEGIN { printf(\"%d\\n\", username); }"),
  CHECK(check_count, "BEGIN { @x = count(); printf(\"%d\\n\", @x); }"),
  CHECK(check_cat, "BEGIN { cat(\"/tmp/%d %d\", 1); }"),
  CHECK(check_ok, "BEGIN { printf(\"%d %s %5.2x %%\\n\", 1, \"a\", 2); exit(); }"),
  MANUAL(check_s_int, MODE_CHECK, NULL),
  MANUAL(check_flags, MODE_CHECK, NULL),
  MANUAL(check_unknown, MODE_CHECK, NULL),
  MANUAL(check_ls, MODE_CHECK, NULL),
  MANUAL(check_star, MODE_CHECK, NULL),
  MANUAL(check_pct_only, MODE_CHECK, NULL),
  {0},
};
