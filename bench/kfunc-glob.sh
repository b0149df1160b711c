#!/bin/sh
# Compile time of kernel-function globs: `etrace --dry-run` on kprobe,
# kretprobe and fentry globs that match from a few dozen to every kernel
# function (kretprobe:* is ~114k here).  --dry-run expands every matched
# function, finds its BTF prototype, and generates a program per probe,
# on any kernel (this VM has no kprobes: without --dry-run those probes
# stop at the attach-hook choice).  Each glob is cut off after
# BENCH_TIMEOUT seconds (default 600), so an older build can be compared:
#   bench/kfunc-glob.sh                     (from the repository root)
#   ETRACE=/path/to/old/etrace bench/kfunc-glob.sh
# Prints figures; never a pass/fail test.
set -u
cd "$(dirname "$0")/.."
ET=${ETRACE:-./etrace}
LIMIT=${BENCH_TIMEOUT:-600}
mkdir -p tests/out
cc -O2 -o tests/out/measure bench/measure.c || exit 1
M=tests/out/measure

# one GLOB...: the number of probes (etrace -l), wall time, peak RSS
one() {
  n=0
  for g in "$@"; do n=$((n + $("$ET" -l "$g" 2>/dev/null | wc -l))); done
  prog=$(printf '%s, ' "$@")
  prog="${prog%, } { @[probe] = count(); }"
  r=$("$M" -- timeout "$LIMIT" "$ET" --dry-run -e "$prog" 2>/dev/null)
  ms=$(echo "$r" | sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p')
  kb=$(echo "$r" | sed -n 's/.*rss_kb=\([0-9]*\).*/\1/p')
  st=$(echo "$r" | sed -n 's/.*status=\([0-9]*\).*/\1/p')
  note=""
  [ "$st" = 124 ] && note=" (cut off at $LIMIT s)"
  [ "$st" != 0 ] && [ "$st" != 124 ] && note=" (exit status $st)"
  printf '%-32s %7d probes %10.0f ms %8d KiB %8.1f us/probe%s\n' "$(printf '%s ' "$@")" "$n" \
    "$ms" "$kb" "$(awk "BEGIN { print $n ? $ms * 1000 / $n : 0 }")" "$note"
}

echo "== etrace --dry-run on kernel-function globs ($ET)"
one 'kprobe:vfs_*'
one 'fentry:vfs_*'
one 'kretprobe:s*'
one 'kretprobe:[a-m]*'
one 'fentry:*'
one 'kprobe:vfs_*' 'kretprobe:*'
