#!/bin/bash
# etrace snoop on the live kernel:
#   - `snoop info` prints BTF prototypes (raw tracepoints, kernel
#     functions) and tracefs fields, and rejects unknown names;
#   - traces of a known workload (tests/bin/workload) show its comm and
#     pid, a predicate keeps exactly the getppid calls it made, -p/-c/-d
#     limit the trace, -o json lines parse and hold the values, struct
#     members print as bpftrace records, tracefs-only events (syscalls:*)
#     print their fields;
#   - mistakes in the expressions are located errors in the command line.
#
#   tests/snoop/run.sh          Prints PASS/FAIL lines.  Needs root, ./etrace,
#                               tests/bin/workload, python3.
. "$(dirname "$0")/../lib.sh"
plan 27

ET=$PWD/etrace
W=$PWD/tests/bin/workload
OUT=$PWD/tests/out/snoop
rm -rf "$OUT"
mkdir -p "$OUT"


# ------------------------------------------------ snoop info

"$ET" snoop info sched:sched_switch > "$OUT/info_switch.out" 2>&1
rc=$?
if [ $rc -eq 0 ] &&
   grep -qx '    sched_switch(bool preempt, struct task_struct \*prev, struct task_struct \*next, unsigned int prev_state)' "$OUT/info_switch.out" &&
   grep -qx '    char prev_comm\[16\]' "$OUT/info_switch.out"; then pass info_sched_switch_prototype
else fail info_sched_switch_prototype "rc $rc, prototype or tracefs fields missing" "$OUT/info_switch.out"; fi

"$ET" snoop info vfs_read > "$OUT/info_vfs_read.out" 2>&1
rc=$?
if [ $rc -eq 0 ] &&
   grep -qx '    ssize_t vfs_read(struct file \*file, char \*buf, size_t count, loff_t \*pos)' "$OUT/info_vfs_read.out" &&
   grep -q 'needs kprobes or fentry' "$OUT/info_vfs_read.out" &&
   grep -q 'syscalls:sys_enter_read' "$OUT/info_vfs_read.out"; then pass info_kernel_function
else fail info_kernel_function "rc $rc, prototype or kprobes/fentry note missing" "$OUT/info_vfs_read.out"; fi

"$ET" snoop info syscalls:sys_enter_openat > "$OUT/info_openat.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -qx '    const char \* filename' "$OUT/info_openat.out" &&
   ! grep -q rawtracepoint "$OUT/info_openat.out"; then pass info_tracefs_only_event
else fail info_tracefs_only_event "rc $rc, expected the tracefs fields only" "$OUT/info_openat.out"; fi

"$ET" snoop info no_such_event_xyz > "$OUT/info_unknown.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^snoop:1:1: error: no tracepoint or kernel function named 'no_such_event_xyz'" "$OUT/info_unknown.out"
then pass info_unknown_name
else fail info_unknown_name "rc $rc, expected a located error" "$OUT/info_unknown.out"; fi

"$ET" snoop info sched:no_such_event_xyz > "$OUT/info_unknown2.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^snoop:1:1: error: no tracepoint sched:no_such_event_xyz" "$OUT/info_unknown2.out"
then pass info_unknown_tracepoint
else fail info_unknown_tracepoint "rc $rc, expected a located error" "$OUT/info_unknown2.out"; fi

# ------------------------------------------------ tracing a known workload

# exec of the workload: its comm and pid, as the event's own prefix says
timeout 20 "$ET" snoop 'sched:sched_process_exec(p->comm, p->pid)' -c "$W getppid 1" \
  > "$OUT/exec.out" 2> "$OUT/exec.err"
rc=$?
lines=$(grep -c ' sched_process_exec ' "$OUT/exec.out")
line=$(grep ' sched_process_exec ' "$OUT/exec.out" | head -1)
pidcol=$(echo "$line" | awk '{print $3}')
if [ $rc -eq 0 ] && [ "$lines" = 1 ] && [ -n "$pidcol" ] &&
   echo "$line" | grep -Eq "^[0-9:.]+ workload +$pidcol +sched_process_exec p->comm=\"workload\" p->pid=$pidcol\$" &&
   head -1 "$OUT/exec.out" | grep -Eq '^TIME +COMM +PID +EVENT ARGS$'
