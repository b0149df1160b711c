#!/bin/bash
# etrace exporter: scrape latency, exporter memory and CPU per scrape for
# maps of 1k, 10k and 100k series (count() keyed by a sequence number, one
# key per getppid call of a known workload), and for a hist() map of 1000
# keys, and for 50 maps of 200 keys; then the exporter's RSS after 50
# scrapers at once on 10k series.  Prints figures; never a pass/fail test.  Run as root from the
# repository root after `make etrace tests/bin/workload`:
#   bench/exporter.sh            (SCRAPES=20 scrapes per size by default)
# Figures per size: series served, scrape wall time seen by curl (median
# and max), the exporter's own scrape_duration gauge, CPU time (user+sys)
# per scrape, RSS after loading and its growth over all the scrapes.
set -u
cd "$(dirname "$0")/.."
ET=./etrace
OUT=tests/out/bench-exporter
SCRAPES=${SCRAPES:-20}
mkdir -p $OUT
COMM=exb$$
W=$OUT/$COMM
cp tests/bin/workload "$W" || exit 1
HZ=$(getconf CLK_TCK)

rss_kb() { awk '/^VmRSS/ {print $2}' /proc/$1/status; }
cpu_ticks() { awk '{print $14 + $15}' /proc/$1/stat; }

run_size() { # run_size LABEL KEYS PROGRAM
  local label=$1 keys=$2 prog=$3
  $ET exporter --listen 127.0.0.1:0 --map-keys $((keys + 16)) -e "$prog" 2> $OUT/$label.err &
  local pid=$! port=
  for _ in $(seq 100); do
    port=$(grep -o 'http://127.0.0.1:[0-9]*' $OUT/$label.err | sed 's/.*://')
    [ -n "$port" ] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  if [ -z "$port" ]; then echo "$label: exporter did not start"; cat $OUT/$label.err; kill $pid; return; fi
  "$W" $4
  local rss0 cpu0 times=() series
  curl -s "http://127.0.0.1:$port/metrics" > $OUT/$label.prom # first scrape: warm-up
  series=$(grep -vc '^#' $OUT/$label.prom)
  rss0=$(rss_kb $pid)
  cpu0=$(cpu_ticks $pid)
  for _ in $(seq $SCRAPES); do
    times+=($(curl -s -o $OUT/$label.prom -w '%{time_total}' "http://127.0.0.1:$port/metrics"))
  done
  local cpu1 rss1 own
  cpu1=$(cpu_ticks $pid)
  rss1=$(rss_kb $pid)
  own=$(awk '/^etrace_exporter_scrape_duration_seconds / {print $2 * 1000}' $OUT/$label.prom)
  printf '%s\n' "${times[@]}" | sort -n | awk -v l="$label" -v s="$series" -v own="$own" \
    -v cpu="$(( cpu1 - cpu0 ))" -v hz=$HZ -v n=$SCRAPES -v r0=$rss0 -v r1=$rss1 '
    {a[NR] = $1 * 1000} END {
      printf "%-12s %7d series  scrape median %7.1f ms  max %7.1f ms  own %7.1f ms  cpu/scrape %6.1f ms  rss %6.1f MB  growth over %d scrapes %+.2f MB\n",
        l, s, a[int((NR + 1) / 2)], a[NR], own, cpu * 1000 / hz / n, r0 / 1024, n, (r1 - r0) / 1024 }'
  if [ -n "${PARALLEL:-}" ]; then
    local cpids=()
    for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/metrics" & cpids+=($!); done
    wait "${cpids[@]}"
    printf '%-12s 50 parallel scrapes: rss %.1f MB (%+.2f MB)\n' "$label" \
      "$(echo "$(rss_kb $pid) / 1024" | bc -l)" "$(echo "($(rss_kb $pid) - $rss1) / 1024" | bc -l)"
  fi
  kill $pid
  wait $pid 2>/dev/null
}

SEQ="tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @seq[@n] = count(); @n = @n + 1; }"
for n in 1000 10000 100000; do
  run_size count_$n $n "$SEQ" "getppid $n"
done
# 50 maps of 200 keys, in two probes (a BPF program uses at most 64 maps)
MAPS1="" MAPS2=""
for i in $(seq 0 24); do MAPS1="$MAPS1 @a$i[@n % 200] = count();"; MAPS2="$MAPS2 @b$i[@n % 200] = count();"; done
run_size maps_50x200 200 "tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { $MAPS1 }
tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { $MAPS2 @n = @n + 1; }" "getppid 200"
PARALLEL=1 run_size count_10000 10000 "$SEQ" "getppid 10000"
HIST="tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @lat[@n % 1000] = hist(@n); @n = @n + 1; }"
run_size hist_1000x $((1000)) "$HIST" "getppid 100000"
