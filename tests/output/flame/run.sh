#!/bin/bash
# Flame-graph tests: `etrace flamegraph` and the writers in src/formats/flame*.c.
#
#   tests/output/flame/run.sh [NAME...]      run all tests, or those named
#
# Prints "PASS name", "FAIL name: why" or "SKIP name: why".  Inputs: the
# committed tests/output/flame/sample.folded (1,000 samples with known shares),
# folded stacks collapsed from a real `perf record` of tests/bin/workload,
# and generated profiles.  Needs ./etrace, tests/bin/workload, xmllint,
# python3, perf, node with tests/output/flame/node_modules (npm ci) and Debian's
# chromium: scripts/deps.sh --test installs them all.  Chromium alone may be
# missing on a developer's machine: the browser tests then SKIP, loudly;
# under CI they FAIL.  Outputs are kept under tests/out/flame/.
. "$(dirname "$0")/../../lib.sh"
[ $# -eq 0 ] && plan 58  # 39 here, 19 in browser.js

ET=./etrace
WL=tests/bin/workload
T=tests/output/flame
OUT=tests/out/flame
SAMPLE=$T/sample.folded
CC=${CC:-cc}
FLAGS="-std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Isrc -Ibuild/gen"
WRITERS="src/formats/flame.c src/formats/flame_folded.c src/formats/flame_svg.c src/formats/flame_speedscope.c"
SCHEMA=$T/node_modules/speedscope/dist/release/file-format-schema.json

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
ONLY="$*"

if [ ! -x "$ET" ] || [ ! -f build/gen/flame_svg_js.h ]; then
  fail setup "build ./etrace first (make check does)"
  exit 1
fi
rm -rf $OUT
mkdir -p $OUT

# conv ARGS...: run etrace flamegraph, stderr to $OUT/stderr
conv() { $ET flamegraph "$@" 2>$OUT/stderr; }

# Generated inputs: names with markup and broken UTF-8; a wide profile
# (one hot frame, 5,000 one-sample leaves); malformed files.
{ printf 'main;operator<<(std::ostream&, "x") 3\n'
  printf "main;it's \xff\xfe bad utf-8 2\n"
  printf 'main;caf\xc3\xa9 1\n'; } > $OUT/esc.folded
{ echo "big;hot 100000"; seq -f 'big;cold;leaf%g 1' 1 5000; } > $OUT/big.folded
printf 'main;work 3\nmain;work;spin 2\nmain;spin x4\n' > $OUT/bad-count.folded
printf 'main;work 3\n\nmain;;spin 2\n' > $OUT/bad-frame.folded
printf '\n \n' > $OUT/empty.folded
# The SVG most tests look at (svg_wellformed checks that it was written).
$ET flamegraph -i $SAMPLE -o $OUT/sample.svg --title 'etrace <test> & "flame"' \
  --subtitle "1,000 samples" 2>$OUT/sample.svg.stderr
sample_svg_rc=$?

# --- the writers compile without a warning ------------------------------------
t=no_warnings
if want $t; then
  if $CC $FLAGS -Werror -fsyntax-only $WRITERS src/commands/flamegraph.c src/commands/flame_live.c 2>$OUT/warnings.txt &&
     node --check src/formats/flame_svg.js 2>>$OUT/warnings.txt; then
    pass $t
  else fail $t "$(head -5 $OUT/warnings.txt)"; fi
fi

# --- folded ---------------------------------------------------------------------
t=folded_roundtrip  # a file in tree order comes back byte for byte
if want $t; then
  if conv -i $SAMPLE -o $OUT/rt.folded && cmp -s $SAMPLE $OUT/rt.folded; then
    pass $t
  else fail $t "$(cat $OUT/stderr; diff $SAMPLE $OUT/rt.folded | head -5)"; fi
fi

t=folded_merges  # shuffled, counts split over duplicate lines, CRLF, blank lines
if want $t; then
  awk '{n = $NF; s = substr($0, 1, length($0) - length(n) - 1)
        if (n > 1) { print s "  " int(n / 2) "\r"; print ""; print s " " n - int(n / 2) }
        else print s " " n}' $SAMPLE | shuf --random-source=$SAMPLE > $OUT/messy.folded
  if conv -i $OUT/messy.folded -o $OUT/merged.folded && cmp -s $SAMPLE $OUT/merged.folded; then
    pass $t
  else fail $t "$(cat $OUT/stderr; diff $SAMPLE $OUT/merged.folded | head -5)"; fi
