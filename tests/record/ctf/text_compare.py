#!/usr/bin/env python3
"""text_compare.py BABELTRACE2_TEXT OUR_TEXT: compare `etrace convert --to
text` with babeltrace2's default output, line by line.

One difference is allowed and counted: babeltrace2 2.0.4 prints an empty
string field ("") as a value it printed for that field of that event
earlier (seen on a sys_enter_openat whose filename could not be read: the
stream holds a lone NUL, babeltrace2 shows the path of an earlier event,
from the recycled event object).  A line may differ only that way: ours
has "" in a field where babeltrace2 repeats, exactly, a value both it and
we printed for the same event's same field on an earlier line, and
everything else on the line is equal.  Blanking any
other string is a difference.  Prints `lines=N stale_empty=K` and exits 1
on any other difference."""
import re
import sys

bt = open(sys.argv[1]).read().split('\n')
ours = open(sys.argv[2]).read().split('\n')
if len(bt) != len(ours):
    sys.exit('babeltrace2 printed %d lines, convert %d' % (len(bt), len(ours)))
STR = re.compile(r'"(?:[^"\\]|\\.)*"')
PAIR = re.compile(r'(\w+) = ("(?:[^"\\]|\\.)*")')
EVENT = re.compile(r'^\[[^]]*\] (?:\([^)]*\) )?\S+ ([\w:.-]+): ')
seen = {}  # (event, field) -> the strings printed there so far
stale = 0


def differ(i, a, b, why):
    sys.exit('line %d differs (%s):\n  babeltrace2: %s\n  convert:     %s' % (i + 1, why, a, b))


for i, (a, b) in enumerate(zip(bt, ours)):
    m = EVENT.match(a)
    event = m.group(1) if m else ''
    pa = PAIR.findall(a)
    if a != b:
        pb = PAIR.findall(b)
        if STR.sub('S', a) != STR.sub('S', b) or len(pa) != len(pb):
            differ(i, a, b, 'not only in strings')
        if len(STR.findall(a)) != len(pa):
            differ(i, a, b, 'a string outside a field')
        for (fa, va), (fb, vb) in zip(pa, pb):
            if va == vb:
                continue
            if not (fa == fb and vb == '""' and va != '""' and va in seen.get((event, fa), ())):
                differ(i, a, b, 'field %s: %s, not a repeat of an earlier %s.%s' % (fa, vb, event, fa))
        stale += 1
    for (f, v), (_, w) in zip(pa, PAIR.findall(b)):
        if v == w:
            seen.setdefault((event, f), set()).add(v)
print('lines=%d stale_empty=%d' % (len(ours) - 1, stale))
