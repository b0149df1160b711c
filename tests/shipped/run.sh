#!/bin/bash
# The bpftrace tools Debian ships (/usr/sbin/*.bt, from the bpftrace
# package): each one that bpftrace itself runs on this kernel must give
# the same output under etrace.
#
#   tests/shipped/run.sh [NAME...]     every tool, or the ones named
#
# For each tool: run it under bpftrace with `-c WORKLOAD` (both tracers
# stop when the workload exits; a timeout bounds every run), then under
# etrace with the same workload, and compare
#   - the header (the first lines up to the tool's own line count) exactly,
#   - the event lines that come from the workload (a regex per tool), as a
#     set, with numbers reduced to N and runs of spaces to one,
#   - for tools that print maps rather than events: the names of the maps
#     printed at exit (and their keys when the tool keys them by something
#     from the workload), and the number of blank lines (bpftrace prints
#     one for each empty map).
# A tool bpftrace cannot run here (no kprobes on this kernel) is a SKIP
# naming bpftrace's error; so is a tool whose bpftrace run shows none of
# the workload's events (the comparison would check nothing).
. "$(dirname "$0")/../lib.sh"

TOOLS=(bashreadline biolatency biosnoop biostacks bitesize capable cpuwalk dcsnoop
       execsnoop gethostlatency killsnoop loads mdflush naptime oomkill opensnoop
       pidpersec runqlat runqlen setuids ssllatency sslsnoop statsnoop swapin
       syncsnoop syscount tcpaccept tcpconnect tcpdrop tcplife tcpretrans tcpsynbl
       threadsnoop undump vfscount vfsstat writeback xfsdist)
