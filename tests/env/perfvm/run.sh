#!/bin/bash
# Watchpoint hits, checked inside Debian's own kernel booted under QEMU
# (the address form, and watchpoint:FUNCTION+argN with its setup uprobe,
# SIGSTOP/SIGCONT and unwatch() on a 6.1 kernel).
#
# This machine's hypervisor accepts breakpoint perf events but never
# delivers the debug-register trap (tests/probes/perf skips its hit counts), so
# the hits are checked in a guest: Debian's linux-image-amd64 under
# qemu-system-x86_64 with TCG (software emulation emulates the debug
# registers), from an initramfs holding busybox-static, a statically
# linked etrace and tests/helpers/perf_target.  The guest prints
# "RESULT NAME VALUE" lines on its serial console; this script checks them.
#
# Needs qemu-system-x86_64, busybox-static and the kernel package (fetched
# once with apt-get download into $PERFVM_CACHE, default
# /var/cache/etrace-vm).  Prints PASS / FAIL / SKIP lines.
. "$(dirname "$0")/../../lib.sh"
plan 10
out=tests/out/perfvm
mkdir -p $out
cache=${PERFVM_CACHE:-/var/cache/etrace-vm}


if [ "$(uname -m)" != x86_64 ]; then skip_rest "x86_64 only"; exit 0; fi
for tool in qemu-system-x86_64 busybox; do
  command -v $tool > /dev/null || { fail setup "$tool missing: run scripts/deps.sh --test"; exit 0; }
done
if ! file -L "$(command -v busybox)" | grep -q 'statically linked'; then
  fail setup "busybox is not static: install busybox-static"; exit 0
fi

# ------------------------------------------------------------ kernel
# the same Debian 6.1 kernel tests/env/qemu boots, from the same cache
kernel=$(scripts/qemu-kernel.sh 2> $out/download.log)
[ -n "$kernel" ] && [ -f "$kernel" ] ||
  { fail kernel "cannot fetch linux-image-amd64: $(tail -2 $out/download.log)"; exit 0; }

# ------------------------------------------------------------ initramfs
root=$out/root
rm -rf $root && mkdir -p $root/bin $root/proc $root/sys $root/dev $root/tmp
# the statically linked etrace the Makefile builds for tests/env/qemu
if ! make -s etrace.static > $out/link.log 2>&1 || ! cp etrace.static $root/bin/etrace; then
  fail build "static etrace: $(grep -v warning $out/link.log | head -5)"; exit 0
fi
if ! ${CC:-cc} -static -no-pie -O1 -o $root/bin/perf_target tests/helpers/perf_target.c 2> $out/cc.log; then
  fail build "static perf_target: $(cat $out/cc.log)"; exit 0
fi
cp "$(command -v busybox)" $root/bin/busybox
cat > $root/init <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
r() { echo "RESULT $1 $(echo $2)"; }
echo   # the console's first line carries terminal escapes
A=$(perf_target addr)
r kernel "$(uname -r)"
r addr "$A"
r bpcheck "$(perf_target bpcheck)"
r w "$(etrace -q -e "watchpoint:$A:8:w /pid == cpid/ { @ = count(); }" -c 'perf_target watch 1000' 2>&1)"
r rw "$(etrace -q -e "w:$A:8:rw /pid == cpid/ { @ = count(); }" -c 'perf_target watch 1000' 2>&1)"
r probe "$(etrace -q -e "watchpoint:$A:8:w { @[probe, comm] = count(); }" -c 'perf_target watch 7' 2>&1)"
r printf "$(etrace -q -e "watchpoint:$A:8:w { printf(\"hit %s\\n\", comm); }" -c 'perf_target watch 2' 2>&1)"
r arg "$(etrace -q -e 'watchpoint:bump+arg1:8:w { @[probe] = count(); }' -c 'perf_target watcharg 3 50' 2>&1)"
r argregs "$(etrace -q -e 'watchpoint:bump+arg1:8:w { @ = count(); }' -c 'perf_target watcharg 6 10' 2>&1)"
r unwatch "$(etrace -q -e 'uprobe:/bin/perf_target:bump { @a = arg1; } watchpoint:bump+arg1:8:w { @n = count(); unwatch(@a); } END { clear(@a); }' -c 'perf_target watcharg 1 20' 2>&1)"
perf_target wait > /tmp/pid &
W=$!
sleep 1
r pid_none "$(etrace -q -p $(cat /tmp/pid) -e "watchpoint:$A:8:w { @ = count(); } interval:ms:300 { exit(); }" 2>&1)"
kill $W
echo RESULT done
poweroff -f
EOF
chmod +x $root/init
(cd $root && find . | busybox cpio -o -H newc 2>/dev/null) | gzip > $out/initrd.gz

# ------------------------------------------------------------ boot
timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
  -kernel "$kernel" -initrd $out/initrd.gz -append "console=ttyS0 quiet panic=-1" \
  > $out/console.log 2>&1
res() { sed -n "s/^RESULT $1 //p" $out/console.log | tr -d '\r' | head -1; }
if ! grep -q '^RESULT done' $out/console.log; then
  fail boot "the guest did not finish: $(tail -5 $out/console.log)"; exit 0
fi
pass boot
k=$(res kernel); bp=$(res bpcheck)
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$3', got '$2' (kernel $k)"; fi; }
check bpcheck "$bp" "bp_hits=10"
# the helper writes `watched` 1000 times and reads it 1000 times
check watchpoint_w "$(res w)" "@: 1000"
check watchpoint_rw "$(res rw)" "@: 2000"
addr=$(printf '%d' "$(res addr)")
check watchpoint_probe "$(res probe)" "@[watchpoint:$addr:8:w, perf_target]: 7"
check watchpoint_printf "$(res printf)" "hit perf_target hit perf_target"
# -p on a process that never writes: attached to that process only, no hits
check watchpoint_p "$(res pid_none)" "@: 0"
# watchpoint:bump+arg1: perf_target watcharg N K writes each of N cells K
# times through bump(1, &cell); the process waits at each call until its
# cell is watched, so every write is seen while debug registers last (4)
oor='Failed to attach watchpoint probe. You are out of watchpoint registers.'
check watchpoint_func_arg "$(res arg)" "@[watchpoint:/bin/perf_target:bump:1:8:w]: 150"
check watchpoint_func_out_of_registers "$(res argregs)" "$oor $oor @: 40"
check watchpoint_unwatch "$(res unwatch)" "@n: 1"
