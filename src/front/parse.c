/* parse.c - recursive-descent parser for the bpftrace language.
 *
 * Each function parses one grammar rule, written in a comment above it, and
 * returns the AST described in etrace.h.  The parser walks the token list
 * made by lex.c with one current token, `tok`; looking further ahead is
 * just tok->next (the list ends in a TK_EOF or TK_ERROR that points to
 * itself, so look-ahead never runs off the end).
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

static Token *tok;          /* current token */
static jmp_buf *fail;       /* where errors go */
static int depth;           /* current nesting, see enter() */

/* ------------------------------------------------------------ errors */

static _Noreturn void error_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void error_at(Loc loc, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_error(loc, "%s", msg);
  longjmp(*fail, 1);
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
static _Noreturn void unexpected(Token *t, const char *expecting) {
  if (t->kind == TK_ERROR)
    error_at(t->loc, "%s", t->str);
  error_at(t->loc, "unexpected %s, expecting %s", describe(t), expecting);
}

/* Guard recursion: garbage such as 100000 '(' must not overflow the C
 * stack, here or in the later passes that walk the tree.  Every recursive
 * rule calls enter() and leave(), and so does each step of a loop that
 * nests the tree deeper (a + b + c ..., $x.a.b.c ...). */
static void enter(void) {
  if (++depth > MAX_DEPTH)
    error_at(tok->loc, "program nested too deeply");
}

static void leave(void) { depth--; }

/* ------------------------------------------------------------ tokens */

static void advance(void) { tok = tok->next; }

/* Is t the punctuator or keyword s? */
static bool equal(Token *t, const char *s) {
  return (t->kind == TK_PUNCT || t->kind == TK_KEYWORD) && strlen(s) == (size_t)t->len &&
         !memcmp(t->text, s, t->len);
}

/* Is t an identifier (or attach-point text) spelled s? */
static bool is_word(Token *t, TokenKind kind, const char *s) {
  return t->kind == kind && strlen(s) == (size_t)t->len && !memcmp(t->text, s, t->len);
}

static bool consume(const char *s) {
  if (!equal(tok, s))
    return false;
  advance();
  return true;
}

static Token *expect(const char *s) {
  Token *t = tok;
  if (!equal(t, s))
    unexpected(t, eprintf("'%s'", s));
  advance();
  return t;
}

static char *tok_text(Token *t) { return estrndup(t->text, t->len); }

/* ------------------------------------------------------------ nodes */

static Node *new_node(NodeKind kind, Loc loc) {
  Node *n = ealloc(sizeof(Node));
  n->kind = kind;
  n->loc = loc;
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
static char *type_name(void) {
  char *name;
  if (is_tag_keyword(tok)) {
    Token *tag = tok;
    advance();
    if (tok->kind != TK_IDENT && tok->kind != TK_KEYWORD)
      unexpected(tok, eprintf("a name after '%.*s'", tag->len, tag->text));
    name = eprintf("%.*s %.*s", tag->len, tag->text, tok->len, tok->text);
    advance();
  } else {
    if (tok->kind != TK_IDENT)
      unexpected(tok, "a type name");
    name = tok_text(tok);
    advance();
    if (consume("[")) {
      if (tok->kind != TK_INT)
        unexpected(tok, "an array size");
      name = eprintf("%s[%llu]", name, (unsigned long long)tok->ival);
      advance();
      expect("]");
    }
  }
  if (equal(tok, "*"))
    name = eprintf("%s ", name);
  while (consume("*"))
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

static Node *expr(void);
static Node *cast(void);

/* args = expr ("," expr)* ; ends at `close`, which is consumed.
 * Returns the first argument and sets *nargs. */
static Node *arg_list(const char *close, int *nargs) {
  Node head = {0}, *cur = &head;
  *nargs = 0;
  do {
    cur = cur->next = expr();
    ++*nargs;
    if (!equal(tok, ",") && !equal(tok, close))
      unexpected(tok, eprintf("',' or '%s'", close));
  } while (consume(","));
  expect(close);
  return head.next;
}

/* call = ident "(" ((type ",")? args)? ")"
 * sizeof() and offsetof() may take a type first; it goes in cast_type. */
static Node *call(Token *name) {
  Node *n = new_node(ND_CALL, name->loc);
  n->name = tok_text(name);
  expect("(");
  if (consume(")"))
    return n;
  bool takes_type = is_word(name, TK_IDENT, "sizeof") || is_word(name, TK_IDENT, "offsetof");
  if (takes_type && (is_tag_keyword(tok) || (is_int_type_name(tok) && !equal(tok->next, "(")))) {
    n->cast_type = type_name();
    if (consume(")"))
      return n;
    if (!equal(tok, ","))
      unexpected(tok, "',' or ')'");
    advance();
  }
  n->args = arg_list(")", &n->nargs);
  return n;
}

/* map = "@" ident? ("[" args "]")? */
static Node *map(void) {
  Node *n = new_node(ND_MAP, tok->loc);
  n->name = tok_text(tok);
  advance();
  if (consume("["))
    n->args = arg_list("]", &n->nargs);
  return n;
}

/* paren = "(" expr ("," expr)* ")"  ; one element is just grouping */
static Node *paren(void) {
  Loc loc = tok->loc;
  expect("(");
  int n;
  Node *elems = arg_list(")", &n);
  if (n == 1)
    return elems;
  Node *t = new_node(ND_TUPLE, loc);
  t->args = elems;
  t->nargs = n;
  return t;
}

/* primary = int | string | call | builtin | map | var | posparam | "$#" | paren
 * builtin = ident        (any identifier not followed by '('; sema checks it) */
static Node *primary(void) {
  Token *t = tok;
  Node *n;
  switch (t->kind) {
  case TK_INT:
    n = new_node(ND_INT, t->loc);
    n->ival = t->ival;
    advance();
    return n;
  case TK_STR:
    n = new_node(ND_STR, t->loc);
    n->str = t->str;
    n->slen = t->slen;
    advance();
    return n;
  case TK_IDENT:
    advance();
    if (equal(tok, "("))
      return call(t);
    n = new_node(ND_BUILTIN, t->loc);
    n->name = tok_text(t);
    return n;
  case TK_MAP:
    return map();
  case TK_VAR:
    n = new_node(ND_VAR, t->loc);
    n->name = estrndup(t->text + 1, t->len - 1);
    advance();
    return n;
  case TK_POSPARAM:
    n = new_node(ND_POSPARAM, t->loc);
    n->ival = t->ival;
    advance();
    return n;
  case TK_POSCOUNT:
    advance();
    return new_node(ND_POSCOUNT, t->loc);
  default:
    if (equal(t, "("))
      return paren();
    unexpected(t, "an expression");
  }
}

/* A field name after '.' or '->': an identifier, or a keyword (`args.if`). */
static Node *field(Node *lhs, bool arrow) {
  advance();
  if (tok->kind != TK_IDENT && tok->kind != TK_KEYWORD)
    unexpected(tok, "a field name");
  Node *n = new_unary(ND_FIELD, OP_NONE, lhs, tok->loc);
  n->name = tok_text(tok);
  n->arrow = arrow;
  advance();
  return n;
}

static Node *incdec(Token *op, Node *operand, bool prefix) {
  if (!is_lvalue(operand))
    error_at(op->loc, "the '%.*s' operator must be applied to a map or a variable", op->len,
             op->text);
  Node *n = new_unary(ND_INCDEC, op->text[0] == '+' ? OP_ADD : OP_SUB, operand, op->loc);
  n->prefix = prefix;
  return n;
}

/* postfix = primary ( "." ident | "." int | "->" ident | "[" expr "]"
 *                   | "++" | "--" )* */
static Node *postfix(void) {
  Node *n = primary();
  for (int nested = 0;; nested++) {
    enter();
    Token *t = tok;
    if (equal(t, ".") && t->next->kind == TK_INT) {
      advance();
      n = new_unary(ND_TUPLE_IDX, OP_NONE, n, tok->loc);
      n->ival = tok->ival;
      advance();
    } else if (equal(t, ".") || equal(t, "->")) {
      n = field(n, equal(t, "->"));
    } else if (equal(t, "[")) {
      advance();
      n = new_unary(ND_INDEX, OP_NONE, n, t->loc);
      n->rhs = expr();
      expect("]");
    } else if (equal(t, "++") || equal(t, "--")) {
      advance();
      n = incdec(t, n, false);
    } else {
      depth -= nested + 1;
      return n;
    }
  }
}

/* unary = ("-" | "!" | "~" | "*") cast
 *       | ("++" | "--") unary
 *       | postfix */
static Node *unary(void) {
  static const struct { const char *text; Op op; } ops[] = {
      {"-", OP_NEG}, {"!", OP_LNOT}, {"~", OP_BNOT}, {"*", OP_DEREF},
  };
  Token *t = tok;
  Node *n = NULL;
  enter();
  for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !n; i++)
    if (equal(t, ops[i].text)) {
      advance();
      n = new_unary(ND_UNARY, ops[i].op, cast(), t->loc);
    }
  if (!n && (equal(t, "++") || equal(t, "--"))) {
    advance();
    n = incdec(t, unary(), true);
  }
  if (!n)
    n = postfix();
  leave();
  return n;
}

/* cast = "(" type ")" cast | unary */
static Node *cast(void) {
  if (!equal(tok, "(") || !is_cast(tok))
    return unary();
  enter();
  Node *n = new_node(ND_CAST, tok->loc);
  advance();
  n->cast_type = type_name();
  expect(")");
  n->lhs = cast();
  leave();
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
static Node *binary(int min_prec) {
  Node *lhs = cast();
  for (int nested = 0;; nested++) {
    const struct BinOp *b = find_binop(tok);
    if (!b || b->prec < min_prec) {
      depth -= nested;
      return lhs;
    }
    enter();
    Token *op = tok;
    advance();
    Node *rhs = binary(b->prec + 1);
    lhs = new_binary(b->op, lhs, rhs, op->loc);
  }
}

/* ternary = binary ("?" expr ":" ternary)? */
static Node *ternary(void) {
  Node *cond = binary(1);
  if (!equal(tok, "?"))
    return cond;
  Node *n = new_node(ND_TERNARY, tok->loc);
  enter();
  advance();
  n->cond = cond;
  n->then = expr();
  expect(":");
  n->els = ternary();
  leave();
  return n;
}

/* expr = ternary */
static Node *expr(void) {
  enter();
  Node *n = ternary();
  leave();
  return n;
}

/* ------------------------------------------------------------ statements */

static Node *block(void);

/* block-or-if = if-stmt | block  (the part after "else") */
static Node *if_stmt(void);

/* if-stmt = "if" "(" expr ")" block ("else" (if-stmt | block))? */
static Node *if_stmt(void) {
  Node *n = new_node(ND_IF, tok->loc);
  enter();
  advance();
  if (!equal(tok, "("))
    unexpected(tok, "'(' after 'if'");
  advance();
  n->cond = expr();
  expect(")");
  n->then = block();
  if (consume("else"))
    n->els = equal(tok, "if") ? if_stmt() : block();
  leave();
  return n;
}

/* while-stmt  = "while" "(" expr ")" block
 * unroll-stmt = "unroll" "(" expr ")" block */
static Node *loop_stmt(NodeKind kind) {
  Token *kw = tok;
  Node *n = new_node(kind, kw->loc);
  advance();
  if (!equal(tok, "("))
    unexpected(tok, eprintf("'(' after '%.*s'", kw->len, kw->text));
  advance();
  if (kind == ND_WHILE)
    n->cond = expr();
  else
    n->lhs = expr();
  expect(")");
  n->then = block();
  return n;
}

/* The "$name" of a loop or let variable, without the '$'. */
static char *var_name(void) {
  if (tok->kind != TK_VAR)
    unexpected(tok, "a variable ($name)");
  char *name = estrndup(tok->text + 1, tok->len - 1);
  advance();
  return name;
}

/* for-stmt = "for" "(" var ":" (map | expr ".." expr) ")" block */
static Node *for_stmt(void) {
  Node *n = new_node(ND_FOR_RANGE, tok->loc);
  advance();
  if (!equal(tok, "("))
    unexpected(tok, "'(' after 'for'");
  advance();
  n->name = var_name();
  expect(":");
  n->lhs = expr();
  if (consume("..")) {
    n->rhs = expr();
  } else if (n->lhs->kind == ND_MAP) {
    if (n->lhs->nargs)
      error_at(n->lhs->loc, "a for loop iterates over a whole map: expected %s without keys",
               n->lhs->name);
    n->kind = ND_FOR_MAP;
  } else {
    unexpected(tok, "'..'");
  }
  expect(")");
  n->then = block();
  return n;
}

/* let-stmt = "let" var (":" type)? ("=" expr)? */
static Node *let_stmt(void) {
  Node *n = new_node(ND_LET, tok->loc);
  advance();
  n->name = var_name();
  if (consume(":"))
    n->cast_type = type_name();
  if (consume("="))
    n->rhs = expr();
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
static Node *expr_stmt(void) {
  Node *s = new_node(ND_EXPR_STMT, tok->loc);
  Node *e = expr();
  Op op = assign_op(tok);
  if (op != OP_NONE || equal(tok, "=")) {
    Token *t = tok;
    if (e->kind == ND_TUPLE_IDX)
      error_at(t->loc, "tuples are immutable: assign a new tuple instead");
    if (!is_lvalue(e))
      error_at(t->loc, "the left side of '%.*s' must be a map or a variable", t->len, t->text);
    advance();
    Node *a = new_unary(ND_ASSIGN, op, e, t->loc);
    a->rhs = expr();
    e = a;
  }
  s->lhs = e;
  return s;
}

/* simple-stmt = "break" | "continue" | "return" expr? | let-stmt | expr-stmt */
static Node *simple_stmt(void) {
  Token *t = tok;
  if (equal(t, "break") || equal(t, "continue")) {
    advance();
    return new_node(equal(t, "break") ? ND_BREAK : ND_CONTINUE, t->loc);
  }
  if (equal(t, "return")) {
    advance();
    Node *n = new_node(ND_RETURN, t->loc);
    if (!equal(tok, ";") && !equal(tok, "}"))
      n->lhs = expr();
    return n;
  }
  if (equal(t, "let"))
    return let_stmt();
  if (equal(t, "else"))
    error_at(t->loc, "'else' without a matching 'if'");
  return expr_stmt();
}

/* stmt = if-stmt | while-stmt | unroll-stmt | for-stmt | block
 *      | simple-stmt &(";" | "}") */
static Node *stmt(void) {
  if (equal(tok, "if"))
    return if_stmt();
  if (equal(tok, "while"))
    return loop_stmt(ND_WHILE);
  if (equal(tok, "unroll"))
    return loop_stmt(ND_UNROLL);
  if (equal(tok, "for"))
    return for_stmt();
  if (equal(tok, "{"))
    return block();
  Node *s = simple_stmt();
  if (!equal(tok, ";") && !equal(tok, "}"))
    unexpected(tok, "';' or '}'");
  return s;
}

/* block = "{" (";" | stmt)* "}" */
static Node *block(void) {
  if (!equal(tok, "{"))
    unexpected(tok, "'{'");
  Node *b = new_node(ND_BLOCK, tok->loc);
  Node head = {0}, *cur = &head;
  enter();
  advance();
  while (!consume("}")) {
    if (consume(";"))
      continue;
    if (tok->kind == TK_EOF || tok->kind == TK_ERROR)
      unexpected(tok, "'}'");
    cur = cur->next = stmt();
  }
  leave();
  b->body = head.next;
  return b;
}

/* ------------------------------------------------------------ probes */

/* config = "config" "=" "{" setting? (";" setting?)* "}"
 * setting = ident "=" (int | string | ident)
 * front/config.c gives the settings their meaning. */
static ConfigSetting *config(void) {
  ConfigSetting *head = NULL, **link = &head;
  advance();
  expect("=");
  expect("{");
  while (!consume("}")) {
    if (consume(";"))
      continue;
    if (tok->kind != TK_IDENT)
      unexpected(tok, "a config setting name");
    ConfigSetting *s = ealloc(sizeof *s);
    s->name = tok_text(tok);
    s->loc = tok->loc;
    advance();
    expect("=");
    if (tok->kind == TK_INT)
      s->value = eprintf("%llu", (unsigned long long)tok->ival);
    else if (tok->kind == TK_STR)
      s->value = estrndup(tok->str, tok->slen);
    else if (tok->kind == TK_IDENT)
      s->value = tok_text(tok);
    else
      unexpected(tok, "a number, a string or a name as the setting's value");
    advance();
    if (!equal(tok, ";") && !equal(tok, "}"))
      unexpected(tok, "';' or '}'");
    *link = s;
    link = &s->next;
  }
  return head;
}

static bool at_config(void) {
  return is_word(tok, TK_ATTACH, "config") && equal(tok->next, "=");
}

/* predicate = "/" expr "/" */
static Node *predicate(void) {
  advance();
  Node *e = expr();
  if (tok->kind != TK_PRED_END)
    unexpected(tok, "'/' closing the predicate");
  advance();
  return e;
}

/* probe = attach-point ("," attach-point)* predicate? block */
static Probe *probe(void) {
  Probe *p = ealloc(sizeof(Probe));
  p->loc = tok->loc;
  AttachPoint **link = &p->aps;
  do {
    if (tok->kind != TK_ATTACH)
      unexpected(tok, "an attach point");
    AttachPoint *ap = ealloc(sizeof(AttachPoint));
    ap->text = tok_text(tok);
    ap->loc = tok->loc;
    *link = ap;
    link = &ap->next;
    advance();
  } while (consume(","));
  if (equal(tok, "/"))
    p->pred = predicate();
  else if (!equal(tok, "{"))
    unexpected(tok, "',', a predicate or '{'");
  p->body = block();
  return p;
}

/* Reject top-level things we do not support yet, with a clear message. */
static void check_top_level(void) {
  static const char *const c_words[] = {"struct", "union", "enum", "typedef"};
  if (tok->kind == TK_CPP) {
    int n = 1;    /* the directive's name: "#include" */
    while (n < tok->len && isalpha((unsigned char)tok->text[n]))
      n++;
    error_at(tok->loc, "preprocessor directive '%.*s' must come before the first probe", n,
             tok->text);
  }
  for (size_t i = 0; i < sizeof c_words / sizeof c_words[0]; i++)
    if (is_word(tok, TK_ATTACH, c_words[i]))
      error_at(tok->loc, "C type definitions ('%s') must come before the first probe", c_words[i]);
  if (at_config())
    error_at(tok->loc, "the config block must come before all probes");
}

/* program = config? probe+ */
static Program *program(void) {
  Program *prog = ealloc(sizeof(Program));
  Probe **link = &prog->probes;
  if (at_config())
    prog->config = config();
  if (tok->kind == TK_EOF)
    error_at(tok->loc, "the program has no probes");
  do {
    check_top_level();
    *link = probe();
    link = &(*link)->next;
    prog->nprobes++;
  } while (tok->kind != TK_EOF);
  return prog;
}

Program *parse_program(const Source *src) {
  jmp_buf env;
  diag_source = src;
  tok = lex_tokenize(src);
  depth = 0;
  fail = &env;
  if (setjmp(env))
    return NULL;
  return program();
}
