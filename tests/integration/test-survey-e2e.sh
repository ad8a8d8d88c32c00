#!/bin/bash
# test-survey-e2e: satisfaction surveys (issue 14) end to end with real
# parts: Postfix delivers into Dovecot, deskgate reads the support mailbox
# over IMAP (`deskgate run --once`) and sends through Postfix, and the
# customer's and agent's mail client is s-nail. The story:
#   1. a customer writes; Alice closes the ticket by answering the
#      notification with #close;
#   2. the survey arrives in the customer's mailbox: text and HTML, five
#      mailto: choices, a Reply-To for a plain answer;
#   3. the customer chooses 4: s-nail sends the prepared mail (to the
#      choice's address, subject "4"); the score is stored and the ticket
#      stays closed;
#   4. a forged vote address (a made-up tag) is refused: the score stays;
#   5. the customer answers the survey with s-nail ("2" and a comment): the
#      later vote replaces the earlier one and Alice is told of the low
#      score.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-survey-e2e
dg_require_cmd s-nail

support=support@example.test
customer=chloe@example.net
alice=alice@example.test
desk_e2e_start $support $customer $alice
desk_e2e_desk $support
cat >>"$conf" <<CONF

[agent alice]
address = $alice
name = Alice Agent

[survey]
enabled = yes
CONF
desk_e2e_check

# sql, snail, reply: desk-e2e.sh; process here counts a check
process() {
	"$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 || dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
	dg_assert_eq 0 "$(sql "select count(*) from outbox where status <> 'sent'")" "outbox sent"
}

dg_log "1. the customer writes; Alice closes the ticket"
printf 'Hello,\nmy withdrawal of 0.5 BTC has been pending since yesterday.\n\nChloe\n' |
	snail "Chloe <$customer>" -s 'Withdrawal pending' $support || dg_fail "s-nail send failed"
wait_count $support 1
process
wait_count $alice 1 Subject 'New:'
reply $alice "Alice Agent <$alice>" Subject 'New:' $'#close\nThe withdrawal went out this morning.'
drain
wait_count $support 2
process
dg_assert_eq closed "$(sql 'select status from tickets where id = 1')" "ticket closed"

dg_log "2. the survey arrives"
wait_count $customer 1 Subject 'How did we do?'
cm=$(dg_maildir $customer)
s_get() { $helper get "$cm" Subject 'How did we do?' "$1"; }
s_body=$(s_get body)
case $s_body in *"Withdrawal pending"*"<mailto:support+v1-5-"*"<mailto:support+v1-1-"*) ;;
*) dg_fail "survey body: $s_body" ;; esac
case $(s_get Reply-To) in *"support+v1-0-"*"@example.test"*) ;; *) dg_fail "survey Reply-To: $(s_get Reply-To)" ;; esac
case $(s_get raw) in *"multipart/alternative"*"text/html"*) ;; *) dg_fail "no HTML alternative" ;; esac
dg_assert_eq "" "$(s_get defects)" "survey defects"
dg_assert_eq 1 "$(sql 'select count(*) from surveys where ticket_id = 1')" "survey recorded"

dg_log "3. the customer chooses 4 (the prepared mail, sent by s-nail)"
vote4=$(printf '%s\n' "$s_body" | sed -n 's/.*<mailto:\(support+v1-4-[^?]*\)?subject=4>.*/\1/p')
[ -n "$vote4" ] || dg_fail "no choice 4 in: $s_body"
printf '\n' | snail "Chloe <$customer>" -s 4 "$vote4" || dg_fail "s-nail vote failed"
drain
wait_count $support 3
process
dg_assert_eq 4 "$(sql 'select score from surveys where ticket_id = 1')" "score stored"
dg_assert_eq "$alice" "$(sql 'select assignee from surveys where ticket_id = 1')" "assignee at the vote"
dg_assert_eq closed "$(sql 'select status from tickets where id = 1')" "a vote does not reopen"
dg_assert_eq 1 "$(sql 'select count(*) from tickets')" "a vote is no ticket"

dg_log "4. a forged vote is refused"
printf '\n' | snail "Chloe <$customer>" -s 5 "support+v1-5-aaaaaaaaaaaaaaaa@example.test" ||
	dg_fail "s-nail forged vote failed"
drain
wait_count $support 4
process
dg_assert_eq 4 "$(sql 'select score from surveys where ticket_id = 1')" "forged vote refused"
dg_assert_eq 1 "$(sql "select count(*) from events where kind = 'report' and detail like 'survey vote refused: vote address%tag does not verify%'")" \
	"refusal recorded"
dg_assert_eq 1 "$(sql 'select count(*) from tickets')" "a forged vote is no ticket"

dg_log "5. the customer answers the survey: a later vote replaces the earlier one"
reply $customer "Chloe <$customer>" Subject 'How did we do?' $'2\nIt took two days.'
drain
wait_count $support 5
process
dg_assert_eq "2|It took two days." "$(sql 'select score, comment from surveys where ticket_id = 1')" \
	"the reply's vote and comment"
wait_count $alice 1 Subject 'Low satisfaction score'
dg_assert_eq 1 "$(sql 'select count(*) from tickets')" "an answer to the survey is no ticket"
"$deskgate" -c "$conf" report --json >"$DG_ROOT/report.json" || dg_fail "deskgate report"
dg_assert_eq "1 1 1" "$(python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['totals']['satisfaction']; print(s['surveys'], s['votes'], s['scores'][1])" "$DG_ROOT/report.json")" \
	"the report counts the vote"
dg_log "all steps passed"
