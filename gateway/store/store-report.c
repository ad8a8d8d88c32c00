/*
 * store-report: the dispatcher's part of reports and surveys (see
 * store-report.h): it checks arguments, calls the driver's scan and turns
 * each row into the scan's record, column by column in the order of the
 * record's fields.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/store/store-driver.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-report.h"
#include "base/util.h"

struct scan {
	enum store_report_scan what;
	store_report_fn *fn;
	void *context;
	/* The rule scan's last (ticket, rule): its rows come grouped by
	   both, so a row is its ticket's first hit of the rule when either
	   differs from the row before. */
	int64_t last_ticket;
	char *last_rule;
};

static const char *
text(const struct store_row_reader *r, void *row, size_t col)
{
	const char *s = r->text(row, col);
	return s != NULL ? s : "";
}

/* "#category by a@b: category A -> B": A, the category before the change,
   into buf; "" when the detail is not such a line. */
static const char *
category_before(const char *detail, char *buf, size_t size)
{
	const char *p = strstr(detail, ": category ");
	const char *arrow = p != NULL ? strstr(p, " -> ") : NULL;
	if (arrow == NULL)
		return "";
	p += strlen(": category ");
	size_t n = (size_t)(arrow - p);
	if (n == 0 || n >= size || (n == 6 && memcmp(p, "(none)", 6) == 0))
		return "";
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static int
scan_row(void *context, const struct store_row_reader *r, void *row)
{
	struct scan *sc = context;
	switch (sc->what) {
	case STORE_REPORT_TICKETS: {
		char cat[256];
		struct store_report_ticket t = {
			.id = r->int64(row, 0),
			.created_at = r->int64(row, 1),
			.status = text(r, row, 2),
			.category = text(r, row, 3),
			.priority = text(r, row, 4),
			.queue = text(r, row, 5),
			.language = text(r, row, 6),
			.assignee = text(r, row, 7),
			.channel = text(r, row, 8),
			.first_response_at = r->int64(row, 9),
			.due_at = r->int64(row, 10),
			.closed_at = r->int64(row, 11),
			.reopened = r->int64(row, 12),
			.rules_category = category_before(text(r, row, 13), cat, sizeof(cat)),
			.subject = text(r, row, 14),
			.sla_calendar = text(r, row, 15),
		};
		for (int k = 0; k < STORE_REPORT_SLA_TARGETS; k++) {
			t.sla_due[k] = r->int64(row, 16 + 2 * k);
			t.sla_met[k] = r->int64(row, 17 + 2 * k);
		}
		return sc->fn(sc->context, &t);
	}
	case STORE_REPORT_MESSAGES: {
		struct store_report_message m = {
			.ticket_id = r->int64(row, 0),
			.created_at = r->int64(row, 1),
			.direction = text(r, row, 2),
			.category = text(r, row, 3),
			.queue = text(r, row, 4),
			.language = text(r, row, 5),
			.assignee = text(r, row, 6),
			.channel = text(r, row, 7),
			.from_address = text(r, row, 8),
		};
		return sc->fn(sc->context, &m);
	}
	case STORE_REPORT_REOPENS: {
		struct store_report_reopen o = {
			.ticket_id = r->int64(row, 0),
			.at = r->int64(row, 1),
			.category = text(r, row, 2),
			.queue = text(r, row, 3),
			.language = text(r, row, 4),
			.assignee = text(r, row, 5),
			.channel = "",
		};
		return sc->fn(sc->context, &o);
	}
	case STORE_REPORT_RULES: {
		int64_t ticket = r->int64(row, 0);
		const char *rule = text(r, row, 1);
		int first = sc->last_rule == NULL || ticket != sc->last_ticket ||
			    strcmp(rule, sc->last_rule) != 0;
		if (first) {
			free(sc->last_rule);
			sc->last_rule = xstrdup(rule);
			sc->last_ticket = ticket;
		}
		struct store_report_rule h = { .rule = rule, .hits = 1, .tickets = first };
		return sc->fn(sc->context, &h);
	}
	case STORE_REPORT_SURVEYS: {
		struct store_report_survey v = {
			.ticket_id = r->int64(row, 0),
			.sent_at = r->int64(row, 1),
			.score = (int)r->int64(row, 2),
			.comment = r->text(row, 3),
			.assignee = r->text(row, 4),
			.voted_at = r->int64(row, 5),
			.category = text(r, row, 6),
			.queue = text(r, row, 7),
			.language = text(r, row, 8),
			.channel = text(r, row, 9),
		};
		return sc->fn(sc->context, &v);
	}
	case STORE_REPORT_SCAN_COUNT:
		break;
	}
	return 0;
}

static int
scan(struct store *store, enum store_report_scan what, int64_t since, int64_t until,
     store_report_fn *fn, void *context, const char **error_r)
{
	if (since > until) {
		*error_r = "store: report: the period ends before it starts";
		return STORE_DATA_BAD;
	}
	struct scan sc = { what, fn, context, 0, NULL };
	int ret = store->driver->report_scan(store, what, since, until, scan_row, &sc, error_r);
	free(sc.last_rule);
	return ret;
}

int
store_report_tickets(struct store *store, int64_t since, int64_t until, store_report_fn *fn,
		     void *context, const char **error_r)
{
	return scan(store, STORE_REPORT_TICKETS, since, until, fn, context, error_r);
}

int
store_report_messages(struct store *store, int64_t since, int64_t until, store_report_fn *fn,
		      void *context, const char **error_r)
{
	return scan(store, STORE_REPORT_MESSAGES, since, until, fn, context, error_r);
}

int
store_report_reopens(struct store *store, int64_t since, int64_t until, store_report_fn *fn,
		     void *context, const char **error_r)
{
	return scan(store, STORE_REPORT_REOPENS, since, until, fn, context, error_r);
}

int
store_report_rules(struct store *store, int64_t since, int64_t until, store_report_fn *fn,
		   void *context, const char **error_r)
{
	return scan(store, STORE_REPORT_RULES, since, until, fn, context, error_r);
}

int
store_report_surveys(struct store *store, int64_t since, int64_t until, store_report_fn *fn,
		     void *context, const char **error_r)
{
	return scan(store, STORE_REPORT_SURVEYS, since, until, fn, context, error_r);
}

int
store_survey_sent(struct store *store, int64_t ticket_id, const char *customer,
		  int64_t outbox_id, int64_t sent_at, const char **error_r)
{
	if (ticket_id <= 0 || customer == NULL || *customer == '\0') {
		*error_r = "store: survey sent: no ticket or no customer";
		return STORE_DATA_BAD;
	}
	return store->driver->survey_sent(store, ticket_id, customer, outbox_id, sent_at, error_r);
}

int
store_survey_vote(struct store *store, int64_t ticket_id, int score, const char *comment,
		  int64_t voted_at, const char **error_r)
{
	if (score < 1 || score > 5) {
		*error_r = "store: survey vote: a score is 1 to 5";
		return STORE_DATA_BAD;
	}
	return store->driver->survey_vote(store, ticket_id, score, comment, voted_at, error_r);
}

int
store_survey_for_ticket(struct store *store, int64_t ticket_id, int64_t *sent_at_r,
			const char **error_r)
{
	*sent_at_r = 0;
	return store->driver->survey_for_ticket(store, ticket_id, sent_at_r, error_r);
}

int
store_survey_last_sent(struct store *store, const char *customer, int64_t *sent_at_r,
		       const char **error_r)
{
	*sent_at_r = 0;
	return store->driver->survey_last_sent(store, customer, sent_at_r, error_r);
}
