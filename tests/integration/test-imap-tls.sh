#!/bin/bash
# Connection security against a real Dovecot: plain text, IMAPS and
# STARTTLS each deliver mail end to end with `deskgate run --once`; a
# certificate from the wrong CA and one for the wrong host name are refused
# before any credential is sent; AUTHENTICATE PLAIN and a bad password; SNI
# is sent for host names (checked on the scripted server, which records it).
set -u
. "$top_srcdir/tests/integration/imap-lib.sh"
imap_setup test-imap-tls

seed 3 1

# Dovecot logs every login; count them to prove that a refused certificate
# came before the credentials.
logins() {
	grep -c "imap-login: Info: Login: user=<$USER1>" "$DG_ROOT/dovecot/dovecot.log"
}

# -- plain, imaps, starttls: each a fresh store, all three messages ----------
for sec in none imaps starttls; do
	gw_new "$DG_ROOT/gw-$sec" "security=$sec" "after=move"
	# move mode would empty the folder for the next one: use seen mode but
	# keep the folder unchanged by giving each its own folder copy
	sed -i '/^after = move$/d' "$DG_ROOT/gw-$sec/deskgate.conf"
	gw "$DG_ROOT/gw-$sec" run --once >"$DG_ROOT/gw-$sec/once.log" 2>&1 ||
		{ cat "$DG_ROOT/gw-$sec/once.log"; dg_fail "run --once with security=$sec"; }
	dg_assert_eq 3 "$(rows "$DG_ROOT/gw-$sec")" "rows with security=$sec"
	grep -q "connected to .* security=$sec " "$DG_ROOT/gw-$sec/once.log" ||
		dg_fail "security=$sec: no connect line"
	dg_log "security=$sec: 3 messages stored"
done
dg_assert_eq 3 "$(seen_count)" "flagged after the runs"

# -- wrong CA: refused, and no LOGIN reached Dovecot --------------------------
mkdir -p "$DG_ROOT/otherca"
dg_make_ca "$DG_ROOT/otherca"
before=$(logins)
gw_new "$DG_ROOT/gw-badca" security=imaps
sed -i "s|^ca_file = .*|ca_file = $DG_ROOT/otherca/ca.pem|" "$DG_ROOT/gw-badca/deskgate.conf"
if gw "$DG_ROOT/gw-badca" run --once >"$DG_ROOT/badca.log" 2>&1; then
	dg_fail "a certificate from another CA was accepted"
fi
grep -q "certificate verify failed" "$DG_ROOT/badca.log" || { cat "$DG_ROOT/badca.log"; dg_fail "no verify error"; }
dg_assert_eq "$before" "$(logins)" "logins after the wrong-CA attempt"
dg_assert_eq 0 "$(rows "$DG_ROOT/gw-badca")" "rows stored through an untrusted server"
# same for STARTTLS
gw_new "$DG_ROOT/gw-badca2" security=starttls
sed -i "s|^ca_file = .*|ca_file = $DG_ROOT/otherca/ca.pem|" "$DG_ROOT/gw-badca2/deskgate.conf"
if gw "$DG_ROOT/gw-badca2" run --once >"$DG_ROOT/badca2.log" 2>&1; then
	dg_fail "STARTTLS: a certificate from another CA was accepted"
fi
grep -q "certificate verify failed" "$DG_ROOT/badca2.log" || dg_fail "STARTTLS: no verify error"
dg_assert_eq "$before" "$(logins)" "logins after the STARTTLS wrong-CA attempt"
dg_log "wrong CA refused before login (imaps and starttls)"

# tls_verify = no is the explicit escape hatch: it connects, with a warning
gw_new "$DG_ROOT/gw-noverify" security=imaps tls_verify=no
sed -i "s|^ca_file = .*|ca_file = $DG_ROOT/otherca/ca.pem|" "$DG_ROOT/gw-noverify/deskgate.conf"
gw "$DG_ROOT/gw-noverify" run --once >"$DG_ROOT/noverify.log" 2>&1 || dg_fail "tls_verify = no did not connect"
grep -q "certificate verification is off" "$DG_ROOT/noverify.log" || dg_fail "no warning for tls_verify = no"

# -- plain-text auth through the adapter: PLAIN, LOGIN, a bad password ----------
out=$("$PROBE" -s none -a plain 127.0.0.1 "$DG_IMAP_PORT" "$USER1" secret select INBOX)
echo "$out" | grep -q "^select uidvalidity=" || dg_fail "AUTHENTICATE PLAIN: $out"
out=$("$PROBE" -s starttls -C "$DG_CA_FILE" -a login 127.0.0.1 "$DG_IMAP_PORT" "$USER1" nope caps)
echo "$out" | grep -q "^error auth:" || dg_fail "a bad password was not an auth failure: $out"
gw_new "$DG_ROOT/gw-badpw" security=imaps
sed -i "s|^password = .*|password = wrong|" "$DG_ROOT/gw-badpw/deskgate.conf"
if gw "$DG_ROOT/gw-badpw" run --once >"$DG_ROOT/badpw.log" 2>&1; then
	dg_fail "a bad password passed"
fi
grep -q "LOGIN FAILED" "$DG_ROOT/badpw.log" || dg_fail "a bad password was not logged loudly"
grep -q "secret\|wrong" "$DG_ROOT/badpw.log" && dg_fail "the password appears in the log"
dg_log "auth: PLAIN ok, bad password refused and logged without the password"

# -- wrong host name: a certificate (same CA) for another name -----------------
dg_make_cert "$DG_ROOT/tls" wrongname "DNS:wrong.example.test"
dg_dovecot_stop
sed -i "s|tls/server\.|tls/wrongname.|g" "$DG_DOVECOT_CONF"
dg_dovecot_start
before=$(logins)
gw_new "$DG_ROOT/gw-badname" security=imaps
if gw "$DG_ROOT/gw-badname" run --once >"$DG_ROOT/badname.log" 2>&1; then
	dg_fail "a certificate for another host name was accepted"
fi
grep -q "mismatch" "$DG_ROOT/badname.log" || { cat "$DG_ROOT/badname.log"; dg_fail "no mismatch error"; }
dg_assert_eq "$before" "$(logins)" "logins after the wrong-name attempt"
dg_log "wrong host name refused before login"

# -- SNI: sent for a host name, not for an IP address ------------------------
dg_make_cert "$DG_ROOT/tls" fake "DNS:localhost,IP:127.0.0.1"
python3 "$FAKEIMAP" --tls "$DG_ROOT/tls/fake.pem" "$DG_ROOT/tls/fake.key" \
	--log "$DG_ROOT/fake.log" >"$DG_ROOT/fake.port" 2>"$DG_ROOT/fake.err" &
FAKE_PID=$!
dg_on_exit "kill $FAKE_PID"
dg_wait_for 5 grep -qs port "$DG_ROOT/fake.port" || dg_fail "fakeimap did not start"
fport=$(awk '{print $2}' "$DG_ROOT/fake.port")
"$PROBE" -C "$DG_CA_FILE" localhost "$fport" u secret >/dev/null || dg_fail "probe via localhost"
"$PROBE" -C "$DG_CA_FILE" 127.0.0.1 "$fport" u secret >/dev/null || dg_fail "probe via 127.0.0.1"
grep -q '"sni", "name": "localhost"' "$DG_ROOT/fake.log" || dg_fail "no SNI for localhost"
grep -q '"sni", "name": null' "$DG_ROOT/fake.log" || dg_fail "SNI sent for an IP address"
dg_log "SNI: sent for localhost, not for 127.0.0.1"
dg_log PASS
