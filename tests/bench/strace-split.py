#!/usr/bin/env python3
"""strace-split: where the wall time of a traced process goes (profile-imap.sh).

Reads `strace -f -tt -T` output and sums, per thread, the time spent inside
system calls by kind: waiting for the IMAP server (reads and select/poll on
the IMAP socket), writing to it, flushing to disk (fsync, fdatasync, syncfs),
the SMTP relay (its socket and connect), the store's file I/O, the rest.
What a thread's wall span leaves over is its own CPU (or waiting for a
core: on a loaded machine the two cannot be told apart here). Also counts
the IMAP commands written, by name.

Usage: strace-split.py STRACE_OUT IMAP_PORT [SMTP_PORT (default 25)]
"""
import collections
import re
import sys

LINE = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+)\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
DUR = re.compile(r"<(\d+\.\d+)>\s*$")
FIRST_FD = re.compile(r"^\[?\{?(?:fd=)?(\d+)")


def ts(h, m, s):
    return int(h) * 3600 + int(m) * 60 + float(s)


def main():
    path, imap_port = sys.argv[1], sys.argv[2]
    smtp_port = sys.argv[3] if len(sys.argv) > 3 else "25"
    fdkind = collections.defaultdict(dict)  # pid -> fd -> kind (threads share: use one map)
    kinds = {}  # fd -> kind, process-wide (threads share descriptors)
    pending = {}  # pid -> (call, args) of an unfinished call
    span = {}  # pid -> [first, last]
    sums = collections.defaultdict(lambda: collections.defaultdict(float))
    counts = collections.defaultdict(lambda: collections.defaultdict(int))
    commands = collections.Counter()
    sock_pending = {}  # pid -> fd of a socket() not yet connected

    def kind_of(call, args):
        if call in ("fsync", "fdatasync", "syncfs", "sync_file_range", "sync"):
            return "disk flush"
        if call in ("connect",):
            if '"127.0.0.1"' in args or "inet_addr" in args or "sin6_port" in args:
                m = re.search(r"htons\((\d+)\)", args)
                port = m.group(1) if m else ""
                return "imap" if port == imap_port else "smtp" if port == smtp_port else "net other"
            return "other"
        m = FIRST_FD.match(args)
        if call in ("select", "pselect6"):
            m = re.match(r"\d+,\s*\[(\d+)", args)
        elif call in ("poll", "ppoll"):
            m = re.match(r"\[\{fd=(\d+)", args)
        if m:
            return kinds.get(m.group(1), "other fd")
        return "other"

    def account(pid, call, args, rest_for_dur, t):
        d = DUR.search(rest_for_dur)
        dur = float(d.group(1)) if d else 0.0
        k = kind_of(call, args)
        if call == "connect":
            m = FIRST_FD.match(args)
            if m and k in ("imap", "smtp"):
                kinds[m.group(1)] = k
        if call in ("openat", "open"):
            m = re.search(r'"([^"]*)"', args)
            r = re.search(r"=\s*(\d+)", rest_for_dur)
            if m and r:
                name = m.group(1)
                kinds[r.group(1)] = ("store db" if re.search(r"\.db(-wal|-shm|-journal)?$", name)
                                     else "store blob/tmp" if "/blobs" in name or "/tmp" in name
                                     else "file")
        if call == "close":
            m = FIRST_FD.match(args)
            if m:
                kinds.pop(m.group(1), None)
        if k == "imap" and call in ("write", "sendto", "writev", "sendmsg"):
            m = re.match(r'\d+,\s*"(?:[A-Za-z0-9]+ )?((?:UID )?[A-Z]+)', args)
            if m:
                commands[m.group(1)] += 1
        label = k
        if k == "imap":
            label = "imap: wait/read" if call in ("read", "recvfrom", "recvmsg", "select",
                                                 "pselect6", "poll", "ppoll") else "imap: write/other"
        sums[pid][label] += dur
        counts[pid][label] += 1
        sums[pid]["(calls) " + call] += dur
        counts[pid]["(calls) " + call] += 1

    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            pid, t, rest = m.group(1), ts(m.group(2), m.group(3), m.group(4)), m.group(5)
            s = span.setdefault(pid, [t, t])
            s[1] = t
            r = RESUMED.match(rest)
            if r:
                call = r.group(1)
                args = pending.pop(pid, (call, ""))[1]
                account(pid, call, args, r.group(2), t)
                continue
            c = CALL.match(rest)
            if not c:
                continue
            call, args = c.group(1), c.group(2)
            if "<unfinished ...>" in rest:
                pending[pid] = (call, args)
                continue
            account(pid, call, args, args, t)

    for pid in sorted(span, key=lambda p: span[p][0]):
        wall = span[pid][1] - span[pid][0]
        if wall <= 0:
            continue
        print("thread %s: %.2f s from its first to its last system call" % (pid, wall))
        main_kinds = [k for k in sums[pid] if not k.startswith("(calls)")]
        blocked = sum(sums[pid][k] for k in main_kinds)
        for k in sorted(main_kinds, key=lambda k: -sums[pid][k]):
            print("  %-22s %8.2f s %5.1f%%  %7d calls" % (k, sums[pid][k], 100 * sums[pid][k] / wall,
                                                       counts[pid][k]))
        print("  %-22s %8.2f s %5.1f%%  (own CPU, or waiting for a core)" %
              ("outside system calls", wall - blocked, 100 * (wall - blocked) / wall))
        calls = sorted((k for k in sums[pid] if k.startswith("(calls)")), key=lambda k: -sums[pid][k])
        print("  top calls: " + ", ".join("%s %.2f s/%d" % (k[8:], sums[pid][k], counts[pid][k])
                                         for k in calls[:8]))
    print("IMAP commands written: " + ", ".join("%s %d" % kv for kv in commands.most_common()))


main()
