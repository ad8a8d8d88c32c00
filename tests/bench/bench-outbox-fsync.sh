#!/bin/bash
# bench-outbox-fsync: system calls per mail of the outbox (strace -f -c of
# `smtp-tool run`), against smtpfault.py as the relay so the relay's own
# disk does not count: N mails in runs of 100 (the daemon's thread), then N
# more in runs of one (acknowledgements trickling in). Prints fdatasync,
# fcntl and all system calls per mail. Not part of `make check`.
#
#   tests/bench/bench-outbox-fsync.sh [N]     (default 200 messages)
# Env: top_srcdir, top_builddir (as bench-outbox.sh); SMTP_TOOL to measure
# another build's smtp-tool (old/new alternated).
set -u
N=${1:-200}
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/../..}
if [ -n "${top_builddir:-}" ]; then builddir=$top_builddir
elif [ -x ./deskgate ]; then builddir=.
else builddir=$srcdir/build; fi
. "$srcdir/tests/harness/lib.sh"
dg_root_init bench-outbox-fsync
dg_require_cmd python3 strace
tool=${SMTP_TOOL:-$builddir/tests/integration/smtp-tool}
[ -x "$tool" ] || make -C "$builddir" tests/integration/smtp-tool >/dev/null ||
	dg_fail "cannot build $tool"
. "$srcdir/tests/harness/smtpfault.sh"

# per MAX: queue N, strace the runs of at most MAX, print per-mail counts
measure() {
	local max=$1 p c out
	p=$(dg_free_port)
	smtpfault_start "r$max" "$p"
	c=$(smtpfault_conf "r$max" "$p")
	"$tool" queue -c "$c" --count "$N" --to alice@example.net --subject 'Ticket received' \
		--text 'We got it.' >/dev/null || dg_fail "queueing failed"
	out=$(strace -f -c -o "$DG_ROOT/strace.$max" "$tool" run -c "$c" --max "$max" \
		--until-done 2>>"$DG_ROOT/tool.log")
	case "$out" in
	"sent=$N "*) ;;
	*) dg_fail "outbox run: $out" ;;
	esac
	python3 - "$N" "$max" "$DG_ROOT/strace.$max" <<'PY'
import sys
n, mx, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
calls = {}
for line in open(path):
    f = line.split()
    if len(f) >= 5 and f[3].isdigit():
        calls[f[-1]] = int(f[3])
total = sum(v for k, v in calls.items() if k != "total")
print("  runs of %-3s: %6.2f fdatasync/mail, %6.1f fcntl/mail, %6.1f syscalls/mail"
      % (mx, calls.get("fdatasync", 0) / n, calls.get("fcntl", 0) / n, total / n))
PY
}
echo "bench-outbox-fsync: $N mails to smtpfault.py, $tool"
measure 100
measure 1
