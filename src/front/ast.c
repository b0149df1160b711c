/* ast.c - operator names and the AST dump (-d ast, front-end tests).
 *
 * The dump prints one node per line, indented two spaces per level, each
 * line ending in the node's source position <LINE:COL>, and " :: TYPE"
 * once sema has typed the node.  Children come in a fixed order: cond,
 * lhs, rhs, args, then, body, else.  For example
 *
 *   probe <1:1>
 *     attach kprobe:vfs_read <1:1>
 *     predicate
 *       binary == <1:28>
 *         builtin pid <1:24>
 *         int 1 <1:31>
 *     block <1:34>
 *       expr <1:36>
 *         assign = <1:39>
 *           map @x <1:36>
 *           call count <1:41>
 *
 * The format is what golden tests compare: keep it stable.
 */
#include "etrace.h"

#include <ctype.h>

const char *op_str(Op op) {
  switch (op) {
  case OP_NONE: return "";
  case OP_ADD: return "+";
  case OP_SUB: return "-";
  case OP_MUL: return "*";
  case OP_DIV: return "/";
  case OP_MOD: return "%";
  case OP_BAND: return "&";
  case OP_BOR: return "|";
  case OP_BXOR: return "^";
  case OP_SHL: return "<<";
  case OP_SHR: return ">>";
  case OP_EQ: return "==";
  case OP_NE: return "!=";
  case OP_LT: return "<";
  case OP_LE: return "<=";
  case OP_GT: return ">";
  case OP_GE: return ">=";
  case OP_LAND: return "&&";
  case OP_LOR: return "||";
  case OP_NEG: return "-";
  case OP_LNOT: return "!";
  case OP_BNOT: return "~";
  case OP_DEREF: return "*";
  }
  return "?";
}

/* A string literal, quoted, with C escapes for anything unprintable. */
static void dump_string(FILE *f, const char *s, int len) {
  fputc('"', f);
  for (int i = 0; i < len; i++) {
    unsigned char c = s[i];
    switch (c) {
    case '\n': fputs("\\n", f); break;
    case '\t': fputs("\\t", f); break;
    case '\r': fputs("\\r", f); break;
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    default:
      if (isprint(c))
        fputc(c, f);
      else
        fprintf(f, "\\%03o", c);
    }
  }
  fputc('"', f);
}

/* The text of a node's line, before its position. */
static void dump_head(FILE *f, const Node *n) {
  switch (n->kind) {
  case ND_INT: fprintf(f, "int %llu", (unsigned long long)n->ival); break;
  case ND_STR: fputs("str ", f); dump_string(f, n->str, n->slen); break;
  case ND_BUILTIN: fprintf(f, "builtin %s", n->name); break;
  case ND_VAR: fprintf(f, "var $%s", n->name); break;
  case ND_POSPARAM: fprintf(f, "param $%llu", (unsigned long long)n->ival); break;
  case ND_POSCOUNT: fputs("param $#", f); break;
  case ND_MAP: fprintf(f, "map %s", n->name); break;
  case ND_CALL:
    fprintf(f, "call %s", n->name);
    if (n->cast_type)
      fprintf(f, " (%s)", n->cast_type);
    break;
  case ND_BINARY: fprintf(f, "binary %s", op_str(n->op)); break;
  case ND_UNARY: fprintf(f, "unary %s", op_str(n->op)); break;
  case ND_TERNARY: fputs("ternary", f); break;
  case ND_CAST: fprintf(f, "cast (%s)", n->cast_type); break;
  case ND_FIELD: fprintf(f, "field %s%s", n->arrow ? "->" : ".", n->name); break;
  case ND_INDEX: fputs("index", f); break;
  case ND_TUPLE: fputs("tuple", f); break;
  case ND_TUPLE_IDX: fprintf(f, "tuple-index .%llu", (unsigned long long)n->ival); break;
  case ND_ASSIGN: fprintf(f, "assign %s=", op_str(n->op)); break;
  case ND_INCDEC:
    fprintf(f, "incdec %s %s", n->op == OP_ADD ? "++" : "--", n->prefix ? "prefix" : "postfix");
    break;
  case ND_EXPR_STMT: fputs("expr", f); break;
  case ND_BLOCK: fputs("block", f); break;
  case ND_IF: fputs("if", f); break;
  case ND_WHILE: fputs("while", f); break;
  case ND_UNROLL: fputs("unroll", f); break;
  case ND_FOR_RANGE: fprintf(f, "for $%s range", n->name); break;
  case ND_FOR_MAP: fprintf(f, "for $%s map", n->name); break;
  case ND_BREAK: fputs("break", f); break;
  case ND_CONTINUE: fputs("continue", f); break;
  case ND_RETURN: fputs("return", f); break;
  case ND_LET:
    fprintf(f, "let $%s", n->name);
    if (n->cast_type)
      fprintf(f, " : %s", n->cast_type);
    break;
  }
}

static void indent(FILE *f, int level) {
  for (int i = 0; i < level; i++)
    fputs("  ", f);
}

static void dump_node(FILE *f, const Node *n, int level) {
  indent(f, level);
  dump_head(f, n);
  fprintf(f, " <%d:%d>", n->loc.line, n->loc.col);
  if (n->type && n->type->kind != TY_NONE)
    fprintf(f, " :: %s", ty_name(n->type));
  fputc('\n', f);

  if (n->cond)
    dump_node(f, n->cond, level + 1);
  if (n->lhs)
    dump_node(f, n->lhs, level + 1);
  if (n->rhs)
    dump_node(f, n->rhs, level + 1);
  for (const Node *a = n->args; a; a = a->next)
    dump_node(f, a, level + 1);
  if (n->then)
    dump_node(f, n->then, level + 1);
  for (const Node *s = n->body; s; s = s->next)
    dump_node(f, s, level + 1);
  if (n->els) {
    if (n->kind == ND_IF) {   /* label it: "else" reads better than position */
      indent(f, level + 1);
      fputs("else\n", f);
      dump_node(f, n->els, level + 2);
    } else {
      dump_node(f, n->els, level + 1);
    }
  }
}

void ast_dump(FILE *f, const Program *prog) {
  for (const Probe *p = prog->probes; p; p = p->next) {
    fprintf(f, "probe <%d:%d>\n", p->loc.line, p->loc.col);
    for (const AttachPoint *ap = p->aps; ap; ap = ap->next)
      fprintf(f, "  attach %s <%d:%d>\n", ap->text, ap->loc.line, ap->loc.col);
    if (p->pred) {
      fputs("  predicate\n", f);
      dump_node(f, p->pred, 2);
    }
    dump_node(f, p->body, 1);
  }
}
