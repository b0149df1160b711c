#!/bin/sh
# Install everything etrace needs to build, test and benchmark (Debian 12, root).
set -e
pkgs="build-essential pkg-config libbpf-dev libelf-dev zlib1g-dev bpftool python3"
# libdw (static, with its liblzma/libbz2): DWARF-typed uprobe arguments.
pkgs="$pkgs libdw-dev liblzma-dev libbz2-dev"
# clang and its runtime build the libFuzzer target (make fuzz, CI smoke).
pkgs="$pkgs clang libclang-rt-14-dev"
# sys/sdt.h: the USDT probes of tests/helpers/uprobe_target.c.
pkgs="$pkgs systemtap-sdt-dev"
# babeltrace2 reads back every CTF trace the tests record (etrace record).
pkgs="$pkgs babeltrace2"
# tests/env/perfvm boots Debian's kernel under QEMU (TCG) from a busybox
# initramfs: watchpoint hits, which this VM's hypervisor never delivers.
pkgs="$pkgs qemu-system-x86 busybox-static"
# libc6-dbg: libc's symbols for user stacks (tests/output/stacks names
# __libc_start_call_main, which only the detached debug symbols have).
pkgs="$pkgs libc6-dbg"
# valgrind: tests/env/valgrind (memcheck over a run using every feature).
# libcap2-bin: capsh, for the privilege tests (tests/env/privs).
pkgs="$pkgs valgrind libcap2-bin"
# bpftrace is the reference the tests and benchmarks compare against;
# dpkg-dev unpacks its source package (tests/conformance, at test time).
pkgs="$pkgs bpftrace dpkg-dev"
# Flame-graph tests: xmllint reads the SVG back, Debian's Chromium opens it
# (driven by playwright-core from npm), perf profiles a real run to draw.
pkgs="$pkgs libxml2-utils chromium linux-perf"
# tests/exporter: a real Prometheus (and promtool) scraping etrace exporter.
pkgs="$pkgs prometheus"
# Node.js and npm for those tests (the machine's own when it has them).
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi
# tests/env/qemu boots Debian's own 6.1 kernel (kprobes, fentry, fexit) under
# qemu with software emulation, from an initramfs holding busybox-static;
# the kernel is fetched into a cache, not installed.
qemu_missing=""
for p in qemu-system-x86 busybox-static; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || qemu_missing="$qemu_missing $p"
done
if [ -n "$qemu_missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $qemu_missing >/dev/null
fi
"$(dirname "$0")"/qemu-kernel.sh >/dev/null
# The flame-graph tests' npm packages (playwright-core, ajv, speedscope's
# file-format schema), pinned by tests/output/flame/package-lock.json.
flame="$(dirname "$0")/../tests/output/flame"
if [ ! -d "$flame/node_modules/playwright-core" ] ||
   [ "$flame/package-lock.json" -nt "$flame/node_modules/.package-lock.json" ]; then
  (cd "$flame" && npm ci --no-audit --no-fund --loglevel=error)
fi
# lttng-relayd (tests/relay, bench/relay.sh) and LTTng's analyses, which read
# a --profile kernel trace streamed through it.
relay_missing=""
for p in lttng-tools python3-lttnganalyses; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || relay_missing="$relay_missing $p"
done
if [ -n "$relay_missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $relay_missing >/dev/null
fi
# The arm64 cross build and its checks (make ARCH=arm64, tests/language/arch).
"$(dirname "$0")"/deps-arm64.sh
