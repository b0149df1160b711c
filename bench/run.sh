#!/bin/sh
# etrace benchmarks: figures, and ratios against bpftrace when installed.
# Never a pass/fail test.  Run as root from the repository root:
#   make bench        (or: bench/run.sh)
# Each figure is the median of N runs (N=11 unless BENCH_RUNS is set).
set -u
cd "$(dirname "$0")/.."
N=${BENCH_RUNS:-11}
ET=./etrace
mkdir -p tests/out
cc -O2 -o tests/out/measure bench/measure.c || exit 1
cc -O2 -o tests/out/getppid bench/getppid.c || exit 1
cc -O2 -o tests/out/ucall bench/ucall.c || exit 1
M=tests/out/measure
G=tests/out/getppid
have_bpftrace=false
command -v bpftrace >/dev/null 2>&1 && have_bpftrace=true

# median FIELD: read measure lines on stdin, print the median of FIELD
median() {
  sed "s/^/ /" | sed -n "s/.* $1=\([-0-9.]*\).*/\1/p" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'
}

runs() { # runs N MARK CMD... -> N measure lines
  n=$1; mark=$2; shift 2
  i=0
  while [ $i -lt "$n" ]; do "$M" -m "$mark" -- "$@" 2>/dev/null; i=$((i+1)); done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "n/a" }'; }

echo "== (a) BEGIN { exit(); }: wall time and peak RSS (median of $N)"
runs "$N" "" $ET -e 'BEGIN { exit(); }' > tests/out/a.et
et_wall=$(median wall_ms < tests/out/a.et); et_rss=$(median rss_kb < tests/out/a.et)
echo "etrace:   ${et_wall} ms, ${et_rss} KiB"
if $have_bpftrace; then
  runs "$N" "" bpftrace -e 'BEGIN { exit(); }' > tests/out/a.bt
  bt_wall=$(median wall_ms < tests/out/a.bt); bt_rss=$(median rss_kb < tests/out/a.bt)
  echo "bpftrace: ${bt_wall} ms, ${bt_rss} KiB   (etrace is $(ratio "$et_wall" "$bt_wall") faster, $(ratio "$et_rss" "$bt_rss") smaller)"
fi

echo "== (b) start to first printed event (tracepoint one-liner, median of $N)"
$G -f >/dev/null 2>&1 &
loop=$!
prog='tracepoint:syscalls:sys_enter_getppid { printf("hit\n"); exit(); }'
runs "$N" hit $ET -q -e "$prog" > tests/out/b.et
et_first=$(median mark_ms < tests/out/b.et)
echo "etrace:   ${et_first} ms to the first event"
if $have_bpftrace; then
  runs "$N" hit bpftrace -e "$prog" > tests/out/b.bt
  bt_first=$(median mark_ms < tests/out/b.bt)
  echo "bpftrace: ${bt_first} ms   (etrace is $(ratio "$et_first" "$bt_first") faster)"
fi
kill $loop 2>/dev/null; wait $loop 2>/dev/null

echo "== (c) extra ns per syscall: raw_syscalls:sys_enter { @[comm] = count(); }"
CALLS=${BENCH_CALLS:-2000000}
per_call() { # ns per getppid call of one workload run
  $G "$CALLS" | sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p'
}
base=$(per_call)
prog='tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
$ET -q -e "$prog" > /dev/null & tr=$!; sleep 0.5
with_et=$(per_call); kill -INT $tr; wait $tr
echo "no tracing: ${base} ns/call; etrace: ${with_et} ns/call (+$(awk -v a="$with_et" -v b="$base" 'BEGIN{printf "%.1f", a-b}') ns)"
if $have_bpftrace; then
  bpftrace -e "$prog" > /dev/null 2>&1 & tr=$!; sleep 3
  with_bt=$(per_call); kill -INT $tr; wait $tr
  echo "bpftrace:   ${with_bt} ns/call (+$(awk -v a="$with_bt" -v b="$base" 'BEGIN{printf "%.1f", a-b}') ns)"
