/*
 * poller: the daemon's one event loop. It serves every [mailbox NAME] of the
 * configuration, each with its own connection and state machine:
 *
 *   connect -> login -> SELECT -> sync -> IDLE (or wait poll_interval) -> sync ...
 *
 * sync = read the checkpoint (store_mailbox_get), make the marks the store
 * still owes (an earlier run committed the messages but crashed before
 * flagging them: store_mailbox_mark_list), then fetch the UIDs above the
 * checkpoint in batches of batch_size; each batch is one ingest
 * transaction that also records the marks owed, and only after its commit
 * are its messages flagged \Seen or moved (quarantined ones too, with the
 * $Quarantined keyword where the server allows keywords). Only a UID with
 * a committed row is ever marked. A message over max_message_size is
 * fetched again whole, streamed to disk, and quarantined whole; one over
 * max_quarantine_size, or one the server will not deliver (NIL, or
 * missing from its answer 3 times), gets a quarantine entry without raw
 * bytes and is left unmarked (tried again at each connection and reload).
 * So a crash anywhere loses nothing and duplicates nothing: the
 * checkpoint never passes a UID that is not handled, what is not committed
 * is fetched again. A changed UIDVALIDITY resets the checkpoint to 0; the
 * full refetch relies on ingest's dedupe. New mail announced in any
 * response (EXISTS) during a sync calls for another sync before IDLE.
 *
 * Failures are graded by imap.h: network trouble, BYE, timeouts and
 * stalls reconnect with exponential backoff and jitter (1 s doubling to
 * 5 min); rejected credentials are logged as errors, the OAuth2 token is
 * obtained again, and retried with the same backoff; a store failure rolls
 * the batch back, marks nothing and retries later.
 *
 * Signals: SIGTERM and SIGINT finish the current batch, log out and
 * return; SIGHUP reloads the configuration file: mailboxes whose section is
 * unchanged keep their connection (and IDLE), changed ones reconnect, new
 * ones start, removed ones log out.
 *
 * Ownership: the poller takes the configuration (and frees it, or its
 * replacement after a reload); the store is borrowed.
 */
#ifndef DG_POLLER_H
#define DG_POLLER_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct poller;

struct poller_options {
	int once;	     /* process what is there, then return */
	int progress_bar;    /* draw a progress bar on stderr (a terminal) */
	int keep_log_level;  /* -v/-q given: a reload leaves the log level alone */
};

/* Takes ownership of config. config->path is re-read on SIGHUP. */
struct poller *poller_new(struct config *config, struct store *store,
			  const struct poller_options *options);
void poller_free(struct poller **pollerp);

/* Run until SIGTERM/SIGINT, or with once until every mailbox is done.
   0: all well; 1: with once, some mailbox could not be processed (the
   reason is logged). */
int poller_run(struct poller *poller);

/* The configuration in force (it changes on SIGHUP: do not keep it). */
const struct config *poller_config(const struct poller *poller);
/* Counts the configurations the poller has had: 0 for the first, one more
   after each successful reload. Compare it, never the configuration's
   address, to learn whether a reload happened (a freed configuration's
   address may be reused by the next one). */
unsigned long poller_config_generation(const struct poller *poller);
/* Several gateways on one store: watch a mailbox only while holding its
   lease "mailbox:NAME" (lease.h; borrowed, outlives the poller). Without
   one, every configured mailbox is watched. With leases and [store]
   listen, the idle wait also listens for the store's wakes
   (store_wake_listen()): outbox mail queued makes the wake timers due at
   once; a lease given up makes the mailboxes waiting for their lease try
   it at once. Without: polling alone. */
struct lease_set;
void poller_set_leases(struct poller *poller, struct lease_set *leases);
/* Another job for the same loop (the outbox sender, for instance): fn is
   called every interval seconds, between mailbox operations. */
void poller_add_timer(struct poller *poller, unsigned interval, void (*fn)(void *context),
		      void *context);
/* The same, also run at once when the store says outbox mail was queued
   (poller_set_leases()). */
void poller_add_wake_timer(struct poller *poller, unsigned interval, void (*fn)(void *context),
			   void *context);

/* What each mailbox is doing, for `deskgate status`, STATUS= and the
   metrics (service.c). */
enum poller_mb_state {
	POLLER_MB_CONNECTING, /* connecting or logging in (first try) */
	POLLER_MB_SYNCING,    /* fetching and ingesting */
	POLLER_MB_IDLE,	      /* in IDLE, waiting for the server */
	POLLER_MB_WAITING,    /* polling: waiting for the next poll */
	POLLER_MB_BACKOFF,    /* failed; waiting to try again */
	POLLER_MB_DONE,	      /* --once: finished */
	POLLER_MB_FAILED,     /* --once: gave up */
	POLLER_MB_AUTH_FAILED, /* cannot log in: credentials refused or not obtained */
};
#define POLLER_MB_STATES 8
struct poller_mb_status {
	const char *name;	/* borrowed: valid until the next reload */
	enum poller_mb_state state;
	int connected;		/* logged in and selected */
	unsigned failures;	/* consecutive failed attempts */
	int64_t last_sync;	/* end of the last completed sync (epoch s), 0: none */
	const char *last_error; /* borrowed, NULL when the last attempt went well */
	size_t backlog;		/* messages of the sync in progress not yet processed */
};
/* Fill status[0..max) and return the number of mailboxes. */
size_t poller_status(const struct poller *poller, struct poller_mb_status *status, size_t max);

#endif
