#!/bin/sh
# Front-end tests (no privileges needed).  Prints "PASS name" or
# "FAIL name" (plus a diff) for each case and never stops early.
#
#   ast/NAME.bt   program file; stdout of `etrace -d ast --dry-run FILE`
#                 must equal ast/NAME.ast
#   ast/NAME.e    one-liner; same, run as `etrace -d ast --dry-run -e PROG`
#   errors/NAME.bt  malformed program; stderr must equal errors/NAME.err
#                 exactly and the exit status must be 1
#
# ETRACE selects the binary (default ./etrace; CI also runs ./etrace-asan).
# `run.sh --update` (make update-goldens) rewrites the expected files from
# the current output instead of comparing (review the diff before
# committing); nothing in the environment does.
. "$(dirname "$0")/../../lib.sh"
ETRACE=${ETRACE:-./etrace}
dir=tests/language/frontend
make_tmp || exit 1
tmp=$TMPD
update=; update_mode "$@" && update=1
plan $(ls "$dir"/ast/*.bt "$dir"/ast/*.e "$dir"/errors/*.bt 2>/dev/null | wc -l)

# check NAME EXPECTED ACTUAL [STATUS-NOTE]
failed=0
check() {
  [ -n "$update" ] && [ -z "$4" ] && cp "$3" "$2"
  if [ -z "$4" ] && cmp -s "$2" "$3"; then
    echo "PASS $SUITE/$1"
  else
    echo "FAIL $SUITE/$1${4:+ ($4)}"
    diff -u "$2" "$3" | sed -n '3,40p'
    failed=1
  fi
}

# AST dumps.  Only stdout is compared: the dump is printed right after
# parsing, and later phases may still reject these programs.
for src in "$dir"/ast/*.bt "$dir"/ast/*.e; do
  [ -f "$src" ] || continue
  base=${src%.*}
  name=ast/$(basename "$base")
  case $src in
  *.e) "$ETRACE" -d ast --dry-run -e "$(cat "$src")" >"$tmp/out" 2>"$tmp/err" ;;
  *)   "$ETRACE" -d ast --dry-run "$src" >"$tmp/out" 2>"$tmp/err" ;;
  esac
  status=$?
  note=
  [ $status -gt 1 ] && note="exit status $status"
  check "$name" "$base.ast" "$tmp/out" "$note"
  [ -s "$tmp/out" ] || sed -n '1,5p' "$tmp/err"
done

# Located errors: exact stderr text and exit status 1.
for src in "$dir"/errors/*.bt; do
  [ -f "$src" ] || continue
  base=${src%.bt}
  name=errors/$(basename "$base")
  "$ETRACE" -d ast --dry-run "$src" >"$tmp/out" 2>"$tmp/err"
  status=$?
  note=
  [ $status -ne 1 ] && note="exit status $status, expected 1"
  check "$name" "$base.err" "$tmp/err" "$note"
done
exit $failed
