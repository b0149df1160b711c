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
[ $# -eq 0 ] && plan 19
. tests/record/lib.sh
need_tools skip babeltrace2 lttng-syscallstats lttng-cputop
mkdir -p $OUT
MARK=$OUT/.run-start   # traces written after it belong to this run
touch $MARK

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
  # SCHED_FIFO: see cputop on this machine's pid 1 threads
  $ET record --profile kernel -q -o $D -c "chrt -f 1 $WL getppid 3000 sleep 200 getppid 2000" 2>$L/stderr
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
  withctx=$(grep -c " syscall_entry_getppid: { cpu_id = [0-9]* }, { pid = ${wpid:-x}, tid = ${wpid:-x}, procname = \"lttctx_wl\", prio = $prio, vpid = ${wpid:-x}, vtid = ${wpid:-x} }$" $L/text)
  # the context is on every event, the statedump's too (vpid/vtid: the
  # vpid_vtid test)
  noctx=$(grep -vc '}, { pid = -\?[0-9]*, tid = -\?[0-9]*, procname = "[^"]*", prio = -\?[0-9]*, vpid = -\?[0-9]*, vtid = -\?[0-9]* }' $L/text)
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
  # bash's time: the spinner's user+system CPU seconds (getrusage).  It
  # spins SCHED_FIFO: no BPF program ever runs in the context of this
  # machine's pid 1 threads, so their switches out are missing from any
  # trace, and a spinner they preempted would lose that time in the analysis
  $ET record --profile kernel -q -o $D \
    -c "bash -c 'TIMEFORMAT=%3U+%3S; { time chrt -f 1 $L/lttspin_wl spin 800; } 2>$L/rusage'" 2>$L/stderr &
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
  # sched_stat_runtime: the spinner's runtime adds up to its CPU time too
  rt=$(babeltrace2 $D 2>/dev/null | awk -v t="${stid:-x}" '$0 ~ " sched_stat_runtime: .*, tid = " t ", runtime = " {
         sub(/.*runtime = /, ""); sub(/ }$/, ""); s += $0 } END { printf "%.3f", s / 1e9 }')
  rtok=$(python3 -c "print(1 if abs($rt - $used) <= 0.05 * $used else 0)" 2>/dev/null)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $crc -ne 0 ]; then fail $t "lttng-cputop exited $crc: $(tail -3 $L/cputop.txt)"
  elif [ "$rtok" != 1 ]; then fail $t "sched_stat_runtime of tid $stid adds up to $rt s, getrusage says $used s"
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
  # soft IRQs, as LTTng 2.13 names them (irq_softirq_*: lttng-irqstats
  # 0.6.1 knows only the older softirq_* names, so they are checked here):
  # on each CPU an exit closes the entry of the same vector (0-9)
  soft=$(awk '/ irq_softirq_(entry|exit): / {
      match($0, /cpu_id = [0-9]+/); c = substr($0, RSTART + 9, RLENGTH - 9)
      match($0, /vec = [0-9]+ }$/); v = substr($0, RSTART + 6, RLENGTH - 8) + 0
      if (v > 9) bad++
      if ($0 ~ / irq_softirq_entry: /) { if (c in open) bad++; open[c] = v; n++ }
      else if (c in open) { if (open[c] != v) bad++; delete open[c]; pairs++ }
    } END { printf "%d %d %d", n, pairs, bad }' $L/text)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $irc -ne 0 ]; then fail $t "lttng-irqstats exited $irc: $(tail -3 $L/irqstats.txt)"
  elif [ $n = 0 ]; then fail $t "no hard IRQ in lttng-irqstats' report" $L/irqstats.txt
  elif [ "$(echo $soft | cut -d' ' -f2)" = 0 ] || [ "$(echo $soft | cut -d' ' -f3)" != 0 ]; then
    fail $t "soft IRQs (entries, entry/exit pairs, mismatches): $soft"
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

