#!/bin/sh
# Emit the x86_64 syscall name -> number table as C initialisers, from the
# installed uapi header plus the calls newer than Debian 12's headers
# (numbers checked on the 6.18 kernel with etrace's own __syscall_nr), and
# the tracepoint names that differ from the __NR_ names (newstat is stat).
hdr=${1:-/usr/include/x86_64-linux-gnu/asm/unistd_64.h}
{
  sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$/\1 \2/p' "$hdr"
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
uretprobe 335
newstat 4
newfstat 5
newlstat 6
sendfile64 40
newuname 63
umount 166
NEW
} | sort -u -k1,1 | awk '{ printf "{\"%s\", %s},\n", $1, $2 }'
