#!/bin/sh
# End to end through the deskgate binary: init, ingest (MTA pipe mode and
# files), dedupe, threading of a reply, quarantine and retry, import of a
# maildir and an mbox, exit codes, and --json output.
set -u
. "$top_srcdir/tests/lib/testlib.sh"

home=$(tl_tmpdir)
dg() { "$DESKGATE" -q -c "$home/deskgate.conf" "$@"; }
mail="$top_srcdir/contrib/demo-mail"

tl_run "init" "$DESKGATE" init --address support@example.test --hostname desk.example.test "$home"
tl_assert_file "$home/deskgate.conf"
tl_assert_file "$home/secret"
tl_assert_eq "secret is 64 hex" "$(tr -d '\n' < "$home/secret" | grep -c '^[0-9a-f]\{64\}$')" 1
tl_assert_eq "init refuses to overwrite" "$("$DESKGATE" init "$home" >/dev/null 2>&1; echo $?)" 73
tl_run "config check" dg config check

# MTA pipe mode: standard input.
out=$(dg ingest < "$mail/01-en-failed-trade.eml"); rc=$?
tl_assert_eq "ingest stdin exit" "$rc" 0
tl_assert_eq "ingest stdin result" "$out" "ticket 1: new"
out=$(dg ingest "$mail/02-zh-deposit-missing.eml")
tl_assert_eq "ingest file" "$out" "ticket 2: new"
out=$(dg ingest "$mail/01-en-failed-trade.eml")
tl_assert_eq "duplicate" "$out" "ticket 1: duplicate, already stored"
out=$(dg ingest "$mail/05-en-reply.eml")
tl_assert_eq "reply joins the ticket" "$out" "ticket 1: reply added"

# A stranger replying to Alice's Message-ID gets a ticket of their own.
sed -e 's/^From: .*/From: Mallory <mallory@evil.example>/' -e 's/demo-0005/demo-0105/' \
	"$mail/05-en-reply.eml" > "$home/stranger.eml"
out=$(dg ingest "$home/stranger.eml")
tl_assert_eq "stranger gets a new ticket" "$out" "ticket 3: new"

# Bad input: quarantined, exit 0, raw kept byte for byte.
out=$(dg ingest "$mail/06-broken-deep-nesting.eml"); rc=$?
tl_assert_eq "quarantine exit" "$rc" 0
tl_assert_match "quarantine result" "$out" "^quarantine 1: limit: max_mime_depth"
dg quarantine show 1 --raw > "$home/raw.out"
tl_assert_eq "raw kept" "$(cmp "$home/raw.out" "$mail/06-broken-deep-nesting.eml" && echo same)" same
tl_assert_match "quarantine list" "$(dg quarantine list)" "held.*max_mime_depth"
tl_assert_match "quarantine show" "$(dg quarantine show 1)" "reason: limit: max_mime_depth"
out=$(dg ingest "$mail/06-broken-deep-nesting.eml")
tl_assert_match "same bad mail held once" "$out" "^quarantine 1:"

# Raise the limit and retry: released into a ticket.
sed -i 's/^#max_mime_depth = 20/max_mime_depth = 100/' "$home/deskgate.conf"
out=$(dg quarantine retry 1)
tl_assert_match "retry releases" "$out" "released into ticket 4"
tl_assert_match "released not listed" "$(dg quarantine list)" "quarantine is empty"

