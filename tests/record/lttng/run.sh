#!/bin/bash
# LTTng's own analyses (Debian's python3-lttnganalyses) on traces that
# `etrace record --profile kernel -o DIR` writes of a known workload
# (tests/bin/workload), with the figures they print checked exactly.
#
#   tests/record/lttng/run.sh [NAME...]      run all tests, or those named
#
# Needs root, ./etrace, tests/bin/workload, babeltrace2 and the analyses
# (scripts/deps.sh installs them).  Traces and reports are kept under
# tests/out/lttng/NAME/.
. "$(dirname "$0")/../../lib.sh"
[ $# -eq 0 ] && plan 9
. tests/record/lib.sh
need_tools skip babeltrace2 lttng-syscallstats lttng-cputop
mkdir -p $OUT

# analysis NAME DIR OUT: run lttng-NAME on DIR (bounded), the report in OUT
analysis() { _a=$1 _d=$2 _o=$3; shift 3; timeout 300 lttng-$_a --no-progress "$@" "$_d" >"$_o" 2>&1; }

# --- -o a/b/c: the session layout, parents created, every reader takes DIR -----
t=session_layout
if want $t; then
  setup $t
  D=$L/not/yet/session
  $ET record --profile kernel -q -o $D -c "$WL getppid 1234" 2>$L/stderr
  rc=$?
  analysis syscallstats $D $L/syscallstats.txt
  src=$?
  hits=$(grep -cE '^ - getppid +1234 ' $L/syscallstats.txt)
  files=$(cd $D 2>/dev/null && find . -type f | sort | tr '\n' ' ')
  ncpu=$(nproc --all 2>/dev/null || nproc)
  want_files=$(cd $D 2>/dev/null && { echo ./kernel/metadata; for i in $(seq 0 $((ncpu - 1))); do echo ./kernel/channel0_$i; done; } | sort | tr '\n' ' ')
  n=$(events $D)
  $ET convert $D --to text -o $L/convert.txt 2>$L/convert.stderr
  crc=$?
  name=$(grep -m1 'trace_name = ' $D/kernel/metadata 2>/dev/null)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ "$files" != "$want_files" ]; then fail $t "files under DIR: '$files', expected '$want_files'"
  elif [[ "$name" != *'"session";'* ]]; then fail $t "trace_name is not the session directory's name: $name"
  elif [ $src -ne 0 ]; then fail $t "lttng-syscallstats DIR exited $src: $(tail -3 $L/syscallstats.txt)"
  elif [ "$hits" != 1 ]; then fail $t "$hits threads with exactly 1234 getppid calls in lttng-syscallstats' report, expected 1" $L/syscallstats.txt
  elif [ "$n" -lt 2468 ]; then fail $t "babeltrace2 DIR counts $n events"
  elif [ $crc -ne 0 ] || [ "$(wc -l < $L/convert.txt)" != "$n" ]; then
    fail $t "etrace convert DIR: exit $crc, $(wc -l < $L/convert.txt 2>/dev/null) lines for $n events: $(head -c 200 $L/convert.stderr)"
  else pass $t; fi
fi

