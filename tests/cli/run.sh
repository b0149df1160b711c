#!/bin/sh
# Command-line and process-control behaviour of the real binary on the
# live kernel: signals, -c, -p, -o, -l, stdin and shebang programs,
# verifier rejections, exit codes.  One PASS/FAIL line per check.
. "$(dirname "$0")/../lib.sh"
ET=${ETRACE:-./etrace}
WL=tests/bin/workload
T=tests/out/cli
mkdir -p $T
plan 39

check() { # check NAME CONDITION-COMMAND...
  name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
has() { grep -q -- "$2" "$1"; }
hasnt() { ! grep -q -- "$2" "$1"; }

# SIGINT and SIGTERM mid-run: maps printed, clean exit 0.
for sig in INT TERM HUP; do
  $ET -q -e 'BEGIN { @started = 1; printf("ready\n"); } interval:ms:10 { @ticks = count(); }' > $T/sig$sig.out 2>&1 &
  pid=$!
  i=0; while ! grep -q ready $T/sig$sig.out 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  sleep 0.2
  kill -$sig $pid; wait $pid; rc=$?
  check "signal_$sig" sh -c "[ $rc -eq 0 ] && grep -q '^@started: 1' $T/sig$sig.out && grep -q '^@ticks: [1-9]' $T/sig$sig.out"
done

# Nothing stays loaded after the tracer is killed (fd-owned links): the
# program ids the tracer holds (from its fdinfo) are gone afterwards.
if ! have bpftool; then
  skip sigkill_leaves_nothing "bpftool missing: it checks that no program stays loaded"
else
$ET -q -e 'tracepoint:syscalls:sys_enter_getppid { @ = count(); } tracepoint:sched:sched_switch { @s = count(); }' > /dev/null 2>&1 &
pid=$!; sleep 0.5
ids=$(cat /proc/$pid/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u)
kill -KILL $pid; wait $pid 2>/dev/null; sleep 0.3
left=0
for id in $ids; do bpftool prog show id "$id" > /dev/null 2>&1 && left=$((left+1)); done
check sigkill_leaves_nothing sh -c "[ -n '$ids' ] && [ $left -eq 0 ]"
fi

# Programs carry the probe's last part as their kernel name, as bpftrace's
# do (a name longer than 15 characters is cut, and one with a callback
# subprogram names it in its func_info), so bpftool tells them apart.
if ! have bpftool; then
  skip prog_names "bpftool missing: it shows the names"
else
$ET -q -e 'tracepoint:sched:sched_switch { @s = count(); }
  tracepoint:irq:irq_handler_entry { @m[1] = 1; for ($kv : @m) { @n = $kv.1; } }
  interval:s:1 { @i = count(); } END { clear(@s); }' > /dev/null 2>&1 &
pid=$!
# program and link fds both name the program: unique ids, once all four
# are loaded (at most 5 s)
progs() { cat /proc/$pid/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u; }
i=0; while [ "$(progs | wc -l)" -lt 4 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
names=$(for id in $(progs); do
  bpftool prog show id "$id" -j 2>/dev/null | sed -n 's/.*"name":"\([^"]*\)".*/\1/p'; done | sort | tr '\n' ' ')
kill -INT $pid; wait $pid 2>/dev/null
check prog_names [ "$names" = "1 END irq_handler_ent sched_switch " ]
fi

# -c: the child runs after attach; its exit ends the trace.
$ET -q -c "$WL getppid 7" -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }' > $T/c.out 2>&1
check c_counts_child has $T/c.out '^@: 7$'
# -c with a command that does not exist: bpftrace's error before anything
# runs (no BEGIN output), exit 1, no hang.
timeout 10 $ET -q -c "/nonexistent/cmd" -e 'BEGIN { printf("begin\n"); } tracepoint:syscalls:sys_enter_getppid { @ = count(); }' > $T/c2.out 2>&1; rc=$?
check c_missing_command sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: Failed to fork child: path '/nonexistent/cmd' does not exist or is not executable\" $T/c2.out && ! grep -q begin $T/c2.out"
# -c with a program that fails to compile: the child never runs.
timeout 10 $ET -q -c "$WL getppid 1" -e 'BEGIN { $x = ; }' > $T/c3.out 2>&1; rc=$?
check c_compile_error_exit1 [ $rc -eq 1 ]

# -p PID: only that process, and the trace ends when it exits.
$WL sleep 300 getppid 5 sleep 300 & wl=$!
timeout 10 $ET -q -p $wl -e 'tracepoint:syscalls:sys_enter_getppid { @[pid] = count(); }' > $T/p.out 2>&1; rc=$?
check p_filters_and_ends sh -c "[ $rc -eq 0 ] && grep -q '^@\[$wl\]: 5$' $T/p.out && [ \$(grep -c '^@\[' $T/p.out) -eq 1 ]"
# ... also when the probe reads args of a syscall (served by the dispatcher,
# whose prologue rebuilds the record after the pid check): 4 opens of the
# file by the -p process, none of other processes' opens.
$WL sleep 300 open /etc/hostname 4 sleep 300 & wl=$!
timeout 10 $ET -q -p $wl -e 'tracepoint:syscalls:sys_enter_openat { @[str(args.filename)] = count(); }' > $T/p3.out 2>&1; rc=$?
check p_filters_syscall_args sh -c "[ $rc -eq 0 ] && grep -q '^@\[/etc/hostname\]: 4$' $T/p3.out && [ \$(grep -c '^@\[' $T/p3.out) -eq 1 ]"
timeout 5 $ET -q -p 999999 -e 'BEGIN { exit(); }' > $T/p2.out 2>&1; rc=$?
check p_missing_process sh -c "[ $rc -eq 1 ] && grep -q 'does not exist' $T/p2.out"

# exit(code) sets the exit status.
$ET -q -e 'BEGIN { exit(3); }' > /dev/null 2>&1; rc=$?
check exit_code [ $rc -eq 3 ]

# -o FILE: the output goes to the file.
rm -f $T/o.txt
$ET -q -o $T/o.txt -e 'BEGIN { printf("to file\n"); exit(); }' > $T/o.stdout 2>&1
check o_file sh -c "grep -q '^to file$' $T/o.txt && ! grep -q 'to file' $T/o.stdout"
# -o and -B mistakes: bpftrace's words, exit 1.
$ET -q -o /nonexistent/dir/o.txt -e 'BEGIN { exit(); }' > $T/o2.out 2>&1; rc=$?
check o_unwritable sh -c "[ $rc -eq 1 ] && grep -qx 'ERROR: Failed to open output file: \"/nonexistent/dir/o.txt\": No such file or directory' $T/o2.out"
$ET -e '' > $T/e_empty.out 2>&1; rc=$?
check e_empty_program sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: USAGE: filename or -e 'program' required.\" $T/e_empty.out"
$ET -q -B sometimes -e 'BEGIN { exit(); }' > $T/b.out 2>&1; rc=$?
check B_invalid_mode sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: USAGE: -B must be either 'line', 'full', or 'none'.\" $T/b.out"

# Program from stdin (-) and from a shebang script, with positional args.
printf '%s\n' 'BEGIN { printf("stdin %d %s\n", $1, str($2)); exit(); }' | $ET -q - 5 five > $T/stdin.out 2>&1
check stdin_program has $T/stdin.out '^stdin 5 five$'
printf '#!/usr/bin/env etrace\nBEGIN { printf("script %%d\\n", $#); exit(); }\n' > $T/script.bt
chmod +x $T/script.bt
PATH=$PWD:$PATH $T/script.bt a b c > $T/script.out 2>&1
check shebang_script has $T/script.out '^script 3$'

# -l and -lv list tracepoints with their arguments.
$ET -l 'tracepoint:sched:sched_switch' > $T/l.out 2>&1
check list_one has $T/l.out '^tracepoint:sched:sched_switch$'
$ET -lv 'tracepoint:syscalls:sys_enter_openat' > $T/lv.out 2>&1
check list_args sh -c "grep -q 'const char \* filename' $T/lv.out && grep -q 'int flags' $T/lv.out"
n=$($ET -l 'tracepoint:syscalls:sys_enter_*' | wc -l)
m=$(ls /sys/kernel/tracing/events/syscalls | grep -c '^sys_enter_')
check list_glob_count [ "$n" -eq "$m" ]

# -l with a program lists the probes it would attach (expanded, in program
# order, each once) and runs nothing, as current bpftrace.
$ET -l -e 'tracepoint:sched:sched_process_e* { @ = count(); } BEGIN { printf("ran\n"); } END { }' > $T/lprog.out 2>&1; rc=$?
{ ls /sys/kernel/tracing/events/sched | grep '^sched_process_e' | sort | sed 's/^/tracepoint:sched:/'; printf 'BEGIN\nEND\n'; } > $T/lprog.want
check list_program sh -c "[ $rc -eq 0 ] && cmp -s $T/lprog.want $T/lprog.out"
printf 'tracepoint:syscalls:sys_enter_getppid,tracepoint:syscalls:sys_enter_getppid { exit(); }\n' > $T/lprog.bt
$ET -l $T/lprog.bt > $T/lfile.out 2>&1
check list_program_file sh -c "[ \"\$(cat $T/lfile.out)\" = tracepoint:syscalls:sys_enter_getppid ]"
$ET -lv -e 'tracepoint:sched:sched_switch { }' > $T/lvprog.out 2>&1
check list_program_args sh -c "head -1 $T/lvprog.out | grep -qx tracepoint:sched:sched_switch && grep -q 'pid_t next_pid' $T/lvprog.out"
$ET -l -e 'tracepoint:nosuchgroup:nosuchevent { }' > $T/lbadprog.out 2>&1; rc=$?
check list_program_error sh -c "[ $rc -eq 1 ] && grep -q '^-e:1:1: error: this kernel has no tracepoint category .nosuchgroup.' $T/lbadprog.out"
$ET -l -e 'BEGIN { printf("ran\n"); }' > $T/lbegin.out 2>&1
check list_program_runs_nothing sh -c "[ \"\$(cat $T/lbegin.out)\" = BEGIN ]"

# --version and -h.
$ET --version > $T/v.out 2>&1
check version has $T/v.out '^etrace v'
$ET -h > $T/h.out 2>&1
check help has $T/h.out 'USAGE'

# A program the verifier rejects: its log tail and the probe's location.
timeout 20 $ET -q -e 'BEGIN { $i = 0; while (1) { $i++; } }' > $T/verifier.out 2>&1; rc=$?
check verifier_rejection sh -c "[ $rc -eq 1 ] && grep -q '^-e:1:1: error: the kernel.s verifier rejected probe BEGIN' $T/verifier.out && grep -qi 'loop\|too large\|processed' $T/verifier.out"

# A missing tracepoint (a located error, then bpftrace's line) and a
# missing program file (bpftrace's line): status 1.
$ET -q -e 'tracepoint:sched:no_such_event { exit(); }' > $T/miss.out 2>&1; rc=$?
check missing_tracepoint sh -c "[ $rc -eq 1 ] && grep -q '^-e:1:1: error: this kernel has no tracepoint sched:no_such_event ' $T/miss.out && grep -qx 'ERROR: tracepoint not found: sched:no_such_event' $T/miss.out"
$ET /nonexistent.bt > $T/nofile.out 2>&1; rc=$?
check missing_file sh -c "[ $rc -eq 1 ] && grep -q \"^ERROR: failed to open file '/nonexistent.bt': No such file or directory\" $T/nofile.out"

# Dropped events are counted and reported, never silent: a tiny ring
# buffer and a burst of printf records.
ETRACE_RINGBUF_KB=4 $ET -q -c "$WL getppid 20000" -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%s %s %s\n", comm, comm, comm); }' > $T/drops.out 2> $T/drops.err
check drops_reported grep -q 'lost [0-9][0-9]* events' $T/drops.err

# A full map is reported, not silent (4096 entries by default).
$ET -q -c "$WL getppid 5000" -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @m[@i] = 1; @i++; }' > $T/full.out 2> $T/full.err
check map_full_reported grep -q 'map updates failed because a map was full' $T/full.err

