/*
 * poller-int: what poller.c (the loop, the connections, the state machine)
 * and poller-sync.c (the sync of one mailbox) share. Private to the poller
 * module: nothing else includes it.
 */
#ifndef DG_POLLER_INT_H
#define DG_POLLER_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/poller.h"

struct config_mailbox;
struct imap_conn;
struct outage_streak;

/* --once gives up on a mailbox after this many failed attempts in a row */
#define ONCE_MAX_ATTEMPTS 4
/* progress lines in the log during a backlog, at most this often */
#define PROGRESS_LOG_INTERVAL 10.0
/* the keyword on quarantined messages, where the server takes keywords */
#define QUARANTINE_KEYWORD "$Quarantined"

enum mb_state {
	MB_CONNECT, /* (re)connect when due */
	MB_SYNC,    /* connected and selected: look for new mail now */
	MB_IDLE,    /* in IDLE until the server speaks or due */
	MB_WAIT,    /* connected, poll again when due */
	MB_DONE,    /* --once: finished (or gave up: failed) */
};

struct mbox {
	struct poller *poller;
	const struct config_mailbox *cfg; /* points into poller->config */
	char *label;			  /* "mailbox:NAME" */
	struct imap_conn *conn;
	enum mb_state state;
	double due;
	unsigned failures;
	unsigned conflicts; /* batches in a row lost to another gateway's transaction */
	int failed;	  /* --once: gave up */
	char *token;	  /* cached OAuth2 access token */
	int move;	  /* after = move */
	int can_idle;
	int keywords_ok;
	int caught_up;	  /* the marks owed by earlier runs are done on this connection */
	int recheck;	  /* try the held entries without raw bytes again */
	struct miss {
		uint32_t uid;
		unsigned count; /* answered fetches that did not deliver it */
	} *misses;
	size_t n_misses;
	int64_t refetched_ticket, refetched_quarantine; /* what a refetch became */
	uint32_t *marked; /* marked on the server; the store to forget them */
	size_t n_marked;
	int create_tried;
	uint32_t uidvalidity;
	/* the sync in progress: new UIDs, and how far it got */
	uint32_t *pending;
	size_t n_pending, pos;
	/* backlog progress */
	size_t total, done;
	double started, last_log, last_bar;
	int64_t last_sync; /* for poller_status() */
	char *last_error;
	/* logins failed in a row (refused, or no credentials to log in
	   with), and whether an outage alert is open (outage.h) */
	struct outage_streak *auth;
	int cred_failed;    /* this attempt could not obtain its credentials */
	int leased;	    /* we hold its lease (lease.h; always with no lease set) */
};

struct timer {
	unsigned interval;
	int wake; /* due at once on a store wake (poller_add_wake_timer()) */
	double due;
	void (*fn)(void *context);
	void *context;
};

struct poller {
	struct config *config;
	struct store *store;
	struct ingest *ingest;
	struct poller_options opt;
	struct mbox **mboxes;
	size_t n_mboxes;
	struct timer *timers;
	size_t n_timers;
	int sigfd;
	sigset_t oldmask;
	int stop;
	int reload;
	unsigned long generation; /* of config: one more per successful reload */
	int bar_drawn;
	struct outage *outage; /* alerts when a mailbox cannot log in */
	struct lease_set *leases; /* several gateways: NULL, every mailbox is ours */
	size_t fair_share;	  /* mailboxes this gateway may hold (poller.c) */
	int64_t fair_checked;
	int listening; /* store_wake_listen() is on: its descriptor is polled */
};


enum sync_result { SYNC_OK, SYNC_MORE, SYNC_IMAP_FAILED, SYNC_STORE_FAILED };

/* poller.c */
double poller_now(void);
void poller_bar_clear(struct poller *p);
void poller_progress(struct mbox *mb, int final);

/* poller-sync.c */
/* One step of a sync: start it (catch-up, held entries, search), or do its
   next batch. SYNC_MORE: batches are left (the next step does one). */
enum sync_result poller_sync_step(struct mbox *mb, const char **error_r);
/* Drop the sync in progress (its list of new UIDs). */
void poller_sync_end(struct mbox *mb);
/* Tell the store the marks made on the server are no longer owed (on its
   own transaction; a batch does it inside its own). */
int poller_marks_forget(struct mbox *mb, const char **error_r);

#endif
