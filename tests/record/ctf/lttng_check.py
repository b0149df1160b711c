#!/usr/bin/env python3
"""lttng_check.py CONTRACT METADATA: check a trace's TSDL metadata against
the LTTng kernel contract (tests/record/ctf/lttng-kernel.txt).  Prints one line per
mismatch and exits 1 if any; also checks the env block."""
import re
import sys

contract, metadata = sys.argv[1], sys.argv[2]
text = open(metadata).read()
errors = []

env = re.search(r'^env \{(.*?)^\};', text, re.S | re.M)
want_env = {'domain': '"kernel"', 'tracer_name': '"lttng-modules"', 'tracer_major': '2',
            'tracer_minor': '13', 'tracer_patchlevel': '0'}
envs = dict(re.findall(r'^\t(\w+) = (.*);$', env.group(1), re.M)) if env else {}
for k, v in want_env.items():
    if envs.get(k) != v:
        errors.append('env %s = %s, expected %s' % (k, envs.get(k), v))

def kind(decl):
    """The contract type of one TSDL field declaration."""
    if decl.startswith('string'):
        return 'string'
    m = re.match(r'integer \{([^}]*)\} _(\w+)(\[(\d+)\]|\[ (\w+) \])?$', decl)
    if not m:
        return None
    attrs = dict(a.strip().split(' = ') for a in m.group(1).split(';') if '=' in a)
    base = ('i' if attrs.get('signed') == 'true' else 'u') + attrs.get('size', '?')
    if m.group(4):
        if attrs.get('encoding') == 'UTF8' and attrs.get('size') == '8':
            return 'text' + m.group(4)
        return base + '[' + m.group(4) + ']'
    if m.group(5):
        return 'seq-' + base
    return base

events = {}
for m in re.finditer(r'^event \{\n\tname = "([^"]+)";(.*?)^\};', text, re.S | re.M):
    fields = {}
    for decl in re.findall(r'^\t\t(.*);$', m.group(2), re.M):
        name = re.search(r' _(\w+)(\[[^\]]*\])?$', decl)
        if name and not decl.startswith('uint16_t '):
            fields[name.group(1)] = kind(decl)
    events[m.group(1)] = fields

for line in open(contract):
    if not line.strip() or line.startswith('#'):
        continue
    ev, field, typ = line.split()
    if ev not in events:
        errors.append('no event class %s' % ev)
    elif field != '-' and events[ev].get(field) != typ:
        errors.append('%s.%s is %s, expected %s' % (ev, field, events[ev].get(field), typ))
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
