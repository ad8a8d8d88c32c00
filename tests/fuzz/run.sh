#!/bin/sh
# Run the libFuzzer targets already built by `CC=clang ./configure
# --with-fuzzer --enable-sanitizers && make` (this script builds nothing),
# each for a while, and report executions and crashes (docs/fuzzing.md).
#
#   tests/fuzz/run.sh [-t SECONDS] [-b BUILDDIR] [-w WORKDIR] [-k] [TARGET...]
#
#   -t SECONDS  time per target (default 60)
#   -b BUILDDIR the build directory (default: the current directory)
#   -w WORKDIR  where the growing corpora, logs and crash inputs go
#               (default BUILDDIR/fuzz-work); the seed corpora in the
#               source tree are read, never written
#   -k          keep going after a crash (libFuzzer's -fork=1 mode with
#               -ignore_crashes), to collect several crashes in one run
#   TARGET      mime, rfc2047, ... (default: every built target)
#
# Crash inputs are WORKDIR/crashes/TARGET-crash-HASH (or -leak-, -timeout-,
# -oom-); replay one with BUILDDIR/tests/fuzz/fuzz-TARGET FILE, or without
# libFuzzer with BUILDDIR/tests/unit/test-fuzz-corpus TARGET FILE. Exit
# status 1 when any target crashed, 2 on a usage error.
set -u

secs=60
build=.
work=
keep=0
while getopts t:b:w:kh opt; do
	case $opt in
	t) secs=$OPTARG ;;
	b) build=$OPTARG ;;
	w) work=$OPTARG ;;
	k) keep=1 ;;
	*) sed -n '2,21s/^# \{0,1\}//p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $secs in
'' | *[!0-9]*) echo "run.sh: -t wants a number of seconds" >&2; exit 2 ;;
esac

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run.sh: no build directory $build" >&2; exit 2; }
[ -n "$work" ] || work=$build/fuzz-work
mkdir -p "$work/crashes" || exit 2

if [ $# -eq 0 ]; then
	set --
	for bin in "$build"/tests/fuzz/fuzz-*; do
		case $bin in *.o) continue ;; esac
		if [ -f "$bin" ] && [ -x "$bin" ]; then
			set -- "$@" "${bin##*/fuzz-}"
		fi
	done
	if [ $# -eq 0 ]; then
		echo "run.sh: no fuzz targets in $build/tests/fuzz: build with" \
			"CC=clang ./configure --with-fuzzer --enable-sanitizers && make" >&2
		exit 2
	fi
fi

# Sanitizer reports abort, so that libFuzzer saves the input.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

status=0
printf '%-10s %8s %12s %9s %7s  %s\n' target seconds executions exec/s corpus crashes
for t in "$@"; do
	bin=$build/tests/fuzz/fuzz-$t
	if [ ! -x "$bin" ]; then
		printf '%-10s not built (%s)\n' "$t" "$bin"
		status=1
		continue
	fi
	mkdir -p "$work/corpus/$t"
	stamp=$work/.started-$t
	: >"$stamp"
	dict=
	[ -f "$src/tests/fuzz/dict/$t.dict" ] && dict=-dict=$src/tests/fuzz/dict/$t.dict
	extra=
	[ "$keep" = 1 ] && extra="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
	start=$(date +%s)
	# shellcheck disable=SC2086 # $dict and $extra are empty or words
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/crashes/$t-" $dict $extra \
		"$work/corpus/$t" "$src/tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -n 1)
	[ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$work/$t.log" | tail -n 1 | tr -d '#')
	[ -n "$execs" ] || execs=0
	elapsed=$((end - start))
	rate=$((execs / (elapsed > 0 ? elapsed : 1)))
	ncorpus=$(find "$work/corpus/$t" -type f | wc -l)
	crashes=$(find "$work/crashes" -type f -name "$t-*" -newer "$stamp" | sort)
	new=$(printf '%s' "$crashes" | grep -c .)
	printf '%-10s %8d %12d %9d %7d  %d\n' "$t" "$elapsed" "$execs" "$rate" "$ncorpus" "$new"
	if [ "$new" -gt 0 ]; then
		status=1
		printf '%s\n' "$crashes" | sed 's/^/           /'
		grep -m 1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz check failed' \
			"$work/$t.log" | sed 's/^/           /'
	fi
done
echo "logs: $work/*.log"
exit $status
