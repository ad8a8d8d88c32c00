#!/bin/bash
# New mail announced inside the response to another command must not wait.
# Dovecot tells an IMAP client about new mail with an untagged EXISTS in
# whatever response comes next (UID SEARCH, FETCH, STORE), and in IDLE only
# what it has not said yet. A client that looks for new mail only when IDLE
# wakes it leaves such a message until the next "* OK Still here".
# 1. Deterministic, with the scripted server: a message arrives during the
#    daemon's UID STORE and is announced in that response only (fakeimap
#    --late-arrival; it sends nothing in IDLE): it must be stored.
# 2. Real Dovecot, its keep-alive set to 30 min so that a miss is plain
#    within the test's time: bursts of 2, 10 and 100 deliveries over LMTP at
#    random spacing (some close to Dovecot's 0.5 s notification delay, so
#    that mail lands while a sync runs) to a daemon in IDLE. Every message
#    must be committed, none may wait (each within 10 s of its delivery; the
#    benchmark tests/bench/bench-imap.sh measures the real latency).
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
IMAP_DOVECOT_CONF="imap_idle_notify_interval = 30 mins"
imap_setup test-imap-burst

# -- 1. announced in the STORE response only (scripted server) ------------------
mkdir -p "$DG_ROOT/fake"
printf 'From: early@example.net\r\nTo: support@example.test\r\nSubject: first\r\nMessage-ID: <early@example.net>\r\n\r\nfirst\r\n' \
	>"$DG_ROOT/fake/1.eml"
printf 'From: late@example.net\r\nTo: support@example.test\r\nSubject: second\r\nMessage-ID: <late@example.net>\r\n\r\narrived during STORE\r\n' \
	>"$DG_ROOT/late.eml"
python3 "$FAKEIMAP" --maildir "$DG_ROOT/fake" --late-arrival "$DG_ROOT/late.eml" \
	--log "$DG_ROOT/fake.log" >"$DG_ROOT/fake.port" 2>"$DG_ROOT/fake.err" &
FAKE_PID=$!
dg_on_exit "kill $FAKE_PID"
dg_wait_for 5 grep -qs port "$DG_ROOT/fake.port" || dg_fail "fakeimap did not start"
F=$DG_ROOT/gw-fake
"$DESKGATE" init "$F" >/dev/null 2>&1 || dg_fail "deskgate init"
sed -i '/^\[ack\]/a enabled = no' "$F/deskgate.conf"
printf '\n[mailbox fake]\nhost = 127.0.0.1\nport = %s\nsecurity = none\nusername = u\npassword = secret\ntimeout = 5\n' \
	"$(awk '{print $2}' "$DG_ROOT/fake.port")" >>"$F/deskgate.conf"
gw_start "$F"
has_late() { [ "$(sql "$F" "select count(*) from messages where message_id = 'late@example.net'")" = 1 ]; }
dg_wait_for 10 has_late || { tail -20 "$F/run.log"; dg_fail "a message announced in the STORE response was left waiting"; }
grep -q '"event": "late-arrival"' "$DG_ROOT/fake.log" || dg_fail "the late arrival was not injected"
gw_stop
dg_assert_eq 0 "$GW_RC" "exit code (scripted server)"
kill "$FAKE_PID"
dg_log "EXISTS in a STORE response: the message was fetched without waiting for IDLE"

# -- 2. bursts against real Dovecot --------------------------------------------------

G=$DG_ROOT/gw
gw_new "$G" idle=yes
gw_start "$G"
dg_wait_for 10 grep -qs "connected to .*IDLE" "$G/run.log" || { tail -30 "$G/run.log"; dg_fail "no IDLE connection"; }
sleep 0.3

python3 - "$DG_LMTP_PORT" "$G/deskgate.db" "$USER1" <<'PY' || { tail -30 "$G/run.log"; dg_fail "burst deliveries"; }
import random, smtplib, sqlite3, sys, threading, time
port, db, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
random.seed(time.time_ns())
STUCK = 10.0            # a message this late has missed its announcement
sent, seen = {}, {}
done = threading.Event()

def watch():
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    while not done.is_set():
        try:
            for (mid,) in con.execute("select message_id from messages where direction = 'in'"):
                if mid not in seen:
                    seen[mid] = time.monotonic()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.01)

w = threading.Thread(target=watch, daemon=True)
w.start()
n = 0
for burst in (2, 10, 100):
    for i in range(burst):
        n += 1
        mid = "burst-%d-%d@example.net" % (n, time.time_ns())
        msg = ("From: customer%d@example.net\r\nTo: %s\r\nSubject: burst %d message %d\r\n"
               "Message-ID: <%s>\r\n\r\nplease look at order %d\r\n" % (n, rcpt, burst, i, mid, n)).encode()
        t0 = time.monotonic()
        with smtplib.LMTP("127.0.0.1", port) as s:
            s.sendmail("customer@example.net", [rcpt], msg)
        sent[mid] = t0
        # random spacing: often much closer than Dovecot's 0.5 s
        # notification delay, often just about it (so that the message
        # lands while the sync of the one before runs)
        time.sleep(random.uniform(0, 0.05) if random.random() < 0.7 else random.uniform(0.45, 0.7))
    # a pause between bursts lets the daemon go back to IDLE
    time.sleep(1.5)
deadline = time.monotonic() + STUCK
while time.monotonic() < deadline and len([m for m in sent if m in seen]) < len(sent):
    time.sleep(0.05)
done.set()
w.join()
missing = [m for m in sent if m not in seen]
late = sorted((seen[m] - sent[m], m) for m in sent if m in seen and seen[m] - sent[m] > STUCK)
lat = sorted(seen[m] - sent[m] for m in sent if m in seen)
print("test-imap-burst: %d delivered, %d committed; slowest %.0f ms"
      % (len(sent), len(lat), (lat[-1] if lat else 0) * 1000))
if missing:
    sys.exit("%d message(s) never committed (they wait for a keep-alive): %s"
             % (len(missing), ", ".join(sorted(missing)[:5])))
if late:
    sys.exit("%d message(s) committed only after %.1f s: %s" % (len(late), late[-1][0], late[-1][1]))
PY
dg_assert_eq 112 "$(rows "$G")" "message rows"
dg_assert_eq 112 "$(seen_count)" "flagged on the server"
gw_stop
dg_assert_eq 0 "$GW_RC" "exit code after SIGTERM"
dg_log PASS
