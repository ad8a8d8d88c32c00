#!/bin/bash
# test-outbox-overlap: a row's outcome commits while the next row goes out
# (issue 18), and the next row's end of data waits for that commit. The
# relay (tests/harness/smtpfault.py --lock-db) holds the store's write lock
# for a while from just before it answers the first message's end of data,
# so the outbox's commit of that outcome waits for the lock; the relay logs
# each MAIL FROM and end of data with the time.
# 1. Five mails in one run: the second MAIL FROM comes while the lock is
#    held (the first outcome not yet committed; before, nothing went out
#    until it was), and the second end of data only after the lock is
#    released (the contract: at most one mail delivered with its outcome
#    not recorded). Each mail at the relay once.
# 2. SIGKILL while the second body is held back: the relay never got the
#    second mail's end of data; the next run sends everything, and only the
#    first (delivered, its outcome never committed) twice, byte for byte.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/harness/lib.sh"
dg_root_init test-outbox-overlap
dg_require_cmd python3
tool=$builddir/tests/integration/smtp-tool
[ -x "$tool" ] || dg_fail "$tool not built"
. "$srcdir/tests/harness/smtpfault.sh"

spooled() { ls "$DG_ROOT/$1/spool"/*.eml 2>/dev/null | wc -l; }
# at NAME WHAT: the time the relay logged WHAT ("unlock", "mail 2"), or ""
at() { awk -v w="$2" '{ t = $NF; $NF = ""; sub(/ $/, ""); if ($0 == w) { print t; exit } }' \
	"$DG_ROOT/$1/server.log"; }
logged() { [ -n "$(at "$1" "$2")" ]; }
before() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }
statuses() {
	python3 - "$DG_ROOT/$1/state/deskgate.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(" ".join(s for (s,) in db.execute("SELECT status FROM outbox ORDER BY id")))
PY
}
# copies NAME: how many copies of each Message-ID the relay took, in order
copies() {
	grep -hi '^message-id:' "$DG_ROOT/$1/spool"/*.eml | tr -d '\r' | sort | uniq -c |
		awk '{ print $1 }' | sort | tr '\n' ' ' | sed 's/ $//'
}

# setup NAME COUNT SECONDS: COUNT mails queued in a store of their own, a
# relay that holds its lock SECONDS after the first; sets $c
setup() {
	local p
	p=$(dg_free_port)
	c=$(smtpfault_conf "$1" "$p")
	"$tool" queue -c "$c" --count "$2" --to alice@example.net --subject "$1" --text x \
		>/dev/null || dg_fail "queueing failed"
	smtpfault_start "$1" "$p" --log-commands --lock-db "$DG_ROOT/$1/state/deskgate.db:$3"
}

dg_log "the next mail's transaction overlaps the commit; its end of data waits for it"
setup ov 5 2
out=$("$tool" run -c "$c")
dg_assert_eq "sent=5 deferred=0 failed=0 relay_down=0 more=0" "$out" "the run"
dg_assert_eq 5 "$(spooled ov)" "messages at the relay"
dg_assert_eq "1 1 1 1 1" "$(copies ov)" "copies of each Message-ID"
lock=$(at ov lock) unlock=$(at ov unlock) mail2=$(at ov "mail 2") dot2=$(at ov "dot 2")
dg_log "lock $lock, mail 2 $mail2, unlock $unlock, dot 2 $dot2"
[ -n "$lock" ] && [ -n "$unlock" ] && [ -n "$mail2" ] && [ -n "$dot2" ] ||
	{ cat "$DG_ROOT/ov/server.log"; dg_fail "relay log incomplete"; }
before "$mail2" "$unlock" ||
	dg_fail "the second MAIL FROM came only after the first outcome could commit (no overlap)"
before "$unlock" "$dot2" ||
	dg_fail "the second end of data came before the first outcome could commit"

dg_log "SIGKILL while the next body is held back: sent again at most the one delivered"
setup kill 3 4
"$tool" run -c "$c" >/dev/null 2>&1 &
runpid=$!
dg_wait_for 10 logged kill "mail 2" || { cat "$DG_ROOT/kill/server.log"; dg_fail "no second MAIL FROM"; }
sleep 1 # the second body goes out but for its last byte
logged kill unlock && dg_fail "the lock was released too early for this test (busy machine?)"
kill -KILL "$runpid"
{ wait "$runpid"; } 2>/dev/null
logged kill "dot 2" && dg_fail "the second end of data went out before the first outcome committed"
dg_assert_eq 1 "$(spooled kill)" "messages at the relay after the kill"
dg_wait_for 10 logged kill unlock || dg_fail "the relay never released the lock"
dg_assert_eq "sending sending sending" "$(statuses kill)" "rows after the kill"
out=$("$tool" run -c "$c")
dg_assert_eq "sent=3 deferred=0 failed=0 relay_down=0 more=0" "$out" "the run after the kill"
dg_assert_eq "sent sent sent" "$(statuses kill)" "rows"
dg_assert_eq 4 "$(spooled kill)" "messages at the relay"
dg_assert_eq "1 1 2" "$(copies kill)" "copies of each Message-ID"
cmp -s "$DG_ROOT/kill/spool/0001.eml" "$DG_ROOT/kill/spool/0002.eml" ||
	dg_fail "the first mail was not the one sent again, byte for byte"
dg_log "overlap and crash scenarios passed"
