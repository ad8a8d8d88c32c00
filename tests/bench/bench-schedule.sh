#!/bin/sh
# The daemon's scheduler tick against the number of open tickets (issue 13:
# under 10 ms a tick and flat from 1,000 to 100,000 open tickets). Builds
# stores of 1k, 10k and 100k open tickets with their SLA clocks and timers
# and times an idle tick, a tick with 10 tickets due, and, as the reference
# measured in the same run, a query over every open ticket (what a
# scheduler without the timers' index would do). See bench-schedule.c.
# Usage: tests/bench/bench-schedule.sh [N...]   (BUILD=build dir, default ./build)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
bs=$build/tests/bench/bench-schedule
[ -x "$bs" ] || (cd "$build" && make -s tests/bench/bench-schedule)
work=$(mktemp -d /tmp/dg-bench-schedule.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ $# -gt 0 ] || set -- 1000 10000 100000
echo "bench-schedule: load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
"$bs" "$work" "$@"
