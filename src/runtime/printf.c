/* printf.c - the printf engine: a compile-time check of a format against
 * its argument types, and the run-time formatting of a record.
 *
 * Conversions: %[flags][width][.precision][length]conv with flags "-+ #0",
 * length hh h l ll j z t L (ignored on c and s), conv d i u o x X c s p, plus
 * bpftrace's %r %rx %rh for buf() values.  %% is a literal '%'.  etrace's
 * own %#s prints any value as a JSON literal (a quoted, escaped string; a
 * number; a struct as an object), so a format can build JSON lines.  Each
 * conversion is handed to the host snprintf, so integers behave as in C
 * after bpftrace's promotion: no length modifier means int / unsigned int
 * (printf("%x", -1) prints ffffffff), h and hh narrow further, l and ll
 * print all 64 bits.
 *
 * A '%' followed by anything else ("100%\n", "%Y") is literal text;
 * floating-point conversions, %n and '*' widths are compile-time errors.
 *
 * Where bpftrace 0.17 differs (it only counts %-?[0-9]*(.[0-9]+)?, has no
 * %i or + ' ' # flags, prints "%%" verbatim after the last conversion and
 * rejects %s of a non-string), we follow current bpftrace and C.  The
 * error messages keep 0.17's wording. */
#include "runtime/rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct Spec {
  char flags[8];     /* "-+ #0" as written, each at most once */
  int width;         /* -1: none */
  int prec;          /* -1: none */
  char len[3];       /* "", "hh", "h", "l", "ll", "j", "z", "t", "L" */
  char conv;         /* d i u o x X c s p, or r for the %r family */
  char bufmode;      /* %r: 'r', %rx: 'x', %rh: 'h' */
  const char *token; /* for messages: from '%' to the end of the spec */
  int token_len;
} Spec;

enum { SCAN_END, SCAN_SPEC, SCAN_BAD };

static bool is_int_conv(char c) { return c && strchr("diouxXcp", c); }

/* Scan fmt from *pos.  Literal text (with %% folded) goes to lit when it is
 * not NULL.  Returns SCAN_SPEC with *sp filled, SCAN_END, or SCAN_BAD for a
 * conversion we cannot print: floating point, %n, a '*' width (sp->token
 * spans it). */
static int scan(const char *fmt, size_t *pos, Spec *sp, Buf *lit) {
  size_t i = *pos;
  for (;;) {
    size_t start = i;
    while (fmt[i] && fmt[i] != '%')
      i++;
    if (lit && i > start)
      buf_put(lit, fmt + start, i - start);
    if (!fmt[i]) {
      *pos = i;
      return SCAN_END;
    }
    if (fmt[i + 1] == '%') {
      if (lit)
        buf_put(lit, "%", 1);
      i += 2;
      continue;
    }
    memset(sp, 0, sizeof *sp);
    sp->width = sp->prec = -1;
    sp->token = fmt + i;
    size_t j = i + 1;
    int nf = 0;
    while (fmt[j] && strchr("-+ #0", fmt[j])) {
      if (!memchr(sp->flags, fmt[j], nf) && nf < 7)
        sp->flags[nf++] = fmt[j];
      j++;
    }
    if (fmt[j] >= '0' && fmt[j] <= '9')
      sp->width = (int)strtol(fmt + j, NULL, 10);
    while (fmt[j] >= '0' && fmt[j] <= '9')
      j++;
    if (fmt[j] == '.') {
      j++;
      sp->prec = (int)strtol(fmt + j, NULL, 10);
      while (fmt[j] >= '0' && fmt[j] <= '9')
        j++;
    }
    static const char *const lens[] = {"hh", "h", "ll", "l", "j", "z", "t", "L"};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
      size_t n = strlen(lens[k]);
      if (!strncmp(fmt + j, lens[k], n)) {
        memcpy(sp->len, lens[k], n);
        j += n;
        break;
      }
    }
    char c = fmt[j];
    if (!c || !strchr("diouxXcspr*eEfFgGaAn", c)) {
      /* Not a conversion ("100%\n", "%Y"): keep the text literally, as
       * current bpftrace does. */
      if (lit)
        buf_put(lit, fmt + i, j - i);
      i = j;
      continue;
    }
    j++;
    if (c == 'r') {
      sp->conv = 'r';
      sp->bufmode = 'r';
      if (fmt[j] == 'x' || fmt[j] == 'h')
        sp->bufmode = fmt[j++];
    } else if (!strchr("*eEfFgGaAn", c)) {
      sp->conv = c;   /* a length on c, s or r is accepted and ignored */
    }
    sp->token_len = (int)(j - i);
    *pos = j;
    return sp->conv ? SCAN_SPEC : SCAN_BAD;
  }
}

