/*
 * test-store-imap: the store functions the IMAP poller relies on for
 * "never mark what is not committed": the marks owed (add, idempotent,
 * quarantined kept once set, list by UIDVALIDITY, done inside and outside a
 * transaction, rolled back with it, forgotten for another UIDVALIDITY),
 * and quarantine entries without raw bytes (one held entry per message,
 * a second refusal updates the reason, an entry without raw bytes needs
 * its mailbox and UID, listed by mailbox and UIDVALIDITY, released); and
 * for the outbox, each recipient's own result and a message's author.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/store.h"
#include "base/util.h"
#include "tests/unit/test-store-url.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-store-imap.XXXXXX";

static size_t
marks(struct store *store, uint32_t uidvalidity, char *out, size_t size)
{
	struct store_mailbox_mark *m;
	size_t n;
	const char *error;
	out[0] = '\0';
	if (store_mailbox_mark_list(store, "box", uidvalidity, &m, &n, &error) < 0)
		return (size_t)-1;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%lld%s", i > 0 ? " " : "", (long long)m[i].uid,
					m[i].quarantined ? "q" : "");
	free(m);
	return n;
}

static void
test_marks(struct store *store)
{
	const char *error;
	char got[256];
	test_begin("marks owed");
	test_assert_int(marks(store, 7, got, sizeof(got)), 0);
	test_assert_int(store_mailbox_mark_add(store, "box", 7, 3, 0, &error), 0);
	test_assert_int(store_mailbox_mark_add(store, "box", 7, 1, 1, &error), 0);
	test_assert_int(store_mailbox_mark_add(store, "box", 7, 2, 0, &error), 0);
	test_assert_int(store_mailbox_mark_add(store, "box", 7, 3, 1, &error), 0); /* again */
	test_assert_int(store_mailbox_mark_add(store, "box", 7, 3, 0, &error), 0); /* kept */
	test_assert_int(store_mailbox_mark_add(store, "box", 8, 9, 0, &error), 0);
	test_assert_int(store_mailbox_mark_add(store, "other", 7, 5, 0, &error), 0);
	test_assert_int(marks(store, 7, got, sizeof(got)), 3);
	test_assert_str(got, "1q 2 3q");
	/* rolled back with the transaction */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_mailbox_mark_add(store, "box", 7, 4, 0, &error), 0);
	uint32_t done[] = { 1, 3 };
	test_assert_int(store_mailbox_mark_done(store, "box", 7, done, 2, &error), 0);
	store_rollback(store);
	test_assert_int(marks(store, 7, got, sizeof(got)), 3);
	test_assert_str(got, "1q 2 3q");
	/* committed */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_mailbox_mark_done(store, "box", 7, done, 2, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(marks(store, 7, got, sizeof(got)), 1);
	test_assert_str(got, "2");
	/* out of a transaction, and a UID not owed is no error */
	uint32_t more[] = { 2, 99 };
	test_assert_int(store_mailbox_mark_done(store, "box", 7, more, 2, &error), 0);
	test_assert_int(store_mailbox_mark_done(store, "box", 7, NULL, 0, &error), 0);
	test_assert_int(marks(store, 7, got, sizeof(got)), 0);
	/* a new UIDVALIDITY: the old marks name nothing */
	test_assert_int(marks(store, 8, got, sizeof(got)), 1);
	test_assert_int(store_mailbox_mark_forget(store, "box", 9, &error), 0);
	test_assert_int(marks(store, 8, got, sizeof(got)), 0);
	/* UIDs are 32-bit and never 0 */
	test_assert_int(store_mailbox_mark_add(store, "box", 7, 0, 0, &error), STORE_DATA_BAD);
	test_assert_int(store_mailbox_mark_add(store, "box", 0, 1, 0, &error), STORE_DATA_BAD);
}