# Tickets as text and JSON.
tl_assert_match "ticket list" "$(dg ticket list)" "Order failed but funds are locked"
dg ticket show 2 --json > "$home/t2.json"
tl_run "ticket json parses" python3 -c "
import json,sys
t=json.load(open('$home/t2.json'))
assert t['id']==2, t['id']
assert t['subject']=='充值未到账，请帮忙查询', t['subject']
assert t['customer_name']=='王小明', t['customer_name']
m=t['messages'][0]
assert '还没有到账' in m['text'], m['text']
assert len(t['events'])>=1
"
dg ticket show 1 --json > "$home/t1.json"
tl_run "thread: mail, acknowledgement, reply" python3 -c "
import json
t=json.load(open('$home/t1.json'))
d=[m['direction'] for m in t['messages']]
assert d==['in','out','in'], d
ack=t['messages'][1]
assert ack['subject'].startswith('[Support #1] '), ack['subject']
assert ack['in_reply_to']=='demo-0001@example.net'
assert t['messages'][2]['in_reply_to']=='demo-0001@example.net'
assert t['category']=='failed_trade', t['category']
assert t['due_at']>0
"
out=$(dg ingest "$mail/03-de-account-locked.eml")
dg ticket show 5 --json > "$home/t5.json"
tl_run "attachment stored with safe name" python3 -c "
import json,hashlib,os
t=json.load(open('$home/t5.json'))
a=t['messages'][0]['attachments']
assert len(a)==1, a
assert a[0]['filename']=='Bildschirmfoto Login.png', a[0]['filename']
assert a[0]['content_type']=='image/png'
h=a[0]['sha256']
# Stored once (issue 18): a range of the raw mail's blob (a row of blobs
# below [general] blob_file_min, else the file raw/ab/<hash>), base64
# there, decoding to the attachment's bytes; no decoded copy beside it.
import sqlite3,base64
db=sqlite3.connect('$home/deskgate.db')
rows=db.execute('select data from blobs where kind=1 and sha256=?',(h,)).fetchall()
p=os.path.join('$home','att',h[:2],h)
assert len(rows)==0 and not os.path.isfile(p), (len(rows), p)
rng=db.execute('select raw_sha256,raw_offset,raw_length,encoding,size from blob_ranges where sha256=?',(h,)).fetchall()
assert len(rng)==1, rng
rh,off,ln,enc,size=rng[0]
assert enc==2, enc
assert rh==db.execute('select raw_sha256 from messages where id=?',(t['messages'][0]['id'],)).fetchone()[0]
raw=db.execute('select data from blobs where kind=0 and sha256=?',(rh,)).fetchall()
raw=raw[0][0] if raw else open(os.path.join('$home','raw',rh[:2],rh),'rb').read()
data=base64.b64decode(b''.join(raw[off:off+ln].split()))
assert hashlib.sha256(data).hexdigest()==h and len(data)==size==a[0]['size'], (len(data), size)
assert 'Konto gesperrt' in t['subject']
assert '2FA' in t['messages'][0]['text']
"

# Exit codes.
tl_assert_eq "usage" "$("$DESKGATE" ingest a b >/dev/null 2>&1; echo $?)" 64
tl_assert_eq "unknown command" "$("$DESKGATE" frobnicate >/dev/null 2>&1; echo $?)" 64
printf '[general]\nbogus = 1\n' > "$home/bad.conf"
err=$("$DESKGATE" -c "$home/bad.conf" config check 2>&1); rc=$?
tl_assert_eq "config error exit" "$rc" 78
tl_assert_match "config error names file:line" "$err" "bad.conf:2: unknown key"
# A store that cannot be opened: the MTA must retry (75), nothing lost.
printf '[general]\nstate_dir = %s/notadir/x\n' "$home" > "$home/broken.conf"
touch "$home/notadir"
tl_assert_eq "store unavailable -> 75" \
	"$("$DESKGATE" -q -c "$home/broken.conf" ingest "$mail/04-fr-registration.eml" >/dev/null 2>&1; echo $?)" 75