# --- iolog / iousagetop: a file opened before the recording started --------
t=preopened_file
if want $t; then
  setup $t
  D=$L/trace
  cp $WL $L/lttpre_wl
  head -c 12288 /dev/zero > $L/pre_in.bin
  in=$(cd $L && pwd)/pre_in.bin out=$(cd $L && pwd)/pre_out.bin
  # fds 7 and 8 are opened by this shell before etrace starts: the -c
  # child inherits them, and only the statedump tells their file names
  $ET record --profile kernel -q -o $D -c "$L/lttpre_wl readfd 7 4096 3 writefd 8 8192 2" \
    7<$in 8>$out 2>$L/stderr
  rc=$?
  analysis iolog $D $L/iolog.txt
  lrc=$?
  analysis iousagetop $D $L/iousagetop.txt
  urc=$?
  # iolog: "[begin, end]  SYSCALL  LATENCY  SIZE UNIT  PROCNAME  TID  FILE (fd=N)"
  reads=$(grep -cE "\] +read +[0-9.]+ +4\.00 KiB +lttpre_wl +[0-9]+ +$in \(fd=7\)$" $L/iolog.txt)
  writes=$(grep -cE "\] +write +[0-9.]+ +8\.00 KiB +lttpre_wl +[0-9]+ +$out \(fd=8\)$" $L/iolog.txt)
  unknown=$(grep -cE "lttpre_wl .*unknown \(fd=[78]\)" $L/iolog.txt)
  file() { awk -v s="$1" -v p="$2" '/^Per-/ { in_s = index($0, s) == 1 } in_s && $NF == p { print $(NF - 2), $(NF - 1) }' $L/iousagetop.txt | head -1; }
  rd=$(file "Per-file I/O Read" $in)
  wr=$(file "Per-file I/O Write" $out)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $lrc -ne 0 ] || [ $urc -ne 0 ]; then fail $t "lttng-iolog exited $lrc, lttng-iousagetop $urc: $(tail -3 $L/iolog.txt)"
  elif [ "$reads" != 3 ] || [ "$writes" != 2 ] || [ "$unknown" != 0 ]; then
    fail $t "lttng-iolog: $reads reads of 4 KiB from $in (expected 3), $writes writes of 8 KiB to $out (expected 2), $unknown on unknown files" $L/iolog.txt
  elif [ "$rd" != "12.00 KiB" ]; then fail $t "$in read: '$rd' in lttng-iousagetop, expected 12.00 KiB" $L/iousagetop.txt
  elif [ "$wr" != "16.00 KiB" ]; then fail $t "$out written: '$wr' in lttng-iousagetop, expected 16.00 KiB" $L/iousagetop.txt
  else pass $t; fi
fi

