#!/bin/bash
# libFuzzer targets (make fuzz):
#   compile  program text through lexer, parser, type checker, code generator
#   tracefs  tracepoint format files through tracefs_parse_format()
#   elfsym   ELF images through elfsym_open() (symbols, stapsdt notes)
#   usdt     USDT argument specs through usdt_parse_arg()
#   httpreq  HTTP request heads through http_parse_request() (etrace exporter)
# First every file of tests/env/fuzz/regressions/TARGET/ is replayed (each must
# run clean), then each target fuzzes for FUZZ_SECONDS (default 60; the
# smoke run of make check sets 12, so the four stay under a minute) from
# its seeds.  A crash leaves crash-* in tests/out/fuzz/TARGET/ and fails:
# once fixed, keep it under tests/env/fuzz/regressions/TARGET/.
#
#   tests/env/fuzz/run.sh [TARGET...]
. "$(dirname "$0")/../../lib.sh"
secs=${FUZZ_SECONDS:-60}
top=tests/out/fuzz
targets=${*:-compile tracefs elfsym usdt httpreq}

# seeds TARGET DIR: fill DIR with the starting corpus
seeds() {
  case $1 in
  compile)
    find tests/language/frontend tests/language/semantic tests/language/codegen tools -name '*.bt' -exec cp -t "$2"/ {} + 2>/dev/null
    awk -v dir="$2" 'FNR == 1 { n++ } /^PROG: / { sub(/^PROG: /, ""); print > (dir "/e2e_" n ".bt") }' \
      tests/e2e/cases/*.case ;;
  tracefs)
    cp tests/env/fuzz/seeds/tracefs/* "$2"/
    # every format file of the live kernel (tracefs is mounted by the
    # suites that ran before; a missing one only means fewer seeds).  Bash
    # builtins only: a process per file took minutes on a loaded machine.
    for f in /sys/kernel/tracing/events/*/*/format; do
      [ -r "$f" ] || continue
      d=${f%/format}; s=${d%/*}
      printf '%s\n' "$(<"$f")" > "$2/${s##*/}__${d##*/}"
    done 2>/dev/null ;;
  elfsym)
    # the test helpers (PIE executables with symbols and stapsdt notes),
    # stripped copies (debug link, no .symtab) and a relocatable object
    for b in tests/bin/workload tests/bin/uprobe_target; do
      [ -f "$b" ] || continue
      cp "$b" "$2/"
      strip -o "$2/$(basename "$b").stripped" "$b" 2>/dev/null
    done
    ${CC:-cc} -O1 -c -o "$2/uprobe_target.o" tests/helpers/uprobe_target.c 2>/dev/null ;;
  httpreq)
    cp tests/env/fuzz/seeds/httpreq/* "$2"/ ;;
  usdt)
    cp tests/env/fuzz/seeds/usdt/* "$2"/
    # the argument strings of the helpers' stapsdt notes, one spec a file
    i=0
    for b in tests/bin/uprobe_target tests/bin/workload; do
      [ -f "$b" ] || continue
      LC_ALL=C readelf -n "$b" | sed -n 's/^ *Arguments: *//p'
    done | tr ' ' '\n' | sort -u | while read -r spec; do
      [ -n "$spec" ] && printf '%s' "$spec" > "$2/note_$spec" 2>/dev/null
    done ;;
  esac
}

n=1
for t in $targets; do n=$((n + 1 + $(ls tests/env/fuzz/regressions/$t 2>/dev/null | wc -l))); done
plan $n

# a regression outside every target's folder would never be replayed
stray=$(find tests/env/fuzz/regressions -mindepth 1 -maxdepth 1 ! -type d)
if [ -z "$stray" ]; then pass regressions-in-target-folders
else fail regressions-in-target-folders "not replayed (move under regressions/TARGET/): $(echo $stray)"; fi
for t in $targets; do
  bin=./fuzz_$t
  out=$top/$t
  if ! [ -x $bin ]; then echo "FAIL fuzz/$t ($bin not built: make $bin)"; continue; fi
  mkdir -p $out/corpus
  # regressions first: each must run clean
  for r in tests/env/fuzz/regressions/$t/*; do
    [ -f "$r" ] || continue
    if $bin "$r" > $out/reg.log 2>&1; then echo "PASS fuzz/$t/regression/$(basename "$r")"
    else echo "FAIL fuzz/$t/regression/$(basename "$r")"; tail -20 $out/reg.log; fi
    cp "$r" $out/corpus/
  done
  seeds $t $out/corpus
  maxlen=4096
  [ $t = elfsym ] && maxlen=65536
  [ $t = tracefs ] && maxlen=8192
  $bin -max_total_time="$secs" -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=$out/ -print_final_stats=1 $out/corpus > $out/fuzz.log 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' $out/fuzz.log)
  if [ $rc -eq 0 ]; then
    echo "PASS fuzz/$t ($runs inputs in ${secs}s, no crash)"
  else
    echo "FAIL fuzz/$t"
    grep -A30 'ERROR\|runtime error\|deadly signal\|timeout' $out/fuzz.log | head -40
  fi
done
