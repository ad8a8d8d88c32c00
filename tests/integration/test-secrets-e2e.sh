#!/bin/bash
# test-secrets-e2e: issue 12 end to end, with a real Postfix delivering into
# a real Dovecot and deskgate reading the support mailbox over IMAP and
# sending through Postfix (`deskgate run --once`). A customer, told by a
# "support agent" to do so, mails a private key in the body and a recovery
# phrase in an attached .txt (base64). Then the whole state directory (the
# database, its WAL, raw and attachment blobs, the log at debug level, the
# output of `ticket show` and `ticket show --json`) and every message in
# every mailbox (every part decoded) are searched for the secrets: the only
# place they may be is the support mailbox's original (delete_from_server
# = no; with yes, a second such mail is expunged after the commit and the
# secret is nowhere at all). The ticket is urgent and tagged, the customer's acknowledgement
# carries the warning, the agent's notification the banner.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
desk_e2e_init test-secrets-e2e

support=support@example.test
customer=victim@example.net
alice=alice@example.test
for u in $support $customer $alice; do
	dg_postfix_adduser "$u" secret
done
dg_dovecot_start
dg_postfix_start

gw=$DG_ROOT/gw
desk_e2e_gateway "$gw" $support gw.example.test "Example Support"
sed -i -e "s/^log_level = .*/log_level = debug/" "$gw/deskgate.conf"
grep -q '^log_level = debug' "$gw/deskgate.conf" ||
	sed -i -e "/^\[general\]/a log_level = debug" "$gw/deskgate.conf"
cat >>"$gw/deskgate.conf" <<CONF

[agent alice]
address = $alice
name = Alice Agent

[queue security]
categories = account_security
agents = alice
CONF
printf '\n[secrets]\nqueue = security\n' >>"$gw/deskgate.conf"
"$deskgate" -q -c "$gw/deskgate.conf" config check >/dev/null 2>&1 ||
	dg_fail "config check: $("$deskgate" -c "$gw/deskgate.conf" config check 2>&1)"

WIF=5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ
PHRASE="legal winner thank year wave sausage worth useful legal winner thank yellow"

send_secret() {
	python3 - "$DG_SMTP_PORT" "$customer" "$support" "$WIF" "$PHRASE" "$1" <<'PY' || dg_fail "sending failed"
import smtplib, sys
from email.message import EmailMessage
from email.utils import make_msgid, formatdate
port, frm, to, wif, phrase = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
m = EmailMessage()
m["From"] = "Victim <%s>" % frm
m["To"] = to
m["Subject"] = sys.argv[6]
m["Date"] = formatdate(localtime=False)
m["Message-ID"] = make_msgid(domain="example.net")
m.set_content("Hello, your agent on Telegram told me to send my private key.\n"
              "Here it is: %s\nPlease fix my account.\n" % wif)
m.add_attachment(("My recovery words:\n%s\n" % phrase).encode(), maintype="text",
                 subtype="plain", filename="words.txt")
with smtplib.SMTP("127.0.0.1", port) as s:
    s.send_message(m)
PY
}
send_secret "Support asked me for my wallet key"
wait_count $support 1
run() {
	"$deskgate" -c "$gw/deskgate.conf" run --once >>"$gw/run.log" 2>&1 ||
		dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
}
run
drain
run
drain
wait_count $customer 1
wait_count $alice 1

sql() { sqlite3 "$gw/deskgate.db" "$1"; }
dg_assert_eq urgent "$(sql 'select priority from tickets where id = 1')" "ticket priority"
dg_assert_eq security "$(sql 'select queue from tickets where id = 1')" "ticket queue"
case "$(sql "select value from ticket_fields where ticket_id = 1 and name = 'tags'")" in
*secret-exposed*) ;;
*) dg_fail "ticket not tagged secret-exposed" ;;
esac
dg_log "event: $(sql "select detail from events where kind = 'secret'")"
"$deskgate" -c "$gw/deskgate.conf" ticket show 1 >"$gw/ticket-show.txt" 2>&1 || dg_fail "ticket show"
"$deskgate" -c "$gw/deskgate.conf" ticket show 1 --json >"$gw/ticket-show.json" 2>&1 ||
	dg_fail "ticket show --json"
