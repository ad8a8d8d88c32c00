/*
 * schedule: the daemon's time-driven work. Modules register a handler
 * per timer kind ("sla" for the escalation ladder, "pending" and
 * "snooze", "digest"; surveys and reports may add theirs) and set timers
 * in the store (store_timer_set(): kind, ticket, subject, due time). The
 * daemon calls schedule_tick() every second; a tick reads the timers that
 * are due through the store's index on due_at (never a scan of the
 * tickets), so an idle tick costs one index probe however many tickets
 * are open (tests/bench/bench-schedule.sh).
 *
 * Exactly once: the timers due are handled in one store transaction, each
 * in a unit of its own. The scheduler removes a timer before its handler
 * runs; the handler does its work (writes, mail queued through deskmail)
 * and sets the timer again if it wants to run again. Everything commits
 * together, so a crash before the commit leaves the timer in place and
 * the work undone (it runs again), and after it, done once.
 *
 * A handler returns 0, or a graded store result:
 * - STORE_DATA_BAD (its data cannot work, e.g. its ticket is gone): its
 *   unit is undone, the timer dropped, the reason logged and recorded as a
 *   "schedule" event; the others go on;
 * - STORE_UNAVAILABLE: the whole tick is rolled back and tried again at
 *   the next one.
 * A timer of a kind no handler was registered for (a newer version's, a
 * module switched off) is moved an hour on and logged, not lost.
 *
 * Time: `now` is the caller's (base/clock.h's clock_now(), which the test
 * build lets a test set), so ticks are tested without sleeping.
 *
 * Ownership: schedule_new() borrows the store; contexts are borrowed.
 */
#ifndef DG_SCHEDULE_H
#define DG_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_timer;
struct schedule;

typedef int schedule_fn(void *context, struct store *store, const struct store_timer *timer,
			int64_t now, const char **error_r);

struct schedule *schedule_new(struct store *store);
/* Several gateways on one store: tick only while holding the lease
   "scheduler" (lease.h; borrowed), checked in the tick's transaction, so
   that the time-driven work runs on one gateway at a time. */
#define SCHEDULE_LEASE "scheduler"
struct lease_set;
void schedule_set_leases(struct schedule *s, struct lease_set *leases);
void schedule_free(struct schedule **schedulep);

/* Handle timers of kind (static string) with fn; a kind registered again
   replaces its handler. */
void schedule_register(struct schedule *s, const char *kind, schedule_fn *fn, void *context);

struct schedule_stats {
	size_t handled; /* timers whose handler ran and committed */
	size_t dropped; /* handlers that refused their timer (STORE_DATA_BAD) */
	size_t unknown; /* timers of a kind without a handler, moved on */
	int more;	/* max were due: tick again now */
};

/* Handle at most max timers due at now. 0 (stats filled), or -1 with
   *error_r when the store failed (nothing of the tick is kept). */
int schedule_tick(struct schedule *s, int64_t now, size_t max, struct schedule_stats *stats,
		  const char **error_r);

/* Tick until nothing more is due at now or `rounds` ticks ran (the
   daemon's --once). 0 or -1 as schedule_tick(). */
int schedule_run_due(struct schedule *s, int64_t now, size_t max, unsigned int rounds,
		     struct schedule_stats *total, const char **error_r);

#endif
