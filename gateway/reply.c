/*
 * reply: see reply.h. The texts mailed back to agents are English and
 * written here: they go to the desk's own staff.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/ack.h"
#include "gateway/agent.h"
#include "gateway/canned.h"
#include "gateway/cclist.h"
#include "gateway/collide.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/guard.h"
#include "gateway/hold.h"
#include "gateway/hook.h"
#include "gateway/label.h"
#include "gateway/log.h"
#include "gateway/merge.h"
#include "gateway/outbox.h"
#include "gateway/pending.h"
#include "gateway/reply.h"
#include "gateway/replyhtml.h"
#include "gateway/route.h"
#include "gateway/store.h"
#include "gateway/supervisor.h"
#include "gateway/thread.h"
#include "parsers/agentcmd.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/clock.h"
#include "base/util.h"

/* Bound of the texts built here. */
#define TEXT_MAX (64 * 1024 * 1024)

struct reply_handler {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	const struct route *route;
	struct agent *agent;
	struct canned *canned;
	struct pending *pending; /* #pending, #solved, #close, #snooze; NULL: config broken */
	const char *pending_error;
	struct supervisor *sv; /* who may #send-anyway; NULL: only supervisor = yes */
	struct merge *merge;	 /* #merge */
};

enum reply_action {
	REPLY_RELAY,	  /* commands applied, text relayed to the customer */
	REPLY_NOTE,	  /* #note: commands applied, kept internal */
	REPLY_COMMANDS,	  /* only commands, nothing to relay */
	REPLY_ERROR,	  /* nothing applied, errors mailed back */
	REPLY_AUTO,	  /* an automatic reply: kept as a note, nothing else */
	REPLY_HELD,	  /* the outbound guard held it (guard.h): a note, the agent told */
};

static const char *const action_names[] = { "relay", "note", "commands", "error", "auto-reply",
					    "held" };

struct reply {
	enum reply_action action;
	char *stripped;		    /* the new text, quotes and signature stripped */
	struct agentcmd_list *cmds;
	struct buf errors;	    /* one line per error, for the error mail */
	const struct config_agent *from; /* the configured agent who wrote */
	char *from_address;
	char *text;		    /* what is relayed: the agent's text, then the canned reply */
	char *canned_path;	    /* #reply: the canned reply's file, or NULL */
	char *store_text;	    /* what the message row keeps */
	char held_why[416];	    /* REPLY_HELD: why ("collision: " + collide.why fits) */
	int send_anyway;	    /* #send-anyway: release the held reply */
	int collision;		    /* REPLY_HELD by a collision (collide.h), not the guard */
	struct collide collide;	    /* its details, for the confirmation request */
	struct replyhtml *html;	    /* REPLY_RELAY: the HTML part, or NULL (text alone) */
	int64_t merge_into;	    /* #merge: the ticket to fold this one into (merge.h) */
	int64_t merge_asked;	    /* the N of "#merge N" (merge_into ends its chain) */
	char html_why[200];	    /* why the agent's HTML is not relayed, or "" */
};

struct reply_handler *
reply_handler_new(const struct config *config, struct store *store, struct deskmail *dm,
		  const struct route *route, struct agent *agent)
{
	struct reply_handler *h = xcalloc(1, sizeof(*h));
	h->config = config;
	h->store = store;
	h->dm = dm;
	h->route = route;
	h->agent = agent;
	h->canned = canned_new(config, NULL);
	h->merge = merge_new(config, store, dm, route);
	if (pending_new(config, store, dm, &h->pending, &h->pending_error) < 0)
		log_error("reply: #pending, #solved and #snooze cannot work: %s", h->pending_error);
	const char *error;
	if (supervisor_new(config, &h->sv, &error) < 0)
		log_error("reply: supervisors named by [queue] and [sla]: %s", error);
	return h;
}

void
reply_handler_free(struct reply_handler **hp)
{
	struct reply_handler *h = *hp;
	if (h == NULL)
		return;
	canned_free(&h->canned);
	merge_free(&h->merge);
	pending_free(&h->pending);
	supervisor_free(&h->sv);
	free(h);
	*hp = NULL;
}

/* An event on a ticket (printf-style detail). */
#define event(ctx, ticket_id, kind, error_r, ...) \
	store_event_addf((ctx)->store, ticket_id, kind, error_r, __VA_ARGS__)

/* ---- reading the agent's mail ------------------------------------------------------ */

static void
reply_error(struct reply *r, const char *fmt, ...) DG_ATTR_PRINTF(2, 3);

static void
reply_error(struct reply *r, const char *fmt, ...)
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
check_commands(const struct reply_handler *h, struct reply *r, const struct store_ticket *t)
{
	const struct agentcmd_list *l = r->cmds;
	for (size_t i = 0; i < l->n_errors; i++)
		reply_error(r, "line %u: %s: %s", l->errors[i].line, l->errors[i].command,
			    l->errors[i].reason);
	for (size_t i = 0; i < l->n_cmds; i++) {
		const struct agentcmd *c = &l->cmds[i];
		switch (c->kind) {
		case AGENTCMD_CATEGORY:
			if (!route_category_known(h->route, c->arg))
				reply_error(r, "line %u: #category %s: no such category", c->line,
					    c->arg);
			break;
		case AGENTCMD_QUEUE:
			if (route_queue(h->route, c->arg) == NULL)
				reply_error(r, "line %u: #queue %s: no such queue", c->line, c->arg);
			break;
		case AGENTCMD_ASSIGN:
			if (route_find_agent(h->route, c->arg) == NULL)
				reply_error(r, "line %u: #assign %s: not a configured agent (an "
					       "address, [agent NAME] or its name)", c->line, c->arg);
			break;
		case AGENTCMD_CLOSE:
		case AGENTCMD_SOLVED:
			if (h->pending == NULL)
				reply_error(r, "line %u: #%s: not available (%s)", c->line,
					    agentcmd_name(c->kind), h->pending_error);
			break;
		case AGENTCMD_PENDING:
			if (strcmp(t->status, "closed") == 0)
				reply_error(r, "line %u: #pending: the ticket is closed (#reopen it "
					       "first, or let the customer's reply reopen it)", c->line);
			else if (t->customer_address == NULL)
				reply_error(r, "line %u: #pending: the ticket has no customer to "
					       "wait on", c->line);
			if (h->pending == NULL)
				reply_error(r, "line %u: #pending: not available (%s)", c->line,
					    h->pending_error);
			break;
		case AGENTCMD_SNOOZE: {
			const char *why = h->pending_error;
			if (h->pending == NULL ||
			    pending_snooze_check(h->pending, t->id, r->from, c->arg, clock_now(),
						 &why) < 0)
				reply_error(r, "line %u: %s", c->line, why);
			break;
		}
		case AGENTCMD_SEND_ANYWAY:
			/* who may release it depends on the hold (reply_prepare()) */
			r->send_anyway = 1;
			break;
		default:
			break;
		}
	}
}