# --- one start and one stop instant for every stream and every program --------
t=one_stop_instant
if want $t; then
  setup $t
  D=$L/trace
  $ET record --profile kernel -q -o $D -c "$WL getppid 3000 sleep 200 getppid 2000" 2>$L/stderr
  rc=$?
  analysis syscallstats $D $L/syscallstats.txt
  src=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  # seconds from the first event of the trace (statedump aside) to the
  # first system call, sched_switch and softirq, and from the last of
  # those to the last event: programs attached and detached one at a
  # time left 0.4-0.8 s between them
  gaps=$(awk '
    / lttng_statedump_/ { next }
    { ts = substr($1, 2, 18); split(ts, p, ":"); s = p[1] * 3600 + p[2] * 60 + p[3] }
    { if (first == "") first = s; last = s; k = "" }
    / syscall_(entry|exit)_[a-z0-9_]*: / { k = "sys" }
    / sched_switch: / { k = "switch" }
    / irq_softirq_[a-z]*: / { k = "softirq" }
    k != "" { if (!(k in f)) f[k] = s; l[k] = s }
    END {
      if (length(f) < 3) { print "missing"; exit }
      a = 0; b = 0
      for (k in f) { if (f[k] - first > a) a = f[k] - first; if (last - l[k] > b) b = last - l[k] }
      printf "%.3f %.3f", a, b
    }' $L/text)
  # the analysis reads only the range every stream covers (babeltrace 1):
  # all 5000 calls must lie inside it
  hits=$(grep -cE '^ - getppid +5000 ' $L/syscallstats.txt)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $src -ne 0 ]; then fail $t "lttng-syscallstats exited $src: $(tail -3 $L/syscallstats.txt)"
  elif ! awk -v g="$gaps" 'BEGIN { split(g, a, " "); exit !(a[1] != "" && a[1] < 0.05 && a[2] < 0.05) }'; then
    fail $t "system calls, sched_switch and softirqs start up to $(echo $gaps | cut -d" " -f1) s after and stop up to $(echo $gaps | cut -d" " -f2) s before the trace's first/last event (expected < 0.05 s)"
  elif [ "$hits" != 1 ]; then fail $t "$hits threads with exactly 5000 getppid calls in lttng-syscallstats' report, expected 1" $L/syscallstats.txt
  else pass $t; fi
fi

# --- procname/pid/tid/prio contexts: a -c workload under its own name --------
t=contexts
if want $t; then
  setup $t
  D=$L/trace
  cp $WL $L/lttctx_wl # a name no other process on the machine has
  $ET record --profile kernel -q -o $D -c "$L/lttctx_wl getppid 4321" 2>$L/stderr
  rc=$?
  analysis syscallstats $D $L/syscallstats.txt
  src=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  # the report's thread blocks: "NAME (PID, TID: TID)" then " - SYSCALL COUNT ..."
  named=$(awk '/^[^ ].*\(.*TID: / { name = $1 } /^ - getppid +4321 / { print name }' $L/syscallstats.txt)
  wpid=$(grep -m1 ' syscall_entry_getppid: .*procname = "lttctx_wl"' $L/text | sed -n 's/.*{ pid = \([0-9]*\), tid.*/\1/p')
  prio=$((20 + $(nice)))
  withctx=$(grep -c " syscall_entry_getppid: { cpu_id = [0-9]* }, { pid = ${wpid:-x}, tid = ${wpid:-x}, procname = \"lttctx_wl\", prio = $prio }$" $L/text)
  # the context is on every event, the statedump's too
  noctx=$(grep -vc '}, { pid = -\?[0-9]*, tid = -\?[0-9]*, procname = "[^"]*", prio = -\?[0-9]* }' $L/text)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $src -ne 0 ]; then fail $t "lttng-syscallstats exited $src: $(tail -3 $L/syscallstats.txt)"
  elif [ "$named" != lttctx_wl ]; then fail $t "the thread with 4321 getppid calls is named '$named' in lttng-syscallstats' report, expected lttctx_wl" $L/syscallstats.txt
  elif [ "$withctx" != 4321 ]; then fail $t "$withctx syscall_entry_getppid events of pid ${wpid:-?} with procname \"lttctx_wl\" and prio $prio, expected 4321"
  elif [ "$noctx" != 0 ]; then fail $t "$noctx events without the procname/prio context: $(grep -vm1 'procname = ' $L/text | cut -c1-200)"
  else pass $t; fi
fi

