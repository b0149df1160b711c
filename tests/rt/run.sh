#!/bin/sh
# Unit tests for src/runtime (map printing, hist/lhist, printf, values, JSON).
# Builds tests/out/rt/rt_test from the rt sources and the harness, runs
# every case and diffs it with tests/rt/expected/NAME.txt (recorded from
# bpftrace 0.17 by record.sh, or written by hand for MANUAL cases).
# Creates real BPF maps: run as root.  Prints PASS/FAIL per case.
cd "$(dirname "$0")/../.."
out=tests/out/rt
mkdir -p $out
CC=${CC:-cc}
RT_SRCS="src/runtime/format.c src/runtime/printf.c src/runtime/hist.c src/runtime/maps.c src/runtime/mapread.c"
FLAGS="-std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Isrc"

# The rt sources must compile without a single warning.
if $CC $FLAGS -Werror -fsyntax-only $RT_SRCS 2>$out/warnings.txt; then
  echo "PASS rt_no_warnings"
else
  echo "FAIL rt_no_warnings"; cat $out/warnings.txt
fi

if ! $CC $FLAGS -g -Itests/rt -o $out/rt_test tests/rt/harness.c tests/rt/cases_*.c \
    $RT_SRCS src/runtime/btfprint.c src/sema/btf.c src/base/util.c src/front/diag.c src/sema/types.c src/symbols/*.c src/arch/*.c -lbpf -lelf -lz 2>$out/build.txt; then
  echo "FAIL rt_build"; cat $out/build.txt
  exit 0
fi
echo "PASS rt_build"

tab=$(printf '\t')
$out/rt_test --list > $out/cases.txt
while IFS=$tab read -r name mode origin prog; do
  want=tests/rt/expected/$name.txt
  got=$out/$name.out
  if [ ! -f "$want" ]; then
    echo "FAIL $name (no $want)"
    continue
  fi
  $out/rt_test "$name" > "$got" 2>$out/$name.err
  if cmp -s "$want" "$got"; then
    echo "PASS $name"
  else
    echo "FAIL $name"
    diff -u "$want" "$got" | head -40
    cat $out/$name.err
  fi
done < $out/cases.txt
