#!/bin/bash
# test-handover-client: a handover as the new assignee's mail client shows
# it (issue 15), with real parts: Postfix, Dovecot, `deskgate run --once`,
# s-nail for the customer and Alice, and neomutt in tmux for Bob, reading
# his INBOX over IMAP from Dovecot.
#   1. a customer writes with a screenshot; Alice (the queue's agent) is
#      notified and answers;
#   2. Alice hands the ticket to Bob ("#assign bob" and a note);
#   3. Bob opens his mailbox in neomutt: the index shows the handover's
#      subject; the pager shows the whole thread in order (the customer's
#      mail, Alice's answer, her note), quotes stripped; neomutt's
#      attachment view lists the screenshot (image/png) beside the text
#      and HTML alternatives.
# The screens are printed, and saved to $DESKGATE_CLIENT_SCREENS when set
# (the issue's closing note).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-handover-client
dg_require_cmd s-nail tmux neomutt

support=support@example.test
customer=li@example.net
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
agents = alice
CONF
desk_e2e_check


desk_e2e_png "$DG_ROOT/screenshot.png"

dg_log "1. the customer writes with a screenshot; Alice answers"
printf 'Hello,\nmy deposit of 500 USDT from yesterday has not arrived.\nThe screenshot is attached.\n\nLi Wei\n' |
	snail "Li Wei <$customer>" -s 'Deposit not arrived' -a "$DG_ROOT/screenshot.png" $support ||
	dg_fail "s-nail send failed"
wait_count $support 1
process
wait_count $alice 1 Subject 'New:'
reply $alice "Alice Agent <$alice>" Subject 'New:' \
	'Dear Li Wei, we are checking the deposit with the wallet team and come back to you today.'
wait_count $support 2
process
wait_count $customer 2

dg_log "2. Alice hands the ticket to Bob"
reply $alice "Alice Agent <$alice>" Subject 'New:' $'#assign bob\n#note The customer is in a hurry: please check the cold wallet queue.'
wait_count $support 3
process
wait_count $bob 1 Subject 'Assigned:'
dg_assert_eq $bob "$(sql 'select assignee from tickets where id = 1')" "ticket 1's assignee"

dg_log "3. Bob reads the handover in neomutt"
mkdir -p "$DG_ROOT/neomutt"
cat >"$DG_ROOT/neomutt/muttrc" <<RC
set folder = "imap://bob%40example.test@127.0.0.1:$DG_IMAP_PORT/"
set spoolfile = "+INBOX"
set imap_pass = "secret"
set ssl_starttls = no
set ssl_force_tls = no
set header_cache = ""
set message_cachedir = ""
set mailcap_path = "/dev/null"
set charset = "utf-8"
set sort = date
set pager_index_lines = 0
set pager_stop = yes
set markers = no
set wait_key = no
set mail_check_stats = no
set help = no
set confirmappend = no
set quit = yes
set timeout = 2
set implicit_autoview = no
alternative_order text/plain text/html
ignore *
unignore from: to: subject: date:
RC
sock=dg-handover-$$
tm() { tmux -L "$sock" "$@"; }
dg_on_exit "tmux -L $sock kill-server 2>/dev/null"
screen() { tm capture-pane -p -J -t hand; }
# wait until the screen shows $1 (a fixed string)
wait_screen() {
	local want=$1 i
	for i in $(seq 1 100); do
		screen | grep -qF -- "$want" && return 0
		sleep 0.2
	done
	dg_fail "neomutt never showed \"$want\"; the screen: $(screen)"
}
tm new-session -d -s hand -x 160 -y 120 \
	"env LC_ALL=C.UTF-8 TERM=screen HOME=$DG_ROOT/neomutt neomutt -n -F $DG_ROOT/neomutt/muttrc 2>$DG_ROOT/neomutt/err"
wait_screen 'Assigned:'
index=$(screen)
tm send-keys -t hand /
wait_screen 'Search for'
tm send-keys -t hand 'Assigned' Enter
sleep 0.5
tm send-keys -t hand Enter
wait_screen 'internal note by'
pager=$(screen)
tm send-keys -t hand q
sleep 0.5
tm send-keys -t hand v
wait_screen 'screenshot.png'
attachments=$(screen)
tm send-keys -t hand q
sleep 0.3
tm send-keys -t hand q
sleep 0.3

screens=$(printf '=== neomutt: the index of Bob'"'"'s INBOX ===\n%s\n\n=== neomutt: the handover in the pager ===\n%s\n\n=== neomutt: the attachment view (v) ===\n%s\n' \
	"$index" "$pager" "$attachments")
printf '%s\n' "$screens"
[ -n "${DESKGATE_CLIENT_SCREENS:-}" ] && printf '%s\n' "$screens" >"$DESKGATE_CLIENT_SCREENS"

# the index: the handover, tagged, in the ticket's thread
printf '%s\n' "$index" | grep -q 'Assigned: Deposit not arrived' ||
	dg_fail "the index lacks the handover's subject: $index"
printf '%s\n' "$index" | grep -qF '[Support #1]' || dg_fail "the index lacks the ticket's tag: $index"
# the pager: headline, fields, and the thread in order, quotes stripped
for want in "assigned to you by Alice Agent" "Subject: [Support #1] Assigned: Deposit not arrived" \
	"screenshot.png"; do
	printf '%s\n' "$pager" | grep -qF -- "$want" || dg_fail "the pager lacks \"$want\": $pager"
done
line_of() { printf '%s\n' "$pager" | grep -nF -- "$1" | head -1 | cut -d: -f1; }
l1=$(line_of "my deposit of 500 USDT from yesterday")
l2=$(line_of "we are checking the deposit with the wallet team")
l3=$(line_of "please check the cold wallet queue")
[ -n "$l1" ] && [ -n "$l2" ] && [ -n "$l3" ] || dg_fail "the pager lacks a message of the thread: $pager"
[ "$l1" -lt "$l2" ] && [ "$l2" -lt "$l3" ] ||
	dg_fail "the thread is not in order (customer $l1, answer $l2, note $l3): $pager"
[ "$(printf '%s\n' "$pager" | grep -cF 'my deposit of 500 USDT from yesterday')" = 1 ] ||
	dg_fail "the customer's text shows more than once (a quote left in): $pager"
case $pager in *"#assign"*"bob"*) dg_fail "the command shows in the thread: $pager" ;; esac
# the attachment view: the screenshot as an image, the text first
printf '%s\n' "$attachments" | grep -E 'screenshot\.png' | grep -q 'image/png' ||
	dg_fail "the attachment view lacks screenshot.png image/png: $attachments"
printf '%s\n' "$attachments" | grep -q 'text/plain' || dg_fail "no text part listed: $attachments"
dg_log "all steps passed"
