#!/bin/sh
# Runs inside Debian's arm64 kernel booted by run.sh: etrace's arm64
# register table, syscall table and USDT specs end to end.
export PATH=/bin:/
ET=/etrace
T=/tmp
# t NAME EXPECTED-REGEX ETRACE-ARGS...: run etrace, look for a line.
t() {
  name=$1 want=$2; shift 2
  timeout 120 $ET "$@" > $T/$name.out 2>&1
  rc=$?
  if [ $rc -eq 0 ] && grep -q -- "$want" $T/$name.out; then
    echo "PASS qemu-arm64/$name"
    sed "s/^/out $name: /" $T/$name.out | head -10  # kept in console.txt
  else
    echo "FAIL qemu-arm64/$name (exit status $rc; wanted /$want/)"
    sed 's/^/#   /' $T/$name.out | head -30
  fi
}
echo "# guest kernel $(uname -r) $(uname -m)"
t begin_printf '^hello 42$' -e 'BEGIN { printf("hello %d\n", 42); exit(); }'
