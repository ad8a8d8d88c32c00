#!/bin/bash
# test-ack-vacation: issue 6 ("Never a loop") end to end with a real
# vacation responder. A real Postfix delivers into a real Dovecot whose
# LMTP runs Pigeonhole Sieve (Debian dovecot-sieve); the customer's mailbox
# has an active script with `vacation`, which sends its replies through
# Postfix (submission_host). deskgate reads the support mailbox over IMAP
# (`deskgate run --once`) and sends its outbox through Postfix. The story:
#   1. the customer writes to support; deskgate opens ticket 1 and sends
#      the acknowledgement (Auto-Submitted: auto-replied);
#   2. the customer's vacation must not answer the acknowledgement (RFC
#      3834 5.2; Pigeonhole honours Auto-Submitted) -- and if it did,
#      deskgate must not answer that;
#   3. a plain mail from the support address in the ticket's thread (what
#      an agent's answer looks like to the customer) does trigger the
#      vacation reply, which arrives in the support mailbox;
#   4. deskgate reads it and stays silent: no second acknowledgement, no
#      new ticket, nothing more to the customer;
#   5. two more rounds and drained queues later, both mailboxes are
#      unchanged: the exchange stops there.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-ack-vacation sieve

support=support@example.test
customer=wang@example.net
for u in $support $customer; do
	dg_postfix_adduser "$u" secret
done
desk_e2e_sieve

# The customer is away: an active script in the home directory.
chome=$(dirname "$(dg_maildir $customer)")
cat >"$chome/.dovecot.sieve" <<'SIEVE'
require "vacation";
vacation :days 1 :addresses ["wang@example.net"]
  "I am away until Monday and will read your mail then.";
SIEVE
mkdir -p "$chome/sieve"
chown -R "$DG_MAIL_USER:" "$chome"

dg_dovecot_start
dg_postfix_start

gw=$DG_ROOT/gw
conf=$gw/deskgate.conf
desk_e2e_gateway "$gw" $support gw.example.test "Example Support"
"$deskgate" -q -c "$conf" config check >/dev/null 2>&1 ||
	dg_fail "config check: $("$deskgate" -c "$conf" config check 2>&1)"

sql() { sqlite3 "$gw/deskgate.db" "$1"; }
acks() { sql "select count(*) from outbox where kind = 'ack'"; }
tickets() { sql 'select count(*) from tickets'; }
outbox() { sql 'select count(*) from outbox'; }

# process: deskgate reads the support mailbox once and sends what it queued
process() {
	"$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 ||
		dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
	local left
	left=$(sql "select count(*) from outbox where status <> 'sent'")
	[ "$left" = 0 ] || dg_fail "outbox rows not sent: $(sql "select id, kind, status, last_error from outbox where status <> 'sent'")"
}
sieve_log() { grep -i "sieve\|vacation" "$DG_ROOT/dovecot/dovecot.log" 2>/dev/null | tail -5; }

dg_log "1. the customer writes to support"
send "Wang Xiaoming <$customer>" $support "Deposit not credited" \
	"Hello, my deposit of 500 USDT from yesterday has not arrived (order ORD20250311001)."
wait_count $support 1
process
dg_assert_eq 1 "$(tickets)" "tickets after the customer's mail"
dg_assert_eq 1 "$(acks)" "acknowledgements after the customer's mail"
wait_count $customer 1 From support@
cm=$(dg_maildir $customer)
dg_assert_eq auto-replied "$($helper get "$cm" From support@ Auto-Submitted)" \
	"the acknowledgement's Auto-Submitted"
ack_subject=$($helper get "$cm" From support@ Subject)
case $ack_subject in *"[Support #1]"*) ;; *) dg_fail "acknowledgement subject: $ack_subject" ;; esac