/* The specifier without flags, width and precision ("%lld", "%rx"): the
 * form bpftrace's messages show. */
static const char *short_token(const Spec *sp) {
  const char *end = sp->token + sp->token_len;
  const char *p = sp->token + 1;
  while (p < end && strchr("-+ #0123456789.", *p))
    p++;
  return eprintf("%%%.*s", (int)(end - p), p);
}

/* Type names as bpftrace 0.17 prints them in printf errors; symbolic
 * values (username, probe, timestamp) count as strings there. */
static const char *type_word(const Type *t) {
  switch (t->kind) {
  case TY_INT: return "integer";
  case TY_STR: case TY_USERNAME: case TY_PROBE: case TY_TIMESTAMP: case TY_STRERROR:
  case TY_INET: case TY_MACADDR: case TY_CGROUP_PATH: return "string";
  case TY_TUPLE: return "tuple";
  case TY_BUF: return "buffer";
  case TY_CTX: return "ctx";
  case TY_COUNT: return "count";
  case TY_SUM: return "sum";
  case TY_MIN: return "min";
  case TY_MAX: return "max";
  case TY_AVG: return "avg";
  case TY_STATS: return "stats";
  case TY_HIST: return "hist";
  case TY_LHIST: return "lhist";
  default: return "none";
  }
}

static bool printable_as_string(const Type *t) {
  switch (t->kind) {
  case TY_NONE: case TY_VOID: case TY_CTX: case TY_HIST: case TY_LHIST:
    return false;
  default:
    return true;
  }
}

/* Messages start with the function's name, as bpftrace's do: "printf: ",
 * "system: ", "cat: ". */
const char *rt_format_check(const char *func, const char *fmt, Type **args, int nargs) {
  Spec specs[64];
  int n = 0;
  size_t pos = 0;
  Spec sp;
  int r;
  while ((r = scan(fmt, &pos, &sp, NULL)) != SCAN_END) {
    if (r == SCAN_BAD)
      return eprintf("%s: Unknown format string token: %s", func, short_token(&sp));
    if (n < (int)(sizeof specs / sizeof *specs))
      specs[n] = sp;
    n++;
  }
  if (nargs < n)
    return eprintf("%s: Not enough arguments for format string (%d supplied, %d expected)",
                   func, nargs, n);
  if (nargs > n)
    return eprintf("%s: Too many arguments for format string (%d supplied, %d expected)",
                   func, nargs, n);
  if (n > (int)(sizeof specs / sizeof *specs))
    return eprintf("%s: too many conversions (%d, at most %d)", func, n,
                   (int)(sizeof specs / sizeof *specs));
  for (int i = 0; i < n; i++) {
    const Type *t = args[i];
    const char *want = NULL;
    if (specs[i].conv == 'r' && t->kind != TY_BUF)
      want = "buffer";
    else if (specs[i].conv == 's' && !printable_as_string(t))
      want = "string";
    else if (is_int_conv(specs[i].conv) && t->kind != TY_INT)
      want = "integer";
    if (want)
      return eprintf("%s: %s specifier expects a value of type %s (%s supplied)",
                     func, short_token(&specs[i]), want, type_word(t));
  }
  return NULL;
}

const char *rt_printf_check(const char *fmt, Type **args, int nargs) {
  return rt_format_check("printf", fmt, args, nargs);
}