[ $# -eq 0 ] && plan ${#TOOLS[@]}
[ $# -gt 0 ] && plan $#

ET=${ETRACE:-$PWD/etrace}
W=$PWD/tests/bin/workload
OUT=$PWD/tests/out/shipped
rm -rf "$OUT"
mkdir -p "$OUT"

if ! is_root; then skip_rest "needs root"; exit 0; fi
if ! have bpftrace || ! ls /usr/sbin/*.bt > /dev/null 2>&1; then
  skip_rest "bpftrace and its tools (/usr/sbin/*.bt) are not installed"
  exit 0
fi
need_files "$ET" "$W" || exit 1
make_tmp || exit 1

# ------------------------------------------------------------ workloads
#
# workload TOOL: a shell script (in $TMPD) whose run the tool must see;
# EVENTS: an extended regex for the tool's event lines from it ("" when
# the tool prints only maps); HEADER: how many leading lines are the
# header (the "Attaching N probes..." line included); KEYS: an extended
# regex for the map keys that come from the workload, compared too (other
# keys, e.g. kworker threads, depend on the moment); BLANKS=no when the
# number of blank lines depends on how many keys were printed; FUNC: a
# regex for an event line's function column, compared as "FUNC" (bpftrace
# may print an address there; etrace must print a name).
workload() {
  local s=$TMPD/$1.sh
  EVENTS= HEADER=2 KEYS= BLANKS= FUNC=
  case $1 in
  bashreadline)
    echo "printf 'echo shipped_readline\nexit\n' | script -qfc 'bash --norc --noprofile -i' /dev/null > /dev/null" > "$s"
    EVENTS='echo shipped_readline$' ;;
  bitesize)
    echo "dd if=/dev/zero of=$TMPD/bitesize.dat bs=64k count=16 oflag=direct 2> /dev/null; sync" > "$s"
    HEADER=1; KEYS='dd'; BLANKS=no ;;  # one histogram per process: kworkers vary
  cpuwalk)
    echo "$W spin 1200" > "$s"; HEADER=1 ;;
  execsnoop)
    echo "$W getppid 1; $W exit 0" > "$s"
    EVENTS='workload (getppid 1|exit 0)$' ;;
  gethostlatency)
    echo "getent ahosts localhost > /dev/null; getent hosts localhost > /dev/null" > "$s"
    EVENTS='getent +[0-9]+ localhost$' ;;
  killsnoop)
    echo "sleep 10 & /bin/kill -0 \$!; /bin/kill -TERM \$!; wait" > "$s"
    EVENTS=' kill +(0|15) ' ;;
  loads)
    echo "sleep 1.5" > "$s"
    EVENTS='^[0-9:]+ load averages: [0-9.]+ [0-9.]+ [0-9.]+$' ;;
  naptime)
    echo "$W nanosleep 2 1500000" > "$s"
    EVENTS=' workload +1\.500$' ;;
  opensnoop)
    echo "$W open /etc/hostname 3 open /nonexistent/shipped 1" > "$s"
    EVENTS='workload .*(/etc/hostname|/nonexistent/shipped)$' ;;
  pidpersec)
    echo "for i in 1 2 3 4 5; do /bin/true; done; sleep 1.3" > "$s"
    EVENTS='^[0-9:]+ PIDs/sec: '; HEADER=2 ;;
  runqlat)
    echo "$W spin 300 sleep 50 spin 300" > "$s"; HEADER=2 ;;
  runqlen)
    echo "$W spin 800" > "$s"; HEADER=2 ;;
  setuids)
    echo "setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true" > "$s"
    EVENTS='setpriv +[0-9]+ +setresuid ' ;;
  ssllatency|sslsnoop)
    # the certificate is made before either tracer runs (its key
    # generation would be an event in the first run only)
    [ -f "$TMPD/c.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
      -keyout "$TMPD/k.pem" -out "$TMPD/c.pem" -days 1 2> /dev/null
    cat > "$s" << EOF
cd $TMPD
openssl s_server -accept 127.0.0.1:47211 -cert c.pem -key k.pem -naccept 1 -quiet < /dev/null > /dev/null 2>&1 &
i=0; while [ \$i -lt 100 ] && ! ss -Hltn 'sport = :47211' | grep -q .; do sleep 0.05; i=\$((i+1)); done
(echo hello; sleep 1) | timeout 5 openssl s_client -connect 127.0.0.1:47211 -quiet > /dev/null 2>&1
wait
EOF
    # bpftrace resolves a function's name when it prints it, from the
    # process's maps: once openssl has exited it prints the address
    # (all of ssllatency's keys, the server's sslsnoop lines).  etrace
    # prints the name; the addresses are left out of the comparison.
    if [ "$1" = sslsnoop ]; then
      EVENTS=' openssl +[0-9]+ +-?[0-9]+ (SSL_[a-z_]+|RSA_[a-z]+|0x[0-9a-f]+)$'
      FUNC=' (SSL_[a-z_]+|RSA_[a-z]+|0x[0-9a-f]+)$'
    else BLANKS=no; fi ;;
  statsnoop)
    echo "stat /etc/hostname > /dev/null; stat -f / > /dev/null; stat /nonexistent/shipped 2> /dev/null" > "$s"
    EVENTS=' stat .*(/etc/hostname|/nonexistent/shipped|/)$' ;;
  syncsnoop)
    echo "sync" > "$s"; EVENTS=' sync +tracepoint:syscalls:sys_enter_sync$' ;;
  syscount)
    # its top 10s are system-wide: under load the workload is not in them
    echo "$W getppid 50" > "$s"; HEADER=2 ;;
  tcpdrop|threadsnoop)
    echo "$W getppid 1" > "$s" ;;  # no event expected: the header
  writeback)
    echo "dd if=/dev/zero of=$TMPD/writeback.dat bs=64k count=16 2> /dev/null; sync" > "$s"
    EVENTS='^[0-9:]+ +[0-9]+:[0-9]+ +[0-9]+ +sync +[0-9.]+$' ;;
  *)
    echo "true" > "$s" ;;
  esac
}

# normalise: numbers to N, runs of spaces to one
normalise() {
  if [ -n "$FUNC" ]; then sed -E "s/$FUNC/ FUNC/"; else cat; fi | sed -E 's/[0-9]+/N/g; s/ +/ /g'
}

# mapnames FILE: the name of every printed map, and each "@name[key]"
# whose key matches KEYS, sorted and unique
mapnames() {
  {
    grep -oE '^@[A-Za-z_0-9]*' "$1"
    [ -n "$KEYS" ] && grep -oE "^@[A-Za-z_0-9]*\\[($KEYS)\\]" "$1"
  } | sort -u
}

# run TRACER TOOL: TRACER -c WORKLOAD TOOL, bounded; $OUT/TOOL.TRACER.{out,err,rc}
run() {
  local t=$1 tool=$2
  timeout -k 3 -s INT 25 "$t" -c "/bin/sh $TMPD/$tool.sh" "/usr/sbin/$tool.bt" \
    > "$OUT/$tool.$(basename "$t").out" 2> "$OUT/$tool.$(basename "$t").err" < /dev/null
  echo $? > "$OUT/$tool.$(basename "$t").rc"
}

# bpftrace_cannot TOOL: bpftrace's run failed or left probes unattached
# (WHY: its first error or warning)
bpftrace_cannot() {
  local tool=$1 err=$OUT/$tool.bpftrace.err rc
  rc=$(cat "$OUT/$tool.bpftrace.rc")
  WHY=$(grep -iE 'could not (attach|read symbols)|error:' "$err" | grep -v 'RLIMIT_MEMLOCK' | head -1)
  [ -n "$WHY" ] && return 0
  if [ "$rc" != 0 ]; then WHY="bpftrace exited with status $rc"; return 0; fi
  return 1
}

check() {
  local tool=$1 bt=$OUT/$1.bpftrace.out et=$OUT/$1.etrace.out
  workload "$tool"
  if grep -qE '^k(ret)?probe:' "/usr/sbin/$tool.bt"; then
    # kprobe tools: bpftrace warns and skips every kprobe, then waits for
    # a signal with nothing attached; a short run shows the warning
    timeout -k 2 -s INT 4 bpftrace "/usr/sbin/$tool.bt" > "$bt" 2> "$OUT/$tool.bpftrace.err" < /dev/null
    echo $? > "$OUT/$tool.bpftrace.rc"
  else
    run bpftrace "$tool"
  fi
  if bpftrace_cannot "$tool"; then
    skip "$tool" "bpftrace 0.17 cannot run it here: $WHY"
    return
  fi
  run "$ET" "$tool"
  local rc; rc=$(cat "$OUT/$tool.etrace.rc")
  if [ "$rc" != 0 ]; then
    fail "$tool" "etrace exited with status $rc (bpftrace: 0)" "$OUT/$tool.etrace.err"
    return
  fi
  local why=
  local hb he
  hb=$(head -n "$HEADER" "$bt"); he=$(head -n "$HEADER" "$et")
  [ "$hb" = "$he" ] || why="header differs:
--- bpftrace
$hb
--- etrace
$he"
  if [ -n "$EVENTS" ]; then
    local eb ee
    eb=$(grep -E -- "$EVENTS" "$bt" | normalise | sort -u)
    ee=$(grep -E -- "$EVENTS" "$et" | normalise | sort -u)
    if [ -z "$eb" ]; then
      skip "$tool" "bpftrace showed no event matching /$EVENTS/ (nothing to compare)"
      return
    fi
    if [ -n "$FUNC" ] && grep -E -- "$EVENTS" "$et" | grep -qE ' 0x[0-9a-f]+$'; then
      why="$why
etrace printed a function's address, not its name"
    fi
    if [ "$eb" != "$ee" ]; then why="$why
event lines differ:
--- bpftrace
$eb
--- etrace
$ee"
    fi
  fi
  if [ -n "$EVENTS" ]; then
    # an event tool's maps printed at exit are calls still in flight
    # (other processes' too: the tools trace the whole system)
    if [ -n "$why" ]; then fail "$tool" "$why" "$et"; else pass "$tool"; fi
    return
  fi
  local mb me
  mb=$(mapnames "$bt"); me=$(mapnames "$et")
  [ "$mb" = "$me" ] || why="$why
printed maps differ:
--- bpftrace
$mb
--- etrace
$me"
  local bb be
  bb=$(grep -c '^$' "$bt"); be=$(grep -c '^$' "$et")
  [ "$bb" = "$be" ] || [ "$BLANKS" = no ] || why="$why
blank lines (empty maps, separators): bpftrace $bb, etrace $be"
  if [ -n "$why" ]; then
    fail "$tool" "$why" "$et"
  else
    pass "$tool"
  fi
}

for tool in "${@:-${TOOLS[@]}}"; do
  if [ -f "/usr/sbin/$tool.bt" ]; then
    check "$tool"
  else
    skip "$tool" "/usr/sbin/$tool.bt is not installed"
  fi
done