dg_log "2. the customer's vacation and the acknowledgement"
drain
# Did Pigeonhole see the acknowledgement at all? Its log says what it did.
grep -q "sieve" "$DG_ROOT/dovecot/dovecot.log" 2>/dev/null ||
	dg_fail "Pigeonhole did not run on delivery: $(tail -5 "$DG_ROOT/dovecot/dovecot.log")"
vac_for_ack=$(count $support Auto-Submitted auto-replied)
ack_id=$($helper get "$cm" From support@ Message-ID)
if [ "$vac_for_ack" = 0 ]; then
	dg_log "Pigeonhole did not answer the acknowledgement (it carries Auto-Submitted):"
	grep -F "msgid=$ack_id" "$DG_ROOT/dovecot/dovecot.log" | grep -i vacation | sed 's/.*Info: /  /'
else
	dg_log "Pigeonhole answered the acknowledgement ($vac_for_ack); deskgate must stay silent"
	process
	dg_assert_eq 1 "$(acks)" "acknowledgements after a vacation reply to the acknowledgement"
	dg_assert_eq 1 "$(tickets)" "tickets after a vacation reply to the acknowledgement"
fi

dg_log "3. a plain mail from the support address triggers the vacation reply"
# What an agent's answer looks like to the customer: from the support
# address, in the ticket's thread, no Auto-Submitted.
send "Example Support <$support>" "$customer" "Re: $ack_subject" \
	"Dear customer, we are looking into your deposit." \
	"In-Reply-To: $ack_id"
wait_count $customer 2
has_vacation() { [ "$(count $support Auto-Submitted auto-replied)" -gt "$vac_for_ack" ]; }
dg_wait_for 20 has_vacation || dg_fail "no vacation reply in the support mailbox; log: $(sieve_log)"
vac_from=$($helper get "$(dg_maildir $support)" Auto-Submitted auto-replied From)
case $vac_from in *"$customer"*) ;; *) dg_fail "vacation reply From: $vac_from" ;; esac
dg_log "vacation reply: $($helper get "$(dg_maildir $support)" Auto-Submitted auto-replied Subject)"

dg_log "4. deskgate reads the vacation reply and stays silent"
cust_before=$(count $customer)
outbox_before=$(outbox)
process
dg_assert_eq 1 "$(acks)" "acknowledgements after the vacation reply"
dg_assert_eq 1 "$(tickets)" "tickets after the vacation reply"
dg_assert_eq "$outbox_before" "$(outbox)" "outbox rows queued for the vacation reply"
# It threads to ticket 1 (the "[Support #1]" tag in "Auto: Re: ..."), is
# kept there as the customer's automatic reply, and is not acknowledged.
dg_assert_eq 2 "$(sql "select count(*) from messages where ticket_id = 1 and direction = 'in'")" \
	"inbound messages on ticket 1 (the mail and the vacation reply)"
dg_assert_eq 1 "$(sql "select count(*) from events where ticket_id = 1 and kind = 'ack' and detail like '%automatic reply%'")" \
	"ack refusal event for the vacation reply"
drain
dg_assert_eq "$cust_before" "$(count $customer)" "the customer's mailbox after the vacation reply"

dg_log "5. two more rounds: the exchange stops there"
sup_n=$(count $support)
cust_n=$(count $customer)
process
drain
process
drain
dg_assert_eq "$sup_n" "$(count $support)" "the support mailbox after two more rounds"
dg_assert_eq "$cust_n" "$(count $customer)" "the customer's mailbox after two more rounds"
dg_assert_eq 1 "$(acks)" "acknowledgements at the end"
dg_assert_eq 1 "$(tickets)" "tickets at the end"
dg_log "the customer's mailbox (headers only):"
$helper thread "$cm"
dg_log "the support mailbox (headers only):"
$helper thread "$(dg_maildir $support)"
dg_log "ticket 1 events: $(sql "select kind || ': ' || substr(detail, 1, 80) from events where ticket_id = 1 or kind = 'report'" 2>/dev/null | tr '\n' ';')"
dg_log "all steps passed"
