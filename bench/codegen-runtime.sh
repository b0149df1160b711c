#!/bin/sh
# Per-event BPF run time of generated programs: run_time_ns / run_cnt of
# the tracer's programs (kernel.bpf_stats_enabled, set for the run and
# restored), while a getppid loop makes events, etrace against bpftrace.
# Also the loop's ns per getppid call under each tracer and with none.
# Prints figures; never a pass/fail test.  Root, from the repository root:
#   bench/codegen-runtime.sh        (BENCH_RUNS=N: median of N, default 3)
set -u
cd "$(dirname "$0")/.."
N=${BENCH_RUNS:-3}
CALLS=${BENCH_CALLS:-2000000}
ET=${ETRACE:-./etrace}
mkdir -p tests/out
cc -O2 -o tests/out/getppid bench/getppid.c || exit 1
G=tests/out/getppid
have_bpftrace=false
command -v bpftrace >/dev/null 2>&1 && have_bpftrace=true
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'echo "$old_stats" > /proc/sys/kernel/bpf_stats_enabled' EXIT INT TERM
echo 1 > /proc/sys/kernel/bpf_stats_enabled

# stats PID -> "RUN_TIME_NS RUN_CNT" summed over the programs PID holds
stats() {
  t=0; c=0
  for f in /proc/$1/fdinfo/*; do
    grep -q '^prog_type:' "$f" 2>/dev/null || continue
    t=$((t + $(sed -n 's/^run_time_ns:[[:space:]]*//p' "$f")))
    c=$((c + $(sed -n 's/^run_cnt:[[:space:]]*//p' "$f")))
  done
  echo "$t $c"
}

# stop PID: SIGINT (the tracers print their maps and exit), then SIGTERM
# if it is still there after 5 s (a SIGINT that arrives before a tracer
# installs its handler is ignored in a background job)
stop() {
  kill -INT "$1" 2>/dev/null
  n=0
  while kill -0 "$1" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# one CMD... -> "NS_PER_EVENT NS_PER_CALL" for one run under the tracer
one() {
  "$@" >/dev/null 2>&1 &
  pid=$!
  i=0
  while [ $i -lt 100 ] && [ "$(stats $pid)" = "0 0" ]; do sleep 0.1; i=$((i+1)); done
  sleep 0.5
  s0=$(stats $pid)
  call=$($G "$CALLS" | sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p')
  s1=$(stats $pid)
  stop $pid
  awk -v a="$s0" -v b="$s1" -v call="$call" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    n = y[2] - x[2]; printf "%.0f %s\n", (n > 0 ? (y[1] - x[1]) / n : 0), call }'
}

median() { sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "nan"}'; }

# row NAME PROGRAM: medians of N runs for each tracer
row() {
  : > tests/out/rt.et; : > tests/out/rt.bt
  i=0
  while [ $i -lt "$N" ]; do
    one $ET -q -e "$2" >> tests/out/rt.et
    if $have_bpftrace; then one bpftrace -e "$2" >> tests/out/rt.bt; fi
    i=$((i+1))
  done
  et_ev=$(cut -d' ' -f1 tests/out/rt.et | median); et_call=$(cut -d' ' -f2 tests/out/rt.et | median)
  bt_ev=nan; bt_call=nan
  if $have_bpftrace; then
    bt_ev=$(cut -d' ' -f1 tests/out/rt.bt | median); bt_call=$(cut -d' ' -f2 tests/out/rt.bt | median)
  fi
  printf '%-22s %10s %12s %12s %14s\n' "$1" "$et_ev" "$bt_ev" "$et_call" "$bt_call"
}

base=$(i=0; while [ $i -lt "$N" ]; do $G "$CALLS" | sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p'; i=$((i+1)); done | median)
echo "getppid with no tracer: $base ns per call (median of $N)"
printf '%-22s %10s %12s %12s %14s\n' program et_ns/event bt_ns/event et_ns/call bt_ns/call
row comm_count 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
row predicate_count 'tracepoint:raw_syscalls:sys_enter /pid > 100 && (cpu == 0 || tid != 1)/ { @n = count(); }'
row syscall_errors 'tracepoint:raw_syscalls:sys_exit /args->ret < 0/ { @err[args->id, args->ret] = count(); }'
