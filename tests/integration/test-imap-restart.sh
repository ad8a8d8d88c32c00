#!/bin/bash
# Dovecot restarted in the middle of a backlog: the daemon sees the
# connection drop, reconnects with backoff, resumes from its checkpoint and
# ends with every message exactly once and every one flagged.
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-imap-restart

seed 1500 1
G=$DG_ROOT/gw
gw_new "$G" batch_size=200 timeout=3
gw_start "$G"
dg_wait_for 20 rows_gt "$G" 100 || { tail -20 "$G/run.log"; dg_fail "no progress"; }
dg_dovecot_stop
at=$(rows "$G")
sleep 0.5
dg_dovecot_start
dg_log "Dovecot restarted with $at of 1500 stored"
wait_rows "$G" 1500 40 || { tail -20 "$G/run.log"; dg_fail "backlog not finished after the restart"; }
# marking happens right after the last commit
dg_wait_for 10 seen_is 1500 || dg_fail "not all flagged: $(seen_count)"
gw_stop
dg_assert_eq 0 "$GW_RC" "exit code"
check_exactly_once "$G" 1 1500
grep -q "reconnecting in" "$G/run.log" || dg_fail "no reconnect logged"
[ "$at" -lt 1500 ] || dg_log "note: the backlog was done before the restart"
dg_log "reconnected after the restart: 1500 rows, all flagged"
dg_log PASS
