/*
 * health: is the daemon running, and is it well? What `deskgate status`
 * reports (cmd-status.c prints it), from three sources:
 *
 * - the pid file, state_dir/deskgate.pid: the daemon holds an flock(2) on
 *   it while it runs; a shared, non-blocking lock attempt that fails tells
 *   that it does (the probe is released at once). A pid file that nobody
 *   locks is believed only when the process is alive and its status file
 *   is fresh (a daemon that predates the lock).
 * - the status file the daemon writes every few seconds (service.h): the
 *   state of each mailbox, its failures and last error, its last sync.
 * - the store (store_stats()): the outbox, the quarantine, the oldest
 *   unanswered ticket.
 *
 * The verdict, also the exit status (the monitoring-plugin convention):
 *   0 ok          running, every configured mailbox served and not failing,
 *                 no outgoing mail deferred;
 *   1 degraded    running, but a mailbox is failing (backoff) or not served,
 *                 mail is deferred, or the status file is stale (the loop
 *                 has not ticked for SERVICE_STALE seconds: busy or stuck);
 *   2 not running no pid file, or its process is gone;
 *   3 unknown     the configuration or the store cannot be read, or a live
 *                 process holds no lock and writes no status.
 * Each reason for a verdict other than ok is listed.
 */
#ifndef DG_HEALTH_H
#define DG_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/store.h"

struct config;
struct service_snapshot;

enum health_status {
	HEALTH_OK = 0,
	HEALTH_DEGRADED = 1,
	HEALTH_NOT_RUNNING = 2,
	HEALTH_UNKNOWN = 3,
};

struct health_mailbox {
	char *name;
	char *state;	  /* as the daemon reported it; "unknown" when it did not */
	int known;	  /* in the status file */
	int connected;
	int64_t failures;
	int64_t last_sync; /* 0: never */
	char *last_error;  /* NULL: none */
	int64_t backlog;
};

struct health_report {
	enum health_status status;
	char **reasons;
	size_t n_reasons;

	int64_t now;
	int running;
	int64_t pid;  /* from the pid file; 0: none */
	int locked;   /* the pid file is locked */
	int alive;    /* a process with that pid exists */
	struct service_snapshot *snapshot; /* NULL: no status file */
	char *snapshot_error;		   /* why it could not be read */
	int have_stats;
	struct store_stats stats;
	char *stats_error; /* why the store could not be read */
	struct health_mailbox *mailboxes; /* one per [mailbox] of the configuration */
	size_t n_mailboxes;
};

/* Gather the facts for config at now, and judge them. */
struct health_report *health_check(const struct config *config, int64_t now);
/* A report that could not gather anything: unknown, for why. */
struct health_report *health_unknown(int64_t now, const char *why);
/* The verdict and its reasons from the facts in report (for tests: fill
   the facts, call this). Clears earlier reasons. */
void health_judge(struct health_report *report);
/* Add a configured mailbox to report, with what snapshot (may be NULL)
   says of it. */
void health_add_mailbox(struct health_report *report, const char *name);
const char *health_status_name(enum health_status status);
void health_report_free(struct health_report **reportp);

/* Read and probe a pid file: 1 with *pid_r, *locked_r and *alive_r; 0
   when there is none (or it holds no pid); -1 with error_r. */
int health_pid_probe(const char *path, int64_t *pid_r, int *locked_r, int *alive_r,
		     const char **error_r);

#endif
