#!/usr/bin/env python3
"""corrupt.py SRC DST N: N damaged copies of trace SRC, DST1 .. DSTN, the
damage of copy k chosen by seed k: random bytes of the stream files
overwritten, a file cut at a random point, or a metadata line mangled.
For robustness tests of the reader (one process: Python starts slowly)."""
import os
import random
import shutil
import sys

def damage(src, dst, seed):
    rnd = random.Random(seed)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    streams = sorted(f for f in os.listdir(dst) if f != 'metadata' and os.path.getsize(os.path.join(dst, f)) > 0)
    kind = seed % 3
    if kind == 0 and streams:
        path = os.path.join(dst, rnd.choice(streams))
        data = bytearray(open(path, 'rb').read())
        for _ in range(rnd.randint(1, 20)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        open(path, 'wb').write(data)
    elif kind == 1 and streams:
        path = os.path.join(dst, rnd.choice(streams))
        os.truncate(path, rnd.randrange(os.path.getsize(path)))
    else:
        path = os.path.join(dst, 'metadata')
        lines = open(path).read().split('\n')
        i = rnd.randrange(len(lines))
        line = lines[i]
        j = rnd.randrange(len(line) + 1)
        lines[i] = line[:j] + rnd.choice(['', '}', ' x', '[', '"', ';']) + line[j + 1:]
        open(path, 'w').write('\n'.join(lines))

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for k in range(1, n + 1):
    damage(src, dst + str(k), k)
