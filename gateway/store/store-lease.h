/*
 * store-lease: what several gateways on one store share (issue 17), part
 * of the store interface (included by store.h users through
 * gateway/store-lease.h). docs/internals/store.md, "Several gateways",
 * is the contract.
 *
 * Leases: a row (name, holder, expiry) that one holder owns until its
 * expiry. "mailbox:NAME" says which gateway watches a mailbox,
 * "scheduler" which one runs the time-driven work, "gateway:HOLDER" that a
 * gateway is alive (its outbox claims stand while it does). Holder ids are
 * "hostname:pid:random" (lease.h). Times are seconds since the epoch.
 *
 * Outbox claims: store_outbox_claim() marks the due rows "sending" for one
 * holder in one statement of the database's own atomicity (SQLite: an
 * UPDATE ... RETURNING, under the write lock; PostgreSQL: FOR UPDATE SKIP
 * LOCKED), so two gateways never get the same row. A row in flight
 * ("sending") is claimed again only when its claim expired or its claimer
 * holds no live lease (it died); that row is then sent again with the same
 * Message-ID and counted in outbox.resends.
 *
 * Wake: an optional way for one gateway to wake the others early (PostgreSQL
 * LISTEN/NOTIFY); a driver without it (SQLite) says 0 and correctness never
 * depends on it.
 */
#ifndef DG_STORE_LEASE_H
#define DG_STORE_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_outbox;

struct store_lease {
	char *name;
	char *holder;
	int64_t acquired_at;
	int64_t expires_at;
};

/* Take lease `name` for holder until now + ttl: 1 when it is holder's
   (it was free, expired, or already holder's: renewed), 0 when another
   holds it (*current_r, malloc()ed, its holder when current_r is not
   NULL). Inside a transaction or not. */
int store_lease_acquire(struct store *store, const char *name, const char *holder, int64_t now,
			int64_t ttl, char **current_r, const char **error_r);
/* Extend holder's lease to now + ttl: 1 done, 0 lost (another holds it,
   it expired, or it is gone). Inside the transaction that commits what
   the lease guards, it is the fence: a 0 there means roll back. */
int store_lease_renew(struct store *store, const char *name, const char *holder, int64_t now,
		      int64_t ttl, const char **error_r);
/* Give up holder's lease `name`, or all of holder's leases (name NULL).
   Not holding it is not an error. */
int store_lease_release(struct store *store, const char *name, const char *holder,
			const char **error_r);
/* Every lease row, live or expired, by name (for `status` and for finding
   dead holders); caller frees with store_leases_free(). */
int store_lease_list(struct store *store, struct store_lease **list_r, size_t *count_r,
		     const char **error_r);
void store_leases_free(struct store_lease **listp, size_t count);

/* Claim at most limit outbox rows for holder until claim_until: the
   queued ones due at now, and the "sending" ones whose claim expired or
   whose claimer holds no live lease (a resend). The claim is also the
   in-flight mark: in the store each claimed row is "sending" with its
   attempts + 1, committed before this returns (a crash from here on sends
   it again, never loses it). Rows oldest first, as store_outbox_due()
   returns them, status "sending" and attempts as they were before the
   claim (putting a row back "as it was" writes those); caller frees with
   store_outboxes_free(). Outside a transaction (the claim commits at
   once). */
int store_outbox_claim(struct store *store, const char *holder, int64_t now, int64_t claim_until,
		       size_t limit, struct store_outbox **list_r, size_t *count_r,
		       const char **error_r);
/* How many times rows were sent again after their claimer died. */
int store_outbox_resends(struct store *store, int64_t *count_r, const char **error_r);

/* Wake the other gateways (1 sent, 0 the driver has no wake). */
int store_wake_notify(struct store *store, const char *channel, const char **error_r);

/* What a wake says: outbox rows were queued; leases were given up. */
enum store_wake {
	STORE_WAKE_OUTBOX = 1 << 0,
	STORE_WAKE_LEASE = 1 << 1,
};
/* Listen on the store's connection for the wakes of commits (this
   process's own included) that queue outbox rows or give up leases: 1
   listening (again after a reconnect), 0 the driver has no wake, < 0
   graded. A wake is a hint, never replayed: a listener still polls. */
int store_wake_listen(struct store *store, const char **error_r);
/* The descriptor to poll for POLLIN while listening, -1 when there is
   none now (ask again before each wait: a reconnect changes it). */
int store_wake_fd(struct store *store);
/* Read what arrived, without waiting: a mask of enum store_wake, 0 none
   (also when the connection is down: the next store call resets it). */
int store_wake_take(struct store *store);

#endif
