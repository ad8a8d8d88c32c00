#!/bin/bash
# test-outbox-keep: the daemon's outbox thread keeps its relay connection
# from one queue run to the next and closes it after [smtp] idle_timeout
# (gateway/outbox-worker.c). Two customers write 1.5 s apart: both
# acknowledgements go over one SMTP session (before: one session per queue
# run); with nothing more to send the session ends with QUIT after the
# idle time; a third customer's acknowledgement opens a new one. The relay
# (tests/harness/smtpfault.py) logs each session ("ehlo N", "quit N").
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-outbox-keep

IDLE=4
mkmsg() { # FILE N
	printf 'From: customer%d@example.net\r\nTo: support@example.test\r\nSubject: keep test %d\r\nMessage-ID: <keep-%d@example.net>\r\n\r\nmy order %d is stuck\r\n' \
		"$2" "$2" "$2" "$2" >"$1"
}
spooled() { ls "$DG_ROOT/relay/spool"/*.eml 2>/dev/null | wc -l; }
spooled_is() { [ "$(spooled)" = "$1" ]; }
sessions() { grep -c '^ehlo ' "$DG_ROOT/relay/server.log"; }
quits() { grep -c '^quit ' "$DG_ROOT/relay/server.log"; }
quits_is() { [ "$(quits)" = "$1" ]; }

. "$top_srcdir/tests/harness/smtpfault.sh"
SPORT=$(dg_free_port)
smtpfault_start relay "$SPORT"

G=$DG_ROOT/gw
GW_ACK=yes gw_new "$G"
sed -i "/^\[smtp\]/a host = 127.0.0.1\nport = $SPORT\nsecurity = none\nidle_timeout = ${IDLE}s" \
	"$G/deskgate.conf"
gw_start "$G"
dg_wait_for 10 grep -qs "connected to" "$G/run.log" || { tail -30 "$G/run.log"; dg_fail "no connection"; }

mkmsg "$DG_ROOT/m1.eml" 1
deliver "$DG_ROOT/m1.eml"
dg_wait_for 10 spooled_is 1 || { tail -30 "$G/run.log"; dg_fail "first acknowledgement not sent"; }
sleep 1.5
mkmsg "$DG_ROOT/m2.eml" 2
deliver "$DG_ROOT/m2.eml"
dg_wait_for 10 spooled_is 2 || { tail -30 "$G/run.log"; dg_fail "second acknowledgement not sent"; }
dg_assert_eq 1 "$(sessions)" "SMTP sessions for two acknowledgements 1.5 s apart"
dg_assert_eq 0 "$(quits)" "sessions ended before idle_timeout"

# idle: closed with QUIT after idle_timeout (the thread's wait ends in time)
t0=$(dg_now)
dg_wait_for $((IDLE + 4)) quits_is 1 || { tail -30 "$G/run.log"; dg_fail "the idle session was not closed"; }
ms=$(python3 -c "print(int(($(dg_now) - $t0) * 1000))")
dg_log "idle session closed ${ms} ms after the second acknowledgement (idle_timeout ${IDLE} s)"

mkmsg "$DG_ROOT/m3.eml" 3
deliver "$DG_ROOT/m3.eml"
dg_wait_for 10 spooled_is 3 || { tail -30 "$G/run.log"; dg_fail "third acknowledgement not sent"; }
dg_assert_eq 2 "$(sessions)" "SMTP sessions after the idle close"
for n in 1 2 3; do
	dg_assert_eq 1 "$(grep -l "^To: .*customer$n@example.net" "$DG_ROOT/relay/spool"/*.eml | wc -l)" \
		"acknowledgements to customer $n"
done
gw_stop
dg_assert_eq 0 "$GW_RC" "exit code after SIGTERM"
dg_assert_eq 2 "$(quits)" "sessions ended with QUIT (the last at shutdown)"
dg_log "one session while busy, closed when idle, reopened for the next"
