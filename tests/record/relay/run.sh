#!/bin/bash
# Relay tests: `etrace record --relay` streaming to a real lttng-relayd
# (lttng-tools), started here on 127.0.0.1 with its own ports and stopped
# by pid; the traces it writes are read back by babeltrace2, live ones
# through babeltrace2's lttng-live source.
#
#   tests/record/relay/run.sh [NAME...]      run all tests, or those named
#
# Prints "PASS name" or "FAIL name: why".  Needs root, ./etrace,
# tests/bin/workload, lttng-relayd and babeltrace2 (scripts/deps.sh).
# Logs and the relays' output trees are kept under tests/out/relay/NAME/.
. "$(dirname "$0")/../../lib.sh"
[ $# -eq 0 ] && plan 15
. tests/record/lib.sh
FAKE=tests/record/relay/fake_relay.py
HOST=$(uname -n)
NCPU=$(nproc --all 2>/dev/null || nproc)
need_tools fail lttng-relayd babeltrace2 python3
need_built "$ET" "$WL"

# listening PORT: a TCP socket listens on PORT (state 0A in /proc/net/tcp*)
listening() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# in_use PORT: a TCP socket of this machine has PORT as its local port
in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$2 ~ p"$" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_ports: sets P1 P2 P3, three consecutive ports no socket uses
free_ports() {
  local base=$((20000 + ($$ * 7 + RANDOM) % 30000))
  for _ in $(seq 1 50); do
    if ! in_use $base && ! in_use $((base + 1)) && ! in_use $((base + 2)); then
      P1=$base P2=$((base + 1)) P3=$((base + 2))
      return 0
    fi
    base=$((base + 3))
  done
  return 1
}

# start_relay: lttng-relayd on P1 (control) P2 (data) P3 (live), output
# $L/out; sets RPID.  Waits (at most 5 s) until the three ports listen;
# other ports are tried (3 times) when another process took one meanwhile.
start_relay() {
  local try
  for try in 1 2 3; do
    free_ports || return 1
    lttng-relayd -C tcp://127.0.0.1:$P1 -D tcp://127.0.0.1:$P2 -L tcp://127.0.0.1:$P3 \
      -o "$PWD/$L/out" >"$L/relayd.log" 2>&1 &
    RPID=$!
    for _ in $(seq 1 50); do
      if listening $P1 && listening $P2 && listening $P3; then return 0; fi
      kill -0 $RPID 2>/dev/null || break
      sleep 0.1
    done
    stop_relay
    grep -q "Address already in use" "$L/relayd.log" || return 1
  done
  return 1
}

stop_relay() {
  [ -n "$RPID" ] || return 0
  kill -CONT $RPID 2>/dev/null
  kill $RPID 2>/dev/null
  wait $RPID 2>/dev/null
  RPID=
}
trap stop_relay EXIT

# session_dir SESSION: the trace directory the relay made for SESSION
session_dir() {
  find "$L/out/$HOST" -mindepth 2 -maxdepth 2 -type d -path "*/$1-*/kernel" 2>/dev/null | head -1
}

# count EVENT DIR: events named EVENT in the trace (babeltrace2's text)
count() { babeltrace2 "$2" 2>/dev/null | grep -c " $1: "; }

ms() { date +%s%3N; }

# --- N events through the relay: exactly N in the relay's output tree ---------
t=stream_count
if want $t; then
  setup $t
  if ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"
  else
    $ET record -q --relay net://127.0.0.1:$P1:$P2 --session count -c "$WL getppid 5000" \
      --cmd-only syscalls:sys_enter_getppid 2>$L/stderr
    rc=$?
    D=$(session_dir count)
    n=$([ -n "$D" ] && count sys_enter_getppid "$D")
    pids=$([ -n "$D" ] && babeltrace2 "$D" 2>/dev/null | sed -n 's/.*{ pid = \([0-9]*\), tid.*/\1/p' | sort -u | wc -l)
    idx=$(ls "$D"/index/channel0_*.idx 2>/dev/null | wc -l)
    stop_relay
    if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
    elif [ -z "$D" ]; then fail $t "no $HOST/count-DATE/kernel under the relay's output: $(find $L/out | head -5)"
    elif ! [[ "$D" =~ /$HOST/count-[0-9]{8}-[0-9]{6}/kernel$ ]]; then fail $t "unexpected layout $D"
    elif ! babeltrace2 "$D" -o dummy >/dev/null 2>&1; then fail $t "babeltrace2 cannot read $D"
    elif [ "$n" != 5000 ]; then fail $t "$n sys_enter_getppid events in the relay's trace, expected 5000"
    elif [ "$pids" != 1 ]; then fail $t "events from $pids processes, expected 1"
    elif [ "$idx" != "$NCPU" ]; then fail $t "$idx index files, expected one per CPU ($NCPU)"
    else pass $t; fi
  fi
fi

# --- the protocol before trace chunks (2.10), which relays 2.4 to 2.13 serve ---
t=protocol_2_10
if want $t; then
  setup $t
  if ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"
  else
    ETRACE_RELAY_PROTOCOL=2.10 $ET record -q --relay net://127.0.0.1:$P1:$P2 --session legacy \
      -c "$WL getppid 1500" --cmd-only syscalls:sys_enter_getppid 2>$L/stderr
    rc=$?
    D=$(session_dir legacy)
    n=$([ -n "$D" ] && count sys_enter_getppid "$D")
    idx=$(ls "$D"/index/channel0_*.idx 2>/dev/null | wc -l)
    stop_relay
    if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
    elif ! [[ "$D" =~ /$HOST/legacy-[0-9]{8}-[0-9]{6}/kernel$ ]]; then fail $t "unexpected layout '$D'"
    elif [ "$n" != 1500 ]; then fail $t "$n events in the relay's trace, expected 1500"
    elif [ "$idx" != "$NCPU" ]; then fail $t "$idx index files, expected $NCPU"
    else pass $t; fi
  fi
fi

# --- the index files: one entry per packet, matching the stream files --------
t=stream_index
if want $t; then
  L=$OUT/stream_count
  D=$(session_dir count)
  if [ -z "$D" ]; then fail $t "needs stream_count's trace"
  elif ! python3 - "$D" "$NCPU" >$L/index.txt 2>&1 <<'EOF'; then fail $t "$(tail -3 $L/index.txt)"; else pass $t; fi
import os, struct, sys
d, ncpu = sys.argv[1], int(sys.argv[2])
for cpu in range(ncpu):
    data = open(f"{d}/channel0_{cpu}", "rb").read()
    idx = open(f"{d}/index/channel0_{cpu}.idx", "rb").read()
    magic, major, minor, plen = struct.unpack(">IIII", idx[:16])
    assert magic == 0xC1F1DCC1 and (major, minor) == (1, 1) and plen == 72, (magic, major, minor, plen)
    entries = [struct.unpack(">9Q", idx[o:o + 72]) for o in range(16, len(idx), 72)]
    assert entries, f"cpu {cpu}: no index entry"
    off = 0
    for seq, (offset, psize, csize, tb, te, disc, sid, inst, pseq) in enumerate(entries):
        assert offset == off, f"cpu {cpu} entry {seq}: offset {offset}, expected {off}"
        assert inst == cpu and pseq == seq and sid == 0 and te >= tb and csize == psize
        # the packet context in the stream file says the same
        ctx = struct.unpack("<6Q", data[offset + 32:offset + 80])
        assert ctx[0] == tb and ctx[1] == te and ctx[2] == csize and ctx[4] == pseq, (ctx, tb, te)
        off += psize // 8
    assert off == len(data), f"cpu {cpu}: index covers {off} of {len(data)} bytes"
print("ok")
EOF
fi

# --- a program's printf events (-f ctf) through the relay ---------------------
t=program_ctf
if want $t; then
  setup $t
  if ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"
  else
    $ET -f ctf -o net://127.0.0.1:$P1:$P2 -c "$WL getppid 77" \
      -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%d %s\n", pid, comm); }' \
      >$L/stdout 2>$L/stderr
    rc=$?
    D=$(find "$L/out/$HOST" -mindepth 2 -maxdepth 2 -type d -path "*/etrace-*/kernel" | head -1)
    n=$([ -n "$D" ] && babeltrace2 "$D" 2>/dev/null | grep -c 'printf_0: .*{ arg0 = [0-9]*, arg1 = "workload" }$')
    stop_relay
    if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
    elif [ -z "$D" ]; then fail $t "no $HOST/etrace-DATE/kernel under the relay's output"
    elif [ "$n" != 77 ]; then fail $t "$n printf events in the relay's trace, expected 77"
    else pass $t; fi
  fi
fi

# --- a program's printf events, read live while it runs -------------------------
t=program_live
if want $t; then
  setup $t
  if ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"
  else
    $ET -f ctf -o net://127.0.0.1:$P1:$P2 -c "$WL sleep 2000 getppid 100 sleep 3000" \
      -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%d\n", pid); }' \
      >$L/stdout 2>$L/stderr &
    EP=$!
    S=""
    for _ in $(seq 1 40); do # the program's session: etrace-DATE
      S=$(babeltrace2 --input-format=lttng-live net://127.0.0.1:$P3 2>/dev/null |
          grep -o "net://127.0.0.1:$P3/host/$HOST/etrace-[0-9-]*" | head -1)
      [ -n "$S" ] && break
      sleep 0.05
    done
    seen=0
    if [ -n "$S" ]; then
      timeout 30 babeltrace2 --input-format=lttng-live "$S" >$L/live.txt 2>$L/live.err &
      BP=$!
      for _ in $(seq 1 100); do
        sleep 0.1
        kill -0 $EP 2>/dev/null || break
        k=$(grep -c ' printf_0: ' $L/live.txt)
        [ "$k" -ge 100 ] && seen=$k && break
      done
      wait $BP
    fi
    wait $EP
    rc=$?
    stop_relay
    if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
    elif [ -z "$S" ]; then fail $t "the relay listed no etrace session"
    elif [ "$seen" != 100 ]; then fail $t "the live viewer saw $seen of 100 events while the program ran"
    elif [ "$(grep -c ' printf_0: ' $L/live.txt)" != 100 ]; then fail $t "the live viewer saw $(grep -c ' printf_0: ' $L/live.txt) events in all, expected 100"
    else pass $t; fi
  fi
fi

# --- --profile kernel through the relay, read by LTTng's analyses ------------
t=kernel_analyses
if want $t; then
  setup $t
  if ! command -v lttng-syscallstats >/dev/null 2>&1; then fail $t "lttng-syscallstats (python3-lttnganalyses) is not installed (scripts/deps.sh installs it)"
  elif ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"
  else
    $ET record -q --profile kernel --relay net://127.0.0.1:$P1:$P2 --session kernel \
      -c "$WL getppid 321" 2>$L/stderr
    rc=$?
    D=$(session_dir kernel)
    stop_relay
    timeout 300 lttng-syscallstats "$D" >$L/syscallstats.txt 2>&1
    src=$?
    # the thread whose statistics hold exactly 321 getppid calls
    hits=$(grep -cE '^ - getppid +321 ' $L/syscallstats.txt)
    if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
    elif [ -z "$D" ]; then fail $t "no $HOST/kernel-DATE/kernel under the relay's output"
    elif [ $src -ne 0 ]; then fail $t "lttng-syscallstats exited $src: $(tail -3 $L/syscallstats.txt)"
    elif [ "$hits" != 1 ]; then fail $t "$hits threads with 321 getppid calls in lttng-syscallstats' report, expected 1"
    else pass $t; fi
  fi
fi

# --- a live viewer sees events while etrace records ----------------------------
t=live
if want $t; then
  setup $t
  if ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"
  else
    # 2.5 s idle (the viewer attaches), 300 calls, 3 s idle, 200 calls, 0.5 s idle
    $ET record -q --relay net://127.0.0.1:$P1:$P2 --session live --live-timer 0.5 \
      -c "$WL sleep 2500 getppid 300 sleep 3000 getppid 200 sleep 500" --cmd-only \
      syscalls:sys_enter_getppid 2>$L/stderr &
    EP=$!
    for _ in $(seq 1 40); do # the session is listed once its streams are sent
      babeltrace2 --input-format=lttng-live net://127.0.0.1:$P3 2>/dev/null | grep -q "/host/$HOST/live " && break
      sleep 0.05
    done
    timeout 30 babeltrace2 ${BT_LOG:-} --input-format=lttng-live "net://127.0.0.1:$P3/host/$HOST/live" \
      >$L/live.txt 2>$L/live.err &
    BP=$!
    seen_while_recording=0
    for _ in $(seq 1 100); do # while etrace runs: the first 300 events must show up
      sleep 0.1
      kill -0 $EP 2>/dev/null || break
      k=$(grep -c ' sys_enter_getppid: ' $L/live.txt)
      [ "$k" -ge 300 ] && seen_while_recording=$k && break
    done
    wait $EP
    rc=$?
    wait $BP
    brc=$?
    total=$(grep -c ' sys_enter_getppid: ' $L/live.txt)
    D=$(session_dir live)
    stored=$([ -n "$D" ] && count sys_enter_getppid "$D")
    stop_relay
    if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
    elif [ "$seen_while_recording" != 300 ]; then fail $t "the live viewer saw $seen_while_recording of the first 300 events while etrace was recording (expected 300)"
    elif [ $brc -ne 0 ]; then fail $t "babeltrace2 lttng-live exited $brc: $(head -c 300 $L/live.err)"
    elif [ "$total" != 500 ]; then fail $t "the live viewer saw $total events in all, expected 500"
    elif [ "$stored" != 500 ]; then fail $t "the relay stored $stored events, expected 500"
    else pass $t; fi
  fi
fi

# --- no relay at the address: clear error, exit 1, nothing run ---------------
t=relay_absent
if want $t; then
  setup $t
  free_ports
  t0=$(ms)
  $ET record -q --relay net://127.0.0.1:$P1 -c "touch $L/ran" syscalls:sys_enter_getppid \
    2>$L/stderr
  rc=$?
  dt=$(($(ms) - t0))
  if [ $rc -ne 1 ]; then fail $t "exit status $rc, expected 1"
  elif ! grep -q "error: cannot connect to relay 127.0.0.1:$P1: Connection refused" $L/stderr; then fail $t "message: $(head -c 300 $L/stderr)"
  elif [ -e $L/ran ]; then fail $t "the -c command ran"
  elif [ $dt -gt 5000 ]; then fail $t "took $dt ms"
  else pass $t; fi
fi

# --- a listener that never answers: no version reply, exit 1 ------------------
t=not_a_relay
if want $t; then
  setup $t
  free_ports
  python3 $FAKE $P1 silent >$L/fake.out 2>&1 &
  FP=$!
  for _ in $(seq 1 50); do listening $P1 && break; sleep 0.1; done
  t0=$(ms)
  $ET record -q --relay net://127.0.0.1:$P1 -c "touch $L/ran" syscalls:sys_enter_getppid \
    2>$L/stderr
  rc=$?
  dt=$(($(ms) - t0))
  kill $FP 2>/dev/null
  wait $FP 2>/dev/null
  if [ $rc -ne 1 ]; then fail $t "exit status $rc, expected 1"
  elif ! grep -q "error: no version reply from 127.0.0.1:$P1 (the relay at 127.0.0.1:$P1 sent no reply for 5.0 s): is it an lttng-relayd?" $L/stderr; then fail $t "message: $(head -c 300 $L/stderr)"
  elif [ -e $L/ran ]; then fail $t "the -c command ran"
  elif [ $dt -gt 10000 ]; then fail $t "took $dt ms"
  else pass $t; fi
fi

# fake_peer NAME MESSAGE FAKE-ARGS...: fake_relay.py FAKE-ARGS answers at the
# relay's port; etrace must exit 1 with MESSAGE (a fixed string; PORT in it
# stands for the port)
fake_peer() {
  local t=$1 msg=$2
  shift 2
  setup $t
  free_ports
  python3 $FAKE $P1 "$@" >$L/fake.out 2>&1 &
  FP=$!
  for _ in $(seq 1 50); do listening $P1 && break; sleep 0.1; done
  $ET record -q --relay net://127.0.0.1:$P1 syscalls:sys_enter_getppid 2>$L/stderr
  rc=$?
  kill $FP 2>/dev/null
  wait $FP 2>/dev/null
  if [ $rc -ne 1 ]; then fail $t "exit status $rc, expected 1"
  elif ! grep -qF "${msg//PORT/$P1}" $L/stderr; then fail $t "message: $(head -c 300 $L/stderr)"
  else pass $t; fi
}

# --- a peer answering another protocol version -------------------------------
t=other_version
want $t && fake_peer $t "error: 127.0.0.1:PORT speaks relay protocol 3.0; etrace speaks 2.4 to 2.13" \
  version 3 0

# --- a web server at the relay's port -------------------------------------------
t=http_server
want $t && fake_peer $t "error: 127.0.0.1:PORT answered the version handshake with bytes that are not a relay version (\"HTTP/1.1\"...): is it an lttng-relayd?" \
  http

# --- bad URLs -----------------------------------------------------------------
t=bad_url
if want $t; then
  setup $t
  ok=1
  for u in "http://127.0.0.1" "net://127.0.0.1:0" "net://127.0.0.1:5342:x" "net://:5342"; do
    $ET record --relay "$u" syscalls:sys_enter_getppid 2>>$L/stderr
    rc=$?
    [ $rc -eq 1 ] || { ok=0; fail $t "$u: exit status $rc"; break; }
  done
  if [ $ok = 1 ]; then
    if [ "$(grep -c "error: relay URL '" $L/stderr)" != 4 ]; then fail $t "messages: $(head -c 400 $L/stderr)"
    else pass $t; fi
  fi
fi

# relay_fault NAME SIGNAL: the relay gets SIGNAL 1.5 s into a 10 s recording;
# etrace must stop by itself, say why, and count the events not delivered.
relay_fault() {
  local t=$1 sig=$2 limit=$3 pattern=$4
  setup $t
  if ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"; return; fi
  $ET record --relay net://127.0.0.1:$P1:$P2 --session fault --live-timer 0.5 \
    -c "$WL nanosleep 1000 10000" --cmd-only syscalls:sys_enter_nanosleep 2>$L/stderr &
  EP=$!
  sleep 1.5
  t0=$(ms)
  kill -$sig $RPID
  [ $sig = KILL ] && { wait $RPID 2>/dev/null; RPID=; }
  for _ in $(seq 1 $((limit * 10))); do kill -0 $EP 2>/dev/null || break; sleep 0.1; done
  dt=$(($(ms) - t0))
  if kill -0 $EP 2>/dev/null; then
    kill -INT $EP; wait $EP
    fail $t "etrace still running $limit s after the relay got SIG$sig"
  else
    wait $EP
    rc=$?
    undelivered=$(sed -n 's/.*: \([0-9]*\) events not delivered.*/\1/p' $L/stderr)
    if [ $rc -ne 1 ]; then fail $t "exit status $rc, expected 1: $(head -c 300 $L/stderr)"
    elif ! grep -q "$pattern" $L/stderr; then fail $t "message: $(head -c 400 $L/stderr)"
    elif [ -z "$undelivered" ] || [ "$undelivered" -lt 1 ]; then fail $t "no count of undelivered events: $(head -c 400 $L/stderr)"
    else pass $t; fi
  fi
  stop_relay
}

# --- the relay killed while -o DIR is also given: recording goes on locally -----
t=relay_killed_local
if want $t; then
  setup $t
  if ! start_relay; then fail $t "lttng-relayd did not start: $(head -c 300 $L/relayd.log)"
  else
    $ET record --relay net://127.0.0.1:$P1:$P2 --session tee -o $L/local --live-timer 0.5 \
      -c "$WL nanosleep 300 10000" --cmd-only syscalls:sys_enter_nanosleep 2>$L/stderr &
    EP=$!
    sleep 1.5
    kill -KILL $RPID
    wait $RPID 2>/dev/null
    RPID=
    wait $EP
    rc=$?
    n=$(count sys_enter_nanosleep $L/local)
    undelivered=$(sed -n 's/.*: \([0-9]*\) events not delivered to the relay (all of them are in .*)$/\1/p' $L/stderr)
    if [ $rc -ne 0 ]; then fail $t "exit status $rc: $(head -c 300 $L/stderr)"
    elif [ "$n" != 300 ]; then fail $t "$n events in the local trace, expected 300"
    elif ! grep -q "^etrace: the relay at 127.0.0.1:$P1 closed the connection: recording goes on in $L/local only$" $L/stderr; then fail $t "no notice: $(head -c 400 $L/stderr)"
    elif [ -z "$undelivered" ] || [ "$undelivered" -lt 1 ] || [ "$undelivered" -gt 300 ]; then fail $t "undelivered count '$undelivered': $(head -c 400 $L/stderr)"
    else pass $t; fi
  fi
fi

t=relay_killed
want $t && relay_fault $t KILL 4 "etrace: .*relay at 127.0.0.1:[0-9]*.*connection.*: [0-9]* events not delivered"

# --- a relay that stops reading (SIGSTOP): reported after the 5 s timeout ------
t=relay_stalled
want $t && relay_fault $t STOP 9 "etrace: the relay at 127.0.0.1:[0-9]* \(sent no reply\|accepted no data\) for 5.0 s: [0-9]* events not delivered"

exit 0
