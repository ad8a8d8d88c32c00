#!/bin/sh
# `deskgate ticket list` filters and columns, `ticket show` SLA targets
# (issue 13), on a real SQLite store filled through `deskgate ingest` with
# the test build's clock (tests/deskgate-test, DESKGATE_TEST_CLOCK): four
# tickets, one of a VIP, one assigned, one answered in time, one pending;
# each filter keeps exactly the tickets it should, --json keeps working.
set -u
. "$top_srcdir/tests/lib/testlib.sh"
deskgate=$top_builddir/tests/deskgate-test
[ -x "$deskgate" ] || tl_skip "$deskgate not built"
command -v sqlite3 >/dev/null || tl_skip "sqlite3 not installed"
command -v python3 >/dev/null || tl_skip "python3 not installed"

home=$(tl_tmpdir)
"$deskgate" init --address support@example.test --hostname gw.example.test "$home/gw" >/dev/null ||
	tl_not_ok "deskgate init"
conf=$home/gw/deskgate.conf
cat >>"$conf" <<'CONF'

[hours]
timezone = Europe/Berlin
week = mon-fri 09:00-18:00

[agent alice]
address = alice@staff.example
name = Alice Agent
queues = general

[queue general]
categories = other, delayed_payment, account_security, failed_trade, registration, complaint
agents = alice

[rules]
vip_senders = whale.example

[sla vip]
vip = yes
first_response = 1h
warn_at = 50

[sla default]
first_response = 4h
resolution = 3d
warn_at = 75
CONF
export DESKGATE_TEST_CLOCK=$home/clock
at() { echo "$1" >"$DESKGATE_TEST_CLOCK"; }
dg() { "$deskgate" -c "$conf" "$@"; }
sql() { sqlite3 "$home/gw/deskgate.db" "$1"; }
mail() { # FROM SUBJECT ID
	printf 'From: %s\nTo: support@example.test\nSubject: %s\n' "$1" "$2"
	printf 'Message-ID: <%s@customer.example>\nDate: Tue, 11 Mar 2025 10:00:00 +0100\n\n' "$3"
	printf 'About %s: please help.\n' "$2"
}
# Tuesday 2025-03-11 10:00 Berlin
at 2025-03-11T09:00:00Z
dg config check >/dev/null 2>&1 || tl_not_ok "config check: $(dg config check 2>&1)"
mail "Carl <carl@customer.example>" "Deposit missing" m1 | dg ingest >/dev/null 2>&1
mail "Whale <w@whale.example>" "VIP withdrawal" m2 | dg ingest >/dev/null 2>&1
mail "Dora <dora@customer.example>" "Password reset" m3 | dg ingest >/dev/null 2>&1
mail "Eve <eve@customer.example>" "Waiting on docs" m4 | dg ingest >/dev/null 2>&1
tl_assert_eq "four tickets" "$(sql 'select count(*) from tickets')" 4
# Alice takes the first; the fourth waits on the customer (the store as
# #assign and #pending leave it; the SLA clocks pause on the next sync)
sql "update tickets set assignee = 'alice@staff.example' where id = 1"
sql "update tickets set status = 'pending' where id = 4"
sql "update ticket_sla set paused_at = 1741683600, earliest_due = 0 where ticket_id = 4"

