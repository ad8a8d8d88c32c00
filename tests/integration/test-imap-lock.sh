#!/bin/bash
# One `deskgate run` per store: the first daemon holds an flock on
# state_dir/deskgate.pid for its whole life; a second daemon (or a
# --once run) on the same store exits 75 and names the pid holding the
# lock; the pid file still names the first, so `deskgate rules reload`
# reaches it. A daemon killed with SIGKILL leaves a stale pid file, which
# does not stop the next one; a stopped daemon removes its file.
set -u
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/dovecot.sh" # dg_pid_alive
: "${DESKGATE:=$top_builddir/deskgate}"
dg_root_init test-imap-lock
H=$DG_ROOT/gw
"$DESKGATE" init "$H" >/dev/null 2>&1 || dg_fail "deskgate init"
conf=$H/deskgate.conf
pidfile=$H/deskgate.pid

A=
B=
stop_all() {
	for p in $A $B; do kill -KILL "$p" 2>/dev/null; done
}
dg_on_exit stop_all

"$DESKGATE" -c "$conf" run >"$H/a.log" 2>&1 &
A=$!
has_pid() { [ "$(cat "$pidfile" 2>/dev/null)" = "$1" ]; }
dg_wait_for 10 has_pid "$A" || { cat "$H/a.log"; dg_fail "the first daemon wrote no pid file"; }

# a second daemon on the same store: refused at once, naming the first
timeout 20 "$DESKGATE" -c "$conf" run >"$H/b.log" 2>&1 &
B=$!
dg_wait_for 10 eval '! dg_pid_alive $B' || dg_fail "a second daemon runs beside the first"
wait "$B"
dg_assert_eq 75 $? "exit code of the second daemon"
B=
grep -q "another deskgate run (pid $A) is using $H" "$H/b.log" ||
	{ cat "$H/b.log"; dg_fail "the refusal does not name pid $A"; }
dg_assert_eq "$A" "$(cat "$pidfile")" "pid file after the refused start"
timeout 20 "$DESKGATE" -c "$conf" run --once >"$H/once.log" 2>&1
dg_assert_eq 75 $? "exit code of run --once beside the daemon"
grep -q "pid $A" "$H/once.log" || dg_fail "--once does not name pid $A"
dg_pid_alive "$A" || dg_fail "the first daemon died"
dg_log "second daemon and --once refused with 75, naming pid $A"

# rules reload still reaches the first daemon
out=$("$DESKGATE" -c "$conf" rules reload 2>&1) || dg_fail "rules reload: $out"
echo "$out" | grep -q "pid $A" || dg_fail "rules reload signalled someone else: $out"
dg_wait_for 10 grep -qs "reload:" "$H/a.log" || { cat "$H/a.log"; dg_fail "no reload logged"; }
dg_log "rules reload reached pid $A"

# SIGKILL: the lock goes with the process, the stale file does not block
kill -KILL "$A"
wait "$A" 2>/dev/null
[ -f "$pidfile" ] || dg_fail "no stale pid file after SIGKILL (the test proves nothing)"
"$DESKGATE" -c "$conf" run >"$H/c.log" 2>&1 &
A=$!
dg_wait_for 10 has_pid "$A" || { cat "$H/c.log"; dg_fail "no daemon after a stale pid file"; }
grep -q "removed the stale pid file" "$H/c.log" || dg_fail "stale pid file not reported"
dg_log "a stale pid file (SIGKILL) does not block the next daemon"

kill -TERM "$A"
wait "$A"
dg_assert_eq 0 $? "exit code after SIGTERM"
A=
[ -e "$pidfile" ] && dg_fail "the pid file outlived the daemon"
ls "$H" | grep -q '\.tmp$' && dg_fail "a temporary file was left in $H"
dg_log PASS
