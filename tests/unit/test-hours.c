/*
 * Unit tests for gateway/hours.c: due times across weekends, holidays,
 * after hours and DST changes (Europe/Berlin, America/New_York), a zone
 * without DST (Asia/Shanghai), is_open, and invalid configurations.
 * Inputs are UTC instants; expected results are local wall-clock times
 * with their UTC offset, worked out by hand from the calendar.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/hours.h"
#include "gateway/tz.h"
#include "base/util.h"
#include "tests/unit/test.h"

/* "2024-05-14T08:00Z" -> epoch seconds. */
static int64_t
utc(const char *s)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%dT%H:%MZ", &tm);
	if (end == NULL || *end != '\0') {
		printf("bad test time %s\n", s);
		exit(99);
	}
	return (int64_t)timegm(&tm);
}

/* Local time in the desk's zone, "2024-05-14 10:00 +0200 Tue". */
static const char *
local(const struct hours *h, int64_t t)
{
	static char buf[64];
	struct tm tm;
	hours_localtime(h, t, &tm);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d %c%02ld%02ld %s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, sign, off / 3600,
		 (off % 3600) / 60, wd[tm.tm_wday]);
	return buf;
}

static const char *const BERLIN_WEEK = "mon-fri 08:00-20:00";
static const char *const BERLIN_HOLIDAYS = "2024-12-25..2024-12-26, 2025-01-01";

