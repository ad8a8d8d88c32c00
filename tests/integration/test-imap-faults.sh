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
. "$top_srcdir/tests/harness/lib.sh"
: "${DESKGATE:=$top_builddir/deskgate}"
FAKEIMAP=$top_srcdir/tests/harness/fakeimap.py
dg_root_init test-imap-faults
dg_require_cmd python3 sqlite3
N=12
mkdir -p "$DG_ROOT/mail"
python3 "$top_srcdir/tests/harness/mkmail.py" --count $N --size small --dir "$DG_ROOT/mail" >/dev/null ||
	dg_fail mkmail

FAKE_PID=
fake_start() { # ARGS...: start fakeimap, set FPORT
	rm -f "$DG_ROOT/fake.port" "$DG_ROOT/fake.log" "$DG_ROOT/state.json"
	python3 "$FAKEIMAP" --maildir "$DG_ROOT/mail" --log "$DG_ROOT/fake.log" \
		--state "$DG_ROOT/state.json" "$@" >"$DG_ROOT/fake.port" 2>"$DG_ROOT/fake.err" &
	FAKE_PID=$!
	dg_wait_for 5 grep -qs port "$DG_ROOT/fake.port" || dg_fail "fakeimap did not start"
	FPORT=$(awk '{print $2}' "$DG_ROOT/fake.port")
}
fake_stop() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
	fi
	FAKE_PID=
}
dg_on_exit fake_stop

gw_new() { # DIR KEY=VALUE...
	local dir=$1
	shift
	"$DESKGATE" init "$dir" >/dev/null 2>&1 || dg_fail "deskgate init"
	sed -i '/^\[ack\]/a enabled = no' "$dir/deskgate.conf"
	{
		printf '\n[mailbox fake]\nhost = 127.0.0.1\nport = %s\nsecurity = none\n' "$FPORT"
		printf 'username = support@example.test\ntimeout = 2\nbatch_size = 5\n'
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >>"$dir/deskgate.conf"
}
rows() { sqlite3 "$1/deskgate.db" "select count(*) from messages where direction = 'in'"; }
dups() { sqlite3 "$1/deskgate.db" "select count(*) from (select message_id from messages where direction = 'in' group by message_id having count(*) > 1)"; }
# how many messages of FOLDER carry FLAG in the fake server's state
flagged() {
	python3 - "$DG_ROOT/state.json" "$1" "$2" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
print(sum(1 for f in st.get(sys.argv[2], {}).values() if sys.argv[3] in f))
PY
}
count_in() {
	python3 -c "import json,sys; print(len(json.load(open(sys.argv[1])).get(sys.argv[2], {})))" \
		"$DG_ROOT/state.json" "$1"
}

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
