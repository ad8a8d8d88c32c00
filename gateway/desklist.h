/*
 * desklist: the desk by mail. An agent who mails the support address
 * (a new mail, not a reply to a ticket) with a request line at the top of
 * their own text gets a list back instead of a new ticket:
 *
 *   #my            the open tickets assigned to them
 *   #queue NAME    the open tickets of a queue
 *   #overdue       the open tickets whose promised first response is
 *                  overdue (the ticket's due_at; the SLA work of issue 13
 *                  adds more due times)
 *
 * Each entry has the ticket number, priority, status, due time, subject,
 * customer and the ticket's signed agent reply address, so that the agent
 * answers a ticket by writing to that address from the list (the answer
 * is then an agent's reply like any other). At most DESKLIST_MAX entries,
 * most urgent first; the list says how many more there are.
 *
 * Trust: the request must be agent mail as agent replies are
 * (thread_agent_authentic(): a configured agent's From, nothing else in
 * it, Authentication-Results as [threading] require_auth_results asks).
 * The list goes to the agent's configured address, never to a Reply-To or
 * the envelope sender, so a forged request never shows anyone the desk. A
 * request that is not authentic gets no answer; a bad one (an unknown
 * word, a queue that does not exist) gets an error mail to the agent.
 *
 * It is the HOOK_CLASSIFIED step "desk": it answers the message itself
 * (the list or the error is queued through deskmail in the message's
 * transaction) and sets ev->handled, so that no ticket is stored; ingest
 * keeps the raw mail and records a "desk" event. Outbox kind "notice"
 * (mail to agents; the outbox's kinds are fixed by the schema).
 *
 * Ownership: desklist_new() borrows everything, which must outlive it.
 */
#ifndef DG_DESKLIST_H
#define DG_DESKLIST_H

#include <stddef.h>

struct agent;
struct config;
struct deskmail;
struct hook_event;
struct route;
struct store;
struct thread_config;
struct desklist;

/* Most tickets one list shows. */
#define DESKLIST_MAX 50

struct desklist *desklist_new(const struct config *config, struct store *store,
			      struct deskmail *dm, const struct route *route,
			      const struct thread_config *tc, const struct agent *agent);
void desklist_free(struct desklist **dlp);

/* The HOOK_CLASSIFIED step "desk" (context: a struct desklist). */
int desklist_step(void *desklist, struct hook_event *ev, const char **error_r);

#endif
