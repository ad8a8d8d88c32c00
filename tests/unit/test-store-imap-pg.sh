#!/bin/bash
# test-store-imap against a real PostgreSQL that the harness starts from a temp
# directory (the same suite as against SQLite; issue 17).
set -u
. "$top_srcdir/tests/unit/store-pg-run.sh"
dg_store_pg_run test-store-imap-pg test-store-imap
