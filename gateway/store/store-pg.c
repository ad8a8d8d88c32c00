/*
 * store-pg: the PostgreSQL driver of the store (see store-driver.h and
 * docs/internals/store.md), with store-pg-sla.c the only includer of
 * libpq-fe.h. `postgresql://...` or `postgres://...` (a libpq URI), or
 * `postgresql:host=... dbname=...` (libpq key=value), selects it; the
 * password comes from the URI, libpq's passfile= or PGPASSFILE, and is
 * never written into a message (libpq's are scrubbed of it).
 *
 * - Statements are prepared on their first use on a connection (in the
 *   same round trip as their first run inside a transaction) and run with
 *   parameters only; a lost connection is reset before the next call that
 *   is not inside a transaction, and its statements are prepared again as
 *   they are used.
 * - store_begin() is BEGIN ISOLATION LEVEL SERIALIZABLE; every statement
 *   inside it runs in a savepoint, because PostgreSQL aborts the whole
 *   transaction on any error and the contract says a refused write leaves
 *   the transaction usable. Units are SAVEPOINT dg_unit.
 * - Blobs are rows of `blobs` (kind, sha256, data BYTEA), written in the
 *   caller's transaction, so every gateway on the database sees them and a
 *   committed row never points at a missing blob. With [store] blob_dir
 *   (store_set_blob_dir()) the bytes are a file there instead, fsync()ed
 *   with its directory before the row is written, and the row holds no
 *   bytes: it still says the blob was committed, for the copier and for
 *   finding orphan files (docs/internals/store.md "Blobs").
 * - Migrations (store-pg-migrations.c) run at open in one transaction
 *   under pg_advisory_xact_lock(), so gateways starting together migrate
 *   once.
 */
#include "build-config.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "gateway/store/store-blob.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-migrations.h"
#include "gateway/store/store-pg-sql.h"
#include "gateway/store/store-lease-driver.h"
#include "gateway/store/store-merge-driver.h"
#include "gateway/store/store-copy-driver.h"
#include "gateway/store/store-pg.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sla-driver.h"
#include "gateway/store/store-sqlite-sql.h"

/* pg_advisory_xact_lock() key of the migrations: "DSKG". */
#define PG_MIGRATION_LOCK 1146309447

/* ---- open, migrate, close -------------------------------------------------------------- */

static int
migrate(struct pg_store *s, const char **error_r)
{
	const int latest = (int)store_pg_n_migrations;
	int ret;
	PGresult *res;
	char sql[96];

	if (pg_simple(s, "BEGIN", "migrate", error_r) < 0)
		return STORE_UNAVAILABLE;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)", PG_MIGRATION_LOCK);
	if (pg_simple(s, sql, "migrate: lock", error_r) < 0)
		goto fail;
	res = PQexec(s->conn,
		     "SELECT to_regclass('deskgate_schema') IS NOT NULL, "
		     "to_regclass('tickets') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_result_error(s, res, "migrate", error_r);
		PQclear(res);
		goto fail;
	}
	int have_schema = pg_value_int(res, 0, 0) != 0, have_tickets = pg_value_int(res, 0, 1) != 0;
	PQclear(res);
	int64_t version = 0;
	if (have_schema) {
		res = PQexec(s->conn, "SELECT version FROM deskgate_schema");
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
			if (PQresultStatus(res) != PGRES_TUPLES_OK)
				pg_result_error(s, res, "migrate", error_r);
			else
				*error_r = errf("store: %s: deskgate_schema does not hold one row",
						s->where);
			PQclear(res);
			goto fail;
		}
		version = pg_value_int(res, 0, 0);
		PQclear(res);
	} else if (have_tickets) {
		*error_r = errf("store: %s: not a deskgate database (a tickets table without "
				"deskgate_schema)",
				s->where);
		goto fail;
	}
	if (version > latest) {
		*error_r = errf("store: %s: database schema version %lld is newer than this "
				"deskgate supports (%d)",
				s->where, (long long)version, latest);
		goto fail;
	}
	for (int v = (int)version; v < latest; v++) {
		const struct store_migration *m = &store_pg_migrations[v];
		const char *e;
		if (pg_simple(s, m->sql, "migrate", &e) < 0 || m->backfill != STORE_BACKFILL_NONE) {
			if (m->backfill != STORE_BACKFILL_NONE)
				e = "a step in C this driver does not have";
			*error_r = errf("store: %s: migration to version %d (%s) failed: %s",
					s->where, v + 1, m->summary, e);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "UPDATE deskgate_schema SET version = %d", v + 1);
		if (pg_simple(s, sql, "migrate", error_r) < 0)
			goto fail;
	}
	ret = pg_simple(s, "COMMIT", "migrate", error_r);
	if (ret < 0)
		goto fail;
	s->base.version = latest;
	return STORE_OK;
fail:
	PQclear(PQexec(s->conn, "ROLLBACK"));
	return STORE_UNAVAILABLE;
}

/* "user@host:port/db" of the connection: what messages name. */
static char *
describe(PGconn *conn)
{
	const char *host = PQhost(conn);
	return xasprintf("postgresql://%s@%s:%s/%s", PQuser(conn), host != NULL ? host : "",
			 PQport(conn), PQdb(conn));
}

static void pg_close(struct store *store);

