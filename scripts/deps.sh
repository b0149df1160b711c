#!/bin/sh
# Install everything etrace needs to build, test and benchmark (Debian 12, root).
set -e
pkgs="build-essential pkg-config libbpf-dev libelf-dev zlib1g-dev bpftool python3"
# clang and its runtime build the libFuzzer target (make fuzz, CI smoke).
pkgs="$pkgs clang libclang-rt-14-dev"
# sys/sdt.h: the USDT probes of tests/helpers/uprobe_target.c.
pkgs="$pkgs systemtap-sdt-dev"
# babeltrace2 reads back every CTF trace the tests record (etrace record).
pkgs="$pkgs babeltrace2"
# valgrind: tests/valgrind (memcheck over a run using every feature).
# libcap2-bin: capsh, for the privilege tests (tests/privs).
pkgs="$pkgs valgrind libcap2-bin"
# bpftrace is the reference the tests and benchmarks compare against.
pkgs="$pkgs bpftrace"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi
