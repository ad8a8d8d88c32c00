/* Unit tests for the base layer: util, base32, file. */
#include "build-config.h"

#include <string.h>
#include <unistd.h>

#include "base/base32.h"
#include "base/file.h"
#include "base/util.h"
#include "tests/unit/test.h"

static void
test_buf(void)
{
	test_begin("buf");
	struct buf b;
	buf_init(&b, 8);
	test_assert_str(buf_cstr(&b), "");
	test_assert_int(buf_puts(&b, "abcd"), 0);
	test_assert_int(buf_puts(&b, "efgh"), 0);
	test_assert_int(b.len, 8);
	/* Past the maximum: refused, unchanged. */
	test_assert_int(buf_putc(&b, 'x'), -1);
	test_assert_str(buf_cstr(&b), "abcdefgh");
	buf_reset(&b);
	test_assert_int(buf_printf(&b, "%d-%s", 12, "ab"), 0);
	test_assert_str(buf_cstr(&b), "12-ab");
	test_assert_int(buf_printf(&b, "%s", "too long"), -1);
	size_t len;
	char *s = buf_steal(&b, &len);
	test_assert_str(s, "12-ab");
	test_assert_int(len, 5);
	free(s);
	test_assert_int(b.len, 0);
	buf_free(&b);

	/* An unbounded maximum must not overflow the capacity arithmetic. */
	buf_init(&b, SIZE_MAX);
	for (int i = 0; i < 1000; i++)
		test_assert_int(buf_puts(&b, "0123456789"), 0);
	test_assert_int(b.len, 10000);
	test_assert(b.cap > b.len);
	buf_free(&b);

	buf_init(&b, 0);
	test_assert_int(buf_putc(&b, 'a'), -1);
	test_assert_int(buf_append(&b, "", 0), 0);
	buf_free(&b);
}

