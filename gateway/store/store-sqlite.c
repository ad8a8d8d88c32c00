/*
 * store-sqlite: the SQLite driver of the store (see store-driver.h and
 * docs/internals/store.md), the only file that includes sqlite3. Every
 * statement is prepared once at open and kept for the life of the store
 * (so a typo in SQL fails at start-up, not in the middle of a batch),
 * bound with parameters only, and reset right after use so that no
 * statement holds a read snapshot open (which would stop WAL checkpoints).
 * Blobs shorter than blob_file_min are rows of the blobs table, longer
 * ones files (store-blob.c); the schema history is in
 * store-sqlite-migrations.c, the statements' SQL in store-sqlite-sql.c.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "gateway/store/store-blob.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-migrations.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sqlite-sql.h"
#include "gateway/store/store-lease-driver.h"
#include "gateway/store/store-merge-driver.h"
#include "gateway/store/store-sla-driver.h"
#include "gateway/store/store-copy-driver.h"
#include "gateway/store/store-sqlite.h"

/* PRAGMA application_id: "DSKG", so that another program's SQLite file is
   refused instead of being migrated. */
#define STORE_APPLICATION_ID 0x44534b47
#define STORE_BUSY_TIMEOUT_MS 5000

static sqlite3_stmt *
stmt(struct sqlite_store *s, enum stmt_id id)
{
	return s->stmts[id];
}

/* A statement-level savepoint, so that a write made of several statements
   is all or nothing, inside store_begin() or not. */
static int
op_begin(struct sqlite_store *s, const char *what, const char **error_r)
{
	return stmt_exec(s, stmt(s, STMT_SAVEPOINT), what, error_r);
}

/* End the savepoint: ret is the result of the write; a failed write (or a
   failed release) is rolled back and its result returned. */
static int
op_end(struct sqlite_store *s, int ret, const char *what, const char **error_r)
{
	const char *ignored;
	if (ret == STORE_OK) {
		ret = stmt_exec(s, stmt(s, STMT_RELEASE), what, error_r);
		if (ret == STORE_OK)
			return STORE_OK;
	}
	/* Fails harmlessly when SQLite has already rolled everything back. */
	if (stmt_exec(s, stmt(s, STMT_ROLLBACK_TO), what, &ignored) == 0)
		(void)stmt_exec(s, stmt(s, STMT_RELEASE), what, &ignored);
	return ret;
}

/* Which arguments a select binds. */
enum select_args { ARG_ID = 1, ARG_REF = 2, ARG_TEXT = 4, ARG_LIMIT = 8 };

static const struct {
	enum stmt_id stmt;
	unsigned int args;
	const char *what;
} selects[STORE_SELECT_COUNT] = {
	[STORE_SELECT_TICKET] = { STMT_TICKET_GET, ARG_ID, "get ticket" },
	[STORE_SELECT_TICKETS] = { STMT_TICKET_LIST, ARG_LIMIT, "list tickets" },
	[STORE_SELECT_MESSAGES] = { STMT_MESSAGE_LIST, ARG_ID, "list messages" },
	[STORE_SELECT_ATTACHMENTS] = { STMT_ATTACHMENT_LIST, ARG_ID, "list attachments" },
	[STORE_SELECT_PARTICIPANTS] = { STMT_PARTICIPANT_LIST, ARG_ID, "list participants" },
	[STORE_SELECT_EVENTS] = { STMT_EVENT_LIST, ARG_REF, "list events" },
	[STORE_SELECT_FIELDS] = { STMT_FIELD_LIST, ARG_ID, "list ticket fields" },
	[STORE_SELECT_RULE_HITS] = { STMT_RULE_HIT_LIST, ARG_ID, "list rule hits" },
	[STORE_SELECT_QUARANTINE] = { STMT_QUARANTINE_GET, ARG_ID, "get quarantine" },
	[STORE_SELECT_QUARANTINES] = { STMT_QUARANTINE_LIST, ARG_TEXT, "list quarantine" },
	[STORE_SELECT_OUTBOX] = { STMT_OUTBOX_GET, ARG_ID, "get outbox" },
	[STORE_SELECT_OUTBOX_BY_MSGID] = { STMT_OUTBOX_FIND_MSGID, ARG_TEXT, "find outbox" },
	[STORE_SELECT_OUTBOXES] = { STMT_OUTBOX_LIST, ARG_TEXT | ARG_LIMIT, "list outbox" },
	[STORE_SELECT_OUTBOX_DUE] = { STMT_OUTBOX_DUE, ARG_ID | ARG_LIMIT, "outbox due" },
	[STORE_SELECT_QUARANTINES_UNFETCHED] = { STMT_QUARANTINE_LIST_UNFETCHED, ARG_ID | ARG_TEXT,
						 "list unfetched" },
	[STORE_SELECT_MAILBOX_MARKS] = { STMT_MAILBOX_MARK_LIST, ARG_ID | ARG_TEXT, "list marks" },
	[STORE_SELECT_OUTBOX_RCPTS] = { STMT_OUTBOX_RCPT_LIST, ARG_ID, "list recipients" },
	[STORE_SELECT_LABELS] = { STMT_LABEL_LIST, ARG_ID, "list labels" },
	[STORE_SELECT_TICKETS_ASSIGNED] = { STMT_TICKET_LIST_ASSIGNED, ARG_TEXT | ARG_LIMIT,
					    "list assigned tickets" },
	[STORE_SELECT_TICKETS_QUEUE] = { STMT_TICKET_LIST_QUEUE, ARG_TEXT | ARG_LIMIT,
					 "list a queue's tickets" },
	[STORE_SELECT_TICKETS_OVERDUE] = { STMT_TICKET_LIST_OVERDUE, ARG_ID | ARG_LIMIT,
					   "list overdue tickets" },
};

static int
sqlite_select(struct store *store, enum store_select what, const struct store_select_arg *arg,
	      void **rows_r, size_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	const struct store_record *rec = store_select_records[what];
	sqlite3_stmt *st = stmt(s, selects[what].stmt);
	unsigned int args = selects[what].args;
	int rcs[4], nb = 0, ret;

	/* The select's arguments are parameters ?1, ?2... in this order. */
	if (args & ARG_ID) {
		rcs[nb] = bind_int(st, nb + 1, arg->id);
		nb++;
	}
	if (args & ARG_REF) {
		rcs[nb] = bind_ref(st, nb + 1, arg->id);
		nb++;
	}
	if (args & ARG_TEXT) {
		rcs[nb] = bind_text(st, nb + 1, arg->text);
		nb++;
	}
	if (args & ARG_LIMIT) {
		rcs[nb] = bind_limit(st, nb + 1, arg->limit);
		nb++;
	}
	ret = bind_ok(st, first_failure(rcs, (size_t)nb), selects[what].what, error_r);
	if (ret < 0)
		return ret;
	return read_rows(s, st, rec, selects[what].what, rows_r, count_r, error_r);
}

