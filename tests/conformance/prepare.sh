#!/bin/sh
# Fetch bpftrace's runtime tests from Debian's source package and build its
# test programs; print the directory the cases run in (runtime/, testprogs/,
# testlibs/ side by side, as bpftrace's build tree has them).
#
# The source comes through apt with a private configuration: a sources list
# holding one deb-src line made from the machine's own Debian mirror and
# suite, and its own lists and cache directories, so the machine's apt
# state is untouched.  Everything lands in $CONFORMANCE_CACHE (default
# /var/cache/etrace-tests; never inside the repository) and is reused.
#
# The test programs are built as bpftrace's tests/CMakeLists.txt builds them:
# each testprogs/*.c with -g -O0 and -no-pie (usdt_lib linked against
# testlibs' usdt_tp, with -fPIC), each testlibs/*.c as a shared library with
# -g -O0 and the executable bit cleared, HAVE_SYSTEMTAP_SYS_SDT_H defined
# when <sys/sdt.h> is there.
set -e
cache=${CONFORMANCE_CACHE:-/var/cache/etrace-tests}
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] ||
  cache=$(cd "$(dirname "$0")/../.." && pwd)/tests/out/cache
apt=$cache/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$cache/src"

src=$(ls -d "$cache"/src/bpftrace-*/tests/runtime/engine 2>/dev/null | head -1)
if [ -z "$src" ]; then
  # The deb-src line: the machine's first Debian mirror, suite and keyring.
  uri= suite= key=
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources | head -1)
    suite=$(sed -n 's/^Suites:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources | head -1 | cut -d' ' -f1)
    key=$(sed -n 's/^Signed-By:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources | head -1)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    set -- $(grep -m1 '^deb ' /etc/apt/sources.list | sed 's/\[[^]]*\]//')
    uri=$2 suite=$3
  fi
  [ -n "$uri" ] || { echo "prepare: no Debian mirror in the apt configuration" >&2; exit 1; }
  [ -n "$suite" ] || suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  opt=${key:+[signed-by=$key] }
  echo "deb-src $opt$uri $suite main" > "$apt/sources.list"
  set -- -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts="$apt/parts" \
         -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
         -o APT::Sandbox::User=root -qq
  apt-get "$@" update >&2
  (cd "$cache/src" && apt-get "$@" source bpftrace >&2)
  src=$(ls -d "$cache"/src/bpftrace-*/tests/runtime/engine 2>/dev/null | head -1)
  [ -n "$src" ] || { echo "prepare: bpftrace source has no tests/runtime" >&2; exit 1; }
fi
tests=$(dirname "$(dirname "$src")")
ver=$(basename "$(dirname "$tests")")
work=$cache/work-$ver

if [ ! -f "$work/.built" ]; then
  rm -rf "$work"
  mkdir -p "$work/testprogs" "$work/testlibs"
  ln -s "$tests/runtime" "$work/runtime"
  sdt=
  echo '#include <sys/sdt.h>' | cc -E -x c - > /dev/null 2>&1 && sdt=-DHAVE_SYSTEMTAP_SYS_SDT_H
  for c in "$tests"/testlibs/*.c; do
    n=$(basename "$c" .c)
    cc -g -O0 -fPIC -shared $sdt -o "$work/testlibs/lib$n.so" "$c"
    chmod -x "$work/testlibs/lib$n.so"
  done
  for c in "$tests"/testprogs/*.c; do
    n=$(basename "$c" .c)
    extra=
    [ "$n" = usdt_lib ] && extra="-fPIC -I$tests/testlibs -L$work/testlibs -lusdt_tp -Wl,-rpath,$work/testlibs"
    cc -g -O0 -no-pie $sdt -o "$work/testprogs/$n" "$c" $extra
  done
  touch "$work/.built"
fi
echo "$work"
