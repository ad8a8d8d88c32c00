/* pending: see pending.h. */
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
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/pending.h"
#include "gateway/route.h"
#include "gateway/schedule.h"
#include "gateway/sla.h"
#include "gateway/store.h"
#include "gateway/template.h"
#include "gateway/tz.h"
#include "parsers/agentcmd.h"
#include "parsers/tzif.h"

/* The keys of the steps recorded in sla_notices (store-sla.h). */
#define KEY_PENDING "pending"
#define KEY_SNOOZE "snooze"
#define LEVEL_REMINDER "reminder"
#define LEVEL_SOLVE "solve"
#define LEVEL_SNOOZE "snooze"

struct pending {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	struct sla *sla;
	struct route *route;
	struct ack_templates *templates;
};

int
pending_new(const struct config *config, struct store *store, struct deskmail *dm,
	    struct pending **p_r, const char **error_r)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	p->config = config;
	p->store = store;
	p->dm = dm;
	*p_r = NULL;
	if (sla_new(config, &p->sla, error_r) < 0 || route_new(config, &p->route, error_r) < 0) {
		pending_free(&p);
		return -1;
	}
	p->templates = ack_templates_new(config, NULL);
	*p_r = p;
	return 0;
}

void
pending_free(struct pending **pp)
{
	struct pending *p = *pp;
	if (p == NULL)
		return;
	ack_templates_free(&p->templates);
	route_free(&p->route);
	sla_free(&p->sla);
	free(p);
	*pp = NULL;
}

/* ---- small helpers ---------------------------------------------------------------- */

static int
get_ticket(struct store *store, int64_t id, struct store_ticket **t_r, const char **error_r)
{
	int ret = store_ticket_get(store, id, t_r, error_r);
	if (ret == 0) {
		*error_r = errf("pending: no ticket %lld", (long long)id);
		return STORE_DATA_BAD;
	}
	return ret > 0 ? 0 : ret;
}

/* The internal field name of the ticket as a time: 1 with *t_r, 0 none. */
static int
pending_field_time(struct store *store, int64_t ticket_id, const char *name, int64_t *t_r,
	   const char **error_r)
{
	struct store_field *fields = NULL;
	size_t n = 0;
	*t_r = 0;
	int ret = store_ticket_field_list(store, ticket_id, &fields, &n, error_r);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fields[i].name, name) != 0)
			continue;
		char *end;
		long long v = strtoll(fields[i].value, &end, 10);
		if (*end == '\0' && v > 0)
			*t_r = v;
	}
	store_fields_free(&fields, n);
	return *t_r > 0 ? 1 : 0;
}

static int
set_field_time(struct store *store, int64_t ticket_id, const char *name, int64_t t,
	       const char **error_r)
{
	char v[32];
	(void)snprintf(v, sizeof(v), "%lld", (long long)t);
	return store_ticket_field_set(store, ticket_id, name, t > 0 ? v : "", error_r);
}

/* The calendar of the ticket's SLA ([hours] when it has none). */
static int
ticket_calendar(struct pending *p, int64_t ticket_id, const struct hours **cal_r,
		const char **error_r)
{
	struct store_sla *row = NULL;
	int ret = store_sla_get(p->store, ticket_id, &row, error_r);
	if (ret < 0)
		return ret;
	*cal_r = sla_calendar(p->sla, ret > 0 ? row->calendar : NULL);
	if (*cal_r == NULL)
		*cal_r = sla_calendar(p->sla, NULL);
	store_sla_free(&row);
	return 0;
}

/* The reopen grace: [solved] reopen_grace, at most [threading] reopen_period. */
static int64_t
reopen_grace(const struct config *config)
{
	uint64_t g = config->solved.reopen_grace;
	if (config->threading.reopen_period < g)
		g = config->threading.reopen_period;
	return (int64_t)g;
}

static int
in_list(const char *list, const char *word)
{
	if (list == NULL || word == NULL)
		return 0;
	size_t wl = strlen(word);
	for (const char *s = list; *s != '\0';) {
		s += strspn(s, ", \t");
		size_t n = strcspn(s, ", \t");
		if (n == wl && n > 0 && strncasecmp(s, word, n) == 0)
			return 1;
		s += n;
	}
	return 0;
}

