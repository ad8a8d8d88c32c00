/*
 * test-store-sla: the store's SLA part (store-sla.h) on a real SQLite
 * file: ticket_sla rows and their earliest due instant, timers (set,
 * move, cancel, due in order, the next one), notices recorded once, the
 * ticket query's filters and order, invalid input; and the costs: the
 * due timers and the overdue tickets are found by index, so the work
 * SQLite does (its VM steps, counted by a sqlite3_step() of our own that
 * calls SQLite's) does not grow with the number of waiting timers.
 */
#include "build-config.h"

#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/store.h"
#include "tests/unit/test-store-url.h"
#include "tests/unit/test.h"

static long long vm_steps;

int
sqlite3_step(sqlite3_stmt *st)
{
	typedef int step_fn(sqlite3_stmt *);
	static step_fn *real;
	if (real == NULL)
		real = (step_fn *)dlsym(RTLD_NEXT, "sqlite3_step");
	if (real == NULL)
		return SQLITE_ERROR;
	int rc = real(st);
	vm_steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	return rc;
}

static char *tmpdir;

static struct store *
open_fresh(const char *name)
{
	char *dir = xasprintf("%s/%s", tmpdir, name);
	char *db = test_store_location(dir, name);
	struct store *store = NULL;
	const char *error = NULL;
	if (db != NULL && store_open(db, dir, &store, &error) < 0)
		printf("open: %s\n", error);
	free(db);
	free(dir);
	return store;
}

static int64_t
new_ticket(struct store *store, const char *status, const char *queue, const char *assignee)
{
	struct store_ticket t = { .subject = "s", .status = status, .queue = queue,
				  .assignee = assignee, .created_at = 1000 };
	int64_t id = 0;
	const char *error;
	if (store_ticket_insert(store, &t, &id, &error) < 0)
		printf("insert: %s\n", error);
	return id;
}

static void
test_sla_rows(struct store *store)
{
	const char *error = NULL;
	struct store_sla *got = NULL;
	int64_t id = new_ticket(store, "open", "payments", NULL);

	test_begin("ticket_sla: put, get, earliest due");
	test_assert_int(store_sla_get(store, id, &got, &error), 0);
	test_assert(got == NULL);
	struct store_sla in = {
		.ticket_id = id, .policy = "vip", .calendar = "24x7",
		.basis = "high|account_security|payments|1", .status = "open", .vip = 1,
		.start = { 1000, 0, 1000 }, .due = { 5000, 0, 90000 }, .warn = { 4000, 0, 70000 },
		.paused = { 0, 0, 60 },
	};
	test_assert_int(store_sla_put(store, &in, &error), 0);
	test_assert_int(store_sla_get(store, id, &got, &error), 1);
	test_assert(got != NULL);
	if (got != NULL) {
		test_assert_str(got->policy, "vip");
		test_assert_str(got->calendar, "24x7");
		test_assert_str(got->basis, "high|account_security|payments|1");
		test_assert_int(got->vip, 1);
		test_assert_int(got->due[0], 5000);
		test_assert_int(got->warn[2], 70000);
		test_assert_int(got->paused[2], 60);
		test_assert_int(got->earliest_due, 5000);
		test_assert(got->updated_at > 0);
	}
	store_sla_free(&got);
	store_sla_free(&got);
	/* first response met: the resolution is next */
	in.met[0] = 4500;
	test_assert_int(store_sla_put(store, &in, &error), 0);
	test_assert_int(store_sla_get(store, id, &got, &error), 1);
	test_assert_int(got != NULL ? got->earliest_due : -1, 90000);
	store_sla_free(&got);
	/* paused: nothing is running */
	in.paused_at = 6000;
	test_assert_int(store_sla_put(store, &in, &error), 0);
	test_assert_int(store_sla_get(store, id, &got, &error), 1);
	test_assert_int(got != NULL ? got->earliest_due : -1, 0);
	store_sla_free(&got);

	test_begin("ticket_sla: refused data");
	struct store_sla bad = in;
	bad.ticket_id = 999999; /* no such ticket */
	test_assert_int(store_sla_put(store, &bad, &error), STORE_DATA_BAD);
	bad = in;
	bad.due[1] = -5;
	test_assert_int(store_sla_put(store, &bad, &error), STORE_DATA_BAD);
	bad = in;
	bad.policy = NULL;
	test_assert_int(store_sla_put(store, &bad, &error), STORE_DATA_BAD);
	/* a refused write leaves the transaction usable */
	test_assert_int(store_begin(store, &error), 0);
	test_assert_int(store_sla_put(store, &bad, &error), STORE_DATA_BAD);
	test_assert_int(store_timer_set(store, "sla", id, NULL, 7000, &error), 0);
	test_assert_int(store_commit(store, &error), 0);
	test_assert_int(store_timer_cancel(store, "sla", id, NULL, &error), 0);
}

