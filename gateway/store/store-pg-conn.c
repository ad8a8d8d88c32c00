/*
 * store-pg-conn: the connection side of the PostgreSQL driver (store-pg.h):
 * parameters, grading PostgreSQL's errors and scrubbing the password from
 * libpq's messages, preparing the statements on a connection (again after a
 * reset), running a statement in the savepoint that keeps the caller's
 * transaction usable, the row reader, and the savepoints of a write made of
 * several statements. store-pg.c is the driver's table over these.
 */
#include "build-config.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-lease.h"
#include "gateway/store/store-pg-sql.h"
#include "gateway/store/store-pg.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sqlite-sql.h"

static const struct pg_part *const parts[PG_N_PARTS] = {
	[PG_PART_SLA] = &pg_sla_part,
	[PG_PART_LEASE] = &pg_lease_part,
	[PG_PART_MERGE] = &pg_merge_part,
};

/* ---- parameters ---------------------------------------------------------------- */

static int
param_slot(struct pg_params *p)
{
	/* The statements have fewer than PG_MAX_PARAMS parameters; more is a
	   bug of this file. */
	if (p->n >= PG_MAX_PARAMS)
		abort();
	return p->n++;
}

void
pg_text(struct pg_params *p, const char *s)
{
	int i = param_slot(p);
	p->values[i] = s;
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void
pg_int(struct pg_params *p, int64_t v)
{
	int i = param_slot(p);
	snprintf(p->nums[i], sizeof(p->nums[i]), "%lld", (long long)v);
	p->values[i] = p->nums[i];
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void
pg_ref(struct pg_params *p, int64_t id)
{
	if (id == 0)
		pg_text(p, NULL);
	else
		pg_int(p, id);
}

void
pg_limit(struct pg_params *p, size_t limit)
{
	if (limit == 0 || limit > INT64_MAX)
		pg_text(p, NULL); /* LIMIT NULL: all rows */
	else
		pg_int(p, (int64_t)limit);
}

void
pg_bytes(struct pg_params *p, const void *data, size_t len)
{
	int i = param_slot(p);
	p->values[i] = data != NULL ? data : "";
	p->lengths[i] = (int)len;
	p->formats[i] = 1;
}

/* ---- errors ---------------------------------------------------------------------- */

/* The rule of docs/internals/store.md "Results": does retrying the same
   call have a chance? Class 23 (integrity), 22 (data: too long, invalid
   text or encoding, out of range) and 54000 are this call's data. */
static int
grade(const char *sqlstate)
{
	if (sqlstate == NULL)
		return STORE_UNAVAILABLE; /* no server answer: connection */
	if (strncmp(sqlstate, "23", 2) == 0 || strncmp(sqlstate, "22", 2) == 0 ||
	    strcmp(sqlstate, "54000") == 0)
		return STORE_DATA_BAD;
	return STORE_UNAVAILABLE;
}

/* A libpq message without the password (libpq quotes connection strings
   in some of its messages) and without its trailing newline. */
const char *
pg_scrub(const struct pg_store *s, const char *msg)
{
	char *copy = xstrdup(msg != NULL ? msg : "unknown error");
	size_t n = strlen(copy);
	while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == ' '))
		copy[--n] = '\0';
	if (s->secret != NULL && *s->secret != '\0') {
		size_t k = strlen(s->secret);
		for (char *p = strstr(copy, s->secret); p != NULL; p = strstr(p, s->secret)) {
			memset(p, '*', k);
			p += k;
		}
	}
	const char *ret = errf("%s", copy);
	free(copy);
	return ret;
}

int
pg_result_error(struct pg_store *s, PGresult *res, const char *what, const char **error_r)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	if (msg == NULL)
		msg = PQerrorMessage(s->conn);
	const char *clean = pg_scrub(s, msg);
	if (detail != NULL)
		*error_r = errf("store: %s: %s (%s; %s)", what, clean, state != NULL ? state : "-",
				pg_scrub(s, detail));
	else
		*error_r = errf("store: %s: %s (%s)", what, clean, state != NULL ? state : "-");
	if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		s->base.conflicts++;
	return grade(state);
}

/* A simple query (transaction control, migrations): STORE_OK or graded. */
int
pg_simple(struct pg_store *s, const char *sql, const char *what, const char **error_r)
{
	PGresult *res = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int ret = STORE_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		ret = pg_result_error(s, res, what, error_r);
	PQclear(res);
	return ret;
}

/* ---- connection and statements ---------------------------------------------------- */

const char *
pg_stmt_name(int id, char buf[16])
{
	snprintf(buf, 16, "s%d", id);
	return buf;
}

