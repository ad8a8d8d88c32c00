/* digest: see digest.h. */
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
#include "gateway/digest.h"
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/route.h"
#include "gateway/schedule.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "gateway/supervisor.h"
#include "gateway/template.h"
#include "parsers/tzif.h"

/* The outbox kind of a digest (counted and rate-limited as what it is). */
#define DIGEST_OUTBOX_KIND "digest"

enum digest_kind { KIND_AGENT, KIND_QUEUE };
static const char *const kind_names[] = { "agent", "queue" };

struct recipient {
	enum digest_kind kind;
	char *address;
	char *subject; /* the timer's: "agent:ADDRESS" */
	const char *name;
	const char *language;
	const struct config_agent *agent; /* NULL: an address that is no agent */
	int hour, min;
	struct hours *clock; /* their zone, 24x7: times for them, local days */
};

struct digest {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	struct sla *sla;
	struct route *route;
	struct ack_templates *templates;
	struct supervisor *sv;
	struct recipient *r;
	size_t n;
};

/* ---- recipients --------------------------------------------------------------------- */

static const char *
agent_zone(const struct digest *d, const struct config_agent *a)
{
	if (a != NULL && a->timezone != NULL)
		return a->timezone;
	const struct hours *cal = sla_calendar(d->sla, a != NULL ? a->calendar : NULL);
	if (cal == NULL)
		cal = sla_calendar(d->sla, NULL);
	return cal != NULL ? hours_timezone(cal) : "UTC";
}

/* "HH:MM" into hour and minute (sla_new() checked the form). */
static int
parse_hhmm(const char *s, int *hour_r, int *min_r)
{
	if (s == NULL || strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	*hour_r = (s[0] - '0') * 10 + (s[1] - '0');
	*min_r = (s[3] - '0') * 10 + (s[4] - '0');
	return *hour_r < 24 && *min_r < 60 ? 0 : -1;
}

static struct recipient *
recipient_find(const struct digest *d, enum digest_kind kind, const char *address)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->r[i].kind == kind && strcasecmp(d->r[i].address, address) == 0)
			return &d->r[i];
	return NULL;
}

static int
recipient_add(struct digest *d, enum digest_kind kind, const char *address,
	      const struct config_agent *a, const char **error_r)
{
	const char *when = a != NULL && a->digest != NULL ? a->digest : d->config->digest.time;
	struct recipient r = { .kind = kind, .agent = a };
	if (address == NULL || *address == '\0' || recipient_find(d, kind, address) != NULL)
		return 0;
	if (when != NULL && strcmp(when, "off") == 0)
		return 0;
	if (parse_hhmm(when, &r.hour, &r.min) < 0) {
		*error_r = errf("digest: %s: time \"%s\": expected HH:MM", address,
				when != NULL ? when : "");
		return -1;
	}
	if (hours_new(agent_zone(d, a), "24x7", NULL, &r.clock, error_r) < 0)
		return -1;
	r.address = xstrdup(address);
	r.subject = xasprintf("%s:%s", kind_names[kind], address);
	r.name = a != NULL ? route_agent_name(a) : NULL;
	r.language = ack_language(d->config, a != NULL ? a->language : NULL);
	d->r = xreallocarray(d->r, d->n + 1, sizeof(*d->r));
	d->r[d->n++] = r;
	return 0;
}

/* Adding the supervisors of the queues: the first error. */
struct adding {
	struct digest *d;
	const char *error;
	int failed;
};

static void
add_supervisor(void *context, const char *address, const struct config_agent *a)
{
	struct adding *ad = context;
	if (!ad->failed && recipient_add(ad->d, KIND_QUEUE, address, a, &ad->error) < 0)
		ad->failed = 1;
}

/* The supervisors of every queue (supervisor.h: the queue's, else the
   agents with supervisor = yes). */
static int
add_supervisors(struct digest *d, const char **error_r)
{
	struct adding ad = { .d = d };
	for (size_t i = 0; i < d->config->n_queues && !ad.failed; i++)
		(void)supervisor_ticket(d->sv, d->config->queues[i].name, NULL, add_supervisor, &ad);
	if (ad.failed)
		*error_r = ad.error;
	return ad.failed ? -1 : 0;
}

