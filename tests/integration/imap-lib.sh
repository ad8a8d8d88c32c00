# imap-lib.sh: shared set-up for the test-imap-*.sh integration tests
# (sourced). Each test gets its own Dovecot, its own gateway home, and
# everything is torn down by lib.sh's trap, pass or fail.
#
#   imap_setup NAME        temp root + Dovecot with support@example.test
#                          and the users in IMAP_USERS (password "secret");
#                          IMAP_DOVECOT_CONF: extra lines for dovecot.conf;
#                          sets MAILDIR, PROBE
#   gw_new DIR [KEY=VALUE...]
#                          `deskgate init DIR` + a [mailbox support] section
#                          for this Dovecot (plain text on the IMAP port
#                          unless security=... is given); extra keys are
#                          appended as given. Acknowledgements are off
#                          unless GW_ACK=yes.
#   gw DIR ARGS...         run deskgate with DIR's configuration
#   gw_start DIR [ARGS]    start `deskgate run` in the background (GW_PID),
#                          log in DIR/run.log; stopped by the trap
#   gw_stop                SIGTERM and wait for it (its exit code in GW_RC)
#   sql DIR QUERY          sqlite3 on DIR's store
#   seed N [START]         N small messages straight into the Maildir
#   deliver FILE [RCPT]    one message over LMTP
#   seen_count [USER] [FOLDER] / msg_count [USER] [FOLDER]
#   wait_rows DIR N SECS   wait until the store has N message rows
# With the scripted fault server (tests/harness/fakeimap.py) instead of
# Dovecot (call dg_root_init first; messages from $DG_ROOT/mail):
#   fake_start ARGS...     start it (fault options...), set FPORT; stopped
#                          by the trap; its events in $DG_ROOT/fake.log,
#                          its flags in $DG_ROOT/state.json
#   fake_stop
#   fake_gw_new DIR [KEY=VALUE...]
#                          a gateway home with [mailbox fake] on FPORT
#                          (acks off, timeout 2 s, batch_size 5 unless given)
#   fake_flagged FOLDER FLAG / fake_count FOLDER

: "${top_srcdir:?run through make check (top_srcdir)}"
: "${top_builddir:?run through make check (top_builddir)}"
: "${DESKGATE:=$top_builddir/deskgate}"
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/dovecot.sh"

PROBE=$top_builddir/tests/integration/imap-probe
MKMAIL=$top_srcdir/tests/harness/mkmail.py
FAKEIMAP=$top_srcdir/tests/harness/fakeimap.py
USER1=support@example.test

imap_setup() {
	dg_root_init "$1"
	dg_require_cmd dovecot doveadm sqlite3 python3 openssl
	[ -x "$DESKGATE" ] || dg_fail "no deskgate binary at $DESKGATE"
	dg_dovecot_adduser "$USER1" secret
	for u in ${IMAP_USERS:-}; do
		dg_dovecot_adduser "$u" secret
	done
	if [ -n "${IMAP_DOVECOT_CONF:-}" ]; then
		printf '%s\n' "$IMAP_DOVECOT_CONF" >>"$DG_ROOT/dovecot/dovecot.conf"
	fi
	dg_dovecot_start
	MAILDIR=$(dg_maildir "$USER1")
	GW_PID=
	dg_on_exit gw_kill
}

