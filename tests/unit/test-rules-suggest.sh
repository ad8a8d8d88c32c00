#!/bin/sh
# Rules that learn from agents (issue 16), through the deskgate binary on a
# real SQLite store, agents' replies as agents send them:
#   - every `#category X` an agent sends is kept as a labelled example;
#   - `rules eval --from-store` scores the rules against those labels;
#   - `rules suggest` on a store where agents corrected 50 tickets (40
#     English mails about a missing airdrop, 10 Chinese about a 空投, all of
#     which the default rules call "other") proposes patterns that fix most
#     of them and change no unrelated ticket (30 others, 5 of them labelled
#     by agents who agreed with the rules);
#   - nothing changes the rules or the tickets: applying a suggestion is
#     the admin's step, measured here with eval --from-store and replay.
# The mails are tests/data/classify/suggest-mails.csv (kind: correct =
# an agent sets the label, confirm = an agent sets the rules' own
# category, plain = no agent command).
set -u
. "$top_srcdir/tests/lib/testlib.sh"
[ -x "$DESKGATE" ] || tl_skip "$DESKGATE not built"
command -v python3 >/dev/null 2>&1 || tl_skip "python3 is needed to write the mails and read JSON"
home=$(tl_tmpdir)
dg() { "$DESKGATE" -q -c "$home/deskgate.conf" "$@"; }
rules=$top_srcdir/contrib/rules.d
data=$top_srcdir/tests/data/classify/suggest-mails.csv

tl_run "init" "$DESKGATE" init --address support@example.test --hostname desk.example.test "$home"
printf '\n[agent ann]\naddress = ann@desk.example.test\nname = Ann\n\n[rules]\ndir = %s\n' "$rules" >>"$home/deskgate.conf"
# 85 new tickets notify Ann within a second: above the desk's per-recipient
# cap on mail (the last defence against loops, 30 a minute by default),
# which would leave tickets without the notification the agent answers.
printf '\n[limits]\nmax_mail_per_recipient_minute = 1000\n' >>"$home/deskgate.conf"

# No label yet: eval --from-store has nothing to score.
dg rules eval --from-store >"$home/none.out" 2>&1
tl_assert_eq "eval --from-store without labels: exit 65" "$?" "65"

# The customers' mails, one ticket each, then the agents' replies.
python3 - "$data" "$home" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
for i, r in enumerate(rows, 1):
    with open("%s/c%d.eml" % (sys.argv[2], i), "w", encoding="utf-8") as f:
        f.write("From: Customer %d <c%d@customer.example>\nTo: support@example.test\n"
                "Subject: %s\nMessage-ID: <c%d@customer.example>\n"
                "Date: Mon, 3 Jun 2024 10:00:00 +0000\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n%s\n"
                % (i, i, r["subject"], i, r["text"]))
    if r["kind"] in ("correct", "confirm"):
        open("%s/a%d.label" % (sys.argv[2], i), "w").write(r["label"])
print(len(rows))
PY
n=$(ls "$home"/c*.eml | wc -l)
mkdir -p "$home/customers" "$home/agents"
i=1
while [ "$i" -le "$n" ]; do
	mv "$home/c$i.eml" "$home/customers/$(printf '%03d' "$i").eml"
	i=$((i + 1))
done
dg import --no-progress "$home/customers" >"$home/import.out" 2>&1
tl_assert_eq "import of the customers' mails: exit 0" "$?" "0"
tl_assert_eq "$n customer mails, one ticket each" "$(dg ticket show "$n" >/dev/null 2>&1 && echo yes)" "yes"
dg outbox list --limit 10000 | awk '$3 == "notify" { print $4, $1 }' >"$home/notify"
for f in "$home"/a*.label; do
	t=$(basename "$f" .label | tr -d a)
	id=$(awk -v t="$t" '$1 == t { print $2; exit }' "$home/notify")
	reply_to=$(dg outbox show "$id" --raw | tr -d '\r' | sed -n 's/^Reply-To:.*<\(.*\)>.*/\1/p; s/^Reply-To: *\([^ <]*@[^ ]*\)$/\1/p' | head -n 1)
	printf 'From: Ann <ann@desk.example.test>\nTo: %s\nSubject: Re: ticket %s\nMessage-ID: <a%s@desk.example.test>\nDate: Mon, 3 Jun 2024 11:00:00 +0000\n\n#category %s\n\nThanks, we are looking into it.\n' \
		"$reply_to" "$t" "$t" "$(cat "$f")" >"$home/agents/a$t.eml"
done
dg import --no-progress "$home/agents" >"$home/import-agents.out" 2>&1
tl_assert_eq "import of 55 agents' replies with #category: exit 0" "$?" "0"
tl_assert_match "the agent's category is the ticket's" "$(dg ticket show 1)" "delayed_payment"

