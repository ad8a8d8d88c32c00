#!/bin/sh
# `deskgate rules replay` compares what the rules decide now with what they
# decided when each ticket was classified (the "classified" event), not with
# the ticket as agents changed it (issue 10, item 18): a customer mail the
# rules made account_security/high, which an agent set to normal by mail,
# is no change for the same rules; a real change of the rules still is.
# A ticket stored before the event existed is rebuilt from its events (the
# value before the agent's change). Everything runs through the deskgate
# binary on a real SQLite store, the agent's reply as an agent sends it.
set -u
. "$top_srcdir/tests/lib/testlib.sh"
[ -x "$DESKGATE" ] || tl_skip "$DESKGATE not built"
home=$(tl_tmpdir)
dg() { "$DESKGATE" -q -c "$home/deskgate.conf" "$@"; }
rules=$top_srcdir/contrib/rules.d

tl_run "init" "$DESKGATE" init --address support@example.test --hostname desk.example.test "$home"
printf '\n[agent ann]\naddress = ann@desk.example.test\nname = Ann\n\n[queue security]\ncategories = account_security\nagents = ann\n' >>"$home/deskgate.conf"

printf 'From: Carl <carl@customer.example>\nTo: support@example.test\nSubject: Hacked\nMessage-ID: <c1@customer.example>\nDate: Mon, 3 Jun 2024 10:00:00 +0000\n\nSomeone hacked my account and withdrew my funds!\n' >"$home/c1.eml"
tl_assert_eq "customer mail" "$(dg ingest "$home/c1.eml")" "ticket 1: new"
tl_assert_match "the rules said high" "$(dg ticket show 1)" "priority high"

# Ann answers the notification: its Reply-To is the ticket's signed address.
id=$(dg outbox list | awk '/notify/ { print $1; exit }' | tr -d '#')
reply_to=$(dg outbox show "$id" --raw | tr -d '\r' | sed -n 's/^Reply-To:.*<\(.*\)>.*/\1/p; s/^Reply-To: *\([^ <]*@[^ ]*\)$/\1/p' | head -n 1)
tl_assert_match "the notification has a signed reply address" "$reply_to" "^support+.*@example.test$"
printf 'From: Ann <ann@desk.example.test>\nTo: %s\nSubject: Re: Hacked\nMessage-ID: <a1@desk.example.test>\nDate: Mon, 3 Jun 2024 10:05:00 +0000\n\n#priority normal\n\nWe are looking into it.\n' "$reply_to" >"$home/a1.eml"
dg ingest "$home/a1.eml" >/dev/null
tl_assert_match "the agent set normal" "$(dg ticket show 1)" "priority normal"

out=$(dg rules replay --rules "$rules")
tl_assert_match "same rules: nothing would change" "$out" "1 tickets re-classified, 0 would change"

# A real change of the rules is still reported, against the rules' verdict.
mkdir -p "$home/rules"
cp "$rules"/*.rules "$home/rules/"
sed -i 's/^\([[:space:]]*priority high\)/#\1/' "$home/rules/50-account-security.rules"
out=$(dg rules replay --rules "$home/rules")
tl_assert_match "a rule change is reported from the old verdict" "$out" "ticket 1: priority high -> normal"

# A ticket stored before the "classified" event: rebuilt from the agent's
# change (priority high -> normal) and the routing (queue security, by
# category, is not the rules' queue).
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$home/deskgate.db" "DELETE FROM events WHERE kind = 'classified'"
	out=$(dg rules replay --rules "$rules")
	tl_assert_match "legacy ticket: nothing would change" "$out" "1 tickets re-classified, 0 would change"
else
	tl_ok "legacy ticket: not tried (no sqlite3 command)"
fi
tl_done
