/*
 * store-sqlite-copy: the SQLite driver's generic row access for `deskgate
 * store migrate` (store-copy-driver.h). SQLite is the source of a copy:
 * it lists its tables and columns from its catalogue and reads rows. It is
 * no destination (insert is NULL): a copy into SQLite is not offered.
 *
 * The SQL is built from names the copier checked (plain lower-case
 * identifiers, quoted) and has no values in it.
 */
#include "build-config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "gateway/store/store-copy-driver.h"
#include "gateway/store/store-sqlite.h"

/* Rows of one text column of a query with no parameters. */
static int
name_rows(struct sqlite_store *s, const char *sql, const char *bind, char ***names_r,
	  size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st;
	size_t n = 0, cap = 0;
	char **names = NULL;
	int rc;

	*names_r = NULL;
	*count_r = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, "migrate: catalogue", error_r);
	if (bind != NULL)
		(void)bind_text(st, 1, bind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(t != NULL ? (const char *)t : "");
	}
	if (rc != SQLITE_DONE) {
		int ret = db_error(s, "migrate: catalogue", error_r);
		sqlite3_finalize(st);
		store_copy_names_free(&names, n);
		return ret;
	}
	sqlite3_finalize(st);
	*names_r = names;
	*count_r = n;
	return STORE_OK;
}

static int
sqlite_copy_tables(struct store *store, char ***names_r, size_t *count_r, const char **error_r)
{
	return name_rows(sq(store),
			 "SELECT name FROM sqlite_schema WHERE type = 'table' "
			 "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
			 NULL, names_r, count_r, error_r);
}

static int
sqlite_copy_columns(struct store *store, const char *table, char ***names_r, size_t *count_r,
		    const char **error_r)
{
	return name_rows(sq(store), "SELECT name FROM pragma_table_info(?1) ORDER BY cid", table,
			 names_r, count_r, error_r);
}

static int
sqlite_copy_scan(struct store *store, const char *table, const char *const *cols, size_t n,
		 store_copy_row_fn *fn, void *context, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	struct buf sql;
	sqlite3_stmt *st;
	struct store_copy_value *v = xcalloc(n + 1, sizeof(*v));
	int rc, ret = STORE_OK;

	buf_init(&sql, SIZE_MAX);
	(void)buf_puts(&sql, "SELECT ");
	for (size_t i = 0; i < n; i++)
		(void)buf_printf(&sql, "%s\"%s\"", i > 0 ? ", " : "", cols[i]);
	(void)buf_printf(&sql, " FROM \"%s\"", table);
	if (sqlite3_prepare_v2(s->db, buf_cstr(&sql), -1, &st, NULL) != SQLITE_OK) {
		ret = db_error(s, errf("migrate: read %s", table), error_r);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < n; i++) {
			int c = (int)i;
			memset(&v[i], 0, sizeof(v[i]));
			switch (sqlite3_column_type(st, c)) {
			case SQLITE_NULL:
				v[i].type = STORE_COPY_NULL;
				break;
			case SQLITE_INTEGER:
				v[i].type = STORE_COPY_INT;
				v[i].i = sqlite3_column_int64(st, c);
				break;
			case SQLITE_BLOB:
				v[i].type = STORE_COPY_BYTES;
				v[i].p = sqlite3_column_blob(st, c);
				v[i].len = (size_t)sqlite3_column_bytes(st, c);
				break;
			default: /* text; our schema has no REAL columns */
				v[i].type = STORE_COPY_TEXT;
				v[i].p = sqlite3_column_text(st, c);
				v[i].len = (size_t)sqlite3_column_bytes(st, c);
				break;
			}
		}
		if ((ret = fn(context, v, n)) != 0)
			break;
	}
	if (ret == STORE_OK && rc != SQLITE_DONE)
		ret = db_error(s, errf("migrate: read %s", table), error_r);
	sqlite3_finalize(st);
out:
	buf_free(&sql);
	free(v);
	return ret;
}

/* Without reading it: the blob's file is there (store_blobs_get() checks
   its bytes when it is read). */
static int
sqlite_copy_blob_has(struct store *store, enum store_blob_kind kind, const char *hex,
		     const char **error_r)
{
	char *path = store_blob_path(store, kind, hex);
	struct stat st;
	int ret;

	(void)error_r;
	ret = path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ret;
}

const struct store_copy_driver store_sqlite_copy_driver = {
	.tables = sqlite_copy_tables,
	.columns = sqlite_copy_columns,
	.scan = sqlite_copy_scan,
	.insert = NULL,
	.ids_advance = NULL,
	.blob_has = sqlite_copy_blob_has,
};