# The labels as a labelled set: the default rules get none of the 50
# corrections right and all 5 confirmations.
dg rules eval --from-store --json >"$home/before.json" 2>"$home/before.err"
tl_assert_eq "eval --from-store: exit 0" "$?" "0"
out=$(python3 - "$home/before.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rows = sum(sum(r.values()) for r in j["confusion"].values())
right = sum(j["confusion"].get(c, {}).get(c, 0) for c in j["confusion"])
print(rows, right, j["per_category"]["delayed_payment"]["recall"])
PY
)
tl_assert_eq "eval --from-store: 55 labelled tickets, 5 right, delayed_payment recall 0" "$out" "55 5 0.0"

# Suggestions: nothing may change, neither the rules nor the tickets.
sum_before=$(cat "$rules"/*.rules | cksum)
tickets_before=$(dg ticket list --limit 1000 2>/dev/null || dg ticket list)
dg rules suggest --category delayed_payment --json >"$home/suggest.json" 2>"$home/suggest.err"
tl_assert_eq "rules suggest: exit 0" "$?" "0"
out=$(python3 - "$home/suggest.json" "$home/suggested.rules" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j["suggestions"]
problems = []
if (j["examples"], j["agree"], j["tickets"]) != (55, 5, 25):
    problems.append("counts %r" % ((j["examples"], j["agree"], j["tickets"]),))
en = [x for x in s if x["phrase"] == "airdrop"]
zh = [x for x in s if "空投" in x["phrase"]]
if not s or s[0]["phrase"] != "airdrop":
    problems.append("first suggestion %r" % (s[0]["phrase"] if s else None))
if not en or en[0]["fixes"] < 36 or en[0]["missed"] != 50:
    problems.append("airdrop: %r" % en)
if not zh or zh[0]["fixes"] < 8:
    problems.append("空投: %r" % zh)
for x in s:
    if x["category"] != "delayed_payment":
        problems.append("category %s" % x["category"])
    if x["breaks"] != 0 or x["changes"] != 0:
        problems.append("%s changes %d labelled, %d other tickets" % (x["phrase"], x["breaks"], x["changes"]))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for x in en[:1] + zh[:1]:
        f.write(x["rule"] + "\n")
print("\n".join(problems) if problems else "ok")
PY
)
tl_assert_eq "suggest: 'airdrop' first, fixes most of the 40, '空投' most of the 10, no other ticket changes" "$out" "ok"
tl_assert_eq "suggest changed no rule" "$(cat "$rules"/*.rules | cksum)" "$sum_before"
tl_assert_eq "suggest changed no ticket" "$(dg ticket list --limit 1000 2>/dev/null || dg ticket list)" "$tickets_before"

out=$(dg rules suggest --category delayed_payment)
tl_assert_match "text: the phrase and its counts" "$out" '"airdrop" fixes [0-9]* of 50; changes 0 other labelled and 0 unlabelled tickets'
tl_assert_match "text: a rule ready to paste" "$out" 'rule suggested-delayed_payment-1 {'
tl_assert_match "text: nothing was changed" "$out" "Nothing was changed"

# The admin applies the two rules: the corrections are fixed, and replay
# shows that only corrected tickets would change.
mkdir -p "$home/new"
cp "$rules"/*.rules "$home/new/"
cp "$home/suggested.rules" "$home/new/95-suggested.rules"
tl_run "the suggested rules compile" dg rules check "$home/new"
dg rules eval --from-store --rules "$home/new" --json >"$home/after.json" 2>&1
out=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j["per_category"]["delayed_payment"]["recall"]; print("ok" if r >= 0.88 else r)' "$home/after.json")
tl_assert_eq "with the suggestions: delayed_payment recall >= 0.88 on the agents' labels" "$out" "ok"
dg rules replay --rules "$home/new" >"$home/replay.out"
out=$(awk '/^ticket [0-9]+:/ { t = $2; sub(":", "", t); if (t + 0 > 50) print "ticket " t " changed" }' "$home/replay.out")
tl_assert_eq "replay: no ticket beyond the 50 corrected ones changes" "$out" ""
tl_assert_match "replay: corrected tickets change to delayed_payment" "$(cat "$home/replay.out")" "category other -> delayed_payment"

# --since after the labels: nothing to learn from.
out=$(dg rules suggest --since 2099-01-01 --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["examples"], len(j["suggestions"]))')
tl_assert_eq "suggest --since later: no example, no suggestion" "$out" "0 0"
dg rules suggest --since yesterday >/dev/null 2>&1
tl_assert_eq "suggest: a bad date is a usage error" "$?" "64"
tl_done