# --- vpid / vtid contexts: a workload in its own pid namespace --------------
t=vpid_vtid
if want $t; then
  setup $t
  D=$L/trace
  cp $WL $L/lttns_wl
  # a process alive at the start, pid 1 of its own namespace: its
  # process_state carries it as context (vpid = vtid = 1)
  unshare --pid --fork --kill-child $L/lttns_wl sleep 5000 &
  UP=$!
  sleep 0.2
  UC=$(pgrep -P $UP)   # its child (by parent pid)
  # the workload is pid 1 of a new namespace: vpid = vtid = 1 there
  $ET record --profile kernel -q -o $D -c "unshare --pid --fork $L/lttns_wl getppid 77" 2>$L/stderr
  rc=$?
  kill $UP 2>/dev/null; wait $UP 2>/dev/null
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  ns=$(grep -c ' syscall_entry_getppid: { cpu_id = [0-9]* }, { pid = [0-9]*, tid = [0-9]*, procname = "lttns_wl", prio = -\?[0-9]*, vpid = 1, vtid = 1 }$' $L/text)
  real=$(grep ' syscall_entry_getppid: .*procname = "lttns_wl"' $L/text | sed -n 's/.*{ pid = \([0-9]*\), tid = \([0-9]*\), .*/\1 \2/p' | sort -u)
  # every other process's events: vpid = pid and vtid = tid (the root
  # namespace; the two namespaced processes are left out)
  other=$(grep -v "{ pid = \(${real%% *}\|${UC:-x}\), " $L/text |
          grep -vc '{ pid = \(-\?[0-9]*\), tid = \(-\?[0-9]*\), procname = "[^"]*", prio = -\?[0-9]*, vpid = \1, vtid = \2 }')
  sd=$(grep -c ' lttng_statedump_process_state: .*procname = "lttns_wl", prio = -\?[0-9]*, vpid = 1, vtid = 1 }, { tid = [0-9]*, pid = [0-9]*, ppid = [0-9]*, name = "lttns_wl",' $L/text)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ "$ns" != 77 ]; then fail $t "$ns syscall_entry_getppid of lttns_wl with vpid = vtid = 1, expected 77: $(grep -m1 'getppid: .*lttns_wl' $L/text | cut -c 40-300)"
  elif [ -z "$real" ] || [ "${real%% *}" = 1 ] || [ "$(echo "$real" | wc -l)" != 1 ]; then fail $t "pid/tid contexts of lttns_wl: '$real', expected its one pid in the root namespace"
  elif [ "$other" != 0 ]; then fail $t "$other events outside the namespace whose vpid/vtid differ from pid/tid: $(grep -v 'procname = "lttns_wl"' $L/text | grep -vm1 'vpid = ' | cut -c 1-200)"
  elif [ "$sd" != 1 ]; then fail $t "$sd process_state events of the namespaced lttns_wl alive at start with context vpid = vtid = 1, expected 1"
  else pass $t; fi
fi

# --- the machine-wide statedump: interrupts, block devices, network, CPUs ---
t=statedump_sys
if want $t; then
  setup $t
  D=$L/trace
  $ET record --profile kernel -q -o $D -c "$WL getppid 1" 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  ev() { grep " lttng_statedump_$1: " $L/text | sed 's/.*}, { \(.*\) }$/\1/'; }
  # interrupts: one event per action of /sys/kernel/irq/N
  want_irq=$(for d in /sys/kernel/irq/*/; do n=$(basename $d); tr ',' '\n' < $d/actions | grep . |
             while read -r a; do echo "irq = $n, name = \"$(cat $d/chip_name)\", action = \"$a\""; done; done | sort)
  got_irq=$(ev interrupt | sed 's/, tid = [0-9]*//' | sort)
  # a threaded handler's tid is its kernel thread irq/N-NAME
  badtid=$(ev interrupt | while IFS= read -r l; do
      n=$(echo "$l" | sed 's/^irq = \([0-9]*\),.*/\1/'); tid=$(echo "$l" | sed 's/.*tid = \([0-9]*\),.*/\1/')
      [ "$tid" != 0 ] && ! grep -q "^irq/$n-" /proc/$tid/comm 2>/dev/null && echo "$l"; done)
  # block devices: /proc/partitions, dev = major << 20 | minor
  want_blk=$(awk 'NR > 2 && NF == 4 { printf "dev = %d, diskname = \"%s\"\n", $1 * 1048576 + $2, $4 }' /proc/partitions | sort)
  got_blk=$(ev block_device | sort)
  # network interfaces: lo's 127.0.0.1 in network byte order
  lo=$(ev network_interface | grep -c '^address_ipv4 = 0x7F000001, name = "lo"$')
  nif=$(ev network_interface | sed 's/.*name = "\(.*\)"$/\1/' | sort -u | tr '\n' ' ')
  want_nif=$(ls /sys/class/net | sort | tr '\n' ' ')
  # CPU topology (x86): one per CPU, as /proc/cpuinfo
  ncpu=$(grep -c '^processor' /proc/cpuinfo)
  vendor=$(sed -n 's/^vendor_id\t*: //p' /proc/cpuinfo | head -1)
  cpus=$(ev cpu_topology | grep -c "^cpu_id = [0-9]*, family = [0-9]*, model = [0-9]*, physical_id = [0-9]*, core_id = [0-9]*, cores = [0-9]*, architecture = \"x86\", vendor = \"$vendor\", model_name = \".*\"$")
  # fd flags in base 8 (LTTng's ctf_integer_oct)
  oct=$(grep -c 'base = 8; } _flags;' $D/kernel/metadata)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ -z "$want_irq" ] || [ "$got_irq" != "$want_irq" ]; then fail $t "interrupts:
