#!/usr/bin/env python3
"""Inclusive share of perf samples per function: `perf script -F ip,sym`
output (one stack per sample, leaf first, blank line between), then the
function names. A sample counts once for a function however often the
function is on its stack. Usage: stack-share.py STACKS FUNC..."""
import sys

samples, cur = [], []
for line in open(sys.argv[1], errors="replace"):
    s = line.strip()
    if not s:
        if cur:
            samples.append(cur)
            cur = []
        continue
    parts = s.split(None, 1)
    cur.append((parts[1] if len(parts) > 1 else parts[0]).split("+")[0].replace(" (inlined)", ""))
if cur:
    samples.append(cur)
total = len(samples) or 1
print("    %d samples" % len(samples))
for f in sys.argv[2:]:
    n = sum(1 for st in samples if f in st)
    print("    %-24s %5.1f%%" % (f, 100.0 * n / total))
