/*
 * fuzz-rfc2047: header words. The first input byte picks the header name
 * length for encoding and the output limit; the rest is a header value.
 * Checks that rfc2047_decode() and rfc2231_decode() return UTF-8 without
 * control characters (C0, DEL, C1) within their limit, that
 * rfc2047_encode() returns folded ASCII whose encoded words are at most 75
 * characters, and that decoding what was encoded gives back the text (for
 * valid UTF-8 without control characters, which the encoder removes, and
 * without U+FEFF).
 */
#include "build-config.h"

#include <string.h>

#include "parsers/rfc2047.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 4096

static void
check_decoded(const char *s, size_t max_out)
{
	size_t len = strlen(s);
	FUZZ_CHECK(len <= max_out);
	FUZZ_CHECK(utf8_valid((const unsigned char *)s, len));
	FUZZ_CHECK(!fuzz_has_control(s, len, 0));
	FUZZ_CHECK(!fuzz_has_c1(s, len));
}

/* ASCII, CRLF only as "CRLF SP" folding, encoded words <= 75 characters. */
static void
check_encoded(const char *e)
{
	for (const char *p = e; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r') {
			FUZZ_CHECK(p[1] == '\n' && p[2] == ' ');
			p++;
			continue;
		}
		FUZZ_CHECK(c >= 0x20 && c < 0x7f);
	}
	for (const char *w = strstr(e, "=?"); w != NULL; w = strstr(w + 2, "=?")) {
		/* =?charset?X?text?= */
		const char *q1 = strchr(w + 2, '?');
		if (q1 == NULL || q1[1] == '\0' || q1[2] != '?')
			continue;
		const char *end = strstr(q1 + 3, "?=");
		if (end == NULL)
			continue;
		FUZZ_CHECK(end + 2 - w <= 75);
		w = end;
	}
}

FUZZ_TARGET(rfc2047)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	size_t name_len = data[0] % 40;
	size_t max_out = (data[0] & 0x80) ? 16 + data[0] % 64 : 8192;
	char *s = fuzz_strndup(data + 1, size - 1);
	size_t len = strlen(s);

	char *d = rfc2047_decode(s, max_out);
	FUZZ_CHECK(d != NULL);
	check_decoded(d, max_out);
	free(d);

	d = rfc2231_decode(s, max_out);
	if (d != NULL)
		check_decoded(d, max_out);
	free(d);

	char *e = rfc2047_encode(s, name_len);
	FUZZ_CHECK(e != NULL);
	check_encoded(e);
	/* U+FEFF is left out: charset_to_utf8() drops it as a byte order mark
	   at the start of the text and of each decoded word. */
	if (utf8_valid((const unsigned char *)s, len) && !fuzz_has_control(s, len, 0) &&
	    !fuzz_has_c1(s, len) && strstr(s, "\xef\xbb\xbf") == NULL) {
		char *back = rfc2047_decode(e, len * 4 + 64);
		if (strcmp(back, s) != 0) {
			fprintf(stderr, "round trip:\n  in  \"%s\"\n  enc \"%s\"\n  out \"%s\"\n", s, e,
				back);
			abort();
		}
		free(back);
	}
	free(e);
	free(s);
	return 0;
}
