/*
 * test-outage: one alert per outage and one all-clear, recorded in a real
 * SQLite store: a second begin (a retry) sends nothing; a restarted
 * daemon (a new struct outage) finds the outage open and sends nothing
 * new; the end sends the all-clear once; outages of two mailboxes are
 * apart ("mailbox a" is not "mailbox ab"); the recipients are [alerts]
 * supervisors (agent names and addresses) or else every agent; with
 * nobody to tell the outage is still recorded. The alert names the
 * mailbox and the error.
 */
#include "build-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/outage.h"
#include "gateway/store.h"
#include "base/util.h"
#include "tests/unit/test.h"
#include "tests/unit/desk-test.h"

#define NOW 1741658400

struct desk {
	char dir[64];
	struct config *config;
	struct store *store;
	struct outage *outage;
};

static int
desk_up(struct desk *d, const char *sections)
{
	const char *error;
	snprintf(d->dir, sizeof(d->dir), "/tmp/dg-test-outage.XXXXXX");
	if (mkdtemp(d->dir) == NULL || desk_open(d->dir, sections, &d->config, &d->store) < 0)
		return -1;
	if (outage_new(d->config, d->store, &d->outage, &error) < 0) {
		printf("outage_new: %s\n", error);
		return -1;
	}
	return 0;
}

static void
desk_down(struct desk *d)
{
	outage_free(&d->outage);
	store_close(&d->store);
	config_free(&d->config);
	desk_rm_tree(d->dir);
}

/* The outbox rows of kind notice: their count, the recipients and raw
   text of the newest. */
static size_t
notices(struct desk *d, char **rcpts_r, char **raw_r)
{
	struct store_outbox *list = NULL;
	size_t n = 0, count = 0;
	const char *error;
	*rcpts_r = NULL;
	if (raw_r != NULL)
		*raw_r = NULL;
	if (store_outbox_list(d->store, NULL, 100, &list, &n, &error) < 0) {
		printf("outbox list: %s\n", error);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].kind, "alert") != 0)
			continue;
		if (count++ == 0) {
			*rcpts_r = xstrdup(list[i].recipients);
			if (raw_r != NULL) {
				struct store_outbox *full = NULL;
				if (store_outbox_get(d->store, list[i].id, &full, &error) > 0 &&
				    full->raw != NULL)
					*raw_r = xasprintf("%.*s", (int)full->raw_size,
							   (const char *)full->raw);
				store_outbox_free(&full);
			}
		}
	}
	store_outboxes_free(&list, n);
	return count;
}

static void
test_once_per_outage(void)
{
	struct desk d;
	const char *error;
	char *rcpts, *raw;
	test_begin("one alert per outage, one all-clear, across a restart");
	if (desk_up(&d,
		    "hostname = desk.example.test\nsupport_address = support@example.test\n"
		    "[agent alice]\naddress = alice@staff.example\n"
		    "[agent bob]\naddress = bob@staff.example\n"
		    "[alerts]\nsupervisors = bob, ops@example.test\n") < 0) {
		test_assert(0);
		return;
	}
	test_assert_int(outage_is_open(d.outage, "mailbox a", &error), 0);
	test_assert_int(outage_begin(d.outage, "mailbox a", "LOGIN FAILED: token refused", NOW,
				     &error),
			1);
	test_assert_int(outage_is_open(d.outage, "mailbox a", &error), 1);
	test_assert_int(notices(&d, &rcpts, &raw), 1);
	test_assert_str(rcpts, "bob@staff.example, ops@example.test");
	test_assert(raw != NULL && strstr(raw, "mailbox a cannot log in") != NULL);
	test_assert(raw != NULL && strstr(raw, "LOGIN FAILED: token refused") != NULL);
	test_assert(raw != NULL && strstr(raw, "Auto-Submitted: auto-generated") != NULL);
	free(rcpts);
	free(raw);

	/* retries of the same outage */
	test_assert_int(outage_begin(d.outage, "mailbox a", "again", NOW + 60, &error), 0);
	test_assert_int(outage_begin(d.outage, "mailbox a", "again", NOW + 120, &error), 0);
	test_assert_int(notices(&d, &rcpts, NULL), 1);
	free(rcpts);

	/* another mailbox, whose name starts the same */
	test_assert_int(outage_is_open(d.outage, "mailbox ab", &error), 0);
	test_assert_int(outage_end(d.outage, "mailbox ab", NOW, &error), 0);

	/* a restart during the outage */
	outage_free(&d.outage);
	test_assert_int(outage_new(d.config, d.store, &d.outage, &error), 0);
	test_assert_int(outage_begin(d.outage, "mailbox a", "after restart", NOW + 180, &error),
			0);
	test_assert_int(notices(&d, &rcpts, NULL), 1);
	free(rcpts);

	/* recovery: once */
	test_assert_int(outage_end(d.outage, "mailbox a", NOW + 240, &error), 1);
	test_assert_int(outage_end(d.outage, "mailbox a", NOW + 300, &error), 0);
	test_assert_int(outage_is_open(d.outage, "mailbox a", &error), 0);
	test_assert_int(notices(&d, &rcpts, &raw), 2);
	test_assert(raw != NULL && strstr(raw, "mailbox a logs in again") != NULL);
	free(rcpts);
	free(raw);
	test_assert(desk_has_event(d.store, 0, "outage", "mailbox a: LOGIN FAILED"));
	test_assert(desk_has_event(d.store, 0, "recovered", "mailbox a: logs in again"));

	/* the next outage is a new one */
	test_assert_int(outage_begin(d.outage, "mailbox a", "refused", NOW + 900, &error), 1);
	test_assert_int(notices(&d, &rcpts, NULL), 3);
	free(rcpts);
	desk_down(&d);
}