/* Bytes of the line at p (without its '\n'), and of the text that ends
   before it when that is white space only. */
static size_t
line_len(const char *p)
{
	return strcspn(p, "\n");
}

static int
span_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Does s[0..n) contain needle, ignoring ASCII case? */
static int
span_has(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k > 0 && i + k <= n; i++)
		if (strncasecmp(s + i, needle, k) == 0)
			return 1;
	return 0;
}

/* A short line of a sign-off block ("Alice Agent", "Senior Support |
   ext. 123"), not a sentence or a closing ("Thanks,", "谢谢！"). */
static int
signoff_line(const char *s, size_t n)
{
	static const char *const ends[] = { ".", "!", "?", ":", ",", ";", "。", "！", "？",
					    "，", "：", "；" };
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0 || n > 60)
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(ends); i++) {
		size_t k = strlen(ends[i]);
		if (n >= k && memcmp(s + n - k, ends[i], k) == 0)
			return 0;
	}
	return 1;
}

/* Cut the agent's signature from text (the agent's words, quotes and
   commands already out; quote_strip() took what follows "-- "): from the
   first line that starts with the agent's configured signature, or from
   the first short line that holds the agent's own address, with the
   sign-off lines just above it (a name, a title, an extension). */
static void
cut_signature(char *text, const struct config_agent *a)
{
	const char *sig = a != NULL ? a->signature : NULL;
	size_t sig_len = 0;
	if (sig != NULL) {
		while (*sig == ' ' || *sig == '\t')
			sig++;
		sig_len = strlen(sig);
		while (sig_len > 0 && (sig[sig_len - 1] == ' ' || sig[sig_len - 1] == '\t'))
			sig_len--;
	}
	const char *lines[4] = { NULL }; /* the last lines before the one looked at */
	for (char *p = text; *p != '\0';) {
		size_t n = line_len(p);
		const char *t = p;
		size_t tn = n;
		while (tn > 0 && (*t == ' ' || *t == '\t')) {
			t++;
			tn--;
		}
		char *cut = NULL;
		if (sig_len > 0 && tn >= sig_len && strncasecmp(t, sig, sig_len) == 0) {
			cut = p;
		} else if (a != NULL && a->address != NULL && n <= 100 && span_has(p, n, a->address)) {
			cut = p;
			/* the sign-off block above it goes too */
			for (size_t k = 0; k < N_ELEMENTS(lines) && lines[k] != NULL; k++) {
				size_t ln = line_len(lines[k]);
				if (span_blank(lines[k], ln) || !signoff_line(lines[k], ln))
					break;
				cut = (char *)lines[k];
			}
		}
		if (cut != NULL) {
			/* and the blank lines before it */
			while (cut > text && (cut[-1] == '\n' || cut[-1] == '\r' || cut[-1] == ' ' ||
					      cut[-1] == '\t'))
				cut--;
			if (cut > text)
				*cut++ = '\n';
			*cut = '\0';
			return;
		}
		memmove(lines + 1, lines, sizeof(lines) - sizeof(lines[0]));
		lines[0] = p;
		p += n;
		if (*p == '\n')
			p++;
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

/* #reply NAME: the canned reply for ticket t in the customer's language,
   below the agent's own text (r->text). A name without a file, or a
   template that does not render, is an error mailed back. */
static int
add_canned(struct reply_handler *h, struct reply *r, const struct store_ticket *t,
	   const char *name, unsigned int line, const char **error_r)
{
	struct store_field *sf = NULL;
	size_t n_sf = 0;
	int ret = store_ticket_field_list(h->store, t->id, &sf, &n_sf, error_r);
	if (ret < 0)
		return ret;
	struct ack_field *fields = xcalloc(n_sf + 1, sizeof(*fields));
	for (size_t i = 0; i < n_sf; i++) {
		fields[i].name = sf[i].name;
		fields[i].value = sf[i].value;
	}
	char *customer = deskmail_display_name(t->customer_name);
	const char *language = ack_language(h->config, t->language);
	char *category_name = ack_category_name(NULL, t->category, language);
	struct ack_input in = {
		.ticket_id = t->id,
		.subject = t->subject,
		.customer_name = customer,
		.customer_address = t->customer_address,
		.category = t->category,
		.category_name = category_name,
		.priority = t->priority,
		.language = language,
		.fields = fields,
		.n_fields = n_sf,
		.received_at = t->created_at,
	};
	struct tmpl_value *data = ack_data_build(h->config, NULL, &in, NULL);
	char *agent_name = r->from != NULL ? deskmail_display_name(route_agent_name(r->from)) : NULL;
	if (agent_name != NULL)
		tmpl_map_set_string(tmpl_map_add_map(data, "agent"), "name", agent_name);
	char *canned = NULL;
	const char *why = NULL;
	int found = canned_render(h->canned, name, language, data, &canned, &r->canned_path, &why);
	if (found == 0) {
		char *known = canned_list(h->canned);
		reply_error(r, "line %u: #reply %s: no such canned reply (known: %s)", line, name,
			    known);
		free(known);
	} else if (found < 0) {
		log_error("ticket=%lld: canned reply %s does not render: %s", (long long)t->id, name,
			  why);
		reply_error(r, "line %u: #reply %s: the canned reply does not render: %s", line,
			    name, why);
	} else {
		char *own = r->text;
		size_t own_len = strlen(own);
		while (own_len > 0 && strchr(" \t\r\n", own[own_len - 1]) != NULL)
			own_len--;
		r->text = own_len == 0 ? xstrdup(canned)
				       : xasprintf("%.*s\n\n%s", (int)own_len, own, canned);
		free(own);
	}
	free(canned);
	free(agent_name);
	tmpl_value_free(&data);
	free(category_name);
	free(customer);
	free(fields);
	store_fields_free(&sf, n_sf);
	return 0;
}

/* #cc and #uncc against the ticket: an address that may be copied, and
   one that is on the list to be removed. */
static int
check_cc(struct reply_handler *h, struct reply *r, const struct store_ticket *t,
	 const char **error_r)
{
	for (size_t i = 0; i < r->cmds->n_cmds; i++) {
		const struct agentcmd *c = &r->cmds->cmds[i];
		const char *why, *role = NULL;
		if (c->kind == AGENTCMD_CC && !cclist_allowed(h->route, h->dm, t, c->arg, &why))
			reply_error(r, "line %u: #cc %s: %s", c->line, c->arg, why);
		if (c->kind != AGENTCMD_UNCC)
			continue;
		int ret = store_participant_find(h->store, t->id, c->arg, &role, error_r);
		if (ret < 0)
			return ret;
		if (ret == 0 || strcmp(role, "cc") != 0)
			reply_error(r, "line %u: #uncc %s: not on the ticket's Cc list", c->line,
				    c->arg);
	}
	return 0;
}

/* Is the sender a supervisor of ticket t (supervisor.h: an agent with
   supervisor = yes, or named by its queue or its SLA policy)? 1, 0, < 0. */
static int
is_supervisor(struct reply_handler *h, const struct reply *r, const struct store_ticket *t,
	      const char **error_r)
{
	if (r->from == NULL)
		return 0;
	if (r->from->supervisor || h->sv == NULL)
		return r->from->supervisor;
	struct store_sla *row = NULL;
	int ret = store_sla_get(h->store, t->id, &row, error_r);
	if (ret < 0)
		return ret;
	ret = supervisor_may_release(h->sv, r->from_address, t->queue,
				     row != NULL ? row->policy : NULL);
	store_sla_free(&row);
	return ret;
}

static const struct agentcmd *find_command(const struct agentcmd_list *l,
					   enum agentcmd_kind kind);

/* #merge N: alone (a #note at most: the mail's text would go to the
   customer of a ticket being closed), and allowed by merge_check(). */
static int
check_merge(struct reply_handler *h, struct reply *r, const struct store_ticket *t,
	    int64_t merged_from, const char **error_r)
{
	const struct agentcmd *c = find_command(r->cmds, AGENTCMD_MERGE);
	if (c == NULL)
		return 0;
	for (size_t i = 0; i < r->cmds->n_cmds; i++) {
		enum agentcmd_kind k = r->cmds->cmds[i].kind;
		if (k != AGENTCMD_MERGE && k != AGENTCMD_NOTE) {
			reply_error(r, "line %u: #merge goes alone (with #note at most): send #%s "
				       "in another mail", c->line, agentcmd_name(k));
			return 0;
		}
	}
	if (!r->cmds->is_note && !text_blank(r->text)) {
		reply_error(r, "line %u: #merge goes without text for the customer (they are "
			       "told of the merge; write #note to keep a remark)", c->line);
		return 0;
	}
	char *end;
	int64_t n = (int64_t)strtoll(c->arg, &end, 10);
	char why[400];
	int ret = merge_check(h->merge, t, merged_from, n, &r->merge_into, why, sizeof(why),
			      error_r);
	if (ret < 0)
		return ret;
	if (ret == 0)
		reply_error(r, "line %u: #merge %s: %s", c->line, c->arg, why);
	r->merge_asked = n;
	return 0;
}

/* #send-anyway: a held reply, and the right to release it: the guard's
   by a supervisor, a collision's by its author or a supervisor. */
static int
check_release(struct reply_handler *h, struct reply *r, const struct store_ticket *t,
	      const char **error_r)
{
	int64_t ticket_id = t->id;
	const struct agentcmd *c = NULL;
	for (size_t i = 0; i < r->cmds->n_cmds && c == NULL; i++)
		if (r->cmds->cmds[i].kind == AGENTCMD_SEND_ANYWAY)
			c = &r->cmds->cmds[i];
	int64_t held = 0;
	enum hold_kind kind;
	int ret = hold_get_kind(h->store, ticket_id, &held, &kind, error_r);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		reply_error(r, "#send-anyway: no reply is held on this ticket");
		return 0;
	}
	int supervisor = is_supervisor(h, r, t, error_r);
	if (supervisor != 0)
		return supervisor < 0 ? supervisor : 0;
	if (kind == HOLD_GUARD) {
		reply_error(r, "line %u: #send-anyway: only a supervisor ([agent NAME] "
			       "supervisor = yes, or named by the ticket's [queue] or [sla] "
			       "supervisors) can release a held reply", c->line);
		return 0;
	}
	struct store_message *msgs = NULL;
	size_t n = 0;
	if ((ret = store_message_list(h->store, ticket_id, &msgs, &n, error_r)) < 0)
		return ret;
	int author = 0;
	for (size_t i = 0; i < n; i++)
		if (msgs[i].id == held && msgs[i].from_address != NULL)
			author = strcasecmp(msgs[i].from_address, r->from_address) == 0;
	store_messages_free(&msgs, n);
	if (!author)
		reply_error(r, "line %u: #send-anyway: only the author of the held answer or a "
			       "supervisor can release it", c->line);
	return 0;
}

static const struct agentcmd *
find_command(const struct agentcmd_list *l, enum agentcmd_kind kind)
{
	for (size_t i = 0; i < l->n_cmds; i++)
		if (l->cmds[i].kind == kind)
			return &l->cmds[i];
	return NULL;
}

int
reply_prepare(struct reply_handler *h, int64_t ticket_id, int64_t merged_from,
	      const struct mime_message *msg, int auto_reply, int64_t now,
	      struct reply **reply_r, const char **error_r)
{
	struct reply *r = xcalloc(1, sizeof(*r));
	struct store_ticket *t = NULL;
	struct quote_result q;
	const char *why;
	const char *text = msg->text != NULL ? msg->text : "";

	*reply_r = NULL;
	buf_init(&r->errors, 64 * 1024);
	r->from_address = xstrdup(msg->from.address != NULL ? msg->from.address : "");
	r->from = route_find_agent(h->route, msg->from.address);
	if (quote_strip(text, strlen(text), 0, &q, &why) == 0)
		r->stripped = q.text;
	else
		r->stripped = xstrdup(text); /* too many lines to strip: kept whole */
	r->cmds = agentcmd_parse(r->stripped, strlen(r->stripped));
	cut_signature(r->cmds->text, r->from);
	r->cmds->text_len = strlen(r->cmds->text);
	r->text = xstrdup(r->cmds->text);

	int ret = store_ticket_get(h->store, ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0) {
			*error_r = errf("reply: no ticket %lld", (long long)ticket_id);
			ret = STORE_DATA_BAD;
		}
		reply_free(&r);
		return ret;
	}
	if (auto_reply) {
		r->action = REPLY_AUTO;
	} else {
		check_commands(h, r, t);
		if ((ret = check_cc(h, r, t, error_r)) < 0 ||
		    (r->errors.len == 0 && (ret = check_merge(h, r, t, merged_from, error_r)) < 0)) {
			store_ticket_free(&t);
			reply_free(&r);
			return ret;
		}
		const struct agentcmd *canned = find_command(r->cmds, AGENTCMD_REPLY);
		if (canned != NULL && r->errors.len == 0 &&
		    (ret = add_canned(h, r, t, canned->arg, canned->line, error_r)) < 0) {
			store_ticket_free(&t);
			reply_free(&r);
			return ret;
		}
		int has_text = !text_blank(r->text);
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
		if (r->errors.len == 0 && r->send_anyway &&
		    (ret = check_release(h, r, t, error_r)) < 0) {
			store_ticket_free(&t);
			reply_free(&r);
			return ret;
		}
		if (r->errors.len > 0)
			r->action = REPLY_ERROR;
		else if (r->send_anyway)
			r->action = REPLY_COMMANDS; /* the supervisor's own words stay a note */
		else if (r->action == REPLY_RELAY &&
			 guard_check(h->config, r->text, r->held_why, sizeof(r->held_why))) {
			r->action = REPLY_HELD;
			(void)buf_printf(&r->errors, "  the reply was HELD by the outbound guard: %s\n",
					 r->held_why);
		} else if (r->action == REPLY_RELAY) {
			ret = collide_check(h->store, h->config, t, r->from_address, now, &r->collide,
					    error_r);
			if (ret < 0) {
				store_ticket_free(&t);
				reply_free(&r);
				return ret;
			}
			if (ret > 0) {
				r->action = REPLY_HELD;
				r->collision = 1;
				snprintf(r->held_why, sizeof(r->held_why), "collision: %s",
					 r->collide.why);
			}
		}
	}
	if (r->action == REPLY_RELAY && r->canned_path == NULL) {
		const char *hwhy = NULL;
		r->html = replyhtml_make(h->config, msg, r->stripped, r->cmds, r->from, &hwhy);
		if (hwhy != NULL)
			(void)snprintf(r->html_why, sizeof(r->html_why), "%s", hwhy);
	}
	r->store_text = xstrdup(r->action == REPLY_RELAY || r->action == REPLY_NOTE ||
						r->action == REPLY_HELD
					? r->text
					: r->stripped);
	store_ticket_free(&t);
	*reply_r = r;
	return 0;
}

