/*
 * store-merge: one ticket folded into another (#merge N, gateway/merge.h;
 * SQLite migration 13, PostgreSQL 5: the table ticket_merges).
 *
 * store_ticket_merge() folds ticket `from` into ticket `into` with one
 * write (a savepoint inside the caller's transaction, so all or nothing):
 * from's messages (their attachments and recipients go with them), rule
 * hits and labels move to into; its participants are copied to into (a
 * customer of from who is not into's customer joins into as a cc, so the
 * answers reach both) and stay on from, so that a reply to from's signed
 * address is still a participant's; its fields that into lacks are copied
 * (not the internal "_" ones but STORE_FIELD_HELD_REPLY, store.h); its
 * events are copied to into's history, each detail behind "[#from] ". Then from is closed with category
 * "duplicate" (no survey: gateway/survey.c), recorded in ticket_merges, its SLA
 * clocks stopped (paused at now, no due time left) and its timers
 * (pending reminders, snoozes) removed. into's own clocks are not touched.
 *
 * STORE_DATA_BAD (nothing written) when from or into does not exist, they
 * are the same ticket, from is already merged, or into is merged itself
 * (the caller follows chains first: store_ticket_merged_into()).
 */
#ifndef DG_STORE_MERGE_H
#define DG_STORE_MERGE_H

#include <stdint.h>

struct store;

/* 1 with *into_r (0: ticket id was never merged), 0 no such ticket. */
int store_ticket_merged_into(struct store *store, int64_t id, int64_t *into_r,
			     const char **error_r);

/* Longest merge chain followed. */
#define STORE_MERGE_MAX_HOPS 32

/* The ticket a merged ticket lives on now: the end of id's chain of
   merges (id itself when it was never merged; after STORE_MERGE_MAX_HOPS
   the last one reached). 1 with *end_r, 0 no such ticket. */
int store_ticket_merged_end(struct store *store, int64_t id, int64_t *end_r,
			    const char **error_r);
int store_ticket_merge(struct store *store, int64_t from, int64_t into, int64_t now,
		       const char **error_r);

#endif
