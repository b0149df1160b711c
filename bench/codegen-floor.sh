#!/bin/sh
# The hand-written floor: five programs as etrace runs them, as bpftrace
# runs them, and written directly in BPF C (bench/floor/floor.bpf.c,
# clang -O2, loaded by bench/floor/load.c).  For each, in one run: the
# xlated instructions of the programs the process holds (bpftool), the
# verifier's processed instructions, and the per-event BPF run time
# (kernel.bpf_stats_enabled run_time_ns / run_cnt, set for the run and
# restored) while bench/floor/loop.c makes the events, and the loop's ns
# per system call in a second loop with the statistics off.  Prints figures; never a pass/fail test.  Root, from
# the repository root:
#   bench/codegen-floor.sh     (BENCH_RUNS=N: median of N, default 3, and
#                               the best of N per event;
#                               BENCH_CALLS=N system calls per run)
set -u
cd "$(dirname "$0")/.."
N=${BENCH_RUNS:-3}
CALLS=${BENCH_CALLS:-1000000}
ET=${ETRACE:-./etrace}
command -v bpftool >/dev/null 2>&1 || { echo "bpftool is needed" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "jq is needed" >&2; exit 1; }
mkdir -p tests/out
O=tests/out
clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
  -c bench/floor/floor.bpf.c -o $O/floor.bpf.o || exit 1
cc -O2 -o $O/floor-load bench/floor/load.c -Wl,-Bstatic -lbpf -lelf -lz -Wl,-Bdynamic || exit 1
cc -O2 -o $O/floor-loop bench/floor/loop.c || exit 1
have_bpftrace=false
command -v bpftrace >/dev/null 2>&1 && have_bpftrace=true
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'echo "$old_stats" > /proc/sys/kernel/bpf_stats_enabled' EXIT
trap 'exit 1' INT TERM
echo 1 > /proc/sys/kernel/bpf_stats_enabled

# progs PID -> "XLATED VERIFIED RUN_TIME_NS RUN_CNT" summed over the
# programs PID holds open (program fds have a prog_type line in fdinfo)
progs() {
  x=0; v=0; t=0; c=0
  for f in /proc/$1/fdinfo/*; do
    grep -q '^prog_type:' "$f" 2>/dev/null || continue
    id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f")
    b=$(bpftool prog show id "$id" -j 2>/dev/null | jq .bytes_xlated)
    vi=$(sed -n 's/^verified_insns:[[:space:]]*//p' "$f")
    x=$((x + ${b:-0} / 8)); v=$((v + ${vi:-0}))
    t=$((t + $(sed -n 's/^run_time_ns:[[:space:]]*//p' "$f")))
    c=$((c + $(sed -n 's/^run_cnt:[[:space:]]*//p' "$f")))
  done
  echo "$x $v $t $c"
}

