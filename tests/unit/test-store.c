/*
 * Unit tests for the store (gateway/store/) against real SQLite files in a
 * temporary directory (removed at the end). sqlite3 is used directly only
 * to tamper with a database (newer schema version, foreign file) and to
 * lower SQLite's length limit on the store's connection (see
 * sqlite3_open_v2() below), so that "too big" needs kilobytes, not a
 * gigabyte.
 */
#include "build-config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/crypto.h"
#include "gateway/ingest.h"
#include "gateway/store.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-lease.h"
#include "gateway/store/store-sla-driver.h"
#include "base/util.h"
#include "parsers/mime.h"
#include "tests/unit/test-store-url.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-test-store-XXXXXX";

/* 中文 subject and body, and an emoji. */
#define ZH_SUBJECT "\xe6\x8f\x90\xe7\x8e\xb0\xe6\x9c\xaa\xe5\x88\xb0\xe8\xb4\xa6"
#define ZH_TEXT                                                                           \
	"\xe6\x82\xa8\xe5\xa5\xbd\xef\xbc\x8c\xe6\x88\x91\xe7\x9a\x84\xe6\x8f\x90\xe7\x8e\xb0" \
	"\xe8\xbf\x98\xe6\xb2\xa1\xe6\x9c\x89\xe5\x88\xb0\xe8\xb4\xa6 \xf0\x9f\x98\x80"

/* The test's own syncfs() takes the place of the C library's for the store
   (linked statically into this program): it counts the calls and, when
   asked, looks through a second connection whether a row is already
   committed at the moment of the flush (it must not be: flush first). */
static int syncfs_calls;
static const char *syncfs_probe_db;
static int syncfs_probe_rows = -1;

int
syncfs(int fd)
{
	syncfs_calls++;
	if (syncfs_probe_db != NULL) {
		sqlite3 *db;
		sqlite3_stmt *st;
		syncfs_probe_rows = -1;
		if (sqlite3_open_v2(syncfs_probe_db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, "SELECT count(*) FROM messages WHERE dedupe_key = 'blob-1'",
				       -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				syncfs_probe_rows = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
		}
		sqlite3_close(db);
	}
	return (int)syscall(SYS_syncfs, fd);
}

/* The test's sqlite3_open_v2() takes the place of SQLite's for the store
   (the program's own definition wins at link time) and calls the real one;
   when sqlite_length_limit is set, the connection gets that
   SQLITE_LIMIT_LENGTH: real SQLite refusing a value too large, at a size a
   test can afford. */
static int sqlite_length_limit;
/* > 0: the store's busy timeout is cut to this many ms (a locked database
   fails fast instead of after the store's 5 s). */
static int sqlite_busy_ms;

int
sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs)
{
	typedef int open_fn(const char *, sqlite3 **, int, const char *);
	static open_fn *real;
	if (real == NULL)
		real = (open_fn *)dlsym(RTLD_NEXT, "sqlite3_open_v2");
	if (real == NULL)
		return SQLITE_ERROR;
	int rc = real(filename, db, flags, vfs);
	if (rc == SQLITE_OK && sqlite_length_limit > 0)
		(void)sqlite3_limit(*db, SQLITE_LIMIT_LENGTH, sqlite_length_limit);
	return rc;
}

int
sqlite3_busy_timeout(sqlite3 *db, int ms)
{
	typedef int busy_fn(sqlite3 *, int);
	static busy_fn *real;
	if (real == NULL)
		real = (busy_fn *)dlsym(RTLD_NEXT, "sqlite3_busy_timeout");
	if (real == NULL)
		return SQLITE_ERROR;
	return real(db, sqlite_busy_ms > 0 ? sqlite_busy_ms : ms);
}

