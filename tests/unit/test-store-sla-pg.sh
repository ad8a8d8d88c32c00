#!/bin/bash
# test-store-sla against a real PostgreSQL that the harness starts from a temp
# directory (the same suite as against SQLite; issue 17).
set -u
. "$top_srcdir/tests/unit/store-pg-run.sh"
dg_store_pg_run test-store-sla-pg test-store-sla
