#!/bin/sh
# Generated code size: xlated BPF instructions (bpftool prog show, summed
# over every program the tracer's process holds) and the verifier's
# processed instructions, etrace against bpftrace, for a corpus of
# one-liners (and, with --tools, every tools/*.bt): counts, sums,
# min/max/avg/stats, hist/lhist, string and tuple keys, predicates,
# if/else and ternaries, printf, str(), stacks.  Beside the ratio, the
# ratio without etrace's lost-event counters (what bpftrace does not
# count costs it no instructions).  Prints figures;
# never a pass/fail test.  Run as root from the repository root:
#   bench/codegen-size.sh [--tools]
set -u
cd "$(dirname "$0")/.."
ET=${ETRACE:-./etrace}
have_bpftrace=false
command -v bpftrace >/dev/null 2>&1 && have_bpftrace=true
command -v bpftool >/dev/null 2>&1 || { echo "bpftool is needed" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "jq is needed" >&2; exit 1; }

# progs PID -> "XLATED VERIFIED LOSS" summed over the programs PID holds
# open (program fds are those whose fdinfo has a prog_type line), but
# END's; LOSS: atomic adds, which in etrace's programs are only its lost-
# event counters (a full map or ring, a stack-map collision), each site
# about 5 instructions (test, counter address, 1, lock add) that bpftrace
# 0.17 does not spend: it counts nothing it loses in a map
progs() {
  x=0; v=0; l=0
  for f in /proc/$1/fdinfo/*; do
    grep -q '^prog_type:' "$f" 2>/dev/null || continue
    id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f")
    vi=$(sed -n 's/^verified_insns:[[:space:]]*//p' "$f")
    # END's program: etrace loads it with the others, bpftrace 0.17 only
    # when it exits, so it is left out of both
    b=$(bpftool prog show id "$id" -j 2>/dev/null | jq 'if .name == "END" then 0 else .bytes_xlated end')
    [ "${b:-0}" = 0 ] && continue
    x=$((x + ${b:-0} / 8)); v=$((v + ${vi:-0}))
    l=$((l + $(bpftool prog dump xlated id "$id" 2>/dev/null | grep -c ' lock ')))
  done
  echo "$x $v $l"
}

