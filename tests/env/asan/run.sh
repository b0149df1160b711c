#!/bin/sh
# Suites again on the AddressSanitizer + UndefinedBehaviorSanitizer build
# (make etrace-asan), LeakSanitizer on: the front end and type checker
# (frontend, semantic), then the runtime path on the live kernel - loading,
# attaching, the event loop, printf and map printing, -c/-p, signals and
# drop reporting - through the whole e2e suite and the CLI fault suite.
#
# A sanitizer report changes the exit status (ASan/LSan 99, UBSan 98),
# which every case checks; reports are also written under
# tests/out/asan/ (log_path), and any report file at the end fails
# asan/no-sanitizer-reports, so a report from a run whose status a case
# does not look at is caught too.
. "$(dirname "$0")/../../lib.sh"
logs=$PWD/tests/out/asan
rm -rf "$logs"; mkdir -p "$logs"
export ETRACE=./etrace-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99:log_path=$logs/asan
export UBSAN_OPTIONS=halt_on_error=1:exitcode=98:print_stacktrace=1:log_path=$logs/ubsan
plan 1  # no-sanitizer-reports; the suites below declare their own
need_files ./etrace-asan || exit 1
for suite in language/frontend language/semantic e2e cli; do
  tests/$suite/run.sh | sed 's/^\(PASS\|FAIL\|SKIP\) /\1 asan\//'
done
reports=$(ls "$logs" | grep -E '^(asan|ubsan)\.' | head -5)
if [ -z "$reports" ]; then
  echo "PASS asan/no-sanitizer-reports"
else
  echo "FAIL asan/no-sanitizer-reports"
  for r in $reports; do head -30 "$logs/$r" | sed 's/^/    /'; done
fi
