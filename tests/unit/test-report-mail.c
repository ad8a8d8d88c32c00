/*
 * test-report-mail: the weekly report by mail on a real store (SQLite, or
 * the PostgreSQL of DESKGATE_TEST_STORE_URL, test-store-url.h), through the
 * real ingest pipeline, deskmail and scheduler, with the test clock: the
 * report goes at Monday 08:00 Berlin time and not a minute before, once
 * per week across later ticks, a restart and a timer set back; the week
 * of a DST change is 167 hours and has its one report at the right hour;
 * a daemon down for weeks sends one report, of the latest week, which says
 * that no mail came in; the recipients by default ([agent] supervisor =
 * yes, else [alerts] supervisors) and as listed; `off`; configuration
 * errors name file:line.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/ingest.h"
#include "gateway/report-mail.h"
#include "gateway/schedule.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "base/util.h"
#include "tests/unit/desk-test.h"
#include "tests/unit/test-store-url.h"
#include "tests/unit/test.h"

#define MIN 60
#define HOUR 3600
#define DAY 86400
/* Tuesday 2025-03-11 10:00 Berlin (CET). */
#define NOW 1741683600
/* Monday 2025-03-17 08:00 Berlin (07:00 UTC). */
#define MON_0800 1742194800
/* Monday 2025-03-24 08:00 CET; Monday 2025-03-31 08:00 CEST (06:00 UTC). */
#define MON24_0800 1742799600
#define MON31_0800 1743400800
/* Midnights around the spring-forward night of 2025-03-30. */
#define MON24_0000 1742770800
#define MON31_0000 1743372000

static char tmpdir[] = "/tmp/dg-test-report-mail.XXXXXX";
static struct config *config;
static struct store *store;
static struct ingest *ingest;
static struct thread_config *tc;
static struct deskmail *dm;
static struct report_mail *rm;
static struct schedule *sched;
static char *clock_file;

static const char *const desk =
	"hostname = desk.example.test\nsupport_address = support@example.test\n"
	"support_name = Example Support\n"
	"[hours]\ntimezone = Europe/Berlin\nweek = mon-fri 09:00-18:00\n"
	"[alerts]\nsupervisors = ops@example.test\n"
	"[agent alice]\naddress = alice@staff.example\nname = Alice Agent\nlanguage = de\n"
	"supervisor = yes\n"
	"[agent bob]\naddress = bob@staff.example\nname = Bob Agent\n";

static int64_t
customer_mail(const char *subject, int64_t now)
{
	return desk_customer_mail(ingest, clock_file, 'r', subject, now);
}

static int
tick(int64_t now)
{
	return desk_tick(sched, clock_file, now);
}

/* Weekly reports queued to rcpt whose text holds needle (NULL: any). */
static int
reports(const char *rcpt, const char *needle)
{
	return desk_count_outbox(store, "report", rcpt, needle, NULL);
}

static int64_t
timer_due(void)
{
	struct store_timer *t = NULL;
	const char *error;
	int64_t due = 0;
	if (store_timer_get(store, REPORT_MAIL_TIMER, 0, REPORT_MAIL_SUBJECT, &t, &error) == 1)
		due = t->due_at;
	store_timer_free(&t);
	return due;
}

/* A new struct report_mail with cfg (the daemon restarted), armed at now. */
static int
restart_with(const struct config *cfg, int64_t now)
{
	const char *error;
	schedule_free(&sched);
	report_mail_free(&rm);
	desk_set_clock(clock_file, now);
	if (report_mail_new(cfg, store, dm, &rm, &error) < 0 ||
	    report_mail_arm(rm, now, &error) < 0) {
		printf("report-mail: %s\n", error);
		return -1;
	}
	sched = schedule_new(store);
	report_mail_register(rm, sched);
	return 0;
}

static int
restart(int64_t now)
{
	return restart_with(config, now);
}

/* The configuration of desk + extra in its own directory under tmpdir:
   loaded (caller frees), or NULL with *error_r. */
