#!/bin/bash
# Exit latency: the time from SIGINT (or the end of the -c workload) to
# the tracer's exit, which detaching dominates.  For each program, the
# median of BENCH_RUNS runs, etrace and bpftrace 0.17 side by side where
# bpftrace can run it.  Figures, never pass/fail.
#   bench/detach.sh   (root, from the repository root; BENCH_RUNS=N,
#                      ETRACE=path to compare another build,
#                      BENCH_BPFTRACE=0 to leave bpftrace out)
# etrace leaves the release of tracepoint and uprobe perf events to a
# background process (etrace-detach): each run waits for the previous
# run's to finish, so it does not slow the next attach.
set -u
cd "$(dirname "$0")/.."
N=${BENCH_RUNS:-3}
ET=${ETRACE:-./etrace}
BT=bpftrace
if [ "${BENCH_BPFTRACE:-1}" = 0 ] || ! command -v $BT >/dev/null 2>&1; then BT=; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# until no background release is left (found by its name: waiting only)
settle() {
  for i in $(seq 600); do
    grep -qx etrace-detach /proc/[0-9]*/comm 2>/dev/null || return 0
    sleep 0.1
  done
}

# sigint_ms TRACER PROGRAM: attach, let it run 0.5 s, SIGINT, ms to exit
# ("Attaching N probes" is kept in $out/probes)
sigint_ms() {
  settle
  "$1" -e "$2" > "$out/o" 2>&1 &
  local pid=$! i
  for i in $(seq 1200); do grep -q '^Attaching' "$out/o" && break; sleep 0.05; done
  grep -o '^Attaching [0-9]* probes' "$out/o" > "$out/probes"
  sleep 0.5
  local t0=$(now_ms)
  kill -INT $pid
  wait $pid
  echo $(( $(now_ms) - t0 ))
}

# record_ms: `etrace record --profile kernel -c CMD`, ms from CMD's end
# (it writes the time it ends) to etrace's exit
record_ms() {
  settle
  rm -rf "$out/trace"
  "$ET" record --profile kernel -q -o "$out/trace" -c "sh -c 'date +%s%N > $out/end'" 2>/dev/null
  local t1=$(now_ms)
  echo $(( t1 - $(cat "$out/end") / 1000000 ))
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
runs() { # runs N COMMAND...: the median of N runs
  local n=$1 i; shift
  for i in $(seq "$n"); do "$@"; done | median
}

row() { # row LABEL PROGRAM [BPFTRACE_RUNS]
  local e=$(runs "$N" sigint_ms "$ET" "$2")
  local probes=$(cut -d' ' -f2 "$out/probes") b=-
  [ -n "$BT" ] && b=$(runs "${3:-$N}" sigint_ms $BT "$2")
  printf '%-34s %6s %12s %12s\n' "$1" "${probes:-?}" "$e" "$b"
}

tps=$(printf 'tracepoint:sched:sched_%s,' switch wakeup wakeup_new process_exit process_fork \
  process_exec waking stat_runtime migrate_task process_free)
echo "== exit latency in ms (median of $N; bpftrace on 350 tracepoints: 1 run)"
printf '%-34s %6s %12s %12s\n' program probes etrace bpftrace
row "tracepoint:syscalls:sys_enter_*" 'tracepoint:syscalls:sys_enter_* { @[probe] = count(); }' 1
row "10 sched tracepoints" "${tps%,} { @[probe] = count(); }"
row "uprobe:/usr/bin/bash:set_*" 'uprobe:/usr/bin/bash:set_* { @[probe] = count(); }'
printf '%-34s %6s %12s %12s\n' "record --profile kernel -c CMD" - "$(runs "$N" record_ms)" -
settle
