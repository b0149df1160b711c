#!/bin/sh
# Cost of watchpoint:FUNCTION+argN per call of the function: every call
# stops the process (SIGSTOP from the setup uprobe) until etrace has read
# the address and sent SIGCONT; asyncwatchpoint does not stop it; a plain
# uprobe for comparison; bpftrace 0.17 when installed.  The per-call
# figure is (T(K calls) - T(1000 calls)) / (K - 1000), so start-up and
# exit cancel out.  Figures, never pass/fail.
#   bench/watchpoint.sh    (root, from the repository root; BENCH_RUNS=N, BENCH_CALLS=K)
set -u
cd "$(dirname "$0")/.."
N=${BENCH_RUNS:-5}
K=${BENCH_CALLS:-20000}
ET=./etrace
T=tests/bin/perf_target
make -s $T || exit 1
mkdir -p tests/out
cc -O2 -o tests/out/measure bench/measure.c || exit 1
M=tests/out/measure
median() {
  sed "s/^/ /" | sed -n "s/.* $1=\([-0-9.]*\).*/\1/p" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'
}
wall() { # wall TRACER PROGRAM CALLS: median wall ms of the whole run
  i=0
  while [ $i -lt "$N" ]; do "$M" -- "$1" -q -e "$2" -c "$T watcharg 1 $3" 2>/dev/null; i=$((i+1)); done |
    median wall_ms
}
show() { # show LABEL TRACER PROGRAM
  small=$(wall "$2" "$3" 1000); big=$(wall "$2" "$3" "$K")
  echo "$1: $big ms for $K calls, $(awk -v a="$small" -v b="$big" -v k="$K" \
    'BEGIN { printf "%.1f", (b - a) * 1000 / (k - 1000) }') us per call"
}
echo "== bump(1, &cell) called $K times under each program (median of $N)"
show "etrace uprobe only       " $ET "uprobe:$T:bump { @ = count(); }"
show "etrace asyncwatchpoint   " $ET 'aw:bump+arg1:8:w { @ = count(); }'
show "etrace watchpoint (stops)" $ET 'watchpoint:bump+arg1:8:w { @ = count(); }'
if command -v bpftrace >/dev/null 2>&1; then
  show "bpftrace watchpoint      " bpftrace 'watchpoint:bump+arg1:8:w { @ = count(); }'
fi
