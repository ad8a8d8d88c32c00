/*
 * store-sla: the dispatcher of store-sla.h (see store.c for the rest):
 * checks arguments, computes earliest_due, calls the driver's
 * store_sla_driver; and the record types of its reads. No SQL here.
 */
#include "build-config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/util.h"
#include "gateway/store/store-driver.h"
#include "gateway/store/store-record.h"
#include "gateway/store/store-sla-driver.h"

/* The SLA columns, in the drivers' order; prefixed by the ticket's in a
   store_ticket_due (same order as store-record.c's ticket). */
#define SLA_COLS(rec, p)                                                                     \
	COL(INT64, rec, p ticket_id), COL(TEXT, rec, p policy), COL(TEXT, rec, p calendar),   \
	COL(TEXT, rec, p basis), COL(TEXT, rec, p status), COL(INT, rec, p vip),             \
	COL(INT64, rec, p start[0]), COL(INT64, rec, p paused[0]), COL(INT64, rec, p due[0]), \
	COL(INT64, rec, p warn[0]), COL(INT64, rec, p met[0]), COL(INT64, rec, p start[1]),   \
	COL(INT64, rec, p paused[1]), COL(INT64, rec, p due[1]), COL(INT64, rec, p warn[1]),  \
	COL(INT64, rec, p met[1]), COL(INT64, rec, p start[2]), COL(INT64, rec, p paused[2]), \
	COL(INT64, rec, p due[2]), COL(INT64, rec, p warn[2]), COL(INT64, rec, p met[2]),     \
	COL(INT64, rec, p paused_at), COL(INT64, rec, p earliest_due), COL(INT64, rec, p updated_at)
#define NOTHING

static const struct store_col sla_cols[] = { SLA_COLS(store_sla, NOTHING) };
RECORD(store_record_sla, store_sla, sla_cols);

static const struct store_col timer_cols[] = {
	COL(INT64, store_timer, id),	    COL(TEXT, store_timer, kind),
	COL(INT64, store_timer, ticket_id), COL(TEXT, store_timer, subject),
	COL(INT64, store_timer, due_at),    COL(INT64, store_timer, created_at),
};
RECORD(store_record_timer, store_timer, timer_cols);

static const struct store_col ticket_due_cols[] = {
	COL(INT64, store_ticket_due, t.id),
	COL(TEXT, store_ticket_due, t.subject),
	COL(TEXT, store_ticket_due, t.status),
	COL(TEXT, store_ticket_due, t.category),
	COL(TEXT, store_ticket_due, t.priority),
	COL(TEXT, store_ticket_due, t.queue),
	COL(TEXT, store_ticket_due, t.language),
	COL(TEXT, store_ticket_due, t.customer_address),
	COL(TEXT, store_ticket_due, t.customer_name),
	COL(INT64, store_ticket_due, t.created_at),
	COL(INT64, store_ticket_due, t.updated_at),
	COL(INT64, store_ticket_due, t.first_response_at),
	COL(INT64, store_ticket_due, t.due_at),
	COL(INT64, store_ticket_due, t.n_messages),
	COL(TEXT, store_ticket_due, t.assignee),
	SLA_COLS(store_ticket_due, sla.),
};
RECORD(store_record_ticket_due, store_ticket_due, ticket_due_cols);

const struct store_record *const store_sla_records[STORE_SLA_SELECT_COUNT] = {
	[STORE_SLA_SELECT_SLA] = &store_record_sla,
	[STORE_SLA_SELECT_TIMER] = &store_record_timer,
	[STORE_SLA_SELECT_TIMERS_DUE] = &store_record_timer,
	[STORE_SLA_SELECT_TICKETS] = &store_record_ticket_due,
};

static const struct store_sla_driver *
drv(struct store *store)
{
	return store->driver->sla;
}

/* The rows of a select; NULL and count 0 on failure or when empty. */
static void *
select_rows(struct store *store, enum store_sla_select what, struct store_sla_select_arg arg,
	    size_t *count_r, int *ret_r, const char **error_r)
{
	void *rows = NULL;
	size_t count = 0;
	*ret_r = drv(store)->select(store, what, &arg, &rows, &count, error_r);
	if (*ret_r < 0) {
		store_records_free(store_sla_records[what], rows, count);
		rows = NULL;
		count = 0;
	}
	if (count_r != NULL)
		*count_r = count;
	return rows;
}

