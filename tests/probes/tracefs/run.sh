#!/bin/bash
# Unit tests for src/sema/tracefs.c, src/providers/attach.c and the -l listing
# (src/providers/list.c) on the live kernel (root).  Links the objects of
# `make etrace` (every provider is in the listing), except the main program.
# Prints "PASS name" / "FAIL name" lines; never stops at the first failure.
. "$(dirname "$0")/../../lib.sh"
out=tests/out/tracefs
mkdir -p $out
plan 48
t=$out/t


objs=$(ls src/*/*.c | grep -v '^src/commands/main\.c$' | sed 's|^\(.*\)\.c$|build/\1.o|')
if ! make -s $objs 2>$out/build.log || ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
    -Werror -Isrc -Ibuild/gen -o $t tests/probes/tracefs/t.c $objs \
    -Wl,-Bstatic -lbpf -ldw -lelf -lz -llzma -lbz2 -Wl,-Bdynamic 2>$out/build.log; then
  fail build "$(cat $out/build.log)"
  exit 0
fi
pass build

root=$($t root 2>/dev/null)
if [ -n "$root" ] && [ -d "$root/events" ]; then pass root; else fail root "got '$root'"; exit 0; fi
ev=$root/events

# The fields of a format file as "name offset size signed", from its text.
fields_from_text() {
  grep 'field:' "$ev/$1/$2/format" | grep -v 'common_' |
    sed -E 's/^\s*field:([^;]*);\s*offset:([0-9]+);\s*size:([0-9]+);\s*signed:([0-9]+);.*/\1|\2|\3|\4/' |
    awk -F'|' '{ d = $1; sub(/\[[0-9]*\]$/, "", d); n = split(d, w, /[ *]+/);
                 print w[n], $2, $3, $4 }'
}
fields_parsed() { $t format "$1" "$2" | tail -n +2 | awk '{ print $1, $2, $3, $4 }'; }

for e in sched/sched_switch syscalls/sys_enter_openat syscalls/sys_exit_openat \
         sched/sched_process_exec raw_syscalls/sys_enter syscalls/sys_enter_execve; do
  s=${e%/*} n=${e#*/}
  same "format/$s:$n" "$(fields_from_text $s $n)" "$(fields_parsed $s $n)"
  same "format-id/$s:$n" "id $(cat $ev/$s/$n/id)" "$($t format $s $n | head -1)"
done

# Details: arrays, data_loc, user pointers, types.
f=$($t format sched sched_switch)
same array/prev_comm "prev_comm 8 16 0 16 0 0 char" "$(grep '^prev_comm ' <<<"$f")"
same signed/prev_pid "prev_pid 24 4 1 0 0 0 pid_t" "$(grep '^prev_pid ' <<<"$f")"
f=$($t format syscalls sys_enter_openat)
same user_ptr/filename "filename 24 8 0 0 0 1 const char *" "$(grep '^filename ' <<<"$f")"
same syscall_nr "__syscall_nr 8 4 1 0 0 0 int" "$(grep '^__syscall_nr ' <<<"$f")"
same not_user_ptr/dfd "dfd 16 8 0 0 0 0 int" "$(grep '^dfd ' <<<"$f")"
f=$($t format sched sched_process_exec)
same data_loc/filename "filename 8 4 0 0 1 0 __data_loc char[]" "$(grep '^filename ' <<<"$f")"
f=$($t format syscalls sys_enter_execve)
same user_ptr/argv "argv 24 8 0 0 0 1 const char *const *" "$(grep '^argv ' <<<"$f")"
f=$($t format raw_syscalls sys_enter)
same array/args "args 16 48 0 6 0 0 unsigned long" "$(grep '^args ' <<<"$f")"
same no-common "" "$($t format sched sched_switch | grep common_)"
same missing-event "error No such file or directory" "$($t format sched no_such_event)"

# Every event's format parses, with as many fields as the text has.
nev=$(wc -l < $root/available_events)
nfields=$(sed 's,:,/,' $root/available_events | sed "s,^,$ev/,; s,$,/format," |
          xargs grep -h 'field:' | grep -vc common_)
same formats/all "events $nev fields $nfields failed 0" "$($t formats)"

# Globs: counts and order against the directory listing.
want=$(ls $ev/syscalls | grep -c '^sys_enter_')
same glob/sys_enter-count "count $want" "$($t glob syscalls 'sys_enter_*' | tail -1)"
want=$(ls $ev/sched | grep '^sched_' | LC_ALL=C sort | sed 's/^/sched:/')
same glob/sched-order "$want" "$($t glob sched 'sched_*' | grep -v '^count ')"
same glob/none "count 0" "$($t glob nosuch '*')"
want=$(grep -c '' $root/available_events)
same glob/all "count $want" "$($t glob '*' '*' | tail -1)"

# -l / -lv against bpftrace when it is installed (tracepoints only: 0.17
# prints placeholder lines such as "software:*:" for other providers).
# Every pattern below matches tracepoints, so neither listing may be
# empty.  bpftrace is the reference, not the code under test: under load
# it once printed nothing for -lv 'tracepoint:*:sched_switch' (its stderr
# was thrown away), so an empty reference is asked for again, twice, and
# its exit status and stderr are kept for the report.
bpftrace_list() { # FLAGS PATTERN
  local try listing
  for try in 1 2 3; do
    listing=$(bpftrace "$1" "$2" 2>$out/bpftrace-list.err)
    echo "exit status $?" >> $out/bpftrace-list.err
    listing=$(printf '%s\n' "$listing" | grep -v '^software:\|^hardware:')
    [ -n "$listing" ] && break
  done
  printf '%s\n' "$listing"
}
for g in 'tracepoint:sched:sched_sw*' 't:sched:sched_sw*' '*sched_switch*' \
         'tracepoint:syscalls:sys_enter_open*' 'tracepoint:*:sched_switch' \
         'tracepoint:sched:sched_wakeup,tracepoint:irq:*' 'tracepoint:*'; do
  for v in "" v; do
    if ! have bpftrace; then skip "list$v/$g" "bpftrace missing: no listing to compare with"; continue; fi
    want=$(bpftrace_list "-l$v" "$g")
    got=$($t list "$g" ${v:+-v} | grep -v '^software:\|^hardware:')
    if [ -z "$want" ]; then
      fail "list$v/$g" "bpftrace printed nothing three times: $(tr '\n' ' ' < $out/bpftrace-list.err)"
    elif [ -z "$got" ]; then
      fail "list$v/$g" "etrace's listing is empty, bpftrace's has $(printf '%s\n' "$want" | wc -l) lines"
    else
      same "list$v/$g" "$want" "$got"
    fi
  done
done
same list/software-cpu "software:cpu-clock:
software:cpu-migrations:
software:cpu:" "$($t list 'software:cpu*')"
$t list 'tracepoint:sched' >/dev/null 2>&1
same list/bad-glob-status 1 $?

# Attachments: a counting program must see exactly our 10 getppid calls
# and nothing after its fd is closed.
for k in tracepoint raw_tp clock; do
  r=$($t attach $k 2>&1)
  if [ -n "$r" ] && ! grep -qv '^ok ' <<<"$r"; then pass attach/$k; else fail attach/$k "$r"; fi
done