static int
open_conninfo(const char *conninfo, struct store **store_r, const char **error_r)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	if (opts == NULL) {
		/* libpq's message may quote the string, password and all. */
		PQfreemem(perr);
		*error_r = "store: postgresql: the connection string is not valid (libpq "
			   "URI or key=value; see docs/internals/store.md)";
		return STORE_UNAVAILABLE;
	}
	struct pg_store *s = xcalloc(1, sizeof(*s));
	s->base.driver = &store_pg_driver;
	s->conninfo = xstrdup(conninfo);
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL)
			s->secret = xstrdup(o->val);
	PQconninfoFree(opts);
	s->where = xstrdup("postgresql");

	static const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *values[] = { s->conninfo, "deskgate", NULL };
	s->conn = PQconnectdbParams(keys, values, 1);
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		*error_r = errf("store: postgresql: cannot connect: %s",
				s->conn != NULL ? pg_scrub(s, PQerrorMessage(s->conn)) : "out of memory");
		pg_close(&s->base);
		return STORE_UNAVAILABLE;
	}
	free(s->where);
	s->where = describe(s->conn);
	if (PQsetClientEncoding(s->conn, "UTF8") != 0 ||
	    pg_simple(s, "SET synchronous_commit = on", "open", error_r) < 0 ||
	    migrate(s, error_r) < 0 || pg_conn_setup(s, error_r) < 0) {
		if (PQsetClientEncoding(s->conn, "UTF8") != 0)
			*error_r = errf("store: %s: cannot use UTF8", s->where);
		pg_close(&s->base);
		return STORE_UNAVAILABLE;
	}
	*store_r = &s->base;
	return STORE_OK;
}

/* location: what follows "postgresql:" (or "postgres:"): "//..." is a
   URI, anything else libpq's key=value form. state_dir is not used: the
   blobs are in the database. */
static int
open_scheme(const char *scheme, const char *location, struct store **store_r,
	    const char **error_r)
{
	char *conninfo = strncmp(location, "//", 2) == 0 ? xasprintf("%s:%s", scheme, location)
							 : xstrdup(location);
	int ret = open_conninfo(conninfo, store_r, error_r);
	explicit_bzero(conninfo, strlen(conninfo));
	free(conninfo);
	return ret;
}

static int
pg_open(const char *location, const char *state_dir, struct store **store_r,
	const char **error_r)
{
	(void)state_dir;
	return open_scheme("postgresql", location, store_r, error_r);
}

static int
pg_open_alias(const char *location, const char *state_dir, struct store **store_r,
	      const char **error_r)
{
	(void)state_dir;
	return open_scheme("postgres", location, store_r, error_r);
}

static void
pg_close(struct store *store)
{
	struct pg_store *s = pgs(store);
	if (s->conn != NULL)
		PQfinish(s->conn);
	if (s->unescaped != NULL)
		PQfreemem(s->unescaped);
	free(s->ready);
	if (s->conninfo != NULL) {
		explicit_bzero(s->conninfo, strlen(s->conninfo));
		free(s->conninfo);
	}
	if (s->secret != NULL) {
		explicit_bzero(s->secret, strlen(s->secret));
		free(s->secret);
	}
	free(s->where);
	store_blobs_close(&s->blobs);
	free(s);
}

/* ---- transactions ---------------------------------------------------------------------- */

static int
pg_begin(struct store *store, const char **error_r)
{
	struct pg_store *s = pgs(store);
	int ret = pg_ensure_conn(s, error_r);
	if (ret < 0)
		return ret;
	ret = pg_simple(s, "BEGIN ISOLATION LEVEL SERIALIZABLE", "begin", error_r);
	return ret < 0 ? STORE_UNAVAILABLE : ret;
}

static void
pg_rollback(struct store *store)
{
	struct pg_store *s = pgs(store);
	const char *ignored;
	s->wake_pending = 0;
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		(void)pg_simple(s, "ROLLBACK", "rollback", &ignored);
}

static int
pg_commit(struct store *store, const char **error_r)
{
	struct pg_store *s = pgs(store);
	PGresult *res = PQexec(s->conn, pg_commit_sql(s));
	int ret = STORE_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		ret = pg_result_error(s, res, "commit", error_r);
		ret = STORE_UNAVAILABLE;
	} else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* An aborted transaction "commits" as ROLLBACK. */
		*error_r = "store: commit: the transaction was already rolled back by an error";
		ret = STORE_UNAVAILABLE;
	}
	PQclear(res);
	if (ret < 0)
		pg_rollback(store);
	return ret;
}

static int
pg_unit_begin(struct store *store, const char **error_r)
{
	return pg_simple(pgs(store), "SAVEPOINT dg_unit", "savepoint", error_r);
}

static int
pg_unit_end(struct store *store, const char **error_r)
{
	return pg_simple(pgs(store), "RELEASE dg_unit", "release savepoint", error_r);
}

static int
pg_unit_undo(struct store *store, const char **error_r)
{
	struct pg_store *s = pgs(store);
	int ret = pg_simple(s, "ROLLBACK TO dg_unit", "rollback to savepoint", error_r);
	return ret < 0 ? ret : pg_simple(s, "RELEASE dg_unit", "release savepoint", error_r);
}

/* ---- blobs: rows, or files under blob_dir -------------------------------------------------- */

static int
pg_set_blob_dir(struct store *store, const char *dir, const char **error_r)
{
	struct pg_store *s = pgs(store);
	struct store_blobs *blobs;
	if (store_blobs_open(dir, &blobs, error_r) < 0)
		return STORE_UNAVAILABLE;
	store_blobs_close(&s->blobs);
	s->blobs = blobs;
	return STORE_OK;
}

/* SHA-256 of no bytes: the one blob whose row legitimately holds none. */
#define PG_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int
pg_blob_put(struct store *store, enum store_blob_kind kind, const void *data, size_t len,
	    char hex_r[65], const char **error_r)
{
	struct pg_store *s = pgs(store);
	struct pg_params p = { 0 };
	if (len > INT32_MAX) {
		*error_r = "store: blob put: larger than PostgreSQL takes (1 GB)";
		return STORE_DATA_BAD;
	}
	if (s->blobs != NULL) {
		/* The file is durable (fsync of file and directory, not a
		   deferred syncfs(): on NFS only that reaches the server)
		   before the row naming it can commit. */
		int ret = store_blobs_put(s->blobs, kind, data, len, 0, hex_r, error_r);
		if (ret < 0)
			return ret;
		len = 0;
	} else {
		crypto_sha256_hex(data, len, hex_r);
	}
	pg_int(&p, (int64_t)kind);
	pg_text(&p, hex_r);
	pg_bytes(&p, data, len);
	return pg_do(s, "blob_put", &p, "blob put", error_r);
}

