#!/bin/sh
# House-style checks over the source tree (docs/../shared/docs/house-style.md):
# banned calls, one-way layering, and one adapter module per library.
set -u
. "$top_srcdir/tests/lib/testlib.sh"
cd "$top_srcdir" || exit 1

src=$(ls base/*.c base/*.h parsers/*.c parsers/*.h gateway/*.c gateway/*.h gateway/*/*.c gateway/*/*.h)

banned=$(grep -nE '(^|[^_a-z0-9])(strcpy|strcat|sprintf|vsprintf|strncpy|strtok|gets|atoi|sscanf)[[:space:]]*\(' $src |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)' || true)
tl_assert_eq "no banned calls (strcpy strcat sprintf vsprintf strncpy strtok gets atoi sscanf)" "$banned" ""

up=$(grep -n '#include "gateway/' parsers/*.c parsers/*.h || true)
tl_assert_eq "parsers/ never includes gateway/" "$up" ""
up=$(grep -nE '#include "(gateway|parsers)/' base/*.c base/*.h || true)
tl_assert_eq "base/ never includes parsers/ or gateway/" "$up" ""
logs=$(grep -nE '(^|[^_a-z0-9])(log_[a-z]+|exit)[[:space:]]*\(' base/*.c | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)' || true)
tl_assert_eq "base/ does no logging" "$logs" ""

io=$(grep -nE '(^|[^_a-z0-9])(fopen|open|printf|fprintf|log_[a-z]+|exit)[[:space:]]*\(' parsers/*.c |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)' || true)
tl_assert_eq "parsers/ does no I/O and no logging" "$io" ""

# A file a newcomer reads in one sitting: none over 1,500 lines.
big=$(find base parsers gateway -name '*.[ch]' | sort | while read -r f; do
	n=$(wc -l <"$f")
	[ "$n" -le 1500 ] || echo "$f: $n lines"
done)
tl_assert_eq "no source file over 1,500 lines" "$big" ""

# adapter LIBRARY-HEADER-REGEX ALLOWED-FILES...
adapter() {
	pat=$1; shift
	found=$(grep -lE "#include <$pat" $src | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	if [ -z "$found" ] || [ "$found" = "$want" ]; then
		tl_ok "$pat only in: $*"
	else
		tl_not_ok "$pat only in: $*" "found in: $found"
	fi
}
adapter 'sqlite3\.h' gateway/store/store-sqlite.c gateway/store/store-sqlite.h \
	gateway/store/store-sqlite-sla.c gateway/store/store-sqlite-lease.c gateway/store/store-sqlite-merge.c \
	gateway/store/store-sqlite-copy.c
adapter 'pcre2\.h' gateway/rules-regex.c
adapter 'libpq-fe\.h' gateway/store/store-pg.c gateway/store/store-pg.h gateway/store/store-pg-conn.c \
	gateway/store/store-pg-sla.c gateway/store/store-pg-lease.c gateway/store/store-pg-merge.c \
	gateway/store/store-pg-copy.c
adapter 'curl/' gateway/smtp.c
adapter 'openssl/' gateway/crypto.c
adapter 'libxml/' parsers/html.c
adapter '(iconv|uchardet)' parsers/charset.c
adapter 'jansson\.h' gateway/jsonout.c
adapter 'ini\.h' gateway/config.c
adapter 'microhttpd\.h' gateway/httpd.c
adapter 'libetpan/(mailimap|libetpan)' gateway/imap.c
adapter 'libetpan/mailmime' parsers/mime-int.h
adapter 'magic\.h' gateway/sniff.c
adapter 'archive(_entry)?\.h' gateway/arclist.c

tl_done