const char *
reply_direction(const struct reply *reply)
{
	return reply->action == REPLY_RELAY ? "agent" : "note";
}

const char *
reply_text(const struct reply *reply)
{
	return reply->store_text;
}

const char *
reply_action(const struct reply *reply)
{
	return action_names[reply->action];
}

int
reply_closes(const struct reply *reply)
{
	if (reply->action == REPLY_ERROR || reply->action == REPLY_AUTO || reply->cmds == NULL)
		return 0;
	for (size_t i = 0; i < reply->cmds->n_cmds; i++)
		if (reply->cmds->cmds[i].kind == AGENTCMD_CLOSE ||
		    reply->cmds->cmds[i].kind == AGENTCMD_SOLVED)
			return 1;
	return 0;
}

void
reply_free(struct reply **replyp)
{
	struct reply *r = *replyp;
	if (r == NULL)
		return;
	free(r->stripped);
	agentcmd_list_free(&r->cmds);
	buf_free(&r->errors);
	free(r->from_address);
	free(r->text);
	free(r->canned_path);
	free(r->store_text);
	collide_clear(&r->collide);
	replyhtml_free(&r->html);
	free(r);
	*replyp = NULL;
}

static const char *
reply_who(const struct reply *r)
{
	return r->from != NULL ? route_agent_name(r->from) : r->from_address;
}