static int
sqlite_count(struct store *store, enum store_count what, int64_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	int ret = what == STORE_COUNT_TICKETS
			  ? stmt_int(s, stmt(s, STMT_TICKET_COUNT), count_r, "count tickets", error_r)
			  : stmt_int(s, stmt(s, STMT_MESSAGE_COUNT), count_r, "count messages",
				     error_r);
	return ret < 0 ? ret : STORE_OK;
}

/* ---- open, close, transactions ---------------------------------------------- */

/* Run a query that returns one integer (PRAGMA reads). */
static int
query_int(struct sqlite_store *s, const char *sql, int64_t *value_r, const char **error_r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, s->db_path, error_r);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		int ret = STORE_UNAVAILABLE;
		if (rc == SQLITE_DONE)
			*error_r = errf("store: %s: %s returned nothing", s->db_path, sql);
		else
			ret = db_error(s, s->db_path, error_r);
		sqlite3_finalize(st);
		return ret;
	}
	*value_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return STORE_OK;
}

static int
exec_sql(struct sqlite_store *s, const char *sql, const char **error_r)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		*error_r = errf("store: %s: %s", s->db_path, msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return grade(rc);
	}
	return STORE_OK;
}

static int
set_pragmas(struct sqlite_store *s, const char **error_r)
{
	sqlite3_stmt *st;
	const unsigned char *mode;
	int ok;

	/* The first read of the file: a file that is not a database fails
	   here with SQLite's "file is not a database". */
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
		return db_error(s, s->db_path, error_r);
	if (sqlite3_step(st) != SQLITE_ROW) {
		int ret = db_error(s, s->db_path, error_r);
		sqlite3_finalize(st);
		return ret;
	}
	mode = sqlite3_column_text(st, 0);
	ok = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	if (!ok)
		*error_r = errf("store: %s: cannot use the WAL journal (journal mode is %s)",
				s->db_path, mode != NULL ? (const char *)mode : "unknown");
	sqlite3_finalize(st);
	if (!ok)
		return STORE_UNAVAILABLE;
	/* temp_store: the journals of the savepoints each message and each
	   multi-statement write opens stay in memory instead of a temporary
	   file (measured: 77 of the 86 pwrite() calls per imported message
	   went to it). They only ever hold one transaction's undo pages. */
	return exec_sql(s,
			"PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
			"PRAGMA temp_store = MEMORY;",
			error_r);
}

/* One message_rcpt row per address of a stored list (to, cc) with st, the
   prepared STMT_MESSAGE_RCPT_INSERT. */
static int
insert_rcpts(struct sqlite_store *s, sqlite3_stmt *st, int64_t row_id, int64_t ticket_id,
	     const char *list, const char *what, const char **error_r)
{
	const char *a;
	size_t len;
	int ret = STORE_OK;
	while (ret == STORE_OK && store_address_next(&list, &a, &len)) {
		if (len == 0)
			continue;
		int rc = BINDS(bind_int(st, 1, row_id), bind_int(st, 2, ticket_id),
			       sqlite3_bind_text64(st, 3, a, len, SQLITE_STATIC, SQLITE_UTF8));
		ret = stmt_run(s, st, rc, what, error_r);
	}
	return ret;
}

/* Migration 4: the recipients of the messages stored before it. */
static int
backfill_message_rcpt(struct sqlite_store *s, const char **error_r)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	int ret = STORE_OK, rc;

	if (sqlite3_prepare_v2(s->db, "SELECT id, ticket_id, to_addrs, cc_addrs FROM messages", -1,
			       &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, store_sqlite_sql[STMT_MESSAGE_RCPT_INSERT], -1, &ins, NULL) != SQLITE_OK) {
		ret = db_error(s, "migrate message recipients", error_r);
		goto out;
	}
	while (ret == STORE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(sel, 0), ticket_id = sqlite3_column_int64(sel, 1);
		for (int col = 2; col <= 3 && ret == STORE_OK; col++) {
			/* Copied: binding into ins must not disturb sel's row. */
			const unsigned char *list = sqlite3_column_text(sel, col);
			char *copy = list != NULL ? xstrdup((const char *)list) : NULL;
			ret = insert_rcpts(s, ins, id, ticket_id, copy, "migrate message recipients",
					   error_r);
			free(copy);
		}
	}
	if (ret == STORE_OK && rc != SQLITE_DONE)
		ret = db_error(s, "migrate message recipients", error_r);
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return ret;
}

static int
run_backfill(struct sqlite_store *s, enum store_backfill backfill, const char **error_r)
{
	switch (backfill) {
	case STORE_BACKFILL_NONE:
		return STORE_OK;
	case STORE_BACKFILL_MESSAGE_RCPT:
		return backfill_message_rcpt(s, error_r);
	}
	*error_r = errf("store: %s: unknown migration step %d", s->db_path, (int)backfill);
	return STORE_UNAVAILABLE;
}

static int
migrate(struct sqlite_store *s, const char **error_r)
{
	const int latest = (int)store_sqlite_n_migrations;
	int64_t version, app_id, objects;
	char sql[64];

	/* A migration that rebuilds a table (10: outbox) drops the old one,
	   which the foreign keys of the tables referring to it would refuse;
	   SQLite's procedure is to turn them off outside the transaction and
	   to check them before committing (foreign_key_check below). */
	if (exec_sql(s, "PRAGMA foreign_keys = OFF", error_r) < 0)
		return STORE_UNAVAILABLE;
	if (exec_sql(s, "BEGIN IMMEDIATE", error_r) < 0)
		goto fail_keys;
	/* Read inside the write transaction: two processes starting at once
	   do not both migrate. */
	if (query_int(s, "PRAGMA user_version", &version, error_r) < 0 ||
	    query_int(s, "PRAGMA application_id", &app_id, error_r) < 0 ||
	    query_int(s, "SELECT count(*) FROM sqlite_master", &objects, error_r) < 0)
		goto fail;
	if ((version == 0 && objects > 0) || (version > 0 && app_id != STORE_APPLICATION_ID)) {
		*error_r = errf("store: %s: not a deskgate database", s->db_path);
		goto fail;
	}
	if (version > latest) {
		*error_r = errf("store: %s: database schema version %lld is newer than this "
				"deskgate supports (%d)",
				s->db_path, (long long)version, latest);
		goto fail;
	}
	for (int v = (int)version; v < latest; v++) {
		const struct store_migration *m = &store_sqlite_migrations[v];
		if (exec_sql(s, m->sql, error_r) < 0 || run_backfill(s, m->backfill, error_r) < 0) {
			*error_r = errf("store: %s: migration to version %d (%s) failed: %s",
					s->db_path, v + 1, m->summary, *error_r);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec_sql(s, sql, error_r) < 0)
			goto fail;
	}
	if (version < latest) {
		if (query_int(s, "SELECT count(*) FROM pragma_foreign_key_check", &objects,
			      error_r) < 0)
			goto fail;
		if (objects != 0) {
			*error_r = errf("store: %s: migration to version %d left %lld rows whose "
					"foreign keys point nowhere",
					s->db_path, latest, (long long)objects);
			goto fail;
		}
	}
	if (exec_sql(s, "COMMIT", error_r) < 0)
		goto fail;
	if (exec_sql(s, "PRAGMA foreign_keys = ON", error_r) < 0)
		return STORE_UNAVAILABLE;
	s->base.version = latest;
	return STORE_OK;
fail:
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
fail_keys:
	(void)sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return STORE_UNAVAILABLE;
}

