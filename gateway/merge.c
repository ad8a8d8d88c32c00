/*
 * merge: see merge.h. The texts mailed to agents are English and written
 * here (they go to the desk's own staff); the customer's notice is the
 * template status/merged.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/ack.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/log.h"
#include "gateway/merge.h"
#include "gateway/route.h"
#include "gateway/store.h"
#include "gateway/store/store-merge.h"
#include "gateway/template.h"
#include "base/util.h"

/* Bound of the agents' notice. */
#define TEXT_MAX (1024 * 1024)

struct merge {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	const struct route *route;
	struct ack_templates *templates;
};

struct merge *
merge_new(const struct config *config, struct store *store, struct deskmail *dm,
	  const struct route *route)
{
	struct merge *m = xcalloc(1, sizeof(*m));
	m->config = config;
	m->store = store;
	m->dm = dm;
	m->route = route;
	m->templates = ack_templates_new(config, NULL);
	return m;
}

void
merge_free(struct merge **mp)
{
	struct merge *m = *mp;
	if (m == NULL)
		return;
	ack_templates_free(&m->templates);
	free(m);
	*mp = NULL;
}

#define event(m, ticket_id, kind, error_r, ...) \
	store_event_addf((m)->store, ticket_id, kind, error_r, __VA_ARGS__)

static int
same_customer(const struct store_ticket *a, const struct store_ticket *b)
{
	if (a->customer_address == NULL || b->customer_address == NULL)
		return a->customer_address == b->customer_address;
	return strcasecmp(a->customer_address, b->customer_address) == 0;
}

int
merge_check(struct merge *m, const struct store_ticket *t, int64_t addressed, int64_t n,
	    int64_t *into_r, char *why, size_t size, const char **error_r)
{
	struct store_ticket *target = NULL;
	int64_t end = 0;
	*into_r = 0;
	if (addressed != 0) {
		snprintf(why, size, "ticket #%lld is already merged into #%lld: nothing to merge",
			 (long long)addressed, (long long)t->id);
		return 0;
	}
	if (n == t->id) {
		snprintf(why, size, "#%lld is this ticket", (long long)n);
		return 0;
	}
	int ret = store_ticket_merged_end(m->store, n, &end, error_r);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		snprintf(why, size, "there is no ticket #%lld", (long long)n);
		return 0;
	}
	if (end == t->id) {
		snprintf(why, size, "ticket #%lld was merged into this ticket (#%lld) already",
			 (long long)n, (long long)t->id);
		return 0;
	}
	if ((ret = store_ticket_get(m->store, end, &target, error_r)) <= 0) {
		if (ret == 0)
			snprintf(why, size, "there is no ticket #%lld", (long long)end);
		return ret;
	}
	int64_t into_from = 0;
	if ((ret = store_ticket_merged_into(m->store, end, &into_from, error_r)) < 0)
		goto out;
	char via[64] = "";
	if (end != n)
		snprintf(via, sizeof(via), " (ticket #%lld was merged into it)", (long long)n);
	ret = 0;
	if (into_from != 0)
		snprintf(why, size, "ticket #%lld is merged into others further than %d times",
			 (long long)n, STORE_MERGE_MAX_HOPS);
	else if (strcmp(target->status, "closed") == 0)
		snprintf(why, size, "ticket #%lld%s is closed: #reopen it first, then merge",
			 (long long)end, via);
	else if (!same_customer(t, target))
		snprintf(why, size, "ticket #%lld%s is another customer's (%s): merging would show "
			 "each customer the other's mail", (long long)end, via,
			 target->customer_address != NULL ? target->customer_address : "none");
	else {
		*into_r = end;
		ret = 1;
	}
out:
	store_ticket_free(&target);
	return ret;
}

/* The customer's notice (status/merged), threaded under their last mail
   on the merged ticket (its Message-ID found before the merge moved it). */
