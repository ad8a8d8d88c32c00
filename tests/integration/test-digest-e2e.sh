#!/bin/bash
# test-digest-e2e: issue 13's daily digests end to end with real parts. A
# real Postfix delivers into a real Dovecot; the test build of deskgate
# (tests/deskgate-test, DESKGATE_TEST_CLOCK) reads the support mailbox over
# IMAP and sends through Postfix, with the clock moved by the test. The
# desk works Mon-Fri 09:00-18:00 Berlin, first response 2h. The story:
#   1. two customers write on Tuesday 10:00 Berlin; nobody answers;
#   2. Alice (Shanghai, zh-CN, digest 09:00) gets nothing at 08:59 her time
#      and one digest at 09:00: both tickets unassigned in her queue, both
#      late, in Chinese; runs later that day send nothing more;
#   3. Sue, the queue's supervisor (an address, [digest] time 08:00 Berlin),
#      gets one queue digest: backlog 2, both breached, oldest unanswered;
#      Carol (an agent of no queue, nothing assigned) gets none;
#   4. the daemon down from Wednesday to Saturday noon: one late digest each.
# Each digest reads right in s-nail (printed), with an HTML alternative, and
# is not threaded under anything.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-digest-e2e
dg_require_cmd s-nail
deskgate=$builddir/tests/deskgate-test
[ -x "$deskgate" ] || dg_fail "no test build at $deskgate"

support=support@example.test
customer=wang@example.net
customer2=li@example.net
alice=alice@example.test
carol=carol@example.test
sue=sue@example.test
desk_e2e_start $support $customer $customer2 $alice $carol $sue
desk_e2e_desk $support
cat >>"$conf" <<CONF

[hours]
timezone = Europe/Berlin
week = mon-fri 09:00-18:00

[agent alice]
address = $alice
name = Alice Agent
queues = general
language = zh-CN
timezone = Asia/Shanghai
digest = 09:00

[agent carol]
address = $carol
name = Carol Agent

[queue general]
categories = other, delayed_payment, account_security, failed_trade, registration, complaint
agents = alice
supervisors = $sue

[sla default]
first_response = 2h
warn_at = 75
repeat = 0

[digest]
time = 08:00
CONF
export DESKGATE_TEST_CLOCK=$gw/clock
at() { echo "$1" >"$DESKGATE_TEST_CLOCK"; }
at 2025-03-11T09:00:00Z
desk_e2e_check

sql() { sqlite3 "$gw/deskgate.db" "$1"; }
process() {
	timeout 60 "$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 ||
		dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
	local left
	left=$(sql "select count(*) from outbox where status <> 'sent'")
	[ "$left" = 0 ] || dg_fail "outbox rows not sent: $(sql "select id, kind, status, last_error from outbox where status <> 'sent'")"
	drain
}
# digests USER: the digests in USER's mailbox (decoded subjects)
digests() {
	python3 - "$(dg_maildir "$1")" <<'PY'
import email, email.policy, os, sys
n = 0
for sub in ("new", "cur"):
    d = os.path.join(sys.argv[1], sub)
    for name in os.listdir(d) if os.path.isdir(d) else ():
        with open(os.path.join(d, name), "rb") as f:
            m = email.message_from_bytes(f.read(), policy=email.policy.default)
        s = str(m.get("Subject", ""))
        if "digest" in s.lower() or "摘要" in s:
            n += 1
print(n)
PY
}
expect() { dg_assert_eq "$2" "$(digests "$1")" "$3: $1's digests"; }
# show USER SUBSTRING: the newest message whose subject has SUBSTRING, as
# the user's s-nail types it
show() {
	$helper mbox "$(dg_maildir "$1")" "$DG_ROOT/show.mbox" Subject "$2" || dg_fail "nothing to show"
	printf 'type 1\n' | LC_ALL=C.UTF-8 s-nail -:/ -# -S v15-compat=yes -S ttycharset=utf-8 \
		-S crt=9999 -R -f "$DG_ROOT/show.mbox" 2>>"$DG_ROOT/s-nail.log"
}
customer_mail() {
	local before
	before=$(count $support)
	send "$1" $support "$2" "$3"
	wait_count $support $((before + 1))
}

