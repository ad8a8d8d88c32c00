/*
 * desklist: see desklist.h. The texts are English: they go to the desk's
 * own staff.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/agent.h"
#include "gateway/compose.h"
#include "gateway/config.h"
#include "gateway/deskmail.h"
#include "gateway/desklist.h"
#include "gateway/hook.h"
#include "gateway/log.h"
#include "gateway/route.h"
#include "gateway/store.h"
#include "gateway/thread.h"
#include "parsers/agentcmd.h"
#include "parsers/mime.h"
#include "parsers/quote.h"
#include "base/util.h"

#define TEXT_MAX (4 * 1024 * 1024)
/* Bytes of a subject shown in a list (cut on a character boundary). */
#define SUBJECT_MAX 120

struct desklist {
	const struct config *config;
	struct store *store;
	struct deskmail *dm;
	const struct route *route;
	const struct thread_config *tc;
	const struct agent *agent;
};

struct desklist *
desklist_new(const struct config *config, struct store *store, struct deskmail *dm,
	     const struct route *route, const struct thread_config *tc, const struct agent *agent)
{
	struct desklist *dl = xcalloc(1, sizeof(*dl));
	dl->config = config;
	dl->store = store;
	dl->dm = dm;
	dl->route = route;
	dl->tc = tc;
	dl->agent = agent;
	return dl;
}

void
desklist_free(struct desklist **dlp)
{
	x_free(dlp);
}

/* One entry of the list. */
static void
put_ticket(const struct desklist *dl, struct buf *b, const struct store_ticket *t, int64_t now)
{
	char due[96] = "";
	if (t->due_at > 0 && t->first_response_at == 0) {
		agent_time_string(dl->agent, t->due_at, due, sizeof(due));
	}
	const char *subject = t->subject != NULL ? t->subject : "(no subject)";
	size_t slen = strlen(subject);
	int cut = 0;
	if (slen > SUBJECT_MAX) {
		slen = utf8_truncate_len(subject, SUBJECT_MAX);
		cut = 1;
	}
	char *customer = deskmail_display_name(t->customer_name);
	char *reply = thread_reply_address(dl->tc, t->id, THREAD_ROLE_AGENT);
	(void)buf_printf(b, "#%lld  %s, %s%s%s%s%s\n", (long long)t->id, t->priority, t->status,
			 t->assignee != NULL ? ", assigned to " : "",
			 t->assignee != NULL ? t->assignee : "", due[0] != '\0' ? ", answer due " : "",
			 due);
	if (due[0] != '\0' && t->due_at < now)
		(void)buf_puts(b, "     OVERDUE\n");
	(void)buf_printf(b, "     %.*s%s\n", (int)slen, subject, cut ? "..." : "");
	(void)buf_printf(b, "     from %s%s%s%s, %lld message%s\n", customer != NULL ? customer : "",
			 customer != NULL ? " <" : "",
			 t->customer_address != NULL ? t->customer_address : "(no address)",
			 customer != NULL ? ">" : "", (long long)t->n_messages,
			 t->n_messages == 1 ? "" : "s");
	(void)buf_printf(b, "     answer: %s\n\n", reply);
	free(reply);
	free(customer);
}

/* Queue text to the agent a (never anyone else), threaded to the
   request. 1 queued (*id_r), 0 refused (logged by deskmail), < 0 store. */
static int
mail_agent(struct desklist *dl, const struct hook_event *ev, const struct config_agent *a,
	   const char *subject, const char *text, int64_t *id_r, const char **error_r)
{
	struct deskmail_msg *m = deskmail_start(dl->dm, 0, "desk", DESKMAIL_REPLY_NONE,
						"auto-replied", ev->now);
	deskmail_add_to(m, a->name, a->address);
	deskmail_subject_as_is(m, subject);
	compose_set_text(deskmail_compose(m), text, strlen(text));
	deskmail_thread_msg(m, ev->msg);
	struct deskmail_result res = { 0 };
	const char *why;
	int ret = deskmail_queue(dl->dm, &m, &res, &why, error_r);
	*id_r = ret > 0 ? res.outbox_id : 0;
	deskmail_result_clear(&res);
	return ret;
}

static const char *const kind_names[] = {
	[AGENTCMD_DESK_MY] = "#my",
	[AGENTCMD_DESK_QUEUE] = "#queue",
	[AGENTCMD_DESK_OVERDUE] = "#overdue",
};

/* Build and queue the list of a valid request. */
static int
answer(struct desklist *dl, struct hook_event *ev, const struct config_agent *a,
       enum agentcmd_desk kind, const char *queue, const char **error_r)
{
	struct store_ticket *list = NULL;
	size_t n = 0;
	enum store_desk_list which = kind == AGENTCMD_DESK_MY      ? STORE_DESK_ASSIGNED
				     : kind == AGENTCMD_DESK_QUEUE ? STORE_DESK_QUEUE
								   : STORE_DESK_OVERDUE;
	const char *arg = kind == AGENTCMD_DESK_MY ? a->address : queue;
	int ret = store_ticket_list_desk(dl->store, which, arg, ev->now, DESKLIST_MAX + 1, &list, &n,
					 error_r);
	if (ret < 0)
		return ret;
	size_t shown = n > DESKLIST_MAX ? DESKLIST_MAX : n;
	const char *tickets = shown == 1 ? "ticket" : "tickets";
	char title[200];
	if (kind == AGENTCMD_DESK_MY)
		snprintf(title, sizeof(title), "open %s assigned to %s", tickets, a->address);
	else if (kind == AGENTCMD_DESK_QUEUE)
		snprintf(title, sizeof(title), "open %s of queue %s", tickets, queue);
	else
		snprintf(title, sizeof(title), "open %s whose first answer is overdue", tickets);
	char when[96];
	agent_time_string(dl->agent, ev->now, when, sizeof(when));