# -B none / line / full are accepted; an unknown mode is an error.
$ET -q -B none -e 'BEGIN { printf("b\n"); exit(); }' > $T/b.out 2>&1
check buffer_none has $T/b.out '^b$'
$ET -q -B bogus -e 'BEGIN { exit(); }' > $T/b2.out 2>&1; rc=$?
check buffer_bad_mode [ $rc -eq 1 ]

# tracefs is mounted by etrace when missing (in a private mount namespace).
if command -v unshare >/dev/null 2>&1; then
  unshare -m sh -c "umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null; $ET -v -q -c '$WL getppid 2' -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }'" > $T/mount.out 2>&1
  check tracefs_mounted has $T/mount.out '^@: 2$'
else
  skip tracefs_mounted "unshare missing (util-linux)"
fi

# -p with an interval probe: timers are not filtered by pid, so exit() works.
$WL sleep 3000 & wl=$!
timeout 5 $ET -q -p $wl -e 'interval:ms:50 { printf("tick\n"); exit(); }' > $T/p_interval.out 2>&1; rc=$?
kill $wl 2>/dev/null; wait $wl 2>/dev/null
check p_interval_fires sh -c "[ $rc -eq 0 ] && grep -q '^tick$' $T/p_interval.out"

# Every provider answers to its names and aliases (providers/registry.c):
# the first line of the --dry-run listing is the target's canonical name.
UT=$PWD/tests/bin/uprobe_target
: > $T/aliases.out
while read -r ap want; do
  got=$($ET --dry-run -d dis -e "$ap { }" 2>&1 | head -1)
  [ "$got" = "$want" ] || echo "$ap: got '$got', want '$want'" >> $T/aliases.out
