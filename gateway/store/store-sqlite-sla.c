/*
 * store-sqlite-sla: the SLA tables of the SQLite driver (store-sla.h,
 * migration 9): ticket_sla, timers, sla_notices, and the ticket query of
 * `ticket list` and the digests; the digests sent (migration "digests"). Its statements are a part of the driver
 * (store-sqlite.h): prepared at open with the core's.
 */
#include "build-config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "base/util.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sla-driver.h"
#include "gateway/store/store-sla-sql.h"
#include "gateway/store/store-sqlite.h"


static const char *const sql[SQ_COUNT] = {
	[SQ_SLA_GET] = "SELECT " SLA_COLS("") " FROM ticket_sla WHERE ticket_id = ?1",
	[SQ_SLA_PUT] = "INSERT OR REPLACE INTO ticket_sla (" SLA_COLS("") ") VALUES (?1, ?2, ?3, "
		       "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
		       "?20, ?21, ?22, ?23, ?24)",
	[SQ_TIMER_SET] = "INSERT INTO timers (kind, ticket_id, subject, due_at, created_at) "
			 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (kind, ticket_id, subject) "
			 "DO UPDATE SET due_at = excluded.due_at",
	[SQ_TIMER_CANCEL] =
		"DELETE FROM timers WHERE kind = ?1 AND ticket_id = ?2 AND subject = ?3",
	[SQ_TIMER_CANCEL_ALL] = "DELETE FROM timers WHERE kind = ?1 AND ticket_id = ?2",
	[SQ_TIMER_GET] = "SELECT " TIMER_COLS " FROM timers WHERE kind = ?1 AND ticket_id = ?2 "
			 "AND subject = ?3",
	/* timers_due: a range of the index, however many timers wait */
	[SQ_TIMER_DUE] = "SELECT " TIMER_COLS " FROM timers WHERE due_at <= ?1 "
			 "ORDER BY due_at, id LIMIT ?2",
	[SQ_TIMER_NEXT] = "SELECT due_at FROM timers ORDER BY due_at LIMIT 1",
	[SQ_TIMER_COUNT] = "SELECT count(*) FROM timers WHERE ?1 IS NULL OR kind = ?1",
	[SQ_NOTICE_ADD] = "INSERT INTO sla_notices (ticket_id, target, level, period, recipient, "
			  "outbox_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
	[SQ_NOTICE_FIND] = "SELECT 1 FROM sla_notices WHERE ticket_id = ?1 AND target = ?2 AND "
			   "level = ?3 AND period = ?4 AND recipient = ?5",
	[SQ_NOTICE_RECENT] = "SELECT 1 FROM sla_notices WHERE ticket_id = ?1 AND recipient = ?2 "
			     "AND level = ?3 AND at >= ?4 LIMIT 1",
	/* Every filter is optional (NULL or 0): one statement for all of them. */
	[SQ_TICKETS] =
		"SELECT " TICKET_COLS ", " SLA_COLS("s.") " FROM tickets t "
		"LEFT JOIN ticket_sla s ON s.ticket_id = t.id "
		"WHERE (?1 IS NULL OR t.status = ?1) AND (?2 = 0 OR t.status <> 'closed') "
		"AND (?3 IS NULL OR t.queue = ?3 COLLATE NOCASE) "
		"AND (?4 IS NULL OR t.assignee = ?4 COLLATE NOCASE) "
		"AND (?5 = 0 OR t.assignee IS NULL) AND (?6 = 0 OR s.vip = 1) "
		"AND (?7 = 0 OR (s.earliest_due > 0 AND s.earliest_due < ?7)) "
		"ORDER BY CASE WHEN ?8 = 0 THEN 0 WHEN s.earliest_due > 0 THEN s.earliest_due "
		"ELSE 9223372036854775807 END, t.id DESC LIMIT ?9",
	[SQ_DIGEST_ADD] = "INSERT INTO digests (kind, recipient, day, items, at) "
			  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
	[SQ_REPORT_SENT_ADD] = "INSERT INTO reports_sent (period_start, period_end, recipient, "
			       "tickets, at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
};

const struct sqlite_part sqlite_sla_part = { sql, SQ_COUNT };

