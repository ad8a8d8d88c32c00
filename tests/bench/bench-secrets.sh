#!/bin/sh
# Cost of the secret detectors and attachment sniffing against the whole
# ingest: N generated support mails (gen-corpus.py, default 2,000) are
# imported by `deskgate import` (its user+system CPU time is the reference,
# measured in the same run), then bench-secrets times secrets_scan() over
# every subject, text and HTML body and sniff_bytes() over every
# attachment of the same mail. Prints ns per byte and the share of ingest
# CPU (goal: <= 5% for the whole feature).
# Usage: tests/bench/bench-secrets.sh [N]   (BUILD=build dir, default ./build)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-2000}
build=${BUILD:-$top/build}
dg=$build/deskgate
# Uninstalled: the default rules and templates of the source tree.
DESKGATE_DATADIR=${DESKGATE_DATADIR:-$top:$top/contrib}
export DESKGATE_DATADIR
bs=$build/tests/bench/bench-secrets
[ -x "$bs" ] || (cd "$build" && make -s tests/bench/bench-secrets)
work=$(mktemp -d /tmp/dg-bench-secrets.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 "$top/tests/bench/gen-corpus.py" "$work/md" "$n" > /dev/null
"$dg" init "$work/home" > /dev/null
find "$work/md" -type f -exec cat {} + > /dev/null
/usr/bin/time -f '%U %S' -o "$work/time.txt" \
	"$dg" -q -c "$work/home/deskgate.conf" import --no-progress "$work/md" > /dev/null 2> "$work/import.err"
read -r u s < "$work/time.txt"
"$bs" "$work/md" 2 > "$work/bs.txt"
python3 - "$n" "$u" "$s" "$work/bs.txt" <<'PY'
import sys
n, u, s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
kv = {}
for line in open(sys.argv[4]):
    f = line.split()
    for k, v in zip(f[0::2], f[1::2]):
        kv[k] = float(v)
ingest = u + s
det = kv["secrets_s"] + kv["sniff_s"]
print("bench-secrets: %d messages, %.1f MB raw, %.1f MB of text scanned, %d attachments"
      % (kv["messages"], kv["raw_bytes"] / 1e6, kv["text_bytes"] / 1e6, kv["attachments"]))
print("  deskgate import (reference): %.2f s CPU  %.0f us/msg" % (ingest, ingest * 1e6 / n))
print("  secrets_scan:  %.3f s  %.1f ns/byte of text  %.1f us/msg" % (kv["secrets_s"], kv["secrets_ns_per_text_byte"], kv["secrets_us_per_msg"]))
print("  sniff_bytes:   %.3f s  %.1f us/msg" % (kv["sniff_s"], kv["sniff_us_per_msg"]))
print("  MIME parse (for scale): %.3f s" % kv["parse_s"])
print("  share of ingest CPU: secrets %.1f%%, sniff %.1f%%, together %.1f%% (goal <= 5%%)"
      % (100 * kv["secrets_s"] / ingest, 100 * kv["sniff_s"] / ingest, 100 * det / ingest))
print("  spans found: %d, attachments flagged: %d (the generated mail has no secret)"
      % (kv["spans_found"], kv["attachments_flagged"]))
PY
