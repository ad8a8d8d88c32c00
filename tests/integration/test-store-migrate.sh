#!/bin/bash
# test-store-migrate: `deskgate store migrate` (issue 17) with real parts. A
# desk is built on SQLite the way a desk fills up: corpus mail through
# `ingest` (new tickets, a reply, a duplicate, a quarantine, an attachment),
# and over IMAP with Postfix and Dovecot a customer's mail that the agent
# closes by mail, so that acks, notifications and a survey are in the
# outbox. Then, into the private PostgreSQL of tests/harness/postgres.sh:
#   1. migrate: exit 0, every table and blob verified, ids kept;
#   2. `ticket show` and `ticket list` print the same on both desks, and
#      `run --once` works on the PostgreSQL desk; new ids follow the copied;
#   3. a second run copies nothing and verifies;
#   4. a run killed with SIGKILL midway leaves a partial copy that
#      --verify-only reports (exit 1); the next run resumes and verifies;
#   5. a destination holding another desk's tickets is refused (65), and a
#      table the copier does not know is refused by name (65);
#   6. [store] url with password_file (refused when others may read it); the
#      deprecated [general] database warned about once;
#   7. the password is in no output and no log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/integration/desk-e2e.sh"
. "$srcdir/tests/harness/postgres.sh"
desk_e2e_init test-store-migrate
dg_pg_start

support=support@example.test
customer=chloe@example.net
alice=alice@example.test
desk_e2e_start $support $customer $alice
desk_e2e_desk $support
cat >>"$conf" <<CONF

[agent alice]
address = $alice
name = Alice Agent

[survey]
enabled = yes
CONF
log=$DG_ROOT/stderr.log
dg() { "$deskgate" -c "$conf" "$@" 2>>"$log"; }
dg -q config check >/dev/null || dg_fail "config check: $(tail -3 "$log")"
process() { dg run --once >>"$gw/run.log" 2>&1 || dg_fail "run --once: $(tail -5 "$gw/run.log")"; }
dg_require_cmd s-nail

dg_log "0. a desk on SQLite"
mail="$srcdir/contrib/demo-mail"
for m in 01-en-failed-trade 02-zh-deposit-missing 03-de-account-locked 04-fr-registration \
	05-en-reply 01-en-failed-trade 06-broken-deep-nesting; do
	dg -q ingest "$mail/$m.eml" >/dev/null || dg_fail "ingest $m"
done
python3 - "$DG_ROOT/att.eml" <<'PY' || dg_fail "attachment mail"
import sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "Dana <dana@example.org>"
m["To"] = "support@example.test"
m["Subject"] = "Screenshot of the failed withdrawal"
m["Date"] = "Mon, 30 Nov 2026 09:00:00 +0000"
m["Message-ID"] = "<att-1@example.org>"
m.set_content("Hello,\nthe screenshot and the statement are attached.\n")
m.add_attachment(bytes(range(256)) * 40, maintype="image", subtype="png", filename="shot.png")
m.add_attachment(b"date,amount\n2026-11-29,0.5\n", maintype="text", subtype="csv",
                 filename="statement.csv")
open(sys.argv[1], "wb").write(bytes(m))
PY
dg -q ingest "$DG_ROOT/att.eml" >/dev/null || dg_fail "ingest attachment mail"
printf 'Hello,\nmy withdrawal of 0.5 BTC has been pending since yesterday.\n\nChloe\n' |
	snail "Chloe <$customer>" -s 'Withdrawal pending' $support || dg_fail "s-nail send failed"
wait_count $support 1
process
wait_count $alice 1 Subject 'New:'
reply $alice "Alice Agent <$alice>" Subject 'New:' $'#close\nThe withdrawal went out this morning.'
drain
wait_count $support 2
process
sqlite() { sqlite3 "$gw/deskgate.db" "$1"; }
# A ticket reopened (the event the pipeline writes when a customer writes to
# a closed ticket): its count on the ticket (migration 14's trigger) must
# arrive in PostgreSQL once, not again from the copied event.
sqlite "insert into events (ticket_id, at, kind, detail) values
	((select min(id) from tickets), strftime('%s', 'now'), 'reopened', 'by the customer')"
[ "$(sqlite "select max(reopens) from tickets")" = 1 ] || dg_fail "the reopening is not counted"
for q in "tickets" "attachments" "quarantine" "surveys" "outbox" "events" "mailboxes" \
	"ticket_sla" "participants" "message_rcpt"; do
	[ "$(sqlite "select count(*) from $q")" -ge 1 ] || dg_fail "the SQLite desk has no $q"
