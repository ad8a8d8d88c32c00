#!/bin/sh
# What an acknowledgement costs: `deskgate import` of gen-corpus.py N
# (default 500) with every mail acknowledged ([limits] max_mail_per_minute
# and [ack] max_per_hour raised; bench-import.sh's default caps acknowledge
# 600 of 2,000), each binary given in turn on a fresh copy of one home,
# ROUNDS times (default 3), alternated. Prints the CPU ms per message of
# each run and the medians. With PERF=1 also one perf record per binary
# (--call-graph dwarf, PERF_FREQ default 2500) and the share of the samples
# under the acknowledgement's functions (tests/bench/stack-share.py).
# Usage: tests/bench/profile-ack.sh [N] BINARY... (label = the file name)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=500
case "${1:-}" in [0-9]*) n=$1; shift ;; esac
[ $# -ge 1 ] || { echo "usage: $0 [N] BINARY..." >&2; exit 2; }
rounds=${ROUNDS:-3}
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top:$top/contrib}"
work=$(mktemp -d /tmp/dg-profile-ack.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 "$top/tests/bench/gen-corpus.py" "$work/md" "$n" > /dev/null
"$1" init "$work/home0" > /dev/null
sed -i 's/^#max_mail_per_minute = .*/max_mail_per_minute = 1000000/;
	s/^#max_per_hour = .*/max_per_hour = 1000000/' "$work/home0/deskgate.conf"
find "$work/md/new" -type f -exec cat {} + > /dev/null

run() { # binary [wrapper...]
	bin=$1; shift
	rm -rf "$work/home"
	cp -a "$work/home0" "$work/home"
	sed -i "s|$work/home0|$work/home|" "$work/home/deskgate.conf"
	"$@" "$bin" -q -c "$work/home/deskgate.conf" import --no-progress "$work/md" \
		> "$work/import.txt" 2> "$work/import.log"
	acks=$("$bin" -c "$work/home/deskgate.conf" outbox list --limit 1000000 | awk 'NR > 1' | wc -l)
}

echo "profile-ack: $n messages, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
	for b in "$@"; do
		run "$b" /usr/bin/time -f '%U %S' -o "$work/time.txt"
		read -r u s < "$work/time.txt"
		ms=$(python3 -c "print('%.3f' % (($u + $s) * 1000 / $n))")
		echo "$(basename "$b") $ms" >> "$work/runs.txt"
		echo "  round $r $(basename "$b"): $ms CPU ms/message, $acks acks queued (load $(cut -d' ' -f1 /proc/loadavg))"
	done
done
python3 - "$work/runs.txt" <<'PY'
import sys, statistics, collections
runs = collections.OrderedDict()
for line in open(sys.argv[1]):
    b, ms = line.split()
    runs.setdefault(b, []).append(float(ms))
first = None
for b, v in runs.items():
    m = statistics.median(v)
    first = first or m
    print("  %-24s median %.3f CPU ms/message (%s), %.2fx the first" % (b, m, ", ".join("%.3f" % x for x in v), m / first))
PY
if [ "${PERF:-0}" = 1 ]; then
	for b in "$@"; do
		run "$b" perf record -q -o "$work/perf.data" --call-graph dwarf -F "${PERF_FREQ:-2500}"
		perf script -i "$work/perf.data" -F ip,sym 2> /dev/null > "$work/stacks.txt"
		echo "  perf $(basename "$b"): inclusive share of the samples"
		python3 "$top/tests/bench/stack-share.py" "$work/stacks.txt" ack_step queue_ack \
			ack_data_build ack_render design_html clean_body compose_render w_qp \
			deskmail_queue outbox_queue store_message_insert store_event_addf
	done
fi
