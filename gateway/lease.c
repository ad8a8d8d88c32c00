/*
 * lease: leases of one gateway process over the store (see lease.h).
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/util.h"
#include "gateway/lease.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/store.h"
#include "gateway/store/store-lease.h"

#define LEASE_LIVENESS_PREFIX "gateway:"

struct held {
	char *name;
	int64_t renewed_at; /* the store has it until renewed_at + ttl */
};

struct lease_set {
	struct store *store;
	int64_t ttl;
	char *holder;
	char *host; /* "hostname:" */
	char *liveness;
	struct held *held;
	size_t n_held;
	/* A renewal failed on the store (locked, down): leases still held
	   are kept without asking it again before retry_at (CLOCK_MONOTONIC
	   seconds: the wait itself counts, whatever clock the callers' `now`
	   is on), so that a locked store costs the loop one busy time-out
	   per retry, not one per lease and per call. renew_failing: logged,
	   until a renewal works again. */
	double retry_at;
	int renew_failing;
	pthread_t owner;	 /* the thread that made it (and uses its store) */
	struct lease_set *next; /* live_sets */
};

/* The sets of this process, for release_at_exit(). */
static struct lease_set *live_sets;

/* exit() without lease_set_free(): a fatal() at start-up (a rules file
   that does not load, after the liveness lease was taken) or later. The
   leases would otherwise stay until they expire (lease_ttl), and until
   then the other gateways count this one among the live and hold back
   its share of the mailboxes. Only from the thread that owns the set:
   the store is not shared between threads. A transaction left open by
   the code that called exit() is rolled back first (it never committed). */
static void
release_at_exit(void)
{
	for (struct lease_set *ls = live_sets; ls != NULL; ls = ls->next) {
		const char *error;
		if (ls->n_held == 0 || !pthread_equal(ls->owner, pthread_self()))
			continue;
		store_rollback(ls->store);
		if (store_lease_release(ls->store, NULL, ls->holder, &error) < 0)
			log_warnx("lease: at exit: releasing %zu lease(s) of %s: %s (they expire in "
				  "%lld s)",
				  ls->n_held, ls->holder, error, (long long)ls->ttl);
		else
			log_info("lease: at exit: released %zu lease(s) of %s", ls->n_held,
				 ls->holder);
		ls->n_held = 0;
	}
}

static struct held *
find(const struct lease_set *ls, const char *name)
{
	for (size_t i = 0; i < ls->n_held; i++)
		if (strcmp(ls->held[i].name, name) == 0)
			return &ls->held[i];
	return NULL;
}

static void
forget(struct lease_set *ls, const char *name)
{
	struct held *h = find(ls, name);
	if (h == NULL)
		return;
	free(h->name);
	*h = ls->held[--ls->n_held];
}

static void
remember(struct lease_set *ls, const char *name, int64_t now)
{
	struct held *h = find(ls, name);
	if (h == NULL) {
		ls->held = xreallocarray(ls->held, ls->n_held + 1, sizeof(*ls->held));
		h = &ls->held[ls->n_held++];
		h->name = xstrdup(name);
	}
	h->renewed_at = now;
}

/* A holder id of this host whose process is gone. kill(pid, 0) is the
   portable liveness probe; a pid reused by another process only delays
   the release until the lease expires. */
