/* report-mail: see report-mail.h. */
#define _POSIX_C_SOURCE 200809L /* open_memstream() */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/util.h"
#include "gateway/ack.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/report-mail.h"
#include "gateway/report.h"
#include "gateway/route.h"
#include "gateway/schedule.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "gateway/supervisor.h"
#include "gateway/template.h"
#include "parsers/tzif.h"

/* The outbox kind (counted and rate-limited as what it is). */
#define OUTBOX_KIND "report"

struct recipient {
	char *address;
	const char *name;     /* borrowed from the configuration; NULL: none */
	const char *language; /* static (ack_language()) */
};

struct report_mail {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	struct sla *sla;	   /* the [hours NAME] calendars of tickets' SLA rows */
	struct hours *desk_hours;  /* [hours]: the report's days, business time */
	struct hours *clock;	   /* [report] timezone, 24x7: when the mail goes */
	struct route *route;
	struct ack_templates *templates;
	int wday, hour, min; /* wday -1: off */
	enum report_by by;
	struct recipient *r;
	size_t n;
	const char *error; /* adding recipients: the first error */
};

/* ---- recipients ------------------------------------------------------------------------ */

static void
recipient_add(void *context, const char *address, const struct config_agent *a)
{
	struct report_mail *rm = context;
	if (address == NULL || *address == '\0' || rm->n >= REPORT_MAIL_MAX_RECIPIENTS)
		return;
	for (size_t i = 0; i < rm->n; i++)
		if (strcasecmp(rm->r[i].address, address) == 0)
			return;
	rm->r = xreallocarray(rm->r, rm->n + 1, sizeof(*rm->r));
	rm->r[rm->n++] = (struct recipient){
		.address = xstrdup(address),
		.name = a != NULL ? route_agent_name(a) : NULL,
		.language = ack_language(rm->config, a != NULL ? a->language : NULL),
	};
}

static const char *
where(const struct report_mail *rm, const char *key)
{
	return errf("%s:%u", rm->config->path, config_line(rm->config, "report", NULL, key));
}

/* [report] recipients: each an agent (route_find_agent()) or an address. */
static int
add_listed(struct report_mail *rm, const char *list, const char **error_r)
{
	const char *p = list, *item;
	size_t n;
	char buf[256];
	while (route_list_next(&p, &item, &n)) {
		if (n >= sizeof(buf)) {
			*error_r = errf("%s: [report] recipients: an item is too long",
					where(rm, "recipients"));
			return -1;
		}
		memcpy(buf, item, n);
		buf[n] = '\0';
		const struct config_agent *a = route_find_agent(rm->route, buf);
		if (a != NULL && a->address != NULL)
			recipient_add(rm, a->address, a);
		else if (strchr(buf, '@') != NULL && strchr(buf, '@') == strrchr(buf, '@'))
			recipient_add(rm, buf, NULL);
		else {
			*error_r = errf("%s: [report] recipients: \"%s\" is no [agent] and no "
					"address",
					where(rm, "recipients"), log_safe(buf, 100));
			return -1;
		}
	}
	return 0;
}

static int
add_recipients(struct report_mail *rm, const char **error_r)
{
	const struct config *c = rm->config;
	if (c->report.recipients != NULL && *c->report.recipients != '\0')
		return add_listed(rm, c->report.recipients, error_r);
	struct supervisor *sv = NULL;
	if (supervisor_new(c, &sv, error_r) < 0)
		return -1;
	/* the agents named supervisor first (a ticket of no queue and no
	   policy: only they answer), then the desk's chain: [alerts]
	   supervisors, else every agent */
	if (supervisor_ticket(sv, NULL, NULL, recipient_add, rm) == SUPERVISOR_NOBODY)
		(void)supervisor_desk(sv, recipient_add, rm);
	supervisor_free(&sv);
	return 0;
}

static const struct hours *
calendar_of(const void *sla, const char *name)
{
	return sla_calendar(sla, name);
}