static int
tell_customer(struct merge *m, const struct store_ticket *from, const struct store_ticket *into,
	      const char *last_id, const char *last_refs, int64_t now, char *what, size_t size,
	      const char **error_r)
{
	if (from->customer_address == NULL) {
		snprintf(what, size, "no customer to tell");
		return 0;
	}
	char buf[32];
	struct tmpl_value *d = tmpl_map_new();
	struct tmpl_value *tk = tmpl_map_add_map(d, "ticket");
	snprintf(buf, sizeof(buf), "%lld", (long long)into->id);
	tmpl_map_set_string(tk, "id", buf);
	char *tag = deskmail_ticket_tag(m->dm, into->id);
	tmpl_map_set_string(tk, "tag", tag);
	free(tag);
	tmpl_map_set_string(tk, "subject", deskmail_subject_base(into->subject));
	tmpl_map_set_string(tk, "status", into->status);
	tmpl_map_set_string(tk, "customer", from->customer_address);
	tmpl_map_set_string(tk, "customer_name",
			    from->customer_name != NULL ? from->customer_name : "");
	struct tmpl_value *mg = tmpl_map_add_map(d, "merged");
	snprintf(buf, sizeof(buf), "%lld", (long long)from->id);
	tmpl_map_set_string(mg, "id", buf);
	tag = deskmail_ticket_tag(m->dm, from->id);
	tmpl_map_set_string(mg, "tag", tag);
	free(tag);
	tmpl_map_set_string(mg, "subject", deskmail_subject_base(from->subject));
	struct ack_mail mail;
	const char *terr;
	const char *language = from->language != NULL ? from->language : into->language;
	int ret = ack_render_in(m->templates, "status", "merged", language, d, &mail, &terr);
	tmpl_value_free(&d);
	if (ret < 0) {
		log_error("ticket=%lld: template status/merged: %s", (long long)into->id, terr);
		snprintf(what, size, "customer not told: template status/merged: %s", terr);
		return 0;
	}
	/* on the ticket it lives on: Reply-To into's customer address */
	struct deskmail_msg *dmsg = deskmail_start(m->dm, into->id, "notice",
						   DESKMAIL_REPLY_CUSTOMER, "auto-generated", now);
	deskmail_add_to(dmsg, from->customer_name, from->customer_address);
	deskmail_subject_as_is(dmsg, mail.subject);
	if (last_id != NULL)
		deskmail_thread_string(dmsg, last_id, last_refs);
	struct compose *c = deskmail_compose(dmsg);
	compose_set_text(c, mail.text, strlen(mail.text));
	compose_set_html(c, mail.html, strlen(mail.html));
	ack_mail_clear(&mail);
	struct deskmail_result res = { 0 };
	const char *not_sent = NULL;
	ret = deskmail_queue(m->dm, &dmsg, &res, &not_sent, error_r);
	if (ret > 0)
		snprintf(what, size, "customer %s told (outbox #%lld)", from->customer_address,
			 (long long)res.outbox_id);
	else if (ret == 0)
		snprintf(what, size, "customer not told: %s", not_sent != NULL ? not_sent : "refused");
	deskmail_result_clear(&res);
	return ret < 0 ? ret : 0;
}

/* One notice to each agent of into (its assignee, else its queue) and
   to from's assignee, never to the agent who merged. */
