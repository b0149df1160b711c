#!/bin/sh
# The front-end and type-checker suites again, on the AddressSanitizer +
# UndefinedBehaviorSanitizer build (make etrace-asan).  Any sanitizer
# report changes the output or the exit status, so the case fails.
cd "$(dirname "$0")/../.."
export ETRACE=./etrace-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:exitcode=98:print_stacktrace=1
tests/frontend/run.sh | sed 's/^\(PASS\|FAIL\) /\1 asan\//'
tests/semantic/run.sh | sed 's/^\(PASS\|FAIL\) /\1 asan\//'
