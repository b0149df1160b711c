#!/bin/sh
# Fuzz the compiler (make fuzz).  Seeds: every program in the tests and
# tools.  FUZZ_SECONDS bounds the run (default 60; CI smoke: 20).  A crash
# leaves crash-* in tests/out/fuzz/ and fails; keep it as a regression
# case under tests/fuzz/regressions/ once fixed.
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
out=tests/out/fuzz
mkdir -p $out/corpus
find tests/frontend tests/semantic tests/codegen tools -name '*.bt' -exec cp {} $out/corpus/ \; 2>/dev/null
i=0
for f in tests/e2e/cases/*.case; do
  sed -n 's/^PROG: //p' "$f" > "$out/corpus/e2e_$i.bt"; i=$((i+1))
done
cp tests/fuzz/regressions/* $out/corpus/ 2>/dev/null
# regressions first: each must run clean
for r in tests/fuzz/regressions/*; do
  [ -f "$r" ] || continue
  if ./fuzz_compile "$r" > $out/reg.log 2>&1; then echo "PASS fuzz/regression/$(basename "$r")"
  else echo "FAIL fuzz/regression/$(basename "$r")"; tail -20 $out/reg.log; fi
done
./fuzz_compile -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=$out/ -print_final_stats=1 $out/corpus > $out/fuzz.log 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' $out/fuzz.log)
if [ $rc -eq 0 ]; then
  echo "PASS fuzz/compile ($runs inputs in ${secs}s, no crash)"
else
  echo "FAIL fuzz/compile"; grep -A30 'ERROR\|==ERROR\|deadly signal\|timeout' $out/fuzz.log | head -40
fi
