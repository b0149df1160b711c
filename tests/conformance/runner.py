#!/usr/bin/env python3
"""Run bpftrace's runtime test cases against a tracer (etrace by default).

The cases are bpftrace's own `tests/runtime/*` files, taken from Debian's
source package at test time (see prepare.sh); nothing of them lives in
this repository.  cases.py reads them and this file runs them, with the
semantics of bpftrace's runtime test engine as written in the engine
shipped in the same source package:

- A case is a block of lines separated by blank lines; `#` lines are comments.
  Keys: NAME, RUN or PROG, EXPECT, TIMEOUT, BEFORE, AFTER, CLEANUP, ENV,
  ARCH, MIN_KERNEL/MAX_KERNEL (KERNEL_MIN/MAX accepted too), REQUIRES,
  REQUIRES_FEATURE, WILL_FAIL, and from newer engines EXPECT_NONE,
  EXPECT_REGEX, EXPECT_REGEX_NONE, EXPECT_FILE, EXPECT_JSON, RETURN_CODE,
  NEW_PIDNS, SKIP_IF_ENV_HAS, continuation lines of PROG/EXPECT.
- Dialect: in engines that know EXPECT_REGEX (newer than 0.17) a plain EXPECT
  is a literal whole line; in older ones (0.17) EXPECT is a regular
  expression searched in the output (multi-line mode, except after a
  timeout, where 0.17 searches without it).
- `{{BPFTRACE}}` in RUN (and a leading `bpftrace` word) becomes the tracer;
  PROG becomes `TRACER -e 'PROG'`.  `{{BEFORE_PID}}` becomes the pid of the
  BEFORE program, found among the BEFORE shell's own descendants (never a
  system-wide lookup by name).
- The tracer runs through /bin/sh with only the engine's environment (the
  test name, __BPFTRACE_NOTIFY_PROBES_ATTACHED=1, the case's ENV), in its own
  process group, stdout and stderr merged.  Until the tracer prints the line
  `__BPFTRACE_NOTIFY_PROBES_ATTACHED` it has 5 s; from that line the case's
  TIMEOUT runs and AFTER starts.  On a timeout the group gets SIGTERM (then
  SIGKILL after a grace period) and the output so far is still checked.  A
  non-zero exit fails the case unless WILL_FAIL (or it timed out).
- REQUIRES commands run with the machine's PATH; a non-zero exit skips the
  case.  REQUIRES_FEATURE reads the tracer's `--info` like the engine does.
- Processes are signalled only by process group id of groups this runner
  created (each case's tracer, BEFORE and AFTER run in their own session);
  an AFTER command's `$(pidof bpftrace)` becomes the pid of the case's own
  tracer (found in its session by executable) and `pkill -SIG bpftrace`
  becomes `kill -SIG` of that pid; a RUN line's `$(pidof PROG)` of the
  BEFORE program becomes that program's pid.  Nothing is looked up or
  signalled by name.

Outcome against the expected-failure list (expected-failures.txt, lines
`suite.case<TAB or 2+ spaces>reason`):
- pass, not listed            -> PASS
- fail, listed                -> SKIP "expected failure: REASON" (known)
- fail, not listed            -> FAIL (a regression, or a new case)
- pass, listed                -> FAIL "passes now: remove it from the list".
  Decided so that the list only ever shrinks with the work that fixes a
  case; the fix's commit updates the list in the same change.
- listed with a reason starting "flaky:" -> either outcome is accepted
  (PASS or the SKIP above), for cases whose result depends on timing on a
  busy machine.
- skipped (REQUIRES, feature, kernel version, arch) -> SKIP.
Lines are tests/lib.sh's (PLAN first: one line per case, plus one per
stale list entry).  The closing line is `N passed, M failed, K skipped`
followed by how many of the skipped are expected failures and how many
passing cases ended by their timeout rather than on their own; the exit
status is 1 when M > 0.

Parallelism (--jobs, default 2): whole suites run side by side, the cases
of one suite one after another (they share /tmp files and test programs).
A case whose command traces every exec on the machine (execve, process
exec/fork tracepoints) runs alone, since another case's BEFORE/AFTER
commands would be the exec it sees.  Timeouts are the engine's own.

--record FILE writes `suite.case<TAB>pass|fail|skip<TAB>detail` for every
case, which is how the list is (re)built and how bpftrace itself is measured.
"""

