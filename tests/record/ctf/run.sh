#!/bin/bash
# CTF recording tests: `etrace record` on the live kernel, every trace read
# back by babeltrace2, with assertions on counts and field values.
#
#   tests/record/ctf/run.sh [NAME...]      run all tests, or those named
#
# Prints "PASS name" or "FAIL name: why".  Needs root, ./etrace,
# tests/bin/workload and babeltrace2 (scripts/deps.sh --test installs it).
# Traces and logs are kept under tests/out/ctf/NAME/.
. "$(dirname "$0")/../../lib.sh"
[ $# -eq 0 ] && plan 19
. tests/record/lib.sh
NCPU=$(nproc --all 2>/dev/null || nproc)
KPRIO=$((20 + $(nice))) # the prio context of a process at this nice value (LTTng: prio - 100)
need_tools fail babeltrace2
need_built "$ET" "$WL"

CC=${CC:-cc}
FLAGS="-std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Isrc -Ibuild/gen"

# --- the recorder and the writer compile without a warning ------------------
t=no_warnings
if want $t; then
  if $CC $FLAGS -Werror -fsyntax-only src/runtime/ctfout.c src/record/record.c src/record/kernel.c src/record/filter.c src/record/statedump.c src/record/relay.c src/record/relay_conn.c src/record/snapshot.c src/record/progs.c src/record/stream.c src/commands/convert.c src/formats/ctf.c src/formats/ctfread.c src/formats/chrome.c 2>$OUT/warnings.txt; then
    pass $t
  else fail $t "$(head -5 $OUT/warnings.txt)"; fi
fi

# --- the writer alone: every field kind, reordering, losses ------------------
t=writer_synthetic
if want $t; then
  setup $t
  if ! $CC $FLAGS -g -o $L/writer tests/record/ctf/writer.c src/formats/ctf.c src/base/util.c 2>$L/build.txt; then
    fail $t "build: $(head -5 $L/build.txt)"
  else
    $L/writer $D > $L/stats 2>$L/stderr
    rc=$?
    babeltrace2 --clock-cycles --no-delta $D > $L/text 2>$L/bt.stderr
    btrc=$?
    first=$(head -1 $L/text)
    want_first='[00000000000000002000] '"$(uname -n)"' all_kinds: { cpu_id = 0 }, { pid = 42, tid = 42 }, { u8 = 200, s16 = -300, s32 = -70000, ptr = 0xFFFFFFFF81000000, arr = [ [0] = 1, [1] = 2, [2] = 3 ], comm = "swapper/0", str = "hello, world", _seq_length = 2, seq = [ [0] = 7, [1] = 2748 ], last = "1234567" }'
    # ticks in timestamp order: seqno 6 (2990) first, then 0 2 1 3 4 5 7 8 13
    order=$(grep ' tick: ' $L/text | sed 's/.*seqno = \([0-9]*\) }$/\1/' | head -10 | tr '\n' ' ')
    warned=$(grep -o 'Tracer discarded [0-9]* events' $L/bt.stderr | awk '{s += $3} END {print s + 0}')
    if [ $rc -ne 0 ]; then fail $t "writer: $(cat $L/stderr)"
    elif [ $btrc -ne 0 ]; then fail $t "babeltrace2 exited $btrc: $(head -3 $L/bt.stderr)"
    elif [ "$first" != "$want_first" ]; then fail $t "first event: $first"
    elif [ "$order" != "6 0 2 1 3 4 5 7 8 13 " ]; then fail $t "tick order: $order"
    elif [ "$(wc -l < $L/text)" != 51 ]; then fail $t "$(wc -l < $L/text) events, expected 51"
    elif [ "$warned" != 12 ]; then fail $t "babeltrace2 reported $warned discarded events, expected 12"
    else pass $t; fi
  fi
fi

# --- N getppid calls of the -c command -> exactly N events -------------------
t=getppid_count
if want $t; then
  setup $t
  $ET record -q -o $D -c "$WL getppid 1000" --cmd-only syscalls:sys_enter_getppid 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  btrc=$?
  n=$(events $D)
  lines=$(grep -c 'sys_enter_getppid: { cpu_id = [0-9]* }, { pid = [0-9]*, tid = [0-9]* }, { __syscall_nr = 110 }$' $L/text)
  pids=$(sed -n 's/.*{ pid = \([0-9]*\), tid = \([0-9]*\) }.*/\1 \2/p' $L/text | sort -u | wc -l)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif ! valid $D || [ $btrc -ne 0 ]; then fail $t "babeltrace2 cannot read the trace"
  elif [ "$n" != 1000 ]; then fail $t "counter saw $n events, expected 1000"
  elif [ "$lines" != 1000 ]; then fail $t "$lines well-formed sys_enter_getppid lines, expected 1000"
  elif [ "$pids" != 1 ]; then fail $t "events from $pids (pid, tid) pairs, expected 1"
  else pass $t; fi
fi

# --- system-wide: find the child by its exec event, count its calls ----------
t=getppid_systemwide
if want $t; then
  setup $t
  $ET record -q -o $D -c "$WL getppid 777" syscalls:sys_enter_getppid sched:sched_process_exec 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  # the exec event's filename is a __data_loc string
  pid=$(grep 'sched_process_exec: ' $L/text | grep 'filename = "tests/bin/workload"' |
        sed -n 's/.*{ pid = \([0-9]*\), tid.*/\1/p' | head -1)
  n=$(grep -c "sys_enter_getppid: { cpu_id = [0-9]* }, { pid = ${pid:-x}, tid = ${pid:-x} }" $L/text)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif ! valid $D; then fail $t "babeltrace2 cannot read the trace"
  elif [ -z "$pid" ]; then fail $t "no sched_process_exec event with filename \"tests/bin/workload\""
  elif [ "$n" != 777 ]; then fail $t "$n getppid events from pid $pid, expected 777"
  else pass $t; fi
fi

# --- field values: openat's filename (a user string), dfd, flags, ret --------
t=openat_fields
if want $t; then
  setup $t
  marker=$PWD/$L/marker-file
  echo hi > $marker
  $ET record -q -o $D -c "$WL open $marker 5 open /nonexistent/etrace-ctf 3" --cmd-only \
    syscalls:sys_enter_openat syscalls:sys_exit_openat 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  ok=$(grep -c "sys_enter_openat: .*{ __syscall_nr = 257, dfd = -100, flags = 0, mode = [0-9]*, filename = \"$marker\" }$" $L/text)
  missing=$(grep -c 'sys_enter_openat: .*filename = "/nonexistent/etrace-ctf" }$' $L/text)
  # each marker open returns a descriptor (>= 0), each missing file -2 (ENOENT)
  rets=$(awk '/sys_enter_openat: / { f = $0 ~ /marker-file/ ? "m" : $0 ~ /nonexistent/ ? "n" : "" ; next }
              /sys_exit_openat: / && f != "" { sub(/.*ret = /, ""); sub(/ }$/, "");
                                               printf "%s%s ", f, ($1 >= 0 ? "ok" : $1); f = "" }' $L/text)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif ! valid $D; then fail $t "babeltrace2 cannot read the trace"
  elif [ "$ok" != 5 ]; then fail $t "$ok sys_enter_openat events with filename=$marker dfd=-100 flags=0, expected 5"
  elif [ "$missing" != 3 ]; then fail $t "$missing opens of the missing file, expected 3"
  elif [ "$rets" != "mok mok mok mok mok n-2 n-2 n-2 " ]; then fail $t "return values: '$rets'"
  else pass $t; fi
fi

# --- forced overflow: a 4 KiB ring buffer, reader and workload on one CPU ----
t=overflow_discarded
if want $t; then
  setup $t
  N=300000
  taskset -c 0 $ET record -o $D -b 4 -c "$WL getppid $N" --cmd-only syscalls:sys_enter_getppid 2>$L/stderr
  rc=$?
  lost=$(sed -n 's/^etrace: lost \([0-9]*\) events.*/\1/p' $L/stderr)
  babeltrace2 $D > /dev/null 2>$L/bt.stderr
  btrc=$?
  # babeltrace2 warns once per packet that follows losses; the counts add up
  warned=$(grep -o 'Tracer discarded [0-9]* events' $L/bt.stderr | awk '{s += $3} END {print s + 0}')
  maybe=$(grep -c 'may have discarded' $L/bt.stderr)
  n=$(events $D)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $btrc -ne 0 ]; then fail $t "babeltrace2 exited $btrc"
  elif [ -z "$lost" ] || [ "$lost" -eq 0 ]; then fail $t "etrace reported no loss with a 4 KiB buffer"
  elif [ "$warned" != "$lost" ]; then fail $t "babeltrace2 warned of $warned discarded events, etrace reported $lost"
  elif [ "$maybe" != 0 ]; then fail $t "babeltrace2 reported losses without a count"
  elif [ $((n + lost)) -ne $N ]; then fail $t "$n recorded + $lost lost != $N calls"
  else pass $t; fi
