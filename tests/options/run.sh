#!/bin/bash
# Command lines of the main command and every subcommand, on the real
# binary and the live kernel: options anywhere among the arguments (GNU
# permutation), `--` ends them, one meaning per option letter across
# subcommands, and the older spellings still working with a deprecation
# note on stderr.  One PASS/FAIL line per case, a PLAN line first.
. "$(dirname "$0")/../lib.sh"
plan 22
ET=$PWD/etrace
WL=$PWD/tests/bin/workload
OUT=$(outdir)

fail() { # fail NAME WHY [FILE...]: the files' first lines below
  local n=$1 why=$2 f
  echo "FAIL options/$n: $why"
  shift 2
  for f in "$@"; do [ -f "$f" ] && sed 's/^/    | /' "$f" | head -15; done
}
# lines FILE: the number of lines of FILE
lines() { wc -l < "$1" | tr -d ' '; }

need_files "$ET" "$WL" || exit 1

# ------------------------------------------------------------ main command

P='BEGIN { printf("%s %d\n", str($1), $#); exit(); }'
# an option after a positional parameter is an option (bpftrace does this)
"$ET" -e "$P" hello -q > $OUT/m1.out 2>&1
if [ "$(cat $OUT/m1.out)" = "hello 1" ]; then pass main_option_after_parameter
else fail main_option_after_parameter "want 'hello 1' and no Attaching line" $OUT/m1.out; fi

# `--` ends the options: -q is then $2
"$ET" -e "$P" -- hello -q > $OUT/m2.out 2> $OUT/m2.err
if grep -qx 'hello 2' $OUT/m2.out && grep -q '^Attaching 1 probe' $OUT/m2.out; then
  pass main_double_dash
else fail main_double_dash "want 'hello 2' after an Attaching line" $OUT/m2.out $OUT/m2.err; fi

# a program file, then its parameter, then etrace's options
printf '%s\n' "$P" > $OUT/prog.bt
"$ET" $OUT/prog.bt world -f json > $OUT/m3.out 2>&1
if grep -qx '{"type": "printf", "data": "world 1\\n"}' $OUT/m3.out; then pass main_file_then_options
else fail main_file_then_options "want one JSON printf record for 'world 1'" $OUT/m3.out; fi

# -c after the program: the child is traced, its 7 calls counted
"$ET" -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }' -q \
  -c "$WL getppid 7" > $OUT/m4.out 2>&1
if grep -qx '@: 7' $OUT/m4.out; then pass main_c_after_program
else fail main_c_after_program "want @: 7" $OUT/m4.out; fi

# ------------------------------------------------------------ record

# the issue's example: -o DIR EVENT -c CMD
D=$OUT/rec1
"$ET" record -o $D syscalls:sys_enter_getppid -c "$WL getppid 7" --cmd-only -q 2> $OUT/r1.err
rc=$?
"$ET" convert $D -f text -o $OUT/r1.txt 2> /dev/null
n=$(grep -c ' sys_enter_getppid: ' $OUT/r1.txt 2> /dev/null)
if [ $rc -eq 0 ] && [ "$n" = 7 ]; then pass record_options_after_event
else fail record_options_after_event "rc $rc, $n getppid events, want 7" $OUT/r1.err; fi

# `--` ends record's options: an event list after it
D=$OUT/rec2
"$ET" record -q -c "$WL getppid 3" --cmd-only -o $D -- syscalls:sys_enter_getppid 2> $OUT/r2.err
rc=$?
"$ET" convert -f text -o $OUT/r2.txt $D 2> /dev/null
n=$(grep -c ' sys_enter_getppid: ' $OUT/r2.txt 2> /dev/null)
if [ $rc -eq 0 ] && [ "$n" = 3 ]; then pass record_double_dash
else fail record_double_dash "rc $rc, $n getppid events, want 3" $OUT/r2.err; fi

# -D SECONDS stops the recording, after the event; the old -d SECONDS
# still does, with a note; -d STAGE (the main command's meaning) is an error
start=$(date +%s%N)
"$ET" record -o $OUT/rec3 sched:sched_switch -q -D 0.3 2> $OUT/r3.err
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -eq 0 ] && [ $ms -lt 5000 ] && ! [ -s $OUT/r3.err ]; then pass record_D_duration
else fail record_D_duration "rc $rc after $ms ms" $OUT/r3.err; fi
"$ET" record -o $OUT/rec4 sched:sched_switch -q -d 0.3 2> $OUT/r4.err
rc=$?
if [ $rc -eq 0 ] && grep -q "^etrace record: note: '-d SECONDS' is deprecated, use '-D SECONDS'" $OUT/r4.err
then pass record_old_d_with_note
else fail record_old_d_with_note "rc $rc, want exit 0 and a deprecation note" $OUT/r4.err; fi
"$ET" record -o $OUT/rec5 sched:sched_switch -d dis 2> $OUT/r5.err
rc=$?
if [ $rc -eq 1 ] && grep -q 'stop after a duration with -D SECONDS' $OUT/r5.err && ! [ -e $OUT/rec5 ]
then pass record_d_stage_is_an_error
else fail record_d_stage_is_an_error "rc $rc, want 1 and a message naming -D" $OUT/r5.err; fi

