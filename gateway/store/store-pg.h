/*
 * store-pg: what the files of the PostgreSQL driver share, private to them
 * (store-pg.c, the core; store-pg-sla.c, the SLA tables). With
 * store-pg.c and store-pg-sla.c the only includer of libpq-fe.h.
 *
 * The driver's store, a parameter list (every value is a parameter of a
 * statement prepared on first use per connection, never text pasted into
 * SQL),
 * running a statement with the savepoint that keeps a failed statement from
 * aborting the caller's transaction, grading PostgreSQL's SQLSTATEs, and
 * the row reader of store-record.h. docs/internals/store.md is the contract.
 */
#ifndef DG_STORE_PG_H
#define DG_STORE_PG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/store/store-driver.h"
#include "gateway/store/store-record.h"

/* The parts of the driver in files of their own (their statements are
   prepared with the core's at connect). */
enum pg_part_id {
	PG_PART_SLA,   /* store-pg-sla.c */
	PG_PART_LEASE, /* store-pg-lease.c */
	PG_PART_MERGE, /* store-pg-merge.c */
	PG_N_PARTS
};

struct pg_part {
	const char *prefix;	/* statement names: prefix + index */
	const char *const *sql; /* n statements; NULL: not in this driver yet */
	size_t n;
};

extern const struct pg_part pg_sla_part;
extern const struct pg_part pg_lease_part;
extern const struct pg_part pg_merge_part;

struct pg_store {
	struct store base;
	PGconn *conn;
	char *conninfo; /* what libpq connects with (may hold a password: never logged) */
	char *secret;	/* the password of conninfo, scrubbed from libpq's messages */
	char *where;	/* user@host:port/db, for messages */
	int prepared;	/* the connection is set up (pg_conn_setup()) */
	unsigned char *ready; /* by statement slot: prepared on this connection */
	char *unescaped; /* the last bytea a row reader decoded (PQfreemem) */
	int streaming;	/* report_scan() is reading rows in single-row mode */
	int listening;	/* LISTEN PG_WAKE_CHANNEL (again after a reset) */
	int wake_pending; /* enum store_wake: NOTIFY with the next COMMIT */
	struct store_blobs *blobs; /* [store] blob_dir; NULL: blobs are rows */
	/* The constraint of the last unique violation (23505), else "". */
	char violated[64];
};

/* The channel of store_wake_listen() (store-pg-lease.c). */
#define PG_WAKE_CHANNEL "deskgate_wake"
/* "COMMIT", preceded by the NOTIFYs of s->wake_pending (one round trip:
   a multi-statement simple query); clears wake_pending. */
const char *pg_commit_sql(struct pg_store *s);

static inline struct pg_store *
pgs(struct store *store)
{
	return (struct pg_store *)store;
}

/* ---- parameters ----------------------------------------------------------- */

#define PG_MAX_PARAMS 32

struct pg_params {
	int n;
	const char *values[PG_MAX_PARAMS];
	int lengths[PG_MAX_PARAMS];
	int formats[PG_MAX_PARAMS];
	char nums[PG_MAX_PARAMS][24];
};

void pg_text(struct pg_params *p, const char *s);	/* NULL: SQL NULL */
void pg_int(struct pg_params *p, int64_t v);
void pg_ref(struct pg_params *p, int64_t id);		/* 0: SQL NULL */
void pg_limit(struct pg_params *p, size_t limit);	/* 0: no limit (NULL) */
void pg_bytes(struct pg_params *p, const void *data, size_t len);

/* ---- running statements ------------------------------------------------------ */

/* Run the prepared statement `name` with p. Inside the caller's
   transaction it runs in a savepoint, so a failure undoes only this
   statement and the transaction stays usable. Returns the result (rows or
   command) or NULL with *ret_r graded and *error_r set; binary: results in
   binary format (for bytea). */
PGresult *pg_run(struct pg_store *s, const char *name, const struct pg_params *p, int binary,
		 const char *what, int *ret_r, const char **error_r);
/* Run and discard; STORE_OK or a graded failure. */
int pg_do(struct pg_store *s, const char *name, const struct pg_params *p, const char *what,
	  const char **error_r);
/* Rows affected by an UPDATE/DELETE/INSERT (PQcmdTuples), or < 0. */
int64_t pg_changes(struct pg_store *s, const char *name, const struct pg_params *p,
		   const char *what, const char **error_r);
/* At most one row of one integer: 1 with *value_r (0 for NULL), 0 none. */
int pg_int_row(struct pg_store *s, const char *name, const struct pg_params *p, int64_t *value_r,
	       const char *what, const char **error_r);
/* Every row as a record of rec. */
int pg_rows(struct pg_store *s, const char *name, const struct pg_params *p,
	    const struct store_record *rec, const char *what, void **rows_r, size_t *count_r,
	    const char **error_r);
/* The name of core statement id ("s12", enum stmt_id of
   store-sqlite-sql.h) and of statement i of a part ("sla3"). A statement
   without SQL for PostgreSQL is not prepared: running it fails with 26000
   ("prepared statement does not exist"), graded as unavailable. */
const char *pg_stmt_name(int id, char buf[16]);
const char *pg_part_name(enum pg_part_id part, size_t i, char buf[16]);
#define NAME(id) pg_stmt_name((id), name_buf)

/* A simple query (transaction control, migrations): STORE_OK or graded. */
int pg_simple(struct pg_store *s, const char *sql, const char *what, const char **error_r);
/* The error of res (NULL: of the connection) as "store: what: ...",
   without the password; graded by its SQLSTATE. */
int pg_result_error(struct pg_store *s, PGresult *res, const char *what, const char **error_r);
/* msg without the password and the trailing newline (an errf() string). */
const char *pg_scrub(const struct pg_store *s, const char *msg);
/* Statements are prepared on their first use on a connection (pg_run();
   pg_prepare() for a caller that sends one itself). pg_prepare_all()
   prepares every one (a check that PostgreSQL reads them all:
   store_pg_prepare_all() in store-pg-sql.h for the tests);
   pg_conn_setup() readies a new or reset connection. */
int pg_prepare(struct pg_store *s, const char *name, const char **error_r);
int pg_prepare_all(struct pg_store *s, const char **error_r);
int pg_conn_setup(struct pg_store *s, const char **error_r);
/* The connection is up and prepared: reset once outside a transaction. */
int pg_ensure_conn(struct pg_store *s, const char **error_r);
/* A write made of several statements: a savepoint inside a transaction,
   a transaction of its own outside one; op_end() releases or undoes it
   and returns ret (or the failure of the release). */
int pg_op_begin(struct pg_store *s, const char *what, const char **error_r);
int pg_op_end(struct pg_store *s, int ret, const char *what, const char **error_r);
/* An INSERT ... RETURNING id of core statement id. */
int pg_insert_id(struct pg_store *s, int id, const struct pg_params *p, const char *what,
		 int64_t *id_r, const char **error_r);
/* An UPDATE of row id with core statement stmt: none is the caller's data
   ("no <noun> <id>"). */
int pg_update_row(struct pg_store *s, int stmt, const struct pg_params *p, const char *what,
		  const char *noun, int64_t id, const char **error_r);

/* The row reader of store-record.h over row `row` of a PGresult. */
struct pg_row {
	struct pg_store *s;
	const PGresult *res;
	int row;
};
extern const struct store_row_reader store_pg_reader;

/* PQgetvalue as int64 (0 for NULL). */
int64_t pg_value_int(const PGresult *res, int row, int col);

extern const struct store_sla_driver store_pg_sla_driver;
extern const struct store_driver store_pg_driver, store_pg_alias_driver;

#endif
