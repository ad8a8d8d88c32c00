/*
 * retry: the one backoff policy of the gateway. After `failures` failures
 * in a row, the next attempt waits
 *
 *     initial * 2^(failures - 1), at most max (max 0: no cap),
 *
 * shortened at random by up to `jitter` of itself (0: exact; 0.5: between
 * half and all of it), so that many mailboxes or gateways that failed
 * together do not come back in lockstep. The poller uses it for reconnects
 * and store failures (1 s doubling to 5 min, jitter 0.5); the outbox for
 * message retries and the relay pause (retry_initial doubling, no jitter:
 * the schedule is what `deskgate outbox list` promises).
 *
 * The random numbers come from a small generator seeded once from the
 * system's random source (crypto_random()); they are not secret.
 */
#ifndef DG_RETRY_H
#define DG_RETRY_H

struct retry_policy {
	double initial; /* seconds before the first retry (> 0) */
	double max;	/* the longest delay; 0: no cap */
	double jitter;	/* fraction in [0, 1] by which a delay may be shortened */
};

/* The delay in seconds after `failures` failures in a row (0 is treated as
   1). Never negative, never more than max (when max > 0). */
double retry_delay(const struct retry_policy *policy, unsigned failures);

/* The same with the random number given: u in [0, 1), 0 shortens by the
   full jitter, values near 1 not at all. For tests. */
double retry_delay_at(const struct retry_policy *policy, unsigned failures, double u);

#endif
