# Sourced by the guest scripts (tests/env/qemu/guest.sh,
# tests/env/qemu-arm64/guest.sh) inside the booted kernel; GUEST names the
# suite in the result lines ("qemu", "qemu-arm64").  Each case prints one
# "PASS GUEST/NAME" or "FAIL GUEST/NAME" line on the serial console, and
# the first lines of etrace's output ("out NAME: ...", kept in console.txt).
ET=/etrace
T=/tmp

# check NAME WANT-STATUS EXPECTED-REGEX ETRACE-ARGS...: run etrace; the case
# passes when it exits 0 (WANT-STATUS ok) or non-zero (fails) and prints a
# line matching the regex.
check() {
  name=$1 status=$2 want=$3; shift 3
  timeout 120 $ET "$@" > $T/$name.out 2>&1
  rc=$?
  if { [ $status = ok ] && [ $rc -eq 0 ]; } || { [ $status = fails ] && [ $rc -ne 0 ]; }; then
    if grep -q -- "$want" $T/$name.out; then
      echo "PASS $GUEST/$name"
      sed "s/^/out $name: /" $T/$name.out | head -10
      return
    fi
  fi
  if [ $status = ok ]; then
    echo "FAIL $GUEST/$name (exit status $rc; wanted /$want/)"
  else
    echo "FAIL $GUEST/$name (exit status $rc; wanted an error /$want/)"
  fi
  sed 's/^/#   /' $T/$name.out | head -30
}

# t NAME EXPECTED-REGEX ETRACE-ARGS...: etrace succeeds and prints that line.
t() { _n=$1 _w=$2; shift 2; check "$_n" ok "$_w" "$@"; }

# tfail NAME EXPECTED-REGEX ETRACE-ARGS...: etrace fails with that message.
tfail() { _n=$1 _w=$2; shift 2; check "$_n" fails "$_w" "$@"; }