static const struct sqlite_part *const parts[SQLITE_N_PARTS] = {
	[SQLITE_PART_SLA] = &sqlite_sla_part,
	[SQLITE_PART_LEASE] = &sqlite_lease_part,
	[SQLITE_PART_MERGE] = &sqlite_merge_part,
};

static int
prepare_list(struct sqlite_store *s, const char *const *sql, size_t n, sqlite3_stmt **stmts,
	     const char **error_r)
{
	for (size_t i = 0; i < n; i++) {
		if (sql[i] == NULL) {
			*error_r = errf("store: statement %zu has no SQL", i);
			return STORE_UNAVAILABLE;
		}
		if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i],
				       NULL) != SQLITE_OK) {
			*error_r = errf("store: prepare \"%s\": %s", sql[i], sqlite3_errmsg(s->db));
			return STORE_UNAVAILABLE;
		}
	}
	return STORE_OK;
}

/* The core's statements, then each part's. */
static int
prepare_all(struct sqlite_store *s, const char **error_r)
{
	if (prepare_list(s, store_sqlite_sql, STMT_COUNT, s->stmts, error_r) < 0)
		return STORE_UNAVAILABLE;
	for (size_t p = 0; p < SQLITE_N_PARTS; p++)
		if (prepare_list(s, parts[p]->sql, parts[p]->n, s->parts[p], error_r) < 0)
			return STORE_UNAVAILABLE;
	return STORE_OK;
}

/* Create the database file ourselves so that it (and SQLite's -wal and
   -shm files, which copy its mode) is private: it holds customers' mail. */
static int
create_private(const char *db_path, const char **error_r)
{
	int fd = open(db_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return STORE_OK;
		*error_r = errf("store: %s: %s", db_path, strerror(errno));
		return STORE_UNAVAILABLE;
	}
	close(fd);
	/* SQLite syncs the directory of its journals, not of the database
	   file itself. */
	char *dir = xstrdup(db_path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else {
		slash[slash == dir ? 1 : 0] = '\0';
	}
	int ret = store_fsync_dir(dir, error_r);
	free(dir);
	return ret;
}

static void sqlite_close(struct store *store);

static int
sqlite_open(const char *db_path, const char *state_dir, struct store **store_r,
	    const char **error_r)
{
	struct store_blobs *blobs;
	int rc;

	if (store_blobs_open(state_dir, &blobs, error_r) < 0)
		return STORE_UNAVAILABLE;
	if (create_private(db_path, error_r) < 0) {
		store_blobs_close(&blobs);
		return STORE_UNAVAILABLE;
	}
	struct sqlite_store *s = xcalloc(1, sizeof(*s));
	s->base.driver = &store_sqlite_driver;
	s->db_path = xstrdup(db_path);
	s->blobs = blobs;
	s->stmts = xcalloc(STMT_COUNT, sizeof(*s->stmts));
	for (size_t p = 0; p < SQLITE_N_PARTS; p++)
		s->parts[p] = xcalloc(parts[p]->n, sizeof(*s->parts[p]));
	rc = sqlite3_open_v2(db_path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*error_r = errf("store: %s: %s", db_path,
				s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		sqlite_close(&s->base);
		return STORE_UNAVAILABLE;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if (set_pragmas(s, error_r) < 0 || migrate(s, error_r) < 0 || prepare_all(s, error_r) < 0) {
		sqlite_close(&s->base);
		return STORE_UNAVAILABLE;
	}
	*store_r = &s->base;
	return STORE_OK;
}

static void
sqlite_close(struct store *store)
{
	struct sqlite_store *s = sq(store);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	free(s->stmts);
	for (size_t p = 0; p < SQLITE_N_PARTS; p++) {
		for (size_t i = 0; i < parts[p]->n; i++)
			sqlite3_finalize(s->parts[p][i]);
		free(s->parts[p]);
	}
	sqlite3_close(s->db);
	store_blobs_close(&s->blobs);
	free(s->db_path);
	free(s);
}

static int
sqlite_begin(struct store *store, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	int ret = stmt_exec(s, stmt(s, STMT_BEGIN), "begin", error_r);
	if (ret == STORE_OK)
		store_blobs_forget(s->blobs);
	return ret;
}

static void
sqlite_rollback(struct store *store)
{
	struct sqlite_store *s = sq(store);
	const char *ignored;
	if (!sqlite3_get_autocommit(s->db))
		(void)stmt_exec(s, stmt(s, STMT_ROLLBACK), "rollback", &ignored);
	store_blobs_forget(s->blobs);
}

static int
sqlite_commit(struct store *store, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	int ret;

	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite rolled back on its own after an earlier error. */
		*error_r = "store: commit: the transaction was already rolled back by an error";
		store_blobs_forget(s->blobs);
		return STORE_UNAVAILABLE;
	}
	/* The blobs first: a committed row never points at a lost file. */
	ret = store_blobs_flush(s->blobs, error_r);
	if (ret == STORE_OK)
		ret = stmt_exec(s, stmt(s, STMT_COMMIT), "commit", error_r);
	if (ret < 0)
		sqlite_rollback(store);
	return ret;
}

static int
sqlite_unit_begin(struct store *store, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	return stmt_exec(s, stmt(s, STMT_UNIT_BEGIN), "savepoint", error_r);
}

static int
sqlite_unit_end(struct store *store, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	return stmt_exec(s, stmt(s, STMT_UNIT_RELEASE), "release savepoint", error_r);
}

static int
sqlite_unit_undo(struct store *store, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	int ret = stmt_exec(s, stmt(s, STMT_UNIT_ROLLBACK), "rollback to savepoint", error_r);
	if (ret < 0)
		return ret;
	return stmt_exec(s, stmt(s, STMT_UNIT_RELEASE), "release savepoint", error_r);
}

/* ---- blobs: rows below blob_file_min, files above ------------------------------- */

/* A small blob is a row: no file to create, write, rename and fsync, no
   disk block per 2 KB mail, and it commits with the rows that name it.
   Large ones stay files, where SQLite's own measurements ("Internal
   Versus External BLOBs") put the break-even near 100 KB. */
static int
sqlite_blob_put(struct store *store, enum store_blob_kind kind, const void *data, size_t len,
		char hex_r[65], const char **error_r)
{
	struct sqlite_store *s = sq(store);
	if (len >= store->blob_file_min)
		return store_blobs_put(s->blobs, kind, data, len, store->in_txn, hex_r, error_r);
	crypto_sha256_hex(data, len, hex_r);
	sqlite3_stmt *st = stmt(s, STMT_BLOB_INSERT);
	/* A zero-length blob is bound as an empty blob, not NULL. */
	return stmt_run(s, st,
			BINDS(bind_int(st, 1, (int64_t)kind),
			      sqlite3_bind_text(st, 2, hex_r, 64, SQLITE_STATIC),
			      sqlite3_bind_blob64(st, 3, len > 0 ? data : "", len, SQLITE_STATIC)),
			"blob put", error_r);
}

/* The row if there is one, else the file (written before the blobs
   table, or at least blob_file_min long). */
static int
sqlite_blob_get(struct store *store, enum store_blob_kind kind, const char *hex,
		unsigned char **data_r, size_t *len_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_BLOB_GET);
	int ret = bind_ok(st, BINDS(bind_int(st, 1, (int64_t)kind), bind_text(st, 2, hex)),
			  "blob get", error_r);
	if (ret < 0 || (ret = stmt_row(s, st, "blob get", error_r)) < 0)
		return ret;
	if (ret == 0)
		return store_blobs_get(s->blobs, kind, hex, data_r, len_r, error_r);
	size_t len = (size_t)sqlite3_column_bytes(st, 0);
	const void *data = sqlite3_column_blob(st, 0);
	unsigned char *copy = xmalloc(len + 1);
	if (len > 0)
		memcpy(copy, data, len);
	copy[len] = '\0';
	stmt_done(st);
	char got[CRYPTO_SHA256_HEX_LEN + 1];
	crypto_sha256_hex(copy, len, got);
	if (strcmp(got, hex) != 0) {
		*error_r = errf("store: blob %s: corrupt (its bytes hash to %s)", hex, got);
		free(copy);
		return STORE_UNAVAILABLE;
	}
	*data_r = copy;
	*len_r = len;
	return STORE_OK;
}

static int
sqlite_range_put(struct store *store, const char *hex, const struct store_blob_range *r,
		 const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_RANGE_INSERT);
	return stmt_run(s, st,
			BINDS(bind_text(st, 1, hex), bind_text(st, 2, r->raw_sha256),
			      bind_int(st, 3, r->offset), bind_int(st, 4, r->length),
			      bind_int(st, 5, r->encoding), bind_int(st, 6, r->size)),
			"blob range put", error_r);
}

