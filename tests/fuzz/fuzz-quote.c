/*
 * fuzz-quote: reply-quote and signature stripping. Byte 0 chooses the
 * flags; the rest is the text, passed without a terminating NUL. Checks
 * what quote.h promises: the output is never longer than the input, has
 * no CR (CR LF and CR become LF), is valid UTF-8 when the input was, and
 * the flags are 0 or 1. Inputs are capped far below QUOTE_MAX_LINES, so
 * quote_strip() must always succeed.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/quote.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 32768

FUZZ_TARGET(quote)
{
	struct quote_result res;
	const char *error = NULL;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	unsigned int flags = (data[0] & 1) ? QUOTE_KEEP_SIGNATURE : 0;
	data++;
	size--;
	char *text = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);

	memset(&res, 0, sizeof(res));
	FUZZ_CHECK(quote_strip(text, size, flags, &res, &error) == 0);
	FUZZ_CHECK(res.text != NULL);
	FUZZ_CHECK(res.len <= size);
	FUZZ_CHECK(res.text[res.len] == '\0');
	FUZZ_CHECK(memchr(res.text, '\r', res.len) == NULL);
	if (utf8_valid(data, size))
		FUZZ_CHECK(utf8_valid((const unsigned char *)res.text, res.len));
	FUZZ_CHECK(res.quote_removed == 0 || res.quote_removed == 1);
	FUZZ_CHECK(res.signature_removed == 0 || res.signature_removed == 1);
	if (flags & QUOTE_KEEP_SIGNATURE)
		FUZZ_CHECK(res.signature_removed == 0);
	free(res.text);
	free(text);
	return 0;
}
