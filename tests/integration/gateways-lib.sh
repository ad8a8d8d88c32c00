# gateways-lib.sh: several `deskgate run` on one store and one Dovecot
# (sourced by test-gateways.sh and tests/bench/bench-gateways.sh, after
# imap-lib.sh and imap_setup with IMAP_USERS naming the extra mailboxes).
#
#   gws_store DRIVER NAME         set GWS_LOC to a store location for DRIVER
#                                 (sqlite: a file NAME.db under DG_ROOT;
#                                 pg: the harness PostgreSQL, started here
#                                 unless running, database NAME created;
#                                 skips (77) without PostgreSQL)
#   gws_init STORE BOXES TTL      STORE: the store location every gateway
#                                 uses (an SQLite path or a postgresql://
#                                 URL); BOXES: the mailbox users; TTL:
#                                 [store] lease_ttl
#   gws_new I [HOSTNAME]          gateway home $DG_ROOT/gwI (own state_dir,
#                                 shared store, every mailbox, acks through
#                                 the SMTP sink); HOSTNAME: run it in a UTS
#                                 namespace of that name (another "host")
#   gws_start I / gws_kill I / gws_stop I
#   gws_pid I
#   gws_seed BOX COUNT START      COUNT messages <mk-START..>@ into BOX
#   gws_rows                      message rows in the shared store
#   gws_sql QUERY                 against STORE, either driver (plain SQL
#                                 both take: no strftime, no instr)
#   gws_now                       the epoch seconds, for queries
#   gws_takeover PID SECS         wait until no mailbox lease is held by PID's
#                                 holder id; prints the seconds it took
#   gws_acks                      "acks distinct duplicated resent" at the sink
GWS_STORE=
GWS_BOXES=
GWS_TTL=5

gws_init() {
	GWS_STORE=$1 GWS_BOXES=$2 GWS_TTL=$3
	GWS_SMTP_PORT=$(dg_free_port)
	mkdir -p "$DG_ROOT/sink"
	python3 "$top_srcdir/tests/harness/smtpfault.py" --port "$GWS_SMTP_PORT" \
		--spool "$DG_ROOT/sink/spool" >"$DG_ROOT/sink/server.log" 2>&1 &
	local pid=$!
	dg_on_exit "kill $pid 2>/dev/null"
	dg_wait_port "$GWS_SMTP_PORT" 10 || dg_fail "SMTP sink did not start"
	dg_on_exit gws_kill_all
}

gws_new() {
	local i=$1 host=${2:-} dir=$DG_ROOT/gw$1 box
	GW_ACK=yes gw_new "$dir" batch_size=20
	sed -i "/^\[general\]/a database = $GWS_STORE\nhostname = gw$i.example.test\nsupport_address = $USER1" \
		"$dir/deskgate.conf"
	sed -i "/^\[smtp\]/a host = 127.0.0.1\nport = $GWS_SMTP_PORT\nsecurity = none\ntimeout = 5s" \
		"$dir/deskgate.conf"
	sed -i "/^\[store\]/a lease_ttl = ${GWS_TTL}s" "$dir/deskgate.conf"
	for box in $GWS_BOXES; do
		[ "$box" = "$USER1" ] && continue
		printf '\n[mailbox %s]\nhost = 127.0.0.1\nport = %s\nusername = %s\n' \
			"${box%@*}" "$DG_IMAP_PORT" "$box"
		printf 'password = secret\nsecurity = none\ntimeout = 5\nbatch_size = 20\n'
	done >>"$dir/deskgate.conf"
	echo "$host" >"$dir/host"
}

gws_start() {
	local dir=$DG_ROOT/gw$1 host
	host=$(cat "$dir/host")
	if [ -n "$host" ]; then
		unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh "$host" \
			"$DESKGATE" -c "$dir/deskgate.conf" run >>"$dir/run.log" 2>&1 &
	else
		"$DESKGATE" -c "$dir/deskgate.conf" run >>"$dir/run.log" 2>&1 &
	fi
	echo $! >"$dir/pid"
}

gws_pid() {
	cat "$DG_ROOT/gw$1/pid" 2>/dev/null
}

gws_kill() {
	local pid
	pid=$(gws_pid "$1")
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$DG_ROOT/gw$1/pid"
}

gws_stop() {
	local pid i
	pid=$(gws_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		dg_pid_alive "$pid" || break
		sleep 0.05
	done
	dg_pid_alive "$pid" && dg_fail "gateway $1 did not stop within 15 s of SIGTERM"
	wait "$pid" 2>/dev/null
	rm -f "$DG_ROOT/gw$1/pid"
}

gws_kill_all() {
	local d
	for d in "$DG_ROOT"/gw*; do
		[ -f "$d/pid" ] && gws_kill "${d##*/gw}"
	done
	return 0
}

gws_seed() {
	python3 "$MKMAIL" --count "$2" --start "$3" --size tiny --maildir "$(dg_maildir "$1")" \
		--owner "$(id -u "$DG_MAIL_USER"):$(id -g "$DG_MAIL_USER")" >/dev/null ||
		dg_fail "mkmail"
}

gws_store() {
	case $1 in
	sqlite) GWS_LOC=$DG_ROOT/$2.db ;;
	pg)
		if [ -z "${DG_PG_URL:-}" ]; then
			. "$top_srcdir/tests/harness/postgres.sh"
			dg_pg_start
		fi
		dg_pg_psql_admin -q -c "CREATE DATABASE $2 TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" ||
			dg_fail "cannot create database $2"
		GWS_LOC=${DG_PG_URL%/*}/$2
		;;
	*) dg_fail "gws_store: no driver $1" ;;
	esac
}

gws_sql() {
	case $GWS_STORE in
	postgresql:* | postgres:*)
		PGCONNECT_TIMEOUT=5 psql -X -q -At -v ON_ERROR_STOP=1 -d "$GWS_STORE" -c "$1" ;;
	*) sqlite3 -cmd ".timeout 5000" "$GWS_STORE" "$1" ;;
	esac
}

gws_now() {
	date +%s
}

gws_rows() {
	gws_sql "select count(*) from messages where direction = 'in'"
}

gws_takeover() {
	local pid=$1 secs=$2 start now n
	start=$(date +%s.%N)
	while :; do
		n=$(gws_sql "select count(*) from leases where name like 'mailbox:%' and holder like '%:$pid:%'")
		[ "$n" = 0 ] && break
		now=$(date +%s.%N)
		if python3 -c "import sys; sys.exit(0 if $now - $start > $secs else 1)"; then
			echo timeout
			return 1
		fi
		sleep 0.1
	done
	now=$(date +%s.%N)
	python3 -c "print('%.1f' % ($now - $start))"
}

gws_acks() {
	python3 - "$DG_ROOT/sink/spool" <<'PY'
import collections, email, glob, sys
by_parent = collections.defaultdict(set)
copies = 0
for path in glob.glob(sys.argv[1] + "/*.eml"):
    m = email.message_from_binary_file(open(path, "rb"))
    copies += 1
    by_parent[m.get("In-Reply-To", "?")].add(m.get("Message-ID"))
distinct = sum(len(v) for v in by_parent.values())
dup = sum(len(v) - 1 for v in by_parent.values())
print(copies, distinct, dup, copies - distinct)
PY
}