static int
sqlite_range_get(struct store *store, const char *hex, struct store_blob_range *r,
		 const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_RANGE_GET);
	int ret = bind_ok(st, BINDS(bind_text(st, 1, hex)), "blob range get", error_r);
	if (ret < 0 || (ret = stmt_row(s, st, "blob range get", error_r)) <= 0)
		return ret;
	const unsigned char *raw = sqlite3_column_text(st, 0);
	snprintf(r->raw_sha256, sizeof(r->raw_sha256), "%s", raw != NULL ? (const char *)raw : "");
	r->offset = sqlite3_column_int64(st, 1);
	r->length = sqlite3_column_int64(st, 2);
	r->encoding = sqlite3_column_int(st, 3);
	r->size = sqlite3_column_int64(st, 4);
	stmt_done(st);
	return 1;
}

static char *
sqlite_blob_path(struct store *store, enum store_blob_kind kind, const char *hex)
{
	return store_blobs_path(sq(store)->blobs, kind, hex);
}

/* [store] blob_dir is PostgreSQL's: the large blobs are files already. */
static int
sqlite_set_blob_dir(struct store *store, const char *dir, const char **error_r)
{
	(void)store;
	(void)dir;
	*error_r = "store: blob_dir: SQLite keeps its large blobs as files under state_dir already";
	return STORE_DATA_BAD;
}

/* ---- writes ----------------------------------------------------------------------- */

static int
sqlite_ticket_insert(struct store *store, const struct store_ticket *t, int64_t *id_r,
		     const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_TICKET_INSERT);
	int rc = BINDS(bind_text(st, 1, t->subject), bind_text(st, 2, t->status),
		       bind_text(st, 3, t->category), bind_text(st, 4, t->priority),
		       bind_text(st, 5, t->queue), bind_text(st, 6, t->language),
		       bind_text(st, 7, t->customer_address), bind_text(st, 8, t->customer_name),
		       bind_int(st, 9, t->created_at), bind_int(st, 10, t->updated_at),
		       bind_int(st, 11, t->first_response_at), bind_int(st, 12, t->due_at),
		       bind_text(st, 13, t->assignee));
	return stmt_insert(s, st, rc, "insert ticket", id_r, error_r);
}

static const enum stmt_id ticket_set_stmts[STORE_TICKET_COL_COUNT] = {
	[STORE_TICKET_STATUS] = STMT_TICKET_SET_STATUS,
	[STORE_TICKET_CATEGORY] = STMT_TICKET_SET_CATEGORY,
	[STORE_TICKET_PRIORITY] = STMT_TICKET_SET_PRIORITY,
	[STORE_TICKET_QUEUE] = STMT_TICKET_SET_QUEUE,
	[STORE_TICKET_LANGUAGE] = STMT_TICKET_SET_LANGUAGE,
	[STORE_TICKET_ASSIGNEE] = STMT_TICKET_SET_ASSIGNEE,
	[STORE_TICKET_FIRST_RESPONSE_AT] = STMT_TICKET_SET_FIRST_RESPONSE,
	[STORE_TICKET_DUE_AT] = STMT_TICKET_SET_DUE,
};

