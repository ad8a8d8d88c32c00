/*
 * fuzz-csv: the RFC 4180 reader. Byte 0 chooses the field bound (1 to
 * 256); the rest is the data, passed without a terminating NUL. Checks that
 * reading always ends and never yields more records than bytes, that no
 * field is longer than the bound, and that each well-formed record written
 * back with csv_put_field() reads back the same (fields with CR or NUL
 * aside: a trailing CR is dropped by design).
 */
#include "build-config.h"

#include <string.h>

#include "parsers/csv.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 16384

static void
round_trip(const struct csv_record *rec)
{
	struct buf b;
	buf_init(&b, 4 * MAX_INPUT + 16);
	for (size_t i = 0; i < rec->n; i++) {
		if (strchr(rec->fields[i], '\r') != NULL)
			goto out;
		if (i > 0)
			FUZZ_CHECK(buf_putc(&b, ',') == 0);
		FUZZ_CHECK(csv_put_field(&b, rec->fields[i]) == 0);
	}
	FUZZ_CHECK(buf_putc(&b, '\n') == 0);
	struct csv_reader r;
	struct csv_record back = { 0 };
	const char *error;
	csv_reader_init(&r, buf_cstr(&b), b.len, 4 * MAX_INPUT);
	/* A record of one empty field is written as an empty line. */
	FUZZ_CHECK(csv_next(&r, &back, &error) == 1);
	FUZZ_CHECK(back.n == rec->n);
	for (size_t i = 0; i < rec->n; i++)
		FUZZ_CHECK(strcmp(back.fields[i], rec->fields[i]) == 0);
	FUZZ_CHECK(csv_next(&r, &back, &error) == 0);
	csv_record_clear(&back);
out:
	buf_free(&b);
}

FUZZ_TARGET(csv)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	size_t max_field = (size_t)data[0] + 1;
	data++;
	size--;
	int has_nul = memchr(data, '\0', size) != NULL;
	struct csv_reader r;
	struct csv_record rec = { 0 };
	const char *error;
	int n;
	size_t records = 0;
	csv_reader_init(&r, (const char *)data, size, max_field);
	while ((n = csv_next(&r, &rec, &error)) != 0) {
		records++;
		FUZZ_CHECK(records <= size);
		FUZZ_CHECK(rec.n >= 1);
		for (size_t i = 0; i < rec.n; i++)
			FUZZ_CHECK(strlen(rec.fields[i]) <= max_field);
		if (n > 0 && !has_nul)
			round_trip(&rec);
	}
	FUZZ_CHECK(r.p == r.end);
	csv_record_clear(&rec);
	return 0;
}
