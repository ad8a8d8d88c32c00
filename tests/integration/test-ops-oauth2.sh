#!/bin/bash
# OAuth2 that does not fail silently, against a real Dovecot whose oauth2
# passdb asks a local introspection endpoint (tests/harness/oauth2.sh):
# - XOAUTH2 and OAUTHBEARER logins with a token from token_command fetch
#   mail into tickets (run --once);
# - the daemon, its token revoked (a refresh token that expired): Dovecot
#   keeps refusing it, the token command is run again, and after
#   [alerts] after = 2 failed logins the mailbox's state is auth_failed in
#   `deskgate status` (exit 1) and in the metrics, and the supervisors get
#   ONE alert mail (an outbox row of kind alert, recorded as an "outage"
#   event), however many retries follow and across a restart of the
#   daemon; a new token: ONE all-clear, status ok, mail fetched again;
# - a token command that fails is an outage too (one alert, one all-clear).
. "$top_srcdir/tests/integration/imap-lib.sh"
. "$top_srcdir/tests/harness/oauth2.sh"
dg_root_init test-ops-oauth2
dg_require_cmd dovecot doveadm sqlite3 python3 openssl
dg_dovecot_adduser "$USER1" secret
dg_oauth2_setup
dg_dovecot_start
MAILDIR=$(dg_maildir "$USER1")
GW_PID=
dg_on_exit gw_kill

G=$DG_ROOT/gw
tokfile=$DG_ROOT/token
echo tok-A >"$tokfile"
dg_oauth2_grant tok-A "$USER1"
# the token command: the token file, or a failure when $DG_ROOT/broken exists
cat >"$DG_ROOT/token-cmd" <<EOF
#!/bin/sh
[ -e "$DG_ROOT/broken" ] && { echo "token endpoint: invalid_grant" >&2; exit 1; }
cat "$tokfile"
EOF
chmod +x "$DG_ROOT/token-cmd"
mport=$(dg_free_port)
gw_new "$G" auth=xoauth2 "token_command=$DG_ROOT/token-cmd"
sed -i '/^password = secret$/d' "$G/deskgate.conf"
cat >>"$G/deskgate.conf" <<CONF

[agent olga]
address = olga@staff.example

[alerts]
supervisors = olga, oncall@example.test

[metrics]
listen = 127.0.0.1:$mport
CONF
notices() { sql "$G" "select count(*) from outbox where kind = 'alert'"; }

# -- XOAUTH2, then OAUTHBEARER: real logins, mail fetched ------------------------
seed 1 1
gw "$G" run --once >>"$G/once.log" 2>&1 || dg_fail "run --once (xoauth2): $(tail -5 "$G/once.log")"
[ "$(sql "$G" "select count(*) from tickets")" = 1 ] || dg_fail "xoauth2: no ticket"
grep -q "method=XOAUTH2" "$DG_ROOT/dovecot/dovecot.log" || dg_fail "Dovecot saw no XOAUTH2 login"
sed -i 's/^auth = xoauth2$/auth = oauthbearer/' "$G/deskgate.conf"
seed 1 2
gw "$G" run --once >>"$G/once.log" 2>&1 || dg_fail "run --once (oauthbearer): $(tail -5 "$G/once.log")"
[ "$(sql "$G" "select count(*) from tickets")" = 2 ] || dg_fail "oauthbearer: no ticket"
grep -q "method=OAUTHBEARER" "$DG_ROOT/dovecot/dovecot.log" || dg_fail "Dovecot saw no OAUTHBEARER login"
[ "$(dg_oauth2_count active)" -ge 2 ] || dg_fail "the endpoint validated no token"
dg_log "XOAUTH2 and OAUTHBEARER logins against Dovecot's oauth2 passdb: 2 tickets"