static int
dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static char *
path_in(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh state dir and database under tmpdir/name (or a fresh database
   on the server of DESKGATE_TEST_STORE_URL). */
static struct store *
open_fresh(const char *name)
{
	char *dir = path_in(name);
	char *db = test_store_location(dir, name);
	struct store *store = NULL;
	const char *error = NULL;
	rm_tree(dir);
	if (db != NULL && store_open(db, dir, &store, &error) < 0)
		printf("open %s: %s\n", name, error);
	free(dir);
	free(db);
	return store;
}

static int
file_mode(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

static int
contains(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

static int
sql_exec(const char *db_path, const char *sql)
{
	sqlite3 *db;
	int rc = sqlite3_open(db_path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void
test_open(void)
{
	char *dir = path_in("open");
	char *db = xasprintf("%s/deskgate.db", dir);
	struct store *store = NULL;
	const char *error = NULL;
	int version;

	test_begin("open/migrate/reopen");
	test_assert_int(store_open(db, dir, &store, &error), 0);
	test_assert(store != NULL);
	version = store != NULL ? store_schema_version(store) : 0;
	test_assert(version >= 1);
	store_close(&store);
	test_assert(store == NULL);
	store_close(&store); /* NULL is fine */
	test_assert_int(file_mode(dir), 0700);
	test_assert_int(file_mode(db), 0600);
	static const char *const subdirs[] = { "raw", "att", "tmp" };
	for (size_t i = 0; i < N_ELEMENTS(subdirs); i++) {
		char *sub = xasprintf("%s/%s", dir, subdirs[i]);
		test_assert_int(file_mode(sub), 0700);
		free(sub);
	}
	test_assert_int(store_open(db, dir, &store, &error), 0);
	test_assert(store != NULL && store_schema_version(store) == version);
	store_close(&store);

	/* A newer database is refused, naming both versions and the file. */
	test_begin("open newer schema");
	test_assert_int(sql_exec(db, "PRAGMA user_version = 999"), 0);
	error = NULL;
	test_assert_int(store_open(db, dir, &store, &error), -1);
	test_assert(store == NULL);
	test_assert(contains(error, "999"));
	test_assert(contains(error, db));
	char want[32];
	snprintf(want, sizeof(want), "(%d)", version);
	test_assert(contains(error, want));
	free(db);
	free(dir);
}

static void
test_open_errors(void)
{
	const char *error;
	struct store *store;
	char *dir = path_in("bad");
	char *file = path_in("regular-file");
	char *db = xasprintf("%s/garbage.db", dir);
	char *foreign = xasprintf("%s/foreign.db", dir);
	FILE *fp;

	test_begin("open corrupt file");
	mkdir(dir, 0700);
	fp = fopen(db, "w");
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database at all, just text. ", fp);
	fclose(fp);
	store = NULL;
	error = NULL;
	test_assert_int(store_open(db, dir, &store, &error), -1);
	test_assert(store == NULL);
	test_assert(contains(error, db));
	test_assert(contains(error, "not a database"));

	test_begin("open foreign database");
	test_assert_int(sql_exec(foreign, "CREATE TABLE t (x); INSERT INTO t VALUES (1)"), 0);
	error = NULL;
	test_assert_int(store_open(foreign, dir, &store, &error), -1);
	test_assert(contains(error, "not a deskgate database"));

	/* Root ignores permissions: a path under a regular file fails for
	   everybody. */
	test_begin("open unwritable");
	fp = fopen(file, "w");
	fclose(fp);
	char *under_file = xasprintf("%s/state", file);
	char *db_under_file = xasprintf("%s/x.db", file);
	char *ok_db = xasprintf("%s/ok.db", dir);
	const struct {
		const char *db, *state;
		const char *want; /* in the error */
	} cases[] = {
		{ ok_db, under_file, under_file },
		{ db_under_file, dir, db_under_file },
		{ ok_db, file, file },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		error = NULL;
		store = NULL;
		test_assert_int(store_open(cases[i].db, cases[i].state, &store, &error), -1);
		test_assert(store == NULL);
		test_assert(contains(error, cases[i].want));
	}
	if (geteuid() != 0) {
		char *ro = path_in("readonly");
		char *ro_db = xasprintf("%s/deskgate.db", ro);
		mkdir(ro, 0500);
		error = NULL;
		test_assert_int(store_open(ro_db, ro, &store, &error), -1);
		test_assert(contains(error, ro));
		free(ro_db);
		free(ro);
	} else {
		printf("note: running as root, permission-denied case not tested\n");
	}
	free(ok_db);
	free(db_under_file);
	free(under_file);
	free(foreign);
	free(db);
	free(file);
	free(dir);
}

static int64_t
new_ticket(struct store *store, const char *subject)
{
	struct store_ticket t = { .subject = subject,
				  .customer_address = "alice@example.com" };
	int64_t id = 0;
	const char *error;
	if (store_ticket_insert(store, &t, &id, &error) < 0)
		printf("ticket insert: %s\n", error);
	return id;
}

static int64_t
new_message(struct store *store, int64_t ticket_id, const char *dedupe, const char *text,
	    const char *msgid)
{
	struct store_message m = {
		.ticket_id = ticket_id,
		.direction = "in",
		.message_id = msgid,
		.from_address = "Alice@Example.com",
		.text = text,
		.dedupe_key = dedupe,
	};
	int64_t id = 0;
	const char *error;
	if (store_message_insert(store, &m, &id, &error) < 0)
		printf("message insert: %s\n", error);
	return id;
}

/* The report's figures on the ticket (migration 14, store-report-sql.h). */
#define UNDO_MIGRATION_14 \
	"DROP TRIGGER report_message; DROP TRIGGER report_close; DROP TRIGGER report_reopen; " \
	"DROP TRIGGER report_category; ALTER TABLE tickets DROP COLUMN channel; " \
	"ALTER TABLE tickets DROP COLUMN close_event_at; ALTER TABLE tickets DROP COLUMN reopens; " \
	"ALTER TABLE tickets DROP COLUMN category_change; "
/* What migration 9 added (the SLA tables), for going back to an older
   version. */
#define UNDO_MIGRATION_9 \
	"DROP TABLE ticket_sla; DROP TABLE timers; DROP TABLE sla_notices; " \
	"DROP INDEX tickets_assignee; " UNDO_MIGRATION_14

/* Migration 10 (the outbox's kinds) on a version-9 database whose outbox
   rows have recipients: the table is rebuilt with the wider CHECK, the rows
   and the rows that refer to them survive, the new kinds are accepted and
   an unknown kind is still refused. */
static void
test_migrate_outbox_kinds(void)
{
	char *dir = path_in("migrate10");
	char *db = xasprintf("%s/deskgate.db", dir);
	struct store *store = NULL;
	const char *error = NULL;
	int64_t id = 0;
	int version = 0;
	struct store_outbox o = {
		.kind = "ack",
		.message_id = "m10@example.test",
		.envelope_from = "support@example.test",
		.recipients = "a@example.com, b@example.com",
		.raw = (const unsigned char *)"x",
		.raw_size = 1,
	};

	test_begin("migration 10: outbox kinds");
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store != NULL) {
		version = store_schema_version(store);
		test_assert_int(store_outbox_insert(store, &o, &id, &error), 0);
	}
	store_close(&store);
	/* Back to version 9: the outbox as migration 1 made it. */
	test_assert_int(
		sql_exec(db, "CREATE TABLE old (id INTEGER PRIMARY KEY, ticket_id INTEGER "
			     "REFERENCES tickets (id), kind TEXT NOT NULL CHECK (kind IN ('ack', "
			     "'notify', 'relay', 'notice', 'error')), message_id TEXT NOT NULL "
			     "UNIQUE, envelope_from TEXT NOT NULL, recipients TEXT NOT NULL, raw "
			     "BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'queued', attempts "
			     "INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, "
			     "next_attempt_at INTEGER NOT NULL, sent_at INTEGER NOT NULL DEFAULT "
			     "0, last_error TEXT, last_code TEXT); "
			     "INSERT INTO old SELECT id, ticket_id, kind, message_id, envelope_from, "
			     "recipients, raw, status, attempts, created_at, next_attempt_at, "
			     "sent_at, last_error, last_code FROM outbox; DROP TABLE outbox; "
			     "ALTER TABLE old RENAME TO outbox; "
			     "CREATE INDEX outbox_due ON outbox (status, next_attempt_at); "
			     "CREATE INDEX outbox_ticket ON outbox (ticket_id); "
			     "CREATE INDEX outbox_created ON outbox (created_at); " UNDO_MIGRATION_14
			     "PRAGMA user_version = 9"),
		0);
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store != NULL) {
		struct store_outbox *got = NULL;
		struct store_outbox_rcpt *rcpts = NULL;
		size_t n = 0;
		test_assert_int(store_schema_version(store), version);
		test_assert_int(store_outbox_get(store, id, &got, &error), 1);
		test_assert_str(got != NULL ? got->message_id : NULL, "m10@example.test");
		store_outbox_free(&got);
		test_assert_int(store_outbox_rcpt_list(store, id, &rcpts, &n, &error), 0);
		test_assert_int((int)n, 2);
		store_outbox_rcpts_free(&rcpts, n);
		o.kind = "digest";
		o.message_id = "m10-digest@example.test";
		test_assert_int(store_outbox_insert(store, &o, NULL, &error), 0);
		o.kind = "escalation";
		o.message_id = "m10-escalation@example.test";
		test_assert_int(store_outbox_insert(store, &o, NULL, &error), 0);
		o.kind = "bogus";
		o.message_id = "m10-bogus@example.test";
		test_assert(store_outbox_insert(store, &o, NULL, &error) < 0);
	}
	store_close(&store);
	free(db);
	free(dir);
}

/* Migration 2 (tickets.assignee) on a database made by version 1 that
   holds a ticket: the ticket survives, unassigned, and can be assigned. */
static void
test_migrate_assignee(void)
{
	char *dir = path_in("migrate");
	char *db = xasprintf("%s/deskgate.db", dir);
	struct store *store = NULL;
	const char *error = NULL;
	int64_t id = 0;

	test_begin("migration 2: assignee");
	test_assert_int(store_open(db, dir, &store, &error), 0);
	int version = store != NULL ? store_schema_version(store) : 0;
	test_assert(version >= 2);
	if (store != NULL)
		id = new_ticket(store, "before the migration");
	store_close(&store);
	/* Back to version 1: the column (and the later tables) did not exist
	   then. */
	test_assert_int(sql_exec(db, UNDO_MIGRATION_9 "DROP TABLE labels; DROP TABLE message_rcpt; "
				     "DROP TABLE outbox_rcpt; "
				     "ALTER TABLE tickets DROP COLUMN assignee; "
				     "PRAGMA user_version = 1"), 0);
	test_assert_int(store_open(db, dir, &store, &error), 0);
	test_assert(store != NULL && store_schema_version(store) == version);
	struct store_ticket *t = NULL;
	if (store != NULL) {
		test_assert_int(store_ticket_get(store, id, &t, &error), 1);
		test_assert(t != NULL && t->assignee == NULL);
		test_assert_str(t != NULL ? t->subject : NULL, "before the migration");
		store_ticket_free(&t);
		test_assert_int(store_ticket_set(store, id, "assignee", "alice@example.test", &error), 0);
		test_assert_int(store_ticket_get(store, id, &t, &error), 1);
		test_assert_str(t != NULL ? t->assignee : NULL, "alice@example.test");
		store_ticket_free(&t);
	}
	store_close(&store);
	free(db);
	free(dir);
}

/* Migration 3 (outbox_rcpt) on a version-2 database with queued mail: the
   recipients of existing rows are back-filled, so the rate limits still
   count them. */
static void
test_migrate_outbox_rcpt(void)
{
	char *dir = path_in("migrate3");
	char *db = xasprintf("%s/deskgate.db", dir);
	struct store *store = NULL;
	const char *error = NULL;
	int64_t n = -1;

	test_begin("migration 3: outbox recipients");
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store != NULL) {
		struct store_outbox o = {
			.kind = "ack",
			.message_id = "m3@example.test",
			.envelope_from = "support@example.test",
			.recipients = "A@Example.com, b@example.com",
			.raw = (const unsigned char *)"x",
			.raw_size = 1,
		};
		test_assert_int(store_outbox_insert(store, &o, NULL, &error), 0);
	}
	store_close(&store);
	test_assert_int(sql_exec(db, UNDO_MIGRATION_9 "DROP TABLE labels; DROP TABLE message_rcpt; "
				     "DROP TABLE outbox_rcpt; "
				     "PRAGMA user_version = 2"),
			0);
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store != NULL) {
		test_assert_int(store_outbox_count_recent(store, "a@example.com", "ack", 0, &n, &error), 0);
		test_assert_int(n, 1);
		test_assert_int(store_outbox_count_recent(store, "B@EXAMPLE.COM", NULL, 0, &n, &error), 0);
		test_assert_int(n, 1);
		test_assert_int(store_outbox_count_recent(store, "c@example.com", NULL, 0, &n, &error), 0);
		test_assert_int(n, 0);
	}
	store_close(&store);
	free(db);
	free(dir);
}

/* The stored lists threading asks about: names with quotes, commas and
   semicolons, upper case, and an address that is a suffix of another. */
#define RCPT_TO \
	"Support <support@example.test>, \"Doe, John\" <J.Doe@Example.com>; plain@example.com"
#define RCPT_CC \
	"bob@example.com, \"Ann <not-this@evil.test>\" <ann@example.com>, <angle@example.com>"

static int64_t
rcpt_message(struct store *store, int64_t ticket_id, const char *dedupe)
{
	struct store_message m = { .ticket_id = ticket_id, .direction = "in", .to = RCPT_TO,
				   .cc = RCPT_CC, .dedupe_key = dedupe };
	int64_t id = 0;
	const char *error = NULL;
	if (store_message_insert(store, &m, &id, &error) < 0)
		printf("message insert: %s\n", error);
	return id;
}

/* store_ticket_find_recipient() on tickets t (with RCPT_TO, RCPT_CC and
   our mail "dg.r@example.test" to "cust@example.com, Dan <dan@example.com>")
   and other (nothing). */
static void
check_recipients(struct store *store, int64_t t, int64_t other)
{
	const struct {
		int64_t ticket;
		const char *msgid, *address;
		int ret;
	} cases[] = {
		{ t, NULL, "support@example.test", 1 },
		{ t, NULL, "j.doe@example.com", 1 }, /* ASCII case folded */
		{ t, NULL, "J.DOE@EXAMPLE.COM", 1 },
		{ t, NULL, "plain@example.com", 1 }, /* after a ';' */
		{ t, NULL, "bob@example.com", 1 },
		{ t, NULL, "ann@example.com", 1 },
		{ t, NULL, "angle@example.com", 1 },
		{ t, NULL, "not-this@evil.test", 0 }, /* inside a quoted name */
		{ t, NULL, "Doe", 0 },
		{ t, NULL, "\"Doe", 0 },
		{ t, NULL, "ob@example.com", 0 },     /* not a substring match */
		{ t, NULL, "evilbob@example.com", 0 },
		{ t, NULL, "", 0 },
		{ t, NULL, NULL, 0 },
		{ other, NULL, "bob@example.com", 0 }, /* another ticket's mail */
		{ 999999, NULL, "bob@example.com", 0 },
		{ t, NULL, "dan@example.com", 0 },	       /* our mail: only by its id */
		{ t, "dg.r@example.test", "DAN@example.com", 1 }, /* "Dan <...>" */
		{ t, "dg.r@example.test", "cust@example.com", 1 },
		{ t, "dg.r@example.test", "bob@example.com", 1 },  /* the ticket's mail */
		{ t, "dg.r@example.test", "eve@example.com", 0 },
		{ t, "nope@example.test", "dan@example.com", 0 },
		{ other, "dg.r@example.test", "dan@example.com", 0 }, /* sent for t */
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *error = NULL;
		int ret = store_ticket_find_recipient(store, cases[i].ticket, cases[i].msgid,
						      cases[i].address, &error);
		if (ret != cases[i].ret)
			printf("case %zu: %s\n", i, cases[i].address != NULL ? cases[i].address : "NULL");
		test_assert_int(ret, cases[i].ret);
	}
}

static void
add_recipients_fixture(struct store *store, int64_t *t_r, int64_t *other_r, const char *tag)
{
	const char *error = NULL;
	*t_r = new_ticket(store, "recipients");
	*other_r = new_ticket(store, "no recipients");
	char *k1 = xasprintf("%s-1", tag), *k2 = xasprintf("%s-2", tag);
	test_assert(rcpt_message(store, *t_r, k1) > 0);
	test_assert(rcpt_message(store, *t_r, k2) > 0); /* the same lists twice */
	free(k1);
	free(k2);
	struct store_outbox o = { .ticket_id = *t_r, .kind = "relay",
				  .message_id = "dg.r@example.test",
				  .envelope_from = "support@example.test",
				  .recipients = "cust@example.com, Dan <dan@example.com>",
				  .raw = (const unsigned char *)"x", .raw_size = 1 };
	test_assert_int(store_outbox_insert(store, &o, NULL, &error), 0);
}

static void
test_recipients(void)
{
	char *dir = path_in("recipients");
	char *db = xasprintf("%s/deskgate.db", dir);
	struct store *store = NULL;
	const char *error = NULL;
	int64_t t = 0, other = 0;

	test_begin("recipients of a ticket's mail");
	rm_tree(dir);
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store == NULL)
		goto out;
	add_recipients_fixture(store, &t, &other, "r");
	check_recipients(store, t, other);
	int version = store_schema_version(store);
	store_close(&store);

	/* Migration 4 on a version-3 database: the recipients of the messages
	   stored before it are found the same way. */
	test_begin("migration 4: message recipients");
	test_assert_int(sql_exec(db, UNDO_MIGRATION_9 "DROP TABLE labels; DROP TABLE message_rcpt; "
				     "PRAGMA user_version = 3"),
			0);
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store == NULL)
		goto out;
	test_assert_int(store_schema_version(store), version);
	check_recipients(store, t, other);
	store_close(&store);
out:
	free(db);
	free(dir);
}