done <<ALIASES
begin BEGIN:
END END:
t:sched:sched_switch tracepoint:sched:sched_switch:
rt:sched_switch rawtracepoint:sched_switch:
rawtracepoint:vmlinux:sched_switch rawtracepoint:sched_switch:
i:ms:100 interval:ms:100:
p:hz:99 profile:hz:99:
u:$UT:main uprobe:$UT:main:
ur:$UT:main uretprobe:$UT:main:
U:$UT:ut:konst usdt:$UT:ut:konst:
k:vfs_read kprobe:vfs_read:
kr:vfs_read kretprobe:vfs_read:
f:vfs_read fentry:vmlinux:vfs_read:
kfunc:vfs_read fentry:vmlinux:vfs_read:
fr:vfs_read fexit:vmlinux:vfs_read:
kretfunc:vfs_read fexit:vmlinux:vfs_read:
s:faults software:faults:
h:cycles hardware:cycles:
w:0x1000:8:w watchpoint:4096:8:w:
it:task iter:task:
ALIASES
check provider_aliases sh -c "[ ! -s $T/aliases.out ] || { cat $T/aliases.out; false; }"
# The syscall dispatcher serves syscalls:* tracepoints but is not a probe type.
$ET --dry-run -e 'syscalls:sys_enter_read { }' > $T/sysprov.out 2>&1; rc=$?
check dispatcher_not_a_probe_type sh -c "[ $rc -eq 1 ] && grep -q \"unknown probe type 'syscalls'\" $T/sysprov.out"