int
report_mail_new(const struct config *config, struct store *store, struct deskmail *dm,
		struct report_mail **rm_r, const char **error_r)
{
	struct report_mail *rm = xcalloc(1, sizeof(*rm));
	rm->config = config;
	rm->store = store;
	rm->dm = dm;
	rm->wday = -1;
	*rm_r = NULL;
	int minute = 0;
	if (hours_parse_weekly(config->report.weekly, &rm->wday, &minute) < 0) {
		/* config_load() checked it: a configuration made otherwise */
		*error_r = errf("%s: [report] weekly: expected DAY HH:MM or off",
				where(rm, "weekly"));
		goto fail;
	}
	rm->hour = minute / 60;
	rm->min = minute % 60;
	/* "none" (or unset) is no name report_by_parse() knows: the totals */
	int by = config->report.by != NULL ? report_by_parse(config->report.by) : -1;
	rm->by = by < 0 ? REPORT_BY_NONE : (enum report_by)by;
	const char *zone = config->report.timezone != NULL ? config->report.timezone
							   : config->hours.timezone;
	const char *why;
	if (hours_new(zone, "24x7", NULL, &rm->clock, &why) < 0) {
		*error_r = errf("%s: [report] timezone: %s",
				config->report.timezone != NULL ? where(rm, "timezone")
								: config->path,
				why);
		goto fail;
	}
	if (ack_hours_from_config(config, &rm->desk_hours, error_r) < 0 ||
	    sla_new(config, &rm->sla, error_r) < 0 || route_new(config, &rm->route, error_r) < 0)
		goto fail;
	rm->templates = ack_templates_new(config, NULL);
	if (rm->wday >= 0 && add_recipients(rm, error_r) < 0)
		goto fail;
	*rm_r = rm;
	return 0;
fail:
	report_mail_free(&rm);
	return -1;
}

void
report_mail_free(struct report_mail **rmp)
{
	struct report_mail *rm = *rmp;
	if (rm == NULL)
		return;
	for (size_t i = 0; i < rm->n; i++)
		free(rm->r[i].address);
	free(rm->r);
	ack_templates_free(&rm->templates);
	route_free(&rm->route);
	sla_free(&rm->sla);
	hours_free(&rm->desk_hours);
	hours_free(&rm->clock);
	free(rm);
	*rmp = NULL;
}

size_t
report_mail_recipient_count(const struct report_mail *rm)
{
	return rm->n;
}

const char *
report_mail_recipient(const struct report_mail *rm, size_t i)
{
	return i < rm->n ? rm->r[i].address : NULL;
}

/* ---- local weeks ---------------------------------------------------------------------- */

static int64_t
local_day(const struct report_mail *rm, int64_t t)
{
	struct tzif_tm tm;
	tzif_localtime(hours_zone(rm->clock), t, &tm);
	return clock_days_from_civil(tm.year, tm.mon, tm.mday);
}

/* The instant of hour:min on local day `day` (in a spring-forward gap:
   the time after the change, as tzif_mktime() reads it). */
static int64_t
at_day(const struct report_mail *rm, int64_t day, int hour, int min)
{
	int year, mon, mday;
	clock_civil_from_days(day, &year, &mon, &mday);
	return tzif_mktime(hours_zone(rm->clock), year, mon, mday, hour, min, 0);
}

/* Monday 0 ... Sunday 6 of a day number (day 0, 1970-01-01, a Thursday). */
static int
weekday(int64_t day)
{
	return (int)(((day % 7) + 7 + 3) % 7);
}

/* The local day of the latest occurrence at or before now. */
static int64_t
due_day(const struct report_mail *rm, int64_t now)
{
	int64_t day = local_day(rm, now);
	day -= (weekday(day) - rm->wday + 7) % 7;
	return at_day(rm, day, rm->hour, rm->min) <= now ? day : day - 7;
}

int64_t
report_mail_next(const struct report_mail *rm, int64_t after)
{
	if (rm->wday < 0)
		return 0;
	for (int64_t day = due_day(rm, after) + 7;; day += 7) {
		int64_t t = at_day(rm, day, rm->hour, rm->min);
		if (t > after)
			return t;
	}
}