const char *
pg_part_name(enum pg_part_id part, size_t i, char buf[16])
{
	snprintf(buf, 16, "%.8s%u", parts[part]->prefix, (unsigned)(i & 0xffff));
	return buf;
}

static int
prepare_one(struct pg_store *s, const char *name, const char *sql, const char **error_r)
{
	PGresult *res = PQprepare(s->conn, name, sql, 0, NULL);
	int ret = STORE_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *e;
		(void)pg_result_error(s, res, "prepare", &e);
		*error_r = errf("%s: \"%s\"", e, sql);
		ret = STORE_UNAVAILABLE;
	}
	PQclear(res);
	return ret;
}

/* The driver's own statements (blobs are rows here, files in SQLite). */
static const struct {
	const char *name, *sql;
} own[] = {
	{ "blob_put", "INSERT INTO blobs (kind, sha256, data) VALUES ($1, $2, $3) "
		      "ON CONFLICT DO NOTHING" },
	{ "blob_get", "SELECT data FROM blobs WHERE kind = $1 AND sha256 = $2" },
};

int
pg_prepare_all(struct pg_store *s, const char **error_r)
{
	char name[16];
	for (size_t i = 0; i < N_ELEMENTS(own); i++)
		if (prepare_one(s, own[i].name, own[i].sql, error_r) < 0)
			return STORE_UNAVAILABLE;
	for (int i = 0; i < STMT_COUNT; i++) {
		if (store_pg_sql_is_txn(i))
			continue;
		char *sql = store_pg_sql(i);
		if (sql == NULL)
			continue; /* pg_exec() says "not implemented" */
		int ret = prepare_one(s, pg_stmt_name(i, name), sql, error_r);
		free(sql);
		if (ret < 0)
			return ret;
	}
	for (size_t p = 0; p < PG_N_PARTS; p++) {
		for (size_t i = 0; i < parts[p]->n; i++) {
			if (parts[p]->sql[i] != NULL &&
			    prepare_one(s, pg_part_name(p, i, name), parts[p]->sql[i], error_r) < 0)
				return STORE_UNAVAILABLE;
		}
	}
	s->prepared = 1;
	/* a reset connection has forgotten its LISTEN */
	if (s->listening && pg_simple(s, "LISTEN " PG_WAKE_CHANNEL, "listen", error_r) < 0)
		return STORE_UNAVAILABLE;
	return STORE_OK;
}

const char *
pg_commit_sql(struct pg_store *s)
{
	static const char *const sql[] = {
		"COMMIT",
		"NOTIFY " PG_WAKE_CHANNEL ", 'outbox'; COMMIT",
		"NOTIFY " PG_WAKE_CHANNEL ", 'lease'; COMMIT",
		"NOTIFY " PG_WAKE_CHANNEL ", 'outbox'; NOTIFY " PG_WAKE_CHANNEL ", 'lease'; COMMIT",
	};
	int w = s->wake_pending & (STORE_WAKE_OUTBOX | STORE_WAKE_LEASE);
	s->wake_pending = 0;
	return sql[w];
}

/* The connection is up and its statements prepared. A connection lost
   inside a transaction fails the call (the transaction is gone: the caller
   rolls back and retries); outside one it is reset once. */
int
pg_ensure_conn(struct pg_store *s, const char **error_r)
{
	if (PQstatus(s->conn) == CONNECTION_OK && s->prepared)
		return STORE_OK;
	if (s->base.in_txn) {
		*error_r = errf("store: %s: connection lost: %s", s->where,
				pg_scrub(s, PQerrorMessage(s->conn)));
		return STORE_UNAVAILABLE;
	}
	if (PQstatus(s->conn) != CONNECTION_OK || PQpipelineStatus(s->conn) != PQ_PIPELINE_OFF) {
		/* a connection left in pipeline mode (pipeline_abandon()) is
		   reset as a lost one: PQreset() leaves pipeline mode */
		s->prepared = 0;
		PQreset(s->conn);
		if (PQstatus(s->conn) != CONNECTION_OK) {
			*error_r = errf("store: %s: %s", s->where, pg_scrub(s, PQerrorMessage(s->conn)));
			return STORE_UNAVAILABLE;
		}
	}
	return pg_prepare_all(s, error_r);
}

/* ---- running statements ------------------------------------------------------------ */

/* The next result of a pipeline and the NULL that ends it. */
static PGresult *
pipeline_result(PGconn *conn)
{
	PGresult *res = PQgetResult(conn);
	if (res != NULL && PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PGresult *end;
		while ((end = PQgetResult(conn)) != NULL)
			PQclear(end);
	}
	return res;
}

