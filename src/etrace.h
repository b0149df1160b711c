/* etrace.h - shared internal declarations, one section per module.
 *
 * Pipeline (one folder of src/ per stage): lex -> parse (AST) -> sema (types, maps, record layouts)
 * -> cg (BPF instructions, one program per attach point) -> load
 * -> prov (attach) -> rt (event loop, printing).
 *
 * Memory: everything built while compiling (tokens, nodes, types, map
 * descriptions) comes from one arena (ealloc) and is freed together.
 * Errors are returned, never exit()ed, below main.c.
 */
#ifndef ETRACE_H
#define ETRACE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define ETRACE_VERSION "0.1.0"

/* ---------------------------------------------------------------- util.c */

void *ealloc(size_t n);                 /* zeroed, from the compile arena */
char *estrdup(const char *s);
void *egrow(void *arr, int n, size_t elem); /* room for arr[n] (arena arrays) */
char *estrndup(const char *s, size_t n);
char *eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void arena_free_all(void);
/* Bumped by arena_free_all: caches of arena objects compare it to know
 * their contents are gone (one process may compile several programs). */
int arena_generation(void);

/* A growable byte buffer (malloc-backed, not arena). */
typedef struct Buf {
  char *data;
  size_t len, cap;
} Buf;
void buf_put(Buf *b, const void *p, size_t n);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(Buf *b);

char *read_file(const char *path, size_t *len); /* malloc'd, NUL-terminated */
bool parse_u64(const char *s, uint64_t *out);   /* decimal or 0x-hex filling all of s */

/* ---------------------------------------------------------------- diag.c */

/* One source text being compiled.  Loc points into it. */
typedef struct Source {
  const char *name;      /* file name, or "stdin" / "-e" text name */
  const char *text;
  const char *shown;     /* text for diagnostics, when `text` was rewritten
                          * (C preamble blanked, macros substituted) */
} Source;

typedef struct Loc {
  int line, col;         /* 1-based */
} Loc;

extern const Source *diag_source;   /* the program being compiled */
extern int diag_errors;             /* errors reported so far */
extern bool diag_no_warnings;       /* --no-warnings: no warning is printed */
extern FILE *diag_out;              /* where diagnostics go (NULL: stderr) */

