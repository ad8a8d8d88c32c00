#!/bin/sh
# `deskgate report` over a generated store of N tickets (default 1,000,000)
# spread over a year, and over a reference store of N/10 tickets measured
# in the same run: wall and CPU time and peak RSS of a report of the last
# week (text), the last 30 days (--by day --json), the whole year
# (--by queue --html) and the whole year by category as CSV. A week's report reads a week's rows and the open tickets, so its
# time should hardly grow from N/10 to N; the year's report reads
# everything, so its time grows with N while its memory stays flat (the
# distributions switch to a fixed histogram; the scans stream).
# The index each scan uses is asserted by tests/unit/test-report (plans).
# Usage: tests/bench/bench-report.sh [N]   (BUILD=build dir, default ./build)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000000}
build=${BUILD:-$top/build}
dg=$build/deskgate
work=$(mktemp -d /tmp/dg-bench-report.XXXXXX)
trap 'rm -rf "$work"' EXIT
end=1764460800 # 2025-11-30 00:00 UTC

measure() { # NAME HOME ARGS...: "NAME wall cpu rss"
	name=$1 home=$2
	shift 2
	/usr/bin/time -f '%e %U %S %M' -o "$work/t" "$dg" -q -c "$home/deskgate.conf" report \
		--until @$end "$@" >/dev/null
	read -r wall u s rss <"$work/t"
	echo "$name $wall $(echo "$u + $s" | bc) $rss"
}

for size in $((n / 10)) $n; do
	home=$work/s$size
	"$dg" init --address s@example.test --hostname d.example.test "$home" >/dev/null
	"$dg" -q -c "$home/deskgate.conf" ticket list >/dev/null
	t0=$(date +%s)
	python3 "$top/tests/bench/gen-report-store.py" "$home/deskgate.db" --tickets "$size" \
		--days 365 --end $end
	echo "generated $size tickets in $(($(date +%s) - t0)) s ($(du -m "$home/deskgate.db" | cut -f1) MB)"
	measure "week" "$home" --since @$((end - 7 * 86400)) >>"$work/r$size"
	measure "30d-by-day-json" "$home" --since @$((end - 30 * 86400)) --by day --json >>"$work/r$size"
	measure "year-by-queue-html" "$home" --since @$((end - 365 * 86400)) --by queue \
		--html "$work/r.html" >>"$work/r$size"
	measure "year-by-category-csv" "$home" --since @$((end - 365 * 86400)) --by category \
		--csv >>"$work/r$size"
	rm -rf "$home"
done

echo
printf '%-20s %10s %10s %10s %10s %10s %10s %8s %8s\n' report "wall_$((n / 10))" "cpu" "rss_kb" \
	"wall_$n" "cpu" "rss_kb" "cpu_x" "rss_x"
paste -d' ' "$work/r$((n / 10))" "$work/r$n" | while read -r name w1 c1 r1 _ w2 c2 r2; do
	printf '%-20s %10s %10s %10s %10s %10s %10s %8.2f %8.2f\n' "$name" "$w1" "$c1" "$r1" \
		"$w2" "$c2" "$r2" "$(echo "($c2 + 0.01) / ($c1 + 0.01)" | bc -l)" \
		"$(echo "$r2 / $r1" | bc -l)"
done