/* A pipeline whose sending failed, or whose results could not all be
   read: libpq keeps the connection in pipeline mode while commands are
   queued, where every synchronous call (PQexec of ROLLBACK, PQprepare)
   fails. Reading on would block when the sync never went out, so the
   connection is given up: pg_ensure_conn() fails the caller's transaction
   and resets the connection outside one (PQreset() leaves pipeline mode;
   the server rolls the transaction back when the connection ends). */
static void
pipeline_abandon(struct pg_store *s)
{
	if (PQpipelineStatus(s->conn) != PQ_PIPELINE_OFF)
		s->prepared = 0;
}

/* SAVEPOINT, the statement and RELEASE sent at once in libpq's pipeline
   mode (PostgreSQL 14's protocol): one round trip instead of three. When
   the statement fails, the server skips the RELEASE (pipeline aborted up
   to the sync) and the transaction is left aborted: ROLLBACK TO undoes
   the statement alone, in one more round trip. *sent_r 0: pipeline mode
   was refused (nothing sent; run the three one by one). */
static PGresult *
run_pipelined(struct pg_store *s, const char *name, const struct pg_params *p, int binary,
	      int *sent_r)
{
	*sent_r = 0;
	if (PQenterPipelineMode(s->conn) != 1)
		return NULL;
	*sent_r = 1;
	int ok = PQsendQueryParams(s->conn, "SAVEPOINT dg_stmt", 0, NULL, NULL, NULL, NULL, 0) &&
		 PQsendQueryPrepared(s->conn, name, p->n, p->values, p->lengths, p->formats,
				     binary) &&
		 PQsendQueryParams(s->conn, "RELEASE dg_stmt", 0, NULL, NULL, NULL, NULL, 0) &&
		 PQpipelineSync(s->conn);
	PGresult *sp = NULL, *res = NULL, *rel = NULL, *sync = NULL;
	if (ok) {
		sp = pipeline_result(s->conn);
		res = pipeline_result(s->conn);
		rel = pipeline_result(s->conn);
		sync = PQgetResult(s->conn);
	}
	/* the statement's error, else the savepoint's or the release's, else
	   the connection's (NULL) */
	PGresult *ret = res;
	if (PQresultStatus(sp) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_FATAL_ERROR) {
		PQclear(res);
		ret = sp;
		sp = NULL;
	} else if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (PQresultStatus(rel) != PGRES_COMMAND_OK) {
			PQclear(res);
			ret = rel;
			rel = NULL;
		}
	}
	PQclear(sp);
	PQclear(rel);
	PQclear(sync);
	if (!ok || PQexitPipelineMode(s->conn) != 1) {
		pipeline_abandon(s);
		/* results left unread: the connection's state is unknown */
		PQclear(ret);
		ret = NULL;
	}
	return ret;
}

PGresult *
pg_run(struct pg_store *s, const char *name, const struct pg_params *p, int binary,
       const char *what, int *ret_r, const char **error_r)
{
	static const struct pg_params none;
	const char *ignored;
	int sp = s->base.in_txn;

	if (p == NULL)
		p = &none;
	if ((*ret_r = pg_ensure_conn(s, error_r)) < 0)
		return NULL;
	if (s->streaming) {
		*error_r = errf("store: %s: the connection is reading a report", what);
		*ret_r = STORE_UNAVAILABLE;
		return NULL;
	}
	int sent = 0;
	PGresult *res = NULL;
	if (sp)
		res = run_pipelined(s, name, p, binary, &sent);
	if (sp && !sent) {
		if ((*ret_r = pg_simple(s, "SAVEPOINT dg_stmt", what, error_r)) < 0)
			return NULL;
	}
	if (!sent)
		res = PQexecPrepared(s->conn, name, p->n, p->values, p->lengths, p->formats,
				     binary);
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (sp && !sent && (*ret_r = pg_simple(s, "RELEASE dg_stmt", what, error_r)) < 0) {
			PQclear(res);
			return NULL;
		}
		*ret_r = STORE_OK;
		return res;
	}
	*ret_r = pg_result_error(s, res, what, error_r);
	PQclear(res);
	if (sp)
		(void)pg_simple(s, "ROLLBACK TO dg_stmt; RELEASE dg_stmt", what, &ignored);
	return NULL;
}

int
pg_do(struct pg_store *s, const char *name, const struct pg_params *p, const char *what,
      const char **error_r)
{
	int ret;
	PQclear(pg_run(s, name, p, 0, what, &ret, error_r));
	return ret;
}

