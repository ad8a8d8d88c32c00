#!/bin/bash
# test-html-e2e: an agent's HTML reply shaped as Microsoft Outlook writes
# it (the HTML of the shared corpus's Outlook reply, talon's outlook.eml:
# WordSection1, MsoNormal paragraphs, the "From: / Sent:" block of the
# quoted mail) goes from the agent through a real Postfix into a real
# Dovecot, deskgate relays it, and the customer's mailbox holds a
# multipart/related (alternative text + HTML, the screenshot the reply
# shows as an inline part with its Content-ID); the HTML has the agent's
# words and link, no quote, no command line, no script, no remote image;
# the logo of the quoted mail is not sent; the command was applied.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-html-e2e
corpora=${DESKGATE_CORPORA:-$srcdir/../shared/corpora}
outlook=$corpora/replies/talon/tests/fixtures/standard_replies/outlook.eml
[ -f "$outlook" ] || dg_skip "no shared corpora ($outlook)"

support=support@example.test
customer=li@example.net
alice=alice@example.test
desk_e2e_start $support $customer $alice
desk_e2e_desk $support
cat >>"$conf" <<CONF

[agent alice]
address = $alice
name = Alice Agent
CONF
desk_e2e_check
maildir() { dg_maildir "$1"; }
sql() { sqlite3 "$gw/deskgate.db" "$1"; }
process() {
	"$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 || dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
}

dg_log "1. the customer writes"
python3 - "$DG_SMTP_PORT" "$customer" "$support" <<'PY' || dg_fail "customer mail not sent"
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"], m["To"], m["Subject"] = "Li Wei <%s>" % sys.argv[2], sys.argv[3], "Deposit not credited"
m.set_content("Hello,\nmy deposit of 0.5 BTC has not arrived.\nLi Wei\n")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.send_message(m)
PY
wait_count $support 1
process
wait_count $alice 1

dg_log "2. Alice answers the notification from Outlook, in HTML, with a screenshot"
python3 - "$DG_SMTP_PORT" "$(maildir $alice)" "$alice" "$outlook" "$DG_ROOT" <<'PY' || dg_fail "agent reply not sent"
import email, email.policy, glob, os, smtplib, struct, sys, zlib
from email.message import EmailMessage
port, maildir, alice, outlook, root = sys.argv[1:6]
notes = sorted(glob.glob(os.path.join(maildir, "new", "*")) + glob.glob(os.path.join(maildir, "cur", "*")))
note = email.message_from_bytes(open(notes[-1], "rb").read(), policy=email.policy.default)
raw = open(outlook, encoding="latin-1").read()
html = raw[raw.index("<html"):raw.rindex("</html>") + 7]
# the quoted mail as Outlook shows it starts at the bold "From:" paragraph
cut = html.index("<p class=MsoNormal><b>")
own = ('<p class=MsoNormal>#priority high<o:p></o:p></p>'
       '<p class=MsoNormal>Hello Li Wei,<o:p></o:p></p>'
       '<p class=MsoNormal>We found your deposit; it will be credited within the hour. '
       'See the screenshot:<o:p></o:p></p>'
       '<p class=MsoNormal><img width=64 height=32 id="Picture_x0020_1" '
       'src="cid:image001.png@01DB4A2C.9F3E5A10" onload="alert(1)"><o:p></o:p></p>'
       '<p class=MsoNormal>Details: <a href="https://help.example.test/deposits">deposit guide</a>'
       '<img src="https://tracker.example.net/open.gif" alt=""><script>alert(2)</script><o:p></o:p></p>')
quoted_logo = '<p class=MsoNormal><img src="cid:image002.png@01DB4A2C.9F3E5A10"></p>'
html = html[:cut] + own + html[cut:].replace("</div></body>", quoted_logo + "</div></body>")
def png(r, g):
    w, h = 64, 32
    rows = b"".join(b"\0" + bytes((r, g, 128)) * w for y in range(h))
    c = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + c(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + c(b"IDAT", zlib.compress(rows)) + c(b"IEND", b""))
