#!/bin/sh
# Kernel-function probes (kprobe, kretprobe, fentry, fexit) end to end on
# a kernel that has them: Debian's own 6.1 kernel (scripts/qemu-kernel.sh
# fetches it into a cache) booted once under qemu-system-x86_64 with
# software emulation (TCG: a KVM guest hangs at boot on these machines),
# from an initramfs of busybox-static, a statically linked etrace and the
# statically linked workload helper.  tests/env/qemu/guest.sh runs the cases
# inside and prints PASS/FAIL lines on the serial console; this script
# passes them on.  One boot (~10 s unloaded) runs every case.
. "$(dirname "$0")/../../lib.sh"
GUEST_VALUES="fold var_paths key_regions foreach_ctx foreach_ctx_raw_tp record_comm keys_records
  map_value_reuse syscall_regs syscall_exit_alone comm_shared comm_padded record_operands identity_ops signed_loads"
plan $((26 + 15))  # the cases of guest.sh, run in the booted kernel, and one per value program
T=tests/out/qemu
mkdir -p $T
GUEST=qemu
. tests/env/qemu/host-lib.sh
setup_fail() { echo "FAIL qemu/setup ($1)"; exit 1; }

make -s etrace.static tests/bin/static/workload > $T/build.log 2>&1 ||
  setup_fail "cannot build etrace.static: see $T/build.log"
command -v qemu-system-x86_64 > /dev/null || setup_fail "qemu-system-x86_64 missing: apt-get install qemu-system-x86"
BB=$(command -v busybox)
[ -n "$BB" ] && ! ldd "$BB" > /dev/null 2>&1 || setup_fail "no static busybox: apt-get install busybox-static"
KERNEL=$(scripts/qemu-kernel.sh 2> $T/kernel.log) || setup_fail "cannot fetch the kernel: $(tail -1 $T/kernel.log)"

# The initramfs.
R=$T/root
rm -rf $R
mkdir -p $R/bin $R/proc $R/sys $R/dev $R/tmp $R/codegen
cp "$BB" $R/bin/busybox
cp tests/env/qemu/guest.sh $R/
cp etrace.static $R/etrace
cp tests/bin/static/workload $R/workload
cp tests/language/codegen/kfunc_*.bt $R/codegen/
# value programs whose code the 6.1 verifier must take as well: folded
# constants, variables not zeroed or not stored, keys kept per region,
# record fields copied with loads, for-loop callbacks reading the context,
# syscall arguments through tp_btf and raw_tp
mkdir -p $R/values
for v in $GUEST_VALUES; do cp tests/language/values/$v.bt $R/values/; done
pack_initramfs $R "$BB"

boot qemu-system-x86_64 -m 512 -smp 1 -kernel "$KERNEL" \
  -append "console=ttyS0 quiet loglevel=1 panic=-1"
report_boot "qemu (TCG): $(basename "$KERNEL")"
