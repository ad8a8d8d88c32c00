#!/bin/bash
# test-smtp-oauth2: OAuth2 to the relay against a real Postfix whose
# submission port authenticates through Dovecot's SASL socket, and Dovecot's
# oauth2 passdb asking a local introspection endpoint (tests/harness/
# oauth2.sh):
# - [smtp] auth = xoauth2 and auth = oauthbearer deliver with a token from
#   token_command (Postfix logs the mechanism; the token is never logged);
# - the token revoked: the relay refuses it, the token command runs again,
#   the mail is deferred (relay down), not failed; with [alerts] after = 1
#   the refusal opens ONE outage ("relay HOST:PORT", an event and one alert
#   row of kind alert), however many runs follow;
# - a new token: the deferred mail and the alert are delivered, and ONE
#   all-clear is queued.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
top_srcdir=$srcdir
. "$srcdir/tests/harness/lib.sh"
. "$srcdir/tests/harness/dovecot.sh"
. "$srcdir/tests/harness/postfix.sh"
. "$srcdir/tests/harness/oauth2.sh"
dg_root_init test-smtp-oauth2
dg_require_cmd python3 postfix dovecot openssl sqlite3
[ "$(id -u)" = 0 ] || dg_skip "needs root to run Postfix"
tool=$builddir/tests/integration/smtp-tool
deskgate=${DESKGATE:-$builddir/deskgate}
[ -x "$tool" ] || dg_fail "$tool not built"
check="python3 $srcdir/tests/harness/mailcheck.py"

dg_postfix_adduser support@example.test secret
dg_postfix_adduser alice@example.net alicepw
dg_postfix_adduser oncall@example.test oncallpw
dg_oauth2_setup
dg_dovecot_start
dg_postfix_start

tokfile=$DG_ROOT/token
echo tok-A >"$tokfile"
dg_oauth2_grant tok-A support@example.test
: >"$DG_ROOT/token.count"
cat >"$DG_ROOT/token-cmd" <<SH
#!/bin/sh
echo x >>"$DG_ROOT/token.count"
cat "$tokfile"
SH
chmod +x "$DG_ROOT/token-cmd"

conf() {
	local name=$1 mech=$2
	mkdir -p "$DG_ROOT/$name"
	cat >"$DG_ROOT/$name/deskgate.conf" <<CONF
[general]
state_dir = $DG_ROOT/$name/state
hostname = gw.example.test
support_address = support@example.test
log_level = debug
[smtp]
host = 127.0.0.1
port = $DG_SUBMIT_PORT
security = starttls
ca_file = $DG_CA_FILE
timeout = 10s
retry_initial = 10s
retry_max_age = 1d
auth = $mech
username = support@example.test
token_command = $DG_ROOT/token-cmd
[alerts]
supervisors = oncall@example.test
after = 1
CONF
	echo "$DG_ROOT/$name/deskgate.conf"
}
sql() { sqlite3 "$DG_ROOT/$1/state/deskgate.db" "$2"; }
runs() { wc -l <"$DG_ROOT/token.count"; }
now=$(date +%s)

# queue NAME CONF SUBJECT: queue one message to alice; prints "id msgid"
queue() {
	"$tool" queue -c "$2" --to alice@example.net --subject "$3" --text $'Hello,\nticket received.\n' \
		--new-ticket --auto --now "$now"
}

for mech in xoauth2 oauthbearer; do
	dg_log "delivery with $mech"
	c=$(conf $mech $mech)
	read -r id msgid < <(queue $mech "$c" "oauth2 $mech")
	out=$("$tool" run -c "$c" --now "$now" 2>"$DG_ROOT/$mech/run.log")
	dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "$mech run"
	dg_assert_eq 1 "$($check imap-wait "$DG_IMAP_PORT" alice@example.net alicepw "$msgid" 1 10)" \
		"$mech: copies delivered"
	upper=$(echo $mech | tr a-z A-Z)
	grep -q "sasl_method=$upper, sasl_username=support@example.test" "$DG_ROOT/postfix/maillog" ||
		dg_fail "Postfix logged no $upper login: $(grep sasl "$DG_ROOT/postfix/maillog" | tail -3)"
	grep -q tok-A "$DG_ROOT/$mech/run.log" && dg_fail "$mech: the token appears in the log"
done
dg_assert_eq 2 "$(runs)" "token command runs (one per client)"

dg_log "token revoked: deferred, the token command runs again, ONE outage"
c=$(conf revoked oauthbearer)
dg_oauth2_revoke tok-A
read -r id msgid < <(queue revoked "$c" "oauth2 revoked")
before=$(runs)
out=$("$tool" run -c "$c" --now "$now" 2>"$DG_ROOT/revoked/run.log")
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=1 more=0" "$out" "revoked run"
dg_assert_eq $((before + 2)) "$(runs)" "token command runs (first use, then after the refusal)"
dg_assert_eq 1 "$(sql revoked "select count(*) from outbox where kind = 'alert'")" "alerts after one run"
dg_assert_eq 1 "$(sql revoked "select count(*) from events where kind = 'outage' and detail like '%relay 127.0.0.1:$DG_SUBMIT_PORT%'")" \
	"outage events"
grep -q tok-A "$DG_ROOT/revoked/run.log" && dg_fail "revoked: the token appears in the log"
sql revoked "select raw from outbox where kind = 'alert'" | tr -d '\r' | tr '\n' ' ' |
	grep -q "refuses our login" ||
	dg_fail "the alert does not say the relay refuses our login"
grep -q "OUTAGE" "$DG_ROOT/revoked/run.log" || dg_fail "no error line for the outage"
for later in 3600 7200; do
	out=$("$tool" run -c "$c" --now $((now + later)) 2>>"$DG_ROOT/revoked/run.log")
	dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=1 more=0" "$out" "revoked run +$later"
done
dg_assert_eq 1 "$(sql revoked "select count(*) from outbox where kind = 'alert'")" \
	"alerts after three runs (one per outage, not per retry)"
dg_assert_eq "queued" "$(sql revoked "select status from outbox where id = $id")" "the deferred mail"

dg_log "a new token: everything delivered, ONE all-clear"
echo tok-B >"$tokfile"
dg_oauth2_grant tok-B support@example.test
out=$("$tool" run -c "$c" --now $((now + 90000)) 2>>"$DG_ROOT/revoked/run.log")
# the deferred mail, the alert, and the all-clear queued during the run
dg_assert_eq "sent=3 deferred=0 failed=0 relay_down=0 more=0" "$out" "recovery run"
dg_assert_eq 1 "$($check imap-wait "$DG_IMAP_PORT" alice@example.net alicepw "$msgid" 1 10)" \
	"the deferred mail delivered"
dg_assert_eq 2 "$(sql revoked "select count(*) from outbox where kind = 'alert'")" "alert + all-clear"
dg_assert_eq 1 "$(sql revoked "select count(*) from events where kind = 'recovered'")" "recovered events"
out=$("$tool" run -c "$c" --now $((now + 90100)) 2>>"$DG_ROOT/revoked/run.log")
dg_assert_eq 2 "$(sql revoked "select count(*) from outbox where kind = 'alert'")" \
	"alert + all-clear after another run"
dg_assert_eq 0 "$(sql revoked "select count(*) from outbox where status <> 'sent'")" "rows left unsent"
grep -q "tok-A\|tok-B" "$DG_ROOT/revoked/run.log" && dg_fail "a token appears in the log"
dg_log "all SMTP OAuth2 scenarios passed"
