#!/bin/bash
# `deskgate status [--json]` and its exit status for monitoring (0 ok,
# 1 degraded, 2 not running, 3 unknown), against a real daemon on a real
# Dovecot mailbox and a relay that is down: no pid file, a stale one, a
# live process that is not deskgate, a locked pid file without a status
# file, then the daemon: deferred mail (degraded), cancelled (ok), a
# mailbox added but not reloaded, reloaded and failing, removed again, a
# stopped (SIGSTOP) loop, a clean stop; and an unreadable configuration.
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-ops-status
dg_require_cmd python3 flock

G=$DG_ROOT/gw
GW_ACK=yes gw_new "$G"
relay=$(dg_free_port)
sed -i -e "/^\[smtp\]/a host = 127.0.0.1\nport = $relay\nsecurity = none\ntimeout = 2s" "$G/deskgate.conf"
pidfile=$G/deskgate.pid

# st [ARGS]: run status; its output in OUT, its exit status in RC
st() {
	RC=0
	OUT=$(gw "$G" status "$@" 2>&1) || RC=$?
}
expect() { # RC REGEX WHAT
	[ "$RC" = "$1" ] && printf '%s\n' "$OUT" | grep -qE -- "$2" ||
		dg_fail "$3: exit $RC (want $1), output:"$'\n'"$OUT"$'\n'"(want /$2/)"
	dg_log "$3: exit $RC"
}
json() { # PYTHON-EXPRESSION over j: must be true
	printf '%s' "$OUT" | python3 -c "import json, sys; j = json.load(sys.stdin); sys.exit(0 if ($1) else 1)" ||
		dg_fail "JSON: not ($1):"$'\n'"$OUT"
}

# -- no daemon ------------------------------------------------------------------
st
expect 2 '^status: not_running: not running \(no pid file\)$' "no pid file"
printf '%s\n' "$OUT" | grep -q '^mailbox support: unknown$' || dg_fail "mailbox line: $OUT"
st --json
[ "$RC" = 2 ] || dg_fail "--json exit $RC"
json 'j["status"] == "not_running" and j["exit"] == 2 and j["daemon"]["running"] is False'

sh -c 'exit 0' &
dead=$!
wait $dead
echo $dead >"$pidfile"
st
expect 2 "stale pid file: process $dead is gone" "stale pid file"

sleep 60 &
other=$!
dg_on_exit "kill $other 2>/dev/null"
echo $other >"$pidfile"
st
expect 3 "process $other of the pid file is alive.*is it deskgate" "a live process, not deskgate"

# a pid file locked the way the daemon locks it, but no status file
flock -x "$pidfile" sleep 30 &
locker=$!
dg_on_exit "kill $locker 2>/dev/null"
locked() { ! flock -n -s "$pidfile" true; }
dg_wait_for 5 locked || dg_fail "flock did not take the lock"
st
expect 1 "no status file from the daemon" "locked pid file, no status file"
printf '%s\n' "$OUT" | grep -q "^daemon: running, pid $other" || dg_fail "daemon line: $OUT"
kill $locker $other 2>/dev/null
wait $locker $other 2>/dev/null
rm -f "$pidfile"

# -- the daemon: one ticket, one quarantined message, an acknowledgement the
# relay (down) defers ---------------------------------------------------------
printf '%s\r\n' "From: Customer <cust@example.net>" "To: $USER1" "Subject: Where is my deposit" \
	"Message-ID: <status-1@example.net>" "Date: $(date -R)" "" "Please help." >"$DG_ROOT/1.eml"
deliver "$DG_ROOT/1.eml"
deliver "$top_srcdir/contrib/demo-mail/06-broken-deep-nesting.eml"
gw_start "$G"
deferred() { [ "$(sql "$G" "select count(*) from outbox where status = 'queued' and attempts > 0")" = 1 ]; }
dg_wait_for 20 deferred || dg_fail "no deferred acknowledgement: $(tail -5 "$G/run.log")"
fresh() { st; [ "$RC" = 1 ] && printf '%s\n' "$OUT" | grep -q 'mailbox support: idle'; }
dg_wait_for 10 fresh || dg_fail "status: exit $RC: $OUT"
expect 1 '^status: degraded: 1 outgoing message deferred' "deferred mail"
printf '%s\n' "$OUT" | grep -qE "^daemon: running, pid $GW_PID, up [0-9]+s$" || dg_fail "daemon line: $OUT"
printf '%s\n' "$OUT" | grep -qE '^mailbox support: idle, last sync [0-9-]+ [0-9:]+Z \([0-9]+s ago\)$' ||
	dg_fail "mailbox line: $OUT"