/* What every template of this module gets about the ticket. */
static struct tmpl_value *
ticket_data(struct pending *p, const struct store_ticket *t)
{
	char buf[32];
	struct tmpl_value *d = tmpl_map_new();
	struct tmpl_value *tk = tmpl_map_add_map(d, "ticket");
	(void)snprintf(buf, sizeof(buf), "%lld", (long long)t->id);
	tmpl_map_set_string(tk, "id", buf);
	char *tag = deskmail_ticket_tag(p->dm, t->id);
	tmpl_map_set_string(tk, "tag", tag);
	free(tag);
	tmpl_map_set_string(tk, "subject", deskmail_subject_base(t->subject));
	tmpl_map_set_string(tk, "status", t->status);
	tmpl_map_set_string(tk, "priority", t->priority);
	tmpl_map_set_string(tk, "queue", t->queue != NULL ? t->queue : "");
	tmpl_map_set_string(tk, "customer", t->customer_address != NULL ? t->customer_address : "");
	tmpl_map_set_string(tk, "customer_name", t->customer_name != NULL ? t->customer_name : "");
	tmpl_map_set_string(tk, "assignee", t->assignee != NULL ? t->assignee : "");
	return d;
}

/* Render status/name in language; on failure the event and the log say
   why and 0 is returned (the step counts as done: an admin's template
   must not make it fail at every tick). 1 with *mail. */
static int
render(struct pending *p, const struct store_ticket *t, const char *name, const char *language,
       const struct tmpl_value *data, struct ack_mail *mail, const char **error_r)
{
	const char *terr;
	if (ack_render_in(p->templates, "status", name, language, data, mail, &terr) == 0)
		return 1;
	log_error("ticket=%lld: template status/%s: %s", (long long)t->id, name, terr);
	int ret = store_event_addf(p->store, t->id, "error", error_r, "template status/%s: %s; "
				   "nothing sent", name, terr);
	return ret < 0 ? ret : 0;
}

/* Queue mail (rendered) to the customer in their thread. 1 with
   *outbox_id_r (0 when deskmail refused it, which it recorded), < 0. */
static int
queue_to_customer(struct pending *p, const struct store_ticket *t, const char *kind,
		  struct ack_mail *mail, int64_t now, int64_t *outbox_id_r, const char **error_r)
{
	struct store_message *msgs = NULL;
	size_t n = 0;
	*outbox_id_r = 0;
	int ret = store_message_list(p->store, t->id, &msgs, &n, error_r);
	if (ret < 0)
		return ret;
	const struct store_message *last = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(msgs[i].direction, "in") == 0 && msgs[i].message_id != NULL)
			last = &msgs[i];
	struct deskmail_msg *m = deskmail_start(p->dm, t->id, kind, DESKMAIL_REPLY_CUSTOMER,
						"auto-generated", now);
	deskmail_add_to(m, t->customer_name, t->customer_address);
	deskmail_subject_as_is(m, mail->subject);
	if (last != NULL)
		deskmail_thread_string(m, last->message_id, last->references);
	struct compose *c = deskmail_compose(m);
	compose_set_text(c, mail->text, strlen(mail->text));
	compose_set_html(c, mail->html, strlen(mail->html));
	store_messages_free(&msgs, n);
	struct deskmail_result res = { 0 };
	const char *why = NULL;
	ret = deskmail_queue(p->dm, &m, &res, &why, error_r);
	if (ret > 0)
		*outbox_id_r = res.outbox_id;
	deskmail_result_clear(&res);
	return ret < 0 ? ret : 1;
}

/* ---- waiting on the customer ------------------------------------------------------- */

/* The next step of a wait that began at since: the reminder, else the
   solve; 0 when neither is configured. */
static int64_t
first_step(const struct config *config, const struct hours *cal, int64_t since)
{
	if (config->pending.remind_after > 0)
		return hours_add_days(cal, since, (unsigned int)config->pending.remind_after);
	if (config->pending.solve_after > 0)
		return hours_add_days(cal, since, (unsigned int)config->pending.solve_after);
	return 0;
}

