#!/usr/bin/env python3
"""check_svg.py FOLDED SVG [MIN_WIDTH_PCT]: the SVG draws the folded stacks.

Rebuilds the frame tree from the folded file independently of etrace and
checks that the SVG holds exactly the frames at least MIN_WIDTH_PCT (0.1)
of the total wide, each with its count, depth and offset, a rect whose x
and width are the count's share of the plot width, a title "NAME (COUNT
UNIT, PCT%)", and the kernel class for names ending in "_[k]".  Prints
one line per problem (at most 20) and exits 1 if there are any.
"""
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'


def tree(path):
    """Map (frame, frame, ...) root first -> total, with child order."""
    totals, kids = {(): 0}, {(): set()}
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if not line.strip():
            continue
        stack, count = line.rsplit(' ', 1)
        frames = tuple(stack.split(';'))
        totals[()] += int(count)
        for i in range(1, len(frames) + 1):
            totals[frames[:i]] = totals.get(frames[:i], 0) + int(count)
            kids.setdefault(frames[:i - 1], set()).add(frames[i - 1])
            kids.setdefault(frames[:i], set())
    return totals, kids


def expected_frames(totals, kids, min_pct):
    """(depth, offset) -> (name, count) of the frames that should be drawn."""
    total = totals[()]
    min_n = max(1.0, min_pct / 100.0 * total)
    out = {(0, 0): ('all', total)}

    def walk(path, offset):
        at = offset
        # siblings in byte order, as the writer sorts them
        for name in sorted(kids[path], key=lambda s: s.encode()):
            p = path + (name,)
            if totals[p] >= min_n:
                out[(len(p), at)] = (name, totals[p])
                walk(p, at)
            at += totals[p]
    walk((), 0)
    return out


def main():
    folded, svg_path = sys.argv[1], sys.argv[2]
    min_pct = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    totals, kids = tree(folded)
    want = expected_frames(totals, kids, min_pct)
    root = ET.parse(svg_path).getroot()
    total = int(root.get('data-total'))
    pad, plotw = float(root.get('data-pad')), float(root.get('data-plotw'))
    problems = []
    if total != totals[()]:
        problems.append('data-total %d, folded total %d' % (total, totals[()]))
    got = {}
    for g in root.iter(NS + 'g'):
        if 'f' not in g.get('class', '').split():
            continue
        d, o, n = int(g.get('data-d')), int(g.get('data-o')), int(g.get('data-n'))
        title = g.find(NS + 'title').text
        name = title[:title.rfind(' (')]
        got[(d, o)] = (name, n)
        unit = 'sample' if n == 1 else 'samples'
        want_title = '%s (%s %s, %.2f%%)' % (name, format(n, ','), unit, 100.0 * n / total)
        if title != want_title:
            problems.append('title %r, expected %r' % (title, want_title))
        rect = g.find(NS + 'rect')
        x, w = float(rect.get('x')), float(rect.get('width'))
        if abs(x - (pad + o / total * plotw)) > 0.001 or abs(w - n / total * plotw) > 0.001:
            problems.append('%s: x %.3f width %.3f, expected %.3f %.3f' %
                            (name, x, w, pad + o / total * plotw, n / total * plotw))
        is_k = 'k' in g.get('class').split()
        if is_k != (d > 0 and name.endswith('_[k]')):
            problems.append('%s: kernel class %s' % (name, is_k))
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            problems.append('depth %d offset %d: svg has %s, folded gives %s' %
                            (key[0], key[1], got.get(key), want.get(key)))
    for p in problems[:20]:
        print(p)
    print('%d frames checked, %d problems' % (len(got), len(problems)))
    sys.exit(1 if problems else 0)


main()
