/*
 * schedule: see schedule.h.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/schedule.h"
#include "gateway/lease.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "base/clock.h"
#include "base/util.h"

/* A timer whose kind has no handler is looked at again this much later. */
#define UNKNOWN_KIND_DELAY 3600

struct handler {
	const char *kind;
	schedule_fn *fn;
	void *context;
};

struct schedule {
	struct store *store;
	struct handler *handlers;
	size_t n_handlers;
	struct lease_set *leases; /* several gateways: the "scheduler" lease */
};

void
schedule_set_leases(struct schedule *s, struct lease_set *leases)
{
	s->leases = leases;
}

struct schedule *
schedule_new(struct store *store)
{
	struct schedule *s = xcalloc(1, sizeof(*s));
	s->store = store;
	return s;
}

void
schedule_free(struct schedule **schedulep)
{
	struct schedule *s = *schedulep;
	if (s == NULL)
		return;
	free(s->handlers);
	free(s);
	*schedulep = NULL;
}

void
schedule_register(struct schedule *s, const char *kind, schedule_fn *fn, void *context)
{
	for (size_t i = 0; i < s->n_handlers; i++) {
		if (strcmp(s->handlers[i].kind, kind) == 0) {
			s->handlers[i].fn = fn;
			s->handlers[i].context = context;
			return;
		}
	}
	s->handlers = xreallocarray(s->handlers, s->n_handlers + 1, sizeof(*s->handlers));
	s->handlers[s->n_handlers++] = (struct handler){ kind, fn, context };
}

static const struct handler *
handler_for(const struct schedule *s, const char *kind)
{
	for (size_t i = 0; i < s->n_handlers; i++)
		if (strcmp(s->handlers[i].kind, kind) == 0)
			return &s->handlers[i];
	return NULL;
}

/* One timer, in a unit of the tick's transaction: < 0 only when the
   store is unavailable (the tick is rolled back). */
static int
run_one(struct schedule *s, const struct store_timer *timer, int64_t now,
	struct schedule_stats *stats, const char **error_r)
{
	const struct handler *h = handler_for(s, timer->kind);
	const char *why = NULL;
	int ret;

	if (h == NULL) {
		log_warnx("schedule: no handler for timers of kind \"%s\" (ticket=%lld subject=%s): "
			  "looking again in an hour",
			  log_safe(timer->kind, 32), (long long)timer->ticket_id,
			  log_safe(timer->subject, 64));
		stats->unknown++;
		return store_timer_set(s->store, timer->kind, timer->ticket_id, timer->subject,
				       now + UNKNOWN_KIND_DELAY, error_r);
	}
	if ((ret = store_unit_begin(s->store, error_r)) < 0)
		return ret;
	ret = store_timer_cancel(s->store, timer->kind, timer->ticket_id, timer->subject,
				 &why);
	if (ret == 0)
		ret = h->fn(h->context, s->store, timer, now, &why);
	if (ret == 0) {
		stats->handled++;
		return store_unit_end(s->store, error_r);
	}
	if (why == NULL)
		why = "failed without saying why";
	why = xstrdup(why); /* the undo below may overwrite errf()'s ring */
	if (store_unit_undo(s->store, error_r) < 0) {
		free((char *)why);
		return STORE_UNAVAILABLE;
	}
	if (ret != STORE_DATA_BAD) {
		*error_r = errf("%s timer of ticket %lld: %s", timer->kind,
				(long long)timer->ticket_id, why);
		free((char *)why);
		return STORE_UNAVAILABLE;
	}
	/* its data cannot work: drop the timer, say why */
	log_warnx("schedule: %s timer dropped: ticket=%lld subject=%s: %s", timer->kind,
		  (long long)timer->ticket_id, log_safe(timer->subject, 64), why);
	stats->dropped++;
	ret = store_timer_cancel(s->store, timer->kind, timer->ticket_id, timer->subject,
				 error_r);
	/* the ticket may be what is gone: the event is best effort */
	if (ret == 0 && timer->ticket_id != 0) {
		const char *ignored;
		(void)store_event_addf(s->store, timer->ticket_id, "schedule", &ignored,
				       "%s timer dropped: %s", timer->kind, why);
	}
	free((char *)why);
	return ret == STORE_UNAVAILABLE ? ret : 0;
}

int
schedule_tick(struct schedule *s, int64_t now, size_t max, struct schedule_stats *stats,
	      const char **error_r)
{
	struct store_timer *due = NULL;
	size_t n = 0;
	int64_t next;

	memset(stats, 0, sizeof(*stats));
	/* the common case, nothing due: one probe of the index, no
	   transaction */
	int r = store_timer_next(s->store, &next, error_r);
	if (r < 0)
		return -1;
	if (r == 0 || next > now)
		return 0;
	if (store_begin(s->store, error_r) < 0)
		return -1;
	/* one gateway at a time: hold the lease, and fence the transaction
	   with it (lease.h) */
	if (s->leases != NULL) {
		r = lease_hold(s->leases, SCHEDULE_LEASE, clock_now(), error_r);
		if (r == 1)
			r = lease_fence(s->leases, SCHEDULE_LEASE, clock_now(), error_r);
		if (r <= 0) {
			store_rollback(s->store);
			return r;
		}
	}
	if (store_timer_due(s->store, now, max, &due, &n, error_r) < 0) {
		store_rollback(s->store);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (run_one(s, &due[i], now, stats, error_r) < 0) {
			store_rollback(s->store);
			store_timers_free(&due, n);
			memset(stats, 0, sizeof(*stats));
			return -1;
		}
	}
	store_timers_free(&due, n);
	if (store_commit(s->store, error_r) < 0) {
		memset(stats, 0, sizeof(*stats));
		return -1;
	}
	stats->more = max > 0 && n == max;
	return 0;
}

int
schedule_run_due(struct schedule *s, int64_t now, size_t max, unsigned int rounds,
		 struct schedule_stats *total, const char **error_r)
{
	struct schedule_stats st;
	memset(total, 0, sizeof(*total));
	for (unsigned int i = 0; i < rounds; i++) {
		if (schedule_tick(s, now, max, &st, error_r) < 0)
			return -1;
		total->handled += st.handled;
		total->dropped += st.dropped;
		total->unknown += st.unknown;
		total->more = st.more;
		if (!st.more)
			break;
	}
	return 0;
}