int
pending_wait(struct pending *p, int64_t ticket_id, const char *by, int64_t now,
	     const char **why_r, const char **error_r)
{
	struct store_ticket *t = NULL;
	const struct hours *cal = NULL;
	int ret = get_ticket(p->store, ticket_id, &t, error_r);
	if (ret < 0)
		return ret;
	*why_r = NULL;
	if (strcmp(t->status, "closed") == 0) {
		*why_r = "#pending: the ticket is closed (a customer's reply reopens it; or "
			 "send #reopen first)";
		store_ticket_free(&t);
		return 1;
	}
	const char *before = strcmp(t->status, "pending") == 0 ? "pending (again)" : t->status;
	if ((ret = store_ticket_set(p->store, t->id, "status", "pending", error_r)) < 0 ||
	    (ret = set_field_time(p->store, t->id, PENDING_FIELD_SINCE, now, error_r)) < 0 ||
	    (ret = ticket_calendar(p, t->id, &cal, error_r)) < 0)
		goto out;
	int64_t next = first_step(p->config, cal, now);
	char when[128] = "never (no [pending] remind_after or solve_after)";
	if (next > 0) {
		if ((ret = store_timer_set(p->store, PENDING_TIMER, t->id, NULL, next, error_r)) < 0)
			goto out;
		(void)sla_format_time(cal, next, when, sizeof(when));
	} else if ((ret = store_timer_cancel(p->store, PENDING_TIMER, t->id, NULL, error_r)) < 0) {
		goto out;
	}
	ret = store_event_addf(p->store, t->id, "pending",
			       error_r, "#pending by %s: status %s -> pending, waiting on the "
			       "customer; %s %s",
			       by, before, p->config->pending.remind_after > 0 ? "reminder"
									: "solved",
			       when);
out:
	store_ticket_free(&t);
	return ret < 0 ? ret : 0;
}

/* The reminder of the wait that began at since, once. 1 sent (or
   recorded as not sendable), 0 it was already, < 0. */
static int
send_reminder(struct pending *p, const struct store_ticket *t, const struct hours *cal,
	      int64_t since, int64_t solve_at, int64_t now, const char **error_r)
{
	const char *to = t->customer_address;
	int ret = store_sla_notice_find(p->store, t->id, KEY_PENDING, LEVEL_REMINDER, since, to,
					error_r);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	struct tmpl_value *data = ticket_data(p, t);
	char buf[128], at[128];
	const char *lang = ack_language(p->config, t->language);
	tmpl_map_set_string(data, "since", sla_format_time_in(cal, since, lang, buf, sizeof(buf)));
	if (solve_at > 0) {
		tmpl_map_set_string(data, "solve_at",
				    sla_format_time_in(cal, solve_at, lang, at, sizeof(at)));
		(void)snprintf(buf, sizeof(buf), "%llu",
			       (unsigned long long)p->config->pending.solve_after);
		tmpl_map_set_string(data, "solve_days", buf);
	}
	struct ack_mail mail;
	int64_t outbox_id = 0;
	ret = render(p, t, "reminder", t->language, data, &mail, error_r);
	tmpl_value_free(&data);
	if (ret > 0) {
		ret = queue_to_customer(p, t, "reminder", &mail, now, &outbox_id, error_r);
		ack_mail_clear(&mail);
	}
	if (ret > 0 && outbox_id > 0) {
		log_info("ticket=%lld: pending reminder queued to %s (outbox #%lld)",
			 (long long)t->id, log_safe(to, 200), (long long)outbox_id);
		ret = store_event_addf(p->store, t->id, "reminder", error_r,
				       "still waiting on the customer: reminder to %s (outbox "
				       "#%lld)%s%s",
				       to, (long long)outbox_id, solve_at > 0 ? "; solved " : "",
				       solve_at > 0 ? at : "");
	}
	if (ret >= 0)
		ret = store_sla_notice_add(p->store, t->id, KEY_PENDING, LEVEL_REMINDER, since, to,
					   outbox_id, error_r);
	return ret < 0 ? ret : 1;
}

