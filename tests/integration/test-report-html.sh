#!/bin/sh
# `deskgate report` on a generated store (300 tickets over 14 days, a fixed
# seed): text, JSON, CSV and HTML are written and agree; the HTML page is
# opened in real headless Chromium, which renders it to a PNG and hands
# back its DOM: the charts have the expected number of marks (14 bars and
# 14 backlog points, 168 heatmap cells, 5 score bars), the page logs no
# console error, and it refers to nothing outside itself (no script, no
# src or href: nothing to fetch).
set -u
: "${top_srcdir:?}" "${DESKGATE:?}"
. "$top_srcdir/tests/lib/testlib.sh"
[ -x "$DESKGATE" ] || tl_skip "$DESKGATE not built"
command -v python3 >/dev/null || tl_skip "no python3"
chromium=$(command -v chromium || command -v chromium-browser) ||
	tl_skip "no chromium (apt-get install chromium; contrib/setup.sh test installs it)"

tmp=$(tl_tmpdir)
"$DESKGATE" init --address support@example.test --hostname desk.example.test "$tmp/home" >/dev/null ||
	{ tl_not_ok "deskgate init"; tl_done; }
conf=$tmp/home/deskgate.conf
"$DESKGATE" -c "$conf" ticket list >/dev/null # creates the store
end=1764460800 # 2025-11-30 00:00 UTC, a Sunday
since=$((end - 14 * 86400))
python3 "$top_srcdir/tests/bench/gen-report-store.py" "$tmp/home/deskgate.db" \
	--tickets 300 --days 14 --end $end --seed 7
tl_run "generated store" test -s "$tmp/home/deskgate.db"

report() { "$DESKGATE" -c "$conf" report --since @$since --until @$end "$@"; }
tl_run "report --json" sh -c "'$DESKGATE' -c '$conf' report --since @$since --until @$end --json >'$tmp/r.json'"
tl_run "report --csv --by week" sh -c "'$DESKGATE' -c '$conf' report --since @$since --until @$end --csv --by week >'$tmp/r.csv'"
tl_run "report --html --by agent" "$DESKGATE" -c "$conf" report --since @$since --until @$end \
	--by agent --html "$tmp/r.html"
text=$(report 2>&1)
tl_assert_match "text: new tickets" "$text" "new tickets *300"

# JSON: every ticket is new in the period, on one of its 14 days, in one
# heatmap cell; the CSV's total row says the same.
got=$(python3 - "$tmp/r.json" "$tmp/r.csv" <<'PY'
import csv, json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
days = r["days"]
heat = sum(sum(row) for row in r["heatmap"])
rows = list(csv.reader(open(sys.argv[2], newline="")))
total = [row for row in rows if row[0] == "total"][0]
print(t["new_tickets"], len(days), sum(d["created"] for d in days), heat,
      total[rows[0].index("new_tickets")], len(rows) - 2,
      t["first_response"]["median"] <= t["first_response"]["p90"])
PY
)
# 2025-11-16 (a Sunday, ISO week 46) .. 11-29: weeks 46, 47 and 48
tl_assert_eq "json and csv agree" "$got" "300 14 300 300 300 3 True"

# Chromium: a fresh profile, no network services, no sandbox (root in CI).
profile=$tmp/chromium
run_chromium() {
	timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
		--enable-logging=stderr --v=0 --hide-scrollbars --window-size=1120,2200 "$@"
}
run_chromium --screenshot="$tmp/r.png" "file://$tmp/r.html" >"$tmp/shot.out" 2>"$tmp/shot.err"
tl_run "chromium rendered a PNG" python3 -c "
import sys
d = open('$tmp/r.png', 'rb').read()
sys.exit(0 if d[:8] == b'\x89PNG\r\n\x1a\n' and len(d) > 20000 else 1)"
run_chromium --dump-dom "file://$tmp/r.html" >"$tmp/dom.html" 2>"$tmp/dom.err"
if grep -q 'CONSOLE' "$tmp/shot.err" "$tmp/dom.err"; then
	tl_not_ok "no console messages" "$(grep CONSOLE "$tmp/shot.err" "$tmp/dom.err")"
else
	tl_ok "no console messages"
fi
marks=$(python3 "$top_srcdir/tests/integration/report-marks.py" "$tmp/dom.html")
tl_assert_eq "chart marks, no references, no script" "$marks" "28 168 5 0 0"
tl_done
