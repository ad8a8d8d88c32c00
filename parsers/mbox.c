/* mbox: see mbox.h. */
#include "build-config.h"

#include <string.h>

#include "parsers/mbox.h"
#include "base/util.h"

int
mbox_detect(const unsigned char *data, size_t len)
{
	return len >= 5 && memcmp(data, "From ", 5) == 0;
}

void
mbox_iter_init(struct mbox_iter *it, const unsigned char *data, size_t len)
{
	it->data = data;
	it->len = len;
	it->pos = 0;
}

static size_t
line_end(const struct mbox_iter *it, size_t pos)
{
	const unsigned char *nl = memchr(it->data + pos, '\n', it->len - pos);
	return nl != NULL ? (size_t)(nl - it->data) + 1 : it->len;
}

unsigned char *
mbox_next(struct mbox_iter *it, size_t max_size, size_t *len_r)
{
	/* Skip the separator line. */
	if (it->pos >= it->len)
		return NULL;
	if (it->len - it->pos >= 5 && memcmp(it->data + it->pos, "From ", 5) == 0)
		it->pos = line_end(it, it->pos);

	struct buf b;
	buf_init(&b, max_size + 1);
	int full = 0;
	while (it->pos < it->len) {
		size_t end = line_end(it, it->pos);
		const unsigned char *line = it->data + it->pos;
		size_t n = end - it->pos;
		if (n >= 5 && memcmp(line, "From ", 5) == 0)
			break;
		/* mboxrd: ">From ", ">>From " ... lose one '>'. */
		size_t gt = 0;
		while (gt < n && line[gt] == '>')
			gt++;
		if (gt > 0 && n - gt >= 5 && memcmp(line + gt, "From ", 5) == 0) {
			line++;
			n--;
		}
		if (!full && buf_append(&b, line, n) < 0) {
			size_t room = b.max - b.len;
			buf_append(&b, line, room);
			full = 1;
		}
		it->pos = end;
	}
	/* The blank line before the next separator belongs to the format. */
	if (it->pos < it->len && !full) {
		if (b.len >= 2 && b.data[b.len - 1] == '\n' && b.data[b.len - 2] == '\n')
			b.len--;
		else if (b.len >= 3 && memcmp(b.data + b.len - 3, "\n\r\n", 3) == 0)
			b.len -= 2;
		if (b.data != NULL)
			b.data[b.len] = '\0';
	}
	return (unsigned char *)buf_steal(&b, len_r);
}
