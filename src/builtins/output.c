/* output.c - builtins that send records to user space for printing:
 * printf(), cat(), system(), print(), dump(), exit(). */
#include "builtins/builtin.h"
#include "runtime/rt.h"

#include <string.h>

/* printf-like: fmt literal then values; builds a Site. */
static int check_format_call(Sema *sema, Node *e, RecKind kind, int first) {
  Node *fmt = arg_n(e, first);
  if (!fmt || !want_str_lit(sema, fmt, e->name, "format"))
    return -1;
  int n = 0;
  for (Node *a = fmt->next; a; a = a->next)
    n++;
  Type **types = ealloc(sizeof(Type *) * (n ? n : 1));
  Type **stored = ealloc(sizeof(Type *) * (n ? n : 1));
  int i = 0;
  bool known = true;
  for (Node *a = fmt->next; a; a = a->next, i++) {
    Type *t = check_expr(sema, a);
    if (!t || t->kind == TY_NONE) {
      known = false;
      continue;
    }
    if (t->kind == TY_RECORD && kind == REC_PRINTF) {
      /* printf("%s", *p): the struct is copied into the record, which is
       * built on the 512-byte BPF stack; print(*p) prints bigger ones */
      if (t->size > PRINTF_RECORD_MAX) {
        serr(sema, a->loc, "printf() can print a struct of at most %d bytes (%s is %d bytes); "
             "print() prints bigger ones, or print a member", PRINTF_RECORD_MAX, ty_name(t),
             t->size);
        known = false;
        continue;
      }
      types[i] = t;
      stored[i] = ealloc(sizeof(Type));
      *stored[i] = *t;
      stored[i]->size = (t->size + 7) & ~7;
      continue;
    }
    if (t->kind == TY_VOID || t->kind == TY_CTX || ty_is_agg(t) || is_object(t)) {
      serr(sema, a->loc, "%s() cannot print a value of type %s", e->name, ty_name(t));
      known = false;
      continue;
    }
    types[i] = t;
    /* a record is private to its call site: strings keep their own
     * size (rounded to 8) instead of the map-wide default */
    stored[i] = t->kind == TY_STR ? ty_str((t->size + 7) & ~7) : store_type(t);
  }
  if (!known)
    return -1;
  const char *err = rt_format_check(e->name, fmt->str, types, n);
  if (err) {
    serr(sema, fmt->loc, "%s", err);
    return -1;
  }
  return add_site(sema, kind, fmt->str, ty_tuple(stored, n), e->loc);
}

static Type *check_printf(Sema *sema, Node *e) {
  e->site = check_format_call(sema, e, REC_PRINTF, 0);
  return ty_void;
}

static Type *check_cat(Sema *sema, Node *e) {
  e->site = check_format_call(sema, e, REC_CAT, 0);
  return ty_void;
}

static Type *check_system(Sema *sema, Node *e) {
  if (!sema->opt->unsafe) {
    serr(sema, e->loc, "system() is unsafe and needs --unsafe");
    return NULL;
  }
  e->site = check_format_call(sema, e, REC_SYSTEM, 0);
  return ty_void;
}

/* print(@map[, top[, div]]), print(value), print(*p) */
static Type *check_print(Sema *sema, Node *e) {
  Node *a = e->args;
  if (a->kind == ND_MAP && a->nargs == 0 && find_map(sema, a->name)) {
    MapInfo *m = map_arg(sema, a, e->name);
    if (!m)
      return NULL;
    for (Node *x = a->next; x; x = x->next)
      want_int(sema, x, e->name);
    e->site = -1; /* a map print, not a value print */
    return ty_void;
  }
  if (e->nargs > 1) {
    serr(sema, e->loc, "print() with top and div arguments expects a map");
    return NULL;
  }
  Type *t = check_expr(sema, a);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->kind == TY_RECORD) { /* print(*p): a copy of the object */
    e->site = add_site(sema, REC_OBJECT, "print", t, e->loc);
    return ty_void;
  }
  if (t->kind == TY_VOID || t->kind == TY_CTX || ty_is_agg(t)) {
    serr(sema, a->loc, "print() cannot print a value of type %s", ty_name(t));
    return NULL;
  }
  if (t->ctx) { /* as bpftrace: the context pointer is not a value to show */
    serr(sema, a->loc, "print() cannot print the context (ctx, %s); print its members",
         ty_name(t));
    return NULL;
  }
  if (!object_value_ok(sema, t, a->loc)) /* an array: a copy in the record */
    return NULL;
  Type *one = store_type(t);
  e->site = add_site(sema, REC_PRINT_VALUE, NULL, ty_tuple(&one, 1), e->loc);
  return ty_void;
}

