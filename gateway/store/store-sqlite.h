/*
 * store-sqlite: what the files of the SQLite driver share, private to
 * them (store-sqlite.c, the core; store-sqlite-PART.c, the statements of
 * a part of the interface kept in a file of its own, such as the SLA
 * tables). The driver's store, and the statement helpers: binding,
 * stepping, grading SQLite's errors (see store-sqlite.c), savepoints of a
 * write, and the row reader of store-record.h. A part lists its SQL in a
 * struct sqlite_part; store-sqlite.c prepares it at open with the core's
 * statements (a typo fails at start-up) and finalizes it at close.
 */
#ifndef DG_STORE_SQLITE_H
#define DG_STORE_SQLITE_H

#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sqlite-sql.h"

/* The parts in files of their own. */
enum sqlite_part_id {
	SQLITE_PART_SLA, /* store-sqlite-sla.c */
	SQLITE_PART_LEASE, /* store-sqlite-lease.c */
	SQLITE_PART_MERGE, /* store-sqlite-merge.c */
	SQLITE_N_PARTS
};

struct sqlite_part {
	const char *const *sql; /* n statements */
	size_t n;
};

extern const struct sqlite_part sqlite_sla_part;
extern const struct sqlite_part sqlite_lease_part;
extern const struct sqlite_part sqlite_merge_part;

/* A driver's store: struct store first, so that the dispatcher's pointer
   is ours. */
struct sqlite_store {
	struct store base;
	sqlite3 *db;
	char *db_path;
	struct store_blobs *blobs;
	sqlite3_stmt **stmts;			    /* store-sqlite.c's, STMT_COUNT */
	sqlite3_stmt **parts[SQLITE_N_PARTS]; /* each part's, in its order */
};

static inline struct sqlite_store *
sq(struct store *store)
{
	return (struct sqlite_store *)store;
}

/* ---- results and statement helpers ------------------------------------------ */

/* How a failed SQLite call is graded: the data of this call (a constraint,
   a type or a size the database refuses) or the database itself (busy,
   full, I/O, corrupt). SQLITE_RANGE (a parameter number our SQL does not
   have) can only be a bug; retrying would not help, so it is not graded
   as a retry either. */
static inline int
grade(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return STORE_DATA_BAD;
	default:
		return STORE_UNAVAILABLE;
	}
}

/* The error of the last failed step on s->db, graded. */
static inline int
db_error(struct sqlite_store *s, const char *what, const char **error_r)
{
	*error_r = errf("store: %s: %s", what, sqlite3_errmsg(s->db));
	return grade(sqlite3_extended_errcode(s->db));
}

static inline void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static inline int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text64(st, i, s, strlen(s), SQLITE_STATIC, SQLITE_UTF8);
}

static inline int
bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, v);
}

/* An optional reference: 0 is stored as NULL. */
static inline int
bind_ref(sqlite3_stmt *st, int i, int64_t id)
{
	return id == 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, id);
}

/* LIMIT: 0 (all) or anything too large becomes -1 (no limit). */
static inline int
bind_limit(sqlite3_stmt *st, int i, size_t limit)
{
	return sqlite3_bind_int64(st, i, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
}

/* The first failure among the results of a statement's binds (the binds
   all run; OR-ing their codes would mix two failures into a third). */
static inline int
first_failure(const int *rcs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rcs[i] != SQLITE_OK)
			return rcs[i];
	}
	return SQLITE_OK;
}

#define BINDS(...) \
	first_failure((const int[]){ __VA_ARGS__ }, N_ELEMENTS(((const int[]){ __VA_ARGS__ })))

/* rc is the result of a statement's binds (BINDS()). A bind fails on the
   value given (SQLITE_TOOBIG: longer than the database takes), so it is
   graded like a failed step: a value too large is this call's data. */
static inline int
bind_ok(sqlite3_stmt *st, int rc, const char *what, const char **error_r)
{
	if (rc == SQLITE_OK)
		return STORE_OK;
	*error_r = errf("store: %s: %s", what, sqlite3_errstr(rc));
	stmt_done(st);
	return grade(rc);
}

/* Run a statement that returns no rows, then reset it. */
static inline int
stmt_exec(struct sqlite_store *s, sqlite3_stmt *st, const char *what, const char **error_r)
{
	int rc = sqlite3_step(st), ret = STORE_OK;
	if (rc != SQLITE_DONE)
		ret = db_error(s, what, error_r);
	stmt_done(st);
	return ret;
}

