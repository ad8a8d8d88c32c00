#!/bin/bash
# profile-imap: where the time of one `deskgate run --once` goes, on the
# mailbox of bench-imap.sh (same seed, same Dovecot set-up). Not part of
# make check. Usage, from the source tree (build in build/):
#
#   tests/bench/profile-imap.sh [COUNT]      (default 2000)
#
# Seeds COUNT messages (mkmail.py --size mixed --seed 7), then, each on a
# fresh store with \Seen cleared, acknowledgements on (the default):
#   1. mbsync FSync=no, timed: the reference of the same run;
#   2. deskgate -v run --once, timed: its log (timestamps to the ms) gives
#      the time line of the batches (gw-log/run.log);
#   3. deskgate under strace -f -tt -T (strace.out), summarised per system
#      call and per descriptor kind: time blocked reading the IMAP socket,
#      in fsync/fdatasync/syncfs, on the SMTP socket, the rest;
#   4. deskgate under perf record -g (perf.data; report by symbol);
#   5. mbsync FSync=no under strace -f -c, for comparison.
# PROFILE="log strace perf mbsync-strace" picks steps (default all; also
# log-noack and log-big, and timed runs for medians: mbsync-no,
# mbsync-yes, q, q-old with DESKGATE_OLD; a step may repeat);
# ACK=no turns acknowledgements off; MAILBOX_CONF="batch_size = 2000" adds
# lines to the [mailbox] section; DESKGATE=/path picks the binary.
# Everything stays in PROFILE_DIR (default /tmp/profile-imap) for reading.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	if [ -x ./deskgate ]; then top_builddir=.; else top_builddir=$top_srcdir/build; fi
fi
top_builddir=$(cd "$top_builddir" && pwd)
: "${DESKGATE:=$top_builddir/deskgate}"
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top_srcdir:$top_srcdir/contrib}"
COUNT=${1:-2000}
PROFILE=${PROFILE:-log strace perf mbsync-strace}
OUT=${PROFILE_DIR:-/tmp/profile-imap}
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/dovecot.sh"
dg_root_init profile-imap
dg_require_cmd dovecot doveadm mbsync python3 sqlite3 strace perf /usr/bin/time
rm -rf "$OUT"
mkdir -p "$OUT"
USER1=support@example.test
dg_dovecot_adduser "$USER1" secret
dg_dovecot_start
MAILDIR=$(dg_maildir "$USER1")
echo "seeding $COUNT messages..."
python3 "$top_srcdir/tests/harness/mkmail.py" --count "$COUNT" --size mixed --seed 7 \
	--maildir "$MAILDIR" --owner "$(id -u "$DG_MAIL_USER"):$(id -g "$DG_MAIL_USER")" ||
	dg_fail mkmail
dg_doveadm mailbox status -u "$USER1" "messages vsize" INBOX || dg_fail "doveadm status"
cat "$MAILDIR"/cur/* "$MAILDIR"/new/* >/dev/null 2>&1
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

clear_seen() {
	dg_doveadm flags remove -u "$USER1" '\Seen' mailbox INBOX all || dg_fail "clear flags"
}

secs() { # NAME: wall seconds from /usr/bin/time -v's output
	sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/$1.time" |
		awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'
}

mbsync_rc() { # DIR
	mkdir -p "$1/local"
	cat >"$1/rc" <<EOF
FSync no
IMAPAccount bench
Host localhost
Port $DG_IMAP_PORT
User $USER1
Pass secret
SSLType None

IMAPStore remote
Account bench

MaildirStore local
Path $1/local/
Inbox $1/local/INBOX

Channel bench
Far :remote:INBOX
Near :local:INBOX
Sync Pull New
Create Near
SyncState *
EOF
}

gw_home() { # DIR
	rm -rf "$1"
	"$DESKGATE" init "$1" >/dev/null 2>&1 || dg_fail "deskgate init"
	cat >>"$1/deskgate.conf" <<EOF

[mailbox support]
host = localhost
port = $DG_IMAP_PORT
security = none
username = $USER1
password = secret
${MAILBOX_CONF:-}
EOF
	[ "${ACK:-yes}" = no ] && sed -i '/^\[ack\]/a enabled = no' "$1/deskgate.conf"
	return 0
}

# cpu NAME: user + system seconds from /usr/bin/time -v's output
cpu() {
	awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$OUT/$1.time"
}

# record KIND NAME: one timed run's line in runs.txt (for the medians)
record() {
	echo "$1 $(secs "$2") $(cpu "$2") $(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/runs.txt"
}

# gw_run NAME WRAPPER...: deskgate -v run --once on a fresh store, timed
# (GW_BIN and GW_LOG pick another binary and -q)
gw_run() {
	local name=$1
	shift
	gw_home "$OUT/gw-$name"
	clear_seen
	/usr/bin/time -v -o "$OUT/$name.time" "$@" "${GW_BIN:-$DESKGATE}" "${GW_LOG:--v}" \
		-c "$OUT/gw-$name/deskgate.conf" run --once >"$OUT/$name.log" 2>&1
	echo "  deskgate $name: exit $?, $(secs "$name") s, CPU $(cpu "$name") s, load $(cut -d' ' -f1 /proc/loadavg)"
}

# mbsync_timed NAME FSYNC: mbsync into a fresh maildir, timed
mbsync_timed() {
	rm -rf "$OUT/mbsync/local/INBOX"
	sed -i "s/^FSync .*/FSync $2/" "$OUT/mbsync/rc"
	clear_seen
	/usr/bin/time -v -o "$OUT/$1.time" mbsync -q -c "$OUT/mbsync/rc" bench || dg_fail mbsync
	echo "  mbsync FSync=$2: $(secs "$1") s, CPU $(cpu "$1") s, load $(cut -d' ' -f1 /proc/loadavg)"
}

