#!/bin/sh
# The designed HTML of an acknowledgement (en, zh-CN) and an SLA notice,
# as tests/unit/test-design writes them from the shipped templates, opened
# in real headless Chromium at a desktop and a phone width: each renders
# to a PNG, logs no console message, and its DOM holds the brand band, the
# ticket box and (acks) the safety box; at 375 px the card is no wider
# than the screen (one column, nothing to scroll sideways); nothing is
# fetched (no src or href but the text's links).
# Then every other kind of mail people read, as test-design writes it
# (agents' notifications, handover, "Answered by" and status notices, desk
# list, error and survey notices through design_compose(); customers'
# status mail and the digest from the shipped templates), all in one
# Chromium run (a page of 375 px frames, one per kind, and a screenshot of
# it): each lays out in one column within 375 px, logs no console message,
# and holds the brand band, the ticket box with the ticket's number where
# the mail is about one ticket, and the safety box in customers' mail only,
# with nothing to fetch.
set -u
: "${top_srcdir:?}"
. "$top_srcdir/tests/lib/testlib.sh"
command -v python3 >/dev/null || tl_skip "no python3"
chromium=$(command -v chromium || command -v chromium-browser) ||
	tl_skip "no chromium (apt-get install chromium; contrib/setup.sh test installs it)"
[ -x tests/unit/test-design ] || tl_skip "tests/unit/test-design not built"

tmp=$(tl_tmpdir)
tl_run "designed documents written" tests/unit/test-design "$tmp"

profile=$tmp/chromium
run_chromium() {
	timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
		--enable-logging=stderr --v=0 --hide-scrollbars "$@"
}
for doc in ack ack-zh-CN notice; do
	for width in 800 375; do
		run_chromium --window-size=$width,1200 --screenshot="$tmp/$doc-$width.png" \
			"file://$tmp/$doc.html" >"$tmp/shot.out" 2>"$tmp/shot-$doc-$width.err"
		tl_run "$doc at $width px: a PNG" python3 -c "
import sys
d = open('$tmp/$doc-$width.png', 'rb').read()
sys.exit(0 if d[:8] == b'\x89PNG\r\n\x1a\n' and len(d) > 10000 else 1)"
	done
	# the laid-out width of the card at a phone's width, from the DOM
	# after layout (a script Chromium runs: our mail itself has none)
	cat >"$tmp/$doc-probe.html" <<HTML
<!DOCTYPE html><html><body style="margin:0"><iframe id=f src="$doc.html" style="width:375px;height:1200px;border:0"></iframe>
<script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, c = d.querySelector('.dg-card');
  var out = d.createElement('div'); out.id = 'probe';
  out.textContent = 'card=' + Math.round(c.getBoundingClientRect().width) +
    ' scroll=' + d.documentElement.scrollWidth;
  document.body.appendChild(out.cloneNode(true));
};
</script></body></html>
HTML
	run_chromium --window-size=375,1200 --allow-file-access-from-files --virtual-time-budget=5000 \
		--dump-dom "file://$tmp/$doc-probe.html" >"$tmp/$doc-probe.dom" 2>"$tmp/probe-$doc.err"
	probe=$(sed -n 's/.*<div id="probe">\([^<]*\)<.*/\1/p' "$tmp/$doc-probe.dom")
	tl_assert_match "$doc: one column within 375 px" "$probe" "card=3[0-7][0-9] scroll=375"
	run_chromium --window-size=800,1200 --dump-dom "file://$tmp/$doc.html" >"$tmp/$doc.dom" \
		2>"$tmp/dom-$doc.err"
	if grep -q 'CONSOLE' "$tmp/shot-$doc-800.err" "$tmp/shot-$doc-375.err" "$tmp/dom-$doc.err"; then
		tl_not_ok "$doc: no console messages" "$(grep -h CONSOLE "$tmp"/*-$doc*.err)"
	else
		tl_ok "$doc: no console messages"
	fi
	got=$(python3 - "$tmp/$doc.dom" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.classes, self.srcs, self.hrefs, self.bad = set(), 0, [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.classes.update((a.get("class") or "").split())
        if "src" in a: self.srcs += 1
        if "href" in a: self.hrefs.append(a["href"])
        if tag in ("script", "style", "link", "iframe"): self.bad += 1
p = P()
p.feed(open(sys.argv[1]).read())
ok_links = all(h.startswith(("https://", "http://", "mailto:")) for h in p.hrefs)
print(" ".join(c for c in ("dg-brand", "dg-ticket", "dg-safety", "dg-footer") if c in p.classes),
      "srcs=%d bad=%d links=%s" % (p.srcs, p.bad, "ok" if ok_links else "BAD"))
PY
)
	case $doc in
	notice) want="dg-brand dg-ticket dg-footer srcs=0 bad=0 links=ok" ;;
	*) want="dg-brand dg-ticket dg-safety dg-footer srcs=0 bad=0 links=ok" ;;
	esac
	tl_assert_eq "$doc: the expected elements, nothing to fetch" "$got" "$want"
