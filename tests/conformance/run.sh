#!/bin/sh
# bpftrace's own runtime test cases (Debian's bpftrace source package,
# fetched and built at test time by prepare.sh) run against etrace with the
# semantics of bpftrace's test engine (runner.py says which).  The suite
# fails only on a change against expected-failures.txt: a case failing that
# is not listed, or a listed case that passes now.
#   CONFORMANCE_FILTER='suite.case*'  run only matching cases
#   CONFORMANCE_TRACER=/usr/bin/bpftrace  measure another tracer (no list)
. "$(dirname "$0")/../lib.sh"
out=tests/out/conformance
mkdir -p $out
if ! work=$(sh tests/conformance/prepare.sh 2> $out/prepare.log); then
  plan 1
  fail prepare "cannot fetch or build bpftrace's runtime tests (see $out/prepare.log)" $out/prepare.log
  exit 1
fi
tracer=${CONFORMANCE_TRACER:-./etrace}
expected=tests/conformance/expected-failures.txt
[ -n "$CONFORMANCE_TRACER" ] && expected=/dev/null
exec python3 tests/conformance/runner.py --tracer "$tracer" --tests "$work" \
  --expected $expected --filter "${CONFORMANCE_FILTER:-*}" \
  --record $out/record.tsv --log $out/failures.log --jobs "${CONFORMANCE_JOBS:-2}"
