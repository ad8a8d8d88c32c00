#!/bin/bash
# Where deskgate logs ([log] target, log.h), against real ends: a file
# (RFC 3339 stamps), journald's stream format ($JOURNAL_STREAM), and
# syslog(3) received on a /dev/log socket in a private mount namespace
# (tests/harness/dgramsock.py; nothing of the host's /dev is touched):
# priorities and facilities, key=value text kept, the commands for people
# still on stderr. A wrong password against a real Dovecot is logged
# loudly, at debug level too, and the password appears in no line.
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-ops-log
dg_require_cmd python3 unshare mount
export DESKGATE_DATADIR=${DESKGATE_DATADIR:-$top_srcdir:$top_srcdir/contrib}
mail=$top_srcdir/contrib/demo-mail
secret='Wr0ng-S3cret-pw-4711'

G=$DG_ROOT/gw
gw_new "$G" "password_file=$DG_ROOT/pw"
sed -i '/^password = secret$/d' "$G/deskgate.conf"
echo "$secret" >"$DG_ROOT/pw"
conf=$G/deskgate.conf
stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} deskgate\[[0-9]+\]: '

# -- a file: RFC 3339 stamps, the text as written --------------------------------
"$DESKGATE" -c "$conf" ingest <"$mail/01-en-failed-trade.eml" >/dev/null 2>"$DG_ROOT/file.log" ||
	dg_fail "ingest: $(cat "$DG_ROOT/file.log")"
grep -qE "${stamp}source=ingest mailbox=- uid=0 msgid=[^ ]+ ticket=1 message=1: new ticket" "$DG_ROOT/file.log" ||
	dg_fail "file: $(cat "$DG_ROOT/file.log")"
dg_log "file: $(head -1 "$DG_ROOT/file.log")"

# -- the journal's stream: <priority> and the text, no stamp of our own ------------
: >"$DG_ROOT/journal.log"
js=$(stat -c '%d:%i' "$DG_ROOT/journal.log")
JOURNAL_STREAM=$js "$DESKGATE" -c "$conf" ingest <"$mail/06-broken-deep-nesting.eml" \
	>/dev/null 2>>"$DG_ROOT/journal.log" || dg_fail "ingest (journal)"
grep -qE '^<4>warning: source=ingest mailbox=- uid=0 msgid=[^ ]+ quarantine=1: limit: max_mime_depth' "$DG_ROOT/journal.log" ||
	dg_fail "journal: $(cat "$DG_ROOT/journal.log")"
grep -qE "$stamp" "$DG_ROOT/journal.log" && dg_fail "journal lines carry our stamp"
dg_log "journal: $(head -1 "$DG_ROOT/journal.log")"

# -- syslog, in a mount namespace with its own /dev ----------------------------------
unshare -m true 2>/dev/null || dg_skip "cannot make a mount namespace (unshare -m): no syslog test"
cp "$conf" "$G/local3.conf"
printf '\n[log]\ntarget = syslog\nfacility = local3\n' >>"$G/local3.conf"
export DG_ROOT DESKGATE G conf mail secret
unshare -m --propagation private bash -s >"$DG_ROOT/ns.out" 2>&1 <<'NS'
set -u
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$DG_ROOT/olddev"
mount --bind /dev "$DG_ROOT/olddev" || fail "bind /dev"
mount -t tmpfs -o mode=755 tmpfs /dev || fail "tmpfs on /dev"
for n in null zero random urandom full; do
	touch "/dev/$n" && mount --bind "$DG_ROOT/olddev/$n" "/dev/$n" || fail "/dev/$n"
done
python3 "$top_srcdir/tests/harness/dgramsock.py" syslog /dev/log "$DG_ROOT/syslog.log" 60 &
sock=$!
trap 'kill $sock 2>/dev/null' EXIT
for i in $(seq 50); do [ -S /dev/log ] && [ -f "$DG_ROOT/syslog.log" ] && break; sleep 0.1; done
[ -S /dev/log ] || fail "no /dev/log"

