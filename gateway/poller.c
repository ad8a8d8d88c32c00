/*
 * poller: see poller.h. Signals are blocked for the whole run and read
 * from a signalfd: libetpan's reads fail on EINTR, so a signal must never
 * interrupt one; between batches the signalfd is read without waiting, and
 * in the idle wait it is one of the polled descriptors. The sync of a
 * mailbox (batches, marks, the checkpoint) is in poller-sync.c.
 */
#include "build-config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/credential.h"
#include "gateway/imap.h"
#include "gateway/lease.h"
#include "gateway/ingest.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/notify.h"
#include "gateway/outage.h"
#include "gateway/poller-int.h"
#include "gateway/poller.h"
#include "gateway/retry.h"
#include "gateway/store.h"
#include "gateway/store/store-lease.h"
#include "base/clock.h"
#include "base/util.h"

/* ---- signals ------------------------------------------------------------- */

static void
handle_signal(struct poller *p, int sig)
{
	if (sig == SIGTERM || sig == SIGINT) {
		if (!p->stop) {
			log_info("signal %d: finishing the current batch, then stopping", sig);
			notify_stopping();
		}
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

void
poller_bar_clear(struct poller *p)
{
	if (p->bar_drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->bar_drawn = 0;
	}
}

void
poller_progress(struct mbox *mb, int final)
{
	struct poller *p = mb->poller;
	double now = clock_mono();
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
/* A batch that lost to another gateway's transaction (store_conflicts()):
   again almost at once, at a random moment so that the two do not meet
   again; after CONFLICT_RETRIES in a row it counts as a store failure. */
static const struct retry_policy conflict_policy = { .initial = 0.05, .max = 2, .jitter = 0.9 };
#define CONFLICT_RETRIES 30


static void
mb_disconnect(struct mbox *mb)
{
	const char *error;
	if (poller_marks_forget(mb, &error) < 0)
		log_warnx("mailbox=%s: %s (those marks will be made again, harmlessly)",
			  mb->cfg->name, error);
	poller_sync_end(mb);
	if (mb->conn != NULL) {
		imap_logout(mb->conn);
		imap_free(&mb->conn);
	}
}

/* ---- outages: a mailbox that cannot log in -------------------------------------------- */

/* A login refused, or no credentials to log in with: after [alerts] after
   of them in a row, the outage begins (one alert, outage.h). */
static void
auth_failed(struct mbox *mb, const char *error)
{
	struct poller *p = mb->poller;
	const char *why;
	if (outage_streak_failed(mb->auth, p->outage, p->config->alerts.after, "failed logins",
				 error, (int64_t)time(NULL), &why) < 0)
		log_error("mailbox=%s: cannot record the outage (tried again at the next failure): "
			  "%s",
			  mb->cfg->name, why);
}

static struct outage *
poller_outage_new(const struct config *config, struct store *store)
{
	struct outage *o;
	const char *error;
	if (outage_new(config, store, &o, &error) < 0) {
		log_error("outage alerts are off: %s", error);
		return NULL;
	}
	/* Outages of what this configuration no longer has (a mailbox
	   removed, another relay) would stay open for ever: close them. */
	char **known = xcalloc(config->n_mailboxes + 1, sizeof(*known));
	for (size_t i = 0; i < config->n_mailboxes; i++)
		known[i] = outage_subject_mailbox(config->mailboxes[i].name);
	known[config->n_mailboxes] = outage_subject_relay(config->smtp.host, config->smtp.port);
	if (outage_close_unknown(o, (const char *const *)known, config->n_mailboxes + 1,
				 (int64_t)time(NULL), &error) < 0)
		log_error("cannot close the outages of mailboxes no longer configured (tried "
			  "again at the next start or reload): %s",
			  error);
	for (size_t i = 0; i <= config->n_mailboxes; i++)
		free(known[i]);
	free(known);
	return o;
}

/* Logged in: an outage (ours, or one a previous run left open) ends. */
static void
auth_ok(struct mbox *mb)
{
	const char *why;
	if (outage_streak_ok(mb->auth, mb->poller->outage, (int64_t)time(NULL), &why) < 0)
		log_error("mailbox=%s: cannot record the end of the outage (tried again at the next "
			  "login): %s",
			  mb->cfg->name, why);
}

/* Give up on this connection and schedule the next attempt. */
static void
mb_failed(struct mbox *mb, const char *error)
{
	struct poller *p = mb->poller;
	enum imap_failure kind = mb->conn != NULL ? imap_failure(mb->conn) : IMAP_FAIL_NETWORK;
	mb->failures++;
	double delay = retry_delay(&reconnect_policy, mb->failures);
	free(mb->last_error);
	mb->last_error = xstrdup(error);
	if (kind == IMAP_FAIL_AUTH || mb->cred_failed)
		auth_failed(mb, error);
	mb->cred_failed = 0;

	poller_bar_clear(p);
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
	mb->due = clock_mono() + delay;
}

/* ---- connecting ------------------------------------------------------------------ */

/* One connection attempt: TCP, TLS, login, SELECT. The network part runs
   without the store, so that several mailboxes can connect at once on
   threads (connect_due()); what touches the store or the poller (the
   outage, the log of the result) is done afterwards on the loop's thread
   (mb_connect_done()). */
struct mb_attempt {
	int ret;       /* 0: selected; -1: failed with error */
	int logged_in; /* the server took our login */
	char *error;   /* a copy: errf()'s ring belongs to the thread */
	struct imap_mailbox_info info;
};

static void
mb_attempt_run(struct mbox *mb, struct mb_attempt *a)
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
	const char *error = NULL;

	memset(a, 0, sizeof(*a));
	a->ret = -1;
	if (imap_security_parse(cfg->security, &set.security) < 0 ||
	    imap_auth_parse(cfg->auth, &auth) < 0) {
		a->error = xstrdup("bad security or auth (configuration)");
		return;
	}
	mb->conn = imap_new(&set);
	if (imap_connect(mb->conn, &error) < 0)
		goto failed;
	const char *why;
	char *secret = get_secret(mb, &why);
	if (secret == NULL) {
		/* a credential we cannot even read: as loud as a rejection */
		log_error("mailbox=%s: cannot obtain the %s: %s", cfg->name,
			  is_oauth(cfg) ? "access token" : "password", why);
		mb->cred_failed = 1;
		error = errf("no credentials: %s", why);
		imap_logout(mb->conn);
		goto failed;
	}
	int r = imap_login(mb->conn, auth, cfg->username, secret, &error);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (r < 0)
		goto failed;
	a->logged_in = 1;
	if (imap_select(mb->conn, cfg->folder, &a->info, &error) < 0)
		goto failed;
	a->ret = 0;
	return;
failed:
	a->error = xstrdup(error != NULL ? error : "connection failed");
}

/* The attempt's outcome, on the loop's thread: MB_SYNC, or mb_failed(). */
static int
mb_connect_done(struct mbox *mb, struct mb_attempt *a)
{
	const struct config_mailbox *cfg = mb->cfg;
	if (a->logged_in)
		auth_ok(mb);
	if (a->ret < 0) {
		mb_failed(mb, a->error);
		x_free(&a->error);
		return -1;
	}
	const struct imap_mailbox_info *info = &a->info;
	if (mb->uidvalidity != info->uidvalidity)
		mb->n_misses = 0; /* those UIDs name other messages now */
	mb->uidvalidity = info->uidvalidity;
	mb->recheck = 1;
	mb->keywords_ok = info->keywords_allowed;
	mb->can_idle = cfg->idle && imap_has_capability(mb->conn, "IDLE");
	mb->caught_up = 0;
	if (info->read_only)
		log_warnx("mailbox=%s: folder %s is read-only: messages cannot be marked",
			  cfg->name, log_safe(cfg->folder, 100));
	log_info("mailbox=%s: connected to %s, folder %s: %u messages, uidvalidity %u%s",
		 cfg->name, imap_describe(mb->conn), log_safe(cfg->folder, 100), info->exists,
		 info->uidvalidity,
		 mb->poller->opt.once ? ""
		 : mb->can_idle	      ? ", IDLE"
		 : cfg->idle	      ? ", no IDLE: polling"
				      : ", polling");
	mb->state = MB_SYNC;
	return 0;
}

/* Connect one mailbox now: MB_SYNC, or mb_failed(). */
static int
mb_connect(struct mbox *mb)
{
	struct mb_attempt a;
	mb_disconnect(mb);
	mb_attempt_run(mb, &a);
	return mb_connect_done(mb, &a);
}

/* ---- the state machine ------------------------------------------------------------------ */

/* A sync is over: IDLE (idling: a worker started it already) or wait. */
static void
mb_after_sync(struct mbox *mb, int idling)
{
	struct poller *p = mb->poller;
	const char *error;
	mb->failures = 0;
	mb->last_sync = (int64_t)time(NULL);
	x_free(&mb->last_error);
	if (p->opt.once) {
		mb->state = MB_DONE;
		return;
	}
	if (mb->can_idle) {
		if (!idling && imap_idle_start(mb->conn, &error) < 0) {
			mb_failed(mb, error);
			return;
		}
		mb->state = MB_IDLE;
		mb->due = clock_mono() + (double)mb->cfg->idle_interval;
	} else {
		mb->state = MB_WAIT;
		mb->due = clock_mono() + (double)mb->cfg->poll_interval;
	}
}

/* Several gateways: only the holder of the mailbox's lease touches it; a
   lease lost (expired, taken over) stops it at once, before the new
   holder's acquire can succeed plus its first batch; the commit is fenced
   besides (poller-sync.c). */
/* Share the mailboxes: at most ceil(mailboxes / live gateways) each,
   counted every few seconds, so that a gateway that started first hands
   the surplus over and the survivors take a dead one's share. */
static size_t
fair_share(struct poller *p, int64_t now)
{
	const char *error;
	size_t live;
	if (p->fair_share == 0 || now - p->fair_checked >= 2) {
		if (lease_live_gateways(p->leases, now, &live, &error) < 0) {
			log_warnx("lease: %s", error);
			live = 1;
		}
		p->fair_share = (p->n_mboxes + live - 1) / live;
		p->fair_checked = now;
	}
	return p->fair_share;
}

static int
mb_leased(struct mbox *mb)
{
	struct poller *p = mb->poller;
	const char *error;
	if (p->leases == NULL)
		return 1;
	int64_t now = clock_now();
	size_t share = fair_share(p, now), held = lease_count_held(p->leases, "mailbox:");
	int r;
	if (lease_held(p->leases, mb->label, now) && held > share &&
	    (mb->state == MB_IDLE || mb->state == MB_WAIT)) {
		log_info("mailbox=%s: handed over to another gateway (%zu held, share %zu)",
			 mb->cfg->name, held, share);
		lease_drop(p->leases, mb->label);
		r = 0;
	} else if (!lease_held(p->leases, mb->label, now) && held >= share) {
		r = 0; /* our share is full: leave it to the others */
	} else {
		r = lease_hold(p->leases, mb->label, now, &error);
	}
	if (r == 1) {
		mb->leased = 1;
		return 1;
	}
	if (r < 0)
		log_warnx("mailbox=%s: lease: %s", mb->cfg->name, error);
	if (mb->leased || mb->conn != NULL) {
		if (r < 0)
			log_warnx("mailbox=%s: lease expired while the store did not answer: "
				  "disconnected until it does",
				  mb->cfg->name);
		else
			log_warnx("mailbox=%s: lease lost: another gateway watches it now",
				  mb->cfg->name);
		mb_disconnect(mb);
	}
	mb->leased = 0;
	if (p->opt.once && r == 0) {
		log_error("mailbox=%s: watched by another gateway (its lease): skipped by --once",
			  mb->cfg->name);
		mb->state = MB_DONE;
		mb->failed = 1;
		return 0;
	}
	mb->state = MB_CONNECT;
	mb->due = clock_mono() + 1; /* try the lease again in a second */
	return 0;
}

/* Several mailboxes due to connect (start-up, a server back after an
   outage): their attempts run on up to [general] connect_concurrency
   threads at once, each on its own mailbox, and their outcomes are then
   handled here in order. One due alone connects in mb_step(). The
   threads block the signals as this one does (inherited mask). */
struct connect_pool {
	struct mbox **due;
	struct mb_attempt *attempts;
	atomic_int *done; /* attempts[i] is complete */
	size_t n;
	atomic_size_t next;
};

static void *
connect_worker(void *arg)
{
	struct connect_pool *pool = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&pool->next, 1);
		if (i >= pool->n)
			break;
		mb_attempt_run(pool->due[i], &pool->attempts[i]);
		atomic_store(&pool->done[i], 1);
	}
	return NULL;
}