static void
test_recipients(void)
{
	struct desk d;
	const char *error;
	char *rcpts;
	test_begin("no [alerts] supervisors: every agent; nobody at all: still recorded");
	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n"
			"[agent alice]\naddress = alice@staff.example\n"
			"[agent bob]\naddress = bob@staff.example\n") < 0) {
		test_assert(0);
		return;
	}
	test_assert_int(outage_begin(d.outage, "mailbox x", "no token", NOW, &error), 1);
	test_assert_int(notices(&d, &rcpts, NULL), 1);
	test_assert_str(rcpts, "alice@staff.example, bob@staff.example");
	free(rcpts);
	desk_down(&d);

	/* no [alerts] supervisors but agents with supervisor = yes: them
	   (supervisor.h: the desk's chain) */
	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n"
			"[agent alice]\naddress = alice@staff.example\n"
			"[agent bob]\naddress = bob@staff.example\nsupervisor = yes\n") < 0) {
		test_assert(0);
		return;
	}
	test_assert_int(outage_begin(d.outage, "mailbox x", "no token", NOW, &error), 1);
	test_assert_int(notices(&d, &rcpts, NULL), 1);
	test_assert_str(rcpts, "bob@staff.example");
	free(rcpts);
	desk_down(&d);

	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n") <
	    0) {
		test_assert(0);
		return;
	}
	test_assert_int(outage_begin(d.outage, "mailbox x", "no token", NOW, &error), 1);
	test_assert_int(notices(&d, &rcpts, NULL), 0);
	test_assert_int(outage_is_open(d.outage, "mailbox x", &error), 1);
	test_assert(desk_has_event(d.store, 0, "outage", "nobody told"));
	test_assert_int(outage_begin(d.outage, "mailbox x", "no token", NOW + 5, &error), 0);
	desk_down(&d);
}

/* A mailbox removed from the configuration while it could not log in:
   its outage is closed once, with an all-clear that says why; the
   outages of what is still configured stay open. */
static void
test_close_unknown(void)
{
	struct desk d;
	const char *error;
	char *rcpts, *raw;
	test_begin("outages of mailboxes no longer configured are closed");
	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n"
			"[alerts]\nsupervisors = ops@example.test\n") < 0) {
		test_assert(0);
		return;
	}
	char *gone = outage_subject_mailbox("old");
	char *kept = outage_subject_mailbox("support");
	char *relay = outage_subject_relay("smtp.example.test", 587);
	test_assert_str(relay, "relay smtp.example.test:587");
	test_assert_int(outage_begin(d.outage, gone, "token refused", NOW, &error), 1);
	test_assert_int(outage_begin(d.outage, kept, "token refused", NOW, &error), 1);
	test_assert_int(outage_begin(d.outage, relay, "535 5.7.8", NOW, &error), 1);
	const char *known[] = { kept, relay };
	test_assert_int(outage_close_unknown(d.outage, known, 2, NOW + 60, &error), 1);
	test_assert_int(outage_is_open(d.outage, gone, &error), 0);
	test_assert_int(outage_is_open(d.outage, kept, &error), 1);
	test_assert_int(outage_is_open(d.outage, relay, &error), 1);
	test_assert_int(notices(&d, &rcpts, &raw), 4);
	test_assert(raw != NULL && strstr(raw, "mailbox old is no longer configured") != NULL);
	free(rcpts);
	free(raw);
	/* again (a reload): nothing more */
	test_assert_int(outage_close_unknown(d.outage, known, 2, NOW + 120, &error), 0);
	test_assert_int(notices(&d, &rcpts, NULL), 4);
	free(rcpts);
	test_assert(desk_has_event(d.store, 0, "recovered", "mailbox old: no longer in the "
							     "configuration"));
	free(gone);
	free(kept);
	free(relay);
	desk_down(&d);
}

