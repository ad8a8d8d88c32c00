#!/bin/bash
# The crash test: 2,000 messages, the gateway killed with SIGKILL at random
# points while it ingests, several times, then run to the end. After every
# kill: nothing is flagged on the server that is not in the store. At the
# end: every message is exactly one row, and none is left unflagged.
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-imap-crash

TOTAL=2000
seed $TOTAL 1
G=$DG_ROOT/gw
gw_new "$G" batch_size=40 timeout=5

RANDOM=$$
kills=0 mid=0
for round in 1 2 3 4 5 6; do
	before=$(rows "$G" 2>/dev/null || echo 0)
	[ "$before" -ge $TOTAL ] && break
	gw_start "$G"
	# Kill at a random point of this round's share of what is left, chosen
	# by progress rather than by time, so that the kill lands mid-backlog
	# however fast the machine is.
	share=$(( (TOTAL - before) / (7 - round) ))
	[ "$share" -ge 1 ] || share=1
	target=$(( before + 1 + RANDOM % share ))
	progressed() { [ "$(rows "$G" 2>/dev/null || echo 0)" -ge "$target" ]; }
	dg_wait_for 30 progressed || { tail "$G/run.log"; dg_fail "round $round: no progress"; }
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
[ "$mid" -ge 3 ] || dg_fail "only $mid of $kills kills happened in the middle of the backlog"

gw "$G" run --once >"$G/final.log" 2>&1 || { tail -20 "$G/final.log"; dg_fail "final run --once"; }
check_exactly_once "$G" 1 $TOTAL
dg_assert_eq $TOTAL "$(seen_count)" "messages flagged at the end"
dg_assert_eq 0 "$(flagged_not_stored "$G" "$USER1")" "flagged but not stored at the end"
dg_assert_eq 0 "$(sql "$G" "select count(*) from quarantine")" "quarantined"
dg_log "$kills SIGKILLs ($mid mid-backlog): $TOTAL messages, each exactly one row, all flagged"
dg_log PASS
