/*
 * store-sla-driver: the operations a driver provides for store-sla.h,
 * private to gateway/store/ (store_driver.sla points to them). The
 * dispatcher (store-sla.c) checks arguments, fills defaults and computes
 * earliest_due before it calls them; results are graded as in
 * store-driver.h.
 */
#ifndef DG_STORE_SLA_DRIVER_H
#define DG_STORE_SLA_DRIVER_H

#include "gateway/store/store-driver.h"

/* The reads returning records (store_sla_records[]). */
enum store_sla_select {
	STORE_SLA_SELECT_SLA,	       /* id: ticket */
	STORE_SLA_SELECT_TIMER,	       /* kind, id: ticket, text: subject */
	STORE_SLA_SELECT_TIMERS_DUE,   /* id: now, limit */
	STORE_SLA_SELECT_TICKETS,      /* filter */
	STORE_SLA_SELECT_COUNT
};

struct store_sla_select_arg {
	int64_t id;
	const char *kind;
	const char *text;
	size_t limit;
	const struct store_ticket_filter *filter;
};

extern const struct store_record *const store_sla_records[STORE_SLA_SELECT_COUNT];

struct store_sla_driver {
	int (*select)(struct store *store, enum store_sla_select what,
		      const struct store_sla_select_arg *arg, void **rows_r, size_t *count_r,
		      const char **error_r);
	/* sla->earliest_due and updated_at are filled. */
	int (*sla_put)(struct store *store, const struct store_sla *sla, const char **error_r);
	int (*timer_set)(struct store *store, const char *kind, int64_t ticket_id,
			 const char *subject, int64_t due_at, int64_t now, const char **error_r);
	/* subject NULL: all of the kind for the ticket */
	int (*timer_cancel)(struct store *store, const char *kind, int64_t ticket_id,
			    const char *subject, const char **error_r);
	/* 1 with *due_r, 0 none */
	int (*timer_next)(struct store *store, int64_t *due_r, const char **error_r);
	int (*timer_count)(struct store *store, const char *kind, int64_t *count_r,
			   const char **error_r);
	/* 1 inserted, 0 existed */
	int (*notice_add)(struct store *store, int64_t ticket_id, const char *target,
			  const char *level, int64_t period, const char *recipient,
			  int64_t outbox_id, int64_t now, const char **error_r);
	/* 1 found */
	int (*notice_find)(struct store *store, int64_t ticket_id, const char *target,
			   const char *level, int64_t period, const char *recipient,
			   const char **error_r);
	int (*notice_recent)(struct store *store, int64_t ticket_id, const char *recipient,
			     const char *level, int64_t since, const char **error_r);
	/* 1 inserted, 0 existed; NULL in a driver without the digests
	   table (store_digest_add() then refuses: STORE_DATA_BAD) */
	int (*digest_add)(struct store *store, const char *kind, const char *recipient,
			  const char *day, int64_t items, int64_t now, const char **error_r);
	/* 1 inserted, 0 existed (the weekly report, report-mail.h); NULL:
	   store_report_sent_add() refuses as digest_add */
	int (*report_sent_add)(struct store *store, int64_t period_start, int64_t period_end,
			       const char *recipient, int64_t tickets, int64_t now,
			       const char **error_r);
};

extern const struct store_sla_driver store_sqlite_sla_driver;

#endif