static void
test_tickets(struct store *store)
{
	const char *error = NULL;
	struct store_ticket *t = NULL, *list = NULL;
	size_t n = 0;
	int64_t count = -1, id = 0;
	time_t before = time(NULL);

	test_begin("ticket insert/get");
	struct store_ticket in = {
		.subject = ZH_SUBJECT,
		.priority = "high",
		.language = "zh-Hans",
		.customer_address = "wang@example.cn",
		.customer_name = "\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e",
		.due_at = 1700000000,
	};
	test_assert_int(store_ticket_insert(store, &in, &id, &error), 0);
	test_assert(id > 0);
	test_assert_int(store_ticket_get(store, id, &t, &error), 1);
	if (t != NULL) {
		test_assert_str(t->subject, ZH_SUBJECT);
		test_assert_str(t->status, "new");
		test_assert_str(t->category, "other");
		test_assert_str(t->priority, "high");
		test_assert_str(t->queue, NULL);
		test_assert_str(t->language, "zh-Hans");
		test_assert_str(t->customer_address, "wang@example.cn");
		test_assert_str(t->customer_name, "\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e");
		test_assert(t->created_at >= before && t->created_at <= time(NULL));
		test_assert_int(t->updated_at, t->created_at);
		test_assert_int(t->first_response_at, 0);
		test_assert_int(t->due_at, 1700000000);
		test_assert_int(t->n_messages, 0);
	}
	store_ticket_free(&t);
	test_assert(t == NULL);
	test_assert_int(store_ticket_get(store, 999999, &t, &error), 0);
	test_assert(t == NULL);

	test_begin("ticket set");
	const struct {
		const char *field, *value;
		int ret;
	} sets[] = {
		{ "status", "open", 0 },
		{ "status", "closed", 0 },
		{ "status", "bogus", STORE_DATA_BAD },   /* CHECK constraint */
		{ "status", NULL, STORE_DATA_BAD },	     /* NOT NULL */
		{ "category", "withdrawal", 0 },
		{ "category", "", STORE_DATA_BAD },
		{ "priority", "urgent", 0 },
		{ "priority", "whenever", STORE_DATA_BAD },
		{ "queue", "vip", 0 },
		{ "language", NULL, 0 },
		{ "assignee", "Bob@Example.test", 0 },
		{ "subject", "x", STORE_DATA_BAD },	     /* not settable */
		{ "id", "5", STORE_DATA_BAD },
		{ "status; DROP TABLE tickets", "x", STORE_DATA_BAD },
		{ NULL, "x", STORE_DATA_BAD },
	};
	for (size_t i = 0; i < N_ELEMENTS(sets); i++) {
		error = NULL;
		int ret = store_ticket_set(store, id, sets[i].field, sets[i].value, &error);
		test_assert_int(ret, sets[i].ret);
		if (ret < 0)
			test_assert(str_starts_with(error, "store: "));
	}
	test_assert_int(store_ticket_set(store, 999999, "status", "open", &error), STORE_DATA_BAD);
	test_assert(contains(error, "no ticket"));
	test_assert_int(store_ticket_set_time(store, id, "first_response_at", 1700000100, &error), 0);
	test_assert_int(store_ticket_set_time(store, id, "created_at", 1, &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_get(store, id, &t, &error), 1);
	if (t != NULL) {
		test_assert_str(t->status, "closed");
		test_assert_str(t->category, "withdrawal");
		test_assert_str(t->priority, "urgent");
		test_assert_str(t->queue, "vip");
		test_assert_str(t->language, NULL);
		test_assert_int(t->first_response_at, 1700000100);
		test_assert_str(t->assignee, "Bob@Example.test");
	}
	store_ticket_free(&t);
	test_assert_int(store_ticket_set(store, id, "assignee", NULL, &error), 0);
	test_assert_int(store_ticket_get(store, id, &t, &error), 1);
	test_assert(t != NULL && t->assignee == NULL);
	store_ticket_free(&t);

	test_begin("ticket list/count");
	int64_t id2 = new_ticket(store, "second");
	int64_t id3 = new_ticket(store, "third");
	new_message(store, id2, "k-list-1", "one", NULL);
	new_message(store, id2, "k-list-2", "two", NULL);
	test_assert_int(store_ticket_count(store, &count, &error), 0);
	test_assert_int(count, 3);
	test_assert_int(store_ticket_list(store, 0, &list, &n, &error), 0);
	test_assert_int(n, 3);
	if (n == 3) {
		test_assert_int(list[0].id, id3);
		test_assert_int(list[1].id, id2);
		test_assert_int(list[1].n_messages, 2);
		test_assert_int(list[2].id, id);
		test_assert_str(list[2].subject, ZH_SUBJECT);
	}
	store_tickets_free(&list, n);
	test_assert(list == NULL);
	test_assert_int(store_ticket_list(store, 2, &list, &n, &error), 0);
	test_assert_int(n, 2);
	store_tickets_free(&list, n);
	test_assert_int(store_ticket_get(store, id2, &t, &error), 1);
	test_assert(t != NULL && t->n_messages == 2);
	store_ticket_free(&t);
}

static void
test_messages(struct store *store)
{
	const char *error = NULL;
	struct store_message *msgs = NULL;
	struct store_ticket *t = NULL;
	size_t n = 0;
	int64_t tid = new_ticket(store, "messages"), other = new_ticket(store, "other");
	int64_t mid = 0, found_mid = 0, found_tid = 0, count = 0;
	char hex[65];

	/* An old ticket: the message's time must raise updated_at. */
	struct store_ticket old = { .subject = "old", .created_at = 1000 };
	int64_t old_id = 0;
	test_begin("message insert");
	test_assert_int(store_ticket_insert(store, &old, &old_id, &error), 0);
	struct store_message m = {
		.ticket_id = old_id,
		.direction = "in",
		.message_id = "abc@example.cn",
		.in_reply_to = "x@y",
		.references = "w@y x@y",
		.from_address = "wang@example.cn",
		.from_name = "\xe7\x8e\x8b",
		.to = "Support <support@example.test>",
		.cc = "c@d",
		.subject = ZH_SUBJECT,
		.date = 1699999999,
		.text = ZH_TEXT,
		.raw_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		.raw_size = 1234,
		.dedupe_key = "dedupe-1",
		.text_sha256 = "ignored",
		.mailbox = "INBOX",
		.uid = 4294967295u,
		.created_at = 5000,
	};
	test_assert_int(store_message_insert(store, &m, &mid, &error), 0);
	test_assert(mid > 0);
	test_assert_int(store_ticket_get(store, old_id, &t, &error), 1);
	test_assert(t != NULL && t->updated_at == 5000 && t->n_messages == 1);
	store_ticket_free(&t);

	test_begin("message round trip");
	test_assert_int(store_message_list(store, old_id, &msgs, &n, &error), 0);
	test_assert_int(n, 1);
	crypto_sha256_hex(ZH_TEXT, strlen(ZH_TEXT), hex);
	if (n == 1) {
		test_assert_int(msgs[0].id, mid);
		test_assert_int(msgs[0].ticket_id, old_id);
		test_assert_str(msgs[0].direction, "in");
		test_assert_str(msgs[0].message_id, "abc@example.cn");
		test_assert_str(msgs[0].in_reply_to, "x@y");
		test_assert_str(msgs[0].references, "w@y x@y");
		test_assert_str(msgs[0].from_address, "wang@example.cn");
		test_assert_str(msgs[0].from_name, "\xe7\x8e\x8b");
		test_assert_str(msgs[0].to, "Support <support@example.test>");
		test_assert_str(msgs[0].cc, "c@d");
		test_assert_str(msgs[0].subject, ZH_SUBJECT);
		test_assert_int(msgs[0].date, 1699999999);
		test_assert_str(msgs[0].text, ZH_TEXT);
		test_assert_str(msgs[0].raw_sha256, m.raw_sha256);
		test_assert_int(msgs[0].raw_size, 1234);
		test_assert_str(msgs[0].dedupe_key, "dedupe-1");
		test_assert_str(msgs[0].text_sha256, hex);
		test_assert_str(msgs[0].mailbox, "INBOX");
		test_assert_int(msgs[0].uid, 4294967295u);
		test_assert_int(msgs[0].created_at, 5000);
	}
	store_messages_free(&msgs, n);
	test_assert(msgs == NULL);

	test_begin("message dedupe");
	test_assert_int(store_message_find_dedupe(store, "dedupe-1", &found_mid, &found_tid, &error),
			1);
	test_assert_int(found_mid, mid);
	test_assert_int(found_tid, old_id);
	test_assert_int(store_message_find_dedupe(store, "dedupe-2", &found_mid, &found_tid, &error),
			0);
	test_assert_int(store_message_count(store, &count, &error), 0);
	int64_t before_count = count;
	/* The row is visible to this writer (it committed it): a unique
	   violation of the call's own data, STORE_DATA_BAD on every driver and
	   no conflict. Only a row another writer committed after this one's
	   snapshot is a conflict (test-store-pg, docs/internals/store.md). */
	uint64_t conflicts = store_conflicts(store);
	m.ticket_id = other;
	error = NULL;
	test_assert_int(store_message_insert(store, &m, &mid, &error), STORE_DATA_BAD);
	test_assert(contains(error, "store: insert message: "));
	test_assert(contains(error, "dedupe_key"));
	test_assert(store_conflicts(store) == conflicts);
	test_assert_int(store_message_count(store, &count, &error), 0);
	test_assert_int(count, before_count);
	/* The failed insert left the other ticket alone. */
	test_assert_int(store_ticket_get(store, other, &t, &error), 1);
	test_assert(t != NULL && t->n_messages == 0);
	store_ticket_free(&t);

	test_begin("message invalid");
	const struct {
		int64_t ticket_id;
		const char *direction, *raw_sha256, *dedupe;
	} bad[] = {
		{ 999999, "in", NULL, "bad-1" },	 /* no such ticket */
		{ 0, "in", NULL, "bad-2" },		 /* no ticket */
		{ tid, "sideways", NULL, "bad-3" },	 /* direction */
		{ tid, NULL, NULL, "bad-4" },
		{ tid, "in", "../../etc/passwd", "bad-5" }, /* not a hash */
		{ tid, "in", "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		  "bad-6" },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct store_message b = { .ticket_id = bad[i].ticket_id,
					   .direction = bad[i].direction,
					   .raw_sha256 = bad[i].raw_sha256,
					   .dedupe_key = bad[i].dedupe };
		error = NULL;
		test_assert_int(store_message_insert(store, &b, NULL, &error), STORE_DATA_BAD);
		test_assert(str_starts_with(error != NULL ? error : "", "store: insert message: "));
	}
	test_assert_int(store_message_count(store, &count, &error), 0);
	test_assert_int(count, before_count);
	/* NULL dedupe keys never clash; NULL text is "". */
	struct store_message note = { .ticket_id = tid, .direction = "note" };
	test_assert_int(store_message_insert(store, &note, NULL, &error), 0);
	test_assert_int(store_message_insert(store, &note, NULL, &error), 0);
	test_assert_int(store_message_list(store, tid, &msgs, &n, &error), 0);
	test_assert_int(n, 2);
	crypto_sha256_hex("", 0, hex);
	if (n == 2) {
		test_assert_str(msgs[0].text, "");
		test_assert_str(msgs[0].text_sha256, hex);
		test_assert_str(msgs[0].dedupe_key, NULL);
		test_assert(msgs[0].id < msgs[1].id);
	}
	store_messages_free(&msgs, n);

	test_begin("threading look-ups");
	int64_t found = 0;
	test_assert_int(store_ticket_find_by_message_id(store, "abc@example.cn", &found, &error), 1);
	test_assert_int(found, old_id);
	test_assert_int(store_ticket_find_by_message_id(store, "ABC@example.cn", &found, &error), 0);
	test_assert_int(store_ticket_find_by_message_id(store, "nope@x", &found, &error), 0);
	crypto_sha256_hex(ZH_TEXT, strlen(ZH_TEXT), hex);
	const struct {
		const char *from;
		int64_t since;
		int ret;
	} same[] = {
		{ "wang@example.cn", 0, 1 },
		{ "WANG@EXAMPLE.CN", 0, 1 }, /* case-insensitive */
		{ "wang@example.cn", 4999, 1 },
		{ "wang@example.cn", 5000, 0 }, /* after `since` only */
		{ "li@example.cn", 0, 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(same); i++) {
		found = 0;
		test_assert_int(store_message_find_same_text(store, same[i].from, hex, same[i].since,
							     &found, &error),
				same[i].ret);
		if (same[i].ret == 1)
			test_assert_int(found, old_id);
	}
}

static void
test_attachments_participants(struct store *store)
{
	const char *error = NULL, *role = NULL;
	int64_t tid = new_ticket(store, "att"), aid = 0;
	int64_t mid = new_message(store, tid, "att-1", "see attached", NULL);
	struct store_attachment *atts = NULL;
	struct store_participant *parts = NULL;
	size_t n = 0;
	char hex[65];

	test_begin("attachments");
	crypto_sha256_hex("pdf", 3, hex);
	struct store_attachment a = {
		.message_row_id = mid,
		.filename = "\xe6\x94\xb6\xe6\x8d\xae.pdf",
		.content_type = "application/pdf",
		.content_id = "cid1@x",
		.sha256 = hex,
		.size = 3,
		.is_inline = 1,
	};
	test_assert_int(store_attachment_insert(store, &a, &aid, &error), 0);
	test_assert(aid > 0);
	a.is_inline = 0;
	a.filename = NULL;
	test_assert_int(store_attachment_insert(store, &a, NULL, &error), 0);
	test_assert_int(store_attachment_list(store, mid, &atts, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_int(atts[0].id, aid);
		test_assert_int(atts[0].message_row_id, mid);
		test_assert_str(atts[0].filename, "\xe6\x94\xb6\xe6\x8d\xae.pdf");
		test_assert_str(atts[0].content_type, "application/pdf");
		test_assert_str(atts[0].content_id, "cid1@x");
		test_assert_str(atts[0].sha256, hex);
		test_assert_int(atts[0].size, 3);
		test_assert_int(atts[0].is_inline, 1);
		test_assert_int(atts[1].is_inline, 0);
		test_assert_str(atts[1].filename, NULL);
	}
	store_attachments_free(&atts, n);
	test_assert(atts == NULL);
	a.sha256 = "nothex";
	test_assert_int(store_attachment_insert(store, &a, NULL, &error), STORE_DATA_BAD);
	a.sha256 = hex;
	a.message_row_id = 999999;
	test_assert_int(store_attachment_insert(store, &a, NULL, &error), STORE_DATA_BAD);
	test_assert_int(store_attachment_list(store, 999999, &atts, &n, &error), 0);
	test_assert_int(n, 0);
	test_assert(atts == NULL);

	test_begin("participants");
	const struct {
		const char *address, *name, *role;
		int ret;
	} adds[] = {
		{ "alice@example.com", NULL, "customer", 0 },
		{ "ALICE@example.COM", "Alice", "cc", 0 },  /* same: keeps role, gets name */
		{ "alice@example.com", "Other", "agent", 0 }, /* keeps name now */
		{ "bob@example.com", "Bob", "cc", 0 },
		{ "carol@example.com", "Carol", "agent", 0 },
		{ "dave@example.com", NULL, "boss", STORE_DATA_BAD },
		{ "dave@example.com", NULL, NULL, STORE_DATA_BAD },
		{ "", NULL, "cc", STORE_DATA_BAD },
		{ NULL, NULL, "cc", STORE_DATA_BAD },
	};
	for (size_t i = 0; i < N_ELEMENTS(adds); i++)
		test_assert_int(store_participant_add(store, tid, adds[i].address, adds[i].name,
						      adds[i].role, &error),
				adds[i].ret);
	test_assert_int(store_participant_add(store, 999999, "x@y", NULL, "cc", &error),
			STORE_DATA_BAD);
	test_assert_int(store_participant_list(store, tid, &parts, &n, &error), 0);
	test_assert_int(n, 3);
	if (n == 3) {
		test_assert_str(parts[0].address, "alice@example.com");
		test_assert_str(parts[0].name, "Alice");
		test_assert_str(parts[0].role, "customer");
		test_assert_int(parts[0].ticket_id, tid);
		test_assert_str(parts[1].address, "bob@example.com");
		test_assert_str(parts[2].role, "agent");
	}
	store_participants_free(&parts, n);
	test_assert(parts == NULL);
	const struct {
		const char *address;
		int ret;
		const char *role;
	} finds[] = {
		{ "Alice@Example.Com", 1, "customer" },
		{ "bob@example.com", 1, "cc" },
		{ "carol@example.com", 1, "agent" },
		{ "mallory@example.com", 0, NULL },
		{ "alice@example.com ", 0, NULL },
	};
	for (size_t i = 0; i < N_ELEMENTS(finds); i++) {
		role = NULL;
		test_assert_int(store_participant_find(store, tid, finds[i].address, &role, &error),
				finds[i].ret);
		test_assert_str(role, finds[i].role);
	}
	test_assert_int(store_participant_find(store, tid, "bob@example.com", NULL, &error), 1);
	test_assert_int(store_participant_find(store, tid + 1000, "bob@example.com", &role, &error),
			0);
}

static void
test_events_fields(struct store *store)
{
	const char *error = NULL;
	int64_t tid = new_ticket(store, "events");
	int64_t mid = new_message(store, tid, "ev-1", "order 12345", NULL);
	struct store_event *events = NULL;
	struct store_field *fields = NULL;
	size_t n = 0;
	time_t before = time(NULL);

	test_begin("events");
	test_assert_int(store_event_add(store, tid, "created", "from wang@example.cn", &error), 0);
	test_assert_int(store_event_add(store, tid, "warning", ZH_TEXT, &error), 0);
	test_assert_int(store_event_add(store, 0, "startup", NULL, &error), 0);
	test_assert_int(store_event_add(store, tid, "", "x", &error), STORE_DATA_BAD);
	test_assert_int(store_event_add(store, tid, NULL, "x", &error), STORE_DATA_BAD);
	test_assert_int(store_event_add(store, 999999, "created", "x", &error), STORE_DATA_BAD);
	test_assert_int(store_event_list(store, tid, &events, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_str(events[0].kind, "created");
		test_assert_str(events[0].detail, "from wang@example.cn");
		test_assert_int(events[0].ticket_id, tid);
		test_assert(events[0].at >= before && events[0].at <= time(NULL));
		test_assert_str(events[1].detail, ZH_TEXT);
		test_assert(events[0].id < events[1].id);
	}
	store_events_free(&events, n);
	test_assert(events == NULL);
	test_assert_int(store_event_list(store, 0, &events, &n, &error), 0);
	test_assert_int(n, 1);
	if (n == 1) {
		test_assert_str(events[0].kind, "startup");
		test_assert_int(events[0].ticket_id, 0);
		test_assert_str(events[0].detail, NULL);
	}
	store_events_free(&events, n);

	test_begin("ticket fields");
	test_assert_int(store_ticket_field_set(store, tid, "order_id", "12345", &error), 0);
	test_assert_int(store_ticket_field_set(store, tid, "tx_hash", "0xdeadbeef", &error), 0);
	test_assert_int(store_ticket_field_set(store, tid, "order_id", "67890", &error), 0);
	test_assert_int(store_ticket_field_set(store, tid, "amount", "1.5 BTC", &error), 0);
	test_assert_int(store_ticket_field_set(store, tid, "", "x", &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_field_set(store, tid, "x", NULL, &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_field_set(store, 999999, "x", "y", &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_field_list(store, tid, &fields, &n, &error), 0);
	test_assert_int(n, 3);
	if (n == 3) {
		test_assert_str(fields[0].name, "amount");
		test_assert_str(fields[1].name, "order_id");
		test_assert_str(fields[1].value, "67890");
		test_assert_str(fields[2].value, "0xdeadbeef");
	}
	store_fields_free(&fields, n);
	test_assert(fields == NULL);

	test_begin("rule hits");
	test_assert_int(store_rule_hit_add(store, tid, mid, "withdrawal-zh", "\xe6\x8f\x90\xe7\x8e\xb0",
					   &error),
			0);
	test_assert_int(store_rule_hit_add(store, tid, 0, "vip-sender", NULL, &error), 0);
	test_assert_int(store_rule_hit_add(store, tid, mid, "", "x", &error), STORE_DATA_BAD);
	test_assert_int(store_rule_hit_add(store, tid, 999999, "r", "x", &error), STORE_DATA_BAD);
	test_assert_int(store_rule_hit_list(store, tid, &fields, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_str(fields[0].name, "withdrawal-zh");
		test_assert_str(fields[0].value, "\xe6\x8f\x90\xe7\x8e\xb0");
		test_assert_str(fields[1].name, "vip-sender");
		test_assert_str(fields[1].value, NULL);
	}
	store_fields_free(&fields, n);
}

static void
test_quarantine(struct store *store)
{
	const char *error = NULL;
	struct store_quarantine *q = NULL, *qs = NULL;
	size_t n = 0;
	int64_t id = 0, id2 = 0, id3 = 0, tid = new_ticket(store, "released");
	int existed = -1;
	char hex[65], hex2[65];

	test_begin("quarantine insert");
	crypto_sha256_hex("bad mail", 8, hex);
	crypto_sha256_hex("other bad mail", 14, hex2);
	struct store_quarantine in = { .raw_sha256 = hex,
				       .raw_size = 8,
				       .reason = "header too large",
				       .source = "mailbox:INBOX uid:7" };
	test_assert_int(store_quarantine_insert(store, &in, &id, &existed, &error), 0);
	test_assert(id > 0);
	test_assert_int(existed, 0);
	in.reason = "another reason";
	test_assert_int(store_quarantine_insert(store, &in, &id2, &existed, &error), 0);
	test_assert_int(id2, id);
	test_assert_int(existed, 1);
	in.raw_sha256 = hex2;
	test_assert_int(store_quarantine_insert(store, &in, &id3, &existed, &error), 0);
	test_assert(id3 != id);
	test_assert_int(existed, 0);
	in.raw_sha256 = "../../etc/passwd";
	test_assert_int(store_quarantine_insert(store, &in, NULL, NULL, &error), STORE_DATA_BAD);
	in.raw_sha256 = hex;
	in.reason = NULL;
	test_assert_int(store_quarantine_insert(store, &in, NULL, NULL, &error), STORE_DATA_BAD);

	test_begin("quarantine get/status");
	test_assert_int(store_quarantine_get(store, id, &q, &error), 1);
	if (q != NULL) {
		test_assert_str(q->raw_sha256, hex);
		test_assert_int(q->raw_size, 8);
		test_assert_str(q->reason, "header too large");
		test_assert_str(q->source, "mailbox:INBOX uid:7");
		test_assert_str(q->status, "held");
		test_assert_int(q->ticket_id, 0);
		test_assert(q->created_at > 0);
	}
	store_quarantine_free(&q);
	test_assert(q == NULL);
	test_assert_int(store_quarantine_get(store, 999999, &q, &error), 0);
	test_assert_int(store_quarantine_set_status(store, id, "released", tid, &error), 0);
	test_assert_int(store_quarantine_set_status(store, id, "limbo", 0, &error), STORE_DATA_BAD);
	test_assert_int(store_quarantine_set_status(store, 999999, "dropped", 0, &error),
			STORE_DATA_BAD);
	test_assert_int(store_quarantine_set_status(store, id3, "dropped", 999999, &error),
			STORE_DATA_BAD);
	test_assert_int(store_quarantine_get(store, id, &q, &error), 1);
	test_assert(q != NULL && strcmp(q->status, "released") == 0 && q->ticket_id == tid);
	store_quarantine_free(&q);

	/* Released: the same mail quarantined again is a new entry. */
	in.reason = "again";
	int64_t id4 = 0;
	test_assert_int(store_quarantine_insert(store, &in, &id4, &existed, &error), 0);
	test_assert(id4 != id && id4 > 0);
	test_assert_int(existed, 0);
	/* Holding two entries of the same blob is refused. */
	test_assert_int(store_quarantine_set_status(store, id, "held", 0, &error), STORE_DATA_BAD);

	test_begin("quarantine list");
	const struct {
		const char *status;
		size_t n;
	} lists[] = { { NULL, 3 }, { "held", 2 }, { "released", 1 }, { "dropped", 0 } };
	for (size_t i = 0; i < N_ELEMENTS(lists); i++) {
		test_assert_int(store_quarantine_list(store, lists[i].status, &qs, &n, &error), 0);
		test_assert_int(n, lists[i].n);
		for (size_t k = 1; k < n; k++)
			test_assert(qs[k - 1].id > qs[k].id); /* newest first */
		store_quarantines_free(&qs, n);
		test_assert(qs == NULL);
	}
}

static void
test_mailbox(struct store *store)
{
	const char *error = NULL;
	uint32_t v = 1, u = 1;

	test_begin("mailbox checkpoints");
	test_assert_int(store_mailbox_get(store, "INBOX", &v, &u, &error), 0);
	test_assert_int(v, 0);
	test_assert_int(u, 0);
	test_assert_int(store_mailbox_set(store, "INBOX", 1234, 56, &error), 0);
	test_assert_int(store_mailbox_set(store, "\xe6\x94\xb6\xe4\xbb\xb6\xe7\xae\xb1", 4294967295u,
					  4294967295u, &error),
			0);
	test_assert_int(store_mailbox_get(store, "INBOX", &v, &u, &error), 0);
	test_assert_int(v, 1234);
	test_assert_int(u, 56);
	test_assert_int(store_mailbox_set(store, "INBOX", 1235, 1, &error), 0);
	test_assert_int(store_mailbox_get(store, "INBOX", &v, &u, &error), 0);
	test_assert_int(v, 1235);
	test_assert_int(u, 1);
	test_assert_int(store_mailbox_get(store, "\xe6\x94\xb6\xe4\xbb\xb6\xe7\xae\xb1", &v, &u,
					  &error),
			0);
	test_assert(v == 4294967295u && u == 4294967295u);
	test_assert_int(store_mailbox_get(store, "inbox", &v, &u, &error), 0);
	test_assert_int(v, 0);
}

static void
test_outbox(struct store *store)
{
	const char *error = NULL;
	struct store_outbox *o = NULL, *list = NULL;
	size_t n = 0;
	int64_t tid = new_ticket(store, "outbox"), id1 = 0, id2 = 0, id3 = 0, count = 0;
	int64_t now = (int64_t)time(NULL);
	static const unsigned char raw[] = "From: support@example.test\r\n\r\nhi\0binary";

	test_begin("outbox insert");
	struct store_outbox in = {
		.ticket_id = tid,
		.kind = "ack",
		.message_id = "dg.1@example.test",
		.envelope_from = "support@example.test",
		.recipients = "Alice@Example.com, bob@example.com",
		.raw = raw,
		.raw_size = sizeof(raw),
		.status = "sent", /* ignored */
		.attempts = 9,		  /* ignored */
	};
	test_assert_int(store_outbox_insert(store, &in, &id1, &error), 0);
	in.message_id = "dg.2@example.test";
	in.kind = "notify";
	in.recipients = "carol@example.com";
	in.next_attempt_at = now + 3600; /* not due yet */
	test_assert_int(store_outbox_insert(store, &in, &id2, &error), 0);
	in.message_id = "dg.3@example.test";
	in.ticket_id = 0;
	in.kind = "error";
	in.recipients = "alice@example.com";
	in.next_attempt_at = 0;
	in.created_at = now - 7200;
	test_assert_int(store_outbox_insert(store, &in, &id3, &error), 0);
	in.created_at = 0;

	const struct {
		const char *kind, *msgid, *recipients;
		int raw;
	} bad[] = {
		{ "ack", "dg.1@example.test", "x@y", 1 }, /* message_id unique */
		{ "spam", "dg.9@example.test", "x@y", 1 },
		{ "ack", NULL, "x@y", 1 },
		{ "ack", "dg.9@example.test", "", 1 },
		{ "ack", "dg.9@example.test", "x@y", 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct store_outbox b = in;
		b.kind = bad[i].kind;
		b.message_id = bad[i].msgid;
		b.recipients = bad[i].recipients;
		if (!bad[i].raw)
			b.raw = NULL;
		error = NULL;
		test_assert_int(store_outbox_insert(store, &b, NULL, &error), STORE_DATA_BAD);
		test_assert(str_starts_with(error != NULL ? error : "", "store: "));
	}

	test_begin("outbox get/find");
	test_assert_int(store_outbox_get(store, id1, &o, &error), 1);
	if (o != NULL) {
		test_assert_int(o->ticket_id, tid);
		test_assert_str(o->kind, "ack");
		test_assert_str(o->message_id, "dg.1@example.test");
		test_assert_str(o->envelope_from, "support@example.test");
		test_assert_str(o->recipients, "Alice@Example.com, bob@example.com");
		test_assert_int(o->raw_size, sizeof(raw));
		test_assert(o->raw != NULL && memcmp(o->raw, raw, sizeof(raw)) == 0);
		test_assert_str(o->status, "queued");
		test_assert_int(o->attempts, 0);
		test_assert(o->created_at >= now && o->next_attempt_at == o->created_at);
		test_assert_int(o->sent_at, 0);
		test_assert_str(o->last_error, NULL);
	}
	store_outbox_free(&o);
	test_assert(o == NULL);
	test_assert_int(store_outbox_get(store, 999999, &o, &error), 0);
	test_assert_int(store_outbox_find_by_message_id(store, "dg.3@example.test", &o, &error), 1);
	test_assert(o != NULL && o->id == id3 && o->ticket_id == 0 && o->raw != NULL);
	store_outbox_free(&o);
	test_assert_int(store_outbox_find_by_message_id(store, "dg.4@example.test", &o, &error), 0);
	int64_t found = 0;
	test_assert_int(store_ticket_find_by_message_id(store, "dg.2@example.test", &found, &error),
			1);
	test_assert_int(found, tid);
	test_assert_int(store_ticket_find_by_message_id(store, "dg.3@example.test", &found, &error),
			0); /* not about a ticket */

	test_begin("outbox due");
	test_assert_int(store_outbox_due(store, now + 10, 0, &list, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_int(list[0].id, id1);
		test_assert_int(list[1].id, id3);
		test_assert(list[0].raw != NULL && list[0].raw_size == sizeof(raw));
	}
	store_outboxes_free(&list, n);
	test_assert(list == NULL);
	test_assert_int(store_outbox_due(store, now + 10, 1, &list, &n, &error), 0);
	test_assert_int(n, 1);
	store_outboxes_free(&list, n);
	test_assert_int(store_outbox_due(store, now + 7200, 0, &list, &n, &error), 0);
	test_assert_int(n, 3);
	store_outboxes_free(&list, n);

	test_begin("outbox update");
	/* In flight (a crash while sending): due whatever next_attempt_at says. */
	test_assert_int(store_outbox_update(store, id2, "sending", 1, now + 99999, NULL, NULL,
					    &error),
			0);
	test_assert_int(store_outbox_update(store, id1, "queued", 1, now + 600,
					    "connection refused", "421 4.3.2", &error),
			0);
	test_assert_int(store_outbox_due(store, now + 10, 0, &list, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_int(list[0].id, id2);
		test_assert_str(list[0].status, "sending");
		test_assert_int(list[1].id, id3);
	}
	store_outboxes_free(&list, n);
	test_assert_int(store_outbox_update(store, id2, "sent", 2, 0, NULL, "250 2.0.0", &error), 0);
	test_assert_int(store_outbox_update(store, id3, "failed", 5, 0, "user unknown", "550 5.1.1",
					    &error),
			0);
	test_assert_int(store_outbox_update(store, id3, "lost", 5, 0, NULL, NULL, &error),
			STORE_DATA_BAD);
	test_assert_int(store_outbox_update(store, 999999, "sent", 1, 0, NULL, NULL, &error),
			STORE_DATA_BAD);
	test_assert_int(store_outbox_get(store, id2, &o, &error), 1);
	test_assert(o != NULL && strcmp(o->status, "sent") == 0 && o->sent_at >= now &&
		    o->attempts == 2);
	store_outbox_free(&o);
	test_assert_int(store_outbox_get(store, id1, &o, &error), 1);
	if (o != NULL) {
		test_assert_str(o->last_error, "connection refused");
		test_assert_str(o->last_code, "421 4.3.2");
		test_assert_int(o->next_attempt_at, now + 600);
		test_assert_int(o->sent_at, 0);
	}
	store_outbox_free(&o);
	test_assert_int(store_outbox_due(store, now + 10, 0, &list, &n, &error), 0);
	test_assert_int(n, 0);
	store_outboxes_free(&list, n);

	test_begin("outbox list");
	const struct {
		const char *status;
		size_t limit, n;
	} lists[] = {
		{ NULL, 0, 3 }, { NULL, 2, 2 }, { "sent", 0, 1 }, { "queued", 0, 1 },
		{ "cancelled", 0, 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(lists); i++) {
		test_assert_int(store_outbox_list(store, lists[i].status, lists[i].limit, &list, &n,
						  &error),
				0);
		test_assert_int(n, lists[i].n);
		for (size_t k = 0; k < n; k++) {
			test_assert(list[k].raw == NULL);
			test_assert_int(list[k].raw_size, sizeof(raw));
			if (k > 0)
				test_assert(list[k - 1].id > list[k].id);
		}
		store_outboxes_free(&list, n);
	}

	test_begin("outbox count_recent");
	const struct {
		const char *recipient, *kind;
		int64_t since, count;
	} counts[] = {
		{ "alice@example.com", NULL, 0, 2 },
		{ "ALICE@EXAMPLE.COM", NULL, 0, 2 },
		{ "alice@example.com", NULL, now - 60, 1 },
		{ "alice@example.com", "ack", 0, 1 },
		{ "alice@example.com", "notify", 0, 0 },
		{ "bob@example.com", NULL, 0, 1 },
		{ "carol@example.com", "notify", 0, 1 },
		{ "example.com", NULL, 0, 0 },	 /* whole addresses only */
		{ "ob@example.com", NULL, 0, 0 },
		{ "%", NULL, 0, 0 },		 /* no wildcards */
		{ "", NULL, 0, 0 },
		{ "dave@example.com", NULL, 0, 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(counts); i++) {
		count = -1;
		test_assert_int(store_outbox_count_recent(store, counts[i].recipient, counts[i].kind,
							  counts[i].since, &count, &error),
				0);
		test_assert_int(count, counts[i].count);
	}
}

/* The claim is the in-flight mark (issue 18): when it returns, the row in
   the store is already "sending" with attempts + 1 and nothing else of it
   changed, while the caller gets the attempts as they were (what putting
   the row back writes). Before, the claim left attempts alone and the
   outbox marked them in a commit of its own. Both drivers. */
static void
test_outbox_claim(void)
{
	const char *error = NULL;
	struct store *store = open_fresh("claim");
	test_begin("outbox claim marks in flight");
	test_assert(store != NULL);
	if (store == NULL)
		return;
	int64_t now = (int64_t)time(NULL), tid = new_ticket(store, "claim"), id = 0, id2 = 0;
	static const unsigned char raw[] = "From: support@example.test\r\n\r\nhi";
	struct store_outbox in = {
		.ticket_id = tid,
		.kind = "ack",
		.message_id = "claim.1@example.test",
		.envelope_from = "support@example.test",
		.recipients = "alice@example.com",
		.raw = raw,
		.raw_size = sizeof(raw),
	};
	test_assert_int(store_outbox_insert(store, &in, &id, &error), 0);
	in.message_id = "claim.2@example.test";
	test_assert_int(store_outbox_insert(store, &in, &id2, &error), 0);
	/* a row deferred twice, due now */
	test_assert_int(store_outbox_update(store, id, "queued", 2, now - 5, "try later",
					    "421 4.3.2", &error),
			0);
	test_assert_int(store_lease_acquire(store, "gateway:A", "A", now, 30, NULL, &error), 1);
	struct store_outbox *list = NULL, *o = NULL;
	size_t n = 0;
	test_assert_int(store_outbox_claim(store, "A", now, now + 300, 10, &list, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_int(list[0].id, id);
		test_assert_str(list[0].status, "sending");
		test_assert_int(list[0].attempts, 2); /* as it was before the claim */
		test_assert_int(list[1].attempts, 0);
	}
	test_assert_int(store_outbox_get(store, id, &o, &error), 1);
	if (o != NULL) {
		test_assert_str(o->status, "sending");
		test_assert_int(o->attempts, 3);
		test_assert_int(o->next_attempt_at, now - 5);
		test_assert_str(o->last_error, "try later");
		test_assert_str(o->last_code, "421 4.3.2");
		test_assert_int(o->sent_at, 0);
	}
	store_outbox_free(&o);
	test_assert_int(store_outbox_get(store, id2, &o, &error), 1);
	test_assert(o != NULL && strcmp(o->status, "sending") == 0 && o->attempts == 1);
	store_outbox_free(&o);
	/* put back as it was (outbox.c put_back()): queued, attempt not counted */
	if (n == 2)
		test_assert_int(store_outbox_update(store, id, "queued", list[0].attempts,
						    list[0].next_attempt_at, list[0].last_error,
						    list[0].last_code, &error),
				0);
	store_outboxes_free(&list, n);
	test_assert_int(store_outbox_get(store, id, &o, &error), 1);
	test_assert(o != NULL && strcmp(o->status, "queued") == 0 && o->attempts == 2);
	store_outbox_free(&o);
	/* its claimer dead, id2 is claimed again: another attempt, a resend */
	test_assert_int(store_lease_release(store, NULL, "A", &error), 0);
	test_assert_int(store_outbox_claim(store, "B", now, now + 300, 10, &list, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2)
		test_assert_int(list[1].attempts, 1);
	store_outboxes_free(&list, n);
	test_assert_int(store_outbox_get(store, id2, &o, &error), 1);
	test_assert(o != NULL && strcmp(o->status, "sending") == 0 && o->attempts == 2);
	store_outbox_free(&o);
	int64_t resends = 0;
	test_assert_int(store_outbox_resends(store, &resends, &error), 0);
	test_assert_int(resends, 1);
	store_close(&store);
}

static void
test_transactions(struct store *store)
{
	const char *error = NULL;
	int64_t before = 0, after = 0, tid;
	struct store_ticket *t = NULL;

	test_begin("rollback discards");
	test_assert_int(store_ticket_count(store, &before, &error), 0);
	test_assert_int(store_begin(store, &error), 0);
	error = NULL;
	test_assert_int(store_begin(store, &error), -1); /* nested */
	test_assert(contains(error, "already"));
	tid = new_ticket(store, "rolled back");
	test_assert(tid > 0);
	new_message(store, tid, "rb-1", "gone", NULL);
	test_assert_int(store_event_add(store, tid, "created", NULL, &error), 0);
	test_assert_int(store_mailbox_set(store, "RB", 1, 2, &error), 0);
	test_assert_int(store_ticket_count(store, &after, &error), 0);
	test_assert_int(after, before + 1); /* visible inside */
	store_rollback(store);
	test_assert_int(store_ticket_count(store, &after, &error), 0);
	test_assert_int(after, before);
	test_assert_int(store_ticket_get(store, tid, &t, &error), 0);
	test_assert_int(store_message_find_dedupe(store, "rb-1", NULL, NULL, &error), 0);
	uint32_t v = 9, u = 9;
	test_assert_int(store_mailbox_get(store, "RB", &v, &u, &error), 0);
	test_assert(v == 0 && u == 0);
	store_rollback(store); /* no transaction: harmless */

	test_begin("commit keeps");
	error = NULL;
	test_assert_int(store_commit(store, &error), -1);
	test_assert(contains(error, "no transaction"));
	test_assert_int(store_begin(store, &error), 0);
	tid = new_ticket(store, "committed");
	/* A failing statement inside a transaction does not end it. */
	test_assert_int(store_ticket_set(store, tid, "status", "bogus", &error), STORE_DATA_BAD);
	new_message(store, tid, "c-1", "kept", NULL);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(store_message_find_dedupe(store, "c-1", NULL, NULL, &error), 1);
	test_assert_int(store_ticket_count(store, &after, &error), 0);
	test_assert_int(after, before + 1);
	/* And another transaction works after a commit. */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_commit(store, &error), 0);

	test_begin("units inside a transaction");
	error = NULL;
	test_assert_int(store_unit_begin(store, &error), -1); /* needs a transaction */
	test_assert_int(store_ticket_count(store, &before, &error), 0);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_unit_begin(store, &error), 0);
	int64_t kept = new_ticket(store, "unit kept");
	test_assert_int(store_unit_end(store, &error), 0);
	test_assert_int(store_unit_begin(store, &error), 0);
	int64_t undone = new_ticket(store, "unit undone");
	/* Hostile data the schema refuses is reported as a data error. */
	test_assert_int(store_participant_add(store, undone, "", NULL, "customer", &error),
			STORE_DATA_BAD);
	test_assert_int(store_unit_undo(store, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(store_ticket_get(store, kept, &t, &error), 1);
	store_ticket_free(&t);
	test_assert_int(store_ticket_get(store, undone, &t, &error), 0);
	test_assert_int(store_ticket_count(store, &after, &error), 0);
	test_assert_int(after, before + 1);
}

/* Attachments stored once (issue 18): a range of the raw blob, checked
   when put, decoded when read; anything else a blob of its own. */
static void
test_blob_ranges(struct store *store)
{
	static const char raw[] = "From: a@x.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
				  "--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n"
				  "--b\r\n\r\nplain bytes\r\n--b--\r\n";
	const char *error = NULL;
	char raw_hex[65], hex[65], want[65];
	unsigned char *data = NULL;
	size_t len = 0;
	const char *b64 = strstr(raw, "aGVsbG8g"), *plain = strstr(raw, "plain bytes");

	test_begin("blob ranges: base64 kept as a range, read decoded");
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, raw, strlen(raw), raw_hex, &error), 0);
	struct store_blob_range r = { .offset = b64 - raw, .length = 20, .encoding = MIME_RAW_BASE64,
				      .size = 11 };
	memcpy(r.raw_sha256, raw_hex, sizeof(r.raw_sha256));
	test_assert_int(store_blob_put_range(store, (const unsigned char *)raw, strlen(raw), &r,
					     "hello world", 11, hex, &error), 0);
	crypto_sha256_hex("hello world", 11, want);
	test_assert_str(hex, want);
	struct store_blob_range got;
	test_assert_int(store_blob_range_get(store, hex, &got, &error), 1);
	test_assert_str(got.raw_sha256, raw_hex);
	test_assert_int(got.offset, b64 - raw);
	test_assert_int(got.length, 20);
	test_assert_int(got.encoding, MIME_RAW_BASE64);
	test_assert_int(got.size, 11);
	char *path = store_blob_path(store, STORE_BLOB_ATTACHMENT, hex);
	test_assert(path != NULL && access(path, F_OK) != 0); /* no decoded copy */
	free(path);
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex, &data, &len, &error), 0);
	test_assert(len == 11 && data != NULL && memcmp(data, "hello world", 12) == 0);
	free(data);

	test_begin("blob ranges: the same bytes again are not kept again");
	struct store_blob_range r2 = r;
	r2.offset = plain - raw; /* a range elsewhere: the first one stays */
	test_assert_int(store_blob_put_range(store, (const unsigned char *)raw, strlen(raw), &r2,
					     "hello world", 11, hex, &error), 0);
	test_assert_int(store_blob_range_get(store, hex, &got, &error), 1);
	test_assert_int(got.offset, b64 - raw);

	test_begin("blob ranges: identity");
	struct store_blob_range ri = { .offset = plain - raw, .length = 11,
				       .encoding = MIME_RAW_IDENTITY, .size = 11 };
	memcpy(ri.raw_sha256, raw_hex, sizeof(ri.raw_sha256));
	test_assert_int(store_blob_put_range(store, (const unsigned char *)raw, strlen(raw), &ri,
					     "plain bytes", 11, hex, &error), 0);
	test_assert_int(store_blob_range_get(store, hex, &got, &error), 1);
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex, &data, &len, &error), 0);
	test_assert(len == 11 && memcmp(data, "plain bytes", 11) == 0);
	free(data);

	/* A range that does not decode to the bytes, or lies outside the raw
	   mail, or names no encoding: the bytes are kept as a blob. */
	static const struct {
		const char *what, *bytes;
		int64_t offset, length;
		int encoding;
	} bad[] = {
		{ "other bytes", "hello there", 0, 20, MIME_RAW_BASE64 },
		{ "outside", "hello again", 1 << 20, 20, MIME_RAW_BASE64 },
		{ "past the end", "hello past", 10, 1 << 20, MIME_RAW_IDENTITY },
		{ "no encoding", "hello none", 0, 10, MIME_RAW_NONE },
		{ "unknown encoding", "hello nine", 0, 10, 9 },
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		test_begin(bad[i].what);
		struct store_blob_range rb = { .offset = bad[i].offset, .length = bad[i].length,
					       .encoding = bad[i].encoding, .size = 11 };
		memcpy(rb.raw_sha256, raw_hex, sizeof(rb.raw_sha256));
		size_t n = strlen(bad[i].bytes);
		test_assert_int(store_blob_put_range(store, (const unsigned char *)raw, strlen(raw),
						     &rb, bad[i].bytes, n, hex, &error), 0);
		test_assert_int(store_blob_range_get(store, hex, &got, &error), 0);
		test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex, &data, &len,
					       &error), 0);
		test_assert(len == n && memcmp(data, bad[i].bytes, n) == 0);
		free(data);
	}
}

static void
test_blobs(struct store *store)
{
	const char *error = NULL;
	char hex[65], hex2[65], want[65];
	unsigned char *data = NULL;
	size_t len = 0;
	static const char body[] = "From: a@b\r\nSubject: " ZH_SUBJECT "\r\n\r\n" ZH_TEXT "\r\n";

	test_begin("blob put/get");
	syncfs_calls = 0;
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, body, strlen(body), hex, &error), 0);
	crypto_sha256_hex(body, strlen(body), want);
	test_assert_str(hex, want);
	char *path = store_blob_path(store, STORE_BLOB_RAW, hex);
	char *want_path = xasprintf("%s/blobs/raw/%.2s/%s", tmpdir, hex, hex);
	test_assert_str(path, want_path);
	test_assert_int(file_mode(path), 0600);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &len, &error), 0);
	test_assert_int(len, strlen(body));
	test_assert(data != NULL && memcmp(data, body, len) == 0 && data[len] == '\0');
	free(data);
	/* Idempotent: same name, file kept (same inode). */
	struct stat st1, st2;
	test_assert_int(stat(path, &st1), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, body, strlen(body), hex2, &error), 0);
	test_assert_str(hex2, hex);
	test_assert_int(stat(path, &st2), 0);
	test_assert(st1.st_ino == st2.st_ino);
	/* The other kind lives elsewhere. */
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex, &data, &len, &error), -1);
	test_assert(data == NULL);
	test_assert_int(store_blob_put(store, STORE_BLOB_ATTACHMENT, "", 0, hex2, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex2, &data, &len, &error), 0);
	test_assert_int(len, 0);
	free(data);
	char *att = store_blob_path(store, STORE_BLOB_ATTACHMENT, hex2);
	test_assert(contains(att, "/att/"));
	test_assert_int(file_mode(att), 0600);
	free(att);

	test_begin("blob corrupt");
	/* Same size, different bytes: get refuses it; a put of the real bytes
	   replaces the file (a crash can leave a renamed file of the right
	   size whose data never reached the disk: zeros, or other bytes),
	   inside a transaction or not; a short file is replaced too. */
	int syncfs_before = syncfs_calls;
	for (int in_txn = 0; in_txn <= 1; in_txn++) {
		int fd = open(path, O_WRONLY | O_TRUNC);
		test_assert(fd >= 0);
		for (size_t i = 0; i < strlen(body); i++)
			test_assert_int(write(fd, in_txn ? "\0" : "x", 1), 1);
		close(fd);
		error = NULL;
		test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &len, &error),
				STORE_UNAVAILABLE);
		test_assert(contains(error, "corrupt"));
		if (in_txn)
			test_assert_int(store_begin(store, &error), 0);
		test_assert_int(store_blob_put(store, STORE_BLOB_RAW, body, strlen(body), hex2,
					       &error),
				0);
		if (in_txn)
			test_assert_int(store_commit(store, &error), 0);
		test_assert_str(hex2, hex);
		data = NULL;
		test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &len, &error), 0);
		test_assert(data != NULL && len == strlen(body) && memcmp(data, body, len) == 0);
		free(data);
	}
	/* The replacement inside the transaction was flushed by its commit;
	   the counts below are about the blobs written after this. */
	test_assert_int(syncfs_calls, syncfs_before + 1);
	syncfs_calls = syncfs_before;
	int fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, body, strlen(body), hex2, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &len, &error), 0);
	free(data);

	test_begin("blob path validation");
	const struct {
		const char *hex;
		int ok;
	} names[] = {
		{ hex, 1 },
		{ "../../etc/passwd", 0 },
		{ "../../../../../../../../../../../../../../../../../../../../etc/passwd", 0 },
		{ "", 0 },
		{ NULL, 0 },
		{ "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", 0 },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", 0 },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", 0 },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde/", 0 },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", 0 },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", 0 },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1 },
	};
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		char *p = store_blob_path(store, STORE_BLOB_RAW, names[i].hex);
		test_assert_int(p != NULL, names[i].ok);
		if (p != NULL)
			test_assert(str_starts_with(p, tmpdir) && strstr(p, "..") == NULL);
		free(p);
		data = NULL;
		if (!names[i].ok) {
			test_assert_int(store_blob_get(store, STORE_BLOB_RAW, names[i].hex, &data, &len,
						       &error),
					STORE_DATA_BAD);
			test_assert(data == NULL);
		}
	}
	test_assert(store_blob_path(store, (enum store_blob_kind)7, hex) == NULL);

	test_begin("blob deferred in transaction");
	static const char body2[] = "deferred blob";
	test_assert_int(syncfs_calls, 0); /* outside a transaction: fsync() */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, body2, strlen(body2), hex2, &error),
			0);
	char *path2 = store_blob_path(store, STORE_BLOB_RAW, hex2);
	test_assert(access(path2, R_OK) == 0); /* in place before the commit */
	struct store_message m = { .ticket_id = new_ticket(store, "blob"),
				   .direction = "in",
				   .raw_sha256 = hex2,
				   .raw_size = strlen(body2),
				   .dedupe_key = "blob-1" };
	test_assert_int(store_message_insert(store, &m, NULL, &error), 0);
	char *db_path = xasprintf("%s/blobs/deskgate.db", tmpdir);
	syncfs_probe_db = db_path;
	test_assert_int(store_commit(store, &error), 0);
	syncfs_probe_db = NULL;
	test_assert_int(syncfs_calls, 1);    /* one flush for the batch */
	test_assert_int(syncfs_probe_rows, 0); /* ...before the COMMIT */
	test_assert_int(store_message_find_dedupe(store, "blob-1", NULL, NULL, &error), 1);
	free(db_path);
	test_assert(access(path2, R_OK) == 0);
	/* A transaction without blobs does not flush. */
	test_assert_int(store_begin(store, &error), 0);
	new_ticket(store, "no blob");
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(syncfs_calls, 1);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex2, &data, &len, &error), 0);
	test_assert(len == strlen(body2) && memcmp(data, body2, len) == 0);
	free(data);
	free(path2);
	/* No temporary files left behind. */
	char *tmp = xasprintf("%s/blobs/tmp", tmpdir);
	test_assert_int(dir_entries(tmp), 0);
	free(tmp);
	free(want_path);
	free(path);
}

