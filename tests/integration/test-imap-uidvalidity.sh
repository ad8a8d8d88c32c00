#!/bin/bash
# UIDVALIDITY change against a real Dovecot: the folder is deleted and made
# again with the same messages and two new ones. The gateway notices, reads
# the whole folder again, and relies on dedupe: every message is still one
# row, all are flagged in the new folder, and the checkpoint has the new
# UIDVALIDITY.
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-imap-uidvalidity

python3 "$MKMAIL" --count 7 --size small --dir "$DG_ROOT" >/dev/null || dg_fail mkmail
save() { # N...: save mkmail messages N into folder Support
	for n in "$@"; do
		dg_doveadm save -u "$USER1" -m Support <"$DG_ROOT/$n.eml" || dg_fail "doveadm save $n"
	done
}
uidvalidity() {
	"$PROBE" -s none 127.0.0.1 "$DG_IMAP_PORT" "$USER1" secret select Support |
		sed -n 's/^select uidvalidity=\([0-9]*\) .*/\1/p'
}

dg_doveadm mailbox create -u "$USER1" Support || dg_fail "create Support"
save 1 2 3 4 5
G=$DG_ROOT/gw
gw_new "$G" folder=Support
gw "$G" run --once >"$G/1.log" 2>&1 || { cat "$G/1.log"; dg_fail "first run"; }
check_exactly_once "$G" 1 5
uv1=$(uidvalidity)
dg_assert_eq "$uv1" "$(sql "$G" "select uidvalidity from mailboxes where name = 'support'")" "checkpoint UIDVALIDITY"

dg_doveadm mailbox delete -u "$USER1" Support || dg_fail "delete Support"
sleep 1.1 # Dovecot derives a new UIDVALIDITY from the clock
dg_doveadm mailbox create -u "$USER1" Support || dg_fail "re-create Support"
save 1 2 3 4 5 6 7
uv2=$(uidvalidity)
[ -n "$uv2" ] && [ "$uv2" != "$uv1" ] || dg_fail "UIDVALIDITY did not change ($uv1 -> $uv2)"

gw "$G" run --once >"$G/2.log" 2>&1 || { cat "$G/2.log"; dg_fail "second run"; }
grep -q "UIDVALIDITY changed from $uv1 to $uv2" "$G/2.log" || { cat "$G/2.log"; dg_fail "change not logged"; }
check_exactly_once "$G" 1 7
dg_assert_eq 7 "$(seen_count "$USER1" Support)" "flagged in the new folder"
dg_assert_eq "$uv2|7" "$(sql "$G" "select uidvalidity || '|' || last_uid from mailboxes where name = 'support'")" "checkpoint"
dg_log "UIDVALIDITY $uv1 -> $uv2: resynced, 7 rows, no duplicates, all flagged"

# and a third run is quiet
gw "$G" run --once >"$G/3.log" 2>&1 || dg_fail "third run"
grep -q "UIDVALIDITY changed" "$G/3.log" && dg_fail "UIDVALIDITY change reported twice"
check_exactly_once "$G" 1 7
dg_log PASS
