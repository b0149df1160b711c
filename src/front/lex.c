/* lex.c - the bpftrace tokenizer.
 *
 * The language has two lexical worlds.  Inside braces, and inside a
 * predicate, it is C-like: identifiers, numbers, strings, operators.  At the
 * top level it is attach-point text such as `uprobe:/bin/bash:readline` or
 * `interval:s:1`, which would fall apart into many C tokens, so at brace
 * depth 0 the lexer reads such text as one TK_ATTACH token, as written.
 *
 * At the top level a '/' opens a predicate.  The predicate is C-like and
 * ends at a '/' followed (after blanks and comments) by '{': that '/' is a
 * TK_PRED_END, any other '/' is a division.
 *
 * Inside attach-point text a '/' is part of a path when it follows ':'
 * (`uprobe:/bin/bash`), when the current ':'-separated segment already
 * holds a '/' or starts with '.' (`usdt:./a.out:p:n`), or in the binary
 * segment of a uprobe-like provider (`uprobe:lib/x.so:f`).  Otherwise it
 * ends the attach point and starts a predicate (`kprobe:f/pid == 1/`).
 *
 * The whole source is tokenized before parsing.  A lexical error does not
 * stop the program: it becomes a final TK_ERROR token, and the parser
 * reports it when it reaches it, so the first error in the text is the one
 * reported whichever phase finds it.
 */
#include "front/lex.h"

#include <ctype.h>
#include <setjmp.h>
#include <string.h>
#include <strings.h>

typedef struct Lexer {
  const char *p;            /* next byte to read */
  const char *line_start;   /* first byte of the current line */
  int line;
  int depth;                /* brace depth */
  bool in_pred;             /* between a top-level '/' and its end */
  Token *tail;              /* last token appended */
  jmp_buf fail;             /* taken after a TK_ERROR is appended */
} Lexer;

static Loc loc_at(Lexer *L, const char *p) {
  return (Loc){L->line, (int)(p - L->line_start) + 1};
}

static Token *add_token(Lexer *L, TokenKind kind, const char *start, const char *end) {
  Token *t = ealloc(sizeof(Token));
  t->kind = kind;
  t->text = start;
  t->len = (int)(end - start);
  t->loc = loc_at(L, start);
  t->next = t;
  L->tail->next = t;
  L->tail = t;
  return t;
}

/* Append a TK_ERROR token at `at` and abandon tokenizing. */
static _Noreturn void lex_error(Lexer *L, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static _Noreturn void lex_error(Lexer *L, const char *at, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  Token *t = add_token(L, TK_ERROR, at, at);
  t->str = estrdup(msg);
  longjmp(L->fail, 1);
}

/* `c` as it should appear inside quotes in a message. */
static const char *show_char(unsigned char c) {
  if (isprint(c))
    return eprintf("%c", c);
  return eprintf("\\x%02x", c);
}

static bool is_ident_start(int c) { return isalpha(c) || c == '_'; }
static bool is_ident_char(int c) { return isalnum(c) || c == '_'; }

static void newline(Lexer *L, const char *after) {
  L->line++;
  L->line_start = after;
}

/* Skip a comment starting at L->p, if any.  Returns false when there is none. */
static bool skip_comment(Lexer *L) {
  const char *p = L->p;
  if (p[0] != '/' || (p[1] != '/' && p[1] != '*'))
    return false;
  if (p[1] == '/') {
    while (*p && *p != '\n')
      p++;
    L->p = p;
    return true;
  }
  const char *start = p, *start_line = L->line_start;
  int line = L->line;
  for (p += 2; !(p[0] == '*' && p[1] == '/'); p++) {
    if (!*p) {
      L->line = line;   /* report where the comment opens */
      L->line_start = start_line;
      lex_error(L, start, "unterminated comment");
    }
    if (*p == '\n')
      newline(L, p + 1);
  }
  L->p = p + 2;
  return true;
}

static void skip_blanks(Lexer *L) {
  for (;;) {
    char c = *L->p;
    if (c == '\n') {
      newline(L, ++L->p);
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      L->p++;
    } else if (!skip_comment(L)) {
      return;
    }
  }
}

/* Does a '{' (or the end of the text) follow p, after blanks and comments?
 * Read-only look-ahead, telling a predicate's closing '/' from a division;
 * at the end of the text the parser then asks for the missing '{'. */
static bool brace_follows(const char *p) {
  for (;;) {
    while (isspace((unsigned char)*p))
      p++;
    if (p[0] == '/' && p[1] == '/') {
      while (*p && *p != '\n')
        p++;
    } else if (p[0] == '/' && p[1] == '*') {
      const char *end = strstr(p + 2, "*/");
      if (!end)
        return false;
      p = end + 2;
    } else {
      return *p == '{' || *p == '\0';
    }
  }
}

/* ------------------------------------------------------------ numbers */

static int digit_value(int c) {
  if (isdigit(c))
    return c - '0';
  if (isxdigit(c))
    return tolower(c) - 'a' + 10;
  return 99;
}

/* Multiply-add with overflow detection: *v = *v * base + d. */
static bool mul_add(uint64_t *v, uint64_t base, uint64_t d) {
  if (*v > (UINT64_MAX - d) / base)
    return false;
  *v = *v * base + d;
  return true;
}

/* A duration suffix turns the literal into nanoseconds (1ms is 1000000);
 * C's integer suffixes (123UL) are accepted and change nothing.  Returns
 * the multiplier, or 0 for a suffix that is neither. */
static uint64_t duration_scale(const char *s, size_t n) {
  static const struct { const char *suffix; uint64_t ns; } durations[] = {
    {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000ull},
    {"m", 60000000000ull}, {"h", 3600000000000ull}, {"d", 86400000000000ull},
  };
  static const char *const c_suffixes[] = {"u", "l", "ul", "lu", "ll", "ull", "llu"};
  for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++)
    if (strlen(durations[i].suffix) == n && strncmp(durations[i].suffix, s, n) == 0)
      return durations[i].ns;
  for (size_t i = 0; i < sizeof c_suffixes / sizeof c_suffixes[0]; i++)
    if (strlen(c_suffixes[i]) == n && strncasecmp(c_suffixes[i], s, n) == 0)
      return 1;
  return 0;
}