# ------------------------------------------------------------ snoop

# -f FORMAT after the event, -c after it too: 3 JSON objects
"$ET" snoop 'syscalls:sys_enter_getppid' -c "$WL getppid 3" -f json > $OUT/s1.out 2> $OUT/s1.err
rc=$?
n=$(grep -c '^{"time": .*"event": "syscalls:sys_enter_getppid"' $OUT/s1.out)
if [ $rc -eq 0 ] && [ "$n" = 3 ] && [ "$(lines $OUT/s1.out)" = 3 ] && ! [ -s $OUT/s1.err ]
then pass snoop_options_after_event
else fail snoop_options_after_event "rc $rc, $n JSON lines, want 3" $OUT/s1.out $OUT/s1.err; fi

# -o FILE writes the output there (as in the main command)
"$ET" snoop -n -o $OUT/s2.txt -c "$WL getppid 4" 'syscalls:sys_enter_getppid' > $OUT/s2.out 2>&1
n=$(grep -c ' sys_enter_getppid __syscall_nr=110$' $OUT/s2.txt 2> /dev/null)
if [ "$n" = 4 ] && ! [ -s $OUT/s2.out ]; then pass snoop_o_file
else fail snoop_o_file "$n lines in the -o file, want 4; stdout must be empty" $OUT/s2.txt $OUT/s2.out; fi

# the old -o json: same output, and a note
"$ET" snoop -o json -c "$WL getppid 2" 'syscalls:sys_enter_getppid' > $OUT/s3.out 2> $OUT/s3.err
n=$(grep -c '^{"time": ' $OUT/s3.out)
if [ "$n" = 2 ] && grep -q "^etrace snoop: note: '-o FORMAT' is deprecated, use '-f FORMAT'" $OUT/s3.err
then pass snoop_old_o_json_with_note
else fail snoop_old_o_json_with_note "$n JSON lines (want 2) and a deprecation note" $OUT/s3.out $OUT/s3.err; fi

# -D after the event stops it
start=$(date +%s%N)
timeout 20 "$ET" snoop -n 'sched:sched_switch(prev->pid)' -D 0.3 > $OUT/s4.out 2> $OUT/s4.err
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -eq 0 ] && [ $ms -lt 5000 ] && grep -Eq ' sched_switch prev->pid=[0-9]+$' $OUT/s4.out
then pass snoop_D_duration
else fail snoop_D_duration "rc $rc after $ms ms" $OUT/s4.err; fi

# ------------------------------------------------------------ tool

# etrace's own -f after the tool's name and options (syscount has no -f):
# the workload's 50 getppid calls, in a JSON map
"$WL" -w 300 getppid 50 sleep 3000 &
wl=$!
"$ET" tool syscount -p $wl -d 1 -f json > $OUT/t1.out 2> $OUT/t1.err
rc=$?
kill $wl 2> /dev/null; wait $wl 2> /dev/null
if [ $rc -eq 0 ] && grep -q '^{"type": "map", "data": {"@syscall": {.*"getppid": 50[,}]' $OUT/t1.out
then pass tool_etrace_flag_after_name
else fail tool_etrace_flag_after_name "rc $rc, want a JSON map with getppid: 50" $OUT/t1.out $OUT/t1.err; fi

# a tool parameter that starts with '-' reaches the program as $N (the
# tool runs `etrace ... -- PROGRAM ARGS`, so it is no etrace option)
"$ET" tool opensnoop -n -weird --dry-run > $OUT/t2.out 2> $OUT/t2.err
rc=$?
if [ $rc -eq 0 ] && ! [ -s $OUT/t2.err ]; then pass tool_dash_parameter
else fail tool_dash_parameter "rc $rc" $OUT/t2.err; fi

# ------------------------------------------------------------ flamegraph

