#!/bin/bash
# Kernel data through BTF, checked against the kernel itself:
#   - task_struct members of a known process (read through sched_switch's
#     rawtracepoint args and through curtask) match /proc/PID/stat;
#   - dump(p) (libbpf's btf_dump in user space, from a copy made in the
#     kernel) prints the same object the kernel's bpf_snprintf_btf()
#     renders from the same probe hit (dump(p, "kernel"));
#   - a dump bigger than the copy limit says how much was copied.
#
#   tests/output/btf/run.sh          Prints PASS/FAIL lines.  Needs root, ./etrace,
#                             tests/bin/workload.
. "$(dirname "$0")/../../lib.sh"
plan 11

ET=$PWD/etrace
W=$PWD/tests/bin/workload
OUT=$PWD/tests/out/btf
rm -rf "$OUT"
mkdir -p "$OUT"


# /proc/PID/stat: "pid (comm) state ppid ..."
proc_stat() { sed -E 's/^([0-9]+) \((.*)\) . ([0-9]+) .*/\1 \2 \3/' "/proc/$1/stat"; }

# ------------------------------------------------ task fields vs /proc

# A sleeping workload switches out of the CPU every 20 ms: the first
# switch away from it prints its pid, comm and parent's pid.
$W nanosleep 500 20000 &
wl=$!
sleep 0.1
want=$(proc_stat $wl)
timeout 20 "$ET" -q -e 'rawtracepoint:sched_switch /args.prev->tgid == $1/ {
  printf("%d %s %d\n", args.prev->tgid, args.prev->comm, args.prev->real_parent->tgid); exit(); }' \
  $wl > "$OUT/switch.out" 2> "$OUT/switch.err"
got=$(head -1 "$OUT/switch.out")
if [ "$got" = "$want" ]; then pass sched_switch_args_match_proc
else fail sched_switch_args_match_proc "got '$got', /proc says '$want'" "$OUT/switch.err"; fi

# The same through curtask, in a syscall the workload makes.
timeout 20 "$ET" -q -e 'tracepoint:syscalls:sys_enter_nanosleep,tracepoint:syscalls:sys_enter_clock_nanosleep
  /pid == $1/ { printf("%d %s %d\n", curtask->tgid, curtask->comm, curtask->real_parent->tgid); exit(); }' \
  $wl > "$OUT/curtask.out" 2> "$OUT/curtask.err"
got=$(head -1 "$OUT/curtask.out")
if [ "$got" = "$want" ]; then pass curtask_matches_proc
else fail curtask_matches_proc "got '$got', /proc says '$want'" "$OUT/curtask.err"; fi
kill $wl 2>/dev/null
wait $wl 2>/dev/null

# ------------------------------------------------ dump() vs the kernel

