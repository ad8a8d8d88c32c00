/*
 * fuzz-phrase: the phrase extractor of `rules suggest`. Byte 0 chooses the
 * options (bits 0-2: max words 0..7, bits 3-5: max Han characters 0..7,
 * bit 6: a call limit of 5); the rest is the text. Checks that every
 * phrase lies within the bounds, is valid UTF-8 without line breaks, has
 * no blank at an edge, and that the pattern made of it compiles to text
 * no longer than its bound.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/phrase.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 16384

static int
check(void *context, const char *phrase, size_t len, enum phrase_script script)
{
	size_t *calls = context;
	(*calls)++;
	FUZZ_CHECK(len > 0 && len <= PHRASE_MAX_LEN);
	FUZZ_CHECK(utf8_valid((const unsigned char *)phrase, len));
	FUZZ_CHECK(memchr(phrase, '\n', len) == NULL && memchr(phrase, '\0', len) == NULL);
	FUZZ_CHECK(phrase[0] != ' ' && phrase[len - 1] != ' ');
	char out[PHRASE_PATTERN_MAX];
	FUZZ_CHECK(phrase_pattern(phrase, len, script, out, sizeof(out)) == 0);
	FUZZ_CHECK(strlen(out) < sizeof(out));
	return 0;
}

FUZZ_TARGET(phrase)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	struct phrase_options o;
	phrase_options_default(&o);
	o.max_words = data[0] & 7;
	o.max_han = (data[0] >> 3) & 7;
	o.max_phrases = (data[0] & 0x40) ? 5 : 0;
	size_t calls = 0;
	size_t n = phrase_each((const char *)data + 1, size - 1, &o, check, &calls);
	FUZZ_CHECK(n == calls);
	if (o.max_phrases != 0)
		FUZZ_CHECK(calls <= o.max_phrases);
	return 0;
}