static int
sqlite_ticket_update(struct store *store, int64_t ticket_id, enum store_ticket_col col,
		     const char *value, int64_t ivalue, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	int is_time = col == STORE_TICKET_FIRST_RESPONSE_AT || col == STORE_TICKET_DUE_AT;
	const char *what = is_time ? "set ticket time" : "set ticket field";
	sqlite3_stmt *st = stmt(s, ticket_set_stmts[col]);
	int rc = BINDS(bind_int(st, 1, ticket_id),
		       is_time ? bind_int(st, 2, ivalue) : bind_text(st, 2, value),
		       bind_int(st, 3, now));
	return stmt_update(s, st, rc, what, "ticket", ticket_id, error_r);
}

static int
sqlite_message_insert(struct store *store, const struct store_message *m, int64_t *id_r,
		      const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_MESSAGE_INSERT);
	int64_t id = 0;
	int rc, ret;

	ret = op_begin(s, "insert message", error_r);
	if (ret < 0)
		return ret;
	rc = BINDS(bind_int(st, 1, m->ticket_id), bind_text(st, 2, m->direction),
		   bind_text(st, 3, m->message_id), bind_text(st, 4, m->in_reply_to),
		   bind_text(st, 5, m->references), bind_text(st, 6, m->from_address),
		   bind_text(st, 7, m->from_name), bind_text(st, 8, m->to), bind_text(st, 9, m->cc),
		   bind_text(st, 10, m->subject), bind_int(st, 11, m->date),
		   bind_text(st, 12, m->text), bind_text(st, 13, m->raw_sha256),
		   bind_int(st, 14, m->raw_size), bind_text(st, 15, m->dedupe_key),
		   bind_text(st, 16, m->text_sha256), bind_text(st, 17, m->mailbox),
		   bind_int(st, 18, m->uid), bind_int(st, 19, m->created_at));
	ret = stmt_run(s, st, rc, "insert message", error_r);
	if (ret == STORE_OK) {
		id = sqlite3_last_insert_rowid(s->db);
		st = stmt(s, STMT_TICKET_TOUCH);
		rc = BINDS(bind_int(st, 1, m->ticket_id), bind_int(st, 2, m->created_at));
		ret = stmt_run(s, st, rc, "insert message", error_r);
	}
	st = stmt(s, STMT_MESSAGE_RCPT_INSERT);
	if (ret == STORE_OK)
		ret = insert_rcpts(s, st, id, m->ticket_id, m->to, "insert message", error_r);
	if (ret == STORE_OK)
		ret = insert_rcpts(s, st, id, m->ticket_id, m->cc, "insert message", error_r);
	ret = op_end(s, ret, "insert message", error_r);
	if (ret == STORE_OK)
		*id_r = id;
	return ret;
}

static int
sqlite_attachment_insert(struct store *store, const struct store_attachment *a, int64_t *id_r,
			 const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_ATTACHMENT_INSERT);
	int rc = BINDS(bind_int(st, 1, a->message_row_id), bind_text(st, 2, a->filename),
		       bind_text(st, 3, a->content_type), bind_text(st, 4, a->content_id),
		       bind_text(st, 5, a->sha256), bind_int(st, 6, a->size),
		       bind_int(st, 7, a->is_inline ? 1 : 0));
	int ret = stmt_run(s, st, rc, "insert attachment", error_r);
	if (ret == STORE_OK)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return ret;
}

static int
sqlite_participant_add(struct store *store, const struct store_participant *p, int64_t now,
		       const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_PARTICIPANT_ADD);
	int rc = BINDS(bind_int(st, 1, p->ticket_id), bind_text(st, 2, p->address),
		       bind_text(st, 3, p->name), bind_text(st, 4, p->role), bind_int(st, 5, now));
	return stmt_run(s, st, rc, "add participant", error_r);
}

static int
sqlite_participant_remove(struct store *store, int64_t ticket_id, const char *address,
			  const char *role, int *removed_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_PARTICIPANT_REMOVE);
	int rc = BINDS(bind_int(st, 1, ticket_id), bind_text(st, 2, address),
		       bind_text(st, 3, role));
	int ret = stmt_run(s, st, rc, "remove participant", error_r);
	*removed_r = ret == STORE_OK && sqlite3_changes(s->db) > 0;
	return ret;
}

static int
sqlite_event_add(struct store *store, const struct store_event *e, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_EVENT_ADD);
	int rc = BINDS(bind_ref(st, 1, e->ticket_id), bind_int(st, 2, e->at),
		       bind_text(st, 3, e->kind), bind_text(st, 4, e->detail));
	return stmt_run(s, st, rc, "add event", error_r);
}

static int
sqlite_event_last_of(struct store *store, const char *kind_a, const char *kind_b,
		     const char *detail_prefix, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_EVENT_LAST_OF);
	int rc = BINDS(bind_text(st, 1, kind_a), bind_text(st, 2, kind_b),
		       bind_text(st, 3, detail_prefix));
	int64_t is_a = 0;
	int ret = bind_ok(st, rc, "last event", error_r);
	if (ret == STORE_OK)
		ret = stmt_int(s, st, &is_a, "last event", error_r);
	return ret <= 0 ? ret : is_a ? 1 : 2;
}

/* An entry without raw bytes, for an IMAP message (one held entry each). */
static int
quarantine_insert_unfetched(struct sqlite_store *s, const struct store_quarantine *q,
			    int64_t *id_r, int *existed_r, const char **error_r)
{
	sqlite3_stmt *st = stmt(s, STMT_QUARANTINE_FIND_UNFETCHED);
	int rc = BINDS(bind_text(st, 1, q->mailbox), bind_int(st, 2, q->uidvalidity),
		       bind_int(st, 3, q->uid));
	int ret = bind_ok(st, rc, "quarantine", error_r);
	if (ret < 0)
		return ret;
	int found = stmt_int(s, st, id_r, "quarantine", error_r);
	if (found < 0)
		return found;
	st = stmt(s, STMT_QUARANTINE_INSERT_UNFETCHED);
	rc = BINDS(bind_int(st, 1, q->raw_size), bind_text(st, 2, q->reason),
		   bind_text(st, 3, q->source), bind_int(st, 4, q->created_at),
		   bind_text(st, 5, q->mailbox), bind_int(st, 6, q->uidvalidity),
		   bind_int(st, 7, q->uid));
	ret = stmt_run(s, st, rc, "quarantine", error_r);
	if (ret < 0)
		return ret;
	if (!found)
		*id_r = sqlite3_last_insert_rowid(s->db);
	*existed_r = found;
	return STORE_OK;
}

