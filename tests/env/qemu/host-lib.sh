# Sourced by tests/env/qemu/run.sh and tests/env/qemu-arm64/run.sh after
# tests/lib.sh: packing the initramfs, booting it once under qemu (TCG)
# and passing the guest's result lines on.  GUEST names the suite in the
# result lines ("qemu", "qemu-arm64"), T is the output directory.

# pack_initramfs ROOT BUSYBOX: ROOT as a gzipped newc cpio, $T/initramfs.gz,
# with the guest's shared helpers (guest-lib.sh) and /init added
pack_initramfs() {
  cp tests/env/qemu/init tests/env/qemu/guest-lib.sh "$1"/
  (cd "$1" && find . | "$2" cpio -o -H newc 2>/dev/null) | gzip -1 > $T/initramfs.gz
}

# boot QEMU-COMMAND ARGS...: runs the guest (at most QEMU_TIMEOUT s) with
# its serial console in $T/console.txt; sets qemu_rc, wall (seconds), up
# and down (the guest's uptime when its cases started and ended; down is
# empty when the guest did not finish)
boot() {
  _start=$(date +%s.%N)
  timeout ${QEMU_TIMEOUT:-900} "$@" -accel tcg -display none -monitor none -nic none \
    -no-reboot -serial file:$T/serial.log -initrd $T/initramfs.gz > $T/qemu.log 2>&1
  qemu_rc=$?
  wall=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $_start }")
  tr -d '\r' < $T/serial.log > $T/console.txt
  grep -E "^(PASS|FAIL|SKIP) $GUEST/|^#" $T/console.txt
  up=$(sed -n 's/^ETRACE-GUEST-START //p' $T/console.txt)
  down=$(sed -n 's/^ETRACE-GUEST-END //p' $T/console.txt)
}

# report_boot WHAT: the boot_and_run case; WHAT describes the machine
report_boot() {
  if [ -n "$down" ]; then
    echo "PASS $GUEST/boot_and_run"
    echo "# $1, init started ${up} s after boot, cases done at ${down} s, wall $wall s"
  else
    echo "FAIL $GUEST/boot_and_run (qemu exit status $qemu_rc; the guest did not finish: see $T/console.txt)"
    tail -20 $T/console.txt | sed 's/^/#   /'
  fi
}