static int
pg_blob_get(struct store *store, enum store_blob_kind kind, const char *hex,
	    unsigned char **data_r, size_t *len_r, const char **error_r)
{
	struct pg_store *s = pgs(store);
	struct pg_params p = { 0 };
	char got[65];
	int ret;
	pg_int(&p, (int64_t)kind);
	pg_text(&p, hex);
	PGresult *res = pg_run(s, "blob_get", &p, 1, "blob get", &ret, error_r);
	if (res == NULL)
		return ret;
	/* A row without bytes (or none) under blob_dir: the file. */
	if (s->blobs != NULL && (PQntuples(res) != 1 || (PQgetlength(res, 0, 0) == 0 &&
							  strcmp(hex, PG_EMPTY_SHA256) != 0))) {
		PQclear(res);
		return store_blobs_get(s->blobs, kind, hex, data_r, len_r, error_r);
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		*error_r = errf("store: blob get: %s: missing", hex);
		return STORE_UNAVAILABLE;
	}
	size_t len = (size_t)PQgetlength(res, 0, 0);
	if (len == 0 && strcmp(hex, PG_EMPTY_SHA256) != 0) {
		PQclear(res);
		*error_r = errf("store: blob get: %s: its bytes are a file under [store] blob_dir, "
				"which is not set", hex);
		return STORE_UNAVAILABLE;
	}
	unsigned char *data = xmalloc(len + 1);
	memcpy(data, PQgetvalue(res, 0, 0), len);
	data[len] = '\0';
	PQclear(res);
	crypto_sha256_hex(data, len, got);
	if (strcmp(got, hex) != 0) {
		free(data);
		*error_r = errf("store: blob get: %s: corrupt (its bytes hash to %s)", hex, got);
		return STORE_UNAVAILABLE;
	}
	*data_r = data;
	*len_r = len;
	return STORE_OK;
}

static int
pg_range_put(struct store *store, const char *hex, const struct store_blob_range *r,
	     const char **error_r)
{
	struct pg_params p = { 0 };
	pg_text(&p, hex);
	pg_text(&p, r->raw_sha256);
	pg_int(&p, r->offset);
	pg_int(&p, r->length);
	pg_int(&p, r->encoding);
	pg_int(&p, r->size);
	return pg_do(pgs(store), "range_put", &p, "blob range put", error_r);
}

static int
pg_range_get(struct store *store, const char *hex, struct store_blob_range *r,
	     const char **error_r)
{
	struct pg_params p = { 0 };
	int ret;
	pg_text(&p, hex);
	PGresult *res = pg_run(pgs(store), "range_get", &p, 0, "blob range get", &ret, error_r);
	if (res == NULL)
		return ret;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	snprintf(r->raw_sha256, sizeof(r->raw_sha256), "%s", PQgetvalue(res, 0, 0));
	r->offset = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	r->length = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	r->encoding = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
	r->size = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	PQclear(res);
	return 1;
}

/* No blob files unless blob_dir is set. */
static char *
pg_blob_path(struct store *store, enum store_blob_kind kind, const char *hex)
{
	struct pg_store *s = pgs(store);
	return s->blobs != NULL ? store_blobs_path(s->blobs, kind, hex) : NULL;
}

/* ---- reads -------------------------------------------------------------------------------- */

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
pg_select(struct store *store, enum store_select what, const struct store_select_arg *arg,
	  void **rows_r, size_t *count_r, const char **error_r)
{
	struct pg_store *s = pgs(store);
	unsigned int args = selects[what].args;
	struct pg_params p = { 0 };
	char name_buf[16];

	if (args & ARG_ID)
		pg_int(&p, arg->id);
	if (args & ARG_REF)
		pg_ref(&p, arg->id);
	if (args & ARG_TEXT)
		pg_text(&p, arg->text);
	if (args & ARG_LIMIT)
		pg_limit(&p, arg->limit);
	return pg_rows(s, NAME(selects[what].stmt), &p, store_select_records[what],
		       selects[what].what, rows_r, count_r, error_r);
}