fi

# --- sched_switch for 1 s: every field well-formed, context tid = prev_pid ---
t=sched_switch_1s
if want $t; then
  setup $t
  start=$(date +%s%N)
  $ET record -q -o $D -D 1 sched:sched_switch 2>$L/stderr
  rc=$?
  wall=$(( ($(date +%s%N) - start) / 1000000 ))
  babeltrace2 --clock-cycles --no-delta $D > $L/text 2>$L/bt.stderr
  n=$(wc -l < $L/text)
  re='^\[([0-9]+)\] [^ ]+ sched_switch: \{ cpu_id = ([0-9]+) \}, \{ pid = ([0-9]+), tid = ([0-9]+) \}, \{ prev_comm = ".*", prev_pid = ([0-9]+), prev_prio = [0-9]+, prev_state = -?[0-9]+, next_comm = ".*", next_pid = [0-9]+, next_prio = [0-9]+ \}$'
  bad=$(grep -Evc "$re" $L/text)
  # the task running at a switch is the one switched out
  mism=$(sed -En "s/$re/\4 \5/p" $L/text | awk '$1 != $2' | wc -l)
  badcpu=$(sed -En "s/$re/\2/p" $L/text | awk -v n=$NCPU '$1 >= n' | wc -l)
  span=$(sed -En "s/$re/\1/p" $L/text | sort -n | awk 'NR == 1 {a = $1} {b = $1} END {print int((b - a) / 1000000)}')
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif ! valid $D; then fail $t "babeltrace2 cannot read the trace"
  elif [ "$n" -lt 10 ]; then fail $t "only $n sched_switch events in 1 s"
  elif [ "$bad" != 0 ]; then fail $t "$bad malformed lines, e.g. $(grep -Ev "$re" $L/text | head -1)"
  elif [ "$mism" != 0 ]; then fail $t "$mism events whose context tid differs from prev_pid"
  elif [ "$badcpu" != 0 ]; then fail $t "$badcpu events with cpu_id >= $NCPU"
  elif [ "$span" -gt 1200 ]; then fail $t "events span $span ms in a 1 s recording"
  elif [ "$wall" -gt 5000 ]; then fail $t "-D 1 took $wall ms"
  else pass $t; fi
