#!/bin/sh
# sniff-compare: two deskgate binaries give every attachment the same
# sniffed MIME type, verdict and reason (`deskgate parse --json`), over the
# messages of the given maildirs or directories of .eml files (default: the
# shared corpora, bench-imap's mailbox (mkmail.py --size mixed --seed 7,
# 1,000 messages) and gen-corpus.py's 500). Then checks, over N random
# buffers (default 3000, 1 B-300 KiB) and the attachments parse found, the
# inference sniff_bytes() makes: libmagic's description "data" means its
# MIME type is application/octet-stream. Not part of make check.
#
#   tests/bench/sniff-compare.sh OLD_DESKGATE NEW_DESKGATE [DIR...]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
old=$1 new=$2
shift 2
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top:$top/contrib}"
work=$(mktemp -d /tmp/dg-sniff-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
	mkdir -p "$work/mk/tmp" "$work/mk/new" "$work/mk/cur"
	python3 "$top/tests/harness/mkmail.py" --count 1000 --size mixed --seed 7 \
		--maildir "$work/mk" > /dev/null
	python3 "$top/tests/bench/gen-corpus.py" "$work/gc" 500 > /dev/null
	set -- "$top/../shared/corpora" "$work/mk" "$work/gc"
fi
find "$@" -type f ! -name '*.md' ! -name '*.txt' ! -name '*.json' | sort > "$work/files"
python3 - "$old" "$new" "$work" <<'PY'
import json, os, random, subprocess, sys
old, new, work = sys.argv[1:4]
def atts(dg, path):
    p = subprocess.run([dg, "parse", path, "--json"], capture_output=True)
    if p.returncode != 0:
        return None
    try:
        d = json.loads(p.stdout)
    except ValueError:
        return None
    return [(a.get("filename"), a.get("size"), a.get("sniffed_type"), a.get("verdict"),
             a.get("reason")) for a in d.get("attachments") or []]
n_msg = n_att = n_diff = 0
kinds = {}
for line in open(work + "/files"):
    path = line.strip()
    a, b = atts(old, path), atts(new, path)
    n_msg += 1
    if a != b:
        n_diff += 1
        print("DIFFERENT: %s\n  old %r\n  new %r" % (path, a, b))
    for x in a or []:
        n_att += 1
        kinds[x[3]] = kinds.get(x[3], 0) + 1
print("sniff-compare: %d messages, %d attachments (%s), %d differ"
      % (n_msg, n_att, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), n_diff))
# The inference: description "data" => MIME type application/octet-stream.
rnd = random.Random(18)
os.makedirs(work + "/rand")
names = []
for i in range(int(os.environ.get("N", "3000"))):
    n = rnd.choice([rnd.randint(1, 64), rnd.randint(64, 4096), rnd.randint(4096, 300 * 1024)])
    name = "%s/rand/%05d" % (work, i)
    with open(name, "wb") as f:
        f.write(rnd.randbytes(n))
    names.append(name)
def ask(flags):
    p = subprocess.run(["file", "-b", "-n"] + flags + ["-f", "-"], input="\n".join(names) + "\n",
                       capture_output=True, text=True, check=True)
    return p.stdout.splitlines()
desc, mime = ask([]), ask(["--mime-type"])
bad = [(n, d, m) for n, d, m in zip(names, desc, mime) if d == "data" and m != "application/octet-stream"]
print("inference over %d random buffers: %d described as data, %d of them not application/octet-stream"
      % (len(names), sum(d == "data" for d in desc), len(bad)))
for b in bad[:10]:
    print("  COUNTER-EXAMPLE %s: %s / %s" % b)
sys.exit(1 if n_diff or bad else 0)
PY