static int
path_exists(const char *path)
{
	struct stat st;
	return path != NULL && stat(path, &st) == 0;
}

/* Blobs below blob_file_min are rows (issue 18): no file, no flush, in the
   caller's transaction (gone with its rollback or undone unit), checked on
   read; blobs at or above it stay files; blobs written as files by a store
   without the blobs table (main before migration 15) stay readable after
   the migration. */
static void
test_blobs_in_db(void)
{
	const char *error = NULL;
	char hex[65], big_hex[65], old_hex[65], want[65];
	unsigned char *data = NULL;
	size_t len = 0;
	static const char small[] = "From: a@b\r\nSubject: " ZH_SUBJECT "\r\n\r\n" ZH_TEXT "\r\n";
	char big[2048];
	memset(big, 'x', sizeof(big));

	test_begin("blob in the database: old layout first");
	struct store *store = open_fresh("dbblobs");
	test_assert(store != NULL);
	if (store == NULL)
		return;
	/* A store as main wrote it: every blob a file, no blobs table. */
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, "old", 3, old_hex, &error), 0);
	char *old_path = store_blob_path(store, STORE_BLOB_RAW, old_hex);
	test_assert(path_exists(old_path));
	store_close(&store);
	char *db_path = xasprintf("%s/dbblobs/deskgate.db", tmpdir);
	test_assert_int(sql_exec(db_path, "DROP TABLE blobs; PRAGMA user_version = 14"), 0);
	char *dir = path_in("dbblobs");
	test_assert_int(store_open(db_path, dir, &store, &error), 0);
	free(dir);
	if (store == NULL) {
		free(old_path);
		free(db_path);
		return;
	}
	test_assert(store_schema_version(store) >= 15);
	store_set_blob_file_min(store, 1024);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, old_hex, &data, &len, &error), 0);
	test_assert(len == 3 && data != NULL && memcmp(data, "old", 3) == 0);
	free(data);

	test_begin("blob in the database: small ones rows, large ones files");
	syncfs_calls = 0;
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, small, strlen(small), hex, &error), 0);
	crypto_sha256_hex(small, strlen(small), want);
	test_assert_str(hex, want);
	test_assert_int(store_blob_put(store, STORE_BLOB_ATTACHMENT, big, sizeof(big), big_hex,
				       &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(syncfs_calls, 1); /* the one large blob's file */
	char *path = store_blob_path(store, STORE_BLOB_RAW, hex);
	test_assert(!path_exists(path));
	char *big_path = store_blob_path(store, STORE_BLOB_ATTACHMENT, big_hex);
	test_assert(path_exists(big_path));
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &len, &error), 0);
	test_assert(len == strlen(small) && memcmp(data, small, len) == 0 && data[len] == '\0');
	free(data);
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, big_hex, &data, &len, &error),
			0);
	test_assert(len == sizeof(big) && memcmp(data, big, len) == 0);
	free(data);
	/* Idempotent; the kinds are apart; empty is a blob. */
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, small, strlen(small), hex, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex, &data, &len, &error), -1);
	test_assert(data == NULL);
	char empty_hex[65];
	test_assert_int(store_blob_put(store, STORE_BLOB_ATTACHMENT, "", 0, empty_hex, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, empty_hex, &data, &len,
				       &error), 0);
	test_assert(len == 0 && data != NULL && data[0] == '\0');
	free(data);

	test_begin("blob in the database: rolled back with its transaction");
	static const char gone[] = "rolled back";
	char gone_hex[65];
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, gone, strlen(gone), gone_hex, &error),
			0);
	store_rollback(store);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, gone_hex, &data, &len, &error), -1);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_unit_begin(store, &error), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, gone, strlen(gone), gone_hex, &error),
			0);
	test_assert_int(store_unit_undo(store, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, gone_hex, &data, &len, &error), -1);
	test_assert_int(store_commit(store, &error), 0);

	test_begin("blob in the database: corrupt row refused");
	char *sql = xasprintf("UPDATE blobs SET data = X'00' || data WHERE sha256 = '%s'", hex);
	test_assert_int(sql_exec(db_path, sql), 0);
	free(sql);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &len, &error),
			STORE_UNAVAILABLE);
	test_assert(data == NULL && contains(error, "corrupt"));

	store_close(&store);
	free(path);
	free(big_path);
	free(old_path);
	free(db_path);
}

