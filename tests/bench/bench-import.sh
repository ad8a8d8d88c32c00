#!/bin/sh
# Ingest throughput: `deskgate import` of an N-message maildir (default
# 10,000) into a fresh store, with `cat` over the same files in the same run
# as the reference. Prints messages/s, the time ratio deskgate/cat, peak
# RSS, the CPU ms per message and the disk the store takes per input byte
# (state directory: database, WAL, blob files; du's allocated blocks, so a
# 2 KB file counts as the 4 KB it occupies). The import's log (acks refused
# by the rate limit) goes to a file, the count of its warnings is printed. Usage: tests/bench/bench-import.sh [N] (DESKGATE=path/to/deskgate)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10000}
dg=${DESKGATE:-$top/build/deskgate}
# Run uninstalled from a fresh build: rules and templates from the source tree.
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top:$top/contrib}"
work=$(mktemp -d /tmp/dg-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 "$top/tests/bench/gen-corpus.py" "$work/md" "$n" > "$work/gen.txt"
bytes=$(du -sb "$work/md" | cut -f1)
"$dg" init "$work/home" > /dev/null

# Warm the page cache for both contenders.
find "$work/md/new" -type f -exec cat {} + > /dev/null

t0=$(date +%s.%N)
find "$work/md/new" -type f -exec cat {} + > /dev/null
t1=$(date +%s.%N)
/usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" \
	"$dg" -q -c "$work/home/deskgate.conf" import --no-progress "$work/md" > "$work/import.txt" 2> "$work/import.log"
read -r dg_secs dg_rss dg_user dg_sys < "$work/time.txt"
in_kb=$(du -sk "$work/md" | cut -f1)
store_kb=$(du -sk "$work/home" | cut -f1)
warnings=$(grep -c 'warning:' "$work/import.log" || true)
cat_secs=$(echo "$t1 - $t0" | bc -l 2>/dev/null || python3 -c "print($t1 - $t0)")

python3 - "$n" "$bytes" "$cat_secs" "$dg_secs" "$dg_rss" "$work/import.txt" "$dg_user" "$dg_sys" \
	"$in_kb" "$store_kb" "$warnings" <<'PY'
import sys
n, size, cat_s, dg_s, rss = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print("bench-import: %d messages, %.1f MB" % (n, size / 1e6))
print("  cat (reference):   %7.2f s  %9.0f msg/s" % (cat_s, n / cat_s))
print("  deskgate import:   %7.2f s  %9.0f msg/s  peak RSS %.1f MB" % (dg_s, n / dg_s, rss / 1024))
print("  ratio deskgate/cat time: %.1fx" % (dg_s / cat_s))
# CPU time is what a loaded machine distorts least (wall time counts the
# waits for other processes' turn on the cores).
cpu = float(sys.argv[7]) + float(sys.argv[8])
print("  deskgate CPU: %.2f s user+sys, %.3f ms per message" % (cpu, cpu * 1000 / n))
in_kb, store_kb = int(sys.argv[9]), int(sys.argv[10])
print("  disk: input %.1f MB, store %.1f MB: %.2fx the input (%.1f KB per message)"
      % (in_kb / 1024, store_kb / 1024, store_kb / in_kb, store_kb / n))
print("  " + open(sys.argv[6]).read().strip())
print("  log: %s warnings (acks over [limits] max_mail_per_minute)" % sys.argv[11])
PY
