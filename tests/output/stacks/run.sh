#!/bin/bash
# Stack traces and symbols on the live kernel, checked against the known
# call chains of tests/bin/stack_target (built with frame pointers, as a
# PIE): main -> st_spin_outer -> st_spin_middle -> st_spin_leaf while it
# spins, main -> st_libc_caller -> getppid (libc) for `libc N`.
#
#   tests/output/stacks/run.sh
#
# Prints "PASS stacks/NAME" or "FAIL stacks/NAME" with the output.  The
# -c child has exited when the maps print, so every resolved user frame
# here also shows that symbols survive the process (bpftrace 0.17 prints
# bare addresses there).  Needs root, ./etrace and tests/bin/stack_target.
. "$(dirname "$0")/../../lib.sh"
plan 9
ET=./etrace
T=tests/bin/stack_target
OUT=tests/out/stacks
mkdir -p $OUT

# fail NAME WHY: with the run's stdout and stderr
fail() {
  echo "FAIL $SUITE/$1: $2"
  [ -f "$OUT/$1.out" ] && sed 's/^/    | /' "$OUT/$1.out" | head -30
  [ -s "$OUT/$1.err" ] && sed 's/^/    ! /' "$OUT/$1.err" | head -10
}

need_files $ET $T || exit 1

# run NAME ETRACE-ARGS...: stdout in $OUT/NAME.out, stderr in .err
run() {
  local name=$1
  shift
  timeout 30 $ET "$@" > $OUT/$name.out 2> $OUT/$name.err
}

# has NAME PYTHON-REGEX: the output matches (multi-line regex)
has() {
  python3 - "$OUT/$1.out" "$2" <<'PY'
import re, sys
sys.exit(0 if re.search(sys.argv[2], open(sys.argv[1]).read(), re.M) else 1)
PY
}

# 1. profile: user stacks of the spinning helper, in bpftrace mode
run profile_ustack -q -e 'profile:hz:199 /pid == cpid/ { @[ustack] = count(); }' -c "$T spin 400"
if has profile_ustack '^    st_spin_leaf\+\d+\n    st_spin_middle\+\d+\n    st_spin_outer\+\d+\n    main\+\d+\n    __libc_start_call_main\+\d+\n'; then
  pass profile_ustack
else
  fail profile_ustack "no stack st_spin_leaf < st_spin_middle < st_spin_outer < main < libc"
fi

# 2. perf mode: address, symbol+offset and the mapped file
run profile_perf -q -e 'profile:hz:199 /pid == cpid/ { @[ustack(perf, 2)] = count(); }' -c "$T spin 300"
if has profile_perf '^\t[0-9a-f]+ st_spin_leaf\+\d+ \(/\S*tests/bin/stack_target\)\n\t[0-9a-f]+ st_spin_middle\+\d+ \(/\S*tests/bin/stack_target\)\n\]: \d+$'; then
  pass profile_perf
else
  fail profile_perf "no perf-mode frames of stack_target"
fi

# 3. a shared library: the uprobe on libc's getppid is the top frame
run libc_frame -q -e 'uprobe:libc:getppid /pid == cpid/ { @[ustack(perf, 1)] = count(); @s[usym(reg("ip"))] = count(); }' -c "$T libc 3"
if has libc_frame '^\t7f[0-9a-f]+ (__)?getppid\+0 \(/\S*libc\.so\.6\)\n\]: 3$' &&
   has libc_frame '^@s\[(__)?getppid\]: 3$'; then
  pass libc_frame
else
  fail libc_frame "getppid+0 in libc.so.6 expected 3 times"
fi

# 4. kernel and user stacks in one key, then JSON (a JSON parser reads it)
run json -q -f json -e 'profile:hz:199 /pid == cpid/ { @[kstack, ustack(3)] = count(); }' -c "$T spin 300"
if python3 - $OUT/json.out <<'PY'
import json, sys
found = False
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    if d.get("type") == "map":
        for k in d["data"]["@"]:
            found |= "\n    st_spin_leaf+" in k and "\n    st_spin_middle+" in k
sys.exit(0 if found else 1)
PY
then
  pass json
else
  fail json "no JSON map key holding the spin stack"
fi

# 5. the kernel stack of the helper's nanosleep, taken at sched_switch
#    (what offcputime aggregates)
run kstack_sleep -q -e 'tracepoint:sched:sched_switch /pid == cpid/ { @[kstack(8)] = count(); }' -c "$T sleep 50"
if has kstack_sleep '^    __schedule\+\d+\n    schedule\+\d+\n    do_nanosleep\+\d+\n'; then
  pass kstack_sleep
else
  fail kstack_sleep "no sched_switch stack through nanosleep"
fi

# 6. uaddr() errors name the file (absolute path: not a golden file)
$ET --dry-run -e "uretprobe:$T:st_probe_me { printf(\"%lx\\n\", uaddr(\"st_sink\")); }" > /dev/null 2> $OUT/uaddr_pie.err
if grep -qE 'error: uaddr\("st_sink"\): /\S+/stack_target is position-independent and a uretprobe does not know where it is loaded' $OUT/uaddr_pie.err; then
  pass uaddr_uretprobe_pie
else
  fail uaddr_uretprobe_pie "wrong error"; cat $OUT/uaddr_pie.err
fi
$ET --dry-run -e "uprobe:$T:st_probe_me { printf(\"%lx\\n\", uaddr(\"no_such_sym\")); }" > /dev/null 2> $OUT/uaddr_unknown.err
if grep -qE "error: uaddr\(\"no_such_sym\"\): no symbol named 'no_such_sym' in /\S+/stack_target" $OUT/uaddr_unknown.err; then
  pass uaddr_unknown
else
  fail uaddr_unknown "wrong error"; cat $OUT/uaddr_unknown.err
fi

# 7. no stack was lost on the way (folded_test below reports none)
if cat $OUT/*.err | grep -q "lost"; then
  fail no_drops "etrace reported lost events"
  grep -h lost $OUT/*.err
else
  pass no_drops
fi

# 8. folded stacks (rt_folded_stacks, for flame graphs) from hand-filled
#    maps: frames by function, root first, offsets merged, sorted
if cc -O1 -g -std=gnu11 -Isrc -o $OUT/folded_test tests/output/stacks/folded_test.c \
     $(ls src/*/*.c | grep -v '^src/commands/main.c$' | sed 's|^\(.*\)\.c$|build/\1.o|') \
     $(sed -n 's/^LDLIBS *+= *//p' Makefile) 2> $OUT/folded.err &&
   $OUT/folded_test > $OUT/folded.out 2>> $OUT/folded.err &&
   printf 'nostack 7\nreader;ksys_read_[k];vfs_read_[k] 5\nself;main;leaf_fn 4\nlines 2 1\n' | diff - $OUT/folded.out > $OUT/folded.diff; then
  pass folded
else
  fail folded "unexpected folded lines"; cat $OUT/folded.diff 2>/dev/null
fi
