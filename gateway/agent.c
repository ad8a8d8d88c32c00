/*
 * agent: see agent.h.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/agent.h"
#include "gateway/compose.h"
#include "gateway/danger.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/hook.h"
#include "gateway/hours.h"
#include "gateway/log.h"
#include "gateway/redact.h"
#include "gateway/route.h"
#include "gateway/rules.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/util.h"

/* Earlier tickets of a customer are counted among this many newest
   tickets (the store has no index by customer). */
#define HISTORY_SCAN 2000
/* Earlier tickets listed by number in a notification. */
#define HISTORY_LIST 5
/* Bound of the texts built here (the customer's text is bounded by
   [limits] max_text_size already). */
#define TEXT_MAX (64 * 1024 * 1024)

struct agent {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	const struct route *route;
	const struct hours *hours;
	struct danger *danger; /* made at the first handover (handover attachments) */
};

const char agent_help_text[] =
	"Reply to this mail to answer the customer: your reply is sent from the\n"
	"support address, without your address, your signature or the quoted text.\n"
	"Commands, each on a line of its own anywhere in your reply, are never sent:\n"
	"#note (internal, not sent), #close, #solved (the customer is told how to reopen),\n"
	"#pending (waiting on the customer: the clocks pause, a reminder follows),\n"
	"#snooze 2d|4h|YYYY-MM-DD [HH:MM]|off (mail me about it then), #reopen,\n"
	"#priority urgent|high|normal|low,\n"
	"#category NAME, #assign NAME|ADDRESS, #queue NAME, #history (the whole ticket),\n"
	"#attachments (the ticket's attachments by mail),\n"
	"#cc ADDRESS / #uncc ADDRESS (copy someone on the answers to the customer),\n"
	"#merge N (alone: fold this duplicate into ticket N, with its mail, people and\n"
	"history; the customer is told once; mail to this ticket then reaches N),\n"
	"#reply NAME (a canned answer in the customer's language, below your text;\n"
	"starters: deposit_not_arrived, withdrawal_under_review, kyc_documents_needed,\n"
	"account_unlocked, phishing_warning). An answer that crosses another agent's\n"
	"(or answers someone else's ticket) is held and you are asked to confirm it:\n"
	"#send-anyway in a reply to that mail sends it (supervisors: any held reply).\n"
	"Lists by mail: a new mail to the support address whose first line is #my,\n"
	"#queue NAME or #overdue gets the open tickets with the address to answer each.\n";

const char agent_rule_line[] =
	"----------------------------------------------------------------------\n";

struct agent *
agent_new(const struct config *config, struct store *store, struct deskmail *dm,
	  const struct route *route, const struct hours *hours)
{
	struct agent *agent = xcalloc(1, sizeof(*agent));
	agent->config = config;
	agent->store = store;
	agent->dm = dm;
	agent->route = route;
	agent->hours = hours;
	return agent;
}