# --- lttng-cputop: a spinner's CPU time under its name, the recorder's share ----
t=cputop
if want $t; then
  setup $t
  D=$L/trace
  cp $WL $L/lttspin_wl
  # bash's time: the spinner's user+system CPU seconds (getrusage)
  $ET record --profile kernel -q -o $D \
    -c "bash -c 'TIMEFORMAT=%3U+%3S; { time $L/lttspin_wl spin 800; } 2>$L/rusage'" 2>$L/stderr &
  EP=$!
  wait $EP
  rc=$?
  analysis cputop $D $L/cputop.txt --limit 1000
  crc=$?
  # "NN.NN %   NAME (TID)": the share of the recorded time range
  # the spinner by its tid (bash's child keeps the name "bash" it had at its
  # first sched_switch: lttng-cputop never renames a thread on exec)
  stid=$(babeltrace2 $D 2>/dev/null | grep -m1 " sched_process_exec: .*filename = \"$L/lttspin_wl\"" |
         sed -n 's/.*{ tid = \([0-9]*\), old_tid.*/\1/p')
  spin=$(sed -n "s/^[^0-9]*\([0-9.]*\) %  *[^ ]* (${stid:-x}) .*/\1/p" $L/cputop.txt | head -1)
  self=$(sed -n "s/^[^0-9]*\([0-9.]*\) %  *[^ ]* ($EP) .*/\1/p" $L/cputop.txt | head -1)
  range=$(sed -n 's/^Timerange: \[\(.*\), \(.*\)\]$/\1 \2/p' $L/cputop.txt)
  secs=$(python3 -c "import sys,datetime as d; v=sys.argv[1:]; a,b=[d.datetime.fromisoformat((v[i]+' '+v[i+1])[:26]) for i in (0,2)]; print((b-a).total_seconds())" $range 2>/dev/null)
  used=$(python3 -c "print($(cat $L/rusage 2>/dev/null))" 2>/dev/null)
  # the analysis' CPU time for the spinner vs getrusage's, within 5 %
  ok=$(python3 -c "s=$spin/100*$secs; print(1 if abs(s-$used) <= 0.05*$used else 0, round(s,3))" 2>/dev/null)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $crc -ne 0 ]; then fail $t "lttng-cputop exited $crc: $(tail -3 $L/cputop.txt)"
  elif [ -z "$spin" ] || [ -z "$secs" ] || [ -z "$used" ]; then
    fail $t "no share for lttspin_wl (tid '$stid': '$spin'), time range ('$range') or rusage ('$(cat $L/rusage)')" $L/cputop.txt
  elif [ "${ok%% *}" != 1 ]; then fail $t "lttng-cputop: lttspin_wl (tid $stid) ran ${ok#* } s ($spin % of $secs s), getrusage says $used s"
  elif [ -n "$self" ] && ! awk -v s="$self" 'BEGIN { exit !(s < 10) }'; then fail $t "etrace itself (pid $EP) at $self % CPU in lttng-cputop's report"
  else pass $t; fi
fi

# --- the statedump lists the files processes hold open at the start ---------
t=fd_statedump
if want $t; then
  setup $t
  D=$L/trace
  echo "known file" > $L/held.txt
  sleep 30 7<$L/held.txt 8>>$L/held.txt &
  HP=$!
  $ET record --profile kernel -q -o $D -c "$WL getppid 1" 2>$L/stderr
  rc=$?
  kill $HP 2>/dev/null; wait $HP 2>/dev/null
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  table=$(printf '0x%X' $HP)
  abs=$(cd $L && pwd)/held.txt
  rd=$(grep -c " lttng_statedump_file_descriptor: .*{ file_table_address = $table, fd = 7, flags = [0-9]*, fmode = 0x1, filename = \"$abs\" }$" $L/text)
  wr=$(grep -c " lttng_statedump_file_descriptor: .*{ file_table_address = $table, fd = 8, flags = [0-9]*, fmode = 0x2, filename = \"$abs\" }$" $L/text)
  proc=$(grep -c " lttng_statedump_process_state: .*{ tid = $HP, pid = $HP, .*file_table_address = $table }$" $L/text)
  # all of them between lttng_statedump_start and _end
  outside=$(awk '/ lttng_statedump_start: /{s=1} / lttng_statedump_end: /{e=1} / lttng_statedump_file_descriptor: /{ if (!s || e) n++ } END {print n + 0}' $L/text)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ "$rd" != 1 ] || [ "$wr" != 1 ]; then
    fail $t "$rd read and $wr write file_descriptor events of pid $HP's fds 7/8 on $abs, expected 1 each: $(grep " lttng_statedump_file_descriptor: .*held.txt" $L/text | head -2 | cut -c 60-400)"
  elif [ "$proc" != 1 ]; then fail $t "pid $HP's process_state does not carry file_table_address $table"
  elif [ "$outside" != 0 ]; then fail $t "$outside file_descriptor events outside the statedump"
  else pass $t; fi