static int
dead_local_holder(const struct lease_set *ls, const char *holder)
{
	size_t n = strlen(ls->host);
	if (strncmp(holder, ls->host, n) != 0 || strcmp(holder, ls->holder) == 0)
		return 0;
	uint64_t pid;
	const char *p = holder + n, *colon = strchr(p, ':');
	if (colon == NULL)
		return 0;
	char *digits = xstrndup(p, (size_t)(colon - p));
	int ok = str_to_u64(digits, 4194304, &pid) == 0 && pid > 0;
	free(digits);
	return ok && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static void
release_dead(struct lease_set *ls, const char *holder)
{
	const char *error;
	if (store_lease_release(ls->store, NULL, holder, &error) < 0) {
		metrics_inc(METRIC_STORE_ERRORS, "lease");
		log_warnx("lease: releasing the leases of %s (gone): %s", holder, error);
	} else {
		log_info("lease: released the leases of %s (its process is gone)", holder);
	}
}

struct lease_set *
lease_set_new(struct store *store, int64_t ttl, const char **error_r)
{
	char host[256];
	unsigned char rnd[4] = { 0 };
	if (gethostname(host, sizeof(host)) < 0)
		memcpy(host, "localhost", sizeof("localhost"));
	host[sizeof(host) - 1] = '\0';
	/* getrandom(): a few bytes to tell holders apart, not a secret */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = (unsigned char)getpid();

	struct lease_set *ls = xcalloc(1, sizeof(*ls));
	ls->store = store;
	ls->ttl = ttl < 1 ? 1 : ttl;
	ls->host = xasprintf("%s:", host);
	ls->holder = xasprintf("%s:%ld:%02x%02x%02x%02x", host, (long)getpid(), rnd[0], rnd[1],
			       rnd[2], rnd[3]);
	ls->liveness = xasprintf(LEASE_LIVENESS_PREFIX "%s", ls->holder);
	ls->owner = pthread_self();
	static int registered;
	if (!registered && atexit(release_at_exit) == 0)
		registered = 1;
	ls->next = live_sets;
	live_sets = ls;

	struct store_lease *list;
	size_t n;
	if (store_lease_list(store, &list, &n, error_r) < 0) {
		lease_set_free(&ls);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i].name, LEASE_LIVENESS_PREFIX, strlen(LEASE_LIVENESS_PREFIX)) == 0 &&
		    dead_local_holder(ls, list[i].holder))
			release_dead(ls, list[i].holder);
	store_leases_free(&list, n);
	if (lease_hold(ls, ls->liveness, clock_now(), error_r) != 1) {
		if (find(ls, ls->liveness) == NULL)
			*error_r = errf("lease %s held by another process", ls->liveness);
		lease_set_free(&ls);
		return NULL;
	}
	return ls;
}

void
lease_set_free(struct lease_set **lsp)
{
	struct lease_set *ls = *lsp;
	if (ls == NULL)
		return;
	const char *error;
	if (ls->n_held > 0 && store_lease_release(ls->store, NULL, ls->holder, &error) < 0)
		log_warnx("lease: releasing %zu lease(s) of %s: %s (they expire in %lld s)",
			  ls->n_held, ls->holder, error, (long long)ls->ttl);
	for (struct lease_set **p = &live_sets; *p != NULL; p = &(*p)->next) {
		if (*p == ls) {
			*p = ls->next;
			break;
		}
	}
	for (size_t i = 0; i < ls->n_held; i++)
		free(ls->held[i].name);
	free(ls->held);
	free(ls->liveness);
	free(ls->holder);
	free(ls->host);
	free(ls);
	*lsp = NULL;
}

const char *
lease_set_holder(const struct lease_set *ls)
{
	return ls->holder;
}

int64_t
lease_set_ttl(const struct lease_set *ls)
{
	return ls->ttl;
}

int
lease_held(const struct lease_set *ls, const char *name, int64_t now)
{
	const struct held *h = find(ls, name);
	return h != NULL && now < h->renewed_at + ls->ttl;
}

static int64_t
renew_interval(const struct lease_set *ls)
{
	return ls->ttl / 3 > 0 ? ls->ttl / 3 : 1;
}

static int
renew_due(const struct lease_set *ls, const struct held *h, int64_t now)
{
	return now - h->renewed_at >= renew_interval(ls);
}

/* A renewal the store did not answer (the write lock not obtained within
   the busy time-out, an I/O error): counted every time, logged once until
   a renewal works again. The lease is kept until it expires by our clock
   (fencing protects the commits meanwhile); the set asks the store again
   half a renewal interval after the failure (lease_ttl 30 s: 5 s), which
   leaves a lease of the default ttl a second try before it expires. */
static void
renew_failed(struct lease_set *ls, const char *name, int64_t now, const char *error)
{
	int64_t delay = renew_interval(ls) / 2 > 0 ? renew_interval(ls) / 2 : 1;
	const struct held *h = find(ls, name);
	metrics_inc(METRIC_STORE_ERRORS, "lease");
	if (!ls->renew_failing)
		log_warnx("lease %s: not renewed: %s; kept until it expires in %lld s, tried again "
			  "in %lld s; holder=%s",
			  name, error, (long long)(h != NULL ? h->renewed_at + ls->ttl - now : 0),
			  (long long)delay, ls->holder);
	ls->renew_failing = 1;
	ls->retry_at = clock_mono() + (double)delay;
}

