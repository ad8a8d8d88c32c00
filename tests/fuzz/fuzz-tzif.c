/*
 * fuzz-tzif: the zone file and TZ string readers. Byte 0 even: the rest
 * is a TZif file (tzif_parse()); odd: a POSIX TZ string
 * (tzif_parse_posix(), NUL-terminated copy). A zone that parses is then
 * converted at instants spread over its range, and what tzif.h promises
 * must hold: broken-down fields in range, an offset within 26 hours, an
 * abbreviation; tzif_mktime() of the local fields gives an instant at or
 * before t with the same local time; tzif_next_change() moves forward.
 */
#include "build-config.h"

#include <string.h>

#include "parsers/tzif.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT 8192

static void
check_at(const struct tzif *tz, int64_t t)
{
	struct tzif_tm m, b;
	tzif_localtime(tz, t, &m);
	FUZZ_CHECK(m.mon >= 1 && m.mon <= 12 && m.mday >= 1 && m.mday <= 31);
	FUZZ_CHECK(m.hour >= 0 && m.hour < 24 && m.min >= 0 && m.min < 60 && m.sec >= 0 &&
		   m.sec < 60);
	FUZZ_CHECK(m.wday >= 0 && m.wday < 7 && m.yday >= 0 && m.yday < 366);
	FUZZ_CHECK(m.utoff >= -26 * 3600 && m.utoff <= 26 * 3600);
	FUZZ_CHECK(m.abbr != NULL && m.year >= 1 && m.year <= 9999);
	FUZZ_CHECK(tzif_utoff(tz, t) == m.utoff);
	int64_t back = tzif_mktime(tz, m.year, m.mon, m.mday, m.hour, m.min, m.sec);
	if (t > TZIF_MIN_TIME + 4 * 86400 && t < TZIF_MAX_TIME - 4 * 86400) {
		tzif_localtime(tz, back, &b);
		FUZZ_CHECK(back <= t);
		FUZZ_CHECK(b.year == m.year && b.mon == m.mon && b.mday == m.mday &&
			   b.hour == m.hour && b.min == m.min && b.sec == m.sec);
	}
	int64_t next = tzif_next_change(tz, t);
	FUZZ_CHECK(next > t || next == INT64_MAX);
}

FUZZ_TARGET(tzif)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	struct tzif *tz = NULL;
	const char *error = NULL;
	int r;
	if (data[0] % 2 == 0) {
		r = tzif_parse(data + 1, size - 1, &tz, &error);
	} else {
		char *spec = fuzz_strndup(data + 1, size - 1);
		r = tzif_parse_posix(spec, &tz, &error);
		free(spec);
	}
	FUZZ_CHECK((r == 0) == (tz != NULL));
	if (r < 0) {
		FUZZ_CHECK(error != NULL && *error != '\0');
		return 0;
	}
	static const int64_t instants[] = {
		INT64_MIN, -62135596800LL, -2208988800LL, -1, 0, 1, 946684800, 1711846799,
		1711846800, 1729990800, 2147483647LL, 2147483648LL, 4102444800LL, 253402300799LL,
		INT64_MAX,
	};
	for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++)
		check_at(tz, instants[i]);
	/* walk a few changes */
	int64_t t = -2208988800LL;
	for (int i = 0; i < 64 && t < 4102444800LL; i++) {
		int64_t n = tzif_next_change(tz, t);
		FUZZ_CHECK(n > t);
		if (n == INT64_MAX)
			break;
		check_at(tz, n - 1);
		check_at(tz, n);
		t = n;
	}
	tzif_free(&tz);
	return 0;
}
