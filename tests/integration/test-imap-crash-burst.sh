#!/bin/bash
# The crash test of the sync on workers ([general] sync_concurrency,
# gateway/poller-work.c): 8 mailboxes in IDLE get mail over LMTP all the
# time, so that their syncs (DONE, SEARCH, FETCH on a worker; the commit on
# the loop's thread; the marks and IDLE again on a worker) overlap, while
# the gateway is killed with SIGKILL at random points, several times.
# After every kill: nothing is flagged on the server that is not in the
# store. At the end: every message is exactly one row, and every one is
# flagged.
set -u
BOXES="b1 b2 b3 b4 b5 b6 b7 b8"
IMAP_USERS=
for b in $BOXES; do IMAP_USERS="$IMAP_USERS $b@example.test"; done
IMAP_DOVECOT_CONF="imap_idle_notify_interval = 30 mins"
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-imap-crash-burst

TOTAL=480
G=$DG_ROOT/gw
gw_new "$G" idle=yes
for b in $BOXES; do
	printf '\n[mailbox %s]\nhost = 127.0.0.1\nport = %s\nsecurity = none\nusername = %s@example.test\npassword = secret\ntimeout = 5\n' \
		"$b" "$DG_IMAP_PORT" "$b"
done >>"$G/deskgate.conf"
grep -q '^sync_concurrency' "$G/deskgate.conf" && dg_fail "the test expects the default sync_concurrency"
# Each message row costs ~30 ms of the loop's CPU (a trigger joining a
# 50-row table with itself three times), so that fetched batches wait for
# their commit, and commits for their marks, long enough for the kills to
# land there: a mark made before its commit shows as flagged-not-stored.
sql "$G" "CREATE TABLE test_slow(x); WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 50) INSERT INTO test_slow SELECT x FROM n; CREATE TRIGGER test_slow_ingest AFTER INSERT ON messages BEGIN SELECT count(*) FROM test_slow a, test_slow b, test_slow c WHERE a.x + b.x + c.x > 0; END;" ||
	dg_fail "slow trigger"

box_users() {
	local b
	for b in $BOXES; do printf '%s@example.test ' "$b"; done
}

seen_total() {
	local b n=0
	for b in $BOXES; do
		n=$((n + $(seen_count "$b@example.test")))
	done
	echo "$n"
}

# The deliveries: round robin over the mailboxes, one LMTP session per few
# messages (so that wakes come close together), for ~20 s, through the kills.
python3 - "$DG_LMTP_PORT" "$TOTAL" $BOXES >"$DG_ROOT/deliver.log" 2>&1 <<'PY' &
import random, smtplib, sys, time
port, total, boxes = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
k = 0
while k < total:
    with smtplib.LMTP("127.0.0.1", port) as s:
        for _ in range(random.randint(1, 12)):
            if k >= total:
                break
            k += 1
            rcpt = "%s@example.test" % boxes[k % len(boxes)]
            msg = ("From: customer%d@example.net\r\nTo: %s\r\nSubject: crash burst %d\r\n"
                   "Message-ID: <cb-%d@example.net>\r\n\r\norder %d, please\r\n"
                   % (k, rcpt, k, k, k)).encode()
            s.sendmail("customer%d@example.net" % k, [rcpt], msg)
    time.sleep(random.uniform(0.1, 0.4))
print("delivered", k)
PY
DELIVER_PID=$!
dg_on_exit "kill $DELIVER_PID 2>/dev/null"

RANDOM=$$
kills=0 mid=0
for round in 1 2 3 4 5 6 7 8 9 10; do
	dg_pid_alive "$DELIVER_PID" || break
	gw_start "$G"
	before=$(rows "$G" 2>/dev/null || echo 0)
	target=$((before + 1 + RANDOM % 30))
	progressed() { [ "$(rows "$G" 2>/dev/null || echo 0)" -ge "$target" ]; }
	dg_wait_for 30 progressed || { tail "$G/run.log"; dg_fail "round $round: no progress"; }
	# then anywhere in the next few syncs
	sleep "0.0$((RANDOM % 10))"
	kill -KILL "$GW_PID"
	wait "$GW_PID" 2>/dev/null
	GW_PID=
	kills=$((kills + 1))
	dg_pid_alive "$DELIVER_PID" && mid=$((mid + 1))
	bad=$(flagged_not_stored "$G" $(box_users))
	dg_assert_eq 0 "$bad" "round $round: messages flagged on the server but not in the store"
	dg_log "round $round: killed with $(rows "$G") stored, $(seen_total) flagged, 0 flagged-not-stored"
done
[ "$mid" -ge 3 ] || dg_fail "only $mid of $kills kills happened while mail was arriving"
wait "$DELIVER_PID"
grep -q "delivered $TOTAL" "$DG_ROOT/deliver.log" || { cat "$DG_ROOT/deliver.log"; dg_fail "deliveries"; }

gw_start "$G"
wait_rows "$G" $TOTAL 60 || { tail -20 "$G/run.log"; dg_fail "not all $TOTAL messages stored after the kills"; }
all_seen() { [ "$(seen_total)" -eq $TOTAL ]; }
dg_wait_for 20 all_seen || dg_fail "only $(seen_total) of $TOTAL flagged at the end"
gw_stop
dg_assert_eq 0 "$GW_RC" "exit code after SIGTERM"
dg_assert_eq 0 "$(sql "$G" "select count(*) from (select message_id from messages where direction = 'in' group by message_id having count(*) > 1)")" "duplicated Message-IDs"
missing=$(python3 - "$G/deskgate.db" "$TOTAL" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
have = {r[0] for r in db.execute("select message_id from messages where direction = 'in'")}
print(sum(1 for i in range(1, int(sys.argv[2]) + 1) if "cb-%d@example.net" % i not in have))
PY
)
dg_assert_eq 0 "$missing" "messages missing from the store"
dg_assert_eq $TOTAL "$(rows "$G")" "message rows"
dg_assert_eq 0 "$(flagged_not_stored "$G" $(box_users))" "flagged but not stored at the end"
dg_assert_eq 0 "$(sql "$G" "select count(*) from quarantine")" "quarantined"
dg_log "$kills SIGKILLs ($mid while mail arrived): $TOTAL messages in 8 mailboxes, each exactly one row, all flagged"
dg_log PASS
