#!/bin/bash
# The Prometheus endpoint of a real daemon: real Dovecot, real Postfix as
# the relay, the demo mail (four customers, a reply, a message nested too
# deep). Every scrape must pass `promtool check metrics`, and the numbers
# must agree with the store: messages fetched, ingested by outcome,
# quarantined by reason, tickets opened, acknowledgements sent (250) and
# refused (Postfix's 550 for an unknown recipient), SMTP results by class,
# the outbox and quarantine gauges, the mailbox's state and last sync.
# Then the store is locked by another process while mail arrives: the
# endpoint still answers at once (it is served from its own thread while
# the loop waits on the lock), and while the lock is still held the store
# errors of the batch and of the lease renewal are counted and logged;
# once the lock is gone the message is counted exactly once.
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/dovecot.sh"
. "$top_srcdir/tests/harness/postfix.sh"
dg_root_init test-ops-metrics
[ "$(id -u)" = 0 ] || dg_skip "needs root to run Postfix"
dg_require_cmd dovecot postfix sqlite3 python3 openssl
command -v promtool >/dev/null 2>&1 ||
	dg_skip "promtool not found (Debian package prometheus: apt-get install prometheus)"
export DESKGATE_DATADIR=${DESKGATE_DATADIR:-$top_srcdir:$top_srcdir/contrib}
mail=$top_srcdir/contrib/demo-mail

support=support@example.test
for u in $support alice@example.net xiaoming@example.net juergen@example.net; do
	dg_postfix_adduser "$u" secret
done
# renee@example.net has no mailbox: Postfix refuses her acknowledgement (550)
dg_dovecot_start
dg_postfix_start

G=$DG_ROOT/gw
"$DESKGATE" init --address $support --hostname gw.example.test "$G" >/dev/null || dg_fail "init"
mport=$(dg_free_port)
sed -i -e "/^\[smtp\]/a host = 127.0.0.1\nport = $DG_SMTP_PORT\nsecurity = none\ntimeout = 10s" \
	"$G/deskgate.conf"
cat >>"$G/deskgate.conf" <<CONF

[mailbox support]
host = 127.0.0.1
port = $DG_IMAP_PORT
security = none
username = $support
password = secret
timeout = 10

[metrics]
listen = 127.0.0.1:$mport
CONF
sql() { sqlite3 "$G/deskgate.db" "$1"; }
url=http://127.0.0.1:$mport

for m in 01-en-failed-trade 02-zh-deposit-missing 03-de-account-locked 04-fr-registration \
	05-en-reply 06-broken-deep-nesting; do
	dg_lmtp_deliver $support "$mail/$m.eml" || dg_fail "LMTP delivery of $m"
done

"$DESKGATE" -c "$G/deskgate.conf" run >>"$G/run.log" 2>&1 &
GW=$!
dg_on_exit "kill -KILL $GW 2>/dev/null"
dg_wait_port "$mport" 10 || dg_fail "no metrics port: $(tail -5 "$G/run.log")"

# scrape [PATH]: the body on stdout; fails on an error or a wrong type
scrape() {
	python3 - "$url${1:-/metrics}" <<'PY'
import sys, urllib.request
r = urllib.request.urlopen(sys.argv[1], timeout=5)
ct = r.headers.get("Content-Type")
if ct != "text/plain; version=0.0.4; charset=utf-8":
    sys.exit("Content-Type: %s" % ct)
sys.stdout.write(r.read().decode("utf-8"))
PY
}
# value FILE SERIES: the sample's value, or "absent"
value() {
	awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $2; f = 1 } END { if (!f) print "absent" }' "$1"
}
at_least() { # FILE SERIES MIN
	local got
	got=$(value "$1" "$2")
	[ "$got" != absent ] && [ "$got" -ge "$3" ]
}
check() { # FILE SERIES WANT
	local got
	got=$(value "$1" "$2")
	[ "$got" = "$3" ] || dg_fail "$2 = $got, want $3 (scrape in $1)"
}
lint() { # FILE
	local out
	out=$(promtool check metrics <"$1" 2>&1) || dg_fail "promtool check metrics: $out"
}

settled() {
	[ "$(sql "select count(*) from messages where direction = 'in'")" = 5 ] &&
		[ "$(sql "select count(*) from quarantine")" = 1 ] &&
		[ "$(sql "select count(*) from outbox where status in ('queued', 'sending')")" = 0 ]
}
dg_wait_for 30 settled || dg_fail "the mail was not processed: $(tail -20 "$G/run.log")"
# the store's gauges are refreshed every few seconds
s1=$DG_ROOT/scrape1.txt
gauges_current() {
	scrape >"$s1" &&
		[ "$(value "$s1" 'deskgate_quarantine_held_messages')" = 1 ] &&
		[ "$(value "$s1" 'deskgate_mailbox_state{mailbox="support",state="idle"}')" = 1 ] &&
		[ "$(value "$s1" 'deskgate_messages_ingested_total{outcome="quarantined"}')" = 1 ]
}
dg_wait_for 15 gauges_current || dg_fail "gauges not current: $(cat "$s1")"
lint "$s1"
dg_log "promtool: first scrape clean ($(grep -vc '^#' "$s1") samples)"

