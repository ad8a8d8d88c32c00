/*
 * guard: the outbound guard. An agent's reply that asks the customer for
 * a recovery phrase, a private key, a password or a 2FA code (in any of
 * the five languages: parsers/solicit.h) is held, not relayed
 * ([secrets] guard = yes, the default): support never needs them, and a
 * compromised or careless agent account must not be able to get them
 * from customers. The reply module holds it (hold.h) and mails the agent
 * why; a supervisor (supervisor.h: [agent NAME] supervisor = yes, or named
 * by the ticket's [queue] or [sla] supervisors) releases it with
 * #send-anyway, which is logged and recorded on the ticket.
 */
#ifndef DG_GUARD_H
#define DG_GUARD_H

#include <stddef.h>

struct config;

/* Does the text an agent wants to send ask for a secret? 1 with why
   (English, for the agent, the event and the log: what is asked and the
   clause that asks, at most size bytes), 0 when it may go (or the guard
   is off). */
int guard_check(const struct config *config, const char *text, char *why, size_t size);

#endif
