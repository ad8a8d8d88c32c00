/*
 * report: the figures (see report.h, docs/reports.md). Four streaming
 * scans of the store fill the totals, the groups, the days and the
 * heatmap; the distributions are finished at the end.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/confusion.h"
#include "gateway/hours.h"
#include "gateway/jsonout.h"
#include "gateway/report.h"
#include "gateway/store.h"
#include "parsers/csv.h"
#include "base/util.h"

/* ---- distributions ------------------------------------------------------------ */

/* Exact values up to REPORT_DIST_EXACT, then a histogram: values below
   HIST_LINEAR one bucket each, above them 64 buckets per power of two
   (the value's top 7 bits), so a percentile is within 1.6% (after
   HdrHistogram's layout). */
#define HIST_LINEAR 128
#define HIST_SUB 64
#define HIST_BUCKETS (HIST_LINEAR + (63 - 7 + 1) * HIST_SUB)

struct report_dist_data {
	int64_t *values;
	size_t n, cap;
	uint32_t *hist; /* NULL while exact */
};

static size_t
hist_bucket(int64_t v)
{
	if (v < HIST_LINEAR)
		return (size_t)(v < 0 ? 0 : v);
	int e = 63 - __builtin_clzll((unsigned long long)v); /* 7..62 */
	int shift = e - 6;
	int64_t mantissa = v >> shift; /* 64..127 */
	return HIST_LINEAR + (size_t)(e - 7) * HIST_SUB + (size_t)(mantissa - HIST_SUB);
}

/* The smallest value of bucket b. */
static int64_t
hist_value(size_t b)
{
	if (b < HIST_LINEAR)
		return (int64_t)b;
	size_t e = (b - HIST_LINEAR) / HIST_SUB + 7, m = (b - HIST_LINEAR) % HIST_SUB + HIST_SUB;
	return (int64_t)m << (e - 6);
}