tickets=$(sql "select count(*) from tickets")
appended=$(( $(sql "select count(*) from messages where direction = 'in'") - tickets ))
acks_sent=$(sql "select count(*) from outbox where kind = 'ack' and status = 'sent'")
acks_failed=$(sql "select count(*) from outbox where kind = 'ack' and status = 'failed'")
sent=$(sql "select count(*) from outbox where status = 'sent'")
failed=$(sql "select count(*) from outbox where status = 'failed'")
unanswered=$(sql "select count(*) from tickets where status <> 'closed' and first_response_at = 0")
dg_log "store: $tickets tickets, $appended appended, acks $acks_sent sent + $acks_failed refused"
[ "$tickets" -ge 4 ] && [ "$acks_sent" -ge 3 ] && [ "$acks_failed" -ge 1 ] ||
	dg_fail "the scenario did not happen: $(sql "select id, kind, status, recipients, last_code from outbox")"

check "$s1" 'deskgate_imap_messages_fetched_total{mailbox="support"}' 6
check "$s1" 'deskgate_messages_ingested_total{outcome="new_ticket"}' "$tickets"
check "$s1" 'deskgate_messages_ingested_total{outcome="appended"}' "$appended"
check "$s1" 'deskgate_messages_ingested_total{outcome="duplicate"}' 0
check "$s1" 'deskgate_messages_quarantined_total{reason="max_mime_depth"}' 1
check "$s1" 'deskgate_tickets_opened_total' "$tickets"
check "$s1" 'deskgate_mail_sent_total{kind="ack"}' "$acks_sent"
check "$s1" 'deskgate_mail_failed_total{kind="ack"}' "$acks_failed"
check "$s1" 'deskgate_smtp_results_total{class="2xx"}' "$sent"
check "$s1" 'deskgate_smtp_results_total{class="5xx"}' "$failed"
check "$s1" 'deskgate_smtp_results_total{class="4xx"}' 0
check "$s1" 'deskgate_outbox_messages{state="queued"}' 0
check "$s1" 'deskgate_outbox_messages{state="failed"}' "$failed"
check "$s1" 'deskgate_quarantine_held_messages' 1
check "$s1" 'deskgate_tickets_unanswered' "$unanswered"
check "$s1" 'deskgate_mailbox_up{mailbox="support"}' 1
check "$s1" 'deskgate_mailbox_state{mailbox="support",state="backoff"}' 0
check "$s1" 'deskgate_mailbox_consecutive_failures{mailbox="support"}' 0
check "$s1" 'deskgate_store_errors_total{during="ingest"}' 0
check "$s1" 'deskgate_store_errors_total{during="lease"}' 0
now=$(date +%s)
sync=$(value "$s1" 'deskgate_mailbox_last_sync_timestamp_seconds{mailbox="support"}')
[ "$sync" != absent ] && [ "$sync" -gt $((now - 60)) ] && [ "$sync" -le "$now" ] ||
	dg_fail "last sync $sync, now $now"
start=$(value "$s1" 'deskgate_start_time_seconds')
[ "$start" -gt $((now - 120)) ] && [ "$start" -le "$now" ] || dg_fail "start time $start"
grep -q '^deskgate_build_info{version="[0-9.]*"} 1$' "$s1" || dg_fail "no build_info"
dg_log "the numbers agree with the store"

# -- the store locked by another process while a message arrives ---------------
# The locker holds SQLite's write lock until the checks below have seen
# what they look for (at most 60 s), so that each runs while the lock is
# held, however slow the machine: a lock of a fixed 14 s made the test
# depend on where the loop stood when it began. Every wait of the loop on
# the lock ends after the busy time-out (5 s) and is counted and logged:
# the batch (during="ingest") and the renewal of the leases, due every
# 10 s (lease_ttl 30 s), so at least once while the lock is held
# (during="lease"). Before, a renewal that timed out was neither counted
# nor logged and the next call tried it again: the loop spent the lock
# in those waits, silently, and ingested the message after the release
# without a store error.
log_before=$(wc -l <"$G/run.log")
python3 - "$G/deskgate.db" "$DG_ROOT/locked" "$DG_ROOT/unlock" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
end = time.monotonic() + 60
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.1)
db.execute("ROLLBACK")
PY
LOCKER=$!
dg_on_exit "kill $LOCKER 2>/dev/null"
dg_wait_for 5 test -f "$DG_ROOT/locked" || dg_fail "could not lock the store"
locked_at=$(date +%s)
printf '%s\r\n' "From: Xiao Ming <xiaoming@example.net>" "To: $support" \
	"Subject: Withdrawal 2 pending" "Message-ID: <ops-metrics-locked@example.net>" \
	"Date: $(date -R)" "" "My withdrawal is still pending." >"$DG_ROOT/locked.eml"
