#!/bin/sh
# Fetch Debian's own kernel (linux-image-amd64, 6.1: kprobes, fentry,
# fexit) for tests/env/qemu, without installing it: `apt-get download` of the
# image package the metapackage points to, unpacked with dpkg-deb into a
# cache directory.  Prints the path of the vmlinuz.
#   scripts/qemu-kernel.sh [CACHE_DIR]   (default /var/cache/etrace-qemu)
set -e
cache=${1:-${ETRACE_QEMU_CACHE:-/var/cache/etrace-qemu}}
mkdir -p "$cache"
found=$(ls "$cache"/boot/vmlinuz-6.1.* 2>/dev/null | tail -1)
if [ -n "$found" ]; then echo "$found"; exit 0; fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-6\.1[^ ]*\).*/\1/p' | head -1)
if [ -z "$pkg" ]; then
  apt-get update -qq >&2
  pkg=$(apt-cache depends linux-image-amd64 |
        sed -n 's/^ *Depends: \(linux-image-6\.1[^ ]*\).*/\1/p' | head -1)
fi
[ -n "$pkg" ] || { echo "qemu-kernel: linux-image-amd64 does not point to a 6.1 kernel" >&2; exit 1; }
# apt's sandbox user cannot write to the cache: download in a temp dir.
tmp=$(mktemp -d)
chmod 777 "$tmp"
(cd "$tmp" && apt-get download -q "$pkg" >&2)
dpkg-deb --fsys-tarfile "$tmp"/"$pkg"_*.deb | (cd "$cache" && tar -x ./boot/)
rm -rf "$tmp"
ls "$cache"/boot/vmlinuz-6.1.* | tail -1
