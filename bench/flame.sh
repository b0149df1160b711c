#!/bin/bash
# Flame-graph conversion: wall time, peak RSS and output size of
# `etrace flamegraph -i FILE.folded -o OUT` for each format, on a large
# generated profile (BENCH_STACKS distinct stacks, default 100000, 8 to 40
# frames deep, names from a pool of 20000, seeded so every run is the
# same).  Figures, not a pass/fail test.  Run from anywhere:
#   bench/flame.sh             (BENCH_RUNS=N runs each, median; default 5)
set -u
cd "$(dirname "$0")/.."
STACKS=${BENCH_STACKS:-100000}
N=${BENCH_RUNS:-5}
ET=./etrace
OUT=tests/out/bench-flame
mkdir -p $OUT
[ -x $ET ] || { echo "build ./etrace first (make)"; exit 1; }
cc -O2 -o $OUT/measure bench/measure.c || exit 1
M=$OUT/measure

# Stacks share their outer frames the way real ones do: a few roots,
# callers picked from a small pool near the root and a wide one near the
# leaves.
awk -v n="$STACKS" 'BEGIN {
  srand(1)
  for (i = 0; i < n; i++) {
    d = 8 + int(rand() * 33); s = "proc" int(rand() * 8)
    for (j = 1; j < d; j++) {
      pool = j < 6 ? 10 * j : 20000
      s = s ";" (j > d - 4 && rand() < 0.5 ? "do_work_" int(rand() * pool) "_[k]" : "fn_" int(rand() * pool))
    }
    print s, 1 + int(rand() * rand() * 1000)
  }
}' > $OUT/big.folded
lines=$(wc -l < $OUT/big.folded)
bytes=$(wc -c < $OUT/big.folded)
echo "== input: $lines stacks, $((bytes / 1024)) KiB of folded text"

median() { sed -n "s/.*$1=\([-0-9.]*\).*/\1/p" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

TIMEFORMAT='%R %U %S'
for ext in folded svg speedscope.json; do
  : > $OUT/runs.txt
  : > $OUT/times.txt
  i=0
  while [ $i -lt "$N" ]; do
    $M -- $ET flamegraph -i $OUT/big.folded -o $OUT/out.$ext 2>/dev/null >> $OUT/runs.txt
    { time $ET flamegraph -i $OUT/big.folded -o $OUT/out.$ext 2>/dev/null; } 2>> $OUT/times.txt
    i=$((i + 1))
  done
  cpu=$(awk '{print ($2 + $3) * 1000}' $OUT/times.txt | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  size=$(wc -c < $OUT/out.$ext)
  extra=""
  [ $ext = svg ] && extra=", $(grep -c '^<g class="f' $OUT/out.svg) frames drawn; $(sed -n 's/.*<text id="elided"[^>]*>\([^<]*\)<.*/\1/p' $OUT/out.svg)"
  printf '%-16s %8s ms wall %7s ms CPU  %7s KiB peak RSS  %6s KiB written%s\n' "$ext" \
    "$(median wall_ms < $OUT/runs.txt)" "$cpu" "$(median rss_kb < $OUT/runs.txt)" "$((size / 1024))" "$extra"
done
