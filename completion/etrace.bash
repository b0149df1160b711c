# bash completion for etrace: subcommands, options and their values, tool
# names and tool options, probe names (from `etrace -l`, one level of
# the name at a time: tracepoint:<TAB> offers tracepoint:sched: ...).
# Installed as /usr/share/bash-completion/completions/etrace; it needs
# nothing from the bash-completion package.

# The words before the cursor, split on blanks only (bash splits
# COMP_WORDS at ':' as well, which would cut probe names apart).
_etrace_words() {
  local line IFS=$' \t\n'
  if [[ -n ${COMP_LINE-} ]]; then
    line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
  else
    line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
  fi
  read -ra _etrace_w <<< "$line"
  [[ -z $line || $line == *[[:blank:]] ]] && _etrace_w+=("")
}

# Offer the words of $1 that start with $cur; completions ending in ':'
# or '/' do not get a space after them.
_etrace_offer() {
  local w
  local -a found=()
  for w in $1; do
    [[ $w == "$cur"* ]] && found+=("$w")
  done
  _etrace_add "${found[@]}"
}

# Add complete words to COMPREPLY, relative to what bash takes as the
# current word (the text after the last ':' when ':' breaks words).
_etrace_add() {
  local w strip=""
  if [[ $COMP_WORDBREAKS == *:* && $cur == *:* ]]; then
    strip=${cur%"${cur##*:}"}
  fi
  for w in "$@"; do
    COMPREPLY+=("${w#"$strip"}")
    if [[ $w == *: || $w == */ ]] && type compopt &> /dev/null; then
      compopt -o nospace 2> /dev/null
    fi
  done
}

# Probe names from `etrace -l`, cut after the next ':' past what is typed
# (tracepoint:s<TAB> -> tracepoint:sched: tracepoint:syscalls: ...).
# With $1 = tracepoint:, the names are written without that prefix (the
# SYSTEM:EVENT of record and snoop).
_etrace_probes() {
  local prefix=${1-} et=${_etrace_w[0]:-etrace} name rest
  local -a names=() uniq=()
  local -A seen=()
  if [[ -z $prefix && $cur != *:* ]]; then
    _etrace_offer "BEGIN END tracepoint: rawtracepoint: kprobe: kretprobe: fentry: fexit:
      uprobe: uretprobe: usdt: profile: interval: software: hardware: watchpoint: iter:"
    return
  fi
  mapfile -t names < <("$et" -l "$prefix$cur*" 2> /dev/null)
  for name in "${names[@]}"; do
    name=${name#"$prefix"}
    name=${name%:} # software:cpu-clock: -> software:cpu-clock
    rest=${name#"$cur"}
    [[ $rest == ?*:* ]] && name=$cur${rest%%:*}:
    [[ -n ${seen[$name]-} ]] && continue
    seen[$name]=1
    uniq+=("$name")
  done
  _etrace_add "${uniq[@]}"
}

_etrace_tools() {
  local et=${_etrace_w[0]:-etrace}
  _etrace_offer "$("$et" tool 2> /dev/null | awk '/^  [^ ]/ { print $1 }')"
}

# The options a tool's help lists ("  -p, --pid PID   ...").
_etrace_tool_options() {
  local et=${_etrace_w[0]:-etrace}
  _etrace_offer "$("$et" tool "$1" -h 2> /dev/null |
    awk '/^ +-/ { for (i = 1; i <= NF && $i ~ /^-/; i++) { sub(/,$/, "", $i); print $i } }')
    -o -f -B -v --dry-run --verify"
}

_etrace_files() { # [-d] for directories only
  local IFS=$'\n'
  COMPREPLY+=($(compgen "${1:--f}" -- "$cur"))
  type compopt &> /dev/null && compopt -o filenames 2> /dev/null
}

_etrace_pids() { _etrace_offer "$(cd /proc && printf '%s ' [0-9]*)"; }

# Values of the options that take one; returns 1 when $prev takes none.
_etrace_value() {
  case $prev in
    -o | -i | --include) _etrace_files ;;
    -I) _etrace_files -d ;;
    -p) _etrace_pids ;;
    -c) COMPREPLY+=($(compgen -c -- "$cur")) ;;
    -B) _etrace_offer "none line full" ;;
    -f) _etrace_offer "text json ctf" ;;
    -d) _etrace_offer "ast dis all" ;;
    -l) _etrace_probes ;;
    -e) [[ $cur == [a-zA-Z]* ]] && _etrace_probes ;; # the program's first probe
    -D | --duration | -b | -F | --title | --subtitle | --minwidth | --width | --relay | \
      --session | --snapshot | --trigger | --live-timer) ;;
    *) return 1 ;;
  esac
  return 0
}

