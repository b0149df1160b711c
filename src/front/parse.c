/* parse.c - recursive-descent parser for the bpftrace language.
 *
 * Each function parses one grammar rule, written in a comment above it, and
 * returns the AST described in etrace.h.  The parser walks the token list
 * made by lex.c with one current token, `tok` in the Parser every rule is
 * handed; looking further ahead is just tok->next (the list ends in a
 * TK_EOF or TK_ERROR that points to itself, so look-ahead never runs off
 * the end).
 *
 * The first error ends the parse: it is printed through diag_error and we
 * longjmp back to parse_program, which returns NULL.  Everything allocated
 * so far is in the compile arena, so nothing leaks.
 *
 * Two bpftrace rules shape the statement grammar: assignment is a
 * statement, not an expression (`@a = @b = 1` is an error), and statements
 * that end in a block (if, while, for, unroll, { }) need no ';' after them.
 */
#include "front/lex.h"

#include <ctype.h>
#include <setjmp.h>
#include <string.h>

/* Deeper nesting than this is an error rather than a stack overflow. */
#define MAX_DEPTH 1000

/* One parse: every rule takes it first, so nothing outlives parse_program. */
typedef struct {
  Token *tok;    /* current token */
  jmp_buf *fail; /* where errors go */
  int depth;     /* current nesting, see enter() */
} Parser;

/* ------------------------------------------------------------ errors */