static void
test_due(void)
{
	static const struct {
		const char *tz, *week, *holidays;
		const char *now; /* UTC */
		uint64_t seconds;
		const char *want; /* local */
		int open;	  /* hours_is_open(now) */
	} cases[] = {
		/* Europe/Berlin, summer time (UTC+2). */
		{ "Europe/Berlin", NULL, NULL, "2024-05-14T08:00Z", 4 * 3600, "2024-05-14 14:00 +0200 Tue", 1 },
		/* late on a weekday: the rest spills into the next morning */
		{ "Europe/Berlin", NULL, NULL, "2024-05-14T16:00Z", 4 * 3600, "2024-05-15 10:00 +0200 Wed", 1 },
		/* after hours: nothing counts until 08:00 */
		{ "Europe/Berlin", NULL, NULL, "2024-05-14T20:30Z", 4 * 3600, "2024-05-15 12:00 +0200 Wed", 0 },
		{ "Europe/Berlin", NULL, NULL, "2024-05-14T03:59Z", 3600, "2024-05-14 09:00 +0200 Tue", 0 },
		/* exactly at closing time: closed */
		{ "Europe/Berlin", NULL, NULL, "2024-05-14T18:00Z", 3600, "2024-05-15 09:00 +0200 Wed", 0 },
		/* exactly at opening time: open */
		{ "Europe/Berlin", NULL, NULL, "2024-05-14T06:00Z", 12 * 3600, "2024-05-14 20:00 +0200 Tue", 1 },
		/* Friday evening over the weekend */
		{ "Europe/Berlin", NULL, NULL, "2024-05-17T17:00Z", 4 * 3600, "2024-05-20 11:00 +0200 Mon", 1 },
		/* Saturday */
		{ "Europe/Berlin", NULL, NULL, "2024-05-18T10:00Z", 4 * 3600, "2024-05-20 12:00 +0200 Mon", 0 },
		/* normal priority: 24 business hours = two days of 12 hours */
		{ "Europe/Berlin", NULL, NULL, "2024-05-16T08:00Z", 24 * 3600, "2024-05-20 10:00 +0200 Mon", 1 },
		/* Christmas: 25th and 26th are holidays (winter time, UTC+1) */
		{ "Europe/Berlin", NULL, NULL, "2024-12-24T18:00Z", 4 * 3600, "2024-12-27 11:00 +0100 Fri", 1 },
		{ "Europe/Berlin", NULL, NULL, "2024-12-25T10:00Z", 3600, "2024-12-27 09:00 +0100 Fri", 0 },
		/* New Year's Eve into a holiday on Wednesday */
		{ "Europe/Berlin", NULL, NULL, "2024-12-31T18:30Z", 3600, "2025-01-02 08:30 +0100 Thu", 1 },
		/* Across the spring-forward weekend: Friday 19:00 CET, 4 hours:
		   1 on Friday, 3 on Monday in summer time. */
		{ "Europe/Berlin", NULL, NULL, "2024-03-29T18:00Z", 4 * 3600, "2024-04-01 11:00 +0200 Mon", 1 },
		/* Across the fall-back weekend. */
		{ "Europe/Berlin", NULL, NULL, "2024-10-25T17:00Z", 2 * 3600, "2024-10-28 09:00 +0100 Mon", 1 },
		/* An always-open desk on the day the clocks go forward: the day
		   has 23 hours, and 24 business hours are 24 real hours. */
		{ "Europe/Berlin", "mon-sun 00:00-24:00", "", "2024-03-30T11:00Z", 24 * 3600, "2024-03-31 13:00 +0200 Sun", 1 },
		/* ... and on the day they go back (25 hours). */
		{ "Europe/Berlin", "mon-sun 00:00-24:00", "", "2024-10-26T10:00Z", 24 * 3600, "2024-10-27 11:00 +0100 Sun", 1 },
		/* New York: opening hours that contain the spring-forward gap
		   (02:00-03:00 does not exist on 10 March 2024): 01:00-04:00
		   is only 2 real hours that day. */
		{ "America/New_York", "mon-sun 01:00-04:00", "", "2024-03-10T06:00Z", 9000, "2024-03-11 01:30 -0400 Mon", 1 },
		/* An opening time inside the gap: mktime() reads 02:30 as 03:30 EDT. */
		{ "America/New_York", "sun 02:30-05:00", "", "2024-03-09T12:00Z", 1800, "2024-03-10 04:00 -0400 Sun", 0 },
		/* Shanghai, Chinese New Year holiday week, split lunch break. */
		{ "Asia/Shanghai", "mon-fri 09:00-12:00 13:00-18:00", "2025-01-28..2025-02-04",
		  "2025-01-27T09:00Z", 4 * 3600, "2025-02-05 12:00 +0800 Wed", 1 },
		{ "Asia/Shanghai", "mon-fri 09:00-12:00 13:00-18:00", "", "2025-02-05T04:30Z", 3600,
		  "2025-02-05 14:00 +0800 Wed", 0 },
		{ "Asia/Shanghai", "mon-fri 09:00-12:00 13:00-18:00", "", "2025-02-05T01:00Z", 4 * 3600,
		  "2025-02-05 14:00 +0800 Wed", 1 },
		/* a wrapping day range */
		{ "Asia/Shanghai", "fri-mon 10:00-16:00", "", "2025-02-05T01:00Z", 3600,
		  "2025-02-07 11:00 +0800 Fri", 0 },
		/* zero seconds: now */
		{ "UTC", "mon-fri 08:00-20:00", "", "2025-02-08T01:00Z", 0, "2025-02-08 01:00 +0000 Sat", 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct hours *h = NULL;
		const char *error = NULL;
		char name[64];
		snprintf(name, sizeof(name), "due #%zu %s", i, cases[i].now);
		test_begin(name);
		int ret = hours_new(cases[i].tz, cases[i].week != NULL ? cases[i].week : BERLIN_WEEK,
				    cases[i].holidays != NULL ? cases[i].holidays : BERLIN_HOLIDAYS, &h,
				    &error);
		test_assert_int(ret, 0);
		if (ret < 0) {
			printf("  %s\n", error);
			continue;
		}
		int64_t now = utc(cases[i].now), due = 0;
		test_assert_int(hours_due(h, now, cases[i].seconds, &due, &error), 0);
		test_assert_str(local(h, due), cases[i].want);
		test_assert_int(hours_is_open(h, now), cases[i].open);
		hours_free(&h);
		test_assert(h == NULL);
	}
}

static void
test_tz_restored(void)
{
	test_begin("TZ is put back");
	struct hours *h;
	const char *error;
	test_assert_int(hours_new("Asia/Shanghai", "mon-fri 09:00-18:00", NULL, &h, &error), 0);
	setenv("TZ", "America/New_York", 1);
	tzset();
	int64_t due;
	test_assert_int(hours_due(h, utc("2025-02-05T01:00Z"), 3600, &due, &error), 0);
	test_assert_str(getenv("TZ"), "America/New_York");
	time_t t = (time_t)utc("2025-02-05T12:00Z");
	struct tm tm;
	localtime_r(&t, &tm);
	test_assert_int(tm.tm_hour, 7);
	unsetenv("TZ");
	tzset();
	(void)hours_is_open(h, due);
	test_assert(getenv("TZ") == NULL);
	hours_free(&h);
}

static void
test_targets(void)
{
	test_begin("targets");
	struct hours *h;
	const char *error;
	test_assert_int(hours_new("UTC", "mon-fri 08:00-20:00", NULL, &h, &error), 0);
	test_assert_int(hours_target(h, "urgent"), 3600);
	test_assert_int(hours_target(h, "high"), 4 * 3600);
	test_assert_int(hours_target(h, "normal"), 24 * 3600);
	test_assert_int(hours_target(h, "low"), 48 * 3600);
	test_assert_int(hours_target(h, "bogus"), 24 * 3600);
	test_assert_int(hours_target(h, NULL), 24 * 3600);
	test_assert_int(hours_set_target(h, "high", 7200), 0);
	test_assert_int(hours_target(h, "high"), 7200);
	test_assert_int(hours_set_target(h, "HIGH", 1), -1);
	test_assert_str(hours_timezone(h), "UTC");
	hours_free(&h);
	hours_free(&h);
}

static void
test_errors(void)
{
	static const struct {
		const char *tz, *week, *holidays, *error;
	} cases[] = {
		{ "Mars/Olympus_Mons", "mon-fri 08:00-20:00", NULL,
		  "time zone \"Mars/Olympus_Mons\" not found in the tz database" },
		{ "../../../etc/passwd", "mon-fri 08:00-20:00", NULL, "not a zone name" },
		{ "/etc/localtime", "mon-fri 08:00-20:00", NULL, "not a zone name" },
		{ "Europe/Berlin;rm", "mon-fri 08:00-20:00", NULL, "not a zone name" },
		{ "", "mon-fri 08:00-20:00", NULL, "expected an IANA name" },
		{ "UTC", "", NULL, "week: no opening hours" },
		{ "UTC", "mon-fri", NULL, "has no HH:MM-HH:MM range" },
		{ "UTC", "mon-fri 20:00-08:00", NULL, "must end after it starts" },
		{ "UTC", "mon-fri 08:00-08:00", NULL, "must end after it starts" },
		{ "UTC", "mon-fri 08:60-09:00", NULL, "expected HH:MM-HH:MM" },
		{ "UTC", "mon-fri 8:00-9:00", NULL, "expected HH:MM-HH:MM" },
		{ "UTC", "mon-fri 24:01-24:00", NULL, "expected HH:MM-HH:MM" },
		{ "UTC", "monday 08:00-10:00", NULL, "expected a day" },
		{ "UTC", "mon-xyz 08:00-10:00", NULL, "expected a day" },
		{ "UTC", "mon 08:00-12:00 11:00-13:00", NULL, "overlapping hours on mon" },
		{ "UTC", "mon-fri 08:00-12:00, wed 09:00-10:00", NULL, "overlapping hours on wed" },
		{ "UTC", "mon 00:00-01:00 01:00-02:00 02:00-03:00 03:00-04:00 04:00-05:00 05:00-06:00 "
			 "06:00-07:00 07:00-08:00 08:00-09:00", NULL, "more than 8 ranges" },
		{ "UTC", "mon-fri 08:00-20:00", "2025-02-30", "holidays: \"2025-02-30\"" },
		{ "UTC", "mon-fri 08:00-20:00", "2025-13-01", "holidays" },
		{ "UTC", "mon-fri 08:00-20:00", "2025-01-05..2025-01-01", "holidays" },
		{ "UTC", "mon-fri 08:00-20:00", "tomorrow", "holidays" },
	};
	test_begin("invalid configurations");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct hours *h = NULL;
		const char *error = NULL;
		test_assert_int(hours_new(cases[i].tz, cases[i].week, cases[i].holidays, &h, &error), -1);
		test_assert(h == NULL);
		if (error == NULL || strstr(error, cases[i].error) == NULL)
			printf("  case %zu: got \"%s\", want \"%s\"\n", i, error ? error : "(null)",
			       cases[i].error);
		test_assert(error != NULL && strstr(error, cases[i].error) != NULL);
	}

	test_begin("valid variants");
	static const char *const ok[] = {
		"mon-fri 08:00-20:00",
		"Mon-Fri 08:00-20:00; Sat 10:00-14:00",
		"mon-fri 09:00-12:30 13:30-18:00, sat 10:00-14:00",
		"sun 00:00-24:00",
		" mon 08:00-09:00 ,, ",
	};
	for (size_t i = 0; i < N_ELEMENTS(ok); i++) {
		struct hours *h = NULL;
		const char *error = NULL;
		int ret = hours_new("UTC", ok[i], "2025-01-01, 2025-05-01..2025-05-05;2025-12-25", &h,
				    &error);
		if (ret < 0)
			printf("  %s: %s\n", ok[i], error);
		test_assert_int(ret, 0);
		hours_free(&h);
	}

	test_begin("all holidays: no due time");
	struct hours *h = NULL;
	const char *error = NULL;
	test_assert_int(hours_new("UTC", "mon 08:00-09:00", "2025-01-01..2027-12-31", &h, &error), 0);
	int64_t due;
	test_assert_int(hours_due(h, utc("2025-02-05T01:00Z"), 3600, &due, &error), -1);
	test_assert(strstr(error, "no business hours") != NULL);
	hours_free(&h);
}

