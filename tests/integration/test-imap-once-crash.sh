#!/bin/bash
# run --once takes several FETCH round trips into one transaction
# (once_batch_size, batch_size per round trip): killed with SIGKILL at
# random points, several times, nothing may be flagged on the server that
# is not in the store; at the end every message is exactly one row and
# flagged. The runs (-v) must show transactions of more than one
# round trip, and, with lease_ttl = 3 s, none may lose its lease at the
# fence (a transaction ends after a third of lease_ttl). A transaction
# the time bound ends short is the case where the poller must advance by
# what the batch took, not by what it asked for: on a loaded machine
# (this project's) it happens every run (the count is logged); on a quick
# one 300 messages may fit in 1 s.
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-imap-once-crash

TOTAL=1500
# larger mail than the default tiny: a transaction takes long enough to
# meet its time bound (a third of lease_ttl, 1 s)
SEED_SIZE=mixed seed $TOTAL 1
G=$DG_ROOT/gw
gw_new "$G" batch_size=20 once_batch_size=300 timeout=5
sed -i '/^\[store\]/a lease_ttl = 3s' "$G/deskgate.conf"

RANDOM=$$
kills=0 mid=0
for round in 1 2 3 4 5; do
	before=$(rows "$G" 2>/dev/null || echo 0)
	[ "$before" -ge $TOTAL ] && break
	"$DESKGATE" -v -c "$G/deskgate.conf" run --once >>"$G/run.log" 2>&1 &
	GW_PID=$!
	# a first commit of this run, then a random moment: most likely
	# inside the next transaction's round trips
	progressed() { [ "$(rows "$G" 2>/dev/null || echo 0)" -gt "$before" ]; }
	dg_wait_for 60 progressed || { tail "$G/run.log"; dg_fail "round $round: no progress"; }
	sleep "0.$((RANDOM % 4))"
	if ! dg_pid_alive "$GW_PID"; then
		wait "$GW_PID" 2>/dev/null
		GW_PID=
		dg_log "round $round: the run finished before the kill"
		break
	fi
	kill -KILL "$GW_PID"
	wait "$GW_PID" 2>/dev/null
	GW_PID=
	kills=$((kills + 1))
	at=$(rows "$G")
	[ "$at" -lt $TOTAL ] && mid=$((mid + 1))
	bad=$(flagged_not_stored "$G" "$USER1")
	dg_assert_eq 0 "$bad" "round $round: messages flagged on the server but not in the store"
	dg_log "round $round: killed with $at of $TOTAL stored, $(seen_count) flagged, 0 flagged-not-stored"
done
[ "$mid" -ge 2 ] || dg_fail "only $mid of $kills kills happened in the middle of the backlog"

# what is left, in transactions of several round trips that only the time
# bound ends (the poller must go on from what each one took)
left=$(($TOTAL - $(rows "$G")))
sed -i 's/^once_batch_size = .*/once_batch_size = 100000/' "$G/deskgate.conf"
"$DESKGATE" -v -c "$G/deskgate.conf" run --once >"$G/final.log" 2>&1 ||
	{ tail -20 "$G/final.log"; dg_fail "final run --once"; }
check_exactly_once "$G" 1 $TOTAL
dg_assert_eq $TOTAL "$(seen_count)" "messages flagged at the end"
dg_assert_eq 0 "$(flagged_not_stored "$G" "$USER1")" "flagged but not stored at the end"
dg_assert_eq 0 "$(sql "$G" "select count(*) from quarantine")" "quarantined"
grep -q 'lost before the commit' "$G/run.log" "$G/final.log" &&
	dg_fail "a transaction outlived its lease"
largest=$(sed -n 's/.*batch of \([0-9]*\) uid.*/\1/p' "$G/run.log" "$G/final.log" | sort -n | tail -1)
[ "${largest:-0}" -gt 20 ] ||
	dg_fail "the largest transaction held ${largest:-0} messages, not more than one round trip of 20"
cut=$(grep -c 'a third of lease_ttl has passed' "$G/run.log" "$G/final.log" | awk -F: '{ n += $2 } END { print n }')
dg_log "transactions ended by the time bound: $cut"
dg_log "$kills SIGKILLs ($mid mid-backlog); final run: $left left, largest transaction ${largest:-0}; $TOTAL messages, each exactly one row, all flagged"
dg_log PASS
