/*
 * store-pg-sql: the SQL of the PostgreSQL driver's core statements, by the
 * SQLite driver's statement names (enum stmt_id of store-sqlite-sql.h),
 * private to store-pg.c. Text only.
 */
#ifndef DG_STORE_PG_SQL_H
#define DG_STORE_PG_SQL_H

/* The SQL of statement id for PostgreSQL (malloc()ed), NULL when there is
   none. */
char *store_pg_sql(int id);
/* Statement id is transaction control (BEGIN, COMMIT, savepoints), run
   as simple queries, not prepared. */
int store_pg_sql_is_txn(int id);

struct store;
/* Prepare every statement of the PostgreSQL driver on store's connection
   (they are otherwise prepared on first use): STORE_OK, or a failure
   naming the statement PostgreSQL does not read. For the tests. */
int store_pg_prepare_all(struct store *store, const char **error_r);

#endif
