#!/bin/sh
# `deskgate template check` and `deskgate template render`: the shipped
# templates check clean, a broken one is reported as FILE:LINE with exit 65,
# and render prints the acknowledgement (sample data and a mail file) with
# the ticket number, the promised time in the desk's zone and the safety line.
set -u
: "${top_srcdir:?}" "${DESKGATE:?}"
[ -x "$DESKGATE" ] || { echo "SKIP: $DESKGATE not built"; exit 77; }
[ -r /usr/share/zoneinfo/Asia/Shanghai ] || { echo "SKIP: no tz database"; exit 77; }

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
has() { grep -F -q -- "$1" "$2" && ok || bad "$3: missing \"$1\""; }

cat >"$tmp/deskgate.conf" <<EOF
[general]
state_dir = $tmp/state
support_address = support@example.test
support_name = Example Exchange Support
hostname = gw.example.test

[hours]
timezone = Asia/Shanghai
week = mon-fri 09:00-18:00
holidays = 2024-05-15

[selfhelp]
failed_trade = https://help.example.test/trading
EOF
# The threading secret: with it, render shows the subject tag as sent.
mkdir -p "$tmp/state"
printf '%s\n' 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff >"$tmp/state/secret"
dg() { "$DESKGATE" -c "$tmp/deskgate.conf" "$@"; }

# check: shipped templates
dg template check "$top_srcdir/templates" >"$tmp/check.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || { bad "template check (shipped) exit $rc"; cat "$tmp/check.out"; }
# 75 acknowledgement files, 10 escalation notices (sla/), 15 status mails
# (status/: reminder, solved, snooze)
has "105 template files checked, 0 problems" "$tmp/check.out" "check shipped"
has "25 canned reply files checked, 0 problems" "$tmp/check.out" "check shipped canned replies"

# check: a broken admin template
mkdir -p "$tmp/admin/ack/partials"
printf 'Subject: [{{ticket.ref}}] hi\n\nHello\n{{#customer}}\n{{name\n' >"$tmp/admin/ack/other.en.txt"
dg template check "$tmp/admin" >"$tmp/check2.out" 2>&1
rc=$?
[ $rc -eq 65 ] && ok || bad "template check (broken) exit $rc, want 65"
has "$tmp/admin/ack/other.en.txt:5: unclosed tag" "$tmp/check2.out" "check broken"
# a broken status and escalation template are found too
mkdir -p "$tmp/admin/status" "$tmp/admin/sla"
printf 'Subject: solved\n\n{{#solved}}done\n' >"$tmp/admin/status/solved.en.txt"
printf 'no subject line\n' >"$tmp/admin/sla/warning.en.txt"
dg template check "$tmp/admin" >"$tmp/check3.out" 2>&1
rc=$?
[ $rc -eq 65 ] && ok || bad "template check (broken status) exit $rc, want 65"
has "$tmp/admin/status/solved.en.txt" "$tmp/check3.out" "check broken status template"
has "$tmp/admin/sla/warning.en.txt" "$tmp/check3.out" "check broken sla template"

# render: sample data, Chinese, failed trade, Tuesday 21:00 in Shanghai
dg template render --category failed_trade --lang zh-CN --dir "$top_srcdir/templates" \
	--now 1715691600 >"$tmp/render.out" 2>"$tmp/render.err"
rc=$?
[ $rc -eq 0 ] && ok || { bad "render exit $rc"; cat "$tmp/render.err"; }
has "Subject: [Support #1042] 我们正在核查您的失败交易" "$tmp/render.out" "render zh-CN"
has "您的邮件是在我们的服务时间以外收到的" "$tmp/render.out" "render after hours"
has "2024年5月20日（星期一）15:00（UTC+08:00）" "$tmp/render.out" "render promise"
has "订单号（可在“订单记录”中查看）" "$tmp/render.out" "render missing"
has "助记词" "$tmp/render.out" "render safety"
has "https://help.example.test/trading" "$tmp/render.out" "render selfhelp"
has '<a href="https://help.example.test/trading">' "$tmp/render.out" "render html link"

# render from a mail: French detected from the text; the rules' fields
cat >"$tmp/fr.eml" <<'EOF'
From: Camille Martin <camille@example.com>
To: support@example.test
Subject: Retrait non reçu
Date: Tue, 14 May 2024 10:00:00 +0200
Message-ID: <fr1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Bonjour, j'ai fait un retrait de 0.5 BTC hier et je ne l'ai toujours pas reçu.
Pouvez-vous vérifier ? Merci
EOF
dg template render --eml "$tmp/fr.eml" --category delayed_payment --dir "$top_srcdir/templates" \
	>"$tmp/fr.out" 2>"$tmp/fr.err"
rc=$?
[ $rc -eq 0 ] && ok || { bad "render --eml exit $rc"; cat "$tmp/fr.err"; }
has "note: language fr (detected from the text)" "$tmp/fr.err" "eml language"
has "Bonjour Camille Martin," "$tmp/fr.out" "eml greeting"
has "Nous suivons votre dépôt ou retrait" "$tmp/fr.out" "eml subject"
has "mot de passe" "$tmp/fr.out" "eml safety"

# render from a bounce: rendered, but the loop verdict is reported
cat >"$tmp/bounce.eml" <<'EOF'
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: support@example.test
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <b1@mx.example.com>

The mail could not be delivered.
EOF
dg template render --eml "$tmp/bounce.eml" --dir "$top_srcdir/templates" \
	>"$tmp/b.out" 2>"$tmp/b.err"
has "note: no acknowledgement would be sent: " "$tmp/b.err" "bounce verdict"

# the whole message as it would be queued
dg template render --category other --lang de --dir "$top_srcdir/templates" --mime \
	>"$tmp/mime.out" 2>"$tmp/mime.err"
rc=$?
[ $rc -eq 0 ] && ok || { bad "render --mime exit $rc"; cat "$tmp/mime.err"; }
has "Auto-Submitted: auto-replied" "$tmp/mime.out" "mime auto-submitted"
has "X-Deskgate-Loop: gw.example.test" "$tmp/mime.out" "mime loop header"
has "multipart/alternative" "$tmp/mime.out" "mime alternative"

# usage errors
dg template render --category other >/dev/null 2>&1
[ $? -eq 64 ] && ok || bad "render without --lang: want 64"
dg template render --category other --lang xx >/dev/null 2>&1
[ $? -eq 64 ] && ok || bad "render --lang xx: want 64"
dg template frobnicate >/dev/null 2>&1
[ $? -eq 64 ] && ok || bad "unknown subcommand: want 64"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
