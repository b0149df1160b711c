#!/bin/bash
# The bash completion (completion/etrace.bash): sourced into this bash,
# its function is called the way bash calls it (COMP_LINE, COMP_POINT,
# COMP_WORDS split at blanks and at COMP_WORDBREAKS' ':'), and COMPREPLY is
# checked.  Probe and tool names come from the real binary (etrace -l,
# etrace tool).  One PASS/FAIL line per case, a PLAN line first.
. "$(dirname "$0")/../lib.sh"
plan 26
ET=$PWD/etrace
OUT=$(outdir)
export ETRACE_TOOLS_DIR=$PWD/tools
need_files "$ET" || exit 1
# shellcheck source=../../completion/etrace.bash
. completion/etrace.bash
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'

# comp LINE: COMPREPLY for the cursor at the end of LINE, sorted, one per
# line, in $got
comp() {
  COMP_LINE=$1
  COMP_POINT=${#1}
  local split
  split=$(sed 's/:/ : /g' <<< "$1")
  read -ra COMP_WORDS <<< "$split"
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  if [[ $1 == *" " ]]; then COMP_WORDS+=(""); COMP_CWORD=$((COMP_CWORD + 1)); fi
  COMPREPLY=()
  _etrace 2> $OUT/stderr
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
  [ ${#COMPREPLY[@]} -gt 0 ] || got=""
}
words() { printf '%s\n' "$@" | sort; }

# exact NAME LINE WORD...: the completions are exactly these words
exact() {
  local name=$1 line=$2
  shift 2
  comp "$line"
  local want
  want=$(words "$@")
  if [ "$got" = "$want" ] && ! [ -s $OUT/stderr ]; then pass "$name"
  else fail "$name" "'$line' gave [$(echo $got)], want [$(echo $want)] $(head -c 200 $OUT/stderr)"; fi
}
# has NAME LINE WORD...: the completions include these words
has() {
  local name=$1 line=$2 w missing=""
  shift 2
  comp "$line"
  for w in "$@"; do grep -qxF -- "$w" <<< "$got" || missing="$missing $w"; done
  if [ -z "$missing" ] && ! [ -s $OUT/stderr ]; then pass "$name"
  else fail "$name" "'$line' lacks$missing (got $(echo $got | head -c 300))"; fi
}

E=$ET
has subcommands "$E " tool record ctf convert flamegraph snoop exporter
exact subcommand_prefix "$E rec" record
has main_options "$E -" -e -l -o -f -p -c -q -v -d -B -I --dry-run --verify --include --unsafe
exact main_f_formats "$E -f " text json ctf
exact main_B_modes "$E -q -B " none line full
exact main_d_stages "$E -d " ast dis all
has main_p_pids "$E -p " $$ 1

# probe names, one level at a time, relative to bash's word after ':'
exact probe_kinds "$E -l tr" tracepoint:
has probe_systems "$E -l tracepoint:" sched: syscalls: raw_syscalls:
exact probe_system_prefix "$E -l tracepoint:sche" sched:
want=$("$ET" -l 'tracepoint:sched:sched_sw*' | sed 's/^tracepoint:sched://')
# shellcheck disable=SC2086
exact probe_events "$E -l tracepoint:sched:sched_sw" $want
has probe_events_quoted "$E -l 'tracepoint:sched:sched_sw" sched_switch
has probe_after_v "$E -lv tracepoint:sched:sched_wak" sched_waking sched_wakeup
exact probe_in_program "$E -e 'tracepoint:sched:sched_process_fo" sched_process_fork

# tools: names from the tools directory, then the tool's own options
want=$(cd tools && ls ./*.bt | sed 's|^\./||; s/\.bt$//')
# shellcheck disable=SC2086
exact tool_names "$E tool " $want
exact tool_name_prefix "$E tool -f json opens" opensnoop
has tool_options "$E tool opensnoop -" -T -x -p -n -d -f -o
exact tool_f_formats "$E tool -f " text json

# subcommands' events (SYSTEM:EVENT), options and values
has record_events "$E record -o x sched:sched_sw" sched_switch
has record_options "$E record sched:sched_switch -" -o -D --duration -c -p --cmd-only --profile \
  --relay --snapshot --trigger --enable --disable
exact record_groups "$E record --profile kernel --disable " sched irq kmem block net timer power \
  writeback syscall all
exact snoop_info_events "$E snoop info sched:sched_process_ex" sched_process_exec sched_process_exit
exact flamegraph_formats "$E flamegraph -i x.folded -f " folded svg speedscope
exact convert_formats "$E convert x --to " chrome text
exact ctf_repair "$E ctf " repair
exact exporter_options "$E exporter x.bt --" --listen --prefix --stacks --map-keys --bpf-stats --help
