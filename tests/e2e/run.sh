#!/bin/bash
# End-to-end tests: real programs, a known workload, the live kernel.
#
#   tests/e2e/run.sh [NAME...]           run all cases, or those named
#   ETRACE=bpftrace tests/e2e/run.sh     the same cases against bpftrace
#   TOOL=bpftrace tests/e2e/run.sh       (same thing)
#   tests/e2e/run.sh --record NAME...    rewrite the EXPECT block of the named
#                                        cases from 3 runs of bpftrace, which
#                                        must agree (the case must have EXPECT)
#
# Prints "PASS name", "FAIL name" (with a diff) or "SKIP name (why)".
# Needs root, tests/bin/workload (`make tests/bin/workload`) and, by
# default, ./etrace.
#
# Case files: tests/e2e/cases/NAME.case.  A line that is exactly one of
# the keywords below followed by ':' starts a field; single-line fields
# take the rest of the line, block fields (PROG, EXPECT, EXPECT_RE,
# STDERR_RE) take every following line up to the next keyword line or
# the end of the file (text after a block keyword's ':' is its first
# line).  Lines before the first keyword are comments.
#
#   PROG:       the program (block), passed as `-e PROG`
#   ARGS:       extra tracer flags, shell words (e.g. -c "tests/bin/workload
#               getppid 5" or -f json); the command line is
#               TRACER -q ARGS -e PROG POS
#   POS:        positional parameters after the program, shell words
#   EXPECT:     stdout, exactly: each line of the block is one line of
#               output, blank lines included, so a block that ends in an
#               empty line expects output that ends in an empty line
#   EXPECT_RE:  stdout, line by line: as many lines as the block, line i
#               fully matching extended regex i
#   STDERR_RE:  each line is an extended regex (case-insensitive) that
#               must match some line of stderr
#   EXIT:       expected exit status (default 0); always checked
#   TIMEOUT:    seconds before the run is killed (default 20)
#   ENV:        VAR=value words exported for the run (e.g. BPFTRACE_STRLEN=16)
#   QUIET:      "no" drops the -q flag (to test the "Attaching N probes..."
#               banner, which -q suppresses)
#   PROG_FILE:  "yes" writes PROG to a file and passes its path instead of -e
#   COMPAT:     "etrace-only": newer syntax or etrace behaviour that bpftrace
#               0.17 lacks; skipped when the tracer is bpftrace
#
# Nothing is normalised: stdout is compared byte for byte (EXPECT) or line
# by line (EXPECT_RE).  Cases run with -q, so bpftrace's "Attaching N
# probes..." line never appears unless QUIET: no.  With -c the child is
# started only after the probes are attached, so the workload needs no
# delay; predicates such as /pid == cpid/ keep other processes out.
. "$(dirname "$0")/../lib.sh"

: "${ETRACE:=${TOOL:-./etrace}}"
cases=tests/e2e/cases
is_bpftrace() { [ "$(basename "${ETRACE%% *}")" = bpftrace ]; }
# Results go to tests/out/e2e/TOOL/NAME/{stdout,stderr,status,expected}.
out_for() { echo "tests/out/e2e/$(basename "${ETRACE%% *}")"; }

KEYWORDS='PROG|ARGS|POS|EXPECT|EXPECT_RE|STDERR_RE|EXIT|TIMEOUT|ENV|QUIET|PROG_FILE|COMPAT'

# parse FILE: sets F_<KEY> variables (blocks keep their newlines).
parse() {
  local line key="" re="^($KEYWORDS):(.*)$"
  for k in ${KEYWORDS//|/ }; do eval "F_$k=''; H_$k=''"; done
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ $re ]]; then
      key=${BASH_REMATCH[1]}
      local rest=${BASH_REMATCH[2]# }
      eval "H_$key=1"
      case $key in
        PROG|EXPECT|EXPECT_RE|STDERR_RE)
          if [ -n "$rest" ]; then printf -v "F_$key" '%s\n' "$rest"; else eval "F_$key=''"; fi ;;
        *) printf -v "F_$key" '%s' "$rest"; key="" ;;
      esac
    elif [ -n "$key" ]; then
      local cur; eval "cur=\$F_$key"
      printf -v "F_$key" '%s%s\n' "$cur" "$line"
    fi
  done < "$1"
}

# run_case NAME DIR: runs the tracer, leaving DIR/stdout, DIR/stderr, DIR/status
run_case() {
  local dir=$2 args=() pos=() env=() prog=(-e "$F_PROG")
  eval "args=($F_ARGS)"
  eval "pos=($F_POS)"
  eval "env=($F_ENV)"
  [ "$F_QUIET" = no ] || args=(-q "${args[@]}")
  if [ "$F_PROG_FILE" = yes ]; then
    printf '%s' "$F_PROG" > "$dir/prog.bt"
    prog=("$dir/prog.bt")
  fi
  env "${env[@]}" timeout -k 5 "${F_TIMEOUT:-20}" $ETRACE "${args[@]}" "${prog[@]}" "${pos[@]}" \
    > "$dir/stdout" 2> "$dir/stderr" < /dev/null
  echo $? > "$dir/status"
}

