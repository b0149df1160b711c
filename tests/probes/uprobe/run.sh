#!/bin/bash
# uprobe / uretprobe / USDT tests that need more than one e2e case can
# express: the ELF and USDT-argument parsers (src/symbols/elfsym.c, through the
# driver t.c) checked against readelf and nm, binary and library name
# resolution, -l listings (against bpftrace's when it is installed), and
# -p restricting probes to one of two identical processes.
# The single-run cases (arguments, retval, func, wildcards, libc, USDT
# arguments and semaphores, errors) are tests/e2e/cases/{uprobe,usdt}_*.
# Prints "PASS name" / "FAIL name" lines; needs root and tests/bin/uprobe_target.
. "$(dirname "$0")/../../lib.sh"
out=tests/out/uprobe
mkdir -p $out
ET=${ETRACE:-./etrace}
T=tests/bin/uprobe_target
TA=$PWD/$T
plan 40


need_files $T || exit 1

# ------------------------------------------------------------ parsers
t=$out/t
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Werror \
    -Isrc -Ibuild/gen -o $t tests/probes/uprobe/t.c src/symbols/elfsym.c src/arch/*.c src/base/util.c src/front/diag.c -lelf -lz 2>$out/build.log; then
  fail build "$(cat $out/build.log)"
  exit 0
fi
pass build

# pt_regs offsets: r15 0, r12 24, bp 32, bx 40, r10 56, r8 72, ax 80, cx 88,
# dx 96, si 104, di 112, ip 128, sp 152
same argspec "$(cat <<'EOF'
-4@%eax: reg size=4 signed=1 reg=80 rsize=4 index=-1 scale=0 value=0 ip=0 sym=-
8@%rdi: reg size=8 signed=0 reg=112 rsize=8 index=-1 scale=0 value=0 ip=0 sym=-
1@%ah: reg size=1 signed=0 reg=81 rsize=1 index=-1 scale=0 value=0 ip=0 sym=-
-1@%sil: reg size=1 signed=1 reg=104 rsize=1 index=-1 scale=0 value=0 ip=0 sym=-
-4@%r8d: reg size=4 signed=1 reg=72 rsize=4 index=-1 scale=0 value=0 ip=0 sym=-
2@%r10w: reg size=2 signed=0 reg=56 rsize=2 index=-1 scale=0 value=0 ip=0 sym=-
1@%r15b: reg size=1 signed=0 reg=0 rsize=1 index=-1 scale=0 value=0 ip=0 sym=-
8@-8(%rbp): mem size=8 signed=0 reg=32 rsize=0 index=-1 scale=1 value=-8 ip=0 sym=-
8@16(%rsp): mem size=8 signed=0 reg=152 rsize=0 index=-1 scale=1 value=16 ip=0 sym=-
8@(%rdx,%rax,8): mem size=8 signed=0 reg=96 rsize=0 index=80 scale=8 value=0 ip=0 sym=-
8@%rdx,%rax,8: mem size=8 signed=0 reg=96 rsize=0 index=80 scale=8 value=0 ip=0 sym=-
-2@0x10(%rbx,%rcx,2): mem size=2 signed=1 reg=40 rsize=0 index=88 scale=2 value=16 ip=0 sym=-
8@(,%r12,4): mem size=8 signed=0 reg=-1 rsize=0 index=24 scale=4 value=0 ip=0 sym=-
4@$5: const size=4 signed=0 reg=-1 rsize=0 index=-1 scale=0 value=5 ip=0 sym=-
-8@$-12: const size=8 signed=1 reg=-1 rsize=0 index=-1 scale=0 value=-12 ip=0 sym=-
-8@counter(%rip): mem size=8 signed=1 reg=-1 rsize=0 index=-1 scale=1 value=0 ip=1 sym=counter
4@tab+8(%rip): mem size=4 signed=0 reg=-1 rsize=0 index=-1 scale=1 value=8 ip=1 sym=tab
x@%eax: error
3@%eax: error
8@(%rax: error
8@%xyz: error
8@(%rax,%rbx,3): error
EOF
)" "$($t arg -4@%eax 8@%rdi 1@%ah -1@%sil -4@%r8d 2@%r10w 1@%r15b '8@-8(%rbp)' '8@16(%rsp)' \
      '8@(%rdx,%rax,8)' '8@%rdx,%rax,8' '-2@0x10(%rbx,%rcx,2)' '8@(,%r12,4)' '4@$5' '-8@$-12' \
      '-8@counter(%rip)' '4@tab+8(%rip)' 'x@%eax' '3@%eax' '8@(%rax' '8@%xyz' '8@(%rax,%rbx,3)')"

# aarch64 specs as GCC writes them (no '%', "[base, disp]", bare constants):
# pt_regs offsets x0 0, x1 8, x2 16, x29 232, x30 240, sp 248
same argspec-arm64 "$(cat <<'EOF'
8@x0: reg size=8 signed=0 reg=0 rsize=8 index=-1 scale=0 value=0 ip=0 sym=-
4@x2: reg size=4 signed=0 reg=16 rsize=8 index=-1 scale=0 value=0 ip=0 sym=-
-4@w3: reg size=4 signed=1 reg=24 rsize=4 index=-1 scale=0 value=0 ip=0 sym=-
8@x30: reg size=8 signed=0 reg=240 rsize=8 index=-1 scale=0 value=0 ip=0 sym=-
-4@[sp, 16]: mem size=4 signed=1 reg=248 rsize=0 index=-1 scale=1 value=16 ip=0 sym=-
8@[x1, -8]: mem size=8 signed=0 reg=8 rsize=0 index=-1 scale=1 value=-8 ip=0 sym=-
8@[x29]: mem size=8 signed=0 reg=232 rsize=0 index=-1 scale=1 value=0 ip=0 sym=-
4@[sp, #24]: mem size=4 signed=0 reg=248 rsize=0 index=-1 scale=1 value=24 ip=0 sym=-
4@5: const size=4 signed=0 reg=-1 rsize=0 index=-1 scale=0 value=5 ip=0 sym=-
-8@-12: const size=8 signed=1 reg=-1 rsize=0 index=-1 scale=0 value=-12 ip=0 sym=-
8@x31: error
8@%x0: error
8@[x1, -8: error
8@[w1]: error
4@$5: error
8@x0x: error
EOF
)" "$($t arg --arch arm64 8@x0 4@x2 -4@w3 8@x30 '-4@[sp, 16]' '8@[x1, -8]' '8@[x29]' '4@[sp, #24]' \
      4@5 -8@-12 8@x31 8@%x0 '8@[x1, -8' '8@[w1]' '4@$5' 8@x0x)"

# USDT notes as readelf shows them: provider:name location args.
# (uprobe_target is PIE: its text's file offsets equal its addresses.)
hexnorm() { sed -E 's/0x0*([0-9a-f])/0x\1/g'; }
same usdt-notes \
  "$(LC_ALL=C readelf -n $T | awk '/Provider:/ { p = $2 } /Name:/ { n = $2 }
       /Location:/ { loc = $2; sub(",", "", loc); sem = ($6 ~ /^0x0*$/) ? "nosema" : "sema" }
       /Arguments:/ { $1 = ""; sub(/^ /, ""); print p ":" n, loc, sem, $0 }' | hexnorm)" \
  "$($t usdt $T | awk '{ args = $5; for (i = 6; i <= NF; i++) args = args " " $i;
       print $1, $2, ($4 == "0" ? "nosema" : "sema"), args }' | hexnorm)"
# the semaphore's file offset is inside .probes
sem=$($t usdt $T | awk '$1 == "ut:guarded" { print $4 }')
probes=$(LC_ALL=C readelf -SW $T | awk '$2 == ".probes" { print $5, $6 }')
if [ -n "$sem" ] && [ -n "$probes" ] && [ $((sem)) -ge $((0x${probes% *})) ] &&
   [ $((sem)) -lt $((0x${probes% *} + 0x${probes#* })) ]; then
  pass usdt-semaphore-offset
else
  fail usdt-semaphore-offset "semaphore offset '$sem', .probes offset/size '$probes'"
fi

same symbols "$(nm $T | awk '$2 ~ /^[Tt]$/ && $3 ~ /^ut_/ { print $3, "0x" $1 }' | sort | hexnorm)" \
  "$($t syms $T | awk '$1 ~ /^ut_/ { print $1, $2 }' | hexnorm)"

# libc has no .symtab: its local functions come from the separate debug
# file (libc6-dbg) when it is installed, like bpftrace's
libc=$(ldconfig -p | awk '$1 == "libc.so.6" && /x86-64/ { print $NF; exit }')
if [ -n "$libc" ]; then
  n=$($t syms "$libc" | wc -l)
  dyn=$(LC_ALL=C readelf -W --dyn-syms "$libc" | awk '$4 == "FUNC" && $7 != "UND"' | wc -l)
  if [ "$n" -gt 0 ] && [ "$n" -le "$dyn" -o -e /usr/lib/debug/.build-id ]; then pass libc-symbols
  else fail libc-symbols "$n functions, $dyn in .dynsym"; fi
fi

# ------------------------------------------------------------ names
# library short names resolve like the dynamic loader; programs via $PATH
if [ -n "$libc" ]; then
  want="uprobe:$libc:getpid"
  same lib-name-libc "$want" "$($ET -l 'uprobe:libc:getpid')"
  same lib-name-c "$want" "$($ET -l 'uprobe:c:getpid')"
  same lib-name-soname "$want" "$($ET -l 'uprobe:libc.so.6:getpid')"
  same lib-name-uretprobe "uretprobe:$libc:getpid" "$($ET -l 'ur:libc:getpid')"
fi
same path-lookup "uprobe:$TA:ut_add" "$(PATH=$PWD/tests/bin:$PATH $ET -l 'uprobe:uprobe_target:ut_add')"
# a path is shown as written (bpftrace 0.17 prints it so), found by lookup: absolute
same relative-path "uprobe:./bin/../bin/uprobe_target:ut_add" \
  "$(cd tests && ../$ET -l 'u:./bin/../bin/uprobe_target:ut_add')"
same glob-path "uprobe:$T:ut_add" "$($ET -l "uprobe:${T%_target}_t*:ut_a*")"

# ------------------------------------------------------------ listing
same list-glob "$(printf 'uprobe:%s:%s\n' $T ut_add $T ut_greet $T ut_grid $T ut_many $T ut_mul $T ut_neg)" \
  "$($ET -l "uprobe:$T:ut_*")"
same list-usdt "$(printf 'usdt:%s:ut:%s\n' $T guarded $T konst $T tick $T twice)" \
  "$($ET -l "usdt:$T:*")"
same list-usdt-provider "usdt:$T:ut:tick" "$($ET -l "usdt:$T:ut:ti*")"
same list-usdt-bare "$(printf 'usdt:%s:ut:%s\n' $T guarded $T konst $T tick $T twice)" \
  "$($ET -l "U:$T")"
# a wildcard provider with a file: its uprobes and USDT probes (bpftrace 0.17)
same list-any-type "$(printf 'uprobe:%s:ut_add\nusdt:%s:ut:tick\n' $T $T)" \
  "$($ET -l "*:$T:*t_add"; $ET -l "*:$T:*:ti*")"
same list-any-type-both "$(printf 'usdt:%s:ut:%s\n' $T konst $T tick; printf 'uprobe:%s:%s\n' $T ut_many $T ut_mul)" \
  "$($ET -l "u*:$T:*k*"; $ET -l "u*:$T:ut_m*")"
if ! have bpftrace; then
  skip list-bash-vs-bpftrace "bpftrace missing: no listing to compare with"
  skip list-usdt-vs-bpftrace "bpftrace missing: no listing to compare with"
else
  # the same symbols as bpftrace for a stripped program (.dynsym only)
  bash=/bin/bash
  $ET -l "uprobe:$bash:*" > $out/bash.etrace 2>&1
  bpftrace -l "uprobe:$bash:*" > $out/bash.bpftrace 2>/dev/null
  if [ -s $out/bash.etrace ] && cmp -s $out/bash.etrace $out/bash.bpftrace; then pass list-bash-vs-bpftrace
  else fail list-bash-vs-bpftrace "$(diff $out/bash.bpftrace $out/bash.etrace | head)"; fi
  $ET -l "usdt:$T:*" > $out/usdt.etrace 2>&1
  bpftrace -l "usdt:$T:*" > $out/usdt.bpftrace 2>/dev/null
  if cmp -s $out/usdt.etrace $out/usdt.bpftrace; then pass list-usdt-vs-bpftrace
  else fail list-usdt-vs-bpftrace "$(diff $out/usdt.bpftrace $out/usdt.etrace | head)"; fi
fi
$ET -l "uprobe:/nonexistent/bin:*" > $out/list-missing.out 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "uprobe target file '/nonexistent/bin' does not exist" $out/list-missing.out
then pass list-missing-binary; else fail list-missing-binary "exit $rc: $(cat $out/list-missing.out)"; fi

# ------------------------------------------------------------ -p
# Two identical processes call ut_add; -p A sees only A's calls (5 of
# them), and the uprobe is attached in A alone.  (Elsewhere /pid == cpid/
# keeps out other runs of the helper: make check may be running in
# parallel in the same tree.)
# The pid of a background job is known before the job has exec'd the
# helper: until then /proc/PID/exe is the shell, and uprobe:FUNC (the
# process's own binary) looks FUNC up in bash.  Wait for the exec.
wait_exec() { # PID
  for _i in $(seq 250); do
    [ "$(readlink /proc/$1/exe 2>/dev/null)" = "$TA" ] && return 0
    sleep 0.02
  done
}
run_p() { # NAME PROG EXPECT: etrace -p on the first of two processes (PID in EXPECT)
  local name=$1 prog=$2
  $T -w 1500 add 5 usdt 5 guarded 5 & local a=$!
  $T -w 1500 add 9 usdt 9 guarded 9 & local b=$!
  wait_exec $a
  timeout 20 $ET -q -p $a -e "$prog" > $out/$name.out 2> $out/$name.err
  local rc=$?
  wait $a $b
  local want=${3//PID/$a}
  same "$name" "$(printf '%b' "$want")" "$(cat $out/$name.out) (exit $rc)"
}
run_p p-uprobe "uprobe:$T:ut_add { @[pid] = count(); @s[pid] = sum(arg1); }" \
  '\n\n@[PID]: 5\n@s[PID]: 150 (exit 0)'
run_p p-usdt "usdt:$T:ut:tick { @[pid] = count(); } usdt:$T:ut:guarded { @g = sum(arg0); }" \
  '\n\n@[PID]: 5\n@g: 15 (exit 0)'
# uprobe:FUNC with -p: the process's own executable
run_p p-own-binary "uprobe:ut_add { @ = count(); }" '\n\n@: 5 (exit 0)'
# usdt::PROVIDER:NAME with -p: the probes of every file the process maps;
# an empty provider matches any (usdt:BIN::NAME)
run_p p-usdt-any-file "usdt::ut:tick { @[pid] = count(); } usdt:::guarded { @g = sum(arg0); }" \
  '\n\n@[PID]: 5\n@g: 15 (exit 0)'
run_p p-usdt-any-provider "usdt:$T::t* { @[probe] = count(); }" \
  "\\n\\n@[usdt:$T:ut:tick]: 5 (exit 0)"

# -l -p PID: the uprobes of the process's executable and the USDT probes
# of every file it maps, named through /proc/PID/root as bpftrace names them
$T pause & lp=$!
wait_exec $lp
same list-p-usdt "$(printf "usdt:/proc/$lp/root%s:ut:%s\n" $TA guarded $TA konst $TA tick $TA twice)" \
  "$($ET -l 'usdt:*:ut:*' -p $lp)"
if have bpftrace; then
  $ET -l -p $lp > $out/list-p.etrace 2>&1
  bpftrace -l -p $lp > $out/list-p.bpftrace 2>/dev/null
  if grep -q "^uprobe:/proc/$lp/root$TA:ut_add$" $out/list-p.etrace &&
     cmp -s $out/list-p.etrace $out/list-p.bpftrace; then pass list-p-vs-bpftrace
  else fail list-p-vs-bpftrace "$(diff $out/list-p.bpftrace $out/list-p.etrace | head)"; fi
else
  skip list-p-vs-bpftrace "bpftrace missing: no listing to compare with"
fi
kill $lp; wait $lp 2>/dev/null

# ------------------------------------------------------------ addresses
# uprobe:BIN:ADDR (a link-time address; bpftrace names it in decimal)
addr=$(nm $T | awk '$3 == "ut_add" { print $1 }')
got=$(timeout 20 $ET -q -e "uprobe:$T:0x$addr /pid == cpid/ { @[probe, func] = count(); }" \
        -c "$T add 3" 2>&1)
same address "$(printf '\n\n@[uprobe:%s:%d, ut_add]: 3' $T $((0x$addr)))" "$got"
# FUNC+OFF at the second instruction of ut_greet: needs --unsafe
second=$(objdump -d --no-show-raw-insn $T | awk '/<ut_greet>:$/ { f = 1; next }
           f && /^ *[0-9a-f]+:/ { if (++n == 2) { sub(":", "", $1); print $1; exit } }')
start=$(nm $T | awk '$3 == "ut_greet" { print $1 }')
off=$((0x$second - 0x$start))
got=$(timeout 20 $ET -q --unsafe -e "uprobe:$T:ut_greet+$off /pid == cpid/ { @[probe, func] = count(); }" \
        -c "$T greet a greet b" 2>&1)
same offset-unsafe "$(printf '\n\n@[uprobe:%s:ut_greet+%d, ut_greet]: 2' $T $off)" "$got"
got=$($ET -q -e "uprobe:$T:ut_greet+$off { exit(); }" 2>&1)
rc=$?
if [ $rc = 1 ] && [[ $got == *"cannot check that ut_greet+$off is the start of an instruction"*"--unsafe"* ]]
then pass offset-needs-unsafe; else fail offset-needs-unsafe "exit $rc: $got"; fi
# "FUNC"+OFF: a quoted name then an offset (bpftrace's form for names
# holding ':' or '+')
got=$(timeout 20 $ET -q -e "uprobe:$T:\"ut_greet\"+0 /pid == cpid/ { @[probe, func] = count(); }" \
        -c "$T greet a greet b" 2>&1)
same quoted-name-offset "$(printf '\n\n@[uprobe:%s:ut_greet, ut_greet]: 2' $T)" "$got"
# An offset past the function's end (size from nm): the located error,
# then bpftrace's line
size=$((0x$(nm -S $T | awk '$4 == "ut_greet" { print $2 }')))
got=$($ET -q -e "uprobe:$T:ut_greet+100000 { exit(); }" 2>&1)
rc=$?
if [ $rc = 1 ] && [[ $got == "-e:1:1: error: offset 100000 is outside function 'ut_greet' (its size is $size)"* ]] &&
   [ "$(tail -1 <<< "$got")" = "ERROR: Offset outside the function bounds ('ut_greet' size is $size)" ]
then pass offset-outside-function; else fail offset-outside-function "exit $rc: $got"; fi
# An address no symbol holds (10, in the ELF header): bpftrace's line too
got=$($ET -q -e "uprobe:$T:10 { exit(); }" 2>&1)
rc=$?
if [ $rc = 1 ] && [[ $got == "-e:1:1: error: no function of $T holds address 0xa"*"--unsafe"* ]] &&
   [ "$(tail -1 <<< "$got")" = "ERROR: Could not resolve address: $T:0xa" ]
then pass address-unresolved; else fail address-unresolved "exit $rc: $got"; fi

# ------------------------------------------------------------ non-PIE
# An ET_EXEC binary: addresses are not file offsets (0x401000 -> 0x1000),
# for functions, USDT locations and the semaphore alike.
np=$out/uprobe_target_nopie
if ${CC:-cc} -O1 -g -no-pie -o $np tests/helpers/uprobe_target.c 2>$out/nopie.log; then
  got=$(timeout 20 $ET -q -e "uprobe:$np:ut_add { @a = sum(arg1); } uretprobe:$np:ut_add { @r = sum(retval); }
        usdt:$np:ut:guarded { @g = sum(arg0); } usdt:$np:ut:konst { @k = sum(arg1); }" \
        -c "$np add 4 guarded 4 konst 2" 2>&1)
  same non-pie "$(printf '\n\n@a: 100\n@g: 10\n@k: 28\n@r: 110')" "$got"
else
  fail non-pie "$(cat $out/nopie.log)"
fi

# ------------------------------------------------------------ semaphore
# The kernel increments a USDT semaphore in a running process while the
# probe is attached (uprobe ref_ctr_offset) and decrements it at detach.
# A private copy of the helper, so that no other test touches it.
cp $T $out/sem_target
$out/sem_target pause & sp=$!
for i in $(seq 200); do grep -q sem_target /proc/$sp/maps 2>/dev/null && break; sleep 0.05; done
sem_read() {
  local base sem
  base=$(awk -v f="$PWD/$out/sem_target" '$6 == f { split($1, a, "-"); print a[1]; exit }' /proc/$sp/maps)
  sem=$(nm $out/sem_target | awk '$3 == "ut_guarded_semaphore" { print $1 }')
  python3 -c "f = open('/proc/$sp/mem', 'rb'); f.seek(0x$base + 0x$sem); print(int.from_bytes(f.read(2), 'little'))"
}
before=$(sem_read)
# without -q, "Attaching 1 probe..." says the probe is in place
$ET -e "usdt:$out/sem_target:guarded { }" > $out/sem.out 2>&1 & tr=$!
for i in $(seq 200); do grep -q Attaching $out/sem.out && break; sleep 0.05; done
during=$(sem_read)
kill -INT $tr; wait $tr
after=$(sem_read)
kill $sp; wait $sp 2>/dev/null
same semaphore-count "0 1 0" "$before $during $after"

# ------------------------------------------------------------ exit() and drops
# A tight USDT loop (ut:tick for i = 1, 2, ...) that goes on after exit():
# the probes fire until etrace detaches them.  Records after exit() are
# never printed, so they must neither fill the ring buffer nor be counted
# as lost; every record before it is printed or counted.
exit_run() { # exit_run RING_KB N: the output in $out/exit.out and .err
  ETRACE_RINGBUF_KB=$1 timeout 60 $ET -q -c "$T usdt 1000000000" \
    -e "usdt:$TA:ut:tick /pid == cpid/ { printf(\"%d\\n\", arg0); if (arg0 == $2) { exit(7); } }" \
    > $out/exit.out 2> $out/exit.err
}
# 64 KiB holds the 2000 records before exit() (24 bytes each) even if
# etrace read none of them: all of them, and no loss
exit_run 64 2000; rc=$?
same exit-no-false-loss "$(seq 1 2000; echo "exit status 7")" \
  "$(grep . $out/exit.out; cat $out/exit.err; echo "exit status $rc")"
# 4 KiB (170 records) cannot hold what the loop makes while etrace prints:
# events 1..20000 are each printed (in order) or counted as lost, exactly;
# exit()'s own record is often lost too, and its stop flag ends the run
exit_run 4 20000; rc=$?
n=$(grep -c . $out/exit.out)
lost=$(sed -n 's/^etrace: lost \([0-9]*\) events: the ring buffer was full$/\1/p' $out/exit.err)
other=$(grep -v '^etrace: lost [0-9]* events: the ring buffer was full$' $out/exit.err)
order=$(grep . $out/exit.out | awk '$1 <= prev || $1 > 20000 { bad = 1 } { prev = $1 } END { print bad ? "broken" : "kept" }')
same exit-loss-counted-exactly "printed + lost = 20000, order kept, exit status 7, stderr ''" \
  "printed + lost = $((n + ${lost:-0})), order $order, exit status $rc, stderr '$other'"
