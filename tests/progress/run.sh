#!/bin/bash
# Progress lines: on a terminal for a long conversion (a trace of 1.5
# million events, which takes longer than the 300 ms before a progress
# line appears), and not a byte of them in a file or a pipe.  The terminal
# is script(1)'s pseudo-terminal.  One PASS/FAIL line per case, PLAN first.
. "$(dirname "$0")/../lib.sh"
plan 3
ET=$PWD/etrace
WL=$PWD/tests/bin/workload
OUT=$(outdir)
need_files "$ET" "$WL" || exit 1
if ! have script; then
  echo "FAIL progress/setup: script(1) missing (bsdutils)"
  exit 1
fi
"$ET" record -q -o $OUT/big -c "$WL getppid 1500000" --cmd-only syscalls:sys_enter_getppid \
  2> $OUT/record.err

# on a terminal: "\retrace: converting:  NN% (DONE of 1500000 events)\033[K"
# lines, the last one erased before the summary
script -qec "'$ET' convert $OUT/big -f text -o $OUT/tty.txt" $OUT/typescript > /dev/null 2>&1
n=$(tr '\r' '\n' < $OUT/typescript | grep -cE '^etrace: converting: +[0-9]+% \([0-9]+ of 1500000 events\)'$'\033''\[K')
if [ "$n" -ge 1 ] && tr '\r' '\n' < $OUT/typescript | grep -q '^'$'\033''\[Ketrace: 1500000 events -> '; then
  pass terminal_shows_progress
else fail terminal_shows_progress "$n progress lines, or the summary not on an erased line"; fi

# standard error to a file: only the summary
"$ET" convert $OUT/big -f text -o $OUT/file.txt 2> $OUT/file.err
if [ "$(cat $OUT/file.err)" = "etrace: 1500000 events -> $OUT/file.txt" ] &&
   [ "$(wc -l < $OUT/file.txt)" = 1500000 ] && cmp -s $OUT/file.txt $OUT/tty.txt; then
  pass file_has_no_progress
else fail file_has_no_progress "stderr: $(head -c 200 $OUT/file.err | cat -v)"; fi

# to a pipe, chrome JSON this time: only the summary
"$ET" convert $OUT/big -f chrome -o $OUT/big.json 2>&1 | cat > $OUT/pipe.err
if [ "$(cat $OUT/pipe.err)" = "etrace: 1500000 events -> $OUT/big.json: 0 system-call slices, 1500000 instants, 0 threads named" ]; then
  pass pipe_has_no_progress
else fail pipe_has_no_progress "stderr: $(head -c 200 $OUT/pipe.err | cat -v)"; fi
rm -rf $OUT/big $OUT/*.txt $OUT/big.json
