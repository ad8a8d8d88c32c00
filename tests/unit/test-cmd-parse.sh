#!/bin/sh
# `deskgate parse`: decoded headers, the new text without quotes and
# signature, an attachment's sniffed type (a PNG named .pdf is a type
# mismatch), the automatic-mail verdict and why, --json, and the exit
# statuses of a message that would be quarantined, a missing file and bad
# usage. Nothing is stored: the state directory stays empty.
set -u
: "${top_srcdir:?}" "${DESKGATE:?}"
[ -x "$DESKGATE" ] || { echo "SKIP: $DESKGATE not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
has() { grep -F -q -- "$1" "$2" && ok || bad "$3: missing \"$1\""; }
hasnt() { grep -F -q -- "$1" "$2" && bad "$3: unexpected \"$1\"" || ok; }

mkdir -p "$tmp/state"
cat >"$tmp/deskgate.conf" <<EOF2
[general]
state_dir = $tmp/state
support_address = support@example.test
hostname = gw.example.test
EOF2
dg() { "$DESKGATE" -c "$tmp/deskgate.conf" "$@"; }

cat >"$tmp/reply.eml" <<'EOF2'
From: =?UTF-8?B?546L5bCP5piO?= <wang@customer.example>
To: Support <support@example.test>
Cc: li@customer.example
Subject: =?UTF-8?B?UmU6IOWFheWAvOacquWIsOi0pg==?=
Date: Tue, 11 Mar 2025 10:01:00 +0800
Message-ID: <m1@client.example>
In-Reply-To: <dg.12.abc@gw.example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

还是没有到账，请查一下。

Sent from my iPhone

On Mon, Mar 10, 2025 at 9:00 AM Support <support@example.test> wrote:
> Your deposit is on its way.
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename="receipt.pdf"
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
--b1--
EOF2

dg parse "$tmp/reply.eml" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok || bad "parse: exit $rc"
has "Subject:     Re: 充值未到账" "$tmp/out" "decoded subject"
has "From:        王小明 <wang@customer.example>" "$tmp/out" "decoded From"
has "Cc:          li@customer.example" "$tmp/out" "Cc"
has "In-Reply-To: dg.12.abc@gw.example.test" "$tmp/out" "In-Reply-To"
has "Language:    zh-CN (the text)" "$tmp/out" "language"
has "Automatic:   none" "$tmp/out" "a person's mail"
has "1. receipt.pdf, 70 bytes, declared application/pdf" "$tmp/out" "attachment"
if grep -q "not sniffed" "$tmp/err"; then
	echo "note: libmagic unavailable, sniffing not checked"
else
	has "type mismatch" "$tmp/out" "a PNG named .pdf"
fi
# the new text: no quote, no sign-off
sed -n '/^--- new text/,$p' "$tmp/out" >"$tmp/new"
has "还是没有到账，请查一下。" "$tmp/new" "new text"
hasnt "Sent from my iPhone" "$tmp/new" "new text"
hasnt "on its way" "$tmp/new" "new text"
has "quoted history removed, signature removed" "$tmp/new" "new text header"

# --json: valid, with the same findings
dg parse "$tmp/reply.eml" --json >"$tmp/json" 2>/dev/null || bad "parse --json: exit $?"
python3 - "$tmp/json" <<'EOF2' && ok || bad "--json content"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["from"] == {"name": "王小明", "address": "wang@customer.example"}, j["from"]
assert j["new_text"] == "还是没有到账，请查一下。", j["new_text"]
assert j["quote_removed"] and j["signature_removed"]
assert j["automatic"] == "none" and j["report"] == "none"
assert j["attachments"][0]["filename"] == "receipt.pdf"
assert j["attachments"][0]["verdict"] in ("type mismatch", "unchecked"), j["attachments"][0]
EOF2

# automatic mail and why
cat >"$tmp/ooo.eml" <<'EOF2'
From: Bob <bob@example.org>
To: support@example.test
Subject: Out of office
Auto-Submitted: auto-replied
Message-ID: <ooo@example.org>

I am away until Monday.
EOF2
dg parse "$tmp/ooo.eml" >"$tmp/out" 2>&1 || bad "parse ooo: exit $?"
has "Automatic:   auto-reply: Auto-Submitted: auto-replied" "$tmp/out" "auto-reply verdict"

# would be quarantined: 65 with the reason; missing file 66; usage 64
# (more header fields than [limits] allow)
python3 -c '
import sys
sys.stdout.write("From: a@b.example\nSubject: x\n" + "X-Junk: y\n" * 1200 + "\nbody\n")' >"$tmp/bad.eml"
dg parse "$tmp/bad.eml" >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 65 ] && ok || bad "bad message: exit $rc, want 65"
has "would be quarantined:" "$tmp/out" "bad message"
dg parse "$tmp/nonexistent.eml" >/dev/null 2>&1; rc=$?
[ $rc -eq 66 ] && ok || bad "missing file: exit $rc, want 66"
dg parse >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && ok || bad "no argument: exit $rc, want 64"
dg parse --help >"$tmp/out" 2>&1 && has "usage: deskgate" "$tmp/out" "--help" || bad "--help"
# nothing stored
[ -z "$(ls -A "$tmp/state")" ] && ok || bad "parse wrote to the state directory: $(ls "$tmp/state")"

echo "$pass checks passed, $fail failed"
[ $fail -eq 0 ]