dg_lmtp_deliver $support "$DG_ROOT/locked.eml" || dg_fail "LMTP delivery"
# the loop now waits on the lock (5 s busy time-out, then backoff): the
# endpoint answers anyway, from its own thread
sleep 1.5
# timed inside Python: its start-up is not the server's
took=$(python3 - "$url/metrics" "$DG_ROOT/during.txt" <<'PY'
import sys, time, urllib.request
t = time.monotonic()
body = urllib.request.urlopen(sys.argv[1], timeout=5).read()
took = time.monotonic() - t
open(sys.argv[2], "wb").write(body)
print("%.3f" % took)
PY
) || dg_fail "no answer while the store is locked"
awk -v t="$took" 'BEGIN { exit !(t < 0.5) }' || dg_fail "a scrape took $took s while the loop waited"
lint "$DG_ROOT/during.txt"
# new_log: what the daemon logged since the lock began
new_log() { tail -n +$((log_before + 1)) "$G/run.log"; }
s3=$DG_ROOT/scrape-locked.txt
# (the log first: a scrape per try would make the tries slow)
both_counted() {
	new_log | grep -q 'mailbox=support: store: .*database is locked; nothing marked' &&
		new_log | grep -q 'lease .*: not renewed: .*database is locked; kept until' &&
		scrape >"$s3" &&
		at_least "$s3" 'deskgate_store_errors_total{during="ingest"}' 1 &&
		at_least "$s3" 'deskgate_store_errors_total{during="lease"}' 1
}
dg_wait_for 40 both_counted ||
	dg_fail "locked for $(($(date +%s) - locked_at)) s: $(grep store_errors "$s3" 2>/dev/null); logged: $(new_log)"
kill -0 $LOCKER 2>/dev/null || dg_fail "the lock was gone before the checks"
held=$(($(date +%s) - locked_at))
lint "$s3"
: >"$DG_ROOT/unlock"
wait "$LOCKER"
one_more() { [ "$(sql "select count(*) from messages where direction = 'in'")" = 6 ]; }
dg_wait_for 30 one_more || dg_fail "the message after the lock was not stored: $(tail -5 "$G/run.log")"
s2=$DG_ROOT/scrape2.txt
counted() {
	scrape >"$s2" && [ "$(value "$s2" 'deskgate_tickets_opened_total')" = $((tickets + 1)) ]
}
dg_wait_for 10 counted || dg_fail "not counted: $(grep -E 'tickets_opened|store_errors' "$s2")"
lint "$s2"
errors=$(value "$s2" 'deskgate_store_errors_total{during="ingest"}')
lease_errors=$(value "$s2" 'deskgate_store_errors_total{during="lease"}')
check "$s2" 'deskgate_imap_messages_fetched_total{mailbox="support"}' 7
check "$s2" 'deskgate_messages_ingested_total{outcome="new_ticket"}' $((tickets + 1))
# the renewal failure was logged once, and its end too
[ "$(new_log | grep -c 'not renewed')" = 1 ] || dg_fail "renewal failures logged: $(new_log)"
dg_wait_for 15 sh -c "tail -n +$((log_before + 1)) '$G/run.log' | grep -q 'the store answers again'" ||
	dg_fail "the renewal working again was not logged: $(new_log)"
dg_log "store locked $held s: $errors ingest and $lease_errors lease store error(s) counted and logged while locked, a scrape meanwhile took $took s, the message counted once"

# other paths and methods
python3 - "$url" <<'PY' || dg_fail "HTTP paths and methods"
import sys, urllib.request, urllib.error
base = sys.argv[1]
def status(path, method="GET"):
    try:
        return urllib.request.urlopen(urllib.request.Request(base + path, method=method), timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code
got = (status("/"), status("/nope"), status("/metrics", "POST"), status("/metrics", "HEAD"))
if got != (200, 404, 405, 200):
    sys.exit("/ /nope POST HEAD: %s" % (got,))
PY

kill -TERM $GW
wait $GW
dg_assert_eq 0 $? "exit status"
dg_wait_for 5 sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$mport) 2>/dev/null" || dg_fail "still listening after exit"
dg_log "ok"