static int
pg_count(struct store *store, enum store_count what, int64_t *count_r, const char **error_r)
{
	struct pg_store *s = pgs(store);
	char name_buf[16];
	int ret = pg_int_row(s, NAME(what == STORE_COUNT_TICKETS ? STMT_TICKET_COUNT
							      : STMT_MESSAGE_COUNT),
			     NULL, count_r, what == STORE_COUNT_TICKETS ? "count tickets"
									 : "count messages",
			     error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
pg_stats(struct store *store, struct store_stats *stats_r, const char **error_r)
{
	struct pg_store *s = pgs(store);
	char name_buf[16];
	int64_t *fields[] = {
		&stats_r->outbox_queued,	&stats_r->outbox_deferred,
		&stats_r->outbox_sending,	&stats_r->outbox_failed,
		&stats_r->outbox_oldest_at,	&stats_r->quarantine_held,
		&stats_r->tickets_unanswered,	&stats_r->oldest_unanswered_id,
		&stats_r->oldest_unanswered_at, &stats_r->oldest_unanswered_due,
	};
	int ret;
	PGresult *res = pg_run(s, NAME(STMT_STATS), NULL, 0, "stats", &ret, error_r);
	if (res == NULL)
		return ret;
	if (PQntuples(res) > 0)
		for (size_t i = 0; i < N_ELEMENTS(fields); i++)
			*fields[i] = pg_value_int(res, 0, (int)i);
	PQclear(res);
	return STORE_OK;
}

/* ---- writes ------------------------------------------------------------------------------- */

static int
pg_ticket_insert(struct store *store, const struct store_ticket *t, int64_t *id_r,
		 const char **error_r)
{
	struct pg_params p = { 0 };
	pg_text(&p, t->subject);
	pg_text(&p, t->status);
	pg_text(&p, t->category);
	pg_text(&p, t->priority);
	pg_text(&p, t->queue);
	pg_text(&p, t->language);
	pg_text(&p, t->customer_address);
	pg_text(&p, t->customer_name);
	pg_int(&p, t->created_at);
	pg_int(&p, t->updated_at);
	pg_int(&p, t->first_response_at);
	pg_int(&p, t->due_at);
	pg_text(&p, t->assignee);
	return pg_insert_id(pgs(store), STMT_TICKET_INSERT, &p, "insert ticket", id_r, error_r);
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
pg_ticket_update(struct store *store, int64_t ticket_id, enum store_ticket_col col,
		 const char *value, int64_t ivalue, int64_t now, const char **error_r)
{
	int is_time = col == STORE_TICKET_FIRST_RESPONSE_AT || col == STORE_TICKET_DUE_AT;
	struct pg_params p = { 0 };
	pg_int(&p, ticket_id);
	if (is_time)
		pg_int(&p, ivalue);
	else
		pg_text(&p, value);
	pg_int(&p, now);
	return pg_update_row(pgs(store), ticket_set_stmts[col], &p,
			  is_time ? "set ticket time" : "set ticket field", "ticket", ticket_id,
			  error_r);
}

/* One message_rcpt row per address of a stored list (to, cc). */
static int
insert_rcpts(struct pg_store *s, int64_t row_id, int64_t ticket_id, const char *list,
	     const char *what, const char **error_r)
{
	char name_buf[16];
	const char *a;
	size_t len;
	int ret = STORE_OK;
	while (ret == STORE_OK && store_address_next(&list, &a, &len)) {
		if (len == 0)
			continue;
		char *addr = xstrndup(a, len);
		struct pg_params p = { 0 };
		pg_int(&p, row_id);
		pg_int(&p, ticket_id);
		pg_text(&p, addr);
		ret = pg_do(s, NAME(STMT_MESSAGE_RCPT_INSERT), &p, what, error_r);
		free(addr);
	}
	return ret;
}

static int pg_message_find_dedupe(struct store *store, const char *dedupe_key,
				  int64_t *message_id_r, int64_t *ticket_id_r, const char **error_r);

/* A unique violation (23505) on messages.dedupe_key, graded by the rule of
   docs/internals/store.md "Concurrency": when the row is in this
   transaction's snapshot (written by it, or committed before it began) the
   caller could have found it, so the call's data is at fault
   (STORE_DATA_BAD, *error_r kept); when it is not, another gateway
   committed it meanwhile: a conflict (STORE_UNAVAILABLE, counted by
   store_conflicts()), and the retried batch finds the row. */
static int
dedupe_violation(struct pg_store *s, const char *dedupe_key, const char **error_r)
{
	int64_t message_id, ticket_id;
	const char *why = *error_r, *error;
	int ret = pg_message_find_dedupe(&s->base, dedupe_key, &message_id, &ticket_id, &error);
	if (ret < 0) {
		*error_r = error;
		return ret;
	}
	if (ret > 0)
		return STORE_DATA_BAD;
	s->base.conflicts++;
	*error_r = errf("%s: another gateway stored that message meanwhile (retry)", why);
	return STORE_UNAVAILABLE;
}

static int
pg_message_insert(struct store *store, const struct store_message *m, int64_t *id_r,
		  const char **error_r)
{
	struct pg_store *s = pgs(store);
	char name_buf[16];
	int64_t id = 0;
	s->violated[0] = '\0';
	int ret = pg_op_begin(s, "insert message", error_r);
	if (ret < 0)
		return ret;
	struct pg_params p = { 0 };
	pg_int(&p, m->ticket_id);
	pg_text(&p, m->direction);
	pg_text(&p, m->message_id);
	pg_text(&p, m->in_reply_to);
	pg_text(&p, m->references);
	pg_text(&p, m->from_address);
	pg_text(&p, m->from_name);
	pg_text(&p, m->to);
	pg_text(&p, m->cc);
	pg_text(&p, m->subject);
	pg_int(&p, m->date);
	pg_text(&p, m->text);
	pg_text(&p, m->raw_sha256);
	pg_int(&p, (int64_t)m->raw_size);
	pg_text(&p, m->dedupe_key);
	pg_text(&p, m->text_sha256);
	pg_text(&p, m->mailbox);
	pg_int(&p, m->uid);
	pg_int(&p, m->created_at);
	ret = pg_insert_id(s, STMT_MESSAGE_INSERT, &p, "insert message", &id, error_r);
	if (ret == STORE_OK) {
		struct pg_params t = { 0 };
		pg_int(&t, m->ticket_id);
		pg_int(&t, m->created_at);
		ret = pg_do(s, NAME(STMT_TICKET_TOUCH), &t, "insert message", error_r);
	}
	if (ret == STORE_OK)
		ret = insert_rcpts(s, id, m->ticket_id, m->to, "insert message", error_r);
	if (ret == STORE_OK)
		ret = insert_rcpts(s, id, m->ticket_id, m->cc, "insert message", error_r);
	ret = pg_op_end(s, ret, "insert message", error_r);
	if (ret == STORE_DATA_BAD && m->dedupe_key != NULL &&
	    strcmp(s->violated, "messages_dedupe_key_key") == 0)
		ret = dedupe_violation(s, m->dedupe_key, error_r);
	if (ret == STORE_OK)
		*id_r = id;
	return ret;
}

static int
pg_attachment_insert(struct store *store, const struct store_attachment *a, int64_t *id_r,
		     const char **error_r)
{
	struct pg_params p = { 0 };
	pg_int(&p, a->message_row_id);
	pg_text(&p, a->filename);
	pg_text(&p, a->content_type);
	pg_text(&p, a->content_id);
	pg_text(&p, a->sha256);
	pg_int(&p, (int64_t)a->size);
	pg_int(&p, a->is_inline ? 1 : 0);
	return pg_insert_id(pgs(store), STMT_ATTACHMENT_INSERT, &p, "insert attachment", id_r,
			 error_r);
}

static int
pg_participant_add(struct store *store, const struct store_participant *pa, int64_t now,
		   const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, pa->ticket_id);
	pg_text(&p, pa->address);
	pg_text(&p, pa->name);
	pg_text(&p, pa->role);
	pg_int(&p, now);
	return pg_do(pgs(store), NAME(STMT_PARTICIPANT_ADD), &p, "add participant", error_r);
}

static int
pg_participant_remove(struct store *store, int64_t ticket_id, const char *address,
		      const char *role, int *removed_r, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, ticket_id);
	pg_text(&p, address);
	pg_text(&p, role);
	int64_t n = pg_changes(pgs(store), NAME(STMT_PARTICIPANT_REMOVE), &p, "remove participant",
			       error_r);
	*removed_r = n > 0;
	return n < 0 ? (int)n : STORE_OK;
}

static int
pg_event_add(struct store *store, const struct store_event *e, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_ref(&p, e->ticket_id);
	pg_int(&p, e->at);
	pg_text(&p, e->kind);
	pg_text(&p, e->detail);
	return pg_do(pgs(store), NAME(STMT_EVENT_ADD), &p, "add event", error_r);
}

static int
pg_event_last_of(struct store *store, const char *kind_a, const char *kind_b,
		 const char *detail_prefix, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	int64_t is_a = 0;
	pg_text(&p, kind_a);
	pg_text(&p, kind_b);
	pg_text(&p, detail_prefix);
	int ret = pg_int_row(pgs(store), NAME(STMT_EVENT_LAST_OF), &p, &is_a, "last event",
			     error_r);
	return ret <= 0 ? ret : is_a ? 1 : 2;
}

static int
pg_quarantine_insert(struct store *store, const struct store_quarantine *q, int64_t *id_r,
		     int *existed_r, const char **error_r)
{
	struct pg_store *s = pgs(store);
	char name_buf[16];
	struct pg_params p = { 0 };
	int64_t found = 0;
	int ret;

	if (q->raw_sha256 == NULL) {
		/* One held entry per IMAP message without raw bytes. */
		pg_text(&p, q->mailbox);
		pg_int(&p, q->uidvalidity);
		pg_int(&p, q->uid);
		ret = pg_int_row(s, NAME(STMT_QUARANTINE_FIND_UNFETCHED), &p, &found, "quarantine",
				 error_r);
		if (ret < 0)
			return ret;
		int existed = ret;
		struct pg_params u = { 0 };
		pg_int(&u, (int64_t)q->raw_size);
		pg_text(&u, q->reason);
		pg_text(&u, q->source);
		pg_int(&u, q->created_at);
		pg_text(&u, q->mailbox);
		pg_int(&u, q->uidvalidity);
		pg_int(&u, q->uid);
		ret = pg_insert_id(s, STMT_QUARANTINE_INSERT_UNFETCHED, &u, "quarantine", id_r,
				error_r);
		if (ret < 0)
			return ret;
		*existed_r = existed;
		return STORE_OK;
	}
	pg_text(&p, q->raw_sha256);
	pg_int(&p, (int64_t)q->raw_size);
	pg_text(&p, q->reason);
	pg_text(&p, q->source);
	pg_int(&p, q->created_at);
	ret = pg_int_row(s, NAME(STMT_QUARANTINE_INSERT), &p, id_r, "quarantine", error_r);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		*existed_r = 0;
		return STORE_OK;
	}
	/* Already held (ON CONFLICT DO NOTHING returned no row). */
	struct pg_params f = { 0 };
	pg_text(&f, q->raw_sha256);
	ret = pg_int_row(s, NAME(STMT_QUARANTINE_FIND_HELD), &f, id_r, "quarantine", error_r);
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
pg_quarantine_set_status(struct store *store, int64_t id, const char *status, int64_t ticket_id,
			 const char **error_r)
{
	struct pg_params p = { 0 };
	pg_int(&p, id);
	pg_text(&p, status);
	pg_ref(&p, ticket_id);
	return pg_update_row(pgs(store), STMT_QUARANTINE_SET_STATUS, &p, "set quarantine status",
			  "quarantine entry", id, error_r);
}

static int
pg_mailbox_get(struct store *store, const char *mailbox, uint32_t *uidvalidity_r,
	       uint32_t *last_uid_r, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	int ret;
	pg_text(&p, mailbox);
	PGresult *res = pg_run(pgs(store), NAME(STMT_MAILBOX_GET), &p, 0, "get mailbox", &ret,
			       error_r);
	if (res == NULL)
		return ret;
	if (PQntuples(res) > 0) {
		*uidvalidity_r = (uint32_t)pg_value_int(res, 0, 0);
		*last_uid_r = (uint32_t)pg_value_int(res, 0, 1);
	}
	PQclear(res);
	return STORE_OK;
}

static int
pg_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity,
	       uint32_t last_uid, int64_t now, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_text(&p, mailbox);
	pg_int(&p, uidvalidity);
	pg_int(&p, last_uid);
	pg_int(&p, now);
	return pg_do(pgs(store), NAME(STMT_MAILBOX_SET), &p, "set mailbox", error_r);
}

