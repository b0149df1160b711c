#!/bin/sh
# Run every test suite (tests/*/run.sh and tests/*/*/run.sh), or the ones
# named: tests/run-all.sh language/frontend cli.  Each suite
# prints PASS / FAIL / SKIP lines and declares its case count with a PLAN
# line (tests/lib.sh); this script shows everything but the PASS lines.
#
# A suite fails (a FAIL line of its own) when it
#   - exits with a non-zero status without having printed a FAIL line,
#   - declares no PLAN, or
#   - reports a different number of cases than it planned (it died early,
#     or a case vanished without a SKIP line).
# SKIP-REST (tests/lib.sh skip_rest) counts the cases not yet reported as
# skipped.
#
# Closing line: "N passed, N failed, N skipped (N planned)".  Exit status 1
# if anything failed.  Golden files are never rewritten here: that is
# `make update-goldens`.
cd "$(dirname "$0")/.." || exit 1
out=tests/out
# Nothing inherited chooses the binary under test or rewrites expected files.
unset ETRACE TOOL UPDATE
export FUZZ_SECONDS=${FUZZ_SECONDS:-12}  # per fuzz target: 4 targets, under a minute
mkdir -p $out
: > $out/results.txt
tp=0 tf=0 ts=0 tplan=0
if [ $# -gt 0 ]; then
  suites=$(for n in "$@"; do echo "tests/${n%/}/run.sh"; done)
else
  suites=$(ls tests/*/run.sh tests/*/*/run.sh)
fi
for suite in $suites; do
  name=${suite#tests/}; name=${name%/run.sh}
  if ! [ -x "$suite" ]; then
    echo "FAIL $name: no executable $suite"; tf=$((tf + 1)); continue
  fi
  log=$out/suite-$(echo "$name" | tr / -).log
  echo "== $name"
  start=$(date +%s)
  { "$suite" < /dev/null 2>&1; echo "EXIT-STATUS $?"; } | tee "$log.tmp" |
    grep -v '^PASS \|^PLAN \|^EXIT-STATUS '
  grep -v '^EXIT-STATUS ' "$log.tmp" > "$log"
  rc=$(sed -n 's/^EXIT-STATUS //p' "$log.tmp"); rm -f "$log.tmp"
  p=$(grep -c '^PASS ' "$log") f=$(grep -c '^FAIL ' "$log") s=$(grep -c '^SKIP ' "$log")
  plan=$(awk '/^PLAN [0-9]+$/ { n += $2; seen = 1 } END { print seen ? n : "" }' "$log")
  extra=""
  if [ -z "$plan" ]; then
    extra="FAIL $name/case-count: the suite declared no PLAN"
  else
    if grep -q '^SKIP-REST ' "$log" && [ $((p + f + s)) -lt "$plan" ]; then
      s=$((plan - p - f))
    fi
    if [ $((p + f + s)) -ne "$plan" ]; then
      extra="FAIL $name/case-count: $((p + f + s)) cases reported, $plan planned"
    fi
  fi
  if [ "$rc" != 0 ] && [ "$f" -eq 0 ]; then
    extra="${extra:+$extra
}FAIL $name/exit-status: the suite exited with status $rc"
  fi
  if [ -n "$extra" ]; then
    echo "$extra"; echo "$extra" >> "$log"
    f=$((f + $(printf '%s\n' "$extra" | grep -c '^FAIL ')))
  fi
  echo "   $name: $p passed, $f failed, $s skipped of ${plan:-?} ($(( $(date +%s) - start )) s)"
  cat "$log" >> $out/results.txt
  tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s)) tplan=$((tplan + ${plan:-0}))
done
echo "$tp passed, $tf failed, $ts skipped ($tplan planned)"
[ "$tf" -eq 0 ] && [ "$tp" -gt 0 ]