fi

# --- layout: metadata first line, only metadata + one stream per CPU ----------
t=trace_layout
if want $t; then
  setup $t
  $ET record -q -o $D -c "$WL getppid 10" --cmd-only 'syscalls:sys_enter_getpp*' 2>$L/stderr
  rc=$?
  first=$(head -1 $D/metadata)
  files=$(cd $D && ls -A | tr '\n' ' ')
  expect="channel0_0 "
  for ((i = 1; i < NCPU; i++)); do expect="${expect}channel0_$i "; done
  expect="${expect}metadata "
  expect=$(echo $expect | tr ' ' '\n' | sort | tr '\n' ' ')
  files=$(echo $files | tr ' ' '\n' | sort | tr '\n' ' ')
  clocks=$(grep -c '^clock {' $D/metadata)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc"
  elif [ "$first" != "/* CTF 1.8 */" ]; then fail $t "metadata starts with '$first'"
  elif [ "$files" != "$expect" ]; then fail $t "files '$files', expected '$expect'"
  elif [ "$clocks" != 1 ]; then fail $t "$clocks clock blocks"
  elif ! grep -q 'name = "monotonic";' $D/metadata || ! grep -q 'offset_s = [0-9]*;' $D/metadata; then
    fail $t "no monotonic clock with a realtime offset"
  elif ! valid $D; then fail $t "babeltrace2 cannot read the trace"
  else pass $t; fi
fi

# --- SIGKILL mid-run: readable; a cut write is repaired ----------------------
t=sigkill_repair
if want $t; then
  setup $t
  $ET record -q -o $D sched:sched_switch syscalls:sys_enter_getppid 2>$L/stderr &
  rec=$!
  sleep 0.5
  $WL getppid 20000 &
  wp=$!
  wait $wp
  sleep 1.5          # the 1 s flush writes the packets
  kill -9 $rec
  wait $rec 2>/dev/null
  valid $D; v1=$?
  babeltrace2 $D > $L/text 2>/dev/null
  got=$(grep -c "sys_enter_getppid: { cpu_id = [0-9]* }, { pid = $wp, tid = $wp }" $L/text)
  n1=$(events $D)
  # a write cut short: the first 100 bytes of a packet at a file's end
  f=$(ls -S $D/channel0_* | head -1)
  head -c 100 $f >> $f
  valid $D; v2=$?
  $ET ctf repair $D > $L/repair 2>&1
  rrc=$?
  valid $D; v3=$?
  n3=$(events $D)
  if [ $v1 -ne 0 ]; then fail $t "the trace of a killed recorder is not readable"
  elif [ "$got" != 20000 ]; then fail $t "$got getppid events of pid $wp, expected 20000"
  elif [ $v2 -eq 0 ]; then fail $t "babeltrace2 accepted a cut packet (test is broken)"
  elif [ $rrc -ne 0 ]; then fail $t "ctf repair exited $rrc: $(cat $L/repair)"
  elif ! grep -q "$(basename $f): .* dropped 100 bytes after them (a partial packet)" $L/repair; then
    fail $t "repair report: $(cat $L/repair)"
  elif [ $v3 -ne 0 ]; then fail $t "still unreadable after repair"
  elif [ "$n3" != "$n1" ]; then fail $t "$n3 events after repair, $n1 before the cut"
  else pass $t; fi
fi

