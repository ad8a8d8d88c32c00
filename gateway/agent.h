/*
 * agent: the agents' side of a ticket, worked entirely by mail
 * (docs/threading.md, "Agents by mail").
 *
 * - A new ticket: a notification to the agents of its queue, From the
 *   support address, Reply-To the ticket's signed agent reply address, with
 *   a summary block (ticket, category, priority, queue, fields, rules
 *   fired, the customer's earlier tickets, the promised response time in
 *   the desk's zone), the customer's text and attachments (read back from
 *   the store).
 * - A customer's (or cc's) follow-up: a short notification to the
 *   assignee, else to the queue's agents.
 * - A trusted agent's reply (thread_resolve() said THREAD_ROLE_AGENT with
 *   agent_trusted): quote_strip(), then agentcmd_parse(). With an error in
 *   the commands nothing is applied or relayed, the text is kept as a note
 *   and the errors are mailed back to the agent. #note is kept, never
 *   relayed. Otherwise the commands are applied and the visible text (with
 *   the attachments) is relayed to the customer from the support address,
 *   in the customer's thread, Reply-To the customer's signed address; the
 *   agent's own address appears nowhere in it. The first answer sets
 *   first_response_at (and makes its agent the assignee when there is
 *   none); the queue's other agents get a short notice.
 *
 * The queue of a ticket: the rules' queue when it is configured, else the
 * VIP queue ([queue NAME] vip = yes) for a sender the rules' `vip`
 * condition selects ([rules] vip_senders), else the queue whose categories
 * include the ticket's category, else every agent. A queue's agents are
 * those its `agents` key names and those whose `queues` key names it.
 *
 * Transactions: every function here writes inside the caller's transaction
 * (ingest's unit for the message) and queues mail with outbox_queue(), so a
 * notification or relay is committed exactly when its cause is. Mail that
 * cannot be composed (an address compose refuses) is an event on the ticket
 * and a log line, never an error: the caller's message is still stored.
 * -1 means the store failed.
 *
 * Outbox kinds: "notify" (new ticket, follow-up), "relay" (to the
 * customer), "notice" (to the other agents), "error" (to the agent).
 * Events on the ticket: "notify", "relay", "notice", "agent" (a command
 * applied), "note", "error".
 *
 * Ownership: agent_new() borrows config, tc, store and hours (NULL: no
 * promised times), which must outlive the struct agent; agent_free()
 * frees it. A struct agent_reply is the caller's, freed with
 * agent_reply_free(); the strings its accessors return belong to it.
 */
#ifndef DG_AGENT_H
#define DG_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/thread.h"

struct config;
struct hours;
struct mime_message;
struct rules_result;
struct store;
struct agent;
struct agent_reply;

/* -1 with *error_r when [agent]/[queue] sections contradict each other
   (a queue naming an agent that has no [agent NAME] section). */
int agent_new(const struct config *config, const struct thread_config *tc, struct store *store,
	      const struct hours *hours, struct agent **agent_r, const char **error_r);
void agent_free(struct agent **agentp);

/* A message stored on a ticket (ingest has written its row). */
struct agent_inbound {
	int64_t ticket_id;
	int64_t message_row_id;		  /* its row in messages */
	const struct mime_message *msg;
	enum thread_role role;		  /* the sender's role on the ticket */
	const struct rules_result *rules; /* a new ticket's classification, or NULL */
	int auto_reply;			  /* an automatic reply (out of office) */
	int duplicate;			  /* the same text again (not acknowledged) */
	int reopened;			  /* it reopened the closed ticket */
	int64_t now;
};

/* The notification of a new ticket to the agents of its queue; also sets
   the ticket's queue when it had none and one was found. Nothing is sent
   when no agent is configured. */
int agent_notify_new_ticket(struct agent *agent, const struct agent_inbound *in,
			    const char **error_r);

/* A customer-side message on an existing ticket: a short notification to
   the assignee, else to the queue's agents. Agent mail, automatic replies
   and the same text again are not notified. */
int agent_notify_update(struct agent *agent, const struct agent_inbound *in,
			const char **error_r);

/* ---- an agent's reply ---------------------------------------------------- */

/* Read a trusted agent's mail for ticket_id before it is stored: strip
   the quoted history (and signature), read the commands and check them
   against the configuration and the ticket. auto_reply: the mail is an
   automatic reply (never relayed, no error mail). 0 with *reply_r, -1
   when the store failed. */
int agent_reply_prepare(struct agent *agent, int64_t ticket_id, const struct mime_message *msg,
			int auto_reply, struct agent_reply **reply_r, const char **error_r);
/* How to store the message: direction "agent" (it will be relayed) or
   "note", and its text (the visible text without commands for "agent";
   the note's text; what the agent wrote, quotes stripped, otherwise). */
const char *agent_reply_direction(const struct agent_reply *reply);
const char *agent_reply_text(const struct agent_reply *reply);
/* "relay", "note", "commands" (only commands, nothing to relay), "error"
   (nothing applied, the errors mailed back) or "auto-reply", for logs and
   tests. */
const char *agent_reply_action(const struct agent_reply *reply);

/* After the message row is stored (in->message_row_id): apply the
   commands, queue the relay and the notices, or mail the errors back. */
int agent_reply_apply(struct agent *agent, const struct agent_inbound *in,
		      const struct agent_reply *reply, const char **error_r);
void agent_reply_free(struct agent_reply **replyp);

#endif