mbsync_rc "$OUT/mbsync"
rm -rf "$OUT/mbsync/local/INBOX"
clear_seen
/usr/bin/time -v -o "$OUT/mbsync.time" mbsync -q -c "$OUT/mbsync/rc" bench || dg_fail mbsync
echo "  mbsync FSync=no: $(secs mbsync) s"

for step in $PROFILE; do
	case $step in
	log | log-noack | log-big)
		# log-noack: acknowledgements off; log-big: batch_size = 2000
		case $step in
		log-noack) ACK=no gw_run "$step" ;;
		log-big) MAILBOX_CONF="batch_size = 2000" gw_run "$step" ;;
		*) gw_run "$step" ;;
		esac
		grep -E 'User time|System time|Maximum resident' "$OUT/$step.time"
		python3 "$top_srcdir/tests/bench/timeline.py" "$OUT/$step.log" "$(secs "$step")" |
			tee "$OUT/timeline-$step.txt"
		;;
	strace)
		gw_run strace strace -f -tt -T -o "$OUT/strace.out"
		python3 "$top_srcdir/tests/bench/strace-split.py" "$OUT/strace.out" "$DG_IMAP_PORT" \
			>"$OUT/strace-split.txt"
		cat "$OUT/strace-split.txt"
		;;
	perf)
		# PERF_CALLGRAPH="dwarf,16384" for callers (the build has no
		# frame pointers); then perf report --children --sort sym
		gw_run perf perf record -F "${PERF_FREQ:-1000}" --call-graph "${PERF_CALLGRAPH:-fp}" \
			-o "$OUT/perf.data" --
		perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
			grep -v '^$' | head -80 >"$OUT/perf-report.txt"
		;;
	# timed comparisons (-q, as bench-imap.sh runs them), alternated by
	# listing them so: PROFILE="mbsync-no mbsync-yes q-old q ..." with
	# DESKGATE_OLD=/path/to/the/old/deskgate
	mbsync-no | mbsync-yes)
		n=$((${n:-0} + 1))
		mbsync_timed "$step-$n" "${step#mbsync-}"
		record "$step" "$step-$n"
		;;
	q | q-old)
		n=$((${n:-0} + 1))
		bin=$DESKGATE
		[ "$step" = q-old ] && bin=${DESKGATE_OLD:?DESKGATE_OLD=/path/to/old/deskgate}
		GW_BIN=$bin GW_LOG=-q gw_run "$step-$n"
		record "$step" "$step-$n"
		;;
	mbsync-strace)
		rm -rf "$OUT/mbsync/local/INBOX"
		clear_seen
		strace -f -c -o "$OUT/mbsync-strace-c.txt" mbsync -q -c "$OUT/mbsync/rc" bench
		head -25 "$OUT/mbsync-strace-c.txt"
		;;
	esac
done
if [ -s "$OUT/runs.txt" ]; then
	python3 - "$OUT/runs.txt" "$COUNT" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    kind, secs, cpu, load = line.split()
    runs[kind].append((float(secs), float(cpu), float(load)))
n = int(sys.argv[2])
med = {k: statistics.median(s for s, _, _ in v) for k, v in runs.items()}
print("medians (%d messages):" % n)
for k, v in sorted(runs.items()):
    print("  %-11s %6.2f s %6.0f msg/s  CPU %5.2f s  runs %s  load %s" % (
        k, med[k], n / med[k], statistics.median(c for _, c, _ in v),
        "/".join("%.2f" % s for s, _, _ in v), "/".join("%.1f" % l for _, _, l in v)))
for d in ("q", "q-old"):
    for m in ("mbsync-no", "mbsync-yes"):
        if d in med and m in med:
            print("  deskgate %-5s / mbsync %-10s %.2f" % (d, m, med[m] / med[d]))
PY
fi
echo "output in $OUT"
