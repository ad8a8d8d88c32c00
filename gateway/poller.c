/*
 * poller: see poller.h. Signals are blocked for the whole run and read
 * from a signalfd: libetpan's reads fail on EINTR, so a signal must never
 * interrupt one; between batches the signalfd is read without waiting, and
 * in the idle wait it is one of the polled descriptors.
 */
#include "build-config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/credential.h"
#include "gateway/imap.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/poller.h"
#include "gateway/retry.h"
#include "gateway/store.h"
#include "base/util.h"

/* --once gives up on a mailbox after this many failed attempts in a row */
#define ONCE_MAX_ATTEMPTS 4
/* progress lines in the log during a backlog, at most this often */
#define PROGRESS_LOG_INTERVAL 10.0
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
	int failed;	  /* --once: gave up */
	char *token;	  /* cached OAuth2 access token */
	int move;	  /* after = move */
	int can_idle;
	int keywords_ok;
	int caught_up;	  /* committed-but-unmarked messages handled on this connection */
	int create_tried;
	uint32_t uidvalidity;
	/* the sync in progress: new UIDs, and how far it got */
	uint32_t *pending;
	size_t n_pending, pos;
	/* backlog progress */
	size_t total, done;
	double started, last_log, last_bar;
};

struct timer {
	unsigned interval;
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
};

/* The batch being fetched: what the message callback records. */
struct batch {
	struct mbox *mb;
	uint32_t *done; /* committed (or to be, at commit): to mark */
	size_t n_done;
	uint32_t *quarantined;
	size_t n_quarantined;
	size_t cap; /* of both arrays: the batch size */
	int store_failed;
	char *store_error;
	size_t bytes;
};

static double
now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- signals ------------------------------------------------------------- */

static void
handle_signal(struct poller *p, int sig)
{
	if (sig == SIGTERM || sig == SIGINT) {
		if (!p->stop)
			log_info("signal %d: finishing the current batch, then stopping", sig);
		p->stop = 1;
	} else if (sig == SIGHUP) {
		p->reload = 1;
	}
}

