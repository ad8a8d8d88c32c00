/*
 * fuzz-html: html_to_text() over an HTML document (libxml2's recovering
 * parser and our tree walk). The input is passed as an exact-size buffer
 * without a terminating NUL. Byte 0 chooses the output limit. Checks that
 * the text is NUL-terminated, within the limit, and valid UTF-8 when the
 * document was.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/html.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 32768

FUZZ_TARGET(html)
{
	char *text = NULL;
	size_t len = 0;
	const char *error = NULL;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	size_t max_out = data[0] < 32 ? (size_t)data[0] * 4 : 65536;
	data++;
	size--;
	char *html = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(html != NULL);
	if (size > 0)
		memcpy(html, data, size);

	int ret = html_to_text(html, size, max_out, &text, &len, &error);
	if (ret == 0) {
		FUZZ_CHECK(text != NULL);
		FUZZ_CHECK(len <= max_out);
		FUZZ_CHECK(text[len] == '\0');
		if (utf8_valid(data, size))
			FUZZ_CHECK(utf8_valid((const unsigned char *)text, len));
	} else {
		FUZZ_CHECK(ret == -1 && error != NULL);
		FUZZ_CHECK(text == NULL);
	}
	free(text);
	free(html);
	return 0;
}