int64_t
pg_changes(struct pg_store *s, const char *name, const struct pg_params *p, const char *what,
	   const char **error_r)
{
	int ret;
	PGresult *res = pg_run(s, name, p, 0, what, &ret, error_r);
	if (res == NULL)
		return ret;
	int64_t n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

int64_t
pg_value_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	const char *v = PQgetvalue(res, row, col);
	/* booleans (EXISTS, a comparison) are 't' / 'f' */
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

int
pg_int_row(struct pg_store *s, const char *name, const struct pg_params *p, int64_t *value_r,
	   const char *what, const char **error_r)
{
	int ret;
	PGresult *res = pg_run(s, name, p, 0, what, &ret, error_r);
	if (res == NULL)
		return ret;
	ret = PQntuples(res) > 0;
	if (ret)
		*value_r = pg_value_int(res, 0, 0);
	PQclear(res);
	return ret;
}

static const char *
row_text(void *row, size_t col)
{
	struct pg_row *r = row;
	if (PQgetisnull(r->res, r->row, (int)col))
		return NULL;
	return PQgetvalue(r->res, r->row, (int)col);
}

static int64_t
row_int64(void *row, size_t col)
{
	struct pg_row *r = row;
	return pg_value_int(r->res, r->row, (int)col);
}

static const void *
row_bytes(void *row, size_t col, size_t *len_r)
{
	struct pg_row *r = row;
	*len_r = 0;
	if (PQgetisnull(r->res, r->row, (int)col))
		return NULL;
	if (PQfformat(r->res, (int)col) == 1) {
		*len_r = (size_t)PQgetlength(r->res, r->row, (int)col);
		return PQgetvalue(r->res, r->row, (int)col);
	}
	/* bytea in text format: "\x..." */
	if (r->s->unescaped != NULL)
		PQfreemem(r->s->unescaped);
	r->s->unescaped = (char *)PQunescapeBytea(
		(const unsigned char *)PQgetvalue(r->res, r->row, (int)col), len_r);
	return r->s->unescaped != NULL ? r->s->unescaped : "";
}

const struct store_row_reader store_pg_reader = { row_text, row_int64, row_bytes };

int
pg_rows(struct pg_store *s, const char *name, const struct pg_params *p,
	const struct store_record *rec, const char *what, void **rows_r, size_t *count_r,
	const char **error_r)
{
	int ret;
	PGresult *res = pg_run(s, name, p, 0, what, &ret, error_r);
	if (res == NULL)
		return ret;
	void *items = NULL;
	size_t n = 0, cap = 0;
	struct pg_row row = { s, res, 0 };
	for (row.row = 0; row.row < PQntuples(res); row.row++)
		store_record_fill(rec, store_rows_add(rec, &items, &n, &cap), &store_pg_reader, &row);
	PQclear(res);
	*rows_r = items;
	*count_r = n;
	return STORE_OK;
}


/* A write made of several statements is all or nothing: a savepoint
   inside a transaction, a transaction of its own outside one. */
int
pg_op_begin(struct pg_store *s, const char *what, const char **error_r)
{
	int ret = pg_ensure_conn(s, error_r);
	if (ret < 0)
		return ret;
	return pg_simple(s, s->base.in_txn ? "SAVEPOINT dg_op" : "BEGIN", what, error_r);
}

int
pg_op_end(struct pg_store *s, int ret, const char *what, const char **error_r)
{
	const char *ignored;
	if (ret == STORE_OK) {
		ret = pg_simple(s, s->base.in_txn ? "RELEASE dg_op" : pg_commit_sql(s), what,
				error_r);
		if (ret == STORE_OK)
			return STORE_OK;
	}
	if (s->base.in_txn) {
		if (pg_simple(s, "ROLLBACK TO dg_op", what, &ignored) == STORE_OK)
			(void)pg_simple(s, "RELEASE dg_op", what, &ignored);
	} else {
		s->wake_pending = 0;
		(void)pg_simple(s, "ROLLBACK", what, &ignored);
	}
	return ret;
}

/* An INSERT ... RETURNING id. */
int
pg_insert_id(struct pg_store *s, int id, const struct pg_params *p, const char *what,
	  int64_t *id_r, const char **error_r)
{
	char name_buf[16];
	int64_t v = 0;
	int ret = pg_int_row(s, NAME(id), p, &v, what, error_r);
	if (ret < 0)
		return ret;
	if (id_r != NULL)
		*id_r = v;
	return STORE_OK;
}

/* An UPDATE of row `id`: none is the caller's data. */
int
pg_update_row(struct pg_store *s, int stmt, const struct pg_params *p, const char *what,
	   const char *noun, int64_t id, const char **error_r)
{
	char name_buf[16];
	int64_t n = pg_changes(s, NAME(stmt), p, what, error_r);
	if (n < 0)
		return (int)n;
	if (n == 0) {
		*error_r = errf("store: %s: no %s %lld", what, noun, (long long)id);
		return STORE_DATA_BAD;
	}
	return STORE_OK;
}