int
digest_new(const struct config *config, struct store *store, struct deskmail *dm,
	   struct digest **d_r, const char **error_r)
{
	struct digest *d = xcalloc(1, sizeof(*d));
	d->config = config;
	d->store = store;
	d->dm = dm;
	*d_r = NULL;
	if (sla_new(config, &d->sla, error_r) < 0 || route_new(config, &d->route, error_r) < 0 ||
	    supervisor_new(config, &d->sv, error_r) < 0)
		goto fail;
	d->templates = ack_templates_new(config, NULL);
	if (config->digest.enabled) {
		for (size_t i = 0; i < config->n_agents; i++)
			if (recipient_add(d, KIND_AGENT, config->agents[i].address,
					  &config->agents[i], error_r) < 0)
				goto fail;
		if (add_supervisors(d, error_r) < 0)
			goto fail;
	}
	*d_r = d;
	return 0;
fail:
	digest_free(&d);
	return -1;
}

void
digest_free(struct digest **dp)
{
	struct digest *d = *dp;
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->r[i].address);
		free(d->r[i].subject);
		hours_free(&d->r[i].clock);
	}
	free(d->r);
	ack_templates_free(&d->templates);
	supervisor_free(&d->sv);
	route_free(&d->route);
	sla_free(&d->sla);
	free(d);
	*dp = NULL;
}

size_t
digest_recipient_count(const struct digest *d)
{
	return d->n;
}

static struct recipient *
recipient_by_subject(const struct digest *d, const char *subject)
{
	for (size_t i = 0; subject != NULL && i < d->n; i++)
		if (strcasecmp(d->r[i].subject, subject) == 0)
			return &d->r[i];
	return NULL;
}

/* ---- local days ------------------------------------------------------------------------ */

/* The local day number (clock_days_from_civil()) of t for r. */
static int64_t
local_day(const struct recipient *r, int64_t t)
{
	struct tzif_tm tm;
	tzif_localtime(hours_zone(r->clock), t, &tm);
	return clock_days_from_civil(tm.year, tm.mon, tm.mday);
}

/* The instant of r's HH:MM on local day `day` (in a spring-forward gap:
   the time after the change, as tzif_mktime() reads it). */
static int64_t
occurrence(const struct recipient *r, int64_t day)
{
	int year, mon, mday;
	clock_civil_from_days(day, &year, &mon, &mday);
	return tzif_mktime(hours_zone(r->clock), year, mon, mday, r->hour, r->min, 0);
}

/* The local day of the latest occurrence at or before now. */
static int64_t
due_day(const struct recipient *r, int64_t now)
{
	int64_t day = local_day(r, now);
	return occurrence(r, day) <= now ? day : day - 1;
}

/* The first occurrence after `after` on a local day after `day`. */
static int64_t
next_after_day(const struct recipient *r, int64_t day, int64_t after)
{
	for (int64_t dd = day + 1;; dd++) {
		int64_t t = occurrence(r, dd);
		if (t > after)
			return t;
	}
}

int64_t
digest_next(const struct digest *d, const char *subject, int64_t after)
{
	const struct recipient *r = recipient_by_subject(d, subject);
	if (r == NULL)
		return 0;
	return next_after_day(r, due_day(r, after), after);
}

static void
day_string(int64_t day, char out[16])
{
	int year, mon, mday;
	clock_civil_from_days(day, &year, &mon, &mday);
	(void)snprintf(out, 16, "%04d-%02d-%02d", year, mon, mday);
}

