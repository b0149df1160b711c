#!/bin/sh
# Runs inside Debian's arm64 kernel booted by run.sh: etrace's arm64
# register table (pt_regs x0..x30, sp, pc, orig_x0, syscallno), arm64's
# syscall numbers, aarch64 USDT specs, kernel-function probes and stacks,
# end to end.  The helpers make known calls with known arguments:
#   workload read 12345 5      5 x read(100, buf, 12345) from /dev/zero
#   workload open PATH 3       3 x openat(AT_FDCWD (-100), PATH) = -ENOENT
#   workload getppid 7         7 x getppid (arm64: number 173)
#   uprobe_target add N        ut_add(i, 10 * i) = 11 * i, i = 1..N
#   uprobe_target many N       ut_many(i .. i + 7): eight register args
#   uprobe_target usdt N       USDT ut:tick(i, -i, i * 10^12): "-4@x0 -4@x1 -8@x2"
#   uprobe_target konst N      USDT ut:konst(5, ut_global = 7 * N): "-4@5 -8@[x1, 8]"
#   stack_target spin MS       main -> st_spin_outer -> st_spin_middle -> st_spin_leaf
#   stack_target call N        main -> st_caller -> st_probe_me(k)
# One "PASS qemu-arm64/NAME" / "FAIL qemu-arm64/NAME" line per check.
export PATH=/bin:/
GUEST=qemu-arm64
. /guest-lib.sh
WL=/workload
UT=/uprobe_target
ST=/stack_target

echo "# guest kernel $(uname -r) $(uname -m)"

# BEGIN through BPF_PROG_TEST_RUN, printf through the ring buffer
t begin_printf '^hello 42$' -e 'BEGIN { printf("hello %d\n", 42); exit(); }'

# syscalls:* through the dispatcher: arm64 numbers, arguments by name
# (the first from orig_x0), the return value at exit
# (dfd is an int in a 64-bit slot: the register's low half is AT_FDCWD)
t syscall_openat_args '^@\[4294967196, /nonexistent\]: 3$' -q -c "$WL open /nonexistent 3" \
  -e 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[args.dfd & 0xffffffff, str(args.filename)] = count(); }'
t syscall_exit_ret '^@\[-2\]: 3$' -q -c "$WL open /nonexistent 3" \
  -e 'tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @[args.ret] = count(); }'
t syscall_read_count '^@\[100, 12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid && args.count == 12345/ { @[args.fd, args.count] = count(); }'
t syscall_exit_read_ret '^@\[12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_exit_read /pid == cpid && args.ret == 12345/ { @[args.ret] = count(); }'
# two exit probes go through the dispatcher, which reads the 32-bit
# syscallno; tp_btf where BTF has the tracepoint, raw_tp when forced
t syscall_exit_dispatched '^@x\[12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_exit_read /pid == cpid/ { @x[args.ret] = count(); }
      tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @o = count(); }'
t syscall_tp_btf_reported 'tracepoint:syscalls:sys_exit_read: attached as tp_btf' -v -q \
  -c "$WL read 1 1" -e 'tracepoint:syscalls:sys_exit_read /pid == cpid/ { @ = count(); }'
export ETRACE_NO_TP_BTF=1
t syscall_raw_tp_forced '^@x\[12345, 12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid/ { @c[tid] = args.count; }
      tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @o = count(); }
      tracepoint:syscalls:sys_exit_read /pid == cpid/ { @x[@c[tid], args.ret] = count(); }
      tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @o = count(); }'
t syscall_raw_tp_exit_alone '^@\[-2\]: 3$' -q -c "$WL open /nonexistent 3" \
  -e 'tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @[args.ret] = count(); }'
unset ETRACE_NO_TP_BTF
# raw_syscalls: getppid is 173 in the generic table (110 on x86-64)
t raw_syscalls_id '^@\[173\]: 7$' -q -c "$WL getppid 7" \
  -e 'tracepoint:raw_syscalls:sys_enter /pid == cpid && args.id == 173/ { @[args.id] = count(); }'
# the generic table has no open(2): the error names the call to use
tfail no_open_syscall 'no tracepoint syscalls:sys_enter_open (aarch64 has no open system call: use sys_enter_openat)' \
  -e 'tracepoint:syscalls:sys_enter_open { @ = count(); }'
t printf_comm '^workload read 12345$' -q -c "$WL read 12345 1" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid && args.count == 12345/ { printf("%s read %d\n", comm, args.count); }'

# maps: hist and lhist
t hist '^\[8K, 16K) *5 |' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid && args.count == 12345/ { @ = hist(args.count); }'
t lhist '^\[10000, 15000) *5 |' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid && args.count == 12345/ { @ = lhist(args.count, 0, 20000, 5000); }'

# uprobe / uretprobe: x0..x7, retval x0, reg() by arm64 name
t uprobe_args '^@\[3, 30\]: 1$' -q -c "$UT add 3" \
  -e "uprobe:$UT:ut_add { @[arg0, arg1] = count(); }"
t uprobe_eight_args '^@\[2, 5, 9\]: 1$' -q -c "$UT many 2" \
  -e "uprobe:$UT:ut_many { @[arg0, arg3, arg7] = count(); }"
