#!/usr/bin/env python3
"""chrome_check.py FILE [TID NAME]: check a Chrome Trace Event JSON file
written by `etrace convert --to chrome`.

Checks: the file parses; every event has ph, pid, tid (integers) and ts;
per thread, B/E events balance and nest, and X slices nest (each slice
starts after the previous one ends, or lies inside it).  Prints
`slices=N instants=N threads=N` and, with TID, `NAME_on_TID=K` (X slices
named NAME on thread TID) and `thread_name=...` of that thread.  Exits 1
on the first violation, printed."""
import json
import sys

def ns(x):
    return int(round(float(x) * 1000))

data = json.load(open(sys.argv[1]))
events = data['traceEvents']
by_thread = {}
names = {}
instants = 0
for e in events:
    for k in ('ph', 'pid', 'tid'):
        if k not in e:
            sys.exit('event without %s: %r' % (k, e))
    if not isinstance(e['pid'], int) or not isinstance(e['tid'], int):
        sys.exit('non-integer pid/tid: %r' % e)
    if e['ph'] == 'M':
        if e['name'] == 'thread_name':
            names[e['tid']] = e['args']['name']
        continue
    if 'ts' not in e:
        sys.exit('event without ts: %r' % e)
    if e['ph'] in ('X', 'B', 'E'):
        by_thread.setdefault((e['pid'], e['tid']), []).append(e)
    elif e['ph'] == 'i':
        instants += 1
    else:
        sys.exit('unexpected phase %r' % e['ph'])

slices = 0
for key, evs in by_thread.items():
    # B/E: balanced and properly nested, in time order
    stack = []
    for e in sorted((e for e in evs if e['ph'] in 'BE'), key=lambda e: ns(e['ts'])):
        if e['ph'] == 'B':
            stack.append(e)
        elif not stack:
            sys.exit('E without B on thread %r at %s' % (key, e['ts']))
        else:
            stack.pop()
    if stack:
        sys.exit('%d B without E on thread %r' % (len(stack), key))
    # X: each slice inside the enclosing one, or after it
    open_ends = []
    for e in sorted((e for e in evs if e['ph'] == 'X'), key=lambda e: (ns(e['ts']), -ns(e['dur']))):
        if ns(e['dur']) < 0:
            sys.exit('negative dur on thread %r: %r' % (key, e))
        b, end = ns(e['ts']), ns(e['ts']) + ns(e['dur'])
        while open_ends and open_ends[-1] <= b:
            open_ends.pop()
        if open_ends and end > open_ends[-1]:
            sys.exit('X slice %s at %s overlaps its enclosing slice on thread %r' % (e['name'], e['ts'], key))
        open_ends.append(end)
        slices += 1

print('slices=%d instants=%d threads=%d' % (slices, instants, len(names)))
if len(sys.argv) > 3:
    tid, name = int(sys.argv[2]), sys.argv[3]
    k = sum(1 for evs in by_thread.values() for e in evs
            if e['ph'] == 'X' and e['tid'] == tid and e['name'] == name)
    print('%s_on_%d=%d' % (name, tid, k))
    print('thread_name=%s' % names.get(tid, ''))
