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
struct mbox;
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
	MB_WOKEN,   /* still in IDLE, to be ended (DONE) and synced now */
	MB_BUSY,    /* a worker has the connection (mb->work): hands off */
	MB_WAIT,    /* connected, poll again when due */
	MB_DONE,    /* --once: finished (or gave up: failed) */
};

/* A message fetched on a worker for the loop's thread: a copy, since
   imap_fetch() lends its bytes for the call only. */
struct prefetched {
	uint32_t uid;
	unsigned char *data; /* NULL: answered NIL, or cut (too large) */
	size_t len;
	uint64_t size; /* RFC822.SIZE */
	int cut;       /* arrived cut at max_message_size + 1: not copied */
};

/* What a committed batch leaves to do on the server: the marks of the
   committed UIDs (quarantined ones get the keyword), the originals of
   redacted ones to expunge, and what to say afterwards. */
struct batch_marks {
	uint32_t *done, *q, *del;
	size_t n_done, nq, n_del;
	size_t pending;	   /* UIDs neither committed nor accounted for */
	char *fetch_error; /* the fetch said NO, yet all is accounted for */
	int result;	   /* marks_run(): MARKS_* */
	char *error;	   /* marks_run()'s failure (a copy) */
};

/* The job a worker does on a mailbox's connection (poller-work.c), while
   the mailbox is MB_BUSY. In: set by the loop's thread before it hands
   the mailbox over; out: set by the worker, read after it hands it back.
   Neither thread touches the other's part, nor the connection, meanwhile. */
enum work_kind {
	WORK_FETCH, /* [DONE,] SEARCH and, when one batch holds it all, FETCH */
	WORK_MARK,  /* the marks of a committed batch, then back to IDLE */
};

struct mb_work {
	enum work_kind kind;
	/* in */
	int idle_done;	   /* the connection is in IDLE: end it first */
	int go_idle;	   /* after the sync: IDLE again (unless the folder changed) */
	uint32_t last_uid; /* WORK_FETCH: the checkpoint */
	size_t batch;	   /* WORK_FETCH: fetch only when at most this many are new */
	size_t max_size;   /* max_message_size */
	size_t budget;	   /* bytes of copies at most; beyond, the loop fetches */
	struct batch_marks marks; /* WORK_MARK */
	/* out */
	int ret;      /* 0, -1: the connection failed (error) */
	char *error;  /* a copy: errf()'s ring belongs to the worker */
	uint32_t *uids; /* WORK_FETCH: the new UIDs, ascending */
	size_t n_uids;
	int prefetched; /* WORK_FETCH: msgs hold the fetch of all of uids */
	struct prefetched *msgs;
	size_t n_msgs, bytes;
	int fetch_r;		   /* imap_fetch()'s return */
	int fetch_server;	   /* its failure was the server's answer (NO) */
	char *fetch_error;	   /* its error, when fetch_r < 0 */
	int changed;		   /* the folder changed during the sync: again */
	int idling;		   /* back in IDLE */
	struct mbox *next;	   /* the pool's queue */
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
	struct mb_work work; /* MB_BUSY: on a worker (poller-work.c) */
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
	struct work_pool *pool; /* [general] sync_concurrency > 1: the workers */
};


enum sync_result { SYNC_OK, SYNC_MORE, SYNC_IMAP_FAILED, SYNC_STORE_FAILED };

/* poller.c */
void poller_bar_clear(struct poller *p);
void poller_progress(struct mbox *mb, int final);

/* poller-work.c: up to [general] sync_concurrency threads doing the IMAP
   round trips of several mailboxes at once (struct mb_work); the store
   stays on the loop's thread. */
struct work_pool;
/* NULL when n < 2 or no thread starts (then everything stays on the
   loop's thread). */
struct work_pool *work_pool_new(size_t n);
/* Waits for the jobs in flight, then stops the threads. */
void work_pool_free(struct work_pool **poolp);
/* Hand mb (MB_BUSY, mb->work set) to a worker; first: ahead of the queue. */
void work_pool_submit(struct work_pool *pool, struct mbox *mb, int first);
/* A mailbox whose job is done, or NULL; never waits. */
struct mbox *work_pool_take(struct work_pool *pool);
/* Readable when a job is done (poll it with the others). */
int work_pool_fd(const struct work_pool *pool);
/* Jobs handed over and not yet taken back. */
size_t work_pool_in_flight(const struct work_pool *pool);

/* poller-sync.c */
/* One step of a sync: start it (catch-up, held entries, search), or do its
   next batch. SYNC_MORE: batches are left (the next step does one). */
enum sync_result poller_sync_step(struct mbox *mb, const char **error_r);
/* Drop the sync in progress (its list of new UIDs). */
void poller_sync_end(struct mbox *mb);
/* Tell the store the marks made on the server are no longer owed (on its
   own transaction; a batch does it inside its own). */
int poller_marks_forget(struct mbox *mb, const char **error_r);

/* The sync split for a worker (poller-work.c): the loop's thread decides
   (poller_sync_work_fetch()), the worker does the IMAP part
   (poller_sync_run()), the loop's thread commits what it fetched and
   hands the marks back (poller_sync_fetched()), the worker marks and goes
   back to IDLE, the loop's thread accounts for it (poller_sync_marked()). */
/* 1 when the sync can start on a worker: mb->work is set up for
   WORK_FETCH (the checkpoint read from the store); 0 when it needs the
   loop's thread (catch-up, held entries, a new UIDVALIDITY, a backlog). */
int poller_sync_work_fetch(struct mbox *mb);
/* On the worker: the job in mb->work. */
void poller_sync_run(struct mbox *mb);
/* A WORK_FETCH done: SYNC_OK with mb->work set up for WORK_MARK (submit
   it), SYNC_MORE when the loop's thread is to do the batches
   (poller_sync_step()), or a failure. */
enum sync_result poller_sync_fetched(struct mbox *mb, const char **error_r);
/* A WORK_MARK done: SYNC_OK (the sync is over: mb->work.idling,
   mb->work.changed say what next), or SYNC_IMAP_FAILED. */
enum sync_result poller_sync_marked(struct mbox *mb, const char **error_r);
/* Free what mb->work holds. */
void poller_work_clear(struct mb_work *w);

#endif
