#!/bin/bash
# test-wake-pg: LISTEN/NOTIFY on PostgreSQL (issue 17). Gateway A is
# `deskgate ingest` (it commits a ticket and queues its acknowledgement,
# sending nothing); gateway B is a `deskgate run` on the same database
# that sends the outbox. Run twice: B listening ([store] listen = yes: the
# commit's NOTIFY wakes it) with its outbox poll made long ([store] poll =
# 60s), where every ack must reach the sink within WAKE_BOUND seconds of
# A's commit (a bound the poll cannot meet: it fails without LISTEN); and
# B not listening (listen = no: notifications lost; its one-second poll
# must still deliver every one). Prints the latency from A's commit (its
# exit) to the SMTP sink's receipt for each.
#   WAKE_N      messages per run (default 6; tests/bench/bench-wake.sh: 60)
#   WAKE_BOUND  seconds (default 5)
set -u
. "$top_srcdir/tests/harness/lib.sh"
. "$top_srcdir/tests/harness/postgres.sh"
dg_root_init test-wake-pg
dg_require_cmd python3
dg_pg_start
N=${WAKE_N:-6}
BOUND=${WAKE_BOUND:-5}

SMTP_PORT=$(dg_free_port)
python3 "$top_srcdir/tests/harness/smtpfault.py" --port "$SMTP_PORT" --spool "$DG_ROOT/spool" \
	>"$DG_ROOT/sink.log" 2>&1 &
sink=$!
dg_on_exit "kill $sink 2>/dev/null"
dg_wait_port "$SMTP_PORT" 10 || dg_fail "SMTP sink did not start"

B_PID=
stop_b() {
	[ -n "$B_PID" ] || return 0
	kill -TERM "$B_PID" 2>/dev/null
	wait "$B_PID" 2>/dev/null
	B_PID=
}
dg_on_exit stop_b

# desk MODE: a desk on database wake_MODE with [store] listen = MODE
desk() {
	local dir=$DG_ROOT/desk-$1
	"$DESKGATE" init "$dir" >/dev/null 2>&1 || dg_fail "deskgate init"
	dg_pg_psql_admin -q -c "CREATE DATABASE wake_$1" || dg_fail "create database"
	sed -i "/^\[general\]/a database = ${DG_PG_URL%/*}/wake_$1\nhostname = desk.example.test\nsupport_address = support@example.test" \
		"$dir/deskgate.conf"
	sed -i "/^\[smtp\]/a host = 127.0.0.1\nport = $SMTP_PORT\nsecurity = none\ntimeout = 5s" \
		"$dir/deskgate.conf"
	sed -i "/^\[store\]/a listen = $1" "$dir/deskgate.conf"
	# listening: a poll too slow to meet the bound (only the NOTIFY can)
	[ "$1" = yes ] && sed -i "/^\[store\]/a poll = 60s" "$dir/deskgate.conf"
	"$DESKGATE" -c "$dir/deskgate.conf" config check >/dev/null || dg_fail "config check"
}

declare -A median
for mode in yes no; do
	desk $mode
	dir=$DG_ROOT/desk-$mode
	"$DESKGATE" -c "$dir/deskgate.conf" run >>"$dir/run.log" 2>&1 &
	B_PID=$!
	wait_b() { grep -q "polling 0 mailbox\|no \[mailbox" "$dir/run.log"; }
	dg_wait_for 20 wait_b || { cat "$dir/run.log"; dg_fail "gateway B did not start"; }
	out=$(python3 - "$DESKGATE" "$dir/deskgate.conf" "$DG_ROOT/spool" "$N" "$mode" <<'PY'
import glob, os, statistics, subprocess, sys, time
dg, conf, spool, n, mode = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
lat = []
for i in range(n):
    before = len(glob.glob(spool + "/*.eml"))
    mail = ("From: Customer %d <c%d-%s@customer.example>\r\nTo: support@example.test\r\n"
            "Subject: wake %s %d\r\nMessage-ID: <wake-%s-%d@customer.example>\r\n"
            "Date: Wed, 01 Jan 2025 00:00:00 +0000\r\n\r\nHello.\r\n"
            % (i, i, mode, mode, i, mode, i)).encode()
    subprocess.run([dg, "-c", conf, "-q", "ingest"], input=mail, check=True,
                   stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    while len(glob.glob(spool + "/*.eml")) <= before:
        if time.monotonic() - t0 > 20:
            print("timeout %d" % i)
            sys.exit(1)
        time.sleep(0.002)
    lat.append(time.monotonic() - t0)
    time.sleep(0.05 * (i % 7))  # commits land at different points of B's poll second
print("%d %.3f %.3f" % (len(lat), statistics.median(lat), max(lat)))
PY
) || { tail "$dir/run.log"; dg_fail "listen = $mode: an acknowledgement was not delivered within 20 s ($out)"; }
	read -r got med max <<<"$out"
	dg_assert_eq "$N" "$got" "acks delivered with listen = $mode"
	median[$mode]=$med
	if [ "$mode" = yes ] && ! python3 -c "import sys; sys.exit(0 if $max < $BOUND else 1)"; then
		dg_fail "listen = yes, poll = 60s: an ack took ${max} s (bound ${BOUND} s): the NOTIFY did not wake B"
	fi
	dg_log "listen = $mode: $N acks, commit on A to send by B: median ${med} s, max ${max} s"
	stop_b
done
# B sent them: A (ingest) sends nothing
dg_assert_eq $((2 * N)) "$(ls "$DG_ROOT/spool" | grep -c '\.eml$')" "acks at the sink"
dg_log "latency median: NOTIFY ${median[yes]} s, polling ${median[no]} s"
dg_log PASS
