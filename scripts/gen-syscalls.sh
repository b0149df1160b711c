#!/bin/sh
# Emit the x86_64 syscall name -> number table as C initialisers, from the
# installed uapi header plus the calls newer than Debian 12's headers
# (scripts/syscalls-newer.txt), x86-64's own newer call (uretprobe), and
# the tracepoint names that differ from the __NR_ names (newstat is stat).
hdr=${1:-/usr/include/x86_64-linux-gnu/asm/unistd_64.h}
{
  sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$/\1 \2/p' "$hdr"
  grep -v '^#' "$(dirname "$0")/syscalls-newer.txt"
  cat <<'NEW'
uretprobe 335
newstat 4
newfstat 5
newlstat 6
sendfile64 40
newuname 63
umount 166
NEW
} | sort -u -k1,1 | awk '{ printf "{\"%s\", %s},\n", $1, $2 }'