static int
pg_mailbox_mark_add(struct store *store, const char *mailbox, uint32_t uidvalidity,
		    uint32_t uid, int quarantined, int64_t now, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_text(&p, mailbox);
	pg_int(&p, uidvalidity);
	pg_int(&p, uid);
	pg_int(&p, quarantined);
	pg_int(&p, now);
	return pg_do(pgs(store), NAME(STMT_MAILBOX_MARK_ADD), &p, "add mark", error_r);
}

static int
pg_mailbox_mark_done(struct store *store, const char *mailbox, uint32_t uidvalidity,
		     const uint32_t *uids, size_t count, const char **error_r)
{
	struct pg_store *s = pgs(store);
	char name_buf[16];
	int ret = pg_op_begin(s, "marks done", error_r);
	for (size_t i = 0; i < count && ret == STORE_OK; i++) {
		struct pg_params p = { 0 };
		pg_text(&p, mailbox);
		pg_int(&p, uidvalidity);
		pg_int(&p, uids[i]);
		ret = pg_do(s, NAME(STMT_MAILBOX_MARK_DONE), &p, "marks done", error_r);
	}
	return pg_op_end(s, ret, "marks done", error_r);
}

static int
pg_mailbox_mark_forget(struct store *store, const char *mailbox, uint32_t uidvalidity,
		       const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_text(&p, mailbox);
	pg_int(&p, uidvalidity);
	return pg_do(pgs(store), NAME(STMT_MAILBOX_MARK_FORGET), &p, "forget marks", error_r);
}

