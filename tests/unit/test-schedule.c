/*
 * test-schedule: the scheduler on a real store. Handlers that do their
 * work (an event) and set their timer again, that refuse their timer,
 * that find the store unavailable (the whole tick undone), a kind
 * without a handler, the batch size, and a process that dies in the
 * middle of a tick (fork + _exit before the commit): the work is done
 * once, by the next tick.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "gateway/log.h"
#include "gateway/schedule.h"
#include "gateway/store.h"
#include "tests/unit/test.h"

static int handled;
static int die_in_handler;

/* Writes an event on its ticket; again in 100 s when the subject says so. */
static int
work(void *context, struct store *store, const struct store_timer *timer, int64_t now,
     const char **error_r)
{
	(void)context;
	handled++;
	int ret = store_event_addf(store, timer->ticket_id, "work", error_r, "%s at %lld",
				   timer->subject, (long long)now);
	if (die_in_handler)
		_exit(0); /* a crash before the commit */
	if (ret == 0 && strcmp(timer->subject, "again") == 0)
		ret = store_timer_set(store, timer->kind, timer->ticket_id, timer->subject, now + 100,
				      error_r);
	return ret;
}

static int
refuse(void *context, struct store *store, const struct store_timer *timer, int64_t now,
       const char **error_r)
{
	(void)context;
	(void)now;
	/* a write before the refusal is undone with the unit */
	(void)store_event_add(store, timer->ticket_id, "work", "refused", error_r);
	*error_r = "its ticket is gone";
	return STORE_DATA_BAD;
}

static int
unavailable(void *context, struct store *store, const struct store_timer *timer, int64_t now,
	    const char **error_r)
{
	(void)context;
	(void)store;
	(void)timer;
	(void)now;
	*error_r = "store: disk full";
	return STORE_UNAVAILABLE;
}

