/* time.c - clocks and dates: nsecs, elapsed, jiffies, time(),
 * strftime(). */
#include "builtins/builtin.h"

static Type *type_u64(Sema *sema, Node *e) { return ty_u64; }

static void gen_nsecs(Cg *cg, Node *e) { emit(cg, CALL(BPF_FUNC_ktime_get_ns)); }

/* nanoseconds since etrace started */
static void gen_elapsed(Cg *cg, Node *e) {
  emit(cg, CALL(BPF_FUNC_ktime_get_ns));
  emit_imm64(cg, BPF_REG_1, cg->c->start_ns);
  emit(cg, ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_1));
}

static void gen_jiffies(Cg *cg, Node *e) { emit(cg, CALL(BPF_FUNC_jiffies64)); }

/* time([fmt]): user space prints the wall-clock time when the record arrives */
static Type *check_time(Sema *sema, Node *e) {
  const char *fmt = "%H:%M:%S\n";
  if (e->nargs) {
    if (!want_str_lit(sema, e->args, e->name, "format"))
      return NULL;
    fmt = e->args->str;
  }
  e->site = add_site(sema, REC_TIME, fmt, ty_tuple(NULL, 0), e->loc);
  return ty_void;
}

static void gen_time(Cg *cg, Node *e) {
  int roff = record_header(cg, REC_TIME, e->site, 0, e->loc);
  submit_record(cg, roff, 8);
}

/* strftime(fmt, nsecs): the boot-clock time, printed as a date */
static Type *check_strftime(Sema *sema, Node *e) {
  if (!want_str_lit(sema, e->args, e->name, "format") || !want_int(sema, e->args->next, e->name))
    return NULL;
  Type *t = new_kind(TY_TIMESTAMP, 8);
  t->fmt = e->args->str;
  return t;
}

static void gen_strftime(Cg *cg, Node *e) { cg_scalar(cg, e->args->next); }

const Builtin builtins_time[] = {
    {.name = "nsecs", .form = BUILTIN_VAR, .check = type_u64, .gen_value = gen_nsecs},
    {.name = "elapsed", .form = BUILTIN_VAR, .check = type_u64, .gen_value = gen_elapsed},
    {.name = "jiffies", .form = BUILTIN_VAR, .check = type_u64, .gen_value = gen_jiffies},
    {.name = "time", .form = BUILTIN_FUNC, .min_args = 0, .max_args = 1, .check = check_time,
     .gen_stmt = gen_time},
    {.name = "strftime", .form = BUILTIN_FUNC, .min_args = 2, .max_args = 2,
     .check = check_strftime, .gen_value = gen_strftime},
    {0},
};
