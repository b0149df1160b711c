#!/bin/sh
# bpftrace's command line and environment, as scripts and test engines use
# them: --info, options after the program file, the probes-attached
# notification, errors in bpftrace's words.  One PASS/FAIL line per check.
. "$(dirname "$0")/../lib.sh"
ET=${ETRACE:-./etrace}
WL=tests/bin/workload
T=tests/out/compat
mkdir -p $T
plan 32
need_files "$ET" $WL || exit 1

check() { # check NAME CONDITION-COMMAND...
  name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
yesno() { if [ -e "$1" ]; then echo yes; else echo no; fi; }

# --info: bpftrace's "NAME: yes|no" lines, answered by this kernel.
$ET --info > $T/info.out 2>&1; rc=$?
check info_exit0 [ $rc -eq 0 ]
check info_btf grep -qx "  btf: $(yesno /sys/kernel/btf/vmlinux)" $T/info.out
check info_kprobe grep -qx "  kprobe: $(yesno /sys/bus/event_source/devices/kprobe)" $T/info.out
check info_refcount grep -qx "  uprobe refcount: $(yesno /sys/bus/event_source/devices/uprobe/format/ref_ctr_offset)" $T/info.out
check info_kernel grep -qx "  OS: Linux $(uname -r) $(uname -v)" $T/info.out
# Map types and helpers every kernel etrace runs on has (ring buffer: 5.8).
for l in 'hash: yes' 'percpu array: yes' 'ringbuf: yes' 'probe_read_user: yes' 'Loop support: yes'; do
  check "info_$(echo "$l" | tr -d ' :')" grep -qx "  $l" $T/info.out
done
# send_signal works when --info says so: the child dies in its sleep and
# never makes the getppid call after it.
if grep -qx '  send_signal: yes' $T/info.out; then
  $ET -q --unsafe -c "$WL sleep 200 getppid 1" -e 'tracepoint:syscalls:sys_enter_nanosleep /pid == cpid/ { signal("KILL"); } tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @g = count(); }' > $T/sig.out 2>&1; rc=$?
  check info_send_signal_works sh -c "[ $rc -eq 0 ] && ! grep -q '@g: [1-9]' $T/sig.out"
else
  skip info_send_signal_works "--info says this kernel has no send_signal"
fi

# Options after the program file (bpftrace's getopt permutes arguments):
# `etrace FILE -c CMD` runs CMD.
printf '%s\n' 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }' > $T/after.bt
$ET $T/after.bt -q -c "$WL getppid 4" > $T/after.out 2>&1
check option_after_file grep -qx '@: 4' $T/after.out
# `--` still ends the options: what follows are positional parameters.
$ET -q -e 'BEGIN { printf("%d %s\n", $1, str($2)); exit(); }' -- -5 -x > $T/dashdash.out 2>&1
check double_dash_positional grep -qx -- '-5 -x' $T/dashdash.out

# The probes-attached line appears only when asked for.
$ET -q -e 'BEGIN { exit(); }' > $T/nonotify.out 2>&1
check no_notify_unasked sh -c "! grep -q NOTIFY $T/nonotify.out"
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 $ET -q -e 'BEGIN { printf("begin\n"); exit(); }' > $T/notify.out 2> $T/notify.err
check notify_on_stderr sh -c "grep -qx __BPFTRACE_NOTIFY_PROBES_ATTACHED $T/notify.err && grep -qx begin $T/notify.out && ! grep -q NOTIFY $T/notify.out"

# Command-line and environment errors in bpftrace's words (scripts and
# test engines match them); program errors keep their file:line:col form.
$ET -p a1111 -e 'BEGIN { exit(); }' > $T/pid1.out 2>&1; rc=$?
check pid_not_decimal sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: pid 'a1111' is not a valid decimal number\" $T/pid1.out"
$ET -p 5000000 -e 'BEGIN { exit(); }' > $T/pid2.out 2>&1; rc=$?
check pid_out_of_range sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: pid '5000000' out of valid pid range \\[1,4194304\\]\" $T/pid2.out"
$ET -f jsonx -e 'BEGIN { exit(); }' > $T/fmt.out 2>&1; rc=$?
check invalid_format sh -c "[ $rc -eq 1 ] && grep -qx 'ERROR: Invalid output format \"jsonx\"' $T/fmt.out"
$ET $T/no_such_program.bt > $T/nofile.out 2>&1; rc=$?
check missing_program_file sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: failed to open file '$T/no_such_program.bt': No such file or directory\" $T/nofile.out"
# cat() of a missing file: reported, and the program carries on.
$ET -q -e 'BEGIN { cat("/nonexistent/file"); printf("after\n"); exit(); }' > $T/cat.out 2>&1; rc=$?
check cat_missing_file sh -c "[ $rc -eq 0 ] && grep -qx \"ERROR: failed to open file '/nonexistent/file': No such file or directory\" $T/cat.out && grep -qx after $T/cat.out"
# The notification comes before BEGIN's output, as with bpftrace (whose
# test engine reads the output from there on).
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 $ET -q -e 'BEGIN { printf("BEGIN"); exit(); } END { printf("-END\n"); }' > $T/notify2.out 2>&1
check notify_before_begin_output sh -c "[ \"\$(cat $T/notify2.out)\" = \"\$(printf '__BPFTRACE_NOTIFY_PROBES_ATTACHED\nBEGIN-END')\" ]"
# -l with a character no probe name has: an error, as bpftrace's lexer gives.
$ET -l 'tracepoint:sched:\n' > $T/lbad.out 2>&1; rc=$?
check list_invalid_character sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: invalid character '\\\\\\\\' in search expression\" $T/lbad.out"

