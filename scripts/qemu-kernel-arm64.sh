#!/bin/sh
# Fetch what `make qemu-check-arm64` boots, without installing it, into the
# cache scripts/qemu-kernel.sh uses: Debian's arm64 kernel (the package
# linux-image-arm64 points to; its vmlinuz is a gzipped Image, which qemu
# loads as is) and busybox-static:arm64 (its binary only: the amd64
# busybox-static stays installed).  Needs the arm64 architecture in dpkg
# (scripts/deps-arm64.sh adds it).  Prints the kernel's path, then
# busybox's.
#   scripts/qemu-kernel-arm64.sh [CACHE_DIR]   (default /var/cache/etrace-qemu)
set -e
cache=${1:-${ETRACE_QEMU_CACHE:-/var/cache/etrace-qemu}}
mkdir -p "$cache/arm64"
fetch() { # PACKAGE PATH-IN-PACKAGE
  tmp=$(mktemp -d)
  chmod 777 "$tmp" # apt's sandbox user downloads into it
  (cd "$tmp" && apt-get download -q "$1" >&2)
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | (cd "$cache/arm64" && tar -x "$2")
  rm -rf "$tmp"
}
kernel=$(ls "$cache"/arm64/boot/vmlinuz-*-arm64 2>/dev/null | tail -1)
if [ -z "$kernel" ]; then
  pkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-arm64\).*/\1/p' | head -1)
  if [ -z "$pkg" ]; then
    apt-get update -qq >&2
    pkg=$(apt-cache depends linux-image-arm64:arm64 |
          sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-arm64\).*/\1/p' | head -1)
  fi
  [ -n "$pkg" ] || { echo "qemu-kernel-arm64: no linux-image-arm64:arm64 (dpkg --add-architecture arm64?)" >&2; exit 1; }
  fetch "$pkg:arm64" ./boot/
  kernel=$(ls "$cache"/arm64/boot/vmlinuz-*-arm64 | tail -1)
fi
[ -x "$cache/arm64/bin/busybox" ] || fetch busybox-static:arm64 ./bin/busybox
echo "$kernel"
echo "$cache/arm64/bin/busybox"
