#!/bin/bash
# test-report-mail (the weekly report by mail through ingest, deskmail and
# the scheduler) against a real PostgreSQL that the harness starts from a
# temp directory.
set -u
. "$top_srcdir/tests/unit/store-pg-run.sh"
dg_store_pg_run test-report-mail-pg test-report-mail
