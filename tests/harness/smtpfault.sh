# smtpfault.sh: the outbox tests' relay (tests/harness/smtpfault.py) and a
# gateway configuration pointing at it. Source after lib.sh (or imap-lib.sh).

# smtpfault_conf NAME PORT [smtp lines]: $DG_ROOT/NAME/deskgate.conf, with a
# store of its own, for the relay on 127.0.0.1:PORT; prints its path
smtpfault_conf() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$DG_ROOT/$name"
	{
		printf '[general]\nstate_dir = %s\nhostname = gw.example.test\n' "$DG_ROOT/$name/state"
		printf 'support_address = support@example.test\nlog_level = error\n'
		printf '[smtp]\nhost = 127.0.0.1\nport = %s\nsecurity = none\ntimeout = 5s\n' "$port"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$DG_ROOT/$name/deskgate.conf"
	echo "$DG_ROOT/$name/deskgate.conf"
}

# smtpfault_start NAME PORT ARGS...: smtpfault.py on PORT, spool in
# $DG_ROOT/NAME/spool, its log (connections, sessions) in
# $DG_ROOT/NAME/server.log, its pid in $DG_ROOT/NAME/server.realpid;
# stopped at exit
smtpfault_start() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$DG_ROOT/$name"
	python3 "${srcdir:-$top_srcdir}/tests/harness/smtpfault.py" --port "$port" --spool "$DG_ROOT/$name/spool" \
		--ready "$DG_ROOT/$name/server.pid" "$@" >"$DG_ROOT/$name/server.log" 2>&1 &
	local pid=$!
	dg_on_exit "kill $pid"
	echo "$pid" >"$DG_ROOT/$name/server.realpid"
	dg_wait_port "$port" 10 || dg_fail "smtpfault on $port did not start"
}