# Each object is dumped twice in one probe hit: by etrace (copy + btf_dump)
# and by the kernel (bpf_snprintf_btf).  The kernel indents with one space
# per level, libbpf with a tab, and they spell a few type annotations
# differently ("( *)" vs "(void *)", "(char[])" vs "(char[65])"): compare
# the values, with indentation and the "(TYPE)" before each value removed
# and hex numbers without leading zeros (the kernel pads function pointers).
check_dump() {
  local name=$1 expr=$2
  timeout 20 "$ET" -q -c "$W getppid 1" -e "rawtracepoint:sys_enter /pid == cpid && arg1 == 110/ {
    dump($expr); printf(\"=====\n\"); dump($expr, \"kernel\"); }" \
    > "$OUT/$name.out" 2> "$OUT/$name.err"
  local norm='s/^[[:space:]]+//; s/^(\.[a-z_0-9]+ = )?\([^()]*\(\*\)\([^()]*\)\)/\1/;
    s/^(\.[a-z_0-9]+ = )?\([^()]*\)/\1/; s/0x0*([0-9a-f])/0x\1/g; /^$/d'
  sed -n '1,/^=====$/p' "$OUT/$name.out" | sed '$d' | sed -E "$norm" > "$OUT/$name.ours"
  sed -n '/^=====$/,$p' "$OUT/$name.out" | sed '1d' | sed -E "$norm" > "$OUT/$name.kernel"
  if [ ! -s "$OUT/$name.ours" ] || [ "$(wc -l < "$OUT/$name.ours")" -lt 3 ]; then
    fail "dump_$name" "no dump printed" "$OUT/$name.err"
  elif diff -u "$OUT/$name.kernel" "$OUT/$name.ours" > "$OUT/$name.diff"; then
    pass "dump_$name"
  else
    fail "dump_$name" "differs from the kernel's bpf_snprintf_btf rendering" "$OUT/$name.diff"
  fi
}
check_dump cred 'curtask->cred'
check_dump fs_struct 'curtask->fs'
check_dump uts_namespace 'curtask->nsproxy->uts_ns'

# print(*p) the bpftrace way, one line, checked against uname.
timeout 20 "$ET" -q -e 'BEGIN { print(curtask->nsproxy->uts_ns->name); exit(); }' \
  > "$OUT/print.out" 2> "$OUT/print.err"
want="{ .sysname = $(uname -s), .nodename = $(uname -n), .release = $(uname -r), .version = $(uname -v), .machine = $(uname -m), .domainname = "
if grep -qF "$want" "$OUT/print.out"; then pass print_record_matches_uname
else fail print_record_matches_uname "expected a line starting '$want'" "$OUT/print.out"; fi

# An object bigger than the 16 KiB copy: the dump says so.
timeout 20 "$ET" -q -e 'BEGIN { dump((struct hstate *)curtask, "compact"); exit(); }' \
  > "$OUT/trunc.out" 2> "$OUT/trunc.err"
if grep -q '^(struct hstate){' "$OUT/trunc.out" &&
   grep -qx '\.\.\. 16384 of 32920 bytes (the rest was not copied and shows as zero)' "$OUT/trunc.out"
then pass dump_truncation_reported
else fail dump_truncation_reported "no truncation note" "$OUT/trunc.out"; fi

# ------------------------------------------------ listing types

"$ET" -lv 'struct path' > "$OUT/lv_path.out" 2>&1
printf 'struct path {\n\tstruct vfsmount *mnt;\n\tstruct dentry *dentry;\n};\n\n' > "$OUT/lv_path.want"
if cmp -s "$OUT/lv_path.want" "$OUT/lv_path.out"; then pass lv_struct_definition
else fail lv_struct_definition "not the C definition" "$OUT/lv_path.out"; fi

"$ET" -l 'struct task_*' > "$OUT/l_task.out" 2>&1
if grep -qx 'struct task_struct' "$OUT/l_task.out" && ! grep -qv '^struct task_' "$OUT/l_task.out" &&
   sort -c "$OUT/l_task.out" 2>/dev/null; then pass l_struct_glob
else fail l_struct_glob "expected sorted struct task_* names" "$OUT/l_task.out"; fi

"$ET" -lv 'rawtracepoint:sched_switch' > "$OUT/lv_rawtp.out" 2>&1
printf 'rawtracepoint:vmlinux:sched_switch\n    bool preempt\n    struct task_struct * prev\n    struct task_struct * next\n    unsigned int prev_state\n' > "$OUT/lv_rawtp.want"
if cmp -s "$OUT/lv_rawtp.want" "$OUT/lv_rawtp.out"; then pass lv_rawtracepoint_args
else fail lv_rawtracepoint_args "arguments differ" "$OUT/lv_rawtp.out"; fi

# DWARF parameter types are spelled as bpftrace 0.17 spells them: the
# stars against the type ("struct st_point* p", "char** argv").
{ "$ET" -lv 'uprobe:tests/bin/struct_target:st_visit'
  "$ET" -lv 'uprobe:tests/bin/struct_target:main'; } > "$OUT/lv_uprobe.out" 2>&1
printf '%s\n' 'uprobe:tests/bin/struct_target:st_visit' '    struct st_point* p' \
  'uprobe:tests/bin/struct_target:main' '    int argc' '    char** argv' > "$OUT/lv_uprobe.want"
if cmp -s "$OUT/lv_uprobe.want" "$OUT/lv_uprobe.out"; then pass lv_uprobe_dwarf_args
else fail lv_uprobe_dwarf_args "expected the DWARF parameters as bpftrace prints them" "$OUT/lv_uprobe.out"; fi
