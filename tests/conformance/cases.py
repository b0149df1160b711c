"""bpftrace runtime test files: the cases they hold, read as bpftrace's own
test engine reads them (runner.py says how they are run).

A case is a block of lines separated by blank lines; `#` lines are
comments; each line is KEY VALUE.  Engines newer than 0.17 (those whose
parser knows EXPECT_REGEX) also take continuation lines for PROG and
EXPECT, a default TIMEOUT, and read a plain EXPECT as a literal line.
"""

import os
import platform

DEFAULT_TIMEOUT = 5


class Case:
    def __init__(self, suite):
        self.suite = suite
        self.name = ""
        self.run = ""
        self.prog = ""
        self.expects = []  # (mode, text)
        self.timeout = None
        self.befores = []
        self.after = ""
        self.cleanup = ""
        self.kernel_min = ""
        self.kernel_max = ""
        self.requires = []
        self.env = {}
        self.arch = []
        self.features = set()
        self.neg_features = set()
        self.will_fail = False
        self.return_code = None
        self.skip_if_env_has = None
        self.key = ""


# ------------------------------------------------------------------ parsing

def engine_is_new(tests_dir):
    """Newer engines know EXPECT_REGEX; there a plain EXPECT is literal."""
    p = os.path.join(tests_dir, "runtime", "engine", "parser.py")
    try:
        with open(p) as f:
            return "EXPECT_REGEX" in f.read()
    except OSError:
        return False


def parse_block(lines, suite, new_engine, path):
    c = Case(suite)
    prev = ""
    for raw in lines:
        if prev and raw[:len(prev) + 1].isspace() and new_engine:
            cont = raw[len(prev) + 1:].rstrip("\n")
            if prev == "PROG":
                c.prog += "\n" + cont
                continue
            if prev == "EXPECT" and c.expects:
                mode, text = c.expects[-1]
                c.expects[-1] = (mode, text + "\n" + cont)
                continue
        words = raw.split()
        key, val = words[0], " ".join(words[1:])
        prev = key
        if key == "NAME":
            c.name = val
        elif key == "RUN":
            c.run = val
        elif key == "PROG":
            c.prog = val
        elif key == "EXPECT":
            c.expects.append(("text" if new_engine else "regex0", val))
        elif key in ("EXPECT_NONE", "EXPECT_REGEX", "EXPECT_REGEX_NONE"):
            c.expects.append(({"EXPECT_NONE": "text_none", "EXPECT_REGEX": "regex",
                               "EXPECT_REGEX_NONE": "regex_none"}[key], val))
        elif key in ("EXPECT_FILE", "EXPECT_JSON"):
            c.expects.append(("file" if key == "EXPECT_FILE" else "json", val))
        elif key == "TIMEOUT":
            c.timeout = int(val.strip())
        elif key == "BEFORE":
            c.befores.append(val)
        elif key == "AFTER":
            c.after = val
        elif key == "CLEANUP":
            c.cleanup = val
        elif key in ("MIN_KERNEL", "KERNEL_MIN"):
            c.kernel_min = val
        elif key in ("MAX_KERNEL", "KERNEL_MAX"):
            c.kernel_max = val
        elif key == "REQUIRES":
            c.requires.append(val)
        elif key == "ENV":
            for e in val.split():
                k, v = e.split("=", 1)
                c.env[k] = v
        elif key == "ARCH":
            c.arch = [a.strip() for a in val.split("|")]
        elif key == "REQUIRES_FEATURE":
            for f in val.split():
                (c.neg_features if f.startswith("!") else c.features).add(f.lstrip("!"))
        elif key == "WILL_FAIL":
            c.will_fail = True
        elif key == "RETURN_CODE":
            c.return_code = int(val.strip())
        elif key == "SKIP_IF_ENV_HAS":
            k, v = val.split("=", 1)
            c.skip_if_env_has = (k, v)
        elif key == "NEW_PIDNS":
            pass  # not in the 0.17 engine; run in the caller's namespace
        else:
            raise ValueError("%s: unknown field %s in case %r" % (path, key, c.name))
    if not c.name or not (c.run or c.prog):
        raise ValueError("%s: case without NAME or RUN/PROG: %r" % (path, lines[0]))
    if c.timeout is None:
        if not new_engine:
            raise ValueError("%s: case %r has no TIMEOUT" % (path, c.name))
        c.timeout = DEFAULT_TIMEOUT
    return c


def read_suite(path, new_engine):
    suite = os.path.basename(path)
    cases, block = [], []
    with open(path) as f:
        lines = f.readlines()
    for i, line in enumerate(lines):
        if line.startswith("#"):
            continue
        if line != "\n":
            block.append(line)
        if (line == "\n" or i == len(lines) - 1) and block:
            c = parse_block(block, suite, new_engine, path)
            if not c.arch or platform.machine().lower() in c.arch:
                cases.append(c)
            block = []
    return cases


def read_all(tests_dir, new_engine):
    root = os.path.join(tests_dir, "runtime")
    cases = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("engine", "scripts", "outputs"))
        for fn in sorted(files):
            if not fn.startswith("."):
                cases.extend(read_suite(os.path.join(dirpath, fn), new_engine))
    seen = {}
    for c in cases:  # a few suites repeat a NAME: number the repeats
        k = "%s.%s" % (c.suite, c.name)
        seen[k] = seen.get(k, 0) + 1
        c.key = k if seen[k] == 1 else "%s #%d" % (k, seen[k])
    return cases
