#!/bin/sh
# The shared core on its own (t.c): emitter, event loop, ring-buffer
# reader, syscall dispatcher, register table.  Needs root and the objects
# of `make` (it links build/src/*/*.o but main.o).
. "$(dirname "$0")/../../lib.sh"
out=tests/out/core
mkdir -p $out
plan 13
if ! is_root; then skip_rest "needs root (BPF maps and programs)"; exit 0; fi
need_files build/src/codegen/emit.o || exit 1
objs=$(ls build/src/*/*.o | grep -v '/commands/main\.o$')
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Werror \
    -Isrc -Ibuild/gen -o $out/t tests/unit/core/t.c $objs \
    -Wl,-Bstatic -lbpf -ldw -lelf -lz -llzma -lbz2 -Wl,-Bdynamic 2>$out/build.log; then
  fail build "" $out/build.log
  exit 0
fi
pass build
$out/t
