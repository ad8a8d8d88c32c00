/*
 * store-pg-copy: the PostgreSQL driver's generic row access for `deskgate
 * store migrate` (store-copy-driver.h): the destination of a copy. Rows
 * are inserted with their ids and ON CONFLICT DO NOTHING (a row whose key
 * is there is kept: a second run writes nothing), the identity sequences
 * are advanced past the ids copied, and tables are read in libpq's
 * single-row mode (one row in memory at a time) for the verification.
 *
 * The SQL is built from names the copier checked (plain lower-case
 * identifiers, quoted); every value is a parameter.
 */
#include "build-config.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-copy-driver.h"
#include "gateway/store/store-pg.h"

/* PostgreSQL's type oids (catalog/pg_type_d.h, not installed by libpq-dev). */
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23

/* A query with text parameters; NULL with the error graded in *ret_r. */
static PGresult *
copy_exec(struct pg_store *s, const char *sql, int n, const char *const *values,
	  const int *lengths, const int *formats, const char *what, int *ret_r,
	  const char **error_r)
{
	if ((*ret_r = pg_ensure_conn(s, error_r)) < 0)
		return NULL;
	PGresult *res = PQexecParams(s->conn, sql, n, NULL, values, lengths, formats, 0);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		*ret_r = pg_result_error(s, res, what, error_r);
		PQclear(res);
		return NULL;
	}
	*ret_r = STORE_OK;
	return res;
}

static int
name_rows(struct pg_store *s, const char *sql, const char *param, char ***names_r,
	  size_t *count_r, const char **error_r)
{
	int ret;
	PGresult *res = copy_exec(s, sql, param != NULL ? 1 : 0, &param, NULL, NULL,
				  "migrate: catalogue", &ret, error_r);
	*names_r = NULL;
	*count_r = 0;
	if (res == NULL)
		return ret;
	size_t n = (size_t)PQntuples(res);
	char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = xstrdup(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	*names_r = names;
	*count_r = n;
	return STORE_OK;
}

static int
pg_copy_tables(struct store *store, char ***names_r, size_t *count_r, const char **error_r)
{
	return name_rows(pgs(store),
			 "SELECT table_name::text FROM information_schema.tables "
			 "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
			 "ORDER BY 1",
			 NULL, names_r, count_r, error_r);
}

static int
pg_copy_columns(struct store *store, const char *table, char ***names_r, size_t *count_r,
		const char **error_r)
{
	return name_rows(pgs(store),
			 "SELECT column_name::text FROM information_schema.columns "
			 "WHERE table_schema = current_schema() AND table_name = $1 "
			 "ORDER BY ordinal_position",
			 table, names_r, count_r, error_r);
}

/* Read the rest of a result left by a scan stopped early. */
static void
drain(PGconn *conn)
{
	PGresult *res;
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
}

/* Hand one row of res to fn; the unescaped bytea are freed after it. */
static int
row_to_fn(const PGresult *res, size_t n, struct store_copy_value *v, store_copy_row_fn *fn,
	  void *context, const char **error_r)
{
	int ret = STORE_OK;
	unsigned char *unescaped[n + 1];
	size_t n_unescaped = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (int)i;
		memset(&v[i], 0, sizeof(v[i]));
		if (PQgetisnull(res, 0, c)) {
			v[i].type = STORE_COPY_NULL;
			continue;
		}
		const char *text = PQgetvalue(res, 0, c);
		switch (PQftype(res, c)) {
		case PG_OID_INT2:
		case PG_OID_INT4:
		case PG_OID_INT8:
			v[i].type = STORE_COPY_INT;
			v[i].i = strtoll(text, NULL, 10);
			break;
		case PG_OID_BYTEA: {
			size_t len = 0;
			unsigned char *p = PQunescapeBytea((const unsigned char *)text, &len);
			if (p == NULL) {
				*error_r = "store: migrate: out of memory reading a bytea";
				ret = STORE_UNAVAILABLE;
				break;
			}
			unescaped[n_unescaped++] = p;
			v[i].type = STORE_COPY_BYTES;
			v[i].p = p;
			v[i].len = len;
			break;
		}
		default:
			v[i].type = STORE_COPY_TEXT;
			v[i].p = (const unsigned char *)text;
			v[i].len = (size_t)PQgetlength(res, 0, c);
			break;
		}
	}
	if (ret == STORE_OK)
		ret = fn(context, v, n);
	for (size_t i = 0; i < n_unescaped; i++)
		PQfreemem(unescaped[i]);
	return ret;
}