int
digest_arm(struct digest *d, int64_t now, const char **error_r)
{
	int ret = 0;
	if (d->n == 0)
		return 0;
	if ((ret = store_begin(d->store, error_r)) < 0)
		return ret;
	for (size_t i = 0; i < d->n && ret >= 0; i++) {
		const struct recipient *r = &d->r[i];
		struct store_timer *t = NULL;
		ret = store_timer_get(d->store, DIGEST_TIMER, 0, r->subject, &t, error_r);
		int64_t next = next_after_day(r, due_day(r, now), now);
		/* one already due stays (a digest missed while down); a future
		   one moves to the time configured now */
		if (ret == 0 || (ret == 1 && t->due_at > now && t->due_at != next))
			ret = store_timer_set(d->store, DIGEST_TIMER, 0, r->subject, next, error_r);
		store_timer_free(&t);
	}
	if (ret < 0) {
		store_rollback(d->store);
		return ret;
	}
	return store_commit(d->store, error_r);
}

/* ---- content ------------------------------------------------------------------------------ */

/* The earliest target of a row that is breached at now (-1: none), or
   at risk (past its warning instant) when at_risk. */
static int
late_target(const struct store_sla *s, int64_t now, int at_risk)
{
	int best = -1;
	if (s->ticket_id == 0)
		return -1;
	for (int i = 0; i < SLA_TARGETS; i++) {
		const char *st = sla_target_state(s, (enum store_sla_target)i, now);
		if (strcmp(st, at_risk ? "at-risk" : "breached") == 0 &&
		    (best < 0 || s->due[i] < s->due[best]))
			best = i;
	}
	return best;
}

/* The earliest due instant of a running target, else the promise. */
static int64_t
row_due(const struct store_ticket_due *row)
{
	return row->sla.earliest_due > 0 ? row->sla.earliest_due : row->t.due_at;
}

/* One ticket of a list: tag, subject, priority, status, queue,
   due, late/left; target when it is late or at risk. */
static void
add_item(struct digest *d, const struct recipient *r, struct tmpl_value *list,
	 const struct store_ticket_due *row, int target, int64_t now)
{
	char buf[128];
	struct tmpl_value *m = tmpl_list_add_map(list);
	char *tag = deskmail_ticket_tag(d->dm, row->t.id);
	tmpl_map_set_string(m, "tag", tag);
	free(tag);
	(void)snprintf(buf, sizeof(buf), "%lld", (long long)row->t.id);
	tmpl_map_set_string(m, "id", buf);
	tmpl_map_set_string(m, "subject", deskmail_subject_base(row->t.subject));
	tmpl_map_set_string(m, "priority", row->t.priority);
	tmpl_map_set_string(m, "status", row->t.status);
	tmpl_map_set_string(m, "queue", row->t.queue != NULL ? row->t.queue : "");
	tmpl_map_set_string(m, "customer",
			    row->t.customer_address != NULL ? row->t.customer_address : "");
	tmpl_map_set_bool(m, "vip", row->sla.vip);
	int64_t due = target >= 0 ? row->sla.due[target] : row_due(row);
	if (target >= 0) {
		tmpl_map_set_string(m, "target", sla_target_name(target));
		tmpl_map_set_bool(m, sla_target_name(target), 1);
	}
	if (due > 0) {
		tmpl_map_set_string(m, "due",
				    sla_format_time_in(r->clock, due, r->language, buf, sizeof(buf)));
		tmpl_map_set_string(m, due > now ? "left" : "late",
				    sla_format_duration(due > now ? due - now : now - due, buf,
							sizeof(buf)));
	}
	tmpl_map_set_string(m, "age",
			    sla_format_duration(now > row->t.created_at ? now - row->t.created_at : 0,
						buf, sizeof(buf)));
}

/* A list of at most DIGEST_MAX_LIST items under key, with has_KEY and
   more_KEY (how many were left out). */
struct list {
	struct tmpl_value *items;
	size_t n;
	const char *key;
};

static void
list_start(struct list *l, struct tmpl_value *map, const char *key)
{
	l->items = tmpl_map_add_list(map, key);
	l->n = 0;
	l->key = key;
}

static void
list_add(struct digest *d, const struct recipient *r, struct list *l,
	 const struct store_ticket_due *row, int target, int64_t now)
{
	if (l->n++ < DIGEST_MAX_LIST)
		add_item(d, r, l->items, row, target, now);
}

