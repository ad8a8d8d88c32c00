/*
 * hold: an agent's reply kept back instead of sent, until someone allowed
 * to releases it. The outbound guard (guard.h) holds a reply that asks a
 * customer for a secret; other checks (a collision with another agent's
 * answer) can hold the same way and share the release, #send-anyway.
 *
 * A ticket holds at most one reply: the message row (stored as a note,
 * never relayed) in the ticket field STORE_FIELD_HELD_REPLY (store.h;
 * internal: never shown to customers), with an event "held" naming why
 * and an event "released" naming who let it go. A newer hold replaces an
 * older one (the agent wrote again; the older stays a note).
 *
 * Kinds: HOLD_GUARD (the outbound guard: only a supervisor releases it)
 * and HOLD_COLLISION (another agent answered just before, or the ticket
 * is someone else's: the author confirms with #send-anyway, or a
 * supervisor). Release and relay are written in one transaction, so a
 * crash between them sends nothing and keeps the hold; a second
 * #send-anyway finds no hold and sends nothing.
 *
 * Everything is written in the caller's transaction; results are the
 * store's (< 0 graded, store.h).
 */
#ifndef DG_HOLD_H
#define DG_HOLD_H

#include <stdint.h>

struct store;

enum hold_kind { HOLD_GUARD, HOLD_COLLISION };

/* Hold message_row_id of ticket_id: why (for the event), by (the agent). */
int hold_put(struct store *store, int64_t ticket_id, int64_t message_row_id,
	     enum hold_kind kind, const char *why, const char *by, const char **error_r);
/* 1 with *message_row_id_r when ticket_id holds a reply, 0 when not. */
int hold_get(struct store *store, int64_t ticket_id, int64_t *message_row_id_r,
	     const char **error_r);
/* hold_get() that also says which kind of hold it is. */
int hold_get_kind(struct store *store, int64_t ticket_id, int64_t *message_row_id_r,
		  enum hold_kind *kind_r, const char **error_r);
/* The held reply was sent by by (or dropped): the ticket holds none. */
int hold_release(struct store *store, int64_t ticket_id, const char *by, int64_t outbox_id,
		 const char **error_r);

#endif
