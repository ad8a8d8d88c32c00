/*
 * lease: which gateway does what when several `deskgate run` share one
 * store (issue 17). One lease set per process; its holder id is
 * "hostname:pid:random" (the random part tells a reused pid apart).
 *
 * - A mailbox is watched only by the holder of lease "mailbox:NAME"; the
 *   scheduler's time-driven work runs only under lease "scheduler".
 * - Every held lease is renewed each third of [store] lease_ttl
 *   (lease_tick(), from the daemon's one-second timer); a lease whose
 *   renewal fails is lost: the caller stops touching what it guards.
 * - Fencing: lease_fence() renews a lease inside the transaction that
 *   commits what the lease guards (a batch of tickets and its checkpoint).
 *   The store serialises writers, so a gateway whose lease expired or was
 *   taken over cannot commit: its batch rolls back and the new holder,
 *   which reads the checkpoint after its own acquire, fetches the
 *   messages again. Marks made on the IMAP server after a commit are the
 *   same flags either holder would set, so a late mark is harmless.
 * - Liveness: the set holds "gateway:HOLDER" for as long as the process
 *   lives; the outbox rows it claimed are claimed again by another only
 *   when it is gone (store-lease.h).
 * - A holder on this host whose pid is gone (kill -9) is known dead at
 *   once: its leases are released instead of waiting for their expiry.
 *   Elsewhere, the expiry does it: a mailbox is taken over at most
 *   lease_ttl plus one acquire attempt (every second) after its holder
 *   died.
 *
 * Times are clock_now() seconds. Ownership: the set borrows the store.
 */
#ifndef DG_LEASE_H
#define DG_LEASE_H

#include <stdint.h>

struct store;
struct lease_set;

/* The set of this process (its holder id made here), holding its
   "gateway:" liveness lease; leases of dead holders on this host are
   released first. NULL with *error_r when the store fails. */
struct lease_set *lease_set_new(struct store *store, int64_t ttl, const char **error_r);
/* Release every lease held (a clean stop: another gateway takes over at
   once). NULL is fine. */
void lease_set_free(struct lease_set **lsp);

const char *lease_set_holder(const struct lease_set *ls);
int64_t lease_set_ttl(const struct lease_set *ls);

/* Hold lease `name`: 1 when it is ours (acquired now, or held and renewed
   when a third of the ttl has passed), 0 when another holder has it,
   -1 with *error_r on a store failure. A renewal the store fails (its
   write lock not obtained within the busy time-out) keeps a lease held
   until its local expiry and returns 1: the failure is counted
   (deskgate_store_errors_total{during="lease"}) and logged here, once
   until a renewal works again, and no renewal of the set asks the store
   again for half a renewal interval (a locked store costs the caller's
   loop one busy time-out per retry, not one per lease and call). Other
   store failures are counted here and logged by the caller. */
int lease_hold(struct lease_set *ls, const char *name, int64_t now, const char **error_r);
/* 1 when `name` is held and not expired by our own clock, without asking
   the store. */
int lease_held(const struct lease_set *ls, const char *name, int64_t now);
/* Inside the caller's transaction: 1 when `name` is still ours (renewed),
   0 when it was lost (forgotten: roll back), -1 on a store failure. */
int lease_fence(struct lease_set *ls, const char *name, int64_t now, const char **error_r);
/* Give up `name` (a mailbox removed from the configuration). */
void lease_drop(struct lease_set *ls, const char *name);
/* How many gateways are alive (live "gateway:" leases, this one
   included): 0 with *count_r, or -1 with *error_r. */
int lease_live_gateways(struct lease_set *ls, int64_t now, size_t *count_r, const char **error_r);
/* How many leases named prefix* this set holds. */
size_t lease_count_held(const struct lease_set *ls, const char *prefix);
/* Renew what is due for renewal. 0, or -1 with *error_r (the first store
   failure of a lease not held any more, or of taking the liveness lease
   again; held leases are kept until their local expiry, as lease_hold()
   says). Lost leases are forgotten and logged. */
int lease_tick(struct lease_set *ls, int64_t now, const char **error_r);

#endif
