#!/bin/bash
# bench-outbox: outbox throughput to a local Postfix (messages/s from the
# first MAIL FROM to the last row marked sent, store updates included),
# with a reference measured in the same run: Python's smtplib sending the
# same bytes over one connection to the same Postfix. Prints both and their
# ratio. Not part of `make check`; needs root (Postfix).
# The outbox runs as the daemon's thread runs it: runs of at most 100 mails
# with one outbox while more is due (smtp-tool run --max 100 --until-done);
# then the same number again in runs of one mail, as acknowledgements do
# when mail trickles in (each run finds one mail due).
#
#   tests/bench/bench-outbox.sh [N]     (default 500 messages)
# Env: top_srcdir, top_builddir (default: the current directory when it
# holds a deskgate, else build/ under the source tree).
set -u
N=${1:-500}
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
# the build tree: ./ when it holds a deskgate, else build/ under the source tree
if [ -n "${top_builddir:-}" ]; then builddir=$top_builddir
elif [ -x ./deskgate ]; then builddir=.
else builddir=$srcdir/build; fi
. "$srcdir/tests/harness/lib.sh"
. "$srcdir/tests/harness/dovecot.sh"
. "$srcdir/tests/harness/postfix.sh"
dg_root_init bench-outbox
dg_require_cmd python3 postfix dovecot
[ "$(id -u)" = 0 ] || dg_skip "needs root to run Postfix"
tool=$builddir/tests/integration/smtp-tool
# make check builds the tool; a fresh build has not: build it now
[ -x "$tool" ] || make -C "$builddir" tests/integration/smtp-tool >/dev/null ||
	dg_fail "cannot build $tool"

dg_postfix_adduser support@example.test secret
dg_postfix_adduser alice@example.net pw
dg_dovecot_start
dg_postfix_start

mkdir -p "$DG_ROOT/gw"
cat >"$DG_ROOT/gw/deskgate.conf" <<EOF
[general]
state_dir = $DG_ROOT/gw/state
hostname = gw.example.test
support_address = support@example.test
log_level = error
[smtp]
host = 127.0.0.1
port = $DG_SMTP_PORT
security = none
EOF

wait_drained() {
	dg_wait_for 120 dg_postfix_queue_empty || dg_log "warning: Postfix queue not empty"
}

# a typical acknowledgement: Chinese subject, text + HTML
text=$(printf '您好，\n\n我们已收到您的工单，将在24小时内回复。\nThank you for contacting support.\n')
html="<p>您好，</p><p>我们已收到您的工单，将在24小时内回复。</p><p>Thank you for contacting support.</p>"
queue() {
	"$tool" queue -c "$DG_ROOT/gw/deskgate.conf" --count "$N" --to alice@example.net \
		--to-name '张伟' --subject '回复：您的工单已收到 [#1234]' --text "$text" \
		--html "$html" --auto >/dev/null || dg_fail "queueing failed"
}
t0=$(dg_now)
queue
t1=$(dg_now)

# the reference sends exactly the bytes deskgate will send
python3 - "$DG_ROOT/gw/state/deskgate.db" "$DG_ROOT/msgs" <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
os.makedirs(sys.argv[2])
for i, (raw,) in enumerate(db.execute("SELECT raw FROM outbox ORDER BY id")):
    open(os.path.join(sys.argv[2], "%06d.eml" % i), "wb").write(raw)
PY
reference() {
	python3 - "$DG_SMTP_PORT" "$DG_ROOT/msgs" <<'PY'
import os, smtplib, sys, time
port, d = int(sys.argv[1]), sys.argv[2]
msgs = [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))]
t = time.time()
s = smtplib.SMTP("127.0.0.1", port, local_hostname="ref.example.test")
for m in msgs:
    s.sendmail("support@example.test", ["alice@example.net"], m)
s.quit()
print("%.6f" % (time.time() - t))
PY
}

# reference, deskgate, reference again: Postfix warms up, and delivery
# into Dovecot competes for the CPU, so the order would otherwise matter
# outbox MAX: the queue sent in runs of at most MAX; prints the seconds
outbox() {
	local t out
	t=$(dg_now)
	out=$("$tool" run -c "$DG_ROOT/gw/deskgate.conf" --max "$1" --until-done 2>/dev/null)
	t=$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$t" "$(dg_now)")
	case "$out" in
	"sent=$N "*) ;;
	*) dg_fail "outbox run: $out" ;;
	esac
	echo "$t"
}

ref1=$(reference)
wait_drained
s100=$(outbox 100)
wait_drained
ref2=$(reference)
wait_drained
queue
s1=$(outbox 1)
wait_drained
ref3=$(reference)
wait_drained

python3 - "$N" "$t0" "$t1" "$s100" "$s1" "$ref1" "$ref2" "$ref3" <<'PY'
import sys
n = int(sys.argv[1])
t0, t1, s100, s1, r1, r2, r3 = (float(x) for x in sys.argv[2:])
q, ref = t1 - t0, (r1 + r2 + r3) / 3
print("bench-outbox: %d messages to a local Postfix" % n)
print("  queueing (compose + one commit each):  %8.1f msg/s" % (n / q))
print("  deskgate outbox, runs of 100 (daemon):  %8.1f msg/s" % (n / s100))
print("  deskgate outbox, runs of 1 (trickle):   %8.1f msg/s" % (n / s1))
print("  reference, Python smtplib, 1 conn:      %8.1f msg/s (%.1f, %.1f, %.1f)"
      % (n / ref, n / r1, n / r2, n / r3))
print("  ratio deskgate / reference, runs of 100: %7.2f" % (ref / s100))
print("  ratio deskgate / reference, runs of 1:   %7.2f" % (ref / s1))
PY