done
tickets=$(sqlite "select count(*) from tickets")
dg_log "the SQLite desk: $tickets tickets, $(sqlite 'select count(*) from messages') messages," \
	"$(sqlite 'select count(*) from outbox') outbox rows"

show_all() {
	local id
	dg -q ticket list
	for id in $(sqlite "select id from tickets order by id"); do
		dg -q ticket show "$id"
	done
}
show_all >"$DG_ROOT/show.sqlite" || dg_fail "ticket show on SQLite"

# A copy of the configuration whose store is the PostgreSQL database $1:
# [store] url without the password, which password_file holds.
pg_url() { printf '%s' "${DG_PG_URL%/deskgate}/$1"; }
printf '%s\n' "$DG_PG_PASSWORD" >"$gw/pg.password"
chmod 600 "$gw/pg.password"
pg_conf() {
	cp "$conf" "$gw/pg-$1.conf"
	printf '\n[store]\nurl = %s\npassword_file = %s\n' \
		"$(pg_url "$1" | sed "s/:$DG_PG_PASSWORD@/@/")" "$gw/pg.password" >>"$gw/pg-$1.conf"
	printf '%s' "$gw/pg-$1.conf"
}
copied() { awk 'NR > 1 && $4 ~ /^[0-9]+$/ { n += $4 } END { print n + 0 }' "$1"; }
mig() { dg store migrate "$@"; }

dg_log "1. migrate into PostgreSQL"
mig --to "$DG_PG_URL" --batch 7 >"$DG_ROOT/m1.out"
rc=$?
cat "$DG_ROOT/m1.out"
dg_assert_eq 0 "$rc" "migrate exit"
grep -q "^verified: every table and blob matches" "$DG_ROOT/m1.out" || dg_fail "not verified"
grep -q "^leases .*skipped: " "$DG_ROOT/m1.out" || dg_fail "leases not said skipped"
[ "$(copied "$DG_ROOT/m1.out")" -gt 50 ] || dg_fail "too little copied: $(copied "$DG_ROOT/m1.out")"
dg_assert_eq "$(sqlite "select group_concat(id || ':' || subject, '|') from (select * from tickets order by id)")" \
	"$(dg_pg_psql -At -c "select string_agg(id || ':' || subject, '|' order by id) from tickets")" \
	"ticket ids and subjects kept"
# each attachment once: a range of its raw blob (issue 18) or a blob of its own
dg_assert_eq "$(sqlite "select count(*) from attachments")" \
	"$(dg_pg_psql -At -c "select (select count(*) from blobs where kind = 1) +
		(select count(*) from blob_ranges)")" "attachment blobs"
dg_assert_eq "$(sqlite "select count(*) from blob_ranges")" \
	"$(dg_pg_psql -At -c "select count(*) from blob_ranges")" "attachment ranges copied as ranges"

dg_log "2. the PostgreSQL desk shows what the SQLite desk showed"
pgconf=$(pg_conf deskgate)
show_pg() {
	local id
	"$deskgate" -c "$pgconf" -q ticket list
	for id in $(sqlite "select id from tickets order by id"); do
		"$deskgate" -c "$pgconf" -q ticket show "$id"
	done
}
show_pg >"$DG_ROOT/show.pg" 2>>"$log" || dg_fail "ticket show on PostgreSQL"
# The SLA lines count down from now ("14h 12m left"): the two runs may
# straddle a minute, so the countdowns are compared without their value.
for f in "$DG_ROOT/show.sqlite" "$DG_ROOT/show.pg"; do
	sed -E 's/, late by [0-9dhm ]+$/, late by T/; s/, [0-9dhm ]+ left$/, T left/' "$f" >"$f.cmp"
done
diff -u "$DG_ROOT/show.sqlite.cmp" "$DG_ROOT/show.pg.cmp" || dg_fail "the desks show differently"
"$deskgate" -c "$pgconf" -q quarantine show 1 --raw >"$DG_ROOT/raw.out" 2>>"$log" ||
	dg_fail "quarantine show on PostgreSQL"
cmp -s "$DG_ROOT/raw.out" "$mail/06-broken-deep-nesting.eml" || dg_fail "quarantined raw mail not byte for byte"