/* int = "0" ("x"|"X") hexdigits | "0" octdigits | decimal ("e" decimal)?
 * Digits may be separated by '_' (1_000_000); 2e3 is the integer 2000. */
static void lex_number(Lexer *L) {
  const char *start = L->p, *p = L->p;
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
    if (!isxdigit((unsigned char)*p))
      lex_error(L, start, "hexadecimal literal '%.*s' has no digits", (int)(p - start), start);
  } else if (p[0] == '0' && (isdigit((unsigned char)p[1]) || p[1] == '_')) {
    base = 8;
  }
  uint64_t v = 0;
  bool overflow = false;
  for (; is_ident_char((unsigned char)*p); p++) {
    if (*p == '_')
      continue;
    int d = digit_value((unsigned char)*p);
    if (d >= base) {
      if (base == 8 && d < 10)
        lex_error(L, p, "invalid digit '%c' in octal literal", *p);
      break;
    }
    if (!mul_add(&v, base, d))
      overflow = true;
  }
  while (p[-1] == '_')   /* a trailing '_' is left for the suffix check */
    p--;
  if (base == 10 && p[0] == 'e' && isdigit((unsigned char)p[1])) {
    uint64_t exp = 0;
    for (p++; isdigit((unsigned char)*p); p++)
      if (!mul_add(&exp, 10, *p - '0'))
        overflow = true;
    for (uint64_t i = 0; i < exp && v != 0 && !overflow; i++)
      if (!mul_add(&v, 10, 0))
        overflow = true;
  }
  if (is_ident_char((unsigned char)*p)) {
    const char *s = p;
    while (is_ident_char((unsigned char)*p))
      p++;
    uint64_t scale = duration_scale(s, (size_t)(p - s));
    if (base == 16 || !scale)
      lex_error(L, s, "invalid suffix '%.*s' on integer literal", (int)(p - s), s);
    if (v > UINT64_MAX / scale)
      overflow = true;
    else
      v *= scale;
  }
  /* 1.5 is not a number here; but $t.0.1 is two tuple indexes. */
  bool after_dot = L->tail->kind == TK_PUNCT && L->tail->len == 1 && L->tail->text[0] == '.';
  if (p[0] == '.' && isdigit((unsigned char)p[1]) && !after_dot)
    lex_error(L, start, "floating-point numbers are not supported");
  if (overflow)
    lex_error(L, start, "integer literal '%.*s' is too large", (int)(p - start), start);
  Token *t = add_token(L, TK_INT, start, p);
  t->ival = v;
  L->p = p;
}

/* ------------------------------------------------------------ strings */

/* One escape sequence after the backslash at p; stores the byte in *out
 * and returns the position after the sequence. */