static void
test_timers(struct store *store)
{
	const char *error = NULL;
	struct store_timer *list = NULL, *one = NULL;
	size_t n = 0;
	int64_t next = 0, count = 0;

	test_begin("timers: set, move, due in order, cancel");
	test_assert_int(store_timer_next(store, &next, &error), 0);
	test_assert_int(store_timer_set(store, "sla", 7, NULL, 300, &error), 0);
	test_assert_int(store_timer_set(store, "sla", 8, "", 100, &error), 0);
	test_assert_int(store_timer_set(store, "digest", 0, "alice@example.test", 200, &error), 0);
	test_assert_int(store_timer_set(store, "pending", 7, "remind", 250, &error), 0);
	/* moved, not added */
	test_assert_int(store_timer_set(store, "sla", 7, NULL, 150, &error), 0);
	test_assert_int(store_timer_count(store, NULL, &count, &error), 0);
	test_assert_int(count, 4);
	test_assert_int(store_timer_count(store, "sla", &count, &error), 0);
	test_assert_int(count, 2);
	test_assert_int(store_timer_next(store, &next, &error), 1);
	test_assert_int(next, 100);
	test_assert_int(store_timer_due(store, 200, 0, &list, &n, &error), 0);
	test_assert_int(n, 3);
	if (n == 3) {
		test_assert(list[0].ticket_id == 8 && list[0].due_at == 100);
		test_assert(list[1].ticket_id == 7 && list[1].due_at == 150);
		test_assert_str(list[2].kind, "digest");
		test_assert_str(list[2].subject, "alice@example.test");
	}
	store_timers_free(&list, n);
	test_assert(list == NULL);
	test_assert_int(store_timer_due(store, 200, 1, &list, &n, &error), 0);
	test_assert_int(n, 1);
	store_timers_free(&list, n);
	test_assert_int(store_timer_get(store, "pending", 7, "remind", &one, &error), 1);
	test_assert_int(one != NULL ? one->due_at : 0, 250);
	store_timer_free(&one);
	test_assert_int(store_timer_get(store, "pending", 7, "solve", &one, &error), 0);
	test_assert(one == NULL);
	/* one subject, or all of a kind for the ticket */
	test_assert_int(store_timer_set(store, "pending", 7, "solve", 900, &error), 0);
	test_assert_int(store_timer_cancel(store, "pending", 7, "remind", &error), 0);
	test_assert_int(store_timer_count(store, "pending", &count, &error), 0);
	test_assert_int(count, 1);
	test_assert_int(store_timer_cancel(store, "pending", 7, NULL, &error), 0);
	test_assert_int(store_timer_cancel(store, "pending", 7, NULL, &error), 0);
	test_assert_int(store_timer_count(store, "pending", &count, &error), 0);
	test_assert_int(count, 0);
	test_assert_int(store_timer_set(store, "", 1, NULL, 1, &error), STORE_DATA_BAD);
	test_assert_int(store_timer_set(store, NULL, 1, NULL, 1, &error), STORE_DATA_BAD);
	test_assert_int(store_timer_set(store, "sla", -1, NULL, 1, &error), STORE_DATA_BAD);
	test_assert_int(store_timer_cancel(store, "sla", 7, NULL, &error), 0);
	test_assert_int(store_timer_cancel(store, "sla", 8, NULL, &error), 0);
	test_assert_int(store_timer_cancel(store, "digest", 0, "alice@example.test", &error), 0);
	test_assert_int(store_timer_next(store, &next, &error), 0);
}