gw_new() {
	local dir=$1 sec=none port
	shift
	"$DESKGATE" init "$dir" >/dev/null 2>&1 || dg_fail "deskgate init $dir"
	# acknowledgements cost time and are not what these tests are about
	if [ "${GW_ACK:-no}" = no ]; then
		sed -i '/^\[ack\]/a enabled = no' "$dir/deskgate.conf"
	fi
	for kv in "$@"; do
		case "$kv" in
		security=*) sec=${kv#security=} ;;
		esac
	done
	port=$DG_IMAP_PORT
	[ "$sec" = imaps ] && port=$DG_IMAPS_PORT
	{
		printf '\n[mailbox support]\nhost = 127.0.0.1\nport = %s\nusername = %s\n' \
			"$port" "$USER1"
		printf 'password = secret\nca_file = %s\ntimeout = 5\n' "$DG_CA_FILE"
		[ "$sec" = none ] && echo "security = none"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >>"$dir/deskgate.conf"
}

gw() {
	local dir=$1
	shift
	"$DESKGATE" -c "$dir/deskgate.conf" "$@"
}

gw_start() {
	local dir=$1
	shift
	"$DESKGATE" -c "$dir/deskgate.conf" run "$@" >>"$dir/run.log" 2>&1 &
	GW_PID=$!
}

gw_kill() {
	if [ -n "${GW_PID:-}" ]; then
		kill -KILL "$GW_PID" 2>/dev/null
		wait "$GW_PID" 2>/dev/null
		GW_PID=
	fi
}

gw_stop() {
	GW_RC=
	[ -n "${GW_PID:-}" ] || return 0
	kill -TERM "$GW_PID" 2>/dev/null
	local i
	for ((i = 0; i < 200; i++)); do
		dg_pid_alive "$GW_PID" || break
		sleep 0.05
	done
	if dg_pid_alive "$GW_PID"; then
		kill -KILL "$GW_PID"
		wait "$GW_PID" 2>/dev/null
		GW_PID=
		dg_fail "deskgate did not stop within 10 s of SIGTERM"
	fi
	wait "$GW_PID"
	GW_RC=$?
	GW_PID=
}

sql() {
	sqlite3 "$1/deskgate.db" "$2"
}

seed() {
	python3 "$MKMAIL" --count "$1" --start "${2:-1}" --size "${SEED_SIZE:-tiny}" \
		--maildir "$MAILDIR" --owner "$(id -u "$DG_MAIL_USER"):$(id -g "$DG_MAIL_USER")" \
		>/dev/null || dg_fail "mkmail"
}

deliver() {
	dg_lmtp_deliver "${2:-$USER1}" "$1" || dg_fail "LMTP delivery of $1 failed"
}

msg_count() {
	dg_doveadm search -u "${1:-$USER1}" mailbox "${2:-INBOX}" all 2>/dev/null | wc -l
}

seen_count() {
	dg_doveadm search -u "${1:-$USER1}" mailbox "${2:-INBOX}" seen 2>/dev/null | wc -l
}

rows() {
	sql "$1" "select count(*) from messages where direction = 'in'"
}

# rows_gt DIR N: more than N message rows (for dg_wait_for)
rows_gt() {
	[ "$(rows "$1" 2>/dev/null || echo 0)" -gt "$2" ]
}

# seen_is N [USER] [FOLDER]
seen_is() {
	[ "$(seen_count "${2:-$USER1}" "${3:-INBOX}")" -eq "$1" ]
}

wait_rows() {
	local dir=$1 want=$2 secs=$3
	rows_are() { [ "$(rows "$dir" 2>/dev/null)" = "$want" ]; }
	dg_wait_for "$secs" rows_are
}

# Exactly-once check: every Message-ID <mk-I@mkmail.example> for I in
# [first, last] is exactly one message row, and no other row exists.
check_exactly_once() {
	local dir=$1 first=$2 last=$3 n dup
	n=$(sql "$dir" "select count(*) from messages where direction = 'in'")
	dg_assert_eq "$((last - first + 1))" "$n" "message rows"
	dup=$(sql "$dir" "select count(*) from (select message_id from messages where direction = 'in' group by message_id having count(*) > 1)")
	dg_assert_eq 0 "$dup" "duplicated Message-IDs"
	local missing
	missing=$(python3 - "$dir/deskgate.db" "$first" "$last" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
have = {r[0] for r in db.execute("select message_id from messages where direction = 'in'")}
print(sum(1 for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1)
          if "mk-%d@mkmail.example" % i not in have))
PY
)
	dg_assert_eq 0 "$missing" "messages missing from the store"
}

# flagged_not_stored DIR USER...: how many Message-IDs are flagged \Seen in
# the INBOXes of USERs with no message row in DIR's store (the crash tests'
# rule: nothing is marked on the server that is not committed).
flagged_not_stored() {
	local dir=$1 u
	shift
	: >"$DG_ROOT/flagged.txt"
	for u in "$@"; do
		dg_doveadm -f flow fetch -u "$u" "flags hdr.message-id" mailbox INBOX seen \
			>>"$DG_ROOT/flagged.txt" 2>/dev/null
	done
	python3 - "$DG_ROOT/flagged.txt" "$dir/deskgate.db" <<'PY'
import re, sqlite3, sys
ids = re.findall(r"hdr\.message-id=<([^>]*)>", open(sys.argv[1]).read())
db = sqlite3.connect(sys.argv[2])
have = {r[0] for r in db.execute("select message_id from messages")}
print(sum(1 for i in ids if i not in have))
PY
}

# ---- the scripted fault server ------------------------------------------------

FAKE_PID=
fake_start() {
	rm -f "$DG_ROOT/fake.port" "$DG_ROOT/fake.log" "$DG_ROOT/state.json"
	python3 "$FAKEIMAP" --maildir "$DG_ROOT/mail" --log "$DG_ROOT/fake.log" \
		--state "$DG_ROOT/state.json" "$@" >"$DG_ROOT/fake.port" 2>"$DG_ROOT/fake.err" &
	FAKE_PID=$!
	if [ -z "${FAKE_TRAP:-}" ]; then
		dg_on_exit fake_stop
		FAKE_TRAP=1
	fi
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

fake_gw_new() {
	local dir=$1 kv
	shift
	"$DESKGATE" init "$dir" >/dev/null 2>&1 || dg_fail "deskgate init"
	sed -i '/^\[ack\]/a enabled = no' "$dir/deskgate.conf"
	{
		printf '\n[mailbox fake]\nhost = 127.0.0.1\nport = %s\nsecurity = none\n' "$FPORT"
		printf 'username = support@example.test\n'
		case " $* " in *" timeout="*) ;; *) echo "timeout = 2" ;; esac
		case " $* " in *" batch_size="*) ;; *) echo "batch_size = 5" ;; esac
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >>"$dir/deskgate.conf"
}

# how many messages of FOLDER carry FLAG in the fake server's state
fake_flagged() {
	python3 - "$DG_ROOT/state.json" "$1" "$2" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
print(sum(1 for f in st.get(sys.argv[2], {}).values() if sys.argv[3] in f))
PY
}

fake_count() {
	python3 -c "import json,sys; print(len(json.load(open(sys.argv[1])).get(sys.argv[2], {})))" \
		"$DG_ROOT/state.json" "$1"
}