static void
test_unfetched(struct store *store)
{
	const char *error;
	int64_t id = 0, id2 = 0;
	int existed = -1;
	test_begin("quarantine entries without raw bytes");
	struct store_quarantine q = {
		.raw_size = 300000000,
		.reason = (char *)"too large to keep",
		.source = (char *)"mailbox:box uid:17",
		.mailbox = (char *)"box",
		.uidvalidity = 7,
		.uid = 17,
	};
	test_assert_int(store_quarantine_insert(store, &q, &id, &existed, &error), 0);
	test_assert(id > 0);
	test_assert_int(existed, 0);
	/* the same message again: the same entry, the newer reason */
	q.reason = (char *)"still too large";
	test_assert_int(store_quarantine_insert(store, &q, &id2, &existed, &error), 0);
	test_assert_int(id2, id);
	test_assert_int(existed, 1);
	struct store_quarantine *got = NULL;
	test_assert_int(store_quarantine_get(store, id, &got, &error), 1);
	if (got != NULL) {
		test_assert(got->raw_sha256 == NULL);
		test_assert_str(got->reason, "still too large");
		test_assert_str(got->mailbox, "box");
		test_assert_int(got->uid, 17);
		test_assert_int(got->uidvalidity, 7);
		test_assert_int(got->raw_size, 300000000);
	}
	store_quarantine_free(&got);
	/* another UID: another entry */
	q.uid = 18;
	test_assert_int(store_quarantine_insert(store, &q, &id2, &existed, &error), 0);
	test_assert(id2 != id);
	/* without a mailbox and UID it is refused */
	struct store_quarantine bad = { .reason = (char *)"x" };
	test_assert_int(store_quarantine_insert(store, &bad, &id2, &existed, &error), STORE_DATA_BAD);
	test_assert(strstr(error, "needs mailbox") != NULL);
	/* listed by mailbox and UIDVALIDITY, by UID */
	struct store_quarantine *qs;
	size_t n;
	test_assert_int(store_quarantine_list_unfetched(store, "box", 7, &qs, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_int(qs[0].uid, 17);
		test_assert_int(qs[1].uid, 18);
	}
	store_quarantines_free(&qs, n);
	test_assert_int(store_quarantine_list_unfetched(store, "box", 8, &qs, &n, &error), 0);
	test_assert_int(n, 0);
	/* released: no longer listed, and a new refusal makes a new entry */
	test_assert_int(store_quarantine_set_status(store, id, "released", 0, &error), 0);
	test_assert_int(store_quarantine_list_unfetched(store, "box", 7, &qs, &n, &error), 0);
	test_assert_int(n, 1);
	store_quarantines_free(&qs, n);
	q.uid = 17;
	test_assert_int(store_quarantine_insert(store, &q, &id2, &existed, &error), 0);
	test_assert(id2 != id);
	test_assert_int(existed, 0);
	/* entries with raw bytes are unaffected */
	char hex[65];
	test_assert_int(store_blob_put(store, STORE_BLOB_RAW, "raw", 3, hex, &error), 0);
	struct store_quarantine raw = { .raw_sha256 = hex, .raw_size = 3, .reason = (char *)"r" };
	test_assert_int(store_quarantine_insert(store, &raw, &id2, &existed, &error), 0);
	test_assert_int(store_quarantine_get(store, id2, &got, &error), 1);
	test_assert(got != NULL && got->mailbox == NULL && got->uid == 0);
	store_quarantine_free(&got);
}

static void
test_outbox_rcpts(struct store *store)
{
	const char *error;
	int64_t id = 0;
	test_begin("outbox recipients and author");
	struct store_outbox o = {
		.kind = (char *)"relay",
		.message_id = (char *)"r1@example.test",
		.envelope_from = (char *)"support@example.test",
		.recipients = (char *)"Wang@Example.net, li@example.net",
		.raw = (unsigned char *)"x",
		.raw_size = 1,
	};
	test_assert_int(store_outbox_insert(store, &o, &id, &error), 0);
	struct store_outbox_rcpt *r;
	size_t n;
	test_assert_int(store_outbox_rcpt_list(store, id, &r, &n, &error), 0);
	test_assert_int(n, 2);
	if (n == 2) {
		test_assert_str(r[0].address, "wang@example.net");
		test_assert_str(r[0].status, "queued"); /* never tried */
		test_assert(r[0].code == NULL);
	}
	store_outbox_rcpts_free(&r, n);
	test_assert(r == NULL);
	test_assert_int(store_outbox_rcpt_set(store, id, "WANG@example.net", "sent", "250 2.0.0",
					      "ok", &error), 1);
	test_assert_int(store_outbox_rcpt_set(store, id, "li@example.net", "failed", "550 5.1.1",
					      "user unknown", &error), 1);
	test_assert_int(store_outbox_rcpt_set(store, id, "other@example.net", "failed", NULL, NULL,
					      &error), 0);
	test_assert_int(store_outbox_rcpt_set(store, id, "li@example.net", "bogus", NULL, NULL,
					      &error), STORE_DATA_BAD);
	test_assert_int(store_outbox_rcpt_list(store, id, &r, &n, &error), 0);
	if (n == 2) {
		test_assert_str(r[0].status, "sent");
		test_assert_str(r[1].status, "failed");
		test_assert_str(r[1].code, "550 5.1.1");
		test_assert_str(r[1].detail, "user unknown");
	}
	store_outbox_rcpts_free(&r, n);
	char *author = NULL;
	test_assert_int(store_outbox_author_get(store, id, &author, &error), 0);
	test_assert(author == NULL);
	test_assert_int(store_outbox_author_set(store, id, "alice@example.test", &error), 0);
	test_assert_int(store_outbox_author_set(store, id, "bob@example.test", &error), 0);
	test_assert_int(store_outbox_author_get(store, id, &author, &error), 1);
	test_assert_str(author, "bob@example.test");
	free(author);
	test_assert_int(store_outbox_author_set(store, id + 100, "x@example.test", &error), STORE_DATA_BAD);
}

int
main(void)
{
	struct store *store;
	const char *error;
	log_init("test-store-imap", LOG_LEVEL_ERROR);
	if (mkdtemp(tmpdir) == NULL)
		return test_skip("cannot make a temporary directory");
	char *db = test_store_location(tmpdir, "imap");
	if (db == NULL || store_open(db, tmpdir, &store, &error) < 0) {
		printf("store_open: %s\n", error);
		return 1;
	}
	test_marks(store);
	test_unfetched(store);
	test_outbox_rcpts(store);
	store_close(&store);
	free(db);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", tmpdir);
	free(cmd);
	return test_exit();
}