fi

# --- lttng-memtop: the pages a workload touches (kmem page events) ------------
t=memtop
if want $t; then
  setup $t
  # two runs that differ only in the pages of the read buffer they touch:
  # 1 MiB (256 pages) and 4 KiB (1 page); the difference is 255 pages
  cp $WL $L/lttmem_wl
  pages() { # pages SIZE: the workload's allocated pages in lttng-memtop's report
    rm -rf $L/trace-$1
    $ET record --profile kernel -q -o $L/trace-$1 -c "$L/lttmem_wl read $1 1" 2>>$L/stderr || return 1
    analysis memtop $L/trace-$1 $L/memtop-$1.txt --limit 1000 || return 1
    awk '/^Per-TID Memory Allocations/ { a = 1 } /^Per-TID Memory Deallocations/ { a = 0 }
         a && / pages lttmem_wl \(/ { for (i = 1; i <= NF; i++) if ($i == "pages") print $(i - 1) }' $L/memtop-$1.txt | head -1
  }
  big=$(pages 1048576)
  small=$(pages 4096)
  diff=$(( ${big:-0} - ${small:-0} ))
  if [ -z "$big" ] || [ -z "$small" ]; then fail $t "no allocations of lttmem_wl in lttng-memtop's report (1 MiB: '$big', 4 KiB: '$small'): $(head -c 300 $L/stderr)" $L/memtop-1048576.txt
  elif [ $diff -lt 242 ] || [ $diff -gt 268 ]; then fail $t "lttng-memtop: $big pages for a 1 MiB read, $small for 4 KiB: $diff more, expected 255 within 5 %"
  else pass $t; fi
fi

# --- sched_migrate_task as LTTng's: lttng-cputop counts a forced migration ----
t=migrations
if want $t; then
  setup $t
  D=$L/trace
  cp $WL $L/lttmig_wl
  # pinned to CPU 0, moved to CPU 1 once after 0.3 s: exactly one migration
  # of lttmig_wl from CPU 0 to CPU 1
  $ET record --profile kernel -q -o $D \
    -c "sh -c 'taskset -c 0 $L/lttmig_wl spin 700 & p=\$!; sleep 0.3; taskset -pc 1 \$p >/dev/null; wait'" 2>$L/stderr
  rc=$?
  analysis cputop $D $L/cputop.txt --limit 1000
  crc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  stid=$(grep -m1 " sched_process_exec: .*filename = \"$L/lttmig_wl\"" $L/text | sed -n 's/.*{ tid = \([0-9]*\), old_tid.*/\1/p')
  # "NN.NN %   NAME (TID)   MIGRATIONS   [PRIOS]"
  migr=$(sed -n "s/^.* %  *[^ ]* (${stid:-x})  *\([0-9]*\) .*/\1/p" $L/cputop.txt | head -1)
  events=$(grep -c " sched_migrate_task: .*{ comm = \"lttmig_wl\", tid = ${stid:-x}, prio = $((20 + $(nice))), orig_cpu = 0, dest_cpu = 1 }$" $L/text)
  # the tid also moves while sh's child is not pinned yet and when taskset
  # pins it: the analysis must count every one of them
  all=$(grep -c " sched_migrate_task: .*, tid = ${stid:-x}, prio = -\?[0-9]*, orig_cpu = [0-9]*, dest_cpu = [0-9]* }$" $L/text)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $crc -ne 0 ]; then fail $t "lttng-cputop exited $crc: $(tail -3 $L/cputop.txt)"
  elif [ -z "$stid" ]; then fail $t "no sched_process_exec of $L/lttmig_wl"
  elif [ "$events" != 1 ]; then fail $t "$events sched_migrate_task events of tid $stid from CPU 0 to 1 with LTTng's fields, expected 1: $(grep -m2 " sched_migrate_task: .*tid = $stid," $L/text | cut -c 60-300)"
  elif [ "$migr" != "$all" ]; then fail $t "lttng-cputop counts '$migr' migrations for tid $stid, the trace has $all" $L/cputop.txt
  else pass $t; fi