/* dump(ptr or *ptr [, "compact" | "kernel"]) */
static Type *check_dump(Sema *sema, Node *e) {
  Type *t = check_expr(sema, e->args);
  if (!t || t->kind == TY_NONE)
    return NULL;
  if (t->ctx) { /* a perf_event context is not laid out as its type */
    serr(sema, e->args->loc, "dump() cannot copy the context (ctx); read its members");
    return NULL;
  }
  Type *obj = t->kind == TY_RECORD ? t : t->is_ptr && t->pointee &&
              t->pointee->kind == TY_RECORD ? t->pointee : NULL;
  if (!obj) {
    serr(sema, e->args->loc, "dump() expects a struct or a pointer to a struct, got %s",
         ty_name(t));
    return NULL;
  }
  Node *mode = e->args->next;
  if (mode && (mode->kind != ND_STR || (strcmp(mode->str, "compact") &&
                                        strcmp(mode->str, "kernel")))) {
    serr(sema, mode->loc, "dump()'s second argument must be \"compact\" or \"kernel\"");
    return NULL;
  }
  bool kernel = mode && !strcmp(mode->str, "kernel");
  if (kernel && !(sema->cur->caps & PROBE_CAP_BTF_HELPERS)) {
    /* bpf_snprintf_btf() is a helper of BTF-typed (tracing) programs */
    serr(sema, mode->loc, "dump(..., \"kernel\") renders in the kernel with bpf_snprintf_btf(), "
                          "which only rawtracepoint (tp_btf) probes may call");
    return NULL;
  }
  if (kernel && !btf_is_kernel_type(sema->c->types, obj->btf_id)) {
    serr(sema, e->args->loc, "dump(..., \"kernel\") can only render kernel types, and %s is the "
                             "program's own", ty_name(obj));
    return NULL;
  }
  if (kernel && !t->is_ptr) {
    serr(sema, e->args->loc, "dump(..., \"kernel\") expects a pointer to a struct");
    return NULL;
  }
  e->site = add_site(sema, REC_OBJECT, mode ? mode->str : "dump", obj, e->loc);
  return ty_void;
}

static Type *check_exit(Sema *sema, Node *e) {
  if (e->nargs)
    want_int(sema, e->args, e->name);
  return ty_void;
}

/* ------------------------------------------------------------ code */

/* printf, cat, system, print(value): header + argument tuple. */
static void cg_site_record(Cg *cg, Node *e, Node *first_arg) {
  if (e->site < 0 || e->site >= cg->c->nsites) {
    fail(cg, e->loc, "internal error: %s() has no record layout", e->name);
    return;
  }
  Site *s = cg->c->sites[e->site];
  /* -f ctf: the event's time, pid_tgid and CPU before the arguments */
  int pre = cg->c->ctf_records && s->kind == REC_PRINTF ? 24 : 0;
  int roff = record_header(cg, s->kind, e->site, pre + s->args->size, e->loc);
  if (pre) {
    emit(cg, CALL(BPF_FUNC_ktime_get_ns));
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 8));
    emit(cg, CALL(BPF_FUNC_get_current_pid_tgid));
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 16));
    emit(cg, CALL(BPF_FUNC_get_smp_processor_id));
    emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + 24));
  }
  int i = 0;
  for (Node *a = first_arg; a; a = a->next, i++) {
    cg->str_unzeroed = s->kind == REC_PRINTF;
    cg_store(cg, a, roff + 8 + pre + s->args->offsets[i], s->args->fields[i]);
  }
  submit_record(cg, roff, 8 + pre + s->args->size);
}

void cg_simple_record(Cg *cg, RecKind kind, int id, Node *a, Node *b, Loc loc) {
  int roff = record_header(cg, kind, id, 16, loc);
  int vals[2] = {8, 16};
  Node *args[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    if (args[i]) {
      cg_scalar(cg, args[i]);
      emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, roff + vals[i]));
    } else {
      emit(cg, ST_IMM(BPF_DW, BPF_REG_10, roff + vals[i], 0));
    }
  }
  if (kind == REC_EXIT) /* exit() has set the stop flag: its own record still goes */
    submit_exit_record(cg, roff, 24);
  else
    submit_record(cg, roff, 24);
}

/* dump(p, "kernel"): the kernel renders the object with
 * bpf_snprintf_btf() into a ring-buffer string (OBJECT_COPY_MAX bytes). */
