#!/bin/bash
# etrace under valgrind memcheck: a program that uses every runtime
# feature (tests/env/valgrind/all_features.bt) on a known workload, and the
# error path of -c (a compile error after the child was forked).  Each run
# must end with no memcheck error and no definitely or indirectly lost
# block (--error-exitcode), and its output must show every feature ran.
# Suppressions (libbpf.supp) cover false reports of valgrind's bpf(2)
# wrapper only; each is explained there.
. "$(dirname "$0")/../../lib.sh"
plan 5
out=tests/out/valgrind
rm -rf $out; mkdir -p $out

if ! command -v valgrind > /dev/null; then fail setup "valgrind missing (scripts/deps.sh --test)"; exit 0; fi
need_files ./etrace tests/bin/workload tests/bin/uprobe_target || exit 1
VG=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=42
    --suppressions=tests/env/valgrind/libbpf.supp)

# memcheck NAME: the valgrind logs of etrace and of its forked -c child
# (NAME.PID.vg) have no error and no lost block
memcheck() {
  local log=$out/$1.all problems=""
  cat $out/$1.*.vg > $log 2>/dev/null
  grep -q 'ERROR SUMMARY: 0 errors' $log || problems="no memcheck summary"
  grep -Eq 'ERROR SUMMARY: [1-9]' $log && problems="memcheck errors"
  grep -Eq '(definitely|indirectly) lost: [1-9]' $log && problems="$problems, leaks"
  if [ -z "$problems" ]; then pass "$1-memcheck"
  else fail "$1-memcheck" "$problems:
$(grep -v '^==[0-9]*== *$' $log | grep -A14 'lost in loss\|Invalid\|uninitialised\|unaddressable\|Mismatched' | head -60)"; fi
}

# 1. every feature.  The probes match on comm, so the workload runs under
#    a name of its own (other suites may run tests/bin/workload meanwhile).
cp tests/bin/workload $out/vg_workload
"${VG[@]}" --log-file=$out/features.%p.vg ./etrace \
  -c "/bin/sh -c '$out/vg_workload getppid 5 write 10 3 write 1000 1; tests/bin/uprobe_target greet bob usdt 3'" \
  tests/env/valgrind/all_features.bt > $out/features.out 2> $out/features.err
rc=$?
if [ $rc = 0 ]; then pass features-exit; else fail features-exit "exit $rc: $(head -5 $out/features.err)"; fi
memcheck features
missing=""
for want in '^\(1, two, -3\)$' '^year 20[0-9][0-9]$' '^begin 1 two -3$' \
    "^$out/vg_workload getppid 5 write 10 3 write 1000 1\$" '^greet bob$' \
    '^for vg_workload 110$' '^@s: 1030$' '^@st: count 4, average 257, total 1030$' \
    '^@a: 257$' '^@c: 5$' '^@bycomm\[vg_workload\]: 5$' '^@mn: 10$' '^@mx: 1000$' \
    '^\[8, 16\) +3 \|@+ *\|$' '^\[1000, 1500\) +1 \|@+ *\|$' '^@k\[101, vg_workload\]: 1030$' \
    '^@names\[bob\]: 1$' '^@u: 6$' '^@tup: \(\(1, 2\), x\)$' '^@many\[39\]: 78$' '^@many\[1\]: 2$'; do
  grep -Eq -- "$want" $out/features.out || missing="$missing
  /$want/"
done
[ "$(grep -c '^@many\[' $out/features.out)" = 39 ] || missing="$missing
  39 @many keys (0..40 is 0 to 39; 0 deleted in END)"
if [ -z "$missing" ]; then pass features-output
else fail features-output "missing:$missing
output:
$(head -80 $out/features.out)"; fi

# 2. -c child forked, then the program fails to compile: exit 1, child
#    released and reaped, nothing leaked in either process
"${VG[@]}" --log-file=$out/error.%p.vg ./etrace -c "tests/bin/workload getppid 1" \
  -e 'tracepoint:syscalls:sys_enter_getppid { @x = nosuchfunc(1); }' > $out/error.out 2> $out/error.err
rc=$?
if [ $rc = 1 ] && grep -q 'error:' $out/error.err; then pass error-exit
else fail error-exit "exit $rc: $(head -5 $out/error.err)"; fi
memcheck error
