#!/bin/bash
# test-smtp-compose: every kind of message deskgate composes is parsed by an
# independent parser (Python's email package, default policy): no defects,
# and Chinese subjects, display names and file names come back exactly.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/harness/lib.sh"
dg_root_init test-smtp-compose
dg_require_cmd python3
tool=$builddir/tests/integration/smtp-tool
[ -x "$tool" ] || dg_fail "$tool not built"
check="python3 $srcdir/tests/harness/mailcheck.py"

n=0
compose() {
	n=$((n + 1))
	"$tool" compose "$@" >"$DG_ROOT/m$n.eml" || dg_fail "compose $n failed"
}

# 1. Chinese subject and display names, acknowledgement headers
subject='回复：您的提币申请 #1234 已收到 — 我们将在24小时内处理'
compose --from-name '币安客服中心' --to alice@example.net --to-name '张伟 (客服)' \
	--subject "$subject" --text $'您好，\n\n您的工单已收到。\n' --ticket 1234 --auto
$check parse "$DG_ROOT/m$n.eml" --subject "$subject" --to-name '张伟 (客服)' \
	--from-name '币安客服中心' --text $'您好，\n\n您的工单已收到。\n' || dg_fail "message $n"

# 2. a long Chinese subject (many encoded words) and a long ASCII one
long=$(printf '提币申请处理中%.0s' $(seq 1 40))
compose --to bob@example.net --subject "$long" --text 'x'
$check parse "$DG_ROOT/m$n.eml" --subject "$long" || dg_fail "message $n"
longa="Your withdrawal request of 0.5 BTC to address bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh has been received and is waiting for confirmation by our compliance team, reference WD-2024-000123456"
compose --to bob@example.net --subject "$longa" --text 'x'
$check parse "$DG_ROOT/m$n.eml" --subject "$longa" || dg_fail "message $n"

# 3. mixed scripts and specials in names
compose --to 'x@example.net' --to-name 'Müller, Jürgen "JM"' --to y@example.net \
	--to-name 'O'"'"'Brien (VIP)' --subject 'Réponse : dépôt reçu [#42]' --text 'ok'
$check parse "$DG_ROOT/m$n.eml" --subject 'Réponse : dépôt reçu [#42]' \
	--to-name 'Müller, Jürgen "JM"' --to-name "O'Brien (VIP)" || dg_fail "message $n"

# 4. HTML alternative, attachments with Chinese and long names
printf 'order,amount\n1,0.5\n' >"$DG_ROOT/a.csv"
head -c 5000 /dev/urandom >"$DG_ROOT/b.bin"
longname=$(printf '很长的文件名%.0s' $(seq 1 12)).pdf
compose --to carol@example.net --subject 'Attachments 附件' \
	--text $'See the attached files.\n' --html '<p>See the <b>attached</b> files. 附件</p>' \
	--attach "$DG_ROOT/a.csv:交易记录.csv:text/csv" --attach "$DG_ROOT/b.bin:$longname:application/pdf" \
	--attach "$DG_ROOT/b.bin:report.bin"
$check parse "$DG_ROOT/m$n.eml" --subject 'Attachments 附件' --attachment '交易记录.csv' \
	--attachment "$longname" --attachment report.bin --text $'See the attached files.\n' ||
	dg_fail "message $n"

# 5. header injection attempts: CR/LF in every field that takes text
compose --to dave@example.net --to-name $'Eve\r\nBcc: victim@evil.test' \
	--subject $'Hello\r\nBcc: victim@evil.test\r\n\r\n<b>body</b>' --text 'x' \
	--attach "$DG_ROOT/a.csv:"$'a\r\nContent-Type: text/html'".csv"
$check parse "$DG_ROOT/m$n.eml" --subject 'Hello Bcc: victim@evil.test <b>body</b>' \
	--to-name 'Eve Bcc: victim@evil.test' || dg_fail "message $n"
grep -qi '^bcc:' "$DG_ROOT/m$n.eml" && dg_fail "message $n has a Bcc header"
python3 - "$DG_ROOT/m$n.eml" <<'PY' || dg_fail "message $n: injected header"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
assert m['bcc'] is None
assert len(m.get_all('content-type')) == 1
PY

# 6. threading headers
compose --to e@example.net --subject 'Re: x' --text 'y' --in-reply-to 'CAF=abc@mail.example.com' \
	--ref 'root@example.com' --ref 'CAF=abc@mail.example.com'
$check parse "$DG_ROOT/m$n.eml" || dg_fail "message $n"
grep -q '^In-Reply-To: <CAF=abc@mail.example.com>' "$DG_ROOT/m$n.eml" || dg_fail "In-Reply-To"

# 7. refused: a recipient address with a line break
if "$tool" compose --to $'f@example.net\r\nBcc: x@evil.test' --text x >/dev/null 2>&1; then
	dg_fail "an address with CR/LF was accepted"
fi
dg_log "$n messages parsed without defects"
