/* fuzz_tracefs.c - libFuzzer target: the text of a tracepoint format file
 * through tracefs_parse_format().  Besides crashes and sanitizer reports,
 * a parsed field the code generator could not use safely (an empty name
 * or type, a negative offset, size or array length, an array whose
 * elements have no size) is a bug: abort() so libFuzzer keeps the input. */
#include "etrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_field(const TpField *f) {
  if (!f->name || !*f->name || !f->ctype || !*f->ctype)
    abort();
  if (f->offset < 0 || f->size < 0 || f->array_len < 0)
    abort();
  if (f->array_len > 0 && f->size / f->array_len == 0 && !f->data_loc)
    abort();
  for (const char *p = f->name; *p; p++)
    if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9')))
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536)
    return 0;
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0;
  TpFormat *fmt = tracefs_parse_format("syscalls", "sys_enter_fuzz", text);
  if (fmt) {
    if (fmt->id < 0 || fmt->nfields < 0 || (fmt->nfields && !fmt->fields))
      abort();
    for (int i = 0; i < fmt->nfields; i++)
      check_field(&fmt->fields[i]);
  }
  arena_free_all();
  free(text);
  return 0;
}