static int
sqlite_quarantine_insert(struct store *store, const struct store_quarantine *q, int64_t *id_r,
			 int *existed_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	if (q->raw_sha256 == NULL)
		return quarantine_insert_unfetched(s, q, id_r, existed_r, error_r);
	sqlite3_stmt *st = stmt(s, STMT_QUARANTINE_INSERT);
	int rc = BINDS(bind_text(st, 1, q->raw_sha256), bind_int(st, 2, q->raw_size),
		       bind_text(st, 3, q->reason), bind_text(st, 4, q->source),
		       bind_int(st, 5, q->created_at));
	int ret = stmt_run(s, st, rc, "quarantine", error_r);

	if (ret < 0)
		return ret;
	if (sqlite3_changes(s->db) > 0) {
		*id_r = sqlite3_last_insert_rowid(s->db);
		*existed_r = 0;
		return STORE_OK;
	}
	/* Already held (ON CONFLICT DO NOTHING inserted nothing). */
	st = stmt(s, STMT_QUARANTINE_FIND_HELD);
	ret = bind_ok(st, bind_text(st, 1, q->raw_sha256), "quarantine", error_r);
	if (ret < 0)
		return ret;
	ret = stmt_int(s, st, id_r, "quarantine", error_r);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		*error_r = "store: quarantine: held entry vanished";
		return STORE_UNAVAILABLE;
	}
	*existed_r = 1;
	return STORE_OK;
}

static int
sqlite_quarantine_set_status(struct store *store, int64_t id, const char *status,
			     int64_t ticket_id, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_QUARANTINE_SET_STATUS);
	int rc = BINDS(bind_int(st, 1, id), bind_text(st, 2, status), bind_ref(st, 3, ticket_id));
	return stmt_update(s, st, rc, "set quarantine status", "quarantine entry", id, error_r);
}

static int
sqlite_mailbox_get(struct store *store, const char *mailbox, uint32_t *uidvalidity_r,
		   uint32_t *last_uid_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	int64_t uidvalidity, last_uid;
	int ret = stmt_int2(s, stmt(s, STMT_MAILBOX_GET), mailbox, &uidvalidity, &last_uid,
			    "get mailbox", error_r);
	if (ret == 1) {
		*uidvalidity_r = (uint32_t)uidvalidity;
		*last_uid_r = (uint32_t)last_uid;
	}
	return ret < 0 ? ret : STORE_OK;
}

static int
sqlite_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity,
		   uint32_t last_uid, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_MAILBOX_SET);
	int rc = BINDS(bind_text(st, 1, mailbox), bind_int(st, 2, uidvalidity),
		       bind_int(st, 3, last_uid), bind_int(st, 4, now));
	return stmt_run(s, st, rc, "set mailbox", error_r);
}

static int
sqlite_outbox_rcpt_set(struct store *store, int64_t outbox_id, const char *address,
		       const char *status, const char *code, const char *detail, int64_t now,
		       const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_OUTBOX_RCPT_SET);
	int rc = BINDS(bind_int(st, 1, outbox_id), bind_text(st, 2, address),
		       bind_text(st, 3, status), bind_text(st, 4, code), bind_text(st, 5, detail),
		       bind_int(st, 6, now));
	int ret = stmt_run(s, st, rc, "set recipient", error_r);
	return ret < 0 ? ret : sqlite3_changes(s->db) > 0;
}

static int
sqlite_outbox_author_set(struct store *store, int64_t outbox_id, const char *address,
			 const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_OUTBOX_AUTHOR_SET);
	int rc = BINDS(bind_int(st, 1, outbox_id), bind_text(st, 2, address));
	return stmt_run(s, st, rc, "set author", error_r);
}

static int
sqlite_outbox_author_get(struct store *store, int64_t outbox_id, char **address_r,
			 const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_OUTBOX_AUTHOR_GET);
	int ret = bind_ok(st, bind_int(st, 1, outbox_id), "get author", error_r);
	if (ret < 0 || (ret = stmt_row(s, st, "get author", error_r)) <= 0)
		return ret;
	const unsigned char *a = sqlite3_column_text(st, 0);
	*address_r = a != NULL ? xstrdup((const char *)a) : NULL;
	stmt_done(st);
	return *address_r != NULL;
}

static int
sqlite_mailbox_mark_add(struct store *store, const char *mailbox, uint32_t uidvalidity,
			uint32_t uid, int quarantined, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_MAILBOX_MARK_ADD);
	int rc = BINDS(bind_text(st, 1, mailbox), bind_int(st, 2, uidvalidity), bind_int(st, 3, uid),
		       bind_int(st, 4, quarantined), bind_int(st, 5, now));
	return stmt_run(s, st, rc, "add mark", error_r);
}

static int
sqlite_mailbox_mark_done(struct store *store, const char *mailbox, uint32_t uidvalidity,
			 const uint32_t *uids, size_t count, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_MAILBOX_MARK_DONE);
	int ret = op_begin(s, "marks done", error_r);
	for (size_t i = 0; i < count && ret == STORE_OK; i++) {
		int rc = BINDS(bind_text(st, 1, mailbox), bind_int(st, 2, uidvalidity),
			       bind_int(st, 3, uids[i]));
		ret = stmt_run(s, st, rc, "marks done", error_r);
	}
	return op_end(s, ret, "marks done", error_r);
}

static int
sqlite_mailbox_mark_forget(struct store *store, const char *mailbox, uint32_t uidvalidity,
			   const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_MAILBOX_MARK_FORGET);
	int rc = BINDS(bind_text(st, 1, mailbox), bind_int(st, 2, uidvalidity));
	return stmt_run(s, st, rc, "forget marks", error_r);
}

static int
sqlite_field_set(struct store *store, int64_t ticket_id, const char *name, const char *value,
		 int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_FIELD_SET);
	int rc = BINDS(bind_int(st, 1, ticket_id), bind_text(st, 2, name), bind_text(st, 3, value),
		       bind_int(st, 4, now));
	return stmt_run(s, st, rc, "set ticket field", error_r);
}

static int
sqlite_label_add(struct store *store, const struct store_label *l, int64_t *id_r,
		 const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_LABEL_ADD);
	int rc = BINDS(bind_int(st, 1, l->ticket_id), bind_ref(st, 2, l->message_row_id),
		       bind_text(st, 3, l->label), bind_text(st, 4, l->verdict),
		       bind_text(st, 5, l->rules), bind_text(st, 6, l->agent),
		       bind_text(st, 7, l->subject), bind_text(st, 8, l->text),
		       bind_int(st, 9, l->created_at));
	return stmt_insert(s, st, rc, "add label", id_r, error_r);
}

static int
sqlite_rule_hit_add(struct store *store, int64_t ticket_id, int64_t message_row_id,
		    const char *rule, const char *detail, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_RULE_HIT_ADD);
	int rc = BINDS(bind_int(st, 1, ticket_id), bind_ref(st, 2, message_row_id),
		       bind_text(st, 3, rule), bind_text(st, 4, detail), bind_int(st, 5, now));
	return stmt_run(s, st, rc, "add rule hit", error_r);
}