dg_log "3. a second run copies nothing and verifies"
mig --to "$DG_PG_URL" >"$DG_ROOT/m2.out"
dg_assert_eq 0 "$?" "second run exit"
dg_assert_eq 0 "$(copied "$DG_ROOT/m2.out")" "rows copied by the second run"
grep -q "^verified" "$DG_ROOT/m2.out" || dg_fail "second run not verified"

dg_log "   run --once on the PostgreSQL desk; a new ticket's id follows the copied ones"
"$deskgate" -c "$pgconf" run --once >>"$gw/run-pg.log" 2>&1 || dg_fail "run --once on PostgreSQL: $(tail -5 "$gw/run-pg.log")"
printf '%s\r\n' "From: Erik <erik@example.org>" "To: $support" "Subject: After the move" \
	"Date: Tue, 01 Dec 2026 10:00:00 +0000" "Message-ID: <after-migrate@example.org>" \
	"Content-Type: text/plain; charset=utf-8" "" "Hello, my deposit has not arrived." >"$DG_ROOT/new.eml"
out=$("$deskgate" -c "$pgconf" -q ingest "$DG_ROOT/new.eml" 2>>"$log")
dg_assert_eq "ticket $((tickets + 1)): new" "$(printf '%s' "$out" | sed 's/ (.*//')" "new ticket id on PostgreSQL"

dg_log "4. killed with SIGKILL midway, then resumed"
dg_pg_psql_admin -q -c "CREATE DATABASE deskgate_kill" || dg_fail "create database"
# The kill must land midway however fast the copy is: the schema is made
# first (opening the store migrates it), and each message row then takes
# 0.5 s to insert (a trigger), so the copy is still among the messages
# when the test sees the second one. The trigger goes before the resume.
killconf=$(pg_conf deskgate_kill)
"$deskgate" -c "$killconf" -q ticket list >/dev/null 2>>"$log" || dg_fail "schema of deskgate_kill"
killsql() {
	PGPASSWORD=$DG_PG_PASSWORD psql -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DG_PG_PORT" \
		-U "$DG_PG_USER" -d deskgate_kill "$@"
}
killsql -q -c "CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END \$\$;
	CREATE TRIGGER test_slow BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION test_slow();" ||
	dg_fail "slow trigger"
total=$(awk 'NR > 1 && $2 ~ /^[0-9]+$/ { n += $2 } END { print n + 0 }' "$DG_ROOT/m1.out")
"$deskgate" -c "$conf" store migrate --to "$(pg_url deskgate_kill)" --batch 1 \
	>"$DG_ROOT/m-kill.out" 2>>"$log" &
pid=$!
partial() {
	[ "$(PGPASSWORD=$DG_PG_PASSWORD psql -X -At -h 127.0.0.1 -p "$DG_PG_PORT" -U "$DG_PG_USER" \
		-d deskgate_kill -c 'select count(*) from messages' 2>/dev/null || echo 0)" -ge 2 ]
}
dg_wait_for 30 partial || dg_fail "the killed run never reached messages"
kill -9 $pid
wait $pid 2>/dev/null
killsql -q -c "DROP TRIGGER test_slow ON messages; DROP FUNCTION test_slow();" || dg_fail "drop slow trigger"
mig --to "$(pg_url deskgate_kill)" --verify-only >"$DG_ROOT/m-verify.out"
rc=$?
cat "$DG_ROOT/m-verify.out"
dg_assert_eq 1 "$rc" "verify-only of a partial copy"
grep -q MISMATCH "$DG_ROOT/m-verify.out" || dg_fail "no mismatch shown for the partial copy"
mig --to "$(pg_url deskgate_kill)" >"$DG_ROOT/m-resume.out"
dg_assert_eq 0 "$?" "resumed run exit"
grep -q "^verified" "$DG_ROOT/m-resume.out" || dg_fail "resumed copy not verified"
resumed=$(copied "$DG_ROOT/m-resume.out")
dg_log "resume copied $resumed of $total rows and blobs"
[ "$resumed" -gt 0 ] && [ "$resumed" -lt "$total" ] || dg_fail "resume copied $resumed of $total"

dg_log "5. another desk's data, and a table the copier does not know, are refused"
dg_pg_psql_admin -q -c "CREATE DATABASE deskgate_other" || dg_fail "create database"
otherconf=$(pg_conf deskgate_other)
"$deskgate" -c "$otherconf" -q ingest "$mail/03-de-account-locked.eml" >/dev/null 2>>"$log" ||
	dg_fail "ingest into the other desk"