$(diff <(echo "$want_irq") <(echo "$got_irq"))"
  elif [ -n "$badtid" ]; then fail $t "interrupt thread tids that are not irq/N- threads: $badtid"
  elif [ -z "$want_blk" ] || [ "$got_blk" != "$want_blk" ]; then fail $t "block devices:
$(diff <(echo "$want_blk") <(echo "$got_blk"))"
  elif [ "$lo" != 1 ] || [ "$nif" != "$want_nif" ]; then fail $t "network interfaces: '$nif' (expected '$want_nif'), lo at 127.0.0.1: $lo"
  elif [ "$(uname -m)" = x86_64 ] && [ "$cpus" != "$ncpu" ]; then fail $t "$cpus cpu_topology events, expected $ncpu"
  elif [ "$oct" != 1 ]; then fail $t "lttng_statedump_file_descriptor's flags are not declared in base 8"
  else pass $t; fi
fi

# --- block events in LTTng's layout: lttng-iousagetop's disk tables ---------
t=block_io
if want $t; then
  setup $t
  D=$L/trace
  # 64 direct writes of 4 KiB: 64 block requests of 8 sectors issued by dd
  $ET record --profile kernel -q -o $D \
    -c "dd if=/dev/zero of=$L/direct.bin bs=4096 count=64 oflag=direct status=none" 2>$L/stderr
  rc=$?
  analysis iousagetop $D $L/iousagetop.txt
  irc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  dpid=$(grep -m1 ' sched_process_exec: .*filename = "/usr/bin/dd"' $L/text | sed -n 's/.*{ tid = \([0-9]*\), old_tid.*/\1/p')
  # LTTng's rwbs: RWBS_FLAG_WRITE (1) | RWBS_FLAG_SYNC (32) for O_DIRECT writes
  issued=$(grep -c " block_rq_issue: .*{ dev = [0-9]*, sector = [0-9]*, nr_sector = 8, bytes = 4096, tid = ${dpid:-x}, rwbs = 33, comm = \"dd\" }$" $L/text)
  done=$(grep -c " block_rq_complete: .*, nr_sector = 8, error = 0, rwbs = 33 }$" $L/text)
  # the analysis: dd's block writes, and the disk named by the statedump
  blk=$(awk '/^Block I\/O Write/ { b = 1; next } /^[A-Z]/ { b = 0 } b && / dd \(pid='"${dpid:-x}"'\)/ { print $(NF - 3), $(NF - 2) }' $L/iousagetop.txt)
  disk=$(awk 'NR > 2 && NF == 4 { print $4; exit }' /proc/partitions)
  reqs=$(sed -n "s/^[^0-9]*\([0-9]*\) requests $disk$/\1/p" $L/iousagetop.txt)
  # events the kernel did not let a program record (an interrupt during
  # another tracepoint program: the completions): etrace counts them, and
  # the exact figures hold when there are none
  missed=$(sed -n 's/^etrace: \([0-9]*\) events not recorded: .*/\1/p' $L/stderr)
  missed=${missed:-0}
  kib=$(echo "$blk" | awk '$2 == "KiB" { print int($1) }')
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $irc -ne 0 ]; then fail $t "lttng-iousagetop exited $irc: $(tail -3 $L/iousagetop.txt)"
  elif [ "$issued" -gt 64 ] || [ $((issued + missed)) -lt 64 ]; then fail $t "$issued block_rq_issue of 8 sectors by dd (tid $dpid) with rwbs = 33 (W|S), expected 64 ($missed not recorded): $(grep -m1 ' block_rq_issue: ' $L/text | cut -c 60-400)"
  elif [ $((done + missed)) -lt 64 ]; then fail $t "$done block_rq_complete of 8 sectors with rwbs = 33 ($missed not recorded), expected at least 64"
  elif [ "$missed" = 0 ] && [ "$blk" != "256.00 KiB" ]; then fail $t "lttng-iousagetop: dd (pid $dpid) block writes '$blk', expected 256.00 KiB" $L/iousagetop.txt
  elif [ -z "$kib" ] || [ "$kib" -gt 256 ] || [ $((kib + 4 * missed)) -lt 256 ]; then fail $t "lttng-iousagetop: dd (pid $dpid) block writes '$blk', expected 256.00 KiB ($missed events not recorded)" $L/iousagetop.txt
  elif [ -z "$reqs" ] || [ $((reqs + missed)) -lt 64 ]; then fail $t "lttng-iousagetop: '$reqs' requests on disk $disk (named by the block_device statedump), expected at least 64" $L/iousagetop.txt
  else pass $t; fi
