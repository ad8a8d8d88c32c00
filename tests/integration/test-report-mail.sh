#!/bin/bash
# test-report-mail: issue 14's weekly report by mail end to end with real
# parts. A real Postfix delivers into a real Dovecot; the test build of
# deskgate (tests/deskgate-test, DESKGATE_TEST_CLOCK) reads the support
# mailbox over IMAP and sends through Postfix, with the clock moved by the
# test; every `run --once` is a new process (a restart). The desk is in
# Berlin, [report] weekly is the default (mon 08:00), Sue is the agent with
# supervisor = yes. The story:
#   1. three customers write on Tuesday 2025-03-11; Carol answers nothing;
#   2. Monday 07:59 Berlin: no report; 08:00: Sue gets one, of 03-10 to
#      03-16, with a text part (the greeting, the text report) and an HTML
#      part, From the desk, Auto-Submitted; runs later that morning send
#      nothing more, and Carol (no supervisor) gets none;
#   3. the HTML part in headless Chromium: rendered to a PNG, no console
#      message, the charts with their marks (7 days: 7 bars + 7 backlog
#      points, 168 heatmap cells, 5 score bars), no script, nothing fetched;
#   4. the daemon down for three weeks: one late report, of the latest week.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-report-mail
chromium=$(command -v chromium || command -v chromium-browser) ||
	dg_skip "no chromium (apt-get install chromium; contrib/setup.sh test installs it)"
deskgate=$builddir/tests/deskgate-test
[ -x "$deskgate" ] || dg_fail "no test build at $deskgate"

support=support@example.test
sue=sue@example.test
carol=carol@example.test
for u in $support $sue $carol wang@example.net li@example.net zhao@example.net; do
	dg_postfix_adduser "$u" secret
done
dg_dovecot_start
dg_postfix_start

gw=$DG_ROOT/gw
conf=$gw/deskgate.conf
desk_e2e_gateway "$gw" $support gw.example.test "Example Support"
cat >>"$conf" <<CONF

[hours]
timezone = Europe/Berlin
week = mon-fri 09:00-18:00

[agent sue]
address = $sue
name = Sue Supervisor
supervisor = yes

[agent carol]
address = $carol
name = Carol Agent
CONF
export DESKGATE_TEST_CLOCK=$gw/clock
at() { echo "$1" >"$DESKGATE_TEST_CLOCK"; }
at 2025-03-11T09:00:00Z
"$deskgate" -q -c "$conf" config check >/dev/null 2>&1 ||
	dg_fail "config check: $("$deskgate" -c "$conf" config check 2>&1)"

run() { process; drain; }
weekly() { count "$1" Subject "Weekly support report"; }

dg_log "1. three tickets on Tuesday"
send "Wang <wang@example.net>" $support "Deposit missing" "My deposit of 500 USDT has not arrived."
send "Li <li@example.net>" $support "Withdrawal stuck" "My withdrawal is pending since yesterday."
send "Zhao <zhao@example.net>" $support "KYC question" "Which documents do you need?"
wait_count $support 3
run
dg_assert_eq 3 "$(sql 'select count(*) from tickets')" "tickets"
dg_assert_eq 1 "$(sql "select count(*) from timers where kind = 'report'")" "report timer"

dg_log "2. Monday 08:00 Berlin (07:00Z): one report to Sue"
at 2025-03-17T06:59:00Z
run
dg_assert_eq 0 "$(weekly $sue)" "07:59: Sue's reports"
at 2025-03-17T07:00:00Z
run
wait_count $sue 1 Subject "Weekly support report"
at 2025-03-17T07:30:00Z
run
at 2025-03-17T09:00:00Z
run
dg_assert_eq 1 "$(weekly $sue)" "later that morning: Sue's reports"
dg_assert_eq 0 "$(weekly $carol)" "Carol's reports"
sm=$(maildir $sue)
dg_assert_eq "Weekly support report 2025-03-10 to 2025-03-16: 3 new tickets" \
	"$($helper get "$sm" Subject "Weekly support report" Subject)" "subject"
