#!/bin/sh
# Are the acknowledgements of two builds the same bytes? Imports the same
# fixed corpora (gen-corpus.py 500 with seed 42, 300 with seed 7, and the
# MIME and reply samples of ../shared/corpora) into a fresh home with each
# binary, every mail acknowledged ([limits] max_mail_per_minute and [ack]
# max_per_hour raised), dumps every outbox row (`outbox show N --raw`) and
# compares them with Date, Message-ID and the MIME boundary tokens masked
# (random or the clock; both homes share one signing secret, so the reply
# addresses match). Run the two within the same hour: the promised answer
# time is in the text.
# Usage: tests/bench/ack-bytes.sh OLD_BINARY NEW_BINARY
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
old=$1 new=$2
export DESKGATE_DATADIR="${DESKGATE_DATADIR:-$top:$top/contrib}"
corpora=${CORPORA:-$top/../shared/corpora}
work=$(mktemp -d /tmp/dg-ack-bytes.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 "$top/tests/bench/gen-corpus.py" "$work/md" 500 > /dev/null
python3 "$top/tests/bench/gen-corpus.py" "$work/md7" 300 --seed 7 > /dev/null
mkdir -p "$work/mdc/new" "$work/mdc/cur" "$work/mdc/tmp"
i=0
find "$corpora/mime" "$corpora/replies" -type f ! -name '*.json' ! -name '*.txt' \
	! -name 'LICENSE*' ! -name '*.md' ! -name '*.py' ! -name '*.go' ! -name '*.php' -size -2M |
	LC_ALL=C sort | while read -r f; do
	i=$((i + 1))
	cp "$f" "$work/mdc/new/$i.eml"
done
"$old" init "$work/home0" > /dev/null
sed -i 's/^#max_mail_per_minute = .*/max_mail_per_minute = 1000000/;
	s/^#max_per_hour = .*/max_per_hour = 1000000/' "$work/home0/deskgate.conf"

dump() { # binary name
	cp -a "$work/home0" "$work/$2"
	sed -i "s|$work/home0|$work/$2|" "$work/$2/deskgate.conf"
	for m in md md7 mdc; do
		"$1" -q -c "$work/$2/deskgate.conf" import --no-progress "$work/$m" > /dev/null 2>&1
	done
	mkdir "$work/$2.out"
	for id in $("$1" -c "$work/$2/deskgate.conf" outbox list --limit 1000000 | awk 'NR > 1 { print $1 }'); do
		"$1" -c "$work/$2/deskgate.conf" outbox show "$id" --raw |
			sed -E 's/^(Date|Message-ID): .*/\1: X/; s/=_dg_[a-z0-9]+/=_dg_X/g' > "$work/$2.out/$id.eml"
	done
	echo "$2: $(ls "$work/$2.out" | wc -l) outbox rows"
}
dump "$old" old
dump "$new" new
if diff -r "$work/old.out" "$work/new.out" > "$work/diff.txt"; then
	echo "ack-bytes: identical"
else
	head -50 "$work/diff.txt"
	echo "ack-bytes: DIFFERENT"
	exit 1
fi
