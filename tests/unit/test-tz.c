/*
 * test-tz: parsers/tzif and gateway/tz against glibc, the oracle. Every
 * zone of the system's tz database is loaded by both; glibc (TZ set,
 * localtime_r) and tzif_localtime() must agree on the broken-down time,
 * the offset, the DST flag and the abbreviation at every transition of
 * 1900-2100 (the second before, at and after it, and an hour either side)
 * and at sampled instants from 1900 to 2200 (past the tables: the footer
 * rule); tzif_mktime() must give back the instant from its local fields
 * (the first one where an hour repeats). Then POSIX TZ strings, skipped
 * and doubled hours, the cache, and damaged files.
 */
#include "build-config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/clock.h"
#include "base/util.h"
#include "gateway/tz.h"
#include "parsers/tzif.h"
#include "tests/unit/test.h"

#define ZONEINFO "/usr/share/zoneinfo"

static long n_compared, n_zones;

static void
set_tz(const char *spec)
{
	setenv("TZ", spec, 1);
	tzset();
}

/* Compare tzif and glibc at t; 0 when they agree. */
static int
compare_at(const char *zone, const struct tzif *tz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm g;
	struct tzif_tm m;
	if (localtime_r(&tt, &g) == NULL)
		return 0;
	tzif_localtime(tz, t, &m);
	n_compared++;
	if (m.year != g.tm_year + 1900 || m.mon != g.tm_mon + 1 || m.mday != g.tm_mday ||
	    m.hour != g.tm_hour || m.min != g.tm_min || m.sec != g.tm_sec || m.wday != g.tm_wday ||
	    m.yday != g.tm_yday || m.utoff != g.tm_gmtoff || m.isdst != (g.tm_isdst > 0) ||
	    strcmp(m.abbr, g.tm_zone) != 0) {
		printf("FAIL %s at %lld: tzif %04d-%02d-%02d %02d:%02d:%02d %+d %s dst=%d, glibc "
		       "%04d-%02d-%02d %02d:%02d:%02d %+ld %s dst=%d\n",
		       zone, (long long)t, m.year, m.mon, m.mday, m.hour, m.min, m.sec, (int)m.utoff,
		       m.abbr, m.isdst, g.tm_year + 1900, g.tm_mon + 1, g.tm_mday, g.tm_hour,
		       g.tm_min, g.tm_sec, g.tm_gmtoff, g.tm_zone, g.tm_isdst);
		return -1;
	}
	/* back from the local fields: t itself, or an earlier instant with
	   the same local time (an hour that happens twice) */
	int64_t back = tzif_mktime(tz, m.year, m.mon, m.mday, m.hour, m.min, m.sec);
	struct tzif_tm b;
	tzif_localtime(tz, back, &b);
	if (back > t || b.year != m.year || b.mon != m.mon || b.mday != m.mday ||
	    b.hour != m.hour || b.min != m.min || b.sec != m.sec) {
		printf("FAIL %s: mktime of the local time of %lld gave %lld\n", zone, (long long)t,
		       (long long)back);
		return -1;
	}
	return 0;
}

static const int64_t Y1900 = -2208988800LL, Y2100 = 4102444800LL, Y2200 = 7258118400LL;

/* At every change of the zone's rules from 1900 to 2100 (the second
   before, at and after it, and an hour either side), then at sampled
   instants up to 2200 (past the tables: the footer rule decides), which
   would also catch a change the zone missed. */
static int
compare_zone(const char *name, const struct tzif *tz)
{
	int failures = 0;
	for (int64_t t = tzif_next_change(tz, Y1900); t < Y2100 && failures < 3;
	     t = tzif_next_change(tz, t)) {
		const int64_t around[] = { -3600, -1, 0, 1, 3600 };
		for (size_t k = 0; k < N_ELEMENTS(around); k++)
			failures += compare_at(name, tz, t + around[k]) < 0;
	}
	for (int64_t t = Y1900 + 4321; t < Y2200 && failures < 3; t += 29 * 86400 + 3607)
		failures += compare_at(name, tz, t) < 0;
	return failures;
}

