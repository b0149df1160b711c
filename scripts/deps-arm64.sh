#!/bin/sh
# The arm64 cross build (make ARCH=arm64) and its host-side checks (Debian
# 12, root): Debian's aarch64 cross compiler, the arm64 -dev packages of
# etrace's libraries through multiarch (their static archives land in
# /usr/lib/aarch64-linux-gnu, where the cross gcc looks), and qemu-user to
# run the result (tests/language/arch).  About 65 s on a fresh machine here.
set -e
pkgs="gcc-aarch64-linux-gnu libc6-dev:arm64 libbpf-dev:arm64 libelf-dev:arm64 libdw-dev:arm64"
pkgs="$pkgs zlib1g-dev:arm64 liblzma-dev:arm64 libbz2-dev:arm64 qemu-user-static"
# sys/sdt.h for the arm64 helpers' USDT probes; qemu-system-aarch64 boots
# the kernel of make qemu-check-arm64 (tests/env/qemu-arm64).
pkgs="$pkgs systemtap-sdt-dev:arm64 qemu-system-arm"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
