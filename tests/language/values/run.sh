#!/bin/bash
# Value tests for the code generator: each tests/language/values/NAME.bt is
# a program that prints values it computes (BEGIN, or a probe on a known
# workload), and NAME.out is its expected stdout, worked out by hand or
# checked against bpftrace (each .bt says which).  A better code generator
# changes no expected file; a wrong value fails the line that shows it.
#
#   tests/language/values/run.sh [NAME...]      run all programs, or those named
#   tests/language/values/run.sh --bpftrace [NAME...]
#                        run them under bpftrace instead and say, for each,
#                        whether its output equals NAME.out (a report, not
#                        a test: bpftrace 0.17 lacks some features and
#                        differs on a few semantics, as the .bt files note)
#
# Header comment lines of a .bt set how it runs:
#   // ARGS: WORDS   tracer options before the program file (shell words),
#                    e.g. -c "tests/bin/workload getppid 5"
#   // POS: WORDS    positional parameters after the program file
#   // EXIT: N       expected exit status (default 0)
#   // ENV: N=V...   environment of the tracer (shell words)
#
# Cases: one per non-blank line of NAME.out (NAME/LABEL, the label taken
# from the line: its first word, a map's name and key, or a histogram
# row under its map), compared with the same line of the output; and
# NAME/output: the exit status, and stdout byte for byte (blank lines,
# nothing extra).  Programs run with -q.
. "$(dirname "$0")/../../lib.sh"
dir=tests/language/values
ET=${ETRACE:-./etrace}
out=tests/out/values

# header KEY FILE: the value of a "// KEY: ..." header line
header() { sed -n "s|^// $1: *||p" "$2" | head -1; }

# run_prog TRACER NAME: runs NAME.bt, leaving $out/NAME.{stdout,stderr,status}
run_prog() {
  local tracer=$1 name=$2 bt=$dir/$2.bt args=() pos=() envs=()
  eval "args=($(header ARGS "$bt"))"
  eval "pos=($(header POS "$bt"))"
  eval "envs=($(header ENV "$bt"))"
  timeout -k 5 30 env "${envs[@]}" $tracer -q "${args[@]}" "$bt" "${pos[@]}" \
    > "$out/$name.stdout" 2> "$out/$name.stderr" < /dev/null
  echo $? > "$out/$name.status"
}

# labels FILE: one label per non-blank line of an expected output
labels() {
  awk '
    /^$/ { next }
    {
      if ($0 ~ /^@/) { l = $0; sub(/: .*$/, "", l); sub(/:$/, "", l); map = l }
      else if ($0 ~ /^[\[(]/) { l = $0; sub(/[\])].*$/, "", l); l = map ":" l substr($0, length(l) + 1, 1) }
      else if ($0 ~ /^[A-Za-z]/) { l = $1 }
      else l = "line-" NR
      gsub(/[^A-Za-z0-9_@.:,()\[\]+-]/, "", l)
      if (seen[l]++) l = l "#" seen[l]
      print l
    }' "$1"
}

if [ "${1:-}" = --bpftrace ]; then
  shift
  mkdir -p "$out/bpftrace"
  out=$out/bpftrace
  names=${*:-$(ls $dir/*.bt | sed 's|.*/||; s|\.bt$||')}
  for name in $names; do
    run_prog bpftrace "$name"
    if cmp -s "$dir/$name.out" "$out/$name.stdout"; then echo "AGREE $name"
    elif [ "$(cat "$out/$name.status")" != 0 ]; then
      echo "CANNOT $name: $(grep -v RLIMIT "$out/$name.stderr" | grep -m1 -i error)"
    else echo "DIFFER $name"; diff "$dir/$name.out" "$out/$name.stdout" | sed 's/^/    /'; fi
  done
  exit 0
fi

mkdir -p $out
if [ $# -gt 0 ]; then names=$*; else names=$(ls $dir/*.bt | sed 's|.*/||; s|\.bt$||'); fi
total=0
for name in $names; do
  [ -f "$dir/$name.out" ] && total=$((total + 1 + $(grep -c . "$dir/$name.out")))
done
plan $total
need_files "${ET%% *}" tests/bin/workload tests/bin/uprobe_target || exit 1

for name in $names; do
  if ! [ -f "$dir/$name.bt" ] || ! [ -f "$dir/$name.out" ]; then
    fail "$name/setup" "$dir/$name.bt or .out missing"; continue
  fi
  run_prog "$ET" "$name"
  want_status=$(header EXIT "$dir/$name.bt"); want_status=${want_status:-0}
  status=$(cat "$out/$name.status")
  # the line cases: expected line i against output line i (blank lines
  # kept, so a missing or extra line shifts and shows)
  mapfile -t want < "$dir/$name.out"
  mapfile -t have < "$out/$name.stdout"
  mapfile -t label < <(labels "$dir/$name.out")
  k=0
  for i in "${!want[@]}"; do
    [ -z "${want[$i]}" ] && continue
    if [ "${have[$i]-<no line $((i + 1))>}" = "${want[$i]}" ]; then pass "$name/${label[$k]}"
    else fail "$name/${label[$k]}" "line $((i + 1)): expected '${want[$i]}', got '${have[$i]-<none>}'"; fi
    k=$((k + 1))
  done
  if [ "$status" = "$want_status" ] && cmp -s "$dir/$name.out" "$out/$name.stdout"; then
    pass "$name/output"
  else
    fail "$name/output" "exit status $status (expected $want_status); diff expected actual:
$(diff "$dir/$name.out" "$out/$name.stdout" | head -20)" "$out/$name.stderr"
  fi
done
