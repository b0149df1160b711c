#!/bin/sh
# in_cgroup.sh NAME CMD [ARG...]: runs CMD in a new cgroup NAME of the
# cgroup v2 hierarchy, then moves back to the caller's cgroup and removes
# NAME.  Exit status: CMD's, or 77 when no cgroup v2 hierarchy is mounted.
name=$1; shift
root=$(awk '$1 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$root" ] || { echo "in_cgroup.sh: no cgroup2 mount" >&2; exit 77; }
back=$root$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir -p "$root/$name" || exit 1
echo $$ > "$root/$name/cgroup.procs" || { rmdir "$root/$name"; exit 1; }
"$@"
rc=$?
echo $$ > "$back/cgroup.procs"
rmdir "$root/$name"
exit $rc
