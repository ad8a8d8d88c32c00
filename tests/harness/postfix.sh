# postfix.sh: a real Postfix on 127.0.0.1 for tests, run from a directory
# under DG_ROOT, relaying into the test Dovecot (dovecot.sh) over LMTP and
# authenticating submission clients through Dovecot's SASL socket. Nothing
# in /etc is used or touched. Needs root (Postfix's master runs as root).
# Source lib.sh and dovecot.sh, call dg_root_init and dg_dovecot_start,
# add the mailbox users (dg_postfix_adduser), then:
#
#   dg_postfix_start          write the config (once), start Postfix, wait for
#                             its ports; registers dg_postfix_stop with
#                             dg_on_exit. Exports:
#                               DG_SMTP_PORT    plain, STARTTLS offered (like 25)
#                               DG_SMTPS_PORT   TLS from the first byte (like 465)
#                               DG_SUBMIT_PORT  STARTTLS required, AUTH required (587)
#                               DG_POSTFIX_DIR  its config directory
#   dg_postfix_stop           stop it (TERM to the master; waits for the ports)
#   dg_postfix_adduser ADDR PW
#                             a mailbox: Dovecot user + Postfix virtual mailbox
#                             (call before dg_postfix_start, or then dg_postfix_reload)
#   dg_postfix_access ADDR ACTION
#                             a recipient access rule, e.g. "451 4.3.0 not now"
#                             or "REJECT"; then dg_postfix_reload (or call
#                             before start). dg_postfix_access_clear drops all.
#   dg_postfix_reload         re-read the maps
#   dg_postfix_flush          attempt delivery of everything queued now
#   dg_postfix_queue_empty    true when Postfix's queue is empty
#
#   dg_postfix_transport DOMAIN NEXTHOP
#                             route DOMAIN elsewhere, e.g. "smtp:[127.0.0.1]:PORT"
#                             to a scripted server whose refusal makes Postfix
#                             send a real bounce (call before start, or reload)
#
# Domains example.test and example.net are both delivered to Dovecot, so a
# test can play support desk and customer. recipient_delimiter is "+", so
# support+anything@example.test reaches support@example.test (VERP).

dg_postfix_write_config() {
	local d=$DG_ROOT/postfix
	# the LMTP port and the CA come from Dovecot's configuration
	[ -f "$DG_ROOT/dovecot/dovecot.conf" ] || dg_dovecot_write_config
	mkdir -p "$d/queue" "$d/data"
	chown postfix: "$d/data"
	chmod 755 "$d"
	DG_SMTP_PORT=${DG_SMTP_PORT:-$(dg_free_port)}
	DG_SMTPS_PORT=${DG_SMTPS_PORT:-$(dg_free_port)}
	DG_SUBMIT_PORT=${DG_SUBMIT_PORT:-$(dg_free_port)}
	touch "$d/vmailbox" "$d/access" "$d/transport"
	cat >"$d/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
maillog_file_prefixes = $DG_ROOT
maillog_file = $d/maillog
virtual_mailbox_domains = example.test example.net
virtual_mailbox_maps = texthash:$d/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$DG_LMTP_PORT
transport_maps = texthash:$d/transport
recipient_delimiter = +
disable_dns_lookups = yes
smtp_dns_support_level = disabled
lmtp_host_lookup = native
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
anvil_rate_time_unit = 60s
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
delay_warning_time = 0
smtpd_banner = \$myhostname ESMTP deskgate-test
smtpd_tls_cert_file = $DG_ROOT/tls/server.pem
smtpd_tls_key_file = $DG_ROOT/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 0
smtp_tls_security_level = none
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DG_ROOT/dovecot/run/auth-client
smtpd_sasl_auth_enable = no
smtpd_recipient_restrictions = check_recipient_access texthash:$d/access, permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_relay_restrictions =
message_size_limit = 52428800
CONF
	cat >"$d/master.cf" <<CONF
127.0.0.1:$DG_SMTP_PORT inet n - n - - smtpd
127.0.0.1:$DG_SMTPS_PORT inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
127.0.0.1:$DG_SUBMIT_PORT inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o mynetworks=
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF
	# A config changed less than ~2 s before start makes start 2.3 s slower.
	touch -d '-1 minute' "$d/main.cf" "$d/master.cf"
	DG_POSTFIX_DIR=$d
	export DG_SMTP_PORT DG_SMTPS_PORT DG_SUBMIT_PORT DG_POSTFIX_DIR
}

dg_postfix_adduser() {
	[ -f "$DG_ROOT/postfix/main.cf" ] || dg_postfix_write_config
	dg_dovecot_adduser "$1" "$2"
	printf '%s x\n' "$1" >>"$DG_ROOT/postfix/vmailbox"
	dg_maildir "$1" >/dev/null
}

dg_postfix_access() {
	[ -f "$DG_ROOT/postfix/main.cf" ] || dg_postfix_write_config
	printf '%s %s\n' "$1" "$2" >>"$DG_ROOT/postfix/access"
}

dg_postfix_transport() {
	[ -f "$DG_ROOT/postfix/main.cf" ] || dg_postfix_write_config
	printf '%s %s\n' "$1" "$2" >>"$DG_ROOT/postfix/transport"
}

dg_postfix_access_clear() {
	: >"$DG_ROOT/postfix/access"
}

dg_postfix_master_pid() {
	local f=$DG_ROOT/postfix/queue/pid/master.pid
	[ -f "$f" ] && tr -d ' \n' <"$f"
}

dg_postfix_start() {
	dg_require_cmd postfix postconf
	[ "$(id -u)" = 0 ] || dg_skip "Postfix needs root to start"
	[ -f "$DG_ROOT/postfix/main.cf" ] || dg_postfix_write_config
	if ! postfix -c "$DG_POSTFIX_DIR" start >"$DG_ROOT/postfix/start.log" 2>&1; then
		cat "$DG_ROOT/postfix/start.log" "$DG_ROOT/postfix/maillog" >&2 2>/dev/null
		dg_fail "postfix did not start"
	fi
	if [ -z "${DG_POSTFIX_TRAP:-}" ]; then
		dg_on_exit dg_postfix_stop
		DG_POSTFIX_TRAP=1
	fi
	dg_wait_port "$DG_SMTP_PORT" 10 && dg_wait_port "$DG_SMTPS_PORT" 5 &&
		dg_wait_port "$DG_SUBMIT_PORT" 5 || {
		cat "$DG_ROOT/postfix/maillog" >&2 2>/dev/null
		dg_fail "postfix ports did not open"
	}
}

dg_postfix_stop() {
	local pid i
	pid=$(dg_postfix_master_pid) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		dg_pid_alive "$pid" || break
		sleep 0.05
	done
	dg_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$DG_SMTP_PORT") 2>/dev/null || break
		sleep 0.05
	done
	return 0
}

dg_postfix_reload() {
	postfix -c "$DG_POSTFIX_DIR" reload >/dev/null 2>&1 || dg_fail "postfix reload failed"
	# smtpd processes restart on their next connection; give the master a moment
	sleep 0.3
}

dg_postfix_flush() {
	postqueue -c "$DG_POSTFIX_DIR" -f >/dev/null 2>&1
}

dg_postfix_queue_empty() {
	[ -z "$(find "$DG_POSTFIX_DIR/queue/incoming" "$DG_POSTFIX_DIR/queue/active" \
		"$DG_POSTFIX_DIR/queue/deferred" "$DG_POSTFIX_DIR/queue/maildrop" -type f 2>/dev/null)" ]
}
