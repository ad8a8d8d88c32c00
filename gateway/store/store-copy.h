/*
 * store-copy: copy one desk's store into another (`deskgate store
 * migrate`, gateway/cmd-store.c): a SQLite desk into PostgreSQL, every
 * table with its ids (the id generators advanced past them), and every
 * blob the rows reference, read with the source's blob reader and written
 * with the destination's writer (so the copy does not depend on where a
 * driver keeps its blobs). Then both sides are compared: rows counted and
 * digested per table, blobs read back and checked by their hash.
 *
 * Table-driven (copy_tables[] in store-copy.c): a table that either
 * database has and the copier does not know, or a column that one side
 * has and the other not, stops the copy before it starts, so a new
 * migration cannot be forgotten here.
 *
 * Safe to run again: a row whose key the destination holds is kept, not
 * written again (a second run copies nothing and verifies); the rows are
 * committed every `batch` rows, so a run killed midway leaves whole
 * batches, and the next run copies the rest. A destination holding
 * tickets that are not the source's (another desk) is refused.
 */
#ifndef DG_STORE_COPY_H
#define DG_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/store/store.h"

struct store_copy_options {
	size_t batch;	 /* rows per destination transaction (0: 500) */
	int verify_only; /* copy nothing, compare */
};

/* One line of the report: a table (or "blobs:raw", "blobs:attachment"). */
struct store_copy_line {
	char *name;
	const char *skipped; /* not copied, and why (static); the rest is 0 */
	int64_t source_rows;
	int64_t dest_rows;
	int64_t copied;	     /* rows (blobs) written by this run */
	char source_digest[17]; /* the first 16 hex digits of the table digest */
	char dest_digest[17];
	int ok;		     /* counts and digests agree */
};

struct store_copy_report {
	struct store_copy_line *lines;
	size_t count;
	size_t mismatches;
};

/* Copy (unless options->verify_only) and verify. STORE_OK with *report_r
   (caller frees with store_copy_report_free()) even when the verification
   found mismatches (report->mismatches); < 0 with *error_r when the copy
   could not be made: an unknown table or column (STORE_DATA_BAD), a
   destination holding another desk's tickets (STORE_DATA_BAD), a store
   failure (graded as the store graded it). */
int store_copy(struct store *from, struct store *to, const struct store_copy_options *options,
	       struct store_copy_report **report_r, const char **error_r);
void store_copy_report_free(struct store_copy_report **reportp);

/* Whether the copier knows every table of store and every table it knows
   is there: STORE_OK, or STORE_DATA_BAD naming the first table out of
   step (the schema test of tests/unit/test-store-copy.c). */
int store_copy_check_tables(struct store *store, const char **error_r);

#endif
