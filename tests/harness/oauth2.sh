# oauth2.sh: OAuth2 for the test Dovecot (dovecot.sh): its oauth2 passdb
# validates access tokens against a local introspection endpoint
# (oauth2-introspect.py, on a free loopback port), and XOAUTH2 and
# OAUTHBEARER are offered beside PLAIN and LOGIN, for IMAP and, through
# Dovecot's SASL socket, for Postfix's submission port (postfix.sh).
# Source lib.sh and dovecot.sh, call dg_root_init, then:
#
#   dg_oauth2_setup           before dg_dovecot_start: start the endpoint
#                             (stopped by dg_on_exit) and add the passdb.
#                             Exports DG_OAUTH2_TOKENS (the valid tokens,
#                             "TOKEN USERNAME" per line, read per request)
#                             and DG_OAUTH2_LOG (one line per request:
#                             "active USER" or "inactive").
#   dg_oauth2_grant TOKEN USER    make TOKEN valid for USER
#   dg_oauth2_revoke TOKEN        make TOKEN invalid (expired, rotated)
#   dg_oauth2_count WORD          requests answered "active"/"inactive"

dg_oauth2_setup() {
	dg_require_cmd python3
	[ -f "$DG_ROOT/dovecot/dovecot.conf" ] || dg_dovecot_write_config
	local d=$DG_ROOT/oauth2 port
	mkdir -p "$d"
	DG_OAUTH2_TOKENS=$d/tokens
	DG_OAUTH2_LOG=$d/requests.log
	: >"$DG_OAUTH2_TOKENS"
	: >"$DG_OAUTH2_LOG"
	chmod 644 "$DG_OAUTH2_TOKENS"
	port=$(dg_free_port)
	python3 "$top_srcdir/tests/harness/oauth2-introspect.py" "$port" "$DG_OAUTH2_TOKENS" \
		"$DG_OAUTH2_LOG" 2>>"$d/server.log" &
	DG_OAUTH2_PID=$!
	dg_on_exit dg_oauth2_stop
	dg_wait_port "$port" 10 || dg_fail "the OAuth2 introspection endpoint did not start"
	cat >"$d/dovecot-oauth2.conf.ext" <<EXT
introspection_mode = post
introspection_url = http://127.0.0.1:$port/introspect
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
EXT
	# Later settings win: the mechanisms are extended; the oauth2 passdb
	# comes after the passwd-file one (a token is no user's password).
	cat >>"$DG_ROOT/dovecot/dovecot.conf" <<CONF
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  args = $d/dovecot-oauth2.conf.ext
}
CONF
	export DG_OAUTH2_TOKENS DG_OAUTH2_LOG
}

dg_oauth2_stop() {
	[ -n "${DG_OAUTH2_PID:-}" ] || return 0
	kill "$DG_OAUTH2_PID" 2>/dev/null
	wait "$DG_OAUTH2_PID" 2>/dev/null
	DG_OAUTH2_PID=
}

dg_oauth2_grant() {
	echo "$1 $2" >>"$DG_OAUTH2_TOKENS"
}

dg_oauth2_revoke() {
	local tmp=$DG_OAUTH2_TOKENS.tmp
	awk -v t="$1" '$1 != t' "$DG_OAUTH2_TOKENS" >"$tmp"
	chmod 644 "$tmp"
	mv "$tmp" "$DG_OAUTH2_TOKENS"
}

dg_oauth2_count() {
	grep -c "^$1\\b" "$DG_OAUTH2_LOG"
}