/* Read every pending signal without waiting. */
static void
signals_drain(struct poller *p)
{
	struct signalfd_siginfo si;
	while (read(p->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		handle_signal(p, (int)si.ssi_signo);
}

/* ---- credentials ----------------------------------------------------------- */

static int
is_oauth(const struct config_mailbox *cfg)
{
	return strcmp(cfg->auth, "xoauth2") == 0 || strcmp(cfg->auth, "oauthbearer") == 0;
}

/* The secret to log in with: the password, or the (cached) access token.
   The caller frees it (explicit_bzero first). */
static char *
get_secret(struct mbox *mb, const char **error_r)
{
	const struct config_mailbox *cfg = mb->cfg;
	if (!is_oauth(cfg)) {
		if (cfg->password_file != NULL)
			return credential_read_file(cfg->password_file, error_r);
		return xstrdup(cfg->password != NULL ? cfg->password : "");
	}
	if (mb->token == NULL) {
		if (cfg->token_command != NULL)
			mb->token = credential_run(cfg->token_command, (unsigned)cfg->timeout,
						   error_r);
		else
			mb->token = credential_read_file(cfg->token_file, error_r);
		if (mb->token == NULL)
			return NULL;
	}
	return xstrdup(mb->token);
}

static void
forget_token(struct mbox *mb)
{
	credential_free(&mb->token);
}

/* ---- progress ---------------------------------------------------------------- */

static void
bar_clear(struct poller *p)
{
	if (p->bar_drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->bar_drawn = 0;
	}
}

static void
progress(struct mbox *mb, int final)
{
	struct poller *p = mb->poller;
	double now = now_mono();
	double rate = now > mb->started ? (double)mb->done / (now - mb->started) : 0;

	if (p->opt.progress_bar && (final || now - mb->last_bar >= 0.1)) {
		enum { WIDTH = 30 };
		size_t fill = mb->total > 0 ? mb->done * WIDTH / mb->total : WIDTH;
		char bar[WIDTH + 1];
		for (size_t i = 0; i < WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[WIDTH] = '\0';
		fprintf(stderr, "\r\033[K%s [%s] %zu/%zu %.0f msg/s", mb->cfg->name, bar, mb->done,
			mb->total, rate);
		if (final) {
			fputc('\n', stderr);
			p->bar_drawn = 0;
		} else {
			p->bar_drawn = 1;
		}
		fflush(stderr);
		mb->last_bar = now;
	}
	if (final || now - mb->last_log >= PROGRESS_LOG_INTERVAL) {
		if (!final || mb->total >= 100)
			log_info("mailbox=%s: %s %zu of %zu new messages (%.0f msg/s)", mb->cfg->name,
				 final ? "processed" : "progress:", mb->done, mb->total, rate);
		mb->last_log = now;
	}
}

/* ---- failures ------------------------------------------------------------------ */

/* Reconnects and store retries: 1 s doubling to 5 min, with jitter so that
   many gateways (or mailboxes) do not come back in lockstep. */
static const struct retry_policy reconnect_policy = { .initial = 1, .max = 300, .jitter = 0.5 };

static void sync_end(struct mbox *mb);

static void
mb_disconnect(struct mbox *mb)
{
	sync_end(mb);
	if (mb->conn != NULL) {
		imap_logout(mb->conn);
		imap_free(&mb->conn);
	}
}

/* Give up on this connection and schedule the next attempt. */
static void
mb_failed(struct mbox *mb, const char *error)
{
	struct poller *p = mb->poller;
	enum imap_failure kind = mb->conn != NULL ? imap_failure(mb->conn) : IMAP_FAIL_NETWORK;
	mb->failures++;
	double delay = retry_delay(&reconnect_policy, mb->failures);

	bar_clear(p);
	switch (kind) {
	case IMAP_FAIL_AUTH:
		log_error("mailbox=%s: LOGIN FAILED: %s%s; retrying in %.0f s", mb->cfg->name, error,
			  is_oauth(mb->cfg) ? " (the access token will be obtained again)"
					    : " (check username and password)",
			  delay);
		forget_token(mb);
		break;
	case IMAP_FAIL_TLS:
		log_error("mailbox=%s: TLS refused: %s; retrying in %.0f s", mb->cfg->name, error,
			  delay);
		break;
	default:
		log_warnx("mailbox=%s: %s; reconnecting in %.1f s", mb->cfg->name, error, delay);
		break;
	}
	mb_disconnect(mb);
	/* --once gives up at once on what waiting cannot fix; an OAuth2 token
	   may just have expired, so that one gets its retries */
	if (p->opt.once &&
	    (mb->failures >= ONCE_MAX_ATTEMPTS || kind == IMAP_FAIL_TLS ||
	     (kind == IMAP_FAIL_AUTH && !is_oauth(mb->cfg)))) {
		log_error("mailbox=%s: giving up for this run (--once)", mb->cfg->name);
		mb->state = MB_DONE;
		mb->failed = 1;
		return;
	}
	mb->state = MB_CONNECT;
	mb->due = now_mono() + delay;
}

/* ---- connecting ------------------------------------------------------------------ */

static int
mb_connect(struct mbox *mb, const char **error_r)
{
	const struct config_mailbox *cfg = mb->cfg;
	struct imap_settings set = {
		.host = cfg->host,
		.port = (unsigned)cfg->port,
		.ca_file = cfg->ca_file,
		.tls_verify = cfg->tls_verify,
		.timeout = (unsigned)cfg->timeout,
	};
	enum imap_auth auth;
	struct imap_mailbox_info info;

	if (imap_security_parse(cfg->security, &set.security) < 0 ||
	    imap_auth_parse(cfg->auth, &auth) < 0) {
		*error_r = "bad security or auth (configuration)";
		return -1;
	}
	mb_disconnect(mb);
	mb->conn = imap_new(&set);
	if (imap_connect(mb->conn, error_r) < 0)
		return -1;
	const char *why;
	char *secret = get_secret(mb, &why);
	if (secret == NULL) {
		/* a credential we cannot even read: as loud as a rejection */
		log_error("mailbox=%s: cannot obtain the %s: %s", cfg->name,
			  is_oauth(cfg) ? "access token" : "password", why);
		*error_r = errf("no credentials: %s", why);
		imap_logout(mb->conn);
		return -1;
	}
	int r = imap_login(mb->conn, auth, cfg->username, secret, error_r);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (r < 0)
		return -1;
	if (imap_select(mb->conn, cfg->folder, &info, error_r) < 0)
		return -1;
	mb->uidvalidity = info.uidvalidity;
	mb->keywords_ok = info.keywords_allowed;
	mb->can_idle = cfg->idle && imap_has_capability(mb->conn, "IDLE");
	mb->caught_up = 0;
	if (info.read_only)
		log_warnx("mailbox=%s: folder %s is read-only: messages cannot be marked",
			  cfg->name, log_safe(cfg->folder, 100));
	log_info("mailbox=%s: connected to %s, folder %s: %u messages, uidvalidity %u%s",
		 cfg->name, imap_describe(mb->conn), log_safe(cfg->folder, 100), info.exists,
		 info.uidvalidity,
		 mb->poller->opt.once ? ""
		 : mb->can_idle	      ? ", IDLE"
		 : cfg->idle	      ? ", no IDLE: polling"
				      : ", polling");
	return 0;
}

/* ---- syncing ------------------------------------------------------------------------ */


static int
on_message(void *context, uint32_t uid, const unsigned char *data, size_t len)
{
	struct batch *b = context;
	struct mbox *mb = b->mb;
	struct ingest_source source = {
		.label = mb->label,
		.mailbox = mb->cfg->name,
		.uidvalidity = mb->uidvalidity,
		.uid = uid,
	};
	struct ingest_result result;
	const char *error;

	if (ingest_message(mb->poller->ingest, data, len, &source, &result, &error) < 0) {
		b->store_failed = 1;
		b->store_error = xstrdup(error);
		return -1;
	}
	/* both arrays have room for the whole batch (imap_fetch hands over
	   only UIDs it was asked for, each once) */
	if (b->n_done < b->cap)
		b->done[b->n_done++] = uid;
	if (result.outcome == INGEST_QUARANTINED && b->n_quarantined < b->cap)
		b->quarantined[b->n_quarantined++] = uid;
	b->bytes += len;
	mb->done++;
	if (mb->total > 0)
		progress(mb, 0);
	return 0;
}

/* Mark committed messages: \Seen or moved; quarantined ones get the
   keyword first (where keywords are allowed). */
static int
mark(struct mbox *mb, const uint32_t *uids, size_t n, const uint32_t *quarantined, size_t nq,
     const char **error_r)
{
	if (n == 0)
		return 0;
	if (nq > 0 && mb->keywords_ok &&
	    imap_add_flags(mb->conn, quarantined, nq, !mb->move, QUARANTINE_KEYWORD, error_r) < 0)
		return -1;
	if (!mb->move)
		return imap_add_flags(mb->conn, uids, n, 1, NULL, error_r);
	if (imap_move(mb->conn, uids, n, mb->cfg->move_to, error_r) == 0)
		return 0;
	if (imap_failure(mb->conn) != IMAP_FAIL_SERVER || mb->create_tried)
		return -1;
	/* perhaps the folder does not exist: create it once and try again */
	mb->create_tried = 1;
	const char *why;
	if (imap_create(mb->conn, mb->cfg->move_to, &why) < 0 &&
	    imap_failure(mb->conn) != IMAP_FAIL_SERVER)
		return -1;
	log_info("mailbox=%s: created folder %s for after = move", mb->cfg->name,
		 log_safe(mb->cfg->move_to, 100));
	return imap_move(mb->conn, uids, n, mb->cfg->move_to, error_r);
}

/* What an earlier run committed but did not mark (it crashed, or the
   connection broke, between the commit and the flag): everything at or
   below the checkpoint that is still unseen (seen mode) or still in the
   folder (move mode). */
static int
catch_up(struct mbox *mb, uint32_t last_uid, const char **error_r)
{
	uint32_t *uids;
	size_t n;
	if (imap_uid_search(mb->conn, 1, last_uid, !mb->move, &uids, &n, error_r) < 0)
		return -1;
	int ret = 0;
	if (n > 0) {
		log_info("mailbox=%s: %zu committed message(s) not yet %s (interrupted earlier); "
			 "marking them now",
			 mb->cfg->name, n, mb->move ? "moved" : "flagged");
		ret = mark(mb, uids, n, NULL, 0, error_r);
	}
	free(uids);
	if (ret == 0)
		mb->caught_up = 1;
	return ret;
}

enum sync_result { SYNC_OK, SYNC_MORE, SYNC_IMAP_FAILED, SYNC_STORE_FAILED };

/* One batch: fetch, ingest, commit, then mark. */
static enum sync_result
sync_batch(struct mbox *mb, const uint32_t *uids, size_t n, const char **error_r)
{
	struct poller *p = mb->poller;
	struct batch b = {
		.mb = mb,
		.done = xcalloc(n + 1, sizeof(uint32_t)),
		.quarantined = xcalloc(n + 1, sizeof(uint32_t)),
		.cap = n,
	};
	const char *error;
	enum sync_result ret = SYNC_OK;

	if (ingest_batch_begin(p->ingest, &error) < 0) {
		*error_r = errf("store: %s", error);
		return SYNC_STORE_FAILED;
	}
	size_t done_before = mb->done;
	int fetch_r = imap_fetch(mb->conn, uids, n, (size_t)p->config->limits.max_message_size,
				 on_message, &b, error_r);
	if (b.store_failed) {
		ingest_batch_rollback(p->ingest);
		mb->done = done_before;
		*error_r = errf("store: %s", b.store_error);
		ret = SYNC_STORE_FAILED;
		goto out;
	}
	/* What arrived whole before a broken fetch is good: commit it; the
	   next connection's catch-up marks it. */
	if (ingest_batch_commit(p->ingest, &error) < 0) {
		mb->done = done_before;
		*error_r = errf("store commit: %s", error);
		ret = SYNC_STORE_FAILED;
		goto out;
	}
	if (fetch_r < 0) {
		ret = SYNC_IMAP_FAILED;
		goto out;
	}
	if (mark(mb, b.done, b.n_done, b.quarantined, b.n_quarantined, error_r) < 0)
		ret = SYNC_IMAP_FAILED;
out:
	free(b.done);
	free(b.quarantined);
	free(b.store_error);
	return ret;
}

/* Start a sync: checkpoint, UIDVALIDITY, catch-up, and the list of new
   UIDs into mb->pending. */
static enum sync_result
sync_start(struct mbox *mb, const char **error_r)
{
	struct poller *p = mb->poller;
	const struct config_mailbox *cfg = mb->cfg;
	uint32_t uidvalidity, last_uid;
	const char *error;

	/* what the server announced so far is covered by the search below;
	   what it announces from now on calls for another sync */
	(void)imap_take_changes(mb->conn);
	if (store_mailbox_get(p->store, cfg->name, &uidvalidity, &last_uid, &error) < 0) {
		*error_r = errf("store: %s", error);
		return SYNC_STORE_FAILED;
	}
	if (uidvalidity != 0 && uidvalidity != mb->uidvalidity) {
		log_warnx("mailbox=%s: UIDVALIDITY changed from %u to %u (folder recreated?): "
			  "reading the whole folder again; duplicates are recognised by content",
			  cfg->name, uidvalidity, mb->uidvalidity);
		if (store_mailbox_set(p->store, cfg->name, mb->uidvalidity, 0, &error) < 0) {
			*error_r = errf("store: %s", error);
			return SYNC_STORE_FAILED;
		}
		last_uid = 0;
		mb->caught_up = 1;
	} else if (uidvalidity == 0) {
		last_uid = 0;
	}
	if (!mb->caught_up && last_uid > 0 && catch_up(mb, last_uid, error_r) < 0)
		return SYNC_IMAP_FAILED;
	mb->caught_up = 1;

	if (imap_uid_search(mb->conn, last_uid + 1, 0, 0, &mb->pending, &mb->n_pending,
			    error_r) < 0)
		return SYNC_IMAP_FAILED;
	mb->pos = 0;
	mb->total = mb->n_pending;
	mb->done = 0;
	mb->started = mb->last_log = now_mono();
	mb->last_bar = 0;
	if (mb->n_pending >= 100 || (mb->n_pending > 0 && p->opt.progress_bar))
		log_info("mailbox=%s: %zu new message(s) above uid %u", cfg->name, mb->n_pending,
			 last_uid);
	return SYNC_OK;
}

static void
sync_end(struct mbox *mb)
{
	x_free(&mb->pending);
	mb->n_pending = mb->pos = 0;
	mb->total = 0;
}

/* One step of a sync: start it, or do its next batch. A long backlog thus
   takes turns with the other mailboxes, signals and timers. */
static enum sync_result
mb_sync(struct mbox *mb, const char **error_r)
{
	enum sync_result ret;

	if (mb->pending == NULL) {
		ret = sync_start(mb, error_r);
		if (ret != SYNC_OK) {
			sync_end(mb);
			return ret;
		}
	}
	if (mb->pos < mb->n_pending) {
		size_t batch = (size_t)mb->cfg->batch_size;
		size_t k = mb->n_pending - mb->pos < batch ? mb->n_pending - mb->pos : batch;
		ret = sync_batch(mb, mb->pending + mb->pos, k, error_r);
		if (ret != SYNC_OK) {
			bar_clear(mb->poller);
			sync_end(mb);
			return ret;
		}
		mb->pos += k;
		if (mb->pos < mb->n_pending)
			return SYNC_MORE;
	}
	if (mb->total > 0)
		progress(mb, 1);
	sync_end(mb);
	return SYNC_OK;
}

/* ---- the state machine ------------------------------------------------------------------ */

static void
mb_after_sync(struct mbox *mb)
{
	struct poller *p = mb->poller;
	const char *error;
	mb->failures = 0;
	if (p->opt.once) {
		mb->state = MB_DONE;
		return;
	}
	if (mb->can_idle) {
		if (imap_idle_start(mb->conn, &error) < 0) {
			mb_failed(mb, error);
			return;
		}
		mb->state = MB_IDLE;
		mb->due = now_mono() + (double)mb->cfg->idle_interval;
	} else {
		mb->state = MB_WAIT;
		mb->due = now_mono() + (double)mb->cfg->poll_interval;
	}
}

static void
mb_step(struct mbox *mb)
{
	struct poller *p = mb->poller;
	const char *error;

	if (mb->state == MB_CONNECT && now_mono() >= mb->due) {
		if (mb_connect(mb, &error) < 0) {
			mb_failed(mb, error);
			return;
		}
		mb->state = MB_SYNC;
	}
	if (mb->state != MB_SYNC || p->stop)
		return;
	switch (mb_sync(mb, &error)) {
	case SYNC_MORE:
		break; /* still MB_SYNC: the next batch on the next turn */
	case SYNC_OK:
		if (p->stop)
			return;
		/* New mail announced inside a response to one of the sync's own
		   commands (an EXISTS with the FETCH or STORE): the server will
		   not repeat it in IDLE, so look again now. */
		if (!p->opt.once && imap_take_changes(mb->conn)) {
			log_debug("mailbox=%s: the folder changed during the sync, syncing again",
				  mb->cfg->name);
			mb->failures = 0;
			break; /* still MB_SYNC */
		}
		mb_after_sync(mb);
		break;
	case SYNC_IMAP_FAILED:
		mb_failed(mb, error);
		break;
	case SYNC_STORE_FAILED: {
		/* the connection is fine; the store is not: nothing was marked,
		   try again later */
		mb->failures++;
		double delay = retry_delay(&reconnect_policy, mb->failures);
		bar_clear(p);
		log_error("mailbox=%s: %s; nothing marked, retrying in %.0f s", mb->cfg->name, error,
			  delay);
		if (p->opt.once && mb->failures >= ONCE_MAX_ATTEMPTS) {
			mb->state = MB_DONE;
			mb->failed = 1;
			break;
		}
		mb->state = MB_WAIT;
		mb->due = now_mono() + delay;
		break;
	}
	}
}

/* End IDLE for a mailbox whose server spoke or whose IDLE is due again. */
static void
mb_wake(struct mbox *mb)
{
	const char *error;
	if (imap_idle_done(mb->conn, &error) < 0) {
		mb_failed(mb, error);
		return;
	}
	mb->state = MB_SYNC;
}

static struct mbox *
mbox_new(struct poller *p, const struct config_mailbox *cfg)
{
	struct mbox *mb = xcalloc(1, sizeof(*mb));
	mb->poller = p;
	mb->cfg = cfg;
	mb->label = xasprintf("mailbox:%s", cfg->name);
	mb->move = strcmp(cfg->after, "move") == 0;
	mb->state = MB_CONNECT;
	mb->due = 0;
	return mb;
}

static void
mbox_free(struct mbox **mbp)
{
	struct mbox *mb = *mbp;
	if (mb == NULL)
		return;
	mb_disconnect(mb);
	forget_token(mb);
	free(mb->label);
	free(mb);
	*mbp = NULL;
}

/* ---- reload ------------------------------------------------------------------------------ */

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
mailbox_config_equal(const struct config_mailbox *a, const struct config_mailbox *b)
{
	return str_eq(a->name, b->name) && str_eq(a->host, b->host) && a->port == b->port &&
	       str_eq(a->security, b->security) && str_eq(a->ca_file, b->ca_file) &&
	       a->tls_verify == b->tls_verify && str_eq(a->username, b->username) &&
	       str_eq(a->password, b->password) && str_eq(a->password_file, b->password_file) &&
	       str_eq(a->auth, b->auth) && str_eq(a->token_command, b->token_command) &&
	       str_eq(a->token_file, b->token_file) && str_eq(a->folder, b->folder) &&
	       str_eq(a->after, b->after) && str_eq(a->move_to, b->move_to) &&
	       a->idle == b->idle && a->idle_interval == b->idle_interval &&
	       a->poll_interval == b->poll_interval && a->batch_size == b->batch_size &&
	       a->timeout == b->timeout;
}

static void
poller_reload(struct poller *p)
{
	struct config *config;
	const char *error;

	p->reload = 0;
	if (config_load(p->config->path, &config, &error) < 0) {
		log_error("reload: %s; keeping the running configuration", error);
		return;
	}
	/* rules, templates, threading secret: all of it must load, or the
	   running configuration stays */
	struct ingest *ingest;
	if (ingest_init(config, p->store, &ingest, &error) < 0) {
		log_error("reload: %s; keeping the running configuration", error);
		config_free(&config);
		return;
	}
	if (!str_eq(config->database, p->config->database) ||
	    !str_eq(config->state_dir, p->config->state_dir))
		log_warnx("reload: state_dir and database changes take effect after a restart");
	if (!p->opt.keep_log_level) {
		enum log_level level;
		if (log_level_parse(config->log_level, &level) == 0)
			log_set_level(level);
	}

	struct mbox **next = xcalloc(config->n_mailboxes + 1, sizeof(*next));
	size_t kept = 0, started = 0;
	for (size_t i = 0; i < config->n_mailboxes; i++) {
		const struct config_mailbox *cfg = &config->mailboxes[i];
		for (size_t k = 0; k < p->n_mboxes; k++) {
			struct mbox *old = p->mboxes[k];
			if (old != NULL && mailbox_config_equal(old->cfg, cfg)) {
				old->cfg = cfg;
				next[i] = old;
				p->mboxes[k] = NULL;
				kept++;
				break;
			}
		}
		if (next[i] == NULL) {
			next[i] = mbox_new(p, cfg);
			started++;
		}
	}
	size_t stopped = 0;
	for (size_t k = 0; k < p->n_mboxes; k++) {
		if (p->mboxes[k] != NULL) {
			mbox_free(&p->mboxes[k]);
			stopped++;
		}
	}
	free(p->mboxes);
	p->mboxes = next;
	p->n_mboxes = config->n_mailboxes;

	/* ingest keeps pointers into the configuration: a new one for the new */
	ingest_free(&p->ingest);
	p->ingest = ingest;
	config_free(&p->config);
	p->config = config;
	p->generation++;
	log_info("reload: %s: %zu mailbox(es) unchanged, %zu (re)started, %zu stopped",
		 config->path, kept, started, stopped);
}

/* ---- the loop ---------------------------------------------------------------------------- */

struct poller *
poller_new(struct config *config, struct store *store, const struct poller_options *options)
{
	struct poller *p = xcalloc(1, sizeof(*p));

	p->config = config;
	p->store = store;
	p->opt = *options;
	p->sigfd = -1;
	p->ingest = ingest_new(config, store);
	p->n_mboxes = config->n_mailboxes;
	p->mboxes = xcalloc(p->n_mboxes + 1, sizeof(*p->mboxes));
	for (size_t i = 0; i < p->n_mboxes; i++)
		p->mboxes[i] = mbox_new(p, &config->mailboxes[i]);
	return p;
}

void
poller_free(struct poller **pp)
{
	struct poller *p = *pp;
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_mboxes; i++)
		mbox_free(&p->mboxes[i]);
	free(p->mboxes);
	free(p->timers);
	ingest_free(&p->ingest);
	config_free(&p->config);
	if (p->sigfd >= 0) {
		close(p->sigfd);
		sigprocmask(SIG_SETMASK, &p->oldmask, NULL);
	}
	free(p);
	*pp = NULL;
}

const struct config *
poller_config(const struct poller *p)
{
	return p->config;
}

unsigned long
poller_config_generation(const struct poller *p)
{
	return p->generation;
}

void
poller_add_timer(struct poller *p, unsigned interval, void (*fn)(void *context), void *context)
{
	p->timers = xreallocarray(p->timers, p->n_timers + 1, sizeof(*p->timers));
	p->timers[p->n_timers++] = (struct timer){
		.interval = interval > 0 ? interval : 1,
		.due = 0,
		.fn = fn,
		.context = context,
	};
}

static int
all_done(const struct poller *p)
{
	for (size_t i = 0; i < p->n_mboxes; i++)
		if (p->mboxes[i]->state != MB_DONE)
			return 0;
	return 1;
}

/* Wait for a server to speak, a timer or a signal. */
static void
wait_events(struct poller *p)
{
	struct pollfd *pfd = xcalloc(p->n_mboxes + 1, sizeof(*pfd));
	struct mbox **who = xcalloc(p->n_mboxes + 1, sizeof(*who));
	size_t n = 0;
	double now = now_mono(), until = now + 3600;
	int ready_now = 0;

	pfd[n].fd = p->sigfd;
	pfd[n].events = POLLIN;
	who[n++] = NULL;
	for (size_t i = 0; i < p->n_mboxes; i++) {
		struct mbox *mb = p->mboxes[i];
		switch (mb->state) {
		case MB_SYNC:
			ready_now = 1;
			break;
		case MB_IDLE:
			if (imap_idle_pending(mb->conn)) {
				mb_wake(mb);
				ready_now = 1;
				break;
			}
			pfd[n].fd = imap_idle_fd(mb->conn);
			pfd[n].events = POLLIN;
			who[n++] = mb;
			/* fall through */
		case MB_CONNECT:
		case MB_WAIT:
			if (mb->due < until)
				until = mb->due;
			break;
		case MB_DONE:
			break;
		}
	}
	for (size_t i = 0; i < p->n_timers; i++)
		if (p->timers[i].due < until)
			until = p->timers[i].due;

	double wait = ready_now ? 0 : until - now;
	if (wait < 0)
		wait = 0;
	struct timespec ts = { .tv_sec = (time_t)wait,
			       .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9) };
	int r = ppoll(pfd, n, &ts, NULL);
	if (r < 0 && errno != EINTR)
		log_warn("ppoll");
	if (r > 0) {
		if (pfd[0].revents & POLLIN)
			signals_drain(p);
		for (size_t i = 1; i < n; i++)
			if (pfd[i].revents != 0 && who[i]->state == MB_IDLE)
				mb_wake(who[i]);
	}
	now = now_mono();
	for (size_t i = 0; i < p->n_mboxes; i++) {
		struct mbox *mb = p->mboxes[i];
		if (mb->state == MB_IDLE && now >= mb->due) {
			/* re-issue IDLE before the server's inactivity timeout */
			log_debug("mailbox=%s: IDLE interval over, re-issuing", mb->cfg->name);
			mb_wake(mb);
		} else if (mb->state == MB_WAIT && now >= mb->due) {
			mb->state = MB_SYNC;
		}
	}
	free(pfd);
	free(who);
}

static void
run_timers(struct poller *p)
{
	double now = now_mono();
	for (size_t i = 0; i < p->n_timers; i++) {
		struct timer *t = &p->timers[i];
		if (now >= t->due) {
			t->fn(t->context);
			t->due = now_mono() + t->interval;
		}
	}
}

int
poller_run(struct poller *p)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &p->oldmask) < 0)
		fatal(EXIT_FAILURE, "sigprocmask: %s", strerror(errno));
	p->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p->sigfd < 0)
		fatal(EXIT_FAILURE, "signalfd: %s", strerror(errno));

	if (p->n_mboxes == 0)
		log_warnx("no [mailbox NAME] section in %s: nothing to poll", p->config->path);
	else
		log_info("polling %zu mailbox(es)%s", p->n_mboxes, p->opt.once ? " once" : "");

	while (!p->stop) {
		for (size_t i = 0; i < p->n_mboxes && !p->stop; i++) {
			mb_step(p->mboxes[i]);
			signals_drain(p);
		}
		if (p->stop || (p->opt.once && all_done(p)))
			break;
		run_timers(p);
		wait_events(p);
		if (p->reload && !p->stop)
			poller_reload(p);
	}

	int failed = 0;
	for (size_t i = 0; i < p->n_mboxes; i++) {
		struct mbox *mb = p->mboxes[i];
		failed |= mb->failed || (p->opt.once && !p->stop && mb->state != MB_DONE);
		mb_disconnect(mb);
	}
	bar_clear(p);
	log_info("stopped");
	return failed ? 1 : 0;
}
