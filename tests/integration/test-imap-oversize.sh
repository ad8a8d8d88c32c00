#!/bin/bash
# Over-size mail over IMAP is kept whole, never cut. With max_message_size
# = 1M and max_quarantine_size = 4M, three deliveries into Dovecot:
# - a small one: a ticket;
# - 3 MB (a 2.2 MB attachment): fetched again whole, streamed to disk,
#   quarantined with every byte the server has (SHA-256 of IMAP BODY[]),
#   flagged \Seen and $Quarantined; after raising max_message_size,
#   `quarantine retry` makes a ticket whose attachment is byte for byte the
#   one sent (it was cut at the limit before, and the retry then made a
#   ticket with a silently corrupted attachment);
# - 6 MB: over the hard limit: not stored, left unflagged on the server, a
#   quarantine entry without raw bytes says why, and a log line; once
#   max_quarantine_size is raised, the next run fetches it (a ticket) and
#   releases the entry.
# Then the same limits in the daemon, where a sync worker fetches what IDLE
# announces ([general] sync_concurrency, gateway/poller-work.c): the 3 MB
# message arrives cut on the worker and is fetched again whole by the
# loop's thread; three 450 KB messages in one LMTP session are more than
# max_message_size of copies: the loop's thread fetches them again.
set -u
IMAP_USERS=big@example.test
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-imap-oversize
BIG=$top_srcdir/tests/harness/bigmail.py

printf 'From: small@example.net\r\nTo: support@example.test\r\nSubject: small\r\nMessage-ID: <small@example.net>\r\n\r\nhello\r\n' \
	>"$DG_ROOT/small.eml"
att3=$(python3 "$BIG" "$DG_ROOT/three.eml" 2300000 --seed 3) || dg_fail bigmail
att6=$(python3 "$BIG" "$DG_ROOT/six.eml" 4600000 --seed 6) || dg_fail bigmail
deliver "$DG_ROOT/small.eml"
deliver "$DG_ROOT/three.eml"
deliver "$DG_ROOT/six.eml"

G=$DG_ROOT/gw
gw_new "$G"
set_limit() { # KEY VALUE
	sed -i "/^$1 = /d" "$G/deskgate.conf"
	sed -i "/^\[limits\]/a $1 = $2" "$G/deskgate.conf"
}
set_limit max_message_size 1M
set_limit max_quarantine_size 4M
gw "$G" run --once >"$G/run1.log" 2>&1 || { tail -20 "$G/run1.log"; dg_fail "run --once"; }

dg_assert_eq 1 "$(rows "$G")" "ticket rows"
# what the server has for uid 2, byte for byte
python3 - "$DG_IMAP_PORT" 2 "$DG_ROOT/three.imap" <<'PY' || dg_fail "IMAP fetch"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("support@example.test", "secret")
m.select("INBOX", readonly=True)
typ, data = m.uid("FETCH", sys.argv[2], "(BODY.PEEK[])")
open(sys.argv[3], "wb").write(data[0][1])
PY
q3=$(sql "$G" "select id from quarantine where raw_sha256 is not null")
[ -n "$q3" ] || dg_fail "the 3 MB message is not in quarantine"
gw "$G" quarantine show "$q3" --raw >"$DG_ROOT/three.kept" || dg_fail "quarantine show --raw"
cmp -s "$DG_ROOT/three.imap" "$DG_ROOT/three.kept" ||
	dg_fail "the quarantine kept $(stat -c %s "$DG_ROOT/three.kept") of $(stat -c %s "$DG_ROOT/three.imap") bytes, or other bytes"
grep -q "uid=2 .*fetched whole to disk" "$G/run1.log" || dg_fail "streaming not logged"
flags=$(dg_uid_flags "$USER1")
echo "$flags" | grep -q '^uid=2 flags=.*\\Seen' || dg_fail "uid 2 not flagged: $flags"
echo "$flags" | grep -q '^uid=2 flags=.*\$Quarantined' || dg_fail "uid 2 has no \$Quarantined: $flags"
echo "$flags" | grep -q '^uid=3 flags=.*\\Seen' && dg_fail "the refused uid 3 was flagged: $flags"
q6=$(sql "$G" "select id from quarantine where raw_sha256 is null and mailbox = 'support' and uid = 3 and reason like 'too large to keep%max_quarantine_size%'")
[ -n "$q6" ] || { sql "$G" "select * from quarantine"; dg_fail "no entry for the refused 6 MB message"; }
grep -q "uid=3 .*too large to keep.*left unmarked on the server" "$G/run1.log" ||
	dg_fail "the refusal is not logged"
dg_log "3 MB quarantined whole ($(stat -c %s "$DG_ROOT/three.kept") bytes, as IMAP serves it); 6 MB refused, unflagged, recorded"

# raise max_message_size: the retry makes a ticket with the whole attachment
set_limit max_message_size 10M
out=$(gw "$G" quarantine retry "$q3" 2>&1) || dg_fail "quarantine retry: $out"
echo "$out" | grep -q "released into ticket" || dg_fail "retry: $out"
got=$(gw "$G" ticket list --json | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print(t["id"])' | while read -r t; do
	gw "$G" ticket show "$t" --json | python3 -c '
import json, sys
t = json.load(sys.stdin)
for m in t["messages"]:
    for a in m.get("attachments", []):
        if a["filename"] == "statement.pdf":
            print(a["sha256"], a["size"])'
done)
dg_assert_eq "$att3 2300000" "$got" "the retried ticket's attachment (sha256 size)"
dg_log "quarantine retry after raising the limit: the attachment is whole"

