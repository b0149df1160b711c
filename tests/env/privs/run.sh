#!/bin/bash
# Privileges: without CAP_BPF / CAP_PERFMON (or CAP_SYS_ADMIN, or root)
# etrace names the missing capabilities and exits 1 before it does
# anything: the -c command never runs, no -o file or trace directory is
# created (the check comes before any map or program).  Capabilities are dropped with
# setpriv (util-linux) and capsh (libcap2-bin); `nobody` is tried too.
. "$(dirname "$0")/../../lib.sh"
plan 7
out=$PWD/tests/out/privs
rm -rf "$out"; mkdir -p "$out"
chmod 777 "$out"  # nobody writes its -o file attempt here
ET=$PWD/etrace
need_files "$ET" || exit 1
if ! command -v capsh > /dev/null; then fail setup "capsh missing (libcap2-bin)"; exit 0; fi
PROG='tracepoint:syscalls:sys_enter_getppid { @n = count(); }'
NOCAPS=(setpriv --inh-caps=-all --bounding-set=-all)

# refused NAME WANT_MISSING CMD...: exit 1, the capability message with
# exactly WANT_MISSING, and nothing done (marker files absent)
refused() {
  local name=$1 want=$2; shift 2
  rm -f "$out/ran" "$out/o.txt"; rm -rf "$out/trace"
  "$@" > "$out/$name.out" 2> "$out/$name.err"
  local rc=$? problems=""
  [ $rc = 1 ] || problems="exit $rc, expected 1"
  grep -q "error: loading BPF programs needs root, or the CAP_BPF and CAP_PERFMON capabilities (missing: $want)\$" \
    "$out/$name.err" || problems="$problems
no message naming '$want': $(head -5 "$out/$name.err")"
  [ $(wc -l < "$out/$name.err") = 1 ] || problems="$problems
more than the one error line: $(head -5 "$out/$name.err")"
  for f in ran o.txt trace; do [ -e "$out/$f" ] && problems="$problems
$f was created: etrace went half-way"; done
  if [ -z "$problems" ]; then pass "$name"; else fail "$name" "$problems"; fi
}

refused root-no-caps 'CAP_BPF, CAP_PERFMON' \
  "${NOCAPS[@]}" "$ET" -o "$out/o.txt" -c "touch $out/ran" -e "$PROG"
refused nobody 'CAP_BPF, CAP_PERFMON' \
  "${NOCAPS[@]}" --reuid=65534 --regid=65534 --clear-groups "$ET" -o "$out/o.txt" -c "touch $out/ran" -e "$PROG"
refused no-perfmon 'CAP_PERFMON' \
  capsh --drop=cap_perfmon,cap_sys_admin -- -c "exec $ET -c 'touch $out/ran' -e '$PROG'"
refused no-bpf 'CAP_BPF' \
  capsh --drop=cap_bpf,cap_sys_admin -- -c "exec $ET -c 'touch $out/ran' -e '$PROG'"
refused record-no-caps 'CAP_BPF, CAP_PERFMON' \
  "${NOCAPS[@]}" "$ET" record -o "$out/trace" -c "touch $out/ran" sched:sched_switch

# CAP_BPF + CAP_PERFMON without CAP_SYS_ADMIN is enough
capsh --drop=cap_sys_admin -- -c "exec $ET -q -c 'tests/bin/workload getppid 7' -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @n = count(); }'" \
  > "$out/bpf-perfmon.out" 2> "$out/bpf-perfmon.err"
rc=$?
if [ $rc = 0 ] && grep -qx '@n: 7' "$out/bpf-perfmon.out"; then pass bpf-perfmon-enough
else fail bpf-perfmon-enough "exit $rc: $(cat "$out/bpf-perfmon.out" "$out/bpf-perfmon.err" | head)"; fi

# compiling only (--dry-run) needs no capability
"${NOCAPS[@]}" "$ET" --dry-run -e 'BEGIN { printf("x\n"); exit(); }' > "$out/dry.out" 2> "$out/dry.err"
rc=$?
if [ $rc = 0 ] && ! [ -s "$out/dry.err" ]; then pass dry-run-unprivileged
else fail dry-run-unprivileged "exit $rc: $(head -5 "$out/dry.err")"; fi
