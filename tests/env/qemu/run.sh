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
plan 23  # the cases of guest.sh, run in the booted kernel
T=tests/out/qemu
mkdir -p $T
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
cp tests/env/qemu/init tests/env/qemu/guest.sh $R/
cp etrace.static $R/etrace
cp tests/bin/static/workload $R/workload
cp tests/language/codegen/kfunc_*.bt $R/codegen/
(cd $R && find . | "$BB" cpio -o -H newc 2>/dev/null) | gzip -1 > $T/initramfs.gz

start=$(date +%s.%N)
timeout ${QEMU_TIMEOUT:-900} qemu-system-x86_64 -machine accel=tcg -m 512 -smp 1 \
  -display none -monitor none -nic none -no-reboot -serial file:$T/serial.log \
  -kernel "$KERNEL" -initrd $T/initramfs.gz \
  -append "console=ttyS0 quiet loglevel=1 panic=-1" > $T/qemu.log 2>&1
rc=$?
end=$(date +%s.%N)
tr -d '\r' < $T/serial.log > $T/console.txt
grep -E '^(PASS|FAIL) qemu/|^#' $T/console.txt
up=$(sed -n 's/^ETRACE-GUEST-START //p' $T/console.txt)
down=$(sed -n 's/^ETRACE-GUEST-END //p' $T/console.txt)
if [ -n "$down" ]; then
  echo "PASS qemu/boot_and_run"
  echo "# qemu (TCG): $(basename "$KERNEL"), init started ${up} s after boot, cases done at ${down} s, wall $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
else
  echo "FAIL qemu/boot_and_run (qemu exit status $rc; the guest did not finish: see $T/console.txt)"
  tail -20 $T/console.txt | sed 's/^/#   /'
fi
