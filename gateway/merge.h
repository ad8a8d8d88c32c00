/*
 * merge: #merge N, a duplicate ticket folded into ticket N by an agent
 * (issue 15; docs/threading.md, "Merged tickets").
 *
 * An agent's mail to ticket M's agent address (authenticated as every
 * agent reply: thread.h) with the line "#merge N" folds M into N in the
 * transaction of that mail (store-merge.h has what moves and what is
 * copied): M's messages with their attachments, its rule hits and labels
 * move to N; its participants and fields are copied; its events are copied
 * to N's history behind "[#M] "; M is closed as merged (category
 * "duplicate": no survey, gateway/survey.c), its SLA clocks and timers
 * stop, N's keep running as they were. Events: "merged" on both tickets,
 * "closed" on M ("merged into #N by ...").
 *
 * Afterwards everything addressed to M reaches N: threading follows
 * ticket_merges (thread.c, join()), so the customer's replies to M's
 * mail, M's signed reply addresses and "[#M]" subject tags, and the agents'
 * replies to M's agent address, act on N.
 *
 * Told once, in the same transaction: M's customer (template
 * status/merged in M's language, text and HTML like the other notices,
 * threaded under the customer's last mail on M, Reply-To N's customer
 * address), and N's agents (N's assignee, else N's queue, plus M's
 * assignee; never the agent who merged): outbox kinds "notice" and
 * "notify".
 *
 * Refused (merge_check(), mailed back to the agent, nothing applied): N
 * unknown; N is M; M is already merged (a command to M's address now acts
 * on the ticket M lives on: "#M is already merged into #N"); N closed;
 * N another customer's ticket (the answers would show each customer the
 * other's mail). Chains: when N was itself merged into X, the merge goes
 * to the end of the chain (X), which must be open and not M; the agent's
 * notice says so. A replayed command mail (the same Message-ID) is a
 * duplicate for ingest and never reaches here; the same command sent again
 * is refused as "already merged".
 *
 * Ownership: merge_new() borrows config, store, deskmail and route, which
 * must outlive it. Results are the store's (< 0 graded, store.h).
 */
#ifndef DG_MERGE_H
#define DG_MERGE_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct deskmail;
struct route;
struct store;
struct store_ticket;
struct merge;

struct merge *merge_new(const struct config *config, struct store *store, struct deskmail *dm,
			const struct route *route);
void merge_free(struct merge **mp);

/* #merge n on ticket t. addressed: the ticket the agent's mail was
   addressed to when threading followed a merge to t (else 0). 1 with
   *into_r (n, or the end of n's merge chain), 0 refused with why (for the
   agent's error mail), < 0 the store failed. */
int merge_check(struct merge *m, const struct store_ticket *t, int64_t addressed, int64_t n,
		int64_t *into_r, char *why, size_t size, const char **error_r);

/* Fold t into `into` (merge_check() said 1) on behalf of agent address
   by; logctx: the command mail's "mailbox= uid= msgid=". */
int merge_apply(struct merge *m, const struct store_ticket *t, int64_t into, int64_t asked,
		const char *by, const char *logctx, int64_t now, const char **error_r);

#endif