static _Noreturn void error_at(Parser *ps, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static _Noreturn void error_at(Parser *ps, Loc loc, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_error(loc, "%s", msg);
  longjmp(*ps->fail, 1);
}

/* How a token is named in "unexpected ..." messages. */
static const char *describe(Token *t) {
  const int max = 40;
  switch (t->kind) {
  case TK_EOF:
    return "end of input";
  case TK_CPP:
    return "preprocessor directive";
  case TK_STR:
    if (t->len > max)
      return eprintf("string %.*s...", max - 3, t->text);
    return eprintf("string %.*s", t->len, t->text);
  default:
    if (t->len > max)
      return eprintf("'%.*s...'", max - 3, t->text);
    return eprintf("'%.*s'", t->len, t->text);
  }
}

/* Report t as unexpected where `expecting` was.  A lexical error token
 * reports its own message instead. */
static _Noreturn void unexpected(Parser *ps, Token *t, const char *expecting) {
  if (t->kind == TK_ERROR)
    error_at(ps, t->loc, "%s", t->str);
  error_at(ps, t->loc, "unexpected %s, expecting %s", describe(t), expecting);
}

/* Guard recursion: garbage such as 100000 '(' must not overflow the C
 * stack, here or in the later passes that walk the tree.  Every recursive
 * rule calls enter() and leave(), and so does each step of a loop that
 * nests the tree deeper (a + b + c ..., $x.a.b.c ...). */
static void enter(Parser *ps) {
  if (++ps->depth > MAX_DEPTH)
    error_at(ps, ps->tok->loc, "program nested too deeply");
}

static void leave(Parser *ps) { ps->depth--; }

/* ------------------------------------------------------------ tokens */

static void advance(Parser *ps) { ps->tok = ps->tok->next; }

/* Is t the punctuator or keyword s? */
static bool equal(Token *t, const char *s) {
  return (t->kind == TK_PUNCT || t->kind == TK_KEYWORD) && strlen(s) == (size_t)t->len &&
         !memcmp(t->text, s, t->len);
}

/* Is t an identifier (or attach-point text) spelled s? */
static bool is_word(Token *t, TokenKind kind, const char *s) {
  return t->kind == kind && strlen(s) == (size_t)t->len && !memcmp(t->text, s, t->len);
}

static bool consume(Parser *ps, const char *s) {
  if (!equal(ps->tok, s))
    return false;
  advance(ps);
  return true;
}

static Token *expect(Parser *ps, const char *s) {
  Token *t = ps->tok;
  if (!equal(t, s))
    unexpected(ps, t, eprintf("'%s'", s));
  advance(ps);
  return t;
}

static char *tok_text(Token *t) { return estrndup(t->text, t->len); }

/* ------------------------------------------------------------ nodes */

static Node *new_node(NodeKind kind, Loc loc) {
  Node *n = ealloc(sizeof(Node));
  n->kind = kind;
  n->loc = loc;
  n->start = loc;
  return n;
}

static Node *new_unary(NodeKind kind, Op op, Node *lhs, Loc loc) {
  Node *n = new_node(kind, loc);
  n->op = op;
  n->lhs = lhs;
  return n;
}

static Node *new_binary(Op op, Node *lhs, Node *rhs, Loc loc) {
  Node *n = new_unary(ND_BINARY, op, lhs, loc);
  n->rhs = rhs;
  n->start = lhs->start;
  return n;
}

static bool is_lvalue(Node *n) { return n->kind == ND_MAP || n->kind == ND_VAR; }

/* ------------------------------------------------------------ types */

/* Integer type names: `(name)` before anything is a cast. */
static bool is_int_type_name(Token *t) {
  static const char *const names[] = {
      "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
      "s8",   "s16",   "s32",   "s64",   "u8",    "u16",    "u32",    "u64",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (is_word(t, TK_IDENT, names[i]))
      return true;
  return false;
}

static bool is_tag_keyword(Token *t) {
  return equal(t, "struct") || equal(t, "union") || equal(t, "enum");
}

/* type = ("struct" | "union" | "enum") ident "*"*
 *      | ident ("[" int "]")? "*"*
 * Returned as normalised text: "uint8", "string[16]", "struct task_struct *". */
static char *type_name(Parser *ps) {
  char *name;
  if (is_tag_keyword(ps->tok)) {
    Token *tag = ps->tok;
    advance(ps);
    if (ps->tok->kind != TK_IDENT && ps->tok->kind != TK_KEYWORD)
      unexpected(ps, ps->tok, eprintf("a name after '%.*s'", tag->len, tag->text));
    name = eprintf("%.*s %.*s", tag->len, tag->text, ps->tok->len, ps->tok->text);
    advance(ps);
  } else {
    if (ps->tok->kind != TK_IDENT)
      unexpected(ps, ps->tok, "a type name");
    name = tok_text(ps->tok);
    advance(ps);
    if (consume(ps, "[")) {
      if (ps->tok->kind != TK_INT)
        unexpected(ps, ps->tok, "an array size");
      name = eprintf("%s[%llu]", name, (unsigned long long)ps->tok->ival);
      advance(ps);
      expect(ps, "]");
    }
  }
  if (equal(ps->tok, "*"))
    name = eprintf("%s ", name);
  while (consume(ps, "*"))
    name = eprintf("%s*", name);
  return name;
}

/* Can t start an operand but not continue an expression?  Then in
 * `(ident) t` the parentheses are a cast to a typedef name. */
static bool starts_operand_only(Token *t) {
  switch (t->kind) {
  case TK_IDENT: case TK_INT: case TK_STR: case TK_MAP: case TK_VAR:
  case TK_POSPARAM: case TK_POSCOUNT:
    return true;
  default:
    return equal(t, "(") || equal(t, "!") || equal(t, "~");
  }
}

/* Does the '(' at t open a cast rather than a parenthesised expression?
 * `(struct x *)`, `(uint8)`, `(foo *)`, `(int8[4])`, and `(foo) $x`
 * (a typedef name directly followed by an operand) are casts. */
static bool is_cast(Token *t) {
  Token *name = t->next;
  if (is_tag_keyword(name))
    return true;
  if (name->kind != TK_IDENT)
    return false;
  Token *after = name->next;
  if (is_int_type_name(name) && (equal(after, ")") || equal(after, "*") || equal(after, "[")))
    return true;
  if (equal(after, "*")) {
    while (equal(after, "*"))
      after = after->next;
    return equal(after, ")");
  }
  return equal(after, ")") && starts_operand_only(after->next);
}

/* ------------------------------------------------------------ expressions */

static Node *expr(Parser *ps);
static Node *cast(Parser *ps);

/* args = expr ("," expr)* ; ends at `close`, which is consumed.
 * Returns the first argument and sets *nargs. */
static Node *arg_list(Parser *ps, const char *close, int *nargs) {
  Node head = {0}, *cur = &head;
  *nargs = 0;
  do {
    cur = cur->next = expr(ps);
    ++*nargs;
    if (!equal(ps->tok, ",") && !equal(ps->tok, close))
      unexpected(ps, ps->tok, eprintf("',' or '%s'", close));
  } while (consume(ps, ","));
  expect(ps, close);
  return head.next;
}

/* call = ident "(" ((type ",")? args)? ")"
 * sizeof() and offsetof() may take a type first; it goes in cast_type. */
static Node *call(Parser *ps, Token *name) {
  Node *n = new_node(ND_CALL, name->loc);
  n->name = tok_text(name);
  expect(ps, "(");
  if (consume(ps, ")"))
    return n;
  bool takes_type = is_word(name, TK_IDENT, "sizeof") || is_word(name, TK_IDENT, "offsetof");
  Token *t = ps->tok;
  if (takes_type && (is_tag_keyword(t) || (is_int_type_name(t) && !equal(t->next, "(")))) {
    n->cast_type = type_name(ps);
    if (consume(ps, ")"))
      return n;
    if (!equal(ps->tok, ","))
      unexpected(ps, ps->tok, "',' or ')'");
    advance(ps);
  }
  n->args = arg_list(ps, ")", &n->nargs);
  return n;
}

/* map = "@" ident? ("[" args "]")? */
static Node *map(Parser *ps) {
  Node *n = new_node(ND_MAP, ps->tok->loc);
  n->name = tok_text(ps->tok);
  advance(ps);
  if (consume(ps, "["))
    n->args = arg_list(ps, "]", &n->nargs);
  return n;
}

/* paren = "(" expr ("," expr)* ")"  ; one element is just grouping */
static Node *paren(Parser *ps) {
  Loc loc = ps->tok->loc;
  expect(ps, "(");
  int n;
  Node *elems = arg_list(ps, ")", &n);
  if (n == 1) {
    elems->start = loc;
    return elems;
  }
  Node *t = new_node(ND_TUPLE, loc);
  t->args = elems;
  t->nargs = n;
  return t;
}

/* primary = int | string | call | builtin | map | var | posparam | "$#" | paren
 * builtin = ident        (any identifier not followed by '('; sema checks it) */
static Node *primary(Parser *ps) {
  Token *t = ps->tok;
  Node *n;
  switch (t->kind) {
  case TK_INT:
    n = new_node(ND_INT, t->loc);
    n->ival = t->ival;
    advance(ps);
    return n;
  case TK_STR:
    n = new_node(ND_STR, t->loc);
    n->str = t->str;
    n->slen = t->slen;
    advance(ps);
    return n;
  case TK_IDENT:
    advance(ps);
    if (equal(ps->tok, "("))
      return call(ps, t);
    n = new_node(ND_BUILTIN, t->loc);
    n->name = tok_text(t);
    return n;
  case TK_MAP:
    return map(ps);
  case TK_VAR:
    n = new_node(ND_VAR, t->loc);
    n->name = estrndup(t->text + 1, t->len - 1);
    advance(ps);
    return n;
  case TK_POSPARAM:
    n = new_node(ND_POSPARAM, t->loc);
    n->ival = t->ival;
    advance(ps);
    return n;
  case TK_POSCOUNT:
    advance(ps);
    return new_node(ND_POSCOUNT, t->loc);
  default:
    if (equal(t, "("))
      return paren(ps);
    unexpected(ps, t, "an expression");
  }
}

/* A field name after '.' or '->': an identifier, or a keyword (`args.if`). */
static Node *field(Parser *ps, Node *lhs, bool arrow) {
  advance(ps);
  if (ps->tok->kind != TK_IDENT && ps->tok->kind != TK_KEYWORD)
    unexpected(ps, ps->tok, "a field name");
  Node *n = new_unary(ND_FIELD, OP_NONE, lhs, ps->tok->loc);
  n->start = lhs->start;
  n->name = tok_text(ps->tok);
  n->arrow = arrow;
  advance(ps);
  return n;
}

static Node *incdec(Parser *ps, Token *op, Node *operand, bool prefix) {
  if (!is_lvalue(operand))
    error_at(ps, op->loc, "the '%.*s' operator must be applied to a map or a variable", op->len,
             op->text);
  Node *n = new_unary(ND_INCDEC, op->text[0] == '+' ? OP_ADD : OP_SUB, operand, op->loc);
  n->prefix = prefix;
  return n;
}

/* postfix = primary ( "." ident | "." int | "->" ident | "[" expr "]"
 *                   | "++" | "--" )* */
static Node *postfix(Parser *ps) {
  Node *n = primary(ps);
  for (int nested = 0;; nested++) {
    enter(ps);
    Token *t = ps->tok;
    if (equal(t, ".") && t->next->kind == TK_INT) {
      advance(ps);
      n = new_unary(ND_TUPLE_IDX, OP_NONE, n, ps->tok->loc);
      n->ival = ps->tok->ival;
      advance(ps);
    } else if (equal(t, ".") || equal(t, "->")) {
      n = field(ps, n, equal(t, "->"));
    } else if (equal(t, "[")) {
      advance(ps);
      n = new_unary(ND_INDEX, OP_NONE, n, t->loc);
      n->start = n->lhs->start;
      n->rhs = expr(ps);
      expect(ps, "]");
    } else if (equal(t, "++") || equal(t, "--")) {
      advance(ps);
      n = incdec(ps, t, n, false);
    } else {
      ps->depth -= nested + 1;
      return n;
    }
  }
}

/* unary = ("-" | "!" | "~" | "*") cast
 *       | ("++" | "--") unary
 *       | postfix */
static Node *unary(Parser *ps) {
  static const struct { const char *text; Op op; } ops[] = {
      {"-", OP_NEG}, {"!", OP_LNOT}, {"~", OP_BNOT}, {"*", OP_DEREF},
  };
  Token *t = ps->tok;
  Node *n = NULL;
  enter(ps);
  for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !n; i++)
    if (equal(t, ops[i].text)) {
      advance(ps);
      n = new_unary(ND_UNARY, ops[i].op, cast(ps), t->loc);
    }
  if (!n && (equal(t, "++") || equal(t, "--"))) {
    advance(ps);
    n = incdec(ps, t, unary(ps), true);
  }
  if (!n)
    n = postfix(ps);
  leave(ps);
  return n;
}

/* cast = "(" type ")" cast | unary */
static Node *cast(Parser *ps) {
  if (!equal(ps->tok, "(") || !is_cast(ps->tok))
    return unary(ps);
  enter(ps);
  Node *n = new_node(ND_CAST, ps->tok->loc);
  advance(ps);
  n->cast_type = type_name(ps);
  expect(ps, ")");
  n->lhs = cast(ps);
  leave(ps);
  return n;
}

/* Binary operators, loosest first (C precedence). */
static const struct BinOp {
  const char *text;
  Op op;
  int prec;
} binops[] = {
    {"||", OP_LOR, 1},  {"&&", OP_LAND, 2}, {"|", OP_BOR, 3},  {"^", OP_BXOR, 4},
    {"&", OP_BAND, 5},  {"==", OP_EQ, 6},   {"!=", OP_NE, 6},  {"<", OP_LT, 7},
    {"<=", OP_LE, 7},   {">", OP_GT, 7},    {">=", OP_GE, 7},  {"<<", OP_SHL, 8},
    {">>", OP_SHR, 8},  {"+", OP_ADD, 9},   {"-", OP_SUB, 9},  {"*", OP_MUL, 10},
    {"/", OP_DIV, 10},  {"%", OP_MOD, 10},
};

static const struct BinOp *find_binop(Token *t) {
  for (size_t i = 0; i < sizeof binops / sizeof binops[0]; i++)
    if (equal(t, binops[i].text))
      return &binops[i];
  return NULL;
}

/* binary(p) = cast (binop binary(prec(binop) + 1))*   for binops of prec >= p
 *
 * Precedence climbing: this one function stands for the C levels
 *   || , && , | , ^ , & , == != , < <= > >= , << >> , + - , * / %
 * all left-associative.  (A predicate's closing '/' is a TK_PRED_END, so it
 * is never taken for a division.) */
static Node *binary(Parser *ps, int min_prec) {
  Node *lhs = cast(ps);
  for (int nested = 0;; nested++) {
    const struct BinOp *b = find_binop(ps->tok);
    if (!b || b->prec < min_prec) {
      ps->depth -= nested;
      return lhs;
    }
    enter(ps);
    Token *op = ps->tok;
    advance(ps);
    Node *rhs = binary(ps, b->prec + 1);
    lhs = new_binary(b->op, lhs, rhs, op->loc);
  }
}

/* ternary = binary ("?" expr ":" ternary)? */
static Node *ternary(Parser *ps) {
  Node *cond = binary(ps, 1);
  if (!equal(ps->tok, "?"))
    return cond;
  Node *n = new_node(ND_TERNARY, ps->tok->loc);
  enter(ps);
  advance(ps);
  n->cond = cond;
  n->then = expr(ps);
  expect(ps, ":");
  n->els = ternary(ps);
  leave(ps);
  return n;
}

/* expr = ternary */
static Node *expr(Parser *ps) {
  enter(ps);
  Node *n = ternary(ps);
  leave(ps);
  return n;
}

/* ------------------------------------------------------------ statements */

static Node *block(Parser *ps);

/* block-or-if = if-stmt | block  (the part after "else") */
static Node *if_stmt(Parser *ps);

/* if-stmt = "if" "(" expr ")" block ("else" (if-stmt | block))? */
static Node *if_stmt(Parser *ps) {
  Node *n = new_node(ND_IF, ps->tok->loc);
  enter(ps);
  advance(ps);
  if (!equal(ps->tok, "("))
    unexpected(ps, ps->tok, "'(' after 'if'");
  advance(ps);
  n->cond = expr(ps);
  expect(ps, ")");
  n->then = block(ps);
  if (consume(ps, "else"))
    n->els = equal(ps->tok, "if") ? if_stmt(ps) : block(ps);
  leave(ps);
  return n;
}

/* while-stmt  = "while" "(" expr ")" block
 * unroll-stmt = "unroll" "(" expr ")" block */
static Node *loop_stmt(Parser *ps, NodeKind kind) {
  Token *kw = ps->tok;
  Node *n = new_node(kind, kw->loc);
  advance(ps);
  if (!equal(ps->tok, "("))
    unexpected(ps, ps->tok, eprintf("'(' after '%.*s'", kw->len, kw->text));
  advance(ps);
  if (kind == ND_WHILE)
    n->cond = expr(ps);
  else
    n->lhs = expr(ps);
  expect(ps, ")");
  n->then = block(ps);
  return n;
}

/* The "$name" of a loop or let variable, without the '$'. */
static char *var_name(Parser *ps) {
  if (ps->tok->kind != TK_VAR)
    unexpected(ps, ps->tok, "a variable ($name)");
  char *name = estrndup(ps->tok->text + 1, ps->tok->len - 1);
  advance(ps);
  return name;
}

/* for-stmt = "for" "(" var ":" (map | expr ".." expr) ")" block */
static Node *for_stmt(Parser *ps) {
  Node *n = new_node(ND_FOR_RANGE, ps->tok->loc);
  advance(ps);
  if (!equal(ps->tok, "("))
    unexpected(ps, ps->tok, "'(' after 'for'");
  advance(ps);
  n->name = var_name(ps);
  expect(ps, ":");
  n->lhs = expr(ps);
  if (consume(ps, "..")) {
    n->rhs = expr(ps);
  } else if (n->lhs->kind == ND_MAP) {
    if (n->lhs->nargs)
      error_at(ps, n->lhs->loc, "a for loop iterates over a whole map: expected %s without keys",
               n->lhs->name);
    n->kind = ND_FOR_MAP;
  } else {
    unexpected(ps, ps->tok, "'..'");
  }
  expect(ps, ")");
  n->then = block(ps);
  return n;
}

/* let-stmt = "let" var (":" type)? ("=" expr)? */
static Node *let_stmt(Parser *ps) {
  Node *n = new_node(ND_LET, ps->tok->loc);
  advance(ps);
  n->name = var_name(ps);
  if (consume(ps, ":"))
    n->cast_type = type_name(ps);
  if (consume(ps, "="))
    n->rhs = expr(ps);
  return n;
}

static Op assign_op(Token *t) {
  static const struct { const char *text; Op op; } ops[] = {
      {"+=", OP_ADD},  {"-=", OP_SUB},  {"*=", OP_MUL},  {"/=", OP_DIV},  {"%=", OP_MOD},
      {"&=", OP_BAND}, {"|=", OP_BOR},  {"^=", OP_BXOR}, {"<<=", OP_SHL}, {">>=", OP_SHR},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (equal(t, ops[i].text))
      return ops[i].op;
  return OP_NONE;
}

/* expr-stmt = expr (("=" | "+=" | "-=" | ... | ">>=") expr)?
 * An assignment is an ND_ASSIGN inside the ND_EXPR_STMT. */
static Node *expr_stmt(Parser *ps) {
  Node *s = new_node(ND_EXPR_STMT, ps->tok->loc);
  Node *e = expr(ps);
  Op op = assign_op(ps->tok);
  if (op != OP_NONE || equal(ps->tok, "=")) {
    Token *t = ps->tok;
    if (e->kind == ND_TUPLE_IDX)
      error_at(ps, t->loc, "tuples are immutable: assign a new tuple instead");
    if (!is_lvalue(e))
      error_at(ps, t->loc, "the left side of '%.*s' must be a map or a variable", t->len, t->text);
    advance(ps);
    Node *a = new_unary(ND_ASSIGN, op, e, t->loc);
    a->rhs = expr(ps);
    e = a;
  }
  s->lhs = e;
  return s;
}

/* simple-stmt = "break" | "continue" | "return" expr? | let-stmt | expr-stmt */
static Node *simple_stmt(Parser *ps) {
  Token *t = ps->tok;
  if (equal(t, "break") || equal(t, "continue")) {
    advance(ps);
    return new_node(equal(t, "break") ? ND_BREAK : ND_CONTINUE, t->loc);
  }
  if (equal(t, "return")) {
    advance(ps);
    Node *n = new_node(ND_RETURN, t->loc);
    if (!equal(ps->tok, ";") && !equal(ps->tok, "}"))
      n->lhs = expr(ps);
    return n;
  }
  if (equal(t, "let"))
    return let_stmt(ps);
  if (equal(t, "else"))
    error_at(ps, t->loc, "'else' without a matching 'if'");
  return expr_stmt(ps);
}

/* stmt = if-stmt | while-stmt | unroll-stmt | for-stmt | block
 *      | simple-stmt &(";" | "}") */
static Node *stmt(Parser *ps) {
  if (equal(ps->tok, "if"))
    return if_stmt(ps);
  if (equal(ps->tok, "while"))
    return loop_stmt(ps, ND_WHILE);
  if (equal(ps->tok, "unroll"))
    return loop_stmt(ps, ND_UNROLL);
  if (equal(ps->tok, "for"))
    return for_stmt(ps);
  if (equal(ps->tok, "{"))
    return block(ps);
  Node *s = simple_stmt(ps);
  if (!equal(ps->tok, ";") && !equal(ps->tok, "}"))
    unexpected(ps, ps->tok, "';' or '}'");
  return s;
}

/* block = "{" (";" | stmt)* "}" */
static Node *block(Parser *ps) {
  if (!equal(ps->tok, "{"))
    unexpected(ps, ps->tok, "'{'");
  Node *b = new_node(ND_BLOCK, ps->tok->loc);
  Node head = {0}, *cur = &head;
  enter(ps);
  advance(ps);
  while (!consume(ps, "}")) {
    if (consume(ps, ";"))
      continue;
    if (ps->tok->kind == TK_EOF || ps->tok->kind == TK_ERROR)
      unexpected(ps, ps->tok, "'}'");
    cur = cur->next = stmt(ps);
  }
  leave(ps);
  b->body = head.next;
  return b;
}

/* ------------------------------------------------------------ probes */

/* config = "config" "=" "{" setting? (";" setting?)* "}"
 * setting = ident "=" (int | string | ident)
 * front/config.c gives the settings their meaning. */
static ConfigSetting *config(Parser *ps) {
  ConfigSetting *head = NULL, **link = &head;
  advance(ps);
  expect(ps, "=");
  expect(ps, "{");
  while (!consume(ps, "}")) {
    if (consume(ps, ";"))
      continue;
    Token *t = ps->tok;
    if (t->kind != TK_IDENT)
      unexpected(ps, t, "a config setting name");
    ConfigSetting *s = ealloc(sizeof *s);
    s->name = tok_text(t);
    s->loc = t->loc;
    advance(ps);
    expect(ps, "=");
    t = ps->tok;
    if (t->kind == TK_INT)
      s->value = eprintf("%llu", (unsigned long long)t->ival);
    else if (t->kind == TK_STR)
      s->value = estrndup(t->str, t->slen);
    else if (t->kind == TK_IDENT)
      s->value = tok_text(t);
    else
      unexpected(ps, t, "a number, a string or a name as the setting's value");
    advance(ps);
    if (!equal(ps->tok, ";") && !equal(ps->tok, "}"))
      unexpected(ps, ps->tok, "';' or '}'");
    *link = s;
    link = &s->next;
  }
  return head;
}

static bool at_config(Parser *ps) {
  return is_word(ps->tok, TK_ATTACH, "config") && equal(ps->tok->next, "=");
}

/* predicate = "/" expr "/" */
static Node *predicate(Parser *ps) {
  advance(ps);
  Node *e = expr(ps);
  if (ps->tok->kind != TK_PRED_END)
    unexpected(ps, ps->tok, "'/' closing the predicate");
  advance(ps);
  return e;
}

/* probe = attach-point ("," attach-point)* predicate? block */
static Probe *probe(Parser *ps) {
  Probe *p = ealloc(sizeof(Probe));
  p->loc = ps->tok->loc;
  AttachPoint **link = &p->aps;
  do {
    if (ps->tok->kind != TK_ATTACH)
      unexpected(ps, ps->tok, "an attach point");
    AttachPoint *ap = ealloc(sizeof(AttachPoint));
    ap->text = tok_text(ps->tok);
    ap->loc = ps->tok->loc;
    *link = ap;
    link = &ap->next;
    advance(ps);
  } while (consume(ps, ","));
  if (equal(ps->tok, "/"))
    p->pred = predicate(ps);
  else if (!equal(ps->tok, "{"))
    unexpected(ps, ps->tok, "',', a predicate or '{'");
  p->body = block(ps);
  return p;
}

/* Reject top-level things we do not support yet, with a clear message. */
static void check_top_level(Parser *ps) {
  static const char *const c_words[] = {"struct", "union", "enum", "typedef"};
  if (ps->tok->kind == TK_CPP) {
    int n = 1;    /* the directive's name: "#include" */
    while (n < ps->tok->len && isalpha((unsigned char)ps->tok->text[n]))
      n++;
    error_at(ps, ps->tok->loc, "preprocessor directive '%.*s' must come before the first probe", n,
             ps->tok->text);
  }
  for (size_t i = 0; i < sizeof c_words / sizeof c_words[0]; i++)
    if (is_word(ps->tok, TK_ATTACH, c_words[i]))
      error_at(ps, ps->tok->loc, "C type definitions ('%s') must come before the first probe",
               c_words[i]);
  if (at_config(ps))
    error_at(ps, ps->tok->loc, "the config block must come before all probes");
}

/* program = config? probe+ */
static Program *program(Parser *ps) {
  Program *prog = ealloc(sizeof(Program));
  Probe **link = &prog->probes;
  if (at_config(ps))
    prog->config = config(ps);
  if (ps->tok->kind == TK_EOF)
    error_at(ps, ps->tok->loc, "the program has no probes");
  do {
    check_top_level(ps);
    *link = probe(ps);
    link = &(*link)->next;
    prog->nprobes++;
  } while (ps->tok->kind != TK_EOF);
  return prog;
}

Program *parse_program(const Source *src) {
  jmp_buf env;
  diag_source = src;
  Parser ps = {.tok = lex_tokenize(src), .fail = &env};
  if (setjmp(env))
    return NULL;
  return program(&ps);
}
