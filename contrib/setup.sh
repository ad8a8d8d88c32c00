#!/bin/sh
# deskgate quick start for a fresh Debian 12 machine (run as root).
#
#   sh contrib/setup.sh demo   install the build dependencies and a mail server,
#                              build, and run the demo: sample mail sent to a
#                              local support mailbox becomes tickets, and the
#                              customers get their acknowledgements
#   sh contrib/setup.sh test   install what the tests need, build, run the whole
#                              suite, then again under ASan+UBSan
#
# The build happens in ./build (and ./build-san); the source tree stays clean.
set -eu

mode=${1:-}
case "$mode" in
demo|test|deps) ;;
*) echo "usage: sh contrib/setup.sh demo|test" >&2; exit 64 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Build dependencies, and for the tests the real mail servers they run.
build_pkgs="build-essential autoconf automake libtool pkg-config
  libetpan-dev libcurl4-gnutls-dev libssl-dev libsqlite3-dev libpcre2-dev
  libuchardet-dev libxml2-dev libinih-dev libjansson-dev libmagic-dev libarchive-dev
  libmicrohttpd-dev libpq-dev ca-certificates"
# systemd: systemd-analyze verifies the unit; prometheus: promtool parses
# the metrics (on a host run by systemd, installing it also starts a
# Prometheus server on :9090; the tests do not need that one). util-linux:
# unshare, flock. postgresql: the store suites run again against a private
# server the tests start (tests/harness/postgres.sh); Debian's own cluster on
# :5432, which installing it may start, is not used. neomutt in tmux: the
# agent's mail client of test-handover-client (it skips without them).
test_pkgs="dovecot-imapd dovecot-lmtpd dovecot-sieve postfix isync sqlite3
  python3 openssl s-nail procps systemd prometheus util-linux chromium fonts-noto-cjk
  postgresql neomutt tmux"

# The demo runs a throwaway Dovecot and Postfix too.
demo_pkgs="dovecot-imapd dovecot-lmtpd postfix python3 openssl"
need=""
pkgs="$build_pkgs $test_pkgs"
[ "$mode" = demo ] && pkgs="$build_pkgs $demo_pkgs"
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	echo "==> installing Debian packages:$need"
	export DEBIAN_FRONTEND=noninteractive
	# Postfix must not ask questions or configure a system mailer.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# Dovecot runs the test mailboxes as this user (it refuses root).
if ! id vmail >/dev/null 2>&1; then
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin vmail
fi
[ "$mode" = deps ] && exit 0

jobs=$(nproc 2>/dev/null || echo 2)
build() { # build DIR [configure args]
	dir=$1; shift
	[ -x configure ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p "$dir"
	(cd "$dir" && { [ -f Makefile ] || "$top/configure" -q "$@"; } && make -s -j"$jobs" >/dev/null)
}

# Run `make check`, print the harness summary as one plain line, and
# show the logs of failed tests.
check() { # check DIR LABEL (one word: it starts the summary line)
	dir=$1; label=$2
	echo "==> make check ($label)"
	rc=0
	(cd "$dir" && make -s -j"$jobs" check >/dev/null 2>&1) || rc=$?
	log="$dir/test-suite.log"
	if [ -f "$log" ]; then
		sed -n '/^# TOTAL/,/^# ERROR/p' "$log"
		grep -E '^(FAIL|ERROR|SKIP):' "$dir"/tests/*/*.log 2>/dev/null | head -n 0 || true
		for t in $(find "$dir/tests" -name '*.trs' -exec grep -l ':test-result: \(FAIL\|ERROR\)' {} +); do
			echo "---- ${t%.trs}.log"; tail -n 40 "${t%.trs}.log"
		done
		for t in $(find "$dir/tests" -name '*.trs' -exec grep -l ':test-result: SKIP' {} +); do
			echo "skipped: $(basename "${t%.trs}"): $(grep -m1 '^SKIP' "${t%.trs}.log" || echo 'see log')"
		done
		pass=$(sed -n 's/^# PASS: *//p' "$log"); fail=$(sed -n 's/^# FAIL: *//p' "$log")
		err=$(sed -n 's/^# ERROR: *//p' "$log"); skip=$(sed -n 's/^# SKIP: *//p' "$log")
		echo "$label: ${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped"
		total_pass=$(( total_pass + ${pass:-0} ))
		total_fail=$(( total_fail + ${fail:-0} + ${err:-0} ))
		total_skip=$(( total_skip + ${skip:-0} ))
	fi
	return $rc
}

if [ "$mode" = demo ]; then
	echo "==> building"
	build build
	exec bash contrib/demo.sh "$top/build/deskgate"
fi

total_pass=0 total_fail=0 total_skip=0
echo "==> building"
build build
status=0
check build tests || status=1
echo "==> building with ASan+UBSan"
build build-san --enable-sanitizers
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	check build-san sanitizers || status=1
echo "==> make distcheck (the release tarball builds and passes its tests)"
if (cd build && make -s -j"$jobs" distcheck >distcheck.log 2>&1); then
	total_pass=$((total_pass + 1))
	echo "distcheck: ok"
else
	total_fail=$((total_fail + 1)); status=1
	echo "distcheck: FAILED"; tail -n 40 build/distcheck.log
fi
[ $status -eq 0 ] || echo "FAILED: see the test logs above"
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