int
pending_timer(void *context, struct store *store, const struct store_timer *timer, int64_t now,
	      const char **error_r)
{
	struct pending *p = context;
	const struct config *config = p->config;
	struct store_ticket *t = NULL;
	const struct hours *cal = NULL;
	int64_t since = 0;
	int ret = get_ticket(store, timer->ticket_id, &t, error_r);
	if (ret < 0)
		return ret;
	/* Answered, reopened, closed meanwhile: the wait is over. */
	if (strcmp(t->status, "pending") != 0 || t->customer_address == NULL)
		goto out;
	if ((ret = pending_field_time(store, t->id, PENDING_FIELD_SINCE, &since, error_r)) < 0 ||
	    (ret = ticket_calendar(p, t->id, &cal, error_r)) < 0)
		goto out;
	if (since == 0)
		since = timer->created_at;
	if (config->pending.remind_after > 0) {
		int reminded = store_sla_notice_find(store, t->id, KEY_PENDING, LEVEL_REMINDER, since,
						     t->customer_address, error_r);
		if (reminded < 0) {
			ret = reminded;
			goto out;
		}
		if (!reminded) {
			/* The solve counts from the reminder actually sent (a
			   daemon that slept through both sends the reminder). */
			int64_t solve_at = config->pending.solve_after > 0
						   ? hours_add_days(cal, now,
								    (unsigned int)config->pending.solve_after)
						   : 0;
			if ((ret = send_reminder(p, t, cal, since, solve_at, now, error_r)) < 0)
				goto out;
			if (solve_at > 0)
				ret = store_timer_set(store, PENDING_TIMER, t->id, NULL, solve_at,
						      error_r);
			goto out;
		}
	}
	if (config->pending.solve_after == 0)
		goto out;
	ret = store_sla_notice_add(store, t->id, KEY_PENDING, LEVEL_SOLVE, since, "", 0, error_r);
	if (ret <= 0)
		goto out; /* solved for this wait already */
	char what[160];
	(void)snprintf(what, sizeof(what), "no answer from the customer %llu business day%s after "
		       "%s", (unsigned long long)config->pending.solve_after,
		       config->pending.solve_after == 1 ? "" : "s",
		       config->pending.remind_after > 0 ? "the reminder" : "#pending");
	if ((ret = pending_solve(p, t->id, "solved", "auto", what, now, error_r)) < 0)
		goto out;
	struct sla_happening happened = { .why = "solved automatically" };
	ret = sla_sync_store(p->sla, store, t->id, &happened, now, error_r);
out:
	store_ticket_free(&t);
	return ret < 0 ? ret : 0;
}

/* ---- solved and closed ----------------------------------------------------------- */

/* The solved notice; the reason it was not sent into skip (or ""). */
static int
solved_notice(struct pending *p, const struct store_ticket *t, const char *how, int64_t now,
	      char *skip, size_t skip_size, const char **error_r)
{
	const struct config *config = p->config;
	*skip = '\0';
	if (!config->solved.notice) {
		(void)snprintf(skip, skip_size, "no notice ([solved] notice = no)");
		return 0;
	}
	if (in_list(config->solved.quiet_categories, t->category)) {
		(void)snprintf(skip, skip_size, "no notice (category %s is quiet)", t->category);
		return 0;
	}
	if (t->customer_address == NULL) {
		(void)snprintf(skip, skip_size, "no notice (no customer address)");
		return 0;
	}
	const struct hours *cal = NULL;
	int ret = ticket_calendar(p, t->id, &cal, error_r);
	if (ret < 0)
		return ret;
	struct tmpl_value *data = ticket_data(p, t);
	char buf[128];
	int64_t grace = reopen_grace(config);
	tmpl_map_set_bool(data, how, 1);
	tmpl_map_set_bool(data, "reopen", grace > 0);
	if (grace > 0) {
		tmpl_map_set_string(data, "reopen_until",
				    sla_format_time_in(cal, now + grace,
						       ack_language(config, t->language), buf,
						       sizeof(buf)));
		(void)snprintf(buf, sizeof(buf), "%lld", (long long)((grace + 86399) / 86400));
		tmpl_map_set_string(data, "reopen_days", buf);
	}
	struct ack_mail mail;
	int64_t outbox_id = 0;
	ret = render(p, t, "solved", t->language, data, &mail, error_r);
	tmpl_value_free(&data);
	if (ret <= 0) {
		(void)snprintf(skip, skip_size, "no notice (template status/solved failed)");
		return ret;
	}
	ret = queue_to_customer(p, t, "notice", &mail, now, &outbox_id, error_r);
	ack_mail_clear(&mail);
	if (ret < 0)
		return ret;
	if (outbox_id == 0)
		(void)snprintf(skip, skip_size, "notice not queued (see the events)");
	else
		(void)snprintf(skip, skip_size, "notice to the customer (outbox #%lld)",
			       (long long)outbox_id);
	return 0;
}

