#!/bin/sh
# etrace on arm64, end to end (make check, and make qemu-check-arm64 alone;
# about 60-80 s of make check's time):
# Debian's arm64 kernel (6.1: kprobes, uprobes, BTF; fentry loads but
# cannot attach before 6.4) booted once under qemu-system-aarch64 -M virt -cpu max with
# software emulation (TCG), from an initramfs of busybox-static:arm64
# (scripts/qemu-kernel-arm64.sh fetches both into the qemu cache), the
# cross-built static etrace-arm64 and the arm64 test helpers (make
# qemu-check-arm64 builds them; scripts/deps-arm64.sh installs the cross
# toolchain).  tests/env/qemu-arm64/guest.sh runs the cases inside and
# prints PASS/FAIL lines on the serial console (tests/env/qemu/init starts
# it); this script passes them on, with the boot and suite times, and
# reads etrace record's trace back with babeltrace2.  About 60 s.
. "$(dirname "$0")/../../lib.sh"
GUEST=qemu-arm64
. tests/env/qemu/host-lib.sh
G=tests/env/qemu-arm64
plan $(( $(grep -cE '^(t|tfail) ' $G/guest.sh) + 2 ))  # the guest's cases, the CTF trace, the boot
T=tests/out/qemu-arm64
mkdir -p $T
setup_fail() { echo "FAIL qemu-arm64/setup ($1)"; exit 1; }

make -s etrace-arm64 tests/bin/arm64/workload tests/bin/arm64/uprobe_target \
  tests/bin/arm64/stack_target > $T/build.log 2>&1 ||
  setup_fail "cannot build etrace-arm64: see $T/build.log (scripts/deps-arm64.sh installs the cross toolchain)"
command -v qemu-system-aarch64 > /dev/null ||
  setup_fail "qemu-system-aarch64 missing: apt-get install qemu-system-arm"
scripts/qemu-kernel-arm64.sh > $T/fetch.out 2> $T/fetch.log ||
  setup_fail "cannot fetch the arm64 kernel: $(tail -1 $T/fetch.log)"
KERNEL=$(sed -n 1p $T/fetch.out) BB=$(sed -n 2p $T/fetch.out)

# The initramfs.
R=$T/root
rm -rf $R
mkdir -p $R/bin $R/proc $R/sys $R/dev $R/tmp
cp "$BB" $R/bin/busybox
cp $G/guest.sh $R/
cp etrace-arm64 $R/etrace
cp tests/bin/arm64/workload tests/bin/arm64/uprobe_target tests/bin/arm64/stack_target $R/
HOSTBB=$(command -v busybox) || setup_fail "no busybox on the host (its cpio packs the initramfs)"
pack_initramfs $R "$HOSTBB"

boot qemu-system-aarch64 -M virt -cpu max -m 1024 -smp 1 -kernel "$KERNEL" \
  -append "console=ttyAMA0 quiet loglevel=1 panic=-1"
# etrace record's trace, read back here with babeltrace2: the three
# openat calls of the workload, with their arguments by name.
rm -rf $T/trace
sed -n '/^ETRACE-CTF-BEGIN$/,/^ETRACE-CTF-END$/p' $T/console.txt | sed '1d;$d' |
  base64 -d 2>/dev/null | tar -C $T -xz 2>/dev/null
if ! [ -d $T/trace ]; then
  echo "FAIL qemu-arm64/record_ctf (no trace came back from the guest)"
elif ! command -v babeltrace2 > /dev/null; then
  echo "SKIP qemu-arm64/record_ctf: no babeltrace2 (apt-get install babeltrace2)"
else
  n=$(babeltrace2 $T/trace 2> $T/bt.err | grep -c 'filename = "/nonexistent"')
  if [ "$n" = 3 ]; then echo "PASS qemu-arm64/record_ctf"
  else echo "FAIL qemu-arm64/record_ctf ($n events with filename = \"/nonexistent\", wanted 3)"
  fi
fi
report_boot "qemu-system-aarch64 (TCG, -cpu max): $(basename "$KERNEL")"
