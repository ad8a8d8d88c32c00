#!/bin/bash
# Faults Dovecot will not produce on demand, from the scripted fakeimap
# server (first connection only): a stall, a trickle, a garbage response, a
# connection dropped in the middle of a literal, BYE during FETCH, BYE as
# the greeting, NO to FETCH. Each time `deskgate run --once` must reconnect
# and end with every message stored exactly once and flagged on the server.
# Then OAuth2: an expired token from token_command is replaced by a fresh
# one (XOAUTH2), a token_file is re-read after a rejection (OAUTHBEARER), and
# after = move without MOVE (COPY, \Deleted, UID EXPUNGE).
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
dg_root_init test-imap-faults
dg_require_cmd python3 sqlite3
N=12
mkdir -p "$DG_ROOT/mail"
python3 "$top_srcdir/tests/harness/mkmail.py" --count $N --size small --dir "$DG_ROOT/mail" >/dev/null ||
	dg_fail mkmail

gw_new() { fake_gw_new "$@"; }
dups() { sqlite3 "$1/deskgate.db" "select count(*) from (select message_id from messages where direction = 'in' group by message_id having count(*) > 1)"; }
flagged() { fake_flagged "$@"; }
count_in() { fake_count "$@"; }

for fault in stall trickle garbage drop-literal bye bye-greeting no-fetch; do
	fake_start --fault "$fault" --fault-after 3
	G=$DG_ROOT/gw-$fault
	gw_new "$G" password=secret
	t0=$SECONDS
	timeout 60 "$DESKGATE" -c "$G/deskgate.conf" run --once >"$G/run.log" 2>&1 ||
		{ tail -20 "$G/run.log"; dg_fail "$fault: run --once failed"; }
	grep -q '"fault"' "$DG_ROOT/fake.log" || dg_fail "$fault: the fault was not injected"
	dg_assert_eq $N "$(rows "$G")" "$fault: rows"
	dg_assert_eq 0 "$(dups "$G")" "$fault: duplicates"
	dg_assert_eq $N "$(flagged INBOX '\Seen')" "$fault: flagged on the server"
	grep -q "reconnecting in" "$G/run.log" || dg_fail "$fault: no reconnect logged"
	dg_log "$fault: recovered in $((SECONDS - t0)) s, $N stored once, $N flagged"
	fake_stop
done

# -- XOAUTH2: the first token is rejected, token_command is run again --------
{
	echo '#!/bin/sh'
	echo "n=\$(cat '$DG_ROOT/token.count' 2>/dev/null || echo 0)"
	echo "echo \$((n + 1)) >'$DG_ROOT/token.count'"
	echo 'if [ "$n" = 0 ]; then echo expired-token; else echo good-token; fi'
} >"$DG_ROOT/token.sh"
chmod +x "$DG_ROOT/token.sh"
fake_start --token good-token
G=$DG_ROOT/gw-xoauth2
gw_new "$G" auth=xoauth2 "token_command=$DG_ROOT/token.sh"
timeout 60 "$DESKGATE" -c "$G/deskgate.conf" run --once >"$G/run.log" 2>&1 ||
	{ tail -20 "$G/run.log"; dg_fail "xoauth2: run --once failed"; }
grep -q "LOGIN FAILED.*access token will be obtained again" "$G/run.log" ||
	dg_fail "xoauth2: rejection not logged"
grep -q "good-token\|expired-token" "$G/run.log" && dg_fail "xoauth2: a token in the log"
dg_assert_eq 2 "$(cat "$DG_ROOT/token.count")" "xoauth2: token_command runs"
dg_assert_eq $N "$(rows "$G")" "xoauth2: rows"
grep -q '"mech": "XOAUTH2", "ok": true' "$DG_ROOT/fake.log" || dg_fail "xoauth2: no successful XOAUTH2"
dg_log "XOAUTH2: expired token rejected, new one obtained, $N stored"
fake_stop

# -- OAUTHBEARER with a token_file fixed while the daemon retries -------------
fake_start --token file-token-2
echo file-token-1 >"$DG_ROOT/token.txt"
G=$DG_ROOT/gw-oauthbearer
gw_new "$G" auth=oauthbearer "token_file=$DG_ROOT/token.txt"
"$DESKGATE" -c "$G/deskgate.conf" run >"$G/run.log" 2>&1 &
GWP=$!
dg_on_exit "kill -KILL $GWP"
dg_wait_for 10 grep -qs "LOGIN FAILED" "$G/run.log" || dg_fail "oauthbearer: no rejection"
echo file-token-2 >"$DG_ROOT/token.txt"
has_rows() { [ "$(rows "$G" 2>/dev/null)" = "$N" ]; }
dg_wait_for 20 has_rows || { tail "$G/run.log"; dg_fail "oauthbearer: not stored after the token file was fixed"; }
kill -TERM $GWP
wait $GWP
dg_assert_eq 0 $? "oauthbearer: exit code after SIGTERM"
grep -q '"mech": "OAUTHBEARER", "ok": true' "$DG_ROOT/fake.log" || dg_fail "oauthbearer: no success"
dg_log "OAUTHBEARER: token file re-read after the rejection, $N stored"
fake_stop

# -- after = move on a server without MOVE --------------------------------------
fake_start --no-move
G=$DG_ROOT/gw-copy
gw_new "$G" password=secret after=move move_to=Archive
timeout 60 "$DESKGATE" -c "$G/deskgate.conf" run --once >"$G/run.log" 2>&1 ||
	{ tail -20 "$G/run.log"; dg_fail "copy: run --once failed"; }
dg_assert_eq $N "$(rows "$G")" "copy: rows"
dg_assert_eq 0 "$(count_in INBOX)" "copy: left in INBOX"
dg_assert_eq $N "$(count_in Archive)" "copy: in Archive"
grep -q '"event": "copy"' "$DG_ROOT/fake.log" || dg_fail "copy: COPY not used"
grep -q '"event": "move"' "$DG_ROOT/fake.log" && dg_fail "copy: MOVE used though not offered"
dg_log "no MOVE: COPY + \\Deleted + UID EXPUNGE moved $N"
dg_log PASS