# stop PID: SIGINT, then SIGTERM if it is still there after 5 s
stop() {
  kill -INT "$1" 2>/dev/null
  waited=0
  while kill -0 "$1" 2>/dev/null && [ $waited -lt 50 ]; do sleep 0.1; waited=$((waited+1)); done
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# one LOOP CMD... -> "XLATED VERIFIED NS_PER_EVENT NS_PER_CALL RUNS_PER_CALL
# BPF_NS_PER_CALL" (runs per call: program runs per system call of the
# loop, above 1 where a tracer's program also runs for other system calls,
# e.g. one on raw_syscalls, or where other processes make events too; BPF
# ns per call: all the BPF run time over the loop's calls, which counts
# those other runs too, where ns per event averages them in)
one() {
  loop=$1; shift
  "$@" >/dev/null 2>&1 &
  pid=$!
  s=""; last=""; polls=0
  # attached: the instruction count is non-zero and stable for one poll
  while [ $polls -lt 150 ] && kill -0 $pid 2>/dev/null; do
    sleep 0.2
    s=$(progs $pid)
    if [ "${s%% *}" != 0 ] && [ "${s%% *}" = "${last%% *}" ]; then break; fi
    last=$s; polls=$((polls+1))
  done
  s0=$(progs $pid)
  $O/floor-loop "$loop" "$CALLS" > /dev/null
  s1=$(progs $pid)
  # the time per system call is taken in a second loop with the statistics
  # off: they add two clock reads to every program run, which would count
  # against a tracer whose program also runs for other system calls
  echo 0 > /proc/sys/kernel/bpf_stats_enabled
  call=$($O/floor-loop "$loop" "$CALLS" | sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p')
  echo 1 > /proc/sys/kernel/bpf_stats_enabled
  stop $pid
  awk -v a="$s0" -v b="$s1" -v call="${call:-nan}" -v calls="$CALLS" 'BEGIN {
    split(a, x, " "); split(b, y, " "); n = y[4] - x[4];
    printf "%d %d %.0f %s %.2f %.0f\n", y[1], y[2], (n > 0 ? (y[3] - x[3]) / n : 0), call, n / calls,
           (y[3] - x[3]) / calls }'
}


col() { cut -d' ' -f"$2" $O/floor.$1 | median; }
# the best of the N runs: the machine's noise only ever adds time
best() { cut -d' ' -f"$2" $O/floor.$1 | sort -n | head -1; }

median() { sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "nan"}'; }

# the loops untraced: what each tracer adds per system call is measured
# against these (median of N)
: > $O/floor.base
for l in getppid read openat; do
  run=0; : > $O/floor.base.$l
  while [ $run -lt "$N" ]; do
    $O/floor-loop $l "$CALLS" | sed -n 's/.*ns_per_call=//p' >> $O/floor.base.$l
    run=$((run+1))
  done
  b=$(median < $O/floor.base.$l)
  echo "$l $b" >> $O/floor.base
  echo "no tracer: $l $b ns per call"
done
printf '%-16s %25s   %25s   %25s\n' "" "xlated insns" "ns per event" "ns per system call"
printf '%-16s %7s %8s %8s   %7s %8s %8s   %7s %8s %8s\n' program \
  etrace bpftrace hand etrace bpftrace hand etrace bpftrace hand
# row NAME LOOP PROGRAM FLOOR_PROGS...
# The three take turns, run by run, so that a slow stretch of the machine
# falls on all of them rather than on one.
row() {
  name=$1; loop=$2; prog=$3; shift 3
  : > $O/floor.et; : > $O/floor.bt; : > $O/floor.hw
  run=0
  while [ $run -lt "$N" ]; do
    one "$loop" $ET -q -e "$prog" >> $O/floor.et
    if $have_bpftrace; then one "$loop" bpftrace -e "$prog" >> $O/floor.bt; else echo "0 0 nan nan" >> $O/floor.bt; fi
    one "$loop" $O/floor-load $O/floor.bpf.o "$@" >> $O/floor.hw
    run=$((run+1))
  done
  printf '%-16s %7s %8s %8s   %7s %8s %8s   %7s %8s %8s\n' "$name" \
    "$(col et 1)" "$(col bt 1)" "$(col hw 1)" "$(col et 3)" "$(col bt 3)" "$(col hw 3)" \
    "$(col et 4)" "$(col bt 4)" "$(col hw 4)"
  echo "$name $(best et 3) $(best bt 3) $(best hw 3)" >> $O/floor.best
  echo "$name $(col et 1) $(col bt 1) $(col hw 1) $(col et 3) $(col bt 3) $(col hw 3) $(col et 4) $(col bt 4) $(col hw 4) $(col et 5) $(col bt 5) $(col hw 5) $(col et 6) $(col bt 6) $(col hw 6) $(sed -n "s/^$loop //p" $O/floor.base)" >> $O/floor.rows
}

: > $O/floor.rows; : > $O/floor.best
row comm_count getppid 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }' comm_count
row predicate_count getppid \
  'tracepoint:raw_syscalls:sys_enter /pid > 100 && (cpu == 0 || tid != 1)/ { @n = count(); }' predicate_count
row read_latency read 'tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; }
  tracepoint:syscalls:sys_exit_read /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }' \
  read_latency read_start
row str_count openat 'tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); }' str_count
row openat_printf openat \
  'tracepoint:syscalls:sys_enter_openat { printf("%-16s %6d %s\n", comm, pid, str(args->filename)); }' openat_printf
awk '{ xe += $2; xb += $3; xh += $4 }
  $7 > 0 { printf "%-16s etrace/hand %.2fx size %.2fx ns/event; bpftrace/hand %.2fx size %.2fx ns/event; runs per call %s/%s/%s\n",
           $1, $2 / $4, $5 / $7, ($4 ? $3 / $4 : 0), $6 / $7, $11, $12, $13 }
  $16 > 0 { printf "%-16s BPF ns per loop call: etrace %s, bpftrace %s, hand %s (etrace/hand %.2fx)\n",
           $1, $14, $15, $16, $14 / $16 }
  $10 > $17 { printf "%-16s extra ns per system call: etrace %.0f, bpftrace %.0f, hand %.0f (etrace/hand %.2fx)\n",
           $1, $8 - $17, $9 - $17, $10 - $17, ($8 - $17) / ($10 - $17) }
  END { printf "total xlated: etrace %d, bpftrace %d, hand-written %d\n", xe, xb, xh }' $O/floor.rows
awk -v n="$N" '$4 > 0 { printf "%-16s best of %d, ns per event: etrace %s, bpftrace %s, hand %s (etrace/hand %.2fx)\n",
                 $1, n, $2, $3, $4, $2 / $4 }' $O/floor.best
