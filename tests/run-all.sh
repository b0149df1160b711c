#!/bin/sh
# Run every test suite; each prints "PASS name" / "FAIL name" lines.
# Closing line: "N passed, N failed".  Exit status 1 if anything failed.
cd "$(dirname "$0")/.."
out=tests/out
export FUZZ_SECONDS=${FUZZ_SECONDS:-12}  # per fuzz target: 4 targets, under a minute
mkdir -p $out
: > $out/results.txt
for suite in tests/*/run.sh tests/*/*/run.sh; do
  [ -x "$suite" ] || continue
  name=$(basename "$(dirname "$suite")")
  echo "== $name"
  "$suite" 2>&1 | tee -a $out/results.txt | grep -v '^PASS '
done
pass=$(grep -c '^PASS ' $out/results.txt)
fail=$(grep -c '^FAIL ' $out/results.txt)
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
