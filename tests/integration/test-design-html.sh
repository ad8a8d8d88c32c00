#!/bin/sh
# The designed HTML of an acknowledgement (en, zh-CN) and an SLA notice,
# as tests/unit/test-design writes them from the shipped templates, opened
# in real headless Chromium at a desktop and a phone width: each renders
# to a PNG, logs no console message, and its DOM holds the brand band, the
# ticket box and (acks) the safety box; at 375 px the card is no wider
# than the screen (one column, nothing to scroll sideways); nothing is
# fetched (no src or href but the text's links).
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
[ -n "${DESKGATE_SCREENSHOTS:-}" ] && cp "$tmp/ack-800.png" "$tmp/ack-375.png" "$tmp/notice-800.png" \
	"$DESKGATE_SCREENSHOTS/" 2>/dev/null
tl_done
