/*
 * Unit tests of what is the PostgreSQL driver's own (gateway/store/
 * store-pg*.c), against the private server of tests/harness/postgres.sh
 * (run by tests/unit/test-store-pg.sh, which sets DESKGATE_TEST_STORE_URL
 * and DG_PG_PORT, DG_PG_PASSWORD): the password never in a message, blobs
 * as rows in the caller's transaction, two gateways writing the same key
 * (one commits, the other gets a retry, not a data error), migrations run
 * once when several processes open a new database together, a newer or a
 * foreign database refused, a lost connection recovered (also one killed
 * while a pipeline was being sent), a report streamed, blobs as files under
 * [store] blob_dir (store_set_blob_dir()).
 * The suite every driver passes is test-store, run against this server by
 * the same script.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/crypto.h"
#include "gateway/store.h"
#include "gateway/store/store-pg-sql.h"
#include "gateway/store/store-report.h"
#include "tests/unit/test-store-url.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-test-store-pg-XXXXXX";

static int
contains(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

/* psql against database db of the test server; 0 when it succeeded. */
static int
psql(const char *db, const char *sql)
{
	const char *conninfo = strchr(test_store_url(), ':') + 1;
	char *cmd = xasprintf("PGOPTIONS='-c client_min_messages=warning' psql -X -q -v "
			      "ON_ERROR_STOP=1 -d '%s dbname=%s' -c \"%s\" >/dev/null",
			      conninfo, db, sql);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* The first line psql prints for sql against db (caller frees), or NULL. */
static char *
psql_value(const char *db, const char *sql)
{
	const char *conninfo = strchr(test_store_url(), ':') + 1;
	char *cmd = xasprintf("psql -X -q -At -d '%s dbname=%s' -c \"%s\"", conninfo, db, sql);
	FILE *f = popen(cmd, "r");
	char line[256];
	char *ret = NULL;
	free(cmd);
	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		ret = xstrdup(line);
	}
	if (pclose(f) != 0) {
		free(ret);
		ret = NULL;
	}
	return ret;
}

static struct store *
open_db(const char *location)
{
	/* location: the caller's; open_new() takes a fresh one and frees it */
	struct store *store = NULL;
	const char *error = NULL;
	if (location == NULL || store_open(location, tmpdir, &store, &error) < 0)
		printf("# open: %s\n", error != NULL ? error : "no database");
	return store;
}

static struct store *
open_new(char *location)
{
	struct store *store = open_db(location);
	free(location);
	return store;
}

static int64_t
new_ticket(struct store *store, const char *subject)
{
	struct store_ticket t = { .subject = subject, .customer_address = "a@example.com" };
	int64_t id = 0;
	const char *error = NULL;
	if (store_ticket_insert(store, &t, &id, &error) < 0)
		printf("# ticket insert: %s\n", error);
	return id;
}

/* Statements are prepared on first use; PostgreSQL must read every one
   (a statement another helper adds to the SQLite driver is read as it is). */
static void
test_prepare_all(void)
{
	struct store *store = open_new(test_store_location(tmpdir, "prepare"));
	const char *error = NULL;

	test_begin("PostgreSQL reads every statement");
	test_assert(store != NULL);
	if (store == NULL)
		return;
	int ret = store_pg_prepare_all(store, &error);
	if (ret < 0)
		printf("# %s\n", error);
	test_assert_int(ret, 0);
	/* twice on one connection: those prepared are not prepared again */
	test_assert_int(store_pg_prepare_all(store, &error), 0);
	store_close(&store);
}

static void
test_secret(void)
{
	const char *port = getenv("DG_PG_PORT");
	struct store *store = NULL;
	const char *error = NULL;

	test_begin("the password is never in a message");
	test_assert(port != NULL);
	if (port == NULL)
		return;
	/* a wrong password: the server refuses it */
	char *url = xasprintf("postgresql://deskgate:Wr0ngS3cretXYZ@127.0.0.1:%s/deskgate", port);
	test_assert_int(store_open(url, tmpdir, &store, &error), -1);
	test_assert(contains(error, "cannot connect"));
	test_assert(!contains(error, "Wr0ngS3cretXYZ"));
	printf("# %s\n", error);
	free(url);
	/* a URI libpq cannot read: its own message would quote it */
	url = xasprintf("postgresql://deskgate:Wr0ngS3cretXYZ@127.0.0.1:%s/deskgate?nosuch=1", port);
	error = NULL;
	test_assert_int(store_open(url, tmpdir, &store, &error), -1);
	test_assert(error != NULL && !contains(error, "Wr0ngS3cretXYZ"));
	free(url);
	/* "postgres:" is accepted as libpq accepts it */
	const char *pw = getenv("DG_PG_PASSWORD");
	url = xasprintf("postgres://deskgate:%s@127.0.0.1:%s/deskgate", pw != NULL ? pw : "", port);
	test_assert_int(store_open(url, tmpdir, &store, &error), 0);
	store_close(&store);
	free(url);
}

