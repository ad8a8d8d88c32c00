#!/bin/bash
# test-smtp-fault: the outbox's delivery policy against a scripted SMTP
# server that fails on purpose (tests/harness/smtpfault.py): 4xx then
# success, 5xx at RCPT and after DATA, a refused greeting, a dropped
# connection, the relay down then back, a crash while a message is in
# flight (sent again with the same Message-ID), XOAUTH2 with a token
# that has to be fetched again, and recipients one by one (one refused at
# RCPT does not stop the other; a deferred one is retried alone). Times given to `smtp-tool run --now` are
# simulated; nothing sleeps for a backoff.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/harness/lib.sh"
dg_root_init test-smtp-fault
dg_require_cmd python3
tool=$builddir/tests/integration/smtp-tool
deskgate=${DESKGATE:-$builddir/deskgate}
[ -x "$tool" ] || dg_fail "$tool not built"

. "$srcdir/tests/harness/smtpfault.sh"

# conf NAME PORT [extra smtp lines]: a configuration with its own store
conf() {
	local name=$1 port=$2
	shift 2
	smtpfault_conf "$name" "$port" 'retry_initial = 10s' 'retry_max_age = 1h' "$@"
}

# server NAME PORT ARGS...: start smtpfault.py, spool in $DG_ROOT/NAME/spool
server() {
	smtpfault_start "$@"
}

