/*
 * csv: see csv.h. Written by hand: RFC 4180 is a few dozen lines to read,
 * and Debian's libcsv (a callback parser) would add a build dependency for
 * less than it saves; the bound on a field's size is ours to keep.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "parsers/csv.h"
#include "base/util.h"

void
csv_reader_init(struct csv_reader *r, const char *data, size_t len, size_t max_field)
{
	r->p = data;
	r->end = data + len;
	r->max_field = max_field;
	r->record = 0;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		r->p += 3;
}

void
csv_record_clear(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		free(rec->fields[i]);
	free(rec->fields);
	rec->fields = NULL;
	rec->n = 0;
}

int
csv_next(struct csv_reader *r, struct csv_record *rec, const char **error_r)
{
	const char *p = r->p, *end = r->end;
	const char *why = NULL;
	csv_record_clear(rec);
	if (p >= end)
		return 0;
	r->record++;
	for (;;) {
		struct buf b;
		buf_init(&b, r->max_field);
		int full = 0;
		if (p < end && *p == '"') {
			p++;
			for (;;) {
				if (p >= end) {
					why = "unterminated quoted field";
					break;
				}
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						full |= buf_putc(&b, '"') < 0;
						p += 2;
						continue;
					}
					p++;
					break;
				}
				full |= buf_putc(&b, (unsigned char)*p++) < 0;
			}
			while (p < end && *p != ',' && *p != '\n')
				p++; /* junk after a closing quote is ignored */
		} else {
			while (p < end && *p != ',' && *p != '\n')
				full |= buf_putc(&b, (unsigned char)*p++) < 0;
		}
		if (full && why == NULL)
			why = errf("a field longer than %zu bytes", r->max_field);
		char *f = buf_steal(&b, NULL);
		size_t flen = strlen(f);
		if (flen > 0 && f[flen - 1] == '\r')
			f[flen - 1] = '\0';
		rec->fields = xreallocarray(rec->fields, rec->n + 1, sizeof(*rec->fields));
		rec->fields[rec->n++] = f;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '\n')
			p++;
		break;
	}
	r->p = p;
	if (why != NULL) {
		*error_r = why;
		return -1;
	}
	return 1;
}

int
csv_record_blank(const struct csv_record *rec)
{
	return rec->n == 1 && rec->fields[0][0] == '\0';
}

int
csv_column(const struct csv_record *header, const char *const *names)
{
	for (size_t i = 0; i < header->n; i++)
		for (size_t k = 0; names[k] != NULL; k++)
			if (strcmp(header->fields[i], names[k]) == 0)
				return (int)i;
	return -1;
}

int
csv_put_field(struct buf *b, const char *s)
{
	/* Quoted: separators, quotes, line breaks, a leading space, and a
	   leading byte order mark (a reader would skip it at the start). */
	if (strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' && s[0] != '\0' &&
	    strncmp(s, "\xef\xbb\xbf", 3) != 0)
		return buf_puts(b, s);
	if (s[0] == '\0')
		return 0;
	if (buf_putc(b, '"') < 0)
		return -1;
	for (const char *p = s; *p != '\0'; p++)
		if ((*p == '"' && buf_putc(b, '"') < 0) || buf_putc(b, (unsigned char)*p) < 0)
			return -1;
	return buf_putc(b, '"');
}