# --- repair of a complete trace changes nothing --------------------------------
t=repair_complete
if want $t; then
  setup $t
  $ET record -q -o $D -c "$WL getppid 50" --cmd-only syscalls:sys_enter_getppid 2>$L/stderr
  before=$(cat $D/channel0_* | md5sum)
  $ET ctf repair $D > $L/repair 2>&1
  rrc=$?
  after=$(cat $D/channel0_* | md5sum)
  if [ $rrc -ne 0 ]; then fail $t "ctf repair exited $rrc"
  elif [ "$before" != "$after" ]; then fail $t "repair changed a complete trace"
  elif ! grep -q ": 0 files truncated" $L/repair; then fail $t "report: $(cat $L/repair)"
  elif $ET ctf repair $L/nonexistent >/dev/null 2>&1; then fail $t "repair of a missing trace succeeded"
  else pass $t; fi
fi

# --- full disk: packets that cannot be written count as discarded -----------
t=disk_full
if want $t; then
  setup $t
  mkdir -p $L/mnt
  if ! mount -t tmpfs -o size=300k tmpfs $L/mnt 2>/dev/null; then
    echo "SKIP $t (cannot mount a tmpfs)"
  else
    N=100000
    $ET record -o $L/mnt/t -c "$WL getppid $N" --cmd-only syscalls:sys_enter_getppid 2>$L/stderr
    rc=$?
    babeltrace2 $L/mnt/t > /dev/null 2>$L/bt.stderr
    btrc=$?
    n=$(events $L/mnt/t)
    warned=$(grep -o 'Tracer discarded [0-9]* events' $L/bt.stderr | awk '{s += $3} END {print s + 0}')
    umount $L/mnt
    if [ $rc -ne 1 ]; then fail $t "etrace exited $rc on a full disk"
    elif ! grep -q "could not write .*No space left on device" $L/stderr; then fail $t "no error: $(cat $L/stderr)"
    elif [ $btrc -ne 0 ]; then fail $t "babeltrace2 cannot read the trace"
    elif [ $((n + warned)) -ne $N ]; then fail $t "$n events + $warned discarded != $N"
    else pass $t; fi
  fi
fi

# --- every tracepoint's program passes the verifier --------------------------
t=verify_all_tracepoints
if want $t; then
  setup $t
  total=$(wc -l < /sys/kernel/tracing/available_events 2>/dev/null || echo 0)
  out=$($ET record --verify '*:*' 2>$L/stderr)
  if [ "$out" != "$total programs loaded" ]; then
    fail $t "'$out' for $total tracepoints: $(head -5 $L/stderr)"
  else pass $t; fi
fi