static struct config *
other_config(const char *name, const char *extra, const char **error_r)
{
	char *dir = xasprintf("%s/%s", tmpdir, name);
	desk_mkdir_p(dir);
	char *text = xasprintf("%s%s", desk, extra);
	char *path = desk_write_config(dir, text);
	struct config *c = NULL;
	if (config_load(path, &c, error_r) < 0)
		c = NULL;
	free(path);
	free(text);
	free(dir);
	return c;
}

static void
test_week(void)
{
	test_begin("armed for Monday 08:00 Berlin");
	test_assert_int((int)report_mail_recipient_count(rm), 1);
	test_assert_str(report_mail_recipient(rm, 0), "alice@staff.example");
	test_assert(timer_due() == MON_0800);

	test_assert(customer_mail("Deposit missing", NOW) > 0);
	test_assert(customer_mail("Withdrawal stuck", NOW + DAY) > 0);
	test_assert(customer_mail("KYC question", NOW + 2 * DAY) > 0);

	test_begin("not a minute early; at 08:00 one report of Monday to Sunday");
	test_assert_int(tick(MON_0800 - MIN), 0);
	test_assert_int(reports("alice@staff.example", NULL), 0);
	test_assert_int(tick(MON_0800), 0);
	test_assert_int(reports("alice@staff.example", NULL), 1);
	/* in Alice's language, the figures of the week, the whole text report */
	test_assert_int(reports("alice@staff.example",
				"3 neue Tickets, 0 gelöst, 3 jetzt offen"),
			1);
	test_assert_int(desk_count_outbox(store, "report", "alice@staff.example", "New tickets",
					  "Subject: Wochenbericht Support 2025-03-10 bis 2025-03-16"),
			1);
	/* [report] by: queue by default */
	test_assert_int(reports("alice@staff.example", "\nBy queue\n"), 1);
	/* the HTML part is the report's page with its charts, no script */
	test_assert_int(desk_count_outbox(store, "report", "alice@staff.example", NULL,
					  "Content-Type: text/html"),
			1);
	test_assert_int(desk_count_outbox(store, "report", "alice@staff.example", NULL,
					  "Auto-Submitted: auto-generated"),
			1);
	test_assert_int(desk_count_outbox(store, "report", "alice@staff.example", NULL,
					  "In-Reply-To:"),
			0);
	/* nobody else: Bob is no supervisor, [alerts] is the fallback */
	test_assert_int(reports("bob@staff.example", NULL), 0);
	test_assert_int(reports("ops@example.test", NULL), 0);
	test_assert(timer_due() == MON24_0800);
}

static void
test_once(void)
{
	const char *error;
	test_begin("once per week: later ticks, a restart, a timer set back");
	test_assert_int(tick(MON_0800 + HOUR), 0);
	test_assert_int(restart(MON_0800 + 2 * HOUR), 0);
	test_assert(timer_due() == MON24_0800);
	test_assert_int(store_timer_set(store, REPORT_MAIL_TIMER, 0, REPORT_MAIL_SUBJECT, MON_0800,
					&error),
			0);
	test_assert_int(tick(MON_0800 + 2 * HOUR), 0);
	test_assert_int(reports("alice@staff.example", NULL), 1);
	test_assert(timer_due() == MON24_0800);
}