/* A value larger than the database takes is the data's fault, not the
   store's: STORE_DATA_BAD (quarantine the message), never STORE_UNAVAILABLE
   (which would retry it forever), whether SQLite refuses it when it is
   bound or when the row is built; and the store goes on working. */
static void
test_too_big(void)
{
	const int limit = 4096;
	char *big = xmalloc((size_t)limit + 2), *half = xmalloc((size_t)limit / 2 + 200);
	const char *error = NULL;
	int64_t count = -1, before = -1, id = 0;

	test_begin("value too large: graded as data");
	memset(big, 'b', (size_t)limit + 1);
	big[limit + 1] = '\0';
	memset(half, 'h', (size_t)limit / 2 + 199);
	half[limit / 2 + 199] = '\0';
	sqlite_length_limit = limit;
	struct store *store = open_fresh("toobig");
	sqlite_length_limit = 0;
	test_assert(store != NULL);
	if (store == NULL)
		goto out;
	int64_t tid = new_ticket(store, "small");
	test_assert(tid > 0);

	/* Refused when bound. */
	struct store_ticket t = { .subject = big };
	error = NULL;
	test_assert_int(store_ticket_insert(store, &t, &id, &error), STORE_DATA_BAD);
	test_assert(contains(error, "store: insert ticket: "));
	test_assert(contains(error, "too big"));
	test_assert_int(store_message_count(store, &before, &error), 0);
	struct store_message m = { .ticket_id = tid, .direction = "in", .text = big,
				   .dedupe_key = "big-1" };
	test_assert_int(store_message_insert(store, &m, NULL, &error), STORE_DATA_BAD);
	test_assert_int(store_event_add(store, tid, "warning", big, &error), STORE_DATA_BAD);
	test_assert_int(store_participant_add(store, tid, "x@example.com", big, "cc", &error),
			STORE_DATA_BAD);
	test_assert_int(store_ticket_set(store, tid, "queue", big, &error), STORE_DATA_BAD);
	test_assert_int(store_ticket_field_set(store, tid, "order_id", big, &error),
			STORE_DATA_BAD);
	struct store_outbox o = { .ticket_id = tid, .kind = "ack", .message_id = "big@x",
				  .envelope_from = "support@example.test",
				  .recipients = "a@example.com",
				  .raw = (const unsigned char *)big, .raw_size = strlen(big) };
	test_assert_int(store_outbox_insert(store, &o, NULL, &error), STORE_DATA_BAD);
	struct store_quarantine q = { .raw_sha256 = NULL, .reason = big };
	char hex[65];
	crypto_sha256_hex("q", 1, hex);
	q.raw_sha256 = hex;
	test_assert_int(store_quarantine_insert(store, &q, NULL, NULL, &error), STORE_DATA_BAD);

	/* Each value fits, the row does not: refused when the row is built. */
	struct store_message m2 = { .ticket_id = tid, .direction = "in", .subject = half,
				    .text = half, .dedupe_key = "big-2" };
	error = NULL;
	test_assert_int(store_message_insert(store, &m2, NULL, &error), STORE_DATA_BAD);
	test_assert(contains(error, "store: insert message: "));
	test_assert_int(store_message_count(store, &count, &error), 0);
	test_assert_int(count, before);

	/* Inside a batch, the unit is undone and the batch goes on. */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_unit_begin(store, &error), 0);
	new_message(store, tid, "kept-before", "small", NULL);
	test_assert_int(store_unit_end(store, &error), 0);
	test_assert_int(store_unit_begin(store, &error), 0);
	new_message(store, tid, "undone", "small", NULL);
	test_assert_int(store_message_insert(store, &m, NULL, &error), STORE_DATA_BAD);
	test_assert_int(store_unit_undo(store, &error), 0);
	new_message(store, tid, "kept-after", "small", NULL);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(store_message_find_dedupe(store, "kept-before", NULL, NULL, &error), 1);
	test_assert_int(store_message_find_dedupe(store, "undone", NULL, NULL, &error), 0);
	test_assert_int(store_message_find_dedupe(store, "kept-after", NULL, NULL, &error), 1);
	test_assert_int(store_message_find_dedupe(store, "big-1", NULL, NULL, &error), 0);
	store_close(&store);
