#!/bin/sh
# bpftrace's own runtime test cases (Debian's bpftrace source package,
# fetched and built at test time by prepare.sh) run against etrace with the
# semantics of bpftrace's test engine (runner.py says which).  The suite
# fails only on a change against expected-failures.txt: a case failing that
# is not listed, or a listed case that passes now.
#   CONFORMANCE_FILTER='suite.case*'  run only matching cases
#   CONFORMANCE_TRACER=/usr/bin/bpftrace  measure another tracer (no list)
#   CONFORMANCE_SET=newest   the newest bpftrace source Debian has instead
#                    of 0.17 (opt-in, not part of make check): measured
#                    against no list, its outcomes in record-newest.tsv
. "$(dirname "$0")/../lib.sh"
out=tests/out/conformance
mkdir -p $out
plog=$out/prepare.log
[ "${CONFORMANCE_SET:-0.17}" = newest ] && plog=$out/prepare-newest.log
if ! work=$(sh tests/conformance/prepare.sh 2> $plog); then
  plan 1
  fail prepare "cannot fetch or build bpftrace's runtime tests (see $plog)" $plog
  exit 1
fi
tracer=${CONFORMANCE_TRACER:-./etrace}
expected=tests/conformance/expected-failures.txt
[ -n "$CONFORMANCE_TRACER" ] && expected=/dev/null
record=$out/record.tsv log=$out/failures.log
if [ "${CONFORMANCE_SET:-0.17}" = newest ]; then
  expected=/dev/null record=$out/record-newest.tsv log=$out/failures-newest.log
fi
exec python3 tests/conformance/runner.py --tracer "$tracer" --tests "$work" \
  --expected $expected --filter "${CONFORMANCE_FILTER:-*}" \
  --record $record --log $log --jobs "${CONFORMANCE_JOBS:-2}"