int
pending_solve(struct pending *p, int64_t ticket_id, const char *how, const char *who,
	      const char *by, int64_t now, const char **error_r)
{
	struct store_ticket *t = NULL;
	int ret = get_ticket(p->store, ticket_id, &t, error_r);
	if (ret < 0)
		return ret;
	if (strcmp(t->status, "closed") == 0) {
		ret = store_event_addf(p->store, t->id, "agent", error_r, "%s by %s %s: already closed",
				       how, who, by != NULL ? by : "");
		goto out;
	}
	char note[160], before[16];
	(void)snprintf(before, sizeof(before), "%s", t->status);
	if ((ret = store_ticket_set(p->store, t->id, "status", "closed", error_r)) < 0 ||
	    (ret = set_field_time(p->store, t->id, PENDING_FIELD_CLOSED_AT, now, error_r)) < 0 ||
	    (ret = store_timer_cancel(p->store, PENDING_TIMER, t->id, NULL, error_r)) < 0)
		goto out;
	store_string_replace(&t->status, "closed");
	if ((ret = solved_notice(p, t, how, now, note, sizeof(note), error_r)) < 0)
		goto out;
	log_info("ticket=%lld: %s by %s%s%s; %s", (long long)t->id, how, who, by != NULL ? " " : "",
		 by != NULL ? log_safe(by, 200) : "", note);
	ret = store_event_addf(p->store, t->id, "closed", error_r,
			       "%s by %s%s%s: status %s -> closed; %s", how, who, by != NULL ? " " : "",
			       by != NULL ? by : "", before, note);
out:
	store_ticket_free(&t);
	return ret < 0 ? ret : 0;
}

/* ---- snooze ---------------------------------------------------------------------- */

/* The instant of a snooze argument for agent a (its zone: [agent]
   timezone, else its calendar's). */
static int
snooze_when(struct pending *p, const struct config_agent *a, const char *arg, int64_t now,
	    int64_t *when_r, const char **why_r)
{
	struct agentcmd_snooze sn;
	*when_r = 0;
	if (agentcmd_snooze_parse(arg, strlen(arg), &sn, why_r) < 0)
		return -1;
	if (sn.kind == AGENTCMD_SNOOZE_OFF)
		return 0;
	if (sn.kind == AGENTCMD_SNOOZE_FOR) {
		*when_r = now + sn.seconds;
		return 0;
	}
	const struct hours *cal = sla_calendar(p->sla, a != NULL ? a->calendar : NULL);
	if (cal == NULL)
		cal = sla_calendar(p->sla, NULL);
	const struct tzif *zone = hours_zone(cal);
	const char *ignored;
	if (a != NULL && a->timezone != NULL && tz_get(a->timezone, &ignored) != NULL)
		zone = tz_get(a->timezone, &ignored);
	int64_t t = tzif_mktime(zone, sn.year, sn.month, sn.day, sn.hour, sn.minute, 0);
	/* A date alone: the start of the agent's working day then. */
	if (!sn.has_time) {
		int64_t open = hours_next_open(cal, t);
		if (open > 0 && open - t < 86400)
			t = open;
	}
	if (t <= now) {
		*why_r = "#snooze: that time is already past";
		return -1;
	}
	if (t - now > AGENTCMD_SNOOZE_MAX) {
		*why_r = "#snooze: at most a year ahead";
		return -1;
	}
	*when_r = t;
	return 0;
}

int
pending_snooze_check(struct pending *p, int64_t ticket_id, const struct config_agent *a,
		     const char *arg, int64_t now, const char **why_r)
{
	int64_t when;
	*why_r = NULL;
	if (a == NULL) {
		*why_r = "#snooze: only a configured agent can snooze a ticket";
		return -1;
	}
	if (snooze_when(p, a, arg, now, &when, why_r) < 0)
		return -1;
	if (when == 0) {
		struct store_timer *old = NULL;
		const char *ignored;
		int ret = store_timer_get(p->store, PENDING_SNOOZE_TIMER, ticket_id, a->address, &old,
					  &ignored);
		store_timer_free(&old);
		if (ret == 0) {
			*why_r = "#snooze off: you have no snooze on this ticket";
			return -1;
		}
	}
	return 0;
}