static int
tell_agents(struct merge *m, const struct store_ticket *from, const struct store_ticket *into,
	    int64_t asked, const char *by, size_t n_moved, int64_t now, struct buf *sent,
	    const char **error_r)
{
	const struct config *config = m->config;
	if (config->n_agents == 0)
		return 0;
	unsigned char *sel = xcalloc(config->n_agents, 1);
	const struct config_agent *a = route_find_agent(m->route, into->assignee);
	if (a != NULL)
		sel[a - config->agents] = 1;
	else
		(void)route_select_ticket(m->route, into->queue, sel);
	if ((a = route_find_agent(m->route, from->assignee)) != NULL)
		sel[a - config->agents] = 1;
	route_unselect(m->route, sel, by);
	const struct config_agent *who = route_find_agent(m->route, by);
	struct buf text;
	buf_init(&text, TEXT_MAX);
	(void)buf_printf(&text,
			 "Ticket #%lld (\"%s\") was merged into ticket #%lld (\"%s\") by %s <%s>%s.\n\n"
			 "Its %zu message%s, its attachments, participants and history are on\n"
			 "#%lld now; #%lld is closed as merged. Mail to #%lld (the customer's replies,\n"
			 "your replies to its agent address) reaches #%lld. The customer was told.\n\n"
			 "Customer: %s\nStatus of #%lld: %s, priority %s%s%s\n",
			 (long long)from->id, deskmail_subject_base(from->subject), (long long)into->id,
			 deskmail_subject_base(into->subject),
			 who != NULL ? route_agent_name(who) : by, by,
			 asked != into->id ? " (the ticket asked for was merged into it)" : "",
			 n_moved, n_moved == 1 ? "" : "s", (long long)into->id, (long long)from->id,
			 (long long)from->id, (long long)into->id,
			 into->customer_address != NULL ? into->customer_address : "(none)",
			 (long long)into->id, into->status, into->priority,
			 into->assignee != NULL ? ", assigned to " : "",
			 into->assignee != NULL ? into->assignee : "");
	int ret = 0;
	for (size_t i = 0; i < config->n_agents && ret == 0; i++) {
		if (!sel[i])
			continue;
		const struct config_agent *to = &config->agents[i];
		struct deskmail_msg *dmsg = deskmail_start(m->dm, into->id, "notify",
							   DESKMAIL_REPLY_AGENT, "auto-generated", now);
		deskmail_add_to(dmsg, to->name, to->address);
		deskmail_subject(dmsg, "Merged: ", into->subject);
		deskmail_thread_agents(dmsg, NULL);
		compose_set_text(deskmail_compose(dmsg), buf_cstr(&text), text.len);
		struct deskmail_result res = { 0 };
		const char *why;
		ret = deskmail_queue(m->dm, &dmsg, &res, &why, error_r);
		if (ret > 0)
			(void)buf_printf(sent, "%s%s (outbox #%lld)", sent->len > 0 ? ", " : "",
					 to->address, (long long)res.outbox_id);
		deskmail_result_clear(&res);
		ret = ret < 0 ? ret : 0;
	}
	buf_free(&text);
	free(sel);
	return ret;
}

int
merge_apply(struct merge *m, const struct store_ticket *t, int64_t into, int64_t asked,
	    const char *by, const char *logctx, int64_t now, const char **error_r)
{
	struct store_message *msgs = NULL;
	struct store_ticket *target = NULL;
	size_t n_msgs = 0;
	char told[256] = "";
	struct buf sent;
	buf_init(&sent, 64 * 1024);
	int ret = store_message_list(m->store, t->id, &msgs, &n_msgs, error_r);
	if (ret < 0)
		goto out;
	const struct store_message *last = NULL;
	for (size_t i = 0; i < n_msgs; i++)
		if (strcmp(msgs[i].direction, "in") == 0 && msgs[i].message_id != NULL)
			last = &msgs[i];
	if ((ret = store_ticket_merge(m->store, t->id, into, now, error_r)) < 0)
		goto out;
	if ((ret = store_ticket_get(m->store, into, &target, error_r)) <= 0) {
		if (ret == 0) {
			*error_r = errf("merge: ticket %lld vanished", (long long)into);
			ret = STORE_DATA_BAD;
		}
		goto out;
	}
	if ((ret = event(m, t->id, "merged", error_r, "merged into #%lld by %s", (long long)into,
			 by)) < 0 ||
	    (ret = event(m, t->id, "closed", error_r, "merged into #%lld by agent %s",
			 (long long)into, by)) < 0 ||
	    (ret = event(m, into, "merged", error_r,
			 "merged from #%lld by %s: its %zu message%s, participants and history "
			 "are here now", (long long)t->id, by, n_msgs, n_msgs == 1 ? "" : "s")) < 0)
		goto out;
	if ((ret = tell_customer(m, t, target, last != NULL ? last->message_id : NULL,
				 last != NULL ? last->references : NULL, now, told, sizeof(told),
				 error_r)) < 0 ||
	    (ret = tell_agents(m, t, target, asked, by, n_msgs, now, &sent, error_r)) < 0)
		goto out;
	ret = event(m, into, "notice", error_r, "merged from #%lld: %s; agents told: %s",
		    (long long)t->id, told, sent.len > 0 ? buf_cstr(&sent) : "none");
	if (ret == 0)
		log_info("%s ticket=%lld: merged into ticket %lld by %s (%zu messages); %s",
			 logctx, (long long)t->id, (long long)into, log_safe(by, 200), n_msgs, told);
out:
	buf_free(&sent);
	store_ticket_free(&target);
	store_messages_free(&msgs, n_msgs);
	return ret;
}
