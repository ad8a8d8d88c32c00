#!/bin/bash
# bench-imap: the IMAP poller against mbsync, on one Dovecot, in one run.
# Not part of make check. Usage: tests/bench/bench-imap.sh [COUNT] from the
# source tree (build in build/), or from a build directory:
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
# 3. IDLE latency: the daemon idles on the mailbox; LATENCY_N (default 200)
#    messages are delivered over LMTP in bursts (2, 10, 100, then the rest)
#    at random spacing, half of it close to Dovecot's 0.5 s notification
#    delay so that mail keeps landing while a sync runs; a watcher polls the
#    store every 5 ms, and the time from the start of each delivery to its
#    committed row is measured (p50, p99, max; goal p99 <= 1.5 s, max <= 2 s).
#    Dovecot's keep-alive is set to 30 min, so that a message whose EXISTS
#    was missed would show as a huge maximum, not hide behind it.
# Prints a table and the ratios deskgate/mbsync. LATENCY_ONLY=1 runs only 3
# (on a fresh store, no mbsync needed). RELAY=1 (with LATENCY_ONLY=1): 3
# twice, acknowledgements on, each on a fresh store: once with a healthy
# relay (tests/harness/smtpfault.py) and once with a relay that hangs for
# the whole run (--stall-for: connections are never greeted), so that the
# IDLE latency shows whether mailboxes wait for SMTP (issue 18).
set -u
# As the README runs it (tests/bench/bench-imap.sh from the source tree):
# the source tree is the script's, the build tree ./ when it holds a
# deskgate, else build/ under the source tree.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	if [ -x ./deskgate ]; then top_builddir=.; else top_builddir=$top_srcdir/build; fi
fi
top_builddir=$(cd "$top_builddir" && pwd)
: "${DESKGATE:=$top_builddir/deskgate}"
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top_srcdir:$top_srcdir/contrib}"
COUNT=${1:-10000}
LATENCY_N=${LATENCY_N:-200}
[ "${RELAY:-0}" = 1 ] && LATENCY_ONLY=1
# BACKLOG_ONLY=1: only deskgate's first run over COUNT messages (e.g. 100000),
# for memory on a large backlog.
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/dovecot.sh"
dg_root_init bench-imap
if [ "${LATENCY_ONLY:-0}" = 1 ]; then
	dg_require_cmd dovecot doveadm python3 sqlite3 openssl
	COUNT=0
else
	dg_require_cmd dovecot doveadm mbsync python3 sqlite3 openssl /usr/bin/time
fi
USER1=support@example.test
dg_dovecot_adduser "$USER1" secret
echo "imap_idle_notify_interval = 30 mins" >>"$DG_ROOT/dovecot/dovecot.conf"
dg_dovecot_start
MAILDIR=$(dg_maildir "$USER1")

if [ "${LATENCY_ONLY:-0}" != 1 ]; then
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
# issue 18's goal: durable, acknowledgements on, against mbsync not syncing
printf '  plain, ack=on  vs mbsync FSync=no:  %s\n' "$(ratio "deskgate plain ack=on" "mbsync plain FSync=no")"
printf '  imaps, ack=off vs mbsync FSync=yes: %s\n' "$(ratio "deskgate imaps ack=off" "mbsync imaps FSync=yes")"
fi

# -- IDLE latency ---------------------------------------------------------------
# latency_run LABEL DIR: the daemon on DIR's configuration, LATENCY_N deliveries
latency_run() {
local label=$1 G=$2
echo
echo "IDLE latency over $LATENCY_N LMTP deliveries in bursts ($label):"
"$DESKGATE" -q -c "$G/deskgate.conf" run >"$G/idle.log" 2>&1 &
GW_PID=$!
dg_on_exit "kill -TERM $GW_PID"
sleep 1
python3 - "$DG_LMTP_PORT" "$G/deskgate.db" "$LATENCY_N" "$USER1" <<'PY' || dg_fail "latency run"
import random, smtplib, sqlite3, sys, threading, time
port, db, n, rcpt = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
random.seed(7)
sent, seen = {}, {}
done = threading.Event()

def watch():
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    known = set()
    while not done.is_set():
        try:
            for (mid,) in con.execute("select message_id from messages where message_id like 'lat-%'"):
                if mid not in known:
                    known.add(mid)
                    seen[mid] = time.monotonic()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.005)

