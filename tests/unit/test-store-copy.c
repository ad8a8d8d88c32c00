/*
 * test-store-copy: the copier of `deskgate store migrate` knows the
 * schema. A fresh store (SQLite, or PostgreSQL with
 * DESKGATE_TEST_STORE_URL) has exactly the tables the copier lists, so a
 * migration that adds a table fails here until the copier copies it (or
 * says why not); a table it does not know is refused, naming it.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/store.h"
#include "gateway/store/store-copy.h"
#include "tests/unit/test.h"
#include "tests/unit/test-store-url.h"

static char dir[] = "/tmp/dg-test-store-copy-XXXXXX";

static void
test_schema_known(void)
{
	test_begin("every table of a fresh store is known to the copier");
	char *loc = test_store_location(dir, "copy_schema");
	struct store *store = NULL;
	const char *error = NULL;
	test_assert(loc != NULL);
	if (loc == NULL)
		return;
	test_assert(store_open(loc, dir, &store, &error) == 0);
	if (store == NULL) {
		printf("# %s\n", error);
		free(loc);
		return;
	}
	int ret = store_copy_check_tables(store, &error);
	if (ret != 0)
		printf("# %s\n", error);
	test_assert_int(ret, STORE_OK);
	store_close(&store);
	free(loc);
}

/* A table the copier does not know (made with the sqlite3 shell: the test
   does not include SQLite) is refused by name. */
static void
test_unknown_table(void)
{
	test_begin("an unknown table is refused");
	if (test_store_url() != NULL || system("command -v sqlite3 >/dev/null 2>&1") != 0) {
		printf("# (SQLite only, needs the sqlite3 shell: not run)\n");
		return;
	}
	char *loc = xasprintf("%s/unknown.db", dir);
	struct store *store = NULL;
	const char *error = NULL;
	test_assert(store_open(loc, dir, &store, &error) == 0);
	store_close(&store);
	char *cmd = xasprintf("sqlite3 '%s' 'CREATE TABLE holds (id INTEGER PRIMARY KEY)'", loc);
	test_assert(system(cmd) == 0);
	free(cmd);
	test_assert(store_open(loc, dir, &store, &error) == 0);
	error = NULL;
	test_assert_int(store_copy_check_tables(store, &error), STORE_DATA_BAD);
	test_assert(error != NULL && strstr(error, "\"holds\"") != NULL);
	store_close(&store);
	free(loc);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_schema_known();
	test_unknown_table();
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	return test_exit();
}
