/*
 * test-label: an agent's #category kept as a labelled example on a real
 * SQLite store: the rules' verdict from the "classified" event (else the
 * category before the change), the rules that fired, the first customer
 * message's text; the latest label per ticket; --since; a ticket without
 * a customer message; a label the store refuses.
 */
#include "build-config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/label.h"
#include "gateway/store.h"
#include "gateway/store/store-label.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-test-label-XXXXXX";

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int64_t
ticket(struct store *store, const char *category)
{
	const struct store_ticket t = { .subject = "s", .category = category };
	int64_t id = 0;
	const char *error;
	if (store_ticket_insert(store, &t, &id, &error) < 0)
		printf("ticket insert: %s\n", error);
	return id;
}

static int64_t
message(struct store *store, int64_t ticket_id, const char *direction, const char *subject,
	const char *text)
{
	static int n;
	char dedupe[32];
	snprintf(dedupe, sizeof(dedupe), "m%d", ++n);
	const struct store_message m = { .ticket_id = ticket_id, .direction = direction,
					 .subject = subject, .text = text, .dedupe_key = dedupe };
	int64_t id = 0;
	const char *error;
	if (store_message_insert(store, &m, &id, &error) < 0)
		printf("message insert: %s\n", error);
	return id;
}

/* The ticket as the agent module has it after `#category category`. */
static int
set_category(struct store *store, int64_t id, const char *category, const char *agent)
{
	struct store_ticket *t = NULL;
	const char *error;
	test_assert_int(store_ticket_get(store, id, &t, &error), 1);
	if (t == NULL)
		return -1;
	char *before = xstrdup(t->category);
	test_assert_int(store_ticket_set(store, id, "category", category, &error), 0);
	store_ticket_free(&t);
	test_assert_int(store_ticket_get(store, id, &t, &error), 1);
	int ret = label_record(store, t, before, agent, &error);
	if (ret < 0)
		printf("label_record: %s\n", error);
	free(before);
	store_ticket_free(&t);
	return ret;
}

static void
test_record(struct store *store)
{
	const char *error;
	test_begin("label_record and label_examples_load");
	/* 1: classified by the rules as other (the event), two rules fired,
	   an agent says delayed_payment, then registration. */
	int64_t t1 = ticket(store, "other");
	int64_t m1 = message(store, t1, "in", "Airdrop", "Where is my airdrop?");
	message(store, t1, "agent", "Re: Airdrop", "We are looking into it.");
	test_assert_int(store_event_add(store, t1, "classified",
					"category other, priority normal, queue (default)", &error),
			0);
	test_assert_int(store_rule_hit_add(store, t1, m1, "ot-how-to", "x", &error), 0);
	test_assert_int(store_rule_hit_add(store, t1, m1, "ot-fees", "y", &error), 0);
	test_assert_int(store_rule_hit_add(store, t1, m1, "ot-how-to", "z", &error), 0);
	test_assert_int(set_category(store, t1, "delayed_payment", "ann@desk.example"), 0);
	/* 2: no "classified" event (an older ticket): the verdict is the
	   category before the change. */
	int64_t t2 = ticket(store, "failed_trade");
	message(store, t2, "in", NULL, "提现失败");
	test_assert_int(set_category(store, t2, "delayed_payment", "bob@desk.example"), 0);
	/* 3: no customer message: no example. */
	int64_t t3 = ticket(store, "other");
	message(store, t3, "note", NULL, "internal");
	test_assert_int(set_category(store, t3, "complaint", "ann@desk.example"), 0);

	struct store_label *l = NULL;
	size_t n = 0;
	test_assert_int(store_label_list(store, 0, &l, &n, &error), 0);
	test_assert_int((long)n, 2);
	if (n == 2) {
		test_assert(l[0].ticket_id == t1 && l[0].message_row_id == m1);
		test_assert_str(l[0].label, "delayed_payment");
		test_assert_str(l[0].verdict, "other");
		test_assert_str(l[0].rules, "ot-how-to ot-fees");
		test_assert_str(l[0].agent, "ann@desk.example");
		test_assert_str(l[0].subject, "Airdrop");
		test_assert_str(l[0].text, "Where is my airdrop?");
		test_assert(l[0].created_at > 0);
		test_assert_str(l[1].verdict, "failed_trade");
		test_assert(l[1].rules == NULL && l[1].subject == NULL);
		test_assert_str(l[1].text, "提现失败");
	}
	store_labels_free(&l, n);
	test_assert(l == NULL);

	/* The agent changes her mind: the latest label counts. */
	test_assert_int(set_category(store, t1, "registration", "ann@desk.example"), 0);
	struct label_example *ex = NULL;
	test_assert_int(label_examples_load(store, 0, &ex, &n, &error), 0);
	test_assert_int((long)n, 2);
	if (n == 2) {
		test_assert(ex[0].ticket_id == t1 && ex[1].ticket_id == t2);
		test_assert_str(ex[0].label, "registration");
		test_assert_str(ex[0].verdict, "other");
		test_assert_str(ex[1].label, "delayed_payment");
	}
	label_examples_free(&ex, n);
	test_assert(ex == NULL);
	/* --since after every label. */
	test_assert_int(label_examples_load(store, (int64_t)4102444800, &ex, &n, &error), 0);
	test_assert(ex == NULL && n == 0);
}

static void
test_refused(struct store *store)
{
	const char *error = NULL;
	test_begin("labels the store refuses");
	struct store_label l = { .ticket_id = 999999, .label = "other", .text = "x" };
	test_assert_int(store_label_add(store, &l, NULL, &error), STORE_DATA_BAD);
	l.ticket_id = 1;
	l.label = "";
	test_assert_int(store_label_add(store, &l, NULL, &error), STORE_DATA_BAD);
	test_assert(error != NULL && strstr(error, "empty label") != NULL);
	l.label = NULL;
	test_assert_int(store_label_add(store, &l, NULL, &error), STORE_DATA_BAD);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	char *db = xasprintf("%s/deskgate.db", tmpdir);
	struct store *store = NULL;
	const char *error;
	test_begin("open");
	test_assert_int(store_open(db, tmpdir, &store, &error), 0);
	if (store != NULL) {
		test_record(store);
		test_refused(store);
		store_close(&store);
	}
	free(db);
	(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return test_exit();
}