static void
dist_add(struct report_dist *d, int64_t v)
{
	if (v < 0)
		v = 0;
	if (d->data == NULL)
		d->data = xcalloc(1, sizeof(*d->data));
	struct report_dist_data *x = d->data;
	d->count++;
	if (x->hist != NULL) {
		x->hist[hist_bucket(v)]++;
		return;
	}
	if (x->n == REPORT_DIST_EXACT) {
		x->hist = xcalloc(HIST_BUCKETS, sizeof(*x->hist));
		for (size_t i = 0; i < x->n; i++)
			x->hist[hist_bucket(x->values[i])]++;
		x->hist[hist_bucket(v)]++;
		free(x->values);
		x->values = NULL;
		x->n = x->cap = 0;
		return;
	}
	if (x->n == x->cap) {
		x->cap = x->cap == 0 ? 64 : x->cap * 2;
		x->values = xreallocarray(x->values, x->cap, sizeof(*x->values));
	}
	x->values[x->n++] = v;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest rank: the value at position ceil(p * count) (1-based). */
static int64_t
dist_rank(const struct report_dist *d, int percent)
{
	const struct report_dist_data *x = d->data;
	int64_t rank = (d->count * percent + 99) / 100;
	if (rank < 1)
		rank = 1;
	if (x->hist == NULL)
		return x->values[rank - 1];
	int64_t seen = 0;
	for (size_t b = 0; b < HIST_BUCKETS; b++) {
		seen += x->hist[b];
		if (seen >= rank)
			return hist_value(b);
	}
	return hist_value(HIST_BUCKETS - 1);
}

static void
dist_finish(struct report_dist *d)
{
	if (d->count == 0 || d->data == NULL)
		return;
	if (d->data->hist == NULL)
		qsort(d->data->values, d->data->n, sizeof(int64_t), cmp_i64);
	d->median = dist_rank(d, 50);
	d->p90 = dist_rank(d, 90);
	free(d->data->values);
	free(d->data->hist);
	free(d->data);
	d->data = NULL;
}

/* ---- the report being computed ------------------------------------------------ */

struct ctx {
	struct report *r;
	/* Per day: its local midnight, weekday (Monday 0), and whether the
	   clocks change on it; so that the heatmap needs no time zone
	   conversion per ticket (each one sets TZ and reads the zone). */
	int64_t *day_midnight;
	unsigned char *day_wday, *day_shift;
	struct confusion *conf;
	size_t *day_group; /* for --by day/week/month: the group of each day */
	const char *error;
};

int
report_by_parse(const char *name)
{
	static const char *const names[] = { "", "day", "week", "month", "category",
					     "queue", "agent", "language", "channel" };
	for (size_t i = 1; i < N_ELEMENTS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
report_by_name(enum report_by by)
{
	static const char *const names[] = { "none", "day", "week", "month", "category",
					     "queue", "agent", "language", "channel" };
	return names[by];
}

static int
by_time(enum report_by by)
{
	return by == REPORT_BY_DAY || by == REPORT_BY_WEEK || by == REPORT_BY_MONTH;
}

/* The group named key (created when new; past REPORT_MAX_GROUPS,
   "(other)"). Linear: a desk has tens of categories, queues or agents. */
static struct report_figures *
group_named(struct report *r, const char *key)
{
	if (key == NULL || *key == '\0')
		key = "(none)";
	for (size_t i = r->n_groups; i > 0; i--)
		if (strcmp(r->groups[i - 1].key, key) == 0)
			return &r->groups[i - 1].f;
	if (r->n_groups == REPORT_MAX_GROUPS - 1 && strcmp(key, "(other)") != 0)
		return group_named(r, "(other)");
	r->groups = xreallocarray(r->groups, r->n_groups + 1, sizeof(*r->groups));
	struct report_group *g = &r->groups[r->n_groups++];
	memset(g, 0, sizeof(*g));
	g->key = xstrdup(key);
	return &g->f;
}

/* The day of the period t falls in, or -1 outside it. */
static ssize_t
day_of(const struct report *r, int64_t t)
{
	if (t < r->opt.since || t >= r->opt.until || r->n_days == 0)
		return -1;
	size_t lo = 0, hi = r->n_days; /* day_start[lo] <= t < day_start[hi] */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (r->day_start[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return (ssize_t)lo;
}

struct attrs {
	const char *category, *queue, *language, *agent, *channel;
};

/* The group figures of an event at t with attributes a: NULL when there
   are no groups or t is outside the period. */
static struct report_figures *
group_of(struct ctx *c, int64_t t, const struct attrs *a)
{
	struct report *r = c->r;
	switch (r->opt.by) {
	case REPORT_BY_NONE:
		return NULL;
	case REPORT_BY_DAY:
	case REPORT_BY_WEEK:
	case REPORT_BY_MONTH: {
		ssize_t d = day_of(r, t);
		return d < 0 ? NULL : &r->groups[c->day_group[d]].f;
	}
	case REPORT_BY_CATEGORY:
		return group_named(r, a->category);
	case REPORT_BY_QUEUE:
		return group_named(r, a->queue);
	case REPORT_BY_AGENT:
		return group_named(r, a->agent);
	case REPORT_BY_LANGUAGE:
		return group_named(r, a->language);
	case REPORT_BY_CHANNEL:
		return group_named(r, a->channel);
	}
	return NULL;
}

static void
local_tm(const struct report *r, int64_t t, struct tm *tm)
{
	hours_localtime(r->opt.hours, t, tm);
}

/* The next local midnight after t (a day on which the clocks change is
   23 or 25 hours long). */
static int64_t
next_midnight(const struct report *r, int64_t t)
{
	struct tm tm;
	local_tm(r, t, &tm);
	int64_t m = t - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) + 86400;
	local_tm(r, m, &tm);
	if (tm.tm_hour == 23)
		m += 3600;
	else if (tm.tm_hour == 1)
		m -= 3600;
	return m > t ? m : t + 86400;
}

static char *
time_key(const struct report *r, int64_t t, enum report_by by)
{
	struct tm tm;
	local_tm(r, t, &tm);
	char buf[32];
	if (by == REPORT_BY_WEEK) {
		/* ISO 8601 week: the week with the year's first Thursday is 1. */
		strftime(buf, sizeof(buf), "%G-W%V", &tm);
	} else if (by == REPORT_BY_MONTH) {
		strftime(buf, sizeof(buf), "%Y-%m", &tm);
	} else {
		strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	}
	return xstrdup(buf);
}

static int
make_days(struct ctx *c, const char **error_r)
{
	struct report *r = c->r;
	size_t cap = 0;
	for (int64_t t = r->opt.since; t < r->opt.until; t = next_midnight(r, t)) {
		if (r->n_days == REPORT_MAX_DAYS) {
			*error_r = errf("report: a period of at most %d days", REPORT_MAX_DAYS);
			return -1;
		}
		if (r->n_days + 1 >= cap) {
			cap = cap == 0 ? 64 : cap * 2;
			r->day_start = xreallocarray(r->day_start, cap, sizeof(int64_t));
			r->day_key = xreallocarray(r->day_key, cap, sizeof(char *));
		}
		r->day_start[r->n_days] = t;
		r->day_key[r->n_days] = time_key(r, t, REPORT_BY_DAY);
		r->n_days++;
	}
	c->day_midnight = xcalloc(r->n_days + 1, sizeof(int64_t));
	c->day_wday = xcalloc(r->n_days + 1, 1);
	c->day_shift = xcalloc(r->n_days + 1, 1);
	for (size_t d = 0; d < r->n_days; d++) {
		struct tm tm, end;
		local_tm(r, r->day_start[d], &tm);
		c->day_midnight[d] = r->day_start[d] - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
		c->day_wday[d] = (unsigned char)((tm.tm_wday + 6) % 7);
		int64_t last = (d + 1 < r->n_days ? r->day_start[d + 1] : r->opt.until) - 1;
		local_tm(r, last, &end);
		c->day_shift[d] = end.tm_gmtoff != tm.tm_gmtoff;
	}
	r->day_created = xcalloc(r->n_days + 1, sizeof(int64_t));
	r->day_backlog = xcalloc(r->n_days + 1, sizeof(int64_t));
	if (!by_time(r->opt.by))
		return 0;
	c->day_group = xcalloc(r->n_days + 1, sizeof(size_t));
	for (size_t d = 0; d < r->n_days; d++) {
		char *key = time_key(r, r->day_start[d], r->opt.by);
		(void)group_named(r, key);
		c->day_group[d] = r->n_groups - 1;
		for (size_t g = 0; g < r->n_groups; g++)
			if (strcmp(r->groups[g].key, key) == 0)
				c->day_group[d] = g;
		free(key);
	}
	return 0;
}

/* ---- the scans ---------------------------------------------------------------- */

/* The calendar a ticket's business time counts in. */
static const struct hours *
ticket_calendar(const struct report *r, const struct store_report_ticket *t)
{
	const struct hours *h = NULL;
	if (r->opt.calendar != NULL && t->sla_calendar != NULL && *t->sla_calendar != '\0')
		h = r->opt.calendar(r->opt.calendar_context, t->sla_calendar);
	return h != NULL ? h : r->opt.hours;
}

static void
count_ticket(struct ctx *c, struct report_figures *f, const struct store_report_ticket *t,
	     int created, int solved)
{
	const struct report *r = c->r;
	if (f == NULL)
		return;
	if (created) {
		f->new_tickets++;
		if (t->first_response_at > 0) {
			dist_add(&f->first_response, t->first_response_at - t->created_at);
			dist_add(&f->first_response_business,
				 (int64_t)hours_between(ticket_calendar(r, t), t->created_at,
							t->first_response_at));
		} else {
			f->unanswered++;
		}
		for (int k = 0; k < REPORT_SLA_TARGETS; k++) {
			int64_t due = t->sla_due[k], met = t->sla_met[k];
			if (due == 0)
				continue;
			if (met > 0 && met <= due)
				f->target_met[k]++;
			else if (met > 0 || r->opt.now > due)
				f->target_breached[k]++;
			else
				f->target_running[k]++;
		}
		if (t->due_at > 0) {
			if (t->first_response_at > 0 && t->first_response_at <= t->due_at)
				f->sla_met++;
			else if (t->first_response_at > 0 || r->opt.now > t->due_at)
				f->sla_breached++;
			else
				f->sla_pending++;
		}
	}
	if (solved) {
		f->solved++;
		dist_add(&f->resolution, t->closed_at - t->created_at);
		dist_add(&f->resolution_business,
			 (int64_t)hours_between(ticket_calendar(r, t), t->created_at, t->closed_at));
	}
}

static void
keep_oldest(struct report *r, const struct store_report_ticket *t)
{
	if (strcmp(t->status, "closed") == 0)
		return;
	/* Tickets come by id, so roughly by age: keep the REPORT_OLDEST
	   smallest created_at, sorted. */
	size_t n = r->n_oldest;
	if (n == REPORT_OLDEST && t->created_at >= r->oldest[n - 1].created_at)
		return;
	if (n == REPORT_OLDEST) {
		struct report_ticket *last = &r->oldest[--n];
		free(last->subject);
		free(last->status);
		free(last->queue);
		free(last->assignee);
	}
	size_t i = n;
	while (i > 0 && r->oldest[i - 1].created_at > t->created_at) {
		r->oldest[i] = r->oldest[i - 1];
		i--;
	}
	r->oldest[i] = (struct report_ticket){
		.id = t->id,
		.created_at = t->created_at,
		.subject = xstrdup(t->subject),
		.status = xstrdup(t->status),
		.queue = xstrdup(t->queue),
		.assignee = xstrdup(t->assignee),
	};
	r->n_oldest = n + 1;
}

static int
on_ticket(void *context, const void *record)
{
	struct ctx *c = context;
	struct report *r = c->r;
	const struct store_report_ticket *t = record;
	int created = t->created_at >= r->opt.since && t->created_at < r->opt.until;
	int solved = t->closed_at >= r->opt.since && t->closed_at < r->opt.until;
	struct attrs a = { t->category, t->queue, t->language, t->assignee, t->channel };

	count_ticket(c, &r->total, t, created, solved);
	if (by_time(r->opt.by)) {
		if (created)
			count_ticket(c, group_of(c, t->created_at, &a), t, 1, 0);
		if (solved)
			count_ticket(c, group_of(c, t->closed_at, &a), t, 0, 1);
	} else if (created || solved) {
		count_ticket(c, group_of(c, 0, &a), t, created, solved);
	}

	/* Backlog: open from creation to its close, at the end of each day. */
	ssize_t from = t->created_at < r->opt.since ? 0 : day_of(r, t->created_at);
	if (from >= 0) {
		ssize_t to = (ssize_t)r->n_days;
		if (t->closed_at > 0 && t->closed_at < r->opt.until)
			to = t->closed_at < r->opt.since ? 0 : day_of(r, t->closed_at);
		/* open at the end of days from .. to-1 (it closed during day to) */
		if (to > from) {
			r->day_backlog[from]++;
			r->day_backlog[to]--;
		}
	}
	if (created) {
		ssize_t d = day_of(r, t->created_at);
		r->day_created[d]++;
		if (c->day_shift[d]) {
			struct tm tm;
			local_tm(r, t->created_at, &tm);
			r->heatmap[(tm.tm_wday + 6) % 7][tm.tm_hour]++;
		} else {
			r->heatmap[c->day_wday[d]][(t->created_at - c->day_midnight[d]) / 3600]++;
		}
		const char *predicted = *t->rules_category != '\0' ? t->rules_category : t->category;
		if (confusion_add(c->conf, t->category, predicted) < 0)
			c->error = "report: more than 256 categories";
	}
	keep_oldest(r, t);
	return 0;
}

static int
on_message(void *context, const void *record)
{
	struct ctx *c = context;
	const struct store_report_message *m = record;
	int in = strcmp(m->direction, "in") == 0;
	/* "out" rows are what the desk sent by itself (acknowledgements,
	   ack.c): not replies, as Zendesk's "Agent replies" leaves out
	   trigger mail. */
	int agent = strcmp(m->direction, "agent") == 0;
	if (!in && !agent)
		return 0;
	struct attrs a = { m->category, m->queue, m->language,
			   agent && *m->from_address != '\0' ? m->from_address : m->assignee,
			   m->channel };
	struct report_figures *g = group_of(c, m->created_at, &a);
	if (in) {
		c->r->total.customer_messages++;
		if (g != NULL)
			g->customer_messages++;
	} else {
		c->r->total.agent_replies++;
		if (g != NULL)
			g->agent_replies++;
	}
	return 0;
}

static int
on_reopen(void *context, const void *record)
{
	struct ctx *c = context;
	const struct store_report_reopen *o = record;
	struct attrs a = { o->category, o->queue, o->language, o->assignee, o->channel };
	struct report_figures *g = group_of(c, o->at, &a);
	c->r->total.reopened++;
	if (g != NULL)
		g->reopened++;
	return 0;
}

static int
on_rule(void *context, const void *record)
{
	struct report *r = ((struct ctx *)context)->r;
	const struct store_report_rule *h = record;
	/* A desk has tens of rules: a linear search, newest match first. */
	size_t i = r->n_rules;
	while (i > 0 && strcmp(r->rules[i - 1].rule, h->rule) != 0)
		i--;
	if (i == 0) {
		if (r->n_rules == REPORT_MAX_GROUPS)
			return 0;
		r->rules = xreallocarray(r->rules, r->n_rules + 1, sizeof(*r->rules));
		r->rules[r->n_rules++] = (struct report_rule){ xstrdup(h->rule), 0, 0 };
		i = r->n_rules;
	}
	r->rules[i - 1].hits += h->hits;
	r->rules[i - 1].tickets += h->tickets;
	return 0;
}

static int
on_survey(void *context, const void *record)
{
	struct ctx *c = context;
	struct report *r = c->r;
	const struct store_report_survey *v = record;
	struct attrs a = { v->category, v->queue, v->language, v->assignee, v->channel };
	struct report_figures *g = group_of(c, v->sent_at, &a);
	struct report_figures *fs[2] = { &r->total, g };
	for (size_t i = 0; i < 2; i++) {
		if (fs[i] == NULL)
			continue;
		fs[i]->surveys_sent++;
		if (v->score >= 1 && v->score <= 5) {
			fs[i]->votes++;
			fs[i]->scores[v->score]++;
		}
	}
	if (v->score < 1 || v->comment == NULL || *v->comment == '\0')
		return 0;
	/* The newest REPORT_COMMENTS comments, newest first. */
	size_t n = r->n_comments;
	if (n == REPORT_COMMENTS && v->voted_at <= r->comments[n - 1].voted_at)
		return 0;
	if (n == REPORT_COMMENTS) {
		n--;
		free(r->comments[n].comment);
		free(r->comments[n].assignee);
	}
	size_t i = n;
	while (i > 0 && r->comments[i - 1].voted_at < v->voted_at) {
		r->comments[i] = r->comments[i - 1];
		i--;
	}
	r->comments[i] = (struct report_comment){
		.ticket_id = v->ticket_id,
		.voted_at = v->voted_at,
		.score = v->score,
		.comment = xstrdup(v->comment),
		.assignee = v->assignee != NULL ? xstrdup(v->assignee) : NULL,
	};
	r->n_comments = n + 1;
	return 0;
}

static void
finish_figures(struct report_figures *f)
{
	dist_finish(&f->first_response);
	dist_finish(&f->resolution);
	dist_finish(&f->first_response_business);
	dist_finish(&f->resolution_business);
}

/* Most hits first, then by name. */
static int
cmp_rule(const void *a, const void *b)
{
	const struct report_rule *x = a, *y = b;
	if (x->hits != y->hits)
		return x->hits > y->hits ? -1 : 1;
	return strcmp(x->rule, y->rule);
}

static void
finish(struct ctx *c)
{
	struct report *r = c->r;
	if (r->n_rules > 1)
		qsort(r->rules, r->n_rules, sizeof(*r->rules), cmp_rule);
	finish_figures(&r->total);
	for (size_t i = 0; i < r->n_groups; i++)
		finish_figures(&r->groups[i].f);
	/* The backlog differences into counts. */
	int64_t open = 0;
	for (size_t d = 0; d < r->n_days; d++) {
		open += r->day_backlog[d];
		r->day_backlog[d] = open;
	}
	/* What agents did with the rules' categories. */
	size_t n = confusion_size(c->conf);
	r->categories = xcalloc(n + 1, sizeof(*r->categories));
	for (size_t i = 0; i < n; i++) {
		struct confusion_metrics m;
		confusion_metrics(c->conf, i, &m);
		if (m.predicted == 0)
			continue;
		r->categories[r->n_categories++] = (struct report_category){
			.category = xstrdup(confusion_name(c->conf, i)),
			.tickets = (int64_t)m.predicted,
			.changed = (int64_t)(m.predicted - m.tp),
			.precision = m.precision,
			.recall = m.recall,
		};
	}
}

int
report_compute(struct store *store, const struct report_options *opt, struct report **report_r,
	       const char **error_r)
{
	struct report *r = xcalloc(1, sizeof(*r));
	struct ctx c = { .r = r, .conf = confusion_new() };
	r->opt = *opt;
	int ret = opt->since < opt->until ? make_days(&c, error_r) : -1;
	if (opt->since >= opt->until)
		*error_r = "report: the period is empty (--since must be before --until)";
	if (ret == 0)
		ret = store_report_tickets(store, opt->since, opt->until, on_ticket, &c, error_r);
	if (ret == 0)
		ret = store_report_messages(store, opt->since, opt->until, on_message, &c, error_r);
	if (ret == 0)
		ret = store_report_reopens(store, opt->since, opt->until, on_reopen, &c, error_r);
	if (ret == 0)
		ret = store_report_rules(store, opt->since, opt->until, on_rule, &c, error_r);
	if (ret == 0)
		ret = store_report_surveys(store, opt->since, opt->until, on_survey, &c, error_r);
	if (ret == 0 && c.error != NULL) {
		*error_r = c.error;
		ret = -1;
	}
	if (ret == 0)
		finish(&c);
	free(c.day_group);
	free(c.day_midnight);
	free(c.day_wday);
	free(c.day_shift);
	confusion_free(&c.conf);
	if (ret < 0) {
		report_free(&r);
		return ret;
	}
	*report_r = r;
	return 0;
}

static void
free_dist(struct report_dist *d)
{
	if (d->data != NULL) {
		free(d->data->values);
		free(d->data->hist);
		free(d->data);
		d->data = NULL;
	}
}

static void
free_figures(struct report_figures *f)
{
	free_dist(&f->first_response);
	free_dist(&f->resolution);
	free_dist(&f->first_response_business);
	free_dist(&f->resolution_business);
}

void
report_free(struct report **reportp)
{
	struct report *r = *reportp;
	if (r == NULL)
		return;
	free_figures(&r->total);
	for (size_t i = 0; i < r->n_groups; i++) {
		free(r->groups[i].key);
		free_figures(&r->groups[i].f);
	}
	free(r->groups);
	for (size_t d = 0; d < r->n_days; d++)
		free(r->day_key[d]);
	free(r->day_key);
	free(r->day_start);
	free(r->day_created);
	free(r->day_backlog);
	for (size_t i = 0; i < r->n_oldest; i++) {
		free(r->oldest[i].subject);
		free(r->oldest[i].status);
		free(r->oldest[i].queue);
		free(r->oldest[i].assignee);
	}
	for (size_t i = 0; i < r->n_rules; i++)
		free(r->rules[i].rule);
	free(r->rules);
	for (size_t i = 0; i < r->n_categories; i++)
		free(r->categories[i].category);
	free(r->categories);
	for (size_t i = 0; i < r->n_comments; i++) {
		free(r->comments[i].comment);
		free(r->comments[i].assignee);
	}
	free(r);
	*reportp = NULL;
}

double
report_csat(const struct report_figures *f)
{
	if (f->votes == 0)
		return -1;
	return 100.0 * (double)(f->scores[4] + f->scores[5]) / (double)f->votes;
}

double
report_sla_share(const struct report_figures *f)
{
	int64_t due = f->sla_met + f->sla_breached;
	return due == 0 ? -1 : 100.0 * (double)f->sla_met / (double)due;
}

double
report_target_share(const struct report_figures *f, int k)
{
	int64_t due = f->target_met[k] + f->target_breached[k];
	return due == 0 ? -1 : 100.0 * (double)f->target_met[k] / (double)due;
}

const char *
report_duration(char *buf, size_t size, int64_t count, int64_t s)
{
	if (count == 0)
		snprintf(buf, size, "-");
	else if (s >= 86400)
		snprintf(buf, size, "%lldd %02lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, size, "%lldh %02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, size, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, size, "%llds", (long long)s);
	return buf;
}

const char *
report_percent(char *buf, size_t size, int decimals, double p)
{
	if (p < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f%%", decimals, p);
	return buf;
}