static int64_t
count_events(struct store *store, int64_t ticket_id, const char *kind)
{
	struct store_event *ev = NULL;
	size_t n = 0;
	const char *error;
	int64_t c = 0;
	if (store_event_list(store, ticket_id, &ev, &n, &error) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		c += strcmp(ev[i].kind, kind) == 0;
	store_events_free(&ev, n);
	return c;
}

static int64_t
timers(struct store *store, const char *kind)
{
	int64_t c = -1;
	const char *error;
	(void)store_timer_count(store, kind, &c, &error);
	return c;
}

int
main(void)
{
	char tmpl[] = "/tmp/test-schedule.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (dir == NULL)
		return test_skip("mkdtemp failed");
	log_init("test-schedule", LOG_LEVEL_ERROR);
	char *db = xasprintf("%s/deskgate.db", dir);
	struct store *store = NULL;
	const char *error = NULL;
	struct schedule_stats st;
	if (store_open(db, dir, &store, &error) < 0) {
		printf("open: %s\n", error);
		return 1;
	}
	struct store_ticket t = { .subject = "s" };
	int64_t a = 0, b = 0;
	(void)store_ticket_insert(store, &t, &a, &error);
	(void)store_ticket_insert(store, &t, &b, &error);
	struct schedule *s = schedule_new(store);
	schedule_register(s, "work", work, NULL);
	schedule_register(s, "refuse", refuse, NULL);

	test_begin("nothing due: nothing done");
	test_assert_int(schedule_tick(s, 1000, 10, &st, &error), 0);
	test_assert_int(st.handled, 0);
	test_assert_int(store_timer_set(store, "work", a, "once", 2000, &error), 0);
	test_assert_int(schedule_tick(s, 1999, 10, &st, &error), 0);
	test_assert_int(st.handled, 0);
	test_assert_int(handled, 0);

	test_begin("due: handled once, the timer gone");
	test_assert_int(schedule_tick(s, 2000, 10, &st, &error), 0);
	test_assert_int(st.handled, 1);
	test_assert_int(count_events(store, a, "work"), 1);
	test_assert_int(timers(store, "work"), 0);
	test_assert_int(schedule_tick(s, 5000, 10, &st, &error), 0);
	test_assert_int(st.handled, 0);
	test_assert_int(count_events(store, a, "work"), 1);

	test_begin("a handler sets its timer again");
	test_assert_int(store_timer_set(store, "work", b, "again", 3000, &error), 0);
	test_assert_int(schedule_tick(s, 3000, 10, &st, &error), 0);
	struct store_timer *tm = NULL;
	test_assert_int(store_timer_get(store, "work", b, "again", &tm, &error), 1);
	test_assert_int(tm != NULL ? tm->due_at : 0, 3100);
	store_timer_free(&tm);
	test_assert_int(store_timer_cancel(store, "work", b, "again", &error), 0);

	test_begin("a refused timer is dropped, with an event; the others go on");
	test_assert_int(store_timer_set(store, "refuse", a, NULL, 100, &error), 0);
	test_assert_int(store_timer_set(store, "work", a, "after", 200, &error), 0);
	test_assert_int(schedule_tick(s, 4000, 10, &st, &error), 0);
	test_assert_int(st.dropped, 1);
	test_assert_int(st.handled, 1);
	test_assert_int(timers(store, NULL), 0);
	test_assert_int(count_events(store, a, "schedule"), 1);
	test_assert_int(count_events(store, a, "work"), 2); /* "refused" undone */

	test_begin("the store unavailable: the whole tick is undone");
	schedule_register(s, "down", unavailable, NULL);
	test_assert_int(store_timer_set(store, "work", a, "first", 100, &error), 0);
	test_assert_int(store_timer_set(store, "down", a, NULL, 200, &error), 0);
	test_assert_int(schedule_tick(s, 4000, 10, &st, &error), -1);
	test_assert(strstr(error, "disk full") != NULL);
	test_assert_int(count_events(store, a, "work"), 2);
	test_assert_int(timers(store, NULL), 2);
	test_assert_int(store_timer_cancel(store, "down", a, NULL, &error), 0);
	test_assert_int(schedule_tick(s, 4000, 10, &st, &error), 0);
	test_assert_int(count_events(store, a, "work"), 3);

	test_begin("a kind without a handler waits an hour");
	test_assert_int(store_timer_set(store, "survey", a, NULL, 100, &error), 0);
	test_assert_int(schedule_tick(s, 5000, 10, &st, &error), 0);
	test_assert_int(st.unknown, 1);
	test_assert_int(store_timer_get(store, "survey", a, "", &tm, &error), 1);
	test_assert_int(tm != NULL ? tm->due_at : 0, 5000 + 3600);
	store_timer_free(&tm);
	test_assert_int(store_timer_cancel(store, "survey", a, NULL, &error), 0);

	test_begin("batches: max per tick, more to do");
	for (int i = 0; i < 25; i++) {
		char subj[16];
		snprintf(subj, sizeof(subj), "n%d", i);
		test_assert_int(store_timer_set(store, "work", b, subj, 6000 + i, &error), 0);
	}
	test_assert_int(schedule_tick(s, 7000, 10, &st, &error), 0);
	test_assert(st.handled == 10 && st.more);
	test_assert_int(schedule_run_due(s, 7000, 10, 100, &st, &error), 0);
	test_assert(st.handled == 15 && !st.more);
	test_assert_int(count_events(store, b, "work"), 26);

	test_begin("a crash in the middle of a tick: done once, later");
	test_assert_int(store_timer_set(store, "work", a, "crash", 8000, &error), 0);
	int64_t before = count_events(store, a, "work");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		die_in_handler = 1;
		(void)schedule_tick(s, 9000, 10, &st, &error);
		_exit(1); /* not reached */
	}
	int status = 0;
	waitpid(pid, &status, 0);
	test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	test_assert_int(count_events(store, a, "work"), before);
	test_assert_int(timers(store, "work"), 1);
	test_assert_int(schedule_tick(s, 9000, 10, &st, &error), 0);
	test_assert_int(count_events(store, a, "work"), before + 1);
	test_assert_int(schedule_tick(s, 9000, 10, &st, &error), 0);
	test_assert_int(count_events(store, a, "work"), before + 1);

	schedule_free(&s);
	schedule_free(&s);
	store_close(&store);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	free(cmd);
	free(db);
	return test_exit();
}
