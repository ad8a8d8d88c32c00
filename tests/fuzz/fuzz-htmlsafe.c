/*
 * fuzz-htmlsafe: htmlsafe_clean() over an HTML document (an agent's reply).
 * Byte 0 chooses the output limit and whether quotes are kept. Checks that
 * the output is a NUL-terminated document within the limit, valid UTF-8,
 * and holds no script element, event handler or javascript: link.
 */
#include "build-config.h"

#include <string.h>
#include <strings.h>

#include "parsers/htmlsafe.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 32768

FUZZ_TARGET(htmlsafe)
{
	static const char *const cids[] = { "a@b" };
	static const char *const drop[] = { "#close" };
	static const char *const cut[] = { "Alice" };
	struct htmlsafe_result r;
	const char *error = NULL;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	size_t max_out = (data[0] & 0x7f) < 32 ? (size_t)(data[0] & 0x7f) * 64 : 1024 * 1024;
	struct htmlsafe_options o = { max_out, cids, 1, drop, 1, cut, 1, data[0] >> 7 };
	data++;
	size--;
	char *html = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(html != NULL);
	if (size > 0)
		memcpy(html, data, size);
	int ret = htmlsafe_clean(html, size, &o, &r, &error);
	if (ret == 0) {
		FUZZ_CHECK(r.html != NULL && r.len <= max_out && r.html[r.len] == '\0');
		FUZZ_CHECK(strlen(r.html) == r.len);
		FUZZ_CHECK(utf8_valid((const unsigned char *)r.html, r.len));
		FUZZ_CHECK(strcasestr(r.html, "<script") == NULL);
		FUZZ_CHECK(strcasestr(r.html, "href=\"javascript:") == NULL);
		/* every tag written names its attributes from the allow-list:
		   none of them starts with "on" */
		for (const char *p = r.html; (p = strchr(p, '<')) != NULL; p++) {
			const char *e = strchr(p, '>');
			FUZZ_CHECK(e != NULL);
			for (const char *q = p; q < e; q++)
				if (*q == '"')
					q = strchr(q + 1, '"'); /* a value: skip it */
				else
					FUZZ_CHECK(!(q[0] == ' ' && (q[1] | 0x20) == 'o' &&
						     (q[2] | 0x20) == 'n'));
		}
		htmlsafe_result_clear(&r);
	} else {
		FUZZ_CHECK(ret == -1 && error != NULL && r.html == NULL);
	}
	free(html);
	return 0;
}
