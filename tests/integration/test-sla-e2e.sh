#!/bin/bash
# test-sla-e2e: issue 13's escalation ladder end to end with real parts. A
# real Postfix delivers into a real Dovecot; the test build of deskgate
# (tests/deskgate-test: DESKGATE_TEST_CLOCK names a file holding the time,
# read at every call) reads the support mailbox over IMAP and sends through
# Postfix. The test moves the clock; nothing sleeps for an SLA. The desk
# works Mon-Fri 09:00-18:00 Berlin; first response 2h, warned at 75%,
# breaches repeated every hour. The story:
#   1. an unanswered ticket that Alice gives Bob (#assign): at 75% one
#      warning to Bob, the assignee (none to Alice), at the due instant one
#      breach notice to the supervisor, delivered; runs in between and
#      right after send nothing more;
#   2. an agent answers another ticket by mail before its warning: its
#      ladder stops, nothing is sent for it however late it gets;
#   3. a daemon (`run`, ticking every second) sends a third, unassigned
#      ticket's warning to the queue's agents, is stopped before its breach and started again five hours
#      after it: exactly one breach notice, not one per missed hour.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-sla-e2e
dg_require_cmd s-nail
deskgate=$builddir/tests/deskgate-test
[ -x "$deskgate" ] || dg_fail "no test build at $deskgate"

support=support@example.test
customer=wang@example.net
alice=alice@example.test
bob=bob@example.test
sue=sue@example.test
desk_e2e_start $support $customer $alice $bob $sue
desk_e2e_desk $support
cat >>"$conf" <<CONF

[hours]
timezone = Europe/Berlin
week = mon-fri 09:00-18:00

[agent alice]
address = $alice
name = Alice Agent
queues = general

[agent bob]
address = $bob
name = Bob Agent

[queue general]
categories = other, delayed_payment, account_security, failed_trade, registration, complaint
agents = alice, bob
supervisors = $sue

[sla default]
first_response = 2h
warn_at = 75
repeat = 1h
CONF
export DESKGATE_TEST_CLOCK=$gw/clock
# at TIME: the desk's clock (UTC)
at() { echo "$1" >"$DESKGATE_TEST_CLOCK"; }
at 2025-03-11T09:00:00Z
desk_e2e_check

sql() { sqlite3 "$gw/deskgate.db" "$1"; }
# process: read the support mailbox once, tick the scheduler, send what it
# queued; nothing may be left in the outbox
process() {
	timeout 60 "$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 ||
		dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
	local left
	left=$(sql "select count(*) from outbox where status <> 'sent'")
	[ "$left" = 0 ] || dg_fail "outbox rows not sent: $(sql "select id, kind, status, last_error from outbox where status <> 'sent'")"
	drain
}
# notices USER SUBJECT: "W B", the escalation warnings and breach notices
# about the ticket SUBJECT in USER's mailbox (subjects decoded)
notices() {
	python3 - "$(dg_maildir "$1")" "$2" <<'PY'
import email, email.policy, os, sys
maildir, subject = sys.argv[1:3]
n = {"SLA warning:": 0, "SLA breached:": 0}
for sub in ("new", "cur"):
    d = os.path.join(maildir, sub)
    for name in os.listdir(d) if os.path.isdir(d) else ():
        with open(os.path.join(d, name), "rb") as f:
            m = email.message_from_bytes(f.read(), policy=email.policy.default)
        s = str(m.get("Subject", ""))
        for k in n:
            if k in s and subject in s:
                n[k] += 1
print(n["SLA warning:"], n["SLA breached:"])
PY
}
# expect USER SUBJECT "W B" WHAT
expect() {
	dg_assert_eq "$3" "$(notices "$1" "$2")" "$4: $1's warnings and breach notices about '$2'"
}
# customer SUBJECT TEXT: a customer's new mail, in the support mailbox
customer_mail() {
	local before
	before=$(count $support)
	send "Wang <$customer>" $support "$1" "$2"
	wait_count $support $((before + 1))
}
# s-nail as the agent's mail client (batch mode, SMTP to Postfix, Reply-To
# honoured); reply USER FROM SUBJECT-SUBSTRING TEXT answers USER's newest
# message whose subject contains SUBJECT-SUBSTRING
reply() {
	$helper mbox "$(dg_maildir "$1")" "$DG_ROOT/reply.mbox" Subject "$3" || dg_fail "no message to reply to"
	printf 'reply 1\n%s\n~.\n' "$4" |
		LC_ALL=C.UTF-8 s-nail -:/ -# -S v15-compat=yes -S smtp-auth=none \
			-S mta=smtp://127.0.0.1:$DG_SMTP_PORT -S DEAD="$DG_ROOT/dead.letter" \
			-S sendcharsets=utf-8 -S ttycharset=utf-8 -S reply-to-honour=yes \
			-S quote=noheading -S from="$2" -f "$DG_ROOT/reply.mbox" \
			>/dev/null 2>>"$DG_ROOT/s-nail.log" || dg_fail "s-nail reply failed"
}

