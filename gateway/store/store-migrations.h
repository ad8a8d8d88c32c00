/*
 * store-migrations: the numbered schema changes of each driver, private to
 * gateway/store/. Each driver has its own history (SQL differs between
 * databases) with the same numbers for the same change, so a version
 * means the same tables everywhere: store_<driver>_migrations[i] takes a
 * database from version i to i + 1. Append only; never edit a released
 * migration. The driver applies the missing ones at open, inside one
 * write transaction, and refuses a database newer than its list.
 */
#ifndef DG_STORE_MIGRATIONS_H
#define DG_STORE_MIGRATIONS_H

#include <stddef.h>

/* A step a migration needs beyond its SQL, written in C by each driver
   (data that SQL alone cannot derive, such as parsed address lists). */
enum store_backfill {
	STORE_BACKFILL_NONE,
	STORE_BACKFILL_MESSAGE_RCPT, /* message_rcpt from messages.to_addrs, cc_addrs */
};

struct store_migration {
	const char *summary;
	const char *sql;
	enum store_backfill backfill; /* run after the SQL, in the same transaction */
};

extern const struct store_migration store_sqlite_migrations[];
extern const size_t store_sqlite_n_migrations;
/* store-pg-migrations.c: the PostgreSQL driver's own numbering. */
extern const struct store_migration store_pg_migrations[];
extern const size_t store_pg_n_migrations;

#endif
