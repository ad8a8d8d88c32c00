/*
 * csv: RFC 4180 records from bytes in memory, and a quoted field for
 * writing one. Pure: no I/O. Used by `deskgate rules eval` (labelled
 * sets) and meant for the reports' CSV output too.
 *
 * Reading: fields are separated by ',' and records by LF or CRLF; a field
 * in double quotes may hold commas, line breaks and "" (one quote); bytes
 * after a closing quote up to the next separator are ignored (as
 * spreadsheets do); a UTF-8 byte order mark at the start is skipped. A
 * field longer than the reader's maximum, or a quote left open at the end
 * of the input, is an error for that record.
 *
 * Ownership: csv_next() fills a struct csv_record whose strings it owns;
 * csv_record_clear() frees them (and is called by csv_next() first).
 */
#ifndef DG_CSV_H
#define DG_CSV_H

#include <stddef.h>

struct buf;

struct csv_reader {
	const char *p, *end;
	size_t max_field; /* bytes of one field */
	unsigned int record; /* records read so far (the header is 1) */
};

struct csv_record {
	char **fields; /* NUL-terminated, without quotes; a trailing CR removed */
	size_t n;
};

void csv_reader_init(struct csv_reader *r, const char *data, size_t len, size_t max_field);
/* The next record into *rec: 1; 0 at the end of the input; -1 when the
   record is malformed (*error_r says why; *rec holds what was read, and
   reading goes on at the next record). */
int csv_next(struct csv_reader *r, struct csv_record *rec, const char **error_r);
void csv_record_clear(struct csv_record *rec);
/* 1 for an empty line (one empty field). */
int csv_record_blank(const struct csv_record *rec);
/* The index of the first field equal to one of names (NULL-terminated), or
   -1. */
int csv_column(const struct csv_record *header, const char *const *names);

/* Append s as one field, quoted when it needs to be; -1 when b is full. */
int csv_put_field(struct buf *b, const char *s);

#endif