static int
is_tzif_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char magic[4] = { 0 };
	size_t n = fp != NULL ? fread(magic, 1, 4, fp) : 0;
	if (fp != NULL)
		fclose(fp);
	return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

static void
walk(const char *dir, const char *prefix, int *failures)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		/* right/: leap seconds (refused, tested below); posix/: copies */
		if (*prefix == '\0' && (strcmp(e->d_name, "right") == 0 ||
					strcmp(e->d_name, "posix") == 0 ||
					strcmp(e->d_name, "posixrules") == 0 ||
					strcmp(e->d_name, "localtime") == 0))
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		char *name = *prefix != '\0' ? xasprintf("%s/%s", prefix, e->d_name)
					     : xstrdup(e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(path, name, failures);
		} else if (S_ISREG(st.st_mode) && is_tzif_file(path)) {
			const char *error = NULL;
			size_t len;
			unsigned char *data = test_read_file(path, &len);
			struct tzif *tz = NULL;
			test_assert(data != NULL && tzif_parse(data, len, &tz, &error) == 0);
			free(data);
			if (tz == NULL) {
				printf("  %s: %s\n", name, error);
			} else {
				char *spec = xasprintf(":%s", path);
				set_tz(spec);
				free(spec);
				int f = compare_zone(name, tz);
				test_assert_int(f, 0);
				*failures += f;
				n_zones++;
				tzif_free(&tz);
			}
		}
		free(name);
		free(path);
	}
	closedir(d);
}

static void
test_all_zones(void)
{
	test_begin("every zone of the tz database against glibc");
	int failures = 0;
	unsetenv("TZDIR");
	walk(ZONEINFO, "", &failures);
	printf("  %ld zones, %ld instants compared\n", n_zones, n_compared);
	test_assert(n_zones > 300);
	test_assert_int(failures, 0);
	/* the cache gives the same zone again */
	const char *error;
	const struct tzif *a = tz_get("Europe/Berlin", &error);
	test_assert(a != NULL && a == tz_get("Europe/Berlin", &error));
	test_assert(a != NULL && tz_get("Asia/Shanghai", &error) != a);
}

/* POSIX TZ strings, glibc as the oracle. */
static void
test_posix_strings(void)
{
	static const char *const specs[] = {
		"EST5EDT,M3.2.0,M11.1.0",
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"AEST-10AEDT,M10.1.0,M4.1.0/3",	   /* southern hemisphere */
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", /* negative hours (RFC 8536) */
		"IST-2IDT,M3.4.4/26,M10.5.0",	   /* hour past 24 */
		"<+0330>-3:30",
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
		"XXX3YYY,J60/2,300/4",		   /* Julian day 60 and zero-based day 300 */
		"UTC0",
	};
	test_begin("POSIX TZ strings against glibc");
	for (size_t i = 0; i < N_ELEMENTS(specs); i++) {
		struct tzif *tz = NULL;
		const char *error = NULL;
		int r = tzif_parse_posix(specs[i], &tz, &error);
		test_assert_int(r, 0);
		if (r < 0) {
			printf("  %s: %s\n", specs[i], error);
			continue;
		}
		set_tz(specs[i]);
		int failures = 0;
		for (int64_t t = 946684800; t < 4102444800LL && failures < 3; t += 3 * 86400 + 1801)
			failures += compare_at(specs[i], tz, t) < 0;
		test_assert_int(failures, 0);
		tzif_free(&tz);
	}
	/* DST all year (RFC 8536 3.3.1); glibc differs in the first hours of
	   a year, so the RFC is the reference here */
	struct tzif *allyear = NULL;
	const char *err;
	test_assert_int(tzif_parse_posix("EST5EDT,0/0,J365/25", &allyear, &err), 0);
	for (int64_t t = 946684800 - 7200; allyear != NULL && t < 4102444800LL; t += 86400 * 5 + 3599) {
		struct tzif_tm m;
		tzif_localtime(allyear, t, &m);
		if (m.utoff != -4 * 3600 || !m.isdst) {
			test_assert_int(m.utoff, -4 * 3600);
			break;
		}
	}
	test_assert(allyear != NULL && tzif_next_change(allyear, 0) == INT64_MAX);
	tzif_free(&allyear);

	static const char *const bad[] = {
		"", "E5", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
		"EST5EDT,M3.2.7,M11.1.0", "EST99", "EST5EDT,J0,J365", "EST5EDT,366,1", "<ES>5",
		"EST5 ", "EST5EDT,M3.2.0/200,M11.1.0", "<EST5", "ABCDEFGHIJKLMNOPQRS5",
	};
	test_begin("bad POSIX TZ strings");
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct tzif *tz = NULL;
		const char *error = NULL;
		test_assert_int(tzif_parse_posix(bad[i], &tz, &error), -1);
		test_assert(tz == NULL && error != NULL);
		if (tz != NULL)
			printf("  accepted \"%s\"\n", bad[i]);
		tzif_free(&tz);
	}
}

