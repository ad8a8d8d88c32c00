#!/bin/sh
# Every configuration key (from the key table, `deskgate config keys`) must
# be documented in deskgate.conf(5), and every section too.
set -u
. "$top_srcdir/tests/lib/testlib.sh"
page="$top_srcdir/man/deskgate.conf.5"
tl_assert_file "$page"
missing=""
"$DESKGATE" config keys | cut -f1 | while IFS= read -r k; do
	sec=${k%%.*}; key=${k#*.}
	sec=${sec% NAME}
	# The page documents a key as ".B key" under the section's .SH/.SS heading.
	if ! awk -v sec="$sec" -v key="$key" '
		/^\.S[HS] / { insec = ($0 ~ "\\[" sec "( NAME)?\\]") }
		insec && $0 == ".B " key { found = 1 }
		END { exit !found }' "$page"; then
		echo "$k"
	fi
done > "${TMPDIR:-/tmp}/dg-missing-keys.$$"
missing=$(cat "${TMPDIR:-/tmp}/dg-missing-keys.$$"); rm -f "${TMPDIR:-/tmp}/dg-missing-keys.$$"
tl_assert_eq "every key documented in deskgate.conf(5)" "$missing" ""
# The page is generated from the key table: types, defaults and texts must
# be current too (after a change: python3 man/gen-conf-page.py DESKGATE > man/deskgate.conf.5).
if command -v python3 >/dev/null; then
	stale=$(python3 "$top_srcdir/man/gen-conf-page.py" "$DESKGATE" | diff "$page" - | head -n 20)
	tl_assert_eq "deskgate.conf(5) matches the key table" "$stale" ""
fi
tl_done
