#!/bin/sh
# Code-generation smoke tests.  Every tests/language/codegen/NAME.bt must
# be accepted by the kernel's verifier (etrace --verify, needs root): one
# case each, for every kind of program the code generator emits.  A few of
# them, one per program type and provider prologue, also keep a golden
# listing NAME.dis (etrace --dry-run -d dis), a second case.
# What the generated code computes is tested by value, not by listing, in
# tests/language/values: a better code generator rewrites only these few
# .dis files.  `run.sh --update` (make update-goldens) rewrites the .dis
# files that exist from the current compiler.
. "$(dirname "$0")/../../lib.sh"
ET=${ETRACE:-./etrace}
mkdir -p tests/out/codegen
update=; update_mode "$@" && update=1
plan $(( $(ls tests/language/codegen/*.bt | wc -l) + $(ls tests/language/codegen/*.dis | wc -l) ))
for bt in tests/language/codegen/*.bt; do
  name=$(basename "$bt" .bt)
  out=tests/out/codegen/$name.dis
  if [ -f "tests/language/codegen/$name.dis" ]; then
    # the listing for one kernel version, whatever the host runs (the code
    # differs before 6.4 and 6.6: runtime/env.c rt_kernel_at_least)
    ETRACE_KERNEL_VERSION=6.18 $ET --dry-run -d dis "$bt" > "$out" 2> tests/out/codegen/$name.err
    if [ -n "$update" ]; then cp "$out" "tests/language/codegen/$name.dis"; fi
    if diff -u "tests/language/codegen/$name.dis" "$out" > tests/out/codegen/$name.diff 2>&1; then
      echo "PASS codegen/$name"
    else
      echo "FAIL codegen/$name"; head -40 tests/out/codegen/$name.diff
    fi
  fi
  if $ET --verify "$bt" > /dev/null 2> tests/out/codegen/$name.verr; then
    echo "PASS verifier/$name"
  elif grep -q 'this kernel has no kprobes\|this kernel cannot run' tests/out/codegen/$name.verr; then
    # kernel-function probes on a kernel without kprobes/fentry: the
    # verifier check runs in the qemu-booted kernel (tests/env/qemu)
    echo "SKIP verifier/$name: not loadable on this kernel, verified in tests/env/qemu"
  else
    echo "FAIL verifier/$name"; tail -20 tests/out/codegen/$name.verr
  fi
done