static sqlite3_stmt *
st(struct sqlite_store *s, int id)
{
	return part_stmt(s, SQLITE_PART_SLA, (size_t)id);
}

static int
sla_select(struct store *store, enum store_sla_select what, const struct store_sla_select_arg *a,
	   void **rows_r, size_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	const struct store_record *rec = store_sla_records[what];
	sqlite3_stmt *q;
	const char *w;
	int rc;

	switch (what) {
	case STORE_SLA_SELECT_SLA:
		q = st(s, SQ_SLA_GET);
		w = "get ticket SLA";
		rc = bind_int(q, 1, a->id);
		break;
	case STORE_SLA_SELECT_TIMER:
		q = st(s, SQ_TIMER_GET);
		w = "get timer";
		rc = BINDS(bind_text(q, 1, a->kind), bind_int(q, 2, a->id), bind_text(q, 3, a->text));
		break;
	case STORE_SLA_SELECT_TIMERS_DUE:
		q = st(s, SQ_TIMER_DUE);
		w = "due timers";
		rc = BINDS(bind_int(q, 1, a->id), bind_limit(q, 2, a->limit));
		break;
	case STORE_SLA_SELECT_TICKETS: {
		const struct store_ticket_filter *f = a->filter;
		q = st(s, SQ_TICKETS);
		w = "query tickets";
		rc = BINDS(bind_text(q, 1, f->status), bind_int(q, 2, f->not_closed != 0),
			   bind_text(q, 3, f->queue), bind_text(q, 4, f->assignee),
			   bind_int(q, 5, f->unassigned != 0), bind_int(q, 6, f->vip != 0),
			   bind_int(q, 7, f->due_before), bind_int(q, 8, f->by_due != 0),
			   bind_limit(q, 9, f->limit));
		break;
	}
	default:
		*error_r = "store: SLA select: unknown";
		return STORE_DATA_BAD;
	}
	int ret = bind_ok(q, rc, w, error_r);
	if (ret < 0)
		return ret;
	return read_rows(s, q, rec, w, rows_r, count_r, error_r);
}

static int
sla_put(struct store *store, const struct store_sla *a, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_SLA_PUT);
	int rcs[24], n = 0;
	rcs[n++] = bind_int(q, 1, a->ticket_id);
	rcs[n++] = bind_text(q, 2, a->policy);
	rcs[n++] = bind_text(q, 3, a->calendar);
	rcs[n++] = bind_text(q, 4, a->basis);
	rcs[n++] = bind_text(q, 5, a->status);
	rcs[n++] = bind_int(q, 6, a->vip != 0);
	for (int i = 0; i < STORE_SLA_TARGETS; i++) {
		rcs[n++] = bind_int(q, 7 + 5 * i, a->start[i]);
		rcs[n++] = bind_int(q, 8 + 5 * i, a->paused[i]);
		rcs[n++] = bind_int(q, 9 + 5 * i, a->due[i]);
		rcs[n++] = bind_int(q, 10 + 5 * i, a->warn[i]);
		rcs[n++] = bind_int(q, 11 + 5 * i, a->met[i]);
	}
	rcs[n++] = bind_int(q, 22, a->paused_at);
	rcs[n++] = bind_int(q, 23, a->earliest_due);
	rcs[n++] = bind_int(q, 24, a->updated_at);
	return stmt_run(s, q, first_failure(rcs, (size_t)n), "put ticket SLA", error_r);
}

static int
timer_set(struct store *store, const char *kind, int64_t ticket_id, const char *subject,
	  int64_t due_at, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_TIMER_SET);
	int rc = BINDS(bind_text(q, 1, kind), bind_int(q, 2, ticket_id), bind_text(q, 3, subject),
		       bind_int(q, 4, due_at), bind_int(q, 5, now));
	return stmt_run(s, q, rc, "set timer", error_r);
}

static int
timer_cancel(struct store *store, const char *kind, int64_t ticket_id, const char *subject,
	     const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, subject != NULL ? SQ_TIMER_CANCEL : SQ_TIMER_CANCEL_ALL);
	int rc = subject != NULL ? BINDS(bind_text(q, 1, kind), bind_int(q, 2, ticket_id),
					 bind_text(q, 3, subject))
				 : BINDS(bind_text(q, 1, kind), bind_int(q, 2, ticket_id));
	return stmt_run(s, q, rc, "cancel timer", error_r);
}

