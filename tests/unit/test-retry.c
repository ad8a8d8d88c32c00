/*
 * test-retry: the backoff policy (gateway/retry.c): doubling, the cap, the
 * jitter bounds, the policies the poller and the outbox use, and odd input
 * (0 failures, a huge failure count, jitter out of range).
 */
#include "build-config.h"

#include "gateway/retry.h"
#include "base/util.h"
#include "tests/unit/test.h"

static void
test_table(void)
{
	static const struct {
		struct retry_policy p;
		unsigned failures;
		double u, want;
	} cases[] = {
		/* doubling without jitter (the outbox: retry_initial = 60) */
		{ { 60, 0, 0 }, 1, 0.3, 60 },
		{ { 60, 0, 0 }, 2, 0.3, 120 },
		{ { 60, 0, 0 }, 5, 0.9, 960 },
		/* 0 failures counts as the first */
		{ { 60, 0, 0 }, 0, 0.5, 60 },
		/* the cap (the relay pause: at most an hour) */
		{ { 60, 3600, 0 }, 7, 0, 3600 },
		{ { 60, 3600, 0 }, 100000, 0, 3600 },
		/* jitter 0.5 (the poller): between half and all of it */
		{ { 1, 300, 0.5 }, 1, 0, 0.5 },
		{ { 1, 300, 0.5 }, 1, 1, 1 },
		{ { 1, 300, 0.5 }, 4, 0.5, 6 },
		{ { 1, 300, 0.5 }, 20, 0, 150 },
		{ { 1, 300, 0.5 }, 20, 1, 300 },
		/* out of range: jitter clamped to [0, 1], u to [0, 1] */
		{ { 10, 0, 7 }, 1, 0, 0 },
		{ { 10, 0, -1 }, 1, 0, 10 },
		{ { 10, 0, 0.5 }, 1, 5, 10 },
		{ { 10, 0, 0.5 }, 1, -5, 5 },
		/* a non-positive initial delay is taken as 1 s */
		{ { 0, 0, 0 }, 3, 0, 4 },
	};
	test_begin("retry_delay_at table");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		double got = retry_delay_at(&cases[i].p, cases[i].failures, cases[i].u);
		if (got < cases[i].want - 1e-9 || got > cases[i].want + 1e-9)
			printf("case %zu: got %f, want %f\n", i, got, cases[i].want);
		test_assert(got >= cases[i].want - 1e-9 && got <= cases[i].want + 1e-9);
	}
}

static void
test_no_overflow(void)
{
	/* no cap and a huge count: finite, positive */
	struct retry_policy p = { 86400, 0, 0 };
	double d = retry_delay_at(&p, 4000000000u, 0.5);
	test_begin("retry_delay_at huge");
	test_assert(d > 0 && d < 1e30);
}

static void
test_random(void)
{
	struct retry_policy p = { 8, 300, 0.5 };
	double lo = 1e9, hi = 0;
	test_begin("retry_delay random spread");
	for (int i = 0; i < 2000; i++) {
		double d = retry_delay(&p, 1);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	/* within [4, 8], and actually spread over it */
	test_assert(lo >= 4 && hi <= 8);
	test_assert(lo < 4.5 && hi > 7.5);
	/* without jitter the random number does not matter */
	struct retry_policy exact = { 60, 0, 0 };
	test_assert(retry_delay(&exact, 3) == 240);
}

int
main(void)
{
	test_table();
	test_no_overflow();
	test_random();
	return test_exit();
}