/* ------------------------------------------------------------- run time */

static void appendf(Buf *b, const char *cfmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, cfmt);
  int n = vsnprintf(tmp, sizeof tmp, cfmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  /* bpftrace writes each piece as a C string: output stops at a NUL byte,
   * so printf("%c", 0) prints nothing (and "%-3c" loses its padding). */
  if (n < (int)sizeof tmp) {
    buf_put(b, tmp, strnlen(tmp, n));
    return;
  }
  char *big = malloc(n + 1);
  if (!big)
    return;
  va_start(ap, cfmt);
  vsnprintf(big, n + 1, cfmt, ap);
  va_end(ap);
  buf_put(b, big, strnlen(big, n));
  free(big);
}

/* "%" flags width .prec, then the C length and conversion. */
static void c_format(char *out, size_t size, const Spec *sp, const char *len, char conv) {
  int n = snprintf(out, size, "%%%s", sp->flags);
  if (sp->width >= 0)
    n += snprintf(out + n, size - n, "%d", sp->width);
  if (sp->prec >= 0)
    n += snprintf(out + n, size - n, ".%d", sp->prec);
  snprintf(out + n, size - n, "%s%c", len, conv);
}

static void format_int(Buf *b, const Spec *sp, int64_t v) {
  char cfmt[48];
  if (sp->conv == 'p') {
    c_format(cfmt, sizeof cfmt, sp, "", 'p');
    appendf(b, cfmt, (void *)(uintptr_t)v);
  } else if (sp->conv == 'c') {
    c_format(cfmt, sizeof cfmt, sp, "", 'c');
    appendf(b, cfmt, (int)v);
  } else if (sp->len[0] && sp->len[0] != 'h') {   /* l ll j z t L: 64 bits */
    c_format(cfmt, sizeof cfmt, sp, "ll", sp->conv);
    appendf(b, cfmt, (long long)v);
  } else {
    /* int / short / char: C's default argument promotion, then snprintf
     * narrows for h and hh. */
    c_format(cfmt, sizeof cfmt, sp, sp->len, sp->conv);
    appendf(b, cfmt, (int)v);
  }
}

static void format_str(Buf *b, const Spec *sp, const char *s) {
  char cfmt[48];
  c_format(cfmt, sizeof cfmt, sp, "", 's');
  appendf(b, cfmt, s);
}

void rt_printf(Buf *b, const char *fmt, const Type *args, const void *data) {
  const unsigned char *base = data;
  size_t pos = 0;
  Spec sp;
  int r, i = 0;
  while ((r = scan(fmt, &pos, &sp, b)) != SCAN_END) {
    if (r == SCAN_BAD || !args || i >= args->nfields) {
      buf_put(b, sp.token, sp.token_len);  /* rejected at compile time */
      continue;
    }
    const Type *t = args->fields[i];
    const unsigned char *p = base + args->offsets[i];
    i++;
    if (is_int_conv(sp.conv)) {
      format_int(b, &sp, rt_int_value(t, p));
      continue;
    }
    Buf text = {0};
    if (sp.conv == 's' && strchr(sp.flags, '#')) {
      /* %#s (etrace): the value as a JSON literal, for JSON lines */
      rt_format_value(&text, t, p, OUT_JSON);
      if (text.data)
        buf_put(b, text.data, text.len);
      buf_free(&text);
      continue;
    }
    if (sp.conv == 'r' && t->kind == TY_BUF)
      rt_format_buf(&text, t, p, sp.bufmode);
    else
      rt_format_value(&text, t, p, OUT_TEXT);
    format_str(b, &sp, text.data ? text.data : "");
    buf_free(&text);
  }
}

void rt_emit_printf(Output *o, const char *fmt, const Type *args, const void *data) {
  if (o->c)
    rt_set_probe_names(o->c->probe_names, o->c->nprobe_names);
  Buf b = {0};
  rt_printf(&b, fmt, args, data);
  rt_emit_text(o, "printf", b.data ? b.data : "", b.len);
  buf_free(&b);
}