# --- --profile kernel: LTTng layout, a known workload, the statedump ----------
t=kernel_profile
if want $t; then
  setup $t
  # sh forks, the child execs the workload: fork + exec + 123 getppid calls;
  # before that sh signals itself: its rt_sigreturn exits as syscall_exit_unknown
  $ET record --profile kernel -q -o $D -c "sh -c 'trap true USR1; kill -USR1 \$\$; $WL getppid 123; true'" 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  btrc=$?
  n=$(events $D)
  python3 tests/record/ctf/lttng_check.py tests/record/ctf/lttng-kernel.txt $D/kernel/metadata > $L/contract 2>&1
  crc=$?
  # the workload: exec event -> its tid; the fork event that made it
  wtid=$(grep ' sched_process_exec: ' $L/text | grep "filename = \"$WL\"" |
         sed -n 's/.*{ tid = \([0-9]*\), old_tid = \([0-9]*\), filename.*/\1/p' | head -1)
  shpid=$(grep ' sched_process_fork: ' $L/text | grep "child_tid = ${wtid:-x}, child_pid = ${wtid:-x}," |
          sed -n 's/.*parent_comm = "sh", parent_tid = \([0-9]*\), parent_pid = \1,.*/\1/p' | head -1)
  entries=$(grep -c " syscall_entry_getppid: { cpu_id = [0-9]* }, { pid = ${wtid:-x}, tid = ${wtid:-x}, procname = \"workload\", prio = $KPRIO, vpid = ${wtid:-x}, vtid = ${wtid:-x} }$" $L/text)
  exits=$(grep -c " syscall_exit_getppid: { cpu_id = [0-9]* }, { pid = ${wtid:-x}, tid = ${wtid:-x}, procname = \"workload\", prio = $KPRIO, vpid = ${wtid:-x}, vtid = ${wtid:-x} }, { ret = ${shpid:-x} }$" $L/text)
  sigret=$(grep -c " syscall_entry_rt_sigreturn: { cpu_id = [0-9]* }, { pid = ${shpid:-x}, tid = ${shpid:-x}, procname = \"sh\", prio = $KPRIO, vpid = ${shpid:-x}, vtid = ${shpid:-x} }$" $L/text)
  unknown=$(grep -c " syscall_exit_unknown: { cpu_id = [0-9]* }, { pid = ${shpid:-x}, tid = ${shpid:-x}, procname = \"sh\", prio = $KPRIO, vpid = ${shpid:-x}, vtid = ${shpid:-x} }, { id = -1, ret = " $L/text)
  kill=$(grep -c " syscall_entry_kill: { cpu_id = [0-9]* }, { pid = ${shpid:-x}, tid = ${shpid:-x}, procname = \"sh\", prio = $KPRIO, vpid = ${shpid:-x}, vtid = ${shpid:-x} }, { pid = ${shpid:-x}, sig = 10 }$" $L/text)
  # the statedump: between start and end, with this test's shell and the -c child (sh)
  dump=$(awk '/ lttng_statedump_start: /{s=1} / lttng_statedump_end: /{e=1} / lttng_statedump_process_state: /{ if (s && !e) n++ } END {print n + 0}' $L/text)
  self=$(grep -c " lttng_statedump_process_state: .*{ tid = $$, pid = $$, ppid = $PPID, name = \"$(cat /proc/$$/comm)\", type = 0," $L/text)
  kthread=$(grep -c ' lttng_statedump_process_state: .*name = "kthreadd", type = 1,' $L/text)
  badstate=$(grep ' sched_switch: ' $L/text | grep -vc 'prev_state = \(0\|1\|2\|4\|8\|16\|32\|64\|128\),')
  badprio=$(grep ' sched_switch: ' $L/text | grep -c 'prev_prio = 1[0-9][0-9],')
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $btrc -ne 0 ] || ! valid $D; then fail $t "babeltrace2 cannot read the trace: $(head -3 $L/bt.stderr)"
  elif [ "$n" != "$(wc -l < $L/text)" ]; then fail $t "counter saw $n events, text has $(wc -l < $L/text)"
  elif [ $crc -ne 0 ]; then fail $t "metadata does not match the LTTng layout: $(head -5 $L/contract | tr '\n' ';')"
  elif [ -z "$wtid" ]; then fail $t "no sched_process_exec of $WL"
  elif [ -z "$shpid" ]; then fail $t "no sched_process_fork from sh to tid $wtid"
  elif [ "$entries" != 123 ] || [ "$exits" != 123 ]; then
    fail $t "$entries syscall_entry_getppid / $exits syscall_exit_getppid (ret = $shpid) of tid $wtid, expected 123"
  elif [ "$kill" != 1 ] || [ "$sigret" -lt 1 ] || [ "$unknown" != "$sigret" ]; then
    fail $t "sh's kill/rt_sigreturn: $kill kill, $sigret rt_sigreturn entries, $unknown syscall_exit_unknown"
  elif [ "$dump" -lt 10 ]; then fail $t "only $dump threads in the statedump"
  elif [ "$self" != 1 ]; then fail $t "the statedump lacks this test's shell (pid $$)"
  elif [ "$kthread" != 1 ]; then fail $t "the statedump lacks kthreadd as a kernel thread"
  elif [ "$badstate" != 0 ]; then fail $t "$badstate sched_switch events with a prev_state outside LTTng's encoding"
  elif [ "$badprio" != 0 ]; then fail $t "$badprio sched_switch events with an unadjusted prio (>= 100)"
  else pass $t; fi
fi

# --- convert --to text: babeltrace2's lines (tests/record/ctf/text_compare.py) ----------
t=convert_text
if want $t; then
  setup $t
  $ET record -q -o $D -c "$WL getppid 300 open /nonexistent/etrace-conv 2" \
    sched:sched_switch sched:sched_process_fork syscalls:sys_enter_getppid syscalls:sys_exit_openat \
    syscalls:sys_enter_openat 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/bt.txt 2>/dev/null
  $ET convert $D --to text 2>$L/conv.stderr
  crc=$?
  if [ $rc -ne 0 ]; then fail $t "etrace record exited $rc: $(head -c 300 $L/stderr)"
  elif [ $crc -ne 0 ]; then fail $t "convert exited $crc: $(cat $L/conv.stderr)"
  elif [ ! -s $L/trace.txt ]; then fail $t "no $L/trace.txt next to the trace"
  elif [ "$(wc -l < $L/trace.txt)" != "$(events $D)" ]; then
    fail $t "$(wc -l < $L/trace.txt) lines, babeltrace2 counts $(events $D) events"
  elif ! python3 tests/record/ctf/text_compare.py $L/bt.txt $L/trace.txt > $L/compare 2>&1; then fail $t "$(cat $L/compare)"
  elif sed 's/"[^"]*"/""/g' $L/trace.txt > $L/blanked.txt &&
       python3 tests/record/ctf/text_compare.py $L/bt.txt $L/blanked.txt > /dev/null 2>&1; then
    fail $t "text_compare.py accepts the trace with every string blanked"
  elif [ "$(ls -A $D | grep -vc '^channel0_[0-9]*$\|^metadata$')" != 0 ]; then fail $t "convert wrote into the trace"
  else pass $t; fi
