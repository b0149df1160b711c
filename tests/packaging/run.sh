#!/bin/bash
# The Debian package, end to end: `make deb` builds it, lintian finds no
# error, `dpkg -i` installs it, the installed /usr/bin/etrace runs a
# program and a bundled tool (found in /usr/share/etrace/tools) on a known
# workload, the man page and the bash completion are where man and
# bash-completion look, and `dpkg -r` removes every file it installed.
# Needs root and the test packages (scripts/deps.sh --test: lintian,
# man-db, bash-completion).  One PASS/FAIL line per case, a PLAN first.
. "$(dirname "$0")/../lib.sh"
plan 11
WL=$ROOT/tests/bin/workload
OUT=$ROOT/$(outdir)

fail() { # fail NAME WHY [FILE...]
  local n=$1 why=$2 f
  echo "FAIL packaging/$n: $why"
  shift 2
  for f in "$@"; do [ -f "$f" ] && sed 's/^/    | /' "$f" | head -15; done
}
installed() { dpkg-query -W -f='${Status}' etrace 2> /dev/null | grep -q 'install ok installed'; }

need_files "$WL" etrace.static || exit 1
if ! is_root; then
  echo "FAIL packaging/setup: needs root (dpkg -i)"
  exit 1
fi
# Never overwrite an etrace that the package did not put there.
if [ -e /usr/bin/etrace ] && ! dpkg -S /usr/bin/etrace 2> /dev/null | grep -q '^etrace:'; then
  echo "FAIL packaging/setup: /usr/bin/etrace exists and is not from the etrace package"
  exit 1
fi

# ---------------------------------------------------------------- build
version=$(sed -n 's/^#define ETRACE_VERSION "\(.*\)"$/\1/p' src/etrace.h)
DEB=etrace_${version}_$(dpkg --print-architecture).deb
rm -f "$DEB"
make -j2 deb > "$OUT/build.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -f "$DEB" ] && [ "$(dpkg-deb -f "$DEB" Version)" = "$version" ]; then
  pass build
else
  fail build "make deb exited $rc, want $DEB at version $version" "$OUT/build.log"
  exit 0
fi

if ! command -v lintian > /dev/null; then
  fail lintian "lintian is not installed (scripts/deps.sh --test)"
else
  lintian --allow-root --fail-on error "$DEB" > "$OUT/lintian.txt" 2>&1
  rc=$?
  if [ $rc -eq 0 ] && ! grep -q '^E: ' "$OUT/lintian.txt"; then pass lintian
  else fail lintian "exit $rc" "$OUT/lintian.txt"; fi
fi

# the binary is the statically linked build: no dynamic section, no interpreter
dpkg-deb -x "$DEB" "$OUT/x"
if readelf -d "$OUT/x/usr/bin/etrace" 2>&1 | grep -q 'no dynamic section' &&
   ! readelf -l "$OUT/x/usr/bin/etrace" | grep -q 'INTERP'; then
  pass static_binary
else fail static_binary "usr/bin/etrace has a dynamic section or an interpreter"; fi

# ---------------------------------------------------------------- install
dpkg -L etrace > /dev/null 2>&1 && was_installed=1
trap 'installed && dpkg -r etrace > /dev/null 2>&1' EXIT
dpkg -i "$DEB" > "$OUT/install.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && installed && [ -x /usr/bin/etrace ]; then pass install
else fail install "dpkg -i exited $rc" "$OUT/install.log"; fi
dpkg -L etrace | sort > "$OUT/files.txt"

# a program, run from /usr/bin with nothing of the source tree around
cd / || exit 1
env -u ETRACE_TOOLS_DIR PATH=/usr/bin:/bin etrace -q \
  -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }' \
  -c "$WL getppid 9" > "$OUT/prog.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -v '^$' "$OUT/prog.out")" = "@: 9" ]; then pass run_program
else fail run_program "exit $rc, want '@: 9'" "$OUT/prog.out"; fi

