#!/bin/bash
# bench-imap: the IMAP poller against mbsync, on one Dovecot, in one run.
# Not part of make check. Usage (from a build directory):
#
#   top_srcdir=/path/to/src top_builddir=. tests/bench/bench-imap.sh [COUNT]
#
# 1. Seeds COUNT (default 10,000) realistic messages (mkmail.py --size
#    mixed: English and Chinese, GB18030/UTF-8, HTML parts, attachments, ~15
#    KiB average) straight into the Maildir, lets Dovecot index them, and
#    reads them once so every contender finds them in the page cache.
# 2. Download rate, plain IMAP and IMAPS: mbsync (isync) into a fresh
#    maildir with its default FSync yes (durable) and with FSync no, and
#    `deskgate run --once` into a fresh store (durable: WAL, synchronous
#    FULL, one syncfs per batch), with the default configuration
#    (acknowledgements on) and with acknowledgements off. \Seen flags are
#    cleared between runs. Peak RSS from /usr/bin/time -v.
# 3. IDLE latency: the daemon idles on the mailbox; 100 messages are
#    delivered over LMTP one at a time, and the time from the start of each
#    delivery to its committed row in the store is measured (p50, p99).
# Prints a table and the ratios deskgate/mbsync.
set -u
: "${top_srcdir:?set top_srcdir to the source tree}"
: "${top_builddir:=.}"
top_builddir=$(cd "$top_builddir" && pwd)
: "${DESKGATE:=$top_builddir/deskgate}"
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top_srcdir:$top_srcdir/contrib}"
COUNT=${1:-10000}
LATENCY_N=${LATENCY_N:-100}
# BACKLOG_ONLY=1: only deskgate's first run over COUNT messages (e.g. 100000),
# for memory on a large backlog.
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/dovecot.sh"
dg_root_init bench-imap
dg_require_cmd dovecot doveadm mbsync python3 sqlite3 openssl /usr/bin/time
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
BYTES=$(du -sb "$MAILDIR" | cut -f1)

clear_seen() {
	dg_doveadm flags remove -u "$USER1" '\Seen' mailbox INBOX all || dg_fail "clear flags"
}

# time_run NAME CMD...: runs CMD under /usr/bin/time -v; sets SECS and RSS_KB
time_run() {
	local name=$1
	shift
	/usr/bin/time -v -o "$DG_ROOT/$name.time" "$@" >"$DG_ROOT/$name.out" 2>&1 ||
		{ tail -20 "$DG_ROOT/$name.out"; dg_fail "$name failed"; }
	SECS=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DG_ROOT/$name.time" |
		awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
	RSS_KB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DG_ROOT/$name.time")
}

declare -A RATE RSS
record() { # KEY
	RATE[$1]=$(python3 -c "print(round($COUNT / max($SECS, 0.001)))")
	RSS[$1]=$RSS_KB
	printf '  %-34s %7s msg/s  %6.1f s  peak RSS %6d KiB\n' "$1" "${RATE[$1]}" "$SECS" "$RSS_KB"
}