static void
list_end(struct list *l, struct tmpl_value *map)
{
	char key[64], buf[32];
	(void)snprintf(key, sizeof(key), "has_%s", l->key);
	tmpl_map_set_bool(map, key, l->n > 0);
	(void)snprintf(key, sizeof(key), "count_%s", l->key);
	(void)snprintf(buf, sizeof(buf), "%zu", l->n);
	tmpl_map_set_string(map, key, buf);
	(void)snprintf(key, sizeof(key), "more_%s", l->key);
	if (l->n > DIGEST_MAX_LIST) {
		(void)snprintf(buf, sizeof(buf), "%zu", l->n - DIGEST_MAX_LIST);
		tmpl_map_set_string(map, key, buf);
	}
}

static int
query(struct digest *d, const struct store_ticket_filter *f, struct store_ticket_due **rows_r,
      size_t *n_r, const char **error_r)
{
	struct store_ticket_filter q = *f;
	q.not_closed = 1;
	q.by_due = 1;
	q.limit = DIGEST_MAX_READ;
	return store_ticket_query(d->store, &q, rows_r, n_r, error_r);
}

/* The agent's digest: breached, theirs, unassigned in their queues. */
static int
agent_data(struct digest *d, const struct recipient *r, int64_t now, struct tmpl_value *data,
	   int64_t *items_r, const char **error_r)
{
	struct store_ticket_due *mine = NULL, *free_rows = NULL;
	size_t n_mine = 0, n_free = 0;
	int ret = query(d, &(struct store_ticket_filter){ .assignee = r->address }, &mine,
			&n_mine, error_r);
	if (ret >= 0)
		ret = query(d, &(struct store_ticket_filter){ .unassigned = 1 }, &free_rows,
			    &n_free, error_r);
	if (ret < 0)
		goto out;
	struct list breached, own, unassigned;
	list_start(&breached, data, "breached");
	list_start(&own, data, "mine");
	list_start(&unassigned, data, "unassigned");
	const struct config *config = d->config;
	unsigned char *sel = xcalloc(config->n_agents + 1, 1);
	size_t me = (size_t)(r->agent - config->agents);
	for (size_t i = 0; i < n_mine; i++) {
		int late = late_target(&mine[i].sla, now, 0);
		if (late >= 0)
			list_add(d, r, &breached, &mine[i], late, now);
		list_add(d, r, &own, &mine[i], -1, now);
	}
	for (size_t i = 0; i < n_free; i++) {
		memset(sel, 0, config->n_agents + 1);
		(void)route_select_ticket(d->route, free_rows[i].t.queue, sel);
		if (!sel[me])
			continue;
		int late = late_target(&free_rows[i].sla, now, 0);
		if (late >= 0)
			list_add(d, r, &breached, &free_rows[i], late, now);
		list_add(d, r, &unassigned, &free_rows[i], -1, now);
	}
	free(sel);
	list_end(&breached, data);
	list_end(&own, data);
	list_end(&unassigned, data);
	*items_r = (int64_t)(own.n + unassigned.n);
	ret = 0;
out:
	store_ticket_dues_free(&mine, n_mine);
	store_ticket_dues_free(&free_rows, n_free);
	return ret;
}

/* Is the person the one sought? */
struct seeking {
	const char *address;
	int found;
};

static void
seek(void *context, const char *address, const struct config_agent *a)
{
	struct seeking *sk = context;
	(void)a;
	sk->found |= strcasecmp(address, sk->address) == 0;
}

/* 1 when r supervises queue q. */
static int
supervises(const struct digest *d, const struct recipient *r, const struct config_queue *q)
{
	struct seeking sk = { r->address, 0 };
	(void)supervisor_ticket(d->sv, q->name, NULL, seek, &sk);
	return sk.found;
}

