/*
 * supervisor: who supervises a ticket, and who supervises the desk. One
 * answer for the four places the configuration names supervisors
 * ([queue NAME] supervisors, [sla NAME] supervisors, [alerts] supervisors,
 * [agent NAME] supervisor = yes), used by the breach notices (escalate.h),
 * the queue digests (digest.h), the outage alerts (outage.h) and the right
 * to release a held reply (#send-anyway, reply.c).
 *
 * The chain, first that names anybody wins (as Zendesk and Zammad escalate
 * to the group's lead, then to the desk's admins):
 *   a ticket:  its queue's [queue] supervisors
 *              -> its SLA policy's [sla] supervisors
 *              -> the agents with supervisor = yes
 *              -> nobody: the caller's last resort (a breach notice goes
 *                 to the ticket's own people: its assignee, else its
 *                 queue's agents, else every agent; never silent)
 *   the desk:  [alerts] supervisors
 *              -> the agents with supervisor = yes
 *              -> every agent
 * The right to release: an agent with supervisor = yes (a supervisor of
 * the whole desk), or an agent the ticket's queue or SLA policy names.
 * Never the "every agent" of the last resort: authority is only given by
 * name.
 *
 * A list item is an [agent NAME] (by name, display name or address) or an
 * address; an item that is neither is skipped (sla_new() refuses those of
 * [queue] and [sla]; [alerts] ones are logged).
 *
 * Ownership: supervisor_new() borrows config, which must outlive it.
 */
#ifndef DG_SUPERVISOR_H
#define DG_SUPERVISOR_H

struct config;
struct config_agent;
struct supervisor;

/* Where an answer came from. */
enum supervisor_source {
	SUPERVISOR_NOBODY = 0,
	SUPERVISOR_QUEUE,    /* [queue NAME] supervisors */
	SUPERVISOR_SLA,	     /* [sla NAME] supervisors */
	SUPERVISOR_ALERTS,   /* [alerts] supervisors */
	SUPERVISOR_FLAGGED,  /* [agent NAME] supervisor = yes */
	SUPERVISOR_EVERYONE, /* every [agent] */
};

/* One supervisor: their address, and their [agent] (NULL for a bare
   address). Called once per address (no repeats, case-insensitive). */
typedef void supervisor_fn(void *context, const char *address, const struct config_agent *agent);

int supervisor_new(const struct config *config, struct supervisor **sv_r, const char **error_r);
void supervisor_free(struct supervisor **svp);

/* The supervisors of a ticket in queue (NULL: none) under SLA policy (its
   [sla NAME]; NULL: none), each passed to fn; the source that answered,
   SUPERVISOR_NOBODY when the chain ends with nobody. */
enum supervisor_source supervisor_ticket(const struct supervisor *sv, const char *queue,
					 const char *policy, supervisor_fn *fn, void *context);
/* The supervisors of the desk (outage alerts), each passed to fn; the
   source, SUPERVISOR_NOBODY only when the desk has no agent at all. */
enum supervisor_source supervisor_desk(const struct supervisor *sv, supervisor_fn *fn,
				       void *context);
/* 1 when the mail address address may release a held reply of a ticket in
   queue under policy (either may be NULL), else 0. */
int supervisor_may_release(const struct supervisor *sv, const char *address, const char *queue,
			   const char *policy);
/* The name of a source, for logs and tests: "queue", "sla", "alerts",
   "flagged", "everyone", "nobody". */
const char *supervisor_source_name(enum supervisor_source source);

#endif
