#!/bin/bash
# Flight-recorder tests: `etrace record --snapshot SIZE -o DIR` on the live
# kernel.  tests/bin/seqcalls makes numbered getpgid(i) calls on one CPU
# and asks for snapshots (SIGUSR1 to etrace, or a getsid(-K) call that a
# --trigger matches) at known points; each snapshot is read by babeltrace2.
#
#   tests/record/snapshot/run.sh [NAME...]      run all tests, or those named
#
# Prints "PASS name" or "FAIL name: why".  Needs root, ./etrace,
# tests/bin/seqcalls and babeltrace2.  Output under tests/out/snapshot/NAME/.
. "$(dirname "$0")/../../lib.sh"
[ $# -eq 0 ] && plan 4
. tests/record/lib.sh
SEQ=tests/bin/seqcalls
need_tools fail babeltrace2
need_built "$ET" "$SEQ"

# check_snapshot DIR LAST: DIR holds the getpgid calls FIRST..LAST, one
# each, in order, with FIRST > 1, and babeltrace2 reports exactly FIRST-1
# discarded events.  Prints nothing when it holds, else why.
check_snapshot() {
  local dir=$1 last=$2
  if ! babeltrace2 "$dir" >"$dir.txt" 2>"$dir.err"; then
    echo "babeltrace2 cannot read $dir: $(head -c 200 "$dir.err")"
    return
  fi
  sed -n 's/.* sys_enter_getpgid: .*, pid = \(-\{0,1\}[0-9]*\) }$/\1/p' "$dir.txt" >"$dir.seq"
  local first n top contiguous discarded
  first=$(head -1 "$dir.seq")
  top=$(tail -1 "$dir.seq")
  n=$(wc -l <"$dir.seq")
  contiguous=$(awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { print bad ? "no" : "yes" }' "$dir.seq")
  discarded=$(grep -o 'discarded [0-9]* events' "$dir.err" | awk '{ s += $2 } END { print s + 0 }')
  if [ -z "$first" ]; then echo "no getpgid event in $dir"
  elif [ "$top" != "$last" ]; then echo "$dir ends at call $top, expected $last"
  elif [ "$contiguous" != yes ]; then echo "$dir: calls $first..$top are not contiguous"
  elif [ "$n" != $((last - first + 1)) ]; then echo "$dir: $n events for calls $first..$last"
  elif [ "$first" -le 1 ]; then echo "$dir starts at call $first: nothing was overwritten (SIZE too large?)"
  elif [ "$discarded" != $((first - 1)) ]; then echo "$dir: babeltrace2 reports $discarded discarded events, expected $((first - 1))"
  fi
}

# --- two snapshots on SIGUSR1 ---------------------------------------------------
t=signal_two
if want $t; then
  setup $t
  $ET record --snapshot 64K -o $D -c "taskset -c 0 $SEQ 20000 signal:10000 signal:15000" \
    --cmd-only syscalls:sys_enter_getpgid 2>$L/stderr
  rc=$?
  why=""
  [ $rc -ne 0 ] && why="etrace exited $rc: $(head -c 300 $L/stderr)"
  [ -z "$why" ] && why=$(check_snapshot $D/snapshot-1 10000)
  [ -z "$why" ] && why=$(check_snapshot $D/snapshot-2 15000)
  [ -z "$why" ] && [ -e $D/snapshot-3 ] && why="a third snapshot"
  [ -z "$why" ] && ! grep -q "^etrace: snapshot 2: [0-9]* events in $D/snapshot-2 ([0-9]* older events overwritten)$" $L/stderr && why="no notice: $(head -c 300 $L/stderr)"
  if [ -n "$why" ]; then fail $t "$why"; else pass $t; fi
fi

# --- a snapshot fired by a trigger (a getsid(-K) call) --------------------------
t=trigger
if want $t; then
  setup $t
  $ET record -q --snapshot 64K -o $D -c "taskset -c 0 $SEQ 20000 mark:12000" --cmd-only \
    --trigger 'tracepoint:syscalls:sys_enter_getsid /args.pid < 0/' syscalls:sys_enter_getpgid \
    2>$L/stderr
  rc=$?
  why=""
  [ $rc -ne 0 ] && why="etrace exited $rc: $(head -c 300 $L/stderr)"
  [ -z "$why" ] && why=$(check_snapshot $D/snapshot-1 12000)
  # the trigger's own event closes the snapshot
  [ -z "$why" ] && ! tail -1 $D/snapshot-1.txt | grep -q 'sys_enter_getsid: .*, pid = -12000 }$' && why="last event: $(tail -1 $D/snapshot-1.txt)"
  [ -z "$why" ] && [ -e $D/snapshot-2 ] && why="a second snapshot"
  if [ -n "$why" ]; then fail $t "$why"; else pass $t; fi
fi

# --- memory: SIZE per CPU plus one packet (SIZE/8) ---------------------------------
t=memory_bound
if want $t; then
  setup $t
  NCPU=$(nproc --all 2>/dev/null || nproc)
  $ET record --snapshot 1M -o $D -c "taskset -c 0 $SEQ 200000 signal:200000" --cmd-only \
    syscalls:sys_enter_getpgid 2>$L/stderr
  rc=$?
  held=$(sed -n 's/^etrace: flight recorder held at most \([0-9.]*\) MiB of packets.*/\1/p' $L/stderr)
  bytes=$(cat $D/snapshot-1/channel0_* 2>/dev/null | wc -c)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ -z "$held" ]; then fail $t "no memory figure: $(head -c 300 $L/stderr)"
  elif ! awk -v h="$held" -v n="$NCPU" 'BEGIN { exit !(h >= 0.9 && h <= n * 1.15) }'; then fail $t "held $held MiB, expected 0.9 to $NCPU x 1.15"
  elif [ "$bytes" -lt 900000 ] || [ "$bytes" -gt $((NCPU * 1206000)) ]; then fail $t "the snapshot holds $bytes bytes of packets"
  else pass $t; fi
fi

# --- option errors ------------------------------------------------------------------
t=options
if want $t; then
  setup $t
  ok=1
  check() { # check WANT_MESSAGE ARGS...
    local msg=$1
    shift
    $ET record "$@" 2>$L/stderr
    local rc=$?
    if [ $ok = 1 ] && { [ $rc -ne 1 ] || ! grep -qF "$msg" $L/stderr; }; then
      fail $t "etrace record $*: exit $rc, $(head -c 200 $L/stderr)"
      ok=0
    fi
  }
  check "error: invalid --snapshot size '12Q'" --snapshot 12Q -o $L/a syscalls:sys_enter_getpgid
  check "error: invalid --snapshot size '100'" --snapshot 100 -o $L/a syscalls:sys_enter_getpgid
  check "error: --trigger needs --snapshot SIZE" --trigger syscalls:sys_enter_getsid -o $L/a syscalls:sys_enter_getpgid
  check "error: --snapshot writes snapshots under -o DIR: not with --relay" --snapshot 1M --relay net://127.0.0.1 syscalls:sys_enter_getpgid
  check "error: --trigger 'syscalls:sys_enter_getpgid /args.pid == 3/': its tracepoint is also recorded" \
    --snapshot 1M -o $L/b --trigger 'syscalls:sys_enter_getpgid /args.pid == 3/' syscalls:sys_enter_getpgid
  [ $ok = 1 ] && pass $t
fi

exit 0