done
kinds="new-ticket follow-up handover answered status desk-list error survey-notice status-reminder
status-solved digest"
{
	printf '<!DOCTYPE html><html><body style="margin:0">\n'
	for k in $kinds; do
		printf '<iframe class=k id="%s" src="%s.html" style="width:375px;height:900px;border:0;display:block"></iframe>\n' "$k" "$k"
	done
	cat <<'HTML'
<script>
var left = document.querySelectorAll('iframe.k').length;
function probe(f) {
  var d = f.contentDocument, c = d.querySelector('.dg-card'), t = d.querySelector('.dg-ticket');
  var has = function (k) { return d.querySelector('.' + k) ? k : ''; };
  var links = Array.prototype.every.call(d.querySelectorAll('[href]'), function (a) {
    return /^(https?:|mailto:)/.test(a.getAttribute('href')); });
  var out = d.createElement('div');
  out.className = 'probe';
  out.textContent = f.id + ': ' + ['dg-brand', 'dg-ticket', 'dg-safety', 'dg-footer'].map(has)
    .filter(Boolean).join(' ') + ' number=' + (t && /#[0-9]+\]?$/.test(t.textContent.trim()) ? 'yes' : 'no') +
    ' card=' + (c ? Math.round(c.getBoundingClientRect().width) : 0) +
    ' scroll=' + d.documentElement.scrollWidth + ' srcs=' + d.querySelectorAll('[src]').length +
    ' bad=' + d.querySelectorAll('script,style,link,iframe').length + ' links=' + (links ? 'ok' : 'BAD');
  document.body.appendChild(out);
}
var done = {}, n = 0;
function tick() {
  document.querySelectorAll('iframe.k').forEach(function (f) {
    var d = f.contentDocument;
    if (done[f.id] || !d || d.readyState !== 'complete' || !d.querySelector('.dg-footer')) return;
    done[f.id] = 1; n++; probe(f);
  });
  if (n < left) setTimeout(tick, 50);
}
tick();
</script></body></html>
HTML
} >"$tmp/kinds.html"
run_chromium --window-size=400,1200 --allow-file-access-from-files --virtual-time-budget=8000 \
	--dump-dom "file://$tmp/kinds.html" >"$tmp/kinds.dom" 2>"$tmp/kinds.err"
run_chromium --window-size=400,9900 --allow-file-access-from-files --screenshot="$tmp/kinds-375.png" "file://$tmp/kinds.html" \
	>"$tmp/shot.out" 2>"$tmp/shot-kinds.err"
tl_run "every kind: a PNG" python3 -c "
import sys
d = open('$tmp/kinds-375.png', 'rb').read()
sys.exit(0 if d[:8] == b'\x89PNG\r\n\x1a\n' and len(d) > 10000 else 1)"
if grep -q 'CONSOLE' "$tmp/kinds.err" "$tmp/shot-kinds.err"; then
	tl_not_ok "every kind: no console messages" "$(grep -h CONSOLE "$tmp"/*kinds.err)"
else
	tl_ok "every kind: no console messages"
fi
for k in $kinds; do
	got=$(sed -n "s/.*<div class=\"probe\">$k: \([^<]*\)<.*/\1/p" "$tmp/kinds.dom" | head -1)
	case $k in
	status-reminder | status-solved) parts="dg-brand dg-ticket dg-safety dg-footer number=yes" ;;
	desk-list | digest) parts="dg-brand dg-footer number=no" ;;
	*) parts="dg-brand dg-ticket dg-footer number=yes" ;;
	esac
	tl_assert_match "$k: its parts, one column within 375 px, nothing to fetch" "$got" \
		"^$parts card=3[0-7][0-9] scroll=375 srcs=0 bad=0 links=ok\$"
done
[ -n "${DESKGATE_SCREENSHOTS:-}" ] && cp "$tmp/ack-800.png" "$tmp/ack-375.png" "$tmp/notice-800.png" \
	"$tmp/kinds-375.png" "$DESKGATE_SCREENSHOTS/" 2>/dev/null
tl_done