static void
test_blobs(void)
{
	struct store *store = open_new(test_store_location(tmpdir, "blobs"));
	const char *error = NULL;
	static const char body[] = "From: a@b\r\n\r\n\xe6\x82\xa8\xe5\xa5\xbd\0binary\xff\r\n";
	const size_t len = sizeof(body) - 1;
	char hex[65], hex2[65], want[65];
	unsigned char *data = NULL;
	size_t got = 0;

	test_begin("blobs are rows");
	test_assert(store != NULL);
	if (store == NULL)
		return;
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, body, len, hex, &error), 0);
	crypto_sha256_hex(body, len, want);
	test_assert_str(hex, want);
	test_assert(store_blob_path(store, STORE_BLOB_RAW, hex) == NULL); /* no files */
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &got, &error), 0);
	test_assert(data != NULL && got == len && memcmp(data, body, len) == 0 && data[len] == 0);
	free(data);
	/* deduplicated: the same bytes again are the same blob */
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, body, len, hex2, &error), 0);
	test_assert_str(hex2, hex);
	/* the kinds are apart; an empty blob is a blob */
	data = NULL;
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex, &data, &got, &error),
			STORE_UNAVAILABLE);
	test_assert(data == NULL && contains(error, "missing"));
	test_assert_int(store_blob_put(store, STORE_BLOB_ATTACHMENT, "", 0, hex2, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_ATTACHMENT, hex2, &data, &got, &error), 0);
	test_assert(data != NULL && got == 0);
	free(data);

	test_begin("blobs in the caller's transaction");
	static const char gone[] = "rolled back", kept[] = "committed";
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, gone, strlen(gone), hex, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &got, &error), 0);
	free(data);
	store_rollback(store);
	data = NULL;
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &got, &error),
			STORE_UNAVAILABLE);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, kept, strlen(kept), hex, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &got, &error), 0);
	test_assert(data != NULL && got == strlen(kept));
	free(data);
	/* bytes that are not what their name says: corrupt, not served */
	char *sql = xasprintf("UPDATE blobs SET data = 'x' WHERE sha256 = '%s'", hex);
	test_assert_int(psql("dg_blobs", sql), 0);
	free(sql);
	data = NULL;
	test_assert_int(store_blob_get(store, STORE_BLOB_RAW, hex, &data, &got, &error),
			STORE_UNAVAILABLE);
	test_assert(data == NULL && contains(error, "corrupt"));
	store_close(&store);
}

/* 1 when blob (kind, hex) is a row of db whose data has `bytes` bytes. */
static int
row_bytes_are(const char *db, int kind, const char *hex, const char *bytes)
{
	char *sql = xasprintf("SELECT length(data) FROM blobs WHERE kind = %d AND sha256 = '%s'",
			      kind, hex);
	char *v = psql_value(db, sql);
	int ret = v != NULL && strcmp(v, bytes) == 0;
	if (!ret)
		printf("# blob %s: data length %s, want %s\n", hex, v != NULL ? v : "(none)", bytes);
	free(v);
	free(sql);
	return ret;
}

/* A store of location with blob_dir set, or NULL. */
static struct store *
open_blob_dir(const char *location, const char *dir)
{
	struct store *store = open_db(location);
	const char *error = NULL;
	if (store != NULL && store_set_blob_dir(store, dir, &error) < 0) {
		printf("# blob_dir: %s\n", error);
		store_close(&store);
	}
	return store;
}

/* [store] blob_dir: the bytes are a file there, the row holds none; a
   second gateway reads it; a blob written as a row before still reads; a
   message with an attachment round-trips; without blob_dir such a blob
   is a clear error, not "corrupt". */