then pass exec_comm_and_pid
else fail exec_comm_and_pid "rc $rc, $lines lines, want the workload's comm and pid" "$OUT/exec.out"; fi

# no argument list: every argument (ksnoop's default); old_pid is the pid
timeout 20 "$ET" snoop -n -c "$W getppid 1" 'sched:sched_process_exec' > "$OUT/all.out" 2> "$OUT/all.err"
line=$(head -1 "$OUT/all.out")
pidcol=$(echo "$line" | awk '{print $3}')
if [ "$(wc -l < "$OUT/all.out")" = 1 ] &&
   echo "$line" | grep -Eq " sched_process_exec p=0xffff[0-9a-f]+ old_pid=$pidcol bprm=0xffff[0-9a-f]+\$"
then pass default_prints_all_arguments
else fail default_prints_all_arguments "want p, old_pid, bprm (and no header with -n)" "$OUT/all.out"; fi

# a predicate: exactly the 7 getppid calls (110 on x86-64) pass it
timeout 20 "$ET" snoop -n -c "$W getppid 7" 'raw_syscalls:sys_enter(id, id == 110)' \
  > "$OUT/pred.out" 2> "$OUT/pred.err"
timeout 20 "$ET" snoop -n -c "$W getppid 7" 'raw_syscalls:sys_enter(id)' \
  > "$OUT/nopred.out" 2> "$OUT/nopred.err"
with=$(grep -c ' sys_enter id=' "$OUT/pred.out")
with110=$(grep -c ' sys_enter id=110$' "$OUT/pred.out")
without=$(grep -c ' sys_enter id=' "$OUT/nopred.out")
without110=$(grep -c ' sys_enter id=110$' "$OUT/nopred.out")
# lines of other processes (the -c child's own syscalls before it execs
# the workload show comm "etrace" with the workload's pid: not others)
wpid=$(awk '/ id=110$/ { print $3; exit }' "$OUT/nopred.out")
others=$(awk -v p="$wpid" 'NF && $3 != p' "$OUT/nopred.out" | wc -l)
# -c traces the child alone: no line of another process
if [ "$with" = 7 ] && [ "$with110" = 7 ] && [ "$without110" = 7 ] && [ "$without" -gt 7 ] &&
   [ "$others" -eq 0 ]
then pass predicate_filters
else fail predicate_filters "with predicate $with lines ($with110 id=110), without $without ($without110 id=110, $others not the workload)" "$OUT/pred.out"; fi

# -p PID: that process only, and snoop exits when it exits
$W -w 500 getppid 5 &
wl=$!
timeout 20 "$ET" snoop -n -p $wl 'raw_syscalls:sys_enter(id, id == 110)' > "$OUT/pid.out" 2> "$OUT/pid.err"
rc=$?
wait $wl 2>/dev/null
n=$(grep -c " $wl .* sys_enter id=110\$" "$OUT/pid.out")
all=$(grep -c 'sys_enter' "$OUT/pid.out")
if [ $rc -eq 0 ] && [ "$n" = 5 ] && [ "$all" = 5 ]; then pass pid_filter
else fail pid_filter "rc $rc, $n of $all lines from pid $wl, want 5" "$OUT/pid.out"; fi

# -D: stops by itself
start=$(date +%s)
timeout 20 "$ET" snoop -n -D 1 'sched:sched_switch(prev->pid, next->comm)' > "$OUT/dur.out" 2> "$OUT/dur.err"
rc=$?
took=$(( $(date +%s) - start ))
if [ $rc -eq 0 ] && [ $took -le 5 ] && grep -Eq ' sched_switch prev->pid=[0-9]+ next->comm=".*"$' "$OUT/dur.out"
then pass duration
else fail duration "rc $rc after ${took}s" "$OUT/dur.err"; fi

# a struct member prints as a bpftrace record, on the event's line
timeout 20 "$ET" snoop -n -c "$W getppid 1" 'sched:sched_process_exec(p->se.load, p->comm)' \
  > "$OUT/record.out" 2> "$OUT/record.err"
if grep -Eq ' sched_process_exec p->se.load=\{ \.weight = [0-9]+, \.inv_weight = [0-9]+ \} p->comm="workload"$' "$OUT/record.out"
then pass struct_member_as_record
else fail struct_member_as_record "want { .weight = N, .inv_weight = N }" "$OUT/record.out"; fi

