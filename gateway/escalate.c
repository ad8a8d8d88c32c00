/* escalate: see escalate.h. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "gateway/ack.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/escalate.h"
#include "gateway/hook.h"
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/reply.h"
#include "gateway/route.h"
#include "gateway/schedule.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "gateway/supervisor.h"
#include "gateway/template.h"

/* Most recipients of one notice (a queue's agents, its supervisors). */
#define MAX_RECIPIENTS 64

/* The SLA metrics (gateway/metrics.h, docs/metrics.md), registered once. */
static int metric_at_risk = -1, metric_breached = -1, metric_notices = -1;
/* Most open tickets with a target read for the gauges at once. */
#define METRICS_SCAN 100000

static void
register_metrics(void)
{
	const char *error;
	if (metric_notices >= 0)
		return;
	metric_at_risk = metrics_register("deskgate_sla_at_risk_tickets", METRICS_GAUGE,
					  "Tickets past the warning instant of a running SLA "
					  "target, not yet due, per queue",
					  "queue", NULL, &error);
	metric_breached = metrics_register("deskgate_sla_breached_tickets", METRICS_GAUGE,
					   "Tickets with a running SLA target past its due "
					   "instant, per queue",
					   "queue", NULL, &error);
	metric_notices = metrics_register("deskgate_sla_notices_total", METRICS_COUNTER,
					  "Escalation notices queued, per level (warning, breach)",
					  "level", NULL, &error);
}

struct escalate {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	struct sla *sla;
	struct route *route;
	struct ack_templates *templates;
	struct supervisor *sv;
};

int
escalate_new(const struct config *config, struct store *store, struct deskmail *dm,
	     struct escalate **esc_r, const char **error_r)
{
	struct escalate *esc = xcalloc(1, sizeof(*esc));
	esc->config = config;
	esc->store = store;
	esc->dm = dm;
	*esc_r = NULL;
	if (sla_new(config, &esc->sla, error_r) < 0 ||
	    route_new(config, &esc->route, error_r) < 0 ||
	    supervisor_new(config, &esc->sv, error_r) < 0) {
		escalate_free(&esc);
		return -1;
	}
	esc->templates = ack_templates_new(config, NULL);
	register_metrics();
	*esc_r = esc;
	return 0;
}

void
escalate_free(struct escalate **escp)
{
	struct escalate *esc = *escp;
	if (esc == NULL)
		return;
	ack_templates_free(&esc->templates);
	supervisor_free(&esc->sv);
	route_free(&esc->route);
	sla_free(&esc->sla);
	free(esc);
	*escp = NULL;
}

/* ---- the pipeline step ----------------------------------------------------------- */

int
escalate_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct escalate *esc = context;
	struct sla_happening what = { 0 };
	if (ev->reply == NULL) {
		what.customer_mail = ev->now;
		what.why = ev->new_ticket ? "new ticket" : "customer mail";
	} else {
		if (strcmp(reply_action(ev->reply), "relay") == 0)
			what.agent_answer = ev->now;
		what.why = "agent mail";
	}
	return sla_sync_store(esc->sla, esc->store, ev->ticket_id, &what, ev->now, error_r);
}

/* ---- recipients ------------------------------------------------------------------- */

struct recipient {
	char address[320];
	const char *name;
	const char *language;
	const struct hours *calendar; /* their working hours */
};

struct recipients {
	struct recipient r[MAX_RECIPIENTS];
	size_t n;
};

static void
add_recipient(const struct escalate *esc, struct recipients *rs, const char *address,
	      const struct config_agent *a)
{
	if (address == NULL || *address == '\0' || rs->n == MAX_RECIPIENTS)
		return;
	for (size_t i = 0; i < rs->n; i++)
		if (strcasecmp(rs->r[i].address, address) == 0)
			return;
	if (a == NULL)
		a = route_find_agent(esc->route, address);
	if (strlen(address) >= sizeof(rs->r[0].address))
		return;
	struct recipient *r = &rs->r[rs->n++];
	memcpy(r->address, address, strlen(address) + 1);
	r->name = a != NULL ? route_agent_name(a) : NULL;
	r->language = ack_language(esc->config, a != NULL ? a->language : NULL);
	r->calendar = sla_calendar(esc->sla, a != NULL ? a->calendar : NULL);
	if (r->calendar == NULL)
		r->calendar = sla_calendar(esc->sla, NULL);
}