int
report_mail_period(const struct report_mail *rm, int64_t now, int64_t *since_r,
		   int64_t *until_r)
{
	if (rm->wday < 0)
		return -1;
	int64_t day = due_day(rm, now);
	*since_r = at_day(rm, day - 7, 0, 0);
	*until_r = at_day(rm, day, 0, 0);
	return 0;
}

int
report_mail_arm(struct report_mail *rm, int64_t now, const char **error_r)
{
	struct store_timer *t = NULL;
	int ret = store_begin(rm->store, error_r);
	if (ret < 0)
		return ret;
	if (rm->wday < 0 || rm->n == 0) {
		ret = store_timer_cancel(rm->store, REPORT_MAIL_TIMER, 0, REPORT_MAIL_SUBJECT,
					 error_r);
	} else {
		ret = store_timer_get(rm->store, REPORT_MAIL_TIMER, 0, REPORT_MAIL_SUBJECT, &t,
				      error_r);
		int64_t next = report_mail_next(rm, now);
		/* one already due stays (a report missed while down); a future
		   one moves to the time configured now */
		if (ret == 0 || (ret == 1 && t->due_at > now && t->due_at != next))
			ret = store_timer_set(rm->store, REPORT_MAIL_TIMER, 0, REPORT_MAIL_SUBJECT,
					      next, error_r);
		store_timer_free(&t);
	}
	if (ret < 0) {
		store_rollback(rm->store);
		return ret;
	}
	return store_commit(rm->store, error_r);
}

/* ---- the mail ---------------------------------------------------------------------------- */

