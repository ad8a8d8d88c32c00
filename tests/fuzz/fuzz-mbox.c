/*
 * fuzz-mbox: split the input as an mbox with mbox_next(). Byte 0 chooses
 * the per-message limit. Checks that every message is at most limit + 1
 * bytes, NUL-terminated when not cut, that the iterator always advances
 * and that messages never hold more bytes than the input.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/mbox.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 65536

FUZZ_TARGET(mbox)
{
	struct mbox_iter it;
	unsigned char *m;
	size_t len, total = 0, count = 0;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	size_t max_size = data[0] < 128 ? data[0] : 65536;
	data++;
	size--;
	unsigned char *box = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(box != NULL);
	if (size > 0)
		memcpy(box, data, size);

	(void)mbox_detect(box, size);
	mbox_iter_init(&it, box, size);
	size_t last = 0;
	while ((m = mbox_next(&it, max_size, &len)) != NULL) {
		FUZZ_CHECK(len <= max_size + 1);
		if (len <= max_size)
			FUZZ_CHECK(m[len] == '\0');
		FUZZ_CHECK(it.pos <= size);
		FUZZ_CHECK(it.pos > last);
		last = it.pos;
		total += len;
		FUZZ_CHECK(total <= size);
		free(m);
		FUZZ_CHECK(++count <= size + 1);
	}
	free(box);
	return 0;
}
