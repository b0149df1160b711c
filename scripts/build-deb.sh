#!/bin/sh
# Build the Debian package etrace_VERSION_ARCH.deb with dpkg-deb (no
# debhelper): debian/control and debian/changelog describe it, and
# dpkg-gencontrol writes its control file.
#   scripts/build-deb.sh OUT.deb      (make deb; needs etrace.static built)
# Installs /usr/bin/etrace (the statically linked build, stripped), the
# tools in /usr/share/etrace/tools (where `etrace tool` finds them: the
# binary's directory/../share/etrace/tools), the man page, the bash
# completion, the docs, and an example systemd unit for `etrace exporter`
# (with an example program) under /usr/share/doc/etrace/examples.
set -e
out=$1
[ -n "$out" ] || { echo "usage: $0 OUT.deb" >&2; exit 1; }
cd "$(dirname "$0")/.."
version=$(sed -n 's/^#define ETRACE_VERSION "\(.*\)"$/\1/p' src/etrace.h)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "$deb_version" != "$version" ]; then
  echo "$0: debian/changelog is at $deb_version but src/etrace.h at $version:" \
       "add a changelog entry (dch -v $version)" >&2
  exit 1
fi
root=build/deb/etrace
rm -rf build/deb
mkdir -p $root/DEBIAN

install -D -m 755 etrace.static $root/usr/bin/etrace
strip --strip-unneeded --remove-section=.comment --remove-section=.note $root/usr/bin/etrace
install -d $root/usr/share/etrace/tools
# executable: each is also a script (#!/usr/bin/env etrace)
install -m 755 tools/*.bt $root/usr/share/etrace/tools/
install -D -m 644 docs/etrace.8 $root/usr/share/man/man8/etrace.8
gzip -9n $root/usr/share/man/man8/etrace.8
install -D -m 644 completion/etrace.bash $root/usr/share/bash-completion/completions/etrace
doc=$root/usr/share/doc/etrace
install -D -m 644 debian/copyright $doc/copyright
install -m 644 README.md docs/language.md docs/exporter.md $doc/
gzip -9n $doc/README.md $doc/language.md $doc/exporter.md
install -d $doc/examples/exporter.d
sed 's|/usr/local/bin/etrace|/usr/bin/etrace|' docs/exporter/etrace-exporter.service \
  > $doc/examples/etrace-exporter.service
install -m 644 docs/exporter/syscalls.bt $doc/examples/exporter.d/
chmod 644 $doc/examples/etrace-exporter.service
gzip -9n -c debian/changelog > $doc/changelog.gz
chmod 644 $doc/changelog.gz
install -D -m 644 debian/etrace.lintian-overrides $root/usr/share/lintian/overrides/etrace

# Built-Using: the source packages linked into the static binary.
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version}), ' \
  libbpf-dev libelf-dev libdw-dev zlib1g-dev liblzma-dev libbz2-dev libc6-dev |
  sed 's/, $//')
(cd $root && find usr -type f ! -path 'DEBIAN/*' -print0 | sort -z | xargs -0 md5sum) \
  > $root/DEBIAN/md5sums
chmod 644 $root/DEBIAN/md5sums
dpkg-gencontrol -petrace -P$root -fbuild/deb/files -V"etrace:Built-Using=$built_using" \
  -Vmisc:Depends=
dpkg-deb --root-owner-group -Zxz --build $root "$out" >/dev/null
echo "$out"