# SIGUSR1 prints every map (right after the output so far: no blank lines,
# unlike the exit's) and the trace carries on (then SIGINT: maps again).
# (the old output goes first: the background shell may truncate the file
# after the wait below has read a stale "ready" from the last run)
rm -f $T/usr1.out
$ET -q -e 'BEGIN { @a = 5; printf("ready\n"); } interval:ms:10 { @ticks = count(); }' > $T/usr1.out 2>&1 &
pid=$!
i=0; while ! grep -q ready $T/usr1.out 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
kill -USR1 $pid
i=0; while ! grep -q '^@a: 5' $T/usr1.out 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
alive=no; kill -0 $pid 2>/dev/null && alive=yes
kill -INT $pid; wait $pid; rc=$?
check sigusr1_prints_maps sh -c "[ $alive = yes ] && [ $rc -eq 0 ] && [ \$(grep -c '^@a: 5$' $T/usr1.out) -eq 2 ] && [ \"\$(sed -n 2p $T/usr1.out)\" = '@a: 5' ]"

# BPFTRACE_CAT_BYTES_MAX: cat() prints at most that many bytes; a bad
# value is an error before anything runs.
printf '0123456789\n' > $T/digits.txt
BPFTRACE_CAT_BYTES_MAX=4 $ET -q -e "BEGIN { cat(\"$T/digits.txt\"); printf(\"|\\n\"); exit(); }" > $T/catmax.out 2>&1
check cat_bytes_max grep -qx '0123|' $T/catmax.out
BPFTRACE_CAT_BYTES_MAX=lots $ET -q -e 'BEGIN { exit(); }' > $T/catbad.out 2>&1; rc=$?
check cat_bytes_max_invalid sh -c "[ $rc -eq 1 ] && grep -qx \"ERROR: Env var 'BPFTRACE_CAT_BYTES_MAX' did not contain a valid uint64_t, or was zero-valued.\" $T/catbad.out"

# SIGINT is honoured under load: each sched_switch runs system(), which
# makes more sched_switch events; the trace still stops and runs END.
$ET -q --unsafe -e 'tracepoint:sched:sched_switch { system("true"); } END { printf("end\n"); }' > $T/load.out 2>&1 &
pid=$!
sleep 1
kill -INT $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
alive=no; kill -0 $pid 2>/dev/null && alive=yes
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
check sigint_under_load sh -c "[ $alive = no ] && grep -qx end $T/load.out"

# Errors about what this machine lacks (a tracepoint, a kernel symbol): the
# located error, then bpftrace's own line for it (docs/language.md, Errors).
$ET -e 't:syscalls:nonsense { printf("hit"); exit(); }' > $T/tpmiss.out 2>&1; rc=$?
check tracepoint_missing_words sh -c "[ $rc -eq 1 ] && grep -q '^-e:1:1: error: this kernel has no tracepoint syscalls:nonsense ' $T/tpmiss.out && [ \"\$(tail -1 $T/tpmiss.out)\" = 'ERROR: tracepoint not found: syscalls:nonsense' ]"
$ET -e 'BEGIN { print(kaddr("no_such_kernel_symbol_zz")); }' > $T/kaddr.out 2>&1; rc=$?
check kaddr_missing_words sh -c "[ $rc -eq 1 ] && grep -q \"^-e:1:21: error: kaddr(): no kernel symbol named 'no_such_kernel_symbol_zz'\" $T/kaddr.out && grep -qx 'ERROR: Failed to resolve kernel symbol: no_such_kernel_symbol_zz' $T/kaddr.out"
# A banned kretprobe: refused in bpftrace's words, before the kernel's
# lack of kprobes is looked at; a glob leaves the banned functions out.
$ET -e 'kretprobe:_raw_spin_lock { exit(); }' > $T/banned.out 2>&1; rc=$?
check banned_kretprobe sh -c "[ $rc -eq 1 ] && [ \"\$(head -1 $T/banned.out)\" = \"-e:1:1: error: kretprobe:_raw_spin_lock can't be used as it might lock up your system.\" ] && [ \$(grep -c error $T/banned.out) -eq 1 ]"
$ET --dry-run -d -e 'kretprobe:_raw_spin_lock* { }' > $T/bannedglob.out 2>&1; rc=$?
check banned_kretprobe_glob sh -c "[ $rc -eq 0 ] && grep -qx 'kretprobe:_raw_spin_lock_bh:' $T/bannedglob.out && ! grep -qx 'kretprobe:_raw_spin_lock:' $T/bannedglob.out && ! grep -qx 'kretprobe:_raw_spin_lock_irqsave:' $T/bannedglob.out"
# kprobe:A:B names no kernel function: 0.17's words for the form.
$ET -e 'kprobe:syscalls:sys_exit_nanosleep { exit(); }' > $T/ktarget.out 2>&1; rc=$?
check kprobe_two_parts sh -c "[ $rc -eq 1 ] && grep -q \"^-e:1:1: error: invalid kprobe 'kprobe:syscalls:sys_exit_nanosleep': kprobe probe type requires 1 argument \" $T/ktarget.out"
# A kernel function this kernel lacks: warned about and skipped, the rest
# runs (as bpftrace skips a probe expanding to no function).
$ET -q -e 'kprobe:no_such_kernel_fn_xyz { probe; } BEGIN { printf("ran\n"); exit(); }' > $T/kskip.out 2>&1; rc=$?
check kprobe_missing_skipped sh -c "[ $rc -eq 0 ] && grep -qx -- \"-e:1:1: warning: kernel function 'no_such_kernel_fn_xyz' not found, skipping probe\" $T/kskip.out && grep -qx ran $T/kskip.out"