/* ---- doing what it says ------------------------------------------------------------- */

/* The errors back to the agent (with one more line, extra, when not
   NULL), Reply-To the agent address so that the corrected reply can simply
   be sent again. */
static int
mail_errors(struct reply_handler *h, const struct store_ticket *t, const struct hook_event *ev,
	    const struct reply *r, const char *extra, const char **error_r)
{
	const struct mime_message *msg = ev->msg;
	struct buf text;
	buf_init(&text, TEXT_MAX);
	(void)buf_printf(&text,
			 "Your mail about ticket #%lld was NOT applied and nothing was sent to the\n"
			 "customer:\n\n%s%s%s\n"
			 "It is kept on the ticket as an internal note. Correct it and send it\n"
			 "again (reply to this mail).\n\n%s",
			 (long long)t->id, buf_cstr(&r->errors), extra != NULL ? "  " : "",
			 extra != NULL ? extra : "", agent_rule_line);
	(void)buf_puts(&text, r->stripped);
	(void)buf_puts(&text, "\n");
	const char *to = r->from != NULL ? r->from->address : r->from_address;
	struct deskmail_msg *m = deskmail_start(h->dm, t->id, "error", DESKMAIL_REPLY_AGENT,
						"auto-replied", ev->now);
	deskmail_add_to(m, r->from != NULL ? r->from->name : NULL, to);
	deskmail_subject(m, "Not applied: ", t->subject);
	compose_set_text(deskmail_compose(m), buf_cstr(&text), text.len);
	deskmail_thread_msg(m, msg);
	buf_free(&text);
	struct deskmail_result res;
	const char *why;
	int ret = deskmail_queue(h->dm, &m, &res, &why, error_r);
	if (ret < 0)
		return ret;
	log_info("%s ticket=%lld: agent mail from %s not applied, errors mailed back", ev->logctx,
		 (long long)t->id, log_safe(to, 200));
	ret = event(h, t->id, "error", error_r,
		    "mail from agent %s not applied, nothing relayed; errors mailed back as outbox "
		    "#%lld:\n%s%s", to, (long long)res.outbox_id, buf_cstr(&r->errors),
		    extra != NULL ? extra : "");
	deskmail_result_clear(&res);
	return ret;
}

