/*
 * agent: see agent.h. The texts of the notifications are English and
 * written here: they go to the desk's own staff, not to customers.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/ack.h"
#include "gateway/agent.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/outbox.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/agentcmd.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/util.h"

/* Earlier tickets of a customer are counted among this many newest
   tickets (the store has no index by customer). */
#define HISTORY_SCAN 2000
/* Earlier tickets listed by number in a notification. */
#define HISTORY_LIST 5
/* Most References carried over from the customer's thread. */
#define MAX_REFERENCES 20
/* Bound of the texts built here (the customer's text is bounded by
   [limits] max_text_size already). */
#define TEXT_MAX (64 * 1024 * 1024)

struct agent {
	const struct config *config;
	const struct thread_config *tc;
	struct store *store;
	const struct hours *hours;
	/* The rules' own `vip` condition over [rules] vip_senders, so that
	   routing and the rules agree on who is a VIP; NULL when there are
	   no VIP senders or no VIP queue. */
	struct rules *vip;
	const char *vip_queue;
	char **queues; /* every queue name: [queue] sections and agents' queues */
	size_t n_queues;
};

enum reply_action {
	REPLY_RELAY,	  /* commands applied, text relayed to the customer */
	REPLY_NOTE,	  /* #note: commands applied, kept internal */
	REPLY_COMMANDS,	  /* only commands, nothing to relay */
	REPLY_ERROR,	  /* nothing applied, errors mailed back */
	REPLY_AUTO,	  /* an automatic reply: kept as a note, nothing else */
};

static const char *const action_names[] = { "relay", "note", "commands", "error", "auto-reply" };

struct agent_reply {
	enum reply_action action;
	char *stripped;		    /* the new text, quotes and signature stripped */
	struct agentcmd_list *cmds;
	struct buf errors;	    /* one line per error, for the error mail */
	const struct config_agent *from; /* the configured agent who wrote */
	char *from_address;
	char *store_text;	    /* what the message row keeps */
};

/* ---- lists and look-ups ----------------------------------------------------- */

/* The next item of a list separated by commas, semicolons or blanks:
   1 with [*start, *start + *len), 0 at the end. */
