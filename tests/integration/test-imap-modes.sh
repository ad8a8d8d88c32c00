#!/bin/bash
# after = seen and after = move against a real Dovecot, with a message that
# ingest quarantines (over max_message_size): it is still marked (and gets
# the $Quarantined keyword) so it never blocks the mailbox; a second run
# finds nothing new; a missing move_to folder is created.
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
IMAP_USERS=mover@example.test
GW_ACK=yes # the full pipeline, acknowledgements included
imap_setup test-imap-modes

big=$DG_ROOT/big.eml
{
	printf 'From: big@example.net\r\nTo: support@example.test\r\nSubject: too big\r\n'
	printf 'Message-ID: <big-1@example.net>\r\n\r\n'
	for i in $(seq 1 200); do printf 'line %04d of a message that is too large for the limit\r\n' "$i"; done
} >"$big"

# -- after = seen ----------------------------------------------------------------
seed 20 1
deliver "$big"
gw_new "$DG_ROOT/gw" batch_size=7
sed -i '/^\[limits\]/a max_message_size = 4k' "$DG_ROOT/gw/deskgate.conf"
gw "$DG_ROOT/gw" run --once >"$DG_ROOT/seen.log" 2>&1 || { cat "$DG_ROOT/seen.log"; dg_fail "run --once (seen)"; }
dg_assert_eq 20 "$(rows "$DG_ROOT/gw")" "message rows"
check_exactly_once "$DG_ROOT/gw" 1 20
dg_assert_eq 1 "$(sql "$DG_ROOT/gw" "select count(*) from quarantine")" "quarantined"
dg_assert_eq 21 "$(msg_count)" "messages still in INBOX"
dg_assert_eq 21 "$(seen_count)" "messages flagged \\Seen"
q=$(dg_doveadm search -u "$USER1" mailbox INBOX keyword '$Quarantined' | wc -l)
dg_assert_eq 1 "$q" "messages with \$Quarantined"
last=$(sql "$DG_ROOT/gw" "select last_uid from mailboxes where name = 'support'")
dg_assert_eq 21 "$last" "checkpoint"
dg_log "seen: 20 stored, 1 quarantined, all 21 flagged, checkpoint 21"

# a second run: nothing new, nothing stored twice
gw "$DG_ROOT/gw" run --once >"$DG_ROOT/seen2.log" 2>&1 || dg_fail "second run --once"
dg_assert_eq 20 "$(rows "$DG_ROOT/gw")" "rows after the second run"

# -- after = move, into a folder that does not exist yet -------------------------
md2=$(dg_maildir mover@example.test)
MAILDIR=$md2 seed 30 101
gw_new "$DG_ROOT/gw2" after=move move_to=Done/Tickets batch_size=8
sed -i "s/^username = .*/username = mover@example.test/" "$DG_ROOT/gw2/deskgate.conf"
gw "$DG_ROOT/gw2" run --once >"$DG_ROOT/move.log" 2>&1 || { cat "$DG_ROOT/move.log"; dg_fail "run --once (move)"; }
check_exactly_once "$DG_ROOT/gw2" 101 130
dg_assert_eq 0 "$(msg_count mover@example.test INBOX)" "messages left in INBOX"
dg_assert_eq 30 "$(msg_count mover@example.test Done/Tickets)" "messages moved"
grep -q "created folder Done/Tickets" "$DG_ROOT/move.log" || dg_fail "move_to was not created"
dg_log "move: 30 stored and moved to a folder created on the way"

# new mail after a move run
MAILDIR=$md2 seed 5 131
gw "$DG_ROOT/gw2" run --once >>"$DG_ROOT/move.log" 2>&1 || dg_fail "second move run"
check_exactly_once "$DG_ROOT/gw2" 101 135
dg_assert_eq 35 "$(msg_count mover@example.test Done/Tickets)" "messages moved in all"
# -- --once on a terminal draws a progress bar (script(1) provides the tty) ------
if command -v script >/dev/null 2>&1; then
	seed 120 1001
	script -qec "'$DESKGATE' -c '$DG_ROOT/gw/deskgate.conf' run --once" /dev/null \
		>"$DG_ROOT/tty.out" 2>&1 || { cat "$DG_ROOT/tty.out"; dg_fail "run --once on a tty"; }
	tr '\r' '\n' <"$DG_ROOT/tty.out" | grep -aq "support \[#*\] 120/120 " ||
		{ cat "$DG_ROOT/tty.out"; dg_fail "no progress bar on a terminal"; }
	dg_assert_eq 140 "$(rows "$DG_ROOT/gw")" "rows after the terminal run"
	dg_log "progress bar drawn on a terminal"
fi
dg_log PASS