int
pending_snooze(struct pending *p, int64_t ticket_id, const struct config_agent *a,
	       const char *arg, int64_t now, int64_t *when_r, const char **why_r,
	       const char **error_r)
{
	int64_t when = 0;
	int ret;
	*why_r = NULL;
	if (when_r != NULL)
		*when_r = 0;
	if (a == NULL) {
		*why_r = "#snooze: only a configured agent can snooze a ticket";
		return 1;
	}
	if (snooze_when(p, a, arg, now, &when, why_r) < 0)
		return 1;
	if (when == 0) {
		struct store_timer *old = NULL;
		ret = store_timer_get(p->store, PENDING_SNOOZE_TIMER, ticket_id, a->address, &old,
				      error_r);
		store_timer_free(&old);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			*why_r = "#snooze off: you have no snooze on this ticket";
			return 1;
		}
		if ((ret = store_timer_cancel(p->store, PENDING_SNOOZE_TIMER, ticket_id, a->address,
					      error_r)) < 0)
			return ret;
		return store_event_addf(p->store, ticket_id, "snooze", error_r,
					"#snooze off by %s: cancelled", a->address);
	}
	const struct hours *cal = sla_calendar(p->sla, a->calendar);
	char at[128];
	(void)sla_format_time(cal != NULL ? cal : sla_calendar(p->sla, NULL), when, at, sizeof(at));
	if ((ret = store_timer_set(p->store, PENDING_SNOOZE_TIMER, ticket_id, a->address, when,
				   error_r)) < 0)
		return ret;
	if (when_r != NULL)
		*when_r = when;
	return store_event_addf(p->store, ticket_id, "snooze", error_r,
				"#snooze %s by %s: a reminder to them %s", arg, a->address, at);
}

int
pending_snooze_timer(void *context, struct store *store, const struct store_timer *timer,
		     int64_t now, const char **error_r)
{
	struct pending *p = context;
	struct store_ticket *t = NULL;
	const struct config_agent *a = route_find_agent(p->route, timer->subject);
	int ret = get_ticket(store, timer->ticket_id, &t, error_r);
	if (ret < 0)
		return ret;
	if (a == NULL) {
		/* no longer an agent: nothing to send, said once */
		ret = store_event_addf(store, t->id, "snooze", error_r,
				       "snooze for %s dropped: not a configured agent any more",
				       timer->subject);
		goto out;
	}
	ret = store_sla_notice_add(store, t->id, KEY_SNOOZE, LEVEL_SNOOZE, timer->due_at,
				   a->address, 0, error_r);
	if (ret <= 0)
		goto out; /* sent already */
	struct tmpl_value *data = ticket_data(p, t);
	const struct hours *cal = sla_calendar(p->sla, a->calendar);
	if (cal == NULL)
		cal = sla_calendar(p->sla, NULL);
	char buf[128];
	tmpl_map_set_string(data, "snoozed_at",
			    sla_format_time_in(cal, timer->created_at,
					       ack_language(p->config, a->language), buf, sizeof(buf)));
	tmpl_map_set_string(data, "recipient", route_agent_name(a));
	struct ack_mail mail;
	ret = render(p, t, "snooze", a->language, data, &mail, error_r);
	tmpl_value_free(&data);
	if (ret <= 0)
		goto out;
	struct deskmail_msg *m = deskmail_start(p->dm, t->id, "reminder", DESKMAIL_REPLY_AGENT,
						"auto-generated", now);
	deskmail_add_to(m, a->name, a->address);
	deskmail_subject_as_is(m, mail.subject);
	deskmail_thread_agents(m, NULL);
	struct compose *c = deskmail_compose(m);
	compose_set_text(c, mail.text, strlen(mail.text));
	compose_set_html(c, mail.html, strlen(mail.html));
	ack_mail_clear(&mail);
	struct deskmail_result res = { 0 };
	const char *why = NULL;
	ret = deskmail_queue(p->dm, &m, &res, &why, error_r);
	if (ret > 0) {
		log_info("ticket=%lld: snooze reminder queued to %s (outbox #%lld)", (long long)t->id,
			 log_safe(a->address, 200), (long long)res.outbox_id);
		ret = store_event_addf(store, t->id, "snooze", error_r,
				       "snooze reminder to %s (outbox #%lld)", a->address,
				       (long long)res.outbox_id);
	}
	deskmail_result_clear(&res);
out:
	store_ticket_free(&t);
	return ret < 0 ? ret : 0;
}

void
pending_register(struct pending *p, struct schedule *schedule)
{
	schedule_register(schedule, PENDING_TIMER, pending_timer, p);
	schedule_register(schedule, PENDING_SNOOZE_TIMER, pending_snooze_timer, p);
}