/* The warning's recipients: the assignee, else the queue's agents (every
   agent when the queue has none). */
static void
warning_recipients(const struct escalate *esc, const struct store_ticket *t,
		   struct recipients *rs)
{
	if (t->assignee != NULL) {
		add_recipient(esc, rs, t->assignee, NULL);
		return;
	}
	const struct config *config = esc->config;
	unsigned char *sel = xcalloc(config->n_agents + 1, 1);
	route_select_ticket(esc->route, t->queue, sel);
	for (size_t i = 0; i < config->n_agents; i++)
		if (sel[i])
			add_recipient(esc, rs, config->agents[i].address, &config->agents[i]);
	free(sel);
}

struct breach_people {
	const struct escalate *esc;
	struct recipients *rs;
};

static void
add_supervisor(void *context, const char *address, const struct config_agent *a)
{
	struct breach_people *bp = context;
	add_recipient(bp->esc, bp->rs, address, a);
}

/* The breach's recipients: the ticket's supervisors (supervisor.h: its
   queue's, else its policy's, else the agents with supervisor = yes),
   else the warning's recipients (a breach is never silent). */
static void
breach_recipients(const struct escalate *esc, const struct store_ticket *t,
		  const struct sla_policy *p, struct recipients *rs)
{
	struct breach_people bp = { esc, rs };
	(void)supervisor_ticket(esc->sv, t->queue, p != NULL ? sla_policy_name(p) : NULL,
				add_supervisor, &bp);
	if (rs->n == 0)
		warning_recipients(esc, t, rs);
}

/* ---- the ladder ------------------------------------------------------------------- */

/* What one target of one ticket calls for now. */
struct notice {
	const struct store_ticket *t;
	const struct store_sla *row;
	const struct sla_policy *policy;
	int target;
	const char *level; /* "warning", "breach" */
	int64_t period;	   /* breach repeats: 0, 1, 2... */
	int64_t now;
	const char *in_reply_to; /* the ticket's first message, for threading */
	const char *references;
};

static struct tmpl_value *
notice_data(const struct escalate *esc, const struct notice *nt, const struct recipient *r)
{
	const struct store_ticket *t = nt->t;
	int64_t due = nt->row->due[nt->target];
	char buf[128], tag[64];
	struct tmpl_value *d = tmpl_map_new();
	struct tmpl_value *tk = tmpl_map_add_map(d, "ticket");
	(void)snprintf(buf, sizeof(buf), "%lld", (long long)t->id);
	tmpl_map_set_string(tk, "id", buf);
	char *tg = deskmail_ticket_tag(esc->dm, t->id);
	(void)snprintf(tag, sizeof(tag), "%s", tg);
	free(tg);
	tmpl_map_set_string(tk, "tag", tag);
	tmpl_map_set_string(tk, "subject", deskmail_subject_base(t->subject));
	tmpl_map_set_string(tk, "priority", t->priority);
	tmpl_map_set_string(tk, "status", t->status);
	tmpl_map_set_string(tk, "queue", t->queue != NULL ? t->queue : "");
	tmpl_map_set_string(tk, "customer", t->customer_address != NULL ? t->customer_address : "");
	tmpl_map_set_string(tk, "assignee", t->assignee != NULL ? t->assignee : "");
	tmpl_map_set_string(d, "target", sla_target_name(nt->target));
	tmpl_map_set_bool(d, sla_target_name(nt->target), 1);
	tmpl_map_set_bool(d, nt->level, 1);
	tmpl_map_set_bool(d, "again", nt->period > 0);
	tmpl_map_set_string(d, "policy", nt->row->policy);
	tmpl_map_set_string(d, "due",
			    sla_format_time_in(r->calendar, due, r->language, buf, sizeof(buf)));
	int64_t delta = due > nt->now ? due - nt->now : nt->now - due;
	tmpl_map_set_string(d, due > nt->now ? "left" : "late",
			    sla_format_duration(delta, buf, sizeof(buf)));
	tmpl_map_set_string(d, "recipient", r->name != NULL ? r->name : r->address);
	return d;
}

/* Queue one notice to r and record it. 1 sent (or refused by deskmail,
   which recorded why), 0 already recorded, < 0 store failure. */