/* Print "NAME:LINE:COL: error: MSG", the source line, and a caret. */
void diag_error(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_warn(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error about something the machine lacks that the program names (a
 * tracepoint, a kernel symbol, a user address or offset): the located
 * error in etrace's words, then "ERROR: " and bpftrace's words for the
 * same fault (scripts and test engines match them).  docs/language.md,
 * "Errors", lists which errors carry bpftrace's words. */
void diag_error_bt(Loc loc, const char *bpftrace_words, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* When set (etrace snoop), maps a location in a generated program to the
 * text the user wrote: returns the Source to show and updates *loc. */
extern const Source *(*diag_remap)(Loc *loc);
/* An error with no location ("etrace: error: ..."). */
void diag_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error about the command line or the environment worded as bpftrace
 * words it ("ERROR: ..."): scripts and test engines match that text. */
void diag_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- types.c */

typedef enum {
  TY_NONE,      /* not yet known */
  TY_VOID,      /* statements, calls with no value */
  TY_INT,       /* size 1/2/4/8, is_signed; always 8 bytes in memory */
  TY_STR,       /* NUL-terminated string in a buffer of `size` bytes */
  TY_TUPLE,     /* fields[] at offsets[] (8-byte aligned), `size` bytes */
  TY_USERNAME,  /* uid (u64) printed as a user name */
  TY_PROBE,     /* probe index (u64) printed as the probe's name */
  TY_TIMESTAMP, /* strftime(): nsecs (u64) + format string in `fmt` */
  TY_BUF,       /* buf(): u64 length + bytes */
  TY_CTX,       /* tracepoint `args`: fields from the tracefs format */
  TY_STRERROR,  /* strerror(): errno (u64) printed as its message */
  TY_INET,      /* ntop(): u64 address family, then 16 address bytes */
  TY_RECORD,    /* a struct/union (BTF); its value in a register is its
                 * address: kernel or user memory, or a copy held in BPF
                 * memory (a variable, map key/value, tuple: at most
                 * PRINTF_RECORD_MAX bytes, size rounded up to 8) */
  TY_ARRAY,     /* an array (not char): `elem` x `nelems`, packed as in C;
                 * in a register, its address (as TY_RECORD) */
  TY_STACK,     /* kstack/ustack: u64, stack id (low 32 bits, negative: no
                 * stack) | pid << 32 (ustack); see stack_* below */
  TY_KSYM,      /* ksym(): kernel address (u64) printed as a symbol name */
  TY_USYM,      /* usym(): user address (u64), then the pid (u64) */
  TY_MACADDR,   /* macaddr(): the 6 address bytes (8 in memory) */
  TY_CGROUP_PATH, /* cgroup_path(): cgroup id (u64) printed as its paths; fmt:
                 * the hierarchy filter */
  /* aggregation values (only as map values) */
  TY_COUNT, TY_SUM, TY_MIN, TY_MAX, TY_AVG, TY_STATS, TY_HIST, TY_LHIST,
} TypeKind;

typedef struct Type Type;
typedef struct ProgramTypes ProgramTypes; /* btf.c */
struct Type {
  TypeKind kind;
  int size;          /* bytes occupied in memory (keys, values, records) */
  /* TY_STR held in a buffer wider than its type (variables, tuples and
   * map values hold strings in string-size buffers): the size the
   * language gives it, which sizeof() reports ("abc": 4); 0: size */
  int lang_size;
  bool is_signed;    /* TY_INT, TY_SUM/MIN/MAX/AVG/STATS: of the argument */
  int int_size;      /* TY_INT: declared width in bytes (1,2,4,8) */
  /* TY_TUPLE */
  int nfields;
  Type **fields;
  int *offsets;
  /* TY_LHIST */
  int64_t lh_min, lh_max, lh_step;
  /* TY_TIMESTAMP: strftime format */
  const char *fmt;
  /* TY_INT that is a pointer (printed in hex): what it points to (NULL:
   * void or a function), and whether it is a user-space address */
  bool is_ptr, user;
  /* ... or of no known address space (a pointer cast from an integer in a
   * BEGIN, interval, profile ... probe, and pointers read through it) */
  bool any_space;
  Type *pointee;
  /* A pointer to the program's context (the `ctx` builtin, or a cast of
   * it): what it points at is read with direct loads, which the verifier
   * rewrites (a perf_event context is not laid out as its type). */
  bool ctx;
  /* TY_RECORD: BTF type id (in btf: vmlinux's or the program's split
   * BTF, which lives as long as the compilation's ProgramTypes) and
   * "struct task_struct" */
  struct btf *btf;
  int btf_id;
  const char *tag;
  /* TY_ARRAY; a TY_STR that is a char array member: its elements */
  Type *elem;
  int nelems;
  /* TY_STACK: ustack or kstack, STACK_MODE_*, frames kept (1..127) */
  bool stack_user;
  int stack_mode, stack_limit;
  /* A builtin's printed type (ksym, ntop ...): its text, from the builtin
   * table (src/builtins/), so that the runtime needs no case for it. */
  void (*print)(struct Buf *b, const Type *t, const unsigned char *data);
};

/* How a stack prints (bpftrace's stack modes). */
enum { STACK_MODE_BPFTRACE, STACK_MODE_PERF, STACK_MODE_RAW };
#define STACK_MAX_FRAMES 127  /* kernel.perf_event_max_stack's default */

extern Type *ty_void, *ty_u64, *ty_s64, *ty_u32, *ty_s32, *ty_u8;
void types_init(void);
Type *ty_int(int int_size, bool is_signed);
Type *ty_str(int size);
Type *ty_tuple(Type **fields, int n);
Type *ty_agg(TypeKind kind, bool is_signed);
bool ty_is_agg(const Type *t);
bool ty_is_int(const Type *t);             /* TY_INT, TY_USERNAME? no: INT only */
bool ty_same(const Type *a, const Type *b); /* same shape (strings: any size) */
bool ty_in_memory(const Type *t); /* held as bytes: strings, tuples, buf() ... */
const char *ty_name(const Type *t);         /* "uint64", "string[64]", ... */
Type *ty_ptr(Type *pointee, bool user);     /* a pointer (TY_INT, is_ptr) */
int ty_mem_size(const Type *t);  /* bytes in kernel memory: int_size for ints */
int ty_lang_size(const Type *t); /* a string's size in the language (lang_size) */

/* String buffer size: 64 bytes, or BPFTRACE_STRLEN / ETRACE_STRLEN from
 * the environment (8..200, rounded up to 8). */
extern int etrace_strlen;
#define ETRACE_STRLEN etrace_strlen
/* Check BPFTRACE_STRLEN / ETRACE_STRLEN: -1 after an error when it is not
 * a number or above 200 (bpftrace refuses those too). */
int types_check_env(void);
/* Read BPFTRACE_STRLEN again (after the config block set it). */
void types_reload_env(void);

/* Histogram buckets, shared by cg (computing the index in BPF) and rt
 * (printing).  hist: index 0 holds negative values, 1 holds 0, and
 * 2 + floor(log2(v)) holds v >= 1.  lhist(v, min, max, step): index 0 holds
 * v < min, 1 + (v - min) / step for min <= v < max, and the last index
 * 1 + (max - min) / step holds v >= max. */
#define HIST_BUCKETS 66

/* ------------------------------------------------------- lex.c, parse.c */

typedef enum {
  /* expressions */
  ND_INT,        /* integer literal: ival */
  ND_STR,        /* string literal: str (unescaped), slen */
  ND_BUILTIN,    /* pid, comm, nsecs, args, arg0, retval, ...: name */
  ND_VAR,        /* $name: name (without '$') */
  ND_POSPARAM,   /* $1..$N: ival = N */
  ND_POSCOUNT,   /* $# */
  ND_MAP,        /* @name[args]: name (with '@'; "@" for bare @), args/nargs keys */
  ND_CALL,       /* name(args): name, args/nargs */
  ND_BINARY,     /* lhs op rhs (op is an Op, including OP_LAND/OP_LOR) */
  ND_UNARY,      /* op lhs (OP_NEG, OP_LNOT, OP_BNOT, OP_DEREF) */
  ND_TERNARY,    /* cond ? then : els */
  ND_CAST,       /* (cast_type) lhs, e.g. "uint8", "int64", "struct foo *" */
  ND_FIELD,      /* lhs.name or lhs->name (arrow) */
  ND_INDEX,      /* lhs[rhs] */
  ND_TUPLE,      /* (args...), nargs >= 2 */
  ND_TUPLE_IDX,  /* lhs.ival (tuple element access, e.g. $t.0) */
  ND_ASSIGN,     /* lhs = rhs; lhs op= rhs when op != OP_NONE */
  ND_INCDEC,     /* ++lhs / lhs++ (op OP_ADD) and -- (op OP_SUB); prefix flag */
  /* statements */
  ND_EXPR_STMT,  /* lhs; */
  ND_BLOCK,      /* { body } ; body is a list linked by next */
  ND_IF,         /* if (cond) then else els (els may be ND_IF or ND_BLOCK) */
  ND_WHILE,      /* while (cond) then */
  ND_UNROLL,     /* unroll (lhs) then ; lhs is the count expression */
  ND_FOR_RANGE,  /* for ($name : lhs .. rhs) then */
  ND_FOR_MAP,    /* for ($name : lhs) then ; lhs is an ND_MAP without keys */
  ND_BREAK,
  ND_CONTINUE,
  ND_RETURN,
  ND_LET,        /* let $name [= rhs] ; also `let $name: type` (cast_type) */
} NodeKind;

typedef enum {
  OP_NONE,
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
  OP_BAND, OP_BOR, OP_BXOR, OP_SHL, OP_SHR,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
  OP_LAND, OP_LOR,
  OP_NEG, OP_LNOT, OP_BNOT, OP_DEREF,
} Op;

const char *op_str(Op op);   /* "+", "&&", ... */

typedef struct MapInfo MapInfo;
typedef struct VarInfo VarInfo;

typedef struct Node Node;
struct Node {
  NodeKind kind;
  Loc loc;
  Loc start;           /* where the whole expression begins (an enclosing '(' included):
                        * helper errors of memory reads point there, as bpftrace's do */
  Node *next;          /* next sibling (statement list, argument list) */

  Node *lhs, *rhs;
  Node *cond, *then, *els;
  Node *args;          /* argument / key / tuple element list */
  int nargs;
  Node *body;          /* ND_BLOCK statements */

  char *name;
  uint64_t ival;
  char *str;           /* ND_STR: bytes after escape processing */
  int slen;            /* ND_STR: length without the final NUL */
  Op op;
  bool prefix;         /* ND_INCDEC */
  bool arrow;          /* ND_FIELD written with -> */
  char *cast_type;     /* ND_CAST, ND_LET: type text as written */

  /* filled by sema */
  Type *type;
  MapInfo *map;        /* ND_MAP */
  VarInfo *var;        /* ND_VAR, ND_LET, ND_FOR_* */
  int site;            /* ND_CALL: printf/print/... site id in the record table */
  const struct Builtin *builtin; /* ND_BUILTIN, ND_CALL: its builtin table entry */
  int field_off;       /* ND_FIELD on args: offset in the tracepoint record */
  bool field_data_loc; /* ND_FIELD on args: __data_loc string */
  bool field_user;     /* ND_FIELD on args: user-space char * */
  int bit_shift, bit_size; /* ND_FIELD on a record: a bitfield */
};

typedef struct AttachPoint AttachPoint;
struct AttachPoint {
  char *text;          /* as written, e.g. "tracepoint:syscalls:sys_enter_*" */
  Loc loc;
  AttachPoint *next;
};

typedef struct Probe Probe;
struct Probe {
  AttachPoint *aps;    /* one or more, comma-separated in the source */
  Node *pred;          /* /predicate/ or NULL */
  Node *body;          /* ND_BLOCK */
  Loc loc;
  Probe *next;
};

/* One setting of the config block (`config = { max_strlen = 64 }`). */
typedef struct ConfigSetting ConfigSetting;
struct ConfigSetting {
  char *name;          /* as written: max_strlen, BPFTRACE_MAX_STRLEN */
  char *value;         /* as text: "64" (durations already in ns), "perf" */
  Loc loc;
  ConfigSetting *next;
};

typedef struct Program {
  Probe *probes;
  int nprobes;
  ConfigSetting *config;
  /* its C types (cdefs_process); NULL: sema_program makes them */
  ProgramTypes *types;
} Program;

/* Parse src.  Returns NULL after printing a located error. */
Program *parse_program(const Source *src);
/* Print the AST (for -d ast and the front-end tests). */
void ast_dump(FILE *f, const Program *prog);
/* Apply the config block (front/config.c): each setting becomes the
 * environment variable etrace reads, unless the environment sets it
 * already (the environment wins, as in bpftrace).  0, or -1 after a
 * located error. */
int config_apply(const Program *prog);

/* ----------------------------------------------------------------- btf.c */

/* Kernel types from /sys/kernel/btf/vmlinux, parsed on first use and
 * shared by the process (NULL when the kernel has no BTF). */
struct btf;
struct btf *btf_vmlinux(void);
/* The id of vmlinux's type `name` of BTF kind `kind` (BTF_KIND_FUNC ...),
 * the lowest when several have it; -1 when none (or no BTF).  Indexed on
 * first use (btfindex.c), so each lookup is cheap. */
int btf_vmlinux_find(const char *name, int kind);
/* One compilation's types: the program's split BTF (C definitions, DWARF
 * conversions), its record cache and name look-ups.  Made by whoever
 * compiles, before cdefs_process, and freed after the program's last run
 * (the records' BTF is read by the runtime printers).  Its caches point
 * into the compile arena: use it only until arena_free_all. */
ProgramTypes *program_types_new(void);
void program_types_free(ProgramTypes *pt);
struct btf *btf_program(ProgramTypes *pt); /* vmlinux + program types; NULL: none */
Type *btf_type_of(ProgramTypes *pt, int id, bool user); /* NULL: void, float, function */
Type *btf_int_named(const char *name); /* "u32", "int64", "bool" ... or NULL */
/* A type as written in a cast or sizeof: "struct task_struct *",
 * "unsigned long", "pid_t".  NULL with *why set when it is unknown. */
Type *btf_parse_type(ProgramTypes *pt, const char *text, bool user, const char **why);

typedef struct BtfMember {
  Type *type;       /* NULL: a member etrace cannot read (float ...) */
  int type_id;
  int offset;       /* bytes from the start of the record */
  int bit_shift;    /* bitfield: bits to shift the u64 at offset right */
  int bit_size;     /* bitfield width, 0 for ordinary members */
} BtfMember;
/* Member `name` of a TY_RECORD, searching anonymous structs/unions. */
bool btf_find_member(ProgramTypes *pt, const Type *rec, const char *name, bool user, BtfMember *out);

/* rawtracepoint arguments: names and BTF types of tracepoint `name`'s
 * parameters (without the leading void *__data); -1 when unknown. */
int btf_tp_params(const char *name, const char ***names, int **type_ids);
bool btf_has_raw_tp(const char *name);
const char *btf_c_name(ProgramTypes *pt, int type_id);   /* "struct task_struct *" */
/* Program C types (cdefs.c): a BTF split from vmlinux's that takes
 * additions; names defined by the program shadow the kernel's. */
struct btf *btf_writable(ProgramTypes *pt);
void btf_user_define(ProgramTypes *pt, const char *name, int btf_kind, int id);
int btf_lookup(ProgramTypes *pt, const char *name, int btf_kind); /* program, kernel, fallback; -1 */
/* Where btf_lookup looks for a name that neither the program nor the
 * kernel defines (sema: the DWARF of the file a uprobe probes, while that
 * probe is checked); fn NULL: nowhere.  Returns a BTF id of pt, or -1. */
typedef int (*BtfFallback)(void *arg, const char *name, int btf_kind);
void btf_set_fallback(ProgramTypes *pt, BtfFallback fn, void *arg);
bool btf_is_kernel_type(ProgramTypes *pt, int id);

void btf_resolve_fwd(ProgramTypes *pt, int fwd_id, int real_id); /* a forward decl now defined */
/* A kernel enumerator's value (an identifier such as TASK_COMM_LEN). */
bool btf_enum_value(const char *name, uint64_t *out);

/* ---------------------------------------------------------------- dwarf.c */

/* A user function's parameter from DWARF: its name, its type converted
 * into the program BTF, and which argN register holds it at entry (-1:
 * not in a general register, e.g. after a struct passed by value). */
typedef struct DwParam {
  const char *name;
  int type_id;
  int arg;
} DwParam;
/* The types one compilation has converted from DWARF (in its arena). */
typedef struct DwarfTypes DwarfTypes;
DwarfTypes *dwarf_types_new(ProgramTypes *pt); /* converts into pt's BTF */
/* Parameters of `func` in the ELF file at path; -1 with *why set. */
int dwarf_func_params(DwarfTypes *dt, const char *path, const char *func, DwParam **out,
                      const char **why);
/* The type named `name` of BTF kind btf_kind (struct, union, enum,
 * typedef) that the file's DWARF defines, converted: its id, or -1. */
int dwarf_named_type(DwarfTypes *dt, const char *path, const char *name, int btf_kind);

/* ---------------------------------------------------------------- cdefs.c */

/* The C preamble of a program (#include, #define, struct/union/enum/
 * typedef definitions before the first probe): types into the program
 * BTF, macros and enum constants substituted.  Returns the text for the
 * lexer (the preamble blanked, lines kept), or NULL after an error. */
const char *cdefs_process(ProgramTypes *pt, const Source *src, const char *const *include_dirs,
                          int ndirs, const char *const *includes, int nincludes);

/* -l / -lv 'struct GLOB' (union, enum): 1 listed, 0 not a type glob, -1 error */
int btf_list_types(FILE *f, const char *glob, bool verbose);
int btf_raw_tp_glob(const char *glob, void (*add)(void *arg, const char *name), void *arg);

/* ---------------------------------------------------------------- sema.c */

/* One BPF map a program uses (user maps and internal ones). */
struct MapInfo {
  char *name;          /* "@x", "@" */
  int id;              /* index in Compiled.maps */
  Loc loc;             /* first use */
  Type *key;           /* key type as stored (TY_TUPLE for multi-key) */
  int nkeys;           /* 0 for a scalar map (@x), whose stored key is u64 0 */
  Type *val;           /* value type: TY_INT/TY_STR/TY_TUPLE or an aggregation */
  bool percpu;         /* aggregations live in per-CPU maps */
  /* hist/lhist: the stored key is `key` followed by a u64 bucket index;
   * key_size is the full stored key size. */
  int key_size;
  int val_size;        /* stored value size (one CPU) */
  int max_entries;
  /* a keyless count(): a one-slot per-CPU array (key u32 0), and a
   * keyless hist()/lhist(): a per-CPU array of its buckets (key u32
   * bucket), so an event is one lookup and an add, never an update on a
   * miss; kept a hash when the program deletes, iterates or len()s it. */
  bool array;
  bool walked;         /* sema: delete()d, len()d or iterated in a probe */
  bool array_live;     /* runtime: the array slot counts as a key (it was
                        * non-zero once since the last clear()) */
  int fd;              /* after load */
};

struct VarInfo {
  char *name;
  Type *type;
  int stack_off;       /* cg: offset from r10 (negative) */
};

/* Records sent through the ring buffer: u64 header, then data.
 * header = (kind << 32) | id. */
typedef enum {
  REC_PRINTF = 1,      /* id: site; data: args laid out as site->args */
  REC_EXIT,            /* data: s64 exit code */
  REC_PRINT_MAP,       /* id: map id; data: s64 top, s64 div */
  REC_CLEAR,           /* id: map id */
  REC_ZERO,            /* id: map id */
  REC_PRINT_VALUE,     /* id: site; data: value laid out as site->args.fields[0] */
  REC_TIME,            /* id: site (fmt); data: none */
  REC_CAT,             /* id: site (fmt + args, like printf) */
  REC_SYSTEM,          /* id: site (fmt + args, like printf) */
  REC_JOIN,            /* id: site (separator); data: argv strings */
  REC_OBJECT,          /* id: site (args: the object's type, fmt: "print",
                        * "dump" or "compact"); data: its bytes, at most
                        * OBJECT_COPY_MAX */
  REC_HELPER_ERROR,    /* id: the BPF helper; data: s64 return code,
                        * u64 line << 32 | column (-k, -kk) */
  REC_TARGET_EVENT = 32, /* id: a target, or TARGET_EVENT_ALL; data: u64 event
                        * (TEV_*), u64 value: work for the target's provider
                        * at run time (Provider.on_event) */
  REC_PID = 64,        /* id: a pid that ustack/usym saw for the first time
                        * (sym/ reads its memory map while it lives) */
} RecKind;

/* REC_TARGET_EVENT: to every target whose provider takes events */
#define TARGET_EVENT_ALL 0xffffffffu
/* REC_TARGET_EVENT's events */
enum {
  TEV_WATCH = 1,       /* a watchpoint's setup uprobe read this address */
  TEV_WATCH_LAST,      /* the same, its last of a call that stopped the
                        * process: resume it (SIGCONT) once watched */
  TEV_UNWATCH,         /* unwatch(): stop watching this address */
};

#define JOIN_MAX_ARGS 16  /* join() reads at most this many argv strings */

/* printf("%s", *p) copies the struct into the printf record, which lives
 * on the BPF stack: at most this many bytes */
#define PRINTF_RECORD_MAX 256

#define OBJECT_COPY_MAX 16384 /* bytes of a kernel object print()/dump() copy */

#define REC_HEADER(kind, id) (((uint64_t)(kind) << 32) | (uint32_t)(id))

/* A printf-like call site: the format and the layout of its arguments. */
typedef struct Site {
  RecKind kind;
  const char *fmt;     /* printf/cat/system/time format, join separator */
  Type *args;          /* TY_TUPLE of the argument values */
  Loc loc;
} Site;

typedef struct TpFormat TpFormat;
typedef struct TpField TpField;
typedef struct UsdtProbe UsdtProbe;
typedef struct Provider Provider;   /* providers/provider.h */

/* What a probe's provider defines for a target (Target.caps).  A builtin
 * lists the ones it needs (src/builtins/); elsewhere it is an error. */
enum {
  PROBE_CAP_ARGS = 1 << 0,     /* args / args.NAME: a typed argument record */
  PROBE_CAP_ARGN = 1 << 1,     /* arg0..argN */
  PROBE_CAP_RETVAL = 1 << 2,   /* retval */
  PROBE_CAP_FUNC = 1 << 3,     /* func: the probed function's name */
  PROBE_CAP_PT_REGS = 1 << 4,  /* reg(): the context is struct pt_regs */
  PROBE_CAP_USER = 1 << 5,     /* uaddr(): the probe runs in a user binary */
  PROBE_CAP_ITER = 1 << 6,     /* ctx: an iterator's context */
  PROBE_CAP_BTF_HELPERS = 1 << 7, /* a BTF-typed program: may call bpf_snprintf_btf() */
  PROBE_CAP_ANY_PROCESS = 1 << 8, /* runs in no particular process: -p does not filter it */
  PROBE_CAP_IN_ETRACE = 1 << 9,   /* runs in etrace itself (BEGIN/END, BPF_PROG_TEST_RUN) */
  PROBE_CAP_TAIL_CALLED = 1 << 10, /* entered by tail call from a dispatcher, which the
                                      kernel's run-time statistics count instead */
};

/* One attach point after expansion (wildcards resolved).  What only one
 * provider needs (a tracepoint's format, a uprobe's file and offset ...)
 * sits behind `data`, which only that provider reads. */
typedef struct Target {
  const Provider *prov;
  void *data;          /* the provider's own description of the target */
  const char *kind;    /* the probe type as written, for messages: "uretprobe" */
  unsigned caps;       /* PROBE_CAP_* */
  char *name;          /* canonical: "tracepoint:sched:sched_switch", "BEGIN" */
  Probe *probe;        /* source probe */
  int probe_index;     /* index of `name` in Compiled.probe_names (probe builtin) */
  bool helper;         /* serves another target (a watchpoint's setup uprobe):
                        * not counted in "Attaching N probes" */
  /* after cg: the program for program spec 0, the one -d dis shows */
  struct bpf_insn *insns;
  int ninsns;
  /* when the provider's code depends on the spec (Provider.code_per_spec):
   * one listing per spec, [0] being insns */
  struct bpf_insn **spec_insns;
  int *spec_ninsns;
  int nspecs;
  /* after load: the program, and which of the provider's program specs
   * the kernel took (tp_btf before raw_tp ...); while compiling, the spec
   * the code is generated for */
  int prog_fd;
  int load_attempt;
} Target;

typedef struct Compiled {
  Program *prog;
  ProgramTypes *types; /* prog->types: the program's BTF and type caches */
  bool owns_types;     /* sema_program made them: session_close frees them */
  Target **targets;
  int ntargets;
  MapInfo **maps;
  int nmaps;
  Site **sites;
  int nsites;
  char **probe_names;  /* for the `probe` builtin */
  int nprobe_names;
  int *probe_name_slots; /* hash of probe_names: index + 1, 0 empty (target.c) */
  int probe_name_cap;    /* slots, a power of two */
  /* values compiled into the programs as constants */
  const char *const *posparams;
  int nposparams;
  int cpid;
  int filter_pid;      /* -p */
  int helper_errors;   /* -k 1, -kk 2: failed helper calls reported */
  int ncpus;
  int possible_cpus;   /* per-CPU map slots */
  uint64_t start_ns;   /* CLOCK_MONOTONIC at start, for `elapsed` */
  bool probe_records;  /* probes (not just BEGIN/END) write ring-buffer records */
  bool probe_exit;     /* a probe (not BEGIN/END) may call exit(): records test .stop (cg.c) */
  bool ctf_records;    /* -f ctf: printf records carry u64 ts, pid_tgid, cpu
                          after their header (rt/ctfout.c) */
  struct SysDispatch *sysdisp; /* after load: the syscalls:* dispatcher, or NULL */
} Compiled;

/* Lost-event counters: the .drops map is one array value of u64 slots,
 * indexed by these: losses are totals, except a CTF trace's ring
 * buffer losses, per CPU id from DROP_RINGBUF_CPU0 (DROP_MAX_CPUS ids,
 * Linux's largest NR_CPUS, so that the program does not depend on the
 * machine).  runtime/drops.c reads them. */
enum Drop { DROP_RINGBUF = 0, DROP_MAP_FULL = 1, DROP_STACK = 2, DROP_RINGBUF_CPU0 = 3 };
#define DROP_MAX_CPUS 8192

typedef struct Options {
  const char *const *posparams;   /* $1..$N as strings */
  int nposparams;
  bool unsafe;
  bool verbose;
  bool dry_run;         /* --dry-run: ask the kernel nothing while compiling */
  bool quiet;           /* -q: no "Attaching N probes..." */
  int pid;              /* -p PID: trace only this process; exit with it */
  int helper_errors;    /* -k 1, -kk 2 */
  int cpid;             /* -c child pid (0 if none) */
  int child_pid;        /* same, for the event loop's waitpid */
  const char *cmd;      /* the -c command as written (watchpoint:FUNC+argN probes
                         * its program) */
  void (*start_child)(void); /* let the -c child exec (after attach) */
  /* One more fd for the event loop (etrace exporter's HTTP server): when
   * loop_ready is set and loop_fd is readable, loop_ready(loop_ctx) runs
   * between ring-buffer drains.  It must not block. */
  int loop_fd;
  void (*loop_ready)(void *ctx);
  void *loop_ctx;
} Options;

/* Resolve names, infer types across probes, expand attach points.
 * Returns NULL after printing located errors. */
Compiled *sema_program(Program *prog, const Options *opt);

/* The builtins (kstack, ksym, reg ...) are one table: src/builtins/builtin.h. */

/* ---------------------------------------------------------------- cg.c */

/* Generate BPF for every target.  Returns 0 or -1 after a located error. */
int cg_program(Compiled *c, const Options *opt);
/* Print one program as BPF assembly (for -d and the golden tests). */
void disasm_print(FILE *f, const struct bpf_insn *insns, int n, const Compiled *c);

/* ---------------------------------------------------------------- tracefs.c */

struct TpField {
  char *name;
  char *ctype;         /* as in the format file, e.g. "const char *", "pid_t" */
  int offset, size;
  bool is_signed;
  bool data_loc;       /* __data_loc char[] name */
  int array_len;       /* char comm[16] -> 16; 0 when not an array */
  bool user_ptr;       /* a user-space pointer (filename in syscalls) */
  int type_id;         /* kernel-function parameters: the BTF type */
};

struct TpFormat {
  char *sys, *event;
  int id;
  TpField *fields;     /* without the common_ fields */
  int nfields;
};

/* Make sure tracefs is mounted; returns its path, or NULL (errno set). */
const char *tracefs_root(bool verbose);
/* Read events/SYS/EVENT/format.  NULL when the event does not exist. */
TpFormat *tracefs_format(const char *sys, const char *event);
/* The same from the text of a format file (modified in place). */
TpFormat *tracefs_parse_format(const char *sys, const char *event, char *text);
/* The size and signedness of integer C type `ctype` ("int", "umode_t")
 * as the kernel's headers declare it, and whether bpftrace widens it to a
 * bigger field ("int" in a syscall's 8-byte slot: an s64); false for
 * other types (pointers, structs, typedefs it does not know). */
bool tracefs_c_int_type(const char *ctype, int *size, bool *is_signed, bool *widened);
/* Expand globs over available events; calls fn for each match (sorted).
 * Returns the number of matches. */
int tracefs_glob(const char *sys_glob, const char *event_glob,
                 void (*fn)(const char *sys, const char *event, void *arg), void *arg);

/* ---------------------------------------------------------------- privs.c */

/* 0 when this process may load and attach BPF programs (CAP_BPF and
 * CAP_PERFMON, or CAP_SYS_ADMIN); else -1 after an error naming the
 * missing capabilities. */
int privs_check(void);

/* ---------------------------------------------------------------- elfsym.c */

/* A function symbol of a user-space ELF file. */
typedef struct ElfSym {
  char *name;
  uint64_t vaddr, size;  /* link-time address and size */
  uint64_t offset;       /* file offset of vaddr: what a uprobe attaches to */
} ElfSym;

/* One USDT argument spec: "-4@%eax" (UA_REG), "4@$5" (UA_CONST),
 * "8@-8(%rbp)", "8@(%rdx,%rax,8)", "-8@sym(%rip)" (UA_MEM). */
typedef enum { UA_CONST, UA_REG, UA_MEM } UsdtArgKind;
typedef struct UsdtArg {
  UsdtArgKind kind;
  int size;              /* 1, 2, 4 or 8 bytes */
  bool is_signed;        /* a negative size in the spec */
  int reg;               /* UA_REG, UA_MEM base: offset in struct pt_regs, or -1 */
  int reg_size;          /* UA_REG: width the register name selects (%al: 1) */
  int index, scale;      /* UA_MEM: index register (pt_regs offset, or -1) */
  int64_t value;         /* UA_CONST: the value; UA_MEM: the displacement */
  bool ip_rel;           /* UA_MEM: address = probe's run-time pc + value */
  char *sym;             /* UA_MEM: symbolic displacement as written, or NULL */
} UsdtArg;
#define USDT_MAX_ARGS 12

struct UsdtProbe {
  char *provider, *name;
  uint64_t pc;           /* link-time address (prelink undone) */
  uint64_t offset;       /* file offset of pc */
  uint64_t sema_offset;  /* file offset of the semaphore; 0: none */
  char *args_text;
  int nargs;
  bool args_ok;          /* every spec parsed (else argN is an error) */
  UsdtArg args[USDT_MAX_ARGS];
};

typedef struct ElfSeg {
  uint64_t vaddr, filesz, offset;
} ElfSeg;

typedef struct ElfInfo {
  char *path;
  ElfSym *syms;          /* functions, sorted by name, one per name */
  int nsyms;
  UsdtProbe *usdt;       /* in note order */
  int nusdt;
  ElfSeg *segs;          /* PT_LOAD segments */
  int nsegs;
  int elf_type;          /* ET_EXEC, ET_DYN (PIE, shared library) */
  /* functions and data objects by address, one per address (the global
   * alias when there are several); their offset field is not set */
  ElfSym *by_addr;
  int nby_addr;
} ElfInfo;

/* Read the symbols and USDT notes of path.  NULL with *err set (a short
 * reason: "cannot open it", "not an ELF file", ...). */
ElfInfo *elfsym_open(const char *path, const char **err);
const ElfSym *elfsym_find(const ElfInfo *e, const char *name);
const ElfSym *elfsym_at(const ElfInfo *e, uint64_t vaddr); /* function holding vaddr */
bool elfsym_offset(const ElfInfo *e, uint64_t vaddr, uint64_t *off);
/* Parse one argument spec.  Returns 0, or -1 when it is not understood. */
int usdt_parse_arg(const char *spec, UsdtArg *a);

/* ---------------------------------------------------------------- providers/ */

/* `-l [GLOB]` and `-lv` (providers/list.c). */
/* -l [GLOB] (-p PID: the probes of that process's files, as bpftrace) */
int prov_list(FILE *f, const char *glob, bool verbose, int pid);
/* -l with a program: the probes it would attach, after expansion, in
 * program order (-lv: with their arguments). */
void prov_list_targets(FILE *f, const Compiled *c, bool verbose);

/* ---------------------------------------------------------------- child.c */

/* -c CMD: fork now, held until child_start(); child_kill() releases or
 * kills it and reaps it (after child_reaped(), it does nothing). */
pid_t child_spawn(const char *cmd);
/* Name the held child after its command (as exec will) instead of etrace:
 * `etrace record --profile kernel`, whose analyses name a thread by its
 * first recorded system call, the wait for child_start(). */
void child_name_early(bool on);
void child_start(void);
void child_reaped(void);
void child_kill(void);
/* -p PID: the pid, or -1 after an error (not a number, no such process). */
pid_t pid_arg(const char *arg);

/* ---------------------------------------------------------------- providers/syscalls.c */

/* The syscall number of "sys_enter_NAME" / "sys_exit_NAME", or -1. */
int systp_nr(const char *event, bool *is_exit);
void systp_close(Compiled *c);    /* the dispatcher programs and arrays */
/* The loaded dispatcher program of sys_enter (0) or sys_exit (1), or -1:
 * the kernel accounts run time to it, not to the targets it tail-calls. */
int systp_dispatcher_fd(const Compiled *c, int is_exit);

/* ---------------------------------------------------------------- load.c */

/* Create maps and load programs.  Returns 0, or -1 after an error (a
 * verifier rejection prints the log tail and the probe's location). */
int load_program(Compiled *c, const Options *opt);

/* ---------------------------------------------------------------- rt/ */

typedef enum { OUT_TEXT, OUT_JSON, OUT_CTF } OutFormat;

typedef struct Output {
  FILE *f;
  OutFormat format;
  const Compiled *c;   /* for map/site/probe names */
  struct CtfWriter *ctf; /* OUT_CTF: printf records go there; the rest to f */
  bool no_exit_maps;   /* etrace snoop: no exit-time map printing ("\n\n") */
} Output;

/* -f ctf -o DIR (rt/ctfout.c): each printf site is a CTF event class with
 * typed fields (integers, strings; other values as their text). */
int rt_ctf_open(Output *o, const char *dir);
void rt_ctf_printf(Output *o, int site, const void *rec, size_t size);
int rt_ctf_close(Output *o);
/* The periodic flush: drain(arg) hands over the events the rings hold, then
 * the open packets are closed.  -1 when the trace's relay is gone. */
int rt_ctf_tick(Output *o, void (*drain)(void *arg), void *arg);

/* Map printing: read the map from the kernel (merging per-CPU values),
 * sort like bpftrace, print.  top = 0 prints all; div divides values. */
int rt_print_map(Output *o, const MapInfo *m, int64_t top, int64_t div);
void rt_print_all_maps(Output *o);   /* at exit: every non-empty map */
void rt_print_maps_now(Output *o);   /* on SIGUSR1: the same, without the exit's blank lines */
int rt_check_env(void); /* bpftrace's runtime variables: -1 (reported) when bad */
bool rt_kernel_at_least(int major, int minor); /* the kernel code is made for (ETRACE_KERNEL_VERSION) */
int rt_clear_map(const MapInfo *m);
int rt_zero_map(const MapInfo *m);

/* Format a value of type t stored at data (for print(), map keys, %s). */
void rt_format_value(Buf *b, const Type *t, const void *data, OutFormat fmt);
void rt_format_key(Buf *b, const Type *t, const void *data);

/* printf: check a format against argument types at compile time
 * (returns NULL or an error message), and format a record at run time. */
const char *rt_printf_check(const char *fmt, Type **args, int nargs);
void rt_printf(Buf *b, const char *fmt, const Type *args, const void *data);

/* Folded stacks (rt/folded.c), the input of flame graphs: one line per
 * distinct call path of a count()/sum() map keyed by kstack and/or ustack
 * (and optionally comm, and other fields that are ignored):
 * "comm;root;...;leaf COUNT\n", frames by function name (no offsets, so
 * samples in one function merge), user frames then kernel frames, lines
 * sorted and merged; kernel_suffix (NULL: none; FLAME_KERNEL_SUFFIX for
 * flame graphs) is appended to kernel frames.  Appends to out; returns
 * the number of lines, or -errno (-EINVAL: not such a map).  Live
 * `etrace flamegraph` (src/flame_live.c) can feed each line to
 * flame_add_folded(). */
int rt_folded_stacks(const MapInfo *m, Buf *out, const char *kernel_suffix);

/* Attach, run BEGIN, the event loop until exit() / signal / child exit
 * (opt->loop_fd joins it), then detach, END and the maps
 * (runtime/session.h drives it).  Returns the process exit code. */
int rt_run(Compiled *c, const Options *opt, Output *o);

/* ---------------------------------------------------------------- sym/ */

/* Symbols for stacks, ksym(), usym(), kaddr() and uaddr().
 *
 * Kernel (sym/kallsyms.c): /proc/kallsyms, read the first time a kernel
 * symbol is needed, never for programs that print none.
 *
 * User (sym/usym.c): a pid's file mappings come from /proc/PID/maps and
 * each file's symbols from its ELF tables (elfsym.c), loaded once per file
 * and shared by every process mapping it.  A process may be gone by the
 * time its stacks print, so the maps are read while it lives: the BPF
 * program sends a REC_PID record the first time ustack or usym sees a pid
 * (a per-pid hash map remembers who was reported) and the event loop calls
 * sym_pid_seen() on it at once; -p PID is read at start.  See usym.c for
 * the details and the limits. */

/* Kernel: name and offset of addr (false: no symbol). */
bool sym_kernel(uint64_t addr, const char **name, uint64_t *off);
uint64_t sym_kernel_addr(const char *name);   /* 0: no such symbol */
/* User: name, offset and mapped file of addr in pid.  On false, *module is
 * still the mapped file when addr is in one (a file without symbols), else
 * NULL. */
bool sym_user(int pid, uint64_t addr, const char **name, uint64_t *off, const char **module);
void sym_pid_seen(int pid);                    /* read pid's maps now */
/* Where a uprobe hit in pid saw `path` loaded (run-time address = link-time
 * + bias): used for that file when pid's maps cannot be read. */
void sym_pid_bias(int pid, const char *path, uint64_t bias);
/* Where a uprobe, uretprobe or usdt target sits in its file (its
 * provider's user_site hook gives it). */
typedef struct UserSite {
  const char *path;
  uint64_t offset;       /* file offset of the probed instruction */
  bool is_return;        /* uretprobe: ip is the return address */
} UserSite;
/* The link-time address of a user target's probed instruction. */
bool sym_probe_vaddr(const UserSite *s, uint64_t *vaddr);
void sym_user_stats(int *procs, int *files, int *syms);  /* for -v and the bench */

/* uaddr("name") in a user target: a run-time address is value, or (relative)
 * the probe's instruction pointer + value in position-independent files.
 * Returns NULL or why it cannot be resolved. */
typedef struct SymUaddr {
  uint64_t value, size;
  bool relative;
} SymUaddr;
const char *sym_uaddr(const UserSite *site, const char *name, SymUaddr *out);

/* Stacks (sym/stack.c): the stack maps hold frames by stack id, one map
 * per frame count ("limit").  load.c registers each map's fd. */
void sym_stack_map_set(int limit, int fd);
/* The frames of stack id (up to limit), or -1 when there are none. */
int sym_stack_read(int limit, int32_t id, uint64_t *ips);
/* A stack as bpftrace prints it: "\n" then one line per frame ("    " x
 * indent/4 + "sym+off" in bpftrace mode, "\tADDR sym+off (module)" in perf
 * mode, "ADDR" in raw mode); "" for no stack.  pid: ustack's process. */
void sym_stack_text(Buf *b, const uint64_t *ips, int n, bool user, int pid, int mode, int indent);
/* ksym()/usym() text: the name, or 0x-hex when unknown ("0" for 0). */
void sym_ksym_text(Buf *b, uint64_t addr);
void sym_usym_text(Buf *b, uint64_t addr, int pid);

#endif
