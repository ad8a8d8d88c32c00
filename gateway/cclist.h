/*
 * cclist: the customer's Cc list of a ticket, as agents manage it by mail
 * (#cc ADDRESS, #uncc ADDRESS; issue 15). The list is the ticket's
 * participants with role "cc"; the next relayed answer carries it (reply.c
 * copies every cc participant).
 *
 * Refused: a configured agent's address (agents are told through the
 * agents' thread, and an agent's address must never appear in mail to the
 * customer), the support address and its sub-addresses (the mail would
 * come back), and the ticket's customer. #uncc of an address that is not
 * on the list is an error too, so a typo is seen. A person removed who is
 * Cc'd again by the customer's own later mail joins again: the customer
 * chose to include them.
 *
 * Everything is written in the caller's transaction, each change with an
 * event "cc" or "uncc". Results are the store's (< 0 graded, store.h).
 */
#ifndef DG_CCLIST_H
#define DG_CCLIST_H

#include <stdint.h>

struct deskmail;
struct route;
struct store;
struct store_ticket;

/* May address be put on t's Cc list? 1 yes, 0 no with *why_r (static
   text for the agent's error mail). */
int cclist_allowed(const struct route *route, const struct deskmail *dm,
		   const struct store_ticket *t, const char *address, const char **why_r);
/* Add address (role cc) on behalf of agent by. */
int cclist_add(struct store *store, const struct store_ticket *t, const char *address,
	       const char *by, const char **error_r);
/* 1 when address was on t's Cc list and is removed, 0 when it was not on
   it (nothing changes). */
int cclist_remove(struct store *store, const struct store_ticket *t, const char *address,
		  const char *by, const char **error_r);

#endif
