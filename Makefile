# etrace - build, test, install.
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Isrc -Ibuild/gen
# libbpf, libelf and zlib are linked statically (Debian ships the .a files):
# no dynamic loading of them at start-up (about 0.5 ms and 0.5 MB less).
# libdw (elfutils) reads DWARF for typed uprobe arguments; it needs
# liblzma and libbz2 for compressed debug sections.
LDLIBS  += -Wl,-Bstatic -lbpf -ldw -lelf -lz -llzma -lbz2 -Wl,-Bdynamic
PREFIX  ?= /usr/local

SRCS := $(wildcard src/*/*.c)
OBJS := $(SRCS:%.c=build/%.o)
ASAN_OBJS := $(SRCS:%.c=build/asan/%.o)
DEPS := $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(SRCS:%.c=build/fuzz/%.d)

# make ARCH=arm64: the static aarch64 etrace-arm64 (below) instead.
ifeq ($(ARCH),arm64)
all: etrace-arm64
else
all: etrace
endif

etrace: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

build/gen/syscall_table.h: scripts/gen-syscalls.sh scripts/syscalls-newer.txt
	@mkdir -p $(dir $@)
	scripts/gen-syscalls.sh > $@

build/gen/syscall_table_arm64.h: scripts/gen-syscalls-arm64.sh scripts/syscalls-newer.txt
	@mkdir -p $(dir $@)
	scripts/gen-syscalls-arm64.sh > $@

build/src/arch/x86_64.o build/asan/src/arch/x86_64.o build/fuzz/src/arch/x86_64.o: build/gen/syscall_table.h
build/src/arch/arm64.o build/asan/src/arch/arm64.o build/fuzz/src/arch/arm64.o: build/gen/syscall_table_arm64.h

# The flame-graph SVG embeds its script (src/formats/flame_svg.js) as a string.
build/gen/flame_svg_js.h: src/formats/flame_svg.js scripts/embed-text.sh
	@mkdir -p $(dir $@)
	scripts/embed-text.sh flame_svg_js $< > $@

build/src/formats/flame_svg.o build/asan/src/formats/flame_svg.o build/fuzz/src/formats/flame_svg.o: build/gen/flame_svg_js.h

# `etrace tool` falls back to the installed tools under $(PREFIX).
build/src/commands/tools.o build/asan/src/commands/tools.o: CFLAGS += -DETRACE_PREFIX='"$(PREFIX)"'

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The same binary under AddressSanitizer + UBSan, for the front-end tests.
etrace-asan: $(ASAN_OBJS)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -o $@ $^ $(LDFLAGS) $(LDLIBS)

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-format-truncation -fsanitize=address,undefined -fno-omit-frame-pointer -MMD -MP -c -o $@ $<

tests/bin/%: tests/helpers/%.c
	@mkdir -p tests/bin
	$(CC) -O1 -g $(HELPER_CFLAGS) -o $@ $<

# Frame pointers, so the kernel's user-stack walk reaches main.
tests/bin/stack_target: HELPER_CFLAGS = -fno-omit-frame-pointer

# Statically linked etrace and helpers for the qemu-booted test kernel
# (tests/env/qemu: an initramfs holds nothing but busybox and these).
etrace.static: $(OBJS)
	$(CC) $(CFLAGS) -static -o $@ $^ $(LDFLAGS) -lbpf -ldw -lelf -lz -llzma -lbz2

# Cross build for arm64 (make ARCH=arm64, or make etrace-arm64): Debian's
# gcc-aarch64-linux-gnu with the arm64 -dev packages installed through
# multiarch (scripts/deps-arm64.sh), linked fully static like
# etrace.static so it runs in a bare initramfs or under qemu-aarch64.
CROSS_COMPILE ?= aarch64-linux-gnu-
ARM64_OBJS := $(SRCS:%.c=build/arm64/%.o)
DEPS += $(ARM64_OBJS:.o=.d)

etrace-arm64: $(ARM64_OBJS)
	$(CROSS_COMPILE)gcc $(CFLAGS) -static -o $@ $^ $(LDFLAGS) -lbpf -ldw -lelf -lz -llzma -lbz2

build/arm64/%.o: %.c
	@mkdir -p $(dir $@)
	$(CROSS_COMPILE)gcc $(CFLAGS) -MMD -MP -c -o $@ $<

build/arm64/src/arch/x86_64.o: build/gen/syscall_table.h
build/arm64/src/arch/arm64.o: build/gen/syscall_table_arm64.h
build/arm64/src/formats/flame_svg.o: build/gen/flame_svg_js.h
build/arm64/src/commands/tools.o: CFLAGS += -DETRACE_PREFIX='"$(PREFIX)"'

# The arm64 guest's helpers (tests/env/qemu-arm64), static like etrace-arm64.
tests/bin/arm64/%: tests/helpers/%.c
	@mkdir -p tests/bin/arm64
	$(CROSS_COMPILE)gcc -O1 -g -static $(HELPER_CFLAGS) -o $@ $<

tests/bin/arm64/stack_target: HELPER_CFLAGS = -fno-omit-frame-pointer

# Debian's arm64 kernel under qemu-system-aarch64 (TCG), the same way: about
# 60-80 s plus the cross build; make check runs it too (tests/env/qemu-arm64).
qemu-check-arm64: etrace-arm64 tests/bin/arm64/workload tests/bin/arm64/uprobe_target tests/bin/arm64/stack_target
	tests/env/qemu-arm64/run.sh

tests/bin/static/%: tests/helpers/%.c
	@mkdir -p tests/bin/static
	$(CC) -O1 -g -static -o $@ $<

qemu-check: etrace.static tests/bin/static/workload
	tests/env/qemu/run.sh

# non-PIE: the watchpoint test watches a global at its link-time address
tests/bin/perf_target: tests/helpers/perf_target.c
	@mkdir -p tests/bin
	$(CC) -O1 -g -no-pie -o $@ $<

HELPERS := $(patsubst tests/helpers/%.c,tests/bin/%,$(wildcard tests/helpers/*.c))

# libFuzzer targets (clang): the compiler, the tracefs format parser, the
# ELF symbol / stapsdt reader, the USDT argument parser and the exporter's
# HTTP request parser; make fuzz runs
# them all.  The sources are instrumented once, in build/fuzz/.
FUZZ_SRCS := $(filter-out src/commands/main.c,$(SRCS))
FUZZ_OBJS := $(FUZZ_SRCS:%.c=build/fuzz/%.o)
.SECONDARY: $(FUZZ_OBJS) # kept between fuzz_% links (make deletes intermediates)
FUZZ_TARGETS := fuzz_compile fuzz_tracefs fuzz_elfsym fuzz_usdt fuzz_httpreq
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Isrc -Ibuild/gen -fsanitize=address,undefined -fno-sanitize-recover=undefined

build/fuzz/src/commands/tools.o: FUZZ_CFLAGS += -DETRACE_PREFIX='"$(PREFIX)"'

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

fuzz_%: tests/env/fuzz/fuzz_%.c $(FUZZ_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

fuzz: $(FUZZ_TARGETS) $(HELPERS)
	tests/env/fuzz/run.sh

# With the cross toolchain (scripts/deps-arm64.sh), tests/language/arch also
# runs the arm64 binary under qemu-user and reads an aarch64 helper's USDT
# notes (about 10 s of building, under a second of testing).
ARM64_CHECK := $(if $(shell command -v $(CROSS_COMPILE)gcc),etrace-arm64 tests/bin/arm64/uprobe_target)
check: etrace etrace-asan $(FUZZ_TARGETS) $(HELPERS) etrace.static tests/bin/static/workload $(ARM64_CHECK)
	tests/run-all.sh

# Rewrite the golden files (AST dumps, located errors, code listings) from
# the current binary; review `git diff` before committing.  The suites
# compare and never rewrite otherwise, whatever the environment holds.
update-goldens: etrace
	tests/language/frontend/run.sh --update
	tests/language/semantic/run.sh --update
	tests/language/codegen/run.sh --update
	tests/language/arch/run.sh --update

bench: etrace
	bench/run.sh

install: etrace
	install -D -m 755 etrace $(DESTDIR)$(PREFIX)/bin/etrace
	install -d $(DESTDIR)$(PREFIX)/share/etrace/tools && install -m 644 tools/*.bt $(DESTDIR)$(PREFIX)/share/etrace/tools/
	install -D -m 644 docs/etrace.8 $(DESTDIR)$(PREFIX)/share/man/man8/etrace.8
	install -D -m 644 completion/etrace.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/etrace

# The Debian package (scripts/build-deb.sh, debian/): the static binary,
# tools, man page, bash completion, docs.  `make deb` names its file.
VERSION := $(shell sed -n 's/^\#define ETRACE_VERSION "\(.*\)"$$/\1/p' src/etrace.h)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB := etrace_$(VERSION)_$(DEB_ARCH).deb

deb: $(DEB)

$(DEB): etrace.static scripts/build-deb.sh $(wildcard debian/* tools/*.bt docs/exporter/*) \
        docs/etrace.8 docs/language.md docs/exporter.md README.md completion/etrace.bash
	scripts/build-deb.sh $@

clean:
	rm -rf build etrace etrace-asan etrace.static etrace-arm64 $(FUZZ_TARGETS) tests/bin etrace_*.deb

.PHONY: all check bench install clean fuzz qemu-check qemu-check-arm64 update-goldens deb
-include $(DEPS)
