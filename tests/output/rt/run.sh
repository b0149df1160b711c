#!/bin/sh
# Unit tests for src/runtime (map printing, hist/lhist, printf, values, JSON).
# Builds tests/out/rt/rt_test from the rt sources and the harness, runs
# every case and diffs it with tests/output/rt/expected/NAME.txt (recorded from
# bpftrace 0.17 by record.sh, or written by hand for MANUAL cases).
# Creates real BPF maps: run as root.  Prints PASS/FAIL per case.
. "$(dirname "$0")/../../lib.sh"
out=tests/out/rt
mkdir -p $out
plan 2  # no_warnings, build; the cases are planned once rt_test lists them
CC=${CC:-cc}
RT_SRCS="src/runtime/format.c src/runtime/printf.c src/runtime/hist.c src/runtime/maps.c src/runtime/mapread.c"
FLAGS="-std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Isrc -Ibuild/gen"

# The rt sources must compile without a single warning.
if $CC $FLAGS -Werror -fsyntax-only $RT_SRCS 2>$out/warnings.txt; then
  pass no_warnings
else
  fail no_warnings; cat $out/warnings.txt
fi

if ! $CC $FLAGS -g -Itests/output/rt -o $out/rt_test tests/output/rt/harness.c tests/output/rt/cases_*.c \
    $RT_SRCS src/runtime/btfprint.c src/sema/btf.c src/sema/btfindex.c src/base/util.c src/front/diag.c src/sema/types.c src/symbols/*.c src/arch/*.c -lbpf -lelf -lz 2>$out/build.txt; then
  fail build; cat $out/build.txt
  exit 0
fi
pass build

tab=$(printf '\t')
$out/rt_test --list > $out/cases.txt
plan $(wc -l < $out/cases.txt)
while IFS=$tab read -r name mode origin prog; do
  want=tests/output/rt/expected/$name.txt
  got=$out/$name.out
  if [ ! -f "$want" ]; then
    fail "$name" "no $want"
    continue
  fi
  $out/rt_test "$name" > "$got" 2>$out/$name.err
  if cmp -s "$want" "$got"; then
    pass "$name"
  else
    fail "$name"
    diff -u "$want" "$got" | head -40
    cat $out/$name.err
  fi
done < $out/cases.txt
