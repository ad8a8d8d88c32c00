#!/bin/sh
# The deskgate demo: a fresh deskgate home, the sample mails of
# contrib/demo-mail ingested as an MTA would pipe them, and what became of
# them. Usage: sh contrib/demo.sh [PATH-TO-deskgate]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dg=${1:-$top/build/deskgate}
home=${DESKGATE_DEMO_HOME:-/tmp/deskgate-demo}
# Run from the build tree: templates and default rules come from the source.
DESKGATE_DATADIR=${DESKGATE_DATADIR:-$top:$top/contrib}
export DESKGATE_DATADIR

rm -rf "$home"
"$dg" init --address support@example.test --hostname desk.example.test "$home" >/dev/null
conf="$home/deskgate.conf"
echo "==> deskgate home: $home (config $conf)"
for m in "$top"/contrib/demo-mail/*.eml; do
	printf '%-32s -> ' "$(basename "$m")"
	"$dg" -q -c "$conf" ingest "$m"
done
echo "==> the same mail delivered twice is stored once:"
"$dg" -q -c "$conf" ingest "$top/contrib/demo-mail/01-en-failed-trade.eml"
echo "==> deskgate ticket list"
"$dg" -c "$conf" ticket list
echo
echo "==> deskgate ticket show 2"
"$dg" -c "$conf" ticket show 2
echo
echo "==> deskgate quarantine list"
"$dg" -c "$conf" quarantine list
echo
echo "Try: $dg -c $conf ticket show 1 --json"