static int
list_next(const char **pp, const char **start_r, size_t *len_r)
{
	const char *p = *pp;
	if (p == NULL)
		return 0;
	while (*p == ',' || *p == ';' || *p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	const char *s = p;
	while (*p != '\0' && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
		p++;
	*start_r = s;
	*len_r = (size_t)(p - s);
	*pp = p;
	return 1;
}

static int
list_contains(const char *list, const char *item)
{
	const char *p = list, *s;
	size_t n;
	if (item == NULL)
		return 0;
	while (list_next(&p, &s, &n))
		if (n == strlen(item) && strncasecmp(s, item, n) == 0)
			return 1;
	return 0;
}

static const struct config_agent *
find_agent(const struct config *config, const char *address_or_label)
{
	if (address_or_label == NULL)
		return NULL;
	for (size_t i = 0; i < config->n_agents; i++) {
		const struct config_agent *a = &config->agents[i];
		if ((a->address != NULL && strcasecmp(a->address, address_or_label) == 0) ||
		    (a->label != NULL && strcasecmp(a->label, address_or_label) == 0))
			return a;
	}
	return NULL;
}

static const char *
agent_display(const struct config_agent *a)
{
	return a->name != NULL && *a->name != '\0' ? a->name : a->label;
}

static const char *
known_queue(const struct agent *agent, const char *name)
{
	for (size_t i = 0; name != NULL && i < agent->n_queues; i++)
		if (strcasecmp(agent->queues[i], name) == 0)
			return agent->queues[i];
	return NULL;
}

static void
add_queue_name(struct agent *agent, const char *s, size_t n)
{
	for (size_t i = 0; i < agent->n_queues; i++)
		if (strlen(agent->queues[i]) == n && strncasecmp(agent->queues[i], s, n) == 0)
			return;
	agent->queues = xreallocarray(agent->queues, agent->n_queues + 1, sizeof(char *));
	agent->queues[agent->n_queues++] = xstrndup(s, n);
}

/* Categories #category accepts: those acknowledgements know and those a
   [queue] routes. */
static int
known_category(const struct agent *agent, const char *name)
{
	for (size_t i = 0; ack_categories[i] != NULL; i++)
		if (strcmp(ack_categories[i], name) == 0)
			return 1;
	for (size_t i = 0; i < agent->config->n_queues; i++)
		if (list_contains(agent->config->queues[i].categories, name))
			return 1;
	return 0;
}

/* Mark the agents of queue in sel[] (one flag per configured agent);
   returns how many. */
static size_t
select_queue(const struct agent *agent, const char *queue, unsigned char *sel)
{
	const struct config *config = agent->config;
	size_t n = 0;
	for (size_t i = 0; i < config->n_agents; i++) {
		int in = list_contains(config->agents[i].queues, queue);
		for (size_t q = 0; !in && q < config->n_queues; q++)
			in = strcasecmp(config->queues[q].name, queue) == 0 &&
			     (list_contains(config->queues[q].agents, config->agents[i].label) ||
			      list_contains(config->queues[q].agents, config->agents[i].address));
		if (in && !sel[i]) {
			sel[i] = 1;
			n++;
		}
	}
	return n;
}

/* Everyone to notify about a ticket: its queue's agents, or every agent
   when the queue has none (no ticket may go unseen). */
static size_t
select_ticket_agents(const struct agent *agent, const char *queue, unsigned char *sel)
{
	size_t n = queue != NULL ? select_queue(agent, queue, sel) : 0;
	if (n > 0)
		return n;
	for (size_t i = 0; i < agent->config->n_agents; i++)
		sel[i] = 1;
	return agent->config->n_agents;
}

static void
unselect(const struct config *config, unsigned char *sel, const char *address)
{
	for (size_t i = 0; address != NULL && i < config->n_agents; i++)
		if (strcasecmp(config->agents[i].address, address) == 0)
			sel[i] = 0;
}

/* ---- lifecycle ---------------------------------------------------------------- */

int
agent_new(const struct config *config, const struct thread_config *tc, struct store *store,
	  const struct hours *hours, struct agent **agent_r, const char **error_r)
{
	struct agent *agent = xcalloc(1, sizeof(*agent));
	agent->config = config;
	agent->tc = tc;
	agent->store = store;
	agent->hours = hours;
	*agent_r = NULL;

	for (size_t q = 0; q < config->n_queues; q++) {
		const struct config_queue *cq = &config->queues[q];
		const char *p = cq->agents, *s;
		size_t n;
		add_queue_name(agent, cq->name, strlen(cq->name));
		while (list_next(&p, &s, &n)) {
			char *name = xstrndup(s, n);
			int found = find_agent(config, name) != NULL;
			if (!found)
				*error_r = errf("%s: [queue %s] agents: no [agent %s] section",
						config->path != NULL ? config->path : "configuration",
						cq->name, log_safe(name, 100));
			free(name);
			if (!found) {
				agent_free(&agent);
				return -1;
			}
		}
		if (cq->vip && agent->vip_queue == NULL)
			agent->vip_queue = cq->name;
	}
	for (size_t i = 0; i < config->n_agents; i++) {
		const char *p = config->agents[i].queues, *s;
		size_t n;
		while (list_next(&p, &s, &n))
			add_queue_name(agent, s, n);
	}
	if (agent->vip_queue != NULL && config->rules.vip_senders != NULL &&
	    *config->rules.vip_senders != '\0') {
		static const char vip_rule[] = "rule vip { vip; tag vip }\n";
		struct rules_options opt;
		rules_options_default(&opt);
		opt.vip_senders = config->rules.vip_senders;
		if (rules_load_text("[rules] vip_senders", vip_rule, sizeof(vip_rule) - 1, &opt,
				    &agent->vip, error_r) < 0) {
			agent_free(&agent);
			return -1;
		}
	}
	*agent_r = agent;
	return 0;
}

void
agent_free(struct agent **agentp)
{
	struct agent *agent = *agentp;
	if (agent == NULL)
		return;
	rules_free(&agent->vip);
	for (size_t i = 0; i < agent->n_queues; i++)
		free(agent->queues[i]);
	free(agent->queues);
	free(agent);
	*agentp = NULL;
}

static int
is_vip(struct agent *agent, const char *address)
{
	if (agent->vip == NULL || address == NULL)
		return 0;
	struct rules_input in;
	struct rules_result *rr = NULL;
	rules_input_text(&in, NULL, NULL);
	in.from = address;
	rules_classify(agent->vip, &in, &rr);
	int vip = rr != NULL && rr->n_hits > 0;
	rules_result_free(&rr);
	return vip;
}

/* ---- small helpers -------------------------------------------------------------- */

/* An event on a ticket (printf-style detail). */
#define event(ctx, ticket_id, kind, error_r, ...) \
	store_event_addf((ctx)->store, ticket_id, kind, error_r, __VA_ARGS__)

static void
format_size(char *out, size_t size, uint64_t n)
{
	if (n < 1024)
		snprintf(out, size, "%llu bytes", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(out, size, "%llu KB", (unsigned long long)((n + 1023) / 1024));
	else
		snprintf(out, size, "%.1f MB", (double)n / (1024.0 * 1024.0));
}

/* "Tue 2025-03-04 18:00 +0800 (Asia/Shanghai)", or UTC without hours. */
static void
format_time(const struct agent *agent, int64_t t, char *out, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	struct tm tm;
	long off = 0;
	const char *zone = "UTC";
	if (agent->hours != NULL) {
		hours_localtime(agent->hours, t, &tm);
		off = tm.tm_gmtoff;
		zone = hours_timezone(agent->hours);
	} else {
		time_t tt = (time_t)t;
		gmtime_r(&tt, &tm);
	}
	long aoff = off < 0 ? -off : off;
	snprintf(out, size, "%s %04d-%02d-%02d %02d:%02d %c%02ld%02ld (%s)",
		 days[tm.tm_wday >= 0 && tm.tm_wday < 7 ? tm.tm_wday : 0], tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, off < 0 ? '-' : '+',
		 aoff / 3600, (aoff % 3600) / 60, zone);
}

/* A subject without reply prefixes ("Re:", "AW:", "SV:", "回复:"...). */
static const char *
subject_base(const char *subject)
{
	static const char *const prefixes[] = { "re:", "aw:", "sv:", "antw:", "回复:", "回复：",
						"回覆:", "回覆：", "答复:", "答复：" };
	const char *s = subject != NULL ? subject : "";
	for (int again = 1; again;) {
		again = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		for (size_t i = 0; i < N_ELEMENTS(prefixes); i++) {
			if (str_case_starts_with(s, prefixes[i])) {
				s += strlen(prefixes[i]);
				again = 1;
				break;
			}
		}
	}
	return *s != '\0' ? s : "(no subject)";
}

/* "[Support #12] <prefix><subject>" */
static char *
tagged_subject(const struct agent *agent, const struct store_ticket *t, const char *prefix)
{
	char *s = xasprintf("%s%s", prefix, subject_base(t->subject));
	char *tagged = thread_subject_add_tag(agent->tc, s, t->id);
	free(s);
	return tagged;
}

static void
add_references(struct compose *c, const char *refs, const char *last)
{
	const char *ids[MAX_REFERENCES];
	size_t n = 0;
	const char *p = refs, *s;
	size_t len;
	char *copy[MAX_REFERENCES] = { 0 };
	/* Keep the newest MAX_REFERENCES - 1 of refs (and last). */
	size_t total = 0;
	while (list_next(&p, &s, &len))
		total++;
	size_t skip = total + 1 > MAX_REFERENCES ? total + 1 - MAX_REFERENCES : 0;
	p = refs;
	for (size_t i = 0; list_next(&p, &s, &len); i++) {
		if (i < skip || n >= MAX_REFERENCES - 1)
			continue;
		copy[n] = xstrndup(s, len);
		ids[n] = copy[n];
		n++;
	}
	for (size_t i = 0; i < n; i++)
		compose_add_reference(c, ids[i]);
	if (last != NULL)
		compose_add_reference(c, last);
	for (size_t i = 0; i < n; i++)
		free(copy[i]);
}

static char *
message_references(const struct mime_message *msg)
{
	struct buf b;
	buf_init(&b, 64 * 1024);
	for (size_t i = 0; i < msg->n_references; i++)
		if ((b.len > 0 && buf_putc(&b, ' ') < 0) || buf_puts(&b, msg->references[i]) < 0)
			break;
	return buf_steal(&b, NULL);
}

/* A message from the support address to one person about ticket t, with
   Reply-To the ticket's signed address of reply_side. auto_submitted NULL
   for mail a person wrote (the relay). */
static struct compose *
mail_start(const struct agent *agent, const struct store_ticket *t, const char *to_name,
	   const char *to_address, enum thread_role reply_side, const char *subject,
	   const char *auto_submitted, int64_t now)
{
	const struct config *config = agent->config;
	struct compose *c = compose_new();
	char *reply_to = thread_reply_address(agent->tc, t->id, reply_side);
	compose_set_from(c, config->support_name, config->support_address);
	compose_set_reply_to(c, config->support_name, reply_to);
	compose_add_to(c, to_name, to_address);
	compose_set_subject(c, subject);
	compose_set_date(c, now);
	if (auto_submitted != NULL)
		compose_set_auto_submitted(c, auto_submitted);
	compose_set_loop(c, config->hostname);
	free(reply_to);
	return c;
}

/* Give the message a Message-ID, render it and queue it. 0 with *id_r
   (0 when it could not be composed: then it is an event and a log line),
   -1 when the store failed. *msgid_r (may be NULL) gets the Message-ID. */
static int
mail_queue(struct agent *agent, int64_t ticket_id, const char *kind, struct compose *c,
	   const char *const *rcpts, size_t n_rcpts, int64_t now, int64_t *id_r, char **msgid_r,
	   const char **error_r)
{
	char *msgid = NULL;
	unsigned char *raw = NULL;
	size_t len = 0;
	const char *why;
	int ret = 0;

	*id_r = 0;
	if (msgid_r != NULL)
		*msgid_r = NULL;
	if (thread_message_id_new(agent->tc, ticket_id, &msgid, &why) == 0) {
		compose_set_message_id(c, msgid);
		ret = compose_render(c, &raw, &len, &why);
	} else {
		ret = -1;
	}
	if (ret < 0) {
		log_error("ticket=%lld: %s to %s not sent: %s", (long long)ticket_id, kind,
			  log_safe(rcpts[0], 200), why);
		ret = event(agent, ticket_id, "error", error_r, "%s to %s not sent: %s", kind,
			    rcpts[0], why);
		goto out;
	}
	ret = outbox_queue(agent->store, agent->config, ticket_id, kind, msgid, raw, len, rcpts,
			   n_rcpts, now, id_r, error_r);
	if (ret == 0 && msgid_r != NULL) {
		*msgid_r = msgid;
		msgid = NULL;
	}
out:
	free(msgid);
	free(raw);
	return ret;
}

/* The attachments of a stored message, read back from the store and
   added to c, at most max bytes in all; the others are listed in *list as
   not attached. */
static int
attach_stored(struct agent *agent, struct compose *c, int64_t message_row_id, uint64_t max,
	      struct buf *list, const char **error_r)
{
	struct store_attachment *atts = NULL;
	size_t n = 0;
	uint64_t total = 0;
	if (message_row_id == 0)
		return 0;
	if (store_attachment_list(agent->store, message_row_id, &atts, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct store_attachment *a = &atts[i];
		char size[32];
		format_size(size, sizeof(size), (uint64_t)a->size);
		int fits = total + (uint64_t)a->size <= max;
		if (fits) {
			unsigned char *data;
			size_t len;
			if (store_blob_get(agent->store, STORE_BLOB_ATTACHMENT, a->sha256, &data, &len,
					   error_r) < 0) {
				store_attachments_free(&atts, n);
				return -1;
			}
			compose_add_attachment(c, a->filename, a->content_type, data, len);
			free(data);
			total += (uint64_t)a->size;
		}
		(void)buf_printf(list, "%s%s (%s, %s%s)", list->len > 0 ? ", " : "",
				 a->filename != NULL ? a->filename : "unnamed",
				 a->content_type != NULL ? a->content_type : "?", size,
				 fits ? "" : ", too large to attach: see the ticket");
	}
	store_attachments_free(&atts, n);
	return 0;
}

static const char help_text[] =
	"Reply to this mail to answer the customer: your reply is sent from the\n"
	"support address, without your address, and the quoted text is left out.\n"
	"Commands on the first lines: #note (internal, not sent), #close, #reopen,\n"
	"#priority high|normal|low, #category NAME, #assign ADDRESS, #queue NAME.\n";

static const char rule_line[] =
	"----------------------------------------------------------------------\n";

/* ---- the summary block ---------------------------------------------------------- */

/* The customer's earlier tickets, among the newest HISTORY_SCAN. */
static int
history(struct agent *agent, const struct store_ticket *t, struct buf *b, const char **error_r)
{
	struct store_ticket *list = NULL;
	size_t n = 0, count = 0;
	struct buf names;
	if (t->customer_address == NULL) {
		(void)buf_puts(b, "(no sender address)");
		return 0;
	}
	if (store_ticket_list(agent->store, HISTORY_SCAN, &list, &n, error_r) < 0)
		return -1;
	buf_init(&names, 4096);
	for (size_t i = 0; i < n; i++) {
		const struct store_ticket *o = &list[i];
		if (o->id == t->id || o->id > t->id || o->customer_address == NULL ||
		    strcasecmp(o->customer_address, t->customer_address) != 0)
			continue;
		if (count++ < HISTORY_LIST)
			(void)buf_printf(&names, "%s#%lld (%s)", names.len > 0 ? ", " : "",
					 (long long)o->id, o->status);
	}
	if (count == 0)
		(void)buf_puts(b, "no earlier tickets");
	else
		(void)buf_printf(b, "%zu earlier ticket%s%s: %s%s", count, count == 1 ? "" : "s",
				 n == HISTORY_SCAN ? " among the newest tickets" : "",
				 buf_cstr(&names), count > HISTORY_LIST ? ", ..." : "");
	buf_free(&names);
	store_tickets_free(&list, n);
	return 0;
}

/* The promised first-response time: the ticket's due_at (set with the
   acknowledgement), else the target computed now and stored. */
static int
due_line(struct agent *agent, const struct store_ticket *t, struct buf *b, const char **error_r)
{
	int64_t due = t->due_at;
	char when[96];
	if (due == 0 && agent->hours != NULL) {
		const char *why;
		if (hours_due(agent->hours, t->created_at, hours_target(agent->hours, t->priority),
			      &due, &why) < 0)
			due = 0;
		else if (store_ticket_set_time(agent->store, t->id, "due_at", due, error_r) < 0)
			return -1;
	}
	if (due == 0) {
		(void)buf_puts(b, "no promise ([hours] not configured)");
		return 0;
	}
	format_time(agent, due, when, sizeof(when));
	(void)buf_puts(b, when);
	return 0;
}

static int
summary_block(struct agent *agent, const struct store_ticket *t, const char *queue_why,
	      const char *attachments, struct buf *b, const char **error_r)
{
	struct store_field *fields = NULL, *hits = NULL;
	size_t n_fields = 0, n_hits = 0;
	char *tag = thread_subject_tag(agent->tc, t->id);
	int ret = -1;

	if (store_ticket_field_list(agent->store, t->id, &fields, &n_fields, error_r) < 0 ||
	    store_rule_hit_list(agent->store, t->id, &hits, &n_hits, error_r) < 0)
		goto out;
	(void)buf_printf(b, "Ticket:       #%lld %s\n", (long long)t->id, tag);
	(void)buf_printf(b, "Subject:      %s\n", t->subject);
	if (t->customer_name != NULL && *t->customer_name != '\0')
		(void)buf_printf(b, "Customer:     %s <%s>\n", t->customer_name,
				 t->customer_address != NULL ? t->customer_address : "");
	else
		(void)buf_printf(b, "Customer:     %s\n",
				 t->customer_address != NULL ? t->customer_address : "(none)");
	(void)buf_printf(b, "Status:       %s\n", t->status);
	(void)buf_printf(b, "Category:     %s\n", t->category);
	(void)buf_printf(b, "Priority:     %s\n", t->priority);
	(void)buf_printf(b, "Queue:        %s%s%s%s\n", t->queue != NULL ? t->queue : "(none: all agents)",
			 queue_why != NULL ? " (" : "", queue_why != NULL ? queue_why : "",
			 queue_why != NULL ? ")" : "");
	if (t->assignee != NULL)
		(void)buf_printf(b, "Assignee:     %s\n", t->assignee);
	(void)buf_puts(b, "Fields:       ");
	for (size_t i = 0; i < n_fields; i++)
		(void)buf_printf(b, "%s%s: %s", i > 0 ? "; " : "", fields[i].name, fields[i].value);
	(void)buf_puts(b, n_fields == 0 ? "(none extracted)\n" : "\n");
	(void)buf_puts(b, "Rules fired:  ");
	for (size_t i = 0; i < n_hits; i++) {
		/* Each rule once, though it may have fired on several messages. */
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(hits[k].name, hits[i].name) == 0;
		if (!seen)
			(void)buf_printf(b, "%s%s", i > 0 ? ", " : "", hits[i].name);
	}
	(void)buf_puts(b, n_hits == 0 ? "(none)\n" : "\n");
	(void)buf_puts(b, "History:      ");
	if (history(agent, t, b, error_r) < 0)
		goto out;
	(void)buf_puts(b, "\nRespond by:   ");
	if (due_line(agent, t, b, error_r) < 0)
		goto out;
	(void)buf_printf(b, "\nAttachments:  %s\n", *attachments != '\0' ? attachments : "(none)");
	ret = 0;
out:
	free(tag);
	store_fields_free(&fields, n_fields);
	store_fields_free(&hits, n_hits);
	return ret;
}

/* ---- notifications --------------------------------------------------------------- */

/* Which queue a new ticket goes to, and why (static strings). */
static const char *
route(struct agent *agent, const struct store_ticket *t, const struct rules_result *rr,
      const char **why_r)
{
	const char *q;
	*why_r = NULL;
	if ((q = known_queue(agent, t->queue)) != NULL) {
		*why_r = "rules";
		return q;
	}
	if (rr != NULL && (q = known_queue(agent, rr->queue)) != NULL) {
		*why_r = "rules";
		return q;
	}
	if (agent->vip_queue != NULL && is_vip(agent, t->customer_address)) {
		*why_r = "VIP sender";
		return agent->vip_queue;
	}
	for (size_t i = 0; i < agent->config->n_queues; i++) {
		if (list_contains(agent->config->queues[i].categories, t->category)) {
			*why_r = "category";
			return agent->config->queues[i].name;
		}
	}
	return NULL;
}

struct notify_what {
	const char *kind;	  /* outbox kind */
	const char *subject_prefix;
	const char *headline;	  /* first line of the body */
	const char *queue_why;
	const char *body;	  /* the customer's text */
	int64_t attachments_row;  /* the message whose attachments go along */
	const char *in_reply_to;  /* threading for the agents' mailboxes */
	const char *references;
	int summary;		  /* the full summary block, else a short one */
	const char *event_what;	  /* "new ticket", "follow-up", ... */
};

/* Queue one notification per selected agent. */
static int
notify_agents(struct agent *agent, const struct store_ticket *t, const unsigned char *sel,
	      const struct notify_what *w, int64_t now, const char **error_r)
{
	const struct config *config = agent->config;
	struct buf sent, text, atts;
	int ret = -1;
	size_t n_sent = 0;

	buf_init(&sent, 64 * 1024);
	buf_init(&text, TEXT_MAX);
	buf_init(&atts, 64 * 1024);
	char *subject = tagged_subject(agent, t, w->subject_prefix);
	for (size_t i = 0; i < config->n_agents; i++) {
		const struct config_agent *a = &config->agents[i];
		if (!sel[i])
			continue;
		struct compose *c = mail_start(agent, t, a->name, a->address, THREAD_ROLE_AGENT,
					       subject, "auto-generated", now);
		buf_reset(&atts);
		buf_reset(&text);
		if (attach_stored(agent, c, w->attachments_row, config->limits.max_message_size,
				  &atts, error_r) < 0) {
			compose_free(&c);
			goto out;
		}
		(void)buf_printf(&text, "%s\n\n", w->headline);
		if (w->summary) {
			if (summary_block(agent, t, w->queue_why, buf_cstr(&atts), &text, error_r) < 0) {
				compose_free(&c);
				goto out;
			}
		} else {
			(void)buf_printf(&text, "Status: %s, priority %s, queue %s%s%s\n", t->status,
					 t->priority, t->queue != NULL ? t->queue : "(none)",
					 t->assignee != NULL ? ", assigned to " : "",
					 t->assignee != NULL ? t->assignee : "");
			if (atts.len > 0)
				(void)buf_printf(&text, "Attachments: %s\n", buf_cstr(&atts));
		}
		(void)buf_printf(&text, "\n%s%s", help_text, rule_line);
		size_t blen = strlen(w->body);
		if (buf_puts(&text, w->body) < 0 ||
		    (blen > 0 && w->body[blen - 1] != '\n' && buf_puts(&text, "\n") < 0)) {
			*error_r = "agent: notification text too long";
			compose_free(&c);
			goto out;
		}
		compose_set_text(c, buf_cstr(&text), text.len);
		if (w->in_reply_to != NULL) {
			compose_set_in_reply_to(c, w->in_reply_to);
			add_references(c, w->references, w->in_reply_to);
		}
		int64_t id;
		const char *rcpt[] = { a->address };
		int r = mail_queue(agent, t->id, w->kind, c, rcpt, 1, now, &id, NULL, error_r);
		compose_free(&c);
		if (r < 0)
			goto out;
		if (id != 0) {
			(void)buf_printf(&sent, "%s%s (outbox #%lld)", sent.len > 0 ? ", " : "",
					 a->address, (long long)id);
			n_sent++;
		}
	}
	if (n_sent > 0) {
		log_info("ticket=%lld: %s: %zu agent notification%s queued", (long long)t->id,
			 w->event_what, n_sent, n_sent == 1 ? "" : "s");
		ret = event(agent, t->id, "notify", error_r, "%s: queued to %s; queue %s%s%s%s",
			    w->event_what, buf_cstr(&sent), t->queue != NULL ? t->queue : "(none)",
			    w->queue_why != NULL ? " (" : "", w->queue_why != NULL ? w->queue_why : "",
			    w->queue_why != NULL ? ")" : "");
	} else {
		ret = 0;
	}
out:
	free(subject);
	buf_free(&sent);
	buf_free(&text);
	buf_free(&atts);
	return ret;
}

static char *
sender_string(const struct mime_message *msg)
{
	const char *addr = msg->from.address != NULL ? msg->from.address : "(no sender)";
	if (msg->from.name != NULL && *msg->from.name != '\0')
		return xasprintf("%s <%s>", msg->from.name, addr);
	return xstrdup(addr);
}

int
agent_notify_new_ticket(struct agent *agent, const struct agent_inbound *in, const char **error_r)
{
	const struct config *config = agent->config;
	struct store_ticket *t = NULL;
	int ret;

	if (config->n_agents == 0)
		return 0;
	ret = store_ticket_get(agent->store, in->ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0)
			*error_r = errf("agent: no ticket %lld", (long long)in->ticket_id);
		return -1;
	}
	const char *why;
	const char *queue = route(agent, t, in->rules, &why);
	if (t->queue == NULL && queue != NULL) {
		if (store_ticket_set(agent->store, t->id, "queue", queue, error_r) < 0) {
			store_ticket_free(&t);
			return -1;
		}
		store_string_replace(&t->queue, queue);
	} else if (t->queue != NULL && known_queue(agent, t->queue) == NULL &&
		   event(agent, t->id, "warning", error_r,
			 "queue %s is not configured: every agent is notified", t->queue) < 0) {
		store_ticket_free(&t);
		return -1;
	}
	unsigned char *sel = xcalloc(config->n_agents, 1);
	(void)select_ticket_agents(agent, queue, sel);
	char *from = sender_string(in->msg);
	char *headline = xasprintf("New ticket #%lld from %s", (long long)t->id, from);
	char *refs = message_references(in->msg);
	struct notify_what w = {
		.kind = "notify",
		.subject_prefix = "New: ",
		.headline = headline,
		.queue_why = queue != NULL ? why : NULL,
		.body = in->msg->text != NULL ? in->msg->text : "",
		.attachments_row = in->message_row_id,
		.in_reply_to = in->msg->message_id,
		.references = refs,
		.summary = 1,
		.event_what = "new ticket",
	};
	ret = notify_agents(agent, t, sel, &w, in->now, error_r);
	free(refs);
	free(headline);
	free(from);
	free(sel);
	store_ticket_free(&t);
	return ret;
}

int
agent_notify_update(struct agent *agent, const struct agent_inbound *in, const char **error_r)
{
	const struct config *config = agent->config;
	struct store_ticket *t = NULL;
	int ret;

	if (config->n_agents == 0 || in->role == THREAD_ROLE_AGENT || in->auto_reply ||
	    in->duplicate)
		return 0;
	ret = store_ticket_get(agent->store, in->ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0)
			*error_r = errf("agent: no ticket %lld", (long long)in->ticket_id);
		return -1;
	}
	unsigned char *sel = xcalloc(config->n_agents, 1);
	const struct config_agent *assignee = find_agent(config, t->assignee);
	if (assignee != NULL)
		sel[assignee - config->agents] = 1;
	else
		(void)select_ticket_agents(agent, known_queue(agent, t->queue), sel);

	/* Only the new text: the agents have the history. */
	struct quote_result q = { 0 };
	const char *ignored;
	const char *text = in->msg->text != NULL ? in->msg->text : "";
	int stripped = quote_strip(text, strlen(text), QUOTE_KEEP_SIGNATURE, &q, &ignored) == 0;
	char *from = sender_string(in->msg);
	char *headline = xasprintf("Ticket #%lld: a new message from %s (%s)%s", (long long)t->id,
				   from, thread_role_name(in->role),
				   in->reopened ? "; it reopened the ticket" : "");
	char *refs = message_references(in->msg);
	struct notify_what w = {
		.kind = "notify",
		.subject_prefix = in->reopened ? "Reopened: " : "Customer reply: ",
		.headline = headline,
		.body = stripped ? q.text : text,
		.attachments_row = in->message_row_id,
		.in_reply_to = in->msg->message_id,
		.references = refs,
		.summary = 0,
		.event_what = "follow-up",
	};
	ret = notify_agents(agent, t, sel, &w, in->now, error_r);
	if (stripped)
		free(q.text);
	free(refs);
	free(headline);
	free(from);
	free(sel);
	store_ticket_free(&t);
	return ret;
}

/* ---- an agent's reply ------------------------------------------------------------- */

static void
reply_error(struct agent_reply *r, const char *fmt, ...) DG_ATTR_PRINTF(2, 3);

static void
reply_error(struct agent_reply *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = xvasprintf(fmt, ap);
	va_end(ap);
	(void)buf_printf(&r->errors, "  %s\n", line);
	free(line);
}

/* What the configuration says about each command's argument. */
static void
check_commands(const struct agent *agent, struct agent_reply *r)
{
	const struct agentcmd_list *l = r->cmds;
	for (size_t i = 0; i < l->n_errors; i++)
		reply_error(r, "line %u: %s: %s", l->errors[i].line, l->errors[i].command,
			    l->errors[i].reason);
	for (size_t i = 0; i < l->n_cmds; i++) {
		const struct agentcmd *c = &l->cmds[i];
		switch (c->kind) {
		case AGENTCMD_CATEGORY:
			if (!known_category(agent, c->arg))
				reply_error(r, "line %u: #category %s: no such category", c->line,
					    c->arg);
			break;
		case AGENTCMD_QUEUE:
			if (known_queue(agent, c->arg) == NULL)
				reply_error(r, "line %u: #queue %s: no such queue", c->line, c->arg);
			break;
		case AGENTCMD_ASSIGN:
			if (find_agent(agent->config, c->arg) == NULL ||
			    strchr(c->arg, '@') == NULL)
				reply_error(r, "line %u: #assign %s: not a configured agent address",
					    c->line, c->arg);
			break;
		default:
			break;
		}
	}
}

static int
text_blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

int
agent_reply_prepare(struct agent *agent, int64_t ticket_id, const struct mime_message *msg,
		    int auto_reply, struct agent_reply **reply_r, const char **error_r)
{
	struct agent_reply *r = xcalloc(1, sizeof(*r));
	struct store_ticket *t = NULL;
	struct quote_result q;
	const char *why;
	const char *text = msg->text != NULL ? msg->text : "";

	*reply_r = NULL;
	buf_init(&r->errors, 64 * 1024);
	r->from_address = xstrdup(msg->from.address != NULL ? msg->from.address : "");
	r->from = find_agent(agent->config, msg->from.address);
	if (quote_strip(text, strlen(text), 0, &q, &why) == 0)
		r->stripped = q.text;
	else
		r->stripped = xstrdup(text); /* too many lines to strip: kept whole */
	r->cmds = agentcmd_parse(r->stripped, strlen(r->stripped));

	int ret = store_ticket_get(agent->store, ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0)
			*error_r = errf("agent: no ticket %lld", (long long)ticket_id);
		agent_reply_free(&r);
		return -1;
	}
	if (auto_reply) {
		r->action = REPLY_AUTO;
	} else {
		check_commands(agent, r);
		int has_text = !text_blank(r->cmds->text);
		if (r->errors.len == 0 && r->cmds->is_note)
			r->action = REPLY_NOTE;
		else if (r->errors.len == 0 && !has_text && msg->n_attachments == 0)
			r->action = r->cmds->n_cmds > 0 ? REPLY_COMMANDS : REPLY_ERROR;
		else
			r->action = REPLY_RELAY;
		if (r->action == REPLY_ERROR)
			reply_error(r, "the reply is empty (after the quoted text): nothing to send");
		if (r->action == REPLY_RELAY && t->customer_address == NULL)
			reply_error(r, "the ticket has no customer address to send to");
		if (r->errors.len > 0)
			r->action = REPLY_ERROR;
	}
	r->store_text = xstrdup(r->action == REPLY_RELAY || r->action == REPLY_NOTE ? r->cmds->text
										     : r->stripped);
	store_ticket_free(&t);
	*reply_r = r;
	return 0;
}

const char *
agent_reply_direction(const struct agent_reply *reply)
{
	return reply->action == REPLY_RELAY ? "agent" : "note";
}

const char *
agent_reply_text(const struct agent_reply *reply)
{
	return reply->store_text;
}

const char *
agent_reply_action(const struct agent_reply *reply)
{
	return action_names[reply->action];
}

void
agent_reply_free(struct agent_reply **replyp)
{
	struct agent_reply *r = *replyp;
	if (r == NULL)
		return;
	free(r->stripped);
	agentcmd_list_free(&r->cmds);
	buf_free(&r->errors);
	free(r->from_address);
	free(r->store_text);
	free(r);
	*replyp = NULL;
}

static const char *
reply_who(const struct agent_reply *r)
{
	return r->from != NULL ? agent_display(r->from) : r->from_address;
}

/* The errors back to the agent (with one more line, extra, when not
   NULL), Reply-To the agent address so that the corrected reply can simply
   be sent again. */
static int
mail_errors(struct agent *agent, const struct store_ticket *t, const struct agent_inbound *in,
	    const struct agent_reply *r, const char *extra, const char **error_r)
{
	const struct mime_message *msg = in->msg;
	struct buf text;
	buf_init(&text, TEXT_MAX);
	(void)buf_printf(&text,
			 "Your mail about ticket #%lld was NOT applied and nothing was sent to the\n"
			 "customer:\n\n%s%s%s\n"
			 "It is kept on the ticket as an internal note. Correct it and send it\n"
			 "again (reply to this mail).\n\n%s",
			 (long long)t->id, buf_cstr(&r->errors), extra != NULL ? "  " : "",
			 extra != NULL ? extra : "", rule_line);
	(void)buf_puts(&text, r->stripped);
	(void)buf_puts(&text, "\n");
	char *subject = tagged_subject(agent, t, "Not applied: ");
	struct compose *c = mail_start(agent, t, r->from != NULL ? r->from->name : NULL,
				       r->from != NULL ? r->from->address : r->from_address,
				       THREAD_ROLE_AGENT, subject, "auto-replied", in->now);
	compose_set_text(c, buf_cstr(&text), text.len);
	if (msg->message_id != NULL) {
		char *refs = message_references(msg);
		compose_set_in_reply_to(c, msg->message_id);
		add_references(c, refs, msg->message_id);
		free(refs);
	}
	const char *rcpt[] = { r->from != NULL ? r->from->address : r->from_address };
	int64_t id;
	int ret = mail_queue(agent, t->id, "error", c, rcpt, 1, in->now, &id, NULL, error_r);
	compose_free(&c);
	free(subject);
	buf_free(&text);
	if (ret < 0)
		return -1;
	log_info("ticket=%lld msgid=%s: agent mail from %s not applied, errors mailed back",
		 (long long)t->id, log_safe(msg->message_id, 200), log_safe(rcpt[0], 200));
	return event(agent, t->id, "error", error_r,
		     "mail from agent %s not applied, nothing relayed; errors mailed back as outbox "
		     "#%lld:\n%s%s", rcpt[0], (long long)id, buf_cstr(&r->errors),
		     extra != NULL ? extra : "");
}

static int
set_field(struct agent *agent, struct store_ticket *t, const char *field, const char **current,
	  const char *value, const struct agent_reply *r, const char *command,
	  const char **error_r)
{
	if (*current != NULL && value != NULL && strcasecmp(*current, value) == 0)
		return event(agent, t->id, "agent", error_r, "#%s by %s: already %s", command,
			     r->from_address, value);
	if (store_ticket_set(agent->store, t->id, field, value, error_r) < 0)
		return -1;
	int ret = event(agent, t->id, "agent", error_r, "#%s by %s: %s %s -> %s", command,
			r->from_address, field, *current != NULL ? *current : "(none)",
			value != NULL ? value : "(none)");
	store_string_replace(current, value);
	return ret;
}

/* A short notification to agents who were just given the ticket. */
static int
notify_handover(struct agent *agent, const struct store_ticket *t, unsigned char *sel,
		const struct agent_inbound *in, const struct agent_reply *r, const char *prefix,
		const char *what, const char **error_r)
{
	unselect(agent->config, sel, r->from_address);
	char *headline = xasprintf("Ticket #%lld %s by %s.", (long long)t->id, what, reply_who(r));
	struct notify_what w = {
		.kind = "notify",
		.subject_prefix = prefix,
		.headline = headline,
		.body = r->cmds->text,
		.summary = 1,
		.event_what = what,
	};
	int ret = notify_agents(agent, t, sel, &w, in->now, error_r);
	free(headline);
	return ret;
}

static int
apply_commands(struct agent *agent, struct store_ticket *t, const struct agent_inbound *in,
	       const struct agent_reply *r, const char **error_r)
{
	const struct config *config = agent->config;
	for (size_t i = 0; i < r->cmds->n_cmds; i++) {
		const struct agentcmd *c = &r->cmds->cmds[i];
		const char *name = agentcmd_name(c->kind);
		int ret = 0;
		switch (c->kind) {
		case AGENTCMD_NOTE:
			break;
		case AGENTCMD_CLOSE:
			ret = set_field(agent, t, "status", &t->status, "closed", r, name, error_r);
			break;
		case AGENTCMD_REOPEN:
			ret = set_field(agent, t, "status", &t->status,
					strcmp(t->status, "closed") == 0 ? "open" : t->status, r, name,
					error_r);
			break;
		case AGENTCMD_PRIORITY:
			ret = set_field(agent, t, "priority", &t->priority, c->arg, r, name, error_r);
			break;
		case AGENTCMD_CATEGORY:
			ret = set_field(agent, t, "category", &t->category, c->arg, r, name, error_r);
			break;
		case AGENTCMD_QUEUE: {
			const char *q = known_queue(agent, c->arg);
			int moved = t->queue == NULL || strcasecmp(t->queue, q) != 0;
			ret = set_field(agent, t, "queue", &t->queue, q, r, name, error_r);
			if (ret == 0 && moved && t->assignee == NULL && config->n_agents > 0) {
				unsigned char *sel = xcalloc(config->n_agents, 1);
				if (select_queue(agent, q, sel) > 0)
					ret = notify_handover(agent, t, sel, in, r, "Moved: ",
							      "moved to your queue", error_r);
				free(sel);
			}
			break;
		}
		case AGENTCMD_ASSIGN: {
			const struct config_agent *a = find_agent(config, c->arg);
			int changed = t->assignee == NULL || strcasecmp(t->assignee, a->address) != 0;
			ret = set_field(agent, t, "assignee", &t->assignee, a->address, r, name,
					error_r);
			if (ret == 0 && changed && strcasecmp(a->address, r->from_address) != 0) {
				unsigned char *sel = xcalloc(config->n_agents, 1);
				sel[a - config->agents] = 1;
				ret = notify_handover(agent, t, sel, in, r, "Assigned: ",
						      "assigned to you", error_r);
				free(sel);
			}
			break;
		}
		}
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* The visible text to the customer, in the customer's thread. */
static int
relay(struct agent *agent, struct store_ticket *t, const struct agent_inbound *in,
      const struct agent_reply *r, int64_t *id_r, const char **error_r)
{
	const struct mime_message *msg = in->msg;
	struct store_message *msgs = NULL;
	struct store_participant *parts = NULL;
	size_t n_msgs = 0, n_parts = 0;
	const char **rcpts = NULL;
	size_t n_rcpts = 0;
	int ret = -1;

	*id_r = 0;
	if (store_message_list(agent->store, t->id, &msgs, &n_msgs, error_r) < 0 ||
	    store_participant_list(agent->store, t->id, &parts, &n_parts, error_r) < 0)
		goto out;
	/* The customer side's newest message is the one answered. */
	const struct store_message *last = NULL;
	for (size_t i = 0; i < n_msgs; i++)
		if (strcmp(msgs[i].direction, "in") == 0 && msgs[i].message_id != NULL)
			last = &msgs[i];

	char *subject_tagged = tagged_subject(agent, t, "");
	char *subject = xasprintf("Re: %s", subject_tagged);
	free(subject_tagged);
	struct compose *c = mail_start(agent, t, t->customer_name, t->customer_address,
				       THREAD_ROLE_CUSTOMER, subject, NULL, in->now);
	free(subject);
	rcpts = xcalloc(n_parts + 1, sizeof(*rcpts));
	rcpts[n_rcpts++] = t->customer_address;
	for (size_t i = 0; i < n_parts; i++) {
		const struct store_participant *p = &parts[i];
		if (strcmp(p->role, "cc") != 0 || strcasecmp(p->address, t->customer_address) == 0 ||
		    thread_is_agent_address(agent->tc, p->address) ||
		    strcasecmp(p->address, agent->config->support_address) == 0)
			continue;
		compose_add_cc(c, p->name, p->address);
		rcpts[n_rcpts++] = p->address;
	}
	if (last != NULL) {
		compose_set_in_reply_to(c, last->message_id);
		add_references(c, last->references, last->message_id);
	}
	const char *text = r->cmds->text;
	compose_set_text(c, text, strlen(text));
	for (size_t i = 0; i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		compose_add_attachment(c, a->filename, a->content_type, a->data, a->size);
	}
	ret = mail_queue(agent, t->id, "relay", c, rcpts, n_rcpts, in->now, id_r, NULL, error_r);
	compose_free(&c);
out:
	free(rcpts);
	store_messages_free(&msgs, n_msgs);
	store_participants_free(&parts, n_parts);
	return ret;
}

/* The other agents of the queue (and the assignee) learn that the ticket
   was answered, so that two people do not answer at once. */
static int
notice_others(struct agent *agent, const struct store_ticket *t, const struct agent_inbound *in,
	      const struct agent_reply *r, const char **error_r)
{
	const struct config *config = agent->config;
	if (config->n_agents == 0)
		return 0;
	unsigned char *sel = xcalloc(config->n_agents, 1);
	(void)select_ticket_agents(agent, known_queue(agent, t->queue), sel);
	const struct config_agent *assignee = find_agent(config, t->assignee);
	if (assignee != NULL)
		sel[assignee - config->agents] = 1;
	unselect(config, sel, r->from_address);

	char when[96];
	format_time(agent, in->now, when, sizeof(when));
	char *subject = tagged_subject(agent, t, "Answered: ");
	struct buf text, sent;
	buf_init(&text, TEXT_MAX);
	buf_init(&sent, 64 * 1024);
	int ret = 0;
	for (size_t i = 0; i < config->n_agents && ret == 0; i++) {
		const struct config_agent *a = &config->agents[i];
		if (!sel[i])
			continue;
		buf_reset(&text);
		(void)buf_printf(&text,
				 "Ticket #%lld was answered by %s <%s>\n"
				 "on %s.\n"
				 "Status %s, priority %s%s%s. No need to answer it too.\n\n"
				 "The reply sent to the customer:\n%s",
				 (long long)t->id, reply_who(r), r->from_address, when, t->status,
				 t->priority, t->assignee != NULL ? ", assigned to " : "",
				 t->assignee != NULL ? t->assignee : "", rule_line);
		(void)buf_puts(&text, r->cmds->text);
		(void)buf_puts(&text, "\n");
		struct compose *c = mail_start(agent, t, a->name, a->address, THREAD_ROLE_AGENT,
					       subject, "auto-generated", in->now);
		compose_set_text(c, buf_cstr(&text), text.len);
		const char *rcpt[] = { a->address };
		int64_t id;
		ret = mail_queue(agent, t->id, "notice", c, rcpt, 1, in->now, &id, NULL, error_r);
		compose_free(&c);
		if (ret == 0 && id != 0)
			(void)buf_printf(&sent, "%s%s (outbox #%lld)", sent.len > 0 ? ", " : "",
					 a->address, (long long)id);
	}
	if (ret == 0 && sent.len > 0)
		ret = event(agent, t->id, "notice", error_r, "answered by %s: notice queued to %s",
			    r->from_address, buf_cstr(&sent));
	buf_free(&text);
	buf_free(&sent);
	free(subject);
	free(sel);
	return ret;
}

int
agent_reply_apply(struct agent *agent, const struct agent_inbound *in,
		  const struct agent_reply *r, const char **error_r)
{
	struct store_ticket *t = NULL;
	int ret = store_ticket_get(agent->store, in->ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0)
			*error_r = errf("agent: no ticket %lld", (long long)in->ticket_id);
		return -1;
	}
	switch (r->action) {
	case REPLY_AUTO:
		ret = event(agent, t->id, "note", error_r,
			    "automatic reply from agent %s kept as a note, not relayed",
			    r->from_address);
		break;
	case REPLY_ERROR:
		ret = mail_errors(agent, t, in, r, NULL, error_r);
		break;
	case REPLY_NOTE:
	case REPLY_COMMANDS:
		ret = apply_commands(agent, t, in, r, error_r);
		if (ret == 0)
			ret = event(agent, t->id, "note", error_r, "%s by %s, not relayed",
				    r->action == REPLY_NOTE ? "internal note" : "commands only",
				    r->from_address);
		break;
	case REPLY_RELAY: {
		int64_t id = 0;
		ret = apply_commands(agent, t, in, r, error_r);
		if (ret == 0)
			ret = relay(agent, t, in, r, &id, error_r);
		if (ret < 0)
			break;
		if (id == 0) {
			/* Could not be composed (e.g. a customer address compose
			   refuses): the agent must know it did not go out. */
			ret = mail_errors(agent, t, in, r,
					  "the reply could not be composed for the customer (see the "
					  "ticket's events); nothing was sent\n",
					  error_r);
			break;
		}
		log_info("ticket=%lld msgid=%s: reply by agent %s relayed as outbox #%lld",
			 (long long)t->id, log_safe(in->msg->message_id, 200),
			 log_safe(r->from_address, 200), (long long)id);
		ret = event(agent, t->id, "relay", error_r,
			    "reply by agent %s relayed to the customer as outbox #%lld (%zu "
			    "attachment%s)",
			    r->from_address, (long long)id, in->msg->n_attachments,
			    in->msg->n_attachments == 1 ? "" : "s");
		if (ret == 0 && t->first_response_at == 0)
			ret = store_ticket_set_time(agent->store, t->id, "first_response_at", in->now,
						    error_r);
		if (ret == 0 && t->assignee == NULL && r->from != NULL) {
			ret = store_ticket_set(agent->store, t->id, "assignee", r->from->address,
					       error_r);
			if (ret == 0) {
				t->assignee = xstrdup(r->from->address);
				ret = event(agent, t->id, "agent",
					    error_r, "assigned to %s, who answered first",
					    r->from->address);
			}
		}
		if (ret == 0 && strcmp(t->status, "new") == 0) {
			ret = store_ticket_set(agent->store, t->id, "status", "open", error_r);
			if (ret == 0)
				store_string_replace(&t->status, "open");
		}
		if (ret == 0)
			ret = notice_others(agent, t, in, r, error_r);
		break;
	}
	}
	store_ticket_free(&t);
	return ret;
}