/* The oldest unanswered first: by created_at, then id. */
static int
by_age(const void *a, const void *b)
{
	const struct store_ticket_due *x = *(const struct store_ticket_due *const *)a;
	const struct store_ticket_due *y = *(const struct store_ticket_due *const *)b;
	if (x->t.created_at != y->t.created_at)
		return x->t.created_at < y->t.created_at ? -1 : 1;
	return x->t.id < y->t.id ? -1 : x->t.id > y->t.id;
}

#define OLDEST_SHOWN 5

static int
queue_one(struct digest *d, const struct recipient *r, const struct config_queue *q,
	  int64_t now, struct tmpl_value *queues, int64_t *items_r, const char **error_r)
{
	struct store_ticket_due *rows = NULL;
	size_t n = 0;
	int ret = query(d, &(struct store_ticket_filter){ .queue = q->name }, &rows, &n, error_r);
	if (ret < 0)
		return ret;
	if (n == 0)
		return 0;
	char buf[32];
	size_t by_status[3] = { 0 }, n_old = 0;
	struct tmpl_value *m = tmpl_list_add_map(queues);
	struct list breached, at_risk, vip, oldest;
	const struct store_ticket_due **old = xreallocarray(NULL, n, sizeof(*old));
	tmpl_map_set_string(m, "name", q->name);
	list_start(&breached, m, "breached");
	list_start(&at_risk, m, "at_risk");
	list_start(&vip, m, "vip");
	for (size_t i = 0; i < n; i++) {
		const struct store_ticket_due *row = &rows[i];
		int late = late_target(&row->sla, now, 0), risk = late_target(&row->sla, now, 1);
		if (strcmp(row->t.status, "new") == 0)
			by_status[0]++;
		else if (strcmp(row->t.status, "pending") == 0)
			by_status[2]++;
		else
			by_status[1]++;
		if (late >= 0)
			list_add(d, r, &breached, row, late, now);
		else if (risk >= 0)
			list_add(d, r, &at_risk, row, risk, now);
		if (row->sla.vip)
			list_add(d, r, &vip, row, -1, now);
		if (row->t.first_response_at == 0 && strcmp(row->t.status, "pending") != 0)
			old[n_old++] = row;
	}
	qsort(old, n_old, sizeof(*old), by_age);
	list_start(&oldest, m, "oldest");
	for (size_t i = 0; i < n_old && i < OLDEST_SHOWN; i++)
		list_add(d, r, &oldest, old[i], -1, now);
	free(old);
	list_end(&breached, m);
	list_end(&at_risk, m);
	list_end(&vip, m);
	list_end(&oldest, m);
	(void)snprintf(buf, sizeof(buf), "%s%zu", n == DIGEST_MAX_READ ? "≥" : "", n);
	tmpl_map_set_string(m, "backlog", buf);
	(void)snprintf(buf, sizeof(buf), "%zu", by_status[0]);
	tmpl_map_set_string(m, "new", buf);
	(void)snprintf(buf, sizeof(buf), "%zu", by_status[1]);
	tmpl_map_set_string(m, "open", buf);
	(void)snprintf(buf, sizeof(buf), "%zu", by_status[2]);
	tmpl_map_set_string(m, "pending", buf);
	(void)snprintf(buf, sizeof(buf), "%zu", n_old);
	tmpl_map_set_string(m, "unanswered", buf);
	*items_r += (int64_t)n;
	store_ticket_dues_free(&rows, n);
	return 0;
}