mbsync_run() { # KEY SSLTYPE PORT FSYNC
	local key=$1 dir=$DG_ROOT/mbsync-${1//[ =]/_}
	mkdir -p "$dir/local"
	cat >"$dir/rc" <<EOF
FSync $4
IMAPAccount bench
Host localhost
Port $3
User $USER1
Pass secret
SSLType $2
CertificateFile $DG_CA_FILE

IMAPStore remote
Account bench

MaildirStore local
Path $dir/local/
Inbox $dir/local/INBOX

Channel bench
Far :remote:INBOX
Near :local:INBOX
Sync Pull New
Create Near
SyncState *
EOF
	clear_seen
	time_run "mbsync-${key//[ =]/_}" mbsync -q -c "$dir/rc" bench
	local got
	got=$(find "$dir/local/INBOX" -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l)
	[ "$got" = "$COUNT" ] || dg_fail "mbsync $key: $got of $COUNT messages"
	record "mbsync $key"
}

deskgate_run() { # KEY SECURITY PORT ACK
	local key=$1 dir=$DG_ROOT/gw-${1//[ =]/_}
	"$DESKGATE" init "$dir" >/dev/null 2>&1 || dg_fail "deskgate init"
	[ "$4" = no ] && sed -i '/^\[ack\]/a enabled = no' "$dir/deskgate.conf"
	cat >>"$dir/deskgate.conf" <<EOF

[mailbox support]
host = localhost
port = $3
security = $2
ca_file = $DG_CA_FILE
username = $USER1
password = secret
EOF
	clear_seen
	time_run "deskgate-${key//[ =]/_}" "$DESKGATE" -q -c "$dir/deskgate.conf" run --once
	local got
	got=$(sqlite3 "$dir/deskgate.db" "select (select count(*) from messages where direction = 'in') + (select count(*) from quarantine)")
	[ "$got" = "$COUNT" ] || dg_fail "deskgate $key: $got of $COUNT messages stored"
	record "deskgate $key"
}

echo
echo "download of $COUNT messages ($((BYTES / 1048576)) MiB), one connection, loopback:"
if [ "${BACKLOG_ONLY:-0}" = 1 ]; then
	# The first run on a large backlog: deskgate alone, default settings.
	deskgate_run "plain ack=on" none "$DG_IMAP_PORT" yes
	exit 0
fi
mbsync_run "plain FSync=yes" None "$DG_IMAP_PORT" yes
mbsync_run "plain FSync=no" None "$DG_IMAP_PORT" no
deskgate_run "plain ack=on" none "$DG_IMAP_PORT" yes
deskgate_run "plain ack=off" none "$DG_IMAP_PORT" no
mbsync_run "imaps FSync=yes" IMAPS "$DG_IMAPS_PORT" yes
deskgate_run "imaps ack=off" imaps "$DG_IMAPS_PORT" no

ratio() { python3 -c "print('%.2f' % (${RATE[$1]} / max(${RATE[$2]}, 1)))"; }
echo
echo "ratios (deskgate / mbsync; >= 1.0 is the target, deskgate always durable):"
printf '  plain, ack=off vs mbsync FSync=yes: %s\n' "$(ratio "deskgate plain ack=off" "mbsync plain FSync=yes")"
printf '  plain, ack=on  vs mbsync FSync=yes: %s\n' "$(ratio "deskgate plain ack=on" "mbsync plain FSync=yes")"
printf '  plain, ack=off vs mbsync FSync=no:  %s\n' "$(ratio "deskgate plain ack=off" "mbsync plain FSync=no")"
printf '  imaps, ack=off vs mbsync FSync=yes: %s\n' "$(ratio "deskgate imaps ack=off" "mbsync imaps FSync=yes")"

# -- IDLE latency ---------------------------------------------------------------
G=$DG_ROOT/gw-plain_ack_off
echo
echo "IDLE latency over $LATENCY_N LMTP deliveries (daemon on the store above):"
"$DESKGATE" -q -c "$G/deskgate.conf" run >"$DG_ROOT/idle.log" 2>&1 &
GW_PID=$!
dg_on_exit "kill -TERM $GW_PID"
sleep 1
python3 - "$DG_LMTP_PORT" "$G/deskgate.db" "$LATENCY_N" "$USER1" <<'PY' || dg_fail "latency run"
import random, smtplib, sqlite3, sys, time
port, db, n, rcpt = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
lat = []
for i in range(n):
    mid = "lat-%d-%d@bench.example" % (i, time.time_ns())
    msg = ("From: customer%d@example.net\r\nTo: %s\r\nSubject: latency %d\r\n"
           "Message-ID: <%s>\r\n\r\nplease help with order %d\r\n" % (i, rcpt, i, mid, i)).encode()
    t0 = time.monotonic()
    with smtplib.LMTP("127.0.0.1", port) as s:
        s.sendmail("customer@example.net", [rcpt], msg)
    while True:
        if con.execute("select 1 from messages where message_id = ?", (mid,)).fetchone():
            break
        if time.monotonic() - t0 > 30:
            sys.exit("message %d not stored within 30 s" % i)
        time.sleep(0.005)
    lat.append(time.monotonic() - t0)
    time.sleep(random.uniform(0.05, 0.3))
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("  delivery -> committed ticket: p50 %.0f ms, p99 %.0f ms, max %.0f ms (target p99 <= 1000 ms)"
      % (p(0.50) * 1000, p(0.99) * 1000, lat[-1] * 1000))
PY
kill -TERM "$GW_PID"
wait "$GW_PID"
echo "  (Dovecot delays IDLE notifications by 0.5 s on purpose)"