# Nothing about the message itself may bounce it: a configuration, rules or
# template error is ours to fix, so the MTA must keep the mail (75), not turn
# EX_CONFIG (78) into a permanent 5.3.5 bounce.
tickets_before=$(dg ticket list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
sed 's/^\[general\]/[general]\nno_such_key = 1/' "$home/deskgate.conf" > "$home/badkey.conf"
err=$("$DESKGATE" -c "$home/badkey.conf" ingest < "$mail/04-fr-registration.eml" 2>&1 >/dev/null); rc=$?
tl_assert_eq "config error in the MTA pipe -> 75" "$rc" 75
tl_assert_match "config error names file:line" "$err" "badkey.conf:[0-9]*: unknown key"
mkdir -p "$home/badrules"
printf 'rule broken {\n\tsubject ~ /(unclosed/\n\tpriority high\n}\n' > "$home/badrules/10-broken.rules"
sed "s|^\[rules\]|[rules]\ndir = $home/badrules|" "$home/deskgate.conf" > "$home/badrules.conf"
err=$("$DESKGATE" -c "$home/badrules.conf" ingest < "$mail/04-fr-registration.eml" 2>&1 >/dev/null); rc=$?
tl_assert_eq "rules error in the MTA pipe -> 75" "$rc" 75
tl_assert_match "rules error says the MTA retries" "$err" "10-broken.rules.*will retry"
tl_assert_eq "nothing stored by the refused runs" \
	"$(dg ticket list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "$tickets_before"
tl_assert_eq "missing file -> 66" "$(dg ingest /nonexistent.eml >/dev/null 2>&1; echo $?)" 66
for c in init config ingest import ticket quarantine; do
	tl_run "$c --help" "$DESKGATE" $c --help
done

# Import: a maildir and an mbox into a second home.
home2=$(tl_tmpdir)
"$DESKGATE" init "$home2" >/dev/null
md="$home2/md"; mkdir -p "$md/cur" "$md/new" "$md/tmp"
i=0
for m in "$mail"/0[1-4]*.eml; do i=$((i+1)); cp "$m" "$md/new/100$i.M1P1.host"; done
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$md")
tl_assert_match "import maildir summary" "$out" "imported 4 messages .*4 new tickets, 0 replies, 0 duplicates, 0 quarantined"
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$md")
tl_assert_match "import again: all duplicates" "$out" "imported 4 messages .*4 duplicates"
# A maildir with only new/ (fresh deliveries, no cur/ yet) is a maildir too.
md2="$home2/md2"; mkdir -p "$md2/new"
cp "$mail/01-en-failed-trade.eml" "$md2/new/1700000001.M1P1.host"
cp "$mail/05-en-reply.eml" "$md2/new/1700000002.M2P1.host"
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$md2" 2>&1); rc=$?
tl_assert_eq "maildir with only new/: exit" "$rc" 0
tl_assert_match "maildir with only new/: imported" "$out" "imported 2 messages"
# What is not mail is skipped and said so: tmp/, maildir++ folders, metadata.
md3="$home2/md3"; mkdir -p "$md3/cur" "$md3/tmp" "$md3/.Sent/cur"
cp "$mail/02-zh-deposit-missing.eml" "$md3/cur/1700000003.M3P1.host:2,S"
echo partial > "$md3/tmp/1700000004.M4P1.host"
echo "3 V1 N2" > "$md3/dovecot-uidlist"
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$md3" 2>&1); rc=$?
tl_assert_eq "maildir with folders: exit" "$rc" 0
tl_assert_match "maildir with folders: imported" "$out" "imported 1 messages .* 3 skipped"
tl_assert_match "tmp/ skipped with the reason" "$out" "tmp/ (1 file being delivered"
tl_assert_match "folder skipped with the reason" "$out" "\.Sent/ (a maildir++ folder: import it by its path)"
tl_assert_match "metadata skipped with the reason" "$out" "dovecot-uidlist (maildir metadata"
# A path that yields nothing is an error, not "imported 0 messages" and 0.
mkdir -p "$home2/empty"
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$home2/empty" 2>&1); rc=$?
tl_assert_eq "empty directory: exit 66" "$rc" 66
tl_assert_match "empty directory: said so" "$out" "empty: no message found"
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$home2/nonexistent" 2>&1); rc=$?
tl_assert_eq "missing path: exit 66" "$rc" 66
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$md2" "$home2/empty" 2>&1); rc=$?
tl_assert_eq "one good path, one empty: exit 66" "$rc" 66
tl_assert_match "one good path, one empty: the good one imported" "$out" "imported 2 messages .*2 duplicates"

mb="$home2/box.mbox"
: > "$mb"
for m in "$mail"/05*.eml "$mail"/06*.eml "$home/stranger.eml"; do
	printf 'From sender@example.test Mon Nov 23 09:00:00 2026\n' >> "$mb"
	tr -d '\r' < "$m" | sed 's/^From />From /' >> "$mb"
	printf '\n' >> "$mb"
done
out=$("$DESKGATE" -c "$home2/deskgate.conf" import --no-progress "$mb")
tl_assert_match "import mbox summary" "$out" "imported 3 messages .*1 replies, 0 duplicates, 1 quarantined"

# Over-size mail from the MTA pipe is quarantined whole (read to disk, not
# memory) and exits 0; it used to exit 75 above a 64 MiB read ceiling, so
# the MTA retried it until it expired. Over max_quarantine_size it is
# refused for good (65), with the reason, and recorded.
home3=$(tl_tmpdir)
"$DESKGATE" init "$home3" >/dev/null
sed -i '/^\[limits\]/a max_message_size = 1M' "$home3/deskgate.conf"
dg3() { "$DESKGATE" -q -c "$home3/deskgate.conf" "$@"; }
big="$top_srcdir/tests/harness/bigmail.py"
att=$(python3 "$big" "$home3/three.eml" 2300000 --seed 3)
out=$(dg3 ingest < "$home3/three.eml"); rc=$?
tl_assert_eq "3 MB from the pipe: exit" "$rc" 0
tl_assert_match "3 MB from the pipe: quarantined" "$out" "^quarantine 1: limit: max_message_size"
dg3 quarantine show 1 --raw > "$home3/three.kept"
tl_assert_eq "3 MB kept whole" "$(cmp -s "$home3/three.kept" "$home3/three.eml" && echo same)" same
sed -i 's/^max_message_size = 1M/max_message_size = 10M/' "$home3/deskgate.conf"
tl_assert_match "retry after raising the limit" "$(dg3 quarantine retry 1)" "released into ticket"
tl_assert_eq "the retried attachment is whole" "$(dg3 ticket show 1 --json | python3 -c '
import json, sys
t = json.load(sys.stdin)
print(" ".join("%s %s" % (a["sha256"], a["size"]) for m in t["messages"] for a in m["attachments"]))')" "$att 2300000"
sed -i 's/^max_message_size = 10M/max_message_size = 1M/' "$home3/deskgate.conf"
python3 "$big" "$home3/huge.eml" 50000000 --seed 68 > /dev/null
out=$(dg3 ingest < "$home3/huge.eml"); rc=$?
tl_assert_eq "68 MB from the pipe: exit 0, not 75" "$rc" 0
tl_assert_match "68 MB from the pipe: quarantined" "$out" "^quarantine 2: limit: max_message_size"
tl_assert_eq "68 MB kept whole" "$(sqlite3 "$home3/deskgate.db" "select raw_size from quarantine where id = 2")" \
	"$(stat -c %s "$home3/huge.eml")"
rm -f "$home3/huge.eml"
sed -i '/^\[limits\]/a max_quarantine_size = 4M' "$home3/deskgate.conf"
python3 "$big" "$home3/six.eml" 4600000 --seed 6 > /dev/null
err=$("$DESKGATE" -c "$home3/deskgate.conf" ingest < "$home3/six.eml" 2>&1 >/dev/null); rc=$?
tl_assert_eq "over max_quarantine_size: refused (65, the MTA bounces it)" "$rc" 65
tl_assert_match "over max_quarantine_size: the reason" "$err" "refused: larger than max_quarantine_size (4194304 bytes)"
tl_assert_eq "over max_quarantine_size: recorded" \
	"$(sqlite3 "$home3/deskgate.db" "select count(*) from events where kind = 'refused' and detail like '%6%bytes refused%'")" 1
tl_assert_eq "over max_quarantine_size: nothing kept" \
	"$(sqlite3 "$home3/deskgate.db" "select count(*) from quarantine")" 2
# import: the same limits; what is too large is skipped with the reason
md4="$home3/md"; mkdir -p "$md4/new"
cp "$home3/three.eml" "$md4/new/1700000010.M1P1.host"
cp "$home3/six.eml" "$md4/new/1700000011.M2P1.host"
out=$("$DESKGATE" -c "$home3/deskgate.conf" import --no-progress "$md4" 2>&1); rc=$?
tl_assert_eq "import with an over-size file: exit" "$rc" 0
tl_assert_match "import: the 3 MB one quarantined whole" "$out" "imported 1 messages .*1 quarantined.* 1 skipped"
tl_assert_eq "import: kept whole" "$(sqlite3 "$home3/deskgate.db" "select raw_size from quarantine where id = 3")" \
	"$(stat -c %s "$home3/three.eml")"
tl_assert_match "import: the 6 MB one skipped with the reason" "$out" "1700000011.M2P1.host: skipped: 6[0-9]* bytes, larger than max_quarantine_size"

tl_done