# -- the daemon; the token revoked -------------------------------------------------
gw_start "$G"
dg_wait_port "$mport" 10 || dg_fail "no metrics port: $(tail -5 "$G/run.log")"
idle() { grep -q "connected to .*IDLE" "$G/run.log"; }
dg_wait_for 15 idle || dg_fail "the daemon did not connect: $(tail -5 "$G/run.log")"
dg_oauth2_revoke tok-A
inactive_before=$(dg_oauth2_count inactive)
dg_dovecot_restart # the connection drops; every new login is refused
outage_sent() { [ "$(notices)" = 1 ]; }
dg_wait_for 30 outage_sent || dg_fail "no alert: $(tail -10 "$G/run.log")"
scrape() {
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
		"http://127.0.0.1:$mport/metrics"
}
state_is() { scrape | grep -qx "deskgate_mailbox_state{mailbox=\"support\",state=\"$1\"} 1"; }
dg_wait_for 10 state_is auth_failed || dg_fail "metrics: not auth_failed: $(scrape | grep mailbox_state)"
st_out=$(gw "$G" status 2>&1)
st_rc=$?
[ "$st_rc" = 1 ] || dg_fail "status exit $st_rc during the outage: $st_out"
echo "$st_out" | grep -q "mailbox support: auth_failed" || dg_fail "status: $st_out"
# retries go on (the token command runs again each time), no second alert
refused_more() { [ "$(dg_oauth2_count inactive)" -ge $((inactive_before + 4)) ]; }
dg_wait_for 40 refused_more || dg_fail "no retries: $(tail -5 "$G/run.log")"
[ "$(notices)" = 1 ] || dg_fail "$(notices) alerts for one outage"
rcpts=$(sql "$G" "select recipients from outbox where kind = 'alert'")
[ "$rcpts" = "olga@staff.example, oncall@example.test" ] || dg_fail "alert to: $rcpts"
[ "$(sql "$G" "select count(*) from events where kind = 'outage' and detail like 'mailbox support: %'")" = 1 ] ||
	dg_fail "the outage is not recorded once"
grep -q "tok-A" "$G/run.log" "$G/deskgate.db" && dg_fail "the token is in the log or the store"
dg_log "token refused: auth_failed (status 1, metrics), 1 alert after $(($(dg_oauth2_count inactive) - inactive_before)) refusals"

# -- a restart during the outage sends nothing new ---------------------------------
gw_stop
gw_start "$G"
dg_wait_port "$mport" 10 || dg_fail "no metrics port after the restart"
inactive_before=$(dg_oauth2_count inactive)
refused_again() { [ "$(dg_oauth2_count inactive)" -ge $((inactive_before + 2)) ]; }
dg_wait_for 20 refused_again || dg_fail "no logins after the restart"
sleep 1
[ "$(notices)" = 1 ] || dg_fail "the restart sent another alert ($(notices))"

# -- a new token: one all-clear ------------------------------------------------------
seed 1 3
echo tok-B >"$tokfile"
dg_oauth2_grant tok-B "$USER1"
recovered() { [ "$(notices)" = 2 ] && [ "$(sql "$G" "select count(*) from tickets")" = 3 ]; }
dg_wait_for 40 recovered || dg_fail "no recovery: $(notices) notices; $(tail -5 "$G/run.log")"
sql "$G" "select raw from outbox where kind = 'alert' order by id desc limit 1" |
	grep -q "mailbox support logs in again" || dg_fail "the all-clear says something else"
dg_wait_for 10 state_is idle || dg_fail "metrics: not idle after the recovery"
# (no relay here: the alerts wait in the outbox, which status reports too)
st_ok() { gw "$G" status 2>&1 | grep -q "^mailbox support: idle"; }
dg_wait_for 10 st_ok || dg_fail "status after the recovery: $(gw "$G" status 2>&1)"
gw "$G" status 2>&1 | grep -q auth_failed && dg_fail "status still says auth_failed"
dg_log "new token: 1 all-clear, the waiting mail fetched, the mailbox idle again"

# -- the token command fails: an outage of its own -----------------------------------
# (the cached token is used until it is refused: then the command runs)
touch "$DG_ROOT/broken"
dg_oauth2_revoke tok-B
dg_dovecot_restart
second() { [ "$(notices)" = 3 ]; }
dg_wait_for 30 second || dg_fail "no alert for a failing token command: $(tail -5 "$G/run.log")"
sql "$G" "select detail from events where kind = 'outage' order by id desc limit 1" |
	grep -q "token_command exited with status 1" ||
	dg_fail "the alert does not say the command failed: $(sql "$G" "select detail from events where kind = 'outage'")"
echo tok-C >"$tokfile"
dg_oauth2_grant tok-C "$USER1"
rm -f "$DG_ROOT/broken"
third() { [ "$(notices)" = 4 ]; }
dg_wait_for 40 third || dg_fail "no all-clear after the command works again"
gw_stop
[ "$(notices)" = 4 ] || dg_fail "$(notices) notices at the end, want 4"
dg_log "token command failing: 1 alert, 1 all-clear"
dg_log ok