fi

# --- convert --to chrome: JSON, nested slices, N getppid = N slices --------------
t=convert_chrome
if want $t; then
  setup $t
  # the kernel profile (syscall_entry/exit_NAME) and the native one (sys_enter/exit_NAME)
  $ET record --profile kernel -q -o $D -c "sh -c '$WL getppid 250; true'" 2>$L/stderr
  rc=$?
  $ET convert $D --to chrome -o $L/k.json 2>$L/conv.stderr
  crc=$?
  wtid=$(babeltrace2 $D 2>/dev/null | grep ' sched_process_exec: ' | grep "filename = \"$WL\"" |
         sed -n 's/.*{ tid = \([0-9]*\), old_tid.*/\1/p' | head -1)
  python3 tests/record/ctf/chrome_check.py $L/k.json ${wtid:-0} getppid > $L/check 2>&1
  chk=$?
  $ET record -q -o $L/native -c "$WL getppid 77" --cmd-only \
    syscalls:sys_enter_getppid syscalls:sys_exit_getppid 2>>$L/stderr
  $ET convert $L/native --to chrome 2>>$L/conv.stderr
  npid=$(babeltrace2 $L/native 2>/dev/null | sed -n 's/.*{ pid = \([0-9]*\), tid.*/\1/p' | head -1)
  python3 tests/record/ctf/chrome_check.py $L/native.json ${npid:-0} getppid > $L/check2 2>&1
  chk2=$?
  if [ $rc -ne 0 ]; then fail $t "etrace record exited $rc: $(head -c 300 $L/stderr)"
  elif [ $crc -ne 0 ]; then fail $t "convert exited $crc: $(cat $L/conv.stderr)"
  elif ! python3 -m json.tool $L/k.json > /dev/null 2>&1; then fail $t "k.json does not parse"
  elif [ $chk -ne 0 ]; then fail $t "kernel trace: $(cat $L/check)"
  elif ! grep -qx "getppid_on_$wtid=250" $L/check; then fail $t "kernel trace: $(tr '\n' ' ' < $L/check), expected 250 getppid slices on tid $wtid"
  elif ! grep -qx "thread_name=workload" $L/check; then fail $t "kernel trace: the workload's thread is not named: $(tail -1 $L/check)"
  elif [ $chk2 -ne 0 ]; then fail $t "native trace: $(cat $L/check2)"
  elif ! grep -qx "getppid_on_$npid=77" $L/check2; then fail $t "native trace: $(tr '\n' ' ' < $L/check2), expected 77"
  else pass $t; fi
fi

# --- convert on damaged input: located errors, never a crash ---------------------
t=convert_errors
if want $t; then
  setup $t
  $ET record -q -o $D -c "$WL getppid 2000 open /nonexistent/x 3" sched:sched_switch \
    syscalls:sys_enter_getppid syscalls:sys_enter_openat sched:sched_process_exec 2>$L/stderr
  cp -r $D $L/cut
  f=$(ls -S $L/cut/channel0_* | head -1)
  truncate -s -100 $f
  $ET convert $L/cut --to text 2>$L/e1 >/dev/null; r1=$?
  $ET convert $D --to chrome -o $D/inside.json 2>$L/e2; r2=$?
  $ET convert $L/nonexistent --to text 2>$L/e3; r3=$?
  $ET convert $D --to xml 2>$L/e4; r4=$?
  crashes=0
  python3 tests/record/ctf/corrupt.py $D $L/fz 60
  for s in $(seq 1 60); do
    $ET convert $L/fz$s --to chrome -o $L/fz.json >/dev/null 2>$L/fz.err
    r=$?
    if [ $r -gt 1 ] || { [ $r -eq 1 ] && ! grep -q "error: " $L/fz.err; }; then
      crashes=$((crashes + 1)); echo "seed $s: rc $r $(cat $L/fz.err)" >> $L/fz.log
    fi
  done
  if [ $r1 -ne 1 ] || ! grep -q "$(basename $f): error: packet [0-9]* at byte [0-9]*: .* remain" $L/e1; then
    fail $t "cut trace: rc $r1, $(cat $L/e1)"
  elif [ $r2 -ne 1 ] || [ -e $D/inside.json ] || ! grep -q "inside the trace directory" $L/e2; then fail $t "output inside the trace: rc $r2, $(cat $L/e2)"
  elif [ $r3 -ne 1 ] || ! grep -q "nonexistent/metadata: error: " $L/e3; then fail $t "missing trace: rc $r3, $(cat $L/e3)"
  elif [ $r4 -ne 1 ] || ! grep -q "unknown format 'xml'" $L/e4; then fail $t "bad format: rc $r4, $(cat $L/e4)"
  elif [ $crashes -ne 0 ]; then fail $t "$crashes damaged traces crashed convert or gave no error: $(head -2 $L/fz.log)"
  else pass $t; fi