static void
test_blob_dir(void)
{
	char *loc = test_store_location(tmpdir, "blobdir");
	char *dir = xasprintf("%s/shared-blobs", tmpdir);
	static const char old[] = "written as a row before blob_dir was set";
	static const char body[] = "From: a@b\r\nSubject: blob_dir\r\n\r\n\xe6\x82\xa8\0\xff\r\n";
	static const char att[] = "%PDF-1.4 statement\0\x01\x02";
	const size_t len = sizeof(body) - 1, att_len = sizeof(att) - 1;
	char old_hex[65], hex[65], hex2[65], att_hex[65];
	unsigned char *data = NULL;
	size_t got = 0;
	const char *error = NULL;
	struct stat st;

	test_begin("blob_dir: blobs are files, rows hold no bytes");
	struct store *plain = open_db(loc);
	test_assert(plain != NULL);
	if (plain == NULL)
		goto out;
	test_assert_int(store_blob_put(plain, STORE_BLOB_RAW, old, strlen(old), old_hex, &error), 0);
	store_close(&plain);

	struct store *a = open_blob_dir(loc, dir), *b = open_blob_dir(loc, dir);
	test_assert(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		store_close(&a);
		store_close(&b);
		goto out;
	}
	test_assert(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 077) == 0);
	test_assert_int(store_begin(a, &error), 0);
	test_assert_int(store_blob_put(a, STORE_BLOB_RAW, body, len, hex, &error), 0);
	test_assert_int(store_commit(a, &error), 0);
	char *path = store_blob_path(a, STORE_BLOB_RAW, hex);
	char *want_path = xasprintf("%s/raw/%.2s/%s", dir, hex, hex);
	test_assert(path != NULL && strcmp(path, want_path) == 0);
	test_assert(path != NULL && stat(path, &st) == 0 && (size_t)st.st_size == len);
	free(path);
	free(want_path);
	test_assert(row_bytes_are("dg_blobdir", STORE_BLOB_RAW, hex, "0"));
	test_assert_int(store_blob_get(a, STORE_BLOB_RAW, hex, &data, &got, &error), 0);
	test_assert(data != NULL && got == len && memcmp(data, body, len) == 0 && data[len] == 0);
	free(data);
	/* deduplicated */
	test_assert_int(store_blob_put(a, STORE_BLOB_RAW, body, len, hex2, &error), 0);
	test_assert_str(hex2, hex);
	/* an empty blob is a blob under blob_dir too */
	test_assert_int(store_blob_put(a, STORE_BLOB_ATTACHMENT, "", 0, hex2, &error), 0);
	data = NULL;
	test_assert_int(store_blob_get(b, STORE_BLOB_ATTACHMENT, hex2, &data, &got, &error), 0);
	test_assert(data != NULL && got == 0);
	free(data);

	test_begin("blob_dir: another gateway reads it; old rows still read");
	data = NULL;
	test_assert_int(store_blob_get(b, STORE_BLOB_RAW, hex, &data, &got, &error), 0);
	test_assert(data != NULL && got == len && memcmp(data, body, len) == 0);
	free(data);
	data = NULL;
	test_assert_int(store_blob_get(b, STORE_BLOB_RAW, old_hex, &data, &got, &error), 0);
	test_assert(data != NULL && got == strlen(old) && memcmp(data, old, got) == 0);
	free(data);
	test_assert(row_bytes_are("dg_blobdir", STORE_BLOB_RAW, old_hex, "40"));
	/* a file whose bytes are not its name: corrupt, not served */
	path = store_blob_path(b, STORE_BLOB_RAW, hex);
	FILE *f = path != NULL ? fopen(path, "w") : NULL;
	test_assert(f != NULL);
	if (f != NULL) {
		fputs("tampered", f);
		fclose(f);
	}
	data = NULL;
	test_assert_int(store_blob_get(b, STORE_BLOB_RAW, hex, &data, &got, &error),
			STORE_UNAVAILABLE);
	test_assert(data == NULL);
	/* put again repairs it (the file is replaced when its bytes differ) */
	test_assert_int(store_blob_put(a, STORE_BLOB_RAW, body, len, hex2, &error), 0);
	test_assert_int(store_blob_get(b, STORE_BLOB_RAW, hex, &data, &got, &error), 0);
	free(data);
	free(path);

	test_begin("blob_dir: a message with an attachment round-trips");
	test_assert_int(store_begin(a, &error), 0);
	int64_t tid = new_ticket(a, "blob_dir"), mid = 0, aid = 0;
	test_assert_int(store_blob_put(a, STORE_BLOB_ATTACHMENT, att, att_len, att_hex, &error), 0);
	struct store_message m = { .ticket_id = tid, .direction = "in", .subject = "blob_dir",
				   .text = "see attached", .raw_sha256 = hex,
				   .raw_size = (int64_t)len, .dedupe_key = "blobdir-1",
				   .mailbox = "ingest" };
	test_assert_int(store_message_insert(a, &m, &mid, &error), 0);
	struct store_attachment at = { .message_row_id = mid, .filename = "statement.pdf",
				       .content_type = "application/pdf", .sha256 = att_hex,
				       .size = (int64_t)att_len };
	test_assert_int(store_attachment_insert(a, &at, &aid, &error), 0);
	test_assert_int(store_commit(a, &error), 0);
	struct store_attachment *atts = NULL;
	size_t n = 0;
	test_assert_int(store_attachment_list(b, mid, &atts, &n, &error), 0);
	test_assert(n == 1 && atts != NULL && strcmp(atts[0].sha256, att_hex) == 0);
	data = NULL;
	if (n == 1)
		test_assert_int(store_blob_get(b, STORE_BLOB_ATTACHMENT, atts[0].sha256, &data,
					       &got, &error), 0);
	test_assert(data != NULL && got == att_len && memcmp(data, att, att_len) == 0);
	free(data);
	store_attachments_free(&atts, n);
	test_assert(row_bytes_are("dg_blobdir", STORE_BLOB_ATTACHMENT, att_hex, "0"));
	store_close(&a);
	store_close(&b);

	test_begin("blob_dir unset: a file blob is a clear error");
	plain = open_db(loc);
	test_assert(plain != NULL);
	data = NULL;
	if (plain != NULL)
		test_assert_int(store_blob_get(plain, STORE_BLOB_ATTACHMENT, att_hex, &data, &got,
					       &error), STORE_UNAVAILABLE);
	test_assert(data == NULL && contains(error, "blob_dir"));
	store_close(&plain);
