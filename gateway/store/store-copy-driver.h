/*
 * store-copy-driver: what a store driver gives `deskgate store migrate`
 * (store-copy.h), private to gateway/store/. Generic row access by table
 * and column name, so that the copier (store-copy.c) is one table-driven
 * loop over the schema instead of a copy function per table. Table and
 * column names come only from the copier's compiled-in table and from the
 * database's own catalogue, never from input; values are always bound
 * parameters.
 *
 * Every operation returns STORE_OK (or the positive value it names) or a
 * graded failure with *error_r set.
 */
#ifndef DG_STORE_COPY_DRIVER_H
#define DG_STORE_COPY_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/store/store.h"

enum store_copy_type { STORE_COPY_NULL, STORE_COPY_INT, STORE_COPY_TEXT, STORE_COPY_BYTES };

/* One column's value of a row being read; p points into the driver's row
   (valid during the callback). TEXT: p is NUL-terminated after len. */
struct store_copy_value {
	enum store_copy_type type;
	int64_t i;
	const unsigned char *p;
	size_t len;
};

/* Called with each row; a non-zero return stops the scan and is returned. */
typedef int store_copy_row_fn(void *context, const struct store_copy_value *values, size_t n);

struct store_copy_driver {
	/* The database's own tables (the driver's bookkeeping tables, such as
	   SQLite's sqlite_*, left out); *names_r is freed by the caller with
	   store_copy_names_free(). */
	int (*tables)(struct store *store, char ***names_r, size_t *count_r, const char **error_r);
	/* A table's columns, in the table's order (same ownership). */
	int (*columns)(struct store *store, const char *table, char ***names_r, size_t *count_r,
		       const char **error_r);
	/* Every row of table, the given columns ("rowid": SQLite's row number). */
	int (*scan)(struct store *store, const char *table, const char *const *cols, size_t n,
		    store_copy_row_fn *fn, void *context, const char **error_r);
	/* Insert one row unless a row with one of its unique keys exists:
	   1 inserted, 0 kept what was there. NULL: the driver is no
	   destination. */
	int (*insert)(struct store *store, const char *table, const char *const *cols, size_t n,
		      const struct store_copy_value *values, const char **error_r);
	/* Make the table's id generator hand out ids above its highest row
	   (rows were inserted with their ids). NULL: nothing to do. */
	int (*ids_advance)(struct store *store, const char *table, const char **error_r);
	/* 1 when the store holds the blob, 0 when not (without reading it). */
	int (*blob_has)(struct store *store, enum store_blob_kind kind, const char *hex,
			const char **error_r);
};

void store_copy_names_free(char ***namesp, size_t count);

extern const struct store_copy_driver store_sqlite_copy_driver;
extern const struct store_copy_driver store_pg_copy_driver;

#endif
