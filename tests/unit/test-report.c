/*
 * test-report: every figure of a report on a small hand-made store whose
 * right answers are written here (worked out by hand in the comments),
 * grouped by nothing, by day and by agent; the survey store functions
 * (one survey per ticket, a later vote replaces an earlier one, the
 * assignee kept with the vote, the last survey per customer); the
 * distribution switching from exact values to its histogram; and the
 * writers (JSON parses back, CSV has a row per group, the HTML page has
 * the expected number of chart marks).
 *
 * The store is a real SQLite file in a temporary directory, or with
 * DESKGATE_TEST_STORE_URL a fresh database of a real PostgreSQL
 * (test-report-pg.sh, test-store-url.h): the same right answers on both.
 * Events and rule hits are written with SQL directly (sqlite3, or psql),
 * to give them the times of the story (the store stamps them with the
 * clock). The statements' plans are SQLite's (EXPLAIN QUERY PLAN).
 */
#include "build-config.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/hours.h"
#include "gateway/report.h"
#include "gateway/store.h"
#include "gateway/store/store-merge.h"
#include "gateway/store/store-sqlite-sql.h"
#include "base/util.h"
#include "tests/unit/test-store-url.h"
#include "tests/unit/test.h"

#define H 3600
#define DAY 86400

static char tmpdir[] = "/tmp/dg-test-report-XXXXXX";
static char db_path[1024]; /* the SQLite file, or "postgresql:CONNINFO" */
static struct store *store;
static sqlite3 *db;
static int64_t D; /* Monday 2026-11-02 00:00 UTC */

static int64_t
ticket(const char *category, const char *status, const char *queue, const char *language,
       const char *assignee, int64_t created, int64_t first_response, int64_t due)
{
	const char *error;
	struct store_ticket t = {
		.subject = "help",
		.status = status,
		.category = category,
		.priority = "normal",
		.queue = queue,
		.language = language,
		.customer_address = "c@example.com",
		.created_at = created,
		.first_response_at = first_response,
		.due_at = due,
		.assignee = assignee,
	};
	int64_t id = 0;
	test_assert_int(store_ticket_insert(store, &t, &id, &error), 0);
	return id;
}

static void
message(int64_t ticket_id, const char *direction, const char *from, int64_t at)
{
	static int n;
	char key[32], text[32];
	snprintf(key, sizeof(key), "k%d", ++n);
	snprintf(text, sizeof(text), "text %d", n);
	struct store_message m = {
		.ticket_id = ticket_id,
		.direction = direction,
		.from_address = from,
		.text = text,
		.dedupe_key = key,
		.mailbox = "INBOX",
		.created_at = at,
	};
	const char *error;
	test_assert_int(store_message_insert(store, &m, NULL, &error), 0);
}

/* On PostgreSQL: stmt with ?1 and ?4 as numbers, ?2 and ?3 as quoted
   strings (the test's own, quotes doubled), run by psql. */
static void
sql_pg(const char *stmt, int64_t a, const char *b, const char *c, int64_t d)
{
	struct buf q;
	buf_init(&q, 64 * 1024);
	for (const char *p = stmt; *p != '\0'; p++) {
		if (p[0] != '?' || p[1] < '1' || p[1] > '4') {
			(void)buf_putc(&q, *p);
			continue;
		}
		p++;
		if (*p == '1' || *p == '4') {
			(void)buf_printf(&q, "%lld", (long long)(*p == '1' ? a : d));
			continue;
		}
		(void)buf_putc(&q, '\'');
		for (const char *v = *p == '2' ? b : c; *v != '\0'; v++) {
			if (*v == '\'')
				(void)buf_putc(&q, '\'');
			(void)buf_putc(&q, *v);
		}
		(void)buf_putc(&q, '\'');
	}
	(void)buf_puts(&q, ";\n");
	char *file = xasprintf("%s/q.sql", tmpdir);
	FILE *f = fopen(file, "w");
	test_assert(f != NULL);
	if (f != NULL) {
		fputs(buf_cstr(&q), f);
		fclose(f);
	}
	/* the harness's conninfo and the test's directory: no quote in them */
	char *cmd = xasprintf("psql -X -q -v ON_ERROR_STOP=1 -d '%s' -f '%s' >/dev/null",
			      strchr(db_path, ':') + 1, file);
	test_assert_int(system(cmd), 0);
	free(cmd);
	free(file);
	buf_free(&q);
}

