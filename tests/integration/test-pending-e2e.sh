#!/bin/bash
# test-pending-e2e: issue 13's "waiting on the customer, solved, closed"
# end to end with real parts: a real Postfix delivers into a real Dovecot;
# the test build of deskgate (tests/deskgate-test, DESKGATE_TEST_CLOCK in a
# file) reads the support mailbox over IMAP and sends through Postfix; the
# agent and the customer answer with s-nail. The test moves the clock;
# nothing sleeps for a business day. Desk: Mon-Fri 09:00-18:00 Berlin,
# [pending] remind_after 3, solve_after 4 (the defaults). The story:
#   1. a customer's mail; the agent answers with #pending: the customer gets
#      the answer, the ticket waits, its clocks pause;
#   2. three business days later one reminder is delivered to the
#      customer, in the customer's thread (runs after it send nothing);
#   3. four business days after the reminder the ticket is solved: the
#      solved notice is delivered, and says until when a reply reopens;
#   4. the customer answers the notice: the same ticket opens again;
#   5. the agent answers with #solved: the answer, then the notice; the
#      customer's reply within the grace reopens the same ticket again.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-pending-e2e
dg_require_cmd s-nail
dg_require_cmd sqlite3
deskgate=$builddir/tests/deskgate-test
[ -x "$deskgate" ] || dg_fail "no test build at $deskgate"

support=support@example.test
customer=wang@example.net
alice=alice@example.test
desk_e2e_start $support $customer $alice
desk_e2e_desk $support
cat >>"$conf" <<CONF

[hours]
timezone = Europe/Berlin
week = mon-fri 09:00-18:00

[agent alice]
address = $alice
name = Alice Agent
queues = general

[queue general]
categories = other, delayed_payment, account_security, failed_trade, registration, complaint
agents = alice

[sla default]
first_response = 2h
next_response = 4h
CONF
export DESKGATE_TEST_CLOCK=$gw/clock
at() { echo "$1" >"$DESKGATE_TEST_CLOCK"; }
at 2025-03-11T09:00:00Z
desk_e2e_check

sql() { sqlite3 "$gw/deskgate.db" "$1"; }
process() {
	timeout 60 "$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 ||
		dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
	local left
	left=$(sql "select count(*) from outbox where status <> 'sent'")
	[ "$left" = 0 ] || dg_fail "outbox rows not sent: $(sql "select id, kind, status, last_error from outbox where status <> 'sent'")"
	drain
}
# reply USER FROM SUBJECT-SUBSTRING TEXT: USER answers their newest message
# whose subject holds SUBJECT-SUBSTRING with s-nail (Reply-To honoured)
reply() {
	$helper mbox "$(dg_maildir "$1")" "$DG_ROOT/reply.mbox" Subject "$3" || dg_fail "no message '$3' to reply to"
	printf 'reply 1\n%s\n~.\n' "$4" |
		LC_ALL=C.UTF-8 s-nail -:/ -# -S v15-compat=yes -S smtp-auth=none \
			-S mta=smtp://127.0.0.1:$DG_SMTP_PORT -S DEAD="$DG_ROOT/dead.letter" \
			-S sendcharsets=utf-8 -S ttycharset=utf-8 -S reply-to-honour=yes \
			-S quote=noheading -S from="$2" -f "$DG_ROOT/reply.mbox" \
			>/dev/null 2>>"$DG_ROOT/s-nail.log" || dg_fail "s-nail reply failed"
}
status() { sql "select status from tickets where id = 1"; }

dg_log "1. a customer's mail (Tue 10:00 Berlin); Alice answers with #pending"
send "Wang <$customer>" $support "Deposit missing" \
	"Hello, my deposit of 500 USDT has not arrived yet. Could you check it please?"
wait_count $support 1
process
wait_count $alice 1
wait_count $customer 1
at 2025-03-11T09:30:00Z
reply $alice "Alice Agent <$alice>" "Deposit missing" \
	$'#pending\nHello, could you send us the transaction hash of the deposit?\n\nAlice'
wait_count $support 2
process
wait_count $customer 2
dg_assert_eq pending "$(status)" "ticket 1 after #pending"
dg_assert_eq 1 "$(sql "select count(*) from events where ticket_id = 1 and kind = 'sla-paused'")" "the clocks paused"
case $($helper get "$(dg_maildir $customer)" Subject "Deposit missing" body) in
*"#pending"*) dg_fail "the command reached the customer" ;; esac

