#!/bin/bash
# test-smtp-postfix: deskgate's outbox through a real Postfix into a real
# Dovecot, read back over IMAP: plain, STARTTLS, SMTPS, AUTH PLAIN and
# LOGIN on the submission port (Dovecot SASL), a refused certificate, a
# wrong password, 4xx then success (Postfix access map), 5xx (unknown
# user), the MTA down then back, a crash between queueing and sending, and
# a real Postfix bounce matched to its outbox row (VERP and Message-ID).
# Every delivered message is parsed by Python's email package.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/harness/lib.sh"
. "$srcdir/tests/harness/dovecot.sh"
. "$srcdir/tests/harness/postfix.sh"
dg_root_init test-smtp-postfix
dg_require_cmd python3 postfix dovecot openssl
[ "$(id -u)" = 0 ] || dg_skip "needs root to run Postfix"
tool=$builddir/tests/integration/smtp-tool
deskgate=${DESKGATE:-$builddir/deskgate}
[ -x "$tool" ] || dg_fail "$tool not built"
check="python3 $srcdir/tests/harness/mailcheck.py"

dg_postfix_adduser support@example.test secret
dg_postfix_adduser alice@example.net alicepw
dg_postfix_adduser tempfail@example.net pw
dg_postfix_access tempfail@example.net '451 4.3.0 not now, try again later'
# a remote system that refuses everyone: Postfix bounces to the sender
remote=$(dg_free_port)
python3 "$srcdir/tests/harness/smtpfault.py" --port "$remote" --fault rcpt=550 \
	>"$DG_ROOT/remote.log" 2>&1 &
dg_on_exit "kill $!"
dg_postfix_transport bounce.example.net "smtp:[127.0.0.1]:$remote"
dg_dovecot_start
dg_postfix_start
printf 'secret\n' >"$DG_ROOT/smtp.pw"
printf 'wrong\n' >"$DG_ROOT/wrong.pw"
# a CA that did not sign Postfix's certificate
mkdir -p "$DG_ROOT/other"
dg_make_ca "$DG_ROOT/other"

conf() {
	local name=$1 port=$2 security=$3
	shift 3
	mkdir -p "$DG_ROOT/$name"
	{
		printf '[general]\nstate_dir = %s\nhostname = gw.example.test\n' "$DG_ROOT/$name/state"
		printf 'support_address = support@example.test\nlog_level = error\n'
		printf '[smtp]\nhost = 127.0.0.1\nport = %s\nsecurity = %s\n' "$port" "$security"
		printf 'timeout = 10s\nretry_initial = 10s\nretry_max_age = 1h\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$DG_ROOT/$name/deskgate.conf"
	echo "$DG_ROOT/$name/deskgate.conf"
}

status() {
	"$deskgate" -c "$1" outbox list --json | python3 -c '
import json, sys
for o in json.load(sys.stdin):
    if o["id"] == int(sys.argv[1]):
        print(o["status"], o["attempts"], o["last_code"] or "-")' "$2"
}

subject='回复：您的工单 已收到 — Ticket received'
toname='张伟'
now=$(date +%s)

# send NAME CONF: queue one message to alice, run once, print "id msgid result"
send() {
	local c=$2 id msgid out
	read -r id msgid < <("$tool" queue -c "$c" --to alice@example.net --to-name "$toname" \
		--subject "$subject" --text $'您好，\n工单已收到。\n' --new-ticket --auto --now "$now")
	out=$("$tool" run -c "$c" --now "$now" 2>"$DG_ROOT/$1/run.log")
	echo "$id $msgid $out"
}

# delivered MSGID: wait for exactly one copy in alice's INBOX, parse it
delivered() {
	local n
	n=$($check imap-wait "$DG_IMAP_PORT" alice@example.net alicepw "$1" 1 10)
	dg_assert_eq 1 "$n" "copies of <$1> in the mailbox"
	$check imap-fetch "$DG_IMAP_PORT" alice@example.net alicepw "$1" "$DG_ROOT/fetched.eml"
	$check parse "$DG_ROOT/fetched.eml" --subject "$subject" --to-name "$toname" \
		--text $'您好，\n工单已收到。\n' >/dev/null || dg_fail "delivered <$1> does not parse cleanly"
}

for mode in plain starttls smtps auth-plain auth-login; do
	dg_log "delivery: $mode"
	case $mode in
	plain) c=$(conf $mode "$DG_SMTP_PORT" none) ;;
	starttls) c=$(conf $mode "$DG_SMTP_PORT" starttls "ca_file = $DG_CA_FILE") ;;
	smtps) c=$(conf $mode "$DG_SMTPS_PORT" smtps "ca_file = $DG_CA_FILE") ;;
	auth-plain | auth-login)
		c=$(conf $mode "$DG_SUBMIT_PORT" starttls "ca_file = $DG_CA_FILE" \
			"auth = ${mode#auth-}" "username = support@example.test" \
			"password_file = $DG_ROOT/smtp.pw")
		;;
	esac
	read -r id msgid out < <(send $mode "$c")
	dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "$mode run"
	dg_assert_eq "sent 1 250 2.0.0" "$(status "$c" "$id")" "$mode row"
	delivered "$msgid"
	grep -q secret "$DG_ROOT/$mode/run.log" && dg_fail "the password appears in the log"
