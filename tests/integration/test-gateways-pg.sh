#!/bin/bash
# test-gateways-pg: test-gateways.sh with the three gateways on one
# PostgreSQL (the harness's, from a temp directory on a loopback port)
# instead of one SQLite file; skipped (77) only when PostgreSQL is absent.
GWS_DRIVER=pg exec "$top_srcdir/tests/integration/test-gateways.sh"