fi

# --- net events in LTTng's layout: UDP on the loopback ----------------------
t=net_loopback
if want $t; then
  setup $t
  D=$L/trace
  # 20 datagrams of 1234 bytes to its own socket on 127.0.0.1 (own port)
  cat > $L/udp.py <<'PY'
import socket, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(n):
    s.sendto(b"x" * size, r.getsockname())
    r.recv(65536)
PY
  $ET record --profile kernel -q -o $D -c "python3 $L/udp.py 20 1234" 2>$L/stderr
  rc=$?
  analysis iousagetop $D $L/iousagetop.txt
  irc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  # on lo a datagram of 1234 bytes is 1276 with its UDP, IP and Ethernet
  # headers when sent, 1262 once received (the Ethernet header pulled)
  spid=$(grep ' syscall_entry_sendto: ' $L/text | grep -m1 'procname = "python3' | sed -n 's/.*{ pid = \([0-9]*\), .*/\1/p')
  xmit=$(grep -c " net_dev_xmit: .*{ pid = ${spid:-x}, .*{ skbaddr = 0x[0-9A-F]*, rc = 0, len = 1276, name = \"lo\" }$" $L/text)
  recv=$(grep -c ' net_if_receive_skb: .*{ skbaddr = 0x[0-9A-F]*, len = 1262, name = "lo" }$' $L/text)
  # the analysis: the sender's network writes (sockets it opened)
  net=$(awk '/^Per-process I\/O Write/ { w = 1; next } /^[A-Z]/ { w = 0 } w && / \('"${spid:-x}"'\) / { print $(NF - 3), $(NF - 2) }' $L/iousagetop.txt)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $irc -ne 0 ]; then fail $t "lttng-iousagetop exited $irc: $(tail -3 $L/iousagetop.txt)"
  elif [ "$xmit" != 20 ]; then fail $t "$xmit net_dev_xmit of 1276 bytes on lo by pid $spid, expected 20: $(grep -m1 ' net_dev_xmit: ' $L/text | cut -c 60-400)"
  elif [ "$recv" != 20 ]; then fail $t "$recv net_if_receive_skb of 1262 bytes on lo, expected 20"
  elif [ "$net" != "24.10 KiB" ]; then fail $t "lttng-iousagetop: pid $spid wrote '$net' to the network, expected 24.10 KiB (20 x 1234 B)" $L/iousagetop.txt
  else pass $t; fi
fi