dg_assert_eq auto-generated "$($helper get "$sm" Subject "Weekly support report" Auto-Submitted)" "Auto-Submitted"
dg_assert_eq "" "$($helper get "$sm" Subject "Weekly support report" In-Reply-To)" "not threaded"
dg_assert_eq "" "$($helper get "$sm" Subject "Weekly support report" defects)" "MIME defects"
case $($helper get "$sm" Subject "Weekly support report" From) in
*"<$support>"*) ;; *) dg_fail "not From the desk" ;; esac
out=$(show $sue Subject "Weekly support report")
printf '%s\n' "$out" | sed -n '1,40p' | sed 's/^/    sue | /'
case $out in *"3 new tickets, 0 solved, 3 open now"*) ;; *) dg_fail "greeting: the figures" ;; esac
case $out in *"new tickets        3"*"First response"*"promise kept"*) ;; *) dg_fail "the text report" ;; esac
$helper get "$sm" Subject "Weekly support report" raw >"$DG_ROOT/report.eml"
python3 - "$DG_ROOT/report.eml" "$DG_ROOT/report.html" <<'PY' || dg_fail "no text and HTML alternatives"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
types = [p.get_content_type() for p in m.walk()]
assert m.get_content_type() == "multipart/alternative", m.get_content_type()
assert "text/plain" in types and "text/html" in types, types
open(sys.argv[2], "w", encoding="utf-8").write(m.get_body(preferencelist=("html",)).get_content())
PY

dg_log "3. the HTML part in headless Chromium"
profile=$DG_ROOT/chromium
run_chromium() {
	timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
		--enable-logging=stderr --v=0 --hide-scrollbars --window-size=1120,2200 "$@"
}
run_chromium --screenshot="$DG_ROOT/report.png" "file://$DG_ROOT/report.html" \
	>"$DG_ROOT/shot.out" 2>"$DG_ROOT/shot.err"
python3 -c "
import sys
d = open('$DG_ROOT/report.png', 'rb').read()
sys.exit(0 if d[:8] == b'\x89PNG\r\n\x1a\n' and len(d) > 20000 else 1)" ||
	dg_fail "chromium rendered no PNG: $(tail -3 "$DG_ROOT/shot.err")"
run_chromium --dump-dom "file://$DG_ROOT/report.html" >"$DG_ROOT/dom.html" 2>"$DG_ROOT/dom.err"
if grep -q CONSOLE "$DG_ROOT/shot.err" "$DG_ROOT/dom.err"; then
	dg_fail "console messages: $(grep CONSOLE "$DG_ROOT/shot.err" "$DG_ROOT/dom.err")"
fi
marks=$(python3 "$srcdir/tests/integration/report-marks.py" "$DG_ROOT/dom.html")
dg_assert_eq "14 168 5 0 0" "$marks" "chart marks, no references, no script"

dg_log "4. down for three weeks: one report, of the latest week"
at 2025-04-07T10:00:00Z
run
run
wait_count $sue 2 Subject "Weekly support report"
dg_assert_eq 2 "$(weekly $sue)" "after three weeks: Sue's reports"
dg_assert_eq "Weekly support report 2025-03-31 to 2025-04-06: 0 new tickets" \
	"$($helper get "$sm" Subject "2025-03-31" Subject)" "the latest week"
dg_assert_eq 2 "$(sql "select count(*) from reports_sent")" "reports recorded"
dg_assert_eq 2 "$(sql "select count(*) from outbox where kind = 'report'")" "reports queued"

dg_log "the reports recorded:"
sql "select datetime(period_start, 'unixepoch') || ' .. ' || datetime(period_end, 'unixepoch') || ' ' || recipient || ' tickets=' || tickets from reports_sent order by id"
dg_log "all steps passed"