/* What a writer printed, as a string (caller frees); NULL when it failed. */
static char *
written(const struct report *r, int (*writer)(const struct report *, FILE *))
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);
	if (fp == NULL)
		return NULL;
	int ret = writer(r, fp);
	if (fclose(fp) != 0 || ret < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void
day_string(const struct report_mail *rm, int64_t t, char out[16])
{
	struct tm tm;
	hours_localtime(rm->desk_hours, t, &tm);
	if (strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		out[0] = '\0';
}

static void
set_int(struct tmpl_value *m, const char *key, int64_t v)
{
	char buf[32];
	(void)snprintf(buf, sizeof(buf), "%lld", (long long)v);
	tmpl_map_set_string(m, key, buf);
}

/* The greeting's figures (templates/README.md, "Weekly report"). */
static struct tmpl_value *
mail_data(const struct report_mail *rm, const struct recipient *who, const struct report *r)
{
	char buf[32];
	const struct report_figures *f = &r->total;
	struct tmpl_value *m = tmpl_map_new();
	tmpl_map_set_string(m, "recipient", who->name != NULL ? who->name : who->address);
	day_string(rm, r->opt.since, buf);
	tmpl_map_set_string(m, "from", buf);
	day_string(rm, r->opt.until - 1, buf); /* the last day, inclusive */
	tmpl_map_set_string(m, "to", buf);
	tmpl_map_set_string(m, "timezone", hours_timezone(rm->desk_hours));
	set_int(m, "new_tickets", f->new_tickets);
	set_int(m, "customer_messages", f->customer_messages);
	set_int(m, "agent_replies", f->agent_replies);
	set_int(m, "solved", f->solved);
	set_int(m, "unanswered", f->unanswered);
	set_int(m, "backlog", r->n_days > 0 ? r->day_backlog[r->n_days - 1] : 0);
	tmpl_map_set_string(m, "first_response",
			    report_duration(buf, sizeof(buf), f->first_response.count,
					    f->first_response.median));
	tmpl_map_set_string(m, "sla", report_percent(buf, sizeof(buf), 0, report_sla_share(f)));
	tmpl_map_set_string(m, "csat", report_percent(buf, sizeof(buf), 0, report_csat(f)));
	tmpl_map_set_bool(m, "quiet", f->new_tickets == 0 && f->customer_messages == 0);
	return m;
}

/* Queue one recipient's mail (the transaction is the scheduler's). 1
   queued, 0 not (why logged), < 0 a store failure. */
static int
queue_one(struct report_mail *rm, const struct recipient *who, const struct report *r,
	  const char *text, const char *html, int64_t now, const char **error_r)
{
	struct ack_mail mail = { 0 };
	const char *why = NULL;
	struct tmpl_value *data = mail_data(rm, who, r);
	int ret = ack_render_in(rm->templates, "report", "weekly", who->language, data, &mail, &why);
	tmpl_value_free(&data);
	if (ret < 0) {
		/* the template is the admin's business: say so, go on */
		log_error("report: weekly report to %s: %s", who->address, why);
		return 0;
	}
	char *body = xasprintf("%s\n%s", mail.text, text);
	struct deskmail_msg *m =
		deskmail_start(rm->dm, 0, OUTBOX_KIND, DESKMAIL_REPLY_NONE, "auto-generated", now);
	deskmail_add_to(m, who->name, who->address);
	deskmail_subject_as_is(m, mail.subject);
	struct compose *c = deskmail_compose(m);
	compose_set_text(c, body, strlen(body));
	compose_set_html(c, html, strlen(html));
	struct deskmail_result res = { 0 };
	int q = deskmail_queue(rm->dm, &m, &res, &why, error_r);
	char from[16];
	day_string(rm, r->opt.since, from);
	if (q > 0)
		log_info("report: weekly report of the week from %s to %s: %lld new tickets "
			 "(outbox #%lld)",
			 from, who->address, (long long)r->total.new_tickets,
			 (long long)res.outbox_id);
	else if (q == 0)
		log_warnx("report: weekly report to %s not queued: %s", who->address, why);
	deskmail_result_clear(&res);
	free(body);
	ack_mail_clear(&mail);
	return q;
}

/* Send the week's report to each recipient who has not had it. */
static int
send_week(struct report_mail *rm, struct store *store, int64_t since, int64_t until, int64_t now,
	  const char **error_r)
{
	struct report_options opt = { .since = since, .until = until, .now = now, .by = rm->by,
				      .hours = rm->desk_hours, .calendar = calendar_of,
				      .calendar_context = rm->sla };
	struct report *r = NULL;
	const char *why = NULL;
	int ret = report_compute(store, &opt, &r, &why);
	if (ret == STORE_UNAVAILABLE) {
		*error_r = why;
		return ret;
	}
	if (ret < 0) {
		/* nothing to send this week; next week's may work */
		log_error("report: weekly report: %s", why);
		return 0;
	}
	char *text = written(r, report_write_text), *html = written(r, report_write_html);
	ret = 0;
	if (text == NULL || html == NULL) {
		log_error("report: weekly report: cannot write it");
		goto out;
	}
	for (size_t i = 0; i < rm->n && ret >= 0; i++) {
		ret = store_report_sent_add(store, since, until, rm->r[i].address,
					    r->total.new_tickets, error_r);
		if (ret == 0)
			log_debug("report: weekly report to %s was sent already", rm->r[i].address);
		else if (ret > 0)
			ret = queue_one(rm, &rm->r[i], r, text, html, now, error_r);
	}
out:
	free(text);
	free(html);
	report_free(&r);
	return ret < 0 ? ret : 0;
}

int
report_mail_timer(void *context, struct store *store, const struct store_timer *timer,
		  int64_t now, const char **error_r)
{
	struct report_mail *rm = context;
	int64_t since, until;
	if (strcmp(timer->subject, REPORT_MAIL_SUBJECT) != 0 || rm->n == 0 ||
	    report_mail_period(rm, now, &since, &until) < 0) {
		/* off, or nobody to send to: the timer goes */
		log_info("report: the weekly report is off or has no recipient; no report");
		return 0;
	}
	int ret = send_week(rm, store, since, until, now, error_r);
	if (ret < 0)
		return ret;
	return store_timer_set(store, REPORT_MAIL_TIMER, 0, REPORT_MAIL_SUBJECT,
			       report_mail_next(rm, now), error_r);
}

void
report_mail_register(struct report_mail *rm, struct schedule *schedule)
{
	schedule_register(schedule, REPORT_MAIL_TIMER, report_mail_timer, rm);
}