# --- --enable / --disable choose event groups and LTTng event names ---------
t=enable_disable
if want $t; then
  setup $t
  D=$L/trace
  $ET record --profile kernel -q -o $D --disable kmem,block,net,power,writeback,'syscall_*_getppid' \
    --enable 'timer_hrtimer_expire_*',syscall_entry_getppid -c "$WL getppid 5 nanosleep 5 20000" 2>$L/stderr
  rc=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  classes=$(awk '/^event {/ { e = 1 } e && /^\tname = / { gsub(/^\tname = "|";$/, ""); print; e = 0 }' $D/kernel/metadata)
  groups=$(echo "$classes" | sed 's/_.*//' | sort -u | tr '\n' ' ')
  timers=$(echo "$classes" | grep '^timer_' | sort | tr '\n' ' ')
  getppid=$(echo "$classes" | grep -c getppid)
  nsleep=$(echo "$classes" | grep -c '^syscall_entry_nanosleep$')
  hr=$(grep -c ' timer_hrtimer_expire_entry: ' $L/text)
  # errors: an unknown name, and --enable without the kernel profile
  $ET record --profile kernel -q -o $L/bad --enable nosuchgroup -c true 2>$L/err1; e1=$?
  $ET record -q -o $L/bad2 --enable timer sched:sched_switch -c true 2>$L/err2; e2=$?
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ "$groups" != "irq lttng sched syscall timer " ]; then fail $t "event groups in the metadata: '$groups', expected 'irq lttng sched syscall timer '"
  elif [ "$timers" != "timer_hrtimer_expire_entry timer_hrtimer_expire_exit " ]; then fail $t "timer classes: '$timers'"
  elif [ "$getppid" != 0 ] || [ "$nsleep" != 1 ]; then fail $t "$getppid getppid classes (disabled by name, which wins over --enable), $nsleep syscall_entry_nanosleep"
  elif [ "$hr" -lt 5 ]; then fail $t "$hr timer_hrtimer_expire_entry events for 5 sleeps"
  elif [ $e1 = 0 ] || ! grep -q 'error: --enable nosuchgroup: no event group' $L/err1; then fail $t "--enable nosuchgroup: exit $e1, '$(cat $L/err1)'"
  elif [ $e2 = 0 ] || ! grep -q 'error: --enable and --disable choose the events of --profile kernel' $L/err2; then fail $t "--enable without --profile kernel: exit $e2, '$(cat $L/err2)'"
  else pass $t; fi
fi

