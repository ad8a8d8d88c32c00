#!/bin/bash
# test-store-copy against a real PostgreSQL (tests/harness/postgres.sh): the
# copier knows every table of a fresh PostgreSQL store too (issue 17).
set -u
. "$top_srcdir/tests/unit/store-pg-run.sh"
dg_store_pg_run test-store-copy-pg test-store-copy
