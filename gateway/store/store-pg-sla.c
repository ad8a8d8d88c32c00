/*
 * store-pg-sla: the SLA tables of the PostgreSQL driver (store-sla.h):
 * ticket_sla, timers, sla_notices and the ticket query of `ticket list` and
 * the digests, the counterpart of store-sqlite-sla.c with the same SELECT
 * lists. Its statements are a part of the driver (store-pg.h), prepared on
 * first use as the core's are.
 */
#include "build-config.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-pg.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sla-driver.h"
#include "gateway/store/store-sla-sql.h"
#include "gateway/store/store-sqlite-sql.h"

#define TARGET_SET(t)                                                                     \
	t "_start = excluded." t "_start, " t "_paused = excluded." t "_paused, " t          \
	"_due = excluded." t "_due, " t "_warn = excluded." t "_warn, " t "_met = excluded." t \
	"_met, "

static const char *const sql[SQ_COUNT] = {
	[SQ_SLA_GET] = "SELECT " SLA_COLS("") " FROM ticket_sla WHERE ticket_id = $1",
	[SQ_SLA_PUT] = "INSERT INTO ticket_sla (" SLA_COLS("") ") VALUES ($1, $2, $3, $4, $5, $6, "
		       "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
		       "$22, $23, $24) ON CONFLICT (ticket_id) DO UPDATE SET "
		       "policy = excluded.policy, calendar = excluded.calendar, "
		       "basis = excluded.basis, status = excluded.status, vip = excluded.vip, "
		       TARGET_SET("first") TARGET_SET("next") TARGET_SET("resolution")
		       "paused_at = excluded.paused_at, earliest_due = excluded.earliest_due, "
		       "updated_at = excluded.updated_at",
	[SQ_TIMER_SET] = "INSERT INTO timers (kind, ticket_id, subject, due_at, created_at) "
			 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, ticket_id, subject) "
			 "DO UPDATE SET due_at = excluded.due_at",
	[SQ_TIMER_CANCEL] =
		"DELETE FROM timers WHERE kind = $1 AND ticket_id = $2 AND subject = $3",
	[SQ_TIMER_CANCEL_ALL] = "DELETE FROM timers WHERE kind = $1 AND ticket_id = $2",
	[SQ_TIMER_GET] = "SELECT " TIMER_COLS " FROM timers WHERE kind = $1 AND ticket_id = $2 "
			 "AND subject = $3",
	[SQ_TIMER_DUE] = "SELECT " TIMER_COLS " FROM timers WHERE due_at <= $1 "
			 "ORDER BY due_at, id LIMIT $2",
	[SQ_TIMER_NEXT] = "SELECT due_at FROM timers ORDER BY due_at LIMIT 1",
	[SQ_TIMER_COUNT] = "SELECT count(*) FROM timers WHERE $1::text IS NULL OR kind = $1",
	[SQ_NOTICE_ADD] = "INSERT INTO sla_notices (ticket_id, target, level, period, recipient, "
			  "outbox_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	[SQ_NOTICE_FIND] = "SELECT 1 FROM sla_notices WHERE ticket_id = $1 AND target = $2 AND "
			   "level = $3 AND period = $4 AND recipient = $5",
	[SQ_NOTICE_RECENT] = "SELECT 1 FROM sla_notices WHERE ticket_id = $1 AND recipient = $2 "
			     "AND level = $3 AND at >= $4 LIMIT 1",
	[SQ_TICKETS] =
		"SELECT " TICKET_COLS ", " SLA_COLS("s.") " FROM tickets t "
		"LEFT JOIN ticket_sla s ON s.ticket_id = t.id "
		"WHERE ($1::text IS NULL OR t.status = $1) AND ($2 = 0 OR t.status <> 'closed') "
		"AND ($3::citext IS NULL OR t.queue = $3::citext) "
		"AND ($4::citext IS NULL OR t.assignee = $4) "
		"AND ($5 = 0 OR t.assignee IS NULL) AND ($6 = 0 OR s.vip = 1) "
		"AND ($7 = 0 OR (s.earliest_due > 0 AND s.earliest_due < $7)) "
		"ORDER BY CASE WHEN $8 = 0 THEN 0 WHEN s.earliest_due > 0 THEN s.earliest_due "
		"ELSE 9223372036854775807 END, t.id DESC LIMIT $9",
	[SQ_DIGEST_ADD] = "INSERT INTO digests (kind, recipient, day, items, at) "
			  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	[SQ_REPORT_SENT_ADD] = "INSERT INTO reports_sent (period_start, period_end, recipient, "
			       "tickets, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
};

const struct pg_part pg_sla_part = { "sla", sql, SQ_COUNT };

static const char *
name(int id, char buf[16])
{
	return pg_part_name(PG_PART_SLA, (size_t)id, buf);
}

static int
sla_select(struct store *store, enum store_sla_select what, const struct store_sla_select_arg *a,
	   void **rows_r, size_t *count_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	const char *w;
	int id;

	switch (what) {
	case STORE_SLA_SELECT_SLA:
		id = SQ_SLA_GET;
		w = "get ticket SLA";
		pg_int(&p, a->id);
		break;
	case STORE_SLA_SELECT_TIMER:
		id = SQ_TIMER_GET;
		w = "get timer";
		pg_text(&p, a->kind);
		pg_int(&p, a->id);
		pg_text(&p, a->text);
		break;
	case STORE_SLA_SELECT_TIMERS_DUE:
		id = SQ_TIMER_DUE;
		w = "due timers";
		pg_int(&p, a->id);
		pg_limit(&p, a->limit);
		break;
	case STORE_SLA_SELECT_TICKETS: {
		const struct store_ticket_filter *f = a->filter;
		id = SQ_TICKETS;
		w = "query tickets";
		pg_text(&p, f->status);
		pg_int(&p, f->not_closed != 0);
		pg_text(&p, f->queue);
		pg_text(&p, f->assignee);
		pg_int(&p, f->unassigned != 0);
		pg_int(&p, f->vip != 0);
		pg_int(&p, f->due_before);
		pg_int(&p, f->by_due != 0);
		pg_limit(&p, f->limit);
		break;
	}
	default:
		*error_r = "store: SLA select: unknown";
		return STORE_DATA_BAD;
	}
	return pg_rows(pgs(store), name(id, buf), &p, store_sla_records[what], w, rows_r, count_r,
		       error_r);
}