dg_log "1. an unanswered ticket (Tue 10:00 Berlin; due 12:00, warned 11:30)"
A="Deposit missing"
customer_mail "$A" "My deposit of 500 USDT has not arrived."
process
wait_count $alice 1
wait_count $customer 1
dg_assert_eq 1 "$(sql 'select count(*) from ticket_sla where first_due > 0')" "SLA clocks of ticket 1"
at 2025-03-11T09:05:00Z
reply $alice "Alice Agent <$alice>" "$A" '#assign bob'
wait_count $support 2
process
dg_assert_eq $bob "$(sql 'select assignee from tickets where id = 1')" "ticket 1's assignee"
at 2025-03-11T10:29:00Z
process
expect $bob "$A" "0 0" "11:29, before the warning"
at 2025-03-11T10:31:00Z
process
expect $bob "$A" "1 0" "11:31, past 75%"
at 2025-03-11T10:59:00Z
process
process
expect $bob "$A" "1 0" "11:59, two runs later"
expect $sue "$A" "0 0" "11:59, before the breach"
at 2025-03-11T11:01:00Z
process
process
expect $sue "$A" "0 1" "12:01, past the due instant"
expect $bob "$A" "1 0" "12:01, the assignee"
expect $alice "$A" "0 0" "12:01, the queue's other agent"
am=$(dg_maildir $bob)
warn_subject=$($helper get "$am" Subject "SLA warning" Subject)
case $warn_subject in *"[Support #1]"*) ;; *) dg_fail "warning subject: $warn_subject" ;; esac
dg_assert_eq auto-generated "$($helper get "$am" Subject "SLA warning" Auto-Submitted)" "warning Auto-Submitted"
case $($helper get "$am" Subject "SLA warning" Reply-To) in *"<support+1-"*) ;;
*) dg_fail "warning Reply-To: $($helper get "$am" Subject "SLA warning" Reply-To)" ;; esac
cust_msgid=$(sql "select message_id from messages where ticket_id = 1 and direction = 'in' limit 1")
dg_assert_eq "<$cust_msgid>" "$($helper get "$am" Subject "SLA warning" In-Reply-To)" "warning In-Reply-To"
case $($helper get "$am" Subject "SLA warning" body) in *"#assign NAME"*) ;;
*) dg_fail "the warning names no command" ;; esac
sm=$(dg_maildir $sue)
case $($helper get "$sm" Subject "SLA breached" body) in *"missed its first response target"*) ;;
*) dg_fail "breach body: $($helper get "$sm" Subject "SLA breached" body)" ;; esac
dg_assert_eq "" "$($helper get "$sm" Subject "SLA breached" defects)" "breach notice defects"
dg_assert_eq 2 "$(sql "select count(*) from sla_notices where ticket_id = 1")" "notices recorded for ticket 1"

dg_log "2. an agent's answer stops the ladder (opened 12:10, due 14:10)"
B="Withdrawal stuck"
at 2025-03-11T11:10:00Z
customer_mail "$B" "My withdrawal has been pending since yesterday."
process
wait_count $alice 1 Subject "$B"
at 2025-03-11T11:40:00Z
reply $alice "Alice Agent <$alice>" "$B" $'Hello,\n\nyour withdrawal went out at 11:32, it should arrive within the hour.\n\nAlice'
wait_count $support 4
process
wait_count $customer 3
dg_assert_eq 1 "$(sql "select count(*) from messages where ticket_id = 2 and direction = 'agent'")" \
	"the answer is on ticket 2"
for t in 2025-03-11T12:45:00Z 2025-03-11T13:11:00Z 2025-03-11T16:00:00Z; do
	at $t
	process
done
expect $alice "$B" "0 0" "16:00 after the answer"
expect $bob "$B" "0 0" "16:00 after the answer"
expect $sue "$B" "0 0" "16:00 after the answer"
dg_assert_eq 0 "$(sql "select count(*) from sla_notices where ticket_id = 2")" "notices recorded for ticket 2"

dg_log "3. a daemon stopped across the breach (Wed 09:00 Berlin; due 11:00)"
C="Account frozen"
at 2025-03-12T08:00:00Z
D=
stop_daemon() {
	[ -n "$D" ] || return 0
	kill -TERM "$D"
	gone() { ! dg_pid_alive "$D"; }
	dg_wait_for 20 gone || dg_fail "the daemon did not stop on SIGTERM: $(tail -5 "$gw/daemon.log")"
	wait "$D"
	dg_assert_eq 0 $? "the daemon's exit code after SIGTERM"
	D=
}
dg_on_exit '[ -n "$D" ] && kill -KILL "$D"'
start_daemon() {
	"$deskgate" -c "$conf" run >>"$gw/daemon.log" 2>&1 &
	D=$!
	has_pid() { [ "$(cat "$gw/deskgate.pid" 2>/dev/null)" = "$D" ]; }
	dg_wait_for 10 has_pid || dg_fail "the daemon wrote no pid file: $(tail -5 "$gw/daemon.log")"
}
start_daemon
customer_mail "$C" "I cannot log in, my account is frozen."
wait_count $alice 1 Subject "$C"
at 2025-03-12T09:31:00Z
wait_warning() { [ "$(notices $alice "$C") $(notices $bob "$C")" = "1 0 1 0" ]; }
dg_wait_for 20 wait_warning || dg_fail "no warning from the daemon: $(notices $alice "$C") $(notices $bob "$C")"
stop_daemon
at 2025-03-12T14:30:00Z
start_daemon
wait_breach() { [ "$(notices $sue "$C")" != "0 0" ]; }
dg_wait_for 20 wait_breach || dg_fail "no breach notice after the restart"
# a few more ticks (one a second), then everything delivered
sleep 5
stop_daemon
drain
expect $sue "$C" "0 1" "15:30, once after five hours down"
expect $alice "$C" "1 0" "15:30, the queue's agent"
expect $bob "$C" "1 0" "15:30, the queue's agent"
dg_assert_eq 3 "$(sql "select count(*) from sla_notices where ticket_id = 3")" "notices recorded for ticket 3"

dg_log "ticket 1's events:"
sql "select datetime(at, 'unixepoch') || ' ' || kind || ': ' || detail from events where ticket_id = 1 order by id"
dg_log "Bob's mailbox (headers only):"
$helper thread "$(dg_maildir $bob)"
dg_log "the supervisor's mailbox (headers only):"
$helper thread "$sm"
dg_log "all steps passed"