	/* "#my: 3 open tickets assigned to a@b", "#queue payments: 2 ..." */
	char *subject = xasprintf("%s%s%s: %zu%s %s", kind_names[kind],
				  kind == AGENTCMD_DESK_QUEUE ? " " : "",
				  kind == AGENTCMD_DESK_QUEUE ? queue : "", shown,
				  n > DESKLIST_MAX ? "+" : "", title);
	struct buf text;
	buf_init(&text, TEXT_MAX);
	(void)buf_printf(&text, "%s.\n\nAs of %s.\nTo answer a ticket, write to its \"answer\" "
				"address: your mail is then\na reply to that ticket, commands "
				"included.\n\n",
			 subject, when);
	(void)buf_puts(&text, agent_rule_line);
	(void)buf_puts(&text, "\n");
	if (n == 0)
		(void)buf_puts(&text, "Nothing: no open ticket matches.\n\n");
	for (size_t i = 0; i < shown; i++)
		put_ticket(dl, &text, &list[i], ev->now);
	if (n > DESKLIST_MAX)
		(void)buf_printf(&text, "More than %d: only the %d most urgent are listed.\n\n",
				 DESKLIST_MAX, DESKLIST_MAX);
	(void)buf_puts(&text, agent_rule_line);
	(void)buf_puts(&text, "Requests (a new mail to the support address, first line):\n"
			      "#my, #queue NAME, #overdue.\n");
	int64_t id = 0;
	ret = mail_agent(dl, ev, a, subject, buf_cstr(&text), &id, error_r);
	if (ret >= 0)
		snprintf(ev->handled, sizeof(ev->handled),
			 "desk request %s%s%s by %s: %zu ticket%s listed, %s", kind_names[kind],
			 queue != NULL ? " " : "", queue != NULL ? queue : "", a->address, shown,
			 shown == 1 ? "" : "s", id > 0 ? "mailed" : "not mailed (refused by deskmail)");
	if (ret >= 0)
		log_info("%s: desk request %s by %s: %zu tickets listed (outbox #%lld)", ev->logctx,
			 kind_names[kind], log_safe(a->address, 200), shown, (long long)id);
	free(subject);
	buf_free(&text);
	store_tickets_free(&list, n);
	return ret < 0 ? ret : 0;
}

/* A request the desk cannot answer: why, mailed to the agent. */
static int
answer_error(struct desklist *dl, struct hook_event *ev, const struct config_agent *a,
	     const char *why, const char **error_r)
{
	char *text = xasprintf("Your request to the desk was not understood:\n\n  %s\n\n"
			       "Requests (a new mail to the support address, first line):\n"
			       "#my, #queue NAME, #overdue.\n",
			       why);
	int64_t id = 0;
	int ret = mail_agent(dl, ev, a, "Not understood: desk request", text, &id, error_r);
	free(text);
	if (ret >= 0)
		snprintf(ev->handled, sizeof(ev->handled), "desk request by %s not understood: %s",
			 a->address, why);
	return ret < 0 ? ret : 0;
}

int
desklist_step(void *desklist, struct hook_event *ev, const char **error_r)
{
	struct desklist *dl = desklist;
	const struct mime_message *msg = ev->msg;
	/* only a new mail; one that misused a ticket's signed reply address
	   stays a stranger's ticket (threading's security event). Threading
	   also flags every agent From at the support address, which is what
	   a request is: the authentication below decides for those. */
	if (ev->decision == NULL || ev->decision->ticket_id != 0 ||
	    ev->decision->event_ticket != 0 || msg->from.address == NULL)
		return 0;
	const struct config_agent *a = route_find_agent(dl->route, msg->from.address);
	if (a == NULL || strcasecmp(a->address, msg->from.address) != 0)
		return 0;

	const char *text = msg->text != NULL ? msg->text : "";
	struct quote_result q;
	const char *why;
	if (quote_strip(text, strlen(text), 0, &q, &why) < 0)
		return 0; /* too long to be a request: an ordinary mail */
	char *queue = NULL;
	enum agentcmd_desk kind = agentcmd_desk_parse(q.text, q.len, &queue, &why);
	free(q.text);
	if (kind == AGENTCMD_DESK_NONE)
		return 0;

	int ret = 0;
	const char *auth_why = NULL;
	if (!thread_agent_authentic(dl->tc, msg, 0, &auth_why)) {
		/* Not the agent as far as we can tell: no answer to anyone, no
		   ticket either (it asked the desk, it is not a customer's). */
		log_warnx("%s: desk request from %s not answered: %s", ev->logctx,
			  log_safe(msg->from.address, 200), auth_why);
		snprintf(ev->handled, sizeof(ev->handled),
			 "desk request from %s not answered (security): %s", msg->from.address,
			 auth_why);
	} else if (kind == AGENTCMD_DESK_QUEUE && route_queue(dl->route, queue) == NULL) {
		char *err = xasprintf("#queue %s: no such queue", queue);
		ret = answer_error(dl, ev, a, err, error_r);
		free(err);
	} else if (kind == AGENTCMD_DESK_BAD) {
		ret = answer_error(dl, ev, a, why, error_r);
	} else {
		ret = answer(dl, ev, a, kind,
			     kind == AGENTCMD_DESK_QUEUE ? route_queue(dl->route, queue) : NULL,
			     error_r);
	}
	free(queue);
	return ret;
}