out:
	free(big);
	free(half);
}

static void
write_text(const char *path, const char *text, int mode)
{
	FILE *fp = fopen(path, "w");
	test_assert(fp != NULL);
	if (fp == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
	chmod(path, (mode_t)mode);
}

/* The same through the pipeline: a message with a value the store takes
   but cannot hold (a text longer than its limit) is quarantined whole,
   with the store's reason, and the mailbox goes on; a store that is
   unavailable would have made ingest_message() fail (retry forever). */
static void
test_ingest_refused(void)
{
	char *dir = path_in("ingest-refused");
	char *conf = xasprintf("%s/deskgate.conf", dir);
	char *secret = xasprintf("%s/secret", dir);
	char *db = xasprintf("%s/deskgate.db", dir);
	char *text = xasprintf("[general]\nstate_dir = %s\nhostname = desk.example.test\n"
			       "support_address = support@example.test\n[ack]\nenabled = no\n",
			       dir);
	struct config *config = NULL;
	struct store *store = NULL;
	struct ingest *ingest = NULL;
	const char *error = NULL;
	struct ingest_result res;
	int64_t count = -1;

	test_begin("ingest: a value too large quarantines the message");
	rm_tree(dir);
	test_assert_int(mkdir(dir, 0700), 0);
	write_text(conf, text, 0600);
	write_text(secret, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
		   0600);
	test_assert_int(config_load(conf, &config, &error), 0);
	sqlite_length_limit = 4096;
	if (config != NULL)
		test_assert_int(store_open(db, dir, &store, &error), 0);
	sqlite_length_limit = 0;
	if (store != NULL)
		test_assert_int(ingest_init(config, store, &ingest, &error), 0);
	if (ingest == NULL)
		goto out;

	struct buf mail;
	buf_init(&mail, 1 << 20);
	test_assert_int(buf_puts(&mail, "From: Wang <wang@example.cn>\r\nTo: support@example.test\r\n"
					"Subject: long\r\nMessage-ID: <long@example.cn>\r\n"
					"Date: Tue, 11 Mar 2025 10:00:00 +0800\r\n\r\n"),
			0);
	for (int i = 0; i < 200; i++)
		test_assert_int(buf_puts(&mail, "a line of a long customer text, again\r\n"), 0);
	struct ingest_source src = { .label = "test" };
	memset(&res, 0, sizeof(res));
	test_assert_int(ingest_message(ingest, mail.data, mail.len, &src, &res, &error), 0);
	test_assert_int(res.outcome, INGEST_QUARANTINED);
	test_assert(str_starts_with(res.reason, "store refused the message: store: insert "));
	test_assert(contains(res.reason, "too big"));
	test_assert_int(store_ticket_count(store, &count, &error), 0);
	test_assert_int(count, 0); /* the unit was undone */
	struct store_quarantine *q = NULL;
	test_assert_int(store_quarantine_get(store, res.quarantine_id, &q, &error), 1);
	unsigned char *raw = NULL;
	size_t len = 0;
	if (q != NULL)
		test_assert_int(store_blob_get(store, STORE_BLOB_RAW, q->raw_sha256, &raw, &len,
					       &error),
				0);
	test_assert(raw != NULL && len == mail.len && memcmp(raw, mail.data, len) == 0);
	free(raw);
	store_quarantine_free(&q);
	buf_free(&mail);

	/* And the next message is stored as usual. */
	static const char small[] = "From: li@example.cn\r\nTo: support@example.test\r\n"
				    "Subject: short\r\nMessage-ID: <short@example.cn>\r\n\r\nhi\r\n";
	test_assert_int(ingest_message(ingest, (const unsigned char *)small, strlen(small), &src,
				       &res, &error),
			0);
	test_assert_int(res.outcome, INGEST_NEW_TICKET);
out:
	ingest_free(&ingest);
	store_close(&store);
	config_free(&config);
	free(text);
	free(db);
	free(secret);
	free(conf);
	free(dir);
}

/* The other grade: the store cannot do it now (another process holds the
   write lock, a directory of the state is gone). Such a failure is
   STORE_UNAVAILABLE, never STORE_DATA_BAD (which would quarantine good
   mail), and the same call succeeds once the cause is gone. */
static void
test_unavailable(void)
{
	char *dir = path_in("unavailable");
	char *db = xasprintf("%s/deskgate.db", dir);
	char *tmp = xasprintf("%s/tmp", dir);
	const char *error = NULL;
	char hex[65];
	sqlite3 *other = NULL;

	test_begin("unavailable: locked database");
	sqlite_busy_ms = 50;
	struct store *store = open_fresh("unavailable");
	sqlite_busy_ms = 0;
	test_assert(store != NULL);
	if (store == NULL)
		goto out;
	test_assert_int(sqlite3_open(db, &other), SQLITE_OK);
	test_assert_int(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	error = NULL;
	test_assert_int(store_begin(store, &error), STORE_UNAVAILABLE);
	test_assert(contains(error, "locked"));
	struct store_ticket t = { .subject = "waits for the lock" };
	test_assert_int(store_ticket_insert(store, &t, NULL, &error), STORE_UNAVAILABLE);
	test_assert_int(store_event_add(store, 0, "x", "y", &error), STORE_UNAVAILABLE);
	test_assert_int(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_ticket_insert(store, &t, NULL, &error), 0);
	test_assert_int(store_commit(store, &error), 0);

	test_begin("unavailable: state directory damaged");
	rm_tree(tmp);
	error = NULL;
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, "blob", 4, hex, &error),
			STORE_UNAVAILABLE);
	test_assert(contains(error, tmp));
	test_assert_int(mkdir(tmp, 0700), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, "blob", 4, hex, &error), 0);
	char *path = store_blob_path(store, STORE_BLOB_RAW, hex);
	test_assert(path != NULL && unlink(path) == 0);
	free(path);
	unsigned char *data = NULL;
	size_t len = 0;
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &len, &error),
			STORE_UNAVAILABLE);
	test_assert(data == NULL);

	test_begin("unavailable: misuse of transactions");
	test_assert_int(store_commit(store, &error), STORE_UNAVAILABLE);
	test_assert_int(store_unit_begin(store, &error), STORE_UNAVAILABLE);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_begin(store, &error), STORE_UNAVAILABLE);
	store_rollback(store);
	test_assert_int(store_blob_put(store, (enum store_blob_kind)9, "x", 1, hex, &error),
			STORE_DATA_BAD);
