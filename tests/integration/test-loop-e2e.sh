#!/bin/bash
# test-loop-e2e: issue 10.6 end to end, the two loops the audit found, with a
# real Postfix delivering into a real Dovecot whose LMTP runs Pigeonhole
# Sieve, and deskgate reading its mailbox over IMAP and sending through
# Postfix (`deskgate run --once`, with VERP envelope senders):
#   1. an agent's mailbox redirects everything to the support address (a
#      Sieve `redirect :copy`): the agent's notification comes back to
#      support; deskgate records a loop event and sends nothing more;
#   2. two desks list each other's support address as an agent: the
#      notification of one becomes a ticket of the other, whose
#      notification comes back to the first; it stops there.
# Each party gets at most three messages in all, however many rounds run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-loop-e2e sieve

support=support@example.test
help=help@example.test
customer=wang@example.net
alice=alice@example.test
for u in $support $help $customer $alice; do
	dg_postfix_adduser "$u" secret
done
desk_e2e_sieve

# Alice forwards everything to the support address and keeps a copy.
ahome=$(dirname "$(dg_maildir $alice)")
cat >"$ahome/.dovecot.sieve" <<SIEVE
require ["copy"];
redirect :copy "$support";
SIEVE
mkdir -p "$ahome/sieve"
chown -R "$DG_MAIL_USER:" "$ahome"

dg_dovecot_start
dg_postfix_start

# desk NAME ADDRESS HOSTNAME AGENT-SECTION: a deskgate for ADDRESS's mailbox,
# with VERP envelope senders
desk() {
	local name=$1 address=$2 host=$3 agents=$4 gw=$DG_ROOT/$1
	desk_e2e_gateway "$gw" "$address" "$host" "Desk $name" \
		"\nenvelope_from = ${address%@*}+{verp}@${address#*@}"
	printf '\n%s\n' "$agents" >>"$gw/deskgate.conf"
	"$deskgate" -q -c "$gw/deskgate.conf" config check >/dev/null 2>&1 ||
		dg_fail "config check $name: $("$deskgate" -c "$gw/deskgate.conf" config check 2>&1)"
}
desk a $support gw-a.example.test "[agent alice]
address = $alice
name = Alice Agent"

sql() { sqlite3 "$DG_ROOT/$1/deskgate.db" "$2"; }
# process DESK: read its mailbox once and send what it queued
process() {
	"$deskgate" -c "$DG_ROOT/$1/deskgate.conf" run --once >>"$DG_ROOT/$1/run.log" 2>&1 ||
		dg_fail "$1: deskgate run --once: $(tail -5 "$DG_ROOT/$1/run.log")"
}
# at_most USER N [HEADER SUBSTRING]
at_most() {
	local user=$1 max=$2 n
	shift 2
	n=$(count "$user" "$@")
	[ "$n" -le "$max" ] || dg_fail "$user: $n message(s) $*, at most $max allowed"
	dg_log "$user: $n message(s) $*"
}

dg_log "1. an agent's mailbox that redirects to support"
send "Wang <$customer>" $support "Deposit not credited" "My deposit of 500 USDT has not arrived."
wait_count $support 1
process a
wait_count $alice 1
wait_count $customer 1
drain
# The redirected notification is in the support mailbox now.
wait_count $support 1 X-Deskgate-Loop gw-a.example.test
for round in 1 2 3 4 5; do
	process a
	drain
done
at_most $alice 3
at_most $customer 3
at_most $support 3
dg_assert_eq 1 "$(sql a 'select count(*) from tickets')" "desk a: tickets"
loops=$(sql a "select count(*) from events where kind = 'loop'")
[ "$loops" -ge 1 ] || dg_fail "desk a: no loop event"
dg_assert_eq 0 "$(sql a "select count(*) from messages where direction = 'in' and from_address = '$support'")" \
	"desk a: our own notification stored as a message"
dg_log "desk a: $(sql a "select detail from events where kind = 'loop' limit 1")"

dg_log "2. two desks that list each other as agents"
desk b $help gw-b.example.test "[agent deska]
address = $support"
# desk a serves help@ too, as an agent (the same configuration, rewritten)
cat >>"$DG_ROOT/a/deskgate.conf" <<CONF

[agent deskb]
address = $help
CONF
"$deskgate" -q -c "$DG_ROOT/a/deskgate.conf" config check >/dev/null 2>&1 || dg_fail "config a"
# Alice stops forwarding, so that only the desks talk to each other.
rm -f "$ahome/.dovecot.sieve"
sup_before=$(count $support)
send "Li <li@example.net>" $support "Withdrawal pending" "My withdrawal is still pending."
wait_count $support $((sup_before + 1))
for round in 1 2 3 4 5; do
	process a
	drain
	process b
	drain
done
a_to_b=$(count $help From "$support")
b_to_a=$(count $support From "$help")
dg_log "two desks: $a_to_b mail(s) a -> b, $b_to_a b -> a"
[ "$a_to_b" -ge 1 ] || dg_fail "desk a never notified desk b"
[ "$a_to_b" -le 3 ] || dg_fail "desk a sent desk b $a_to_b mails"
[ "$b_to_a" -le 3 ] || dg_fail "desk b sent desk a $b_to_a mails"
sent_a=$(sql a "select count(*) from outbox where recipients like '%$help%'")
sent_b=$(sql b "select count(*) from outbox where recipients like '%$support%'")
[ "$sent_a" -le 3 ] && [ "$sent_b" -le 3 ] || dg_fail "outboxes: a->b $sent_a, b->a $sent_b"
dg_log "desk a events: $(sql a "select kind || ': ' || substr(detail, 1, 90) from events where kind in ('loop', 'security')" | tr '\n' ';')"
dg_log "all steps passed"
