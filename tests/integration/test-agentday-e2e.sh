#!/bin/bash
# test-agentday-e2e: issue 15 end to end with real parts (Postfix, Dovecot,
# `deskgate run --once`, s-nail as every person's mail client). The story:
#   1. a customer writes in Chinese with a screenshot;
#   2. Bob answers with "#reply deposit_not_arrived": the customer gets the
#      canned reply in Chinese, signed with Bob's name;
#   3. Bob hands the ticket to Alice ("#assign alice" and a note): Alice's
#      client shows the whole ticket so far with the screenshot attached, in
#      the ticket's thread;
#   4. Alice mails "#my" to the support address: the list comes back with
#      the ticket and its answer address; she answers the ticket by writing
#      to that address: the customer gets the answer.
# What Alice's s-nail shows for the handover and the customer's mailbox
# are printed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-agentday-e2e
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

[queue payments]
categories = delayed_payment, failed_trade, other
agents = bob
CONF
desk_e2e_check

# maildir, sql, process, snail, reply, show: desk-e2e.sh

desk_e2e_png "$DG_ROOT/screenshot.png"
shot_sha=$(sha256sum "$DG_ROOT/screenshot.png" | cut -d' ' -f1)

dg_log "1. the customer writes, in Chinese, with a screenshot"
printf '你好，\n我昨天充值的 500 USDT 还没有到账。\n截图见附件。\n\n王小明\n' |
	snail "王小明 <$customer>" -s '充值未到账' -a "$DG_ROOT/screenshot.png" $support ||
	dg_fail "s-nail send failed"
wait_count $support 1
process
wait_count $customer 1
wait_count $bob 1

dg_log "2. Bob answers with a canned reply"
reply $bob "Bob Agent <$bob>" Subject 'New:' '#reply deposit_not_arrived'
wait_count $support 2
process
wait_count $customer 2
cm=$(maildir $customer)
canned=$($helper get "$cm" Subject 'Re: [Support #1]' body)
for want in "充值需在区块链网络达到规定的确认数" "工单 #1" "Bob Agent" "我们绝不会向您索取密码"; do
	case $canned in *"$want"*) ;; *) dg_fail "canned reply lacks \"$want\": $canned" ;; esac
done
case $canned in *"#reply"* | *"{{"*) dg_fail "canned reply leaks the command or a tag: $canned" ;; esac
case $($helper get "$cm" Subject 'Re: [Support #1]' raw) in *"$bob"*) dg_fail "Bob's address reached the customer" ;; esac

dg_log "3. Bob hands the ticket to Alice"
reply $bob "Bob Agent <$bob>" Subject 'New:' $'#assign alice\n#note 客户很着急，请跟进。'
wait_count $support 3
process
wait_count $alice 1 Subject 'Assigned:'
am=$(maildir $alice)
h_body=$($helper get "$am" Subject 'Assigned:' body)
for want in "assigned to you by Bob Agent" "我昨天充值的 500 USDT 还没有到账" \
	"answer to the customer by" "充值需在区块链网络" "internal note by" "客户很着急，请跟进。"; do
	case $h_body in *"$want"*) ;; *) dg_fail "handover lacks \"$want\": $h_body" ;; esac
done
dg_assert_eq "screenshot.png image/png $shot_sha" "$($helper get "$am" Subject 'Assigned:' attachments)" \
	"the screenshot in the handover"
case $($helper get "$am" Subject 'Assigned:' References) in
*"<dg-ticket.1.agents@gw.example.test>"*) ;;
*) dg_fail "handover not in the ticket's agents' thread: $($helper get "$am" Subject 'Assigned:' References)" ;;
esac
dg_log "what Alice's s-nail shows for the handover:"
show $alice Subject 'Assigned:' | sed -n '1,100p'

dg_log "4. Alice asks the desk for her tickets and answers from the list"
printf '#my\n' | snail "Alice Agent <$alice>" -s 'my tickets' $support || dg_fail "s-nail send failed"
wait_count $support 4
process
wait_count $alice 1 Subject '#my:'
list=$($helper get "$am" Subject '#my:' body)
case $list in *"#1  "*"充值未到账"*) ;; *) dg_fail "#my list: $list" ;; esac
dg_assert_eq 1 "$(sql 'select count(*) from tickets')" "no ticket for the request"
addr=$(printf '%s\n' "$list" | sed -n 's/^ *answer: //p' | head -1)
case $addr in support+1-*@example.test) ;; *) dg_fail "answer address in the list: $addr" ;; esac
dg_log "what Alice's s-nail shows for the list:"
show $alice Subject '#my:' | sed -n '1,30p'
printf '王先生您好，您的充值已经到账，请查收。\n' | snail "Alice Agent <$alice>" -s 'Re: 充值未到账' "$addr" ||
	dg_fail "s-nail send failed"
wait_count $support 5
process
wait_count $customer 3
case $($helper get "$cm" Subject 'Re: [Support #1]' body) in
*"您的充值已经到账"*) ;;
*) dg_fail "the answer from the list did not reach the customer" ;;
esac

dg_log "the customer's mailbox (headers only):"
$helper thread "$cm"
dg_log "all steps passed"
