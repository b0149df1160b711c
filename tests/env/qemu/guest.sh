#!/bin/sh
# Runs inside the qemu-booted Debian kernel (see run.sh): kernel-function
# probes end to end on a kernel that has them.  The workload helper makes
# known system calls, so the kernel functions behind them are called with
# known arguments and return known values:
#   workload read 12345 5   5 x vfs_read(file, buf, count = 12345, pos) = 12345
#   workload open PATH 3    3 x do_sys_openat2(dfd = AT_FDCWD (-100), ...),
#                           returning -ENOENT (-2) for a missing PATH
# One "PASS qemu/NAME" / "FAIL qemu/NAME" line per check on the console.
export PATH=/bin:/
GUEST=qemu
. /guest-lib.sh
WL=/workload

echo "# guest kernel $(uname -r)"

# kprobe: arguments from pt_regs, func
t kprobe_args '^@\[vfs_read, 12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'kprobe:vfs_read /pid == cpid && arg2 == 12345/ { @[func, arg2] = count(); }'
t kprobe_printf '^read 12345 from vfs_read$' -q -c "$WL read 12345 1" \
  -e 'k:vfs_read /pid == cpid && arg2 == 12345/ { printf("read %d from %s\n", arg2, func); }'
# kprobe wildcard over available_filter_functions
t kprobe_wildcard '^@\[vfs_read\]: 5$' -q -c "$WL read 12345 5" \
  -e 'k:vfs_rea* /pid == cpid && arg2 == 12345/ { @[func] = count(); }'
# kretprobe: the return value
t kretprobe_retval '^@\[12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'kretprobe:vfs_read /pid == cpid/ { @[retval] = count(); }'
# fentry: arguments by name from BTF, and by number
t fentry_args '^@\[12345, 12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'fentry:vfs_read /pid == cpid/ { @[args.count, arg2] = count(); }'
# a pointer argument followed through kernel structs (BTF types):
# /dev/zero is device 1:5, i_rdev = 1 << 20 | 5
t fentry_struct_chain '^@\[1048581\]: 5$' -q -c "$WL read 12345 5" \
  -e 'f:vfs_read /pid == cpid && args.count == 12345/ { @[args->file->f_inode->i_rdev] = count(); }'
t fentry_func_probe '^@\[vfs_read, fentry:vmlinux:vfs_read\]: 5$' -q -c "$WL read 12345 5" \
  -e 'f:vfs_read /pid == cpid && args.count == 12345/ { @[func, probe] = count(); }'
t fentry_signed_arg '^@\[-100\]: 3$' -q -c "$WL open /nonexistent 3" \
  -e 'f:do_sys_openat2 /pid == cpid/ { @[args->dfd] = count(); }'
# fexit: arguments and the typed return value
t fexit_retval '^@\[12345, 12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'fexit:vfs_read /pid == cpid/ { @[args.count, retval] = count(); }'
t fexit_negative_retval '^@\[-100, -2\]: 3$' -q -c "$WL open /nonexistent 3" \
  -e 'kretfunc:do_sys_openat2 /pid == cpid/ { @[args.dfd, retval] = count(); }'
# fentry falls back to a kprobe where the kernel refuses fentry (it
# denies migrate_disable, which its trampolines call themselves)
t fentry_falls_back_to_kprobe 'fentry:vmlinux:migrate_disable: using a kprobe, since fentry is not available' \
  -v -q -c "$WL sleep 100" -e 'f:migrate_disable { @ = count(); }'
# -v says which hook was chosen
t hook_fentry_reported 'fentry:vmlinux:vfs_read: using fentry' -v -q -c "$WL read 1 1" \
  -e 'f:vfs_read /pid == cpid/ { @ = count(); }'
t hook_kprobe_reported 'kprobe:vfs_read: using kprobe' -v -q -c "$WL read 1 1" \
  -e 'k:vfs_read /pid == cpid/ { @ = count(); }'

# syscall tracepoints: one probe alone in its direction on the raw
# tracepoint (arguments read from pt_regs; exit tests the number read
# from the registers), two in one direction through the dispatcher
t syscall_enter_alone '^@\[/nonexistent, 0\]: 3$' -q -c "$WL open /nonexistent 3" \
  -e 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[str(args->filename), args->flags] = count(); }'
t syscall_exit_alone '^@\[12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_exit_read /pid == cpid/ { @[args->ret] = count(); }'
t syscall_dispatched '^@r\[12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid/ { @r[args->count] = count(); }
      tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @o = count(); }'
t syscall_exit_dispatched '^@x\[12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_exit_read /pid == cpid/ { @x[args->ret] = count(); }
      tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @o = count(); }'
# where BTF has btf_trace_sys_enter they load as tp_btf (plain loads from
# the typed struct pt_regs *); ETRACE_NO_TP_BTF=1 forces raw_tp
t syscall_tp_btf_reported 'tracepoint:syscalls:sys_exit_read: attached as tp_btf' -v -q \
  -c "$WL read 1 1" -e 'tracepoint:syscalls:sys_exit_read /pid == cpid/ { @ = count(); }'
export ETRACE_NO_TP_BTF=1
t syscall_raw_tp_forced '^@x\[12345, 12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid/ { @c[tid] = args->count; }
      tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @o = count(); }
      tracepoint:syscalls:sys_exit_read /pid == cpid/ { @x[@c[tid], args->ret] = count(); }
      tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @o = count(); }'
unset ETRACE_NO_TP_BTF
# lost events are counted in the .drops array value: map-full totals,
# the ring buffer's per CPU
t map_full_counted '^etrace: 904 map updates failed' -q -c "$WL getppid 5000" \
  -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @m[@i] = 1; @i++; }'
export ETRACE_RINGBUF_KB=4
t ringbuf_drops_counted '^etrace: lost [0-9]* events: the ring buffer was full' -q -c "$WL getppid 20000" \
  -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%s %s %s\n", comm, comm, comm); }'
unset ETRACE_RINGBUF_KB

# Value programs load (their workloads do not run here: --verify); a
# "// ENV:" header line sets the tracer's environment (ETRACE_NO_TP_BTF=1)
for bt in /values/*.bt; do
  name=$(basename $bt .bt)
  env=$(sed -n 's|^// ENV: *||p' $bt)
  if env $env timeout 60 $ET --verify -c "$WL getppid 1" $bt > $T/v_$name.out 2>&1; then
    echo "PASS qemu/verifier/values/$name"
  else
    echo "FAIL qemu/verifier/values/$name"; sed 's/^/#   /' $T/v_$name.out | tail -20
  fi
done

# The golden code-generation programs load: the verifier accepts them.
for bt in /codegen/*.bt; do
  name=$(basename $bt .bt)
  if timeout 60 $ET --verify $bt > $T/v_$name.out 2>&1; then
    echo "PASS qemu/verifier/$name"
  else
    echo "FAIL qemu/verifier/$name"; sed 's/^/#   /' $T/v_$name.out | tail -20
  fi
done