mig --to "$(pg_url deskgate_other)" >"$DG_ROOT/m-other.out"
dg_assert_eq 65 "$?" "another desk refused"
tail -1 "$log" | grep -q "another desk's data" || dg_fail "refusal not clear: $(tail -1 "$log")"
dg_assert_eq 1 "$(PGPASSWORD=$DG_PG_PASSWORD psql -X -At -h 127.0.0.1 -p "$DG_PG_PORT" \
	-U "$DG_PG_USER" -d deskgate_other -c 'select count(*) from tickets')" "the other desk untouched"
dg_pg_psql -q -c "CREATE TABLE holds (id BIGINT PRIMARY KEY)" || dg_fail "create table"
mig --to "$DG_PG_URL" >/dev/null
dg_assert_eq 65 "$?" "an unknown table refused"
tail -1 "$log" | grep -q 'table "holds" is not known to the copier' || dg_fail "unknown table not named: $(tail -1 "$log")"

dg_log "5b. --blob-dir: the migrated blobs are files there, the desk reads them"
dg_pg_psql_admin -q -c "CREATE DATABASE deskgate_files" || dg_fail "create database"
mig --to "$(pg_url deskgate_files)" --blob-dir "$gw/blobs" >"$DG_ROOT/m-files.out"
dg_assert_eq 0 "$?" "migrate with --blob-dir exit"
grep -q "^verified: every table and blob matches" "$DG_ROOT/m-files.out" || dg_fail "--blob-dir: not verified"
fpsql() {
	PGPASSWORD=$DG_PG_PASSWORD psql -X -At -h 127.0.0.1 -p "$DG_PG_PORT" -U "$DG_PG_USER" \
		-d deskgate_files -c "$1"
}
# every blob a file (the rows name them and hold no bytes), none a row with its bytes
nblobs=$(fpsql "select count(*) from blobs")
[ "$nblobs" -gt 0 ] || dg_fail "--blob-dir: no blob rows"
dg_assert_eq 0 "$(fpsql "select count(*) from blobs where octet_length(data) > 0")" "blob rows holding bytes"
dg_assert_eq "$nblobs" "$(find "$gw/blobs" -type f | wc -l)" "blob files under --blob-dir"
filesconf=$(pg_conf deskgate_files)
printf 'blob_dir = %s\n' "$gw/blobs" >>"$filesconf"
"$deskgate" -c "$filesconf" -q quarantine show 1 --raw >"$DG_ROOT/raw-files.out" 2>>"$log" ||
	dg_fail "quarantine show from blob_dir"
cmp -s "$DG_ROOT/raw-files.out" "$mail/06-broken-deep-nesting.eml" || dg_fail "raw mail from blob_dir not byte for byte"
# a SQLite destination has no blob_dir: refused, saying why
mig --to "$gw/other.db" --blob-dir "$gw/blobs2" >/dev/null
dg_assert_eq 64 "$?" "--blob-dir with a SQLite destination"
tail -1 "$log" | grep -q "blob_dir: SQLite" || dg_fail "--blob-dir on SQLite not explained: $(tail -1 "$log")"

dg_log "6. [store]: password_file must be private; url and [general] database not both"
chmod 644 "$gw/pg.password"
err=$("$deskgate" -c "$pgconf" -q ticket list 2>&1 >/dev/null)
case $err in *"pg-deskgate.conf:"[0-9]*": password_file "*"others may read it"*) ;;
*) dg_fail "a readable password_file: $err" ;; esac
chmod 600 "$gw/pg.password"
sed "/^\[general\]/a database = $gw/deskgate.db" "$pgconf" >"$gw/both.conf"
err=$("$deskgate" -c "$gw/both.conf" -q ticket list 2>&1 >/dev/null)
case $err in *"both.conf:"[0-9]*": [store] url and the deprecated [general] database"*) ;;
*) dg_fail "url and database both set: $err" ;; esac
sed "/^\[general\]/a database = $gw/deskgate.db" "$conf" >"$gw/old.conf"
err=$("$deskgate" -c "$gw/old.conf" ticket list 2>&1 >/dev/null)
dg_assert_eq 1 "$(printf '%s\n' "$err" | grep -c '\[general\] database is deprecated: use \[store\] url')" \
	"the deprecated [general] database warned once"

dg_log "7. no password anywhere"
if grep -rqF -e "$DG_PG_PASSWORD" "$log" "$DG_ROOT"/m*.out "$gw/run-pg.log" "$DG_ROOT"/show.*; then
	dg_fail "the password in the output or log"
fi
dg_log "ok"
