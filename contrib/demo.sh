#!/bin/bash
# The deskgate demo. With Dovecot and Postfix installed and run as root (as
# `sh contrib/setup.sh demo` does), it starts a throwaway mail stack on
# 127.0.0.1 (the test harness: a support mailbox and customer mailboxes),
# mails the samples of contrib/demo-mail to support@example.test through
# Postfix, runs `deskgate run --once` against the support mailbox, and shows
# the tickets, and the acknowledgements as they arrived in the customers'
# mailboxes. Without the servers it pipes the samples through `deskgate
# ingest` instead, as an MTA would.
# Usage: bash contrib/demo.sh [PATH-TO-deskgate]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dg=${1:-$top/build/deskgate}
home=${DESKGATE_DEMO_HOME:-/tmp/deskgate-demo}
mail=$top/contrib/demo-mail
# Run from the build tree: templates and default rules come from the source.
export DESKGATE_DATADIR=${DESKGATE_DATADIR:-$top:$top/contrib}

rm -rf "$home"
"$dg" init --address support@example.test --hostname desk.example.test "$home" >/dev/null
conf=$home/deskgate.conf
sed -i -e '/^\[general\]/a support_name = Example Exchange Support' "$conf"
show() { echo; echo "==> $*"; "$@"; }

if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null || ! command -v postfix >/dev/null; then
	echo "==> (no Dovecot/Postfix here, or not root: piping the mail through deskgate ingest)"
	for m in "$mail"/*.eml; do
		printf '%-32s -> ' "$(basename "$m")"
		"$dg" -q -c "$conf" ingest "$m"
	done
	show "$dg" -c "$conf" ticket list
	show "$dg" -c "$conf" ticket show 2
	show "$dg" -c "$conf" quarantine list
	exit 0
fi

. "$top/tests/harness/lib.sh"
. "$top/tests/harness/dovecot.sh"
. "$top/tests/harness/postfix.sh"
dg_root_init demo
support=support@example.test
customers="alice@example.net xiaoming@example.net juergen@example.net renee@example.net"
for u in $support $customers; do dg_postfix_adduser "$u" secret; done
echo "==> starting Dovecot and Postfix on 127.0.0.1 (from $DG_ROOT)"
dg_dovecot_start
dg_postfix_start

sed -i -e "/^\[smtp\]/a host = 127.0.0.1\nport = $DG_SMTP_PORT" "$conf"
cat >>"$conf" <<CONF

[mailbox support]
host = 127.0.0.1
port = $DG_IMAPS_PORT
security = imaps
ca_file = $DG_CA_FILE
username = $support
password = secret
CONF
"$dg" -c "$conf" config check

# send FILE...: each sample to the support address through Postfix.
send() {
	python3 - "$DG_SMTP_PORT" "$@" <<'PY'
import email, email.policy, smtplib, sys
port = int(sys.argv[1])
with smtplib.SMTP("127.0.0.1", port) as s:
    for path in sys.argv[2:]:
        raw = open(path, "rb").read()
        sender = email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses[0].addr_spec
        s.sendmail(sender, ["support@example.test"], raw)
        print("  sent %s" % path.rsplit("/", 1)[-1])
PY
}
inbox_count() { find "$(dg_maildir "$1")/new" "$(dg_maildir "$1")/cur" -type f 2>/dev/null | wc -l; }
wait_inbox() { # USER N
	for _ in $(seq 1 100); do
		[ "$(inbox_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

echo "==> customers write to support@example.test"
send "$mail"/0[1-4]*.eml "$mail"/06*.eml
wait_inbox $support 5 || echo "  (not all delivered yet)"
show "$dg" -c "$conf" run --once
echo "==> Alice replies to her own mail; the reply joins her ticket"
send "$mail"/05*.eml
wait_inbox $support 6 || true
"$dg" -q -c "$conf" run --once

show "$dg" -c "$conf" ticket list
show "$dg" -c "$conf" ticket show 2
show "$dg" -c "$conf" quarantine list
show "$dg" -c "$conf" outbox list

echo
echo "==> what arrived in the customers' mailboxes"
for u in $customers; do
	wait_inbox "$u" 1 || true
	for f in "$(dg_maildir "$u")"/new/* "$(dg_maildir "$u")"/cur/*; do
		[ -f "$f" ] || continue
		python3 - "$u" "$f" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[2], "rb"), policy=email.policy.default)
body = m.get_body(("plain",)).get_content()
print("--- %s" % sys.argv[1])
for h in ("From", "To", "Reply-To", "Subject", "In-Reply-To", "Auto-Submitted"):
    print("%s: %s" % (h, m[h]))
print()
print("\n".join(body.splitlines()[:14]))
print("  [...]")
PY
	done
done
echo
echo "The store stays in $home (the mail servers stop now). Try:"
echo "  $dg -c $conf ticket show 1 --json"
echo "  $dg -c $conf outbox show 1 --raw"