_etrace() {
  local cur prev sub="" i
  local -a _etrace_w
  COMPREPLY=()
  _etrace_words
  cur=${_etrace_w[-1]}
  cur=${cur#[\'\"]}
  prev=${_etrace_w[-2]-}
  for ((i = 1; i < ${#_etrace_w[@]} - 1; i++)); do
    case ${_etrace_w[i]} in
      tool | record | ctf | convert | flamegraph | snoop | exporter) sub=${_etrace_w[i]}; break ;;
      -*) ;;
      *) break ;; # a program file: what follows are its parameters
    esac
  done

  case $sub in
    "")
      _etrace_value && return
      if [[ $cur == -* ]]; then
        _etrace_offer "-B -c -d --dry-run -e -f -h --help -I --include -l -o -p -q
          --unsafe --no-warnings -v --verify -V --version"
      elif [[ ${_etrace_w[*]:1} == *" -l "* || ${_etrace_w[1]} == -l* ]]; then
        _etrace_probes
      else
        [[ ${#_etrace_w[@]} -eq 2 ]] && _etrace_offer "tool record ctf convert flamegraph snoop exporter"
        _etrace_files
      fi
      ;;
    tool)
      # the first word after `tool` that is not one of etrace's flags
      local name="" j
      for ((j = i + 1; j < ${#_etrace_w[@]} - 1; j++)); do
        case ${_etrace_w[j]} in
          -o | -f | -B) ((j++)) ;;
          -*) ;;
          *) name=${_etrace_w[j]}; break ;;
        esac
      done
      if [[ -n $name ]]; then
        [[ $cur == -* ]] && _etrace_tool_options "$name"
      elif [[ $prev == -f ]]; then
        _etrace_offer "text json"
      elif [[ $prev == -B ]]; then
        _etrace_offer "none line full"
      elif [[ $prev == -o ]]; then
        _etrace_files
      elif [[ $cur == -* ]]; then
        _etrace_offer "-o -f -B -v --dry-run --verify -h --help"
      else
        _etrace_tools
      fi
      ;;
    record)
      case $prev in
        -o) _etrace_files -d ;;
        --profile) _etrace_offer "kernel native" ;;
        --enable | --disable)
          _etrace_offer "sched irq kmem block net timer power writeback syscall all" ;;
        *)
          _etrace_value && return
          if [[ $cur == -* ]]; then
            _etrace_offer "-o -D --duration -c --cmd-only -p --profile -b -q -v --verify -h --help
              --relay --session --snapshot --trigger --live-timer --enable --disable"
          else
            _etrace_probes tracepoint:
          fi
          ;;
      esac
      ;;
    ctf)
      if [[ $prev == ctf ]]; then
        _etrace_offer "repair"
      elif [[ $cur == -* ]]; then
        _etrace_offer "--dry-run -h --help"
      else
        _etrace_files -d
      fi
      ;;
    convert)
      case $prev in
        -f | --to) _etrace_offer "chrome text" ;;
        -o) _etrace_files ;;
        *)
          if [[ $cur == -* ]]; then
            _etrace_offer "-f --to -o -h --help"
          else
            _etrace_files -d
          fi
          ;;
      esac
      ;;
    flamegraph)
      case $prev in
        -f | --format) _etrace_offer "folded svg speedscope" ;;
        --unit) _etrace_offer "samples ns us" ;;
        *)
          _etrace_value && return
          if [[ $cur == -* ]]; then
            _etrace_offer "-i -o -f --format --title --subtitle --minwidth --width --unit
              --off-cpu -p -F -D --duration -v -h --help"
          else
            _etrace_files
          fi
          ;;
      esac
      ;;
    exporter)
      case $prev in
        --listen | --prefix | --map-keys | -e) ;;
        *)
          if [[ $cur == -* ]]; then
            _etrace_offer "--listen --prefix --stacks --map-keys --bpf-stats -e -v -h --help"
          else
            _etrace_files # program files and directories of them
          fi
          ;;
      esac
      ;;
    snoop)
      case $prev in
        -f) _etrace_offer "text json" ;;
        *)
          _etrace_value && return
          if [[ $cur == -* ]]; then
            _etrace_offer "-p -c -D --duration -f -o -n -v --dry-run -h --help"
          else
            [[ $prev == snoop ]] && _etrace_offer "info"
            _etrace_probes tracepoint:
          fi
          ;;
      esac
      ;;
  esac
}

complete -F _etrace etrace