void
agent_free(struct agent **agentp)
{
	struct agent *agent = *agentp;
	if (agent == NULL)
		return;
	danger_free(&agent->danger);
	free(agent);
	*agentp = NULL;
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

void
agent_time_string(const struct agent *agent, int64_t t, char *out, size_t size)
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

/* What the attachments of a mail to an agent may use: file bytes (the
   handover cap, as people count a file's size) and bytes on the wire
   ([limits] max_message_size, which the relay counts: base64 makes a file
   about 1.37 times larger, and the mail's text and headers need room). */
struct attach_budget {
	uint64_t files;
	uint64_t wire;
};

/* The attachments of a stored message, read back from the store and
   added to c while they fit in *budget (what they use is taken off it);
   the others are listed in *list as not attached. */
static int
attach_stored(struct agent *agent, struct compose *c, int64_t message_row_id,
	      struct attach_budget *budget, const struct hook_event *ev, struct buf *list,
	      const char **error_r)
{
	struct store_attachment *atts = NULL;
	size_t n = 0;
	if (message_row_id == 0)
		return 0;
	int ret = store_attachment_list(agent->store, message_row_id, &atts, &n, error_r);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const struct store_attachment *a = &atts[i];
		char size[32];
		format_size(size, sizeof(size), (uint64_t)a->size);
		uint64_t wire = compose_attachment_wire_size((size_t)a->size);
		int fits = (uint64_t)a->size <= budget->files && wire <= budget->wire;
		if (fits) {
			unsigned char *data;
			size_t len;
			ret = store_blob_get(agent->store, STORE_BLOB_ATTACHMENT, a->sha256, &data,
					     &len, error_r);
			if (ret < 0) {
				store_attachments_free(&atts, n);
				return ret;
			}
			/* A dangerous file is listed, never attached (danger.h):
			   flagged when its message came in, or (an older message
			   of the ticket, a handover) sniffed again now, from the
			   same cache; what cannot be checked is not attached. */
			char why[320];
			const char *danger = danger_flag_for(ev, a->sha256);
			if (danger == NULL) {
				const char *ignored;
				if (agent->danger == NULL)
					agent->danger = danger_new(agent->store, &ignored);
				if (agent->danger == NULL)
					danger = "it could not be checked (libmagic did not start)";
				else if (danger_check(agent->danger, data, len, a->filename, why,
						      sizeof(why)) != 0)
					danger = why;
			}
			if (danger != NULL) {
				free(data);
				(void)buf_printf(list,
						 "%s%s (%s, %s, NOT ATTACHED: dangerous: %s; reply with "
						 "#attachments to get it)",
						 list->len > 0 ? ", " : "",
						 a->filename != NULL ? a->filename : "unnamed",
						 a->content_type != NULL ? a->content_type : "?", size,
						 danger);
				continue;
			}
			compose_add_attachment(c, a->filename, a->content_type, data, len);
			free(data);
			budget->files -= (uint64_t)a->size;
			budget->wire -= wire;
		}
		(void)buf_printf(list, "%s%s (%s, %s%s)", list->len > 0 ? ", " : "",
				 a->filename != NULL ? a->filename : "unnamed",
				 a->content_type != NULL ? a->content_type : "?", size,
				 fits ? "" : ", not attached (over the size cap): reply with #attachments "
					     "to get it");
	}
	store_attachments_free(&atts, n);
	return 0;
}

/* "Name <address>" as people read it; the name cleaned as in our mail. */
static char *
person_string(const char *name, const char *address)
{
	char *clean = deskmail_display_name(name);
	const char *addr = address != NULL ? address : "(no sender)";
	char *s = clean != NULL ? xasprintf("%s <%s>", clean, addr) : xstrdup(addr);
	free(clean);
	return s;
}

static char *
sender_string(const struct mime_message *msg)
{
	return person_string(msg->from.name, msg->from.address);
}

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
	int ret = store_ticket_list(agent->store, HISTORY_SCAN, &list, &n, error_r);
	if (ret < 0)
		return ret;
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
		int ret;
		if (hours_due(agent->hours, t->created_at, hours_target(agent->hours, t->priority),
			      &due, &why) < 0)
			due = 0;
		else if ((ret = store_ticket_set_time(agent->store, t->id, "due_at", due, error_r)) < 0)
			return ret;
	}
	if (due == 0) {
		(void)buf_puts(b, "no promise ([hours] not configured)");
		return 0;
	}
	agent_time_string(agent, due, when, sizeof(when));
	(void)buf_puts(b, when);
	return 0;
}

static int
summary_block(struct agent *agent, const struct store_ticket *t, const char *queue_why,
	      const char *attachments, struct buf *b, const char **error_r)
{
	struct store_field *fields = NULL, *hits = NULL;
	size_t n_fields = 0, n_hits = 0;
	int ret = -1;

	if ((ret = store_ticket_field_list(agent->store, t->id, &fields, &n_fields, error_r)) < 0 ||
	    (ret = store_rule_hit_list(agent->store, t->id, &hits, &n_hits, error_r)) < 0)
		goto out;
	char *tag = deskmail_ticket_tag(agent->dm, t->id);
	(void)buf_printf(b, "Ticket:       #%lld %s\n", (long long)t->id, tag);
	free(tag);
	(void)buf_printf(b, "Subject:      %s\n", t->subject);
	char *customer = t->customer_address != NULL
				 ? person_string(t->customer_name, t->customer_address)
				 : xstrdup("(none)");
	(void)buf_printf(b, "Customer:     %s\n", customer);
	free(customer);
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
	if ((ret = history(agent, t, b, error_r)) < 0)
		goto out;
	(void)buf_puts(b, "\nRespond by:   ");
	if ((ret = due_line(agent, t, b, error_r)) < 0)
		goto out;
	(void)buf_printf(b, "\nAttachments:  %s\n", *attachments != '\0' ? attachments : "(none)");
	ret = 0;
out:
	store_fields_free(&fields, n_fields);
	store_fields_free(&hits, n_hits);
	return ret;
}

