#!/bin/bash
# test-smtp-reuse: the outbox keeps its connection to the relay from one
# queue run to the next ([smtp] idle_timeout), as the daemon's thread runs
# it (runs of at most 100 mails, smtp-tool run --max 100 --until-done),
# against the fault-injecting server (tests/harness/smtpfault.py), which
# logs each connection and how it ended:
# - 250 mails in three runs go over one connection (before: one per run);
# - mails one run apart share it too, and idle_timeout closes it (QUIT);
# - a relay that closes an idle connection (421, as Postfix's
#   smtpd_timeout) gets a new one: nothing deferred, lost or doubled;
# - a relay that drops the connection as it is reused (no reply at all):
#   the mail is sent on a new connection at once, not deferred with the
#   relay paused (before: deferred and the queue paused).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
builddir=${top_builddir:-.}
. "$srcdir/tests/harness/lib.sh"
dg_root_init test-smtp-reuse
dg_require_cmd python3
tool=${SMTP_TOOL:-$builddir/tests/integration/smtp-tool}
[ -x "$tool" ] || dg_fail "$tool not built"

. "$srcdir/tests/harness/smtpfault.sh"

# count NAME WORD: lines "WORD N" in the server's log (ehlo: sessions)
count() {
	grep -c "^$2 " "$DG_ROOT/$1/server.log"
}

spooled() {
	ls "$DG_ROOT/$1/spool"/*.eml 2>/dev/null | wc -l
}

# every message received once: as many distinct Message-IDs as messages
distinct() {
	cat "$DG_ROOT/$1/spool"/*.eml | grep -i '^Message-ID:' | sort -u | wc -l
}

queue() {
	"$tool" queue -c "$1" --count "$2" --to alice@example.net --subject 'Ticket received' \
		--text 'We got it.' >/dev/null || dg_fail "queueing failed"
}

dg_log "250 mails in runs of 100: one connection"
p=$(dg_free_port)
smtpfault_start many "$p"
c=$(smtpfault_conf many "$p")
queue "$c" 250
out=$("$tool" run 2>>"$DG_ROOT/tool.log" -c "$c" --max 100 --until-done)
dg_assert_eq "sent=250 deferred=0 failed=0 relay_down=0 more=0 runs=3" "$out" "runs"
dg_assert_eq 250 "$(spooled many)" "messages received"
dg_assert_eq 250 "$(distinct many)" "distinct messages"
dg_assert_eq 1 "$(count many ehlo)" "connections for 250 mails in 3 runs"
dg_assert_eq 1 "$(count many quit)" "QUIT at the end"

dg_log "mails a run apart share the connection; idle_timeout closes it"
p=$(dg_free_port)
smtpfault_start apart "$p"
c=$(smtpfault_conf apart "$p" "idle_timeout = 30s")
queue "$c" 3
out=$("$tool" run 2>>"$DG_ROOT/tool.log" -c "$c" --max 1 --until-done --pause 1200)
dg_assert_eq "sent=3 deferred=0 failed=0 relay_down=0 more=0 runs=3" "$out" "runs 1.2 s apart"
dg_assert_eq 1 "$(count apart ehlo)" "connections, 30 s idle allowed"
p=$(dg_free_port)
smtpfault_start short "$p"
c=$(smtpfault_conf short "$p" "idle_timeout = 1s")
queue "$c" 2
out=$("$tool" run 2>>"$DG_ROOT/tool.log" -c "$c" --max 1 --until-done --pause 2200)
dg_assert_eq "sent=2 deferred=0 failed=0 relay_down=0 more=0 runs=2" "$out" "runs 2.2 s apart"
dg_assert_eq 2 "$(count short ehlo)" "connections, 1 s idle allowed"
dg_assert_eq 2 "$(count short quit)" "each closed with QUIT"
p=$(dg_free_port)
smtpfault_start zero "$p"
c=$(smtpfault_conf zero "$p" "idle_timeout = 0")
queue "$c" 3
out=$("$tool" run 2>>"$DG_ROOT/tool.log" -c "$c" --max 1 --until-done)
dg_assert_eq "sent=3 deferred=0 failed=0 relay_down=0 more=0 runs=3" "$out" "idle_timeout = 0"
dg_assert_eq 3 "$(count zero ehlo)" "connections, closed after each run"

dg_log "the relay closes the idle connection (421): a new one, nothing deferred"
p=$(dg_free_port)
smtpfault_start idle "$p" --idle-close 1
c=$(smtpfault_conf idle "$p" "idle_timeout = 30s")
queue "$c" 3
out=$("$tool" run 2>>"$DG_ROOT/tool.log" -c "$c" --max 1 --until-done --pause 1600)
dg_assert_eq "sent=3 deferred=0 failed=0 relay_down=0 more=0 runs=3" "$out" "runs 1.6 s apart"
dg_assert_eq 3 "$(spooled idle)" "messages received"
dg_assert_eq 3 "$(distinct idle)" "distinct messages"
dg_assert_eq 3 "$(count idle ehlo)" "connections"
[ "$(count idle idle-close)" -ge 2 ] || dg_fail "the server closed no idle connection"

dg_log "the relay drops the connection as it is reused: sent on a new one"
p=$(dg_free_port)
smtpfault_start drop "$p" --fault drop=reuse:2
c=$(smtpfault_conf drop "$p")
queue "$c" 5
out=$("$tool" run 2>>"$DG_ROOT/tool.log" -c "$c")
dg_assert_eq "sent=5 deferred=0 failed=0 relay_down=0 more=0" "$out" "one run of 5"
dg_assert_eq 5 "$(spooled drop)" "messages received"
dg_assert_eq 5 "$(distinct drop)" "distinct messages"
dg_assert_eq 2 "$(count drop drop)" "connections dropped"
dg_assert_eq 3 "$(count drop ehlo)" "connections"
"$tool" run 2>>"$DG_ROOT/tool.log" -c "$c" | grep -q '^sent=0 ' || dg_fail "something left to send"
dg_log "all reuse scenarios passed"