# the tools are found under /usr/share/etrace/tools, and one runs: the
# workload's 40 getppid calls counted by syscount (the workload waits 2 s
# first: under a loaded make check, starting the installed etrace and
# attaching took longer than the 0.3 s it used to wait)
env -u ETRACE_TOOLS_DIR PATH=/usr/bin:/bin etrace tool > "$OUT/tools.txt" 2>&1
ntools=$(grep -c '^  [a-z]' "$OUT/tools.txt")
nsrc=$(ls "$ROOT"/tools/*.bt | wc -l)
"$WL" -w 2000 getppid 40 sleep 3000 &
wl=$!
env -u ETRACE_TOOLS_DIR PATH=/usr/bin:/bin etrace tool syscount -p $wl -d 3 -f json \
  > "$OUT/tool.out" 2>&1
rc=$?
kill $wl 2> /dev/null
wait $wl 2> /dev/null
if grep -qx 'tools in /usr/share/etrace/tools:' "$OUT/tools.txt" && [ "$ntools" = "$nsrc" ] &&
   [ $rc -eq 0 ] && grep -q '"@syscall": {.*"getppid": 40[,}]' "$OUT/tool.out"; then
  pass run_tool
else fail run_tool "$ntools of $nsrc tools listed; syscount exit $rc, want getppid: 40" \
  "$OUT/tools.txt" "$OUT/tool.out"; fi
cd "$ROOT" || exit 1

# man finds the page
page=$(man -w etrace 2> /dev/null)
if [ "$page" = /usr/share/man/man8/etrace.8.gz ] && zcat "$page" | grep -q '^\.SH SUBCOMMANDS'; then
  pass man_page
else fail man_page "man -w etrace gave '$page'"; fi

# bash-completion loads the installed completion on demand, and it
# completes a tool name with the installed etrace
comp=$(bash -c '
  . /usr/share/bash-completion/bash_completion 2> /dev/null
  __load_completion etrace || exit 1
  complete -p etrace
  COMP_LINE="etrace tool opens"; COMP_POINT=${#COMP_LINE}
  COMP_WORDS=(etrace tool opens); COMP_CWORD=2
  _etrace; echo "${COMPREPLY[*]}"' 2>&1)
if [ "$comp" = $'complete -F _etrace etrace\nopensnoop' ]; then pass bash_completion
else fail bash_completion "got: $comp"; fi

# the example exporter unit names the installed binary and passes
# systemd's own check (its man: documentation link included)
unit=/usr/share/doc/etrace/examples/etrace-exporter.service
if [ -f $unit ] && grep -q '^ExecStart=/usr/bin/etrace exporter ' $unit &&
   [ -f /usr/share/doc/etrace/examples/exporter.d/syscalls.bt ] &&
   { ! command -v systemd-analyze > /dev/null ||
     systemd-analyze verify $unit > "$OUT/unit.txt" 2>&1; }; then
  pass exporter_unit_example
else fail exporter_unit_example "missing, or systemd-analyze verify failed" "$OUT/unit.txt"; fi

# ---------------------------------------------------------------- remove
dpkg -r etrace > "$OUT/remove.log" 2>&1
rc=$?
left=""
while read -r f; do
  [ -e "$f" ] && ! [ -d "$f" ] && left="$left $f"
done < "$OUT/files.txt"
if [ $rc -eq 0 ] && ! installed && [ -z "$left" ] && ! [ -e /usr/share/etrace ] &&
   ! [ -e /usr/share/doc/etrace ] && [ "$(wc -l < "$OUT/files.txt")" -gt 40 ]; then
  pass remove
else fail remove "dpkg -r exited $rc; left behind:$left" "$OUT/remove.log"; fi
if ! command -v etrace > /dev/null 2>&1 || [ "$(command -v etrace)" != /usr/bin/etrace ]; then
  pass removed_from_path
else fail removed_from_path "etrace is still at $(command -v etrace)"; fi

# an etrace package that was installed before the test is put back
[ -n "$was_installed" ] && dpkg -i "$DEB" > /dev/null 2>&1
exit 0
