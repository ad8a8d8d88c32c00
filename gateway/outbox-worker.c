/* outbox-worker: see outbox-worker.h. */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/outbox-worker.h"
#include "gateway/outbox.h"
#include "gateway/store.h"
#include "gateway/storeloc.h"
#include "base/clock.h"
#include "base/util.h"

/* rows per outbox_run_due() call: between two, a reload is looked at (the
   relay connection stays open from one call to the next: outbox.h) */
#define WORKER_RUN_MAX 100
/* the queue is looked at this often when nobody kicks (as the loop did) */
#define WORKER_INTERVAL_MS 1000

struct outbox_worker {
	pthread_t thread;
	pthread_mutex_t lock; /* guards kicked and reload; cond waits on it */
	pthread_cond_t cond;
	int kicked;
	int reload;
	atomic_int stop;
	atomic_int broken; /* the last run failed on the store or config */
	char *path;	   /* the configuration file */
	struct config *config;
	struct store *store;
	struct outbox *outbox;
	char *holder;
	int64_t ttl;
};

/* Load the configuration again; the outbox is made anew with it. A file
   that does not load keeps the running one (the poller says why too). */
static void
worker_reload(struct outbox_worker *w)
{
	struct config *config;
	const char *error;
	if (config_load(w->path, &config, &error) < 0) {
		log_warnx("outbox: reload: %s; sending with the running configuration", error);
		return;
	}
	outbox_free(&w->outbox);
	config_free(&w->config);
	w->config = config;
}

/* One run: 1 when more is due now, 0 done, -1 failed (logged once). */
static int
worker_run(struct outbox_worker *w)
{
	const char *error;
	struct outbox_run_stats stats;
	if (w->outbox == NULL) {
		if (outbox_new(w->store, w->config, &w->outbox, &error) < 0)
			goto failed;
		if (w->holder != NULL)
			outbox_set_claimant(w->outbox, w->holder, w->ttl);
		outbox_set_stop(w->outbox, &w->stop);
	}
	if (outbox_run_due(w->outbox, clock_now(), WORKER_RUN_MAX, &stats, &error) < 0)
		goto failed;
	if (atomic_exchange(&w->broken, 0))
		log_info("outbox: sending again");
	return stats.more && !stats.relay_down && !stats.stopped ? 1 : 0;
failed:
	if (!atomic_exchange(&w->broken, 1))
		log_error("outbox: %s", error);
	return -1;
}

static void *
worker_main(void *arg)
{
	struct outbox_worker *w = arg;
	while (!atomic_load(&w->stop)) {
		pthread_mutex_lock(&w->lock);
		int reload = w->reload;
		w->reload = 0;
		w->kicked = 0;
		pthread_mutex_unlock(&w->lock);
		if (reload)
			worker_reload(w);
		if (worker_run(w) > 0)
			continue;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		/* [store] poll (at least the second it was) */
		uint64_t ms = w->config->store.poll > 1 ? w->config->store.poll * 1000
							: WORKER_INTERVAL_MS;
		/* the relay connection kept open closes on time even when the
		   poll is longer ([smtp] idle_timeout) */
		int64_t idle = w->outbox != NULL ? outbox_close_idle(w->outbox) : -1;
		if (idle >= 0 && (uint64_t)idle < ms)
			ms = (uint64_t)idle;
		until.tv_sec += (time_t)(ms / 1000);
		until.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&w->lock);
		/* stop is set before the lock is taken to signal: looked at
		   under the lock, no wake-up is lost */
		while (!w->kicked && !w->reload && !atomic_load(&w->stop)) {
			if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
				break;
		}
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

static void
worker_free(struct outbox_worker *w)
{
	outbox_free(&w->outbox);
	store_close(&w->store);
	config_free(&w->config);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->holder);
	free(w->path);
	free(w);
}

int
outbox_worker_start(const struct config *config, const char *holder, int64_t ttl,
		    struct outbox_worker **worker_r, const char **error_r)
{
	struct outbox_worker *w = xcalloc(1, sizeof(*w));
	*worker_r = NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&w->stop, 0);
	atomic_init(&w->broken, 0);
	w->path = xstrdup(config->path);
	w->holder = holder != NULL ? xstrdup(holder) : NULL;
	w->ttl = ttl;
	if (config_load(w->path, &w->config, error_r) < 0 ||
	    storeloc_open(w->config, &w->store, error_r) < 0) {
		worker_free(w);
		return -1;
	}
	/* signals stay blocked here as in the caller (the poller reads them
	   from its signalfd): the thread inherits the caller's mask */
	int err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err != 0) {
		*error_r = errf("outbox thread: %s", strerror(err));
		worker_free(w);
		return -1;
	}
	*worker_r = w;
	return 0;
}

static void
worker_signal(struct outbox_worker *w, int *flag)
{
	pthread_mutex_lock(&w->lock);
	*flag = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void
outbox_worker_reload(struct outbox_worker *w)
{
	worker_signal(w, &w->reload);
}

void
outbox_worker_kick(struct outbox_worker *w)
{
	worker_signal(w, &w->kicked);
}

int
outbox_worker_stop(struct outbox_worker **wp)
{
	struct outbox_worker *w = *wp;
	if (w == NULL)
		return 0;
	atomic_store(&w->stop, 1);
	pthread_mutex_lock(&w->lock);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	int broken = atomic_load(&w->broken);
	worker_free(w);
	*wp = NULL;
	return broken;
}