# a tracefs-only event (syscalls:*): fields by name, char * as a string,
# an int stored in 8 bytes read as an int
timeout 20 "$ET" snoop -n -c "$W open /etc/hostname 2" 'syscalls:sys_enter_openat(filename, dfd)' \
  > "$OUT/openat.out" 2> "$OUT/openat.err"
n=$(grep -c ' sys_enter_openat filename="/etc/hostname" dfd=-100$' "$OUT/openat.out")
if [ "$n" = 2 ]; then pass tracefs_event_fields
else fail tracefs_event_fields "$n lines for /etc/hostname, want 2" "$OUT/openat.out"; fi

# ------------------------------------------------ -f json

timeout 20 "$ET" snoop -f json -c "$W getppid 3" \
  'raw_syscalls:sys_enter(id, regs, regs->orig_ax, id == 110)' > "$OUT/json.out" 2> "$OUT/json.err"
if python3 - "$OUT/json.out" > "$OUT/json.check" 2>&1 <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 3, "%d lines" % len(lines)
for l in lines:
    o = json.loads(l)
    assert set(o) == {"time", "comm", "pid", "tid", "event", "args"}, o
    assert o["comm"] == "workload" and o["event"] == "raw_syscalls:sys_enter", o
    a = o["args"]
    assert a["id"] == 110 and a["regs->orig_ax"] == 110, a
    assert a["regs"].startswith("0xffff"), a
    assert isinstance(o["pid"], int) and o["pid"] == o["tid"], o
EOF
then pass json_lines
else fail json_lines "$(tail -1 "$OUT/json.check")" "$OUT/json.out"; fi

timeout 20 "$ET" snoop -f json -c "$W getppid 1" 'sched:sched_process_exec(p->se.load, bprm->filename)' \
  > "$OUT/json2.out" 2> "$OUT/json2.err"
if python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read().strip())
a = o["args"]
assert isinstance(a["p->se.load"]["weight"], int), a
assert a["bprm->filename"].endswith("tests/bin/workload"), a
' "$OUT/json2.out" > "$OUT/json2.check" 2>&1
then pass json_struct_and_string
else fail json_struct_and_string "$(tail -1 "$OUT/json2.check")" "$OUT/json2.out"; fi

# ------------------------------------------------ located errors

# expect NAME SPEC WANT-FIRST-LINE: exit 1 and that message
expect_error() {
  local name=$1 spec=$2 want=$3
  timeout 20 "$ET" snoop "$spec" > "$OUT/$name.out" 2>&1
  local rc=$?
  if [ $rc -eq 1 ] && [ "$(head -1 "$OUT/$name.out")" = "$want" ] &&
     [ "$(sed -n 2p "$OUT/$name.out")" = "$spec" ]; then pass "$name"
  else fail "$name" "rc $rc, want: $want" "$OUT/$name.out"; fi
}
expect_error error_unknown_member 'sched:sched_switch(prev, next->nosuch)' \
  "snoop:1:32: error: struct task_struct has no member named 'nosuch'"
expect_error error_unknown_argument 'sched:sched_switch(prevv->pid)' \
  "snoop:1:20: error: rawtracepoint:sched_switch has no argument named 'prevv' (it has: preempt, prev, next, prev_state)"
expect_error error_unknown_member_in_predicate 'sched:sched_switch(prev->pid, prev->pidd == 1)' \
  "snoop:1:37: error: struct task_struct has no member named 'pidd'"
expect_error error_syntax 'sched:sched_switch(prev->pid + )' \
  "snoop:1:31: error: unexpected ';', expecting an expression"
expect_error error_struct_too_big 'sched:sched_switch(*prev)' \
  "snoop:1:20: error: '*prev' is a struct task_struct of $("$ET" -e 'BEGIN { printf("%d\n", sizeof(struct task_struct)); exit(); }' -q | head -1) bytes, too big for one line (at most 256): name its members, or print it with etrace -e 'print(...)'"
expect_error error_unclosed 'sched:sched_switch(prev' \
  "snoop:1:24: error: expected ')' to close the argument list"

timeout 20 "$ET" snoop 'vfs_read(file)' > "$OUT/error_function.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^snoop:1:1: error: vfs_read is a kernel function: tracing a kernel function needs kprobes or fentry' "$OUT/error_function.out"
then pass error_kernel_function
else fail error_kernel_function "rc $rc" "$OUT/error_function.out"; fi