static void
test_notices(struct store *store)
{
	const char *error = NULL;
	int64_t id = new_ticket(store, "open", NULL, NULL);

	test_begin("notices: recorded once");
	test_assert_int(store_sla_notice_find(store, id, "first_response", "warning", 0,
					      "alice@example.test", &error), 0);
	test_assert_int(store_sla_notice_add(store, id, "first_response", "warning", 0,
					     "alice@example.test", 0, &error), 1);
	test_assert_int(store_sla_notice_add(store, id, "first_response", "warning", 0,
					     "ALICE@example.test", 0, &error), 0);
	test_assert_int(store_sla_notice_find(store, id, "first_response", "warning", 0,
					      "Alice@Example.test", &error), 1);
	/* another period, level or recipient is another notice */
	test_assert_int(store_sla_notice_add(store, id, "first_response", "breach", 0,
					     "carol@example.test", 0, &error), 1);
	test_assert_int(store_sla_notice_add(store, id, "first_response", "breach", 1,
					     "carol@example.test", 0, &error), 1);
	test_assert_int(store_sla_notice_add(store, id, "first_response", "breach", 0, NULL, 0,
					     &error), 1);
	test_assert_int(store_sla_notice_add(store, id, "first_response", "breach", 0, "", 0,
					     &error), 0);
	test_assert_int(store_sla_notice_recent(store, id, "carol@example.test", "breach", 0,
						&error), 1);
	test_assert_int(store_sla_notice_recent(store, id, "carol@example.test", "breach",
						INT64_MAX, &error), 0);
	test_assert_int(store_sla_notice_recent(store, id, "dave@example.test", "breach", 0,
						&error), 0);
	test_assert_int(store_sla_notice_add(store, id, "", "breach", 0, NULL, 0, &error),
			STORE_DATA_BAD);
	test_assert_int(store_sla_notice_add(store, 999999, "x", "breach", 0, NULL, 0, &error),
			STORE_DATA_BAD);
	/* an outbox row it points to must exist */
	test_assert_int(store_sla_notice_add(store, id, "x", "breach", 0, NULL, 424242, &error),
			STORE_DATA_BAD);
}

static void
test_query(void)
{
	const char *error = NULL;
	struct store *store = open_fresh("query");
	struct store_ticket_due *rows = NULL;
	size_t n = 0;
	test_begin("ticket query: filters and order");
	test_assert(store != NULL);
	if (store == NULL)
		return;
	int64_t a = new_ticket(store, "open", "payments", "alice@example.test");
	int64_t b = new_ticket(store, "pending", "payments", NULL);
	int64_t c = new_ticket(store, "closed", "kyc", "alice@example.test");
	int64_t d = new_ticket(store, "new", "kyc", NULL);
	struct store_sla s = { .policy = "p", .calendar = "default", .start = { 1 } };
	s.ticket_id = a;
	s.due[0] = 500;
	s.vip = 1;
	test_assert_int(store_sla_put(store, &s, &error), 0);
	s.ticket_id = d;
	s.due[0] = 300;
	s.vip = 0;
	test_assert_int(store_sla_put(store, &s, &error), 0);
	s.ticket_id = b;
	s.due[0] = 100;
	s.paused_at = 50; /* waiting on the customer: not due */
	test_assert_int(store_sla_put(store, &s, &error), 0);

	test_assert_int(store_ticket_query(store, NULL, &rows, &n, &error), 0);
	test_assert_int(n, 4);
	test_assert(n == 4 && rows[0].t.id == d && rows[3].t.id == a);
	test_assert(n == 4 && rows[0].sla.ticket_id == d && rows[1].sla.ticket_id == 0);
	store_ticket_dues_free(&rows, n);

	struct store_ticket_filter f = { .not_closed = 1, .by_due = 1 };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert_int(n, 3);
	/* by due: d (300), a (500), then b (nothing running) */
	test_assert(n == 3 && rows[0].t.id == d && rows[1].t.id == a && rows[2].t.id == b);
	test_assert(n == 3 && rows[1].sla.earliest_due == 500 && rows[1].t.n_messages == 0);
	test_assert_str(n == 3 ? rows[1].t.assignee : NULL, "alice@example.test");
	store_ticket_dues_free(&rows, n);

	f = (struct store_ticket_filter){ .due_before = 400 };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert(n == 1 && rows[0].t.id == d);
	store_ticket_dues_free(&rows, n);
	f = (struct store_ticket_filter){ .assignee = "ALICE@example.test" };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert(n == 2 && rows[0].t.id == c && rows[1].t.id == a);
	store_ticket_dues_free(&rows, n);
	/* names and addresses compare without case, whichever side is written
	   how (the desk's config says "KYC", routing wrote "kyc"; an agent
	   mails as Alice@) */
	int64_t e = new_ticket(store, "open", "Payments", "Bob@Example.test");
	f = (struct store_ticket_filter){ .queue = "KYC" };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert(n == 2 && rows[0].t.id == d && rows[1].t.id == c);
	store_ticket_dues_free(&rows, n);
	f = (struct store_ticket_filter){ .queue = "payments", .assignee = "bob@example.TEST" };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert(n == 1 && rows[0].t.id == e);
	store_ticket_dues_free(&rows, n);
	f = (struct store_ticket_filter){ .unassigned = 1, .queue = "kyc" };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert(n == 1 && rows[0].t.id == d);
	store_ticket_dues_free(&rows, n);
	f = (struct store_ticket_filter){ .vip = 1 };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert(n == 1 && rows[0].t.id == a);
	store_ticket_dues_free(&rows, n);
	f = (struct store_ticket_filter){ .status = "pending" };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert(n == 1 && rows[0].t.id == b && rows[0].sla.paused_at == 50);
	store_ticket_dues_free(&rows, n);
	f = (struct store_ticket_filter){ .limit = 2 };
	test_assert_int(store_ticket_query(store, &f, &rows, &n, &error), 0);
	test_assert_int(n, 2);
	store_ticket_dues_free(&rows, n);
	store_close(&store);
}

