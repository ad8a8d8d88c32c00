#!/bin/bash
# bench-mailboxes: one daemon watching many mailboxes on the harness Dovecot
# (issue 18). Not part of make check. Usage, from the source tree (build in
# build/) or a build directory:
#
#   tests/bench/bench-mailboxes.sh [MAILBOXES]        (default 200)
#
# 1. Start-up: `deskgate run` with MAILBOXES [mailbox] sections (one
#    Dovecot user each, plain IMAP on loopback, IDLE), from the start of the
#    process until every mailbox logged "connected" (its SELECT answered):
#    once with [general] connect_concurrency = 1 (one after another, as
#    before) and once with the default 8, in the same run.
# 2. Burst: with every mailbox in IDLE, one message to each mailbox over
#    one LMTP session, as fast as Dovecot takes them; a watcher polls the
#    store every 5 ms; the time from each delivery to its committed row
#    (p50, p99, max; goal p99 <= 1.5 s). Dovecot delays IDLE notifications
#    by 0.5 s on purpose; acknowledgements are off (the outbox has its own
#    thread and does not delay ingest). The daemon runs with the default
#    [general] sync_concurrency (8 threads for the syncs' IMAP round
#    trips; docs/performance.md step 5); compare with 1 to see them serial.
# Dovecot is given enough imap processes for every mailbox (process_limit);
# past fs.inotify.max_user_instances (128 by default, for all of the mail
# user's processes) its IDLE checks the mailbox every second instead.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	if [ -x ./deskgate ]; then top_builddir=.; else top_builddir=$top_srcdir/build; fi
fi
top_builddir=$(cd "$top_builddir" && pwd)
: "${DESKGATE:=$top_builddir/deskgate}"
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top_srcdir:$top_srcdir/contrib}"
N=${1:-200}
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/dovecot.sh"
dg_root_init bench-mailboxes
dg_require_cmd dovecot doveadm python3 sqlite3 openssl
for ((i = 1; i <= N; i++)); do
	dg_dovecot_adduser "mb$i@example.test" secret
done
cat >>"$DG_ROOT/dovecot/dovecot.conf" <<EOF
default_process_limit = $((N + 50))
default_client_limit = $((N * 4 + 100))
imap_idle_notify_interval = 30 mins
# beyond fs.inotify.max_user_instances (128 by default) IDLE watches no
# longer get inotify and Dovecot looks at the mailbox this often instead
mailbox_idle_check_interval = 1 secs
EOF
dg_dovecot_start

G=$DG_ROOT/gw
"$DESKGATE" init "$G" >/dev/null 2>&1 || dg_fail "deskgate init"
sed -i '/^\[ack\]/a enabled = no' "$G/deskgate.conf"
for ((i = 1; i <= N; i++)); do
	printf '\n[mailbox m%d]\nhost = 127.0.0.1\nport = %s\nsecurity = none\nusername = mb%d@example.test\npassword = secret\n' \
		"$i" "$DG_IMAP_PORT" "$i"
done >>"$G/deskgate.conf"

# startup CONCURRENCY: seconds from exec to N "connected" lines; leaves the
# daemon running (GW_PID)
startup() {
	sed -i '/^connect_concurrency = /d' "$G/deskgate.conf"
	sed -i "/^\[general\]/a connect_concurrency = $1" "$G/deskgate.conf"
	: >"$G/run.log"
	local t0 t1
	t0=$(dg_now)
	"$DESKGATE" -c "$G/deskgate.conf" run >>"$G/run.log" 2>&1 &
	GW_PID=$!
	dg_on_exit "kill -TERM $GW_PID"
	local deadline=$((SECONDS + 120))
	while [ "$(grep -c ': connected to ' "$G/run.log")" -lt "$N" ]; do
		[ $SECONDS -lt $deadline ] || { tail -5 "$G/run.log"; dg_fail "not all $N mailboxes connected within 120 s"; }
		dg_pid_alive "$GW_PID" || { tail -20 "$G/run.log"; dg_fail "deskgate died"; }
		sleep 0.02
	done
	t1=$(dg_now)
	STARTUP=$(python3 -c "print('%.2f' % ($t1 - $t0))")
	printf '  connect_concurrency = %-2s  %d mailboxes connected and selected in %s s\n' "$1" "$N" "$STARTUP"
}

stop() {
	kill -TERM "$GW_PID"
	wait "$GW_PID"
}

echo "start-up of one daemon with $N mailboxes (plain IMAP, loopback):"
startup 1
S1=$STARTUP
stop
startup 8
S8=$STARTUP
python3 -c "print('  ratio: %.1fx faster' % ($S1 / max($S8, 0.001)))"
grep -qs 'IDLE' "$G/run.log" || dg_fail "no IDLE"
sleep 1

echo "burst: one message to each of the $N mailboxes over one LMTP session:"
python3 - "$DG_LMTP_PORT" "$G/deskgate.db" "$N" <<'PY' || dg_fail "burst"
import smtplib, sqlite3, sys, threading, time
port, db, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sent, seen = {}, {}
done = threading.Event()

def watch():
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    while not done.is_set():
        try:
            for (mid,) in con.execute("select message_id from messages where message_id like 'mbx-%'"):
                if mid not in seen:
                    seen[mid] = time.monotonic()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.005)

w = threading.Thread(target=watch, daemon=True)
w.start()
start = time.monotonic()
with smtplib.LMTP("127.0.0.1", port) as s:
    for i in range(1, n + 1):
        mid = "mbx-%d-%d@bench.example" % (i, time.time_ns())
        rcpt = "mb%d@example.test" % i
        msg = ("From: customer%d@example.net\r\nTo: %s\r\nSubject: burst %d\r\n"
               "Message-ID: <%s>\r\n\r\nhello from customer %d\r\n" % (i, rcpt, i, mid, i)).encode()
        s.sendmail("customer%d@example.net" % i, [rcpt], msg)
        sent[mid] = time.monotonic()
burst = time.monotonic() - start
deadline = time.monotonic() + 60
while time.monotonic() < deadline and any(m not in seen for m in sent):
    time.sleep(0.05)
done.set()
w.join()
missing = [m for m in sent if m not in seen]
if missing:
    sys.exit("%d of %d messages not stored within 60 s" % (len(missing), len(sent)))
lat = sorted(seen[m] - sent[m] for m in sent)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("  %d deliveries in %.2f s; delivery -> committed ticket p50 %.0f ms, p99 %.0f ms, max %.0f ms "
      "(goal p99 <= 1500 ms: %s)" % (len(lat), burst, p(0.5) * 1000, p(0.99) * 1000, lat[-1] * 1000,
                                     "met" if p(0.99) <= 1.5 else "NOT MET"))
PY
echo "  file descriptors of the daemon: $(ls /proc/$GW_PID/fd | wc -l), threads: $(ls /proc/$GW_PID/task | wc -l)"
stop
echo "  (Dovecot delays IDLE notifications by 0.5 s on purpose)"
