#!/bin/sh
# Golden code-generation tests: each tests/language/codegen/NAME.bt compiles to
# exactly the BPF listing in NAME.dis (etrace --dry-run -d dis), and the
# kernel's verifier accepts it (etrace --verify, needs root).
# `run.sh --update` (make update-goldens) rewrites the .dis files from the
# current compiler.  Two cases per program: the listing and the verifier.
. "$(dirname "$0")/../../lib.sh"
ET=${ETRACE:-./etrace}
mkdir -p tests/out/codegen
update=; update_mode "$@" && update=1
plan $(( 2 * $(ls tests/language/codegen/*.bt | wc -l) ))
for bt in tests/language/codegen/*.bt; do
  name=$(basename "$bt" .bt)
  out=tests/out/codegen/$name.dis
  $ET --dry-run -d dis "$bt" > "$out" 2> tests/out/codegen/$name.err
  if [ -n "$update" ]; then cp "$out" "tests/language/codegen/$name.dis"; fi
  if diff -u "tests/language/codegen/$name.dis" "$out" > tests/out/codegen/$name.diff 2>&1; then
    echo "PASS codegen/$name"
  else
    echo "FAIL codegen/$name"; head -40 tests/out/codegen/$name.diff
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