/* The agent learns that the reply was held, why, and how it can still go. */
static int
mail_held(struct reply_handler *h, const struct store_ticket *t, const struct hook_event *ev,
	  const struct reply *r, const char **error_r)
{
	return mail_errors(h, t, ev, r,
			   "Support never asks customers for their recovery phrase, private key,\n"
			   "  password or 2FA code: whoever has them can take the customer's funds.\n"
			   "  Rewrite the reply without the request and send it again. If it really\n"
			   "  must go as written, a supervisor can release it: reply to the ticket\n"
			   "  with a line \"#send-anyway\" (it is logged).\n",
			   error_r);
}

/* The author of an answer held by a collision is asked to confirm it. */
static int
mail_collision(struct reply_handler *h, const struct store_ticket *t,
	       const struct hook_event *ev, const struct reply *r, const char **error_r)
{
	int64_t id = 0;
	const char *to = r->from != NULL ? r->from->address : r->from_address;
	int ret = collide_mail(h->dm, t, r->from != NULL ? r->from->name : NULL, to, r->text,
			       &r->collide, ev->msg, ev->now, &id, error_r);
	if (ret < 0)
		return ret;
	return event(h, t->id, "held", error_r,
		     "confirmation request mailed to %s as outbox #%lld", to, (long long)id);
}

static int
set_field(struct reply_handler *h, struct store_ticket *t, const char *field,
	  const char **current, const char *value, const struct reply *r, const char *command,
	  const char **error_r)
{
	if (*current != NULL && value != NULL && strcasecmp(*current, value) == 0)
		return event(h, t->id, "agent", error_r, "#%s by %s: already %s", command,
			     r->from_address, value);
	int ret = store_ticket_set(h->store, t->id, field, value, error_r);
	if (ret < 0)
		return ret;
	ret = event(h, t->id, "agent", error_r, "#%s by %s: %s %s -> %s", command, r->from_address,
		    field, *current != NULL ? *current : "(none)", value != NULL ? value : "(none)");
	store_string_replace(current, value);
	return ret;
}

/* A short notification to agents who were just given the ticket. */
static int
notify_handover(struct reply_handler *h, const struct store_ticket *t, unsigned char *sel,
		const struct hook_event *ev, const struct reply *r, const char *prefix,
		const char *what, const char **error_r)
{
	route_unselect(h->route, sel, r->from_address);
	return agent_notify_handover(h->agent, t, sel, prefix, what, reply_who(r), ev, error_r);
}

static int relay(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
		 const char *text, int64_t att_row, int64_t *id_r, const char **error_r);
static int answered(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
		    const struct config_agent *author, const char *author_address,
		    const char *answer, const char **error_r);

/* #send-anyway: the held reply goes to the customer as it was written. */
static int
release_held(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
	     const struct reply *r, const char **error_r)
{
	struct store_message *msgs = NULL;
	size_t n = 0;
	int64_t row, id = 0;
	int ret = hold_get(h->store, t->id, &row, error_r);
	if (ret <= 0)
		return ret;
	if ((ret = store_message_list(h->store, t->id, &msgs, &n, error_r)) < 0)
		return ret;
	const struct store_message *held = NULL;
	for (size_t i = 0; i < n; i++)
		if (msgs[i].id == row)
			held = &msgs[i];
	if (held == NULL) {
		store_messages_free(&msgs, n);
		*error_r = errf("reply: held message %lld not on ticket %lld", (long long)row,
				(long long)t->id);
		return STORE_DATA_BAD;
	}
	ret = relay(h, t, ev, held->text != NULL ? held->text : "", row, &id, error_r);
	if (ret == 0 && id == 0)
		ret = mail_errors(h, t, ev, r,
				  "#send-anyway: the held reply could not be sent to the customer "
				  "(see the ticket's events)\n",
				  error_r);
	else if (ret == 0) {
		log_warnx("%s ticket=%lld: held reply (message %lld) by %s released by supervisor %s "
			  "with #send-anyway: outbox #%lld",
			  ev->logctx, (long long)t->id, (long long)row,
			  log_safe(held->from_address != NULL ? held->from_address : "?", 200),
			  log_safe(r->from_address, 200), (long long)id);
		if (held->from_address != NULL &&
		    outbox_set_author(h->store, id, held->from_address, error_r) < 0)
			ret = -1;
		if (ret == 0)
			ret = hold_release(h->store, t->id, r->from_address, id, error_r);
		/* the released answer counts as its author's, as if relayed then */
		const char *author = held->from_address != NULL ? held->from_address
								: r->from_address;
		if (ret == 0)
			ret = answered(h, t, ev, route_find_agent(h->route, author), author,
				       held->text != NULL ? held->text : "", error_r);
	}
	store_messages_free(&msgs, n);
	return ret;
}

/* #attachments: every attachment the customer side sent on the ticket,
   the dangerous ones included, to the agent who asked (up to the message
   size limit), with the ticket's verdicts on them. */
