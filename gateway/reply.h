/*
 * reply: an agent's mail about a ticket (docs/threading.md, "An agent's
 * reply"). Only mail that thread_resolve() trusts as agent mail (the
 * signed agent reply address and a configured agent From) gets here.
 *
 * Before the message is stored, reply_prepare() reads it: the quoted
 * history and signature are stripped (quote_strip()), the command lines
 * are read (agentcmd_parse()) and checked against the configuration and
 * the ticket. The outcome decides what is stored:
 * - errors (an unknown or malformed command, a category, queue or agent
 *   that does not exist, an empty reply, a ticket without a customer):
 *   nothing is applied or relayed, the text is kept as a note and the
 *   errors are mailed back to the agent;
 * - #note: the commands are applied, the text is kept as a note;
 * - only commands: applied, kept as a note, nothing relayed;
 * - an automatic reply of the agent (out of office): a note, nothing else;
 * - a reply that asks the customer for a secret (guard.h): held, a note,
 *   nothing applied or relayed, the agent told why; a supervisor's
 *   #send-anyway relays the held text later (hold.h);
 * - an answer that collides with another agent's (collide.h): held the
 *   same way, the agent asked to confirm with #send-anyway (the author or
 *   a supervisor releases it);
 * - otherwise a reply: the commands are applied and the visible text (with
 *   the attachments) is relayed to the customer from the support address,
 *   in the customer's thread, Reply-To the customer's signed address; the
 *   agent's own address appears nowhere in it. The first answer sets
 *   first_response_at (and makes its agent the assignee when there is
 *   none); the queue's other agents get a notice.
 * After the message row is written, the HOOK_STORED step "replies"
 * (reply_step()) does what was decided, inside the message's transaction.
 *
 * Outbox kinds: "relay" (to the customer), "notice" (to the other
 * agents), "error" (to the agent), "notify" (a handover, or the whole
 * ticket for #history). Events on the
 * ticket: "relay", "notice", "agent" (a command applied), "note", "error",
 * "held", "released".
 *
 * Ownership: reply_handler_new() borrows everything it is given, which
 * must outlive it. A struct reply is the caller's, freed with
 * reply_free(); the strings its accessors return belong to it.
 */
#ifndef DG_REPLY_H
#define DG_REPLY_H

#include <stdint.h>

struct agent;
struct config;
struct deskmail;
struct hook_event;
struct mime_message;
struct route;
struct store;
struct reply;
struct reply_handler;

struct reply_handler *reply_handler_new(const struct config *config, struct store *store,
					struct deskmail *dm, const struct route *route,
					struct agent *agent);
void reply_handler_free(struct reply_handler **hp);

/* Read a trusted agent's mail for ticket_id before it is stored.
   merged_from: the ticket the mail was addressed to when threading
   followed its merge to ticket_id (thread_decision.merged_from), else 0.
   auto_reply: the mail is an automatic reply (never relayed, no error
   mail). now: when it arrived (collisions, collide.h). 0 with *reply_r,
   -1 when the store failed. */
int reply_prepare(struct reply_handler *h, int64_t ticket_id, int64_t merged_from,
		  const struct mime_message *msg, int auto_reply, int64_t now,
		  struct reply **reply_r, const char **error_r);
/* How to store the message: direction "agent" (it will be relayed) or
   "note", and its text (the visible text without commands for "agent";
   the note's text; what the agent wrote, quotes stripped, otherwise). */
const char *reply_direction(const struct reply *reply);
const char *reply_text(const struct reply *reply);
/* "relay", "note", "commands" (only commands, nothing to relay), "error"
   (nothing applied, the errors mailed back), "auto-reply" or "held", for
   logs and tests. */
const char *reply_action(const struct reply *reply);
/* 1 when the reply's commands, applied, close the ticket (#close). */
int reply_closes(const struct reply *reply);
void reply_free(struct reply **replyp);

/* The HOOK_STORED step "replies" (context: a struct reply_handler): for
   ev->reply, apply the commands, queue the relay and the notices, or mail
   the errors back. */
int reply_step(void *handler, struct hook_event *ev, const char **error_r);

#endif