fi

# --- per-event filters: exact counts, verifier, located errors -------------------
t=filters
if want $t; then
  setup $t
  marker=$PWD/$L/marker
  echo hi > $marker
  # the workload opens with flags 0 (O_RDONLY), the loader with O_CLOEXEC
  $ET record -q -o $D -c "$WL open $marker 5 open /nonexistent/etrace-f 3 getppid 40" --cmd-only \
    'syscalls:sys_enter_openat /args.flags == 0 && args.dfd == -100/' \
    'syscalls:sys_exit_openat /ret < 0/' \
    'syscalls:sys_enter_getppid /tid == pid && pid > 1/' 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>/dev/null
  enters=$(grep -c ' sys_enter_openat: ' $L/text)
  fails=$(grep -c ' sys_exit_openat: .*ret = -2 }$' $L/text)
  exits=$(grep -c ' sys_exit_openat: ' $L/text)
  getppid=$(grep -c ' sys_enter_getppid: ' $L/text)
  # nothing passes these
  $ET record -q -o $L/none -c "$WL open $marker 5 getppid 40" --cmd-only \
    'syscalls:sys_enter_openat /args.flags & 1/' 'syscalls:sys_enter_getppid /pid == 1/' 2>>$L/stderr
  none=$(events $L/none)
  # every operator, on constants: all true, then all false
  $ET record -q -o $L/ops -c "$WL getppid 10" --cmd-only 'syscalls:sys_enter_getppid /1 + 2 == 3 && ~0 == -1 && (5 ^ 1) == 4 && !(0) && -3 < 2 && 7 >= 7 && (6 | 1) == 7 && 3 - 5 == -2 && 2 <= 2 && 3 > 2 && (12 & 4) != 0 && 0x10 == 16 && (0 || 5) && !(0 && 1)/' 2>>$L/stderr
  ops_true=$(events $L/ops)
  $ET record -q -o $L/ops2 -c "$WL getppid 10" --cmd-only 'syscalls:sys_enter_getppid /1 + 2 == 4 || -3 > 2 || 0xffffffffffffffff != -1 || (1 && 0)/' 2>>$L/stderr
  ops_false=$(events $L/ops2)
  # the kernel accepts filtered programs of every shape
  verify=$($ET record --verify 'sched:* /pid > 1 || !(tid == 3) && -pid < ~5/' \
    'syscalls:sys_enter_* /args.__syscall_nr != 0 || pid == 0x100000000/' 'syscalls:sys_exit_* /ret != -1/' 2>$L/verify.stderr)
  $ET record -o $L/t1 'syscalls:sys_enter_openat /nosuch == 1/' 2>$L/e1; r1=$?
  $ET record -o $L/t2 'syscalls:sys_enter_openat /args.filename == "x"/' 2>$L/e2; r2=$?
  $ET record -o $L/t3 'syscalls:sys_enter_openat /args.flags &/' 2>$L/e3; r3=$?
  $ET record -o $L/t4 'syscalls:sys_enter_openat /args.flags' 2>$L/e4; r4=$?
  $ET record -o $L/t5 "syscalls:sys_enter_openat /$(printf '(%.0s' $(seq 1 70))1/" 2>$L/e5; r5=$?
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif ! valid $D; then fail $t "babeltrace2 cannot read the trace"
  elif [ "$enters" != 8 ]; then fail $t "$enters sys_enter_openat with flags == 0, expected 8"
  elif [ "$fails" != 3 ] || [ "$exits" != 3 ]; then fail $t "$exits sys_exit_openat ($fails with ret -2), expected 3"
  elif [ "$getppid" != 40 ]; then fail $t "$getppid getppid events, expected 40"
  elif [ "$none" != 0 ]; then fail $t "$none events passed filters that nothing passes"
  elif [ "$ops_true" != 10 ] || [ "$ops_false" != 0 ]; then fail $t "operators: $ops_true of 10 passed a true filter, $ops_false a false one"
  elif ! [[ "$verify" =~ ^[0-9]+\ programs\ loaded$ ]]; then fail $t "verify: $verify $(head -3 $L/verify.stderr)"
  elif [ $r1 -ne 1 ] || ! grep -q "filter of 'syscalls:sys_enter_openat':1:1: error: syscalls:sys_enter_openat has no integer field 'nosuch'" $L/e1; then fail $t "unknown field: $(cat $L/e1)"
  elif [ $r2 -ne 1 ] || ! grep -q ":1:18: error: filters compare integers" $L/e2; then fail $t "string: $(cat $L/e2)"
  elif [ $r3 -ne 1 ] || ! grep -q ":1:13: error: unexpected end of the filter" $L/e3; then fail $t "syntax: $(cat $L/e3)"
  elif [ $r4 -ne 1 ] || ! grep -q "a filter is written /PREDICATE/" $L/e4; then fail $t "unclosed: $(cat $L/e4)"
  elif [ $r5 -ne 1 ] || ! grep -q "nests too deeply" $L/e5; then fail $t "deep nesting: $(cat $L/e5)"
  elif ls -d $L/t[1-5] 2>/dev/null | grep -q .; then fail $t "a failed record left a directory"
  else pass $t; fi
