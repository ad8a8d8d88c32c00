/*
 * outbox-worker: the daemon's outbox on a thread of its own (issue 18).
 * Before, `deskgate run` sent the outbox from the poller's loop every
 * second: a relay that stalled (up to [smtp] timeout, 60 s by default,
 * per attempt) stalled every mailbox with it. Now the poller only queues
 * (in its own transactions, as before) and this thread sends:
 *
 * - its own store connection (store_open(): SQLite in WAL mode with the
 *   store's busy timeout, so its short write transactions and the
 *   poller's batches take turns; PostgreSQL: a connection of its own);
 * - its own copy of the configuration, loaded again from the same file
 *   when the daemon reloads (outbox_worker_reload(), SIGHUP): the
 *   poller's copy is freed by a reload while this thread may still use
 *   its own;
 * - claims under the daemon's lease-set holder id (outbox_set_claimant()):
 *   the daemon's loop renews that set, on its own connection;
 * - a stop (outbox_worker_stop(), SIGTERM) lets the message in flight
 *   finish (bounded by [smtp] timeout) and puts the rest of its batch
 *   back in the queue: nothing is sent twice, nothing is lost. A process
 *   killed mid-send leaves its claim to expire, as before (sent again
 *   with the same Message-ID).
 *
 * - the relay connection stays open from one run to the next and closes
 *   after [smtp] idle_timeout without use (outbox_close_idle(): the
 *   thread's wait ends in time for it).
 *
 * The scheduler's mail (digests, escalations, notices) is queued by
 * whoever holds the scheduler lease and sent by this thread like any
 * other row.
 *
 * Ownership: outbox_worker_start() copies what it needs from config and
 * holder; the worker owns its store connection and configuration.
 */
#ifndef DG_OUTBOX_WORKER_H
#define DG_OUTBOX_WORKER_H

#include <stdint.h>

struct config;
struct outbox_worker;

/* Open the worker's store connection and configuration (from config->path)
   and start its thread. holder NULL: rows are claimed for a lease set the
   worker makes itself; else for that holder id with ttl (lease.h). -1 with
   *error_r when the store or configuration cannot be opened. */
int outbox_worker_start(const struct config *config, const char *holder, int64_t ttl,
			struct outbox_worker **worker_r, const char **error_r);
/* Load the configuration again at the next turn (after a reload). */
void outbox_worker_reload(struct outbox_worker *w);
/* Look at the queue now rather than within the second. */
void outbox_worker_kick(struct outbox_worker *w);
/* Stop the thread (see above) and free the worker. 1 when its last run
   failed on the store or the configuration, else 0. NULL is fine. */
int outbox_worker_stop(struct outbox_worker **workerp);

#endif
