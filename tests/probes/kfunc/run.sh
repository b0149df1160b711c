#!/bin/sh
# Kernel-function probes on the host kernel.  This machine's kernel has
# no kprobes and refuses fentry programs (EPERM): compiling a kprobe,
# kretprobe, fentry or fexit program must then fail with a located error
# that names the missing kernel feature and the closest tracepoint, exit
# status 1, before anything is loaded.  On a kernel with kprobes the same
# programs must load instead.  (End-to-end runs are in tests/env/qemu, on a
# kernel that has every hook.)
. "$(dirname "$0")/../../lib.sh"
plan 12
ET=${ETRACE:-./etrace}
T=tests/out/kfunc
mkdir -p $T

# e NAME PROGRAM EXPECTED-FIRST-LINE: the exact error, its source line
# and caret, exit status 1.
e() {
  name=$1 prog=$2 want=$3
  printf '%s\n' "$prog" > $T/$name.bt
  $ET $T/$name.bt > /dev/null 2> $T/$name.err
  rc=$?
  line=$(printf '%s' "$want" | sed 's/^[^:]*:\([0-9]*\):.*/\1/')
  col=$(printf '%s' "$want" | sed 's/^[^:]*:[0-9]*:\([0-9]*\):.*/\1/')
  { printf '%s\n' "$want"; sed -n "${line}p" $T/$name.bt; printf "%${col}s\n" '^'; } > $T/$name.want
  if [ $rc -eq 1 ] && diff -u $T/$name.want $T/$name.err > $T/$name.diff; then
    echo "PASS kfunc/$name"
  else
    echo "FAIL kfunc/$name (exit status $rc)"; cat $T/$name.diff
  fi
}

if [ ! -e /sys/bus/event_source/devices/kprobe ]; then
  F=tests/out/kfunc
  e kprobe_no_kernel_support 'kprobe:vfs_read { @ = count(); }' \
    "$F/kprobe_no_kernel_support.bt:1:1: error: kprobe:vfs_read: this kernel has no kprobes (CONFIG_KPROBES is not set) and cannot run fentry programs instead (loading one fails: Operation not permitted); the closest tracepoint is tracepoint:syscalls:sys_enter_read"
  e kretprobe_no_kernel_support 'kretprobe:vfs_read { @ = hist(retval); }' \
    "$F/kretprobe_no_kernel_support.bt:1:1: error: kretprobe:vfs_read: this kernel has no kprobes (CONFIG_KPROBES is not set) and cannot run fexit programs instead (loading one fails: Operation not permitted); the closest tracepoint is tracepoint:syscalls:sys_exit_read"
  e kprobe_tcp_connect_hint 'k:tcp_v4_connect { @ = count(); }' \
    "$F/kprobe_tcp_connect_hint.bt:1:1: error: kprobe:tcp_v4_connect: this kernel has no kprobes (CONFIG_KPROBES is not set) and cannot run fentry programs instead (loading one fails: Operation not permitted); the closest tracepoint is tracepoint:sock:inet_sock_set_state"
  e kprobe_openat_hint 'k:do_sys_openat2 { @ = count(); }' \
    "$F/kprobe_openat_hint.bt:1:1: error: kprobe:do_sys_openat2: this kernel has no kprobes (CONFIG_KPROBES is not set) and cannot run fentry programs instead (loading one fails: Operation not permitted); the closest tracepoint is tracepoint:syscalls:sys_enter_openat"
  e fentry_no_kernel_support 'BEGIN { }
fentry:vfs_write { @[args.count] = count(); }' \
    "$F/fentry_no_kernel_support.bt:2:1: error: fentry:vmlinux:vfs_write: this kernel cannot run fentry programs (loading one fails: Operation not permitted) and has no kprobes to fall back on (CONFIG_KPROBES is not set); the closest tracepoint is tracepoint:syscalls:sys_enter_write"
  e fexit_old_name 'kretfunc:vfs_read { @ = sum(retval); }' \
    "$F/fexit_old_name.bt:1:1: error: fexit:vmlinux:vfs_read: this kernel cannot run fexit programs (loading one fails: Operation not permitted) and has no kprobes to fall back on (CONFIG_KPROBES is not set); the closest tracepoint is tracepoint:syscalls:sys_exit_read"
  e kprobe_no_tracepoint 'kprobe:vfs_fsync { @ = count(); }' \
    "$F/kprobe_no_tracepoint.bt:1:1: error: kprobe:vfs_fsync: this kernel has no kprobes (CONFIG_KPROBES is not set) and cannot run fentry programs instead (loading one fails: Operation not permitted)"
  e kprobe_wildcard 'kprobe:vfs_rea* { @[func] = count(); }' \
    "$F/kprobe_wildcard.bt:1:1: error: kprobe:vfs_rea*: this kernel has no kprobes (CONFIG_KPROBES is not set) and cannot run fentry programs instead (loading one fails: Operation not permitted)"
  e kprobe_offset 'kprobe:vfs_read+4 { @ = count(); }' \
    "$F/kprobe_offset.bt:1:1: error: kprobe:vfs_read+4: this kernel has no kprobes (CONFIG_KPROBES is not set), which probes at a function offset need; the closest tracepoint is tracepoint:syscalls:sys_enter_read"
  # --dry-run does not ask the kernel: the listing is still produced.
  $ET --dry-run -d dis -e 'kprobe:vfs_read { @ = count(); }' > $T/dry.out 2>&1
  if [ $? -eq 0 ] && grep -q '^kprobe:vfs_read:$' $T/dry.out; then
    echo "PASS kfunc/dry_run_without_kernel_support"
  else
    echo "FAIL kfunc/dry_run_without_kernel_support"; cat $T/dry.out
  fi
else
  # A kernel with kprobes: the same programs load.
  for p in 'kprobe:vfs_read { @ = count(); }' 'kretprobe:vfs_read { @ = hist(retval); }'; do
    if $ET --verify -e "$p" > $T/verify.out 2>&1; then
      echo "PASS kfunc/loads: $p"
    else
      echo "FAIL kfunc/loads: $p"; cat $T/verify.out
    fi
  done
fi

# -l lists kernel functions for kprobe globs, -lv fentry/fexit parameters
# from BTF (whether or not this kernel can attach to them).
$ET -l 'kprobe:vfs_rea*' > $T/list.out 2>&1
if grep -qx 'kprobe:vfs_read' $T/list.out && ! grep -qv '^kprobe:vfs_rea' $T/list.out; then
  echo "PASS kfunc/list_kprobe_glob"
else
  echo "FAIL kfunc/list_kprobe_glob"; head $T/list.out
fi
$ET -lv 'fexit:vfs_read' > $T/listv.out 2>&1
printf 'fexit:vmlinux:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n    loff_t * pos\n    ssize_t retval\n' > $T/listv.want
if diff -u $T/listv.want $T/listv.out > $T/listv.diff; then
  echo "PASS kfunc/list_fexit_args"
else
  echo "FAIL kfunc/list_fexit_args"; cat $T/listv.diff
fi
