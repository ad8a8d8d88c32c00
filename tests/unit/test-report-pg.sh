#!/bin/bash
# test-report (every figure on the hand-made store, the same right answers) against a real
# PostgreSQL that the harness starts from a temp directory.
set -u
. "$top_srcdir/tests/unit/store-pg-run.sh"
dg_store_pg_run test-report-pg test-report
