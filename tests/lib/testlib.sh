# testlib.sh: helpers for shell tests (sourced). Each assertion prints one
# line; tl_done exits 0 when all passed, 1 otherwise. Temp dirs are removed
# at exit unless KEEP_TMP=1.
tl_pass=0
tl_fail=0
# Every temp dir of the test is made under one root, made here in the
# test's own shell: tl_tmpdir runs in a subshell (home=$(tl_tmpdir)), so a
# list it kept would be lost with it and the dirs left behind.
tl_root=$(mktemp -d /tmp/dg-test.XXXXXX)

tl_cleanup() {
	[ "${KEEP_TMP:-0}" = 1 ] && return
	rm -rf "$tl_root"
}
trap tl_cleanup EXIT
trap 'exit 130' INT TERM

tl_tmpdir() {
	mktemp -d "$tl_root/t.XXXXXX"
}

tl_ok() { tl_pass=$((tl_pass + 1)); echo "ok - $1"; }
tl_not_ok() { tl_fail=$((tl_fail + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# tl_run NAME CMD...: CMD must exit 0.
tl_run() {
	name=$1; shift
	if out=$("$@" 2>&1); then tl_ok "$name"; else tl_not_ok "$name" "exit $?: $*" "$out"; fi
}
tl_assert_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then tl_ok "$1"; else tl_not_ok "$1" "got:  $2" "want: $3"; fi
}
tl_assert_match() { # NAME GOT REGEX
	if printf '%s\n' "$2" | grep -q -- "$3"; then tl_ok "$1"; else tl_not_ok "$1" "got:  $2" "want /$3/"; fi
}
tl_assert_file() {
	if [ -f "$1" ]; then tl_ok "exists: $1"; else tl_not_ok "exists: $1"; fi
}
tl_skip() { echo "SKIP: $1"; exit 77; }
tl_done() {
	echo "$tl_pass passed, $tl_fail failed"
	[ "$tl_pass" -gt 0 ] && [ "$tl_fail" -eq 0 ]
	exit $?
}