dg_log "1. two unanswered tickets (Tue 10:00 Berlin; due 12:00)"
customer_mail "Wang <$customer>" "Deposit missing" "My deposit of 500 USDT has not arrived."
customer_mail "Li <$customer2>" "Withdrawal stuck" "My withdrawal is pending since yesterday."
process
dg_assert_eq 2 "$(sql 'select count(*) from tickets')" "tickets"
dg_assert_eq 3 "$(sql "select count(*) from timers where kind = 'digest'")" "digest timers (alice, carol, sue)"
expect $alice 0 "Tue 10:00"

dg_log "2. Alice's digest at 09:00 Shanghai (Wed 01:00Z)"
at 2025-03-12T00:59:00Z
process
expect $alice 0 "08:59 Shanghai"
at 2025-03-12T01:00:00Z
process
expect $alice 1 "09:00 Shanghai"
at 2025-03-12T03:00:00Z
process
expect $alice 1 "11:00 Shanghai, again"
am=$(dg_maildir $alice)
out=$(show $alice "摘要")
printf '%s\n' "$out" | sed 's/^/    alice | /'
case $out in *"您的队列中未分配的工单（2）"*) ;; *) dg_fail "alice's digest: no unassigned list" ;; esac
case $out in *"已超时（2）"*) ;; *) dg_fail "alice's digest: not both late" ;; esac
case $out in *"Deposit missing"*"Withdrawal stuck"*|*"Withdrawal stuck"*"Deposit missing"*) ;;
*) dg_fail "alice's digest: the tickets" ;; esac
case $out in *"CST (+08:00)"*) ;; *) dg_fail "alice's digest: not in her zone" ;; esac
dg_assert_eq auto-generated "$($helper get "$am" Subject "摘要" Auto-Submitted)" "digest Auto-Submitted"
dg_assert_eq "" "$($helper get "$am" Subject "摘要" In-Reply-To)" "digest In-Reply-To"
dg_assert_eq "" "$($helper get "$am" Subject "摘要" References)" "digest References"
dg_assert_eq "" "$($helper get "$am" Subject "摘要" defects)" "digest defects"
python3 - "$am" <<'PY' || dg_fail "alice's digest has no HTML alternative"
import email, email.policy, os, sys
for sub in ("new", "cur"):
    d = os.path.join(sys.argv[1], sub)
    for name in os.listdir(d) if os.path.isdir(d) else ():
        m = email.message_from_bytes(open(os.path.join(d, name), "rb").read(), policy=email.policy.default)
        if "摘要" in str(m["Subject"]):
            types = [p.get_content_type() for p in m.walk()]
            sys.exit(0 if m.get_content_type() == "multipart/alternative" and "text/html" in types else 1)
sys.exit(1)
PY

dg_log "3. Sue's queue digest at 08:00 Berlin (Wed 07:00Z); Carol's is empty"
at 2025-03-12T06:59:00Z
process
expect $sue 0 "07:59 Berlin"
at 2025-03-12T07:00:00Z
process
expect $sue 1 "08:00 Berlin"
expect $carol 0 "08:00 Berlin, nothing to tell"
at 2025-03-12T09:30:00Z
process
expect $sue 1 "10:30 Berlin, again"
out=$(show $sue "Queue digest")
printf '%s\n' "$out" | sed 's/^/    sue | /'
case $out in *"Queue general: 2 open (2 new, 0 open, 0 waiting on the customer), 2 unanswered"*) ;;
*) dg_fail "sue's digest: the backlog" ;; esac
case $out in *"Breached (2)"*) ;; *) dg_fail "sue's digest: the breached" ;; esac
case $out in *"Oldest unanswered"*) ;; *) dg_fail "sue's digest: the oldest" ;; esac
dg_assert_eq 3 "$(sql "select count(*) from digests")" "digests recorded (alice's, sue's, carol's empty one)"
dg_assert_eq 0 "$(sql "select items from digests where recipient = '$carol'")" "carol's: nothing"

dg_log "4. down from Wednesday to Saturday 12:00 Berlin: one late digest each"
at 2025-03-15T11:00:00Z
process
process
expect $alice 2 "Saturday"
expect $sue 2 "Saturday"
expect $carol 0 "Saturday"
dg_assert_eq 2 "$(sql "select count(*) from outbox where kind = 'digest' and recipients = '$sue'")" "sue's digests queued"

dg_log "the digests recorded:"
sql "select kind || ' ' || recipient || ' ' || day || ' items=' || items from digests order by id"
dg_log "all steps passed"