static void run_timers(struct poller *p);
static void work_collect(struct poller *p);

static void
connect_due(struct poller *p)
{
	size_t max = (size_t)p->config->connect_concurrency;
	if (max < 2 || p->n_mboxes < 2)
		return;
	double now = clock_mono();
	struct mbox **due = xcalloc(p->n_mboxes, sizeof(*due));
	size_t n = 0;
	for (size_t i = 0; i < p->n_mboxes && !p->stop; i++) {
		struct mbox *mb = p->mboxes[i];
		if (mb->state != MB_CONNECT || now < mb->due || !mb_leased(mb))
			continue;
		if (mb->state == MB_CONNECT)
			due[n++] = mb;
	}
	if (n >= 2) {
		struct connect_pool pool = { due, xcalloc(n, sizeof(struct mb_attempt)),
					     xcalloc(n, sizeof(atomic_int)), n, 0 };
		size_t n_threads = n < max ? n : max, started = 0;
		pthread_t *th = xcalloc(n_threads, sizeof(*th));
		for (size_t i = 0; i < n; i++) {
			mb_disconnect(due[i]);
			atomic_init(&pool.done[i], 0);
		}
		for (size_t t = 0; t < n_threads; t++) {
			int err = pthread_create(&th[t], NULL, connect_worker, &pool);
			if (err != 0) {
				log_warnx("cannot start a connection thread: %s", strerror(err));
				break;
			}
			started++;
		}
		if (started == 0)
			connect_worker(&pool); /* one after another, on this thread */
		/* Outcomes as they come; meanwhile the timers run, so that the
		   leases are renewed while a slow server keeps an attempt
		   waiting (up to its timeout). */
		char *handled = xcalloc(n, 1);
		size_t n_handled = 0, ok = 0;
		for (;;) {
			for (size_t i = 0; i < n; i++) {
				if (handled[i] || !atomic_load(&pool.done[i]))
					continue;
				handled[i] = 1;
				n_handled++;
				ok += mb_connect_done(due[i], &pool.attempts[i]) == 0;
			}
			if (n_handled == n)
				break;
			work_collect(p);
			run_timers(p);
			signals_drain(p);
			struct timespec ts = { 0, 20 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		for (size_t t = 0; t < started; t++)
			pthread_join(th[t], NULL);
		log_info("connected %zu of %zu mailboxes in %.2f s (%zu at a time)", ok, n,
			 clock_mono() - now, started > 0 ? started : 1);
		free(handled);
		free(th);
		free(pool.done);
		free(pool.attempts);
	}
	free(due);
}

/* A sync step's failure (or a batch lost to another gateway). */
static void
mb_sync_failed(struct mbox *mb, enum sync_result sr, uint64_t conflicts, const char *error)
{
	struct poller *p = mb->poller;
	if (sr == SYNC_IMAP_FAILED) {
		mb_failed(mb, error);
		return;
	}
	if (store_conflicts(p->store) > conflicts && mb->conflicts < CONFLICT_RETRIES) {
		/* another gateway's transaction won: nothing was marked,
		   nothing is wrong; the batch again soon (it then finds the
		   other's rows: the duplicate path) */
		mb->conflicts++;
		double delay = retry_delay(&conflict_policy, mb->conflicts);
		log_info("mailbox=%s: %s; another gateway's transaction won, nothing "
			 "marked, the batch again in %.2f s",
			 mb->cfg->name, error, delay);
		mb->state = MB_WAIT;
		mb->due = clock_mono() + delay;
		return;
	}
	/* the connection is fine; the store is not: nothing was marked, try
	   again later */
	mb->failures++;
	double delay = retry_delay(&reconnect_policy, mb->failures);
	free(mb->last_error);
	mb->last_error = xstrdup(error);
	metrics_inc(METRIC_STORE_ERRORS, "ingest");
	poller_bar_clear(p);
	log_error("mailbox=%s: %s; nothing marked, retrying in %.0f s", mb->cfg->name, error,
		  delay);
	if (p->opt.once && mb->failures >= ONCE_MAX_ATTEMPTS) {
		mb->state = MB_DONE;
		mb->failed = 1;
		return;
	}
	mb->state = MB_WAIT;
	mb->due = clock_mono() + delay;
}

/* End the IDLE of a woken mailbox here, on the loop's thread. */
static int
mb_idle_end(struct mbox *mb)
{
	const char *error;
	mb->state = MB_SYNC;
	if (imap_idle_done(mb->conn, &error) < 0) {
		mb_failed(mb, error);
		return -1;
	}
	return 0;
}

static void
mb_step(struct mbox *mb)
{
	struct poller *p = mb->poller;
	const char *error;

	if (mb->state == MB_BUSY)
		return; /* a worker has it (mb_work_done()) */
	if (mb->state != MB_DONE && !mb_leased(mb))
		return;
	if (mb->state == MB_CONNECT && clock_mono() >= mb->due && mb_connect(mb) < 0)
		return;
	if ((mb->state != MB_SYNC && mb->state != MB_WOKEN) || p->stop)
		return;
	if (p->pool != NULL && poller_sync_work_fetch(mb)) {
		mb->state = MB_BUSY;
		work_pool_submit(p->pool, mb, 0);
		return;
	}
	if (mb->state == MB_WOKEN && mb_idle_end(mb) < 0)
		return;
	uint64_t conflicts = store_conflicts(p->store);
	enum sync_result sr = poller_sync_step(mb, &error);
	if (sr != SYNC_STORE_FAILED)
		mb->conflicts = 0;
	switch (sr) {
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
		mb_after_sync(mb, 0);
		break;
	case SYNC_IMAP_FAILED:
	case SYNC_STORE_FAILED:
		mb_sync_failed(mb, sr, conflicts, error);
		break;
	}
}

/* A worker is done with mb (poller-work.c): a fetch to commit, after
   which the marks go to a worker (ahead of the fetches waiting, so that
   the mailbox is back in IDLE soon); or marks made: the sync is over. */
static void
mb_work_done(struct mbox *mb)
{
	struct poller *p = mb->poller;
	const char *error;
	uint64_t conflicts = store_conflicts(p->store);
	enum sync_result sr;

	mb->state = MB_SYNC;
	if (mb->work.kind == WORK_FETCH) {
		sr = poller_sync_fetched(mb, &error);
		if (sr == SYNC_OK) {
			mb->conflicts = 0;
			mb->state = MB_BUSY;
			work_pool_submit(p->pool, mb, 1);
			return;
		}
	} else {
		sr = poller_sync_marked(mb, &error);
		if (sr == SYNC_OK && mb->work.changed) {
			/* as in mb_step(): announced during the sync, not again */
			log_debug("mailbox=%s: the folder changed during the sync, syncing again",
				  mb->cfg->name);
			mb->failures = 0;
		} else if (sr == SYNC_OK) {
			mb_after_sync(mb, mb->work.idling);
		}
	}
	poller_work_clear(&mb->work);
	if (sr != SYNC_STORE_FAILED)
		mb->conflicts = 0;
	if (sr == SYNC_IMAP_FAILED || sr == SYNC_STORE_FAILED)
		mb_sync_failed(mb, sr, conflicts, error);
	/* SYNC_MORE: a backlog; its batches on this thread (mb_step()) */
}

/* Take back the mailboxes whose jobs are done. */
static void
work_collect(struct poller *p)
{
	struct mbox *mb;
	while (p->pool != NULL && (mb = work_pool_take(p->pool)) != NULL)
		mb_work_done(mb);
}

/* Finish every job in flight (a fetch is committed, then marked), with
   the timers running: before a reload and at the end. */
static void
work_drain(struct poller *p)
{
	while (p->pool != NULL && work_pool_in_flight(p->pool) > 0) {
		struct pollfd pfd = { .fd = work_pool_fd(p->pool), .events = POLLIN };
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			log_warn("poll");
		work_collect(p);
		run_timers(p);
		signals_drain(p);
	}
}

/* A mailbox whose server spoke or whose IDLE is due again: its IDLE is
   ended (DONE) by the sync, on a worker or here (mb_step()). */
static void
mb_wake(struct mbox *mb)
{
	mb->state = MB_WOKEN;
}

static struct mbox *
mbox_new(struct poller *p, const struct config_mailbox *cfg)
{
	struct mbox *mb = xcalloc(1, sizeof(*mb));
	mb->poller = p;
	mb->cfg = cfg;
	mb->label = xasprintf("mailbox:%s", cfg->name);
	char *subject = outage_subject_mailbox(cfg->name);
	mb->auth = outage_streak_new(subject);
	free(subject);
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
	if (mb->poller->leases != NULL)
		lease_drop(mb->poller->leases, mb->label);
	forget_token(mb);
	free(mb->misses);
	free(mb->marked);
	free(mb->last_error);
	free(mb->label);
	outage_streak_free(&mb->auth);
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
				/* the limits may have changed: held messages that
				   were too large may fit now; look at once */
				old->recheck = 1;
				if (old->state == MB_IDLE)
					mb_wake(old);
				else if (old->state == MB_WAIT)
					old->due = 0;
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
	outage_free(&p->outage);
	p->outage = poller_outage_new(config, p->store);
	if (config->sync_concurrency != p->config->sync_concurrency ||
	    (p->n_mboxes > 0) != (p->pool != NULL)) {
		/* no job is in flight (work_drain()) */
		work_pool_free(&p->pool);
		if (p->n_mboxes > 0)
			p->pool = work_pool_new((size_t)config->sync_concurrency);
	}
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
	p->outage = poller_outage_new(config, store);
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
	work_pool_free(&p->pool); /* poller_run() drained it */
	for (size_t i = 0; i < p->n_mboxes; i++)
		mbox_free(&p->mboxes[i]);
	free(p->mboxes);
	free(p->timers);
	ingest_free(&p->ingest);
	outage_free(&p->outage);
	config_free(&p->config);
	if (p->sigfd >= 0) {
		close(p->sigfd);
		sigprocmask(SIG_SETMASK, &p->oldmask, NULL);
	}
	free(p);
	*pp = NULL;
}

void
poller_set_leases(struct poller *p, struct lease_set *leases)
{
	p->leases = leases;
	if (leases == NULL || !p->config->store.listen)
		return;
	const char *error;
	int r = store_wake_listen(p->store, &error);
	if (r < 0)
		log_warnx("store: %s; polling only", error);
	p->listening = r == 1;
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

void
poller_add_wake_timer(struct poller *p, unsigned interval, void (*fn)(void *context),
		      void *context)
{
	poller_add_timer(p, interval, fn, context);
	p->timers[p->n_timers - 1].wake = 1;
}

/* What the store's wake says (enum store_wake): 1 when something is due
   now. A wake is only a hint: what it makes due would run at its next
   poll anyway. */
static int
wake_apply(struct poller *p, int wake)
{
	int due = 0;
	if (wake & STORE_WAKE_OUTBOX) {
		for (size_t i = 0; i < p->n_timers; i++)
			if (p->timers[i].wake) {
				p->timers[i].due = 0;
				due = 1;
			}
	}
	if (wake & STORE_WAKE_LEASE) {
		p->fair_share = 0; /* count the live gateways again */
		for (size_t i = 0; i < p->n_mboxes; i++) {
			struct mbox *mb = p->mboxes[i];
			if (!mb->leased && mb->state == MB_CONNECT) {
				mb->due = 0;
				due = 1;
			}
		}
	}
	return due;
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
	struct pollfd *pfd = xcalloc(p->n_mboxes + 3, sizeof(*pfd));
	struct mbox **who = xcalloc(p->n_mboxes + 3, sizeof(*who));
	size_t n = 0, wake_at = 0;
	double now = clock_mono(), until = now + 3600;
	int ready_now = 0;

	pfd[n].fd = p->sigfd;
	pfd[n].events = POLLIN;
	who[n++] = NULL;
	if (p->pool != NULL) {
		/* a job done: taken back at the top of the loop */
		pfd[n].fd = work_pool_fd(p->pool);
		pfd[n].events = POLLIN;
		who[n++] = NULL;
	}
	if (p->listening) {
		/* wakes read with other statements' answers wait in the store */
		ready_now = wake_apply(p, store_wake_take(p->store));
		int fd = store_wake_fd(p->store);
		if (fd >= 0) {
			wake_at = n;
			pfd[n].fd = fd;
			pfd[n].events = POLLIN;
			who[n++] = NULL;
		}
	}
	for (size_t i = 0; i < p->n_mboxes; i++) {
		struct mbox *mb = p->mboxes[i];
		switch (mb->state) {
		case MB_SYNC:
		case MB_WOKEN:
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
		case MB_BUSY:
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
		if (wake_at > 0 && pfd[wake_at].revents != 0)
			(void)wake_apply(p, store_wake_take(p->store));
		for (size_t i = 1; i < n; i++)
			if (who[i] != NULL && pfd[i].revents != 0 && who[i]->state == MB_IDLE)
				mb_wake(who[i]);
	}
	now = clock_mono();
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
	double now = clock_mono();
	for (size_t i = 0; i < p->n_timers; i++) {
		struct timer *t = &p->timers[i];
		if (now >= t->due) {
			t->fn(t->context);
			t->due = clock_mono() + t->interval;
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
	/* after the signals are blocked: the workers inherit the mask */
	if (p->n_mboxes > 0)
		p->pool = work_pool_new((size_t)p->config->sync_concurrency);

	while (!p->stop) {
		connect_due(p);
		signals_drain(p);
		work_collect(p);
		for (size_t i = 0; i < p->n_mboxes && !p->stop; i++) {
			mb_step(p->mboxes[i]);
			signals_drain(p);
		}
		if (p->stop || (p->opt.once && all_done(p)))
			break;
		run_timers(p);
		wait_events(p);
		if (p->reload && !p->stop) {
			notify_reloading();
			work_drain(p);
			poller_reload(p);
			notify_ready();
		}
	}
	work_drain(p);
	work_pool_free(&p->pool);

	int failed = 0;
	for (size_t i = 0; i < p->n_mboxes; i++) {
		struct mbox *mb = p->mboxes[i];
		failed |= mb->failed || (p->opt.once && !p->stop && mb->state != MB_DONE);
		mb_disconnect(mb);
	}
	poller_bar_clear(p);
	log_info("stopped");
	return failed ? 1 : 0;
}

size_t
poller_status(const struct poller *p, struct poller_mb_status *status, size_t max)
{
	for (size_t i = 0; i < p->n_mboxes && i < max; i++) {
		const struct mbox *mb = p->mboxes[i];
		enum poller_mb_state st = POLLER_MB_CONNECTING;
		switch (mb->state) {
		case MB_CONNECT:
			st = outage_streak_count(mb->auth) > 0 ? POLLER_MB_AUTH_FAILED
			     : mb->failures > 0	   ? POLLER_MB_BACKOFF
						   : POLLER_MB_CONNECTING;
			break;
		case MB_SYNC:
		case MB_WOKEN:
		case MB_BUSY:
			st = POLLER_MB_SYNCING;
			break;
		case MB_IDLE:
			st = POLLER_MB_IDLE;
			break;
		case MB_WAIT:
			st = mb->failures > 0 ? POLLER_MB_BACKOFF : POLLER_MB_WAITING;
			break;
		case MB_DONE:
			st = !mb->failed		? POLLER_MB_DONE
			     : outage_streak_count(mb->auth) > 0 ? POLLER_MB_AUTH_FAILED
						     : POLLER_MB_FAILED;
			break;
		}
		status[i] = (struct poller_mb_status){
			.name = mb->cfg->name,
			.state = st,
			/* the state first: a connect thread may be setting
			   mb->conn meanwhile (connect_due()) */
			.connected = mb->state != MB_CONNECT && mb->conn != NULL,
			.failures = mb->failures,
			.last_sync = mb->last_sync,
			.last_error = mb->last_error,
			.backlog = mb->n_pending > mb->pos ? mb->n_pending - mb->pos : 0,
		};
	}
	return p->n_mboxes;
}
