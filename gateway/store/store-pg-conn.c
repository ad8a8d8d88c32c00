/*
 * store-pg-conn: the connection side of the PostgreSQL driver (store-pg.h):
 * parameters, grading PostgreSQL's errors and scrubbing the password from
 * libpq's messages, preparing each statement on its first use on a
 * connection (again after a reset), running a statement in the savepoint that keeps the caller's
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
	const char *constraint = res != NULL && state != NULL && strcmp(state, "23505") == 0
					 ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)
					 : NULL;
	snprintf(s->violated, sizeof(s->violated), "%s", constraint != NULL ? constraint : "");
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
	{ "range_put", "INSERT INTO blob_ranges (sha256, raw_sha256, raw_offset, raw_length, "
		       "encoding, size) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING" },
	{ "range_get", "SELECT raw_sha256, raw_offset, raw_length, encoding, size "
		       "FROM blob_ranges WHERE sha256 = $1" },
};

/* Every statement has a slot: the own ones, the core's by enum stmt_id,
   then each part's. s->ready[slot]: prepared on this connection. */
static size_t
n_slots(void)
{
	size_t n = N_ELEMENTS(own) + STMT_COUNT;
	for (size_t p = 0; p < PG_N_PARTS; p++)
		n += parts[p]->n;
	return n;
}

/* "123" as a number below max, else -1. */
static long
index_of(const char *digits, size_t max)
{
	char *end;
	if (*digits < '0' || *digits > '9')
		return -1;
	long v = strtol(digits, &end, 10);
	return *end == '\0' && v >= 0 && (size_t)v < max ? v : -1;
}

/* The slot of statement `name` (own, "s<id>", a part's prefix and
   index), with its SQL (malloc()ed; NULL: none in this driver). -1: not
   a name of this driver. */
static long
slot_of(const char *name, char **sql_r)
{
	long base = (long)N_ELEMENTS(own), i;
	*sql_r = NULL;
	for (size_t k = 0; k < N_ELEMENTS(own); k++) {
		if (strcmp(name, own[k].name) == 0) {
			*sql_r = xstrdup(own[k].sql);
			return (long)k;
		}
	}
	if (name[0] == 's' && (i = index_of(name + 1, STMT_COUNT)) >= 0) {
		if (!store_pg_sql_is_txn((int)i))
			*sql_r = store_pg_sql((int)i);
		return base + i;
	}
	base += STMT_COUNT;
	for (size_t p = 0; p < PG_N_PARTS; p++) {
		size_t k = strlen(parts[p]->prefix);
		if (strncmp(name, parts[p]->prefix, k) == 0 &&
		    (i = index_of(name + k, parts[p]->n)) >= 0) {
			if (parts[p]->sql[i] != NULL)
				*sql_r = xstrdup(parts[p]->sql[i]);
			return base + i;
		}
		base += (long)parts[p]->n;
	}
	return -1;
}

/* Statement `name` is prepared on this connection: 1 (nothing to do), 0
   (*sql_r is its SQL, to prepare; the caller frees it and marks the slot),
   or < 0 (no such statement in this driver). */
static int
need_prepare(struct pg_store *s, const char *name, long *slot_r, char **sql_r,
	     const char **error_r)
{
	if (s->ready == NULL)
		s->ready = xcalloc(n_slots(), 1);
	char *sql;
	long slot = slot_of(name, &sql);
	if (slot >= 0 && s->ready[slot]) {
		free(sql);
		return 1;
	}
	if (sql == NULL) {
		*error_r = errf("store: statement %s: not implemented for PostgreSQL", name);
		return STORE_UNAVAILABLE;
	}
	*slot_r = slot;
	*sql_r = sql;
	return 0;
}

/* Prepare `name` unless it is (one round trip, the first time on a
   connection). */
static int
prepare_lazily(struct pg_store *s, const char *name, const char **error_r)
{
	long slot;
	char *sql;
	int ret = need_prepare(s, name, &slot, &sql, error_r);
	if (ret != 0)
		return ret > 0 ? STORE_OK : ret;
	ret = prepare_one(s, name, sql, error_r);
	free(sql);
	if (ret == STORE_OK)
		s->ready[slot] = 1;
	return ret;
}