# stop PID: SIGINT (the tracers print their maps and exit), then SIGTERM
# if it is still there after 5 s (a SIGINT that arrives before a tracer
# installs its handler is ignored in a background job)
stop() {
  kill -INT "$1" 2>/dev/null
  n=0
  while kill -0 "$1" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# measure CMD... -> "XLATED VERIFIED" once the tracer has attached
measure() {
  "$@" >/dev/null 2>&1 &
  pid=$!
  out="0 0 0"; last=""
  i=0
  while [ $i -lt 150 ] && kill -0 $pid 2>/dev/null; do
    sleep 0.2
    out=$(progs $pid)
    # stable for one poll and non-empty: attached
    if [ "${out%% *}" != 0 ] && [ "$out" = "$last" ]; then break; fi
    last=$out
    i=$((i+1))
  done
  stop $pid
  echo "$out"
}

tools_et=0; tools_etv=0; tools_pet=0; tools_petv=0; tools_bt=0; tools_btv=0; tools_petl=0
total_et=0; total_bt=0; total_etv=0; total_btv=0; total_etl=0; worst=0; worst_name=""
# f N "A B C": field N
f() { echo "$2" | cut -d' ' -f"$1"; }
row() { # row NAME ET BT ETV BTV ETL
  r=$(awk -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  r2=$(awk -v a="$2" -v b="$3" -v l="${6:-0}" 'BEGIN { if (b > 0) printf "%.2f", (a - 5 * l) / b; else print "n/a" }')
  printf '%-28s %7s %8s %6s %9s %9s %5s %8s\n' "$1" "$2" "$3" "$r" "$4" "$5" "${6:--}" "$r2"
}

one() { # one NAME PROGRAM
  et=$(measure $ET -q -e "$2")
  bt="0 0 0"
  if $have_bpftrace; then bt=$(measure bpftrace -e "$2"); fi
  row "$1" "$(f 1 "$et")" "$(f 1 "$bt")" "$(f 2 "$et")" "$(f 2 "$bt")" "$(f 3 "$et")"
  total_et=$((total_et + $(f 1 "$et"))); total_bt=$((total_bt + $(f 1 "$bt")))
  total_etv=$((total_etv + $(f 2 "$et"))); total_btv=$((total_btv + $(f 2 "$bt")))
  total_etl=$((total_etl + $(f 3 "$et")))
  worst=$(awk -v w="$worst" -v a="$(f 1 "$et")" -v b="$(f 1 "$bt")" -v n="$1" -v wn="$worst_name" \
    'BEGIN { r = b > 0 ? a / b : 0; if (r > w) print r, n; else print w, wn }')
  worst_name=${worst#* }; worst=${worst%% *}
}

# loss: etrace's lost-event counter sites; w/o loss: the ratio without
# about 5 instructions for each
printf '%-28s %7s %8s %6s %9s %9s %5s %8s\n' program etrace bpftrace ratio et-verif bt-verif loss 'w/o loss'
one comm_count 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
one predicate_count 'tracepoint:raw_syscalls:sys_enter /pid > 100 && (cpu == 0 || tid != 1)/ { @n = count(); }'
one read_latency 'tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; }
  tracepoint:syscalls:sys_exit_read /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }'
one read_bytes 'tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes[comm] = sum(args->ret); @sz = lhist(args->ret, 0, 4096, 256); }'
one openat_printf 'tracepoint:syscalls:sys_enter_openat { printf("%-16s %6d %s\n", comm, pid, str(args->filename)); }'
one switch_comm_pair 'tracepoint:sched:sched_switch { @[args->prev_comm, args->next_comm] = count(); }'
one execve_tuple 'tracepoint:syscalls:sys_enter_execve { @[comm, pid, uid] = count(); @total = count(); }'
one syscall_errors 'tracepoint:raw_syscalls:sys_exit /args->ret < 0/ { @err[args->id, args->ret] = count(); }'
one runq_latency 'tracepoint:sched:sched_wakeup { @qt[args->pid] = nsecs; }
  tracepoint:sched:sched_switch { $ns = @qt[args->next_pid]; if ($ns) { @usecs = hist((nsecs - $ns) / 1000); } delete(@qt[args->next_pid]); }'
one openat_comm_filter 'tracepoint:syscalls:sys_enter_openat /comm == "bash"/ { @[str(args->filename)] = count(); }'
one sum_by_pid 'tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @[pid] = sum(args->ret); }'
one min_max_avg 'tracepoint:syscalls:sys_exit_write { @max = max(args->ret); @min = min(args->ret); @avg = avg(args->ret); }'
one lhist_count 'tracepoint:syscalls:sys_enter_read { @ = lhist(args->count, 0, 65536, 4096); }'
one hist_by_comm 'tracepoint:syscalls:sys_exit_read { @[comm] = hist(args->ret); }'
one kstack_count 'profile:hz:99 { @[kstack] = count(); }'
one ustack_comm 'profile:hz:99 /pid/ { @[ustack, comm] = count(); }'
one printf_kill 'tracepoint:syscalls:sys_enter_kill { printf("%d -> %d sig %d\n", pid, args->pid, args->sig); }'
one str_compare 'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "/etc/passwd"/ { printf("%s\n", comm); }'
one stats_prio 'tracepoint:sched:sched_process_exit { @ = stats(args->prio); }'
one if_else 'tracepoint:raw_syscalls:sys_enter { if (args->id == 0) { @reads = count(); } else { @other = count(); } }'
one ternary_key 'tracepoint:raw_syscalls:sys_exit { @[args->ret < 0 ? "err" : "ok"] = count(); }'
one exec_printf 'tracepoint:sched:sched_process_exec { printf("%s %d %s\n", comm, pid, str(args->filename)); }'
one cpu_vec 'tracepoint:irq:softirq_entry { @[cpu, args->vec] = count(); }'
row one-liners "$total_et" "$total_bt" "$total_etv" "$total_btv" "$total_etl"
printf 'largest ratio: %s %.2f\n' "$worst_name" "$worst"
# tool_defaults FILE: the tool's $1..$N as `etrace tool` passes them when
# no option is given (each "-> $N ..., default D" in its header; 0 when
# none is declared), one per line
tool_defaults() {
  sed -n 's|^//.*-> \$\([0-9]*\).*|\1 &|p' "$1" | awk '
    { n = $1; d = "0"
      if (match($0, /default [^ ]*/)) { d = substr($0, RSTART + 8, RLENGTH - 8) }
      if (d == "\"\"") d = ""
      if (!(n in v) || d != "0") v[n] = d
      if (n > max) max = n }
    END { for (i = 1; i <= max; i++) print (i in v ? v[i] : "0") }'
}
if [ "${1:-}" = --tools ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for f in tools/*.bt; do
    n=$(basename "$f" .bt)
    # tools/ is written in etrace's dialect; bpftrace 0.17 spells args.NAME
    # as args->NAME
    sed 's/\<args\.\([a-z_]\)/args->\1/g' "$f" > "$tmp/$n.bt"
    tool_defaults "$f" > "$tmp/$n.params"
    set --
    while IFS= read -r p; do set -- "$@" "$p"; done < "$tmp/$n.params"
    et=$(measure $ET -q "$f" "$@"); bt="0 0 0"
    if $have_bpftrace; then bt=$(measure bpftrace "$tmp/$n.bt" "$@"); fi
    e1=$(f 1 "$et"); e2=$(f 2 "$et"); e3=$(f 3 "$et"); b1=$(f 1 "$bt"); b2=$(f 2 "$bt")
    row "tools/$n" "$e1" "$b1" "$e2" "$b2" "$e3"
    tools_et=$((tools_et + e1)); tools_etv=$((tools_etv + e2))
    # the totals pair programs both tracers loaded (bpftrace 0.17 refuses
    # some of etrace's dialect)
    if [ "$b1" != 0 ] && [ "$e1" != 0 ]; then
      tools_bt=$((tools_bt + b1)); tools_btv=$((tools_btv + b2))
      tools_pet=$((tools_pet + e1)); tools_petv=$((tools_petv + e2)); tools_petl=$((tools_petl + e3))
      total_et=$((total_et + e1)); total_bt=$((total_bt + b1))
      total_etv=$((total_etv + e2)); total_btv=$((total_btv + b2)); total_etl=$((total_etl + e3))
      worst=$(awk -v w="$worst" -v a="$e1" -v b="$b1" -v n="tools/$n" -v wn="$worst_name" \
        'BEGIN { r = b > 0 ? a / b : 0; if (r > w) print r, n; else print w, wn }')
      worst_name=${worst#* }; worst=${worst%% *}
    fi
  done
  row "tools (etrace, all)" "$tools_et" - "$tools_etv" -
  row "tools (both loaded)" "$tools_pet" "$tools_bt" "$tools_petv" "$tools_btv" "$tools_petl"
  printf 'largest ratio, tools included: %s %.2f\n' "$worst_name" "$worst"
fi
row total "$total_et" "$total_bt" "$total_etv" "$total_btv" "$total_etl"