/* Bind-check and run a statement that returns no rows. */
static inline int
stmt_run(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc, const char *what,
	 const char **error_r)
{
	int ret = bind_ok(st, bind_rc, what, error_r);
	return ret < 0 ? ret : stmt_exec(s, st, what, error_r);
}

/* stmt_run() of an INSERT, and the new row's id in *id_r. */
static inline int
stmt_insert(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc, const char *what,
	    int64_t *id_r, const char **error_r)
{
	int ret = stmt_run(s, st, bind_rc, what, error_r);
	if (ret == STORE_OK)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return ret;
}

/* stmt_run() for an UPDATE of the row `id`: no such row is the caller's
   data ("no <noun> <id>"). */
static inline int
stmt_update(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc, const char *what,
	    const char *noun, int64_t id, const char **error_r)
{
	int ret = stmt_run(s, st, bind_rc, what, error_r);
	if (ret == STORE_OK && sqlite3_changes(s->db) == 0) {
		*error_r = errf("store: %s: no %s %lld", what, noun, (long long)id);
		ret = STORE_DATA_BAD;
	}
	return ret;
}

/* Step a bound statement that returns at most one row: 1 when there is
   one (read its columns, then stmt_done()), 0 when none, < 0 on failure
   (both already reset). */
static inline int
stmt_row(struct sqlite_store *s, sqlite3_stmt *st, const char *what, const char **error_r)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	int ret = rc == SQLITE_DONE ? 0 : db_error(s, what, error_r);
	stmt_done(st);
	return ret;
}

/* Run a statement that returns at most one row of one integer:
   1 with *value_r, 0 when no row, < 0 on failure. */
static inline int
stmt_int(struct sqlite_store *s, sqlite3_stmt *st, int64_t *value_r, const char *what,
	 const char **error_r)
{
	int ret = stmt_row(s, st, what, error_r);
	if (ret == 1) {
		*value_r = sqlite3_column_int64(st, 0);
		stmt_done(st);
	}
	return ret;
}

/* Bind one text parameter and run a statement that returns at most one
   row of two integers: 1 with *a_r and *b_r, 0 when no row, < 0 on
   failure. */
static inline int
stmt_int2(struct sqlite_store *s, sqlite3_stmt *st, const char *key, int64_t *a_r,
	  int64_t *b_r, const char *what, const char **error_r)
{
	int ret = bind_ok(st, bind_text(st, 1, key), what, error_r);
	if (ret < 0 || (ret = stmt_row(s, st, what, error_r)) <= 0)
		return ret;
	*a_r = sqlite3_column_int64(st, 0);
	*b_r = sqlite3_column_int64(st, 1);
	stmt_done(st);
	return 1;
}

/* ---- reading rows ------------------------------------------------------------- */

static inline const char *
row_text(void *row, size_t col)
{
	return (const char *)sqlite3_column_text(row, (int)col);
}

static inline int64_t
row_int64(void *row, size_t col)
{
	return sqlite3_column_int64(row, (int)col);
}

static inline const void *
row_bytes(void *row, size_t col, size_t *len_r)
{
	if (sqlite3_column_type(row, (int)col) == SQLITE_NULL) {
		*len_r = 0;
		return NULL;
	}
	const void *p = sqlite3_column_blob(row, (int)col);
	*len_r = (size_t)sqlite3_column_bytes(row, (int)col);
	/* An empty blob is NULL to SQLite, but not SQL NULL. */
	return p != NULL ? p : "";
}

static inline const struct store_row_reader *
row_reader(void)
{
	static const struct store_row_reader reader = { row_text, row_int64, row_bytes };
	return &reader;
}

/* Step a bound statement to its end, a record of rec for each row:
   *rows_r (NULL when none) and *count_r, or a failure (nothing kept). */
static inline int
read_rows(struct sqlite_store *s, sqlite3_stmt *st, const struct store_record *rec,
	  const char *what, void **rows_r, size_t *count_r, const char **error_r)
{
	void *items = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		store_record_fill(rec, store_rows_add(rec, &items, &n, &cap), row_reader(), st);
	if (rc != SQLITE_DONE) {
		int ret = db_error(s, what, error_r);
		stmt_done(st);
		store_records_free(rec, items, n);
		return ret;
	}
	stmt_done(st);
	*rows_r = items;
	*count_r = n;
	return STORE_OK;
}

/* Statement `id` of part `part`. */
static inline sqlite3_stmt *
part_stmt(struct sqlite_store *s, enum sqlite_part_id part, size_t id)
{
	return s->parts[part][id];
}

#endif