printf 'main;work;leaf 3\nmain;idle 2\nmain;work;leaf 4\n' > $OUT/in.folded
# options after the input file, which is also accepted without -i
"$ET" flamegraph $OUT/in.folded -o $OUT/f1.out -f folded 2> $OUT/f1.err
rc=$?
want=$'main;idle 2\nmain;work;leaf 7'
if [ $rc -eq 0 ] && [ "$(cat $OUT/f1.out 2> /dev/null)" = "$want" ]; then pass flamegraph_any_order
else fail flamegraph_any_order "rc $rc, want the merged stacks" $OUT/f1.out $OUT/f1.err; fi
"$ET" flamegraph -o - --format folded -i - < $OUT/in.folded > $OUT/f2.out 2> $OUT/f2.err
if [ "$(cat $OUT/f2.out)" = "$want" ]; then pass flamegraph_long_format
else fail flamegraph_long_format "want the merged stacks" $OUT/f2.out $OUT/f2.err; fi

# ------------------------------------------------------------ convert, ctf

"$ET" convert -f text -o $OUT/c1.txt $OUT/rec1 2> $OUT/c1.err
"$ET" convert $OUT/rec1 --to text -o $OUT/c2.txt 2> $OUT/c2.err
if [ -s $OUT/c1.txt ] && cmp -s $OUT/c1.txt $OUT/c2.txt && [ "$(lines $OUT/c1.txt)" = 7 ]; then
  pass convert_f_before_dir
else fail convert_f_before_dir "-f before DIR and --to after it must write the same 7 lines" \
  $OUT/c1.err $OUT/c2.err; fi

"$ET" ctf repair $OUT/rec1 --dry-run > $OUT/k1.out 2> $OUT/k1.err
rc=$?
if [ $rc -eq 0 ] && grep -qx "$OUT/rec1: 0 files would be truncated" $OUT/k1.out && ! [ -s $OUT/k1.err ]
then pass ctf_repair_dry_run_after_dir
else fail ctf_repair_dry_run_after_dir "rc $rc" $OUT/k1.out $OUT/k1.err; fi
"$ET" ctf repair -n $OUT/rec1 > $OUT/k2.out 2> $OUT/k2.err
rc=$?
if [ $rc -eq 0 ] && grep -qx "$OUT/rec1: 0 files would be truncated" $OUT/k2.out &&
   grep -q "^etrace ctf repair: note: '-n' is deprecated, use '--dry-run'" $OUT/k2.err
then pass ctf_repair_old_n_with_note
else fail ctf_repair_old_n_with_note "rc $rc" $OUT/k2.out $OUT/k2.err; fi

# ------------------------------------------------------------ one meaning per letter

# Every "-X METAVAR" in every help text: a letter's argument is always the
# same kind of thing (-o where output goes, -f a format, -d a compiler
# stage, -D seconds, -p a pid, -c a command ...).
for c in "" snoop record flamegraph tool convert; do
  "$ET" $c -h 2>&1 | grep -oE "^ +-[A-Za-z] [A-Z'][A-Za-z']*" | sed "s/^ */${c:-main} /"
done > $OUT/letters.txt
bad=$(awk '
  BEGIN {
    ok["-o"] = "FILE DIR"; ok["-f"] = "FORMAT"; ok["-d"] = "STAGE"; ok["-D"] = "SECONDS"
    ok["-p"] = "PID"; ok["-c"] = "'"'"'CMD'"'"'"; ok["-B"] = "MODE"; ok["-I"] = "DIR"
    ok["-e"] = "'"'"'program'"'"'"; ok["-b"] = "KB"; ok["-i"] = "FILE"; ok["-F"] = "HZ"
  }
  { n = split(ok[$2], a, " "); good = 0
    for (i = 1; i <= n; i++) if (a[i] == $3) good = 1
    if (!good) print $1 ": " $2 " " $3 }' $OUT/letters.txt)
if [ -z "$bad" ] && [ "$(lines $OUT/letters.txt)" -ge 20 ]; then pass one_meaning_per_letter
else fail one_meaning_per_letter "letters used for another kind of argument: $(echo $bad)" $OUT/letters.txt; fi

# the options of each subcommand's usage parse in any order: -h after
# an argument still prints the help (exit 0)
ok=0
for c in snoop record flamegraph convert; do
  "$ET" $c somearg -h > $OUT/h-$c.out 2>&1 && grep -q '^USAGE:' $OUT/h-$c.out && ok=$((ok + 1))
done
if [ $ok = 4 ]; then pass help_after_argument
else fail help_after_argument "$ok of 4 subcommands printed their usage for 'ARG -h'"; fi
