#!/bin/bash
# Where a process's resident memory is: runs COMMAND, samples
# /proc/PID/smaps every second, and prints, for the sample with the largest
# RSS, the resident kilobytes by kind (the heap, other anonymous mappings,
# PCRE2's JIT code, the magic database, each group of shared libraries:
# their text and data count in RSS too) and the VmHWM at the end.
#
#   tests/bench/rss-breakdown.sh build/deskgate -q -c home/deskgate.conf import --no-progress md
#
# As a DESKGATE for the benchmarks (samples only `run` and `import`; the
# table goes to RSS_OUT, default /dev/stderr):
#
#   BACKLOG_ONLY=1 DESKGATE=$PWD/tests/bench/rss-breakdown.sh \
#   RSS_DESKGATE=$PWD/build/deskgate RSS_OUT=/tmp/rss.txt tests/bench/bench-imap.sh 5000
set -u
if [ -n "${RSS_DESKGATE:-}" ]; then
	case " $* " in
	*" run "* | *" import "*) set -- "$RSS_DESKGATE" "$@" ;;
	*) exec "$RSS_DESKGATE" "$@" ;;
	esac
fi
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 64; }
out=${RSS_OUT:-/dev/stderr}
tmp=$(mktemp -d /tmp/rss-breakdown.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$@" &
pid=$!
best=0
hwm=0
while kill -0 "$pid" 2>/dev/null; do
	if cp "/proc/$pid/smaps" "$tmp/now" 2>/dev/null; then
		rss=$(awk '/^Rss:/ { t += $2 } END { print t + 0 }' "$tmp/now")
		[ "$rss" -gt "$best" ] && best=$rss && mv "$tmp/now" "$tmp/peak"
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ -n "$h" ] && hwm=$h
	fi
	sleep 1
done
wait "$pid"
ret=$?
[ -f "$tmp/peak" ] || exit "$ret"
{
	echo "rss-breakdown: $*"
	awk -v b="$best" -v h="$hwm" 'BEGIN { printf "  largest sample: %.1f MB resident; last VmHWM seen: %.1f MB\n", b / 1024, h / 1024 }'
	awk -v exe="$(basename "$1")" '
	/^[0-9a-f]+-/ { perm = $2; name = $6 }
	/^Rss:/ {
		r = $2
		if (name ~ /magic\.mgc/) k = "libmagic database (magic.mgc)"
		else if (name ~ ("/" exe "$")) k = "the program (text, data)"
		else if (name ~ /libcrypto|libssl/) k = "OpenSSL (libcrypto, libssl)"
		else if (name ~ /libgnutls|libnettle|libhogweed|libgmp|libp11|libtasn1|libunistring|libidn2|libffi/) k = "GnuTLS and its libraries (for libetpan, libcurl)"
		else if (name ~ /libicu|libstdc|libxml2|liblzma|libz\.|libgcc/) k = "libxml2, ICU, libstdc++"
		else if (name ~ /libpq|libldap|liblber|libkrb|libk5|libgssapi|libsasl|libcom_err|libkeyutils/) k = "libpq, Kerberos, LDAP, SASL"
		else if (name ~ /libc\.so|ld-linux|libm\.so/) k = "libc, ld.so, libm"
		else if (name ~ /libsqlite/) k = "SQLite (library text)"
		else if (name ~ /^\//) k = "other shared libraries and files"
		else if (name == "[heap]") k = "heap (main malloc arena)"
		else if (name == "[stack]") k = "main stack"
		else if (perm ~ /x/) k = "JIT code (PCRE2)"
		else k = "other anonymous (thread arenas and stacks, large mallocs)"
		kb[k] += r
	}
	END { for (k in kb) if (kb[k] > 0) printf "  %7.1f MB  %s\n", kb[k] / 1024, k }' "$tmp/peak" | sort -rn
} >>"$out"
exit "$ret"
