# store-pg-run.sh: run store test programs against a private PostgreSQL
# (tests/harness/postgres.sh), for the test-*-pg.sh wrappers: each program
# gets DESKGATE_TEST_STORE_URL (tests/unit/test-store-url.h) and the
# server's port and password. Skips (77) when PostgreSQL is absent, fails
# then when CI is set. Usage (sourced, bash): dg_store_pg_run NAME PROGRAM...
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/postgres.sh"

dg_store_pg_run() {
	local name=$1 p rc=0
	shift
	dg_root_init "$name"
	dg_pg_start
	export DESKGATE_TEST_STORE_URL=$DG_PG_CONNINFO
	for p in "$@"; do
		dg_log "$p against PostgreSQL on port $DG_PG_PORT"
		"$top_builddir/tests/unit/$p"
		case $? in
		0) ;;
		77) dg_log "$p skipped" ;;
		*) rc=1 ;;
		esac
	done
	return $rc
}
