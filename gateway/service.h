/*
 * service: `deskgate run` as a service that systemd, Prometheus and
 * `deskgate status` understand. It ties the daemon's loop (poller.h) to
 * the notification protocol (notify.h), the metrics (metrics.h, served by
 * httpd.h) and the status file:
 *
 * - service_start(): with [metrics] listen, starts the HTTP endpoint (a bad
 *   address exits 78, one that cannot be bound 69); then READY=1.
 * - every second, from the loop (a poller timer, so a stuck loop stops
 *   it): WATCHDOG=1 at half of $WATCHDOG_USEC; the mailboxes' states go to
 *   the metrics, to STATUS= (when the line changed) and to the status file
 *   (when it changed, and at least every SERVICE_HEARTBEAT seconds); every
 *   SERVICE_STATS_INTERVAL seconds the store's counts (store_stats()) go
 *   to the metrics and the STATUS= line.
 * - service_stop(): STOPPING=1, a last status file with stopped_at, the
 *   endpoint closed.
 *
 * The status file, state_dir/deskgate-status.json, is written atomically
 * (a temporary file renamed over it; readers never see half of one):
 *   { "version": 1, "pid": N, "started_at": T, "updated_at": T,
 *     "stopped_at": T (only after a clean stop), "metrics": "HOST:PORT",
 *     "mailboxes": [ { "name", "state", "connected", "failures",
 *                      "last_sync", "last_error", "backlog" } ] }
 * with times in seconds since the epoch. Only this module writes and
 * reads it (service_snapshot_read() for cmd-status.c).
 *
 * Ownership: the service borrows the poller and the store, which must
 * outlive it.
 */
#ifndef DG_SERVICE_H
#define DG_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/poller.h"

struct store;
struct store_stats;
struct service;

#define SERVICE_STATUS_FILE "deskgate-status.json"
#define SERVICE_HEARTBEAT 5	     /* seconds between status file writes at least */
#define SERVICE_STALE 60	     /* a status file older than this: the loop is stuck */
#define SERVICE_STATS_INTERVAL 5  /* seconds between store_stats() */

/* 0, or the exit status (78, 69) after logging why. */
int service_start(struct poller *poller, struct store *store, struct service **service_r);
/* Accepts NULL. */
void service_stop(struct service **servicep);

/* The state's name: "connecting", "syncing", "idle", "waiting",
   "backoff", "done", "failed". */
const char *service_state_name(enum poller_mb_state state);
/* The STATUS= line for these mailboxes and counts (stats may be NULL);
   caller frees. */
char *service_status_line(const struct poller_mb_status *mbs, size_t n,
			  const struct store_stats *stats);

/* The status file, as read back. */
struct service_mailbox {
	char *name;
	char *state;
	int connected;
	int64_t failures;
	int64_t last_sync;
	char *last_error; /* NULL: none */
	int64_t backlog;
};
struct service_snapshot {
	int64_t pid;
	int64_t started_at, updated_at, stopped_at; /* stopped_at 0: not stopped */
	char *metrics;				    /* NULL: no endpoint */
	struct service_mailbox *mailboxes;
	size_t n_mailboxes;
};
/* Read state_dir's status file: 1 read, 0 absent, -1 with error_r. */
int service_snapshot_read(const char *state_dir, struct service_snapshot **snapshot_r,
			  const char **error_r);
void service_snapshot_free(struct service_snapshot **snapshotp);

#endif
