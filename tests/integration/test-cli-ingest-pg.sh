#!/bin/bash
# End to end on PostgreSQL (issue 17): `deskgate init`, then the store is a
# private PostgreSQL server (tests/harness/postgres.sh) named by a URL with
# its password; ingest of corpus mail (new tickets, a duplicate, a reply, a
# quarantine whose raw mail comes back byte for byte from the blobs table),
# ticket list and show, status and a report; the password is in no output
# and no log line, and a wrong one fails with a clear message.
set -u
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/postgres.sh"
dg_root_init test-cli-ingest-pg
dg_pg_start

home=$DG_ROOT/desk
mail="$top_srcdir/contrib/demo-mail"
dg() { "$DESKGATE" -c "$home/deskgate.conf" "$@" 2>>"$DG_ROOT/stderr.log"; }

"$DESKGATE" init --address support@example.test --hostname desk.example.test "$home" >/dev/null ||
	dg_fail "init"
# the [general] database key takes the URL
sed -i "s|^#\?database = .*|database = $DG_PG_URL|" "$home/deskgate.conf"
grep -q "^database = postgresql://" "$home/deskgate.conf" ||
	printf '[general]\ndatabase = %s\n' "$DG_PG_URL" >>"$home/deskgate.conf"
dg config check >/dev/null || dg_fail "config check: $(tail -3 "$DG_ROOT/stderr.log")"

dg_assert_eq "ticket 1: new" "$(dg -q ingest <"$mail/01-en-failed-trade.eml")" "ingest stdin"
dg_assert_eq "ticket 2: new" "$(dg -q ingest "$mail/02-zh-deposit-missing.eml")" "ingest file"
dg_assert_eq "ticket 1: duplicate, already stored" "$(dg -q ingest "$mail/01-en-failed-trade.eml")" "duplicate"
dg_assert_eq "ticket 1: reply added" "$(dg -q ingest "$mail/05-en-reply.eml")" "reply"
out=$(dg -q ingest "$mail/06-broken-deep-nesting.eml")
case $out in "quarantine 1: limit: max_mime_depth"*) ;; *) dg_fail "quarantine: $out" ;; esac
dg -q quarantine show 1 --raw >"$DG_ROOT/raw.out"
cmp -s "$DG_ROOT/raw.out" "$mail/06-broken-deep-nesting.eml" || dg_fail "raw mail not kept byte for byte"

list=$(dg -q ticket list)
echo "$list"
echo "$list" | grep -q "Order failed but funds are locked" || dg_fail "ticket list"
echo "$list" | grep -q "充值未到账" || dg_fail "ticket list (zh)"
dg -q ticket show 1 | grep -q "^--- message 2" || dg_fail "ticket 1 has the reply"
rows=$(dg_pg_psql -At -c "SELECT count(*) FROM messages WHERE direction = 'in'")
dg_assert_eq 3 "$rows" "messages in PostgreSQL"
rows=$(dg_pg_psql -At -c "SELECT count(*) FROM blobs WHERE kind = 0")
[ "$rows" -ge 3 ] || dg_fail "raw mail in the blobs table: $rows"
dg -q status | grep -q "quarantine: 1 held" || dg_fail "status"
rep=$(dg -q report) || dg_fail "report"
# the report reads the SLA clocks beside each ticket (a LEFT JOIN of
# ticket_sla): the open tickets' first responses are running
echo "$rep" | grep -Eq "first.response.*\(0 met, 0 breached, [1-9][0-9]* running\)" ||
	dg_fail "report: no running first-response target: $(echo "$rep" | grep -i first)"

# A wrong password: refused, clearly, and not echoed.
bad=${DG_PG_URL/:$DG_PG_PASSWORD@/:N0tTheP4ssword@}
sed -i "s|^database = .*|database = $bad|" "$home/deskgate.conf"
dg -q ticket list >/dev/null && dg_fail "a wrong password was accepted"
tail -1 "$DG_ROOT/stderr.log"
grep -q "password authentication failed" "$DG_ROOT/stderr.log" || dg_fail "no clear message"
if grep -rq -e "$DG_PG_PASSWORD" -e N0tTheP4ssword "$DG_ROOT/stderr.log"; then
	dg_fail "a password in the log"
fi
dg_log "ok"