out:
	free(loc);
	char *rm = xasprintf("rm -rf '%s'", dir);
	test_assert_int(system(rm), 0);
	free(rm);
	free(dir);
}

/* Two gateways take the same message at once: both look the dedupe key
   up (absent), both insert it; the second to write gets a retry
   (STORE_UNAVAILABLE), never a data error that would quarantine good
   mail, and on retry finds the first one's row. */
static void
test_concurrent(void)
{
	char *loc = test_store_location(tmpdir, "concurrent");
	struct store *a = open_db(loc), *b = open_db(loc);
	const char *error = NULL;
	int64_t mid, tid;

	test_begin("two writers, one key: a retry, then the duplicate");
	test_assert(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		goto out;
	int64_t ta = new_ticket(a, "a"), tb = new_ticket(b, "b");
	struct store_message m = { .direction = "in", .dedupe_key = "same-key", .text = "x" };
	test_assert_int(store_begin(a, &error), 0);
	test_assert_int(store_begin(b, &error), 0);
	test_assert_int(store_message_find_dedupe(a, "same-key", &mid, &tid, &error), 0);
	test_assert_int(store_message_find_dedupe(b, "same-key", &mid, &tid, &error), 0);
	m.ticket_id = ta;
	test_assert_int(store_message_insert(a, &m, NULL, &error), 0);
	test_assert_int(store_commit(a, &error), 0);
	m.ticket_id = tb;
	error = NULL;
	int ret = store_message_insert(b, &m, NULL, &error);
	if (ret == STORE_OK)
		ret = store_commit(b, &error);
	else
		store_rollback(b);
	printf("# second writer: %d %s\n", ret, error != NULL ? error : "");
	test_assert_int(ret, STORE_UNAVAILABLE);
	/* graded a conflict (another writer won), which the poller retries at
	   once, not a store failure it backs off from */
	test_assert(store_conflicts(b) == 1 && store_conflicts(a) == 0);
	/* the retry of the batch takes the duplicate path */
	test_assert_int(store_begin(b, &error), 0);
	test_assert_int(store_message_find_dedupe(b, "same-key", &mid, &tid, &error), 1);
	test_assert(tid == ta);
	store_rollback(b);

	/* The second writer never looked the key up (nothing made PostgreSQL
	   report 40001): the insert meets the first one's committed row as a
	   plain unique violation (23505). The row is not in its snapshot, so
	   another gateway wrote it: a conflict to retry, not bad data that
	   would quarantine good mail. */
	test_begin("a unique violation another writer caused is a conflict");
	int64_t count0 = -1;
	test_assert_int(store_begin(b, &error), 0);
	test_assert_int(store_ticket_count(b, &count0, &error), 0); /* the snapshot */
	m.ticket_id = ta;
	m.dedupe_key = "raced-key";
	test_assert_int(store_message_insert(a, &m, NULL, &error), 0);
	m.ticket_id = tb;
	error = NULL;
	ret = store_message_insert(b, &m, NULL, &error);
	printf("# unseen row: %d %s\n", ret, error != NULL ? error : "");
	test_assert_int(ret, STORE_UNAVAILABLE);
	test_assert(store_conflicts(b) == 2);
	store_rollback(b);
	test_assert_int(store_begin(b, &error), 0);
	test_assert_int(store_message_find_dedupe(b, "raced-key", &mid, &tid, &error), 1);
	test_assert(tid == ta);
	store_rollback(b);
	/* a row the writer can see (its own, or committed before it looked):
	   the call's own data, as in test-store's "message dedupe" */
	test_begin("a unique violation of the writer's own data stays bad data");
	test_assert_int(store_begin(b, &error), 0);
	m.dedupe_key = "twice-key";
	test_assert_int(store_message_insert(b, &m, NULL, &error), 0);
	test_assert_int(store_message_insert(b, &m, NULL, &error), STORE_DATA_BAD);
	test_assert(contains(error, "dedupe_key"));
	store_rollback(b);
	m.dedupe_key = "raced-key";
	test_assert_int(store_message_insert(b, &m, NULL, &error), STORE_DATA_BAD);
	test_assert(store_conflicts(b) == 2);

	test_begin("a lost connection fails the call, the next one reconnects");
	test_assert_int(psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
					 "WHERE datname = 'dg_concurrent' AND pid <> pg_backend_pid()"),
			0);
	int64_t count = -1;
	error = NULL;
	ret = store_ticket_count(a, &count, &error);
	test_assert(ret == STORE_OK || ret == STORE_UNAVAILABLE);
	if (ret < 0)
		printf("# after the server dropped us: %s\n", error);
	test_assert_int(store_ticket_count(a, &count, &error), 0);
	test_assert_int(count, 2);
	test_assert(store_conflicts(a) == 0); /* a lost connection is no conflict */
out:
	store_close(&a);
	store_close(&b);
	free(loc);
}