static int
sqlite_outbox_insert(struct store *store, const struct store_outbox *o, int64_t *id_r,
		     const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_OUTBOX_INSERT);
	int64_t id = 0;
	int rc, ret;

	ret = op_begin(s, "queue mail", error_r);
	if (ret < 0)
		return ret;
	rc = BINDS(bind_ref(st, 1, o->ticket_id), bind_text(st, 2, o->kind),
		   bind_text(st, 3, o->message_id), bind_text(st, 4, o->envelope_from),
		   bind_text(st, 5, o->recipients),
		   sqlite3_bind_blob64(st, 6, o->raw, o->raw_size, SQLITE_STATIC),
		   bind_int(st, 7, o->created_at), bind_int(st, 8, o->next_attempt_at));
	ret = stmt_run(s, st, rc, "queue mail", error_r);
	if (ret == STORE_OK)
		id = sqlite3_last_insert_rowid(s->db);
	/* One row per recipient of the comma-separated list. */
	for (const char *p = o->recipients; ret == STORE_OK && p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char *addr = xstrndup(p, len);
		str_trim(addr);
		if (*addr != '\0') {
			sqlite3_stmt *rs = stmt(s, STMT_OUTBOX_RCPT_INSERT);
			rc = BINDS(bind_int(rs, 1, id), bind_text(rs, 2, addr),
				   bind_text(rs, 3, o->kind), bind_int(rs, 4, o->created_at));
			ret = stmt_run(s, rs, rc, "queue mail", error_r);
		}
		free(addr);
		p = comma != NULL ? comma + 1 : NULL;
	}
	ret = op_end(s, ret, "queue mail", error_r);
	if (ret == STORE_OK)
		*id_r = id;
	return ret;
}

static int
sqlite_outbox_update(struct store *store, int64_t id, const char *status, int64_t attempts,
		     int64_t next_attempt_at, const char *last_error, const char *last_code,
		     int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_OUTBOX_UPDATE);
	int rc = BINDS(bind_int(st, 1, id), bind_text(st, 2, status), bind_int(st, 3, attempts),
		       bind_int(st, 4, next_attempt_at), bind_text(st, 5, last_error),
		       bind_text(st, 6, last_code), bind_int(st, 7, now));
	return stmt_update(s, st, rc, "update outbox", "outbox message", id, error_r);
}

/* ---- look-ups ---------------------------------------------------------------------- */

static int
sqlite_message_find_dedupe(struct store *store, const char *dedupe_key, int64_t *message_id_r,
			   int64_t *ticket_id_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	return stmt_int2(s, stmt(s, STMT_MESSAGE_FIND_DEDUPE), dedupe_key, message_id_r,
			 ticket_id_r, "find message", error_r);
}

static int
sqlite_message_find_same_text(struct store *store, const char *from_address,
			      const char *text_sha256, int64_t since, int64_t *ticket_id_r,
			      const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_MESSAGE_FIND_SAME_TEXT);
	int rc = BINDS(bind_text(st, 1, from_address), bind_text(st, 2, text_sha256),
		       bind_int(st, 3, since));
	int ret = bind_ok(st, rc, "find same text", error_r);
	return ret < 0 ? ret : stmt_int(s, st, ticket_id_r, "find same text", error_r);
}

static int
sqlite_ticket_find_by_message_id(struct store *store, const char *message_id,
				 int64_t *ticket_id_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_TICKET_FIND_BY_MSGID);
	int ret = bind_ok(st, bind_text(st, 1, message_id), "find message-id", error_r);
	return ret < 0 ? ret : stmt_int(s, st, ticket_id_r, "find message-id", error_r);
}

static int
sqlite_ticket_find_recipient(struct store *store, int64_t ticket_id, const char *message_id,
			     const char *address, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_TICKET_FIND_RECIPIENT);
	int rc = BINDS(bind_int(st, 1, ticket_id), bind_text(st, 2, message_id),
		       bind_text(st, 3, address));
	int ret = bind_ok(st, rc, "find recipient", error_r);

	if (ret < 0 || (ret = stmt_row(s, st, "find recipient", error_r)) <= 0)
		return ret;
	ret = sqlite3_column_int(st, 0) != 0 ||
	      store_address_list_has((const char *)sqlite3_column_text(st, 1), address);
	stmt_done(st);
	return ret;
}

static int
sqlite_participant_find(struct store *store, int64_t ticket_id, const char *address,
			const char **role_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_PARTICIPANT_FIND);
	int rc = BINDS(bind_int(st, 1, ticket_id), bind_text(st, 2, address));
	int ret = bind_ok(st, rc, "find participant", error_r);

	if (ret < 0 || (ret = stmt_row(s, st, "find participant", error_r)) <= 0)
		return ret;
	*role_r = store_participant_role((const char *)sqlite3_column_text(st, 0));
	stmt_done(st);
	return 1;
}