static void
test_dst(void)
{
	int64_t since = 0, until = 0;
	test_begin("DST: the week of the spring-forward night is 167 hours, sent at 08:00 CEST");
	test_assert_int(report_mail_period(rm, MON31_0800, &since, &until), 0);
	test_assert(since == MON24_0000 && until == MON31_0000);
	test_assert(until - since == 167 * HOUR);
	/* Saturday 29th: the report of the 24th is late (the daemon was down) */
	test_assert_int(restart(MON31_0800 - 2 * DAY + 5 * HOUR), 0);
	test_assert_int(tick(MON31_0800 - 2 * DAY + 5 * HOUR), 0);
	test_assert_int(reports("alice@staff.example", "2025-03-17 bis 2025-03-23"), 1);
	test_assert(timer_due() == MON31_0800);
	for (int64_t t = MON31_0800 - 2 * DAY + 6 * HOUR; t < MON31_0800; t += 15 * MIN)
		test_assert_int(tick(t), 0);
	test_assert_int(reports("alice@staff.example", NULL), 2);
	test_assert_int(tick(MON31_0800), 0);
	test_assert_int(reports("alice@staff.example", "2025-03-24 bis 2025-03-30"), 1);
	test_assert_int(reports("alice@staff.example", NULL), 3);

	test_begin("DST: a time that happens twice is one report");
	const char *error = NULL;
	struct config *c = other_config("sunday", "[report]\nweekly = SUN 02:30\n", &error);
	struct report_mail *sun = NULL;
	test_assert(c != NULL && report_mail_new(c, store, dm, &sun, &error) == 0);
	if (sun != NULL) {
		/* 2025-10-26 02:30 CEST (the first), then 2025-11-02 02:30 CET */
		test_assert(report_mail_next(sun, 1761393600) == 1761438600);
		test_assert(report_mail_next(sun, 1761438600) == 1762047000);
		/* the spring-forward gap: 02:30 is read as 03:30 CEST */
		test_assert(report_mail_next(sun, 1743249600) == 1743298200);
	}
	report_mail_free(&sun);
	config_free(&c);
}

static void
test_missed(void)
{
	test_begin("down for three weeks: one report, of the latest week, saying it was quiet");
	/* Monday 2025-04-21 14:00 CEST; the timer was due on the 7th */
	int64_t at = 1745236800;
	test_assert_int(restart(at), 0);
	test_assert_int(tick(at), 0);
	test_assert_int(tick(at + HOUR), 0);
	test_assert_int(reports("alice@staff.example", NULL), 4);
	test_assert_int(reports("alice@staff.example", "2025-04-14 bis 2025-04-20"), 1);
	/* quiet: the weeks of the 17th and 24th too; not the first */
	test_assert_int(reports("alice@staff.example", "Diese Woche kam keine Mail."), 3);
	test_assert_int(reports("alice@staff.example", "2025-04-07 bis"), 0);
	test_assert(timer_due() == 1745820000); /* Monday the 28th, 08:00 */
}

