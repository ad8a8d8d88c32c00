#!/bin/bash
# bench-gateways: the full several-gateways run of issue 17. A backlog of
# 5,000 messages across 5 mailboxes on one Dovecot is ingested (and
# acknowledged through an SMTP sink) first by one gateway on SQLite, then
# by three gateways on the store given as argument, one of them killed
# with SIGKILL at random points 3 times; prints both throughputs, their
# ratio, the take-over times (each, median, max) and the exactly-once
# counts. Logs are kept when it fails with DG_KEEP=fail (lib.sh).
#
#   tests/bench/bench-gateways.sh [pg | sqlite | STORE]
#
# pg (default): the three gateways on a PostgreSQL the harness starts
# (tests/harness/postgres.sh); sqlite: on one SQLite file; STORE: a store
# location (an SQLite path or a postgresql:// URL). Run from the build
# directory (top_srcdir, DESKGATE as in make check) or with top_srcdir and
# DESKGATE set. BENCH_TOTAL: the backlog (default 5000).
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
case ${1:-pg} in
pg | sqlite) gws_store "${1:-pg}" three; STORE=$GWS_LOC ;;
*) STORE=$1 ;;
esac

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
	target=$(( round * TOTAL / 4 - TOTAL / 8 + RANDOM % (TOTAL / 4) ))
	progressed() { [ "$(gws_rows 2>/dev/null || echo 0)" -ge "$target" ]; }
	dg_wait_for 1800 progressed || dg_fail "round $round: no progress"
	# the victim: a gateway watching the most mailboxes (one watching
	# none would prove nothing about take-over)
	victim= held=-1
	for i in $(( round % 3 + 2 )) $(( (round + 1) % 3 + 2 )) $(( (round + 2) % 3 + 2 )); do
		c=$(gws_sql "select count(*) from leases where name like 'mailbox:%' and holder like '%:$(gws_pid $i):%'")
		[ "$c" -gt "$held" ] && victim=$i held=$c
	done
	pid=$(gws_pid $victim)
	gws_kill $victim
	if ! t=$(gws_takeover "$pid" 60); then
		gws_sql "select * from leases"
		tail -n 20 "$DG_ROOT"/gw*/run.log
		dg_fail "round $round: gateway $victim (pid $pid) not taken over in 60 s"
	fi
	dg_log "round $round: gateway $victim (pid $pid, $held mailbox(es)) killed at $(gws_rows) of $TOTAL; taken over in $t s"
	takeovers="$takeovers $t"
	gws_start $victim
done
want=$TOTAL
three_done() { finished $want; }
dg_wait_for 1800 three_done || { tail -n 20 "$DG_ROOT"/gw*/run.log; dg_fail "three gateways did not finish"; }
t1=$(date +%s.%N)
for i in 2 3 4; do gws_stop $i; done
three=$(python3 -c "print('%.1f' % ($TOTAL / ($t1 - $t0)))")
dups=$(gws_sql "select count(*) from (select message_id from messages where direction = 'in' group by message_id having count(*) > 1) d")
read -r copies distinct dupacks resent < <(gws_acks)
tickets=$(gws_sql "select count(*) from tickets")
resends=$(gws_sql "select coalesce(sum(resends), 0) from outbox")
dg_log "three gateways on ${STORE%%://*}, 3 SIGKILLs: $TOTAL messages in $(python3 -c "print('%.1f' % ($t1 - $t0))") s, $three msg/s; rows $(gws_rows), tickets $tickets, duplicated $dups, resends recorded $resends"
dg_log "take-over (s):$takeovers; $(python3 -c "import statistics, sys; v = [float(x) for x in sys.argv[1:]]; print('median %.1f, max %.1f' % (statistics.median(v), max(v)))" $takeovers)"
dg_log "acks at the relay (both runs): $distinct distinct, $dupacks duplicated, $resent resent with the same Message-ID"
dg_log "throughput ratio three/one: $(python3 -c "print('%.2f' % ($three / $one))")"
