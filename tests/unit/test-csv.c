/*
 * test-csv: RFC 4180 records (quotes, doubled quotes, line breaks in
 * quotes, CRLF, a byte order mark), malformed records and the field bound,
 * columns by name, and quoting on output read back.
 */
#include "build-config.h"

#include "parsers/csv.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* The records of data joined as "a|b;c|d" (fields '|', records ';'), and
   errors as "!why". */
static char *
read_all(const char *data, size_t max_field)
{
	struct csv_reader r;
	struct csv_record rec = { 0 };
	struct buf out;
	const char *error;
	int n;
	buf_init(&out, 4096);
	csv_reader_init(&r, data, strlen(data), max_field);
	while ((n = csv_next(&r, &rec, &error)) != 0) {
		if (out.len > 0)
			buf_putc(&out, ';');
		if (n < 0)
			buf_printf(&out, "!%s:", error);
		for (size_t i = 0; i < rec.n; i++)
			buf_printf(&out, "%s%s", i > 0 ? "|" : "", rec.fields[i]);
	}
	csv_record_clear(&rec);
	return buf_steal(&out, NULL);
}

static void
test_read(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "", "" },
		{ "a,b\n1,2\n", "a|b;1|2" },
		{ "a,b\r\n1,2\r\n", "a|b;1|2" },
		{ "a,b\n1,2", "a|b;1|2" },
		{ "\"x, y\",z\n", "x, y|z" },
		{ "\"say \"\"hi\"\"\",2\n", "say \"hi\"|2" },
		{ "\"two\nlines\",3\n", "two\nlines|3" },
		{ "\"q\"junk,4\n", "q|4" },
		{ ",\n", "|" },
		{ "\n", "" },
		{ "a\n\nb\n", "a;;b" },
		{ "\xef\xbb\xbftext,label\n", "text|label" },
		{ "\"open,5\n", "!unterminated quoted field:open,5\n" },
		{ "\"\xe6\x8f\x90\xe7\x8e\xb0\",\xe4\xb8\xad\n", "\xe6\x8f\x90\xe7\x8e\xb0|\xe4\xb8\xad" },
	};
	test_begin("csv: records");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *got = read_all(cases[i].in, 1024);
		test_assert_str(got, cases[i].want);
		free(got);
	}
	test_begin("csv: a field over the bound is an error, the next record is read");
	char *got = read_all("abcdefghij,1\nok,2\n", 5);
	test_assert_str(got, "!a field longer than 5 bytes:abcde|1;ok|2");
	free(got);
}

static void
test_columns(void)
{
	static const char *const label[] = { "label", "category", "intent", NULL };
	static const char *const text[] = { "text", NULL };
	test_begin("csv: columns by name");
	struct csv_reader r;
	struct csv_record rec = { 0 };
	const char *error;
	const char *data = "id,intent,text\n";
	csv_reader_init(&r, data, strlen(data), 100);
	test_assert_int(csv_next(&r, &rec, &error), 1);
	test_assert_int(csv_column(&rec, label), 1);
	test_assert_int(csv_column(&rec, text), 2);
	static const char *const none[] = { "nope", NULL };
	test_assert_int(csv_column(&rec, none), -1);
	test_assert_int(r.record, 1);
	test_assert_int(csv_next(&r, &rec, &error), 0);
	csv_record_clear(&rec);
}

static void
test_write(void)
{
	static const char *const fields[] = { "\xef\xbb\xbf" "bom", "plain", "a,b", "say \"hi\"",
					      "two\nlines", " lead", "", "\xe5\x8d\x87" };
	test_begin("csv: quoting on output reads back");
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; i < N_ELEMENTS(fields); i++) {
		if (i > 0)
			buf_putc(&b, ',');
		test_assert(csv_put_field(&b, fields[i]) == 0);
	}
	buf_putc(&b, '\n');
	test_assert_str(buf_cstr(&b), "\"\xef\xbb\xbf" "bom\",plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" lead\",,\xe5\x8d\x87\n");
	struct csv_reader r;
	struct csv_record rec = { 0 };
	const char *error;
	csv_reader_init(&r, buf_cstr(&b), b.len, 100);
	test_assert_int(csv_next(&r, &rec, &error), 1);
	test_assert_int(rec.n, N_ELEMENTS(fields));
	for (size_t i = 0; i < rec.n && i < N_ELEMENTS(fields); i++)
		test_assert_str(rec.fields[i], fields[i]);
	csv_record_clear(&rec);
	buf_free(&b);
	struct buf tiny;
	buf_init(&tiny, 3);
	test_assert_int(csv_put_field(&tiny, "a,b,c"), -1);
	buf_free(&tiny);
}

int
main(void)
{
	test_read();
	test_columns();
	test_write();
	return test_exit();
}
