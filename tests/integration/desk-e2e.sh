# desk-e2e.sh: what the desk's end-to-end tests share (test-agent-e2e.sh,
# test-ack-vacation.sh, test-loop-e2e.sh). Sourced by a test that has set
# srcdir and builddir; it sources the harness itself.
#
#   desk_e2e_init NAME [sieve]   root dir, requirements (root, the servers,
#                                python3, sqlite3; with "sieve" Pigeonhole),
#                                $deskgate and $helper
#   desk_e2e_sieve               Pigeonhole on LMTP deliveries, its mail
#                                (vacation, redirect) sent through our Postfix;
#                                after the users are added, before the start
#   count USER [HEADER SUBSTRING]        messages in USER's INBOX
#   wait_count USER N [HEADER SUBSTRING] until there are at least N
#   drain                        until Postfix has delivered everything,
#                                including mail Sieve submits on delivery
#   send FROM TO SUBJECT TEXT [NAME:VALUE...]   a plain mail through Postfix
#   desk_e2e_gateway DIR ADDRESS HOSTNAME NAME [SMTP-LINES]
#                                `deskgate init` in DIR for ADDRESS's mailbox
#                                (password "secret"), sending through our
#                                Postfix; SMTP-LINES ("\nkey = value...")
#                                go into [smtp]; the caller appends sections
#   desk_e2e_start USER...       the users (password "secret"), then Dovecot
#                                and Postfix started (no Sieve)
#   desk_e2e_desk ADDRESS        $gw ($DG_ROOT/gw) and $conf: the gateway of
#                                ADDRESS, gw.example.test, "Example Support"
#   desk_e2e_check               `deskgate config check` of $conf, or fail
#                                with what it said
#   desk_e2e_png FILE            a small RGB PNG (a customer's screenshot)
#
# People with real mail clients against one gateway (test-agent-e2e.sh,
# test-agentday-e2e.sh, test-collide-e2e.sh; they set $deskgate, $conf,
# $gw and $helper):
#   maildir USER                 USER's Maildir
#   sql QUERY                    sqlite3 on $gw/deskgate.db
#   process                      `deskgate run --once`; fails unless every
#                                outbox row was sent
#   snail FROM ARGS...           s-nail as FROM's mail client
#   reply USER FROM HEADER SUBSTRING TEXT [ATTACHMENT]
#                                USER answers with s-nail the newest message
#                                whose HEADER contains SUBSTRING
#   show USER HEADER SUBSTRING   that message as USER's s-nail types it
. "$srcdir/tests/harness/lib.sh"
. "$srcdir/tests/harness/dovecot.sh"
. "$srcdir/tests/harness/postfix.sh"

desk_e2e_init() {
	DG_TEST_NAME=$1
	dg_root_init "$1"
	dg_require_cmd python3 postfix dovecot doveadm openssl sqlite3
	[ "$(id -u)" = 0 ] || dg_skip "needs root to run Postfix"
	if [ "${2:-}" = sieve ]; then
		local moddir
		moddir=$(dovecot --build-options 2>/dev/null | sed -n 's/^Module dir: //p')
		[ -f "${moddir:-/usr/lib/dovecot/modules}/lib90_sieve_plugin.so" ] ||
			dg_skip "Pigeonhole Sieve plugin not found (install dovecot-sieve)"
	fi
	deskgate=${DESKGATE:-$builddir/deskgate}
	helper="python3 $srcdir/tests/integration/agent-e2e.py"
	[ -x "$deskgate" ] || dg_fail "no deskgate binary at $deskgate"
	export DESKGATE_DATADIR=${DESKGATE_DATADIR:-$srcdir:$srcdir/contrib}
}

desk_e2e_sieve() {
	# dg_postfix_adduser wrote both configurations (DG_SMTP_PORT is known,
	# Dovecot not started yet).
	[ -n "${DG_SMTP_PORT:-}" ] && [ -f "$DG_DOVECOT_CONF" ] || dg_fail "harness did not write the configs"
	cat >>"$DG_DOVECOT_CONF" <<CONF

# $DG_TEST_NAME: Pigeonhole Sieve on delivery
submission_host = 127.0.0.1:$DG_SMTP_PORT
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_vacation_min_period = 1d
  sieve_redirect_duplicate_period = 0
}
CONF
}

count() { $helper count "$(dg_maildir "$1")" "${2:-}" "${3:-}"; }

wait_count() {
	local user=$1 want=$2
	shift 2
	is_n() { [ "$(count "$user" "$@")" -ge "$want" ]; }
	dg_wait_for 20 is_n "$@" || dg_fail "$user: $(count "$user" "$@") message(s) $*, want $want"
}

drain() {
	local i
	for i in 1 2 3; do
		dg_postfix_flush
		dg_wait_for 20 dg_postfix_queue_empty || dg_fail "Postfix queue did not drain"
		sleep 0.3
	done
}

