#!/bin/sh
# Ill-typed and unresolvable programs: each tests/language/semantic/NAME.bt must
# fail with exactly the located error in NAME.err and exit status 1
# (etrace --dry-run: the front end and the type checker, nothing loaded).
# `run.sh --update` (make update-goldens) rewrites the .err files.  ETRACE=./etrace-asan runs it under ASan.
. "$(dirname "$0")/../../lib.sh"
ET=${ETRACE:-./etrace}
mkdir -p tests/out/semantic
update=; update_mode "$@" && update=1
plan $(ls tests/language/semantic/*.bt | wc -l)
for bt in tests/language/semantic/*.bt; do
  name=$(basename "$bt" .bt)
  out=tests/out/semantic/$name.err
  $ET --dry-run "$bt" > /dev/null 2> "$out"
  rc=$?
  [ -n "$update" ] && cp "$out" "tests/language/semantic/$name.err"
  if [ $rc -ne 1 ]; then
    echo "FAIL semantic/$name (exit status $rc, expected 1)"; cat "$out"
  elif ! diff -u "tests/language/semantic/$name.err" "$out" > "$out.diff"; then
    echo "FAIL semantic/$name"; cat "$out.diff"
  else
    echo "PASS semantic/$name"
  fi
done
