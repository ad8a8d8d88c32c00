#!/bin/bash
# test-merge-e2e: #merge N (issue 15) end to end with real parts (Postfix,
# Dovecot, `deskgate run --once`, s-nail as every person's mail client).
# The story:
#   1. a customer writes twice about one deposit: two tickets, #1 and #2;
#   2. Alice answers #2's notification from her client with "#merge 1";
#   3. the customer gets one notice (#2 merged into #1), Bob (the other
#      agent of the queue) one "Merged:" mail, Alice none;
#   4. the customer replies to the old ticket's acknowledgement: the reply
#      lands in #1, and #2 stays closed;
#   5. Alice asks #1 for its #history: both threads are in it.
# What the customer's, Bob's and Alice's s-nail showed is printed and saved
# to $DESKGATE_NOTES when it is set (a file outside the test's temporary
# directory is written only when asked).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-merge-e2e
dg_require_cmd s-nail

support=support@example.test
customer=wang@example.net
alice=alice@example.test
bob=bob@example.test
desk_e2e_start $support $customer $alice $bob
desk_e2e_desk $support
cat >>"$conf" <<CONF

[agent alice]
address = $alice
name = Alice Agent

[agent bob]
address = $bob
name = Bob Agent

[agent]
collision_minutes = 10

[queue payments]
categories = delayed_payment, failed_trade, other
agents = alice, bob
CONF
desk_e2e_check

# maildir, sql, process, snail, reply, show: desk-e2e.sh

notes=${DESKGATE_NOTES:-}

dg_log "1. the customer writes twice: two tickets"
printf 'Hello,\nmy deposit of 500 USDT has not arrived since yesterday.\n\nWang\n' |
	snail "Wang <$customer>" -s 'deposit missing' $support || dg_fail "s-nail send failed"
wait_count $support 1
process
printf 'Hi again,\nwhere is my deposit?? tx 0x5f3e, still nothing.\n\nWang\n' |
	snail "Wang <$customer>" -s 'where is my deposit??' $support || dg_fail "s-nail send failed"
wait_count $support 2
process
wait_count $customer 2
wait_count $alice 2 Subject 'New:'
dg_assert_eq 2 "$(sql "select count(*) from tickets")" "two tickets"

dg_log "2. Alice merges #2 into #1 from her client"
reply $alice "Alice Agent <$alice>" Subject '#2] New:' '#merge 1'
wait_count $support 3
process
dg_assert_eq 1 "$(sql "select into_id from ticket_merges where ticket_id = 2")" "#2 merged into #1"
dg_assert_eq closed "$(sql "select status from tickets where id = 2")" "#2 closed"
dg_assert_eq open "$(sql "select case when status in ('new','open') then 'open' else status end from tickets where id = 1")" "#1 open"
dg_assert_eq 0 "$(sql "select count(*) from messages where ticket_id = 2")" "#2's mail moved"

dg_log "3. the customer is told once, Bob once, Alice not"
wait_count $customer 3
wait_count $bob 1 Subject 'Merged:'
drain
dg_assert_eq 1 "$(count $customer Subject 'has been merged')" "one notice to the customer"
dg_assert_eq 3 "$(count $customer)" "nothing else to the customer"
dg_assert_eq 1 "$(count $bob Subject 'Merged:')" "one notice to Bob"
dg_assert_eq 0 "$(count $alice Subject 'Merged:')" "none to Alice, who merged"
cm=$(maildir $customer)
notice=$($helper get "$cm" Subject 'has been merged' body)
case $notice in *"merged it into"*) ;; *) dg_fail "the notice: $notice" ;; esac
case $($helper get "$cm" Subject 'has been merged' raw) in
*"$alice"* | *"#merge"*) dg_fail "Alice's address or the command reached the customer" ;;
esac

dg_log "4. the customer answers the OLD ticket's acknowledgement: it lands in #1"
# the newest acknowledgement (auto-replied; the notice is auto-generated) is #2's
case $($helper get "$cm" Auto-Submitted 'auto-replied' raw | grep -i '^Subject:') in
*"#2]"*) ;; *) dg_fail "the newest acknowledgement is not #2's" ;;
esac
reply $customer "Wang <$customer>" Auto-Submitted 'auto-replied' 'Any news? The exchange says it was sent.'
wait_count $support 4
process
dg_assert_eq 1 "$(sql "select ticket_id from messages where text like '%Any news? The exchange%'")" "the reply is on #1"
dg_assert_eq closed "$(sql "select status from tickets where id = 2")" "#2 still closed"
dg_assert_eq 2 "$(sql "select count(*) from tickets")" "no new ticket"

dg_log "5. #history of #1 shows both threads"
reply $alice "Alice Agent <$alice>" Subject '#1] New:' '#history'
wait_count $support 5
process
wait_count $alice 1 Subject 'History:'
am=$(maildir $alice)
hist=$($helper get "$am" Subject 'History:' body)
for want in "has not arrived since yesterday" "where is my deposit??" "Any news? The exchange"; do
	case $hist in *"$want"*) ;; *) dg_fail "#history lacks \"$want\": $hist" ;; esac
done
case $(sql "select group_concat(detail, ' | ') from events where ticket_id = 1 and kind = 'merged'") in
*"merged from #2"*) ;; *) dg_fail "no 'merged from #2' event on #1" ;;
esac

{
	echo "== what the customer's s-nail shows for the merge notice =="
	show $customer Subject 'has been merged' | sed -n '1,60p'
	echo
	echo "== what Bob's s-nail shows for the agents' notice =="
	show $bob Subject 'Merged:' | sed -n '1,60p'
	echo
	echo "== what Alice's s-nail shows for #history of #1 (both threads) =="
	show $alice Subject 'History:' | sed -n '1,120p'
} >"$DG_ROOT/clients.txt"
cat "$DG_ROOT/clients.txt"
if [ -n "$notes" ]; then
	cp "$DG_ROOT/clients.txt" "$notes" || dg_fail "cannot write $notes"
	dg_log "saved to $notes"
fi
dg_log "all steps passed"