static int
sla_put(struct store *store, const struct store_sla *a, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_int(&p, a->ticket_id);
	pg_text(&p, a->policy);
	pg_text(&p, a->calendar);
	pg_text(&p, a->basis);
	pg_text(&p, a->status);
	pg_int(&p, a->vip != 0);
	for (int i = 0; i < STORE_SLA_TARGETS; i++) {
		pg_int(&p, a->start[i]);
		pg_int(&p, a->paused[i]);
		pg_int(&p, a->due[i]);
		pg_int(&p, a->warn[i]);
		pg_int(&p, a->met[i]);
	}
	pg_int(&p, a->paused_at);
	pg_int(&p, a->earliest_due);
	pg_int(&p, a->updated_at);
	return pg_do(pgs(store), name(SQ_SLA_PUT, buf), &p, "put ticket SLA", error_r);
}

static int
timer_set(struct store *store, const char *kind, int64_t ticket_id, const char *subject,
	  int64_t due_at, int64_t now, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_text(&p, kind);
	pg_int(&p, ticket_id);
	pg_text(&p, subject);
	pg_int(&p, due_at);
	pg_int(&p, now);
	return pg_do(pgs(store), name(SQ_TIMER_SET, buf), &p, "set timer", error_r);
}

static int
timer_cancel(struct store *store, const char *kind, int64_t ticket_id, const char *subject,
	     const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_text(&p, kind);
	pg_int(&p, ticket_id);
	if (subject != NULL)
		pg_text(&p, subject);
	return pg_do(pgs(store), name(subject != NULL ? SQ_TIMER_CANCEL : SQ_TIMER_CANCEL_ALL, buf),
		     &p, "cancel timer", error_r);
}

static int
timer_next(struct store *store, int64_t *due_r, const char **error_r)
{
	char buf[16];
	return pg_int_row(pgs(store), name(SQ_TIMER_NEXT, buf), NULL, due_r, "next timer", error_r);
}

static int
timer_count(struct store *store, const char *kind, int64_t *count_r, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_text(&p, kind);
	int ret = pg_int_row(pgs(store), name(SQ_TIMER_COUNT, buf), &p, count_r, "count timers",
			     error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
notice_add(struct store *store, int64_t ticket_id, const char *target, const char *level,
	   int64_t period, const char *recipient, int64_t outbox_id, int64_t now,
	   const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_int(&p, ticket_id);
	pg_text(&p, target);
	pg_text(&p, level);
	pg_int(&p, period);
	pg_text(&p, recipient);
	pg_ref(&p, outbox_id);
	pg_int(&p, now);
	int64_t n = pg_changes(pgs(store), name(SQ_NOTICE_ADD, buf), &p, "record SLA notice",
			       error_r);
	return n < 0 ? (int)n : n > 0;
}

static int
notice_find(struct store *store, int64_t ticket_id, const char *target, const char *level,
	    int64_t period, const char *recipient, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	int64_t one;
	pg_int(&p, ticket_id);
	pg_text(&p, target);
	pg_text(&p, level);
	pg_int(&p, period);
	pg_text(&p, recipient);
	return pg_int_row(pgs(store), name(SQ_NOTICE_FIND, buf), &p, &one, "find SLA notice",
			  error_r);
}

static int
notice_recent(struct store *store, int64_t ticket_id, const char *recipient, const char *level,
	      int64_t since, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	int64_t one;
	pg_int(&p, ticket_id);
	pg_text(&p, recipient);
	pg_text(&p, level);
	pg_int(&p, since);
	return pg_int_row(pgs(store), name(SQ_NOTICE_RECENT, buf), &p, &one,
			  "find recent SLA notice", error_r);
}

static int
digest_add(struct store *store, const char *kind, const char *recipient, const char *day,
	   int64_t items, int64_t now, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_text(&p, kind);
	pg_text(&p, recipient);
	pg_text(&p, day);
	pg_int(&p, items);
	pg_int(&p, now);
	int64_t n = pg_changes(pgs(store), name(SQ_DIGEST_ADD, buf), &p, "record digest", error_r);
	return n < 0 ? (int)n : n > 0;
}

static int
report_sent_add(struct store *store, int64_t period_start, int64_t period_end,
		const char *recipient, int64_t tickets, int64_t now, const char **error_r)
{
	struct pg_params p = { 0 };
	char buf[16];
	pg_int(&p, period_start);
	pg_int(&p, period_end);
	pg_text(&p, recipient);
	pg_int(&p, tickets);
	pg_int(&p, now);
	int64_t n = pg_changes(pgs(store), name(SQ_REPORT_SENT_ADD, buf), &p, "record weekly report",
			       error_r);
	return n < 0 ? (int)n : n > 0;
}

const struct store_sla_driver store_pg_sla_driver = {
	.digest_add = digest_add,
	.report_sent_add = report_sent_add,
	.select = sla_select,
	.sla_put = sla_put,
	.timer_set = timer_set,
	.timer_cancel = timer_cancel,
	.timer_next = timer_next,
	.timer_count = timer_count,
	.notice_add = notice_add,
	.notice_find = notice_find,
	.notice_recent = notice_recent,
};
