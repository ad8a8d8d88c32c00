/*
 * report: how the desk is doing, computed from the store (issue 14):
 * volume, first response and resolution times (median and p90), the
 * first-response promise kept, backlog, oldest open tickets, satisfaction
 * (CSAT), a week-by-hour heatmap of arrivals, and how often agents change
 * the category the rules chose. docs/reports.md defines every figure.
 *
 * Every figure comes from the store's streaming scans
 * (gateway/store/store-report.h), so memory does not grow with the number
 * of tickets: a duration distribution keeps its values exactly up to
 * REPORT_DIST_EXACT of them and then a histogram of 1% buckets.
 *
 * Days, weeks, months and the heatmap are in the desk's time zone (the
 * [hours] calendar). The writers print text, JSON (schema in
 * docs/reports.md), CSV (one row per group) and a self-contained HTML page
 * with inline SVG charts (report-html.c).
 *
 * Ownership: report_compute() returns a report freed with report_free();
 * everything it points to belongs to it.
 */
#ifndef DG_REPORT_H
#define DG_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct store;
struct hours;

#define REPORT_DIST_EXACT 8192
#define REPORT_MAX_GROUPS 1000
#define REPORT_MAX_DAYS 3700
#define REPORT_OLDEST 10
#define REPORT_COMMENTS 20
#define REPORT_SLA_TARGETS 3 /* first response, next response, resolution (sla.h) */

enum report_by {
	REPORT_BY_NONE,
	REPORT_BY_DAY,
	REPORT_BY_WEEK,
	REPORT_BY_MONTH,
	REPORT_BY_CATEGORY,
	REPORT_BY_QUEUE,
	REPORT_BY_AGENT,
	REPORT_BY_LANGUAGE,
	REPORT_BY_CHANNEL,
};

/* "day", "week"...; -1 for an unknown name. */
int report_by_parse(const char *name);
const char *report_by_name(enum report_by by);

struct report_options {
	int64_t since, until; /* the period [since, until), seconds since the epoch */
	int64_t now;	      /* what "open now" and "late" are measured against */
	enum report_by by;
	const struct hours *hours; /* the desk's calendar: its time zone */
	/* The calendar ([hours NAME], gateway/sla.h's sla_calendar()) named
	   by a ticket's SLA row, which its business time is counted in; a
	   NULL function or answer: `hours`. */
	const struct hours *(*calendar)(const void *context, const char *name);
	const void *calendar_context;
};

struct report_dist_data;

/* Durations in seconds: how many, the median and the 90th percentile
   (nearest rank: the value at position ceil(p * count)), 0 when none. */
struct report_dist {
	int64_t count, median, p90;
	struct report_dist_data *data;
};

struct report_figures {
	int64_t new_tickets, customer_messages, agent_replies, reopened, solved;
	struct report_dist first_response, resolution;
	int64_t unanswered; /* created in the period, no first response yet */
	/* The first-response promise (due_at): kept, broken (answered late,
	   or unanswered and past due at `now`), still running. */
	int64_t sla_met, sla_breached, sla_pending;
	/* First response and resolution again in business time: on the
	   ticket's SLA calendar, else the desk's [hours]. */
	struct report_dist first_response_business, resolution_business;
	/* SLA attainment per target (sla_target_name(k)) of the tickets
	   created in the period whose SLA row has that target: met by its due
	   time, breached (met late, or not met and past due at `now`), still
	   running. */
	int64_t target_met[REPORT_SLA_TARGETS], target_breached[REPORT_SLA_TARGETS];
	int64_t target_running[REPORT_SLA_TARGETS];
	int64_t surveys_sent, votes, scores[6]; /* scores[1..5] */
};

struct report_group {
	char *key;
	struct report_figures f;
};

struct report_ticket {
	int64_t id, created_at;
	char *subject, *status, *queue, *assignee;
};

struct report_rule {
	char *rule;
	int64_t hits, tickets;
};

/* A rules category and what agents did with the tickets it got. */
struct report_category {
	char *category;
	int64_t tickets, changed; /* put there by the rules; moved by an agent */
	double precision, recall;
};

struct report_comment {
	int64_t ticket_id, voted_at;
	int score;
	char *comment, *assignee;
};

struct report {
	struct report_options opt;
	struct report_figures total;
	struct report_group *groups;
	size_t n_groups;
	/* Per day of the period (local days; the first and last may be
	   partial): its start, the tickets created, and the backlog (open
	   at its end, or at `now` for a day not yet over). */
	size_t n_days;
	int64_t *day_start;
	int64_t *day_created, *day_backlog;
	char **day_key;
	int64_t heatmap[7][24]; /* new tickets by local weekday (Monday 0) and hour */
	struct report_ticket oldest[REPORT_OLDEST]; /* open now, oldest first */
	size_t n_oldest;
	struct report_rule *rules;
	size_t n_rules;
	struct report_category *categories;
	size_t n_categories;
	struct report_comment comments[REPORT_COMMENTS]; /* newest first */
	size_t n_comments;
};

/* Compute every figure. < 0 (a store grade) with *error_r. */
int report_compute(struct store *store, const struct report_options *opt,
		   struct report **report_r, const char **error_r);
void report_free(struct report **reportp);

/* CSAT: votes of 4 or 5 among all votes, in percent; -1 with no votes. */
double report_csat(const struct report_figures *f);
/* Share of the promises due that were kept, in percent; -1 when none. */
double report_sla_share(const struct report_figures *f);
/* Share of SLA target k met among those met or breached; -1 when none. */
double report_target_share(const struct report_figures *f, int k);

/* For people: "3d 04h", "5h 12m", "12m 05s", "45s"; "-" when count is
   0. "42.5%" with `decimals` decimals; "-" for a negative p. Into buf. */
const char *report_duration(char *buf, size_t size, int64_t count, int64_t seconds);
const char *report_percent(char *buf, size_t size, int decimals, double p);

/* Writers: 0, or -1 when the output failed (errno set). */
int report_write_text(const struct report *r, FILE *out);
int report_write_json(const struct report *r, FILE *out);
int report_write_csv(const struct report *r, FILE *out);
/* report-html.c: one self-contained page (no script, no fetches). */
int report_write_html(const struct report *r, FILE *out);

#endif