stop_server() {
	local pid
	pid=$(cat "$DG_ROOT/$1/server.realpid")
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

spooled() {
	ls "$DG_ROOT/$1/spool"/*.eml 2>/dev/null | wc -l
}

spooled_is() {
	[ "$(spooled "$1")" = "$2" ]
}

# status CONF ID: "status attempts last_code"
status() {
	"$deskgate" -c "$1" outbox list --json | python3 -c '
import json, sys
for o in json.load(sys.stdin):
    if o["id"] == int(sys.argv[1]):
        print(o["status"], o["attempts"], o["last_code"] or "-")' "$2"
}

queue() {
	local c=$1
	shift
	"$tool" queue -c "$c" --to alice@example.net --subject 'Ticket received' \
		--text 'We got it.' --new-ticket --now "$now" "$@" | cut -d' ' -f1
}

now=$(date +%s)

dg_log "4xx at RCPT, then success"
p=$(dg_free_port)
server t4xx "$p" --fault rcpt=451:1
c=$(conf t4xx "$p")
id=$(queue "$c")
out=$("$tool" run -c "$c" --now "$now")
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=0 more=0" "$out" "first run"
dg_assert_eq "queued 1 451 4.3.0" "$(status "$c" "$id")" "after the 451"
out=$("$tool" run -c "$c" --now "$now")
dg_assert_eq "sent=0 deferred=0 failed=0 relay_down=0 more=0" "$out" "not due yet"
out=$("$tool" run -c "$c" --now $((now + 10)))
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "retry"
dg_assert_eq "sent 2 250 2.0.0" "$(status "$c" "$id")" "after the retry"
dg_assert_eq 1 "$(spooled t4xx)" "messages received"
"$deskgate" -c "$c" ticket show 1 | grep -q 'mail-deferred' || dg_fail "no mail-deferred event"
"$deskgate" -c "$c" ticket show 1 | grep -q 'mail-sent' || dg_fail "no mail-sent event"

dg_log "5xx at RCPT and after DATA: permanent"
p=$(dg_free_port)
server t5xx "$p" --fault rcpt=550:1 --fault data=554:1
c=$(conf t5xx "$p")
id1=$(queue "$c")
id2=$(queue "$c")
out=$("$tool" run -c "$c" --now "$now")
dg_assert_eq "sent=0 deferred=0 failed=2 relay_down=0 more=0" "$out" "5xx run"
dg_assert_eq "failed 1 550 5.1.1" "$(status "$c" "$id1")" "5xx at RCPT"
dg_assert_eq "failed 1 554 5.7.1" "$(status "$c" "$id2")" "5xx after DATA"
dg_assert_eq 0 "$(spooled t5xx)" "messages received"
"$deskgate" -c "$c" outbox show "$id1" | grep -q 'injected RCPT failure' || dg_fail "no reply text"
# an operator retry sends it (the server now accepts)
"$deskgate" -c "$c" outbox retry "$id1" >/dev/null || dg_fail "outbox retry"
out=$("$tool" run -c "$c")
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "after retry"
"$deskgate" -c "$c" outbox cancel "$id1" >/dev/null 2>&1 && dg_fail "cancelled a sent message"

dg_log "greeting 421 and a dropped connection: temporary, the queue pauses"
p=$(dg_free_port)
server t421 "$p" --fault greet=421:1 --fault drop=mail
c=$(conf t421 "$p")
queue "$c" >/dev/null
queue "$c" >/dev/null
out=$("$tool" run -c "$c" --now "$now")
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=1 more=0" "$out" "421 greeting"
out=$("$tool" run -c "$c" --now $((now + 10)))
case "$out" in
"sent=0 deferred=1 failed=0 relay_down="*) ;;
*) dg_fail "dropped connection: $out" ;;
esac
"$deskgate" -c "$c" outbox list | grep -q queued || dg_fail "messages must stay queued"

dg_log "relay down, then back"
p=$(dg_free_port)
c=$(conf tdown "$p")
id=$(queue "$c")
out=$("$tool" run -c "$c" --now "$now")
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=1 more=0" "$out" "relay down"
server tdown "$p"
out=$("$tool" run -c "$c" --now $((now + 10)))
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "relay back"
dg_assert_eq 1 "$(spooled tdown)" "messages received"

dg_log "crash while in flight: sent again, same Message-ID"
p=$(dg_free_port)
server tcrash "$p" --fault stall=data:1
c=$(conf tcrash "$p")
read -r id msgid < <("$tool" queue -c "$c" --to alice@example.net --subject crash --text x \
	--new-ticket --now "$now")
"$tool" run -c "$c" >/dev/null 2>&1 &
runpid=$!
dg_wait_for 10 spooled_is tcrash 1 || dg_fail "the relay never got the message"
kill -KILL "$runpid"
{ wait "$runpid"; } 2>/dev/null
dg_assert_eq "sending 1 -" "$(status "$c" "$id")" "row left in flight"
out=$("$tool" run -c "$c")
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "after the crash"
dg_assert_eq "sent 2 250 2.0.0" "$(status "$c" "$id")" "resent"
dg_assert_eq 2 "$(spooled tcrash)" "copies at the relay"
a=$(grep -i '^message-id:' "$DG_ROOT/tcrash/spool/0001.eml" | tr -d '\r')
b=$(grep -i '^message-id:' "$DG_ROOT/tcrash/spool/0002.eml" | tr -d '\r')
dg_assert_eq "Message-ID: <$msgid>" "$a" "first copy's Message-ID"
dg_assert_eq "$a" "$b" "the duplicate carries the same Message-ID"
cmp -s "$DG_ROOT/tcrash/spool/0001.eml" "$DG_ROOT/tcrash/spool/0002.eml" ||
	dg_fail "the duplicate is not byte-identical"

dg_log "crash between queueing and sending: sent exactly once"
p=$(dg_free_port)
server tqueued "$p"
c=$(conf tqueued "$p")
id=$(queue "$c")
# the process that queued is gone; a new one sends, twice in a row
"$tool" run -c "$c" >/dev/null
"$tool" run -c "$c" >/dev/null
dg_assert_eq 1 "$(spooled tqueued)" "copies at the relay"
dg_assert_eq "sent 1 250 2.0.0" "$(status "$c" "$id")" "sent once"

dg_log "XOAUTH2: a stale token is fetched again"
p=$(dg_free_port)
server toauth "$p" --xoauth2 good-token
cat >"$DG_ROOT/token.sh" <<EOF
#!/bin/sh
n=\$(cat "$DG_ROOT/token.count" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$DG_ROOT/token.count"
[ "\$n" = 0 ] && echo stale-token || echo good-token
EOF
chmod +x "$DG_ROOT/token.sh"
c=$(conf toauth "$p" "auth = xoauth2" "username = support@example.test" \
	"token_command = $DG_ROOT/token.sh")
id=$(queue "$c")
out=$("$tool" run -c "$c")
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "xoauth2"
dg_assert_eq 2 "$(cat "$DG_ROOT/token.count")" "token_command runs"

dg_log "one recipient refused at RCPT: the other still gets it (not the whole message failed)"
p=$(dg_free_port)
server trcpt "$p" --fault rcpt=550:1
c=$(conf trcpt "$p")
id=$(queue "$c" --cc bob@example.net)
out=$("$tool" run -c "$c" --now "$now")
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "one of two refused"
dg_assert_eq "sent 1 250 2.0.0" "$(status "$c" "$id")" "the row"
dg_assert_eq 1 "$(spooled trcpt)" "messages received"
dg_assert_eq "rcpt=<bob@example.net>" "$(grep '^rcpt=' "$DG_ROOT/trcpt/spool/0001.env")" "the envelope"
show=$("$deskgate" -c "$c" outbox show "$id")
echo "$show" | grep -q "recipient alice@example.net: failed 550 5.1.1 smtpfault: injected RCPT failure" ||
	dg_fail "alice's result: $show"
echo "$show" | grep -q "recipient bob@example.net: sent 250 2.0.0" || dg_fail "bob's result: $show"
"$deskgate" -c "$c" ticket show 1 | grep -q 'mail-sent.*not delivered to alice@example.net (550 5.1.1' ||
	dg_fail "the event does not name the refused recipient"

dg_log "one recipient deferred (4xx at RCPT): the retry is for that one alone"
p=$(dg_free_port)
server trcpt4 "$p" --fault rcpt=451:1
c=$(conf trcpt4 "$p")
id=$(queue "$c" --cc bob@example.net)
out=$("$tool" run -c "$c" --now "$now")
dg_assert_eq "sent=0 deferred=1 failed=0 relay_down=0 more=0" "$out" "one of two deferred"
dg_assert_eq "queued 1 451 4.3.0" "$(status "$c" "$id")" "the row waits for alice"
dg_assert_eq "rcpt=<bob@example.net>" "$(grep '^rcpt=' "$DG_ROOT/trcpt4/spool/0001.env")" "first envelope"
out=$("$tool" run -c "$c" --now $((now + 10)))
dg_assert_eq "sent=1 deferred=0 failed=0 relay_down=0 more=0" "$out" "the retry"
dg_assert_eq 2 "$(spooled trcpt4)" "copies received (one per recipient, none twice)"
dg_assert_eq "rcpt=<alice@example.net>" "$(grep '^rcpt=' "$DG_ROOT/trcpt4/spool/0002.env")" "second envelope"
dg_assert_eq "sent 2 250 2.0.0" "$(status "$c" "$id")" "the row after the retry"

dg_log "all fault scenarios passed"
