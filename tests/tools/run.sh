#!/bin/bash
# The bundled tools (tools/*.bt, run as `etrace tool NAME`): the command
# itself (listing, -h, option errors, installation) and, for every tool,
# a known workload whose pid, command name, path or port must show up in
# the tool's output.
#
#   tests/tools/run.sh [NAME...]     all checks, or the tools named
#
# Prints "PASS name", "FAIL name" (with the tool's output) or
# "SKIP name (why)".  The live checks need root, ./etrace and
# tests/bin/workload; each tool runs in the background, is known to be
# attached once its BEGIN header appears, and is stopped with SIGINT.
. "$(dirname "$0")/../lib.sh"
[ $# -eq 0 ] && plan 46  # 6 command checks, 40 live tools

ET=$PWD/etrace
W=$PWD/tests/bin/workload
OUT=$PWD/tests/out/tools
rm -rf "$OUT"
mkdir -p "$OUT"
export ETRACE_TOOLS_DIR=$PWD/tools

only=" $* "
want() { [ "$only" = "  " ] || [[ $only == *" $1 "* ]]; }

# fail NAME WHY [FILE]: report, with the file's contents
fail() {
  echo "FAIL $SUITE/$1: $2"
  if [ -n "$3" ] && [ -f "$3" ]; then sed 's/^/    | /' "$3" | head -40; fi
  if [ -s "$OUT/$1.err" ]; then sed 's/^/    ! /' "$OUT/$1.err" | head -10; fi
}

# ---------------------------------------------------------------- helpers

# start TEST TOOL [ARGS...]: `etrace tool TOOL ARGS` in the background,
# output in $OUT/TEST.out; returns once BEGIN has printed (probes are
# attached before BEGIN runs).
start() {
  local name=$1
  shift
  TOOL_OUT=$OUT/$name.out
  "$ET" tool "$@" > "$TOOL_OUT" 2> "$OUT/$name.err" &
  TOOL_PID=$!
  for _ in $(seq 200); do
    [ -s "$TOOL_OUT" ] && return 0
    kill -0 $TOOL_PID 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# stop: SIGINT the tool and wait for it (at most 10 s).
stop() {
  sleep 0.1
  kill -INT $TOOL_PID 2>/dev/null
  for _ in $(seq 200); do
    kill -0 $TOOL_PID 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL $TOOL_PID 2>/dev/null
  wait $TOOL_PID 2>/dev/null
}

# has NAME REGEX...: every extended regex matches some line of the output
# (the matched lines are kept for `narrow`).
has() {
  local name=$1 re
  shift
  for re in "$@"; do
    if ! grep -E -- "$re" "$TOOL_OUT" >> "$TOOL_OUT.matched"; then
      fail "$name" "no line matches /$re/" "$TOOL_OUT"
      return 1
    fi
  done
}

# hasnt NAME REGEX: no line matches.
hasnt() {
  if grep -Eq -- "$2" "$TOOL_OUT"; then
    fail "$1" "unexpected line matching /$2/" "$TOOL_OUT"
    return 1
  fi
}

# narrow NAME: the header (the first two lines without digits: events of
# other processes may come before BEGIN's output, as with bpftrace, since
# BEGIN runs once the probes are attached) and the workload's lines (those
# `has` matched) are at most 80 columns wide.  Other lines may be wider
# where a path or an argument list is.
narrow() {
  local wide
  wide=$(grep -v '[0-9]' "$TOOL_OUT" | head -2 | cat - "$TOOL_OUT.matched" |
         awk 'length($0) > 80' | head -3)
  if [ -n "$wide" ]; then
    fail "$1" "lines wider than 80 columns: $wide"
    return 1
  fi
}

# counters of the whole system, read around each live run to bound what
# system-wide tools may report: processes and threads created, and block
# requests completed (reads, writes, discards, flushes of whole disks)
forks() { awk '/^processes / { print $2 }' /proc/stat; }
disk_requests() {
  local d n=0
  for d in /sys/block/*; do
    n=$((n + $(awk '{ print $1 + $5 + $12 + $16 }' "$d/stat")))
  done
  echo $n
}

# hist_sum HEADER-REGEX: "COUNT LOW HIGH" over the histogram(s) of the
# output whose header line matches: the number of values and the sums of
# their buckets' lower and upper bounds (K = 1024, as printed)
hist_sum() {
  RE=$1 awk '
    function v(x) { m = 1; if (x ~ /K$/) m = 1024; if (x ~ /M$/) m = 1048576; sub(/[KM]$/, "", x); return x * m }
    $0 ~ ENVIRON["RE"] { on = 1; next }
    on && !/^\[/ { on = 0 }
    on { b = $0; sub(/^\[/, "", b); sub(/[])].*/, "", b); rest = $0; sub(/^[^])]*[])] */, "", rest)
         split(rest, f, " "); n = split(b, lh, /, */); lo = v(lh[1]); hi = n > 1 ? v(lh[2]) : lo + 1
         cnt += f[1]; sl += f[1] * lo; sh += f[1] * hi }
    END { printf "%d %d %d\n", cnt, sl, sh }' "$TOOL_OUT"
}