fi

# --- lttng-irqstats: hard interrupts counted as the trace has them -----------
t=irqstats
if want $t; then
  setup $t
  D=$L/trace
  # direct writes to this file system's disk: its device interrupts
  $ET record --profile kernel -q -o $D \
    -c "dd if=/dev/zero of=$L/direct.bin bs=4096 count=64 oflag=direct,sync status=none" 2>$L/stderr
  rc=$?
  analysis irqstats $D $L/irqstats.txt
  irc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  # "NR: <NAME>   COUNT  min avg max stdev |" per hard IRQ vs the trace's
  # irq_handler_exit events of that IRQ (each closes one handled interrupt)
  rows=$(awk '/^Hard IRQ/ { h = 1; next } /^Soft IRQ/ { h = 0 } h && /^ *[0-9]+: / { sub(":", "", $1); print $1, $(NF - 5) }' $L/irqstats.txt)
  bad="" n=0
  while read -r irq count; do
    [ -z "$irq" ] && continue
    n=$((n + 1))
    exits=$(grep -c " irq_handler_exit: .*{ irq = $irq, ret = " $L/text)
    [ "$count" != "$exits" ] && bad="$bad irq $irq: $count in the report, $exits irq_handler_exit;"
  done <<< "$rows"
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $irc -ne 0 ]; then fail $t "lttng-irqstats exited $irc: $(tail -3 $L/irqstats.txt)"
  elif [ $n = 0 ]; then fail $t "no hard IRQ in lttng-irqstats' report" $L/irqstats.txt
  elif [ -n "$bad" ]; then fail $t "$bad" $L/irqstats.txt
  else pass $t; fi
fi

# --- lttng-iousagetop: bytes read and written per file and per process -------
t=iousagetop
if want $t; then
  setup $t
  D=$L/trace
  cp $WL $L/lttio_wl
  # 12 reads of 4 KiB from /dev/zero, 5 writes of 8 KiB to /dev/null
  $ET record --profile kernel -q -o $D -c "$L/lttio_wl read 4096 12 write 8192 5" 2>$L/stderr
  rc=$?
  analysis iousagetop $D $L/iousagetop.txt
  irc=$?
  # "SIZE UNIT PATH" under "Per-file I/O Read" / "Per-file I/O Write"
  file() { awk -v s="$1" -v p="$2" '/^Per-/ { in_s = index($0, s) == 1 } in_s && $NF == p { print $(NF - 2), $(NF - 1) }' $L/iousagetop.txt | head -1; }
  zero=$(file "Per-file I/O Read" /dev/zero)
  null=$(file "Per-file I/O Write" /dev/null)
  pwrite=$(awk '/^Per-process I\/O Write/ { w = 1; next } /^Per-/ { w = 0 } w && / lttio_wl \(/ { for (i = 1; i <= NF; i++) if ($i == "lttio_wl") print $(i - 2), $(i - 1) }' $L/iousagetop.txt | head -1)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $irc -ne 0 ]; then fail $t "lttng-iousagetop exited $irc: $(tail -3 $L/iousagetop.txt)"
  elif [ "$zero" != "48.00 KiB" ]; then fail $t "/dev/zero read: '$zero', expected 48.00 KiB" $L/iousagetop.txt
  elif [ "$null" != "40.00 KiB" ]; then fail $t "/dev/null written: '$null', expected 40.00 KiB" $L/iousagetop.txt
  elif [ "$pwrite" != "40.00 KiB" ]; then fail $t "lttio_wl wrote '$pwrite' in the per-process table, expected 40.00 KiB" $L/iousagetop.txt
  else pass $t; fi
fi
