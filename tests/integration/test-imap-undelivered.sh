#!/bin/bash
# A UID the server will not deliver is never marked. With the scripted
# server, message 3 of 8 comes back as a NIL body, or is left out of a
# FETCH that ends in NO ("Some messages could not be FETCHed"), on every
# connection. The messages around it are stored; message 3 is tried again
# (3 times, reconnecting with backoff), then recorded as a quarantine entry
# without raw bytes that says why, and left as it is on the server: not
# \Seen, not moved, not even by the catch-up of a later run (which once
# flagged everything at or below the checkpoint). A server that fails only
# once is simply tried again: everything stored, nothing recorded.
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
dg_root_init test-imap-undelivered
dg_require_cmd python3 sqlite3
N=8
mkdir -p "$DG_ROOT/mail"
python3 "$top_srcdir/tests/harness/mkmail.py" --count $N --size small --dir "$DG_ROOT/mail" >/dev/null ||
	dg_fail mkmail
gw_new() { fake_gw_new "$1" password=secret timeout=5 batch_size=4 "${@:2}"; }
flagged() { fake_flagged "$@"; }
count_in() { fake_count "$@"; }

run_once() { # DIR LOG
	timeout 60 "$DESKGATE" -c "$1/deskgate.conf" run --once >>"$1/$2" 2>&1 ||
		{ tail -20 "$1/$2"; dg_fail "run --once failed ($1)"; }
}
# flags of UID in FOLDER (a JSON list) from the fake server's state
flags_of() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], {}).get(sys.argv[3], "gone"))' \
		"$DG_ROOT/state.json" "$1" "$2"
}

for fault in nil-body missing-no; do
	modes="seen move"
	[ $fault = missing-no ] && modes=seen
	for mode in $modes; do
		fake_start --fault "$fault" --fault-after 2 --fault-times 1000
		G=$DG_ROOT/gw-$fault-$mode
		if [ $mode = move ]; then
			gw_new "$G" after=move move_to=Archive
		else
			gw_new "$G"
		fi
		run_once "$G" run1.log
		grep -q '"fault"' "$DG_ROOT/fake.log" || dg_fail "$fault: not injected"
		dg_assert_eq $((N - 1)) "$(rows "$G")" "$fault/$mode: rows"
		# a second run: its catch-up must not mark uid 3 either
		run_once "$G" run2.log
		if [ $mode = seen ]; then
			dg_assert_eq "[]" "$(flags_of INBOX 3)" "$fault/seen: flags of uid 3 after two runs"
			dg_assert_eq $((N - 1)) "$(flagged INBOX '\Seen')" "$fault/seen: flagged"
		else
			dg_assert_eq "[]" "$(flags_of INBOX 3)" "$fault/move: uid 3 still in INBOX, unflagged"
			dg_assert_eq 1 "$(count_in INBOX)" "$fault/move: left in INBOX"
			dg_assert_eq $((N - 1)) "$(count_in Archive)" "$fault/move: moved"
		fi
		# the entry without raw bytes, with the reason
		q=$(sqlite3 "$G/deskgate.db" "select count(*) from quarantine where raw_sha256 is null and mailbox = 'fake' and uid = 3 and status = 'held' and reason like '%will not deliver%'")
		dg_assert_eq 1 "$q" "$fault/$mode: quarantine entry for uid 3"
		"$DESKGATE" -c "$G/deskgate.conf" quarantine list | grep -q "will not deliver" ||
			dg_fail "$fault/$mode: not in quarantine list"
		out=$("$DESKGATE" -c "$G/deskgate.conf" quarantine retry --all 2>&1) ||
			dg_fail "$fault/$mode: quarantine retry --all: $out"
		echo "$out" | grep -q "no raw bytes.*uid 3 .*fetches it again" ||
			dg_fail "$fault/$mode: retry does not explain the entry: $out"
		grep -q "uid=3 .*left unmarked on the server" "$G/run1.log" || dg_fail "$fault/$mode: not logged"
		grep -q "attempt 1 of 3" "$G/run1.log" || dg_fail "$fault/$mode: no retry logged"
		dg_assert_eq $((N - 1)) "$(rows "$G")" "$fault/$mode: rows after the second run"
		dg_assert_eq 1 "$(sqlite3 "$G/deskgate.db" "select count(*) from quarantine")" \
			"$fault/$mode: entries after the second run"
		dg_log "$fault/$mode: $((N - 1)) stored and marked, uid 3 recorded and left unmarked"
		fake_stop
	done
done

# a server that fails only on the first connection: tried again, all stored
fake_start --fault nil-body --fault-after 2 --fault-times 1
G=$DG_ROOT/gw-transient
gw_new "$G"
run_once "$G" run.log
dg_assert_eq $N "$(rows "$G")" "transient: rows"
dg_assert_eq $N "$(flagged INBOX '\Seen')" "transient: flagged"
dg_assert_eq 0 "$(sqlite3 "$G/deskgate.db" "select count(*) from quarantine")" "transient: entries"
dg_log "transient NIL: tried again, $N stored and flagged, nothing recorded"
fake_stop
dg_log PASS
