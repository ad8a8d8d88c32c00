/*
 * clock: see clock.h. This file is compiled twice: into libbase.a
 * (time(NULL)) and, with DG_TEST_CLOCK, into the test build only.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/file.h"

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

double
clock_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
clock_days_from_civil(int64_t year, int mon, int mday)
{
	/* normalise the month first */
	int64_t m0 = (int64_t)mon - 1;
	year += floor_div(m0, 12);
	int m = (int)(m0 - floor_div(m0, 12) * 12) + 1;
	int64_t y = year - (m <= 2);
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 + (int64_t)mday - 1;
}

void
clock_civil_from_days(int64_t days, int *year_r, int *mon_r, int *mday_r)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	*year_r = (int)(yoe + era * 400 + (m <= 2));
	*mon_r = (int)m;
	*mday_r = (int)d;
}

int
clock_weekday(int64_t days)
{
	int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
	return (int)(w < 0 ? w + 7 : w);
}

static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
clock_parse(const char *s, int64_t *t_r)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > 0 && len <= 12 && strspn(s, "0123456789") == len) {
		int64_t v = 0;
		for (size_t i = 0; i < len; i++)
			v = v * 10 + (s[i] - '0');
		*t_r = v;
		return 0;
	}
	/* YYYY-MM-DD[THH:MM[:SS]]Z */
	if (len < 11 || s[4] != '-' || s[7] != '-' || s[len - 1] != 'Z' ||
	    digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 || digits(s + 8, 2, &d) < 0)
		return -1;
	if (len == 20 || len == 17) {
		if (s[10] != 'T' || s[13] != ':' || digits(s + 11, 2, &h) < 0 ||
		    digits(s + 14, 2, &mi) < 0)
			return -1;
		if (len == 20 && (s[16] != ':' || digits(s + 17, 2, &se) < 0))
			return -1;
	} else if (len != 11) {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	*t_r = clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

#ifdef DG_TEST_CLOCK
int64_t
clock_now(void)
{
	const char *v = getenv("DESKGATE_TEST_CLOCK");
	if (v == NULL || *v == '\0')
		return (int64_t)time(NULL);
	int64_t t;
	if (*v == '/') {
		char *data = NULL;
		size_t len;
		const char *why = "unreadable";
		int r = file_read(v, 64, &data, &len, &why);
		if (r <= 0 || clock_parse(data, &t) < 0) {
			fprintf(stderr, "DESKGATE_TEST_CLOCK: %s: %s\n", v,
				r <= 0 ? why : "not a time");
			abort();
		}
		free(data);
		return t;
	}
	if (clock_parse(v, &t) < 0) {
		fprintf(stderr, "DESKGATE_TEST_CLOCK=%s: not a time\n", v);
		abort();
	}
	return t;
}

int
clock_is_test_build(void)
{
	return 1;
}
#else
int64_t
clock_now(void)
{
	return (int64_t)time(NULL);
}

int
clock_is_test_build(void)
{
	return 0;
}
#endif