static void *
select_one(struct store *store, enum store_sla_select what, struct store_sla_select_arg arg,
	   int *ret_r, const char **error_r)
{
	size_t count;
	void *row = select_rows(store, what, arg, &count, ret_r, error_r);
	if (*ret_r == STORE_OK)
		*ret_r = count > 0 ? 1 : 0;
	return row;
}

/* ---- ticket_sla ------------------------------------------------------------------- */

int
store_sla_get(struct store *store, int64_t ticket_id, struct store_sla **sla_r,
	      const char **error_r)
{
	int ret;
	*sla_r = select_one(store, STORE_SLA_SELECT_SLA,
			    (struct store_sla_select_arg){ .id = ticket_id }, &ret, error_r);
	return ret;
}

int
store_sla_put(struct store *store, const struct store_sla *sla, const char **error_r)
{
	struct store_sla in = *sla;
	if (in.policy == NULL || in.calendar == NULL) {
		*error_r = "store: put ticket SLA: no policy or calendar";
		return STORE_DATA_BAD;
	}
	if (in.basis == NULL)
		in.basis = "";
	if (in.status == NULL)
		in.status = "";
	/* earliest_due: the earliest due instant of a running target */
	in.earliest_due = 0;
	for (int i = 0; in.paused_at == 0 && i < STORE_SLA_TARGETS; i++) {
		if (in.start[i] != 0 && in.met[i] == 0 && in.due[i] > 0 &&
		    (in.earliest_due == 0 || in.due[i] < in.earliest_due))
			in.earliest_due = in.due[i];
	}
	if (in.updated_at == 0)
		in.updated_at = clock_now();
	return drv(store)->sla_put(store, &in, error_r);
}


/* ---- timers ---------------------------------------------------------------------------- */

static int
kind_ok(const char *kind, const char *what, const char **error_r)
{
	if (kind == NULL || *kind == '\0') {
		*error_r = errf("store: %s: no timer kind", what);
		return 0;
	}
	return 1;
}

int
store_timer_set(struct store *store, const char *kind, int64_t ticket_id, const char *subject,
		int64_t due_at, const char **error_r)
{
	if (!kind_ok(kind, "set timer", error_r))
		return STORE_DATA_BAD;
	return drv(store)->timer_set(store, kind, ticket_id, subject != NULL ? subject : "", due_at,
				      clock_now(), error_r);
}

int
store_timer_cancel(struct store *store, const char *kind, int64_t ticket_id,
		   const char *subject, const char **error_r)
{
	if (!kind_ok(kind, "cancel timer", error_r))
		return STORE_DATA_BAD;
	return drv(store)->timer_cancel(store, kind, ticket_id, subject, error_r);
}

int
store_timer_get(struct store *store, const char *kind, int64_t ticket_id, const char *subject,
		struct store_timer **timer_r, const char **error_r)
{
	int ret;
	*timer_r = NULL;
	if (!kind_ok(kind, "get timer", error_r))
		return STORE_DATA_BAD;
	*timer_r = select_one(store, STORE_SLA_SELECT_TIMER,
			      (struct store_sla_select_arg){ .id = ticket_id, .kind = kind,
							     .text = subject != NULL ? subject : "" },
			      &ret, error_r);
	return ret;
}

int
store_timer_due(struct store *store, int64_t now, size_t limit, struct store_timer **list_r,
		size_t *count_r, const char **error_r)
{
	int ret;
	*list_r = select_rows(store, STORE_SLA_SELECT_TIMERS_DUE,
			      (struct store_sla_select_arg){ .id = now, .limit = limit }, count_r,
			      &ret, error_r);
	return ret;
}

int
store_timer_next(struct store *store, int64_t *due_r, const char **error_r)
{
	*due_r = 0;
	return drv(store)->timer_next(store, due_r, error_r);
}

int
store_timer_count(struct store *store, const char *kind, int64_t *count_r, const char **error_r)
{
	*count_r = 0;
	return drv(store)->timer_count(store, kind, count_r, error_r);
}