static void
test_recipients(void)
{
	const char *error = NULL;
	struct report_mail *r = NULL;
	test_begin("recipients as listed: an agent by name, an address");
	struct config *c = other_config("listed", "[report]\nrecipients = bob, Boss@Example.COM\n",
					&error);
	test_assert(c != NULL && report_mail_new(c, store, dm, &r, &error) == 0);
	if (r != NULL) {
		test_assert_int((int)report_mail_recipient_count(r), 2);
		test_assert_str(report_mail_recipient(r, 0), "bob@staff.example");
		test_assert_str(report_mail_recipient(r, 1), "Boss@Example.COM");
	}
	report_mail_free(&r);
	config_free(&c);

	test_begin("no agent flagged supervisor: [alerts] supervisors");
	char *text = xasprintf("hostname = desk.example.test\nsupport_address = support@example.test\n"
			       "[alerts]\nsupervisors = ops@example.test\n"
			       "[agent bob]\naddress = bob@staff.example\n");
	char *dir = xasprintf("%s/alerts", tmpdir);
	desk_mkdir_p(dir);
	char *path = desk_write_config(dir, text);
	test_assert_int(config_load(path, &c, &error), 0);
	test_assert(c != NULL && report_mail_new(c, store, dm, &r, &error) == 0);
	if (r != NULL) {
		test_assert_int((int)report_mail_recipient_count(r), 1);
		test_assert_str(report_mail_recipient(r, 0), "ops@example.test");
	}
	report_mail_free(&r);
	config_free(&c);
	free(path);
	free(dir);
	free(text);

	test_begin("a recipient that is no agent and no address: file:line");
	c = other_config("bad-rcpt", "[report]\nweekly = fri 17:00\nrecipients = alice, nobody\n",
			 &error);
	test_assert(c != NULL);
	if (c != NULL) {
		test_assert_int(report_mail_new(c, store, dm, &r, &error), -1);
		test_assert(r == NULL && strstr(error, "bad-rcpt/deskgate.conf:21:") != NULL &&
			    strstr(error, "\"nobody\"") != NULL);
	}
	config_free(&c);

	test_begin("[report] weekly and timezone errors: file:line");
	static const char *const bad[] = { "mon 8:00", "monday 08:00", "mon 24:00", "xyz 08:00",
					   "mon 08:60", "" };
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		char *extra = xasprintf("[report]\nweekly = %s\n", bad[i]);
		error = NULL;
		c = other_config("bad-weekly", extra, &error);
		test_assert(c == NULL && error != NULL &&
			    strstr(error, "bad-weekly/deskgate.conf:20") != NULL &&
			    strstr(error, "weekly") != NULL);
		if (c != NULL || error == NULL || strstr(error, "deskgate.conf:20") == NULL)
			printf("# %s: %s\n", bad[i], error != NULL ? error : "(accepted)");
		config_free(&c);
		free(extra);
	}
	c = other_config("bad-zone", "[report]\ntimezone = Mars/Olympus\n", &error);
	test_assert(c != NULL);
	if (c != NULL) {
		test_assert_int(report_mail_new(c, store, dm, &r, &error), -1);
		test_assert(strstr(error, "bad-zone/deskgate.conf:20: [report] timezone") != NULL);
	}
	config_free(&c);
}

static void
test_off(void)
{
	const char *error = NULL;
	test_begin("off: no recipient, the timer removed, nothing sent");
	struct config *c = other_config("off", "[report]\nweekly = off\n", &error);
	test_assert(c != NULL);
	if (c == NULL)
		return;
	test_assert(timer_due() > 0);
	test_assert_int(restart_with(c, 1745820000 - HOUR), 0);
	test_assert_int((int)report_mail_recipient_count(rm), 0);
	test_assert(report_mail_next(rm, NOW) == 0);
	test_assert(timer_due() == 0);
	test_assert_int(tick(1745820000 + DAY), 0);
	test_assert_int(reports("alice@staff.example", NULL), 4);
	schedule_free(&sched);
	report_mail_free(&rm);
	config_free(&c);
}

static int
setup(void)
{
	const char *error;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	clock_file = xasprintf("%s/clock", tmpdir);
	desk_set_clock(clock_file, NOW);
	setenv("DESKGATE_TEST_CLOCK", clock_file, 1);
	char *path = desk_write_config(tmpdir, desk);
	int ret = config_load(path, &config, &error);
	free(path);
	if (ret < 0) {
		printf("config: %s\n", error);
		return -1;
	}
	char *location = test_store_location(tmpdir, "report_mail");
	if (location == NULL)
		return -1;
	ret = store_open(location, tmpdir, &store, &error);
	free(location);
	if (ret < 0) {
		printf("store_open: %s\n", error);
		return -1;
	}
	if (ingest_init(config, store, &ingest, &error) < 0 ||
	    thread_config_new(config, &tc, &error) < 0 ||
	    deskmail_new(config, tc, store, &dm, &error) < 0) {
		printf("setup: %s\n", error);
		return -1;
	}
	return restart(NOW);
}

int
main(void)
{
	desk_datadir();
	if (setup() < 0)
		return 1;
	test_week();
	test_once();
	test_dst();
	test_missed();
	test_recipients();
	test_off();
	schedule_free(&sched);
	report_mail_free(&rm);
	deskmail_free(&dm);
	thread_config_free(&tc);
	ingest_free(&ingest);
	store_close(&store);
	config_free(&config);
	desk_rm_tree(tmpdir);
	free(clock_file);
	return test_exit();
}
