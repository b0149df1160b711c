#!/bin/bash
# etrace exporter against a real Prometheus (Debian's `prometheus`, with
# promtool), both started here on 127.0.0.1 and stopped by pid:
#   - a known workload (a copy of tests/bin/workload under a unique comm):
#     Prometheus's query API returns the exact getppid count, rate() > 0
#     while it runs, histogram_quantile() of known write sizes falls in the
#     right power-of-two bucket, stats' _count/_sum, lhist buckets;
#   - clear() is a counter reset (Prometheus's resets() sees it), and so
#     is delete() of one key of a hist map, for that key's series only;
#   - promtool check metrics accepts the text exposition, odd label
#     values (quotes, backslash, newline, UTF-8, invalid UTF-8) included;
#     OpenMetrics when Accept asks (Prometheus itself negotiates it);
#   - HTTP faults: garbage -> 400, oversized -> 413, POST -> 405, unknown
#     path -> 404, a stalled client is cut at the timeout, 50 parallel
#     scrapers, a connection flood; the maps keep counting throughout;
#   - compile errors are located and exit 1 before listening; SIGTERM
#     detaches and leaves no program loaded.
#
#   tests/exporter/run.sh     Prints PASS/FAIL lines.  Needs root, ./etrace,
#                             tests/bin/workload, prometheus, promtool,
#                             curl, python3, bpftool.
. "$(dirname "$0")/../lib.sh"
plan 47

ET=$PWD/etrace
OUT=$PWD/tests/out/exporter
rm -rf "$OUT"
mkdir -p "$OUT"

need_files "$ET" tests/bin/workload || exit 0
for tool in prometheus promtool curl python3 bpftool; do
  if ! have $tool; then
    skip_rest "$tool is missing (scripts/deps.sh installs it)"
    exit 0
  fi