static int
timer_next(struct store *store, int64_t *due_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	return stmt_int(s, st(s, SQ_TIMER_NEXT), due_r, "next timer", error_r);
}

static int
timer_count(struct store *store, const char *kind, int64_t *count_r, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_TIMER_COUNT);
	int ret = bind_ok(q, bind_text(q, 1, kind), "count timers", error_r);
	if (ret == STORE_OK)
		ret = stmt_int(s, q, count_r, "count timers", error_r);
	return ret < 0 ? ret : STORE_OK;
}

static int
notice_add(struct store *store, int64_t ticket_id, const char *target, const char *level,
	   int64_t period, const char *recipient, int64_t outbox_id, int64_t now,
	   const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_NOTICE_ADD);
	int rc = BINDS(bind_int(q, 1, ticket_id), bind_text(q, 2, target), bind_text(q, 3, level),
		       bind_int(q, 4, period), bind_text(q, 5, recipient), bind_ref(q, 6, outbox_id),
		       bind_int(q, 7, now));
	int ret = stmt_run(s, q, rc, "record SLA notice", error_r);
	return ret < 0 ? ret : sqlite3_changes(s->db) > 0;
}

/* Run a bound look-up that returns a row or none: 1 or 0. */
static int
exists(struct sqlite_store *s, sqlite3_stmt *q, int rc, const char *what, const char **error_r)
{
	int64_t one;
	int ret = bind_ok(q, rc, what, error_r);
	return ret < 0 ? ret : stmt_int(s, q, &one, what, error_r);
}

static int
notice_find(struct store *store, int64_t ticket_id, const char *target, const char *level,
	    int64_t period, const char *recipient, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_NOTICE_FIND);
	return exists(s, q,
		      BINDS(bind_int(q, 1, ticket_id), bind_text(q, 2, target),
			    bind_text(q, 3, level), bind_int(q, 4, period),
			    bind_text(q, 5, recipient)),
		      "find SLA notice", error_r);
}

static int
notice_recent(struct store *store, int64_t ticket_id, const char *recipient, const char *level,
	      int64_t since, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_NOTICE_RECENT);
	return exists(s, q,
		      BINDS(bind_int(q, 1, ticket_id), bind_text(q, 2, recipient),
			    bind_text(q, 3, level), bind_int(q, 4, since)),
		      "find recent SLA notice", error_r);
}

static int
digest_add(struct store *store, const char *kind, const char *recipient, const char *day,
	   int64_t items, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_DIGEST_ADD);
	int rc = BINDS(bind_text(q, 1, kind), bind_text(q, 2, recipient), bind_text(q, 3, day),
		       bind_int(q, 4, items), bind_int(q, 5, now));
	int ret = stmt_run(s, q, rc, "record digest", error_r);
	return ret < 0 ? ret : sqlite3_changes(s->db) > 0;
}

static int
report_sent_add(struct store *store, int64_t period_start, int64_t period_end,
		const char *recipient, int64_t tickets, int64_t now, const char **error_r)
{
	struct sqlite_store *s = sq(store);
	sqlite3_stmt *q = st(s, SQ_REPORT_SENT_ADD);
	int rc = BINDS(bind_int(q, 1, period_start), bind_int(q, 2, period_end),
		       bind_text(q, 3, recipient), bind_int(q, 4, tickets), bind_int(q, 5, now));
	int ret = stmt_run(s, q, rc, "record weekly report", error_r);
	return ret < 0 ? ret : sqlite3_changes(s->db) > 0;
}

const struct store_sla_driver store_sqlite_sla_driver = {
	.select = sla_select,
	.sla_put = sla_put,
	.timer_set = timer_set,
	.timer_cancel = timer_cancel,
	.timer_next = timer_next,
	.timer_count = timer_count,
	.notice_add = notice_add,
	.notice_find = notice_find,
	.notice_recent = notice_recent,
	.digest_add = digest_add,
	.report_sent_add = report_sent_add,
};