static void
test_str(void)
{
	static const struct {
		const char *in;
		uint64_t max;
		int ret;
		uint64_t value;
	} nums[] = {
		{ "0", 10, 0, 0 },
		{ "10", 10, 0, 10 },
		{ "11", 10, -1, 0 },
		{ "", 10, -1, 0 },
		{ "-1", 10, -1, 0 },
		{ "1x", 10, -1, 0 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", UINT64_MAX, -1, 0 },
	};
	test_begin("str_to_u64");
	for (size_t i = 0; i < N_ELEMENTS(nums); i++) {
		uint64_t v = 0;
		test_assert_int(str_to_u64(nums[i].in, nums[i].max, &v), nums[i].ret);
		if (nums[i].ret == 0)
			test_assert(v == nums[i].value);
	}
	test_begin("str_trim");
	char t[] = " \t a b \r\n";
	test_assert_str(str_trim(t), "a b");
	test_assert(str_case_starts_with("Re: x", "re:"));
	test_assert(!str_starts_with("Re: x", "re:"));
}

static void
test_utf8(void)
{
	static const struct {
		const char *in;
		int valid;
	} cases[] = {
		{ "plain", 1 },
		{ "\xe4\xb8\xad\xe6\x96\x87", 1 },    /* 中文 */
		{ "\xf0\x9f\x98\x80", 1 },	      /* emoji */
		{ "\xc0\xaf", 0 },		      /* overlong '/' */
		{ "\xe0\x80\xaf", 0 },		      /* overlong */
		{ "\xed\xa0\x80", 0 },		      /* surrogate */
		{ "\xe4\xb8", 0 },		      /* truncated */
		{ "\xff", 0 },
		{ "\xf4\x90\x80\x80", 0 },	      /* > U+10FFFF */
	};
	test_begin("utf8_valid");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		test_assert_int(utf8_valid((const unsigned char *)cases[i].in, strlen(cases[i].in)),
				cases[i].valid);
	test_begin("utf8_truncate_len");
	const char *zh = "a\xe4\xb8\xad\xe6\x96\x87"; /* a中文 */
	test_assert_int(utf8_truncate_len(zh, 7), 7);
	test_assert_int(utf8_truncate_len(zh, 6), 4);
	test_assert_int(utf8_truncate_len(zh, 5), 4);
	test_assert_int(utf8_truncate_len(zh, 4), 4);
	test_assert_int(utf8_truncate_len(zh, 3), 1);
	test_assert_int(utf8_truncate_len(zh, 1), 1);
	test_assert_int(utf8_truncate_len(zh, 0), 0);

	test_begin("utf8_sanitize");
	char bad[] = "a\xe4\xb8\xad\xff\xe4\xb8-\xed\xa0\x80\xc3";
	utf8_sanitize(bad, strlen(bad));
	test_assert_str(bad, "a\xe4\xb8\xad???" "-????");
}

static void
test_ws(void)
{
	static const struct {
		const char *in;
		size_t len;
	} cases[] = {
		{ " x", 1 },
		{ "\tx", 1 },
		{ "\rx", 1 },
		{ "\xc2\xa0x", 2 },	  /* NBSP */
		{ "\xe3\x80\x80x", 3 }, /* ideographic space */
		{ "\xe2\x80\x8bx", 3 }, /* zero-width space */
		{ "\xe2\x80\xafx", 3 }, /* narrow NBSP */
		{ "\xe2\x81\x9fx", 3 }, /* medium mathematical space */
		{ "\xe2\x81\xa0x", 3 }, /* word joiner */
		{ "\xef\xbb\xbfx", 3 }, /* BOM */
		{ "x ", 0 },
		{ "\xe4\xb8\xad", 0 },	  /* 中 */
		{ "\xe2\x82\xac", 0 },	  /* euro sign */
		{ "\xc2", 0 },		  /* truncated NBSP */
		{ "\xe3\x80", 0 },	  /* truncated ideographic space */
		{ "", 0 },
	};
	test_begin("str_ws_len");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		test_assert_int(str_ws_len(cases[i].in, strlen(cases[i].in)), cases[i].len);
	test_begin("str_ws_len_back");
	test_assert_int(str_ws_len_back("x\xe2\x81\xa0", 4), 3);
	test_assert_int(str_ws_len_back("x\xc2\xa0", 3), 2);
	test_assert_int(str_ws_len_back("x ", 2), 1);
	test_assert_int(str_ws_len_back("\xe4\xb8\xad", 3), 0);
	test_assert_int(str_ws_len_back("", 0), 0);
	test_begin("str_ws_trim");
	const char *s = "\xef\xbb\xbf \xe3\x80\x80#close\xc2\xa0\t\xe2\x81\xa0";
	size_t len = strlen(s);
	str_ws_trim(&s, &len);
	test_assert_int(len, 6);
	test_assert(strncmp(s, "#close", 6) == 0);
	const char *blank = " \xc2\xa0 ";
	len = strlen(blank);
	str_ws_trim(&blank, &len);
	test_assert_int(len, 0);
}

static void
test_errf(void)
{
	test_begin("errf");
	const char *a = errf("a%d", 1);
	const char *b = errf("b%d", 2);
	test_assert_str(a, "a1");
	test_assert_str(b, "b2");
	char *p = xasprintf("%s-%s", "x", "y");
	test_assert_str(p, "x-y");
	x_free(&p);
	test_assert(p == NULL);
	x_free(&p);

	/* A message over the buffer says it was cut, on a character boundary. */
	char big[3000];
	for (size_t i = 0; i + 3 < sizeof(big); i += 3)
		memcpy(big + i, "\xe4\xb8\xad", 3); /* 中 */
	big[sizeof(big) - 3] = '\0';
	const char *t = errf("%s", big);
	test_assert(strlen(t) < ERRF_MAX);
	test_assert(strstr(t, "... [truncated]") != NULL);
	test_assert(utf8_valid((const unsigned char *)t, strlen(t)));
	/* The ring keeps ERRF_RING - 1 earlier results intact. */
	const char *first = errf("first");
	for (int i = 0; i < ERRF_RING - 1; i++)
		(void)errf("n%d", i);
	test_assert_str(first, "first");
}

static void
test_base32(void)
{
	test_begin("base32");
	char out[BASE32_LEN(10) + 1];
	/* RFC 4648 vectors, lower case, no padding. */
	base32_encode((const unsigned char *)"foobar", 6, out);
	test_assert_str(out, "mzxw6ytboi");
	base32_encode((const unsigned char *)"fooba", 5, out);
	test_assert_str(out, "mzxw6ytb");
	base32_encode((const unsigned char *)"f", 1, out);
	test_assert_str(out, "my");
	base32_encode((const unsigned char *)"", 0, out);
	test_assert_str(out, "");
	test_assert_int(BASE32_LEN(15), 24);
	test_assert_int(base32_valid("abcXYZ27", 8), 1);
	test_assert_int(base32_valid("abc1", 4), 0);
	test_assert_int(base32_valid("ab=", 3), 0);
}

static void
test_file(void)
{
	test_begin("file");
	char path[] = "/tmp/dg-test-file-XXXXXX";
	int fd = mkstemp(path);
	test_assert(fd >= 0);
	test_assert(write(fd, "hello\n", 6) == 6);
	close(fd);
	char *data = NULL;
	size_t len = 0;
	const char *error = NULL;
	test_assert_int(file_read(path, 6, &data, &len, &error), 1);
	test_assert_int((int)len, 6);
	test_assert_str(data, "hello\n");
	x_free(&data);
	/* One byte over the bound is an error naming the file, never a cut. */
	test_assert_int(file_read(path, 5, &data, &len, &error), -1);
	test_assert(strstr(error, path) != NULL && strstr(error, "larger than 5") != NULL);
	test_assert(data == NULL);
	unlink(path);
	test_assert_int(file_read(path, 5, &data, &len, &error), 0);
	test_assert_int(file_read("/nonexistent-dir/x", 5, &data, &len, &error), 0);
}

int
main(void)
{
	test_base32();
	test_file();
	test_buf();
	test_str();
	test_utf8();
	test_ws();
	test_errf();
	return test_exit();
}