static void
renew_worked(struct lease_set *ls, const char *name)
{
	if (ls->renew_failing)
		log_info("lease %s: the store answers again; holder=%s", name, ls->holder);
	ls->renew_failing = 0;
	ls->retry_at = 0;
}

int
lease_hold(struct lease_set *ls, const char *name, int64_t now, const char **error_r)
{
	struct held *h = find(ls, name);
	if (h != NULL && !renew_due(ls, h, now) && now < h->renewed_at + ls->ttl)
		return 1;
	if (h != NULL) {
		if (ls->retry_at > 0 && clock_mono() < ls->retry_at && lease_held(ls, name, now))
			return 1;
		int r = store_lease_renew(ls->store, name, ls->holder, now, ls->ttl, error_r);
		if (r < 0) {
			renew_failed(ls, name, now, *error_r);
			return lease_held(ls, name, now) ? 1 : -1;
		}
		renew_worked(ls, name);
		if (r == 1) {
			h->renewed_at = now;
			return 1;
		}
		log_warnx("lease %s: lost (expired or taken over); holder=%s", name, ls->holder);
		forget(ls, name);
	}
	char *current = NULL;
	int r = store_lease_acquire(ls->store, name, ls->holder, now, ls->ttl, &current, error_r);
	if (r == 0 && current != NULL && dead_local_holder(ls, current)) {
		release_dead(ls, current);
		free(current);
		current = NULL;
		r = store_lease_acquire(ls->store, name, ls->holder, now, ls->ttl, &current, error_r);
	}
	free(current);
	if (r < 0)
		metrics_inc(METRIC_STORE_ERRORS, "lease"); /* the caller logs it */
	if (r == 1) {
		if (strcmp(name, ls->liveness) != 0)
			log_info("lease %s: acquired; holder=%s", name, ls->holder);
		remember(ls, name, now);
	}
	return r < 0 ? -1 : r;
}

int
lease_fence(struct lease_set *ls, const char *name, int64_t now, const char **error_r)
{
	if (find(ls, name) == NULL)
		return 0;
	int r = store_lease_renew(ls->store, name, ls->holder, now, ls->ttl, error_r);
	if (r >= 0)
		renew_worked(ls, name);
	if (r == 1)
		remember(ls, name, now);
	else if (r == 0) {
		log_warnx("lease %s: lost before the commit (expired or taken over); holder=%s",
			  name, ls->holder);
		forget(ls, name);
	}
	return r < 0 ? -1 : r;
}

void
lease_drop(struct lease_set *ls, const char *name)
{
	const char *error;
	if (find(ls, name) == NULL)
		return;
	if (store_lease_release(ls->store, name, ls->holder, &error) < 0) {
		metrics_inc(METRIC_STORE_ERRORS, "lease");
		log_warnx("lease %s: release: %s (it expires in %lld s)", name, error,
			  (long long)ls->ttl);
	}
	forget(ls, name);
}

int
lease_live_gateways(struct lease_set *ls, int64_t now, size_t *count_r, const char **error_r)
{
	struct store_lease *list;
	size_t n, live = 0;
	if (store_lease_list(ls->store, &list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(list[i].name, LEASE_LIVENESS_PREFIX, strlen(LEASE_LIVENESS_PREFIX)) != 0 ||
		    list[i].expires_at <= now)
			continue;
		if (dead_local_holder(ls, list[i].holder))
			release_dead(ls, list[i].holder);
		else
			live++;
	}
	store_leases_free(&list, n);
	*count_r = live > 0 ? live : 1;
	return 0;
}

size_t
lease_count_held(const struct lease_set *ls, const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < ls->n_held; i++)
		if (strncmp(ls->held[i].name, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

int
lease_tick(struct lease_set *ls, int64_t now, const char **error_r)
{
	int ret = 0;
	/* backwards: lease_hold() may forget the entry it is given */
	for (size_t i = ls->n_held; i-- > 0;) {
		if (i >= ls->n_held || !renew_due(ls, &ls->held[i], now))
			continue;
		char *name = xstrdup(ls->held[i].name);
		const char *error;
		if (lease_hold(ls, name, now, &error) < 0 && ret == 0) {
			*error_r = error;
			ret = -1;
		}
		free(name);
	}
	/* the liveness lease is never given up while the process lives */
	if (find(ls, ls->liveness) == NULL && lease_hold(ls, ls->liveness, now, error_r) < 0)
		ret = -1;
	return ret;
}