ids() { # the ticket ids of a `ticket list --json`, sorted
	python3 -c 'import json,sys; print(" ".join(str(t["id"]) for t in sorted(json.load(sys.stdin), key=lambda t: t["id"])))'
}
# 12:30: the VIP's 1h target (due 11:00) is breached; the others run
at 2025-03-11T11:30:00Z
tl_assert_eq "no filter" "$(dg ticket list --json | ids)" "1 2 3 4"
tl_assert_eq "--status pending" "$(dg ticket list --status pending --json | ids)" "4"
tl_assert_eq "--assignee NAME" "$(dg ticket list --assignee alice --json | ids)" "1"
tl_assert_eq "--assignee address" "$(dg ticket list --assignee alice@staff.example --json | ids)" "1"
tl_assert_eq "--assignee none" "$(dg ticket list --assignee none --json | ids)" "2 3 4"
tl_assert_eq "--queue" "$(dg ticket list --queue general --json | ids)" "1 2 3 4"
tl_assert_eq "--queue other" "$(dg ticket list --queue nosuch --json | ids)" ""
tl_assert_eq "--vip" "$(dg ticket list --vip --json | ids)" "2"
tl_assert_eq "--overdue" "$(dg ticket list --overdue --json | ids)" "2"
# the 4h targets are due at 14:00 Berlin (13:00Z): within 2h of 12:30
tl_assert_eq "--due-within 1h" "$(dg ticket list --due-within 1h --json | ids)" "2"
tl_assert_eq "--due-within 2h" "$(dg ticket list --due-within 2h --json | ids)" "1 2 3"
tl_assert_eq "--due-within 2h --assignee none" \
	"$(dg ticket list --due-within 2h --assignee none --json | ids)" "2 3"
tl_assert_eq "--limit" "$(dg ticket list --limit 2 --json | ids)" "3 4"
tl_assert_eq "--due-within orders by due" \
	"$(dg ticket list --due-within 2h --json | python3 -c 'import json,sys; print(" ".join(str(t["id"]) for t in json.load(sys.stdin)))')" "2 3 1"

out=$(dg ticket list)
tl_assert_match "columns" "$out" "^TICKET  *STATUS  *PRIORITY  *CATEGORY  *QUEUE  *ASSIGNEE  *DUE  *SLA  *CUSTOMER  *SUBJECT"
tl_assert_match "the breached VIP ticket" "$out" "^2 .* general .* - .*2025-03-11 10:00:00Z breached"
tl_assert_match "the assigned one" "$out" "^1 .* alice@staff.example .*2025-03-11 13:00:00Z running"
tl_assert_match "the pending one" "$out" "^4  *pending .* paused"
tl_assert_eq "the SLA state in JSON" \
	"$(dg ticket list --vip --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["sla"]["state"])')" "breached"

# 13:45 Berlin: ticket 1 is past 75% of its 4h target: at risk
at 2025-03-11T12:45:00Z
show=$(dg ticket show 1)
tl_assert_match "show: the policy" "$show" "SLA default (calendar default): at-risk"
tl_assert_match "show: first response at risk" "$show" "first_response  *at-risk  *due 2025-03-11 13:00:00Z, 15m left"
tl_assert_match "show: resolution running" "$show" "resolution  *running  *due"
tl_assert_match "show: no next response line while idle" "$(echo "$show" | grep -c next_response)" "^0$"
tl_assert_match "show: breached" "$(dg ticket show 2)" "first_response  *breached  *due 2025-03-11 10:00:00Z, late by 2h 45m"
tl_assert_match "show: paused" "$(dg ticket show 4)" "first_response  *paused"
tl_assert_eq "show --json: the targets" \
	"$(dg ticket show 2 --json | python3 -c 'import json,sys; print(" ".join(t["target"] + "=" + t["state"] for t in json.load(sys.stdin)["sla"]["targets"]))')" \
	"first_response=breached next_response=none resolution=none"

# `report` by default runs until now, this second included, on the desk's
# clock: at the instant the four tickets came in, they are its new tickets
# (the second they were stamped was left out; and the report read the real
# clock, not the test build's)
at 2025-03-11T09:00:00Z
tl_assert_eq "report until now: this second's tickets" \
	"$(dg report --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["new_tickets"])')" 4
at 2025-03-11T11:30:00Z

dg ticket list --status solved >/dev/null 2>&1
tl_assert_eq "a bad status" "$?" 64
dg ticket list --due-within soon >/dev/null 2>&1
tl_assert_eq "a bad duration" "$?" 64
dg ticket list --assignee nobody >/dev/null 2>&1
tl_assert_eq "an unknown agent" "$?" 64
dg ticket list --queue >/dev/null 2>&1
tl_assert_eq "a missing value" "$?" 64
tl_assert_match "--help names the filters" "$(dg ticket --help)" "--due-within D"
tl_done
