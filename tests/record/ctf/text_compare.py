#!/usr/bin/env python3
"""text_compare.py BABELTRACE2_TEXT OUR_TEXT: compare `etrace convert --to
text` with babeltrace2's default output, line by line.

One difference is allowed and counted: babeltrace2 2.0.4 prints an empty
string field ("") as the last non-empty value it printed for that field
(seen on a sys_enter_openat whose filename could not be read: the stream
holds a lone NUL, babeltrace2 shows the previous event's path).  A line
differs only that way when ours has "" where babeltrace2 has a string and
the lines are otherwise equal.  Prints `lines=N stale_empty=K` and exits 1
on any other difference."""
import re
import sys

bt = open(sys.argv[1]).read().split('\n')
ours = open(sys.argv[2]).read().split('\n')
if len(bt) != len(ours):
    sys.exit('babeltrace2 printed %d lines, convert %d' % (len(bt), len(ours)))
STR = re.compile(r'"(?:[^"\\]|\\.)*"')
stale = 0
for i, (a, b) in enumerate(zip(bt, ours)):
    if a == b:
        continue
    sa, sb = STR.findall(a), STR.findall(b)
    if (STR.sub('S', a) == STR.sub('S', b) and len(sa) == len(sb) and
            all(x == y or y == '""' for x, y in zip(sa, sb))):
        stale += 1
        continue
    sys.exit('line %d differs:\n  babeltrace2: %s\n  convert:     %s' % (i + 1, a, b))
print('lines=%d stale_empty=%d' % (len(ours) - 1, stale))
