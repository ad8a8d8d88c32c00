/*
 * bench-schedule: the cost of the daemon's scheduler tick against the
 * number of open tickets (issue 13: under 10 ms a tick, flat from 1,000
 * to 100,000). For each N it builds a store of N open tickets, each with
 * its SLA clocks and its "sla" timer as the daemon leaves them (through
 * sla_sync_store(), spread over the next weeks), then times
 *
 *   idle   a tick with nothing due (what the daemon does every second),
 *   busy   a tick with 10 tickets due, whose handler re-reads each
 *          ticket, brings its clocks in step and sets its next check
 *          (the SLA handler's store work; one committed transaction),
 *   scan   the reference measured in the same run: what a scheduler
 *          without the timers' index would do every tick, a query over
 *          every open ticket for the overdue ones,
 *
 * as medians, and prints them with the ratios 100k/1k (flatness) and
 * scan/idle. Usage: bench-schedule DIR N... (tests/bench/bench-schedule.sh)
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/util.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/schedule.h"
#include "gateway/sla.h"
#include "gateway/store.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static const struct sla *the_sla;

/* The SLA check's store work: read the ticket and its clocks, bring them
   in step, set the next check. */
static int
check(void *context, struct store *store, const struct store_timer *timer, int64_t now,
      const char **error_r)
{
	(void)context;
	return sla_sync_store(the_sla, store, timer->ticket_id, NULL, now, error_r);
}

static void
die(const char *what, const char *error)
{
	fprintf(stderr, "bench-schedule: %s: %s\n", what, error);
	exit(1);
}

/* 2025-03-03 09:00 UTC, a Monday */
#define T0 1741000000LL

static void
bench(const char *dir, long n, double *idle_r, double *busy_r, double *scan_r)
{
	char *sub = xasprintf("%s/n%ld", dir, n);
	char *db = xasprintf("%s/deskgate.db", sub);
	struct store *store = NULL;
	const char *error;
	mkdir(sub, 0700);
	if (store_open(db, sub, &store, &error) < 0)
		die("open", error);
	/* N open tickets created over the last weeks, each with its clocks
	   and its timer, as the pipeline leaves them */
	static const char *const prio[] = { "low", "normal", "normal", "high", "urgent" };
	if (store_begin(store, &error) < 0)
		die("begin", error);
	for (long i = 0; i < n; i++) {
		struct store_ticket t = { .subject = "bench", .status = "open",
					  .priority = prio[i % 5],
					  .created_at = T0 - (i % 20000) * 60 };
		int64_t id;
		if (store_ticket_insert(store, &t, &id, &error) < 0 ||
		    sla_sync_store(the_sla, store, id, NULL, t.created_at, &error) < 0)
			die("fill", error);
	}
	if (store_commit(store, &error) < 0)
		die("commit", error);
	int64_t next = 0;
	(void)store_timer_next(store, &next, &error);
	/* a moment before the first timer: nothing due */
	int64_t quiet = next - 1;

	struct schedule *s = schedule_new(store);
	schedule_register(s, SLA_TIMER, check, NULL);
	struct schedule_stats st;
	enum { IDLE = 2000, BUSY = 30, SCAN = 5 };
	static double idle[IDLE], busy[BUSY], scan[SCAN];
	for (int i = 0; i < IDLE; i++) {
		double a = now_s();
		if (schedule_tick(s, quiet, 100, &st, &error) < 0 || st.handled != 0)
			die("idle tick", error);
		idle[i] = now_s() - a;
	}
	for (int i = 0; i < BUSY; i++) {
		/* 10 tickets due now */
		for (int k = 0; k < 10; k++)
			if (store_timer_set(store, SLA_TIMER, 1 + (i * 10 + k) % n, NULL, quiet - 5,
					    &error) < 0)
				die("arm", error);
		double a = now_s();
		if (schedule_tick(s, quiet, 100, &st, &error) < 0 || st.handled != 10)
			die("busy tick", error);
		busy[i] = now_s() - a;
	}
	for (int i = 0; i < SCAN; i++) {
		struct store_ticket_filter f = { .not_closed = 1, .due_before = quiet };
		struct store_ticket_due *rows = NULL;
		size_t count = 0;
		double a = now_s();
		if (store_ticket_query(store, &f, &rows, &count, &error) < 0)
			die("scan", error);
		scan[i] = now_s() - a;
		store_ticket_dues_free(&rows, count);
	}
	*idle_r = median(idle, IDLE);
	*busy_r = median(busy, BUSY);
	*scan_r = median(scan, SCAN);
	schedule_free(&s);
	store_close(&store);
	free(db);
	free(sub);
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench-schedule DIR N...\n");
		return 64;
	}
	log_init("bench-schedule", LOG_LEVEL_ERROR);
	struct config *config = config_defaults(argv[1]);
	struct sla *sla = NULL;
	const char *error;
	/* the default desk: Monday to Friday 08:00-20:00 UTC, [hours] targets */
	if (sla_new(config, &sla, &error) < 0)
		die("sla", error);
	the_sla = sla;
	double first_idle = 0, first_busy = 0;
	printf("%8s %12s %12s %12s %10s\n", "tickets", "idle tick", "busy tick", "scan (ref)",
	       "scan/idle");
	for (int i = 2; i < argc; i++) {
		long n = strtol(argv[i], NULL, 10);
		double idle, busy, scan;
		bench(argv[1], n, &idle, &busy, &scan);
		if (i == 2) {
			first_idle = idle;
			first_busy = busy;
		}
		printf("%8ld %9.1f us %9.2f ms %9.2f ms %9.0fx\n", n, idle * 1e6, busy * 1e3,
		       scan * 1e3, scan / idle);
		if (i == argc - 1 && argc > 3)
			printf("flatness %s/%s: idle tick %.2fx, busy tick %.2fx\n", argv[argc - 1],
			       argv[2], idle / first_idle, busy / first_busy);
	}
	sla_free(&sla);
	config_free(&config);
	return 0;
}