# raise the hard limit: the next run fetches the refused one
set_limit max_quarantine_size 10M
gw "$G" run --once >"$G/run2.log" 2>&1 || { tail -20 "$G/run2.log"; dg_fail "second run --once"; }
dg_assert_eq released "$(sql "$G" "select status from quarantine where id = $q6")" "the refused entry after the limit was raised"
t6=$(sql "$G" "select ticket_id from quarantine where id = $q6")
[ -n "$t6" ] || dg_fail "the refused entry names no ticket"
got=$(gw "$G" ticket show "$t6" --json | python3 -c '
import json, sys
t = json.load(sys.stdin)
print(" ".join("%s %s" % (a["sha256"], a["size"]) for m in t["messages"] for a in m.get("attachments", [])))')
dg_assert_eq "$att6 4600000" "$got" "the fetched-again ticket's attachment"
dg_uid_flags "$USER1" | grep -q '^uid=3 flags=.*\\Seen' || dg_fail "uid 3 not flagged once stored"
dg_log "raising max_quarantine_size: the held message was fetched, ticket $t6, entry released"

# -- the daemon: the sync on a worker --------------------------------------------
G2=$DG_ROOT/gw2
gw_new "$G2" idle=yes
sed -i "s/^username = $USER1/username = big@example.test/" "$G2/deskgate.conf"
sed -i '/^\[general\]/a log_level = debug' "$G2/deskgate.conf"
sed -i '/^\[limits\]/a max_message_size = 1M' "$G2/deskgate.conf"
gw_start "$G2"
dg_wait_for 10 grep -qs "connected to .*IDLE" "$G2/run.log" || { tail -20 "$G2/run.log"; dg_fail "gw2: no IDLE"; }
sleep 0.5
deliver "$DG_ROOT/three.eml" big@example.test
has_q() { [ "$(sql "$G2" "select count(*) from quarantine where raw_sha256 is not null")" = 1 ]; }
dg_wait_for 20 has_q || { tail -20 "$G2/run.log"; dg_fail "gw2: the 3 MB message is not in quarantine"; }
grep -q "uid=1 .*fetched whole to disk" "$G2/run.log" || dg_fail "gw2: streaming not logged"
gw "$G2" quarantine show "$(sql "$G2" "select id from quarantine")" --raw >"$DG_ROOT/three.kept2" ||
	dg_fail "gw2: quarantine show --raw"
python3 - "$DG_IMAP_PORT" "$DG_ROOT/three.imap2" <<'PY' || dg_fail "gw2: IMAP fetch"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("big@example.test", "secret")
m.select("INBOX", readonly=True)
typ, data = m.uid("FETCH", "1", "(BODY.PEEK[])")
open(sys.argv[2], "wb").write(data[0][1])
PY
cmp -s "$DG_ROOT/three.imap2" "$DG_ROOT/three.kept2" ||
	dg_fail "gw2: the quarantine kept $(stat -c %s "$DG_ROOT/three.kept2") of $(stat -c %s "$DG_ROOT/three.imap2") bytes, or other bytes"
flagged_q() { dg_uid_flags big@example.test | grep -q '^uid=1 flags=.*\\Seen.*\$Quarantined\|^uid=1 flags=.*\$Quarantined.*\\Seen'; }
dg_wait_for 10 flagged_q || dg_fail "gw2: uid 1 not flagged \\Seen and \$Quarantined: $(dg_uid_flags big@example.test)"
python3 - "$DG_LMTP_PORT" <<'PY' || dg_fail "gw2: LMTP"
import smtplib, sys
with smtplib.LMTP("127.0.0.1", int(sys.argv[1])) as s:
    for i in range(3):
        body = ("line of message %d, words to fill it up to 450 KB\r\n" % i) * 9000
        msg = ("From: c%d@example.net\r\nTo: big@example.test\r\nSubject: half %d\r\n"
               "Message-ID: <half-%d@example.net>\r\n\r\n%s\r\n" % (i, i, i, body)).encode()
        s.sendmail("c%d@example.net" % i, ["big@example.test"], msg)
PY
three_rows() { [ "$(rows "$G2")" = 3 ]; }
dg_wait_for 20 three_rows || { tail -20 "$G2/run.log"; dg_fail "gw2: the three 450 KB messages are not tickets"; }
all_seen() { seen_is 4 big@example.test; }
dg_wait_for 10 all_seen || dg_fail "gw2: $(seen_count big@example.test) of 4 flagged"
gw_stop
dg_assert_eq 0 "$GW_RC" "gw2: exit code after SIGTERM"
# taken as the worker fetched them: no retry, no reconnection (which would
# hide a mistake: the first sync of a connection fetches on the loop's thread)
grep -E "trying again|reconnecting in|not delivered" "$G2/run.log" &&
	dg_fail "gw2: a message of the worker's fetch was not taken as it came"
if grep -q "more than max_message_size of copies, fetched on the loop's thread" "$G2/run.log"; then
	dg_log "gw2: 3 MB cut on the worker, quarantined whole; 3 x 450 KB over the copy budget, fetched by the loop's thread: 3 tickets"
else
	# the three came in more than one wake (a loaded machine): each fit
	dg_log "gw2: 3 MB cut on the worker, quarantined whole; 3 x 450 KB in separate wakes: 3 tickets"
fi
dg_log PASS
