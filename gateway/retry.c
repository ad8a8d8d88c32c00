/* retry: see retry.h. */
#include "build-config.h"

#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "gateway/crypto.h"
#include "gateway/retry.h"

double
retry_delay_at(const struct retry_policy *policy, unsigned failures, double u)
{
	double d = policy->initial > 0 ? policy->initial : 1;
	/* doubling stops at the cap (or, without one, long before a double
	   overflows: 2^60 seconds is beyond any use) */
	for (unsigned i = 1; i < failures && i < 60; i++) {
		if (policy->max > 0 && d >= policy->max)
			break;
		d *= 2;
	}
	if (policy->max > 0 && d > policy->max)
		d = policy->max;
	double jitter = policy->jitter < 0 ? 0 : policy->jitter > 1 ? 1 : policy->jitter;
	if (u < 0)
		u = 0;
	if (u > 1)
		u = 1;
	return d * (1 - jitter + jitter * u);
}

/* splitmix64: a few lines, well mixed, and good enough for spreading
   retries; seeded once from the system's random source. */
static uint64_t
next_random(void)
{
	static uint64_t state;
	static int seeded;
	if (!seeded) {
		const char *ignored;
		if (crypto_random(&state, sizeof(state), &ignored) < 0)
			state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		seeded = 1;
	}
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
retry_delay(const struct retry_policy *policy, unsigned failures)
{
	/* 53 random bits as a double in [0, 1) */
	double u = (double)(next_random() >> 11) / 9007199254740992.0;
	return retry_delay_at(policy, failures, u);
}