/* ---- notices ------------------------------------------------------------------------------ */

static int
notice_ok(const char *target, const char *level, const char **error_r)
{
	if (target == NULL || *target == '\0' || level == NULL || *level == '\0') {
		*error_r = "store: SLA notice: no target or level";
		return 0;
	}
	return 1;
}

int
store_sla_notice_add(struct store *store, int64_t ticket_id, const char *target,
		     const char *level, int64_t period, const char *recipient, int64_t outbox_id,
		     const char **error_r)
{
	if (!notice_ok(target, level, error_r))
		return STORE_DATA_BAD;
	return drv(store)->notice_add(store, ticket_id, target, level, period,
				       recipient != NULL ? recipient : "", outbox_id, clock_now(),
				       error_r);
}

int
store_sla_notice_find(struct store *store, int64_t ticket_id, const char *target,
		      const char *level, int64_t period, const char *recipient,
		      const char **error_r)
{
	if (!notice_ok(target, level, error_r))
		return STORE_DATA_BAD;
	return drv(store)->notice_find(store, ticket_id, target, level, period,
					recipient != NULL ? recipient : "", error_r);
}

int
store_sla_notice_recent(struct store *store, int64_t ticket_id, const char *recipient,
			const char *level, int64_t since, const char **error_r)
{
	if (!notice_ok("any", level, error_r))
		return STORE_DATA_BAD;
	return drv(store)->notice_recent(store, ticket_id, recipient != NULL ? recipient : "",
					  level, since, error_r);
}

/* ---- tickets by their promises ----------------------------------------------------------- */

int
store_ticket_query(struct store *store, const struct store_ticket_filter *filter,
		   struct store_ticket_due **rows_r, size_t *count_r, const char **error_r)
{
	int ret;
	static const struct store_ticket_filter any;
	*rows_r = select_rows(store, STORE_SLA_SELECT_TICKETS,
			      (struct store_sla_select_arg){ .filter = filter != NULL ? filter : &any },
			      count_r, &ret, error_r);
	return ret;
}

FREE_ONE(store_sla_free, store_sla, store_record_sla)
FREE_ONE(store_timer_free, store_timer, store_record_timer)
FREE_LIST(store_timers_free, store_timer, store_record_timer)
FREE_LIST(store_ticket_dues_free, store_ticket_due, store_record_ticket_due)

/* Addresses are recorded lower-cased (ASCII): one row per person. */
static char *
ascii_lower_dup(const char *s)
{
	char *lower = xstrdup(s);
	for (char *p = lower; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return lower;
}

int
store_digest_add(struct store *store, const char *kind, const char *recipient, const char *day,
		 int64_t items, const char **error_r)
{
	if (kind == NULL || (strcmp(kind, "agent") != 0 && strcmp(kind, "queue") != 0) ||
	    recipient == NULL || *recipient == '\0' || day == NULL || strlen(day) != 10 ||
	    items < 0) {
		*error_r = "store: record digest: bad kind, recipient or day";
		return STORE_DATA_BAD;
	}
	if (drv(store)->digest_add == NULL) {
		/* refused, not unavailable: the scheduler drops the digest's
		   timer and goes on with the rest (escalations) */
		*error_r = "store: record digest: not supported by this store driver";
		return STORE_DATA_BAD;
	}
	char *lower = ascii_lower_dup(recipient);
	int ret = drv(store)->digest_add(store, kind, lower, day, items, clock_now(), error_r);
	free(lower);
	return ret;
}

int
store_report_sent_add(struct store *store, int64_t period_start, int64_t period_end,
		      const char *recipient, int64_t tickets, const char **error_r)
{
	if (period_end <= period_start || recipient == NULL || *recipient == '\0' || tickets < 0) {
		*error_r = "store: record weekly report: bad period or recipient";
		return STORE_DATA_BAD;
	}
	if (drv(store)->report_sent_add == NULL) {
		*error_r = "store: record weekly report: not supported by this store driver";
		return STORE_DATA_BAD;
	}
	char *lower = ascii_lower_dup(recipient);
	int ret = drv(store)->report_sent_add(store, period_start, period_end, lower, tickets,
					       clock_now(), error_r);
	free(lower);
	return ret;
}