done

dg_log "refused certificate (another CA, and the system's): deferred, not sent"
for ca in "ca_file = $DG_ROOT/other/ca.pem" ""; do
	c=$(conf badcert "$DG_SMTP_PORT" starttls "$ca")
	read -r id msgid out < <(send badcert "$c")
	dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=1 more=0" "$out" "bad certificate run"
	"$deskgate" -c "$c" outbox show "$id" | grep -qi 'certificate\|ssl\|tls' ||
		dg_fail "the error does not name the certificate: $("$deskgate" -c "$c" outbox show "$id")"
	dg_assert_eq 0 "$($check imap-count "$DG_IMAP_PORT" alice@example.net alicepw "$msgid")" \
		"copies sent over an unverified connection"
	rm -rf "$DG_ROOT/badcert"
done

dg_log "wrong password: deferred (relay problem), not failed"
c=$(conf badpw "$DG_SUBMIT_PORT" starttls "ca_file = $DG_CA_FILE" "auth = plain" \
	"username = support@example.test" "password_file = $DG_ROOT/wrong.pw")
read -r id msgid out < <(send badpw "$c")
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=1 more=0" "$out" "wrong password run"

dg_log "5xx: unknown recipient fails at once"
c=$(conf perm "$DG_SMTP_PORT" none)
read -r id msgid < <("$tool" queue -c "$c" --to nobody@example.net --subject x --text y \
	--new-ticket --now "$now")
out=$("$tool" run -c "$c" --now "$now" 2>/dev/null)
dg_assert_eq "sent=0 deferred=0 failed=1 relay_down=0 more=0" "$out" "5xx run"
dg_assert_eq "failed 1 550 5.1.1" "$(status "$c" "$id")" "5xx row"
"$deskgate" -c "$c" ticket show 1 | grep -q 'mail-failed' || dg_fail "no mail-failed event"

dg_log "4xx then success (Postfix access map)"
c=$(conf tempf "$DG_SMTP_PORT" none)
read -r id msgid < <("$tool" queue -c "$c" --to tempfail@example.net --subject x --text y \
	--new-ticket --now "$now")
out=$("$tool" run -c "$c" --now "$now" 2>/dev/null)
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=0 more=0" "$out" "4xx run"
dg_assert_eq "queued 1 451 4.3.0" "$(status "$c" "$id")" "4xx row"
dg_postfix_access_clear
dg_postfix_reload
out=$("$tool" run -c "$c" --now $((now + 10)) 2>/dev/null)
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "retry run"
dg_assert_eq 1 "$($check imap-wait "$DG_IMAP_PORT" tempfail@example.net pw "$msgid" 1 10)" \
	"copies after the retry"

