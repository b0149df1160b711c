#!/bin/bash
# BPF limits, one fault-injection check each (see LIMITS in etrace(8)):
#   stack         512 bytes of BPF stack: huge tuples / string keys are a
#                 located compile error
#   strlen        BPFTRACE_STRLEN above 200 or not a number: an error, as in
#                 bpftrace; at 200, a longer string is truncated to 199 bytes
#   map capacity  4096 keys: the exact number of failed updates is reported
#                 and the 4096 keys that fit are printed
#   instructions  1000000 per probe: nested unroll() is a compile error,
#                 reached quickly (100^5 copies used to run for hours)
# Prints "PASS name" / "FAIL name"; needs root, ./etrace, tests/bin/workload.
. "$(dirname "$0")/../../lib.sh"
plan 13
out=tests/out/limits
rm -rf $out; mkdir -p $out
ET=./etrace
WL=tests/bin/workload
need_files $ET $WL || exit 1

# rejects NAME REGEX ENV... -- ARGS...: exit 1 within 20 s, stderr matches
# REGEX, nothing on stdout (nothing ran)
rejects() {
  local name=$1 re=$2; shift 2
  local env=()
  while [ "$1" != -- ]; do env+=("$1"); shift; done; shift
  env "${env[@]}" timeout 20 $ET "$@" > $out/$name.out 2> $out/$name.err
  local rc=$?
  if [ $rc = 1 ] && grep -Eq -- "$re" $out/$name.err && ! [ -s $out/$name.out ]; then pass "$name"
  else fail "$name" "exit $rc (1 expected; 124: timed out), stderr:
$(head -5 $out/$name.err)
stdout: $(head -3 $out/$name.out)"; fi
}

# ------------------------------------------------------------ stack
STACK='-e:1:[0-9]+: error: this probe needs more than the 512 bytes of BPF stack'
rejects stack-tuple-var "$STACK" BPFTRACE_STRLEN=200 -- \
  -e 'BEGIN { $t = (str($1), str($1), str($1)); printf("%s\n", $t.0); exit(); }' x
# (a string key keeps its own size, so the strings are read at run time)
rejects stack-map-key "$STACK" BPFTRACE_STRLEN=200 -- \
  -e 'tracepoint:syscalls:sys_enter_openat { @m[str(args->filename), str(args->filename), str(args->filename)] = 1; exit(); }'
rejects stack-map-value "$STACK" BPFTRACE_STRLEN=200 -- \
  -e 'BEGIN { @m[1] = (str($1), str($1), str($1)); exit(); }' x
rejects stack-comm-tuple "$STACK" -- \
  -e 'BEGIN { $a = (comm, comm, comm, comm, comm, comm, comm, comm); $b = (str($1), str($1), str($1), str($1)); printf("%s %s\n", $a.0, $b.0); exit(); }' x

# ------------------------------------------------------------ strings
rejects strlen-too-big "^ERROR: 'BPFTRACE_STRLEN' 201 exceeds the current maximum of 200 bytes\\.$" \
  BPFTRACE_STRLEN=201 -- -e 'BEGIN { printf("%s\n", str($1)); exit(); }' x
rejects strlen-not-a-number "^ERROR: Env var 'ETRACE_STRLEN' did not contain a valid uint64_t, or was zero-valued\\.$" \
  ETRACE_STRLEN=lots -- -e 'BEGIN { printf("%s\n", str($1)); exit(); }' x
rejects kernel-version-not-a-version \
  "^ERROR: Env var 'ETRACE_KERNEL_VERSION' is not a kernel version such as 6\\.1: 'six'$" \
  ETRACE_KERNEL_VERSION=six -- -e 'BEGIN { printf("%d\n", 1); exit(); }'
# 300-byte path, STRLEN 200: exactly its first 199 bytes come out
long=/nonexistent/$(printf 'a%.0s' $(seq 287))
BPFTRACE_STRLEN=200 timeout 20 $ET -q -c "$WL open $long 1" \
  -e 'tracepoint:syscalls:sys_enter_openat /pid == cpid && strncmp(str(args->filename), "/nonexistent/", 13) == 0/ { printf("%s|\n", str(args->filename)); }' \
  > $out/strlen-truncate.out 2> $out/strlen-truncate.err
rc=$?
want="${long:0:199}|"
if [ $rc = 0 ] && [ "$(head -1 $out/strlen-truncate.out)" = "$want" ]; then pass strlen-200-truncates
else fail strlen-200-truncates "exit $rc; want ${#want} chars, got: $(head -1 $out/strlen-truncate.out | wc -c) $(head -3 $out/strlen-truncate.err)"; fi

# ------------------------------------------------------------ map capacity
# 5000 distinct keys into a 4096-key map: 904 updates must be reported.
for kind in value count; do
  case $kind in
    value) body='@m[@i] = 1; @i++;' ;;
    count) body='@m[@i] = count(); @i++;' ;;
  esac
  timeout 20 $ET -q -c "$WL getppid 5000" \
    -e "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { $body }" > $out/full-$kind.out 2> $out/full-$kind.err
  rc=$?
  keys=$(grep -c '^@m\[' $out/full-$kind.out)
  if [ $rc = 0 ] && [ "$keys" = 4096 ] && grep -qx '@i: 5000' $out/full-$kind.out &&
     grep -q '^etrace: 904 map updates failed because a map was full (4096 entries)' $out/full-$kind.err; then
    pass map-full-$kind-drop-count
  else
    fail map-full-$kind-drop-count "exit $rc, $keys keys printed (4096 expected), stderr: $(head -3 $out/full-$kind.err)"
  fi
done

# ------------------------------------------------------------ instructions
rejects insns-unroll-3 '-e:1:1: error: probe BEGIN needs (more than )?[0-9]+ instructions; the kernel allows 1000000' -- \
  -e 'BEGIN { $i = 0; unroll(100) { unroll(100) { unroll(100) { $i++; } } } exit(); }'
rejects insns-unroll-5 '-e:1:1: error: probe BEGIN needs more than 2000000 instructions; the kernel allows 1000000' -- \
  -e 'BEGIN { $i = 0; unroll(100) { unroll(100) { unroll(100) { unroll(100) { unroll(100) { $i++; printf("%d\n", $i); } } } } } exit(); }'
rejects insns-unroll-empty '-e:1:[0-9]+: error: unroll\(\) expands to more than 1000000 copies' -- \
  -e 'BEGIN { unroll(100) { unroll(100) { unroll(100) { unroll(100) { unroll(100) { } } } } } exit(); }'