static int
pg_field_set(struct store *store, int64_t ticket_id, const char *field, const char *value,
	     int64_t now, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, ticket_id);
	pg_text(&p, field);
	pg_text(&p, value);
	pg_int(&p, now);
	return pg_do(pgs(store), NAME(STMT_FIELD_SET), &p, "set ticket field", error_r);
}

static int
pg_label_add(struct store *store, const struct store_label *l, int64_t *id_r,
	     const char **error_r)
{
	struct pg_params p = { 0 };
	pg_int(&p, l->ticket_id);
	pg_ref(&p, l->message_row_id);
	pg_text(&p, l->label);
	pg_text(&p, l->verdict);
	pg_text(&p, l->rules);
	pg_text(&p, l->agent);
	pg_text(&p, l->subject);
	pg_text(&p, l->text);
	pg_int(&p, l->created_at);
	return pg_insert_id(pgs(store), STMT_LABEL_ADD, &p, "add label", id_r, error_r);
}

static int
pg_rule_hit_add(struct store *store, int64_t ticket_id, int64_t message_row_id, const char *rule,
		const char *detail, int64_t now, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, ticket_id);
	pg_ref(&p, message_row_id);
	pg_text(&p, rule);
	pg_text(&p, detail);
	pg_int(&p, now);
	return pg_do(pgs(store), NAME(STMT_RULE_HIT_ADD), &p, "add rule hit", error_r);
}

static int
pg_outbox_insert(struct store *store, const struct store_outbox *o, int64_t *id_r,
		 const char **error_r)
{
	struct pg_store *s = pgs(store);
	char name_buf[16];
	int64_t id = 0;
	int ret = pg_op_begin(s, "queue mail", error_r);
	if (ret < 0)
		return ret;
	struct pg_params p = { 0 };
	pg_ref(&p, o->ticket_id);
	pg_text(&p, o->kind);
	pg_text(&p, o->message_id);
	pg_text(&p, o->envelope_from);
	pg_text(&p, o->recipients);
	pg_bytes(&p, o->raw, o->raw_size);
	pg_int(&p, o->created_at);
	pg_int(&p, o->next_attempt_at);
	ret = pg_insert_id(s, STMT_OUTBOX_INSERT, &p, "queue mail", &id, error_r);
	/* One row per recipient of the comma-separated list. */
	for (const char *r = o->recipients; ret == STORE_OK && r != NULL && *r != '\0';) {
		const char *comma = strchr(r, ',');
		size_t len = comma != NULL ? (size_t)(comma - r) : strlen(r);
		char *addr = xstrndup(r, len);
		str_trim(addr);
		if (*addr != '\0') {
			struct pg_params q = { 0 };
			pg_int(&q, id);
			pg_text(&q, addr);
			pg_text(&q, o->kind);
			pg_int(&q, o->created_at);
			ret = pg_do(s, NAME(STMT_OUTBOX_RCPT_INSERT), &q, "queue mail", error_r);
		}
		free(addr);
		r = comma != NULL ? comma + 1 : NULL;
	}
	if (ret == STORE_OK)
		s->wake_pending |= STORE_WAKE_OUTBOX; /* with the COMMIT: store-pg-lease.c */
	ret = pg_op_end(s, ret, "queue mail", error_r);
	if (ret == STORE_OK)
		*id_r = id;
	return ret;
}

static int
pg_outbox_update(struct store *store, int64_t id, const char *status, int64_t attempts,
		 int64_t next_attempt_at, const char *last_error, const char *last_code,
		 int64_t now, const char **error_r)
{
	struct pg_params p = { 0 };
	pg_int(&p, id);
	pg_text(&p, status);
	pg_int(&p, attempts);
	pg_int(&p, next_attempt_at);
	pg_text(&p, last_error);
	pg_text(&p, last_code);
	pg_int(&p, now);
	return pg_update_row(pgs(store), STMT_OUTBOX_UPDATE, &p, "update outbox", "outbox message", id,
			  error_r);
}

static int
pg_outbox_rcpt_set(struct store *store, int64_t outbox_id, const char *address,
		   const char *status, const char *code, const char *detail, int64_t now,
		   const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, outbox_id);
	pg_text(&p, address);
	pg_text(&p, status);
	pg_text(&p, code);
	pg_text(&p, detail);
	pg_int(&p, now);
	int64_t n = pg_changes(pgs(store), NAME(STMT_OUTBOX_RCPT_SET), &p, "set recipient", error_r);
	return n < 0 ? (int)n : n > 0;
}

static int
pg_outbox_author_set(struct store *store, int64_t outbox_id, const char *address,
		     const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, outbox_id);
	pg_text(&p, address);
	return pg_do(pgs(store), NAME(STMT_OUTBOX_AUTHOR_SET), &p, "set author", error_r);
}