dg_log "MTA down, then back"
c=$(conf down "$DG_SMTP_PORT" none)
dg_postfix_stop
read -r id msgid out < <(send down "$c")
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=1 more=0" "$out" "MTA down"
dg_postfix_start
out=$("$tool" run -c "$c" --now $((now + 10)) 2>/dev/null)
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "MTA back"
dg_assert_eq "sent 2 250 2.0.0" "$(status "$c" "$id")" "after the outage"
delivered "$msgid"

dg_log "crash between queueing and sending: exactly one copy"
c=$(conf crash "$DG_SMTP_PORT" none)
read -r id msgid < <("$tool" queue -c "$c" --to alice@example.net --to-name "$toname" \
	--subject "$subject" --text $'您好，\n工单已收到。\n' --new-ticket --now "$now")
# queued and committed, then the process is gone; another one marked it
# "sending" and died before reaching the relay
python3 - "$DG_ROOT/crash/state/deskgate.db" "$id" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE outbox SET status = 'sending', attempts = 1 WHERE id = ?", (int(sys.argv[2]),))
db.commit()
PY
"$tool" run -c "$c" >/dev/null 2>&1
"$tool" run -c "$c" >/dev/null 2>&1
dg_assert_eq "sent 2 250 2.0.0" "$(status "$c" "$id")" "crash row"
delivered "$msgid"
sleep 0.5
dg_assert_eq 1 "$($check imap-count "$DG_IMAP_PORT" alice@example.net alicepw "$msgid")" \
	"copies a while later"

dg_log "a real Postfix bounce is matched by VERP, another by Message-ID"
for how in verp msgid; do
	if [ $how = verp ]; then
		c=$(conf b$how "$DG_SMTP_PORT" none "envelope_from = support+{verp}@example.test")
	else
		c=$(conf b$how "$DG_SMTP_PORT" none)
	fi
	read -r id msgid < <("$tool" queue -c "$c" --to ghost@bounce.example.net --subject x \
		--text y --new-ticket --now "$now")
	out=$("$tool" run -c "$c" --now "$now" 2>/dev/null)
	dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "$how: send"
	# the bounce goes to the envelope sender: support's mailbox
	uid=""
	for _ in $(seq 1 100); do
		uid=$($check imap-search "$DG_IMAP_PORT" support@example.test secret Subject Undelivered |
			awk '{print $NF}')
		[ -n "$uid" ] && [ "$uid" != "${last_uid:-}" ] && break
		sleep 0.1
	done
	[ -n "$uid" ] && [ "$uid" != "${last_uid:-}" ] || dg_fail "$how: no bounce arrived"
	last_uid=$uid
	python3 - "$DG_IMAP_PORT" "$uid" "$DG_ROOT/bounce-$how.eml" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("support@example.test", "secret")
m.select("INBOX")
typ, data = m.uid("FETCH", sys.argv[2], "(BODY.PEEK[])")
open(sys.argv[3], "wb").write(data[0][1])
PY
	out=$("$tool" bounce -c "$c" "$DG_ROOT/bounce-$how.eml" 2>/dev/null)
	echo "$out" | grep -q "kind=failed format=rfc3464" || dg_fail "$how: not a DSN: $out"
	echo "$out" | grep -q "rcpt=ghost@bounce.example.net status=5.1.1 code=550" ||
		dg_fail "$how: $out"
	echo "$out" | grep -q "matched=1 outbox=$id" || dg_fail "$how: not matched: $out"
	dg_assert_eq "failed 1 550 5.1.1" "$(status "$c" "$id")" "$how: bounced row"
	"$deskgate" -c "$c" ticket show 1 | grep -q 'mail-bounced' || dg_fail "$how: no event"
	if [ $how = verp ]; then
		grep -qi '^To: support+bounce-'"$id"'-' "$DG_ROOT/bounce-$how.eml" ||
			dg_fail "the bounce did not go to the VERP address"
	fi
done

dg_log "all Postfix scenarios passed"
