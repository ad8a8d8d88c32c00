#!/bin/bash
# bench-gateways: the full several-gateways run of issue 17. A backlog of
# 5,000 messages across 5 mailboxes on one Dovecot is ingested (and
# acknowledged through an SMTP sink) first by one gateway on SQLite, then
# by three gateways on the store given as argument, one of them killed
# with SIGKILL at random points 3 times; prints both throughputs, their
# ratio, the take-over times and the exactly-once counts.
#
#   tests/bench/bench-gateways.sh [STORE]
#
# STORE: where the three gateways keep the desk: an SQLite path (default:
# a file in the run's temporary directory); a postgresql:// URL once that
# driver exists. Run from the build directory (top_srcdir, DESKGATE as in
# make check) or with top_srcdir and DESKGATE set.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$PWD}"
: "${DESKGATE:=$top_builddir/deskgate}"
: "${DESKGATE_DATADIR:=$top_srcdir:$top_srcdir/contrib}"
export top_srcdir top_builddir DESKGATE DESKGATE_DATADIR
TOTAL=${BENCH_TOTAL:-5000}
NBOX=5
PER_BOX=$((TOTAL / NBOX))
IMAP_USERS="box2@example.test box3@example.test box4@example.test box5@example.test"
. "$top_srcdir/tests/integration/imap-lib.sh"
. "$top_srcdir/tests/integration/gateways-lib.sh"
imap_setup bench-gateways
BOXES="$USER1 $IMAP_USERS"
STORE=${1:-$DG_ROOT/three.db}

seed_all() {
	local k=0 b
	for b in $BOXES; do
		gws_seed "$b" $PER_BOX $((k * PER_BOX + $1))
		k=$((k + 1))
	done
}

finished() {
	[ "$(gws_rows 2>/dev/null || echo 0)" -ge "$1" ] &&
		[ "$(gws_sql "select count(*) from outbox where status in ('queued', 'sending')")" = 0 ]
}

# ---- one gateway on SQLite: the reference
gws_init "$DG_ROOT/one.db" "$BOXES" 30
seed_all 1
gws_new 1
t0=$(date +%s.%N)
gws_start 1
want=$TOTAL
one_done() { finished $want; }
dg_wait_for 1800 one_done || dg_fail "one gateway did not finish"
t1=$(date +%s.%N)
gws_stop 1
one=$(python3 -c "print('%.1f' % ($TOTAL / ($t1 - $t0)))")
dg_log "one gateway on SQLite: $TOTAL messages in $(python3 -c "print('%.1f' % ($t1 - $t0))") s, $one msg/s"

# ---- three gateways on STORE, new messages (Message-IDs after the first run's)
for b in $BOXES; do
	dg_doveadm expunge -u "$b" mailbox INBOX all >/dev/null 2>&1
done
GWS_STORE=$STORE
seed_all $((TOTAL + 1))
for i in 2 3 4; do gws_new $i; done
sed -i "s/^lease_ttl = .*/lease_ttl = 10s/" "$DG_ROOT"/gw[234]/deskgate.conf
t0=$(date +%s.%N)
for i in 2 3 4; do gws_start $i; done
RANDOM=$$
takeovers=
for round in 1 2 3; do
	victim=$((round % 3 + 2))
	target=$(( round * TOTAL / 4 - TOTAL / 8 + RANDOM % (TOTAL / 4) ))
	progressed() { [ "$(gws_rows 2>/dev/null || echo 0)" -ge "$target" ]; }
	dg_wait_for 1800 progressed || dg_fail "round $round: no progress"
	pid=$(gws_pid $victim)
	gws_kill $victim
	t=$(gws_takeover "$pid" 60) || dg_fail "round $round: not taken over in 60 s"
	takeovers="$takeovers ${t}s"
	gws_start $victim
done
want=$TOTAL
three_done() { finished $want; }
dg_wait_for 1800 three_done || dg_fail "three gateways did not finish"
t1=$(date +%s.%N)
for i in 2 3 4; do gws_stop $i; done
three=$(python3 -c "print('%.1f' % ($TOTAL / ($t1 - $t0)))")
dups=$(gws_sql "select count(*) from (select message_id from messages where direction = 'in' group by message_id having count(*) > 1) d")
read -r copies distinct dupacks resent < <(gws_acks)
dg_log "three gateways on $STORE, 3 SIGKILLs: $TOTAL messages in $(python3 -c "print('%.1f' % ($t1 - $t0))") s, $three msg/s; rows $(gws_rows), duplicated $dups; take-over:$takeovers"
dg_log "acks at the relay (both runs): $distinct distinct, $dupacks duplicated, $resent resent with the same Message-ID"
dg_log "throughput ratio three/one: $(python3 -c "print('%.2f' % ($three / $one))")"
