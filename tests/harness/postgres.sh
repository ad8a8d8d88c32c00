# postgres.sh: a private PostgreSQL for tests, from a temp directory under
# DG_ROOT on a free 127.0.0.1 port (initdb + pg_ctl; nothing in /etc is used
# or touched; fsync off: a test database need not survive a power cut).
# Source lib.sh first, call dg_root_init, then:
#
#   dg_pg_start     initdb (as a non-root user: initdb refuses root), start,
#                   create the database "deskgate" (UTF8, C locale) and
#                   register dg_pg_stop with dg_on_exit. Exports DG_PG_PORT,
#                   DG_PG_USER, DG_PG_PASSWORD (scram-sha-256 over TCP),
#                   DG_PG_URL (postgresql://user:password@127.0.0.1:port/deskgate)
#                   and DG_PG_CONNINFO (the same as "postgresql:key=value ...").
#                   Without PostgreSQL it skips (exit 77) naming the
#                   package, unless CI is set: then it fails.
#   dg_pg_stop      stop it (pg_ctl stop -m fast)
#   dg_pg_psql ARGS...  psql as the test user against the database
#
# It can also be run as a program for manual work:
#   tests/harness/postgres.sh start   (prints the URL, leaves it running)
#   tests/harness/postgres.sh stop ROOT

dg_pg_bindir() {
	local d
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v pg_ctl)"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	return 1
}

dg_pg_start() {
	local bin user pw
	if ! bin=$(dg_pg_bindir) || ! command -v psql >/dev/null 2>&1; then
		if [ -n "${CI:-}" ] && [ "${CI:-}" != false ]; then
			dg_fail "PostgreSQL not found (CI must have it: apt-get install postgresql)"
		fi
		dg_skip "PostgreSQL not found (install the Debian package postgresql)"
	fi
	DG_PG_BIN=$bin
	user=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		if getent passwd postgres >/dev/null; then user=postgres; else user=$(dg_mail_user); fi
	fi
	DG_PG_OS_USER=$user
	DG_PG_DIR=$DG_ROOT/pg
	mkdir -p "$DG_PG_DIR/data" "$DG_PG_DIR/run"
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$pw" >"$DG_PG_DIR/pwfile"
	[ "$(id -u)" = 0 ] && chown -R "$user" "$DG_PG_DIR"
	chmod 700 "$DG_PG_DIR/data"
	DG_PG_USER=deskgate
	DG_PG_PASSWORD=$pw
	DG_PG_PORT=$(dg_free_port)
	dg_pg_as "$bin/initdb" -D "$DG_PG_DIR/data" -U "$DG_PG_USER" --pwfile="$DG_PG_DIR/pwfile" \
		-E UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 \
		>"$DG_PG_DIR/initdb.log" 2>&1 || { cat "$DG_PG_DIR/initdb.log" >&2; dg_fail "initdb failed"; }
	rm -f "$DG_PG_DIR/pwfile"
	cat >>"$DG_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $DG_PG_PORT
unix_socket_directories = '$DG_PG_DIR/run'
fsync = off
synchronous_commit = on
full_page_writes = off
max_connections = 40
shared_buffers = 32MB
log_min_messages = warning
CONF
	dg_on_exit dg_pg_stop
	dg_pg_as "$bin/pg_ctl" -D "$DG_PG_DIR/data" -l "$DG_PG_DIR/server.log" -w -t 30 start \
		>"$DG_PG_DIR/start.log" 2>&1 || { cat "$DG_PG_DIR/start.log" "$DG_PG_DIR/server.log" >&2; dg_fail "postgres did not start"; }
	DG_PG_URL="postgresql://$DG_PG_USER:$DG_PG_PASSWORD@127.0.0.1:$DG_PG_PORT/deskgate"
	DG_PG_CONNINFO="postgresql:host=127.0.0.1 port=$DG_PG_PORT user=$DG_PG_USER password=$DG_PG_PASSWORD dbname=deskgate"
	export DG_PG_PORT DG_PG_USER DG_PG_PASSWORD DG_PG_URL DG_PG_CONNINFO DG_PG_BIN DG_PG_DIR
	dg_pg_psql_admin -q -c "CREATE DATABASE deskgate TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" ||
		dg_fail "cannot create the test database"
}

# Run a command as the server's (non-root) user.
dg_pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$DG_PG_OS_USER" -- "$@"
	else
		"$@"
	fi
}

dg_pg_psql_admin() {
	PGPASSWORD=$DG_PG_PASSWORD psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DG_PG_PORT" \
		-U "$DG_PG_USER" -d postgres "$@"
}

dg_pg_psql() {
	PGPASSWORD=$DG_PG_PASSWORD psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DG_PG_PORT" \
		-U "$DG_PG_USER" -d deskgate "$@"
}

dg_pg_stop() {
	[ -n "${DG_PG_DIR:-}" ] && [ -f "$DG_PG_DIR/data/postmaster.pid" ] || return 0
	dg_pg_as "${DG_PG_BIN:-$(dg_pg_bindir)}/pg_ctl" -D "$DG_PG_DIR/data" -m fast -w stop \
		>>"$DG_PG_DIR/start.log" 2>&1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	. "$(dirname "$0")/lib.sh"
	case "${1:-}" in
	start)
		DG_ROOT=$(mktemp -d /tmp/dg.XXXXXX)
		chmod 755 "$DG_ROOT"
		DG_CLEANUPS=()
		dg_pg_start
		echo "root $DG_ROOT"
		echo "url $DG_PG_URL"
		;;
	stop)
		DG_ROOT=${2:?usage: postgres.sh stop ROOT}
		DG_PG_DIR=$DG_ROOT/pg
		DG_PG_OS_USER=$(stat -c %U "$DG_PG_DIR/data")
		dg_pg_stop
		;;
	*)
		echo "usage: postgres.sh start | stop ROOT" >&2
		exit 64
		;;
	esac
fi
