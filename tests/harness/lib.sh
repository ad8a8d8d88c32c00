# lib.sh: generic helpers for deskgate's integration tests and benchmarks.
# Source it from a test script (bash). It starts nothing by itself.
#
#   dg_root_init NAME      make a short temp root (DG_ROOT, mode 755) and
#                          install the EXIT/INT/TERM trap that runs every
#                          cleanup registered with dg_on_exit, then removes
#                          DG_ROOT (kept when DG_KEEP=1, for debugging)
#   dg_on_exit CMD...      register a cleanup command (run last-in first-out)
#   dg_exit_check CMD...   register a check run at exit; its failure fails
#                          the test (dg_root_init registers one that looks
#                          for sanitizer reports in every log under DG_ROOT)
#   dg_free_port           print a random free TCP port on 127.0.0.1 (>= 20000)
#   dg_wait_port PORT [S]  wait until 127.0.0.1:PORT accepts (default 10 s)
#   dg_make_ca DIR         throwaway CA: DIR/ca.pem, DIR/ca.key
#   dg_make_cert DIR NAME SAN
#                          key and certificate signed by DIR's CA:
#                          DIR/NAME.pem, DIR/NAME.key; SAN like
#                          "DNS:localhost,IP:127.0.0.1"
#   dg_require_cmd CMD...  skip (exit 77) with a reason when one is missing
#   dg_log MSG / dg_fail MSG / dg_skip MSG
#   dg_assert_eq WANT GOT WHAT
#   dg_wait_for S CMD...   retry CMD every 0.1 s for up to S seconds
#   dg_mail_user           the unprivileged user that owns test mail
#                          (vmail when it exists, else mail; when not root:
#                          the current user)
#
# Conventions: a test prints what it does on stdout, fails with exit 1 via
# dg_fail, skips with 77. Everything a test starts is registered with
# dg_on_exit so it is torn down even when the test fails.

DG_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DG_CLEANUPS=()
DG_CHECKS=()

dg_log() {
	printf '%s: %s\n' "${DG_TEST_NAME:-test}" "$*"
}

dg_fail() {
	printf '%s: FAIL: %s\n' "${DG_TEST_NAME:-test}" "$*" >&2
	exit 1
}

dg_skip() {
	printf '%s: SKIP: %s\n' "${DG_TEST_NAME:-test}" "$*"
	exit 77
}

dg_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || dg_skip "$c not found (install its Debian package)"
	done
}

dg_on_exit() {
	DG_CLEANUPS+=("$*")
}

# A last check run at exit (before the cleanups); when it fails, a test
# that would have passed fails.
dg_exit_check() {
	DG_CHECKS+=("$*")
}

# No sanitizer report in any log under DG_ROOT (the programs a test starts
# in the background write their stderr there).
dg_no_sanitizer_reports() {
	local hits
	hits=$(grep -rlE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$DG_ROOT" 2>/dev/null)
	[ -z "$hits" ] && return 0
	for f in $hits; do
		echo "sanitizer report in $f:" >&2
		grep -A 20 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$f" | head -40 >&2
	done
	return 1
}

dg_run_cleanups() {
	local rc=$? i
	trap - EXIT INT TERM
	# the checks first, while everything is still there
	for ((i = 0; i < ${#DG_CHECKS[@]}; i++)); do
		if ! eval "${DG_CHECKS[$i]}"; then
			[ "$rc" = 0 ] || [ "$rc" = 77 ] && rc=1
		fi
	done
	printf '%s: exit %d after %d s\n' "${DG_TEST_NAME:-test}" "$rc" "$SECONDS"
	for ((i = ${#DG_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${DG_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
	if [ -n "${DG_ROOT:-}" ] && [ -d "$DG_ROOT" ]; then
		if [ "${DG_KEEP:-0}" = 1 ] || { [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "${DG_KEEP:-0}" = fail ]; }; then
			echo "kept $DG_ROOT" >&2
		else
			rm -rf "$DG_ROOT"
		fi
	fi
	exit "$rc"
}

dg_root_init() {
	DG_TEST_NAME=${1:-test}
	# Short path: Dovecot and Postfix put unix sockets under it (~108 chars).
	DG_ROOT=$(mktemp -d /tmp/dg.XXXXXX) || dg_fail "mktemp"
	# mktemp makes 0700; the servers' unprivileged users must get in.
	chmod 755 "$DG_ROOT"
	export DG_ROOT DG_TEST_NAME
	# libetpan leaks a few bytes when a server greets with BYE; that is
	# theirs, not ours
	export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$DG_HARNESS_DIR/lsan.supp:print_suppressions=0}"
	dg_exit_check dg_no_sanitizer_reports
	trap dg_run_cleanups EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Ports in use, from /proc (no dependency on ss or netstat).
dg_ports_in_use() {
	local _sl addr _rest
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _sl addr _rest; do
		case "$addr" in
		*:[0-9A-Fa-f]*) echo $((16#${addr##*:})) ;;
		esac
	done
}

dg_free_port() {
	local used port i
	used=" $(dg_ports_in_use | tr '\n' ' ') ${DG_PORTS_TAKEN:-} "
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		case "$used" in
		*" $port "*) continue ;;
		esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			# remember it so two calls in a row never return the same port
			DG_PORTS_TAKEN="${DG_PORTS_TAKEN:-} $port"
			echo "$port"
			return 0
		fi
	done
	dg_fail "no free port found"
}

dg_wait_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

dg_wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

dg_assert_eq() {
	[ "$1" = "$2" ] || dg_fail "$3: want '$1', got '$2'"
}

dg_make_ca() {
	local dir=$1
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
		-subj "/CN=deskgate test CA $$" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 ||
		dg_fail "openssl: cannot make the test CA"
}

dg_make_cert() {
	local dir=$1 name=$2 san=$3
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" \
		-subj "/CN=${name}" >/dev/null 2>&1 || dg_fail "openssl: cannot make a key for $name"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" \
		>"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem" \
		>/dev/null 2>&1 || dg_fail "openssl: cannot sign the certificate for $name"
	chmod 644 "$dir/$name.key"
}

dg_mail_user() {
	if [ "$(id -u)" != 0 ]; then
		id -un
	elif getent passwd vmail >/dev/null; then
		echo vmail
	else
		# Debian's base-passwd always has "mail" (uid 8).
		echo mail
	fi
}

# Seconds since the epoch with fractions (for latency measurements).
dg_now() {
	date +%s.%N
}