grep -q '\[redacted: private key\]' "$gw/ticket-show.txt" || dg_fail "ticket show: no redaction mark"

$helper get "$(dg_maildir $customer)" From "$support" body >"$DG_ROOT/ack.txt" ||
	dg_fail "no acknowledgement"
grep -q 'your message contained a secret' "$DG_ROOT/ack.txt" || dg_fail "ack: no warning"
grep -q 'a private key' "$DG_ROOT/ack.txt" && grep -q 'a wallet recovery phrase' "$DG_ROOT/ack.txt" ||
	dg_fail "ack: the kinds are not named"
$helper get "$(dg_maildir $alice)" From "$support" body >"$DG_ROOT/notify.txt" ||
	dg_fail "no notification"
grep -q '^\*\*\* SECRET EXPOSED' "$DG_ROOT/notify.txt" || dg_fail "notification: no banner"

# search ALLOWED: raw bytes of every file, and every part of every mail
# decoded; ALLOWED server copies of the customer's mail in the support
# mailbox are expected (1 with delete_from_server = no, 0 with yes).
search() {
	python3 - "$DG_ROOT" "$(dg_maildir $support)" "$WIF" "$PHRASE" "$1" <<'PY' >"$DG_ROOT/grep.txt" 2>&1
import email, email.policy, os, sys
root, support_md, wif, phrase, want = sys.argv[1:6]
words = phrase.split()
needles = [wif, wif[:20], wif[-20:], phrase, " ".join(words[3:7]), " ".join(words[6:9])]
files = hits = allowed = 0
def look(blob):
    return [n for n in needles if n.encode() in blob]
for d, _, names in os.walk(root):
    for name in names:
        path = os.path.join(d, name)
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        try:
            raw = open(path, "rb").read()
        except OSError:
            continue
        files += 1
        found = look(raw)
        if "/Maildir/" in path:
            m = email.message_from_bytes(raw, policy=email.policy.default)
            for part in m.walk():
                if not part.is_multipart():
                    found += look(part.get_payload(decode=True) or b"")
        if not found:
            continue
        if path.startswith(support_md + "/"):
            allowed += 1
            print("allowed (the server copy of the customer's mail):", path)
            continue
        hits += 1
        print("SECRET FOUND in", path, ":", sorted(set(found)))
print("searched %d files: %d hold a secret outside the support mailbox's original, %d "
      "server cop%s" % (files, hits, allowed, "y" if allowed == 1 else "ies"))
sys.exit(1 if hits or allowed != int(want) else 0)
PY
	local st=$?
	cat "$DG_ROOT/grep.txt" >&2
	[ $st = 0 ] || dg_fail "the secret travelled: $(tail -3 "$DG_ROOT/grep.txt")"
	dg_log "$(tail -1 "$DG_ROOT/grep.txt")"
}
search 1

dg_log "delete_from_server = yes: the original is expunged after the commit"
sed -i -e 's/^\[secrets\]$/[secrets]\ndelete_from_server = yes/' "$gw/deskgate.conf"
grep -q '^delete_from_server = yes' "$gw/deskgate.conf" || dg_fail "config not changed"
# Only mail read from now on is expunged: the first original is removed
# by hand, as an operator would after switching the option on.
md=$(dg_maildir $support)
rm -f "$md"/cur/* "$md"/new/*
doveadm force-resync -u $support INBOX >/dev/null 2>&1 || true
send_secret "Second try, key again"
wait_count $support 1
run
drain
run
drain
support_empty() { [ "$(find "$md/cur" "$md/new" -type f | wc -l)" = 0 ]; }
dg_wait_for 20 support_empty || dg_fail "the original is still in the support mailbox"
grep -q 'expunged after its redacted copy was committed' "$gw/run.log" || dg_fail "no log line for the expunge"
dg_assert_eq 2 "$(sql "select count(*) from events where kind = 'secret'")" "secret events"
search 0
dg_log "all steps passed"
