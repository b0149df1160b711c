/* lex.h - tokens shared by lex.c and parse.c (private to the front end). */
#ifndef LEX_H
#define LEX_H

#include "etrace.h"

typedef enum {
  TK_IDENT,     /* identifier that is not a keyword */
  TK_KEYWORD,   /* if else while unroll for break continue return let struct union enum */
  TK_PUNCT,     /* operators and punctuation, text as written */
  TK_INT,       /* integer literal: ival */
  TK_STR,       /* string literal: str/slen after escape processing */
  TK_MAP,       /* @name or bare @: text includes the '@' */
  TK_VAR,       /* $name: text includes the '$' */
  TK_POSPARAM,  /* $1..$N: ival = N */
  TK_POSCOUNT,  /* $# */
  TK_ATTACH,    /* attach point text at the top level, e.g. kprobe:vfs_read */
  TK_PRED_END,  /* the '/' that closes a predicate (a '/' followed by '{') */
  TK_CPP,       /* a top-level preprocessor line (#include, #define ...) */
  TK_ERROR,     /* a lexical error: str holds the message; ends the stream */
  TK_EOF,
} TokenKind;

typedef struct Token Token;
struct Token {
  TokenKind kind;
  Token *next;        /* never NULL: TK_EOF and TK_ERROR point to themselves */
  const char *text;   /* into the source text */
  int len;
  Loc loc;
  uint64_t ival;      /* TK_INT, TK_POSPARAM */
  char *str;          /* TK_STR: unescaped bytes; TK_ERROR: message */
  int slen;           /* TK_STR */
};

/* Split src into tokens.  Never fails: a lexical error becomes a final
 * TK_ERROR token, which the parser reports when it gets there (so that an
 * earlier syntax error is still the one reported). */
Token *lex_tokenize(const Source *src);

#endif