fi

t=folded_stdio  # -i - and -o - with --format
if want $t; then
  if conv -i - -o - --format folded < $SAMPLE > $OUT/stdio.folded && cmp -s $SAMPLE $OUT/stdio.folded; then
    pass $t
  else fail $t "$(cat $OUT/stderr)"; fi
fi

t=api  # the live mode's entry points: flame_add_stack and flame_add_folded
if want $t; then
  if ! $CC $FLAGS -g -o $OUT/api $T/api.c $WRITERS 2>$OUT/api.build; then
    fail $t "build: $(head -3 $OUT/api.build)"
  else
    $OUT/api > $OUT/api.out 2>$OUT/api.err
    deep=$(seq -f 'f%02g' 0 99 | paste -sd';')
    cut=$({ seq -f 'g%g' 0 4094; echo '[truncated]'; } | paste -sd';')
    printf '%s\n' "[unknown] 4" "$deep 1" "$cut 1" "main;a:b;line break;do_syscall_64_[k] 4" \
      "main;work 1" "main;work;spin 17" > $OUT/api.want
    if cmp -s $OUT/api.want $OUT/api.out && [ "$(cat $OUT/api.err)" = "total 28 depth 4096 kernel 1,0" ]; then
      pass $t
    else fail $t "$(diff $OUT/api.want $OUT/api.out | head -5; cat $OUT/api.err)"; fi
  fi
fi

# --- svg ------------------------------------------------------------------------
t=svg_wellformed
if want $t; then
  if [ $sample_svg_rc = 0 ] && xmllint --noout $OUT/sample.svg 2>$OUT/xmllint.txt &&
     [ "$(xmllint --xpath 'string(//*[@id="title"])' $OUT/sample.svg)" = 'etrace <test> & "flame"' ]; then
    pass $t
  else fail $t "$(cat $OUT/sample.svg.stderr $OUT/xmllint.txt | head -5)"; fi
fi

t=svg_frames  # every frame of the tree, with its count, place and width
if want $t; then
  if python3 $T/check_svg.py $SAMPLE $OUT/sample.svg > $OUT/check.txt; then
    pass $t
  else fail $t "$(head -5 $OUT/check.txt)"; fi
fi

t=svg_known_frame  # the spin function: 57% of the width, its tooltip, its label
if want $t; then
  spin=$(xmllint --xpath 'string(//*[local-name()="g"][starts-with(*[local-name()="title"], "spin (")]/*[local-name()="rect"]/@width)' $OUT/sample.svg 2>&1)
  title=$(xmllint --xpath 'string(//*[local-name()="title"][starts-with(., "spin (")])' $OUT/sample.svg 2>&1)
  plotw=$(xmllint --xpath 'string(/*/@data-plotw)' $OUT/sample.svg)
  if [ "$spin" = "$(awk -v w=$plotw 'BEGIN {printf "%.3f", w * 0.57}')" ] &&
     [ "$title" = "spin (570 samples, 57.00%)" ]; then
    pass $t
  else fail $t "width '$spin' of $plotw, title '$title'"; fi
fi

t=svg_self_contained  # no external reference: one file works offline
if want $t; then
  ext=$(grep -oE '(href|src)=|@import|url\([^#][^)]*\)|https?://[^" ]*' $OUT/sample.svg |
        grep -v '^http://www.w3.org/2000/svg$' | sort -u | tr '\n' ' ')
  if [ -z "$ext" ] && grep -q '<script' $OUT/sample.svg && grep -q '<style' $OUT/sample.svg; then
    pass $t
  else fail $t "external references: $ext"; fi
fi

