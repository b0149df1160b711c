#!/bin/sh
# Sustained recording of a syscall tracepoint: events/s written and events
# lost while one getppid loop runs on each CPU, for
#   - no tracer (the ceiling: how fast the loops call getppid),
#   - etrace record -o DIR syscalls:sys_enter_getppid (CTF, binary),
#   - bpftrace printf of the same event (pid, tid, nsecs) to a file (-o).
# Figures, not a pass/fail test.  Run as root from anywhere:
#   bench/record.sh            (BENCH_CALLS=N calls per CPU, default 3000000)
set -u
cd "$(dirname "$0")/.."
CALLS=${BENCH_CALLS:-3000000}
NCPU=$(nproc)
ET=./etrace
OUT=tests/out/bench-record
mkdir -p $OUT
cc -O2 -o $OUT/getppid bench/getppid.c || exit 1
G=$OUT/getppid
[ -x $ET ] || { echo "build ./etrace first (make)"; exit 1; }

now_ms() { date +%s%3N; }

# loops: one getppid loop of $CALLS calls pinned to each CPU; prints wall ms
loops() {
  t0=$(now_ms)
  i=0
  while [ $i -lt "$NCPU" ]; do taskset -c $i $G "$CALLS" > /dev/null & i=$((i + 1)); done
  wait
  echo $(( $(now_ms) - t0 ))
}

# cpu_ms PID: user+system CPU time of a process so far, in ms
cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' /proc/$1/stat 2>/dev/null || echo 0
}

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f", n * 1000 / ms; else print 0 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print 0 }'; }

total=$((CALLS * NCPU))
echo "== getppid loops: $NCPU x $CALLS calls, one per CPU"

ms=$(loops)
echo "no tracer:  $total calls in $ms ms = $(rate $total $ms) calls/s"

rm -rf $OUT/trace
$ET record -o $OUT/trace syscalls:sys_enter_getppid 2> $OUT/etrace.stderr &
rec=$!
sleep 0.5
ms=$(loops)
cpu=$(cpu_ms $rec)
kill -INT $rec
wait $rec
written=$(sed -n 's/^etrace: recorded \([0-9]*\) events (\([0-9.]*\) MB.*/\1/p' $OUT/etrace.stderr)
mb=$(sed -n 's/^etrace: recorded [0-9]* events (\([0-9.]*\) MB.*/\1/p' $OUT/etrace.stderr)
lost=$(sed -n 's/^etrace: lost \([0-9]*\) events.*/\1/p' $OUT/etrace.stderr)
lost=${lost:-0}
echo "etrace:     $written events written ($mb MB CTF), $lost lost ($(pct $lost $((written + lost)))%)," \
     "$(rate $written $ms) events/s over $ms ms; recorder CPU ${cpu} ms"
if command -v babeltrace2 > /dev/null 2>&1 && [ "${BENCH_VALIDATE:-0}" = 1 ]; then
  n=$(babeltrace2 $OUT/trace -c sink.utils.counter -p 'step=+0' | awk '/Event message/ {print $1}')
  echo "            babeltrace2 counts $n events"
fi
rm -rf $OUT/trace

# The LTTng kernel profile: every syscall entry and exit, sched, irq events
# (each getppid call is two events: syscall_entry_getppid, syscall_exit_getppid).
$ET record --profile kernel -o $OUT/trace 2> $OUT/etrace-kernel.stderr &
rec=$!
sleep 1.5
ms=$(loops)
cpu=$(cpu_ms $rec)
kill -INT $rec
wait $rec
written=$(sed -n 's/^etrace: recorded \([0-9]*\) events (\([0-9.]*\) MB.*/\1/p' $OUT/etrace-kernel.stderr)
mb=$(sed -n 's/^etrace: recorded [0-9]* events (\([0-9.]*\) MB.*/\1/p' $OUT/etrace-kernel.stderr)
lost=$(sed -n 's/^etrace: lost \([0-9]*\) events.*/\1/p' $OUT/etrace-kernel.stderr)
lost=${lost:-0}
echo "kernel:     $written events written ($mb MB CTF), $lost lost ($(pct $lost $((written + lost)))%)," \
     "$(rate $written $ms) events/s over $ms ms ($(rate $total $ms) getppid calls/s); recorder CPU ${cpu} ms"
rm -rf $OUT/trace

if command -v bpftrace > /dev/null 2>&1; then
  rm -f $OUT/bpftrace.txt
  bpftrace -o $OUT/bpftrace.txt \
    -e 'tracepoint:syscalls:sys_enter_getppid { printf("%d %d %llu\n", pid, tid, nsecs); }' \
    > /dev/null 2> $OUT/bpftrace.stderr &
  bt=$!
  i=0
  while ! grep -q Attaching $OUT/bpftrace.txt 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  sleep 0.5
  ms=$(loops)
  cpu=$(cpu_ms $bt)
  kill -INT $bt
  wait $bt
  lines=$(grep -c '^[0-9]* [0-9]* [0-9]*$' $OUT/bpftrace.txt)
  mb=$(du -m $OUT/bpftrace.txt | cut -f1)
  blost=$(sed -n 's/^Lost \([0-9]*\) events.*/\1/p' $OUT/bpftrace.txt | awk '{s += $1} END {print s + 0}')
  echo "bpftrace:   $lines events written (${mb} MB text), $blost reported lost" \
       "($(pct $blost $((lines + blost)))%), $(rate $lines $ms) events/s over $ms ms; tracer CPU ${cpu} ms"
  rm -f $OUT/bpftrace.txt
else
  echo "bpftrace:   not installed"
fi