/* ---- notifications --------------------------------------------------------------- */

struct notify_what {
	const char *kind;	  /* outbox kind */
	const char *subject_prefix;
	const char *headline;	  /* first line of the body */
	const char *queue_why;
	const char *body;	  /* the customer's text */
	int64_t attachments_row;  /* the message whose attachments go along */
	const struct mime_message *thread; /* the customer's mail passed on, or NULL */
	int summary;		  /* the full summary block, else a short one */
	int whole_ticket;	  /* a handover: every message and attachment of the ticket */
	const char *event_what;	  /* "new ticket", "follow-up", ... */
	const char *logctx;	  /* the inbound message, for log lines */
	const char *banner;	  /* before the headline (a secret was redacted), or "" */
	const struct hook_event *ev; /* the message, for its dangerous attachments, or NULL */
};

/* The ticket so far for a handover: the customer's mails, the agents'
   replies and notes, oldest first, each without quoted history and
   signature (the desk's own acknowledgements and notices are left out). */
static void
thread_text(struct agent *agent, const struct store_message *msgs, size_t n, struct buf *b)
{
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_message *m = &msgs[i];
		const char *what = strcmp(m->direction, "in") == 0	  ? "from"
				   : strcmp(m->direction, "agent") == 0 ? "answer to the customer by"
				   : strcmp(m->direction, "note") == 0  ? "internal note by"
									: NULL;
		if (what == NULL)
			continue;
		char when[96];
		agent_time_string(agent, m->created_at, when, sizeof(when));
		char *who = person_string(m->from_name, m->from_address);
		(void)buf_printf(b, "%s[%zu] %s, %s %s\n\n", shown > 0 ? "\n" : "", shown + 1, when,
				 what, who);
		shown++;
		free(who);
		const char *text = m->text != NULL ? m->text : "";
		struct quote_result q;
		const char *why;
		if (quote_strip(text, strlen(text), 0, &q, &why) == 0) {
			(void)buf_puts(b, q.len > 0 ? q.text : "(no text)");
			free(q.text);
		} else {
			(void)buf_puts(b, text);
		}
		(void)buf_puts(b, "\n");
	}
	if (shown > 0)
		(void)buf_puts(b, agent_rule_line);
}