dg_log "2. Fri 10:30 Berlin, three business days later: one reminder"
at 2025-03-14T09:29:00Z
process
dg_assert_eq 0 "$(count $customer Subject 'Waiting for your reply')" "no reminder before its time"
at 2025-03-14T09:31:00Z
process
wait_count $customer 1 Subject 'Waiting for your reply'
at 2025-03-14T12:00:00Z
process
process
dg_assert_eq 1 "$(count $customer Subject 'Waiting for your reply')" "one reminder, however many runs"
cm=$(dg_maildir $customer)
case $($helper get "$cm" Subject "Waiting for your reply" Subject) in *"[Support #1]"*) ;;
*) dg_fail "reminder subject: $($helper get "$cm" Subject "Waiting for your reply" Subject)" ;; esac
cust_msgid=$(sql "select message_id from messages where ticket_id = 1 and direction = 'in' order by id desc limit 1")
dg_assert_eq "<$cust_msgid>" "$($helper get "$cm" Subject "Waiting for your reply" In-Reply-To)" "reminder In-Reply-To"
dg_assert_eq auto-generated "$($helper get "$cm" Subject "Waiting for your reply" Auto-Submitted)" "reminder Auto-Submitted"
dg_assert_eq pending "$(status)" "ticket 1 after the reminder"

dg_log "3. Thu 10:31 Berlin, four business days after the reminder: solved"
at 2025-03-20T09:29:00Z
process
dg_assert_eq pending "$(status)" "not solved before its time"
at 2025-03-20T09:35:00Z
process
wait_count $customer 1 Subject 'Your request is solved'
dg_assert_eq closed "$(status)" "ticket 1 solved automatically"
case $($helper get "$cm" Subject "Your request is solved" body) in
*"reply to this message before"*) ;;
*) dg_fail "solved notice body: $($helper get "$cm" Subject "Your request is solved" body)" ;; esac
dg_assert_eq 1 "$(sql "select count(*) from events where ticket_id = 1 and kind = 'closed' and detail like 'solved by auto%'")" \
	"the closing event (auto)"
process
dg_assert_eq 1 "$(count $customer Subject 'Your request is solved')" "one solved notice"

dg_log "4. the customer answers the notice (Fri): the same ticket opens again"
at 2025-03-21T09:00:00Z
before=$(count $support)
reply $customer "Wang <$customer>" "Your request is solved" $'Sorry for the delay, the hash is 0xabc123.'
wait_count $support $((before + 1))
process
dg_assert_eq open "$(status)" "ticket 1 reopened by the customer's reply"
dg_assert_eq 1 "$(sql 'select count(*) from tickets')" "no new ticket"

dg_log "5. Alice answers with #solved; the customer's reply within the grace reopens it"
wait_count $alice 1 Subject 'Reopened'
at 2025-03-21T09:30:00Z
n_before=$(count $customer)
reply $alice "Alice Agent <$alice>" "Reopened" $'#solved\nThank you, the deposit is credited now.\n\nAlice'
wait_count $support $((before + 2))
process
wait_count $customer $((n_before + 2))
dg_assert_eq closed "$(status)" "ticket 1 after #solved"
dg_assert_eq 2 "$(count $customer Subject 'Your request is solved')" "the second solved notice"
dg_assert_eq 1 "$(sql "select count(*) from events where ticket_id = 1 and kind = 'closed' and detail like 'solved by agent $alice%'")" \
	"the closing event (agent)"
at 2025-03-25T09:00:00Z
before=$(count $support)
reply $customer "Wang <$customer>" "Your request is solved" $'It is gone again from my balance!'
wait_count $support $((before + 1))
process
dg_assert_eq open "$(status)" "ticket 1 reopened within the grace"
dg_assert_eq 1 "$(sql 'select count(*) from tickets')" "still one ticket"

dg_log "ticket 1's events:"
sql "select datetime(at, 'unixepoch') || ' ' || kind || ': ' || detail from events where ticket_id = 1 order by id"
dg_log "the customer's mailbox (headers only):"
$helper thread "$cm"
dg_log "all steps passed"
