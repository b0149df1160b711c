# tests/record/lib.sh - what the record suites (ctf, lttng, relay,
# snapshot) share, sourced after tests/lib.sh by their run.sh:
#
#   . tests/record/lib.sh      (after tests/lib.sh, which moves to the root)
#
# Each suite takes the names of the cases to run as its arguments (all
# when none).  Sets ET, WL, OUT (tests/out/SUITE, created) and ONLY.
ET=./etrace
WL=tests/bin/workload
OUT=tests/out/$SUITE
export BABELTRACE_TERM_COLOR=NEVER
ONLY="$*" # the sourcing script's arguments

# want NAME: the case is to run
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# setup NAME: a fresh directory for the case; sets L (its logs) and D
# (a trace directory in it)
setup() {
  L=$OUT/$1
  rm -rf "$L"
  mkdir -p "$L"
  D=$L/trace
}

# events DIR: the number of events babeltrace2's counter sees (0 if none)
events() {
  babeltrace2 "$1" -c sink.utils.counter -p 'step=+0,hide-zero=yes' 2>/dev/null |
    awk '/Event message/ {n = $1} END {print n + 0}'
}

# valid DIR: babeltrace2 decodes the whole trace
valid() { babeltrace2 "$1" -o dummy >/dev/null 2>&1; }

# need_tools fail|skip TOOL...: every tool is installed, else a FAIL setup
# line (fail) or every case skipped (skip), and the suite ends
need_tools() {
  _how=$1; shift
  for _tool in "$@"; do
    command -v $_tool >/dev/null 2>&1 && continue
    if [ $_how = skip ]; then skip_rest "$_tool is not installed (scripts/deps.sh installs it)"; exit 0; fi
    fail setup "$_tool is not installed (scripts/deps.sh installs it)"
    exit 1
  done
}

# need_built FILE...: ./etrace and the test helpers are built, else a
# FAIL setup line and the suite ends; then makes OUT
need_built() {
  for _f in "$@"; do
    [ -x "$_f" ] && continue
    fail setup "build $* first (make check does)"
    exit 1
  done
  mkdir -p $OUT
}