# auto: stderr is a pipe (an MTA pipe, cron): syslog, facility mail
out=$("$DESKGATE" -c "$conf" ingest <"$mail/02-zh-deposit-missing.eml" 2>&1 | cat)
[ "$out" = "ticket 2: new" ] || fail "ingest through a pipe printed: $out"
"$DESKGATE" -c "$conf" ingest <"$mail/06-broken-deep-nesting.eml" 2>&1 | cat >/dev/null
# target = syslog with another facility, stderr a file: the file stays empty
"$DESKGATE" -c "$G/local3.conf" ingest <"$mail/03-de-account-locked.eml" >/dev/null 2>"$DG_ROOT/l3.err"
[ -s "$DG_ROOT/l3.err" ] && fail "target = syslog wrote to stderr: $(cat "$DG_ROOT/l3.err")"
# a command for people keeps stderr, whatever the target
err=$("$DESKGATE" -c "$G/local3.conf" ticket show 999 2>&1 | cat)
echo "$err" | grep -q 'no ticket\|999' || fail "ticket show 999 said: $err"
# the daemon with a wrong password, verbose, through a pipe: syslog
timeout 60 "$DESKGATE" -v -c "$conf" run --once 2>&1 | cat >"$DG_ROOT/run-pipe.out"
sleep 0.5
echo done
NS
rc=$?
cat "$DG_ROOT/ns.out"
[ $rc = 0 ] && grep -q '^done$' "$DG_ROOT/ns.out" || dg_fail "in the namespace: exit $rc"
sys=$DG_ROOT/syslog.log
[ -s "$sys" ] || dg_fail "nothing reached /dev/log"
# mail.info = 2*8+6 = 22, mail.warning = 20, local3.info = 19*8+6 = 158
grep -qE '^<22>.* deskgate\[[0-9]+\]: source=ingest mailbox=- uid=0 msgid=[^ ]+ ticket=2 message=[0-9]+: new ticket' "$sys" ||
	dg_fail "no mail.info line: $(cat "$sys")"
grep -qE '^<20>.* deskgate\[[0-9]+\]: warning: source=ingest mailbox=- uid=0 msgid=[^ ]+ quarantine=1: limit: max_mime_depth' "$sys" ||
	dg_fail "no mail.warning line: $(cat "$sys")"
grep -qE '^<158>.* deskgate\[[0-9]+\]: source=ingest mailbox=- uid=0 msgid=[^ ]+ ticket=3 ' "$sys" ||
	dg_fail "no local3.info line: $(cat "$sys")"
grep -q 'ticket 999' "$sys" && dg_fail "ticket show's error went to syslog"
grep -qE '^<19>.* deskgate\[[0-9]+\]: error: mailbox=support: LOGIN FAILED' "$sys" ||
	dg_fail "the failed login is not a mail.err line: $(grep -i login "$sys")"
# through a pipe only the errors reach stderr too (an MTA reports them), plainly
grep -q '^deskgate: error: mailbox=support: LOGIN FAILED' "$DG_ROOT/run-pipe.out" ||
	dg_fail "the failed login is not on the pipe: $(head -3 "$DG_ROOT/run-pipe.out")"
grep -v '^deskgate: error: ' "$DG_ROOT/run-pipe.out" | grep -q . &&
	dg_fail "run through a pipe wrote more than errors: $(grep -v '^deskgate: error: ' "$DG_ROOT/run-pipe.out" | head -3)"
dg_log "syslog: $(grep -c . "$sys") lines; $(grep -m1 '^<22>' "$sys")"

# -- the password appears nowhere, at debug level, in any destination ----------------
timeout 60 "$DESKGATE" -v -c "$conf" run --once >"$DG_ROOT/run-file.out" 2>&1
grep -q 'LOGIN FAILED' "$DG_ROOT/run-file.out" || dg_fail "no LOGIN FAILED in the file"
for f in "$DG_ROOT/file.log" "$DG_ROOT/journal.log" "$sys" "$DG_ROOT/run-file.out" \
	"$DG_ROOT/run-pipe.out" "$G/deskgate-status.json"; do
	[ -f "$f" ] || continue
	grep -qF "$secret" "$f" && dg_fail "the password is in $f"
done
dg_log "the password is in no log"
dg_log "ok"
