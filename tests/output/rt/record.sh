#!/bin/sh
# Regenerate tests/output/rt/expected/NAME.txt from the installed bpftrace (0.17):
# every non-manual case in `rt_test --list` names the bpftrace program it
# mirrors; its output minus the first line ("Attaching 1 probe..." or the
# JSON attached_probes line) is the expected text.  Check cases keep the
# message after "ERROR: " (or "(ok)").  Manual cases are left alone.
# Needs root (bpftrace) and a built tests/out/rt/rt_test (run.sh builds it).
#   tests/output/rt/record.sh [NAME...]     (default: every case)
. "$(dirname "$0")/../../lib.sh"
bin=tests/out/rt/rt_test
exp=tests/output/rt/expected
[ -x $bin ] || { echo "build $bin first (tests/output/rt/run.sh)" >&2; exit 1; }
tab=$(printf '\t')
$bin --list | while IFS=$tab read -r name mode origin prog; do
  [ "$origin" = manual ] && continue
  if [ $# -gt 0 ]; then
    case " $* " in *" $name "*) ;; *) continue ;; esac
  fi
  case $mode in
  text) bpftrace -e "$prog" 2>/dev/null | tail -n +2 > $exp/$name.txt ;;
  json) bpftrace -f json -e "$prog" 2>/dev/null | tail -n +2 > $exp/$name.txt ;;
  check)
    msg=$(bpftrace -e "$prog" 2>&1 >/dev/null | grep '^stdin:' | sed 's/^[^ ]* ERROR: //')
    printf '%s\n' "${msg:-(ok)}" > $exp/$name.txt ;;
  esac
  echo "recorded $name"
done