/* SIGKILL the server processes of database db: the connection ends with
   no message from the server (pg_terminate_backend() sends one first).
   The postmaster then restarts its other processes. */
static int
kill_backends(const char *db)
{
	const char *conninfo = strchr(test_store_url(), ':') + 1;
	char *cmd = xasprintf("for p in $(psql -X -At -d '%s dbname=postgres' -c \"SELECT pid FROM "
			      "pg_stat_activity WHERE datname = '%s'\"); do kill -9 $p; done; "
			      "for i in $(seq 100); do psql -X -At -d '%s dbname=postgres' -c "
			      "'SELECT 1' >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1",
			      conninfo, db, conninfo);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* The server drops the connection inside a transaction, while a statement
   goes out in libpq's pipeline mode (SAVEPOINT, the statement, RELEASE):
   the call fails as unavailable, and once the caller rolled back the next
   call reconnects; the connection is not left in pipeline mode, where
   every later statement would fail. */
static void
test_pipeline_killed(void)
{
	char *loc = test_store_location(tmpdir, "pipeline");
	struct store *store = open_db(loc);
	const char *error = NULL;
	int64_t count = -1;

	test_begin("a connection killed mid-pipeline: rollback, reconnect, go on");
	test_assert(store != NULL);
	if (store == NULL)
		goto out;
	test_assert_int(store_begin(store, &error), 0);
	test_assert(new_ticket(store, "before") > 0);
	test_assert_int(psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
					 "WHERE datname = 'dg_pipeline' AND pid <> pg_backend_pid()"),
			0);
	struct store_ticket t = { .subject = "lost", .customer_address = "a@example.com" };
	int64_t id = 0;
	error = NULL;
	test_assert_int(store_ticket_insert(store, &t, &id, &error), STORE_UNAVAILABLE);
	printf("# in the killed transaction: %s\n", error != NULL ? error : "");
	store_rollback(store);
	/* again with a statement larger than the socket's buffers, whose
	   sending fails before any reply */
	test_assert_int(store_ticket_count(store, &count, &error), 0);
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(kill_backends("dg_pipeline"), 0);
	size_t big_len = 16u << 20;
	char *big = xmalloc(big_len), hex[65];
	memset(big, 'x', big_len);
	error = NULL;
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, big, big_len, hex, &error),
			STORE_UNAVAILABLE);
	printf("# sending into the killed connection: %s\n", error != NULL ? error : "");
	free(big);
	store_rollback(store);
	/* twice: the first may only find the connection gone */
	for (int i = 0; i < 2; i++) {
		error = NULL;
		if (store_ticket_count(store, &count, &error) == STORE_OK)
			break;
		printf("# after the kill: %s\n", error);
	}
	test_assert_int(store_ticket_count(store, &count, &error), 0);
	test_assert_int(count, 0);
	/* a transaction works again, statements pipelined as before */
	test_assert_int(store_begin(store, &error), 0);
	test_assert(new_ticket(store, "after") > 0);
	test_assert(new_ticket(store, "after, again") > 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(store_ticket_count(store, &count, &error), 0);
	test_assert_int(count, 2);
out:
	store_close(&store);
	free(loc);
}