t=svg_kernel_frames  # kernel frames ("_[k]") carry the class and a colour apart
if want $t; then
  nk=$(grep -c '<g class="f k"' $OUT/sample.svg)
  nk_want=$(python3 -c "
import sys
seen = set()
for l in open('$SAMPLE'):
    f = l.rsplit(' ', 1)[0].split(';')
    for i in range(len(f)):
        if f[i].endswith('_[k]'): seen.add(tuple(f[:i + 1]))
print(len(seen))")
  # fills: user frames red..yellow (red dominant), kernel frames aqua (blue dominant)
  bad=$(grep -o '<g class="f[^"]*".*fill="rgb([0-9,]*)"' $OUT/sample.svg | python3 -c "
import re, sys
for l in sys.stdin:
    k = l.startswith('<g class=\"f k\"')
    r, g, b = map(int, re.search(r'fill=\"rgb\((\d+),(\d+),(\d+)\)\"$', l).groups())
    if 'data-d=\"0\"' in l: continue
    if k != (b > r): print(l[:80])" | head -3)
  if [ "$nk" -gt 0 ] && [ "$nk" = "$nk_want" ] && [ -z "$bad" ]; then
    pass $t
  else fail $t "$nk kernel frames (want $nk_want); colours: $bad"; fi
fi

t=svg_escaping  # markup characters and broken UTF-8 in names stay well-formed
if want $t; then
  if conv -i $OUT/esc.folded -o $OUT/esc.svg && xmllint --noout $OUT/esc.svg 2>$OUT/xmllint.txt &&
     grep -q 'operator&lt;&lt;(std::ostream&amp;, &quot;x&quot;) (3 samples, 50.00%)' $OUT/esc.svg &&
     grep -q "it&apos;s ?? bad utf-8" $OUT/esc.svg && grep -q 'café (1 sample,' $OUT/esc.svg &&
     conv -i $OUT/esc.folded -o $OUT/esc.speedscope.json &&
     python3 -c "import json; json.load(open('$OUT/esc.speedscope.json'))" 2>$OUT/json.txt; then
    pass $t
  else fail $t "$(cat $OUT/stderr $OUT/xmllint.txt $OUT/json.txt 2>/dev/null | head -3)"; fi
fi

t=svg_elision  # thousands of tiny frames are left out and counted
if want $t; then
  if conv -i $OUT/big.folded -o $OUT/big.svg && xmllint --noout $OUT/big.svg 2>$OUT/xmllint.txt; then
    frames=$(grep -c '^<g class="f' $OUT/big.svg)
    note=$(xmllint --xpath 'string(//*[@id="elided"])' $OUT/big.svg)
    size=$(stat -c %s $OUT/big.svg)
    # drawn: all, big, hot, cold (5000/105000 = 4.8%); leaves are 0.00095% each
    if [ "$frames" = 4 ] && [ "$note" = "5,000 frames narrower than 0.1% not drawn (5,000 samples)" ] &&
       [ "$size" -lt 20000 ] && python3 $T/check_svg.py $OUT/big.folded $OUT/big.svg > $OUT/check.txt; then
      pass $t
    else fail $t "$frames frames, note '$note', $size bytes; $(head -3 $OUT/check.txt)"; fi
  else fail $t "$(cat $OUT/stderr $OUT/xmllint.txt | head -3)"; fi
fi

t=svg_minwidth  # --minwidth 0 draws every frame; --minwidth 5 drops cold too
if want $t; then
  conv -i $OUT/big.folded -o $OUT/all.svg --minwidth 0 && all=$(grep -c '^<g class="f' $OUT/all.svg)
  conv -i $OUT/big.folded -o $OUT/five.svg --minwidth 5 && five=$(grep -c '^<g class="f' $OUT/five.svg)
  note=$(xmllint --xpath 'string(//*[@id="elided"])' $OUT/five.svg 2>/dev/null)
  if [ "$all" = 5004 ] && [ "$five" = 3 ] &&
     [ "$note" = "5,001 frames narrower than 5% not drawn (5,000 samples)" ] &&
     python3 $T/check_svg.py $OUT/big.folded $OUT/all.svg 0 > $OUT/check.txt; then
    pass $t
  else fail $t "$all frames at 0, $five at 5 ('$note'); $(head -3 $OUT/check.txt)"; fi
fi

t=svg_off_cpu  # --off-cpu with -i: blue user frames, purple kernel ones, its title
if want $t; then
  conv -i $SAMPLE -o $OUT/off.svg --off-cpu --unit us
  bad=$(grep -o '^<g class="f[^"]*" data-o="[0-9]*" data-n="[0-9]*" data-d="[1-9].*fill="rgb([0-9,]*)"' $OUT/off.svg |
        python3 -c "
import re, sys
n = 0
for l in sys.stdin:
    n += 1
    r, g, b = map(int, re.search(r'fill=\"rgb\((\d+),(\d+),(\d+)\)\"$', l).groups())
    if l.startswith('<g class=\"f k\"') != (r > g) or b < max(r, g): print(l[:70])
if n < 70: print(n, 'frames')" | head -3)
  title=$(xmllint --xpath 'string(//*[@id="title"])' $OUT/off.svg 2>&1)
  if [ -z "$bad" ] && [ "$title" = "Off-CPU Time Flame Graph" ]; then
    pass $t
  else fail $t "title '$title'; $bad"; fi
fi

# --- a real profile: perf samples of the workload's spin loop -----------------
t=real_profile
if want $t; then
  if [ ! -x "$WL" ]; then
    fail $t "build tests/bin/workload first (make check does)"
  elif ! perf record -q -e cpu-clock -F 999 --call-graph dwarf -o $OUT/perf.data -- \
         $WL spin 400 >$OUT/perf.txt 2>&1; then
    fail $t "perf record: $(tail -2 $OUT/perf.txt)"
  else
    perf script -i $OUT/perf.data 2>/dev/null | awk -f $T/perf-collapse.awk > $OUT/real.folded
    conv -i $OUT/real.folded -o $OUT/real.svg &&
      python3 $T/check_svg.py $OUT/real.folded $OUT/real.svg > $OUT/check.txt
    ok=$?
    # the spin loop calls now_ns (inlined in step): most samples are in it
    share=$(xmllint --xpath 'string(//*[local-name()="title"][starts-with(., "now_ns (")])' $OUT/real.svg 2>/dev/null |
            sed -n 's/.*, \([0-9.]*\)%)$/\1/p')
    if [ $ok = 0 ] && [ -n "$share" ] && awk -v s="$share" 'BEGIN {exit !(s >= 50)}'; then
      pass $t
    else fail $t "now_ns share '$share'; $(cat $OUT/stderr; head -3 $OUT/check.txt)"; fi
  fi
fi

# --- speedscope -------------------------------------------------------------------
t=speedscope_schema
if want $t; then
  if [ ! -f "$SCHEMA" ]; then
    fail $t "no $SCHEMA: run scripts/deps.sh --test (npm ci in tests/output/flame)"
  elif conv -i $SAMPLE -o $OUT/sample.speedscope.json --title "etrace test" &&
       conv -i $OUT/esc.folded -o $OUT/esc.speedscope.json &&
       node $T/speedscope.js $SCHEMA $OUT/sample.speedscope.json $SAMPLE > $OUT/speedscope.txt &&
       node $T/speedscope.js $SCHEMA $OUT/esc.speedscope.json > $OUT/speedscope-esc.txt; then
    pass $t
  else fail $t "$(cat $OUT/stderr $OUT/speedscope.txt $OUT/speedscope-esc.txt 2>/dev/null | head -5)"; fi
fi

t=speedscope_units  # --unit us: the profile's unit is microseconds
if want $t; then
  conv -i $SAMPLE -o $OUT/us.json --unit us
  unit=$(python3 -c "import json; print(json.load(open('$OUT/us.json'))['profiles'][0]['unit'])" 2>&1)
  conv -i $SAMPLE -o $OUT/us.svg --unit us
  if [ "$unit" = microseconds ] && grep -q '<title>spin (570 us, 57.00%)</title>' $OUT/us.svg; then
    pass $t
  else fail $t "unit '$unit'"; fi
fi

# --- command line: formats and errors ------------------------------------------
t=format_option  # --format wins over the name; the name's suffix otherwise
if want $t; then
  conv -i $SAMPLE -o $OUT/graph.txt --format svg && conv -i $SAMPLE -o $OUT/graph.json &&
    conv -i $SAMPLE -o $OUT/graph.out --format speedscope
  if head -c 200 $OUT/graph.txt | grep -q '<svg' && grep -q '"type": "sampled"' $OUT/graph.json &&
     grep -q '"type": "sampled"' $OUT/graph.out; then
    pass $t
  else fail $t "$(cat $OUT/stderr)"; fi
fi

# err NAME WANT_STDERR_REGEX ARGS...: exit 1, that message, no file left behind
err() {
  local name=$1 re=$2
  shift 2
  want $name || return
  rm -f $OUT/e.svg $OUT/e.svg.tmp*
  $ET flamegraph "$@" > $OUT/e.stdout 2> $OUT/e.stderr
  local rc=$?
  if [ $rc = 1 ] && grep -qE -e "$re" $OUT/e.stderr && ! ls $OUT/e.svg* >/dev/null 2>&1; then
    pass $name
  else fail $name "exit $rc: $(head -3 $OUT/e.stderr)"; fi
}
err err_bad_count "^$OUT/bad-count.folded:3:11: error: expected a sample count" -i $OUT/bad-count.folded -o $OUT/e.svg
err err_bad_count_caret '^          \^$' -i $OUT/bad-count.folded -o $OUT/e.svg
err err_empty_frame "^$OUT/bad-frame.folded:3:6: error: empty frame name" -i $OUT/bad-frame.folded -o $OUT/e.svg
err err_binary_input "^$ET:[0-9]+:[0-9]+: error: (NUL byte|expected)" -i $ET -o $OUT/e.svg
err err_no_samples "holds no samples" -i $OUT/empty.folded -o $OUT/e.svg
err err_missing_input "cannot read '$OUT/nonexistent.folded': No such file" -i $OUT/nonexistent.folded -o $OUT/e.svg
err err_no_output "no output file" -i $SAMPLE
err err_unknown_suffix "cannot tell the format of '$OUT/e.png'" -i $SAMPLE -o $OUT/e.png
err err_unknown_format "unknown format 'png'" -i $SAMPLE -o $OUT/e.svg --format png
err err_bad_minwidth "invalid --minwidth 'x'" -i $SAMPLE -o $OUT/e.svg --minwidth x
err err_unwritable "cannot create '$OUT/no/such/dir.svg'" -i $SAMPLE -o $OUT/no/such/dir.svg
err err_input_and_live "-p is for live sampling" -i $SAMPLE -p 1 -o $OUT/e.svg
err err_offcpu_hz "-F sets the on-CPU sampling frequency" --off-cpu -F 99 -o $OUT/e.svg

# live sampling: the spinning helper's user frames, root first, in the
# folded output, and its sleep in an off-CPU graph
t=live_oncpu
if want $t; then
  [ -x tests/bin/stack_target ] || make -s tests/bin/stack_target
  tests/bin/stack_target spin 3000 & spin=$!
  $ET flamegraph -p $spin -F 99 -D 1 -o $OUT/live.folded > $OUT/live.stdout 2> $OUT/live.stderr
  kill $spin 2>/dev/null; wait $spin 2>/dev/null
  if grep -qE '^stack_target;(.*;)?main;st_spin_outer;st_spin_middle;st_spin_leaf(;[^;]*)* [0-9]+$' $OUT/live.folded; then
    pass $t
    # the same samples as an SVG, for the browser test below
    $ET flamegraph -i $OUT/live.folded -o $OUT/live.svg 2>> $OUT/live.stderr
  else fail $t "no spin stack in $(head -3 $OUT/live.folded) $(head -3 $OUT/live.stderr)"; fi
fi
t=live_offcpu
if want $t; then
  tests/bin/stack_target $(for _ in $(seq 30); do printf 'sleep 100 '; done) & sleeper=$!
  $ET flamegraph --off-cpu -p $sleeper -D 1 -o $OUT/live-off.folded > /dev/null 2> $OUT/live-off.stderr
  kill $sleeper 2>/dev/null; wait $sleeper 2>/dev/null
  # the leaf is __schedule, or the sched_switch tracepoint's iterator
  # called from it where the kernel (6.18) has that frame
  if grep -qE '^stack_target;.*;do_nanosleep_\[k\];.*__schedule_\[k\](;__traceiter_sched_switch_\[k\])? [0-9]+$' $OUT/live-off.folded; then
    pass $t
  else fail $t "no nanosleep stack in $(head -3 $OUT/live-off.folded) $(head -3 $OUT/live-off.stderr)"; fi
fi
err err_bad_pid "pid 'abc' is not a valid decimal number" -p abc -o $OUT/e.svg

t=help
if want $t; then
  if $ET flamegraph -h | grep -q -- '--off-cpu' && $ET -h | grep -q 'etrace flamegraph'; then
    pass $t
  else fail $t "usage text"; fi
fi

# a system-wide profile leaves etrace itself out (run here under its own
# name, so that other etrace processes on the machine do not count), and
# the frames of a stripped binary merge into one [FILE] box per level
# instead of one box per address
t=live_self_and_stripped
if want $t; then
  [ -x tests/bin/stack_target ] || make -s tests/bin/stack_target
  cp "$ET" $OUT/etrace-selftest
  strip -o $OUT/stripped_spin tests/bin/stack_target
  $OUT/stripped_spin spin 3000 & spin=$!
  $OUT/etrace-selftest flamegraph -F 199 -D 1 -o $OUT/self.folded > /dev/null 2> $OUT/self.stderr
  kill $spin 2>/dev/null; wait $spin 2>/dev/null
  self=$(grep -c '^etrace-selftest;' $OUT/self.folded)
  stripped=$(grep '^stripped_spin;' $OUT/self.folded | awk '{ n += $NF } END { print n + 0 }')
  merged=$(grep '^stripped_spin;' $OUT/self.folded | grep -c '\[stripped_spin\]')
  hex=$(grep -c ';0x[0-9a-f]*[; ]' $OUT/self.folded)
  if [ "$self" = 0 ] && [ "$stripped" -ge 20 ] && [ "$merged" -ge 1 ] && [ "$hex" = 0 ]; then
    pass $t
  else fail $t "etrace's own lines $self (want 0), stripped_spin samples $stripped (want >= 20) in $merged lines with [stripped_spin], $hex hex frames (want 0)"; fi
fi

# the SVG's subtitle says what was sampled
t=live_subtitle
if want $t; then
  tests/bin/stack_target spin 3000 & spin=$!
  for _ in $(seq 100); do [ "$(cat /proc/$spin/comm 2>/dev/null)" = stack_target ] && break; sleep 0.01; done
  $ET flamegraph -p $spin -F 99 -D 1 -o $OUT/sub.svg > /dev/null 2> $OUT/sub.stderr
  kill $spin 2>/dev/null; wait $spin 2>/dev/null
  sub=$(sed -n 's/.*<text id="subtitle"[^>]*>\([^<]*\)<.*/\1/p' $OUT/sub.svg)
  n=$(sed -n 's/.*: \([0-9]*\) samples, .*/\1/p' <<< "$sub")
  if [[ $sub =~ ^pid\ $spin\ \(stack_target\),\ 99\ Hz,\ [0-9.]+\ s:\ [0-9]+\ samples,\ [0-9]+\ samples?\ without\ a\ stack$ ]] &&
     [ "${n:-0}" -ge 20 ]; then
    pass $t
  else fail $t "subtitle '$sub'"; fi
fi


# --- the same conversions under AddressSanitizer + UBSan --------------------------
t=asan
if want $t; then
  if [ ! -x ./etrace-asan ]; then
    fail $t "build ./etrace-asan first (make check does)"
  else
    bad=""
    for f in $SAMPLE $OUT/esc.folded $OUT/big.folded $OUT/bad-count.folded; do
      for ext in folded svg speedscope.json; do
        ./etrace-asan flamegraph -i $f -o $OUT/asan.$ext --minwidth 0 2>$OUT/asan.err
        rc=$?
        grep -qE 'Sanitizer|runtime error' $OUT/asan.err && bad="$bad $f.$ext"
        [ $rc -gt 1 ] && bad="$bad $f.$ext(exit $rc)"
      done
    done
    if [ -z "$bad" ]; then pass $t; else fail $t "$bad: $(head -3 $OUT/asan.err)"; fi
  fi
fi

# --- fuzzing: the reader and the writers on arbitrary bytes ----------------------
# fuzz_flame.c aborts on a crash, on folded output that does not read back
# as the same profile, and on SVG/JSON text that is not clean UTF-8 or
# leaves markup unescaped.  FLAME_FUZZ_SECONDS bounds the run (default 10).
t=fuzz
if want $t; then
  mkdir -p $OUT/fuzz/corpus
  cp $SAMPLE $OUT/*.folded $OUT/fuzz/corpus/ 2>/dev/null
  rm -f $OUT/fuzz/corpus/big.folded
  if ! clang -g -O1 -std=gnu11 -Isrc -Ibuild/gen -fsanitize=fuzzer,address,undefined \
         -o $OUT/fuzz/fuzz_flame $T/fuzz_flame.c $WRITERS 2>$OUT/fuzz/build.txt; then
    fail $t "build (clang, libclang-rt-14-dev): $(head -3 $OUT/fuzz/build.txt)"
  elif $OUT/fuzz/fuzz_flame -max_total_time=${FLAME_FUZZ_SECONDS:-10} -max_len=2048 -timeout=10 \
         -artifact_prefix=$OUT/fuzz/ -print_final_stats=1 $OUT/fuzz/corpus > $OUT/fuzz/log.txt 2>&1; then
    pass "$t ($(sed -n 's/^stat::number_of_executed_units: *//p' $OUT/fuzz/log.txt) inputs, no failure)"
  else
    fail $t "$(grep -E -m3 'ERROR|runtime error|bad byte|unescaped|rejected|does not read' $OUT/fuzz/log.txt)"
  fi
fi

# --- in a browser: click to zoom, search, tooltips ----------------------------------
t=browser
if want $t; then
  CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$CHROMIUM" ]; then
    if [ -n "$CI" ]; then
      fail $t "no $CHROMIUM: CI must install Debian's chromium (scripts/deps.sh --test)"
    else
      skip_rest "*** no $CHROMIUM: the 19 browser tests did NOT run (apt-get install chromium) ***"
    fi
  elif [ ! -d $T/node_modules/playwright-core ]; then
    fail $t "no playwright-core: run scripts/deps.sh --test (npm ci in tests/output/flame)"
  else
    # browser.js prints the PASS/FAIL lines; a crash or a timeout that
    # printed none is a failure too
    real=""
    if [ -f $OUT/live.svg ]; then # etrace's own live profile of the spin helper
      real="$OUT/live.svg $OUT/real-zoomed.png st_spin_leaf"
    elif [ -f $OUT/real.svg ]; then # perf's profile of workload spin
      real="$OUT/real.svg $OUT/real-zoomed.png now_ns"
    else
      fail browser_real "no real profile SVG (the real_profile test did not make one)"
    fi
    CHROMIUM=$CHROMIUM timeout 120 node $T/browser.js $OUT/sample.svg $OUT/zoomed.png $real \
      > $OUT/browser.out 2> $OUT/browser.err
    rc=$?
    cat $OUT/browser.out
    if [ $rc != 0 ] && ! grep -q '^FAIL ' $OUT/browser.out; then
      fail $t "browser.js exited $rc: $(head -3 $OUT/browser.err)"
    fi
  fi
fi