int
pg_prepare_all(struct pg_store *s, const char **error_r)
{
	const char *name;
	char buf[16];
	for (size_t slot = 0, n = n_slots(); slot < n; slot++) {
		size_t k = slot;
		if (k < N_ELEMENTS(own)) {
			name = own[k].name;
		} else if ((k -= N_ELEMENTS(own)) < STMT_COUNT) {
			if (store_pg_sql_is_txn((int)k))
				continue;
			name = pg_stmt_name((int)k, buf);
		} else {
			k -= STMT_COUNT;
			size_t p = 0;
			while (k >= parts[p]->n)
				k -= parts[p++]->n;
			name = pg_part_name(p, k, buf);
		}
		char *sql;
		if (slot_of(name, &sql) < 0 || sql == NULL) {
			free(sql);
			continue;
		}
		free(sql);
		if (prepare_lazily(s, name, error_r) < 0)
			return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

int
store_pg_prepare_all(struct store *store, const char **error_r)
{
	struct pg_store *s = pgs(store);
	int ret = pg_ensure_conn(s, error_r);
	return ret < 0 ? ret : pg_prepare_all(s, error_r);
}

/* A new connection (at open, after a reset): no statement prepared yet
   (each is prepared on its first use: no round trips at connect), and its
   LISTEN again. */
int
pg_conn_setup(struct pg_store *s, const char **error_r)
{
	if (s->ready != NULL)
		memset(s->ready, 0, n_slots());
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
	return pg_conn_setup(s, error_r);
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
run_pipelined(struct pg_store *s, const char *name, const char *prepare,
	      const struct pg_params *p, int binary, int *sent_r, int *prepared_r)
{
	*sent_r = 0;
	*prepared_r = 0;
	if (PQenterPipelineMode(s->conn) != 1)
		return NULL;
	*sent_r = 1;
	int ok = PQsendQueryParams(s->conn, "SAVEPOINT dg_stmt", 0, NULL, NULL, NULL, NULL, 0) &&
		 (prepare == NULL || PQsendPrepare(s->conn, name, prepare, 0, NULL)) &&
		 PQsendQueryPrepared(s->conn, name, p->n, p->values, p->lengths, p->formats,
				     binary) &&
		 PQsendQueryParams(s->conn, "RELEASE dg_stmt", 0, NULL, NULL, NULL, NULL, 0) &&
		 PQpipelineSync(s->conn);
	PGresult *sp = NULL, *prep = NULL, *res = NULL, *rel = NULL, *sync = NULL;
	if (ok) {
		sp = pipeline_result(s->conn);
		if (prepare != NULL) {
			prep = pipeline_result(s->conn);
			*prepared_r = PQresultStatus(prep) == PGRES_COMMAND_OK;
		}
		res = pipeline_result(s->conn);
		rel = pipeline_result(s->conn);
		sync = PQgetResult(s->conn);
	}
	/* the statement's error, else the savepoint's, the prepare's or the
	   release's, else the connection's (NULL) */
	PGresult *ret = res;
	if (PQresultStatus(sp) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_FATAL_ERROR) {
		PQclear(res);
		ret = sp;
		sp = NULL;
	} else if (prepare != NULL && PQresultStatus(prep) != PGRES_COMMAND_OK) {
		PQclear(res);
		ret = prep;
		prep = NULL;
	} else if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (PQresultStatus(rel) != PGRES_COMMAND_OK) {
			PQclear(res);
			ret = rel;
			rel = NULL;
		}
	}
	PQclear(sp);
	PQclear(prep);
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

int
pg_prepare(struct pg_store *s, const char *name, const char **error_r)
{
	return prepare_lazily(s, name, error_r);
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
	/* Prepared on first use, in the same round trip inside a transaction
	   (the pipeline), in one more outside */
	long slot = -1;
	char *sql = NULL;
	int ready = need_prepare(s, name, &slot, &sql, error_r);
	if ((*ret_r = ready < 0 ? ready : STORE_OK) < 0)
		return NULL;
	int sent = 0, prepared = 0;
	PGresult *res = NULL;
	if (sp)
		res = run_pipelined(s, name, sql, p, binary, &sent, &prepared);
	if (sp && !sent && (*ret_r = pg_simple(s, "SAVEPOINT dg_stmt", what, error_r)) < 0) {
		free(sql);
		return NULL;
	}
	if (!sent && sql != NULL) {
		if ((*ret_r = prepare_one(s, name, sql, error_r)) < 0) {
			free(sql);
			if (sp)
				(void)pg_simple(s, "ROLLBACK TO dg_stmt; RELEASE dg_stmt", what,
						&ignored);
			return NULL;
		}
		prepared = 1;
	}
	if (!sent)
		res = PQexecPrepared(s->conn, name, p->n, p->values, p->lengths, p->formats,
				     binary);
	free(sql);
	if (prepared)
		s->ready[slot] = 1; /* whatever became of the statement */
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

