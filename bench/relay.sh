#!/bin/sh
# Streaming to lttng-relayd, and the flight recorder: events/s recorded,
# events lost and the recorder's CPU time per event while one getppid loop
# runs on each CPU, for
#   - no tracer (the ceiling: how fast the loops call getppid),
#   - etrace record -o DIR (local CTF files),
#   - etrace record --snapshot 4M -o DIR (packets kept in memory; one
#     snapshot written at the end by SIGUSR1),
#   - etrace record --relay to an lttng-relayd on 127.0.0.1 (own ports;
#     --live-timer 0.1: a session ends with one live period for viewers),
# then the relay's trace is counted with babeltrace2.  Figures, not a
# pass/fail test.  Run as root from anywhere:
#   bench/relay.sh            (BENCH_CALLS=N calls per CPU, default 2000000)
set -u
cd "$(dirname "$0")/.."
CALLS=${BENCH_CALLS:-2000000}
NCPU=$(nproc)
ET=./etrace
OUT=tests/out/bench-relay
rm -rf $OUT
mkdir -p $OUT
cc -O2 -o $OUT/getppid bench/getppid.c || exit 1
G=$OUT/getppid
[ -x $ET ] || { echo "build ./etrace first (make)"; exit 1; }
command -v lttng-relayd > /dev/null || { echo "lttng-relayd is not installed (scripts/deps.sh)"; exit 1; }

now_ms() { date +%s%3N; }
loops() {
  t0=$(now_ms)
  i=0
  while [ $i -lt "$NCPU" ]; do taskset -c $i $G "$CALLS" > /dev/null & i=$((i + 1)); done
  wait
  echo $(( $(now_ms) - t0 ))
}
# cpu_ms PID: CPU time of the (single-threaded) recorder so far, ms
cpu_ms() { awk '{ printf "%.1f", $1 / 1e6 }' /proc/$1/schedstat 2>/dev/null || echo 0; }
relayd_cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' /proc/$1/stat 2>/dev/null || echo 0
}
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f", n * 1000 / ms; else print 0 }'; }
field() { sed -n "s/^etrace: $1.*/\\1/p" "$2" | head -1; }

total=$((CALLS * NCPU))
echo "== getppid loops: $NCPU x $CALLS calls, one per CPU"
ms=$(loops)
echo "no tracer:    $total calls in $ms ms = $(rate $total $ms) calls/s"

# run_etrace LABEL ARGS...: record while the loops run, print the figures
run_etrace() {
  label=$1
  shift
  $ET record "$@" syscalls:sys_enter_getppid 2> $OUT/$label.stderr &
  rec=$!
  sleep 0.5
  t0=$(now_ms)
  ms=$(loops)
  [ -n "${SNAP:-}" ] && kill -USR1 $rec && sleep 0.3
  kill -INT $rec
  cpu=0
  while kill -0 $rec 2> /dev/null; do cpu=$(cpu_ms $rec); sleep 0.02; done
  wait $rec
  e2e=$(( $(now_ms) - t0 ))
  written=$(field 'recorded \([0-9]*\) events' $OUT/$label.stderr)
  lost=$(field 'lost \([0-9]*\) events' $OUT/$label.stderr)
  undelivered=$(field '.*: \([0-9]*\) events not delivered' $OUT/$label.stderr)
  echo "etrace $label: ${written:-0} events recorded, ${lost:-0} lost in the ring buffers," \
       "${undelivered:-0} not delivered; loops took $ms ms, all events stored after $e2e ms:" \
       "$(rate ${written:-0} $e2e) events/s end to end; recorder CPU $cpu ms" \
       "($(awk -v c="$cpu" -v n="${written:-0}" 'BEGIN { if (n > 0) printf "%.1f", c * 1e6 / n }') ns/event)"
}

run_etrace local -o $OUT/trace
SNAP=1 run_etrace snapshot --snapshot 4M -o $OUT/snap
grep '^etrace: \(snapshot\|flight\)' $OUT/snapshot.stderr

port=$((30000 + $$ % 20000))
lttng-relayd -C tcp://127.0.0.1:$port -D tcp://127.0.0.1:$((port + 1)) \
  -L tcp://127.0.0.1:$((port + 2)) -o "$PWD/$OUT/relay" > $OUT/relayd.log 2>&1 &
relayd=$!
sleep 0.5
run_etrace relay --relay net://127.0.0.1:$port:$((port + 1)) --session bench --live-timer 0.1
echo "lttng-relayd CPU $(relayd_cpu_ms $relayd) ms"
kill $relayd
wait $relayd 2> /dev/null
d=$(find $OUT/relay -type d -name kernel | head -1)
if [ -n "$d" ] && command -v babeltrace2 > /dev/null; then
  n=$(babeltrace2 "$d" -c sink.utils.counter -p 'step=+0' | awk '/Event message/ {print $1}')
  echo "the relay's trace holds $n events ($(du -sm "$d" | cut -f1) MB)"
fi

# Live latency: how long after an event a live viewer prints it
# (babeltrace2 lttng-live; etrace's default --live-timer of 1 s).
port=$((port + 3))
lttng-relayd -C tcp://127.0.0.1:$port -D tcp://127.0.0.1:$((port + 1)) \
  -L tcp://127.0.0.1:$((port + 2)) -o "$PWD/$OUT/relay-live" > $OUT/relayd-live.log 2>&1 &
relayd=$!
sleep 0.5
$ET record -q --relay net://127.0.0.1:$port:$((port + 1)) --session live --cmd-only \
  -c "tests/bin/workload sleep 2000 getppid 1 sleep 1500 getppid 1 sleep 1500 getppid 1 sleep 1500" \
  syscalls:sys_enter_getppid 2> $OUT/live.stderr &
rec=$!
for _ in $(seq 1 40); do
  babeltrace2 --input-format=lttng-live net://127.0.0.1:$((port + 2)) 2> /dev/null | grep -q /live && break
  sleep 0.05
done
timeout 15 babeltrace2 --clock-seconds --input-format=lttng-live \
  "net://127.0.0.1:$((port + 2))/host/$(uname -n)/live" 2> /dev/null |
  while read -r line; do echo "$(date +%s.%N) $line"; done > $OUT/live.txt
wait $rec
kill $relayd
wait $relayd 2> /dev/null
# each line: arrival (epoch s), then [event time (epoch s)]
awk '{ t = $2; gsub(/[\[\]]/, "", t); d = $1 - t; s += d; if (d > m) m = d; n++ }
     END { if (n) printf "live latency: %d events seen by babeltrace2 lttng-live %.2f s after they happened on average, %.2f s at most\n", n, s / n, m }' $OUT/live.txt
