/* fuzz_usdt.c - libFuzzer target: USDT argument specs ("-4@%eax",
 * "8@-8(%rbp)", "8@(%rdx,%rax,8)", "4@$5", "-8@sym(%rip)") through
 * usdt_parse_arg().  The input is split on blanks as the stapsdt note
 * reader splits a probe's argument string.  An accepted spec that the
 * code generator cannot use (a size other than 1/2/4/8, a register
 * offset outside struct pt_regs, a bad scale) aborts.  Every spec is
 * parsed as x86-64 and as arm64 writes them ("-4@x0", "8@[sp, 16]"). */
#include "etrace.h"
#include "arch/arch.h"

#include <stdlib.h>
#include <string.h>

static int PT_REGS_SIZE; /* x86-64 struct pt_regs: 168; arm64 user_pt_regs: 272 */

static void check_arg(const UsdtArg *a) {
  if (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8)
    abort();
  switch (a->kind) {
  case UA_CONST:
    break;
  case UA_REG:
    if (a->reg < 0 || a->reg + a->reg_size > PT_REGS_SIZE)
      abort();
    if (a->reg_size != 1 && a->reg_size != 2 && a->reg_size != 4 && a->reg_size != 8)
      abort();
    break;
  case UA_MEM:
    if (a->reg >= PT_REGS_SIZE || a->index >= PT_REGS_SIZE || a->reg < -1 || a->index < -1)
      abort();
    if (a->scale != 1 && a->scale != 2 && a->scale != 4 && a->scale != 8)
      abort();
    if (a->reg < 0 && a->index < 0 && !a->sym && !a->ip_rel)
      abort();
    break;
  default:
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0;
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0;
  char *save = NULL;
  for (char *spec = strtok_r(text, " \t", &save); spec; spec = strtok_r(NULL, " \t", &save)) {
    static const struct { const char *arch; int regs_size; } archs[] = {{"x86_64", 168}, {"arm64", 272}};
    for (int i = 0; i < 2; i++) {
      UsdtArg a;
      arch_select(archs[i].arch);
      PT_REGS_SIZE = archs[i].regs_size;
      if (usdt_parse_arg(spec, &a) == 0)
        check_arg(&a);
    }
  }
  arena_free_all();
  free(text);
  return 0;
}
