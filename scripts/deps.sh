#!/bin/sh
# Install what etrace needs (Debian 12, as root).
#   scripts/deps.sh          building and running: a C compiler and the
#                            static libraries etrace links (make, make deb)
#   scripts/deps.sh --test   also everything the test suite and the
#                            benchmarks use (make check, make bench)
set -e
test=false
case "$1" in
  "") ;;
  --test) test=true ;;
  -h|--help) sed -n '2,6s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--test]" >&2; exit 1 ;;
esac

# install [APT-OPTIONS] PACKAGE...: those not installed yet
install() {
  opts=""
  while [ "${1#-}" != "$1" ]; do opts="$opts $1"; shift; done
  missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -n "$missing" ] || return 0
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$updated" ]; then apt-get update -qq; updated=1; fi
  apt-get install -y -qq $opts $missing >/dev/null
}
updated=""

# Building: gcc and make; libbpf, libelf and zlib are linked statically,
# and so is libdw (DWARF-typed uprobe arguments) with liblzma and libbz2
# for compressed debug sections.  Running needs nothing more.
install --no-install-recommends build-essential libbpf-dev libelf-dev zlib1g-dev \
  libdw-dev liblzma-dev libbz2-dev
$test || exit 0

pkgs="bpftool python3"
# clang and its runtime build the libFuzzer target (make fuzz, CI smoke).
pkgs="$pkgs clang libclang-rt-14-dev"
# sys/sdt.h: the USDT probes of tests/helpers/uprobe_target.c.
pkgs="$pkgs systemtap-sdt-dev"
# babeltrace2 reads back every CTF trace the tests record (etrace record).
pkgs="$pkgs babeltrace2"
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
# tests/packaging: lintian checks the .deb; bash-completion and man-db are
# what the installed completion and man page plug into.
pkgs="$pkgs lintian bash-completion man-db"
# tests/exporter: a real Prometheus (and promtool) scraping etrace exporter.
pkgs="$pkgs prometheus"
# iproute2: ss, which tests/shipped uses to wait for its TLS server to listen.
pkgs="$pkgs iproute2"
# Node.js and npm for those tests (the machine's own when it has them).
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
install $pkgs
# tests/env/qemu boots Debian's own 6.1 kernel (kprobes, fentry, fexit), and
# tests/env/perfvm checks watchpoint hits (which this VM's hypervisor never
# delivers), under QEMU with software emulation, from an initramfs holding
# busybox-static; the kernel is fetched into a cache, not installed.
install --no-install-recommends qemu-system-x86 busybox-static
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