import argparse
import fnmatch
import json
import os
import platform
import re
import select
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from cases import engine_is_new, read_all

ATTACH_TIMEOUT = 5.0
KILL_GRACE = 3.0
NOTIFY = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"


# ------------------------------------------------------------- environment

def version_tuple(v):
    out = []
    for part in re.findall(r"\d+|[a-zA-Z]+", v):
        out.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return out


def tracer_features(tracer):
    """The engine's reading of `bpftrace --info`."""
    try:
        out = subprocess.run([tracer, "--info"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30,
                             universal_newlines=True, errors="replace").stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    probes = {
        "loop": "Loop support: yes",
        "probe_read_kernel": "probe_read_kernel: yes",
        "btf": "btf: yes",
        "kfunc": "kfunc: yes",
        "dpath": "dpath: yes",
        "uprobe_refcount": re.compile(r"uprobe refcount[^:\n]*: yes"),
        "signal": "send_signal: yes",
        "iter:task": "iter:task: yes",
        "iter:task_file": "iter:task_file: yes",
        "iter": "iter:task: yes",
        "libpath_resolv": "bcc library path resolution: yes",
        "dwarf": "libdw (DWARF support): yes",
        "kprobe_multi": "kprobe_multi: yes",
        "uprobe_multi": "uprobe_multi: yes",
        "skboutput": "skboutput: yes",
        "get_tai_ns": "get_ktime_ns: yes",
        "get_func_ip": "get_func_ip: yes",
        "jiffies64": "jiffies64: yes",
    }
    # bpftrace labels its refcount line after its bcc build; etrace names
    # the kernel feature alone: either spelling counts.
    feats = {k: bool(s.search(out)) if hasattr(s, "search") else (s in out)
             for k, s in probes.items()}
    feats["aot"] = False
    return feats


# ------------------------------------------------------------------ running

def popen_group(cmd, env=None, cwd=None, out=subprocess.DEVNULL):
    return subprocess.Popen(cmd, shell=True, cwd=cwd, env=env, stdout=out,
                            stderr=subprocess.STDOUT if out == subprocess.PIPE else out,
                            start_new_session=True)


def kill_group(p, sig=signal.SIGKILL):
    if p is None:
        return
    try:
        os.killpg(p.pid, sig)  # the session this runner created for p
    except ProcessLookupError:
        pass


def session_pid_named(sid, name):
    """A process of session `sid` whose command name is `name`."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[3]) == sid and comm == name[:15]:
            return int(d)
    return None


def session_pid_of_exe(sid, exe):
    """A process of session `sid` running the executable `exe`."""
    want = os.path.realpath(exe)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            if int(st[st.rindex(")") + 2:].split()[3]) != sid:
                continue
            if os.path.realpath("/proc/%s/exe" % d) == want:
                return int(d)
        except (OSError, ValueError):
            continue
    return None


PIDOF_TRACER = re.compile(r"\$\(pidof bpftrace\)|`pidof bpftrace`")
PKILL_TRACER = re.compile(r"\bpkill\s+(-\S+\s+)?bpftrace\b")
PIDOF_ANY = re.compile(r"\$\(pidof ([\w.-]+)\)")


def tracer_by_pid(cmd, pid):
    """The case's own commands name the tracer by pid, never by name:
    `$(pidof bpftrace)` and `pkill [-SIG] bpftrace` would reach every
    bpftrace on this shared machine."""
    cmd = PIDOF_TRACER.sub(str(pid), cmd)

    def kill(m):  # /bin/sh's kill wants `-s NAME` (no SIG prefix) or `-NUM`
        sig = (m.group(1) or "-TERM").strip().lstrip("-")
        sig = sig[3:] if sig.upper().startswith("SIG") else sig
        return "kill -%s %d" % (sig, pid) if sig.isdigit() else "kill -s %s %d" % (sig, pid)
    return PKILL_TRACER.sub(kill, cmd)


def read_until(p, buf, deadline, stop_at_notify):
    """Append p's output to buf until EOF, the deadline, or (optionally) the
    notify line.  Returns 'eof', 'timeout' or 'notify'."""
    fd = p.stdout.fileno()
    while True:
        if stop_at_notify and (NOTIFY + "\n").encode() in buf:
            return "notify"
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                return "eof"
            buf += chunk


def check_expect(mode, text, output, tests_dir, timed_out):
    if mode == "regex0":  # 0.17: EXPECT is a regex; multi-line unless timed out
        return re.search(text, output, 0 if timed_out else re.M) is not None
    if mode == "regex":
        return re.search(text, output, re.M) is not None
    if mode == "regex_none":
        return re.search(text, output, re.M) is None
    line = r"^\s*" + re.escape(text) + r"\s*$"
    if mode == "text":
        return re.search(line, output, re.M) is not None
    if mode == "text_none":
        return re.search(line, output, re.M) is None
    body = "\n".join(l for l in output.splitlines() if l != NOTIFY)
    with open(os.path.join(tests_dir, text)) as f:
        want = f.read()
    if mode == "file":
        return body.strip() == want.strip()
    try:  # json: one document, or NDJSON line by line
        return json.loads(body) == json.loads(want)
    except ValueError:
        try:
            got = [json.loads(l) for l in body.splitlines() if l.strip()]
            exp = [json.loads(l) for l in want.splitlines() if l.strip()]
            return got == exp
        except ValueError:
            return False


class Runner:
    def __init__(self, tracer, tests_dir, features):
        self.tracer = tracer
        self.tests_dir = tests_dir
        self.features = features
        self.kernel = version_tuple(platform.release())

    def command(self, c):
        if c.run:
            cmd = c.run.replace("{{BPFTRACE}}", self.tracer)
            return re.sub(r"^bpftrace(?=\s)", self.tracer, cmd)
        return "%s -e '%s'" % (self.tracer, c.prog)

    def skip_reason(self, c):
        if c.kernel_min and version_tuple(c.kernel_min) > self.kernel:
            return "kernel older than %s" % c.kernel_min
        if c.kernel_max and version_tuple(c.kernel_max) < self.kernel:
            return "kernel newer than %s" % c.kernel_max
        if c.skip_if_env_has and os.environ.get(c.skip_if_env_has[0]) == c.skip_if_env_has[1]:
            return "environment has %s=%s" % c.skip_if_env_has
        for req in c.requires:
            r = subprocess.run(req, shell=True, cwd=self.tests_dir, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
            if r.returncode != 0:
                return "unmet condition: %s" % req
        for f in c.features:
            if not self.features.get(f, False):
                return "tracer lacks feature %s" % f
        for f in c.neg_features:
            if self.features.get(f, False):
                return "tracer has feature %s" % f
        return None

    def start_befores(self, c):
        """Start BEFORE programs; wait (up to TIMEOUT) until each runs.
        Returns (processes, pid of the last one's program, error)."""
        procs, pid = [], None
        for before in c.befores:
            p = popen_group(before, cwd=self.tests_dir)
            procs.append(p)
            name = os.path.basename(before.split()[-1])
            deadline = time.monotonic() + c.timeout
            while True:
                pid = session_pid_named(p.pid, name)
                if pid:
                    break
                if time.monotonic() > deadline or p.poll() is not None:
                    return procs, None, "BEFORE %r did not start" % before
                time.sleep(0.1)
        return procs, pid, None

    def run(self, c):
        """Returns (outcome, detail, output): outcome pass|fail|skip."""
        why = self.skip_reason(c)
        if why:
            return "skip", why, ""
        befores, after, p = [], None, None
        cmd = self.command(c)
        buf = bytearray()
        timed_out = False
        try:
            befores, bpid, err = self.start_befores(c)
            if err:
                return "fail", err, ""
            if bpid:
                cmd = cmd.replace("{{BEFORE_PID}}", str(bpid))
                # `$(pidof PROG)` of the BEFORE program: its pid, not a lookup
                cmd = PIDOF_ANY.sub(lambda m: str(bpid) if m.group(1) == os.path.basename(
                    c.befores[-1].split()[-1]) else m.group(0), cmd)
            env = {"test": c.name, NOTIFY: "1",
                   "__BPFTRACE_NOTIFY_AOT_PORTABILITY_DISABLED": "1"}
            env.update(c.env)
            p = popen_group(cmd, env=env, cwd=self.tests_dir, out=subprocess.PIPE)
            how = read_until(p, buf, time.monotonic() + ATTACH_TIMEOUT, True)
            if how == "notify":
                if c.after:
                    # `$(pidof bpftrace)` would signal every bpftrace on the
                    # machine: it becomes the pid of this case's tracer.
                    tpid = session_pid_of_exe(p.pid, self.tracer) or p.pid
                    after = popen_group(tracer_by_pid(c.after, tpid), cwd=self.tests_dir)
                how = read_until(p, buf, time.monotonic() + c.timeout, False)
            if how == "timeout":
                timed_out = True
                kill_group(p, signal.SIGTERM)
                read_until(p, buf, time.monotonic() + KILL_GRACE, False)
            kill_group(p)
            try:
                p.wait(timeout=KILL_GRACE)
            except subprocess.TimeoutExpired:
                pass
        finally:
            for b in befores:
                kill_group(b)
            kill_group(after)
            for q in befores + [after]:
                if q:
                    try:
                        q.wait(timeout=KILL_GRACE)
                    except subprocess.TimeoutExpired:
                        pass
            if c.cleanup:
                subprocess.run(c.cleanup, shell=True, cwd=self.tests_dir,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        output = buf.decode("utf-8", "replace")
        rc = p.returncode
        if c.return_code is not None and not timed_out and rc != c.return_code:
            return "fail", "exit code %s, expected %d" % (rc, c.return_code), output
        if c.return_code is None and rc != 0 and not c.will_fail and not timed_out:
            return "fail", "exit code %s" % rc, output
        for mode, text in c.expects:
            if not check_expect(mode, text, output, self.tests_dir, timed_out):
                return "fail", ("timed out; " if timed_out else "") + \
                    "expected %s %r" % (mode.rstrip("0"), text), output
        return "pass", "timed out, output matched" if timed_out else "", output


# ------------------------------------------------------------------- report

EXCLUSIVE = re.compile(r"execve|sched_process_exec|sched_process_fork")


class SharedGate:
    """Many shared holders or one exclusive holder at a time."""

    def __init__(self):
        self.cv = threading.Condition()
        self.shared = 0
        self.exclusive = False
        self.waiting = 0

    def enter(self, alone):
        with self.cv:
            if alone:
                self.waiting += 1
                self.cv.wait_for(lambda: not self.exclusive and self.shared == 0)
                self.waiting -= 1
                self.exclusive = True
            else:
                self.cv.wait_for(lambda: not self.exclusive and self.waiting == 0)
                self.shared += 1

    def leave(self, alone):
        with self.cv:
            if alone:
                self.exclusive = False
            else:
                self.shared -= 1
            self.cv.notify_all()


def read_expected(path):
    exp = {}
    if not path or not os.path.exists(path):
        return exp
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = re.split(r"\t+| {2,}", line, maxsplit=1)
            exp[parts[0].strip()] = parts[1].strip() if len(parts) > 1 else ""
    return exp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tracer", required=True)
    ap.add_argument("--tests", required=True, help="dir with runtime/ testprogs/ testlibs/")
    ap.add_argument("--expected", help="expected-failure list")
    ap.add_argument("--record", help="write every case's outcome here")
    ap.add_argument("--log", help="write failing cases' command and output here")
    ap.add_argument("--filter", default="*", help="glob on suite.case")
    ap.add_argument("--jobs", type=int, default=2, help="suites run in parallel")
    ap.add_argument("--prefix", default="conformance/")
    a = ap.parse_args()

    new_engine = engine_is_new(a.tests)
    cases = [c for c in read_all(a.tests, new_engine) if fnmatch.fnmatch(c.key, a.filter)]
    expected = read_expected(a.expected)
    runner = Runner(os.path.abspath(a.tracer), a.tests, tracer_features(a.tracer))
    results = {}
    lock = threading.Lock()
    log = open(a.log, "w") if a.log else None
    counts = {"pass": 0, "fail": 0, "skip": 0, "xfail": 0}

    def report(c, outcome, detail, output):
        reason = expected.get(c.key)
        name = a.prefix + c.key
        flaky = reason is not None and reason.startswith("flaky:")
        if outcome == "skip":
            line, k = "SKIP %s: %s" % (name, detail), "skip"
        elif outcome == "pass" and reason is None:
            line, k = "PASS %s" % name, "pass"
        elif outcome == "pass" and flaky:
            line, k = "PASS %s" % name, "pass"
        elif outcome == "pass":
            line, k = "FAIL %s: passes now, remove it from expected-failures.txt" % name, "fail"
        elif reason is not None:
            line, k = "SKIP %s: expected failure: %s" % (name, reason), "xfail"
        else:
            line, k = "FAIL %s: %s" % (name, detail), "fail"
        with lock:
            counts[k] += 1
            results[c.key] = (outcome, detail)
            print(line, flush=True)
            if log and outcome == "fail":
                log.write("== %s\n%s\ncommand: %s\n%s\n" % (c.key, detail, runner.command(c), output))

    stale = sorted(set(expected) - {c.key for c in cases}) if a.filter == "*" else []
    print("PLAN %d" % (len(cases) + len(stale)), flush=True)
    suites = {}
    for c in cases:
        suites.setdefault(c.suite, []).append(c)

    # Cases that trace every exec on the machine run alone: another case's
    # BEFORE/AFTER commands would be the exec they see.
    gate = SharedGate()

    def run_suite(suite_cases):  # cases of one suite share files: one at a time
        for c in suite_cases:
            alone = EXCLUSIVE.search(runner.command(c)) is not None
            gate.enter(alone)
            try:
                outcome, detail, output = runner.run(c)
            except Exception as e:  # a broken case is a failing case, never a crash
                outcome, detail, output = "fail", "runner error: %s" % e, ""
            finally:
                gate.leave(alone)
            report(c, outcome, detail, output)

    # Longest suites first so the two workers finish together.
    order = sorted(suites.values(), key=lambda s: -sum(c.timeout for c in s))
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        list(pool.map(run_suite, order))

    for key in stale:
        print("FAIL %s%s: listed in expected-failures.txt but no such case" % (a.prefix, key))
        counts["fail"] += 1
    if a.record:
        with open(a.record, "w") as f:
            for c in cases:
                o, d = results.get(c.key, ("fail", "not run"))
                f.write("%s\t%s\t%s\n" % (c.key, o, d))
    print("%d passed, %d failed, %d skipped" % (counts["pass"], counts["fail"],
                                               counts["skip"] + counts["xfail"]))
    print("(%d of the skipped are listed expected failures)" % counts["xfail"])
    # newer engines end a program on its own where 0.17 waited for the
    # case's timeout: how many passes still needed it
    timed = sum(1 for o, d in results.values() if o == "pass" and d.startswith("timed out"))
    print("(%d of the passing cases ended by their timeout)" % timed)
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