static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	return clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static void
test_gaps_and_doubles(void)
{
	const char *error;
	const struct tzif *berlin = tz_get("Europe/Berlin", &error);
	test_begin("local times skipped and repeated");
	test_assert(berlin != NULL);
	if (berlin == NULL)
		return;
	/* 2025-03-30 02:30 does not exist in Berlin: read with CET, 03:30 CEST */
	test_assert_int(tzif_mktime(berlin, 2025, 3, 30, 2, 30, 0), utc(2025, 3, 30, 1, 30));
	test_assert_int(tzif_mktime(berlin, 2025, 3, 30, 3, 0, 0), utc(2025, 3, 30, 1, 0));
	test_assert_int(tzif_mktime(berlin, 2025, 3, 30, 1, 59, 59),
			utc(2025, 3, 30, 0, 59) + 59);
	/* 2025-10-26 02:30 happens twice: the first (CEST) one */
	test_assert_int(tzif_mktime(berlin, 2025, 10, 26, 2, 30, 0), utc(2025, 10, 26, 0, 30));
	test_assert_int(tzif_mktime(berlin, 2025, 10, 26, 3, 0, 0), utc(2025, 10, 26, 2, 0));
	/* glibc's mktime reads the skipped hour the same way */
	set_tz(":Europe/Berlin");
	struct tm tm = { .tm_year = 125, .tm_mon = 2, .tm_mday = 30, .tm_hour = 2, .tm_min = 30,
			 .tm_isdst = -1 };
	test_assert_int((int64_t)mktime(&tm), utc(2025, 3, 30, 1, 30));
	/* normalised fields */
	test_assert_int(tzif_mktime(berlin, 2025, 1, 32, 0, 0, 0), utc(2025, 1, 31, 23, 0));
	test_assert_int(tzif_mktime(berlin, 2025, 13, 1, 24, 0, 0), utc(2026, 1, 1, 23, 0));
	test_assert_int(tzif_mktime(berlin, 2025, 0, 1, 0, 0, 0), utc(2024, 11, 30, 23, 0));

	struct tzif_tm m;
	tzif_localtime(berlin, utc(2025, 3, 30, 1, 0), &m);
	test_assert_int(m.hour, 3);
	test_assert_int(m.isdst, 1);
	test_assert_str(m.abbr, "CEST");
	test_assert_int(tzif_utoff(berlin, utc(2025, 3, 30, 0, 59)), 3600);

	/* fixed offsets (a customer's Date header) */
	struct tzif *fixed = tzif_fixed(8 * 3600, NULL);
	tzif_localtime(fixed, utc(2025, 3, 30, 20, 15), &m);
	test_assert_int(m.mday, 31);
	test_assert_int(m.hour, 4);
	test_assert_str(m.abbr, "UTC+08:00");
	test_assert_int(tzif_mktime(fixed, 2025, 3, 31, 4, 15, 0), utc(2025, 3, 30, 20, 15));
	tzif_free(&fixed);
	fixed = tzif_fixed(-(3 * 3600 + 30 * 60), NULL);
	tzif_localtime(fixed, 0, &m);
	test_assert_str(m.abbr, "UTC-03:30");
	tzif_free(&fixed);
	char buf[16];
	test_assert_str(tz_offset_string(-(9 * 3600 + 30 * 60), buf, sizeof(buf)), "-09:30");
	test_assert_str(tz_offset_string(5 * 3600 + 45 * 60, buf, sizeof(buf)), "+05:45");

	/* the calendar helpers at their edges */
	int y, mo, d;
	clock_civil_from_days(clock_days_from_civil(2024, 2, 29), &y, &mo, &d);
	test_assert(y == 2024 && mo == 2 && d == 29);
	clock_civil_from_days(-1, &y, &mo, &d);
	test_assert(y == 1969 && mo == 12 && d == 31);
	test_assert_int(clock_weekday(0), 4);
	test_assert_int(clock_weekday(-1), 3);
	test_assert_int(clock_days_from_civil(2000, 3, 1) - clock_days_from_civil(2000, 2, 28), 2);
	test_assert_int(clock_days_from_civil(1900, 3, 1) - clock_days_from_civil(1900, 2, 28), 1);
	/* far times are clamped, not overflowed */
	tzif_localtime(berlin, INT64_MAX, &m);
	test_assert_int(m.year, 9999);
	tzif_localtime(berlin, INT64_MIN, &m);
	test_assert_int(m.year, 1);
}