out:
	sqlite3_close(other);
	store_close(&store);
	free(tmp);
	free(db);
	free(dir);
}

/* A process dies in the middle of a transaction: after reopening, what it
   committed is there and what it did not is not. */
static void
test_crash(void)
{
	char *dir = path_in("crash");
	char *db = test_store_location(dir, "crash");
	struct store *store = NULL;
	const char *error;
	int64_t count = -1;
	pid_t pid;
	int status = 0;

	test_begin("crash without commit");
	rm_tree(dir);
	test_assert(db != NULL);
	if (db == NULL)
		return;
	test_assert_int(store_open(db, dir, &store, &error), 0);
	store_close(&store);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct store *s = NULL;
		int64_t id;
		if (store_open(db, dir, &s, &error) < 0)
			_exit(2);
		struct store_ticket t = { .subject = "committed" };
		struct store_message m = { .direction = "in", .dedupe_key = "k1" };
		if (store_begin(s, &error) < 0 || store_ticket_insert(s, &t, &id, &error) < 0)
			_exit(3);
		m.ticket_id = id;
		if (store_message_insert(s, &m, NULL, &error) < 0 || store_commit(s, &error) < 0)
			_exit(4);
		t.subject = "lost";
		m.dedupe_key = "k2";
		if (store_begin(s, &error) < 0 || store_ticket_insert(s, &t, &id, &error) < 0)
			_exit(5);
		m.ticket_id = id;
		if (store_message_insert(s, &m, NULL, &error) < 0)
			_exit(6);
		_exit(0); /* no commit, no close */
	}
	test_assert(pid > 0);
	test_assert_int(waitpid(pid, &status, 0), pid);
	test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	test_assert_int(store_open(db, dir, &store, &error), 0);
	if (store != NULL) {
		struct store_ticket *list = NULL;
		size_t n = 0;
		test_assert_int(store_ticket_count(store, &count, &error), 0);
		test_assert_int(count, 1);
		test_assert_int(store_message_count(store, &count, &error), 0);
		test_assert_int(count, 1);
		test_assert_int(store_message_find_dedupe(store, "k1", NULL, NULL, &error), 1);
		test_assert_int(store_message_find_dedupe(store, "k2", NULL, NULL, &error), 0);
		test_assert_int(store_ticket_list(store, 0, &list, &n, &error), 0);
		test_assert(n == 1 && strcmp(list[0].subject, "committed") == 0);
		store_tickets_free(&list, n);
		/* The database is writable again (no stale lock). */
		test_assert_int(store_begin(store, &error), 0);
		new_ticket(store, "after crash");
		test_assert_int(store_commit(store, &error), 0);
	}
	store_close(&store);
	free(db);
	free(dir);
}