# --dry-run: the generated program, compiled but not loaded
"$ET" snoop --dry-run 'sched:sched_switch(next->comm, prev->pid == 1)' > "$OUT/dry.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^rawtracepoint:sched_switch /(args.prev->pid == 1)/ {$' "$OUT/dry.out" &&
   grep -q '^    args.next->comm);$' "$OUT/dry.out"; then pass dry_run_program
else fail dry_run_program "rc $rc" "$OUT/dry.out"; fi

# ------------------------------------------------ the printf pieces snoop uses

# printf("%s", struct) prints the bpftrace record; %#s a JSON literal
timeout 20 "$ET" -q -c "$W getppid 1" -e 'rawtracepoint:sched_process_exec /pid == cpid/ {
  printf("%s|%#s|%#s|%#s\n", args.p->se.load, args.p->se.load, args.p->comm, args.p->pid); }' \
  > "$OUT/printf_record.out" 2> "$OUT/printf_record.err"
if grep -Eqx '\{ \.weight = [0-9]+, \.inv_weight = [0-9]+ \}\|\{ "weight": [0-9]+, "inv_weight": [0-9]+ \}\|"workload"\|[0-9]+' "$OUT/printf_record.out"
then pass printf_struct_and_json_literal
else fail printf_struct_and_json_literal "unexpected text" "$OUT/printf_record.out"; fi

"$ET" --dry-run -e 'rawtracepoint:sched_switch { printf("%s\n", *args.prev->mm); }' > "$OUT/printf_big.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^-e:1:45: error: printf() can print a struct of at most 256 bytes (struct mm_struct is [0-9]* bytes)' "$OUT/printf_big.out"
then pass printf_struct_too_big
else fail printf_struct_too_big "rc $rc" "$OUT/printf_big.out"; fi

# a predicate alone prints every argument; several events in one run
timeout 20 "$ET" snoop -n -c "$W getppid 2" 'sched:sched_process_exec(p->comm)' \
  'raw_syscalls:sys_enter(id == 110)' 'sched:sched_process_exit(p->exit_code)' \
  > "$OUT/multi.out" 2> "$OUT/multi.err"
if [ "$(grep -c ' sched_process_exec p->comm="workload"$' "$OUT/multi.out")" = 1 ] &&
   [ "$(grep -Ec ' sys_enter regs=0xffff[0-9a-f]+ id=110$' "$OUT/multi.out")" = 2 ] &&
   [ "$(grep -c ' sched_process_exit p->exit_code=0$' "$OUT/multi.out")" = 1 ] &&
   [ "$(wc -l < "$OUT/multi.out")" = 4 ]
then pass several_events_and_predicate_only
else fail several_events_and_predicate_only "want exec, 2 x sys_enter, exit" "$OUT/multi.out"; fi

# names that only the tracefs format has (snoop info lists both kinds):
# the tracefs tracepoint is traced, and its fields print
timeout 20 "$ET" snoop -n -c "$W getppid 1" 'sched:sched_process_exec(filename, pid)' \
  > "$OUT/tfnames.out" 2> "$OUT/tfnames.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(wc -l < "$OUT/tfnames.out")" = 1 ] &&
   awk '$4 == "sched_process_exec" && $5 ~ /^filename=".*tests\/bin\/workload"$/ && $6 == "pid=" $3 { ok = 1 } END { exit !ok }' "$OUT/tfnames.out"
then pass tracefs_field_names
else fail tracefs_field_names "rc $rc, want one exec line with filename and the pid" "$OUT/tfnames.out"; fi

# a name of neither kind, or names of both kinds: the error, then a note
# with the names the event has
timeout 20 "$ET" snoop -c "$W getppid 1" 'sched:sched_process_exec(p->comm, filename)' \
  > "$OUT/mixed.out" 2> "$OUT/mixed.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "^snoop:1:35: error: unknown identifier 'filename'" "$OUT/mixed.err" &&
   grep -qx 'etrace snoop: note: sched:sched_process_exec has p, old_pid, bprm (BTF arguments); filename, pid, old_pid (tracefs fields, used when no BTF-only argument is named)' "$OUT/mixed.err"
then pass names_note
else fail names_note "rc $rc, want the error and the note" "$OUT/mixed.err"; fi