struct streak_worker {
	struct outage_streak *s;
	unsigned n;
};

static void *
streak_fail_many(void *arg)
{
	struct streak_worker *w = arg;
	const char *error;
	for (unsigned i = 0; i < w->n; i++)
		(void)outage_streak_failed(w->s, NULL, 3, "failures", "x", NOW, &error);
	return NULL;
}

static void
test_streak(void)
{
	struct desk d;
	const char *error;
	char *rcpts, *raw;
	test_begin("a streak: N failures in a row begin the outage, a success ends it");
	if (desk_up(&d, "hostname = desk.example.test\nsupport_address = support@example.test\n"
			"[agent alice]\naddress = alice@staff.example\n"
			"[alerts]\nafter = 3\n") < 0) {
		test_assert(0);
		return;
	}
	struct outage_streak *s = outage_streak_new("relay smtp.example:587");
	test_assert_str(outage_streak_subject(s), "relay smtp.example:587");
	test_assert_int(outage_streak_failed(s, d.outage, 3, "logins refused", "535 a", NOW, &error),
			0);
	/* a failure of another kind between: the count starts again */
	outage_streak_reset(s);
	test_assert_int(outage_streak_failed(s, d.outage, 3, "logins refused", "535 b", NOW, &error),
			0);
	test_assert_int(outage_streak_failed(s, d.outage, 3, "logins refused", "535 c", NOW, &error),
			0);
	test_assert_int(notices(&d, &rcpts, NULL), 0);
	free(rcpts);
	test_assert_int(outage_streak_failed(s, d.outage, 3, "logins refused", "535 d", NOW, &error),
			1);
	test_assert_int(outage_streak_count(s), 3);
	test_assert_int(notices(&d, &rcpts, &raw), 1);
	test_assert(raw != NULL && strstr(raw, "3 logins refused in a row; the last: 535 d") != NULL);
	free(rcpts);
	free(raw);
	/* more failures: nothing new */
	test_assert_int(outage_streak_failed(s, d.outage, 3, "logins refused", "535 e", NOW, &error),
			0);
	test_assert_int(notices(&d, &rcpts, NULL), 1);
	free(rcpts);
	test_assert_int(outage_streak_ok(s, d.outage, NOW + 60, &error), 1);
	test_assert_int(outage_streak_count(s), 0);
	test_assert_int(notices(&d, &rcpts, NULL), 2);
	free(rcpts);
	test_assert_int(outage_streak_ok(s, d.outage, NOW + 61, &error), 0);
	test_assert_int(notices(&d, &rcpts, NULL), 2);
	free(rcpts);
	outage_streak_free(&s);
	test_assert(s == NULL);

	/* a restarted process: its first success ends the previous run's outage */
	s = outage_streak_new("mailbox b");
	test_assert_int(outage_begin(d.outage, "mailbox b", "left open", NOW, &error), 1);
	outage_streak_free(&s);
	s = outage_streak_new("mailbox b");
	test_assert_int(outage_streak_ok(s, d.outage, NOW + 5, &error), 1);
	test_assert_int(outage_is_open(d.outage, "mailbox b", &error), 0);
	outage_streak_free(&s);

	/* counted from several threads at once: no failure lost */
	s = outage_streak_new("mailbox c");
	enum { THREADS = 4, EACH = 10000 };
	pthread_t th[THREADS];
	struct streak_worker w = { s, EACH };
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, streak_fail_many, &w);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	test_assert_int(outage_streak_count(s), THREADS * EACH);
	outage_streak_free(&s);
	desk_down(&d);
}

int
main(void)
{
	test_once_per_outage();
	test_recipients();
	test_close_unknown();
	test_streak();
	return test_exit();
}