static const char *lex_escape(Lexer *L, const char *p, char *out) {
  const char *bs = p++;
  switch (*p) {
  case 'n': *out = '\n'; return p + 1;
  case 't': *out = '\t'; return p + 1;
  case 'r': *out = '\r'; return p + 1;
  case '"': *out = '"'; return p + 1;
  case '\\': *out = '\\'; return p + 1;
  case 'x': {
    int v = 0, n = 0;
    for (p++; n < 2 && isxdigit((unsigned char)*p); p++, n++)
      v = v * 16 + digit_value((unsigned char)*p);
    if (n == 0)
      lex_error(L, bs, "missing hexadecimal digits after '\\x'");
    *out = (char)v;
    return p;
  }
  }
  if (*p >= '0' && *p <= '7') {
    int v = 0, n = 0;
    for (; n < 3 && *p >= '0' && *p <= '7'; p++, n++)
      v = v * 8 + (*p - '0');
    if (v > 255)
      lex_error(L, bs, "octal escape sequence '%.*s' is out of range", (int)(p - bs), bs);
    *out = (char)v;
    return p;
  }
  lex_error(L, bs, "invalid escape sequence '\\%s'", show_char(*p));
}

/* string = '"' (char | escape)* '"' ; no raw newlines */
static void lex_string(Lexer *L) {
  const char *start = L->p, *p = start + 1;
  size_t room = strcspn(p, "\n");    /* the text can only shrink */
  char *buf = ealloc(room + 1);
  int n = 0;
  while (*p != '"') {
    if (*p == '\0' || *p == '\n' || (p[0] == '\\' && (p[1] == '\0' || p[1] == '\n')))
      lex_error(L, start, "unterminated string");
    if (*p == '\\')
      p = lex_escape(L, p, &buf[n++]);
    else
      buf[n++] = *p++;
  }
  Token *t = add_token(L, TK_STR, start, p + 1);
  t->str = buf;
  t->slen = n;
  L->p = p + 1;
}

/* ------------------------------------------------------------ words */

static const char *const keywords[] = {
    "if", "else", "while", "unroll", "for", "break", "continue", "return", "let",
    "struct", "union", "enum",
};

static void lex_word(Lexer *L) {
  const char *start = L->p, *p = start;
  while (is_ident_char((unsigned char)*p))
    p++;
  TokenKind kind = TK_IDENT;
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (strlen(keywords[i]) == (size_t)(p - start) && !memcmp(start, keywords[i], p - start))
      kind = TK_KEYWORD;
  add_token(L, kind, start, p);
  L->p = p;
}

/* map = "@" ident? */
static void lex_map(Lexer *L) {
  const char *start = L->p, *p = start + 1;
  if (is_ident_start((unsigned char)*p))
    while (is_ident_char((unsigned char)*p))
      p++;
  add_token(L, TK_MAP, start, p);
  L->p = p;
}

/* var = "$" ident | "$" digits | "$#" */
static void lex_dollar(Lexer *L) {
  const char *start = L->p, *p = start + 1;
  if (*p == '#') {
    add_token(L, TK_POSCOUNT, start, p + 1);
    L->p = p + 1;
    return;
  }
  if (is_ident_start((unsigned char)*p)) {
    while (is_ident_char((unsigned char)*p))
      p++;
    add_token(L, TK_VAR, start, p);
    L->p = p;
    return;
  }
  if (!isdigit((unsigned char)*p))
    lex_error(L, start, "expected a variable name or a number after '$'");
  uint64_t v = 0;
  bool overflow = false;
  for (; isdigit((unsigned char)*p); p++)
    if (!mul_add(&v, 10, *p - '0') || v > INT32_MAX)
      overflow = true;
  if (is_ident_char((unsigned char)*p)) {
    while (is_ident_char((unsigned char)*p))
      p++;
    lex_error(L, start, "invalid positional parameter '%.*s'", (int)(p - start), start);
  }
  if (overflow)
    lex_error(L, start, "positional parameter '%.*s' is too large", (int)(p - start), start);
  Token *t = add_token(L, TK_POSPARAM, start, p);
  t->ival = v;
  L->p = p;
}

/* Longest first, so that "<<=" wins over "<<" and "<". */
static const char *const puncts[] = {
    "<<=", ">>=", "..", "->", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "==", "!=", "<=", ">=", "&&", "||", "<<", ">>",
    "+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "<", ">", "=", "?", ":", ";", ",",
    ".", "(", ")", "[", "]", "{", "}",
};

static void lex_punct(Lexer *L) {
  const char *p = L->p;
  for (size_t i = 0; i < sizeof puncts / sizeof puncts[0]; i++) {
    size_t n = strlen(puncts[i]);
    if (!strncmp(p, puncts[i], n)) {
      add_token(L, TK_PUNCT, p, p + n);
      L->p = p + n;
      if (*p == '{') {
        L->depth++;
      } else if (*p == '}' && L->depth > 0 && --L->depth == 0) {
        L->in_pred = false;
      }
      return;
    }
  }
  lex_error(L, p, "invalid character '%s'", show_char(*p));
}