/* Named calendars: open days, 24x7, business time between two instants,
   the next opening, business days. */
static void
test_calendars(void)
{
	struct hours *h = NULL;
	const char *error = NULL;
	test_begin("open days (a working Saturday before the holiday week)");
	test_assert_int(hours_new("Asia/Shanghai", "mon-fri 09:00-18:00", "2025-01-28..2025-02-04",
				  &h, &error), 0);
	hours_set_name(h, "china");
	test_assert_str(hours_name(h), "china");
	test_assert_int(hours_set_open_days(h, "2025-01-26 09:00-18:00; 2025-02-08 09:00-12:00 "
					      "13:00-18:00, 2025-01-29 10:00-11:00", &error), 0);
	/* Sunday 26 January is open; Wednesday 29 (a holiday) too, 10-11 */
	test_assert_int(hours_is_open(h, utc("2025-01-26T02:00Z")), 1);
	test_assert_int(hours_is_open(h, utc("2025-01-29T02:30Z")), 1);
	test_assert_int(hours_is_open(h, utc("2025-01-29T03:30Z")), 0);
	test_assert_int(hours_is_open(h, utc("2025-01-30T02:30Z")), 0);
	/* Saturday 8 February: lunch break */
	test_assert_int(hours_is_open(h, utc("2025-02-08T04:30Z")), 0);
	int64_t due;
	test_assert_int(hours_due(h, utc("2025-01-25T10:00Z"), 2 * 3600, &due, &error), 0);
	test_assert_str(local(h, due), "2025-01-26 11:00 +0800 Sun");
	test_assert(!hours_is_24x7(h));
	/* business time between: Friday 24 Jan 17:00 to Monday 27 10:00 is
	   1 h Friday + 9 h Sunday + 1 h Monday */
	test_assert_int(hours_between(h, utc("2025-01-24T09:00Z"), utc("2025-01-27T02:00Z")),
			11 * 3600);
	test_assert_int(hours_between(h, utc("2025-01-27T02:00Z"), utc("2025-01-24T09:00Z")), 0);
	/* next opening: from the holiday week to Wednesday 29 10:00 */
	test_assert_str(local(h, hours_next_open(h, utc("2025-01-28T01:00Z"))),
			"2025-01-29 10:00 +0800 Wed");
	test_assert_int(hours_next_open(h, utc("2025-01-27T02:00Z")), utc("2025-01-27T02:00Z"));
	/* business days: Friday 24 Jan 15:00 + 3 open days = Sun 26, Mon 27,
	   Wed 29 (10-11 only: 15:00 is closed, so the next opening) */
	test_assert_str(local(h, hours_add_days(h, utc("2025-01-24T07:00Z"), 3)),
			"2025-02-05 09:00 +0800 Wed");
	test_assert_str(local(h, hours_add_days(h, utc("2025-01-24T07:00Z"), 2)),
			"2025-01-27 15:00 +0800 Mon");
	test_assert_str(local(h, hours_add_days(h, utc("2025-01-24T07:00Z"), 0)),
			"2025-01-24 15:00 +0800 Fri");
	hours_free(&h);

	test_begin("bad open days");
	static const char *const bad[] = { "2025-02-30 09:00-10:00", "2025-02-08",
					   "2025-02-08 10:00-09:00", "sat 09:00-10:00",
					   "2025-02-08 09:00-12:00 11:00-13:00" };
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		test_assert_int(hours_new("UTC", "mon 08:00-09:00", NULL, &h, &error), 0);
		test_assert_int(hours_set_open_days(h, bad[i], &error), -1);
		test_assert(strstr(error, "open days") != NULL);
		hours_free(&h);
	}

	test_begin("24x7 across the DST weekends");
	test_assert_int(hours_new("Europe/Berlin", "24x7", "", &h, &error), 0);
	test_assert(hours_is_24x7(h));
	/* Saturday noon + 24 business hours, over the 23-hour Sunday */
	test_assert_int(hours_due(h, utc("2025-03-29T11:00Z"), 24 * 3600, &due, &error), 0);
	test_assert_str(local(h, due), "2025-03-30 13:00 +0200 Sun");
	test_assert_int(hours_between(h, utc("2025-10-25T22:00Z"), utc("2025-10-26T23:00Z")),
			25 * 3600);
	test_assert_int(hours_is_open(h, utc("2025-10-26T01:30Z")), 1);
	hours_free(&h);
	test_assert_int(hours_new("Europe/Berlin", "24x7", "2025-12-25", &h, &error), 0);
	test_assert(!hours_is_24x7(h));
	hours_free(&h);

	test_begin("business time across the DST weekends");
	test_assert_int(hours_new("Europe/Berlin", "mon-fri 09:00-17:00", "", &h, &error), 0);
	/* Friday 16:00 CET to Monday 10:00 CEST: 2 business hours */
	test_assert_int(hours_between(h, utc("2025-03-28T15:00Z"), utc("2025-03-31T08:00Z")),
			2 * 3600);
	/* the same in autumn */
	test_assert_int(hours_between(h, utc("2025-10-24T14:00Z"), utc("2025-10-27T09:00Z")),
			2 * 3600);
	/* between and due agree */
	for (int64_t t = utc("2025-03-20T00:00Z"); t < utc("2025-04-10T00:00Z"); t += 7 * 3600 + 61) {
		test_assert_int(hours_due(h, t, 5 * 3600, &due, &error), 0);
		uint64_t b = hours_between(h, t, due);
		if (b != 5 * 3600) {
			test_assert_int(b, 5 * 3600);
			break;
		}
	}
	hours_free(&h);
}

int
main(void)
{
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0 && getenv("TZDIR") == NULL)
		return test_skip("no tz database (install tzdata)");
	test_due();
	test_tz_restored();
	test_targets();
	test_errors();
	test_calendars();
	tz_cache_clear();
	return test_exit();
}