static int
send_notice(struct escalate *esc, const struct notice *nt, const struct recipient *r,
	    const char **error_r)
{
	struct store *store = esc->store;
	const char *target = sla_target_name(nt->target);
	int ret = store_sla_notice_find(store, nt->t->id, target, nt->level, nt->period,
					r->address, error_r);
	if (ret != 0)
		return ret < 0 ? ret : 0;

	struct tmpl_value *data = notice_data(esc, nt, r);
	struct ack_mail mail;
	const char *terr;
	ret = ack_render_in(esc->templates, "sla", nt->level, r->language, data, &mail, &terr);
	tmpl_value_free(&data);
	if (ret < 0) {
		/* The template is the admin's business: say so, record the notice
		   (so that it does not fail at every tick) and go on. */
		log_error("ticket=%lld: escalation %s %s to %s: %s", (long long)nt->t->id,
			  nt->level, target, r->address, terr);
		ret = store_event_addf(store, nt->t->id, "error", error_r,
				       "escalation %s %s to %s: %s", nt->level, target, r->address,
				       terr);
		return ret < 0 ? ret
			       : store_sla_notice_add(store, nt->t->id, target, nt->level,
						      nt->period, r->address, 0, error_r);
	}
	struct deskmail_msg *m = deskmail_start(esc->dm, nt->t->id, "escalation",
						DESKMAIL_REPLY_AGENT, "auto-generated", nt->now);
	deskmail_add_to(m, r->name, r->address);
	deskmail_subject_as_is(m, mail.subject);
	if (nt->in_reply_to != NULL)
		deskmail_thread_string(m, nt->in_reply_to, nt->references);
	struct compose *c = deskmail_compose(m);
	compose_set_text(c, mail.text, strlen(mail.text));
	compose_set_html(c, mail.html, strlen(mail.html));
	ack_mail_clear(&mail);

	struct deskmail_result res = { 0 };
	const char *why = NULL;
	int q = deskmail_queue(esc->dm, &m, &res, &why, error_r);
	if (q < 0)
		return q;
	char late[64];
	int64_t due = nt->row->due[nt->target];
	(void)sla_format_duration(due > nt->now ? due - nt->now : nt->now - due, late,
				  sizeof(late));
	if (q > 0) {
		metrics_inc(metric_notices, nt->level);
		log_info("ticket=%lld: escalation %s %s (period %lld) queued to %s (outbox #%lld)",
			 (long long)nt->t->id, nt->level, target, (long long)nt->period,
			 r->address, (long long)res.outbox_id);
		ret = store_event_addf(store, nt->t->id, "escalation", error_r,
				       "%s: %s %s %s%s, policy %s; to %s (outbox #%lld)", nt->level,
				       target, due > nt->now ? "due in" : "late by", late,
				       nt->period > 0 ? " (again)" : "", nt->row->policy, r->address,
				       (long long)res.outbox_id);
	}
	if (ret >= 0)
		ret = store_sla_notice_add(store, nt->t->id, target, nt->level, nt->period,
					   r->address, q > 0 ? res.outbox_id : 0, error_r);
	deskmail_result_clear(&res);
	return ret < 0 ? ret : 1;
}

/* Send the notice to each recipient who is at work now (or any time when
   the ticket's calendar is 24x7); *wake_r: the earliest opening of one
   who is not (0: none). */