static void cg_object_kernel_dump(Cg *cg, Node *e) {
  Site *s = cg->c->sites[e->site];
  int mark = cg->stack;
  int bp = slot(cg, 16, e->loc); /* struct btf_ptr { ptr; u32 type_id; u32 flags; } */
  cg_scalar(cg, e->args);
  emit(cg, STX(BPF_DW, BPF_REG_10, BPF_REG_0, bp));
  emit(cg, ST_IMM(BPF_W, BPF_REG_10, bp + 8, s->args->btf_id));
  emit(cg, ST_IMM(BPF_W, BPF_REG_10, bp + 12, 0));
  int done = label_new(cg);
  reserve_record(cg, 8 + OBJECT_COPY_MAX, REC_OBJECT, e->site, done);
  emit(cg, ST_IMM(BPF_B, BPF_REG_0, 8, 0)); /* an empty string if it fails */
  emit(cg, MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_1, 8));
  emit(cg, MOV64_IMM(BPF_REG_2, OBJECT_COPY_MAX));
  emit_addr(cg, BPF_REG_3, bp);
  emit(cg, MOV64_IMM(BPF_REG_4, 16));
  emit(cg, MOV64_IMM(BPF_REG_5, 4 /* BTF_F_PTR_RAW: pointers unhashed, as ours */));
  emit(cg, CALL(BPF_FUNC_snprintf_btf));
  submit_reserved(cg);
  label_here(cg, done);
  stack_release(cg, mark);
}

/* print(*p) / dump(p): the object is copied straight into a ring-buffer
 * reservation (kernel structs are far bigger than the 512-byte stack).
 * probe_read zero-fills on failure, so a bad pointer prints zeros. */
static void cg_object_record(Cg *cg, Node *e) {
  Site *s = cg->c->sites[e->site];
  if (!strcmp(s->fmt, "kernel")) {
    cg_object_kernel_dump(cg, e);
    return;
  }
  Node *a = e->args;
  int size = s->args->size < OBJECT_COPY_MAX ? s->args->size : OBJECT_COPY_MAX;
  bool user = a->type->is_ptr ? a->type->user : object_user(a);
  if (a->type->is_ptr)
    cg_scalar(cg, a);
  else
    cg_object_addr(cg, a);
  push(cg, e->loc); /* the object's address */
  int addr_at = cg->depth - 1, done = label_new(cg);
  reserve_record(cg, (8 + size + 7) & ~7, REC_OBJECT, e->site, done);
  emit(cg, MOV64_REG(BPF_REG_1, BPF_REG_0));
  emit(cg, ALU64_IMM(BPF_ADD, BPF_REG_1, 8));
  emit(cg, MOV64_IMM(BPF_REG_2, size));
  peek(cg, BPF_REG_3, addr_at);
  emit(cg, CALL(user ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel));
  submit_reserved(cg);
  label_here(cg, done);
  pop(cg, BPF_REG_1);
}


static void gen_format_call(Cg *cg, Node *e) { cg_site_record(cg, e, e->args->next); }

static void gen_print(Cg *cg, Node *e) {
  Node *a = e->args;
  if (e->site < 0) { /* print(@map[, top[, div]]) */
    Node *top = a->next, *div = top ? top->next : NULL;
    cg_simple_record(cg, REC_PRINT_MAP, a->map->id, top, div, e->loc);
  } else if (cg->c->sites[e->site]->kind == REC_OBJECT) {
    cg_object_record(cg, e);
  } else {
    cg_site_record(cg, e, e->args);
  }
}

static void gen_exit(Cg *cg, Node *e) {
  cg_set_stop(cg, e->args); /* first: see skip_if_stopped in cg.c */
  cg_simple_record(cg, REC_EXIT, 0, e->args, NULL, e->loc);
  ja(cg, cg->exit_label);
}

const Builtin builtins_output[] = {
    {.name = "printf", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 64,
     .check = check_printf, .gen_stmt = gen_format_call},
    {.name = "cat", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 64, .check = check_cat,
     .gen_stmt = gen_format_call},
    {.name = "system", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 64,
     .check = check_system, .gen_stmt = gen_format_call},
    {.name = "print", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 3, .check = check_print,
     .gen_stmt = gen_print},
    {.name = "dump", .form = BUILTIN_FUNC, .min_args = 1, .max_args = 2, .check = check_dump,
     .gen_stmt = cg_object_record},
    {.name = "exit", .form = BUILTIN_FUNC, .min_args = 0, .max_args = 1, .check = check_exit,
     .gen_stmt = gen_exit},
    {0},
};
