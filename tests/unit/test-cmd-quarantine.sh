#!/bin/sh
# `deskgate quarantine release` (issue 10.17): a message the rules held as
# spam is released into a normal ticket, acknowledged, and the ticket's
# events say who released it (--by, else the invoking user); retry keeps
# spam held; a second release is refused; usage errors exit 64.
set -u
. "$top_srcdir/tests/lib/testlib.sh"
[ -x "$DESKGATE" ] || tl_skip "$DESKGATE not built"
command -v sqlite3 >/dev/null || tl_skip "sqlite3 not installed"

home=$(tl_tmpdir)
"$DESKGATE" init --address support@example.test --hostname gw.example.test "$home/gw" >/dev/null ||
	tl_not_ok "deskgate init"
mkdir -p "$home/rules"
cat >"$home/rules/spam.rules" <<'RULES'
rule prize {
	subject ~ /lottery/
	spam
}
RULES
sed -i "s|^#dir = .*|dir = $home/rules|" "$home/gw/deskgate.conf"
dg() { "$DESKGATE" -c "$home/gw/deskgate.conf" "$@"; }
sql() { sqlite3 "$home/gw/deskgate.db" "$1"; }

mail() {
	printf 'From: Lucky <lucky@customer.example>\nTo: support@example.test\nSubject: %s\n' "$1"
	printf 'Message-ID: <%s@customer.example>\nDate: Tue, 11 Mar 2025 10:00:00 +0800\n\n' "$2"
	printf 'I won the lottery but my withdrawal of the prize is stuck (%s).\n' "$2"
}
mail "Lottery prize withdrawal" m1 | dg ingest >"$home/out" 2>&1
tl_assert_match "spam is quarantined" "$(cat "$home/out")" "^quarantine 1: spam"
tl_assert_match "retry keeps it held" "$(dg quarantine retry 1 2>&1)" "still held: spam"

out=$(dg quarantine release 1 --by "Olivia Operator" 2>&1); rc=$?
tl_assert_eq "release exit" "$rc" 0
tl_assert_match "release says who and where" "$out" "released by Olivia Operator into ticket 1"
tl_assert_eq "a ticket" "$(sql 'select count(*) from tickets')" 1
tl_assert_eq "acknowledged" "$(sql "select count(*) from outbox where kind = 'ack'")" 1
tl_assert_match "the event names who released it" \
	"$(sql "select detail from events where ticket_id = 1 and kind = 'released'")" \
	"released by Olivia Operator; it was held: spam"
tl_assert_eq "quarantine row released" "$(sql 'select status, ticket_id from quarantine where id = 1')" "released|1"
tl_assert_match "listed as released" "$(dg quarantine list --all)" "released"

out=$(dg quarantine release 1 2>&1); rc=$?
tl_assert_eq "second release refused" "$rc" 75
tl_assert_match "second release says why" "$out" "already released"
tl_assert_eq "still one ticket" "$(sql 'select count(*) from tickets')" 1

# Without --by: the invoking user.
mail "Lottery again" m2 | dg ingest >/dev/null 2>&1
dg quarantine release 2 >"$home/out" 2>&1
me=$(id -un)
[ "$(id -u)" = 0 ] && [ -n "${SUDO_USER:-}" ] && me=$SUDO_USER
tl_assert_match "default: the invoking user" "$(cat "$home/out")" "released by $me into ticket 2"

dg quarantine release >/dev/null 2>&1
tl_assert_eq "release without N" "$?" 64
dg quarantine release 1 --by >/dev/null 2>&1
tl_assert_eq "--by without a name" "$?" 64
tl_assert_match "--help names release" "$(dg quarantine --help)" "release N \[--by NAME\]"
tl_done
