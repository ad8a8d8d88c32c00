/*
 * test-schedule-dst: the escalation ladder driven by the scheduler across
 * the weekends the clocks change, one with a holiday Monday, on a real
 * SQLite store through ingest, deskmail and the scheduler, ticking every
 * 15 minutes of test clock from Friday to Wednesday: exactly one warning
 * and one breach notice per ticket, each at the first tick at or after its
 * instant in business time (nothing over the weekend or on the holiday),
 * whatever the change of offset in between.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/escalate.h"
#include "gateway/ingest.h"
#include "gateway/schedule.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test.h"

#define MIN 60
#define HOUR 3600
#define DAY 86400

static char tmpdir[] = "/tmp/dg-test-schedule-dst.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static struct deskmail *dm;
static struct escalate *esc;
static struct schedule *sched;
static char *clock_file;

static int64_t
ticket_at(const char *subject, int64_t now)
{
	const char *error;
	char *raw = xasprintf("From: Carl <carl@customer.example>\nTo: support@example.test\n"
			      "Subject: %s\nMessage-ID: <%s.%d@customer.example>\n"
			      "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
			      "Please help.\n",
			      subject, subject, (int)getpid());
	int64_t id = desk_ingest_at(ingest, clock_file, raw, now);
	free(raw);
	if (id == 0)
		return 0;
	if (store_ticket_set(store, id, "assignee", "alice@staff.example", &error) < 0)
		printf("assign: %s\n", error);
	return id;
}

/* Tick every 15 minutes in [from, to). */
static void
tick_through(int64_t from, int64_t to)
{
	for (int64_t now = from; now < to; now += 15 * MIN) {
		if (desk_tick(sched, clock_file, now) < 0) {
			test_assert(0);
			return;
		}
	}
}

/* The escalations queued about ticket id to rcpt: how many, and when the
   first was queued (*at_r). */
static size_t
notices(int64_t id, const char *rcpt, int64_t *at_r)
{
	struct store_outbox *rows = NULL;
	size_t n = 0, found = 0;
	const char *error;
	*at_r = 0;
	if (store_outbox_list(store, NULL, 0, &rows, &n, &error) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].ticket_id != id || strcmp(rows[i].kind, "ack") == 0 ||
		    strcmp(rows[i].kind, "notify") == 0 ||
		    strcasestr(rows[i].recipients, rcpt) == NULL)
			continue;
		found++;
		if (*at_r == 0 || rows[i].created_at < *at_r)
			*at_r = rows[i].created_at;
	}
	store_outboxes_free(&rows, n);
	return found;
}

static void
test_spring(void)
{
	test_begin("spring forward, holiday Monday: warning and breach on Tuesday");
	/* Fri 2025-03-28 17:00 CET (16:00Z); 2h: 1h on Friday, Monday 31 is a
	   holiday, 1h on Tuesday from 09:00 CEST (07:00Z): warned 07:30Z, due
	   08:00Z */
	int64_t fri = 1743177600;
	int64_t id = ticket_at("spring", fri);
	test_assert(id > 0);
	int64_t at;
	tick_through(fri, fri + 3 * DAY + 15 * HOUR); /* to Tue 07:00Z */
	test_assert_int((int)notices(id, "alice@staff.example", &at), 0);
	test_assert_int((int)notices(id, "sue@boss.example", &at), 0);
	tick_through(fri + 3 * DAY + 15 * HOUR, fri + 5 * DAY);
	test_assert_int((int)notices(id, "alice@staff.example", &at), 1);
	test_assert_int(at, 1743492600); /* Tue 2025-04-01 07:30Z = 09:30 CEST */
	test_assert_int((int)notices(id, "sue@boss.example", &at), 1);
	test_assert_int(at, 1743494400); /* 08:00Z = 10:00 CEST */
}

static void
test_fall(void)
{
	test_begin("fall back: warning and breach on Monday in winter time");
	/* Fri 2025-10-24 17:30 CEST (15:30Z); 2h: 30m on Friday, 1h30 on
	   Monday 27 from 09:00 CET (08:00Z): warned 09:00Z, due 09:30Z */
	int64_t fri = 1761319800;
	int64_t id = ticket_at("fall", fri);
	test_assert(id > 0);
	int64_t at;
	tick_through(fri, fri + 2 * DAY + 17 * HOUR + 30 * MIN); /* to Mon 09:00Z */
	test_assert_int((int)notices(id, "alice@staff.example", &at), 0);
	test_assert_int((int)notices(id, "sue@boss.example", &at), 0);
	tick_through(fri + 2 * DAY + 17 * HOUR + 30 * MIN, fri + 5 * DAY);
	test_assert_int((int)notices(id, "alice@staff.example", &at), 1);
	test_assert_int(at, 1761555600); /* Mon 2025-10-27 09:00Z = 10:00 CET */
	test_assert_int((int)notices(id, "sue@boss.example", &at), 1);
	test_assert_int(at, 1761557400); /* 09:30Z */
}

static int
setup(void)
{
	const char *error;
	if (desk_clock_init(tmpdir, 1743177600, &clock_file) < 0)
		return -1;
	int ret = desk_open(
		tmpdir,
		"hostname = desk.example.test\nsupport_address = support@example.test\n"
		"support_name = Example Support\n"
		"[hours]\ntimezone = Europe/Berlin\nweek = mon-fri 09:00-18:00\n"
		"holidays = 2025-03-31\n"
		"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\nqueues = general\n"
		"[queue general]\ncategories = other, delayed_payment, account_security, failed_trade, "
		"registration, complaint\nagents = alice\nsupervisors = sue@boss.example\n"
		"[sla default]\nfirst_response = 2h\nwarn_at = 75\nrepeat = 0\n"
		"[digest]\nenabled = no\n",
		&config, &store);
	if (ret < 0)
		return -1;
	if (desk_ingest_open(config, store, 0, &ingest, &tc, &dm) < 0)
		return -1;
	if (escalate_new(config, store, dm, &esc, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	sched = schedule_new(store);
	escalate_register(esc, sched);
	return 0;
}

int
main(void)
{
	desk_datadir();
	if (setup() < 0)
		return 1;
	test_spring();
	test_fall();
	schedule_free(&sched);
	escalate_free(&esc);
	desk_close(&dm, &tc, &ingest, &store, &config);
	desk_rm_tree(tmpdir);
	free(clock_file);
	return test_exit();
}
