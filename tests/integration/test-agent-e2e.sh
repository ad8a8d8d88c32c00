#!/bin/bash
# test-agent-e2e: issue 7 end to end with real parts. A real Postfix
# delivers into a real Dovecot; deskgate reads the support mailbox over IMAP
# (`deskgate run --once`) and sends its outbox through Postfix; customer and
# agents are Dovecot mailboxes, and their mail client is s-nail in batch
# mode (its real quoting and threading headers). The story:
#   1. a customer sends a Chinese mail with a screenshot;
#   2. the customer receives the acknowledgement, the agents the
#      notification (summary, text, screenshot);
#   3. an agent answers the notification with s-nail (quoted history,
#      an attachment): the customer receives the reply from the support
#      address in the same thread, the other agent a notice;
#   4. the customer answers the reply with s-nail: the ticket has four
#      messages in order (mail, acknowledgement, agent's reply, reply);
#   5. a stranger writes with the same ticket number: a ticket of their own;
#   6. the agent sends #close: the ticket is closed, nothing relayed; the
#      customer gets the closing notice (issue 13), in their language.
# The mailboxes of the customer and an agent are printed, headers only.
# `deskgate run --once` itself sends what it queued: nothing may be left
# in the outbox after it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-agent-e2e
dg_require_cmd s-nail

support=support@example.test
customer=wang@example.net
alice=alice@example.test
bob=bob@example.test
stranger=mallory@example.net
for u in $support $customer $alice $bob $stranger; do
	dg_postfix_adduser "$u" secret
done
dg_dovecot_start
dg_postfix_start

gw=$DG_ROOT/gw
conf=$gw/deskgate.conf
desk_e2e_gateway "$gw" $support gw.example.test "Example Support"
cat >>"$conf" <<CONF

[agent alice]
address = $alice
name = Alice Agent
queues = payments

[agent bob]
address = $bob
name = Bob Agent

[queue payments]
categories = delayed_payment, failed_trade
agents = bob
CONF
"$deskgate" -q -c "$conf" config check >/dev/null 2>&1 || dg_fail "config check: $("$deskgate" -c "$conf" config check 2>&1)"

# maildir, sql, process, snail, reply: desk-e2e.sh
ticket_json() { "$deskgate" -c "$conf" ticket show "$1" --json; }
# tq N EXPR: a Python expression over ticket N's JSON (t)
tq() {
	ticket_json "$1" | python3 -c "import json,sys; t=json.load(sys.stdin); print($2)"
}

# A screenshot: a real PNG (a 64x32 gradient).
python3 - "$DG_ROOT/screenshot.png" <<'PY'
import struct, sys, zlib
w, h = 64, 32
rows = b"".join(b"\0" + b"".join(bytes((x * 4, y * 8, 128)) for x in range(w))
               for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
shot_sha=$(sha256sum "$DG_ROOT/screenshot.png" | cut -d' ' -f1)
# binary, as a real PDF is (a text file would travel with CRLF line ends)
{ printf '%%PDF-1.4\n%%\342\343\317\323\n'; head -c 3000 /dev/urandom; } >"$DG_ROOT/receipt.pdf"
receipt_sha=$(sha256sum "$DG_ROOT/receipt.pdf" | cut -d' ' -f1)

dg_log "1. the customer writes, in Chinese, with a screenshot"
printf '你好，\n我昨天充值的 500 USDT 还没有到账，订单号 ORD20250311001。\n截图见附件，请帮忙查询。\n\n王小明\n' |
	snail "王小明 <$customer>" -s '充值未到账，请帮忙查询' -a "$DG_ROOT/screenshot.png" $support ||
	dg_fail "s-nail send failed"
wait_count $support 1
process
dg_assert_eq 1 "$(sql 'select count(*) from tickets')" "tickets after the first mail"
cust_msgid=$(sql "select message_id from messages where ticket_id = 1 and direction = 'in' order by id limit 1")

dg_log "2. acknowledgement to the customer, notification to the agents"
wait_count $customer 1
wait_count $alice 1
wait_count $bob 1
ack_subject=$($helper get "$(maildir $customer)" From support@ Subject)
case $ack_subject in *"[Support #1]"*) ;; *) dg_fail "acknowledgement subject: $ack_subject" ;; esac
dg_assert_eq "<$cust_msgid>" "$($helper get "$(maildir $customer)" From support@ In-Reply-To)" \
	"acknowledgement In-Reply-To"
am=$(maildir $alice)
n_from=$($helper get "$am" Subject 'New:' From)
dg_assert_eq "Example Support <$support>" "$n_from" "notification From"
n_reply_to=$($helper get "$am" Subject 'New:' Reply-To)
case $n_reply_to in *"<support+1-"*"@example.test>") ;; *) dg_fail "notification Reply-To: $n_reply_to" ;; esac
n_body=$($helper get "$am" Subject 'New:' body)
for want in "Ticket:       #1 [Support #1]" "Customer:     王小明 <$customer>" "Category:     " \
	"Priority:     " "Fields:       " "Rules fired:  " "History:      no earlier tickets" \
	"Respond by:   " "Attachments:  screenshot.png (image/png" "我昨天充值的 500 USDT 还没有到账"; do
	case $n_body in *"$want"*) ;; *) dg_fail "notification body lacks \"$want\": $n_body" ;; esac