static void
sql(const char *stmt, int64_t a, const char *b, const char *c, int64_t d)
{
	if (test_store_url() != NULL) {
		sql_pg(stmt, a, b, c, d);
		return;
	}
	sqlite3_stmt *st;
	test_assert_int(sqlite3_prepare_v2(db, stmt, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, d);
	test_assert_int(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void
event(int64_t ticket_id, const char *kind, const char *detail, int64_t at)
{
	sql("INSERT INTO events (ticket_id, kind, detail, at) VALUES (?1, ?2, ?3, ?4)", ticket_id,
	    kind, detail, at);
}

static void
rule_hit(int64_t ticket_id, const char *rule, int64_t at)
{
	sql("INSERT INTO rule_hits (ticket_id, rule, detail, at) VALUES (?1, ?2, ?3, ?4)",
	    ticket_id, rule, "", at);
}

static void
sla_row(int64_t id, const char *calendar, int64_t first_due, int64_t first_met,
	int64_t resolution_due, int64_t resolution_met)
{
	const char *error;
	struct store_sla row = { .ticket_id = id, .policy = "default", .calendar = calendar,
				 .basis = "", .status = "open" };
	row.start[STORE_SLA_FIRST_RESPONSE] = row.start[STORE_SLA_RESOLUTION] = D;
	row.due[STORE_SLA_FIRST_RESPONSE] = first_due;
	row.met[STORE_SLA_FIRST_RESPONSE] = first_met;
	row.due[STORE_SLA_RESOLUTION] = resolution_due;
	row.met[STORE_SLA_RESOLUTION] = resolution_met;
	test_assert_int(store_sla_put(store, &row, &error), 0);
}

/* The story (all UTC; the period is Monday D to Thursday D + 3 days):
   T1 complaint, vip, en, assigned to a@desk: Mon 01:00, answered after
      30 min (promise 1 h: kept), reopened by the customer Mon 03:00,
      closed Tue 01:00 (resolution 1 d); survey Tue 02:00, vote 5.
   T2 complaint (the rules said other; a@desk changed it), fr: Mon 02:00,
      answered after 1 h (promise 30 min: broken), closed Wed 12:00
      (resolution 2 d 10 h); survey Wed 13:00, no vote.
   T3 complaint, zh-CN: Tue 10:00, unanswered, promised by Tue 11:00:
      broken at `now` (Thursday).
   T4 other, en: Wed 09:00, answered after 10 min (promise 1 h: kept),
      closed Wed 11:00 (resolution 2 h); survey Wed 12:00, vote 2 then 3.
   T5 other: Sunday before, still open (backlog, oldest open, not new).
   T6: created and closed before the period: in no figure.
   T7: created after the period: in no figure. */
static int64_t t1, t2, t3, t4, t5;

static void
make_store(void)
{
	const char *error;
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 2 };
	D = (int64_t)timegm(&tm);
	test_assert(mkdtemp(tmpdir) != NULL);
	char *location = test_store_location(tmpdir, "report");
	if (location == NULL)
		exit(test_store_url() != NULL && getenv("CI") == NULL ? 77 : 1);
	snprintf(db_path, sizeof(db_path), "%s", location);
	free(location);
	if (store_open(db_path, tmpdir, &store, &error) < 0) {
		printf("store_open: %s\n", error);
		exit(1);
	}

	t1 = ticket("complaint", "closed", "vip", "en", "a@desk", D + 1 * H, D + 1 * H + 1800,
		    D + 2 * H);
	t2 = ticket("complaint", "closed", NULL, "fr", NULL, D + 2 * H, D + 3 * H, D + 2 * H + 1800);
	t3 = ticket("complaint", "new", NULL, "zh-CN", NULL, D + DAY + 10 * H, 0, D + DAY + 11 * H);
	t4 = ticket("other", "closed", NULL, "en", NULL, D + 2 * DAY + 9 * H,
		    D + 2 * DAY + 9 * H + 600, D + 2 * DAY + 10 * H);
	t5 = ticket("other", "open", NULL, "en", NULL, D - DAY, 0, 0);
	int64_t t6 = ticket("other", "closed", NULL, "en", NULL, D - 2 * DAY, D - 2 * DAY + H, 0);
	int64_t t7 = ticket("other", "new", NULL, "en", NULL, D + 3 * DAY + H, 0, 0);

	message(t1, "in", "c@example.com", D + 1 * H);
	message(t1, "agent", "a@desk", D + 1 * H + 1800);
	message(t1, "in", "c@example.com", D + 3 * H);
	message(t2, "in", "c@example.com", D + 2 * H);
	message(t2, "agent", "b@desk", D + 3 * H);
	message(t3, "in", "c@example.com", D + DAY + 10 * H);
	/* t3's acknowledgement (ack.c stores what it sent as direction
	   "out"): not an agent's reply. */
	message(t3, "out", "support@desk", D + DAY + 10 * H + 5);
	message(t4, "in", "c@example.com", D + 2 * DAY + 9 * H);
	message(t4, "agent", "a@desk", D + 2 * DAY + 9 * H + 600);
	message(t5, "in", "c@example.com", D - DAY);
	message(t7, "in", "c@example.com", D + 3 * DAY + H);

	if (test_store_url() == NULL)
		test_assert_int(sqlite3_open(db_path, &db), SQLITE_OK);
	event(t1, "reopened", "by a reply from c@example.com", D + 3 * H);
	event(t1, "agent", "#close by a@desk: status open -> closed", D + DAY + H);
	event(t2, "agent", "#category by a@desk: category other -> complaint", D + 4 * H);
	event(t2, "agent", "#close by a@desk: status open -> closed", D + 2 * DAY + 12 * H);
	event(t4, "agent", "#close by a@desk: status open -> closed", D + 2 * DAY + 11 * H);
	event(t4, "agent", "#reopen by a@desk: already open", D + 2 * DAY + 10 * H); /* no reopening */
	event(t6, "agent", "#close by a@desk: status open -> closed", D - DAY);
	rule_hit(t1, "complaint-words", D + 1 * H);
	rule_hit(t1, "complaint-words", D + 3 * H);
	rule_hit(t3, "complaint-words", D + DAY + 10 * H);
	rule_hit(t4, "other", D + 2 * DAY + 9 * H);
	rule_hit(t5, "other", D - DAY);

	test_assert_int(store_survey_sent(store, t1, "c@example.com", 0, D + DAY + 2 * H, &error), 0);
	test_assert_int(store_survey_sent(store, t2, "c@example.com", 0, D + 2 * DAY + 13 * H, &error),
			0);
	test_assert_int(store_survey_sent(store, t4, "d@example.com", 0, D + 2 * DAY + 12 * H, &error),
			0);
	/* SLA rows (migration 9): T1 on the round-the-clock calendar "allday",
	   first response met (due Mon 02:00, met 01:30), resolution breached
	   (due Tue 00:00, met at the close Tue 01:00); T2 first response
	   breached (due 02:30, met 03:00); T3 first response breached at
	   `now` (due Tue 11:00, unanswered), resolution running (due Sat). */
	sla_row(t1, "allday", D + 2 * H, D + H + 1800, D + DAY, D + DAY + H);
	sla_row(t2, "default", D + 2 * H + 1800, D + 3 * H, 0, 0);
	sla_row(t3, "default", D + DAY + 11 * H, 0, D + 5 * DAY, 0);
	test_assert_int(store_survey_vote(store, t1, 5, "quick and kind", D + DAY + 3 * H, &error), 1);
	test_assert_int(store_survey_vote(store, t4, 2, "slow", D + 2 * DAY + 13 * H, &error), 1);
	test_assert_int(store_survey_vote(store, t4, 3, "ok after all", D + 2 * DAY + 14 * H, &error),
			1);
}

static struct hours *
utc(void)
{
	struct hours *h;
	const char *error;
	test_assert_int(hours_new("UTC", "mon-fri 08:00-20:00", "", &h, &error), 0);
	return h;
}

/* The calendars of the SLA rows: "allday" counts every second. */
static struct hours *allday;

static const struct hours *
calendar(const void *context, const char *name)
{
	(void)context;
	return strcmp(name, "allday") == 0 ? allday : NULL;
}

static struct report *
compute(enum report_by by, struct hours *h)
{
	struct report_options opt = { .since = D, .until = D + 3 * DAY, .now = D + 3 * DAY,
				      .by = by, .hours = h, .calendar = calendar };
	struct report *r = NULL;
	const char *error = NULL;
	int ret = report_compute(store, &opt, &r, &error);
	if (ret < 0)
		printf("report: %s\n", error);
	test_assert_int(ret, 0);
	return r;
}

static int
count_row(void *context, const void *record)
{
	(void)record;
	(*(int *)context)++;
	return 0;
}

/* Both ticket scans (the short period's index ranges and the long
   period's pass over the table) keep the same tickets. */
static void
test_ticket_scans(void)
{
	test_begin("report ticket scans");
	const char *error;
	int n = 0;
	/* T1-T5: T6 closed before, T7 created after */
	test_assert_int(store_report_tickets(store, D, D + 3 * DAY, count_row, &n, &error), 0);
	test_assert_int(n, 5);
	n = 0;
	test_assert_int(store_report_tickets(store, D - 40 * DAY, D + 3 * DAY, count_row, &n, &error),
			0);
	test_assert_int(n, 6); /* and T6 */
	n = 0;
	test_assert_int(store_report_tickets(store, D + 2 * DAY + 11 * H + 1, D + 40 * DAY, count_row,
					     &n, &error),
			0);
	test_assert_int(n, 4); /* T2 (closed at Wed 12:00), T3, T5, T7; not T1, T4 */
}

static void
test_totals(void)
{
	test_begin("report totals");
	struct hours *h = utc();
	struct report *r = compute(REPORT_BY_NONE, h);
	const struct report_figures *f = &r->total;
	test_assert_int(f->new_tickets, 4);
	test_assert_int(f->customer_messages, 5);
	test_assert_int(f->agent_replies, 3);
	test_assert_int(f->reopened, 1);
	test_assert_int(f->solved, 3);
	/* first responses 600, 1800, 3600: median rank 2, p90 rank 3 */
	test_assert_int(f->first_response.count, 3);
	test_assert_int(f->first_response.median, 1800);
	test_assert_int(f->first_response.p90, 3600);
	test_assert_int(f->unanswered, 1);
	/* resolutions 7200, 86400, 208800 */
	test_assert_int(f->resolution.count, 3);
	test_assert_int(f->resolution.median, 86400);
	test_assert_int(f->resolution.p90, 208800);
	test_assert_int(f->sla_met, 2);
	test_assert_int(f->sla_breached, 2);
	test_assert_int(f->sla_pending, 0);
	test_assert_int((int)report_sla_share(f), 50);
	/* business time: T2 and T4 on [hours] (mon-fri 08:00-20:00), T1 on
	   "allday". First responses: T1 1800 (wall), T2 0 (02:00-03:00, closed
	   hours), T4 600 -> 0 600 1800. Resolutions: T1 86400 (wall), T2 Mon
	   12 h + Tue 12 h + Wed 08:00-12:00 = 100800, T4 7200 */
	test_assert_int(f->first_response_business.count, 3);
	test_assert_int(f->first_response_business.median, 600);
	test_assert_int(f->first_response_business.p90, 1800);
	test_assert_int(f->resolution_business.count, 3);
	test_assert_int(f->resolution_business.median, 86400);
	test_assert_int(f->resolution_business.p90, 100800);
	/* SLA targets of the new tickets with a row (T1 T2 T3) */
	test_assert_int(f->target_met[STORE_SLA_FIRST_RESPONSE], 1);
	test_assert_int(f->target_breached[STORE_SLA_FIRST_RESPONSE], 2);
	test_assert_int(f->target_running[STORE_SLA_FIRST_RESPONSE], 0);
	test_assert_int(f->target_met[STORE_SLA_NEXT_RESPONSE] +
				f->target_breached[STORE_SLA_NEXT_RESPONSE] +
				f->target_running[STORE_SLA_NEXT_RESPONSE],
			0);
	test_assert_int(f->target_met[STORE_SLA_RESOLUTION], 0);
	test_assert_int(f->target_breached[STORE_SLA_RESOLUTION], 1);
	test_assert_int(f->target_running[STORE_SLA_RESOLUTION], 1);
	test_assert_int((int)(report_target_share(f, STORE_SLA_FIRST_RESPONSE) * 100), 3333);
	test_assert_int((int)report_target_share(f, STORE_SLA_NEXT_RESPONSE), -1);
	test_assert_int(f->surveys_sent, 3);
	test_assert_int(f->votes, 2);
	test_assert_int(f->scores[5], 1);
	test_assert_int(f->scores[3], 1);
	test_assert_int(f->scores[2], 0);
	test_assert_int((int)report_csat(f), 50);

	/* days Mon, Tue, Wed: new 2 1 1; open at the end: T5 T1 T2 | T5 T2 T3 |
	   T5 T3 */
	test_assert_int(r->n_days, 3);
	if (r->n_days == 3) {
		test_assert_str(r->day_key[0], "2026-11-02");
		test_assert_int(r->day_created[0], 2);
		test_assert_int(r->day_created[1], 1);
		test_assert_int(r->day_created[2], 1);
		test_assert_int(r->day_backlog[0], 3);
		test_assert_int(r->day_backlog[1], 3);
		test_assert_int(r->day_backlog[2], 2);
	}
	test_assert_int(r->heatmap[0][1], 1); /* Monday 01:00 */
	test_assert_int(r->heatmap[0][2], 1);
	test_assert_int(r->heatmap[1][10], 1);
	test_assert_int(r->heatmap[2][9], 1);
	int64_t sum = 0;
	for (int w = 0; w < 7; w++)
		for (int hh = 0; hh < 24; hh++)
			sum += r->heatmap[w][hh];
	test_assert_int(sum, 4);

	test_assert_int(r->n_oldest, 2);
	test_assert_int(r->oldest[0].id, t5);
	test_assert_int(r->oldest[1].id, t3);

	test_assert_int(r->n_rules, 2);
	if (r->n_rules == 2) {
		test_assert_str(r->rules[0].rule, "complaint-words");
		test_assert_int(r->rules[0].hits, 3);
		test_assert_int(r->rules[0].tickets, 2);
		test_assert_str(r->rules[1].rule, "other");
		test_assert_int(r->rules[1].hits, 1);
	}
	/* the rules chose complaint for T1 T3 (kept) and other for T2 T4
	   (T2 changed) */
	test_assert_int(r->n_categories, 2);
	if (r->n_categories == 2) {
		test_assert_str(r->categories[0].category, "complaint");
		test_assert_int(r->categories[0].tickets, 2);
		test_assert_int(r->categories[0].changed, 0);
		test_assert_str(r->categories[1].category, "other");
		test_assert_int(r->categories[1].tickets, 2);
		test_assert_int(r->categories[1].changed, 1);
	}
	/* newest first; the later vote replaced the earlier one */
	test_assert_int(r->n_comments, 2);
	if (r->n_comments == 2) {
		test_assert_str(r->comments[0].comment, "ok after all");
		test_assert_int(r->comments[0].score, 3);
		test_assert_str(r->comments[1].comment, "quick and kind");
		test_assert_str(r->comments[1].assignee, "a@desk");
	}
	report_free(&r);
	test_assert(r == NULL);
	hours_free(&h);
}

static const struct report_group *
group(const struct report *r, const char *key)
{
	for (size_t i = 0; i < r->n_groups; i++)
		if (strcmp(r->groups[i].key, key) == 0)
			return &r->groups[i];
	printf("no group %s\n", key);
	return NULL;
}

static void
test_groups(void)
{
	test_begin("report groups");
	struct hours *h = utc();
	struct report *r = compute(REPORT_BY_DAY, h);
	test_assert_int(r->n_groups, 3);
	const struct report_group *mon = group(r, "2026-11-02"), *tue = group(r, "2026-11-03"),
				  *wed = group(r, "2026-11-04");
	if (mon != NULL && tue != NULL && wed != NULL) {
		test_assert_int(mon->f.new_tickets, 2);
		test_assert_int(mon->f.customer_messages, 3);
		test_assert_int(mon->f.agent_replies, 2);
		test_assert_int(mon->f.reopened, 1);
		test_assert_int(mon->f.solved, 0);
		test_assert_int(tue->f.solved, 1);
		test_assert_int(tue->f.resolution.median, 86400);
		test_assert_int(wed->f.solved, 2);
		test_assert_int(wed->f.new_tickets, 1);
		test_assert_int(tue->f.surveys_sent, 1);
		test_assert_int(wed->f.surveys_sent, 2);
		test_assert_int(wed->f.votes, 1);
	}
	report_free(&r);

	r = compute(REPORT_BY_AGENT, h);
	const struct report_group *a = group(r, "a@desk"), *b = group(r, "b@desk"),
				  *none = group(r, "(none)");
	if (a != NULL && b != NULL && none != NULL) {
		test_assert_int(a->f.new_tickets, 1);
		test_assert_int(a->f.customer_messages, 2);
		test_assert_int(a->f.agent_replies, 2);
		test_assert_int(a->f.votes, 1);
		test_assert_int(a->f.scores[5], 1);
		test_assert_int(b->f.agent_replies, 1);
		test_assert_int(b->f.new_tickets, 0);
		test_assert_int(none->f.new_tickets, 3);
	}
	report_free(&r);

	r = compute(REPORT_BY_WEEK, h);
	test_assert_int(r->n_groups, 1);
	if (r->n_groups == 1)
		test_assert_str(r->groups[0].key, "2026-W45");
	report_free(&r);
	hours_free(&h);
}

static void
test_survey_store(void)
{
	test_begin("survey store");
	const char *error;
	int64_t at = -1;
	test_assert_int(store_survey_last_sent(store, "C@Example.com", &at, &error), 0);
	test_assert_int(at, D + 2 * DAY + 13 * H);
	test_assert_int(store_survey_last_sent(store, "x@example.com", &at, &error), 0);
	test_assert_int(at, 0);
	/* one survey per ticket; a vote needs a survey and a score 1-5 */
	test_assert_int(store_survey_sent(store, t1, "c@example.com", 0, D, &error), STORE_DATA_BAD);
	test_assert_int(store_survey_vote(store, t3, 4, NULL, D, &error), 0);
	test_assert_int(store_survey_vote(store, t1, 6, NULL, D, &error), STORE_DATA_BAD);
	test_assert_int(store_survey_vote(store, t1, 0, NULL, D, &error), STORE_DATA_BAD);
}

static void
test_dist_histogram(void)
{
	test_begin("report distribution past the exact limit");
	/* 20,000 tickets with first responses 1..20000 s: the median is
	   10000 and the p90 18000, within the histogram's 1.6%. */
	char dir[] = "/tmp/dg-test-report-big-XXXXXX", path[256];
	const char *error;
	struct store *saved = store;
	test_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/deskgate.db", dir);
	test_assert_int(store_open(path, dir, &store, &error), 0);
	test_assert_int(store_begin(store, &error), 0);
	for (int i = 1; i <= 20000; i++)
		ticket("other", "open", NULL, "en", NULL, D + i, D + i + i, 0);
	test_assert_int(store_commit(store, &error), 0);
	struct hours *h = utc();
	struct report *r = compute(REPORT_BY_NONE, h);
	test_assert_int(r->total.first_response.count, 20000);
	test_assert(r->total.first_response.median >= 9840 && r->total.first_response.median <= 10000);
	test_assert(r->total.first_response.p90 >= 17712 && r->total.first_response.p90 <= 18000);
	report_free(&r);
	hours_free(&h);
	store_close(&store);
	store = saved;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	test_assert_int(system(cmd), 0);
}

/* The output of a writer, in a malloc()ed string. */
static char *
written(int (*writer)(const struct report *, FILE *), const struct report *r)
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);
	test_assert_int(writer(r, f), 0);
	fclose(f);
	return data;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_writers(void)
{
	test_begin("report writers");
	struct hours *h = utc();
	struct report *r = compute(REPORT_BY_DAY, h);

	char *json = written(report_write_json, r);
	json_error_t jerr;
	json_t *root = json_loads(json, 0, &jerr);
	test_assert(root != NULL);
	json_t *totals = json_object_get(root, "totals");
	test_assert_int(json_integer_value(json_object_get(totals, "new_tickets")), 4);
	test_assert_int(json_integer_value(json_object_get(json_object_get(totals, "first_response"),
							   "median")),
			1800);
	test_assert_int(json_array_size(json_object_get(root, "groups")), 3);
	test_assert_int(json_array_size(json_object_get(root, "days")), 3);
	test_assert_int(json_array_size(json_object_get(root, "heatmap")), 7);
	test_assert(json_real_value(json_object_get(json_object_get(totals, "satisfaction"),
						    "csat")) == 50.0);
	json_decref(root);
	free(json);

	char *csv = written(report_write_csv, r);
	test_assert_int(count(csv, "\r\n"), 1 + 1 + 3); /* header, total, 3 days */
	test_assert(strstr(csv, "\r\ntotal,4,5,3,1,3,3,1800,3600,1,3,86400,208800,2,2,0,3,2,0,0,1,0,1,"
				"600,1800,86400,100800,1,2,0,0,0,0,0,1,1\r\n")
		    != NULL);
	free(csv);

	char *text = written(report_write_text, r);
	test_assert(strstr(text, "new tickets        4") != NULL);
	test_assert(strstr(text, "median 30m 00s, p90 1h 00m") != NULL);
	free(text);

	char *html = written(report_write_html, r);
	test_assert(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	test_assert(strstr(html, "<script") == NULL && strstr(html, "http") == NULL);
	test_assert_int(count(html, "class=\"mark\""), 3 + 3 + 168 + 5);
	free(html);
	report_free(&r);
	hours_free(&h);
}

/* Each scan reads its index ranges; over a long period (the _ALL
   statements) one index or table in ticket order, each ticket's row
   found next to the one before. The plan of each report statement names
   its indexes; no plain SCAN but the one meant; no correlated look-up
   per row (the rule scan's NOT EXISTS per hit, 2 of the year's seconds
   at a million tickets); no temporary b-tree, whose memory would grow
   with the period, but the short rule scan's sort of at most
   STORE_REPORT_LONG_PERIOD of hits (the long one reads the hits in the
   order of rule_hits_report). */
static void
test_plans(void)
{
	test_begin("report plans");
	if (test_store_url() != NULL) {
		printf("# plans: SQLite's EXPLAIN QUERY PLAN, not run on PostgreSQL\n");
		return;
	}
	static const struct {
		enum stmt_id stmt;
		const char *indexes[3];
		const char *scan; /* the one SCAN allowed */
		int sorts;
	} plans[] = {
		{ STMT_REPORT_TICKETS,
		  { "tickets_status (status<?)", "tickets_status (status>?)",
		    "tickets_status (status=? AND updated_at>?)" },
		  NULL,
		  0 },
		{ STMT_REPORT_TICKETS_ALL, { "SCAN t", NULL, NULL }, "SCAN t", 0 },
		{ STMT_REPORT_MESSAGES, { "COVERING INDEX messages_created", NULL, NULL }, NULL, 0 },
		{ STMT_REPORT_MESSAGES_ALL,
		  { "SCAN m USING COVERING INDEX messages_report",
		    "SEARCH t USING INTEGER PRIMARY KEY", NULL },
		  "SCAN m USING COVERING INDEX messages_report",
		  0 },
		{ STMT_REPORT_REOPENS, { "INDEX events_reopen (at>? AND at<?)", NULL, NULL }, NULL, 0 },
		{ STMT_REPORT_RULES, { "INDEX rule_hits_at", NULL, NULL }, NULL, 1 },
		{ STMT_REPORT_RULES_ALL,
		  { "SCAN h USING COVERING INDEX rule_hits_report", NULL, NULL },
		  "SCAN h USING COVERING INDEX rule_hits_report",
		  0 },
		{ STMT_REPORT_SURVEYS, { "INDEX surveys_sent", NULL, NULL }, NULL, 0 },
		{ STMT_REPORT_SURVEYS_ALL, { "SCAN s", "SEARCH t USING INTEGER PRIMARY KEY", NULL },
		  "SCAN s",
		  0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(plans); i++) {
		char *q = xasprintf("EXPLAIN QUERY PLAN %s", store_sqlite_sql[plans[i].stmt]);
		sqlite3_stmt *st;
		test_assert_int(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_int64(st, 1, D);
		sqlite3_bind_int64(st, 2, D + DAY);
		struct buf plan;
		buf_init(&plan, 64 * 1024);
		while (sqlite3_step(st) == SQLITE_ROW) {
			buf_puts(&plan, (const char *)sqlite3_column_text(st, 3));
			buf_puts(&plan, "\n");
		}
		sqlite3_finalize(st);
		printf("plan %zu:\n%s", i, buf_cstr(&plan));
		const char *p = buf_cstr(&plan);
		for (size_t k = 0; k < 3 && plans[i].indexes[k] != NULL; k++)
			test_assert(strstr(p, plans[i].indexes[k]) != NULL);
		/* No plain scan but the one meant. */
		const char *scan = strstr(p, "SCAN ");
		if (plans[i].scan == NULL)
			test_assert(scan == NULL);
		else
			test_assert(scan != NULL && strncmp(scan, plans[i].scan,
							    strlen(plans[i].scan)) == 0 &&
				    strstr(scan + 1, "SCAN ") == NULL);
		test_assert(strstr(p, "SUBQUERY") == NULL);
		if (plans[i].sorts)
			test_assert(strstr(p, "USE TEMP B-TREE FOR ORDER BY") != NULL);
		else
			test_assert(strstr(p, "TEMP B-TREE") == NULL);
		/* The ticket scans read the tickets (and the SLA row by its
		   key) alone: no look-up per ticket into events or messages,
		   which cost 40 s for a year of a million tickets (the
		   figures are on the ticket, store-report-sql.h). */
		if (plans[i].stmt == STMT_REPORT_TICKETS || plans[i].stmt == STMT_REPORT_TICKETS_ALL)
			test_assert(strstr(p, "events") == NULL && strstr(p, "messages") == NULL);
		buf_free(&plan);
		free(q);
	}
}

/* Both scans of each kind, the short period's index ranges and the long
   period's pass in ticket order, give the same figures (the long one
   over a period just longer than STORE_REPORT_LONG_PERIOD that holds
   the same rows). */
static void
test_long_scans(void)
{
	test_begin("report long scans");
	struct hours *h = utc();
	struct report_options opt = { .since = D - 3 * DAY, .until = D + 3 * DAY, .now = D + 3 * DAY,
				      .by = REPORT_BY_AGENT, .hours = h, .calendar = calendar };
	struct report *a = NULL, *b = NULL;
	const char *error = NULL;
	test_assert_int(report_compute(store, &opt, &a, &error), 0);
	opt.since = opt.until - STORE_REPORT_LONG_PERIOD - 1;
	test_assert_int(report_compute(store, &opt, &b, &error), 0);
	if (a != NULL && b != NULL) {
		test_assert_int(b->total.customer_messages, a->total.customer_messages);
		test_assert_int(b->total.agent_replies, a->total.agent_replies);
		test_assert_int(b->total.surveys_sent, a->total.surveys_sent);
		test_assert_int(b->total.votes, a->total.votes);
		test_assert_int((int64_t)b->n_groups, (int64_t)a->n_groups);
		for (size_t g = 0; g < a->n_groups && g < b->n_groups; g++) {
			const struct report_group *x = group(b, a->groups[g].key);
			test_assert(x != NULL);
			if (x == NULL)
				continue;
			test_assert_int(x->f.customer_messages, a->groups[g].f.customer_messages);
			test_assert_int(x->f.agent_replies, a->groups[g].f.agent_replies);
		}
		test_assert_int((int64_t)b->n_rules, (int64_t)a->n_rules);
		for (size_t i = 0; i < a->n_rules && i < b->n_rules; i++) {
			test_assert_str(b->rules[i].rule, a->rules[i].rule);
			test_assert_int(b->rules[i].hits, a->rules[i].hits);
			test_assert_int(b->rules[i].tickets, a->rules[i].tickets);
		}
	}
	report_free(&a);
	report_free(&b);
	hours_free(&h);
}

static void
test_escaping(void)
{
	test_begin("report html escaping");
	const char *error;
	int64_t id = ticket("other", "open", NULL, "en", NULL, D + 5, 0, 0);
	test_assert_int(store_ticket_set(store, id, "queue", "<b>&\"q'</b>", &error), 0);
	struct hours *h = utc();
	struct report *r = compute(REPORT_BY_QUEUE, h);
	char *html = written(report_write_html, r);
	test_assert(strstr(html, "<b>&") == NULL);
	test_assert(strstr(html, "&lt;b&gt;&amp;&quot;q&#39;&lt;/b&gt;") != NULL);
	free(html);
	report_free(&r);
	hours_free(&h);
}

/* SLA attainment per queue, and the new figures in every writer. */
static void
test_sla_by_queue(void)
{
	test_begin("report SLA targets by queue");
	struct hours *h = utc();
	struct report *r = compute(REPORT_BY_QUEUE, h);
	const struct report_group *vip = group(r, "vip");
	test_assert(vip != NULL);
	if (vip != NULL) {
		test_assert_int(vip->f.target_met[STORE_SLA_FIRST_RESPONSE], 1);
		test_assert_int(vip->f.target_breached[STORE_SLA_FIRST_RESPONSE], 0);
		test_assert_int(vip->f.target_breached[STORE_SLA_RESOLUTION], 1);
		test_assert_int(vip->f.first_response_business.median, 1800);
	}
	char *json = written(report_write_json, r);
	json_error_t jerr;
	json_t *root = json_loads(json, 0, &jerr);
	test_assert(root != NULL);
	json_t *totals = json_object_get(root, "totals");
	json_t *frb = json_object_get(totals, "first_response_business");
	test_assert_int(json_integer_value(json_object_get(frb, "median")), 600);
	test_assert_int(json_integer_value(json_object_get(frb, "p90")), 1800);
	json_t *res = json_object_get(json_object_get(totals, "sla"), "resolution");
	test_assert_int(json_integer_value(json_object_get(res, "breached")), 1);
	test_assert_int(json_integer_value(json_object_get(res, "running")), 1);
	test_assert((int)json_number_value(json_object_get(res, "share")) == 0 &&
		    json_is_number(json_object_get(res, "share")));
	json_t *fr = json_object_get(json_object_get(totals, "sla"), "first_response");
	test_assert_int(json_integer_value(json_object_get(fr, "met")), 1);
	test_assert_int(json_integer_value(json_object_get(fr, "breached")), 2);
	test_assert(json_is_null(json_object_get(
		json_object_get(json_object_get(totals, "sla"), "next_response"), "share")));
	json_decref(root);
	free(json);
	char *csv = written(report_write_csv, r);
	test_assert(strstr(csv, ",sla_first_response_met,") != NULL);
	/* the totals' row ends with the business times and the targets */
	test_assert(strstr(csv, ",600,1800,86400,100800,1,2,0,0,0,0,0,1,1\r\n") != NULL);
	free(csv);
	char *html = written(report_write_html, r);
	test_assert(strstr(html, "SLA targets met (breaches)") != NULL);
	test_assert(strstr(html, "<tr><td>vip</td><td class=\"num\">100%</td>") != NULL);
	free(html);
	char *text = written(report_write_text, r);
	test_assert(strstr(text, "first_response  met 33.3% (1 met, 2 breached, 0 running)") != NULL);
	free(text);
	report_free(&r);
	hours_free(&h);
}

struct reopens_of {
	int64_t id[2], reopened[2];
};

static int
reopens_row(void *context, const void *record)
{
	struct reopens_of *o = context;
	const struct store_report_ticket *t = record;
	for (size_t i = 0; i < 2; i++)
		if (t->id == o->id[i])
			o->reopened[i] = t->reopened;
	return 0;
}

/* #merge copies M's events into N's history (store-merge.h): M's
   reopening is M's, once (not once more under N), and M's messages,
   moved to N, count once, under N (docs/reports.md "Merged tickets").
   Before the fix the copied "reopened" event counted as N's too, in the
   reopenings scan and in N's `reopens`. */
static void
test_merged_reopens(void)
{
	test_begin("report merged tickets");
	const char *error;
	int64_t n = ticket("other", "open", NULL, "de", NULL, D + 4 * H, D + 4 * H + 600, 0);
	int64_t m = ticket("other", "open", NULL, "de", NULL, D + 5 * H, D + 5 * H + 600, 0);
	message(n, "in", "e@example.com", D + 4 * H);
	message(m, "in", "e@example.com", D + 5 * H);
	message(m, "agent", "a@desk", D + 5 * H + 600);
	message(m, "in", "e@example.com", D + 6 * H);
	event(m, "reopened", "by a reply from e@example.com", D + 6 * H);
	struct hours *h = utc();
	struct report *before = compute(REPORT_BY_LANGUAGE, h);
	test_assert_int(store_ticket_merge(store, m, n, D + 7 * H, &error), 0);
	struct report *after = compute(REPORT_BY_LANGUAGE, h);
	test_assert_int(after->total.reopened, before->total.reopened);
	test_assert_int(after->total.customer_messages, before->total.customer_messages);
	test_assert_int(after->total.agent_replies, before->total.agent_replies);
	const struct report_group *de = group(after, "de");
	test_assert(de != NULL);
	if (de != NULL) {
		test_assert_int(de->f.reopened, 1);
		test_assert_int(de->f.customer_messages, 3);
		test_assert_int(de->f.agent_replies, 1);
	}
	struct reopens_of o = { { n, m }, { -1, -1 } };
	test_assert_int(store_report_tickets(store, D, D + 3 * DAY, reopens_row, &o, &error), 0);
	test_assert_int(o.reopened[0], 0); /* N */
	test_assert_int(o.reopened[1], 1); /* M */
	report_free(&before);
	report_free(&after);
	hours_free(&h);
}

int
main(void)
{
	const char *error;
	if (hours_new("UTC", "24x7", "", &allday, &error) < 0) {
		printf("hours_new: %s\n", error);
		return 1;
	}
	make_store();
	test_ticket_scans();
	test_totals();
	test_groups();
	test_survey_store();
	test_writers();
	test_plans();
	test_escaping();
	test_dist_histogram();
	test_sla_by_queue();
	test_long_scans();
	test_merged_reopens();
	hours_free(&allday);
	if (db != NULL)
		sqlite3_close(db);
	store_close(&store);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	return test_exit();
}
