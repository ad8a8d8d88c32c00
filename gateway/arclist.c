/* arclist: see arclist.h. */
#include "build-config.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "base/util.h"
#include "gateway/arclist.h"

/* Read up to want bytes of the current entry into *b (appending). 0, or
   -1 with *error_r. */
static int
read_more(struct archive *a, struct buf *b, size_t want, size_t *total, size_t max_total,
	  const char **error_r)
{
	unsigned char chunk[16384];
	while (b->len < want) {
		size_t n = want - b->len < sizeof(chunk) ? want - b->len : sizeof(chunk);
		la_ssize_t got = archive_read_data(a, chunk, n);
		if (got < 0) {
			*error_r = errf("archive: %s", archive_error_string(a) != NULL
								? archive_error_string(a)
								: "cannot read an entry");
			return -1;
		}
		if (got == 0)
			break;
		if (*total + (size_t)got > max_total) {
			*error_r = errf("archive: more than %zu bytes once decompressed", max_total);
			return -1;
		}
		*total += (size_t)got;
		if (buf_append(b, chunk, (size_t)got) < 0) {
			*error_r = "archive: entry larger than its limit";
			return -1;
		}
	}
	return 0;
}

int
arclist_walk(const unsigned char *data, size_t len, int raw, const struct arclist_limits *limits,
	     arclist_fn *fn, void *ctx, const char **error_r)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	size_t total = 0;
	int count = 0, ret = 0;

	if (a == NULL) {
		*error_r = "archive: out of memory";
		return -1;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (raw)
		archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		*error_r = errf("archive: %s", archive_error_string(a) != NULL
						       ? archive_error_string(a)
						       : "not an archive");
		archive_read_free(a);
		return -1;
	}
	for (;;) {
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			*error_r = errf("archive: %s", archive_error_string(a) != NULL
							       ? archive_error_string(a)
							       : "damaged");
			ret = -1;
			break;
		}
		if ((size_t)count == limits->max_entries) {
			*error_r = errf("archive: more than %zu entries", limits->max_entries);
			ret = -1;
			break;
		}
		count++;

		struct arclist_entry e;
		struct buf b;
		memset(&e, 0, sizeof(e));
		buf_init(&b, limits->max_entry);
		e.path = archive_entry_pathname(ae) != NULL ? archive_entry_pathname(ae) : "";
		e.size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
		e.is_dir = archive_entry_filetype(ae) == AE_IFDIR;
		e.encrypted = archive_entry_is_data_encrypted(ae) != 0;
		if (!e.is_dir && !e.encrypted) {
			size_t head = limits->head_bytes < limits->max_entry ? limits->head_bytes
									      : limits->max_entry;
			if (read_more(a, &b, head, &total, limits->max_total, error_r) < 0) {
				buf_free(&b);
				ret = -1;
				break;
			}
			e.complete = b.len < head;
		}
		e.data = b.data;
		e.data_len = b.len;
		int want = fn(ctx, &e);
		if (want == ARCLIST_ALL && !e.complete && !e.is_dir && !e.encrypted) {
			/* One byte more than the limit: a larger entry is an error,
			   never silently cut. */
			if (read_more(a, &b, limits->max_entry + 1, &total, limits->max_total,
				      error_r) < 0) {
				buf_free(&b);
				ret = -1;
				break;
			}
			e.data = b.data;
			e.data_len = b.len;
			e.complete = 1;
			want = fn(ctx, &e);
		}
		buf_free(&b);
		if (want == ARCLIST_STOP)
			break;
	}
	archive_read_free(a);
	return ret < 0 ? -1 : count;
}