# check NAME DIR: compares a finished run with the case; prints problems.
check() {
  local dir=$2 status
  status=$(cat "$dir/status")
  if [ "$status" != "${F_EXIT:-0}" ]; then
    echo "exit status $status, expected ${F_EXIT:-0}"
    [ "$status" = 124 ] && echo "(timed out after ${F_TIMEOUT:-20} s)"
  fi
  if [ -n "$H_EXPECT" ]; then
    printf '%s' "$F_EXPECT" > "$dir/expected"
    if ! cmp -s "$dir/expected" "$dir/stdout"; then
      echo "stdout differs (--- expected, +++ actual):"
      diff -u "$dir/expected" "$dir/stdout" | tail -n +3 | head -40
    fi
  fi
  if [ -n "$H_EXPECT_RE" ]; then
    local i=0 want have line
    mapfile -t want <<< "${F_EXPECT_RE%$'\n'}"
    mapfile -t have < "$dir/stdout"
    [ -z "$F_EXPECT_RE" ] && want=()
    if [ ${#want[@]} != ${#have[@]} ]; then
      echo "stdout has ${#have[@]} lines, expected ${#want[@]}:"
      sed 's/^/    | /' "$dir/stdout" | head -40
    else
      for line in "${have[@]}"; do
        if ! [[ $line =~ ^(${want[$i]})$ ]]; then
          echo "stdout line $((i + 1)) does not match /${want[$i]}/: $line"
        fi
        i=$((i + 1))
      done
    fi
  fi
  if [ -n "$H_STDERR_RE" ]; then
    local re
    while IFS= read -r re; do
      [ -z "$re" ] && continue
      if ! grep -Eqi -- "$re" "$dir/stderr"; then
        echo "stderr does not match /$re/:"
        sed 's/^/    | /' "$dir/stderr" | head -20
      fi
    done <<< "$F_STDERR_RE"
  fi
}

# record NAME: replace the EXPECT block with bpftrace's output (3 runs).
record() {
  local file=$cases/$1.case dir=$(out_for)/$1
  parse "$file" || return 1
  if [ -z "$H_EXPECT" ]; then echo "SKIP $1 (no EXPECT block to record)"; return; fi
  if [ "$F_COMPAT" = etrace-only ]; then echo "SKIP $1 (etrace-only: expected output is hand-derived)"; return; fi
  mkdir -p "$dir"
  for i in 1 2 3; do
    run_case "$1" "$dir"
    cp "$dir/stdout" "$dir/stdout.$i"
    if [ "$(cat "$dir/status")" != "${F_EXIT:-0}" ]; then
      echo "FAIL $1 (record: exit status $(cat "$dir/status"))"
      sed 's/^/    | /' "$dir/stderr" | head
      return
    fi
  done
  if ! cmp -s "$dir/stdout.1" "$dir/stdout.2" || ! cmp -s "$dir/stdout.1" "$dir/stdout.3"; then
    echo "FAIL $1 (record: output differs between runs)"
    diff "$dir/stdout.1" "$dir/stdout.2" | head
    diff "$dir/stdout.1" "$dir/stdout.3" | head
    return
  fi
  # Keep everything up to and including the EXPECT: line, then the output;
  # EXPECT must be the last field of the file.
  local tmp=$dir/case.new
  awk '{ print } /^EXPECT:$/ { exit }' "$file" > "$tmp"
  cat "$dir/stdout.1" >> "$tmp"
  mv "$tmp" "$file"
  echo "RECORDED $1"
}

if [ "$1" = --record ]; then
  shift
  ETRACE=bpftrace
  for name in "$@"; do record "${name%.case}"; done
  exit 0
fi

if ! [ -x tests/bin/workload ]; then
  echo "FAIL e2e/setup (tests/bin/workload missing: run make tests/bin/workload)"
  exit 0
fi
if ! is_bpftrace && ! [ -x "${ETRACE%% *}" ] && ! command -v "${ETRACE%% *}" >/dev/null; then
  echo "FAIL e2e/setup ($ETRACE not built)"
  exit 0
fi

if [ $# -gt 0 ]; then
  files=()
  for name in "$@"; do files+=("$cases/${name%.case}.case"); done
else
  files=($cases/*.case)
fi
plan ${#files[@]}

for file in "${files[@]}"; do
  name=$(basename "$file" .case)
  if ! [ -f "$file" ]; then echo "FAIL e2e/$name (no such case)"; continue; fi
  parse "$file"
  if is_bpftrace && [ "$F_COMPAT" = etrace-only ]; then
    echo "SKIP e2e/$name (etrace-only)"
    continue
  fi
  dir=$(out_for)/$name
  rm -rf "$dir"; mkdir -p "$dir"
  run_case "$name" "$dir"
  problems=$(check "$name" "$dir")
  if [ -z "$problems" ]; then
    echo "PASS e2e/$name"
  else
    echo "FAIL e2e/$name"
    printf '%s\n' "$problems" | sed 's/^/    /'
  fi
done
