/*
 * store-report: what reports and satisfaction surveys read and write in
 * the store (issue 14; docs/reports.md defines every figure). Included by
 * gateway/store.h.
 *
 * Reports stream: each store_report_*() calls fn once per row, in the
 * order the function names, with a record that lives for the call only
 * (its strings too); fn returns 0 to go on, anything else stops the scan
 * and is returned. Nothing is loaded whole, so a report over millions of
 * tickets runs in flat memory. Each scan reads one index range
 * (docs/reports.md, "Indexes").
 *
 * Surveys: one row per survey sent (table `surveys`, migration 8); a vote
 * fills its score, comment, the assignee at the time and the time of the
 * vote, and a later vote replaces an earlier one.
 */
#ifndef DG_STORE_REPORT_H
#define DG_STORE_REPORT_H

#include <stdint.h>

struct store;

/* The SLA targets a report reads, in the order of store-sla.h's
   (STORE_SLA_TARGETS): first response, next response, resolution. */
#define STORE_REPORT_SLA_TARGETS 3

/* A ticket that was open at some time in [since, until): created before
   until and not closed before since. */
struct store_report_ticket {
	int64_t id;
	int64_t created_at;
	const char *status, *category, *priority, *queue, *language, *assignee;
	const char *channel; /* the mailbox of its first message, "" for the MTA pipe */
	int64_t first_response_at, due_at;
	/* The last time an agent closed it (0 while it is not closed; the
	   last update when it was closed without a command). */
	int64_t closed_at;
	int64_t reopened; /* times a customer or an agent reopened it */
	/* The category before the first change by an agent ("" when never
	   changed): the category the rules chose. */
	const char *rules_category;
	const char *subject;
	/* Its SLA row (ticket_sla, migration 9): the calendar its targets
	   count in ("" without a row), and per target (first response, next
	   response, resolution) the due time (0: no target) and when it was
	   met (0: not yet). */
	const char *sla_calendar;
	int64_t sla_due[STORE_REPORT_SLA_TARGETS], sla_met[STORE_REPORT_SLA_TARGETS];
};

/* A message stored in [since, until), with its ticket's attributes
   (channel: the message's mailbox). */
struct store_report_message {
	int64_t ticket_id, created_at;
	const char *direction; /* in / agent / out / note */
	const char *category, *queue, *language, *assignee, *channel;
	const char *from_address;
};

/* A ticket reopened in [since, until), with its ticket's attributes
   (channel: ""). */
struct store_report_reopen {
	int64_t ticket_id, at;
	const char *category, *queue, *language, *assignee, *channel;
};

/* A rule hit in [since, until): hits 1, tickets 1 when it is the
   ticket's first hit of this rule in the period (so that sums count
   hits and distinct tickets). */
struct store_report_rule {
	const char *rule;
	int64_t hits, tickets;
};

/* A survey sent in [since, until), with its vote if any. */
struct store_report_survey {
	int64_t ticket_id, sent_at;
	int score; /* 0: no vote */
	const char *comment, *assignee; /* NULL when none */
	int64_t voted_at;
	const char *category, *queue, *language, *channel;
};

typedef int store_report_fn(void *context, const void *record);

/* A period longer than this reads every ticket once instead of the open
   ones and those updated in it (docs/reports.md). */
#define STORE_REPORT_LONG_PERIOD (31 * 86400)

/* Tickets and rule hits in no particular order; messages and surveys by
   time over a period up to STORE_REPORT_LONG_PERIOD, by ticket over a
   longer one; reopenings by time. */
int store_report_tickets(struct store *store, int64_t since, int64_t until,
			 store_report_fn *fn, void *context, const char **error_r);
int store_report_messages(struct store *store, int64_t since, int64_t until,
			  store_report_fn *fn, void *context, const char **error_r);
int store_report_reopens(struct store *store, int64_t since, int64_t until,
			 store_report_fn *fn, void *context, const char **error_r);
int store_report_rules(struct store *store, int64_t since, int64_t until,
		       store_report_fn *fn, void *context, const char **error_r);
int store_report_surveys(struct store *store, int64_t since, int64_t until,
			 store_report_fn *fn, void *context, const char **error_r);

/* A survey mailed for a ticket to its customer (one per ticket: sending
   again is STORE_DATA_BAD). outbox_id may be 0. */
int store_survey_sent(struct store *store, int64_t ticket_id, const char *customer,
		      int64_t outbox_id, int64_t sent_at, const char **error_r);
/* Record a vote (score 1-5, else STORE_DATA_BAD; comment may be NULL),
   replacing an earlier one: 1 recorded, 0 no survey was sent for the
   ticket. The ticket's assignee at this time is stored with it. */
int store_survey_vote(struct store *store, int64_t ticket_id, int score, const char *comment,
		      int64_t voted_at, const char **error_r);
/* The survey of a ticket: 1 with *sent_at_r when one was sent, 0 none. */
int store_survey_for_ticket(struct store *store, int64_t ticket_id, int64_t *sent_at_r,
			    const char **error_r);
/* The last time a survey went to customer (compared case-insensitively),
   0 when never. */
int store_survey_last_sent(struct store *store, const char *customer, int64_t *sent_at_r,
			   const char **error_r);

#endif
