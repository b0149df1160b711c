#!/bin/sh
# Emit the arm64 syscall name -> number table as C initialisers.  arm64
# uses the generic table (asm-generic/unistd.h, as arch/arm64's uapi
# unistd.h includes it with the __ARCH_WANT_ switches below): no open,
# stat or fork, only openat, newfstatat, clone.  The host's copy of that
# header serves (it is the same on every architecture), preprocessed as a
# 64-bit arm64 would: each __NR_name gives a name, and each
# __SYSCALL(nr, sys_NAME) adds the name the kernel's tracepoints use
# (sys_enter_newfstatat for __NR_fstatat).  Calls newer than Debian 12's
# headers are appended: their numbers are the same on every architecture.
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
  cat <<'NEW'
cachestat 451
fchmodat2 452
map_shadow_stack 453
futex_wake 454
futex_wait 455
futex_requeue 456
statmount 457
listmount 458
lsm_get_self_attr 459
lsm_set_self_attr 460
lsm_list_modules 461
mseal 462
setxattrat 463
getxattrat 464
listxattrat 465
removexattrat 466
open_tree_attr 467
file_getattr 468
file_setattr 469
NEW
} | sort -u -k1,1 | awk '{ printf "{\"%s\", %s},\n", $1, $2 }'
