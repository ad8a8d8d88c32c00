#!/bin/bash
# test-outbox-stall: a relay that hangs does not hold up the mailboxes
# (issue 18). The relay (tests/harness/smtpfault.py --stall-for 60) takes
# connections but greets only after 60 s. A customer's mail arrives; its
# acknowledgement goes to the relay and hangs there. A second customer's
# mail, delivered meanwhile, must be committed within 2.5 s (before the
# outbox had its own thread, the poller waited for the relay, up to
# [smtp] timeout). Once the relay greets, both acknowledgements leave,
# each exactly once, and SIGTERM stops the daemon cleanly.
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-outbox-stall

STALL=60
mkmsg() { # FILE N
	printf 'From: customer%d@example.net\r\nTo: support@example.test\r\nSubject: stall test %d\r\nMessage-ID: <stall-%d@example.net>\r\n\r\nmy order %d is stuck\r\n' \
		"$2" "$2" "$2" "$2" >"$1"
}
has_msgid() { [ "$(sql "$1" "select count(*) from messages where message_id = '$2'")" = 1 ]; }
spooled() { ls "$DG_ROOT/relay/spool"/*.eml 2>/dev/null | wc -l; }
spooled_is() { [ "$(spooled)" = "$1" ]; }
sending() { [ "$(sql "$G" "select count(*) from outbox where status = 'sending'")" -ge 1 ]; }

. "$top_srcdir/tests/harness/smtpfault.sh"
SPORT=$(dg_free_port)
smtpfault_start relay "$SPORT" --stall-for "$STALL"

G=$DG_ROOT/gw
GW_ACK=yes gw_new "$G"
# the relay: plain SMTP on loopback, and a timeout longer than the stall,
# so that the hanging attempt itself succeeds once the relay greets
sed -i "/^\[smtp\]/a host = 127.0.0.1\nport = $SPORT\nsecurity = none\ntimeout = 90s" \
	"$G/deskgate.conf"
gw_start "$G"
dg_wait_for 10 grep -qs "connected to" "$G/run.log" || { tail -30 "$G/run.log"; dg_fail "no connection"; }

mkmsg "$DG_ROOT/m1.eml" 1
deliver "$DG_ROOT/m1.eml"
dg_wait_for 5 has_msgid "$G" "stall-1@example.net" || { tail -30 "$G/run.log"; dg_fail "first mail not stored"; }
# its acknowledgement is in flight at the hanging relay
dg_wait_for 5 sending || { tail -30 "$G/run.log"; dg_fail "the acknowledgement never went to the relay"; }
sleep 1
dg_assert_eq 0 "$(spooled)" "messages at the relay while it hangs"

mkmsg "$DG_ROOT/m2.eml" 2
t0=$(dg_lmtp_deliver_at "$USER1" "$DG_ROOT/m2.eml") || dg_fail "LMTP delivery failed"
dg_wait_for 10 has_msgid "$G" "stall-2@example.net" ||
	{ tail -30 "$G/run.log"; dg_fail "mail not stored within 10 s while the relay hangs"; }
ms=$(python3 -c "print(int(($(dg_now) - $t0) * 1000))")
dg_log "relay hanging: delivery -> committed ticket in ${ms} ms"
[ "$ms" -lt 2500 ] || dg_fail "with the relay hanging, the mail took ${ms} ms to be committed (limit 2500)"
dg_assert_eq 0 "$(spooled)" "messages at the relay while it hangs"

# the relay greets again: each acknowledgement leaves once
dg_wait_for $((STALL + 30)) spooled_is 2 || { tail -30 "$G/run.log"; dg_fail "acknowledgements not sent after the relay came back: $(spooled)"; }
sleep 3
dg_assert_eq 2 "$(spooled)" "acknowledgements at the relay"
for n in 1 2; do
	dg_assert_eq 1 "$(grep -l "^To: .*customer$n@example.net" "$DG_ROOT/relay/spool"/*.eml | wc -l)" \
		"acknowledgements to customer $n"
done
dg_assert_eq "2|0" "$(sql "$G" "select count(*), sum(attempts != 1) from outbox where status = 'sent'")" \
	"rows sent, each in one attempt"
gw_stop
dg_assert_eq 0 "$GW_RC" "exit code after SIGTERM"
dg_log "both acknowledgements sent once after the relay came back"