static int
send_attachments(struct reply_handler *h, const struct store_ticket *t,
		 const struct hook_event *ev, const struct reply *r, const char **error_r)
{
	struct store_message *msgs = NULL;
	struct store_event *evs = NULL;
	size_t n_msgs = 0, n_evs = 0, n_att = 0;
	/* counted as the relay counts them: base64 on the wire */
	uint64_t total = 0, max = compose_attachments_room(h->config->limits.max_message_size);
	struct buf text, skipped;
	int ret;

	if ((ret = store_message_list(h->store, t->id, &msgs, &n_msgs, error_r)) < 0)
		return ret;
	if ((ret = store_event_list(h->store, t->id, &evs, &n_evs, error_r)) < 0) {
		store_messages_free(&msgs, n_msgs);
		return ret;
	}
	buf_init(&text, TEXT_MAX);
	buf_init(&skipped, 64 * 1024);
	const char *to = r->from != NULL ? r->from->address : r->from_address;
	struct deskmail_msg *m = deskmail_start(h->dm, t->id, "notify", DESKMAIL_REPLY_AGENT,
						"auto-replied", ev->now);
	deskmail_add_to(m, r->from != NULL ? r->from->name : NULL, to);
	deskmail_subject(m, "Attachments: ", t->subject);
	struct compose *c = deskmail_compose(m);
	for (size_t i = 0; i < n_msgs && ret == 0; i++) {
		struct store_attachment *atts = NULL;
		size_t n = 0;
		if (strcmp(msgs[i].direction, "in") != 0)
			continue;
		ret = store_attachment_list(h->store, msgs[i].id, &atts, &n, error_r);
		for (size_t k = 0; k < n && ret == 0; k++) {
			uint64_t wire = compose_attachment_wire_size((size_t)atts[k].size);
			if (total + wire > max) {
				(void)buf_printf(&skipped, "  %s (too large for one mail)\n",
						 atts[k].filename != NULL ? atts[k].filename : "unnamed");
				continue;
			}
			unsigned char *data;
			size_t len;
			ret = store_blob_get(h->store, STORE_BLOB_ATTACHMENT, atts[k].sha256, &data, &len,
					     error_r);
			if (ret == 0) {
				compose_add_attachment(c, atts[k].filename, atts[k].content_type, data,
						       len);
				free(data);
				total += wire;
				n_att++;
			}
		}
		store_attachments_free(&atts, n);
	}
	if (ret < 0)
		goto out;
	(void)buf_printf(&text,
			 "The %zu attachment%s of ticket #%lld, sent because you asked with "
			 "#attachments.\n\n", n_att, n_att == 1 ? "" : "s", (long long)t->id);
	int warned = 0;
	for (size_t i = 0; i < n_evs; i++) {
		if (strcmp(evs[i].kind, "attachment") != 0)
			continue;
		if (!warned++)
			(void)buf_puts(&text, "WARNING: these were flagged as dangerous. Open them only "
					      "in a sandbox or a\nvirtual machine, never on your "
					      "desk computer:\n");
		(void)buf_printf(&text, "  %s\n", evs[i].detail);
	}
	if (skipped.len > 0)
		(void)buf_printf(&text, "\nNot attached:\n%s", buf_cstr(&skipped));
	compose_set_text(c, buf_cstr(&text), text.len);
	struct deskmail_result res = { 0 };
	const char *why;
	ret = deskmail_queue(h->dm, &m, &res, &why, error_r);
	if (ret >= 0) {
		log_info("%s ticket=%lld: #attachments by %s: %zu attachment%s mailed%s", ev->logctx,
			 (long long)t->id, log_safe(to, 200), n_att, n_att == 1 ? "" : "s",
			 warned ? ", dangerous ones included" : "");
		ret = event(h, t->id, "agent", error_r,
			    "#attachments by %s: %zu attachment%s mailed (outbox #%lld)%s", to, n_att,
			    n_att == 1 ? "" : "s", (long long)(ret > 0 ? res.outbox_id : 0),
			    warned ? ", dangerous ones included" : "");
		deskmail_result_clear(&res);
	}
out:
	if (m != NULL)
		deskmail_msg_free(&m);
	buf_free(&text);
	buf_free(&skipped);
	store_messages_free(&msgs, n_msgs);
	store_events_free(&evs, n_evs);
	return ret;
}