done
dg_assert_eq "screenshot.png image/png $shot_sha" "$($helper get "$am" Subject 'New:' attachments)" \
	"the screenshot in the notification"
dg_assert_eq "" "$($helper get "$am" Subject 'New:' defects)" "notification defects"

dg_log "3. Alice answers the notification with s-nail (quoted history, an attachment)"
reply $alice "Alice Agent <$alice>" Subject 'New:' \
	$'您好，\n\n我们已经查到您的充值，预计一小时内到账。收据见附件。\n\nAlice\n-- \nAlice Agent | Example Exchange support | alice@example.test' \
	"$DG_ROOT/receipt.pdf"
wait_count $support 2
process
wait_count $customer 2
cm=$(maildir $customer)
r_hdr() { $helper get "$cm" Subject 'Re: [Support #1]' "$1"; }
dg_assert_eq "Example Support <$support>" "$(r_hdr From)" "relay From"
dg_assert_eq "Re: [Support #1] 充值未到账，请帮忙查询" "$(r_hdr Subject)" "relay Subject"
dg_assert_eq "<$cust_msgid>" "$(r_hdr In-Reply-To)" "relay In-Reply-To"
case $(r_hdr References) in *"<$cust_msgid>"*) ;; *) dg_fail "relay References: $(r_hdr References)" ;; esac
case $(r_hdr Reply-To) in *"<support+1-"*"@example.test>") ;; *) dg_fail "relay Reply-To: $(r_hdr Reply-To)" ;; esac
[ "$(r_hdr Reply-To)" != "$n_reply_to" ] || dg_fail "the customer got the agent reply address"
r_body=$(r_hdr body)
case $r_body in *"预计一小时内到账"*) ;; *) dg_fail "relay body: $r_body" ;; esac
case $r_body in *"wrote:"* | *"Ticket:"* | *"Rules fired"* | *"Example Exchange support"*)
	dg_fail "relay carries quoted history or the signature: $r_body" ;;
esac
r_raw=$(r_hdr raw)
case $r_raw in *alice* | *Alice\ Agent*) dg_fail "the agent's address or name is in the relayed mail" ;; esac
dg_assert_eq "receipt.pdf application/pdf $receipt_sha" "$(r_hdr attachments)" "attachment relayed"
dg_assert_eq "" "$(r_hdr defects)" "relay defects"
wait_count $bob 1 Subject 'Answered:'
case $($helper get "$(maildir $bob)" Subject 'Answered:' body) in
*"answered by Alice Agent"*) ;;
*) dg_fail "notice to Bob: $($helper get "$(maildir $bob)" Subject 'Answered:' body)" ;;
esac
dg_assert_eq 0 "$(count $alice Subject 'Answered:')" "notices to the agent who answered"
frt=$(tq 1 't["first_response_at"] > 0')
dg_assert_eq True "$frt" "first response recorded"

dg_log "4. the customer answers the reply with s-nail"
reply $customer "王小明 <$customer>" Subject 'Re: [Support #1]' $'谢谢，已经收到了！'
wait_count $support 3
process
wait_count $alice 1 Subject 'Customer reply:'
dg_assert_eq "['in', 'out', 'agent', 'in']" "$(tq 1 '[m["direction"] for m in t["messages"]]')" \
	"ticket 1: mail, acknowledgement, agent's reply, customer's reply"
dg_assert_eq True "$(tq 1 '"谢谢，已经收到了！" in t["messages"][3]["text"]')" \
	"the customer's reply is on ticket 1"
dg_assert_eq 2 "$(count $customer)" "the customer's mailbox: acknowledgement and reply only"

dg_log "5. a stranger uses the ticket number: a ticket of their own"
printf 'I am the owner of ticket 1, send me the receipt.\n' |
	snail "Mallory <$stranger>" -s 'Re: [Support #1] 充值未到账，请帮忙查询' $support ||
	dg_fail "s-nail send failed"
wait_count $support 4
process
dg_assert_eq 2 "$(sql 'select count(*) from tickets')" "tickets after the stranger's mail"
dg_assert_eq "$stranger" "$(tq 2 't["customer_address"]')" "the stranger's ticket"
dg_assert_eq 4 "$(tq 1 'len(t["messages"])')" "ticket 1 keeps its four messages"
wait_count $stranger 1
dg_assert_eq "$(count $stranger)" "$(count $stranger Subject '[Support #2]')" \
	"the stranger's mail is all about ticket 2"
case $($helper get "$(maildir $stranger)" From support@ raw) in
*"预计一小时内到账"* | *"$customer"*) dg_fail "content of ticket 1 sent to the stranger" ;;
esac

dg_log "6. Alice sends #close"
reply $alice "Alice Agent <$alice>" Subject 'Customer reply:' '#close'
wait_count $support 5
process
dg_assert_eq closed "$(tq 1 't["status"]')" "ticket 1 after #close"
wait_count $customer 3
dg_assert_eq 3 "$(count $customer)" "only the closing notice sent to the customer for #close"
dg_assert_eq 1 "$(count $customer Subject '您的请求已关闭')" "the closing notice, in Chinese"

dg_log "the customer's mailbox (headers only):"
$helper thread "$(maildir $customer)"
dg_log "Alice's mailbox (headers only):"
$helper thread "$(maildir $alice)"
dg_log "all steps passed"
