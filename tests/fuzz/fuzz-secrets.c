/*
 * fuzz-secrets: the secret detectors and their redaction. Byte 0 chooses
 * the flags (bit 0: SECRETS_HTML) and byte 1 the kinds to look for (0:
 * all); the rest is the text, passed without a terminating NUL. Checks
 * what secrets.h promises: spans sorted, not overlapping, inside the text,
 * on UTF-8 character boundaries when the text is UTF-8, of a kind asked
 * for, with a detail and a confidence of 50..100; the redaction succeeds
 * within its bound and is UTF-8 when the text was; redacting what is
 * already redacted never fails.
 */
#include "build-config.h"

#include <string.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "parsers/secrets.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 32768

static int
continuation(const unsigned char *s, size_t len, size_t at)
{
	return at < len && (s[at] & 0xc0) == 0x80;
}

FUZZ_TARGET(secrets)
{
	struct secrets_options opt = { crypto_sha256, 0, 0, 4096 };
	struct secrets_result res;
	const char *error = NULL;

	if (size < 2 || size > MAX_INPUT)
		return 0;
	opt.flags = (data[0] & 1) ? SECRETS_HTML : 0;
	opt.kinds = data[1] & SECRETS_ALL_KINDS;
	data += 2;
	size -= 2;
	char *text = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	int utf8 = utf8_valid(data, size);
	unsigned int want = opt.kinds != 0 ? opt.kinds : SECRETS_ALL_KINDS;

	if (secrets_scan(text, size, &opt, &res, &error) < 0) {
		FUZZ_CHECK(strstr(error, "more than") != NULL);
		free(text);
		return 0;
	}
	size_t at = 0;
	unsigned int kinds = 0;
	for (size_t i = 0; i < res.n; i++) {
		const struct secret_span *s = &res.spans[i];
		FUZZ_CHECK(s->len > 0);
		FUZZ_CHECK(s->offset >= at);
		FUZZ_CHECK(s->offset + s->len <= size);
		FUZZ_CHECK((unsigned int)s->kind < SECRET_KIND_COUNT);
		FUZZ_CHECK(want & SECRET_KIND_BIT(s->kind));
		FUZZ_CHECK(s->confidence >= 50 && s->confidence <= 100);
		FUZZ_CHECK(s->detail != NULL && s->detail[0] != '\0');
		FUZZ_CHECK(s->keep_head + s->keep_tail < s->len || s->keep_head + s->keep_tail == 0);
		if (utf8) {
			FUZZ_CHECK(!continuation(data, size, s->offset));
			FUZZ_CHECK(!continuation(data, size, s->offset + s->len));
		}
		kinds |= SECRET_KIND_BIT(s->kind);
		at = s->offset + s->len;
	}
	FUZZ_CHECK(kinds == res.kinds);

	char *out = NULL, *again = NULL;
	size_t out_len = 0, again_len = 0;
	size_t max_out = size + res.n * 64 + 1;
	FUZZ_CHECK(secrets_redact(text, size, &res, max_out, &out, &out_len, &error) == 0);
	FUZZ_CHECK(out_len <= max_out);
	FUZZ_CHECK(out[out_len] == '\0');
	if (utf8)
		FUZZ_CHECK(utf8_valid((const unsigned char *)out, out_len));
	if (res.n == 0)
		FUZZ_CHECK(out_len == size && memcmp(out, text, size) == 0);
	FUZZ_CHECK(secrets_redact_text(out, out_len, &opt, out_len * 2 + 4096 * 64, &again,
				       &again_len, NULL, &error) == 0 ||
		   strstr(error, "more than") != NULL);
	free(again);
	free(out);
	secrets_result_free(&res);
	free(text);
	return 0;
}