static int
pg_copy_scan(struct store *store, const char *table, const char *const *cols, size_t n,
	     store_copy_row_fn *fn, void *context, const char **error_r)
{
	struct pg_store *s = pgs(store);
	struct buf sql;
	struct store_copy_value *v;
	PGresult *res;
	int ret;

	if ((ret = pg_ensure_conn(s, error_r)) < 0)
		return ret;
	buf_init(&sql, SIZE_MAX);
	(void)buf_puts(&sql, "SELECT ");
	for (size_t i = 0; i < n; i++)
		(void)buf_printf(&sql, "%s\"%s\"", i > 0 ? ", " : "", cols[i]);
	(void)buf_printf(&sql, " FROM \"%s\"", table);
	if (!PQsendQueryParams(s->conn, buf_cstr(&sql), 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(s->conn)) {
		buf_free(&sql);
		drain(s->conn);
		return pg_result_error(s, NULL, errf("migrate: read %s", table), error_r);
	}
	buf_free(&sql);
	v = xcalloc(n + 1, sizeof(*v));
	ret = STORE_OK;
	while ((res = PQgetResult(s->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE) {
			if (ret == STORE_OK)
				ret = row_to_fn(res, n, v, fn, context, error_r);
		} else if (st != PGRES_TUPLES_OK && ret == STORE_OK) {
			ret = pg_result_error(s, res, errf("migrate: read %s", table), error_r);
		}
		PQclear(res);
	}
	free(v);
	return ret;
}

static int
pg_copy_insert(struct store *store, const char *table, const char *const *cols, size_t n,
	       const struct store_copy_value *v, const char **error_r)
{
	struct pg_store *s = pgs(store);
	const char *values[n + 1];
	int lengths[n + 1], formats[n + 1];
	char (*nums)[24] = xcalloc(n + 1, sizeof(*nums));
	struct buf sql;
	int ret;

	if (strcmp(table, "events") == 0) {
		/* The events' trigger counts reopenings on the ticket (PG
		   migration 6); the tickets were copied with their count: it
		   must not count them again. Per event, as a reconnect forgets it. */
		PGresult *set = copy_exec(s, "SELECT set_config('deskgate.copying', 'on', false)", 0,
					  NULL, NULL, NULL, "migrate: events", &ret, error_r);
		if (set == NULL) {
			free(nums);
			return ret;
		}
		PQclear(set);
	}
	buf_init(&sql, SIZE_MAX);
	(void)buf_printf(&sql, "INSERT INTO \"%s\" (", table);
	for (size_t i = 0; i < n; i++)
		(void)buf_printf(&sql, "%s\"%s\"", i > 0 ? ", " : "", cols[i]);
	(void)buf_puts(&sql, ") VALUES (");
	for (size_t i = 0; i < n; i++) {
		(void)buf_printf(&sql, "%s$%zu", i > 0 ? ", " : "", i + 1);
		lengths[i] = 0;
		formats[i] = 0;
		switch (v[i].type) {
		case STORE_COPY_NULL:
			values[i] = NULL;
			break;
		case STORE_COPY_INT:
			snprintf(nums[i], sizeof(nums[i]), "%" PRId64, v[i].i);
			values[i] = nums[i];
			break;
		case STORE_COPY_TEXT:
			values[i] = (const char *)v[i].p;
			break;
		case STORE_COPY_BYTES:
			values[i] = v[i].p != NULL ? (const char *)v[i].p : "";
			lengths[i] = (int)v[i].len;
			formats[i] = 1;
			break;
		}
	}
	(void)buf_puts(&sql, ") ON CONFLICT DO NOTHING");
	PGresult *res = copy_exec(s, buf_cstr(&sql), (int)n, values, lengths, formats,
				  errf("migrate: write %s", table), &ret, error_r);
	buf_free(&sql);
	free(nums);
	if (res == NULL)
		return ret;
	ret = strcmp(PQcmdTuples(res), "0") != 0 ? 1 : 0;
	PQclear(res);
	return ret;
}

static int
pg_copy_ids_advance(struct store *store, const char *table, const char **error_r)
{
	struct pg_store *s = pgs(store);
	int ret;
	PGresult *res = copy_exec(s,
				  "SELECT pg_get_serial_sequence($1, 'id') FROM "
				  "information_schema.columns WHERE table_schema = "
				  "current_schema() AND table_name = $1 AND column_name = 'id'",
				  1, &table, NULL, NULL, "migrate: sequence", &ret, error_r);
	if (res == NULL)
		return ret;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return STORE_OK; /* no id, or not generated */
	}
	char *seq = xstrdup(PQgetvalue(res, 0, 0));
	const char *param = seq;
	PQclear(res);
	/* never back: a desk already running on the destination keeps its ids */
	char *sql = xasprintf("SELECT setval($1::regclass, m) FROM (SELECT GREATEST("
			      "(SELECT max(id) FROM \"%s\"), pg_sequence_last_value($1::regclass)) "
			      "AS m) x WHERE m IS NOT NULL",
			      table);
	res = copy_exec(s, sql, 1, &param, NULL, NULL, "migrate: sequence", &ret, error_r);
	free(sql);
	free(seq);
	PQclear(res);
	return ret;
}

static int
pg_copy_blob_has(struct store *store, enum store_blob_kind kind, const char *hex,
		 const char **error_r)
{
	char k[8];
	const char *params[2] = { k, hex };
	int ret;
	snprintf(k, sizeof(k), "%d", (int)kind);
	PGresult *res = copy_exec(pgs(store),
				  "SELECT 1 FROM blobs WHERE kind = $1::smallint AND sha256 = $2", 2,
				  params, NULL, NULL, "migrate: blob", &ret, error_r);
	if (res == NULL)
		return ret;
	ret = PQntuples(res) > 0;
	PQclear(res);
	return ret;
}

const struct store_copy_driver store_pg_copy_driver = {
	.tables = pg_copy_tables,
	.columns = pg_copy_columns,
	.scan = pg_copy_scan,
	.insert = pg_copy_insert,
	.ids_advance = pg_copy_ids_advance,
	.blob_has = pg_copy_blob_has,
};