static int
apply_commands(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
	       const struct reply *r, const char **error_r)
{
	const struct config *config = h->config;
	for (size_t i = 0; i < r->cmds->n_cmds; i++) {
		const struct agentcmd *c = &r->cmds->cmds[i];
		const char *name = agentcmd_name(c->kind);
		int ret = 0;
		switch (c->kind) {
		case AGENTCMD_NOTE:
		case AGENTCMD_REPLY: /* its text is in r->text */
			break;
		case AGENTCMD_SEND_ANYWAY:
			ret = release_held(h, t, ev, r, error_r);
			break;
		case AGENTCMD_CC:
			ret = cclist_add(h->store, t, c->arg, r->from_address, error_r);
			break;
		case AGENTCMD_UNCC:
			ret = cclist_remove(h->store, t, c->arg, r->from_address, error_r);
			ret = ret < 0 ? ret : 0;
			break;
		case AGENTCMD_ATTACHMENTS:
			ret = send_attachments(h, t, ev, r, error_r);
			break;
		case AGENTCMD_MERGE:
			ret = merge_apply(h->merge, t, r->merge_into, r->merge_asked,
					  r->from_address, ev->logctx, ev->now, error_r);
			if (ret == 0)
				store_string_replace(&t->status, "closed");
			break;
		case AGENTCMD_HISTORY: {
			/* the whole ticket to the agent who asked, and to nobody else */
			unsigned char *sel = xcalloc(config->n_agents, 1);
			if (r->from != NULL) {
				sel[r->from - config->agents] = 1;
				ret = agent_notify_handover(h->agent, t, sel, "History: ",
							    "sent as asked", reply_who(r), ev,
							    error_r);
			}
			free(sel);
			break;
		}
		case AGENTCMD_CLOSE:
		case AGENTCMD_SOLVED:
			break; /* apply_close(), after the answer went */
		case AGENTCMD_PENDING: {
			const char *why = NULL;
			ret = pending_wait(h->pending, t->id, r->from_address, ev->now, &why, error_r);
			if (ret == 0)
				store_string_replace(&t->status, "pending");
			else if (ret > 0)
				ret = event(h, t->id, "error", error_r, "%s", why);
			break;
		}
		case AGENTCMD_SNOOZE: {
			const char *why = NULL;
			ret = pending_snooze(h->pending, t->id, r->from, c->arg, ev->now, NULL, &why,
					     error_r);
			if (ret > 0)
				ret = event(h, t->id, "error", error_r, "%s", why);
			break;
		}
		case AGENTCMD_REOPEN:
			ret = set_field(h, t, "status", &t->status,
					strcmp(t->status, "closed") == 0 ||
							strcmp(t->status, "pending") == 0
						? "open"
						: t->status,
					r, name, error_r);
			break;
		case AGENTCMD_PRIORITY:
			ret = set_field(h, t, "priority", &t->priority, c->arg, r, name, error_r);
			break;
		case AGENTCMD_CATEGORY: {
			/* The agent's category is a labelled example for the
			   rules (label.h), kept with the change. */
			char *before = t->category != NULL ? xstrdup(t->category) : NULL;
			ret = set_field(h, t, "category", &t->category, c->arg, r, name, error_r);
			if (ret == 0 && label_record(h->store, t, before, r->from_address,
						     error_r) < 0)
				ret = -1;
			free(before);
			break;
		}
		case AGENTCMD_QUEUE: {
			const char *q = route_queue(h->route, c->arg);
			int moved = t->queue == NULL || strcasecmp(t->queue, q) != 0;
			ret = set_field(h, t, "queue", &t->queue, q, r, name, error_r);
			if (ret == 0 && moved && t->assignee == NULL && config->n_agents > 0) {
				unsigned char *sel = xcalloc(config->n_agents, 1);
				if (route_select_queue(h->route, q, sel) > 0)
					ret = notify_handover(h, t, sel, ev, r, "Moved: ",
							      "moved to your queue", error_r);
				free(sel);
			}
			break;
		}
		case AGENTCMD_ASSIGN: {
			const struct config_agent *a = route_find_agent(h->route, c->arg);
			int changed = t->assignee == NULL || strcasecmp(t->assignee, a->address) != 0;
			ret = set_field(h, t, "assignee", &t->assignee, a->address, r, name, error_r);
			if (ret == 0 && changed && strcasecmp(a->address, r->from_address) != 0) {
				unsigned char *sel = xcalloc(config->n_agents, 1);
				sel[a - config->agents] = 1;
				ret = notify_handover(h, t, sel, ev, r, "Assigned: ", "assigned to you",
						      error_r);
				free(sel);
			}
			break;
		}
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* #solved or #close, once the rest of the mail was done (the customer gets
   the answer before the notice that the ticket is solved). */
static int
apply_close(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
	    const struct reply *r, const char **error_r)
{
	for (size_t i = 0; i < r->cmds->n_cmds; i++) {
		enum agentcmd_kind kind = r->cmds->cmds[i].kind;
		if (kind != AGENTCMD_CLOSE && kind != AGENTCMD_SOLVED)
			continue;
		int ret = pending_solve(h->pending, t->id,
					kind == AGENTCMD_SOLVED ? "solved" : "closed", "agent",
					r->from_address, ev->now, error_r);
		if (ret < 0)
			return ret;
		store_string_replace(&t->status, "closed");
	}
	return 0;
}

/* The attachments of a stored message, added to c. */
static int
attach_row(struct reply_handler *h, struct compose *c, int64_t row, const char **error_r)
{
	struct store_attachment *atts = NULL;
	size_t n = 0;
	int ret = store_attachment_list(h->store, row, &atts, &n, error_r);
	for (size_t i = 0; i < n && ret == 0; i++) {
		unsigned char *data;
		size_t len;
		ret = store_blob_get(h->store, STORE_BLOB_ATTACHMENT, atts[i].sha256, &data, &len,
				     error_r);
		if (ret == 0) {
			compose_add_attachment(c, atts[i].filename, atts[i].content_type, data, len);
			free(data);
		}
	}
	store_attachments_free(&atts, n);
	return ret;
}

/* text to the customer, in the customer's thread, with the attachments
   of the agent's mail (ev->msg), or of the stored message att_row. */
static int
relay(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
      const char *text, int64_t att_row, int64_t *id_r, const char **error_r)
{
	const struct mime_message *msg = ev->msg;
	struct store_message *msgs = NULL;
	struct store_participant *parts = NULL;
	size_t n_msgs = 0, n_parts = 0;
	int ret = -1;

	*id_r = 0;
	if ((ret = store_message_list(h->store, t->id, &msgs, &n_msgs, error_r)) < 0 ||
	    (ret = store_participant_list(h->store, t->id, &parts, &n_parts, error_r)) < 0)
		goto out;
	/* The customer side's newest message is the one answered. */
	const struct store_message *last = NULL;
	for (size_t i = 0; i < n_msgs; i++)
		if (strcmp(msgs[i].direction, "in") == 0 && msgs[i].message_id != NULL)
			last = &msgs[i];

	struct deskmail_msg *m = deskmail_start(h->dm, t->id, "relay", DESKMAIL_REPLY_CUSTOMER,
						NULL, ev->now);
	deskmail_add_to(m, t->customer_name, t->customer_address);
	deskmail_subject_reply(m, t->subject);
	for (size_t i = 0; i < n_parts; i++) {
		const struct store_participant *p = &parts[i];
		/* deskmail leaves out our own addresses */
		if (strcmp(p->role, "cc") != 0 || strcasecmp(p->address, t->customer_address) == 0 ||
		    route_find_agent(h->route, p->address) != NULL)
			continue;
		deskmail_add_cc(m, p->name, p->address);
	}
	if (last != NULL)
		deskmail_thread_string(m, last->message_id, last->references);
	struct compose *c = deskmail_compose(m);
	compose_set_text(c, text, strlen(text));
	/* the agent's own mail (not a held one released): its HTML too */
	const struct replyhtml *html = att_row == 0 && ev->reply != NULL ? ev->reply->html : NULL;
	if (html != NULL)
		replyhtml_compose(html, msg, c);
	for (size_t i = 0; att_row == 0 && html == NULL && i < msg->n_attachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		compose_add_attachment(c, a->filename, a->content_type, a->data, a->size);
	}
	if (att_row != 0 && (ret = attach_row(h, c, att_row, error_r)) < 0) {
		deskmail_msg_free(&m);
		goto out;
	}
	struct deskmail_result res;
	const char *why;
	ret = deskmail_queue(h->dm, &m, &res, &why, error_r);
	if (ret > 0)
		*id_r = res.outbox_id;
	deskmail_result_clear(&res);
	ret = ret < 0 ? ret : 0;
out:
	store_messages_free(&msgs, n_msgs);
	store_participants_free(&parts, n_parts);
	return ret;
}

/* The other agents of the queue (and the assignee) learn that the ticket
   was answered, so that two people do not answer at once. */
static int
notice_others(struct reply_handler *h, const struct store_ticket *t, const struct hook_event *ev,
	      const char *who, const char *from_address, const char *answer, const char **error_r)
{
	const struct config *config = h->config;
	if (config->n_agents == 0)
		return 0;
	unsigned char *sel = xcalloc(config->n_agents, 1);
	(void)route_select_ticket(h->route, t->queue, sel);
	const struct config_agent *assignee = route_find_agent(h->route, t->assignee);
	if (assignee != NULL)
		sel[assignee - config->agents] = 1;
	route_unselect(h->route, sel, from_address);

	char when[96];
	agent_time_string(h->agent, ev->now, when, sizeof(when));
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
				 (long long)t->id, who, from_address, when, t->status,
				 t->priority, t->assignee != NULL ? ", assigned to " : "",
				 t->assignee != NULL ? t->assignee : "", agent_rule_line);
		(void)buf_puts(&text, answer);
		(void)buf_puts(&text, "\n");
		struct deskmail_msg *m = deskmail_start(h->dm, t->id, "notice", DESKMAIL_REPLY_AGENT,
							"auto-generated", ev->now);
		deskmail_add_to(m, a->name, a->address);
		deskmail_subject(m, "Answered: ", t->subject);
		deskmail_thread_agents(m, NULL);
		compose_set_text(deskmail_compose(m), buf_cstr(&text), text.len);
		struct deskmail_result res;
		const char *why;
		ret = deskmail_queue(h->dm, &m, &res, &why, error_r);
		if (ret > 0)
			(void)buf_printf(&sent, "%s%s (outbox #%lld)", sent.len > 0 ? ", " : "",
					 a->address, (long long)res.outbox_id);
		deskmail_result_clear(&res);
		ret = ret < 0 ? ret : 0;
	}
	if (ret == 0 && sent.len > 0)
		ret = event(h, t->id, "notice", error_r, "answered by %s: notice queued to %s",
			    from_address, buf_cstr(&sent));
	buf_free(&text);
	buf_free(&sent);
	free(sel);
	return ret;
}

