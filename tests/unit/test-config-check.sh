#!/bin/sh
# `deskgate config check` runs what the daemon runs at start-up (issue 11):
# a configuration that loads but names a missing agent, rules that do not
# compile, a broken template, bad business hours or a missing threading
# secret exit 78 with FILE:LINE (or FILE) messages, as `postfix check`
# would; a good one says ok, and what the rules and the configuration say
# about each other is warned about.
set -u
. "$top_srcdir/tests/lib/testlib.sh"
[ -x "$DESKGATE" ] || tl_skip "$DESKGATE not built"
tmp=$(tl_tmpdir)

"$DESKGATE" init --address support@example.test "$tmp/home" >/dev/null 2>&1 ||
	tl_not_ok "deskgate init"
conf=$tmp/home/deskgate.conf
cp "$conf" "$tmp/base.conf"
check() { "$DESKGATE" -c "$conf" config check >"$tmp/out" 2>&1; echo $?; }
reset() { cp "$tmp/base.conf" "$conf"; }

tl_assert_eq "a fresh configuration: exit 0" "$(check)" "0"
tl_assert_match "it says ok" "$(cat "$tmp/out")" "deskgate.conf: ok$"
tl_assert_match "it counts the rules" "$(cat "$tmp/out")" "rules\.d: [0-9][0-9]* rules$"

# A [queue] naming an agent that has no section: file:line of "agents =".
reset
printf '\n[agent ann]\naddress = ann@example.test\n\n[queue wallet]\ncategories = delayed_payment\nagents = ann, bob\n' >>"$conf"
line=$(grep -n '^agents = ann, bob' "$conf" | cut -d: -f1)
tl_assert_eq "queue with a missing agent: exit 78" "$(check)" "78"
tl_assert_match "names file:line" "$(cat "$tmp/out")" "deskgate.conf:$line: \[queue wallet\] agents: no \[agent bob\] section"

# Rules that do not compile: the rule file's line.
reset
mkdir -p "$tmp/rules"
cp "$top_srcdir"/contrib/rules.d/*.rules "$tmp/rules/"
printf 'rule broken {\n  body ~ /(unclosed/\n  tag x\n}\n' >"$tmp/rules/99-broken.rules"
printf '\n[rules]\ndir = %s\n' "$tmp/rules" >>"$conf"
tl_assert_eq "broken rules: exit 78" "$(check)" "78"
tl_assert_match "names the rule file and line" "$(cat "$tmp/out")" "99-broken.rules:2: rule broken: pattern error"

# A broken template in the admin's templates_dir.
reset
mkdir -p "$tmp/tpl/ack"
printf 'Subject: {{#ticket}}\n\nHello {{customer.name\n' >"$tmp/tpl/ack/complaint.en.txt"
printf '\n[ack]\ntemplates_dir = %s\n' "$tmp/tpl" >>"$conf"
tl_assert_eq "broken template: exit 78" "$(check)" "78"
tl_assert_match "names the template file" "$(cat "$tmp/out")" "complaint.en.txt:[0-9]"

# Business hours the daemon cannot use.
reset
printf '\n[hours]\nweek = mon-fri 18:00-09:00\n' >>"$conf"
tl_assert_eq "bad opening hours: exit 78" "$(check)" "78"
tl_assert_match "says what is wrong" "$(cat "$tmp/out")" "\[hours\]: week"

# The weekly report's zone and recipients (issue 14): what the daemon's
# report_mail_new() refuses, config check refuses, with file:line.
reset
printf '\n[report]\ntimezone = Mars/Olympus_Mons\n' >>"$conf"
line=$(grep -n '^timezone = Mars' "$conf" | cut -d: -f1)
tl_assert_eq "a report zone that does not exist: exit 78" "$(check)" "78"
tl_assert_match "names file:line" "$(cat "$tmp/out")" "deskgate.conf:$line: \[report\] timezone"
reset
printf '\n[report]\nrecipients = nobody-here\n' >>"$conf"
tl_assert_eq "a report recipient that is no agent and no address: exit 78" "$(check)" "78"
tl_assert_match "says which" "$(cat "$tmp/out")" "\[report\] recipients"

# More mailboxes than one process can watch (libetpan's select(), FD_SETSIZE):
# refused at load with the 301st section's line, not found by a crash.
mailboxes() { # N: the base configuration and N [mailbox] sections
	reset
	i=1
	while [ $i -le "$1" ]; do
		printf '\n[mailbox m%d]\nhost = 127.0.0.1\nusername = u%d\npassword = p\n' $i $i
		i=$((i + 1))
	done >>"$conf"
}
mailboxes 301
line=$(grep -n '^\[mailbox m301\]' "$conf" | cut -d: -f1)
tl_assert_eq "301 mailboxes: exit 78" "$(check)" "78"
tl_assert_match "names the 301st section's line" "$(cat "$tmp/out")" \
	"deskgate.conf:$((line + 1)): \[mailbox m301\]: one gateway watches at most 300 mailboxes"
mailboxes 300
tl_assert_eq "300 mailboxes: accepted" "$(check)" "0"

# The threading secret is missing.
reset
mv "$tmp/home/secret" "$tmp/secret.saved"
tl_assert_eq "missing threading secret: exit 78" "$(check)" "78"
tl_assert_match "names the secret file" "$(cat "$tmp/out")" "secret_file .*/secret: No such file"
mv "$tmp/secret.saved" "$tmp/home/secret"

# Warnings: a queue the rules route to that nobody serves, and a queue
# category no rule sets; still exit 0.
reset
printf 'rule to-nowhere {\n  subject ~ /nowhere/\n  queue nowhere\n}\n' >"$tmp/rules/99-broken.rules"
printf '\n[rules]\ndir = %s\n\n[agent ann]\naddress = ann@example.test\n\n[queue wallet]\ncategories = delayed_payment, no_such_category\nagents = ann\n' "$tmp/rules" >>"$conf"
tl_assert_eq "warnings only: exit 0" "$(check)" "0"
tl_assert_match "unserved queue named at the rule" "$(cat "$tmp/out")" "99-broken.rules:1: warning: rule to-nowhere routes to queue nowhere"
line=$(grep -n '^categories = delayed_payment, no_such_category' "$conf" | cut -d: -f1)
tl_assert_match "unknown category named at file:line" "$(cat "$tmp/out")" "deskgate.conf:$line: warning: \[queue wallet\] categories: no rule sets category no_such_category"
tl_assert_match "ok with warnings" "$(cat "$tmp/out")" "ok (with warnings)$"
tl_done
