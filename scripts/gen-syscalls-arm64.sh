#!/bin/sh
# Emit the arm64 syscall name -> number table as C initialisers.  arm64
# uses the generic table (asm-generic/unistd.h, as arch/arm64's uapi
# unistd.h includes it with the __ARCH_WANT_ switches below): no open,
# stat or fork, only openat, newfstatat, clone.  The host's copy of that
# header serves (it is the same on every architecture), preprocessed as a
# 64-bit arm64 would: each __NR_name gives a name, and each
# __SYSCALL(nr, sys_NAME) adds the name the kernel's tracepoints use
# (sys_enter_newfstatat for __NR_fstatat).  Calls newer than Debian 12's
# headers are appended from scripts/syscalls-newer.txt.
CC=${HOSTCC:-cc}
hdr=${1:-/usr/include/asm-generic/unistd.h}
wants='#define __ARCH_WANT_RENAMEAT
#define __ARCH_WANT_NEW_STAT
#define __ARCH_WANT_SET_GET_RLIMIT
#define __ARCH_WANT_TIME32_SYSCALLS
#define __ARCH_WANT_SYS_CLONE3
#define __ARCH_WANT_MEMFD_SECRET
#define __BITS_PER_LONG 64'
names=$(sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' "$hdr" | grep -v '^syscalls$' | sort -u)
{
  {
    printf '%s\n' "$wants"
    printf '#define __SYSCALL(nr, call) @@ call nr\n'
    printf '#include "%s"\n' "$hdr"
    for n in $names; do printf '@@ %s __NR_%s\n' "$n" "$n"; done
  } | $CC -E -P -x c - 2>/dev/null |
    sed -n 's/^ *@@ \(sys_\)\{0,1\}\([a-z0-9_]*\) \([0-9][0-9]*\) *$/\2 \3/p' |
    grep -v '^ni_syscall '
  grep -v '^#' "$(dirname "$0")/syscalls-newer.txt"
} | sort -u -k1,1 | awk '{ printf "{\"%s\", %s},\n", $1, $2 }'
