#!/bin/sh
# `deskgate rules eval` with the default rules on banking77's training set
# (mapped onto deskgate's categories by MAPPING_banking77_to_gateway.tsv, see
# ../shared/corpora/classify/banking77/README.md). The targets of issue 5
# are precision >= 0.90 per category and macro-F1 >= 0.85; the floors below
# are the levels reached when the rules were written (a ratchet: raise them
# when the rules get better, never lower them to make a change pass). The
# whole training split includes the development part the rules were written
# on: the numbers that say how the rules hold on unseen mail are those of
# test-classify-heldout.sh.
set -u
. "$top_srcdir/tests/lib/testlib.sh"
corpora=${DESKGATE_CORPORA:-$top_srcdir/../shared/corpora}
data=$corpora/classify/banking77/train.csv
map=$corpora/classify/banking77/MAPPING_banking77_to_gateway.tsv
[ -f "$data" ] && [ -f "$map" ] || tl_skip "banking77 corpus not found under $corpora"
command -v python3 >/dev/null 2>&1 || tl_skip "python3 is needed to read the JSON"

tmp=$(tl_tmpdir)
rules=$top_srcdir/contrib/rules.d
tl_run "rules check on the default rules" "$DESKGATE" rules check "$rules"

"$DESKGATE" rules eval --rules "$rules" --mapping "$map" --json "$data" >"$tmp/eval.json" 2>"$tmp/err"
tl_assert_eq "eval exit status" "$?" "0"
"$DESKGATE" rules eval --rules "$rules" --mapping "$map" "$data" >"$tmp/eval.txt" 2>&1
cat "$tmp/eval.txt"

# The JSON has exactly the documented shape; then check the floors.
out=$(python3 - "$tmp/eval.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
problems = []
if sorted(j) != ["confusion", "macro_f1", "per_category"]:
    problems.append("top-level keys %s" % sorted(j))
for name, m in j["per_category"].items():
    if sorted(m) != ["f1", "precision", "recall", "support"]:
        problems.append("keys of %s: %s" % (name, sorted(m)))
rows = sum(sum(r.values()) for r in j["confusion"].values())
if rows != 10003:
    problems.append("confusion counts %d rows, want 10003" % rows)
for name, m in j["per_category"].items():
    if m["support"] != sum(j["confusion"].get(name, {}).values()):
        problems.append("support of %s disagrees with the confusion matrix" % name)
floors = {  # precision floors (achieved: 0.933 0.910 0.914 0.924 0.954)
    "account_security": 0.93, "delayed_payment": 0.91, "failed_trade": 0.91,
    "other": 0.92, "registration": 0.95,
}
for name, floor in floors.items():
    p = j["per_category"].get(name, {}).get("precision", 0)
    if p < floor:
        problems.append("precision of %s %.4f < %.2f" % (name, p, floor))
recall_floors = {"account_security": 0.91, "delayed_payment": 0.88, "failed_trade": 0.87,
                 "other": 0.95, "registration": 0.96}
for name, floor in recall_floors.items():
    r = j["per_category"].get(name, {}).get("recall", 0)
    if r < floor:
        problems.append("recall of %s %.4f < %.2f" % (name, r, floor))
if j["macro_f1"] < 0.92:  # achieved 0.922; the issue's target is 0.85
    problems.append("macro-F1 %.4f < 0.92" % j["macro_f1"])
print("\n".join(problems) if problems else "ok")
PY
)
tl_assert_eq "banking77: JSON shape, precision, recall and macro-F1 floors" "$out" "ok"

# A folder of mail per label, and the mapping option.
mkdir -p "$tmp/mail/signup" "$tmp/mail/money" "$tmp/mail/misc"
printf 'From: a@x.example\nTo: s@y.example\nSubject: verification code\n\nI never got the verification code.\n' >"$tmp/mail/signup/1.eml"
printf 'From: a@x.example\nTo: s@y.example\nSubject: =?UTF-8?B?5o+Q546w5pyq5Yiw6LSm?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n\346\230\250\345\244\251\347\232\204\346\217\220\347\216\260\350\277\230\346\262\241\345\210\260\350\264\246\n' >"$tmp/mail/money/1.eml"
printf 'From: a@x.example\nTo: s@y.example\nSubject: hello\n\nWhat are your opening hours?\n' >"$tmp/mail/misc/1.eml"
printf 'signup\tregistration\nmoney\tdelayed_payment\nmisc\tother\n' >"$tmp/map.tsv"
"$DESKGATE" rules eval --rules "$rules" --mapping "$tmp/map.tsv" --json "$tmp/mail" >"$tmp/dir.json" 2>&1
out=$(python3 - "$tmp/dir.json" <<'PY' 2>&1
import json, sys
want = {"per_category": {c: {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
                         for c in ("delayed_payment", "other", "registration")},
        "macro_f1": 1.0,
        "confusion": {r: {c: int(r == c) for c in ("delayed_payment", "other", "registration")}
                      for r in ("delayed_payment", "other", "registration")}}
got = json.load(open(sys.argv[1]))
print("same" if got == want else "differs: %r" % got)
PY
)
tl_assert_eq "eval of a folder of mail per label" "$out" "same"

# A label missing from the mapping is an error, not a silent miss.
printf 'text,label\n"hello, world",nosuchlabel\n' >"$tmp/bad.csv"
"$DESKGATE" rules eval --rules "$rules" --mapping "$tmp/map.tsv" "$tmp/bad.csv" >"$tmp/bad.out" 2>&1
tl_assert_eq "unmapped label: exit 65" "$?" "65"
tl_assert_match "unmapped label named" "$(cat "$tmp/bad.out")" 'record 2: label "nosuchlabel" is not in the mapping'

# rules test on a message, text and JSON.
"$DESKGATE" rules test --rules "$rules" "$tmp/mail/money/1.eml" >"$tmp/test.txt" 2>&1
tl_assert_match "rules test shows the category" "$(cat "$tmp/test.txt")" '^category: delayed_payment$'
"$DESKGATE" rules test --rules "$rules" --json --text 'my account was hacked, tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060' >"$tmp/test.json" 2>&1
out=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["category"], j["priority"], j["fields"].get("tx_hash","")[:6], len(j["hits"]) > 0)' "$tmp/test.json" 2>&1)
tl_assert_eq "rules test --json" "$out" "account_security high 0x5c50 True"

# rules check names file:line and the PCRE2 offset, and lists every error.
printf 'rule a {\n  body ~ /(oops/\n  tag t\n}\nrule b {\n  body ~ /[z-a]/\n  tag t\n}\n' >"$tmp/bad.rules"
"$DESKGATE" rules check "$tmp/bad.rules" >"$tmp/check.out" 2>&1
tl_assert_eq "rules check on a bad file: exit 78" "$?" "78"
tl_assert_match "first error" "$(cat "$tmp/check.out")" 'bad.rules:2: rule a: pattern error at offset 5: missing closing parenthesis'
tl_assert_match "second error" "$(cat "$tmp/check.out")" 'bad.rules:6: rule b: pattern error at offset 3: range out of order'
tl_done
