/*
 * agent: what the agents are told about a ticket, by mail
 * (docs/threading.md, "Agents by mail"). Who is told is route's decision;
 * how the mail looks is deskmail's; this module writes the notifications:
 *
 * - A new ticket: to the agents of its queue, a summary block (ticket,
 *   category, priority, queue and why, fields, rules fired, the customer's
 *   earlier tickets, the promised response time in the desk's zone), the
 *   customer's text and attachments (read back from the store). The queue
 *   found is stored on the ticket.
 * - A customer's (or cc's) follow-up: a short notification to the
 *   assignee, else to the queue's agents. Agent mail, automatic replies and
 *   the same text again notify nobody.
 * - A handover (#assign, #queue): the new assignee or queue is told, with
 *   the summary, the whole ticket so far and its attachments
 *   (agent_notify_handover(), for the reply module).
 *
 * Every mail is From the support address, Reply-To the ticket's signed
 * agent address, Auto-Submitted: auto-generated, threaded under the
 * customer's message. The texts are English and written here: they go to
 * the desk's own staff, not to customers.
 *
 * Transactions: everything is written inside the caller's transaction
 * (ingest's unit for the message) and queued with deskmail, so a
 * notification is committed exactly when its cause is. -1 means the store
 * failed.
 *
 * Ownership: agent_new() borrows config, store, deskmail, route and hours
 * (NULL: no promised times), which must outlive it.
 */
#ifndef DG_AGENT_H
#define DG_AGENT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct deskmail;
struct hook_event;
struct hours;
struct route;
struct store;
struct store_ticket;
struct agent;

struct agent *agent_new(const struct config *config, struct store *store, struct deskmail *dm,
			const struct route *route, const struct hours *hours);
void agent_free(struct agent **agentp);

/* The HOOK_STORED step "agents" (context: a struct agent): a new ticket's
   notification, or a follow-up's; agent mail is the replies step's. */
int agent_step(void *agent, struct hook_event *ev, const char **error_r);

/* Tell the agents marked in sel (one flag per configured agent) that
   ticket t was handed to them: the headline "Ticket #N <what> by <who>.",
   the summary, then the whole ticket so far (the customer's mails, the
   agents' answers and notes, oldest first, quotes and signatures
   stripped; the mail that handed it over is the newest) and every
   attachment of the ticket while they fit in [limits]
   max_message_size (the others are listed). subject_prefix: "Assigned: ",
   "Moved: ". ev: the agent's mail that did it. */
int agent_notify_handover(struct agent *agent, const struct store_ticket *t,
			  const unsigned char *sel, const char *subject_prefix, const char *what,
			  const char *who, const struct hook_event *ev, const char **error_r);

/* t as people read it in the desk's zone: "Tue 2025-03-04 18:00 +0800
   (Asia/Shanghai)", or UTC without [hours]. */
void agent_time_string(const struct agent *agent, int64_t t, char *out, size_t size);

/* The help on replying and commands that closes every notification. */
extern const char agent_help_text[];
/* The rule between the summary and the quoted text. */
extern const char agent_rule_line[];

#endif