fi

# --- -f ctf: each printf site is an event class with typed fields -------------------
t=program_ctf
if want $t; then
  setup $t
  $ET -f ctf -o $D -c "$WL getppid 60 open /nonexistent/etrace-p 2" -e '
    tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%s %d %d\n", comm, tid, -7); }
    tracepoint:syscalls:sys_exit_openat /pid == cpid && args.ret < 0/ { printf("%d %s\n", args.ret, strerror(-args.ret)); }
    END { printf("bye\n"); }' > $L/stdout 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  btrc=$?
  wpid=$(sed -n 's/.* printf_0: .*{ pid = \([0-9]*\), tid = [0-9]* }.*/\1/p' $L/text | head -1)
  p0=$(grep -c " printf_0: { cpu_id = [0-9]* }, { pid = ${wpid:-x}, tid = ${wpid:-x} }, { arg1 = ${wpid:-x}, arg2 = -7, arg0 = \"workload\" }$" $L/text)
  p1=$(grep -c ' printf_1: .*{ arg0 = -2, arg1 = "No such file or directory" }$' $L/text)
  p2=$(grep -c ' printf_2: ' $L/text)
  types=$(grep -A6 'name = "printf_0"' $D/metadata | grep -c 'signed = true; } _arg2;\|string { encoding = UTF8; } _arg0;\|size = 64; align = 8; signed = [a-z]*; } _arg1;')
  $ET convert $D --to text -o $L/conv.txt 2>/dev/null
  $ET -f ctf -e 'BEGIN { exit(); }' > /dev/null 2>$L/e1; r1=$?
  # a tiny ring buffer: what it loses is in the trace as discarded events
  N=100000
  ETRACE_RINGBUF_KB=4 taskset -c 0 $ET -f ctf -o $L/small -c "$WL getppid $N" \
    -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%d\n", tid); }' > /dev/null 2>$L/small.stderr
  kept=$(events $L/small)
  dropped=$(babeltrace2 $L/small 2>&1 >/dev/null | grep -o 'Tracer discarded [0-9]* events' | awk '{s += $3} END {print s + 0}')
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $btrc -ne 0 ]; then fail $t "babeltrace2 exited $btrc: $(head -3 $L/bt.stderr)"
  elif [ "$p0" != 60 ]; then fail $t "$p0 printf_0 events of pid ${wpid:-?} with typed fields, expected 60"
  elif [ "$p1" != 2 ]; then fail $t "$p1 printf_1 events (ret -2, strerror text), expected 2"
  elif [ "$p2" != 1 ]; then fail $t "$p2 printf_2 (END) events, expected 1"
  elif [ "$types" != 3 ]; then fail $t "printf_0's field types: $(grep -A6 'name = "printf_0"' $D/metadata | tr '\n' ' ')"
  elif ! python3 tests/record/ctf/text_compare.py $L/text $L/conv.txt > $L/compare 2>&1; then fail $t "convert --to text: $(cat $L/compare)"
  elif [ $r1 -ne 1 ] || ! grep -q -- "-f ctf needs -o DIR" $L/e1; then fail $t "-f ctf without -o: rc $r1, $(cat $L/e1)"
  elif [ "$dropped" = 0 ] || [ $((kept + dropped)) -ne $N ]; then fail $t "small ring: $kept events + $dropped discarded != $N"
  else pass $t; fi
fi

# --- errors: non-empty directory, unknown event, bad spec ---------------------
t=errors
if want $t; then
  setup $t
  mkdir -p $D && touch $D/something
  $ET record -o $D sched:sched_switch > /dev/null 2>$L/e1; r1=$?
  $ET record -o $L/t2 nosuch:event > /dev/null 2>$L/e2; r2=$?
  $ET record -o $L/t3 sched_switch > /dev/null 2>$L/e3; r3=$?
  if [ $r1 -ne 1 ] || ! grep -q "is not empty" $L/e1; then fail $t "non-empty dir: rc $r1, $(cat $L/e1)"
  elif [ $r2 -ne 1 ] || ! grep -q "no tracepoint matches 'nosuch:event'" $L/e2; then fail $t "unknown event: rc $r2, $(cat $L/e2)"
  elif [ $r3 -ne 1 ] || ! grep -q "expected SYSTEM:EVENT" $L/e3; then fail $t "bad spec: rc $r3, $(cat $L/e3)"
  elif [ -e $L/t2 ] || [ -e $L/t3 ]; then fail $t "a failed record left a directory"
  else pass $t; fi
fi