w = threading.Thread(target=watch, daemon=True)
w.start()
bursts, left = [], n
for b in (2, 10, 100):
    if left <= 0:
        break
    bursts.append(min(b, left))
    left -= bursts[-1]
while left > 0:
    bursts.append(min(44, left))
    left -= bursts[-1]
i = 0
for b in bursts:
    for _ in range(b):
        mid = "lat-%d-%d@bench.example" % (i, time.time_ns())
        msg = ("From: customer%d@example.net\r\nTo: %s\r\nSubject: latency %d\r\n"
               "Message-ID: <%s>\r\n\r\nplease help with order %d\r\n" % (i, rcpt, i, mid, i)).encode()
        t0 = time.monotonic()
        with smtplib.LMTP("127.0.0.1", port) as s:
            s.sendmail("customer@example.net", [rcpt], msg)
        sent[mid] = t0
        i += 1
        time.sleep(random.uniform(0, 0.05) if random.random() < 0.5 else random.uniform(0.45, 0.7))
    time.sleep(2)
deadline = time.monotonic() + 60
while time.monotonic() < deadline and any(m not in seen for m in sent):
    time.sleep(0.05)
done.set()
w.join()
missing = [m for m in sent if m not in seen]
if missing:
    sys.exit("%d of %d messages not stored within 60 s of the last delivery" % (len(missing), len(sent)))
lat = sorted(seen[m] - sent[m] for m in sent)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
ok = p(0.99) <= 1.5 and lat[-1] <= 2.0
print("  %d deliveries in bursts of %s: delivery -> committed ticket p50 %.0f ms, p99 %.0f ms, "
      "max %.0f ms (goal p99 <= 1500 ms, max <= 2000 ms: %s)"
      % (len(lat), "/".join(str(b) for b in bursts), p(0.50) * 1000, p(0.99) * 1000,
         lat[-1] * 1000, "met" if ok else "NOT MET"))
PY
kill -TERM "$GW_PID"
wait "$GW_PID"
}

# latency_gw DIR ACK [SMTP_PORT]: a fresh gateway home for the latency runs
latency_gw() {
	"$DESKGATE" init "$1" >/dev/null 2>&1 || dg_fail "deskgate init"
	[ "$2" = no ] && sed -i '/^\[ack\]/a enabled = no' "$1/deskgate.conf"
	[ -n "${3:-}" ] && sed -i "/^\[smtp\]/a host = 127.0.0.1\nport = $3\nsecurity = none\ntimeout = 60s" \
		"$1/deskgate.conf"
	printf '\n[mailbox support]\nhost = 127.0.0.1\nport = %s\nsecurity = none\nusername = %s\npassword = secret\n' \
		"$DG_IMAP_PORT" "$USER1" >>"$1/deskgate.conf"
}

# relay_start NAME STALL: smtpfault.py on a free port (RELAY_PORT)
relay_start() {
	RELAY_PORT=$(dg_free_port)
	python3 "$top_srcdir/tests/harness/smtpfault.py" --port "$RELAY_PORT" \
		--spool "$DG_ROOT/$1-spool" --stall-for "$2" >"$DG_ROOT/$1-relay.log" 2>&1 &
	dg_on_exit "kill $!"
	dg_wait_port "$RELAY_PORT" 10 || dg_fail "smtpfault did not start"
}

if [ "${RELAY:-0}" = 1 ]; then
	relay_start healthy 0
	latency_gw "$DG_ROOT/gw-healthy" yes "$RELAY_PORT"
	latency_run "acknowledgements on, healthy relay" "$DG_ROOT/gw-healthy"
	echo "  acknowledgements at the relay: $(ls "$DG_ROOT/healthy-spool" | grep -c '\.eml$')"
	relay_start stalled 100000
	latency_gw "$DG_ROOT/gw-stalled" yes "$RELAY_PORT"
	latency_run "acknowledgements on, the relay hangs (never greets)" "$DG_ROOT/gw-stalled"
	echo "  acknowledgements at the relay: $(ls "$DG_ROOT/stalled-spool" 2>/dev/null | grep -c '\.eml$')"
elif [ "${LATENCY_ONLY:-0}" = 1 ]; then
	latency_gw "$DG_ROOT/gw-plain_ack_off" no
	latency_run "daemon on a fresh store" "$DG_ROOT/gw-plain_ack_off"
else
	latency_run "daemon on the store above" "$DG_ROOT/gw-plain_ack_off"
fi
echo "  (Dovecot delays IDLE notifications by 0.5 s on purpose)"