t uretprobe_retval '^@\[33\]: 1$' -q -c "$UT add 3" \
  -e "uretprobe:$UT:ut_add { @[retval] = count(); }"
t uprobe_reg_x1 '^@\[20\]: 1$' -q -c "$UT add 3" \
  -e "uprobe:$UT:ut_add { @[reg(\"x1\")] = count(); }"
t uprobe_reg_pc '^@: 3$' -q -c "$UT add 3" \
  -e "uprobe:$UT:ut_add /reg(\"pc\") != 0 && reg(\"sp\") != 0/ { @ = count(); }"

# arm64 has no legacy probe_read: str() of an argument in a uprobe reads
# user memory, and a pointer cast from an integer in BEGIN (no known
# address space) kernel memory (address 0: nothing, the program loads)
t str_uprobe_user_memory '^\[hello\] \[hel\]$' -q -c "$UT greet hello" \
  -e "uprobe:$UT:ut_greet { printf(\"[%s] [%s]\\n\", str(arg0), str(arg0, 4)); }"
t any_space_begin_reads '^\[\] 0 \\x00$' -q \
  -e 'BEGIN { printf("[%s] %d %r\n", str(0), ((struct task_struct *)0)->pid, buf(0, 1)); exit(); }'
# USDT with aarch64 specs: registers, a constant, a memory operand
t usdt_reg '^@\[3000000000000\]: 1$' -q -c "$UT usdt 3" \
  -e "usdt:$UT:ut:tick /arg2 > 2000000000000/ { @[arg2] = count(); }"
t usdt_mem '^@\[21\]: 3$' -q -c "$UT konst 3" \
  -e "usdt:$UT:ut:konst { @[arg1] = count(); }"
# signed 4-byte arguments ("-4@x0", "-4@x1"): sign-extended in the program
# (with shifts: a movsx, BPF cpu v4, needs kernel 6.6)
t usdt_signed_4byte '^@\[3, -3\]: 1$' -q -c "$UT usdt 3" \
  -e "usdt:$UT:ut:tick /arg0 == 3/ { @[arg0, arg1] = count(); }"

# kprobe / kretprobe: arguments and return value from arm64's pt_regs
t kprobe_args '^@\[vfs_read, 12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'kprobe:vfs_read /pid == cpid && arg2 == 12345/ { @[func, arg2] = count(); }'
t kretprobe_retval '^@\[12345\]: 5$' -q -c "$WL read 12345 5" \
  -e 'kretprobe:vfs_read /pid == cpid/ { @[retval] = count(); }'
# arm64's syscall entry points are __arm64_sys_NAME
t kprobe_arm64_sys '^@: 7$' -q -c "$WL getppid 7" \
  -e 'kprobe:__arm64_sys_getppid /pid == cpid/ { @ = count(); }'

# fentry / fexit: arm64 kernels before 6.4 have no ftrace direct calls, so
# the program loads but its trampoline cannot attach: a clear error
tfail fentry_unsupported 'this kernel cannot attach fentry/fexit trampolines.*use kprobe:vfs_read' \
  -q -c "$WL read 12345 1" -e 'fentry:vfs_read /pid == cpid/ { @[args.count] = count(); }'
# BTF types through a kprobe argument: /dev/zero is device 1:5,
# i_rdev = 1 << 20 | 5
t kprobe_btf_chain '^@\[1048581\]: 5$' -q -c "$WL read 12345 5" \
  -e 'k:vfs_read /pid == cpid && arg2 == 12345/ { @[((struct file *)arg0)->f_inode->i_rdev] = count(); }'

# BTF struct access through curtask
t curtask_btf '^@\[workload\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid && args.count == 12345/ { @[curtask->comm] = count(); }'

t curtask_tgid '^@\[1\]: 5$' -q -c "$WL read 12345 5" \
  -e 'tracepoint:syscalls:sys_enter_read /pid == cpid && args.count == 12345/ { @[curtask->tgid == pid] = count(); }'

# stacks: a symbolised kernel stack (the arm64 syscall path) and user
# stacks from a uprobe and from profile
t kstack_kprobe 'el0_svc' -q -c "$WL read 12345 1" \
  -e 'kprobe:vfs_read /pid == cpid && arg2 == 12345/ { @[kstack] = count(); }'
# (at a leaf function's entry the caller is only in x30, which the
# kernel's frame-record walk does not read: st_probe_me, then main)
t ustack_uprobe '^ *st_probe_me+0$' -q -c "$ST call 2" \
  -e "uprobe:$ST:st_probe_me { @[ustack] = count(); }"
t profile_ustack 'st_spin_middle' -q -c "$ST spin 1500" \
  -e 'profile:hz:49 /pid == cpid/ { @[ustack] = count(); }'

# etrace record: a CTF trace, sent to the host (run.sh reads it back
# with babeltrace2) as base64 between two marker lines
if timeout 120 $ET record -o $T/trace -c "$WL open /nonexistent 3" \
     'syscalls:sys_enter_openat' > $T/record.out 2>&1; then
  echo "ETRACE-CTF-BEGIN"
  tar -C $T -c trace | gzip | base64
  echo "ETRACE-CTF-END"
else
  echo "# record failed:"; sed 's/^/#   /' $T/record.out | head -20
fi
