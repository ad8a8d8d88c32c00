#!/bin/bash
# test-gateways: three `deskgate run` on one store and one Dovecot (issue
# 17, shortened; tests/bench/bench-gateways.sh is the full run). The store
# driver is GWS_DRIVER: sqlite (default), or pg (test-gateways-pg.sh: the
# harness PostgreSQL; skipped, 77, only when PostgreSQL is absent).
# 300 messages across 3 mailboxes; a gateway is killed with SIGKILL at a
# random point of the backlog 3 times and started again. Each mailbox is
# watched by one gateway at a time (its lease); a dead gateway's mailboxes
# are taken over (on this host at once, its process being gone; the third
# gateway runs in a UTS namespace of its own, as on another host, where
# its lease must expire first). At the end: 0 lost, 0 duplicated tickets,
# 0 duplicated acknowledgements (a resend of the same message, same
# Message-ID, after a kill mid-send, is counted apart), every message
# flagged; the take-over times are printed.
set -u
IMAP_USERS="sales@example.test billing@example.test"
. "$top_srcdir/tests/integration/imap-lib.sh"
. "$top_srcdir/tests/integration/gateways-lib.sh"
DRIVER=${GWS_DRIVER:-sqlite}
case $DRIVER in
sqlite) imap_setup test-gateways ;;
*) imap_setup "test-gateways-$DRIVER" ;;
esac
dg_require_cmd unshare
gws_store "$DRIVER" shared

PER_BOX=100
TTL=5
BOXES="$USER1 $IMAP_USERS"
TOTAL=$((PER_BOX * 3))
gws_init "$GWS_LOC" "$BOXES" $TTL
# The backlog arrives in 4 parts (a quarter before each kill and the
# last), so that every kill lands while there is work to take over.
STAGE=$((PER_BOX / 4))
seed_stage() {
	local k=0 b
	for b in $BOXES; do
		gws_seed "$b" $STAGE $((k * PER_BOX + ($1 - 1) * STAGE + 1))
		k=$((k + 1))
	done
}
seed_stage 1
# gateway 3 "on another host": unshare needs CAP_SYS_ADMIN
host3=
unshare --uts true 2>/dev/null && host3=gw3.remote.test
gws_new 1
gws_new 2
gws_new 3 "$host3"

# A gateway that fails at start-up after taking its liveness lease (its
# rules do not load: fatal, exit 78) leaves no lease behind: the others
# would count it among the live gateways until lease_ttl and hold back
# its share of the mailboxes. "On another host", where no one else can
# tell that its process is gone.
gws_new 4 "$host3"
sed -i '/^\[rules\]/a dir = /nonexistent/rules.d' "$DG_ROOT/gw4/deskgate.conf"
gws_start 4
pid=$(gws_pid 4)
wait "$pid"
rc=$?
rm -f "$DG_ROOT/gw4/pid"
dg_assert_eq 78 "$rc" "exit status of the gateway whose rules do not load"
grep -q "nonexistent/rules.d" "$DG_ROOT/gw4/run.log" || dg_fail "no reason logged: $(tail -3 "$DG_ROOT/gw4/run.log")"
dg_assert_eq 0 "$(gws_sql "select count(*) from leases where holder like '%:$pid:%'")" \
	"leases left by the gateway that failed at start-up"
gws_start 1
gws_start 2
gws_start 3

# Each gateway holds at most its share: one mailbox each, once all three
# run (the first one started hands the surplus over).
shared_out() {
	[ "$(gws_sql "select count(distinct holder) from leases where name like 'mailbox:%' and expires_at > $(gws_now)" 2>/dev/null)" = 3 ]
}
dg_wait_for 30 shared_out || { gws_sql "select * from leases"; dg_fail "the mailboxes were not shared out"; }

RANDOM=$$
takeovers=
for round in 1 2 3; do
	victim=$(( (round - 1) % 3 + 1 ))
	[ $round = 1 ] || seed_stage $round
	before=$(( (round - 1) * STAGE * 3 ))
	target=$(( before + 1 + RANDOM % (STAGE * 3) ))
	progressed() { [ "$(gws_rows 2>/dev/null || echo 0)" -ge "$target" ]; }
	dg_wait_for 60 progressed || { tail "$DG_ROOT"/gw*/run.log; dg_fail "round $round: no progress"; }
	pid=$(gws_pid $victim)
	held=$(gws_sql "select count(*) from leases where name like 'mailbox:%' and holder like '%:$pid:%'")
	gws_kill $victim
	t=$(gws_takeover "$pid" $((TTL * 3))) || dg_fail "round $round: gateway $victim's mailboxes not taken over within $((TTL * 3)) s"
	where=local
	[ $victim = 3 ] && [ -n "$host3" ] && where=remote
	takeovers="$takeovers $where:${t}s"
	dg_log "round $round: gateway $victim (pid $pid, $held mailbox(es), $where) killed at $(gws_rows) of $TOTAL; taken over in $t s"
	gws_start $victim
done
seed_stage 4

done_all() {
	[ "$(gws_rows 2>/dev/null || echo 0)" -ge $TOTAL ] &&
		[ "$(gws_sql "select count(*) from outbox where status in ('queued', 'sending')")" = 0 ]
}
dg_wait_for 120 done_all || { tail "$DG_ROOT"/gw*/run.log; dg_fail "the backlog was not finished"; }
for i in 1 2 3; do gws_stop $i; done
dg_assert_eq 0 "$(gws_sql "select count(*) from leases where name not like 'x%'")" "leases left after a clean stop"

# 0 lost, 0 duplicated tickets
dg_assert_eq $TOTAL "$(gws_rows)" "message rows"
dg_assert_eq 0 "$(gws_sql "select count(*) from (select message_id from messages where direction = 'in' group by message_id having count(*) > 1) d")" "duplicated messages"
dg_assert_eq $TOTAL "$(gws_sql "select count(*) from tickets")" "tickets"
seeded=$(gws_sql "select message_id from messages where direction = 'in'" |
	awk -F'[-@]' -v max=$TOTAL '$1 == "mk" && $2 + 0 >= 1 && $2 + 0 <= max && !seen[$2 + 0]++ { c++ } END { print c + 0 }')
dg_assert_eq $TOTAL "$seeded" "the seeded Message-IDs"
for b in $BOXES; do
	dg_assert_eq $PER_BOX "$(seen_count "$b")" "messages flagged in $b"
done
dg_assert_eq 0 "$(gws_sql "select count(*) from quarantine")" "quarantined"

# 0 duplicated acknowledgements
read -r copies distinct dup resent < <(gws_acks)
queued=$(gws_sql "select count(*) from outbox where kind = 'ack'")
resends=$(gws_sql "select coalesce(sum(resends), 0) from outbox")
dg_assert_eq 0 "$dup" "tickets acknowledged twice (different Message-IDs)"
dg_assert_eq "$queued" "$distinct" "acknowledgements at the relay (one per queued ack)"
[ "$resent" -le "$resends" ] || dg_fail "$resent copies sent again but only $resends resends recorded"
[ "$queued" -ge 1 ] || dg_fail "no acknowledgement queued (the test proves nothing about acks)"
for i in 1 2 3; do
	grep -q "lease mailbox:.*acquired" "$DG_ROOT/gw$i/run.log" || dg_fail "gateway $i never watched a mailbox"
done

dg_log "$DRIVER: 3 gateways, 3 SIGKILLs: $TOTAL messages, 0 lost, 0 duplicated tickets; acks: $distinct, 0 duplicated, $resent resent with the same Message-ID ($resends claims taken over); take-over:$takeovers"
dg_log PASS
