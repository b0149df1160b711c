# tests/lib.sh - sourced by every suite's run.sh (sh or bash):
#
#   . "$(dirname "$0")/../lib.sh"        (tests/SUITE/run.sh)
#   . "$(dirname "$0")/../../lib.sh"     (tests/GROUP/SUITE/run.sh)
#
# It moves to the repository root (every path in a suite is relative to
# it) and sets SUITE (the suite's folder name, e.g. "frontend").
#
# Result lines, one per case, read by tests/run-all.sh:
#   PASS SUITE/NAME
#   FAIL SUITE/NAME: WHY      (or indented detail lines below it)
#   SKIP SUITE/NAME: WHY
#   PLAN N                    the number of cases the suite has (plan N)
#   SKIP-REST SUITE: WHY      every case not yet reported is skipped
# run-all.sh checks that PASS + FAIL + SKIP equals the PLAN total and that
# the suite exited with status 0: a suite that dies early is a FAIL.

_d=$(cd "$(dirname "$0")" && pwd)
while [ "$_d" != / ] && ! [ -f "$_d/tests/lib.sh" ]; do _d=$(dirname "$_d"); done
cd "$_d" || exit 1
ROOT=$_d
SUITE=$(basename "$(dirname "$0")")
unset _d

# pass NAME / fail NAME [WHY] [FILE] / skip NAME WHY: one result line,
# the name qualified by the suite ("PASS btf/task_fields").  A one-line
# WHY follows the name; a longer one (a diff) is indented below it, and
# so are the first 30 lines of FILE.
pass() { echo "PASS $SUITE/$1"; }
fail() {
  case $2 in
  *"
"*) echo "FAIL $SUITE/$1"; printf '%s\n' "$2" | sed 's/^/    /' ;;
  "") echo "FAIL $SUITE/$1" ;;
  *)  echo "FAIL $SUITE/$1: $2" ;;
  esac
  if [ -n "$3" ] && [ -f "$3" ]; then sed 's/^/    | /' "$3" | head -30; fi
  return 0
}
skip() { echo "SKIP $SUITE/$1: $2"; }

# same NAME EXPECTED ACTUAL: pass when the texts are equal, else fail
# with their diff
same() {
  if [ "$2" = "$3" ]; then pass "$1"; return; fi
  _a=$(mktemp) _b=$(mktemp)
  printf '%s\n' "$2" > "$_a"; printf '%s\n' "$3" > "$_b"
  fail "$1" "$(diff "$_a" "$_b")
"
  rm -f "$_a" "$_b"
}

# plan N: the suite has N cases (run-all.sh checks the count).
plan() { echo "PLAN $1"; }

# skip_rest WHY: the remaining cases cannot run here (a tool is missing);
# run-all.sh counts every case not yet reported as skipped.
skip_rest() { echo "SKIP-REST $SUITE: $1"; }

# have CMD: the command is installed
have() { command -v "$1" > /dev/null 2>&1; }

# is_root: effective uid 0
is_root() { [ "$(id -u)" = 0 ]; }

# need_files FILE...: prints a FAIL setup line and returns 1 when a
# build product is missing (the caller exits: the case count then fails).
need_files() {
  for _f in "$@"; do
    if ! [ -e "$_f" ]; then
      echo "FAIL $SUITE/setup: $_f missing (make check builds it)"
      return 1
    fi
  done
}

# make_tmp: TMPD is a fresh directory, removed when the suite exits
make_tmp() {
  TMPD=$(mktemp -d "${TMPDIR:-/tmp}/etrace-$SUITE.XXXXXX") || return 1
  trap 'rm -rf "$TMPD"' EXIT
  trap 'exit 130' INT TERM
}

# outdir: tests/out/SUITE, emptied (kept after the run for reading)
outdir() {
  rm -rf "tests/out/$SUITE"
  mkdir -p "tests/out/$SUITE"
  echo "tests/out/$SUITE"
}

# update_mode ARGS...: true when the suite was asked to rewrite its golden
# files (--update); only an explicit argument does that, never the
# environment.
update_mode() { [ "${1:-}" = --update ]; }