/* Queue one notification per selected agent. */
static int
notify_agents(struct agent *agent, const struct store_ticket *t, const unsigned char *sel,
	      const struct notify_what *w, int64_t now, const char **error_r)
{
	const struct config *config = agent->config;
	struct buf sent, text, atts;
	int ret = -1;
	size_t n_sent = 0;

	struct store_message *msgs = NULL;
	size_t n_msgs = 0;
	buf_init(&sent, 64 * 1024);
	buf_init(&text, TEXT_MAX);
	buf_init(&atts, 64 * 1024);
	if (w->whole_ticket &&
	    (ret = store_message_list(agent->store, t->id, &msgs, &n_msgs, error_r)) < 0)
		goto out;
	for (size_t i = 0; i < config->n_agents; i++) {
		const struct config_agent *a = &config->agents[i];
		if (!sel[i])
			continue;
		struct deskmail_msg *m = deskmail_start(agent->dm, t->id, w->kind,
							DESKMAIL_REPLY_AGENT, "auto-generated", now);
		deskmail_add_to(m, a->name, a->address);
		deskmail_subject(m, w->subject_prefix, t->subject);
		buf_reset(&atts);
		buf_reset(&text);
		/* a handover or #history carries the whole ticket: its own cap
		   (the rest is listed, #attachments sends it) */
		struct attach_budget budget = {
			.files = w->whole_ticket ? config->limits.max_handover_attachments
						 : UINT64_MAX,
			.wire = compose_attachments_room(config->limits.max_message_size),
		};
		for (size_t k = 0; k < (w->whole_ticket ? n_msgs : 1); k++) {
			int64_t row = w->whole_ticket ? msgs[k].id : w->attachments_row;
			if ((ret = attach_stored(agent, deskmail_compose(m), row, &budget, w->ev,
						 &atts, error_r)) < 0) {
				deskmail_msg_free(&m);
				goto out;
			}
		}
		if (w->banner != NULL)
			(void)buf_puts(&text, w->banner);
		(void)buf_printf(&text, "%s\n\n", w->headline);
		if (w->summary) {
			if ((ret = summary_block(agent, t, w->queue_why, buf_cstr(&atts), &text,
						 error_r)) < 0) {
				deskmail_msg_free(&m);
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
		(void)buf_printf(&text, "\n%s%s", agent_help_text, agent_rule_line);
		if (w->whole_ticket)
			thread_text(agent, msgs, n_msgs, &text);
		size_t blen = strlen(w->body);
		if (buf_puts(&text, w->body) < 0 ||
		    (blen > 0 && w->body[blen - 1] != '\n' && buf_puts(&text, "\n") < 0)) {
			*error_r = "agent: notification text too long";
			ret = STORE_DATA_BAD; /* this message's text: quarantine it */
			deskmail_msg_free(&m);
			goto out;
		}
		compose_set_text(deskmail_compose(m), buf_cstr(&text), text.len);
		deskmail_thread_agents(m, w->thread);
		struct deskmail_result res;
		const char *why;
		int r = deskmail_queue(agent->dm, &m, &res, &why, error_r);
		if (r < 0) {
			ret = r;
			goto out;
		}
		if (r > 0) {
			(void)buf_printf(&sent, "%s%s (outbox #%lld)", sent.len > 0 ? ", " : "",
					 a->address, (long long)res.outbox_id);
			n_sent++;
		}
		deskmail_result_clear(&res);
	}
	if (n_sent > 0) {
		log_info("%s ticket=%lld: %s: %zu agent notification%s queued", w->logctx,
			 (long long)t->id, w->event_what, n_sent, n_sent == 1 ? "" : "s");
		ret = event(agent, t->id, "notify", error_r, "%s: queued to %s; queue %s%s%s%s",
			    w->event_what, buf_cstr(&sent), t->queue != NULL ? t->queue : "(none)",
			    w->queue_why != NULL ? " (" : "", w->queue_why != NULL ? w->queue_why : "",
			    w->queue_why != NULL ? ")" : "");
	} else {
		ret = 0;
	}
out:
	store_messages_free(&msgs, n_msgs);
	buf_free(&sent);
	buf_free(&text);
	buf_free(&atts);
	return ret;
}


static int
get_ticket(struct agent *agent, int64_t id, struct store_ticket **t_r, const char **error_r)
{
	int ret = store_ticket_get(agent->store, id, t_r, error_r);
	if (ret == 0) {
		*error_r = errf("agent: no ticket %lld", (long long)id);
		return STORE_DATA_BAD;
	}
	return ret > 0 ? 0 : ret;
}

static int
notify_new_ticket(struct agent *agent, const struct hook_event *ev, const char **error_r)
{
	const struct config *config = agent->config;
	struct store_ticket *t = NULL;
	int ret;

	if (config->n_agents == 0)
		return 0;
	if ((ret = get_ticket(agent, ev->ticket_id, &t, error_r)) < 0)
		return ret;
	const char *why;
	const char *queue = route_ticket_queue(agent->route, t, ev->rules, &why);
	if (t->queue == NULL && queue != NULL) {
		if ((ret = store_ticket_set(agent->store, t->id, "queue", queue, error_r)) < 0) {
			store_ticket_free(&t);
			return ret;
		}
		store_string_replace(&t->queue, queue);
	} else if (t->queue != NULL && route_queue(agent->route, t->queue) == NULL &&
		   (ret = event(agent, t->id, "warning", error_r,
				"queue %s is not configured: every agent is notified", t->queue)) < 0) {
		store_ticket_free(&t);
		return ret;
	}
	unsigned char *sel = xcalloc(config->n_agents, 1);
	(void)route_select_ticket(agent->route, queue, sel);
	char *from = sender_string(ev->msg);
	char *headline = xasprintf("New ticket #%lld from %s", (long long)t->id, from);
	char banner[1024];
	struct notify_what w = {
		.banner = redact_banner(ev->secret_kinds, ev->secret_where, banner, sizeof(banner)),
		.ev = ev,
		.kind = "notify",
		.subject_prefix = "New: ",
		.headline = headline,
		.queue_why = queue != NULL ? why : NULL,
		.body = ev->msg->text != NULL ? ev->msg->text : "",
		.attachments_row = ev->message_row_id,
		.thread = ev->msg,
		.summary = 1,
		.event_what = "new ticket",
		.logctx = ev->logctx,
	};
	ret = notify_agents(agent, t, sel, &w, ev->now, error_r);
	free(headline);
	free(from);
	free(sel);
	store_ticket_free(&t);
	return ret;
}

static int
notify_update(struct agent *agent, const struct hook_event *ev, const char **error_r)
{
	const struct config *config = agent->config;
	const struct thread_decision *d = ev->decision;
	struct store_ticket *t = NULL;
	int ret;

	if (config->n_agents == 0 || d->role == THREAD_ROLE_AGENT || ev->auto_reply ||
	    d->suppress_ack)
		return 0;
	if ((ret = get_ticket(agent, ev->ticket_id, &t, error_r)) < 0)
		return ret;
	unsigned char *sel = xcalloc(config->n_agents, 1);
	const struct config_agent *assignee = route_find_agent(agent->route, t->assignee);
	if (assignee != NULL)
		sel[assignee - config->agents] = 1;
	else
		(void)route_select_ticket(agent->route, t->queue, sel);

	/* Only the new text: the agents have the history. */
	struct quote_result q = { 0 };
	const char *ignored;
	const char *text = ev->msg->text != NULL ? ev->msg->text : "";
	int stripped = quote_strip(text, strlen(text), QUOTE_KEEP_SIGNATURE, &q, &ignored) == 0;
	char *from = sender_string(ev->msg);
	char *headline = xasprintf("Ticket #%lld: a new message from %s (%s)%s", (long long)t->id,
				   from, thread_role_name(d->role),
				   d->reopen ? "; it reopened the ticket" : "");
	char banner[1024];
	struct notify_what w = {
		.banner = redact_banner(ev->secret_kinds, ev->secret_where, banner, sizeof(banner)),
		.ev = ev,
		.kind = "notify",
		.subject_prefix = d->reopen ? "Reopened: " : "Customer reply: ",
		.headline = headline,
		.body = stripped ? q.text : text,
		.attachments_row = ev->message_row_id,
		.thread = ev->msg,
		.summary = 0,
		.event_what = "follow-up",
		.logctx = ev->logctx,
	};
	ret = notify_agents(agent, t, sel, &w, ev->now, error_r);
	if (stripped)
		free(q.text);
	free(headline);
	free(from);
	free(sel);
	store_ticket_free(&t);
	return ret;
}

int
agent_step(void *context, struct hook_event *ev, const char **error_r)
{
	struct agent *agent = context;
	if (ev->reply != NULL)
		return 0; /* a trusted agent's mail: the replies step */
	return ev->new_ticket ? notify_new_ticket(agent, ev, error_r)
			      : notify_update(agent, ev, error_r);
}

int
agent_notify_handover(struct agent *agent, const struct store_ticket *t, const unsigned char *sel,
		      const char *subject_prefix, const char *what, const char *who,
		      const struct hook_event *ev, const char **error_r)
{
	char *headline = xasprintf("Ticket #%lld %s by %s. The whole ticket so far is below, "
				   "with its attachments.",
				   (long long)t->id, what, who);
	struct notify_what w = {
		.kind = "notify",
		.subject_prefix = subject_prefix,
		.headline = headline,
		.body = "",
		.summary = 1,
		.whole_ticket = 1,
		.event_what = what,
		.logctx = ev->logctx,
	};
	int ret = notify_agents(agent, t, sel, &w, ev->now, error_r);
	free(headline);
	return ret;
}