# within NAME WHAT VALUE MIN MAX: MIN <= VALUE <= MAX, else a failure
within() {
  [ "$3" -ge "$4" ] && [ "$3" -le "$5" ] && return 0
  fail "$1" "$2 is $3, expected $4 to $5" "$TOOL_OUT"
  return 1
}

# live TEST TOOL [ARGS...]: start the tool, run test_TEST (the workload),
# stop the tool, then check_TEST (the assertions on its output).
live() {
  local name=$1
  want "$name" || return 0
  FORKS0=$(forks) DISK0=$(disk_requests)
  if ! start "$@"; then
    fail "$name" "did not start" "$TOOL_OUT"
    stop
    return
  fi
  "test_$name"
  local rc=$?
  stop
  FORKS=$(( $(forks) - FORKS0 )) DISK=$(( $(disk_requests) - DISK0 ))
  [ $rc -eq 0 ] || { fail "$name" "workload failed" "$TOOL_OUT"; return; }
  "check_$name" && pass "$name"
}

# ---------------------------------------------------------------- the command

static_checks() {
  want command || return 0
  local tools n ok=1
  tools=$(ls tools/*.bt | sed 's|tools/||; s|\.bt$||')

  # listing: every tool, with its description
  "$ET" tool > "$OUT/list.out" 2>&1
  for t in $tools; do
    grep -Eq "^  $t +[^ ]" "$OUT/list.out" || { fail command-list "$t missing" "$OUT/list.out"; ok=0; }
  done
  [ $ok = 1 ] && pass command-list

  # -h: usage, options and examples, without the "-> \$N" mappings, narrow
  ok=1
  for t in $tools; do
    "$ET" tool "$t" -h > "$OUT/$t.help" 2>&1 || { fail "help-$t" "exit $?" "$OUT/$t.help"; ok=0; continue; }
    head -1 "$OUT/$t.help" | grep -q "^$t - " &&
      grep -q "^USAGE: etrace tool $t" "$OUT/$t.help" &&
      grep -q '^EXAMPLES:' "$OUT/$t.help" &&
      grep -q "^  etrace tool $t" "$OUT/$t.help" &&
      ! grep -q -- '-> \$' "$OUT/$t.help" &&
      awk 'length($0) > 80 { exit 1 }' "$OUT/$t.help" ||
      { fail "help-$t" "bad help text" "$OUT/$t.help"; ok=0; }
  done
  [ $ok = 1 ] && pass command-help

  # every tool compiles, with every option given (the highest $N is always
  # passed, so this also catches mismatched parameter types)
  ok=1
  for t in $tools; do
    "$ET" tool --dry-run "$t" > "$OUT/$t.dry" 2>&1 || { fail "compile-$t" "exit $?" "$OUT/$t.dry"; ok=0; }
  done
  [ $ok = 1 ] && pass command-compile

  # usage errors: exit status 1 and a message
  n=0
  "$ET" tool opensnoop -z > "$OUT/err1" 2>&1; [ $? = 1 ] && grep -q "unknown option '-z'" "$OUT/err1" && n=$((n + 1))
  "$ET" tool opensnoop -p abc > "$OUT/err2" 2>&1; [ $? = 1 ] && grep -q "expected a number" "$OUT/err2" && n=$((n + 1))
  "$ET" tool opensnoop -p > "$OUT/err3" 2>&1; [ $? = 1 ] && grep -q "needs an argument" "$OUT/err3" && n=$((n + 1))
  "$ET" tool no-such-tool > "$OUT/err4" 2>&1; [ $? = 1 ] && grep -q "no such tool" "$OUT/err4" && n=$((n + 1))
  "$ET" tool runqlat 1 2 3 > "$OUT/err5" 2>&1; [ $? = 1 ] && grep -q "unexpected argument '3'" "$OUT/err5" && n=$((n + 1))
  if [ $n = 5 ]; then pass command-errors; else fail command-errors "$n of 5 error cases right" "$OUT/err1"; fi

  # a tool given as a path, with an option mapping of each kind
  cat > "$OUT/mytool.bt" <<'EOF'
#!/usr/bin/env etrace
// mytool - print its parameters
// USAGE: etrace tool mytool [-a] [-b] [-n NAME] [-4|-6] [--long N] [X [Y]]
//   -a, --all       a flag                    -> $1
//   -b              a flag with a value       -> $2 = 7, default 3
//   -n NAME         a string option           -> $3 = NAME, default ""
//   -4              shares $4 with -6         -> $4 = 4
//   -6              shares $4 with -4         -> $4 = 6
//   --long N        a long option             -> $5 = N, default 5
//   X               first positional          -> $6, default 0
//   Y               second positional         -> $7, default 9
BEGIN { printf("[%d %d <%s> %d %d %d %d] %d\n", $1, $2, $3, $4, $5, $6, $7, $#); exit(); }
EOF
  "$ET" tool "$OUT/mytool.bt" > "$OUT/my1" 2>&1
  "$ET" tool "$OUT/mytool.bt" -ab -nfoo -6 --long=11 12 > "$OUT/my2" 2>&1
  "$ET" tool "$OUT/mytool.bt" --all -n bar --long 13 -- -1 > "$OUT/my3" 2>&1
  if grep -qx '\[0 3 <> 0 5 0 9\] 7' "$OUT/my1" && grep -qx '\[1 7 <foo> 6 11 12 9\] 7' "$OUT/my2" &&
     grep -qx '\[1 3 <bar> 0 13 -1 9\] 7' "$OUT/my3"; then
    pass command-options
  else
    cat "$OUT/my1" "$OUT/my2" "$OUT/my3" > "$OUT/my.all"
    fail command-options "parameters not translated as declared" "$OUT/my.all"
  fi

  # make install puts the tools where an installed etrace finds them
  local dest=$OUT/install
  if make -s -o etrace install DESTDIR="$dest" PREFIX=/usr > "$OUT/install.log" 2>&1 &&
     [ -f "$dest/usr/share/etrace/tools/execsnoop.bt" ] &&
     env -u ETRACE_TOOLS_DIR "$dest/usr/bin/etrace" tool > "$OUT/install.out" 2>&1 &&
     grep -q "^tools in $dest/usr/share/etrace/tools:" "$OUT/install.out" &&
     grep -Eq '^  execsnoop ' "$OUT/install.out"; then
    pass command-install
  else
    cat "$OUT/install.log" >> "$OUT/install.out"
    fail command-install "installed etrace does not list the installed tools" "$OUT/install.out"
  fi
}

# ---------------------------------------------------------------- the tools

test_execsnoop() {
  /bin/true etrace-tools-marker one two &
  EXEC_PID=$!
  wait $EXEC_PID
}
check_execsnoop() {
  has execsnoop "^[0-9]+ +$EXEC_PID +$$ +/bin/true etrace-tools-marker one two$" &&
    narrow execsnoop
}

test_opensnoop() {
  "$W" open /etc/hostname 2 open /nonexistent-etrace-tools 1 &
  OPEN_PID=$!
  wait $OPEN_PID
}
check_opensnoop() {
  has opensnoop "^$OPEN_PID +workload +-1 +2 /nonexistent-etrace-tools$" &&
    hasnt opensnoop "/etc/hostname" && narrow opensnoop
}

test_exitsnoop() {
  "$W" exit 3 &
  EXIT_PID=$!
  sleep 10 &
  SLEEP_PID=$!
  sleep 0.1
  kill -TERM $SLEEP_PID
  wait $EXIT_PID $SLEEP_PID
  return 0
}
check_exitsnoop() {
  has exitsnoop "^workload +$EXIT_PID +$$ +$EXIT_PID +[0-9]+\.[0-9]{2} 3$" \
    "^sleep +$SLEEP_PID +$$ +$SLEEP_PID +[0-9]+\.[0-9]{2} signal 15 \(SIGTERM\)$" &&
    narrow exitsnoop
}

test_killsnoop() {
  /bin/kill -s 0 $$ && /bin/kill -s 0 999999999 2>/dev/null
  return 0
}
check_killsnoop() {
  has killsnoop "^[0-9:]+ +[0-9]+ +kill +0 +$$ +0$" "^[0-9:]+ +[0-9]+ +kill +0 +999999999 +-3$" &&
    narrow killsnoop
}

test_statsnoop() {
  stat /etc/hostname /nonexistent-etrace-tools > /dev/null 2>&1 &
  STAT_PID=$!
  wait $STAT_PID
  return 0
}
check_statsnoop() {
  has statsnoop "^$STAT_PID +stat +[a-z]+ +0 /etc/hostname$" \
    "^$STAT_PID +stat +[a-z]+ +2 /nonexistent-etrace-tools$" && narrow statsnoop
}

# -p: the workload's calls alone, exactly; it waits (-w) until the tool
# is attached
test_syscount() { wait $SC_PID; }
check_syscount() {
  has syscount '^@syscall\[getppid\]: 4321$' '^@syscall_us\[getppid\]: [0-9]+$'
}

# syscount by process, failed calls only
# 5000 failed opens put the workload in the top 10 even on a busy machine;
# the loader's few failed calls at start-up come on top of them.
test_syscount_P() { "$W" open /nonexistent-etrace-tools 5000; }
check_syscount_P() { has syscount_P '^@process\[workload\]: 50[0-4][0-9]$'; }

test_runqlat() {
  "$W" nanosleep 200 500 &
  RQ_PID=$!
  wait $RQ_PID
}
# 200 sleeps: at most 200 wake-ups, and a few more if it is preempted.
# Not all of them give a sample: when the wakee already runs on the other
# CPU before the waker's sched_wakeup program stores the time, that sleep
# has none (bpftrace runs the same program the same way: 187 vs 192 of
# 200 with -c here, fewer under load); a quarter of them at least.
check_runqlat() {
  has runqlat "^@usecs_thread\[workload, $RQ_PID\]: $" '^\[[0-9KM, ]+\) +[0-9]+ \|@+ *\|$' || return 1
  set -- $(hist_sum "^@usecs_thread\\[workload, $RQ_PID\\]: $")
  within runqlat "the workload's wake-ups" "$1" 50 260
}

test_cpudist() {
  "$W" spin 100 nanosleep 20 1000 &
  CPU_PID=$!
  wait $CPU_PID
}
# a 100 ms spin (on the CPU at most 100 ms, in slices if preempted) and
# 20 sleeps of 1 ms: at least 21 slices (20 sleeps, the exit), at most
# 100 ms plus the short runs between sleeps on the CPU in all
check_cpudist() {
  has cpudist "^@usecs_proc\[workload, $CPU_PID\]: $" || return 1
  set -- $(hist_sum "^@usecs_proc\\[workload, $CPU_PID\\]: $")
  within cpudist "the workload's on-CPU slices" "$1" 21 400 &&
    within cpudist "the workload's on-CPU time (sum of lower bounds, us)" "$2" 0 110000
}

DD_FILE=$OUT/dd.tmp
test_biolatency() {
  dd if=/dev/zero of="$DD_FILE" bs=8192 count=4 oflag=direct 2>/dev/null &&
    dd if="$DD_FILE" of=/dev/null bs=8192 iflag=direct 2>/dev/null
}
# dd writes 4 blocks, then reads them, with O_DIRECT: at least 4 writes
# and 4 reads, and no more requests than the disks completed meanwhile
check_biolatency() {
  has biolatency '^@usecs_flags\[W[A-Z]*\]: $' '^@usecs_flags\[R[A-Z]*\]: $' || return 1
  local w r all
  w=$(hist_sum '^@usecs_flags\[W[A-Z]*\]: $' | cut -d' ' -f1)
  r=$(hist_sum '^@usecs_flags\[R[A-Z]*\]: $' | cut -d' ' -f1)
  all=$(hist_sum '^@usecs_flags\[[A-Z]*\]: $' | cut -d' ' -f1)
  within biolatency "write requests" "$w" 4 "$DISK" && within biolatency "read requests" "$r" 4 "$DISK" &&
    within biolatency "requests (disks completed $DISK)" "$all" 8 "$DISK"
}

test_biosnoop() {
  dd if=/dev/zero of="$DD_FILE" bs=8192 count=4 oflag=direct 2>/dev/null &
  DD_PID=$!
  wait $DD_PID
}
check_biosnoop() {
  has biosnoop "^ +[0-9]+\.[0-9]{6} dd +$DD_PID +[0-9]+,[0-9]+ +W[A-Z]* +[0-9]+ +8192 +[0-9]+\.[0-9]{3}$" &&
    narrow biosnoop
}

# a dd of its own name (no other dd on the machine counts): exactly its
# four 64 KiB writes
BS_DD=$OUT/dd$$
test_bitesize() {
  cp "$(command -v dd)" "$BS_DD"
  "$BS_DD" if=/dev/zero of="$DD_FILE" bs=65536 count=4 oflag=direct 2>/dev/null
}
check_bitesize() {
  has bitesize "^@bytes\[dd$$\]: $" '^\[64K, 128K\) +4 ' || return 1
  set -- $(hist_sum "^@bytes\\[dd$$\\]: $")
  within bitesize "dd's requests" "$1" 4 4
}

# a loopback TCP session over IPv4 then IPv6: prints the ports, then pid
TCP_PY='
import os, socket, sys
port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port if fam == socket.AF_INET else 0)); s.listen()
    c = socket.create_connection(s.getsockname()[:2]); a, _ = s.accept()
    c.sendall(b"x" * 3000); a.recv(10000); a.sendall(b"y" * 5000); c.recv(10000)
    print(s.getsockname()[1], c.getsockname()[1])
    c.close(); a.close(); s.close()
print(os.getpid())
'
# tcp_session TEST [PORT]: the session, its ports in PORT4 CPORT4 PORT6 CPORT6
tcp_session() {
  python3 -c "$TCP_PY" $2 > "$OUT/$1.py" || return 1
  read -r PORT4 CPORT4 < <(sed -n 1p "$OUT/$1.py")
  read -r PORT6 CPORT6 < <(sed -n 2p "$OUT/$1.py")
  PY_PID=$(sed -n 3p "$OUT/$1.py")
}

test_tcpconnect() { tcp_session tcpconnect; }
check_tcpconnect() {
  has tcpconnect "^$PY_PID +python3 +4 +127\.0\.0\.1 +127\.0\.0\.1 +$PORT4$" \
    "^$PY_PID +python3 +6 +0:0:0:0:0:0:0:1 0:0:0:0:0:0:0:1 $PORT6$" && narrow tcpconnect
}

test_tcpaccept() { tcp_session tcpaccept; }
check_tcpaccept() {
  has tcpaccept "^$PY_PID +python3 +4 +127\.0\.0\.1 +$CPORT4 +127\.0\.0\.1 +$PORT4$" \
    "^$PY_PID +python3 +6 +0:0:0:0:0:0:0:1 $CPORT6 +0:0:0:0:0:0:0:1 $PORT6$"
}

test_tcplife() { tcp_session tcplife; }
check_tcplife() {
  has tcplife "^$PY_PID +python3 +127\.0\.0\.1 +$CPORT4 +127\.0\.0\.1 +$PORT4 +2 +4 [0-9.]+$" \
    "^$PY_PID +python3 +127\.0\.0\.1 +$PORT4 +127\.0\.0\.1 +$CPORT4 +4 +2 [0-9.]+$" \
    "^$PY_PID +python3 +0:0:0:0:0:0:0:1 $CPORT6 +0:0:0:0:0:0:0:1 $PORT6 +2 +4 [0-9.]+$"
}

test_tcpstates() { tcp_session tcpstates; }
check_tcpstates() {
  has tcpstates "^$PY_PID +python3 +$PORT4 +0\.0\.0\.0 +0 +CLOSE +-> LISTEN +[0-9.]+$" \
    "^$PY_PID +python3 +$CPORT4 +127\.0\.0\.1 +$PORT4 +SYN_SENT +-> ESTABLISHED +[0-9.]+$" \
    "^[0-9]+ +[^ ]+ +$PORT4 +127\.0\.0\.1 +$CPORT4 +LAST_ACK +-> CLOSE +[0-9.]+$" && narrow tcpstates
}

# a full accept queue drops the second SYN; the client retransmits it (the
# first retransmit is due 1 s after the SYN: the client waits 2.5 s so a
# timer delayed by a loaded machine still fires before it gives up)
RETRANS_PY='
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
c1 = socket.create_connection(s.getsockname())
c2 = socket.socket(); c2.settimeout(2.5)
try:
    c2.connect(s.getsockname())
except OSError:
    pass
print(s.getsockname()[1])
'
test_tcpretrans() { RT_PORT=$(python3 -c "$RETRANS_PY"); }
check_tcpretrans() {
  has tcpretrans "^[0-9:]+ +[0-9]+ +4 +127\.0\.0\.1:[0-9]+ +R> +127\.0\.0\.1:$RT_PORT +SYN_SENT$" &&
    narrow tcpretrans
}

# a SYN to a closed port is dropped with reason NO_SOCKET (in the sender)
DROP_PY='
import os, socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
try:
    socket.create_connection(("127.0.0.1", p))
except OSError:
    pass
print(os.getpid())
'
test_tcpdrop() { DROP_PID=$(python3 -c "$DROP_PY"); }
check_tcpdrop() { has tcpdrop "^[0-9:]+ +$DROP_PID +python3 +IPv4 +NO_SOCKET$" && narrow tcpdrop; }

# file pages evicted, then read through a mapping: major faults
PF_FILE=$OUT/pf.tmp
PF_PY='
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
s = sum(m[i] for i in range(0, len(m), 4096))
st = open("/proc/self/stat").read().split(")")[1].split()
print(os.getpid(), st[9])
'
test_pagefaults() {
  read -r PF_PID PF_MAJ < <(python3 -c "$PF_PY" "$PF_FILE")
  [ -n "$PF_PID" ]
}
check_pagefaults() {
  has pagefaults "^@faults\[python3, $PF_PID\]: [0-9]+$" "^@faults_by_cpu\[[0-9]+\]: [0-9]+$" || return 1
  if [ "$PF_MAJ" -gt 0 ]; then
    has pagefaults "^@major\[python3, $PF_PID\]: [1-9][0-9]*$"
  fi
}

# a memory cgroup (v1 child of ours, or v2) of 32 MB, and a process
# that wants 256 MB in it
oom_cgroup() {
  local v1
  v1=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup 2>/dev/null)
  if [ -w "$v1/memory.limit_in_bytes" ]; then
    OOM_CG=$v1/etrace-tools-oom-$$
    mkdir "$OOM_CG" 2>/dev/null && echo $((32 << 20)) > "$OOM_CG/memory.limit_in_bytes" && return 0
  fi
  local v2
  v2=/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup 2>/dev/null)
  if grep -qw memory "$v2/cgroup.subtree_control" 2>/dev/null; then
    OOM_CG=$v2/etrace-tools-oom-$$
    mkdir "$OOM_CG" 2>/dev/null && echo $((32 << 20)) > "$OOM_CG/memory.max" &&
      echo 0 > "$OOM_CG/memory.swap.max" 2>/dev/null
    return 0
  fi
  return 1
}
test_oomkill() {
  # in a subshell, so that bash's "Killed" notice goes to /dev/null
  (
    sh -c "echo \$\$ > '$OOM_CG/cgroup.procs' && exec python3 -c 'a = bytearray(256 << 20)'" &
    echo $! > "$OUT/oom.pid"
    wait $!
    echo $? > "$OUT/oom.rc"
  ) 2>/dev/null
  OOM_PID=$(cat "$OUT/oom.pid")
  [ "$(cat "$OUT/oom.rc")" = 137 ]
}
check_oomkill() {
  has oomkill "^[0-9:]+ Triggered by PID [0-9]+ \(\"python3\"\), OOM kill of PID $OOM_PID \(\"python3\"\),$" \
    "^ +[0-9]+ kB vm, [0-9]+ kB rss, loadavg: [0-9.]+ [0-9.]+ [0-9.]+ [0-9]+/[0-9]+ [0-9]+$" && narrow oomkill
}

test_capable() {
  : > "$OUT/chown.tmp"
  chown 4321 "$OUT/chown.tmp" &
  CAP_PID=$!
  wait $CAP_PID
}
check_capable() { has capable "^[0-9:]+ +0 +$CAP_PID +chown +0 +CAP_CHOWN +allow$" && narrow capable; }

THREAD_PY='
import os, threading
t = threading.Thread(target=lambda: print(threading.get_native_id()))
t.start(); t.join()
print(os.getpid())
'
test_threadsnoop() {
  python3 -c "$THREAD_PY" > "$OUT/thread.py"
  T_TID=$(sed -n 1p "$OUT/thread.py")
  T_PID=$(sed -n 2p "$OUT/thread.py")
  [ -n "$T_PID" ]
}
check_threadsnoop() { has threadsnoop "^[0-9]+ +$T_PID +python3 +$T_TID +thread$" && narrow threadsnoop; }

test_setuids() {
  python3 -c 'import os; os.setresuid(0, 0, 0); os.setuid(0); print(os.getpid())' > "$OUT/setuid.py"
  SU_PID=$(cat "$OUT/setuid.py")
}
check_setuids() {
  has setuids "^[0-9:]+ +$SU_PID +python3 +0 +setresuid ruid=0 euid=0 suid=0 \(0\)$" \
    "^[0-9:]+ +$SU_PID +python3 +0 +setuid +uid=0 \(0\)$" && narrow setuids
}

test_naptime() {
  "$W" nanosleep 3 1000 sleep 150 &
  NAP_PID=$!
  wait $NAP_PID
}
check_naptime() {
  has naptime "^[0-9:]+ +$$ +[^ ]+ +$NAP_PID +workload +0\.1[5-9][0-9]$" || return 1
  [ "$(grep -c " $NAP_PID " "$TOOL_OUT")" = 1 ] || { fail naptime "-m 100 let short sleeps through" "$TOOL_OUT"; return 1; }
  narrow naptime
}

test_pidpersec() {
  for _ in $(seq 40); do /bin/true; done
  sleep 2.1
}
# the 40 processes, counted at least once; all the seconds together at
# most the processes and threads the system created meanwhile
check_pidpersec() {
  has pidpersec '^[0-9:]+ PIDs/sec: @: [0-9]+$' || return 1
  local n
  n=$(awk '/PIDs\/sec: @: [0-9]+$/ { n += $NF } /^@: [0-9]+$/ { n += $2 } END { print n + 0 }' "$TOOL_OUT")
  within pidpersec "new processes counted" "$n" 40 "$FORKS"
}

test_syncsnoop() {
  python3 -c 'import os
fd = os.open(os.sys.argv[1], os.O_WRONLY | os.O_CREAT); os.write(fd, b"x")
os.fsync(fd); os.fdatasync(fd); os.sync(); print(os.getpid(), fd)' "$OUT/sync.tmp" > "$OUT/sync.py"
  read -r SYNC_PID SYNC_FD < "$OUT/sync.py"
  [ -n "$SYNC_FD" ]
}
check_syncsnoop() {
  has syncsnoop "^[0-9:]+ +$SYNC_PID +python3 +fsync\($SYNC_FD\)$" \
    "^[0-9:]+ +$SYNC_PID +python3 +fdatasync\($SYNC_FD\)$" "^[0-9:]+ +$SYNC_PID +python3 +sync\(\)$" &&
    narrow syncsnoop
}

test_mountsnoop() {
  mkdir -p "$OUT/mnt"
  mount -t tmpfs etrace-tools "$OUT/mnt" &
  MNT_PID=$!
  wait $MNT_PID || return 1
  umount "$OUT/mnt" &
  UMNT_PID=$!
  wait $UMNT_PID
}
check_mountsnoop() {
  has mountsnoop "^$MNT_PID +mount +mount\(\"etrace-tools\", \"$OUT/mnt\", \"tmpfs\", 0x0\) = 0$" \
    "^$UMNT_PID +umount +umount\(\"$OUT/mnt\", 0x0\) = 0$"
}

# block I/O raises the disk's interrupt (virtio-blk: virtioN-req.M)
test_hardirqs() {
  dd if=/dev/zero of="$DD_FILE" bs=8192 count=8 oflag=direct 2>/dev/null
}
check_hardirqs() {
  local blk
  blk=$(grep -o 'virtio[0-9]*-req\.[0-9]*' /proc/interrupts | head -1)
  if [ -n "$blk" ]; then
    has hardirqs "^@count\[${blk%.*}\.[0-9]+\]: [0-9]+$"
  else
    has hardirqs '^@count\[[^]]+\]: [0-9]+$'
  fi
}

test_softirqs() { tcp_session softirqs; }
check_softirqs() { has softirqs '^@usecs\[NET_RX\]: [0-9]+$' '^@usecs\[TIMER\]: [0-9]+$'; }

# two busy loops sharing CPU 0 wait for each other
test_runqslower() {
  taskset -c 0 "$W" spin 150 &
  RS1=$!
  taskset -c 0 "$W" spin 150 &
  RS2=$!
  wait $RS1 $RS2
}
check_runqslower() {
  has runqslower "^[0-9:]+ workload +$RS1 +[0-9]+ +[^ ]+ +[0-9]+$" \
    "^[0-9:]+ workload +$RS2 +[0-9]+ +[^ ]+ +[0-9]+$" && narrow runqslower
}

test_tcpconnlat() { tcp_session tcpconnlat; }
check_tcpconnlat() {
  has tcpconnlat "^$PY_PID +python3 +4 +127\.0\.0\.1 +127\.0\.0\.1 +$PORT4 +[0-9]+\.[0-9]{3}$" \
    "^$PY_PID +python3 +6 +0:0:0:0:0:0:0:1 0:0:0:0:0:0:0:1 $PORT6 +[0-9]+\.[0-9]{3}$" &&
    narrow tcpconnlat
}

# the listening side of the session gets segments on a port chosen first
RTT_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
test_tcprtt() { tcp_session tcprtt $RTT_PORT; }
# the listening side receives a few segments (the handshake's last ACK,
# 3000 bytes, ACKs, the FIN) on loopback: microseconds each
check_tcprtt() {
  has tcprtt '^@usecs: $' '^\[[0-9KM, ]+[])] +[0-9]+ \|@+ *\|$' || return 1
  set -- $(hist_sum '^@usecs: $')
  within tcprtt "RTT samples" "$1" 1 10 && within tcprtt "the largest possible RTT sum (us)" "$3" 1 10000
}

# stack tools: tests/bin/stack_target spins in st_spin_leaf (called from
# st_spin_middle, st_spin_outer, main) or sleeps in nanosleep
test_profile() {
  "$ST" spin 600 &
  PROF_PID=$!
  wait $PROF_PID
}
check_profile() {
  has profile '^    st_spin_leaf\+[0-9]+$' '^    st_spin_middle\+[0-9]+$' '^    st_spin_outer\+[0-9]+$' \
    "^, stack_target, $PROF_PID\]: [0-9]+$" && narrow profile
}

test_bashreadline() {
  # an interactive bash on a pseudo-terminal (script): only then does
  # bash read its input with readline()
  printf 'echo etrace-tools-readline-marker\nexit\n' |
    script -qc 'bash --norc --noprofile -i' /dev/null > /dev/null 2>&1
}
check_bashreadline() {
  has bashreadline '^[0-9:]+ +[0-9]+ +echo etrace-tools-readline-marker$' && narrow bashreadline
}

test_cdsnoop() {
  bash --norc -c 'cd /tmp; cd /etrace-tools-no-such-dir; cd -P /usr/lib' 2>/dev/null &
  CD_PID=$!
  wait $CD_PID
}
check_cdsnoop() {
  has cdsnoop "^[0-9:]+ +$CD_PID +OK +/tmp$" \
    "^[0-9:]+ +$CD_PID +FAILED +/etrace-tools-no-such-dir$" \
    "^[0-9:]+ +$CD_PID +OK +/usr/lib$" && narrow cdsnoop
}

test_cdsnoop_x() { test_cdsnoop; }
check_cdsnoop_x() {
  has cdsnoop_x "^[0-9:]+ +$CD_PID +FAILED +/etrace-tools-no-such-dir$" &&
    hasnt cdsnoop_x "^[0-9:]+ +$CD_PID +OK "
}

test_gethostlatency() {
  getent ahosts localhost > /dev/null &
  GH_PID=$!
  wait $GH_PID
}
check_gethostlatency() {
  has gethostlatency "^[0-9:]+ +$GH_PID +getent +[0-9]+ localhost$" && narrow gethostlatency
}

test_runqlen() {
  # four spinning workloads on two CPUs: runnable tasks queue up
  local i pids=""
  for i in 1 2 3 4; do "$W" spin 1500 & pids="$pids $!"; done
  wait $pids
}
check_runqlen() {
  # some samples saw at least one task waiting
  has runqlen '^@runqlen: $' '^\[[1-9][0-9]*, [0-9]+\) +[1-9][0-9]* \|@*' && narrow runqlen
}

test_offcputime() {
  "$ST" sleep 200 &
  OFF_PID=$!
  wait $OFF_PID
}
check_offcputime() {
  has offcputime '^    do_nanosleep\+[0-9]+$' \
    "^, stack_target, $OFF_PID\]: (1[5-9][0-9]{4}|[2-9][0-9]{5})$" && narrow offcputime
}

test_wakeuptime() {
  "$ST" sleep 200 &
  WAKE_PID=$!
  wait $WAKE_PID
}
check_wakeuptime() {
  has wakeuptime '^    hrtimer_wakeup\+[0-9]+$' '^, stack_target\]: (1[5-9][0-9]{4}|[2-9][0-9]{5})$' &&
    narrow wakeuptime
}

# ---------------------------------------------------------------- main

static_checks

if [ "$(id -u)" != 0 ]; then
  skip_rest "live checks need root"
  exit 0
fi
[ -x "$W" ] || make -s tests/bin/workload
ST=$PWD/tests/bin/stack_target
[ -x "$ST" ] || make -s tests/bin/stack_target

live execsnoop execsnoop
live opensnoop opensnoop -x -n workload
live exitsnoop exitsnoop
live killsnoop killsnoop
live statsnoop statsnoop -p 0
if want syscount; then
  "$W" -w 2000 getppid 4321 &
  SC_PID=$!
  live syscount syscount -L -t 1000 -p $SC_PID
fi
live syscount_P syscount -P -x
live runqlat runqlat -L
live cpudist cpudist -P
live biolatency biolatency -F
live biosnoop biosnoop
live bitesize bitesize
live tcpconnect tcpconnect
live tcpaccept tcpaccept
live tcplife tcplife
live tcpstates tcpstates
live tcpretrans tcpretrans
live tcpdrop tcpdrop
if want pagefaults; then
  dd if=/dev/urandom of="$PF_FILE" bs=64k count=16 2>/dev/null && sync "$PF_FILE" 2>/dev/null
  live pagefaults pagefaults
fi
if want oomkill; then
  if oom_cgroup; then
    live oomkill oomkill
    rmdir "$OOM_CG" 2>/dev/null
  else
    skip oomkill "no writable memory cgroup to confine an OOM kill"
  fi
fi
live capable capable -u
live profile profile -F 99
live offcputime offcputime
live bashreadline bashreadline
live cdsnoop cdsnoop
live cdsnoop_x cdsnoop -x
live gethostlatency gethostlatency
live runqlen runqlen
live wakeuptime wakeuptime
live threadsnoop threadsnoop
live setuids setuids
live naptime naptime -m 100
live pidpersec pidpersec
live syncsnoop syncsnoop
live mountsnoop mountsnoop
live hardirqs hardirqs -C
live softirqs softirqs
live runqslower runqslower -P 2000
live tcpconnlat tcpconnlat
live tcprtt tcprtt -L $RTT_PORT
exit 0
