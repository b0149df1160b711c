#!/bin/sh
# Cost of kernel types: a program that reads task_struct through BTF,
# against one that does not, and against bpftrace; and the cost of a C
# preamble (#include of system headers).  Figures, never pass/fail.
#   bench/btf.sh      (root, from the repository root; BENCH_RUNS=N)
set -u
cd "$(dirname "$0")/.."
N=${BENCH_RUNS:-11}
ET=./etrace
mkdir -p tests/out
cc -O2 -o tests/out/measure bench/measure.c || exit 1
M=tests/out/measure
median() {
  sed "s/^/ /" | sed -n "s/.* $1=\([-0-9.]*\).*/\1/p" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'
}
runs() { i=0; while [ $i -lt "$N" ]; do "$M" -- "$@" 2>/dev/null; i=$((i+1)); done; }
show() { # show LABEL CMD...: median wall time and peak RSS
  label=$1; shift
  runs "$@" > tests/out/btf.m
  echo "$label: $(median wall_ms < tests/out/btf.m) ms, $(median rss_kb < tests/out/btf.m) KiB"
}

plain='BEGIN { printf("%d\n", pid); exit(); }'
typed='BEGIN { printf("%d %s\n", curtask->real_parent->pid, curtask->comm); exit(); }'
echo "== (f) BEGIN program without and with BTF member access (median of $N)"
show "etrace, no kernel types " $ET -q -e "$plain"
show "etrace, curtask chain    " $ET -q -e "$typed"
if command -v bpftrace >/dev/null 2>&1; then
  show "bpftrace, curtask chain  " bpftrace -q -e "$typed"
fi

printf '#include <netinet/ip.h>\n#include <sys/socket.h>\nBEGIN { printf("%%d\\n", sizeof(struct iphdr)); exit(); }\n' > tests/out/btf_include.bt
printf 'struct pair { int a; char name[16]; struct pair *next; };\nBEGIN { printf("%%d\\n", sizeof(struct pair)); exit(); }\n' > tests/out/btf_struct.bt
echo "== (g) compile only (--dry-run) with a C preamble (median of $N)"
show "no C                      " $ET --dry-run -e "$plain"
show "one struct definition     " $ET --dry-run tests/out/btf_struct.bt
show "#include <netinet/ip.h>...  " $ET --dry-run tests/out/btf_include.bt