static int
send_to(struct escalate *esc, const struct notice *nt, const struct recipients *rs,
	int around_the_clock, int64_t *wake_r, const char **error_r)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct recipient *r = &rs->r[i];
		if (!around_the_clock && !hours_is_open(r->calendar, nt->now)) {
			int64_t open = hours_next_open(r->calendar, nt->now);
			if (open > nt->now && (*wake_r == 0 || open < *wake_r))
				*wake_r = open;
			continue;
		}
		int ret = send_notice(esc, nt, r, error_r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
ladder(struct escalate *esc, const struct store_ticket *t, const struct store_sla *row,
       int64_t now, int64_t *wake_r, const char **error_r)
{
	const struct sla_policy *p = sla_policy_find(esc->sla, row->policy);
	const struct hours *cal = sla_calendar(esc->sla, row->calendar);
	int around = cal != NULL && hours_is_24x7(cal);
	struct store_message *msgs = NULL;
	size_t n_msgs = 0;
	int ret = 0;

	for (int i = 0; i < SLA_TARGETS && ret >= 0; i++) {
		if (row->start[i] == 0 || row->met[i] != 0 || row->due[i] == 0)
			continue;
		struct notice nt = { .t = t, .row = row, .policy = p, .target = i, .now = now };
		if (now >= row->due[i]) {
			uint64_t repeat = p != NULL ? sla_policy_repeat(p) : 0;
			nt.level = "breach";
			nt.period = repeat > 0 ? (now - row->due[i]) / (int64_t)repeat : 0;
		} else if (row->warn[i] != 0 && now >= row->warn[i]) {
			nt.level = "warning";
		} else {
			continue;
		}
		if (msgs == NULL &&
		    (ret = store_message_list(esc->store, t->id, &msgs, &n_msgs, error_r)) < 0)
			break;
		if (n_msgs > 0) {
			nt.in_reply_to = msgs[0].message_id;
			nt.references = msgs[0].references;
		}
		struct recipients rs = { 0 };
		if (strcmp(nt.level, "breach") == 0)
			breach_recipients(esc, t, p, &rs);
		else
			warning_recipients(esc, t, &rs);
		if (rs.n == 0) {
			log_warnx("ticket=%lld: SLA %s %s: nobody to tell (no assignee, agents or "
				  "supervisors)",
				  (long long)t->id, nt.level, sla_target_name(i));
			continue;
		}
		ret = send_to(esc, &nt, &rs, around, wake_r, error_r);
	}
	store_messages_free(&msgs, n_msgs);
	return ret;
}

int
escalate_timer(void *context, struct store *store, const struct store_timer *timer, int64_t now,
	       const char **error_r)
{
	struct escalate *esc = context;
	struct store_ticket *t = NULL;
	struct store_sla *row = NULL;
	int ret = store_ticket_get(store, timer->ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0) {
			*error_r = errf("escalate: no ticket %lld", (long long)timer->ticket_id);
			ret = STORE_DATA_BAD;
		}
		return ret;
	}
	if ((ret = store_sla_get(store, t->id, &row, error_r)) <= 0)
		goto out; /* no SLA (any more): nothing to do */
	/* Paused (pending, closed): nothing until it resumes, which sets the
	   timer again (sla_sync_store()). */
	if (row->paused_at != 0 || strcmp(t->status, "closed") == 0) {
		ret = 0;
		goto out;
	}
	int64_t wake = 0;
	if ((ret = ladder(esc, t, row, now, &wake, error_r)) < 0)
		goto out;
	int64_t next = sla_next_check(esc->sla, row, now);
	if (wake > 0 && (next == 0 || wake < next))
		next = wake;
	ret = next > 0 ? store_timer_set(store, SLA_TIMER, t->id, NULL, next, error_r) : 0;
out:
	store_sla_free(&row);
	store_ticket_free(&t);
	return ret < 0 ? ret : 0;
}

int
escalate_update_metrics(struct escalate *esc, int64_t now, const char **error_r)
{
	if (!metrics_enabled())
		return 0;
	struct store_ticket_filter f = { .not_closed = 1, .limit = METRICS_SCAN };
	struct store_ticket_due *rows = NULL;
	size_t n = 0;
	int ret = store_ticket_query(esc->store, &f, &rows, &n, error_r);
	if (ret < 0)
		return ret;
	metrics_begin_update(metric_at_risk);
	metrics_begin_update(metric_breached);
	/* every queue shows, 0 included, so that a graph does not gap */
	for (size_t i = 0; i < esc->config->n_queues; i++) {
		metrics_set(metric_at_risk, esc->config->queues[i].name, NULL, 0);
		metrics_set(metric_breached, esc->config->queues[i].name, NULL, 0);
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_sla *row = &rows[i].sla;
		int breached = 0, at_risk = 0;
		if (row->ticket_id == 0 || row->paused_at != 0)
			continue;
		for (int k = 0; k < SLA_TARGETS; k++) {
			if (row->start[k] == 0 || row->met[k] != 0 || row->due[k] == 0)
				continue;
			if (now >= row->due[k])
				breached = 1;
			else if (row->warn[k] != 0 && now >= row->warn[k])
				at_risk = 1;
		}
		const char *queue = rows[i].t.queue != NULL ? rows[i].t.queue : "(none)";
		if (breached)
			metrics_add(metric_breached, queue, NULL, 1);
		else if (at_risk)
			metrics_add(metric_at_risk, queue, NULL, 1);
	}
	metrics_end_update(metric_at_risk);
	metrics_end_update(metric_breached);
	store_ticket_dues_free(&rows, n);
	return 0;
}

void
escalate_register(struct escalate *esc, struct schedule *schedule)
{
	schedule_register(schedule, SLA_TIMER, escalate_timer, esc);
}