# --- rwbs: LTTng's flag set from the kernel's text, request by request -------
t=rwbs_encoding
if want $t; then
  setup $t
  D=$L/trace
  # a native recording (the kernel's rwbs text) around a kernel-profile one
  # (LTTng's flags) of the same requests: direct writes (WS), direct reads
  # (RS) and a sync (flushes: FF where the disk caches writes)
  $ET record -o $L/native block:block_rq_issue -D 60 2>$L/native.stderr &
  NP=$!
  for i in $(seq 100); do grep -q 'recording' $L/native.stderr 2>/dev/null && break; sleep 0.1; done
  $ET record --profile kernel -q -o $D --disable kmem,syscall,sched,irq,net,power,writeback \
    -c "sh -c 'dd if=/dev/zero of=$L/rw.bin bs=4096 count=16 oflag=direct status=none; dd if=$L/rw.bin of=/dev/null bs=4096 iflag=direct status=none; sync'" 2>$L/stderr
  rc=$?
  kill -INT $NP 2>/dev/null; wait $NP
  babeltrace2 $L/native > $L/native.txt 2>/dev/null
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  # the flags of blk_fill_rwbs's text, LTTng's RWBS_FLAG_* values
  res=$(awk '
    function flags(s,   f, i, c, op) {
      f = 0; i = 1
      if (substr(s, 1, 1) == "F" && substr(s, 2, 1) ~ /[WDFRN]/) { f += 1024; i = 2 }
      op = substr(s, i, 1)
      f += op == "W" ? 1 : op == "D" ? 2 : op == "F" ? 256 : op == "R" ? 4 : 0
      for (i++; i <= length(s); i++) {
        c = substr(s, i, 1)
        f += c == "F" ? 512 : c == "A" ? 8 : c == "S" ? 32 : c == "M" ? 64 : c == "E" ? 128 : 0
      }
      return f
    }
    function val(l, k,   m) { if (!match(l, k " = [^,}]*")) return ""; m = substr(l, RSTART + length(k) + 3, RLENGTH - length(k) - 3); gsub(/[" ]/, "", m); return m }
    / block_rq_issue: / {
      key = val($0, "dev") ":" val($0, "sector") ":" val($0, "nr_sector") ":" val($0, "comm")
      if (FILENAME ~ /native/) { want[key] = want[key] " " flags(val($0, "rwbs")); text[flags(val($0, "rwbs"))] = val($0, "rwbs") }
      else { n++; got = val($0, "rwbs"); seen[got]++
             if (index(want[key] " ", " " got " ") == 0) { bad++; if (!ex) ex = key " = " got " (kernel: " want[key] ")" } }
    }
    END { kinds = ""; for (f in seen) kinds = kinds " " text[f]; printf "%d %d %s|%s", n, bad, kinds, ex }' $L/native.txt $L/text)
  n=${res%% *}; rest=${res#* }; bad=${rest%% *}; kinds=${rest#* }; kinds=${kinds%%|*}; ex=${res#*|}
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ "${n:-0}" -lt 32 ]; then fail $t "${n:-0} block_rq_issue events in the kernel-profile trace, expected at least 32"
  elif [ "$bad" != 0 ]; then fail $t "$bad of $n requests with an rwbs unlike the kernel's text, e.g. $ex"
  elif [[ " $kinds " != *" WS "* ]] || [[ " $kinds " != *" RS "* ]]; then fail $t "kinds of request seen:$kinds (expected WS and RS among them)"
  else pass $t; fi
fi

# --- lttng-schedlog: the wakeups of a sleeper --------------------------------
t=schedlog
if want $t; then
  setup $t
  D=$L/trace
  cp $WL $L/lttslp_wl
  # 7 sleeps of 20 ms: 7 wakeups once it runs the workload
  $ET record --profile kernel -q -o $D -c "$L/lttslp_wl nanosleep 7 20000" 2>$L/stderr
  rc=$?
  analysis schedlog $D $L/schedlog.txt
  src=$?
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  exec=$(grep -m1 " sched_process_exec: .*filename = \"$L/lttslp_wl\"" $L/text)
  stid=$(echo "$exec" | sed -n 's/.*{ tid = \([0-9]*\), old_tid.*/\1/p')
  ts=$(echo "$exec" | sed -n 's/^\[\([0-9:.]*\)\].*/\1/p')
  # "[WAKEUP, SWITCH]  LATENCY  PRIO  CPU  WAKEE (TID)  WAKER (TID)": the
  # sleeper's wakeups after its exec (before it, -c's wait for the start)
  wakes=$(awk -v t="${stid:-x}" -v ts="$ts" '$6 == "lttslp_wl" && $7 == "(" t ")" {
            w = substr($1, 2, length($1) - 2); if (w > ts) n++ } END { print n + 0 }' $L/schedlog.txt)
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ $src -ne 0 ]; then fail $t "lttng-schedlog exited $src: $(tail -3 $L/schedlog.txt)"
  elif [ -z "$stid" ]; then fail $t "no sched_process_exec of $L/lttslp_wl"
  elif [ "$wakes" != 7 ]; then fail $t "lttng-schedlog: $wakes wakeups of lttslp_wl (tid $stid) after its exec, expected 7" $L/schedlog.txt
  else pass $t; fi
fi

# --- sched_switch from the raw tracepoint: the kernel's own values ----------
t=sched_switch_raw
if want $t; then
  setup $t
  D=$L/trace
  # a native recording of sched:sched_switch around the kernel profile's:
  # per CPU, the same switches in the same order with the same tids,
  # priorities (minus 100) and prev_state (0 for a preemption, 0x100 there)
  $ET record -o $L/native sched:sched_switch sched:sched_waking -D 60 2>$L/native.stderr &
  NP=$!
  for i in $(seq 100); do grep -q 'recording' $L/native.stderr 2>/dev/null && break; sleep 0.1; done
  $ET record --profile kernel -q -o $D --disable kmem,block,net,power,writeback,syscall,irq \
    -c "sh -c '$WL nanosleep 20 1000 spin 50'" 2>$L/stderr
  rc=$?
  kill -INT $NP 2>/dev/null; wait $NP
  babeltrace2 $L/native > $L/native.txt 2>/dev/null
  babeltrace2 $D > $L/text 2>$L/bt.stderr
  res=$(python3 - $L/native.txt $L/text <<'PY'
import re, sys
def load(path, native):
    seq = {}
    for l in open(path):
        if ' sched_switch: ' not in l:
            continue
        g = lambda k: int(re.search(k + r' = (-?\d+)', l).group(1))
        st, pp, np_ = g('prev_state'), g('prev_prio'), g('next_prio')
        if native:
            st, pp, np_ = (0 if st & 0x100 else st), pp - 100, np_ - 100
        key = 'pid' if native else 'tid'
        seq.setdefault(g('cpu_id'), []).append((g('prev_' + key), g('next_' + key), st, pp, np_))
    return seq
n, k = load(sys.argv[1], True), load(sys.argv[2], False)
total = same = 0
for cpu, b in k.items():
    a = n.get(cpu, [])
    best = 0
    for i in range(len(a)):                      # where the profile's window starts
        if a[i][:2] != b[0][:2]:
            continue
        m = sum(1 for j in range(min(len(b), len(a) - i)) if a[i + j] == b[j])
        best = max(best, m)
    total += len(b)
    same += best
# sched_waking (raw too): each of the profile's wakeups is one of the
# kernel tracepoint's on that CPU (comm, tid, prio, target_cpu); the native
# perf-event program may miss some, so not the other way round
def wakings(path, native):
    out = {}
    for l in open(path):
        if ' sched_waking: ' not in l:
            continue
        cpu = int(re.search(r'cpu_id = (\d+)', l).group(1))
        pay = l.rsplit('}, {', 1)[-1]                  # the payload only
        g = lambda k: int(re.search(r'\b' + k + r' = (-?\d+)', pay).group(1))
        comm = re.search(r'comm = "([^"]*)"', pay).group(1)
        t = (cpu, comm, g('pid' if native else 'tid'), g('prio') - (100 if native else 0),
             g('target_cpu'))
        out[t] = out.get(t, 0) + 1
    return out
nw, kw = wakings(sys.argv[1], True), wakings(sys.argv[2], False)
wk = sum(kw.values())
wsame = sum(min(c, nw.get(t, 0)) for t, c in kw.items())
print(total, same, wk, wsame)
PY
)
  read total same wk wsame <<< "$res"
  if [ $rc -ne 0 ]; then fail $t "etrace exited $rc: $(head -c 300 $L/stderr)"
  elif [ "${total:-0}" -lt 40 ]; then fail $t "${total:-0} sched_switch events in the kernel-profile trace, expected at least 40"
  # a dying task's exit_state may change between the two probes' reads
  elif [ $((total - same)) -gt 2 ]; then fail $t "$same of $total sched_switch events match the kernel's tracepoint (tids, priorities, prev_state)"
  elif [ "${wk:-0}" -lt 20 ] || [ $((wsame * 100)) -lt $((wk * 95)) ]; then fail $t "$wsame of ${wk:-0} sched_waking events match the kernel's tracepoint (comm, tid, prio, target_cpu), expected at least 20 and 95 %"
  else pass $t; fi
fi

# --- babeltrace 1 and babeltrace2 read every trace of this run alike --------
t=babeltrace_counts
if want $t && ! command -v babeltrace >/dev/null; then skip $t "babeltrace (1) is not installed"
elif want $t; then
  # the traces the tests above wrote in this run (newer than the marker)
  traces=$(find $OUT -path '*/kernel/metadata' -newer $MARK 2>/dev/null | sed 's,/kernel/metadata$,,' | sort)
  if [ -z "$traces" ]; then
    setup $t
    $ET record --profile kernel -q -o $L/trace -c "$WL getppid 100" 2>$L/stderr
    traces=$L/trace
  fi
  bad="" k=0
  for d in $traces; do
    k=$((k + 1))
    n1=$(babeltrace $d 2>/dev/null | wc -l)
    n2=$(events $d)
    [ "$n1" != "$n2" ] || [ "$n2" = 0 ] && bad="$bad $d: babeltrace $n1, babeltrace2 $n2;"
  done
  if [ -n "$bad" ]; then fail $t "event counts differ:$bad"
  else pass $t; fi
fi