/* Run a look-up whose first column is the text answer: 1 with a copy, 0. */
static int
text_row(struct pg_store *s, int stmt, const struct pg_params *p, char **text_r,
	 const char *what, const char **error_r)
{
	char name_buf[16];
	int ret;
	PGresult *res = pg_run(s, NAME(stmt), p, 0, what, &ret, error_r);
	if (res == NULL)
		return ret;
	*text_r = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? xstrdup(PQgetvalue(res, 0, 0))
								   : NULL;
	PQclear(res);
	return *text_r != NULL;
}

static int
pg_outbox_author_get(struct store *store, int64_t outbox_id, char **address_r,
		     const char **error_r)
{
	struct pg_params p = { 0 };
	pg_int(&p, outbox_id);
	return text_row(pgs(store), STMT_OUTBOX_AUTHOR_GET, &p, address_r, "get author", error_r);
}

/* ---- look-ups ------------------------------------------------------------------------------ */

static int
pg_message_find_dedupe(struct store *store, const char *dedupe_key, int64_t *message_id_r,
		       int64_t *ticket_id_r, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	int ret;
	pg_text(&p, dedupe_key);
	PGresult *res = pg_run(pgs(store), NAME(STMT_MESSAGE_FIND_DEDUPE), &p, 0, "find message",
			       &ret, error_r);
	if (res == NULL)
		return ret;
	ret = PQntuples(res) > 0;
	if (ret) {
		*message_id_r = pg_value_int(res, 0, 0);
		*ticket_id_r = pg_value_int(res, 0, 1);
	}
	PQclear(res);
	return ret;
}

static int
pg_message_find_same_text(struct store *store, const char *from_address, const char *text_sha256,
			  int64_t since, int64_t *ticket_id_r, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_text(&p, from_address);
	pg_text(&p, text_sha256);
	pg_int(&p, since);
	return pg_int_row(pgs(store), NAME(STMT_MESSAGE_FIND_SAME_TEXT), &p, ticket_id_r,
			  "find same text", error_r);
}

static int
pg_ticket_find_by_message_id(struct store *store, const char *message_id, int64_t *ticket_id_r,
			     const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_text(&p, message_id);
	return pg_int_row(pgs(store), NAME(STMT_TICKET_FIND_BY_MSGID), &p, ticket_id_r,
			  "find message-id", error_r);
}

static int
pg_ticket_find_recipient(struct store *store, int64_t ticket_id, const char *message_id,
			 const char *address, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	int ret;
	pg_int(&p, ticket_id);
	pg_text(&p, message_id);
	pg_text(&p, address);
	PGresult *res = pg_run(pgs(store), NAME(STMT_TICKET_FIND_RECIPIENT), &p, 0,
			       "find recipient", &ret, error_r);
	if (res == NULL)
		return ret;
	ret = PQntuples(res) > 0 &&
	      (pg_value_int(res, 0, 0) != 0 ||
	       (!PQgetisnull(res, 0, 1) && store_address_list_has(PQgetvalue(res, 0, 1), address)));
	PQclear(res);
	return ret;
}

static int
pg_participant_find(struct store *store, int64_t ticket_id, const char *address,
		    const char **role_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char *role = NULL;
	pg_int(&p, ticket_id);
	pg_text(&p, address);
	int ret = text_row(pgs(store), STMT_PARTICIPANT_FIND, &p, &role, "find participant",
			   error_r);
	if (ret == 1)
		*role_r = store_participant_role(role);
	free(role);
	return ret;
}

