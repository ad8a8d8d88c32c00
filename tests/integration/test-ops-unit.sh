#!/bin/bash
# contrib/deskgate.service against systemd's own checks: `systemd-analyze
# verify` (syntax, every key known, ExecStart= executable, the man pages of
# Documentation= found) must pass without a word, and `systemd-analyze
# security` must rate the sandbox at most 2.0 ("OK"; --threshold is in tenths). A copy with a typo
# and one with a weakened sandbox must fail, so the checks can fail.
. "$top_srcdir/tests/harness/lib.sh"
dg_root_init test-ops-unit
dg_require_cmd systemd-analyze sed

unit_in=$top_srcdir/contrib/deskgate.service.in
built=$top_builddir/contrib/deskgate.service
[ -f "$built" ] || dg_fail "no $built (make check builds it from $unit_in)"
grep -q '@bindir@\|@sysconfdir@' "$built" && dg_fail "$built still has @...@ placeholders"
grep -q '^ExecStart=/.*/deskgate -c /.*/deskgate.conf run$' "$built" ||
	dg_fail "ExecStart= of $built: $(grep ExecStart= "$built")"

# The installed unit names the installed binary; verify checks that it is
# executable: point it at this build's. The man pages come from the tree.
dir=$DG_ROOT/unit
mkdir -p "$dir" "$DG_ROOT/man/man8" "$DG_ROOT/man/man5"
sed -e "s|^ExecStart=[^ ]*/deskgate |ExecStart=$DESKGATE |" "$built" >"$dir/deskgate.service"
cp "$top_srcdir/man/deskgate.8" "$DG_ROOT/man/man8/"
cp "$top_srcdir/man/deskgate.conf.5" "$DG_ROOT/man/man5/"
if command -v man >/dev/null 2>&1; then
	man_opt=
	export MANPATH=$DG_ROOT/man
else
	dg_log "man not installed: not checking Documentation= pages"
	man_opt=--man=no
fi

verify() { # FILE: prints what systemd-analyze says, returns its status
	(cd "$(dirname "$1")" && systemd-analyze verify $man_opt "./$(basename "$1")" 2>&1)
}
out=$(verify "$dir/deskgate.service") || dg_fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || dg_fail "systemd-analyze verify is not silent: $out"
dg_log "verify: clean"

for key in Type=notify NotifyAccess=main User=deskgate ProtectSystem=strict \
	ReadWritePaths=/var/lib/deskgate NoNewPrivileges=yes PrivateTmp=yes ProtectHome=yes \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'ExecReload=/bin/kill -HUP $MAINPID' \
	StateDirectory=deskgate WatchdogSec=; do
	grep -q "^$key" "$dir/deskgate.service" || dg_fail "the unit lacks $key"
done

score=$(systemd-analyze security --offline=yes "$dir/deskgate.service" 2>&1 |
	sed -n 's/.*Overall exposure level for deskgate.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || dg_fail "systemd-analyze security gave no exposure level"
dg_log "security: exposure $score"
systemd-analyze security --offline=yes --threshold=20 "$dir/deskgate.service" >/dev/null 2>&1 ||
	dg_fail "exposure $score is above 2.0"

# The checks can fail: a typo'd key, then a sandbox taken away.
mkdir -p "$DG_ROOT/bad1" "$DG_ROOT/bad2"
sed 's/^ProtectSystem=/ProtectSytem=/' "$dir/deskgate.service" >"$DG_ROOT/bad1/deskgate.service"
out=$(verify "$DG_ROOT/bad1/deskgate.service")
case "$out" in
*"Unknown key"*ProtectSytem*) dg_log "a typo is reported" ;;
*) dg_fail "verify did not report a typo: $out" ;;
esac
grep -v -e '^Protect' -e '^Private' -e '^Restrict' -e '^SystemCall' -e '^Capability' \
	"$dir/deskgate.service" >"$DG_ROOT/bad2/deskgate.service"
if systemd-analyze security --offline=yes --threshold=20 "$DG_ROOT/bad2/deskgate.service" \
	>/dev/null 2>&1; then
	dg_fail "an unsandboxed unit passed the security threshold"
fi

# The user the unit runs as comes with it (systemd-sysusers syntax).
grep -q '^u deskgate ' "$top_srcdir/contrib/sysusers/deskgate.conf" ||
	dg_fail "contrib/sysusers/deskgate.conf does not create the deskgate user"
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$DG_ROOT/root/etc"
	: >"$DG_ROOT/root/etc/passwd"
	: >"$DG_ROOT/root/etc/group"
	systemd-sysusers --root="$DG_ROOT/root" "$top_srcdir/contrib/sysusers/deskgate.conf" \
		>/dev/null 2>&1 || dg_fail "systemd-sysusers refused contrib/sysusers/deskgate.conf"
	grep -q '^deskgate:x:[0-9]*:[0-9]*:deskgate mail gateway:/var/lib/deskgate:/usr/sbin/nologin$' \
		"$DG_ROOT/root/etc/passwd" || dg_fail "sysusers made: $(cat "$DG_ROOT/root/etc/passwd")"
	dg_log "sysusers: $(cat "$DG_ROOT/root/etc/passwd")"
fi
dg_log "ok"