done
is_root || { skip_rest "needs root"; exit 0; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

# A workload with a comm no other process has: counts are exact.
COMM=exw$$
W=$OUT/$COMM
cp tests/bin/workload "$W"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start an exporter: start_exporter NAME ARGS...; sets EPID and EPORT
# (the address it prints), or returns 1.
start_exporter() {
  local name=$1; shift
  "$ET" exporter --listen 127.0.0.1:0 "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" &
  EPID=$!
  PIDS+=("$EPID")
  EPORT=
  for _ in $(seq 100); do
    EPORT=$(grep -so 'http://127.0.0.1:[0-9]*' "$OUT/$name.stderr" | head -1 | sed 's/.*://')
    if [ -n "$EPORT" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$EPORT/metrics"; then
      return 0
    fi
    kill -0 "$EPID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

scrape() { curl -s --max-time 5 "http://127.0.0.1:$EPORT/metrics"; }

# ------------------------------------------------ programs

cat > "$OUT/syscalls.bt" <<BT
tracepoint:syscalls:sys_enter_getppid /comm == "$COMM"/ { @calls[comm] = count(); }
tracepoint:syscalls:sys_enter_write /comm == "$COMM"/ {
  @wsize[comm] = hist(args.count);
  @wlin = lhist(args.count, 0, 1000, 100);
  @wstats = stats(args.count);
}
tracepoint:syscalls:sys_enter_getpid /comm == "$COMM"/ { clear(@calls); clear(@wsize); }
tracepoint:syscalls:sys_enter_read /comm == "$COMM" && args.fd == 100 && args.count != 7/ {
  @rsize[args.count] = hist(args.count);
}
tracepoint:syscalls:sys_enter_read /comm == "$COMM" && args.fd == 100 && args.count == 7/ { delete(@rsize[100]); }
BT
# a second program in the same process: odd label values, a plain gauge
ODD='@odd["q\"b\\s\nl é \xff"] = count();'
PROG2="tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { $ODD @last = pid; @bytid[tid, comm] = count(); }"

if ! start_exporter main "$OUT/syscalls.bt" -e "$PROG2"; then
  fail start "the exporter did not serve /metrics" "$OUT/main.stderr"
  skip_rest "no exporter"
  exit 0
fi
pass start

# ------------------------------------------------ Prometheus

PPORT=$(free_port)
mkdir -p "$OUT/prom"
cat > "$OUT/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: etrace
    static_configs:
      - targets: ['127.0.0.1:$EPORT']
YML
prometheus --config.file="$OUT/prom/prometheus.yml" --storage.tsdb.path="$OUT/prom/data" \
  --web.listen-address="127.0.0.1:$PPORT" --log.level=warn > "$OUT/prom/log" 2>&1 &
PPID_=$!
PIDS+=("$PPID_")

# query EXPR -> the first result's value ("" when none)
query() {
  curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}
# wait_query EXPR PYTHON-CONDITION-ON-v [TRIES]: poll until it holds; prints v
wait_query() {
  local v
  for _ in $(seq "${3:-60}"); do
    v=$(query "$1")
    if [ -n "$v" ] && python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$v"; then
      echo "$v"
      return 0
    fi
    sleep 0.5
  done
  echo "$v"
  return 1
}

ready=no
for _ in $(seq 100); do
  curl -s --max-time 2 "http://127.0.0.1:$PPORT/-/ready" | grep -qi ready && { ready=yes; break; }
  kill -0 "$PPID_" 2>/dev/null || break
  sleep 0.2
done
if [ $ready = yes ] && wait_query 'up{job="etrace"}' 'v == 1' >/dev/null; then pass prometheus_scrapes
else fail prometheus_scrapes "Prometheus did not scrape the exporter" "$OUT/prom/log"; fi

# the workload: 10 rounds of 200 getppid calls 300 ms apart (2000 in all);
# 9 writes of 100 bytes and one of 3000
"$W" getppid 200 sleep 300 getppid 200 sleep 300 getppid 200 sleep 300 getppid 200 sleep 300 \
     getppid 200 sleep 300 getppid 200 sleep 300 getppid 200 sleep 300 getppid 200 sleep 300 \
     getppid 200 sleep 300 getppid 200 write 100 9 write 3000 1 &
WPID=$!
sleep 1.6
v=$(wait_query "rate(etrace_calls_total{comm=\"$COMM\"}[3s])" 'v > 0' 10)
if [ $? -eq 0 ]; then pass rate_positive_while_running
else fail rate_positive_while_running "rate() = '$v'"; fi
wait $WPID

v=$(wait_query "etrace_calls_total{comm=\"$COMM\"}" 'v == 2000')
if [ $? -eq 0 ]; then pass exact_count_through_prometheus
else fail exact_count_through_prometheus "counter = '$v', expected 2000"; fi

v=$(wait_query "histogram_quantile(0.5, etrace_wsize_bucket{comm=\"$COMM\"})" 'v > 63 and v <= 127')
if [ $? -eq 0 ]; then pass histogram_quantile_bucket
else fail histogram_quantile_bucket "median write size '$v', expected in (63, 127] (the [64, 128) bucket)"; fi

v=$(wait_query "histogram_quantile(0.99, etrace_wsize_bucket{comm=\"$COMM\"})" 'v > 2047 and v <= 4095')
if [ $? -eq 0 ]; then pass histogram_quantile_top_bucket
else fail histogram_quantile_top_bucket "p99 write size '$v', expected in (2047, 4095]"; fi

s=$(query "etrace_wsize_sum{comm=\"$COMM\"}"); c=$(query "etrace_wsize_count{comm=\"$COMM\"}")
if [ "$s" = 3900 ] && [ "$c" = 10 ]; then pass histogram_sum_count
else fail histogram_sum_count "_sum '$s' (want 3900), _count '$c' (want 10)"; fi

s=$(query 'etrace_wstats_sum'); c=$(query 'etrace_wstats_count'); a=$(query 'etrace_wstats_avg')
if [ "$s" = 3900 ] && [ "$c" = 10 ] && [ "$a" = 390 ]; then pass stats_summary
else fail stats_summary "sum '$s' count '$c' avg '$a', want 3900 10 390"; fi

b1=$(query 'etrace_wlin_bucket{le="199.0"}'); b2=$(query 'etrace_wlin_bucket{le="+Inf"}')
if [ "$b1" = 9 ] && [ "$b2" = 10 ]; then pass lhist_buckets
else fail lhist_buckets "le=199: '$b1' (want 9), +Inf: '$b2' (want 10)"; fi

v=$(query "etrace_bytid_total{comm=\"$COMM\"}")
l=$(query 'etrace_last')
if [ "$v" = 2000 ] && [ "$l" = "$WPID" ]; then pass second_program_maps
else fail second_program_maps "bytid '$v' (want 2000), last pid '$l' (want $WPID)"; fi

# ------------------------------------------------ exposition formats

scrape > "$OUT/text.prom"
if promtool check metrics < "$OUT/text.prom" > "$OUT/promtool.out" 2>&1; then pass promtool_check_metrics
else fail promtool_check_metrics "promtool rejected the exposition" "$OUT/promtool.out"; fi

# q"b\s<newline>l é <invalid byte> -> escaped, U+FFFD
if grep -qF 'etrace_odd_total{key0="q\"b\\s\nl é �"} 2000' "$OUT/text.prom"; then pass odd_label_values
else fail odd_label_values "escaped label value not found" "$OUT/text.prom"; fi

if grep -qx '# TYPE etrace_calls_total counter' "$OUT/text.prom" &&
   grep -qx '# TYPE etrace_wsize histogram' "$OUT/text.prom" &&
   grep -qx '# TYPE etrace_last gauge' "$OUT/text.prom" &&
   grep -qx '# TYPE etrace_wstats summary' "$OUT/text.prom" &&
   grep -q "^# HELP etrace_calls_total $OUT/syscalls.bt:1: tracepoint:syscalls:sys_enter_getppid" "$OUT/text.prom" &&
   grep -qx 'etrace_programs_loaded 2' "$OUT/text.prom"; then pass types_and_help
else fail types_and_help "TYPE/HELP lines wrong" "$OUT/text.prom"; fi

curl -s --max-time 5 -D "$OUT/om.headers" -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
  "http://127.0.0.1:$EPORT/metrics" > "$OUT/om.prom"
if grep -qi '^Content-Type: application/openmetrics-text; version=1.0.0' "$OUT/om.headers" &&
   [ "$(tail -1 "$OUT/om.prom")" = "# EOF" ] && grep -qx '# TYPE etrace_calls counter' "$OUT/om.prom" &&
   grep -q "^etrace_calls_total{comm=\"$COMM\"} 2000$" "$OUT/om.prom" &&
   grep -q 'le="127.0"' "$OUT/om.prom"; then pass openmetrics_negotiated
else fail openmetrics_negotiated "no OpenMetrics answer" "$OUT/om.headers"; fi

curl -s --max-time 5 -D "$OUT/text.headers" -H 'Accept: text/plain;version=0.0.4' "http://127.0.0.1:$EPORT/metrics" > /dev/null
if grep -qi '^Content-Type: text/plain; version=0.0.4' "$OUT/text.headers"; then pass text_format_by_default
else fail text_format_by_default "wrong content type" "$OUT/text.headers"; fi

curl -s --max-time 5 "http://127.0.0.1:$EPORT/" > "$OUT/index.html"
if grep -q 'etrace_calls' "$OUT/index.html" && grep -q 'syscalls.bt' "$OUT/index.html" &&
   grep -qi 'no authentication' "$OUT/index.html"; then pass index_page
else fail index_page "index page lacks programs or metric names" "$OUT/index.html"; fi

# ------------------------------------------------ clear() = counter reset

"$W" getpid 1
for _ in $(seq 50); do scrape | grep -q "^etrace_calls_total{comm=\"$COMM\"}" || break; sleep 0.1; done
scrape > "$OUT/cleared.prom"
if ! grep -q "^etrace_calls_total{comm=\"$COMM\"}" "$OUT/cleared.prom" &&
   ! grep -q "^etrace_wsize_count{comm=\"$COMM\"}" "$OUT/cleared.prom"; then pass clear_removes_series
else fail clear_removes_series "series still there after clear()" "$OUT/cleared.prom"; fi
sleep 2 # at least one scrape without the series
"$W" getppid 5
v=$(wait_query "etrace_calls_total{comm=\"$COMM\"}" 'v == 5')
r=$(wait_query "resets(etrace_calls_total{comm=\"$COMM\"}[5m])" 'v == 1' 10)
if [ "$v" = 5 ] && [ "$r" = 1 ]; then pass clear_is_counter_reset
else fail clear_is_counter_reset "after clear: value '$v' (want 5), resets() '$r' (want 1)"; fi

# ------------------------------------------------ delete() of a hist key = counter reset

# reads of 100 and 200 bytes fill two keys of @rsize; a read of 7 bytes
# deletes key 100 (every bucket of it); 100 then starts again from zero
"$W" read 100 4 read 200 3
v1=$(wait_query "etrace_rsize_count{count=\"100\"}" 'v == 4' 20)
v2=$(wait_query "etrace_rsize_count{count=\"200\"}" 'v == 3' 20)
"$W" read 7 1
scrape > "$OUT/deleted.prom"
if [ "$v1" = 4 ] && [ "$v2" = 3 ] && ! grep -q '^etrace_rsize_[a-z]*{count="100"' "$OUT/deleted.prom" &&
   grep -qx 'etrace_rsize_count{count="200"} 3' "$OUT/deleted.prom" &&
   grep -qx 'etrace_rsize_bucket{count="200",le="255.0"} 3' "$OUT/deleted.prom"; then pass delete_removes_hist_key
else fail delete_removes_hist_key "before: count 100 '$v1' (want 4), 200 '$v2' (want 3); after delete:" "$OUT/deleted.prom"; fi
sleep 2 # at least one scrape without the series
"$W" read 100 2
v=$(wait_query "etrace_rsize_count{count=\"100\"}" 'v == 2')
r=$(wait_query "resets(etrace_rsize_count{count=\"100\"}[5m])" 'v == 1' 10)
r2=$(query "resets(etrace_rsize_count{count=\"200\"}[5m])")
if [ "$v" = 2 ] && [ "$r" = 1 ] && [ "$r2" = 0 ]; then pass delete_is_counter_reset
else fail delete_is_counter_reset "after delete: count '$v' (want 2), resets() '$r' (want 1), other key's resets() '$r2' (want 0)"; fi

# ------------------------------------------------ HTTP faults

status() { python3 - "$EPORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(eval(sys.argv[2]))
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
except socket.timeout:
    pass
print(data.split(b"\r\n", 1)[0].decode(errors="replace"))
PY
}
g=$(status 'b"\x16\x03\x01\x00\xa5garbage\r\n\r\n"')
h=$(status 'b"GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n"')
if [[ "$g" == "HTTP/1.1 400"* ]] && [[ "$h" == "HTTP/1.1 400"* ]] && scrape | grep -q '^etrace_programs_loaded 2'; then pass garbage_is_400
else fail garbage_is_400 "got '$g' / '$h'"; fi
b=$(status 'b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n"')
if [[ "$b" == "HTTP/1.1 413"* ]]; then pass oversized_is_413; else fail oversized_is_413 "got '$b'"; fi
p=$(status 'b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"')
n=$(status 'b"GET /nope HTTP/1.0\r\n\r\n"')
curl -s --max-time 5 -I "http://127.0.0.1:$EPORT/metrics" > "$OUT/head.out"
if [[ "$p" == "HTTP/1.1 405"* ]] && [[ "$n" == "HTTP/1.1 404"* ]] && grep -q '^HTTP/1.1 200' "$OUT/head.out" &&
   grep -qi '^Content-Length: [1-9]' "$OUT/head.out"; then pass method_and_path
else fail method_and_path "POST: '$p', unknown path: '$n', HEAD:" "$OUT/head.out"; fi

# a client that shuts its side down after asking still gets its answer
hc=$(python3 - "$EPORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
print(data.split(b"\r\n", 1)[0].decode(), b"etrace_programs_loaded 2" in data)
PY
)
if [ "$hc" = "HTTP/1.1 200 OK True" ]; then pass half_closed_request; else fail half_closed_request "got '$hc'"; fi

# a stalled client (connects, sends half a request) and one that never
# reads its answer: others are served meanwhile; the stalled one is cut
python3 - "$EPORT" > "$OUT/stalled.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port))
a.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
r = socket.socket(); r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
r.connect(("127.0.0.1", port)); r.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
t = time.time(); a.settimeout(20)
try:
    d = a.recv(100)
except socket.timeout:
    d = b"timeout"
print("stalled-closed-after %.1f %r" % (time.time() - t, d))
PY
STALL=$!
sleep 0.5
ok=yes
for i in 1 2 3; do scrape | grep -q '^etrace_programs_loaded 2' || ok=no; done
"$W" getppid 10
v=$(scrape | grep "^etrace_calls_total{comm=\"$COMM\"}" | awk '{print $2}')
[ "$v" = 15 ] || ok=no
if [ $ok = yes ]; then pass serves_beside_stalled_clients
else fail serves_beside_stalled_clients "scrapes failed or count '$v' != 15 while clients stalled"; fi
wait $STALL
if grep -Eq "^stalled-closed-after (9|10|11)\.[0-9] b''" "$OUT/stalled.out"; then pass stalled_client_timeout
else fail stalled_client_timeout "the stalled connection was not closed at the 10 s timeout" "$OUT/stalled.out"; fi

for i in $(seq 50); do
  curl -s --max-time 10 -o "$OUT/par$i.prom" -w '%{http_code}\n' "http://127.0.0.1:$EPORT/metrics" > "$OUT/par$i.code" &
done
wait_ok=0
for i in $(seq 50); do
  while [ ! -s "$OUT/par$i.code" ]; do sleep 0.05; done
done
sleep 0.2
good=0
for i in $(seq 50); do
  [ "$(cat "$OUT/par$i.code")" = 200 ] && grep -q '^etrace_programs_loaded 2' "$OUT/par$i.prom" && good=$((good + 1))
done
if [ $good = 50 ]; then pass parallel_scrapers_50; else fail parallel_scrapers_50 "$good of 50 scrapes answered"; fi

# a flood of 300 idle connections: bounded, and served again after it
python3 - "$EPORT" "$EPID" > "$OUT/flood.out" 2>&1 <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(300):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError as e:
        break
time.sleep(0.5)
print("fds", len(os.listdir("/proc/%s/fd" % pid)))
for s in socks: s.close()
PY
fds=$(awk '/^fds/ {print $2}' "$OUT/flood.out")
sleep 0.5
if [ -n "$fds" ] && [ "$fds" -lt 150 ] && kill -0 "$EPID" && scrape | grep -q '^etrace_programs_loaded 2'; then pass connection_flood_bounded
else fail connection_flood_bounded "exporter fds during the flood: '$fds'" "$OUT/flood.out"; fi

"$W" getppid 10
v=$(scrape | grep "^etrace_calls_total{comm=\"$COMM\"}" | awk '{print $2}')
if [ "$v" = 25 ]; then pass maps_count_after_faults; else fail maps_count_after_faults "count '$v', want 25"; fi

# ------------------------------------------------ stop: nothing left loaded

ids=$(for f in /proc/$EPID/fdinfo/*; do awk '/^prog_id:/ {print $2}' "$f" 2>/dev/null; done | sort -u)
kill -TERM "$EPID"
wait "$EPID"; rc=$?
# the kernel frees a program after an RCU grace period: poll, bounded
for _ in $(seq 50); do
  left=""
  for id in $ids; do bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"; done
  [ -z "$left" ] && break
  sleep 0.1
done
if [ $rc = 0 ] && [ -n "$ids" ] && [ -z "$left" ]; then pass sigterm_detaches
else fail sigterm_detaches "rc $rc, programs '$ids', still loaded '$left'" "$OUT/main.stderr"; fi

# ------------------------------------------------ stacks, errors

if start_exporter stacks -e 'tracepoint:syscalls:sys_enter_getppid { @s[kstack] = count(); @n = count(); }' &&
   grep -q '@s is not exported: its key holds a stack' "$OUT/stacks.stderr" &&
   ! scrape | grep -q '^etrace_s_total'; then pass stack_maps_skipped
else fail stack_maps_skipped "no note or the map was served" "$OUT/stacks.stderr"; fi
kill "$EPID"; wait "$EPID"
if start_exporter stacks2 --stacks -e "tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @stk[kstack] = count(); }"; then
  "$W" getppid 3
  scrape > "$OUT/stacks2.prom"
  if grep -Eq '^etrace_stk_total\{stack="[^"]*;[^"]*"\} 3$' "$OUT/stacks2.prom" && promtool check metrics < "$OUT/stacks2.prom" >/dev/null 2>&1
  then pass stacks_folded_label
  else fail stacks_folded_label "no folded stack label" "$OUT/stacks2.prom"; fi
  kill "$EPID"; wait "$EPID"
else fail stacks_folded_label "exporter did not start" "$OUT/stacks2.stderr"; fi

# --bpf-stats: the kernel's run-time accounting, per probe
if start_exporter bstats --bpf-stats -e "tracepoint:sched:sched_process_exec /comm == \"$COMM\"/ { @execs = count(); }"; then
  for _ in 1 2 3 4 5; do "$W" getppid 1; done
  scrape > "$OUT/bstats.prom"
  runs=$(sed -n 's/^etrace_program_runs_total{program="-e",probe="tracepoint:sched:sched_process_exec"} //p' "$OUT/bstats.prom")
  secs=$(sed -n 's/^etrace_program_run_seconds_total{program="-e",probe="tracepoint:sched:sched_process_exec"} //p' "$OUT/bstats.prom")
  if [ -n "$runs" ] && [ "$runs" -ge 5 ] && python3 -c "import sys; sys.exit(0 if float('$secs') > 0 else 1)" &&
     grep -qx 'etrace_execs_total 5' "$OUT/bstats.prom"; then pass bpf_stats_run_time
  else fail bpf_stats_run_time "runs '$runs' (want >= 5), seconds '$secs'" "$OUT/bstats.prom"; fi
  kill "$EPID"; wait "$EPID"
else fail bpf_stats_run_time "exporter did not start" "$OUT/bstats.stderr"; fi

# printing is a no-op (an interval probe that prints works); _sum per key
PRINTS="tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { printf(\"hit\\n\"); @h[pid] = hist(5); @h[0] = hist(7); }
interval:ms:100 { print(@h); time(); }"
if start_exporter prints -e "$PRINTS"; then
  "$W" getppid 4 &
  wpid=$!
  wait $wpid
  sleep 0.3
  scrape > "$OUT/prints.prom"
  if [ ! -s "$OUT/prints.stdout" ] && grep -qx "etrace_h_sum{pid=\"$wpid\"} 20" "$OUT/prints.prom" &&
     grep -qx "etrace_h_bucket{pid=\"$wpid\",le=\"7.0\"} 4" "$OUT/prints.prom" &&
     grep -qx 'etrace_h_sum{pid="0"} 28' "$OUT/prints.prom"; then pass printing_is_noop_hist_sums
  else fail printing_is_noop_hist_sums "stdout not empty or hist wrong" "$OUT/prints.prom"; fi
  kill -INT "$EPID"; wait "$EPID"; rc=$?
  if [ $rc = 0 ]; then pass sigint_exits_0; else fail sigint_exits_0 "rc $rc"; fi
else fail printing_is_noop_hist_sums "exporter did not start" "$OUT/prints.stderr"; fi

# a full map is counted as lost events, exactly
if start_exporter full --map-keys 10 -e "tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @k[@n] = count(); @n = @n + 1; }"; then
  "$W" getppid 30
  scrape > "$OUT/full.prom"
  if grep -qx 'etrace_events_lost_total{reason="map_full"} 20' "$OUT/full.prom" &&
     [ "$(grep -c '^etrace_k_total' "$OUT/full.prom")" = 10 ]; then pass map_full_counted
  else fail map_full_counted "expected 10 series and 20 map_full losses" "$OUT/full.prom"; fi
  kill "$EPID"; wait "$EPID"
else fail map_full_counted "exporter did not start" "$OUT/full.stderr"; fi

# a client that never reads a large answer (the server's writes would
# block): other scrapes are answered meanwhile, and it is cut at the timeout
if start_exporter big --map-keys 20016 -e "tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @seq[@n] = count(); @n = @n + 1; }"; then
  "$W" getppid 20000
  fds0=$(ls /proc/$EPID/fd | wc -l)
  python3 - "$EPORT" > "$OUT/noread.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
time.sleep(13)
print("done")
PY
  NR=$!
  sleep 0.5
  fds1=$(ls /proc/$EPID/fd | wc -l)
  ok=yes
  for i in 1 2 3; do
    n=$(scrape | grep -c '^etrace_seq_total')
    [ "$n" = 20000 ] || ok=no
  done
  sleep 11
  fds2=$(ls /proc/$EPID/fd | wc -l)
  if [ $ok = yes ] && [ "$fds1" -gt "$fds0" ] && [ "$fds2" -eq "$fds0" ]; then pass non_reading_client
  else fail non_reading_client "scrapes ok=$ok (20000 series each), fds $fds0 -> $fds1 -> $fds2 (want the extra one closed)"; fi
  wait $NR
  kill "$EPID"; wait "$EPID"
else fail non_reading_client "exporter did not start" "$OUT/big.stderr"; fi

# out of file descriptors (ulimit -n 40, a flood of 100 connections):
# the exporter waits instead of spinning on its listening socket, and
# serves again once the flood is gone
( ulimit -n 40; exec "$ET" exporter --listen 127.0.0.1:0 \
    -e "tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @c = count(); }" ) \
  > "$OUT/emfile.stdout" 2> "$OUT/emfile.stderr" &
EPID=$!
PIDS+=("$EPID")
EPORT=
for _ in $(seq 100); do
  EPORT=$(grep -so 'http://127.0.0.1:[0-9]*' "$OUT/emfile.stderr" | sed 's/.*://')
  [ -n "$EPORT" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$EPORT/" && break
  sleep 0.1
done
t0=$(awk '{print $14 + $15}' /proc/$EPID/stat)
python3 - "$EPORT" <<'PY'
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for i in range(100)]
time.sleep(3)
for s in socks: s.close()
PY
t1=$(awk '{print $14 + $15}' /proc/$EPID/stat)
"$W" getppid 7
v=$(curl -s --max-time 12 "http://127.0.0.1:$EPORT/metrics" | sed -n 's/^etrace_c_total //p')
# 3 s of spinning would be ~300 ticks; allow 30
if [ -n "$EPORT" ] && [ $((t1 - t0)) -lt 30 ] && [ "$v" = 7 ]; then pass fd_exhaustion_no_spin
else fail fd_exhaustion_no_spin "cpu ticks during the flood $((t1 - t0)), count '$v' (want 7)" "$OUT/emfile.stderr"; fi
kill "$EPID"; wait "$EPID"

# memcheck over scrapes of every kind of map in both formats, the index,
# a 404 and a garbage request: no error, no lost block; promtool accepts
# the exposition of every kind of map
if have valgrind; then
  VGPROG="tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @c[comm, pid] = count(); @hpid = hist(pid);
  @pstats = stats(pid); @stk[kstack] = count(); @odd[\"a\\\"b\"] = max(5); @lin[comm] = lhist(pid, 0, 100000, 1000);
  @average = avg(pid); @least[comm] = min(pid); @pids_total = sum(pid); @last = pid; }"
  valgrind -q --error-exitcode=42 --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --suppressions=tests/env/valgrind/libbpf.supp \
    "$ET" exporter --listen 127.0.0.1:0 --stacks -e "$VGPROG" > "$OUT/vg.stdout" 2> "$OUT/vg.stderr" &
  EPID=$!
  PIDS+=("$EPID")
  EPORT=
  for _ in $(seq 300); do
    EPORT=$(grep -so 'http://127.0.0.1:[0-9]*' "$OUT/vg.stderr" | sed 's/.*://')
    [ -n "$EPORT" ] && curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$EPORT/" && break
    sleep 0.1
  done
  "$W" getppid 5
  scrape > "$OUT/vg.prom"
  curl -s --max-time 5 -H 'Accept: application/openmetrics-text' "http://127.0.0.1:$EPORT/metrics" > /dev/null
  curl -s --max-time 5 "http://127.0.0.1:$EPORT/nope" > /dev/null
  g=$(status 'b"garbage\x01\r\n\r\n"')
  kill "$EPID"; wait "$EPID"; rc=$?
  promtool check metrics < "$OUT/vg.prom" > "$OUT/vg.promtool" 2>&1; prc=$?
  if [ $rc = 0 ] && [ $prc = 0 ] && grep -q '^etrace_c_total{comm=' "$OUT/vg.prom" && grep -q '^etrace_stk_total{stack=' "$OUT/vg.prom" &&
     grep -q '^etrace_pstats_avg ' "$OUT/vg.prom" && grep -q '^etrace_least{comm=' "$OUT/vg.prom" &&
     grep -q '^etrace_pids_total [0-9]' "$OUT/vg.prom" &&
     [[ "$g" == "HTTP/1.1 400"* ]]; then pass valgrind_clean
  else fail valgrind_clean "rc $rc (42: memcheck errors), promtool $prc" "$OUT/vg.stderr"; sed 's/^/    | /' "$OUT/vg.promtool"; fi
else
  skip valgrind_clean "valgrind missing"
fi

# names: bare @ after the file (or "value" for -e); labels after the key
# expressions (args.X -> X, probe, cpu, a repeated name or an expression
# -> keyN by position)
printf '%s\n' "tracepoint:syscalls:sys_enter_getppid /comm == \"$COMM\"/ { @ = count(); }" > "$OUT/my-prog.bt"
NAMES="tracepoint:syscalls:sys_enter_write /comm == \"$COMM\"/ { @ = count(); @w[args.count, probe, comm, comm, args.count * 2] = count(); }"
if start_exporter names "$OUT/my-prog.bt" -e "$NAMES"; then
  "$W" getppid 3 write 12 2
  scrape > "$OUT/names.prom"
  if grep -qx 'etrace_my_prog_total 3' "$OUT/names.prom" && grep -qx 'etrace_value_total 2' "$OUT/names.prom" &&
     grep -qx "etrace_w_total{count=\"12\",probe=\"tracepoint:syscalls:sys_enter_write\",comm=\"$COMM\",key3=\"$COMM\",key4=\"24\"} 2" "$OUT/names.prom"
  then pass metric_and_label_names
  else fail metric_and_label_names "names not as documented" "$OUT/names.prom"; fi
  kill "$EPID"; wait "$EPID"
else fail metric_and_label_names "exporter did not start" "$OUT/names.stderr"; fi

LPORT=$(free_port)
"$ET" exporter --listen 127.0.0.1:$LPORT -e 'tracepoint:syscalls:sys_enter_getppid { @x = count( }' > "$OUT/err1.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q '^-e:1:[0-9]*: error:' "$OUT/err1.out" && ! grep -q serving "$OUT/err1.out"; then pass compile_error_located
else fail compile_error_located "rc $rc" "$OUT/err1.out"; fi

"$ET" exporter --listen 127.0.0.1:$LPORT -e 'interval:s:1 { exit(); }' > "$OUT/err2.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q '^-e:1:16: error: exit() cannot be used in an exporter program' "$OUT/err2.out"; then pass exit_is_error
else fail exit_is_error "rc $rc" "$OUT/err2.out"; fi

printf 'tracepoint:syscalls:sys_enter_getppid { @a = count(); }\n' > "$OUT/good.bt"
printf '\ntracepoint:syscalls:sys_enter_getppid { @b = count(); @b = 1; }\n' > "$OUT/bad.bt"
"$ET" exporter --listen 127.0.0.1:$LPORT "$OUT/good.bt" "$OUT/bad.bt" > "$OUT/err3.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "^$OUT/bad.bt:2:[0-9]*: error: map @b holds count() values" "$OUT/err3.out"; then pass error_in_second_file
else fail error_in_second_file "rc $rc" "$OUT/err3.out"; fi

"$ET" exporter --listen 127.0.0.1:$LPORT "$OUT/good.bt" -e 'tracepoint:syscalls:sys_enter_getpid { @a = count(); }' > "$OUT/err4.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -Eq 'metric etrace_a of @a in .* clashes with @a in ' "$OUT/err4.out"; then pass metric_clash_is_error
else fail metric_clash_is_error "rc $rc" "$OUT/err4.out"; fi

"$ET" exporter --listen 127.0.0.1:$LPORT -e 'BEGIN { @programs_loaded = 1; }' > "$OUT/err6.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "metric etrace_programs_loaded of @programs_loaded in -e is one of the exporter's own metrics" "$OUT/err6.out"
then pass own_metric_name_reserved
else fail own_metric_name_reserved "rc $rc" "$OUT/err6.out"; fi

"$ET" exporter --listen nonsense "$OUT/good.bt" > "$OUT/err7.out" 2>&1
rc1=$?
# a port already taken: the Prometheus started above holds $PPORT
"$ET" exporter --listen 127.0.0.1:$PPORT "$OUT/good.bt" > "$OUT/err8.out" 2>&1
rc2=$?
if [ $rc1 = 1 ] && grep -q "invalid listen address 'nonsense': expected HOST:PORT" "$OUT/err7.out" &&
   [ $rc2 = 1 ] && grep -q "cannot listen on 127.0.0.1:$PPORT: Address already in use" "$OUT/err8.out"
then pass bad_listen_address
else fail bad_listen_address "rc $rc1 / $rc2" "$OUT/err8.out"; fi

"$ET" exporter --listen 127.0.0.1:$LPORT --prefix 'bad-prefix' "$OUT/good.bt" > "$OUT/err5.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "invalid --prefix 'bad-prefix'" "$OUT/err5.out"; then pass bad_prefix
else fail bad_prefix "rc $rc" "$OUT/err5.out"; fi