/* One C-like token (inside braces or a predicate). */
static void lex_code_token(Lexer *L) {
  unsigned char c = *L->p;
  if (L->in_pred && L->depth == 0 && c == '/' && brace_follows(L->p + 1)) {
    add_token(L, TK_PRED_END, L->p, L->p + 1);
    L->p++;
    L->in_pred = false;
  } else if (is_ident_start(c)) {
    lex_word(L);
  } else if (isdigit(c)) {
    lex_number(L);
  } else if (c == '"') {
    lex_string(L);
  } else if (c == '@') {
    lex_map(L);
  } else if (c == '$') {
    lex_dollar(L);
  } else {
    lex_punct(L);
  }
}

/* ------------------------------------------------------------ top level */

static bool is_attach_char(int c) {
  return isalnum(c) || (c && strchr("_-.*:+@#$?[]/\"", c));
}

/* Providers whose second segment names a binary (a path). */
static bool is_uprobe_like(const char *s, size_t n) {
  static const char *const names[] = {"uprobe", "uretprobe", "u", "ur", "usdt", "U"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == n && !memcmp(s, names[i], n))
      return true;
  return false;
}

/* Is the '/' at p part of the attach point that starts at `start`, whose
 * current segment starts at `seg` and is segment number `nseg`? */
static bool slash_in_path(const char *start, const char *seg, int nseg, const char *p) {
  if (p == seg || *seg == '.' || memchr(seg, '/', p - seg))
    return true;
  return nseg == 1 && is_uprobe_like(start, strcspn(start, ":"));
}

/* attach-point = attach-char+ ; '"'-quoted parts may hold any character */
static void lex_attach(Lexer *L) {
  const char *start = L->p, *seg = start, *p = start;
  int nseg = 0;
  for (;;) {
    if (*p == ':') {
      seg = ++p;
      nseg++;
    } else if (*p == '"') {
      const char *q = p++;
      for (; *p != '"'; p++) {
        if (*p == '\0' || *p == '\n' || (p[0] == '\\' && (p[1] == '\0' || p[1] == '\n')))
          lex_error(L, q, "unterminated string");
        if (*p == '\\')
          p++;
      }
      p++;
    } else if (*p == '/' && !slash_in_path(start, seg, nseg, p)) {
      break;
    } else if (is_attach_char((unsigned char)*p)) {
      p++;
    } else {
      break;
    }
  }
  add_token(L, TK_ATTACH, start, p);
  L->p = p;
}

/* Only blanks before p on its line? */
static bool at_line_start(Lexer *L, const char *p) {
  for (const char *q = L->line_start; q < p; q++)
    if (*q != ' ' && *q != '\t')
      return false;
  return true;
}

/* One token at brace depth 0 outside a predicate. */
static void lex_top_token(Lexer *L) {
  const char *p = L->p;
  unsigned char c = *p;
  if (c == '#' && at_line_start(L, p)) {
    const char *end = p + strcspn(p, "\n");
    add_token(L, TK_CPP, p, end);
    L->p = end;
  } else if (c == '/') {
    add_token(L, TK_PUNCT, p, p + 1);
    L->p++;
    L->in_pred = true;
  } else if (isalnum(c) || c == '_' || c == '*') {
    lex_attach(L);
  } else {
    lex_code_token(L);
  }
}

Token *lex_tokenize(const Source *src) {
  /* Both live in the arena: nothing the error path reads after longjmp
   * is a local variable of this function. */
  Token *head = ealloc(sizeof(Token));
  Lexer *L = ealloc(sizeof(Lexer));
  L->p = L->line_start = src->text;
  L->line = 1;
  L->tail = head;
  if (setjmp(L->fail))
    return head->next;
  if (L->p[0] == '#' && L->p[1] == '!')   /* shebang line */
    L->p += strcspn(L->p, "\n");
  for (;;) {
    skip_blanks(L);
    if (!*L->p)
      break;
    if (L->depth == 0 && !L->in_pred)
      lex_top_token(L);
    else
      lex_code_token(L);
  }
  /* "unexpected end of input" points just past the last token, on its
   * line, rather than at a blank line after it. */
  Token *last = L->tail;
  Token *eof = add_token(L, TK_EOF, L->p, L->p);
  eof->loc = last == head ? (Loc){1, 1} : (Loc){last->loc.line, last->loc.col + last->len};
  return head->next;
}
