# dovecot.sh: a real Dovecot (IMAP, IMAPS, LMTP) on 127.0.0.1 for tests, run
# from a directory under DG_ROOT with a throwaway CA; nothing in /etc is used
# or touched. Source lib.sh first, call dg_root_init, then:
#
#   dg_dovecot_start          write the config (once), start Dovecot, wait for
#                             its ports; registers dg_dovecot_stop with
#                             dg_on_exit. Exports DG_IMAP_PORT (plain and
#                             STARTTLS), DG_IMAPS_PORT, DG_LMTP_PORT,
#                             DG_CA_FILE, DG_DOVECOT_CONF, DG_MAIL_USER.
#                             Env before the call: DG_DOVECOT_CERT (name of a
#                             certificate in DG_ROOT/tls to serve, default
#                             "server", SAN localhost + 127.0.0.1).
#   dg_dovecot_stop           stop it (TERM to the master, wait for it)
#   dg_dovecot_restart        stop + start with the same ports and config
#   dg_dovecot_adduser U P    add a user (address form user@domain); best
#                             before dg_dovecot_start (else it waits 1.1 s)
#   dg_maildir U              print U's Maildir path (created on first use)
#   dg_doveadm ARGS...        doveadm against this instance
#   dg_uid_flags U [BOX]      "uid flags" lines of a folder (default INBOX)
#   dg_lmtp_deliver RCPT FILE deliver one message file over LMTP
#
# It can also be run as a program for manual work:
#   tests/harness/dovecot.sh start   (prints the ports, leaves it running)
#   tests/harness/dovecot.sh stop ROOT