static int
count_of(struct pg_store *s, int stmt, const struct pg_params *p, int64_t *count_r,
	 const char *what, const char **error_r)
{
	char name_buf[16];
	int ret = pg_int_row(s, NAME(stmt), p, count_r, what, error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
pg_outbox_count_recent(struct store *store, const char *recipient, const char *kind,
		       int64_t since, int64_t *count_r, const char **error_r)
{
	struct pg_params p = { 0 };
	pg_text(&p, recipient);
	pg_text(&p, kind);
	pg_int(&p, since);
	return count_of(pgs(store), STMT_OUTBOX_COUNT_RECENT, &p, count_r, "count outbox", error_r);
}

static int
pg_outbox_count_recent_folded(struct store *store, const char *base, const char *kind,
			      int64_t since, int64_t *count_r, const char **error_r)
{
	const char *at = strrchr(base, '@');
	char *lo = xasprintf("%.*s+", (int)(at - base), base);
	char *hi = xasprintf("%.*s,", (int)(at - base), base);
	struct pg_params p = { 0 };
	pg_text(&p, base);
	pg_text(&p, lo);
	pg_text(&p, hi);
	pg_text(&p, at);
	pg_text(&p, kind);
	pg_int(&p, since);
	int ret = count_of(pgs(store), STMT_OUTBOX_COUNT_FOLDED, &p, count_r, "count outbox",
			   error_r);
	free(lo);
	free(hi);
	return ret;
}

static int
pg_outbox_count_since(struct store *store, const char *kind, int64_t since, int64_t *count_r,
		      const char **error_r)
{
	struct pg_params p = { 0 };
	pg_text(&p, kind);
	pg_int(&p, since);
	return count_of(pgs(store), STMT_OUTBOX_COUNT_SINCE, &p, count_r, "count outbox", error_r);
}

/* ---- reports and surveys ------------------------------------------------------------------- */

/* Streaming: libpq's single-row mode hands one row at a time, so memory
   stays flat however long the period. fn must not call the store (the
   connection is busy until the last row). */
static int
pg_report_scan(struct store *store, enum store_report_scan what, int64_t since, int64_t until,
	       store_scan_fn *fn, void *context, const char **error_r)
{
	struct pg_store *s = pgs(store);
	char name_buf[16];
	enum stmt_id id = store_report_stmts[what].stmt;
	const char *w = store_report_stmts[what].what;
	struct pg_params p = { 0 };
	PGresult *res;
	int ret = pg_ensure_conn(s, error_r), stop = 0;
	if (ret < 0)
		return ret;
	if (until - since > STORE_REPORT_LONG_PERIOD)
		id = store_report_stmts[what].long_stmt;
	pg_int(&p, since);
	pg_int(&p, until);
	if ((ret = pg_prepare(s, NAME(id), error_r)) < 0)
		return ret;
	if (!PQsendQueryPrepared(s->conn, NAME(id), p.n, p.values, p.lengths, p.formats, 0) ||
	    !PQsetSingleRowMode(s->conn)) {
		*error_r = errf("store: %s: %s", w, pg_scrub(s, PQerrorMessage(s->conn)));
		return STORE_UNAVAILABLE;
	}
	s->streaming = 1;
	ret = STORE_OK;
	while ((res = PQgetResult(s->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE && !stop && ret == STORE_OK) {
			struct pg_row row = { s, res, 0 };
			stop = fn(context, &store_pg_reader, &row);
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && ret == STORE_OK) {
			ret = pg_result_error(s, res, w, error_r);
		}
		/* After a stop the remaining rows are read and dropped: the
		   connection is usable again only at the end of the result. */
		PQclear(res);
	}
	s->streaming = 0;
	return ret < 0 ? ret : stop;
}

static int
pg_survey_sent(struct store *store, int64_t ticket_id, const char *customer, int64_t outbox_id,
	       int64_t sent_at, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, ticket_id);
	pg_text(&p, customer);
	pg_ref(&p, outbox_id);
	pg_int(&p, sent_at);
	return pg_do(pgs(store), NAME(STMT_SURVEY_SENT), &p, "survey sent", error_r);
}

static int
pg_survey_vote(struct store *store, int64_t ticket_id, int score, const char *comment,
	       int64_t voted_at, const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, ticket_id);
	pg_int(&p, score);
	pg_text(&p, comment);
	pg_int(&p, voted_at);
	int64_t n = pg_changes(pgs(store), NAME(STMT_SURVEY_VOTE), &p, "survey vote", error_r);
	return n < 0 ? (int)n : n > 0;
}

static int
pg_survey_last_sent(struct store *store, const char *customer, int64_t *sent_at_r,
		    const char **error_r)
{
	struct pg_params p = { 0 };
	pg_text(&p, customer);
	return count_of(pgs(store), STMT_SURVEY_LAST_SENT, &p, sent_at_r, "survey last sent",
			error_r);
}

static int
pg_survey_for_ticket(struct store *store, int64_t ticket_id, int64_t *sent_at_r,
		     const char **error_r)
{
	char name_buf[16];
	struct pg_params p = { 0 };
	pg_int(&p, ticket_id);
	return pg_int_row(pgs(store), NAME(STMT_SURVEY_FOR_TICKET), &p, sent_at_r,
			  "survey for ticket", error_r);
}

#define PG_DRIVER_ENTRIES                                                                     \
	.sla = &store_pg_sla_driver, .lease = &store_pg_lease_driver, .merge = &store_pg_merge_driver,    \
	.copy = &store_pg_copy_driver, .close = pg_close, .begin = pg_begin,                  \
	.commit = pg_commit, .rollback = pg_rollback, .unit_begin = pg_unit_begin,            \
	.unit_end = pg_unit_end, .unit_undo = pg_unit_undo, .blob_put = pg_blob_put,          \
	.blob_get = pg_blob_get, .range_put = pg_range_put, .range_get = pg_range_get,        \
	.blob_path = pg_blob_path, .set_blob_dir = pg_set_blob_dir, .select = pg_select,      \
	.count = pg_count, .stats = pg_stats, .ticket_insert = pg_ticket_insert,              \
	.ticket_update = pg_ticket_update, .message_insert = pg_message_insert,               \
	.attachment_insert = pg_attachment_insert, .participant_add = pg_participant_add, \
	.participant_remove = pg_participant_remove,     \
	.event_add = pg_event_add, .event_last_of = pg_event_last_of,                         \
	.quarantine_insert = pg_quarantine_insert,                                            \
	.quarantine_set_status = pg_quarantine_set_status, .mailbox_get = pg_mailbox_get,     \
	.mailbox_set = pg_mailbox_set, .mailbox_mark_add = pg_mailbox_mark_add,               \
	.mailbox_mark_done = pg_mailbox_mark_done,                                            \
	.mailbox_mark_forget = pg_mailbox_mark_forget, .field_set = pg_field_set,             \
	.rule_hit_add = pg_rule_hit_add, .outbox_insert = pg_outbox_insert,                   \
	.outbox_update = pg_outbox_update, .label_add = pg_label_add,                         \
	.outbox_rcpt_set = pg_outbox_rcpt_set, .outbox_author_set = pg_outbox_author_set,     \
	.outbox_author_get = pg_outbox_author_get,                                            \
	.message_find_dedupe = pg_message_find_dedupe,                                        \
	.message_find_same_text = pg_message_find_same_text,                                  \
	.ticket_find_by_message_id = pg_ticket_find_by_message_id,                            \
	.ticket_find_recipient = pg_ticket_find_recipient,                                    \
	.participant_find = pg_participant_find,                                              \
	.outbox_count_recent = pg_outbox_count_recent,                                        \
	.outbox_count_recent_folded = pg_outbox_count_recent_folded,                          \
	.outbox_count_since = pg_outbox_count_since, .report_scan = pg_report_scan,           \
	.survey_sent = pg_survey_sent, .survey_vote = pg_survey_vote,                         \
	.survey_last_sent = pg_survey_last_sent, .survey_for_ticket = pg_survey_for_ticket

const struct store_driver store_pg_driver = {
	.name = "postgresql",
	.open = pg_open,
	PG_DRIVER_ENTRIES,
};

/* "postgres:" as libpq accepts it. */
const struct store_driver store_pg_alias_driver = {
	.name = "postgres",
	.open = pg_open_alias,
	PG_DRIVER_ENTRIES,
};