send() {
	python3 - "$DG_SMTP_PORT" "$@" <<'PY' || dg_fail "sending $3 failed"
import smtplib, sys
from email.message import EmailMessage
from email.utils import make_msgid, formatdate
port, frm, to, subject, text = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
m = EmailMessage()
m["From"] = frm
m["To"] = to
m["Subject"] = subject
m["Date"] = formatdate(localtime=False)
m["Message-ID"] = make_msgid(domain=frm.split("@")[1].rstrip(">"))
for line in sys.argv[6:]:
    name, value = line.split(":", 1)
    m[name] = value.strip()
m.set_content(text)
with smtplib.SMTP("127.0.0.1", port) as s:
    s.send_message(m)
PY
}

desk_e2e_gateway() {
	local gw=$1 address=$2 host=$3 name=$4 extra=${5:-}
	"$deskgate" init --address "$address" --hostname "$host" "$gw" >/dev/null ||
		dg_fail "deskgate init $gw"
	sed -i -e "/^\[general\]/a support_name = $name" \
		-e "/^\[smtp\]/a host = 127.0.0.1\nport = $DG_SMTP_PORT\nsecurity = none\ntimeout = 10s$extra" \
		"$gw/deskgate.conf"
	cat >>"$gw/deskgate.conf" <<CONF

[mailbox support]
host = 127.0.0.1
port = $DG_IMAP_PORT
security = none
username = $address
password = secret
timeout = 10
CONF
}

desk_e2e_start() {
	local u
	for u in "$@"; do
		dg_postfix_adduser "$u" secret
	done
	dg_dovecot_start
	dg_postfix_start
}

desk_e2e_desk() {
	gw=$DG_ROOT/gw
	conf=$gw/deskgate.conf
	desk_e2e_gateway "$gw" "$1" gw.example.test "Example Support"
}

desk_e2e_check() {
	"$deskgate" -q -c "$conf" config check >/dev/null 2>&1 ||
		dg_fail "config check: $("$deskgate" -c "$conf" config check 2>&1)"
}

desk_e2e_png() {
	python3 - "$1" <<'PY' || dg_fail "writing $1"
import struct, sys, zlib
w, h = 32, 16
rows = b"".join(b"\0" + b"".join(bytes((x * 8, y * 16, 128)) for x in range(w)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
}

maildir() { dg_maildir "$1"; }
sql() { sqlite3 "$gw/deskgate.db" "$1"; }

# process: deskgate reads the support mailbox once and sends what it queued
process() {
	"$deskgate" -c "$conf" run --once >>"$gw/run.log" 2>&1 || dg_fail "deskgate run --once: $(tail -5 "$gw/run.log")"
	local left
	left=$(sql "select count(*) from outbox where status <> 'sent'")
	[ "$left" = 0 ] || dg_fail "outbox rows not sent: $(sql "select id, kind, status, last_error from outbox where status <> 'sent'")"
}

# s-nail as a person's mail client: no resource files, batch mode, UTF-8,
# SMTP to Postfix. Its default quoting (POSIX indentprefix, a tab) and an
# attribution line "NAME wrote:" (quote=noheading).
snail() {
	local from=$1
	shift
	LC_ALL=C.UTF-8 s-nail -:/ -# -S v15-compat=yes -S smtp-auth=none \
		-S mta=smtp://127.0.0.1:$DG_SMTP_PORT -S DEAD="$DG_ROOT/dead.letter" \
		-S sendcharsets=utf-8 -S ttycharset=utf-8 -S reply-to-honour=yes \
		-S quote=noheading -S from="$from" "$@" 2>>"$DG_ROOT/s-nail.log"
}

# reply USER FROM HEADER SUBSTRING TEXT [ATTACHMENT]: USER answers the
# newest message whose HEADER contains SUBSTRING
reply() {
	local user=$1 from=$2 header=$3 needle=$4 text=$5 att=${6:-}
	$helper mbox "$(maildir "$user")" "$DG_ROOT/reply.mbox" "$header" "$needle" ||
		dg_fail "no message to reply to"
	{
		printf 'reply 1\n%s\n' "$text"
		[ -n "$att" ] && printf '~@ %s\n' "$att"
		printf '~.\n'
	} | snail "$from" -f "$DG_ROOT/reply.mbox" >/dev/null || dg_fail "s-nail reply failed"
}

# show USER HEADER SUBSTRING: the message as the user's s-nail types it
show() {
	$helper mbox "$(maildir "$1")" "$DG_ROOT/show.mbox" "$2" "$3" || dg_fail "nothing to show"
	printf 'type 1\n' | LC_ALL=C.UTF-8 s-nail -:/ -# -S v15-compat=yes -S ttycharset=utf-8 \
		-S crt=9999 -R -f "$DG_ROOT/show.mbox" 2>>"$DG_ROOT/s-nail.log"
}