fi

echo "== (d) exit() to process end, tracepoint:syscalls:sys_enter_* ($(ls /sys/kernel/tracing/events/syscalls 2>/dev/null | grep -c '^sys_enter_') probes)"
prog='tracepoint:syscalls:sys_enter_* { @[probe] = count(); } interval:ms:500 { printf("bye\n"); exit(); }'
runs 3 bye $ET -q -e "$prog" > tests/out/d.et
echo "etrace:   $(median after_mark_ms < tests/out/d.et) ms from the exit() event to process end (total $(median wall_ms < tests/out/d.et) ms)"
if $have_bpftrace && [ "${BENCH_SLOW:-0}" = 1 ]; then
  runs 1 bye bpftrace -e "$prog" > tests/out/d.bt
  echo "bpftrace: $(median after_mark_ms < tests/out/d.bt) ms (total $(median wall_ms < tests/out/d.bt) ms)"
elif $have_bpftrace; then
  echo "bpftrace: skipped (about 27 s here; BENCH_SLOW=1 to run it)"
fi

echo "== (e) uprobe cost per call: uprobe / uretprobe on a function, { @ = count(); }"
U=tests/out/ucall
UCALLS=${BENCH_UCALLS:-500000}
u_per_call() { "$U" "$UCALLS" | sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p'; }
base=$(u_per_call)
echo "no tracing: ${base} ns/call"
for kind in uprobe uretprobe; do
  prog="$kind:$U:bench_fn { @ = count(); }"
  $ET -q -e "$prog" > /dev/null & tr=$!; sleep 0.5
  with_et=$(u_per_call); kill -INT $tr; wait $tr
  line="$kind: etrace ${with_et} ns/call (+$(awk -v a="$with_et" -v b="$base" 'BEGIN{printf "%.0f", a-b}') ns)"
  if $have_bpftrace; then
    bpftrace -e "$prog" > /dev/null 2>&1 & tr=$!; sleep 3
    with_bt=$(u_per_call); kill -INT $tr; wait $tr
    line="$line; bpftrace ${with_bt} ns/call (+$(awk -v a="$with_bt" -v b="$base" 'BEGIN{printf "%.0f", a-b}') ns)"
  fi
  echo "$line"
done

echo "== (f) stack symbolisation throughput (src/symbols/, bench/symbolise.c)"
cc -O2 -std=gnu11 -Isrc -o tests/out/symbolise bench/symbolise.c build/src/symbols/*.o build/src/arch/*.o \
  build/src/base/util.o build/src/front/diag.o \
  -Wl,-Bstatic -lbpf -lelf -lz -Wl,-Bdynamic && tests/out/symbolise 2

echo "== (g) profile one-liner: exit() to process end (symbolising and printing every stack)"
make -s tests/bin/stack_target
tests/bin/stack_target spin 30000 > /dev/null & spin=$!
prog='profile:hz:199 { @[kstack, ustack] = count(); } interval:s:3 { printf("bye\n"); exit(); }'
runs 3 bye $ET -q -e "$prog" > tests/out/g.et
$ET -q -e "$prog" 2>/dev/null | grep -c '^@\[' > tests/out/g.et.n
echo "etrace:   $(median after_mark_ms < tests/out/g.et) ms from exit() to the end, $(cat tests/out/g.et.n) stacks printed"
if $have_bpftrace; then
  runs 3 bye bpftrace -e "$prog" > tests/out/g.bt
  bpftrace -e "$prog" 2>/dev/null | grep -c '^@\[' > tests/out/g.bt.n
  echo "bpftrace: $(median after_mark_ms < tests/out/g.bt) ms, $(cat tests/out/g.bt.n) stacks printed"
fi
kill $spin 2>/dev/null; wait $spin 2>/dev/null
