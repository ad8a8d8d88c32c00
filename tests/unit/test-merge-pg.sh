#!/bin/bash
# test-merge (the whole #merge suite through ingest) against a real
# PostgreSQL that the harness starts from a temp directory.
set -u
. "$top_srcdir/tests/unit/store-pg-run.sh"
dg_store_pg_run test-merge-pg test-merge
