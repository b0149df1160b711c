#!/bin/sh
# The shared core on its own (t.c): emitter, event loop, ring-buffer
# reader, syscall dispatcher, list of attachments, register table.  Needs root and the objects
# of `make` (it links the objects of src/*/*.c but main.c).
. "$(dirname "$0")/../../lib.sh"
out=tests/out/core
mkdir -p $out
plan 14
if ! is_root; then skip_rest "needs root (BPF maps and programs)"; exit 0; fi
need_files build/src/codegen/emit.o || exit 1
# the objects of today's sources (not a stale .o left under build/)
objs=$(ls src/*/*.c | grep -v '^src/commands/main\.c$' | sed 's|^\(.*\)\.c$|build/\1.o|')
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Werror \
    -Isrc -Ibuild/gen -o $out/t tests/unit/core/t.c $objs \
    $(sed -n 's/^LDLIBS *+= *//p' Makefile) 2>$out/build.log; then
  fail build "" $out/build.log
  exit 0
fi
pass build
$out/t
