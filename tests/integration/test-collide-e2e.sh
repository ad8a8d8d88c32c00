#!/bin/bash
# test-collide-e2e: collisions and #cc (issue 15) end to end with real
# parts (Postfix, Dovecot, `deskgate run --once`, s-nail as every person's
# mail client). The story:
#   1. a customer writes; Alice and Bob (one queue) are both notified;
#   2. Alice answers from her client: the customer gets it;
#   3. Bob answers a minute later from his: his answer is held, the
#      customer gets nothing more, and Bob's client shows "Held, confirm:"
#      with Alice's answer quoted;
#   4. Bob replies to that mail with #send-anyway: the customer gets his
#      answer, once; a second #send-anyway sends nothing and tells Bob so;
#   5. Alice answers with "#cc partner@example.net": the partner receives
#      that answer (Cc), the customer too.
# What Bob's s-nail shows for the confirmation request and what the
# partner's shows are printed (for the issue's closing note).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-collide-e2e
dg_require_cmd s-nail

support=support@example.test
customer=wang@example.net
partner=partner@example.net
alice=alice@example.test
bob=bob@example.test
desk_e2e_start $support $customer $partner $alice $bob
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


dg_log "1. the customer writes"
printf 'Hello,\nmy deposit of 500 USDT has not arrived since yesterday.\n\nWang\n' |
	snail "Wang <$customer>" -s 'deposit missing' $support || dg_fail "s-nail send failed"
wait_count $support 1
process
wait_count $customer 1
wait_count $alice 1 Subject 'New:'
wait_count $bob 1 Subject 'New:'

dg_log "2. Alice answers"
reply $alice "Alice Agent <$alice>" Subject 'New:' 'Your deposit needs 64 confirmations; it has 40 now.'
wait_count $support 2
process
wait_count $customer 2
cm=$(maildir $customer)

dg_log "3. Bob answers too, a moment later: held"
reply $bob "Bob Agent <$bob>" Subject 'New:' 'We credited your deposit manually.'
wait_count $support 3
process
wait_count $bob 1 Subject 'Held, confirm:'
bm=$(maildir $bob)
held=$($helper get "$bm" Subject 'Held, confirm:' body)
for want in "HELD and NOT sent" "$alice answered" "> Your deposit needs 64 confirmations" \
	"#send-anyway" "> We credited your deposit manually."; do
	case $held in *"$want"*) ;; *) dg_fail "confirmation request lacks \"$want\": $held" ;; esac
done
dg_assert_eq 2 "$(count $customer)" "the customer got nothing more"
dg_log "what Bob's s-nail shows for the confirmation request:"
show $bob Subject 'Held, confirm:' | sed -n '1,60p'

dg_log "4. Bob confirms with #send-anyway: sent once"
reply $bob "Bob Agent <$bob>" Subject 'Held, confirm:' '#send-anyway'
wait_count $support 4
process
wait_count $customer 3
case $($helper get "$cm" Subject 'Re: [Support #1]' body) in
*"credited your deposit manually"*) ;;
*) dg_fail "Bob's released answer did not reach the customer" ;;
esac
case $($helper get "$cm" Subject 'Re: [Support #1]' raw) in *"$bob"* | *"send-anyway"*) dg_fail "Bob's address or the command reached the customer" ;; esac
reply $bob "Bob Agent <$bob>" Subject 'Held, confirm:' '#send-anyway'
wait_count $support 5
process
wait_count $bob 1 Subject 'Not applied:'
case $($helper get "$bm" Subject 'Not applied:' body) in
*"no reply is held"*) ;;
*) dg_fail "second #send-anyway: $($helper get "$bm" Subject 'Not applied:' body)" ;;
esac
dg_assert_eq 3 "$(count $customer)" "a second #send-anyway sent nothing"
dg_assert_eq 1 "$(sql "select count(*) from events where kind = 'released'")" "one release"

dg_log "5. Alice copies the customer's partner"
reply $alice "Alice Agent <$alice>" Subject 'New:' $'#cc partner@example.net\nWe have asked your partner to confirm the transfer.'
wait_count $support 6
process
wait_count $partner 1
wait_count $customer 4
pm=$(maildir $partner)
case $($helper get "$pm" Subject 'Re: [Support #1]' body) in
*"asked your partner to confirm"*) ;;
*) dg_fail "the partner did not get the answer" ;;
esac
case $($helper get "$pm" Subject 'Re: [Support #1]' raw) in
*"$alice"* | *"#cc"*) dg_fail "Alice's address or the command reached the partner" ;;
esac
dg_log "what the partner's s-nail shows:"
show $partner Subject 'Re: [Support #1]' | sed -n '1,30p'

dg_log "the customer's mailbox (headers only):"
$helper thread "$cm"
dg_log "all steps passed"