/* What an answer that reached the customer does to the ticket, whether it
   was relayed at once or released from a hold with #send-anyway: the
   first response is stamped, the agent who answered first (author, a
   configured agent, or NULL) is the assignee, a new ticket is open, and
   the other agents get the "Answered:" notice with the answer. */
static int
answered(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
	 const struct config_agent *author, const char *author_address, const char *answer,
	 const char **error_r)
{
	int ret = 0;
	if (t->first_response_at == 0)
		ret = store_ticket_set_time(h->store, t->id, "first_response_at", ev->now, error_r);
	if (ret == 0 && t->assignee == NULL && author != NULL) {
		ret = store_ticket_set(h->store, t->id, "assignee", author->address, error_r);
		if (ret == 0) {
			store_string_replace(&t->assignee, author->address);
			ret = event(h, t->id, "agent", error_r, "assigned to %s, who answered first",
				    author->address);
		}
	}
	if (ret == 0 && strcmp(t->status, "new") == 0) {
		ret = store_ticket_set(h->store, t->id, "status", "open", error_r);
		if (ret == 0)
			store_string_replace(&t->status, "open");
	}
	if (ret == 0)
		ret = notice_others(h, t, ev,
				    author != NULL ? route_agent_name(author) : author_address,
				    author_address, answer, error_r);
	return ret;
}

static int
apply_relay(struct reply_handler *h, struct store_ticket *t, const struct hook_event *ev,
	    const struct reply *r, const char **error_r)
{
	int64_t id = 0;
	int ret = apply_commands(h, t, ev, r, error_r);
	if (ret == 0)
		ret = relay(h, t, ev, r->text, 0, &id, error_r);
	if (ret < 0)
		return ret;
	if (id == 0) {
		/* Not queued (e.g. a customer address compose refuses): the
		   agent must know it did not go out. */
		return mail_errors(h, t, ev, r,
				   "the reply could not be sent to the customer (see the ticket's "
				   "events); nothing was sent\n",
				   error_r);
	}
	const struct mime_message *msg = ev->msg;
	log_info("%s ticket=%lld: reply by agent %s relayed as outbox #%lld%s%s", ev->logctx,
		 (long long)t->id, log_safe(r->from_address, 200), (long long)id,
		 r->html != NULL ? " with its HTML" : r->html_why[0] != '\0' ? ", text alone: " : "",
		 r->html_why);
	/* the agent is told if the customer cannot be reached */
	if (outbox_set_author(h->store, id, r->from_address, error_r) < 0)
		return -1;
	ret = event(h, t->id, "relay", error_r,
		    "reply by agent %s relayed to the customer as outbox #%lld (%zu attachment%s)%s%s",
		    r->from_address, (long long)id, msg->n_attachments,
		    msg->n_attachments == 1 ? "" : "s", r->canned_path != NULL ? ", canned reply " : "",
		    r->canned_path != NULL ? r->canned_path : "");
	if (ret == 0)
		ret = answered(h, t, ev, r->from, r->from_address, r->text, error_r);
	if (ret == 0)
		ret = apply_close(h, t, ev, r, error_r);
	return ret;
}

int
reply_step(void *handler, struct hook_event *ev, const char **error_r)
{
	struct reply_handler *h = handler;
	const struct reply *r = ev->reply;
	struct store_ticket *t = NULL;
	if (r == NULL)
		return 0;
	int ret = store_ticket_get(h->store, ev->ticket_id, &t, error_r);
	if (ret <= 0) {
		if (ret == 0) {
			*error_r = errf("reply: no ticket %lld", (long long)ev->ticket_id);
			ret = STORE_DATA_BAD;
		}
		return ret;
	}
	switch (r->action) {
	case REPLY_AUTO:
		ret = event(h, t->id, "note", error_r,
			    "automatic reply from agent %s kept as a note, not relayed",
			    r->from_address);
		break;
	case REPLY_ERROR:
		ret = mail_errors(h, t, ev, r, NULL, error_r);
		break;
	case REPLY_HELD:
		/* The outbound guard: nothing applied, nothing relayed; the agent
		   is told why, a supervisor may release it. */
		log_warnx("%s ticket=%lld: reply by agent %s held, not sent: %s", ev->logctx,
			  (long long)t->id, log_safe(r->from_address, 200), r->held_why);
		ret = hold_put(h->store, t->id, ev->message_row_id,
			       r->collision ? HOLD_COLLISION : HOLD_GUARD, r->held_why,
			       r->from_address, error_r);
		if (ret == 0 && r->collision)
			ret = mail_collision(h, t, ev, r, error_r);
		else if (ret == 0)
			ret = mail_held(h, t, ev, r, error_r);
		break;
	case REPLY_NOTE:
	case REPLY_COMMANDS:
		ret = apply_commands(h, t, ev, r, error_r);
		if (ret == 0)
			ret = apply_close(h, t, ev, r, error_r);
		if (ret == 0)
			ret = event(h, t->id, "note", error_r, "%s by %s, not relayed",
				    r->action == REPLY_NOTE ? "internal note" : "commands only",
				    r->from_address);
		break;
	case REPLY_RELAY:
		ret = apply_relay(h, t, ev, r, error_r);
		break;
	}
	store_ticket_free(&t);
	return ret;
}