shot, logo = png(200, 10), png(10, 200)
open(os.path.join(root, "shot.png"), "wb").write(shot)
m = EmailMessage()
m["From"] = "Alice Agent <%s>" % alice
m["To"] = note["Reply-To"]
m["Subject"] = "RE: " + note["Subject"]
m["In-Reply-To"] = note["Message-ID"]
m["References"] = note["Message-ID"]
m["X-Mailer"] = "Microsoft Outlook 16.0"
m["Thread-Index"] = "AdtKLJ8+WhC9x3QJTlqYbV0ezyT0Ug=="
m.set_content("#priority high\r\nHello Li Wei,\r\nWe found your deposit; it will be credited within "
              "the hour. See the screenshot:\r\n[cid:image001.png@01DB4A2C.9F3E5A10]\r\nDetails: "
              "deposit guide<https://help.example.test/deposits>\r\n\r\n"
              "From: Example Support <support@example.test>\r\nSent: Monday\r\nTo: Alice\r\n"
              "Subject: " + note["Subject"] + "\r\n\r\nmy deposit of 0.5 BTC has not arrived.\r\n")
m.add_alternative(html, subtype="html")
alt = m.get_payload()[1]
alt.add_related(shot, "image", "png", cid="<image001.png@01DB4A2C.9F3E5A10>", filename="image001.png",
                disposition="inline")
alt.add_related(logo, "image", "png", cid="<image002.png@01DB4A2C.9F3E5A10>", filename="image002.png",
                disposition="inline")
with smtplib.SMTP("127.0.0.1", int(port)) as s:
    s.send_message(m)
PY
wait_count $support 2
process
wait_count $customer 2

dg_log "3. what the customer's mailbox holds"
got=$(python3 - "$(maildir $customer)" "$DG_ROOT/shot.png" <<'PY'
import email, email.policy, glob, hashlib, os, sys
files = sorted(glob.glob(os.path.join(sys.argv[1], "new", "*")) + glob.glob(os.path.join(sys.argv[1], "cur", "*")))
msgs = [email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default) for f in files]
relay = [m for m in msgs if m.get("Auto-Submitted") is None][-1]
out = []
out.append("related" if any(p.get_content_type() == "multipart/related" for p in relay.walk()) else "no-related")
text = relay.get_body(preferencelist=("plain",)).get_content()
html = relay.get_body(preferencelist=("html",)).get_content()
out.append("text-ok" if "We found your deposit" in text and "#priority" not in text and "Sent:" not in text else "text-BAD")
bad = [w for w in ("#priority", "From:", "Sent:", "manager", "script", "alert", "onload", "tracker",
                   "image002", "alice@example.test") if w in html]
out.append("html-bad:" + ",".join(bad) if bad else "html-clean")
out.append("html-ok" if "We found your deposit" in html and 'href="https://help.example.test/deposits"' in html
           and 'src="cid:image001.png@01DB4A2C.9F3E5A10"' in html else "html-MISSING")
shot = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
imgs = [(p.get("Content-ID"), p.get_content_disposition(), hashlib.sha256(p.get_payload(decode=True)).hexdigest() == shot)
        for p in relay.walk() if p.get_content_maintype() == "image"]
out.append("images=%r" % imgs)
print(" ".join(out))
PY
)
dg_assert_eq "related text-ok html-clean html-ok images=[('<image001.png@01DB4A2C.9F3E5A10>', 'inline', True)]" \
	"$got" "the customer's relayed HTML reply"
dg_assert_eq high "$(sql 'select priority from tickets where id = 1')" "the #priority command applied"
grep -q "relayed as outbox #[0-9]* with its HTML" "$gw/run.log" || dg_fail "log: $(grep relayed "$gw/run.log")"
dg_log "all steps passed"