dg_dovecot_write_config() {
	local d=$DG_ROOT/dovecot uid
	mkdir -p "$d/run" "$d/state" "$d/mail" "$DG_ROOT/tls"
	DG_MAIL_USER=$(dg_mail_user)
	chmod 755 "$d" "$d/mail"
	chown "$DG_MAIL_USER:" "$d/mail"
	uid=$(id -u "$DG_MAIL_USER")
	if [ ! -f "$DG_ROOT/tls/ca.pem" ]; then
		dg_make_ca "$DG_ROOT/tls"
		dg_make_cert "$DG_ROOT/tls" server "DNS:localhost,IP:127.0.0.1"
	fi
	DG_IMAP_PORT=${DG_IMAP_PORT:-$(dg_free_port)}
	DG_IMAPS_PORT=${DG_IMAPS_PORT:-$(dg_free_port)}
	DG_LMTP_PORT=${DG_LMTP_PORT:-$(dg_free_port)}
	local cert=${DG_DOVECOT_CERT:-server}
	local extra="" chroot=""
	if [ "$(id -u)" != 0 ]; then
		# no chroot without root
		chroot="chroot ="
		extra="default_login_user = $DG_MAIL_USER
default_internal_user = $DG_MAIL_USER
default_internal_group = $(id -gn)"
	fi
	touch "$d/users"
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
instance_name = dg-$(basename "$DG_ROOT")
log_path = $d/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <$DG_ROOT/tls/$cert.pem
ssl_key = <$DG_ROOT/tls/$cert.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
auth_failure_delay = 0
mail_uid = $DG_MAIL_USER
mail_gid = $(id -gn "$DG_MAIL_USER")
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = 0
mail_location = maildir:~/Maildir
mail_fsync = never
$extra
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $d/users
  default_fields = home=$d/mail/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Archive {
    auto = subscribe
    special_use = \\Archive
  }
}
service imap-login {
  $chroot
  inet_listener imap {
    address = 127.0.0.1
    port = $DG_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DG_IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DG_LMTP_PORT
  }
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
# no growing delay after failed logins: tests fail logins on purpose
service anvil {
  $chroot
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
CONF
	DG_DOVECOT_CONF=$d/dovecot.conf
	DG_CA_FILE=$DG_ROOT/tls/ca.pem
	export DG_IMAP_PORT DG_IMAPS_PORT DG_LMTP_PORT DG_CA_FILE DG_DOVECOT_CONF DG_MAIL_USER
}

dg_dovecot_start() {
	dg_require_cmd dovecot doveadm openssl
	[ -f "$DG_ROOT/dovecot/dovecot.conf" ] || dg_dovecot_write_config
	if ! dovecot -c "$DG_DOVECOT_CONF" >>"$DG_ROOT/dovecot/start.log" 2>&1; then
		cat "$DG_ROOT/dovecot/start.log" "$DG_ROOT/dovecot/dovecot.log" >&2 2>/dev/null
		dg_fail "dovecot did not start"
	fi
	if [ -z "${DG_DOVECOT_TRAP:-}" ]; then
		dg_on_exit dg_dovecot_stop
		DG_DOVECOT_TRAP=1
	fi
	dg_wait_port "$DG_IMAP_PORT" 10 && dg_wait_port "$DG_IMAPS_PORT" 5 &&
		dg_wait_port "$DG_LMTP_PORT" 5 || dg_fail "dovecot ports did not open"
}

dg_pid_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Child processes of PID, from /proc.
dg_children() {
	local f st
	for f in /proc/[0-9]*/stat; do
		{ read -r st <"$f"; } 2>/dev/null || continue
		# fields after the command name: state ppid ...
		set -- ${st##*) }
		if [ "${2:-}" = "$DG_PARENT" ]; then
			f=${f#/proc/}
			echo "${f%/stat}"
		fi
	done
}

dg_dovecot_stop() {
	local pidfile=$DG_ROOT/dovecot/run/master.pid pid i kids k
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	# imap processes may outlive the master; a stop must end the sessions
	# too, like a machine going down
	kids=$(DG_PARENT=$pid dg_children)
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		dg_pid_alive "$pid" || break
		sleep 0.05
	done
	if dg_pid_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
	fi
	for k in $kids; do
		dg_pid_alive "$k" && kill -KILL "$k" 2>/dev/null
	done
	rm -f "$pidfile"
	# children (imap, lmtp) exit when the master goes; wait for the ports
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$DG_IMAP_PORT") 2>/dev/null || break
		sleep 0.05
	done
	return 0
}

dg_dovecot_restart() {
	dg_dovecot_stop
	dg_dovecot_start
}

dg_dovecot_adduser() {
	[ -f "$DG_ROOT/dovecot/dovecot.conf" ] || dg_dovecot_write_config
	printf '%s:{PLAIN}%s::::::\n' "$1" "$2" >>"$DG_ROOT/dovecot/users"
	# a running Dovecot looks at the file at most once a second
	if [ -f "$DG_ROOT/dovecot/run/master.pid" ]; then
		sleep 1.1
	fi
}

dg_maildir() {
	local user=$1 local_part domain dir
	local_part=${user%@*}
	domain=${user#*@}
	dir=$DG_ROOT/dovecot/mail/$domain/$local_part/Maildir
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"
		chown -R "$DG_MAIL_USER:" "$DG_ROOT/dovecot/mail/$domain"
		chmod -R go+rX "$DG_ROOT/dovecot/mail/$domain"
	fi
	echo "$dir"
}

dg_doveadm() {
	doveadm -c "$DG_DOVECOT_CONF" "$@"
}

dg_uid_flags() {
	dg_doveadm -f flow fetch -u "$1" "uid flags" mailbox "${2:-INBOX}" all 2>/dev/null
}

dg_lmtp_deliver() {
	local rcpt=$1 file=$2
	python3 - "$DG_LMTP_PORT" "$rcpt" "$file" <<'PY' || return 1
import smtplib, sys
port, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, 'rb') as f:
    data = f.read()
with smtplib.LMTP('127.0.0.1', port) as s:
    s.sendmail('sender@example.net', [rcpt], data)
PY
}

# dg_lmtp_deliver_at RCPT FILE: dg_lmtp_deliver, printing the instant (epoch
# seconds) at which the server accepted the message: the moment of
# delivery, without the client's start-up (seconds for python3 on a loaded
# machine), for tests that time what happens after a delivery.
dg_lmtp_deliver_at() {
	local rcpt=$1 file=$2
	python3 - "$DG_LMTP_PORT" "$rcpt" "$file" <<'PY' || return 1
import smtplib, sys, time
port, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, 'rb') as f:
    data = f.read()
with smtplib.LMTP('127.0.0.1', port) as s:
    s.sendmail('sender@example.net', [rcpt], data)
    print("%.6f" % time.time())
PY
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	here=$(cd "$(dirname "$0")" && pwd)
	. "$here/lib.sh"
	case "${1:-}" in
	start)
		DG_ROOT=$(mktemp -d /tmp/dg.XXXXXX)
		chmod 755 "$DG_ROOT"
		export DG_ROOT
		dg_dovecot_adduser support@example.test secret
		dg_dovecot_start
		trap - EXIT
		echo "root=$DG_ROOT imap=$DG_IMAP_PORT imaps=$DG_IMAPS_PORT lmtp=$DG_LMTP_PORT ca=$DG_CA_FILE"
		echo "user support@example.test password secret; stop with: $0 stop $DG_ROOT"
		;;
	stop)
		DG_ROOT=${2:?usage: $0 stop ROOT}
		DG_IMAP_PORT=$(sed -n 's/^    port = //p' "$DG_ROOT/dovecot/dovecot.conf" | head -1)
		dg_dovecot_stop
		rm -rf "$DG_ROOT"
		;;
	*)
		echo "usage: $0 start | stop ROOT" >&2
		exit 64
		;;
	esac
fi
