#!/bin/sh
# Several compilations in one process (t.c): C definitions, #if state and
# DWARF types of one program do not reach the next.  Needs the objects of
# `make` (it links the objects of src/*/*.c but main.c) and
# tests/bin/struct_target.
. "$(dirname "$0")/../../lib.sh"
out=tests/out/compile
mkdir -p $out
plan 9
need_files build/src/front/cdefs.o tests/bin/struct_target || exit 1
# the objects of today's sources (not a stale .o left under build/)
objs=$(ls src/*/*.c | grep -v '^src/commands/main\.c$' | sed 's|^\(.*\)\.c$|build/\1.o|')
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Werror \
    -Isrc -Ibuild/gen -o $out/t tests/unit/compile/t.c $objs \
    $(sed -n 's/^LDLIBS *+= *//p' Makefile) 2>$out/build.log; then
  fail build "" $out/build.log
  exit 0
fi
pass build
$out/t tests/bin/struct_target