#ifdef HAVE_POSTGRESQL
extern const struct store_driver store_pg_driver, store_pg_alias_driver;
#endif

/* Every entry of every driver's table is filled, and of its SLA table: an
   entry lost in a merge is a call through NULL at run time (it happened
   once: the desk's rate limits crashed ingest). The tables are function
   pointers only after the name and the SLA table. */
static void
check_entries(const char *name, const void *table, size_t first, size_t size)
{
	size_t n = (size - first) / sizeof(void (*)(void));
	test_assert((size - first) % sizeof(void (*)(void)) == 0);
	for (size_t i = 0; i < n; i++) {
		void (*f)(void);
		memcpy(&f, (const char *)table + first + i * sizeof(f), sizeof(f));
		if (f == NULL)
			printf("# %s: entry %zu (after the first) is NULL\n", name, i);
		test_assert(f != NULL);
	}
}

static void
test_driver_complete(void)
{
	const struct store_driver *drivers[] = {
		&store_sqlite_driver,
#ifdef HAVE_POSTGRESQL
		&store_pg_driver,
		&store_pg_alias_driver,
#endif
	};
	test_begin("driver tables complete");
	for (size_t i = 0; i < N_ELEMENTS(drivers); i++) {
		const struct store_driver *d = drivers[i];
		check_entries(d->name, d, offsetof(struct store_driver, open), sizeof(*d));
		test_assert(d->sla != NULL);
		if (d->sla != NULL)
			check_entries(d->name, d->sla, 0, sizeof(*d->sla));
	}
}

/* The suite every driver passes, against the server of
   DESKGATE_TEST_STORE_URL (tests/unit/test-store-pg.sh): what is about
   SQLite files (modes, journals, blob files, SQLite's limits and locks,
   its migrations) stays with SQLite; the PostgreSQL driver's own matters
   are in test-store-pg.c. */
static int
main_server(void)
{
	struct store *store;

	test_driver_complete();
	test_begin("recipients of a ticket's mail");
	store = open_fresh("recipients");
	test_assert(store != NULL);
	if (store != NULL) {
		int64_t t = 0, other = 0;
		add_recipients_fixture(store, &t, &other, "r");
		check_recipients(store, t, other);
		store_close(&store);
	}
	store = open_fresh("suite");
	test_assert(store != NULL);
	if (store != NULL) {
		test_tickets(store);
		test_messages(store);
		test_attachments_participants(store);
		test_events_fields(store);
		test_quarantine(store);
		test_mailbox(store);
		test_outbox(store);
		test_transactions(store);
		store_close(&store);
	}
	test_outbox_claim();
	test_crash();
	rm_tree(tmpdir);
	return test_exit();
}

int
main(void)
{
	struct store *store;

	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	if (test_store_url() != NULL)
		return main_server();
	test_driver_complete();
	test_open();
	test_migrate_assignee();
	test_migrate_outbox_rcpt();
	test_migrate_outbox_kinds();
	test_recipients();
	test_open_errors();
	store = open_fresh("blobs");
	test_assert(store != NULL);
	if (store != NULL) {
		test_tickets(store);
		test_messages(store);
		test_attachments_participants(store);
		test_events_fields(store);
		test_quarantine(store);
		test_mailbox(store);
		test_outbox(store);
		test_transactions(store);
		test_blobs(store);
		test_blob_ranges(store);
		store_close(&store);
	}
	test_outbox_claim();
	test_blobs_in_db();
	test_too_big();
	test_ingest_refused();
	test_unavailable();
	test_crash();
	rm_tree(tmpdir);
	return test_exit();
}