static int
sqlite_outbox_count_recent(struct store *store, const char *recipient, const char *kind,
			   int64_t since, int64_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_OUTBOX_COUNT_RECENT);
	int rc = BINDS(bind_text(st, 1, recipient), bind_text(st, 2, kind), bind_int(st, 3, since));
	int ret = bind_ok(st, rc, "count outbox", error_r);
	if (ret == STORE_OK)
		ret = stmt_int(s, st, count_r, "count outbox", error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
sqlite_outbox_count_recent_folded(struct store *store, const char *base, const char *kind,
				  int64_t since, int64_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	const char *at = strrchr(base, '@');
	char *lo = xasprintf("%.*s+", (int)(at - base), base);
	char *hi = xasprintf("%.*s,", (int)(at - base), base);
	sqlite3_stmt *st = stmt(s, STMT_OUTBOX_COUNT_FOLDED);
	int rc = BINDS(bind_text(st, 1, base), bind_text(st, 2, lo), bind_text(st, 3, hi),
		       bind_text(st, 4, at), bind_text(st, 5, kind), bind_int(st, 6, since));
	int ret = bind_ok(st, rc, "count outbox", error_r);
	if (ret == STORE_OK)
		ret = stmt_int(s, st, count_r, "count outbox", error_r);
	free(lo);
	free(hi);
	return ret < 0 ? ret : STORE_OK;
}

static int
sqlite_outbox_count_since(struct store *store, const char *kind, int64_t since, int64_t *count_r,
			  const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, kind == NULL ? STMT_OUTBOX_COUNT_SINCE_ALL : STMT_OUTBOX_COUNT_SINCE);
	int rc = kind == NULL ? bind_int(st, 1, since)
			      : BINDS(bind_text(st, 1, kind), bind_int(st, 2, since));
	int ret = bind_ok(st, rc, "count outbox", error_r);
	if (ret == STORE_OK)
		ret = stmt_int(s, st, count_r, "count outbox", error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
sqlite_stats(struct store *store, struct store_stats *stats_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_STATS);
	int64_t *fields[] = {
		&stats_r->outbox_queued,	&stats_r->outbox_deferred,
		&stats_r->outbox_sending,	&stats_r->outbox_failed,
		&stats_r->outbox_oldest_at,	&stats_r->quarantine_held,
		&stats_r->tickets_unanswered,	&stats_r->oldest_unanswered_id,
		&stats_r->oldest_unanswered_at, &stats_r->oldest_unanswered_due,
	};
	int ret = stmt_row(s, st, "stats", error_r);
	if (ret <= 0)
		return ret < 0 ? ret : STORE_OK;
	for (size_t i = 0; i < N_ELEMENTS(fields); i++)
		*fields[i] = sqlite3_column_int64(st, (int)i);
	stmt_done(st);
	return STORE_OK;
}

/* ---- reports and surveys (store-report.h) ------------------------------------------ */

static int
sqlite_report_scan(struct store *store, enum store_report_scan what, int64_t since,
		   int64_t until, store_scan_fn *fn, void *context, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	/* Over a long period most rows are in it: one pass in ticket order
	   beats index ranges (the tickets': SQLite keeps their union in
	   memory; the messages': a random ticket look-up per message). */
	enum stmt_id id = store_report_stmts[what].stmt;
	if (until - since > STORE_REPORT_LONG_PERIOD)
		id = store_report_stmts[what].long_stmt;
	sqlite3_stmt *st = stmt(s, id);
	int rc = BINDS(bind_int(st, 1, since), bind_int(st, 2, until));
	int ret = bind_ok(st, rc, store_report_stmts[what].what, error_r);
	if (ret < 0)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = fn(context, row_reader(), st)) != 0) {
			stmt_done(st);
			return ret;
		}
	}
	if (rc != SQLITE_DONE)
		ret = db_error(s, store_report_stmts[what].what, error_r);
	stmt_done(st);
	return ret;
}

static int
sqlite_survey_sent(struct store *store, int64_t ticket_id, const char *customer,
		   int64_t outbox_id, int64_t sent_at, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_SURVEY_SENT);
	int rc = BINDS(bind_int(st, 1, ticket_id), bind_text(st, 2, customer),
		       bind_ref(st, 3, outbox_id), bind_int(st, 4, sent_at));
	return stmt_run(s, st, rc, "survey sent", error_r);
}

static int
sqlite_survey_vote(struct store *store, int64_t ticket_id, int score, const char *comment,
		   int64_t voted_at, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_SURVEY_VOTE);
	int rc = BINDS(bind_int(st, 1, ticket_id), bind_int(st, 2, score),
		       bind_text(st, 3, comment), bind_int(st, 4, voted_at));
	int ret = stmt_run(s, st, rc, "survey vote", error_r);
	return ret < 0 ? ret : sqlite3_changes(s->db) > 0;
}

static int
sqlite_survey_last_sent(struct store *store, const char *customer, int64_t *sent_at_r,
			const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_SURVEY_LAST_SENT);
	int ret = bind_ok(st, bind_text(st, 1, customer), "survey last sent", error_r);
	if (ret == STORE_OK)
		ret = stmt_int(s, st, sent_at_r, "survey last sent", error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
sqlite_survey_for_ticket(struct store *store, int64_t ticket_id, int64_t *sent_at_r,
			 const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *st = stmt(s, STMT_SURVEY_FOR_TICKET);
	int ret = bind_ok(st, bind_int(st, 1, ticket_id), "survey for ticket", error_r);
	return ret < 0 ? ret : stmt_int(s, st, sent_at_r, "survey for ticket", error_r);
}

const struct store_driver store_sqlite_driver = {
	.name = "sqlite",
	.sla = &store_sqlite_sla_driver,
	.lease = &store_sqlite_lease_driver,
	.merge = &store_sqlite_merge_driver,
	.copy = &store_sqlite_copy_driver,
	.open = sqlite_open,
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.unit_begin = sqlite_unit_begin,
	.unit_end = sqlite_unit_end,
	.unit_undo = sqlite_unit_undo,
	.blob_put = sqlite_blob_put,
	.blob_get = sqlite_blob_get,
	.range_put = sqlite_range_put,
	.range_get = sqlite_range_get,
	.blob_path = sqlite_blob_path,
	.set_blob_dir = sqlite_set_blob_dir,
	.select = sqlite_select,
	.count = sqlite_count,
	.stats = sqlite_stats,
	.ticket_insert = sqlite_ticket_insert,
	.ticket_update = sqlite_ticket_update,
	.message_insert = sqlite_message_insert,
	.attachment_insert = sqlite_attachment_insert,
	.participant_add = sqlite_participant_add,
	.participant_remove = sqlite_participant_remove,
	.event_add = sqlite_event_add,
	.event_last_of = sqlite_event_last_of,
	.quarantine_insert = sqlite_quarantine_insert,
	.quarantine_set_status = sqlite_quarantine_set_status,
	.mailbox_get = sqlite_mailbox_get,
	.mailbox_set = sqlite_mailbox_set,
	.mailbox_mark_add = sqlite_mailbox_mark_add,
	.mailbox_mark_done = sqlite_mailbox_mark_done,
	.mailbox_mark_forget = sqlite_mailbox_mark_forget,
	.field_set = sqlite_field_set,
	.rule_hit_add = sqlite_rule_hit_add,
	.outbox_insert = sqlite_outbox_insert,
	.outbox_update = sqlite_outbox_update,
	.message_find_dedupe = sqlite_message_find_dedupe,
	.message_find_same_text = sqlite_message_find_same_text,
	.ticket_find_by_message_id = sqlite_ticket_find_by_message_id,
	.ticket_find_recipient = sqlite_ticket_find_recipient,
	.participant_find = sqlite_participant_find,
	.outbox_count_recent = sqlite_outbox_count_recent,
	.outbox_count_recent_folded = sqlite_outbox_count_recent_folded,
	.outbox_count_since = sqlite_outbox_count_since,
	.outbox_rcpt_set = sqlite_outbox_rcpt_set,
	.outbox_author_set = sqlite_outbox_author_set,
	.outbox_author_get = sqlite_outbox_author_get,
	.label_add = sqlite_label_add,
	.report_scan = sqlite_report_scan,
	.survey_sent = sqlite_survey_sent,
	.survey_vote = sqlite_survey_vote,
	.survey_last_sent = sqlite_survey_last_sent,
	.survey_for_ticket = sqlite_survey_for_ticket,
};
