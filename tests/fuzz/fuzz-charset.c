/*
 * fuzz-charset: charset_to_utf8() with the label taken from the input.
 * Byte 0 chooses the label: below 0x80, a label of (byte % 24) bytes read
 * from the input (none when 0); otherwise one of the labels mail really
 * carries. Byte 1 chooses the output limit. The rest is the text. Checks
 * what charset.h promises: on success the output is valid UTF-8 without
 * NUL bytes, NUL-terminated, at most max_out bytes; on failure an error.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/charset.h"
#include "base/util.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 16384

static const char *const labels[] = {
	"utf-8", "us-ascii", "iso-8859-1", "windows-1252", "iso-8859-15", "iso-8859-2",
	"windows-1251", "koi8-r", "gb2312", "gbk", "gb18030", "hz-gb-2312", "big5",
	"big5-hkscs", "euc-kr", "ks_c_5601-1987", "iso-2022-kr", "shift_jis", "euc-jp",
	"iso-2022-jp", "utf-16", "utf-16le", "utf-16be", "utf-7", "x-unknown", "\"utf-8\"",
	" UTF-8 ", "utf-32", "cp1255", "tis-620", "x-mac-roman", "unicode-1-1-utf-7",
};

FUZZ_TARGET(charset)
{
	char label_buf[32];
	const char *label = NULL;
	char *out = NULL;
	size_t out_len = 0;
	int lossy = -1;
	const char *used = NULL, *error = NULL;

	if (size < 2 || size > MAX_INPUT)
		return 0;
	unsigned char sel = data[0], lim = data[1];
	data += 2;
	size -= 2;
	if (sel < 0x80) {
		size_t n = sel % 24;
		if (n > size)
			return 0;
		if (n > 0) {
			memcpy(label_buf, data, n);
			label_buf[n] = '\0';
			label = label_buf;
		}
		data += n;
		size -= n;
	} else {
		label = labels[sel % N_ELEMENTS(labels)];
	}
	/* Small limits test the refusal path, large ones the conversion. */
	size_t max_out = lim < 64 ? lim : size * 4 + 16;

	if (label != NULL) {
		const char *name = charset_resolve(label);
		FUZZ_CHECK(name == NULL || name[0] != '\0');
	}
	const char *guess = charset_detect(data, size);
	FUZZ_CHECK(guess == NULL || guess[0] != '\0');

	/* An exact-size copy, so that ASan sees reads past the end. */
	unsigned char *in = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(in != NULL);
	if (size > 0)
		memcpy(in, data, size);
	int ret = charset_to_utf8(label, in, size, max_out, &out, &out_len, &lossy, &used, &error);
	if (ret == 0) {
		FUZZ_CHECK(out != NULL);
		FUZZ_CHECK(out_len <= max_out);
		FUZZ_CHECK(utf8_valid((const unsigned char *)out, out_len));
		FUZZ_CHECK(memchr(out, '\0', out_len) == NULL);
		FUZZ_CHECK(out[out_len] == '\0');
		FUZZ_CHECK(lossy == 0 || lossy == 1);
		/* Valid UTF-8 declared as UTF-8 comes out unchanged, but for a
		   leading byte order mark. */
		const unsigned char *body = in;
		size_t body_len = size;
		if (body_len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
			body += 3;
			body_len -= 3;
		}
		if (label != NULL && strcmp(label, "utf-8") == 0 && size <= max_out &&
		    utf8_valid(in, size) && memchr(in, '\0', size) == NULL) {
			FUZZ_CHECK(out_len == body_len && memcmp(out, body, body_len) == 0);
			FUZZ_CHECK(lossy == 0);
		}
	} else {
		FUZZ_CHECK(ret == -1);
		FUZZ_CHECK(error != NULL);
	}
	free(out);
	free(in);
	return 0;
}