static void
test_bad_files(void)
{
	size_t len;
	unsigned char *good = test_read_file(ZONEINFO "/Europe/Berlin", &len);
	const char *error;
	struct tzif *tz = NULL;
	test_begin("damaged zone files");
	test_assert(good != NULL && len > 100);
	if (good == NULL)
		return;
	test_assert_int(tzif_parse(good, len, &tz, &error), 0);
	tzif_free(&tz);
	/* every truncation is refused cleanly */
	int refused = 0;
	for (size_t n = 0; n < len; n++) {
		if (tzif_parse(good, n, &tz, &error) < 0)
			refused++;
		tzif_free(&tz);
	}
	test_assert_int(refused, (long long)len);
	/* bad magic */
	unsigned char *copy = malloc(len);
	memcpy(copy, good, len);
	copy[0] = 'X';
	test_assert_int(tzif_parse(copy, len, &tz, &error), -1);
	test_assert(strstr(error, "TZif") != NULL);
	/* a transition type out of range (first 64-bit block type index) */
	memcpy(copy, good, len);
	copy[4] = 0; /* version 1: the 32-bit block only */
	test_assert_int(tzif_parse(copy, len, &tz, &error), 0);
	tzif_free(&tz);
	/* a broken footer */
	memcpy(copy, good, len);
	copy[len - 5] = '!';
	test_assert_int(tzif_parse(copy, len, &tz, &error), -1);
	test_assert(strstr(error, "footer") != NULL);
	free(copy);
	free(good);

	unsigned char *right = test_read_file(ZONEINFO "/right/Europe/Berlin", &len);
	if (right != NULL) {
		test_assert_int(tzif_parse(right, len, &tz, &error), -1);
		test_assert(strstr(error, "leap") != NULL);
		free(right);
	}
	/* names */
	test_assert(tz_get("../etc/passwd", &error) == NULL);
	test_assert(tz_get("/etc/localtime", &error) == NULL);
	test_assert(tz_get("Europe/Nowhere", &error) == NULL);
	test_assert(strstr(error, "not found") != NULL);
	test_assert(tz_get("", &error) == NULL);
	test_assert(tz_get("zone.tab", &error) == NULL);
	test_assert(tz_check_name("America/Argentina/Buenos_Aires") == NULL);
	test_assert(tz_check_name("Etc/GMT+5") == NULL);
	test_assert(tz_check_name("Europe/Ber lin") != NULL);
}

int
main(void)
{
	struct stat st;
	if (stat(ZONEINFO "/Europe/Berlin", &st) != 0)
		return test_skip("no tz database in " ZONEINFO " (install tzdata)");
	test_all_zones();
	test_posix_strings();
	test_gaps_and_doubles();
	test_bad_files();
	tz_cache_clear();
	return test_exit();
}
