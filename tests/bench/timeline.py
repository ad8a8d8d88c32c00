#!/usr/bin/env python3
"""timeline: the time line of one `deskgate -v run --once` from its log
(profile-imap.sh). Sums the per-batch phases that poller-sync.c logs at
debug level (fetch, of it ingest, begin, commit, mark: wall, CPU, waiting
for a core, blocked) and places them between the run's first and last log
line (start-up: connect, login, SELECT, SEARCH; the end: schedule and
outbox drain, exit).

Usage: timeline.py RUN_LOG [WALL_SECONDS_FROM_TIME]
"""
import collections
import datetime
import re
import sys

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})")
PHASE = re.compile(r"batch of (\d+)(?: uid \S+)?: (?:of the fetch, )?(\w+) ([\d.]+) ms \(cpu ([\d.]+), "
                   r"waiting for a core ([\d.]+), blocked (-?[\d.]+)\)")
DRAIN = re.compile(r"--once: schedule and outbox drain ([\d.]+) ms \(cpu ([\d.]+), waiting for a "
                   r"core ([\d.]+), blocked (-?[\d.]+)\)")


def t(line):
    m = STAMP.match(line)
    return datetime.datetime.fromisoformat(m.group(1)).timestamp() if m else None


def main():
    sums = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    batches = 0
    first = last = first_batch = None
    with open(sys.argv[1], errors="replace") as f:
        for line in f:
            ts = t(line)
            if ts is None:
                continue
            first = first if first is not None else ts
            last = ts
            m = PHASE.search(line)
            if m:
                if m.group(2) == "fetch":
                    batches += 1
                for k, g in enumerate((3, 4, 5, 6)):
                    sums[m.group(2)][k] += float(m.group(g)) / 1e3
                continue
            m = DRAIN.search(line)
            if m:
                for k, g in enumerate((1, 2, 3, 4)):
                    sums["drain"][k] += float(m.group(g)) / 1e3
            if "new message(s) above uid" in line and first_batch is None:
                first_batch = ts
    print("%d batches; log from first to last line %.2f s%s" %
          (batches, last - first, "; /usr/bin/time wall %s s" % sys.argv[2] if len(sys.argv) > 2 else ""))
    if first_batch is not None:
        print("  %-34s %7.2f s" % ("start-up (config, store, connect, SEARCH)", first_batch - first))
    print("  %-34s %7s   %7s %7s %7s" % ("phase (sum over batches)", "wall", "cpu", "core", "blocked"))
    for ph in ("begin", "fetch", "ingest", "commit", "mark", "drain"):
        if ph in sums:
            w, c, r, b = sums[ph]
            name = "  of it ingest (in the callback)" if ph == "ingest" else ph
            print("  %-34s %7.2f s %7.2f %7.2f %7.2f" % (name, w, c, r, b))
    if "fetch" in sums and "ingest" in sums:
        w = sums["fetch"][0] - sums["ingest"][0]
        c = sums["fetch"][1] - sums["ingest"][1]
        r = sums["fetch"][2] - sums["ingest"][2]
        print("  %-34s %7.2f s %7.2f %7.2f %7.2f" % ("  of it IMAP (libetpan, waiting)", w, c, r, w - c - r))


main()
