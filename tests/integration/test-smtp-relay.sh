#!/bin/bash
# test-smtp-relay: an agent's answer reaches the customer even when one
# address of the thread is refused, and the agent learns when the customer
# is the one who cannot be reached. Real parts: Postfix delivering into
# Dovecot, deskgate (`run --once`) reading the support mailbox over IMAP and
# sending through Postfix, the agent's mail client s-nail.
#   1. A customer writes with two Cc: a colleague and nobody@example.net, an
#      address Postfix refuses at RCPT (550 5.1.1). Alice answers the
#      notification: the relay reaches the customer and the colleague (it
#      used to fail whole, the ticket showing it answered); each
#      recipient's result is recorded; the ticket's event names the refusal;
#      Alice gets no warning (the customer was reached).
#   2. A customer whose address no longer exists (refused at RCPT) writes;
#      Alice answers: she receives "Not delivered to the customer: ..." in
#      reply to her relay, with the reason, and the ticket says so.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-smtp-relay
dg_require_cmd s-nail

support=support@example.test
customer=wang@example.net
colleague=li@example.net
refused=nobody@example.net
ghost=ghost@example.net
alice=alice@example.test
desk_e2e_start $support $customer $colleague $alice

gw=$DG_ROOT/gw
"$deskgate" init --address $support --hostname gw.example.test "$gw" >/dev/null ||
	dg_fail "deskgate init"
conf=$gw/deskgate.conf
sed -i -e '/^\[general\]/a support_name = Example Support' \
	-e "/^\[smtp\]/a host = 127.0.0.1\nport = $DG_SMTP_PORT\nsecurity = none\ntimeout = 10s" \
	-e '/^\[ack\]/a enabled = no' "$conf"
cat >>"$conf" <<CONF

[mailbox support]
host = 127.0.0.1
port = $DG_IMAP_PORT
security = none
username = $support
password = secret
timeout = 10

[agent alice]
address = $alice
name = Alice Agent
CONF

# maildir, count, wait_count, sql, snail, reply: desk-e2e.sh; process
# here does not require every outbox row sent (relay failures are the test)
process() {
	"$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 ||
		dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
}
# A customer's mail, straight into the support mailbox over LMTP (the
# customer's own provider took it; a Cc may have died since).
customer_mail() { # FROM CC SUBJECT MSGID
	{
		printf 'From: %s\r\nTo: %s\r\n' "$1" "$support"
		[ -n "$2" ] && printf 'Cc: %s\r\n' "$2"
		printf 'Subject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n\r\n' "$3" "$4" "$(date -R)"
		printf 'Hello,\r\nmy withdrawal is still pending, order ORD-7.\r\n'
	} >"$DG_ROOT/in.eml"
	dg_lmtp_deliver "$support" "$DG_ROOT/in.eml" || dg_fail "LMTP delivery"
}

dg_log "1. a customer writes, with a colleague and a dead address in Cc"
customer_mail "Wang <$customer>" "$colleague, $refused" "Withdrawal pending" "w1@example.net"
wait_count $support 1
process
wait_count $alice 1 Subject 'New:'
reply $alice "Alice Agent <$alice>" Subject 'New:' $'Hello,\n\nyour withdrawal went out an hour ago.\n\nAlice'
wait_count $support 2
process
wait_count $customer 1 Subject 'Re: [Support #1]'
wait_count $colleague 1 Subject 'Re: [Support #1]'
case $($helper get "$(maildir $customer)" Subject 'Re: [Support #1]' body) in
*"withdrawal went out"*) ;;
*) dg_fail "the relay's text" ;;
esac
relay=$(sql "select id from outbox where kind = 'relay' and ticket_id = 1")
dg_assert_eq sent "$(sql "select status from outbox where id = $relay")" "relay row"
dg_assert_eq "$colleague sent 250
$refused failed 550 5.1.1
$customer sent 250" \
	"$("$deskgate" -c "$conf" outbox show "$relay" --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
for r in sorted(o["recipient_results"], key=lambda r: r["address"]):
    code = r["code"] if r["status"] == "failed" else (r["code"] or "")[:3]
    print(r["address"], r["status"], code)')" \
	"each recipient's result"
sql "select detail from events where ticket_id = 1 and kind = 'mail-sent'" | grep -q "not delivered to $refused (550 5.1.1" ||
	dg_fail "the event does not name the refusal: $(sql "select detail from events where ticket_id = 1")"
dg_assert_eq 0 "$(count $alice Subject 'Not delivered')" "warnings to Alice (the customer was reached)"
dg_log "the relay reached the customer and the colleague; $refused refused (550 5.1.1), recorded"

dg_log "2. a customer whose address is gone"
customer_mail "Ghost <$ghost>" "" "Account locked" "g1@example.net"
wait_count $support 3
process
wait_count $alice 1 Subject '[Support #2] New:'
reply $alice "Alice Agent <$alice>" Subject '[Support #2] New:' $'Hello,\n\nyour account is unlocked.\n\nAlice'
wait_count $support 4
process
relay2=$(sql "select id from outbox where kind = 'relay' and ticket_id = 2")
dg_assert_eq failed "$(sql "select status from outbox where id = $relay2")" "relay row to a dead customer"
# the warning is queued in that run and sent by the next
process
wait_count $alice 1 Subject 'Not delivered to the customer'
am=$(maildir $alice)
w_body=$($helper get "$am" Subject 'Not delivered' body)
case $w_body in *"did not reach the customer $ghost"*"550 5.1.1"*) ;; *) dg_fail "the warning's text: $w_body" ;; esac
relay2_msgid=$(sql "select message_id from outbox where id = $relay2")
dg_assert_eq "<$relay2_msgid>" "$($helper get "$am" Subject 'Not delivered' In-Reply-To)" "the warning answers the relay"
case $($helper get "$am" Subject 'Not delivered' Subject) in *"[Support #2]"*) ;; *) dg_fail "the warning's subject" ;; esac
sql "select detail from events where ticket_id = 2 and kind = 'mail-undeliverable'" | grep -q "$alice told" ||
	dg_fail "no mail-undeliverable event: $(sql "select kind, detail from events where ticket_id = 2")"
dg_log "the customer was refused: Alice was told, in reply to her relay"
dg_log PASS
