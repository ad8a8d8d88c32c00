/*
 * store-sla: the store's part for promises kept (issue 13), included by
 * store.h (callers include gateway/store.h). Same results, ownership and
 * transaction rules as the rest of store.h.
 *
 * - ticket_sla: one row per ticket with an SLA: the policy and calendar
 *   it was matched to (and the ticket's fields it was matched from), and
 *   for each target (first response, next response, resolution) when its
 *   clock started, the business seconds it spent paused, its due and
 *   warning instants and when it was met; paused_at while the ticket waits
 *   on the customer or is closed. earliest_due, the earliest due instant of a
 *   running target, is kept by the store (indexed: "overdue" and "due
 *   within" are index range scans).
 * - timers: work the scheduler must do at a time: (kind, ticket, subject)
 *   is unique, so setting a timer again moves it; the scheduler reads the
 *   due ones through an index on due_at, never by scanning tickets.
 * - sla_notices: each warning or breach notice sent, keyed by (ticket,
 *   target, level, period, recipient) and written in the transaction that
 *   queues its mail: it is sent once, whatever the daemon does.
 */
#ifndef DG_STORE_SLA_H
#define DG_STORE_SLA_H

#include <stddef.h>
#include <stdint.h>

/* Included at the end of store.h: struct store and struct store_ticket
   are known. */

/* The targets of an SLA, in this order everywhere (arrays, columns). */
enum store_sla_target {
	STORE_SLA_FIRST_RESPONSE,
	STORE_SLA_NEXT_RESPONSE,
	STORE_SLA_RESOLUTION,
	STORE_SLA_TARGETS
};

struct store_sla {
	int64_t ticket_id;
	const char *policy;   /* [sla NAME] matched, "default" for the built-in one */
	const char *calendar; /* the [hours NAME] its targets count in */
	const char *basis;    /* "priority|category|queue|vip" it was matched from */
	const char *status;   /* the ticket's status when last synced */
	int vip;
	int64_t start[STORE_SLA_TARGETS];  /* clock started; 0: not running */
	int64_t paused[STORE_SLA_TARGETS]; /* business seconds spent paused */
	int64_t due[STORE_SLA_TARGETS];	   /* 0: no target */
	int64_t warn[STORE_SLA_TARGETS];
	int64_t met[STORE_SLA_TARGETS];	   /* 0: not (yet) met */
	int64_t paused_at;		   /* 0: clocks running */
	int64_t earliest_due;		   /* computed by the store; ignored on put */
	int64_t updated_at;		   /* 0 on put: now */
};

/* 1 found (*sla_r), 0 none, < 0 failure. */
int store_sla_get(struct store *store, int64_t ticket_id, struct store_sla **sla_r,
		  const char **error_r);
/* Insert or replace the row of sla->ticket_id. No such ticket, a
   negative time: STORE_DATA_BAD. */
int store_sla_put(struct store *store, const struct store_sla *sla, const char **error_r);
void store_sla_free(struct store_sla **slap);

/* ---- timers ---------------------------------------------------------------------- */

struct store_timer {
	int64_t id;
	const char *kind;    /* "sla", "pending", "snooze", "digest", ... */
	int64_t ticket_id;   /* 0: about no ticket */
	const char *subject; /* "" or what the kind needs (an address, a step) */
	int64_t due_at;
	int64_t created_at;
};

/* Set (or move) the timer (kind, ticket_id, subject); subject NULL is "". */
int store_timer_set(struct store *store, const char *kind, int64_t ticket_id,
		    const char *subject, int64_t due_at, const char **error_r);
/* Remove it; subject NULL: every timer of this kind for the ticket. Not
   there is not an error. */
int store_timer_cancel(struct store *store, const char *kind, int64_t ticket_id,
		       const char *subject, const char **error_r);
/* 1 with *timer_r when the timer exists, 0 when not. */
int store_timer_get(struct store *store, const char *kind, int64_t ticket_id, const char *subject,
		    struct store_timer **timer_r, const char **error_r);
/* Timers with due_at <= now, earliest first (then by id), at most limit
   (0: all). */
int store_timer_due(struct store *store, int64_t now, size_t limit, struct store_timer **list_r,
		    size_t *count_r, const char **error_r);
/* The earliest due_at of all timers: 1 with *due_r, 0 when there are none. */
int store_timer_next(struct store *store, int64_t *due_r, const char **error_r);
/* How many timers of kind (NULL: any) there are. */
int store_timer_count(struct store *store, const char *kind, int64_t *count_r,
		      const char **error_r);
void store_timer_free(struct store_timer **timerp);
void store_timers_free(struct store_timer **listp, size_t count);

/* ---- notices sent ---------------------------------------------------------------- */

/* Record that notice (ticket, target, level, period, recipient) was queued
   (outbox_id, 0 for none, e.g. the breach itself). 1 when recorded now, 0
   when it already was (do not send it again), < 0 failure. target and
   level are short names ("first_response", "warning", "breach"). */
int store_sla_notice_add(struct store *store, int64_t ticket_id, const char *target,
			 const char *level, int64_t period, const char *recipient,
			 int64_t outbox_id, const char **error_r);
/* 1 when notice (ticket, target, level, period, recipient) exists. */
int store_sla_notice_find(struct store *store, int64_t ticket_id, const char *target,
			  const char *level, int64_t period, const char *recipient,
			  const char **error_r);
/* 1 when recipient got a notice of level about the ticket since `since`
   (at least once per interval). */
int store_sla_notice_recent(struct store *store, int64_t ticket_id, const char *recipient,
			    const char *level, int64_t since, const char **error_r);

/* ---- digests sent ---------------------------------------------------------------- */

/* Record the daily digest of kind ("agent", "queue") for recipient (an
   address, compared lower-cased) on its local day ("YYYY-MM-DD") with
   items tickets in it (0: nothing was sent). Call it in the transaction
   that queues the mail. 1 when recorded now, 0 when it already was (do
   not send it again), < 0 failure (a bad kind or day: STORE_DATA_BAD). */
int store_digest_add(struct store *store, const char *kind, const char *recipient,
		     const char *day, int64_t items, const char **error_r);

/* Record the weekly report of [period_start, period_end) mailed to
   recipient (compared lower-cased) with tickets new tickets in it. Call it
   in the transaction that queues the mail. 1 when recorded now, 0 when it
   already was (do not send it again), < 0 failure (STORE_DATA_BAD: a bad
   period). */
int store_report_sent_add(struct store *store, int64_t period_start, int64_t period_end,
			  const char *recipient, int64_t tickets, const char **error_r);

/* ---- tickets by their promises ---------------------------------------------------------- */

/* What `ticket list` and the digests select (every field narrows; zero
   or NULL is "any"). */
struct store_ticket_filter {
	const char *status;	  /* "new", "open", "pending", "closed" */
	int not_closed;		  /* status other than closed */
	const char *queue;
	const char *assignee;	  /* an address (case-insensitive) */
	int unassigned;
	int vip;		  /* VIP tickets only */
	int64_t due_before;	  /* a running target due before this instant */
	int by_due;		  /* order: earliest due first (else newest first) */
	size_t limit;		  /* 0: all */
};

/* A ticket with its promises: the ticket as store_ticket_get() gives it,
   and its SLA row (sla.ticket_id 0 when it has none). */
struct store_ticket_due {
	struct store_ticket t;
	struct store_sla sla;
};

int store_ticket_query(struct store *store, const struct store_ticket_filter *filter,
		       struct store_ticket_due **rows_r, size_t *count_r, const char **error_r);
void store_ticket_dues_free(struct store_ticket_due **rowsp, size_t count);

#endif
