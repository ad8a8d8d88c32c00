#!/bin/bash
# `deskgate run` speaks the service manager's notification protocol to a
# real datagram socket (tests/harness/dgramsock.py, what systemd's end
# does), with a real Dovecot mailbox and one whose server is down:
#   READY=1 from the daemon's own pid, once it is loaded; STATUS= naming
#   each mailbox's state; WATCHDOG=1 at half of WATCHDOG_USEC; on SIGHUP
#   RELOADING=1 (with MONOTONIC_USEC) then READY=1; on SIGTERM STOPPING=1
#   once, and exit 0. An abstract socket name works too; no WATCHDOG=1
#   without WATCHDOG_USEC or for another WATCHDOG_PID; a configuration the
#   daemon cannot serve exits 78 without READY=1.
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-ops-notify
dg_require_cmd python3
NOTIFYSOCK="python3 $top_srcdir/tests/harness/dgramsock.py notify"

G=$DG_ROOT/gw
gw_new "$G"
down=$(dg_free_port)
cat >>"$G/deskgate.conf" <<CONF

[mailbox broken]
host = 127.0.0.1
port = $down
security = none
username = nobody@example.test
password = x
timeout = 2
CONF

sock_start() { # ADDRESS LOG
	$NOTIFYSOCK "$1" "$2" 120 &
	SOCK_PID=$!
	dg_on_exit "kill $SOCK_PID 2>/dev/null"
	dg_wait_for 5 test -f "$2" || dg_fail "the notification socket did not start"
}
# has LOG REGEX: a datagram line matching
has() { grep -qE "$2" "$1"; }
count() { grep -cE "$2" "$1"; }

log=$DG_ROOT/notify.log
sock_start "$DG_ROOT/notify" "$log"
export NOTIFY_SOCKET=$DG_ROOT/notify WATCHDOG_USEC=2000000
gw_start "$G"
unset NOTIFY_SOCKET WATCHDOG_USEC

dg_wait_for 10 has "$log" ' READY=1$' || dg_fail "no READY=1: $(cat "$log"; tail -5 "$G/run.log")"
pid=$(grep -m1 ' READY=1$' "$log" | cut -d' ' -f1)
dg_assert_eq "$GW_PID" "$pid" "READY=1 sent by"
dg_log "READY=1 from $pid"

status_ok() { has "$log" 'STATUS=.*support idle.*broken backoff after [0-9]+ failure'; }
dg_wait_for 15 status_ok || dg_fail "no STATUS= with both mailboxes: $(grep STATUS "$log")"
dg_log "$(grep STATUS= "$log" | tail -1 | cut -d' ' -f3-)"
grep 'STATUS=' "$log" | grep -q 'outbox 0 queued' || dg_fail "STATUS= lacks the outbox"

# the watchdog: at least 4 pings over ~4 s, never more than 1.6 s apart
sleep 4
pings=$(grep ' WATCHDOG=1$' "$log" | awk '{print $2}')
n=$(echo "$pings" | grep -c .)
[ "$n" -ge 4 ] || dg_fail "only $n WATCHDOG=1 in $SECONDS s"
gap=$(echo "$pings" | awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { printf "%.2f", m }')
awk -v g="$gap" 'BEGIN { exit !(g <= 1.6) }' || dg_fail "WATCHDOG=1 gap $gap s (WATCHDOG_USEC=2 s)"
dg_log "$n watchdog pings, largest gap $gap s"

# reload: RELOADING=1 with the monotonic time, then READY=1 again
before=$(count "$log" ' READY=1$')
kill -HUP "$GW_PID"
reloaded() { [ "$(count "$log" ' READY=1$')" -gt "$before" ]; }
dg_wait_for 10 reloaded || dg_fail "no READY=1 after SIGHUP: $(tail -5 "$log")"
grep -qE ' RELOADING=1\|MONOTONIC_USEC=[0-9]+$' "$log" || dg_fail "no RELOADING=1: $(cat "$log")"
r_line=$(grep -n 'RELOADING=1' "$log" | tail -1 | cut -d: -f1)
ready_after=$(awk -v r="$r_line" 'NR > r && / READY=1$/' "$log" | wc -l)
[ "$ready_after" -ge 1 ] || dg_fail "READY=1 did not follow RELOADING=1"
dg_log "reload: RELOADING=1 then READY=1"

gw_stop
dg_assert_eq 0 "$GW_RC" "exit status after SIGTERM"
dg_assert_eq 1 "$(count "$log" ' STOPPING=1$')" "STOPPING=1 datagrams"
dg_log "STOPPING=1, exit 0"
kill "$SOCK_PID" 2>/dev/null
wait "$SOCK_PID" 2>/dev/null

# an abstract name; no watchdog without WATCHDOG_USEC, nor for another pid
log2=$DG_ROOT/notify2.log
sock_start "@deskgate-test-$$" "$log2"
export NOTIFY_SOCKET=@deskgate-test-$$ WATCHDOG_USEC=1000000 WATCHDOG_PID=1
gw_start "$G"
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
dg_wait_for 10 has "$log2" ' READY=1$' || dg_fail "abstract socket: no READY=1"
sleep 2.5
gw_stop
dg_assert_eq 0 "$(count "$log2" 'WATCHDOG=1')" "WATCHDOG=1 for WATCHDOG_PID=1"
dg_assert_eq 1 "$(count "$log2" ' STOPPING=1$')" "abstract socket: STOPPING=1"
dg_log "abstract socket: READY=1, STOPPING=1, no watchdog for another pid"

# a daemon that cannot serve its configuration says so and is not READY
log3=$DG_ROOT/notify3.log
sock_start "$DG_ROOT/notify3" "$log3"
cp "$G/deskgate.conf" "$G/bad.conf"
printf '\n[metrics]\nlisten = not-an-address\n' >>"$G/bad.conf"
rc=0
NOTIFY_SOCKET=$DG_ROOT/notify3 "$DESKGATE" -c "$G/bad.conf" run >"$G/bad.log" 2>&1 || rc=$?
dg_assert_eq 78 "$rc" "exit status with [metrics] listen = not-an-address"
grep -q 'listen' "$G/bad.log" || dg_fail "no word about listen: $(cat "$G/bad.log")"
has "$log3" 'READY=1' && dg_fail "READY=1 sent by a daemon that exited 78"
dg_log "bad configuration: exit 78, no READY=1"
dg_log "ok"
