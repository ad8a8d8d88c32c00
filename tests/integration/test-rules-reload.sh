#!/bin/sh
# Rules reload without a restart: `deskgate rules reload` signals the running
# daemon (pid file in state_dir), which swaps the rules; a rule file that
# does not compile is refused before anything is signalled, and the daemon
# keeps running with the old rules.
set -u
. "$top_srcdir/tests/lib/testlib.sh"

home=$(tl_tmpdir)
"$DESKGATE" init "$home" >/dev/null
mkdir -p "$home/rules.d"
cp "$top_srcdir"/contrib/rules.d/*.rules "$home/rules.d/"
sed -i "/^\[rules\]/a dir = $home/rules.d" "$home/deskgate.conf"
dg() { "$DESKGATE" -c "$home/deskgate.conf" "$@"; }

tl_assert_eq "no daemon: exit 69" "$(dg rules reload >/dev/null 2>&1; echo $?)" 69

"$DESKGATE" -c "$home/deskgate.conf" run > "$home/run.log" 2>&1 &
daemon=$!
# Never leave the daemon behind, whatever fails.
trap 'kill -TERM "$daemon" 2>/dev/null; tl_cleanup' EXIT
i=0
while [ ! -f "$home/deskgate.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
tl_assert_file "$home/deskgate.pid"
tl_assert_eq "pid file names the daemon" "$(cat "$home/deskgate.pid" 2>/dev/null)" "$daemon"

# A new rule, then reload: the daemon logs the reload.
cat > "$home/rules.d/95-local.rules" <<'RULES'
rule local-vip-word {
	subject ~ /platinum/
	priority high
}
RULES
out=$(dg rules reload 2>&1); rc=$?
tl_assert_eq "reload exit" "$rc" 0
tl_assert_match "reload says what it did" "$out" "sent SIGHUP"
i=0
while ! grep -q "reload" "$home/run.log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
tl_assert_match "daemon reloaded" "$(cat "$home/run.log")" "reload"

# A broken file: refused, nothing signalled, the daemon still runs.
printf 'rule broken {\n\tsubject ~ /(unclosed/\n\tcategory other\n}\n' > "$home/rules.d/96-broken.rules"
out=$(dg rules reload 2>&1); rc=$?
tl_assert_eq "broken rules: reload refused" "$([ "$rc" -ne 0 ] && echo refused)" refused
tl_assert_match "error names file:line" "$out" "96-broken.rules:2"
tl_assert_eq "daemon still running" "$(kill -0 "$daemon" 2>/dev/null && echo yes)" yes

kill -TERM "$daemon"
wait "$daemon"
tl_assert_eq "SIGTERM: clean exit" "$?" 0
tl_assert_eq "pid file removed" "$([ -f "$home/deskgate.pid" ] && echo left || echo gone)" gone
tl_done