static int
queue_data(struct digest *d, const struct recipient *r, int64_t now, struct tmpl_value *data,
	   int64_t *items_r, const char **error_r)
{
	struct tmpl_value *queues = tmpl_map_add_list(data, "queues");
	*items_r = 0;
	for (size_t i = 0; i < d->config->n_queues; i++) {
		const struct config_queue *q = &d->config->queues[i];
		if (!supervises(d, r, q))
			continue;
		int ret = queue_one(d, r, q, now, queues, items_r, error_r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int
digest_render(struct digest *d, const char *subject, int64_t now, struct ack_mail *mail,
	      int64_t *items_r, const char **error_r)
{
	const struct recipient *r = recipient_by_subject(d, subject);
	char buf[64];
	*items_r = 0;
	if (r == NULL)
		return 0;
	struct tmpl_value *data = tmpl_map_new();
	tmpl_map_set_string(data, "recipient", r->name != NULL ? r->name : r->address);
	day_string(local_day(r, now), buf);
	tmpl_map_set_string(data, "date", buf);
	tmpl_map_set_string(data, "now",
			    sla_format_time_in(r->clock, now, r->language, buf, sizeof(buf)));
	tmpl_map_set_string(data, "timezone", hours_timezone(r->clock));
	int ret = r->kind == KIND_AGENT ? agent_data(d, r, now, data, items_r, error_r)
					: queue_data(d, r, now, data, items_r, error_r);
	if (ret < 0 || *items_r == 0) {
		tmpl_value_free(&data);
		return ret < 0 ? ret : 0;
	}
	(void)snprintf(buf, sizeof(buf), "%lld", (long long)*items_r);
	tmpl_map_set_string(data, "total", buf);
	ret = ack_render_in(d->templates, "digest", kind_names[r->kind], r->language, data, mail,
			    error_r);
	tmpl_value_free(&data);
	return ret < 0 ? -1 : 1;
}

/* ---- the timer ------------------------------------------------------------------------------ */

int
digest_timer(void *context, struct store *store, const struct store_timer *timer, int64_t now,
	     const char **error_r)
{
	struct digest *d = context;
	const struct recipient *r = recipient_by_subject(d, timer->subject);
	if (r == NULL) {
		/* no longer configured: the timer goes with it */
		log_info("digest: %s: no such recipient any more; no digest",
			 log_safe(timer->subject, 200));
		return 0;
	}
	int64_t day = due_day(r, now);
	char daybuf[16];
	day_string(day, daybuf);

	struct ack_mail mail = { 0 };
	int64_t items = 0;
	const char *why = NULL;
	int ret = digest_render(d, r->subject, now, &mail, &items, &why);
	if (ret < 0 && ret != -1) {
		*error_r = why;
		return ret;
	}
	if (ret == -1) {
		/* the template is the admin's business: say so, go on tomorrow */
		log_error("digest: %s digest to %s: %s", kind_names[r->kind], r->address, why);
		items = 0;
	}
	int rec = store_digest_add(store, kind_names[r->kind], r->address, daybuf,
				   ret == 1 ? items : 0, error_r);
	if (rec < 0) {
		ack_mail_clear(&mail);
		return rec;
	}
	if (rec == 1 && ret == 1) {
		struct deskmail_msg *m = deskmail_start(d->dm, 0, DIGEST_OUTBOX_KIND,
							DESKMAIL_REPLY_NONE, "auto-generated", now);
		deskmail_add_to(m, r->name, r->address);
		deskmail_subject_as_is(m, mail.subject);
		struct compose *c = deskmail_compose(m);
		compose_set_text(c, mail.text, strlen(mail.text));
		compose_set_html(c, mail.html, strlen(mail.html));
		struct deskmail_result res = { 0 };
		int q = deskmail_queue(d->dm, &m, &res, &why, error_r);
		if (q < 0) {
			ack_mail_clear(&mail);
			return q;
		}
		if (q > 0)
			log_info("digest: %s digest of %s to %s: %lld tickets (outbox #%lld)",
				 kind_names[r->kind], daybuf, r->address, (long long)items,
				 (long long)res.outbox_id);
		else
			log_warnx("digest: %s digest of %s to %s not queued: %s",
				  kind_names[r->kind], daybuf, r->address, why);
		deskmail_result_clear(&res);
	} else if (rec == 0) {
		log_debug("digest: %s digest of %s to %s was sent already", kind_names[r->kind],
			  daybuf, r->address);
	}
	ack_mail_clear(&mail);
	return store_timer_set(store, DIGEST_TIMER, 0, r->subject, next_after_day(r, day, now),
			       error_r);
}

void
digest_register(struct digest *d, struct schedule *schedule)
{
	schedule_register(schedule, DIGEST_TIMER, digest_timer, d);
}
