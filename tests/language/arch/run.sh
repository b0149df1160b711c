#!/bin/sh
# Code generation for every architecture etrace has a register table for,
# on whatever machine runs the suite: `etrace --arch A --dry-run -d dis`.
# Golden listings NAME.A.dis (or the located error NAME.A.err, for a
# program using another architecture's register names) for each NAME.bt,
# then value checks that name the pt_regs offset each source construct
# must read, so a change made for x86-64 cannot silently move arm64's
# arguments.  `run.sh --update` (make update-goldens) rewrites the goldens.
. "$(dirname "$0")/../../lib.sh"
ET=${ETRACE:-./etrace}
out=tests/out/arch
mkdir -p $out
update=; update_mode "$@" && update=1
archs="x86_64 arm64"
nbt=$(ls tests/language/arch/*.bt | wc -l)
plan $((nbt * 3 + 20))
need_files $ET tests/bin/uprobe_target || exit 1
# listings for one kernel version, whatever the host runs (the code differs
# before 6.4 and 6.6: runtime/env.c rt_kernel_at_least); nothing here is loaded
export ETRACE_KERNEL_VERSION=6.18

for bt in tests/language/arch/*.bt; do
  name=$(basename "$bt" .bt)
  for a in $archs; do
    g=tests/language/arch/$name.$a
    $ET --arch $a --dry-run -d dis "$bt" > $out/$name.$a.dis 2> $out/$name.$a.err
    if [ -s $out/$name.$a.err ] && ! [ -s $out/$name.$a.dis ]; then kind=err; else kind=dis; fi
    if [ -n "$update" ]; then
      rm -f $g.dis $g.err; cp $out/$name.$a.$kind $g.$kind
    fi
    if ! [ -f $g.$kind ]; then
      fail $name.$a "wrote $kind, golden has $(ls $g.* 2>/dev/null)" $out/$name.$a.err
    elif diff -u $g.$kind $out/$name.$a.$kind > $out/$name.$a.diff; then
      pass $name.$a
    else
      fail $name.$a "$(head -40 $out/$name.$a.diff)"
    fi
  done
done

# The cross-built etrace-arm64 (make ARCH=arm64) under qemu-user picks
# arm64's table by itself: its listings are the arm64 goldens.
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
for bt in tests/language/arch/*.bt; do
  name=$(basename "$bt" .bt)
  if ! [ -x ./etrace-arm64 ] || [ -z "$qemu" ]; then
    skip native-arm64.$name "no ./etrace-arm64 (make ARCH=arm64) or no qemu-aarch64"; continue
  fi
  g=tests/language/arch/$name.arm64
  $qemu ./etrace-arm64 --dry-run -d dis "$bt" > $out/native.$name.dis 2> $out/native.$name.err
  if [ -f $g.dis ]; then kind=dis; else kind=err; fi
  if diff -u $g.$kind $out/native.$name.$kind > $out/native.$name.diff; then
    pass native-arm64.$name
  else
    fail native-arm64.$name "$(head -40 $out/native.$name.diff)"
  fi
done

# has NAME ARCH 'PROGRAM' 'LISTING LINE PATTERN'...: every pattern (an ERE
# on one listing line, after the "N: " index) matches some line.
has() {
  _n=$1 _a=$2 _p=$3; shift 3
  $ET --arch $_a --dry-run -d dis -e "$_p" > $out/v-$_n.dis 2> $out/v-$_n.err
  for _pat in "$@"; do
    if ! sed 's/^ *[0-9]*: //' $out/v-$_n.dis | grep -Eq "^($_pat)\$"; then
      fail $_n "no line '$_pat'" $out/v-$_n.err; return
    fi
  done
  pass $_n
}
U=uprobe:tests/bin/uprobe_target
# arm64 pt_regs: x0..x30 at 8*n, sp 248, pc 256, orig_x0 272; args x0..x7,
# then the stack from sp itself (the return address is in x30)
has arm64-arg0 arm64 "$U:ut_many { @ = arg0; }" 'r0 = \*\(u64 \*\)\(r1 \+0\)'
has arm64-arg5 arm64 "$U:ut_many { @ = arg5; }" 'r0 = \*\(u64 \*\)\(r1 \+40\)'
has arm64-arg7 arm64 "$U:ut_many { @ = arg7; }" 'r0 = \*\(u64 \*\)\(r1 \+56\)'
has arm64-arg8-stack arm64 "$U:ut_many { @ = arg8; }" 'r3 = \*\(u64 \*\)\(r1 \+248\)'
has arm64-arg9-stack arm64 "$U:ut_many { @ = arg9; }" 'r3 = \*\(u64 \*\)\(r1 \+248\)' 'r3 \+= 8'
has arm64-retval arm64 "uretprobe:tests/bin/uprobe_target:ut_add { @ = retval; }" 'r0 = \*\(u64 \*\)\(r1 \+0\)'
has arm64-reg-x1 arm64 "$U:ut_add { @ = reg(\"x1\"); }" 'r0 = \*\(u64 \*\)\(r1 \+8\)'
has arm64-reg-x30 arm64 "$U:ut_add { @ = reg(\"x30\"); }" 'r0 = \*\(u64 \*\)\(r1 \+240\)'
has arm64-reg-sp-pc arm64 "$U:ut_add { @a = reg(\"sp\"); @b = reg(\"pc\"); }" \
  'r0 = \*\(u64 \*\)\(r1 \+248\)' 'r0 = \*\(u64 \*\)\(r1 \+256\)'
# the generic syscall table: openat is 56 (x86-64: 257), a constant when
# the probe reads args.__syscall_nr; arguments from x0 (at sys_enter it
# still holds the first), x1..; syscallno (280) is 32 bits.  tp_btf
# programs load the registers from the typed struct pt_regs *, raw_tp
# ones (ETRACE_NO_TP_BTF=1) copy them into the record with probe reads.
has arm64-syscall-openat-btf arm64 \
  'tracepoint:syscalls:sys_enter_openat { printf("%d %d %d\n", args.__syscall_nr, args.dfd, args.flags); }' \
  'r0 = 56' 'r0 = \*\(u64 \*\)\(r0 \+0\)' 'r0 = \*\(u64 \*\)\(r0 \+16\)'
has arm64-syscall-read-btf arm64 'tracepoint:syscalls:sys_exit_read { @ = args.ret; @nr = args.__syscall_nr; }' \
  'r0 = \*\(u32 \*\)\(r0 \+280\)' 'if r0 != 63 goto .*' 'r0 = 63'
export ETRACE_NO_TP_BTF=1
has arm64-syscall-openat arm64 \
  'tracepoint:syscalls:sys_enter_openat { printf("%d %d %d\n", args.__syscall_nr, args.dfd, args.flags); }' \
  '\*\(u64 \*\)\(r10 -[0-9]+\) = 56' 'r3 = r6' 'r3 \+= 16'
has arm64-syscall-read arm64 'tracepoint:syscalls:sys_exit_read { @ = args.ret; @nr = args.__syscall_nr; }' \
  '\*\(u64 \*\)\(r10 -[0-9]+\) = 63' 'r3 \+= 280' 'r0 = \*\(u32 \*\)\(r10 -[0-9]+\)'
unset ETRACE_NO_TP_BTF
# x86-64: rdi rsi rdx rcx r8 r9, stack past the return address, rax
has x86-arg0-arg5 x86_64 "$U:ut_many { @a = arg0; @b = arg5; }" \
  'r0 = \*\(u64 \*\)\(r1 \+112\)' 'r0 = \*\(u64 \*\)\(r1 \+64\)'
has x86-arg6-stack x86_64 "$U:ut_many { @ = arg6; }" 'r3 = \*\(u64 \*\)\(r1 \+152\)' 'r3 \+= 8'
has x86-retval x86_64 "uretprobe:tests/bin/uprobe_target:ut_add { @ = retval; }" 'r0 = \*\(u64 \*\)\(r1 \+80\)'
has x86-syscall-openat-btf x86_64 \
  'tracepoint:syscalls:sys_enter_openat { printf("%d %d %d\n", args.__syscall_nr, args.dfd, args.flags); }' \
  'r0 = 257' 'r0 = \*\(u64 \*\)\(r0 \+112\)' 'r0 = \*\(u64 \*\)\(r0 \+96\)'
has x86-syscall-read-btf x86_64 'tracepoint:syscalls:sys_exit_read { @ = args.ret; }' \
  'r0 = \*\(u64 \*\)\(r0 \+120\)' 'if r0 != 0 goto .*'
export ETRACE_NO_TP_BTF=1
has x86-syscall-openat x86_64 \
  'tracepoint:syscalls:sys_enter_openat { printf("%d %d %d\n", args.__syscall_nr, args.dfd, args.flags); }' \
  '\*\(u64 \*\)\(r10 -[0-9]+\) = 257' 'r3 \+= 112' 'r3 \+= 96'
unset ETRACE_NO_TP_BTF
# USDT notes as aarch64 GCC writes them, read from the cross-built helper
# (make tests/bin/arm64/uprobe_target): ut:konst is "-4@5 -8@[x1, 8]", a
# constant and a load from x1 + 8 (the blank inside the brackets is part of
# the spec)
if [ -f tests/bin/arm64/uprobe_target ]; then
  has arm64-usdt-notes arm64 "usdt:tests/bin/arm64/uprobe_target:ut:konst { @[arg0, arg1] = count(); }" \
    'r0 = 5' 'r3 = \*\(u64 \*\)\(r1 \+8\)' 'r3 \+= 8'
else
  skip arm64-usdt-notes "no tests/bin/arm64/uprobe_target (make tests/bin/arm64/uprobe_target)"
fi