/* The work of finding the due timers does not grow with the timers that
   wait: ten due among 100, then the same ten among 20,100. */
static void
test_costs(void)
{
	const char *error = NULL;
	struct store *store = open_fresh("costs");
	struct store_timer *list = NULL;
	size_t n = 0;
	test_begin("costs: due timers by index");
	test_assert(store != NULL);
	if (store == NULL)
		return;
	test_assert_int(store_begin(store, &error), 0);
	for (int i = 1; i <= 100; i++)
		(void)store_timer_set(store, "sla", i, NULL, i <= 10 ? 50 + i : 100000 + i, &error);
	test_assert_int(store_commit(store, &error), 0);
	vm_steps = 0;
	test_assert_int(store_timer_due(store, 1000, 0, &list, &n, &error), 0);
	long long small = vm_steps;
	test_assert_int(n, 10);
	store_timers_free(&list, n);
	test_assert_int(store_begin(store, &error), 0);
	for (int i = 101; i <= 20100; i++)
		(void)store_timer_set(store, "sla", i, NULL, 100000 + i, &error);
	test_assert_int(store_commit(store, &error), 0);
	vm_steps = 0;
	test_assert_int(store_timer_due(store, 1000, 0, &list, &n, &error), 0);
	long long big = vm_steps;
	test_assert_int(n, 10);
	store_timers_free(&list, n);
	printf("  VM steps to find 10 due timers: %lld among 100, %lld among 20,100\n", small, big);
	test_assert(big <= small + small / 2);
	int64_t next = 0;
	vm_steps = 0;
	test_assert_int(store_timer_next(store, &next, &error), 1);
	test_assert_int(next, 51);
	test_assert(vm_steps < 50);
	store_close(&store);
}

int
main(void)
{
	char tmpl[] = "/tmp/test-store-sla.XXXXXX";
	tmpdir = mkdtemp(tmpl);
	if (tmpdir == NULL)
		return test_skip("mkdtemp failed");
	struct store *store = open_fresh("main");
	test_assert(store != NULL);
	if (store != NULL) {
		test_sla_rows(store);
		test_timers(store);
		test_notices(store);
		store_close(&store);
	}
	test_query();
	/* counts SQLite's steps */
	if (test_store_url() == NULL)
		test_costs();
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	free(cmd);
	return test_exit();
}