printf '%s\n' "$OUT" | grep -qE '^outbox: 0 queued, 1 deferred, 0 sending, 0 failed; oldest waiting [0-9]+s$' ||
	dg_fail "outbox line: $OUT"
printf '%s\n' "$OUT" | grep -q '^quarantine: 1 held$' || dg_fail "quarantine line: $OUT"
printf '%s\n' "$OUT" | grep -qE '^unanswered tickets: 1; oldest #1, waiting [0-9]+s, due ' ||
	dg_fail "unanswered line: $OUT"
st --json
json "j['status'] == 'degraded' and j['exit'] == 1 and j['daemon']['running'] and j['daemon']['pid'] == $GW_PID"
json "j['mailboxes'][0]['name'] == 'support' and j['mailboxes'][0]['state'] == 'idle' and j['mailboxes'][0]['connected']"
json "j['outbox']['deferred'] == 1 and j['quarantine_held'] == 1 and j['unanswered']['count'] == 1"
json "j['unanswered']['oldest']['ticket'] == 1 and j['daemon']['pid_file_locked'] in (True, False)"
json "any('deferred' in r for r in j['reasons'])"

id=$(sql "$G" "select id from outbox where status = 'queued'")
gw "$G" outbox cancel "$id" >/dev/null || dg_fail "outbox cancel"
st
expect 0 '^status: ok$' "deferred mail cancelled"

# -- a mailbox added to the file, not yet reloaded; reloaded; removed ----------
cp "$G/deskgate.conf" "$G/good.conf"
cat >>"$G/deskgate.conf" <<CONF

[mailbox broken]
host = 127.0.0.1
port = $(dg_free_port)
security = none
username = nobody@example.test
password = x
timeout = 2
CONF
st
expect 1 'mailbox broken: not served by the running daemon \(reload it\)' "mailbox not served"
kill -HUP "$GW_PID"
failing() { st; [ "$RC" = 1 ] && printf '%s\n' "$OUT" | grep -q 'mailbox broken: backoff after'; }
dg_wait_for 15 failing || dg_fail "broken mailbox: exit $RC: $OUT"
expect 1 'status: degraded: mailbox broken: backoff after [0-9]+ failures?: ' "mailbox failing"
cp "$G/good.conf" "$G/deskgate.conf"
kill -HUP "$GW_PID"
healthy() { st; [ "$RC" = 0 ]; }
dg_wait_for 10 healthy || dg_fail "after removing the mailbox: exit $RC: $OUT"
expect 0 '^status: ok$' "mailbox removed"

# -- a loop that does not tick (SIGSTOP), its status file a minute old ------------
kill -STOP "$GW_PID"
dg_on_exit "kill -CONT $GW_PID 2>/dev/null"
python3 - "$G/deskgate-status.json" <<'PY'
import json, sys, time
j = json.load(open(sys.argv[1]))
j["updated_at"] = int(time.time()) - 120
open(sys.argv[1], "w").write(json.dumps(j))
PY
st
if flock -n -s "$pidfile" true; then
	# the daemon does not lock its pid file (yet): a stale status cannot tell
	expect 3 'is it deskgate' "stopped loop, unlocked pid file"
else
	expect 1 'has not updated its status for 1[0-9][0-9] s: its loop is busy or stuck' "stopped loop"
fi
kill -CONT "$GW_PID"
dg_wait_for 10 healthy || dg_fail "after SIGCONT: exit $RC: $OUT"
expect 0 '^status: ok$' "loop running again"

# -- stopped -------------------------------------------------------------------------
gw_stop
dg_assert_eq 0 "$GW_RC" "daemon exit"
st
expect 2 '^status: not_running: not running \(no pid file\)$' "stopped"
printf '%s\n' "$OUT" | grep -qE '^daemon: not running \(last seen .*, stopped cleanly\)$' ||
	dg_fail "daemon line after a stop: $OUT"
python3 -c "import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if j['stopped_at'] >= j['started_at'] else 1)" \
	"$G/deskgate-status.json" || dg_fail "status file: $(cat "$G/deskgate-status.json")"

RC=0
OUT=$("$DESKGATE" -c "$DG_ROOT/nonexistent.conf" status 2>&1) || RC=$?
expect 3 '^status: unknown: cannot read the configuration: .*nonexistent.conf' "no configuration"
RC=0
OUT=$("$DESKGATE" -c "$DG_ROOT/nonexistent.conf" status --json 2>&1) || RC=$?
[ "$RC" = 3 ] || dg_fail "--json without configuration: exit $RC"
json 'j["status"] == "unknown" and j["outbox"] is None'
RC=0
OUT=$(gw "$G" status --bogus 2>&1) || RC=$?
expect 64 'usage: deskgate' "unknown option"
dg_log "ok"
