/*
 * test-store-url: which store the store tests run against. Without
 * DESKGATE_TEST_STORE_URL, an SQLite file in the test's directory; with it
 * (tests/unit/test-store-pg.sh sets it to the private PostgreSQL of
 * tests/harness/postgres.sh, as "postgresql:host=... dbname=deskgate"), a
 * fresh database of that server per name, so each part of a test starts
 * from an empty store as it does with a new SQLite file. The database is
 * made with psql (the test program itself never includes libpq).
 */
#ifndef DG_TEST_STORE_URL_H
#define DG_TEST_STORE_URL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* The server's conninfo, or NULL for SQLite. */
static inline const char *
test_store_url(void)
{
	const char *url = getenv("DESKGATE_TEST_STORE_URL");
	return url != NULL && *url != '\0' ? url : NULL;
}

/* A fresh store location named name: dir/deskgate.db, or a new database
   "dg_name" on the server (dropped first when a run left it). NULL when
   the database cannot be made. */
static inline char *
test_store_location(const char *dir, const char *name)
{
	const char *url = test_store_url();
	if (url == NULL)
		return xasprintf("%s/deskgate.db", dir);
	char db[64];
	size_t n = 0;
	for (const char *p = name; *p != '\0' && n < sizeof(db) - 4; p++)
		db[n++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : '_';
	db[n] = '\0';
	const char *conninfo = strchr(url, ':') + 1;
	/* The conninfo is the harness's own (no quote in it); the names are
	   letters, digits and '_'. */
	char *cmd = xasprintf("PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d '%s dbname=postgres' "
			      "-c 'DROP DATABASE IF EXISTS dg_%s' "
			      "-c \"CREATE DATABASE dg_%s TEMPLATE template0 ENCODING 'UTF8' "
			      "LOCALE 'C'\" >/dev/null",
			      conninfo, db, db);
	int rc = system(cmd);
	free(cmd);
	if (rc != 0) {
		printf("# cannot create the test database dg_%s (psql exit %d)\n", db, rc);
		return NULL;
	}
	return xasprintf("%s dbname=dg_%s", url, db);
}

#endif
