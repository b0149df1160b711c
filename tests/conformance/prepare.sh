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
#
# CONFORMANCE_SET=newest takes the newest bpftrace source Debian has
# instead (unstable, then testing; the same mirror and keyring), in its own
# part of the cache; a test program that does not build there is left out
# (the cases using it fail), since newer trees add programs this simple
# build may not know.
set -e
cache=${CONFORMANCE_CACHE:-/var/cache/etrace-tests}
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] ||
  cache=$(cd "$(dirname "$0")/../.." && pwd)/tests/out/cache
set_name=${CONFORMANCE_SET:-0.17}
case $set_name in
0.17) ;;
newest) cache=$cache/newest ;;
*) echo "prepare: CONFORMANCE_SET is 0.17 or newest, not '$set_name'" >&2; exit 1 ;;
esac
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
  if [ "$set_name" = newest ]; then
    printf 'deb-src %s%s %s main\n' "$opt" "$uri" sid "$opt" "$uri" trixie > "$apt/sources.list"
  else
    echo "deb-src $opt$uri $suite main" > "$apt/sources.list"
  fi
  set -- -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts="$apt/parts" \
         -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
         -o APT::Sandbox::User=root -qq
  apt-get "$@" update >&2
  # newest first; a version the index lists but the pool lacks: the next
  vers=$(apt-cache "$@" showsrc bpftrace 2>/dev/null | sed -n 's/^Version: //p' | sort -rV)
  got=
  for v in $vers; do
    (cd "$cache/src" && apt-get "$@" source "bpftrace=$v" >&2) && { got=$v; break; }
  done
  if [ -z "$got" ]; then
    echo "prepare: the mirror lists bpftrace source" ${vers:-(none)} "but serves none of it" >&2
    exit 1
  fi
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
    cc -g -O0 -fPIC -shared $sdt -o "$work/testlibs/lib$n.so" "$c" || [ "$set_name" = newest ] || exit 1
    chmod -x "$work/testlibs/lib$n.so" 2>/dev/null || true
  done
  for c in "$tests"/testprogs/*.c; do
    n=$(basename "$c" .c)
    extra=
    [ "$n" = usdt_lib ] && extra="-fPIC -I$tests/testlibs -L$work/testlibs -lusdt_tp -Wl,-rpath,$work/testlibs"
    cc -g -O0 -no-pie $sdt -o "$work/testprogs/$n" "$c" $extra || [ "$set_name" = newest ] || exit 1
  done
  touch "$work/.built"
fi
echo "$work"