/* Several gateways start at once on a new database: every one opens it,
   and the schema is made once (an advisory lock; a second CREATE TABLE
   would fail the one that runs it). */
static void
test_migrate_once(void)
{
	char *loc = test_store_location(tmpdir, "migrate");
	enum { N = 4 };
	pid_t pids[N];

	test_begin("migrations run once when gateways start together");
	test_assert(loc != NULL);
	if (loc == NULL)
		return;
	fflush(stdout);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct store *s = NULL;
			const char *error;
			if (store_open(loc, tmpdir, &s, &error) < 0) {
				printf("# child: %s\n", error);
				_exit(1);
			}
			store_close(&s);
			_exit(0);
		}
	}
	for (int i = 0; i < N; i++) {
		int status = 0;
		test_assert_int(waitpid(pids[i], &status, 0), pids[i]);
		test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	struct store *store = open_db(loc);
	test_assert(store != NULL && store_schema_version(store) >= 1);
	store_close(&store);

	test_begin("a newer schema, a foreign database: refused");
	const char *error = NULL;
	test_assert_int(psql("dg_migrate", "UPDATE deskgate_schema SET version = 999"), 0);
	test_assert_int(store_open(loc, tmpdir, &store, &error), -1);
	test_assert(contains(error, "999") && contains(error, "newer"));
	free(loc);
	loc = test_store_location(tmpdir, "foreign");
	test_assert_int(psql("dg_foreign", "CREATE TABLE tickets (id int)"), 0);
	error = NULL;
	test_assert_int(store_open(loc, tmpdir, &store, &error), -1);
	test_assert(contains(error, "not a deskgate database"));
	free(loc);
}

struct scan_count {
	int rows, stop_at;
};

static int
count_row(void *context, const void *record)
{
	struct scan_count *c = context;
	(void)record;
	return ++c->rows == c->stop_at;
}

/* A report reads its rows one at a time (single-row mode); a scan that
   stops early leaves the connection usable. */
static void
test_report_stream(void)
{
	struct store *store = open_new(test_store_location(tmpdir, "report"));
	const char *error = NULL;

	test_begin("report scans stream and stop");
	test_assert(store != NULL);
	if (store == NULL)
		return;
	test_assert_int(store_begin(store, &error), 0);
	for (int i = 0; i < 50; i++)
		new_ticket(store, "report");
	test_assert_int(store_commit(store, &error), 0);
	struct scan_count c = { 0, 0 };
	test_assert_int(store_report_tickets(store, 0, INT64_MAX / 2, count_row, &c, &error), 0);
	test_assert_int(c.rows, 50);
	c = (struct scan_count){ 0, 7 };
	test_assert_int(store_report_tickets(store, 0, INT64_MAX / 2, count_row, &c, &error), 1);
	test_assert_int(c.rows, 7);
	int64_t count = 0;
	test_assert_int(store_ticket_count(store, &count, &error), 0);
	test_assert_int(count, 50);
	store_close(&store);
}

int
main(void)
{
	if (test_store_url() == NULL)
		return test_skip("DESKGATE_TEST_STORE_URL not set (run by tests/unit/test-store-pg.sh)");
	if (mkdtemp(tmpdir) == NULL)
		return test_skip("cannot make a temporary directory");
	test_secret();
	test_prepare_all();
	test_blobs();
	test_blob_dir();
	test_concurrent();
	test_pipeline_killed();
	test_migrate_once();
	test_report_stream();
	rmdir(tmpdir);
	return test_exit();
}
