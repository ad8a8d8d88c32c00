/*
 * hours: see hours.h. The tz database is glibc's; what is written here is
 * only the calendar walk (no library computes "business time"). Opening
 * and closing instants are computed with mktime() under the desk's TZ for
 * each local date, so DST changes are handled by the tz database itself.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/hours.h"
#include "base/util.h"

#define MAX_RANGES 8	    /* opening ranges per weekday */
#define MAX_HOLIDAYS 1000   /* holiday entries */
#define MAX_SCAN_DAYS 800   /* how far hours_due() looks ahead */

struct range {
	int from, to; /* minutes since local midnight, to <= 1440 */
};

struct holiday {
	long from, to; /* yyyymmdd, inclusive */
};

struct hours {
	char *tz;
	struct range days[7][MAX_RANGES]; /* index: tm_wday, 0 = Sunday */
	size_t n_ranges[7];
	struct holiday *holidays;
	size_t n_holidays;
	uint64_t target[4]; /* urgent high normal low */
};

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
static const char *const priority_names[4] = { "urgent", "high", "normal", "low" };

/* ---- TZ switching -------------------------------------------------------- */

struct tz_saved {
	char *old;
	int had;
};

static void
tz_enter(const char *tz, struct tz_saved *saved)
{
	const char *old = getenv("TZ");
	saved->had = old != NULL;
	saved->old = old != NULL ? xstrdup(old) : NULL;
	setenv("TZ", tz, 1);
	tzset();
}

static void
tz_leave(struct tz_saved *saved)
{
	if (saved->had)
		setenv("TZ", saved->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved->old);
	saved->old = NULL;
}

/* An IANA zone name that names a TZif file in the tz database. */
static const char *
check_timezone(const char *tz)
{
	size_t len = strlen(tz);
	if (len == 0 || len > 64)
		return "time zone: expected an IANA name such as Europe/Berlin";
	if (tz[0] == '/' || strstr(tz, "..") != NULL)
		return errf("time zone \"%s\": not a zone name", tz);
	for (const char *p = tz; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return errf("time zone \"%s\": not a zone name", tz);
	const char *dir = getenv("TZDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	char *path = xasprintf("%s/%s", dir, tz);
	FILE *fp = fopen(path, "rb");
	free(path);
	char magic[4] = { 0 };
	size_t n = fp != NULL ? fread(magic, 1, 4, fp) : 0;
	if (fp != NULL)
		fclose(fp);
	if (n != 4 || memcmp(magic, "TZif", 4) != 0)
		return errf("time zone \"%s\" not found in the tz database (%s)", tz, dir);
	return NULL;
}

/* ---- parsing --------------------------------------------------------------- */

static int
parse_day(const char *s, size_t len)
{
	if (len != 3)
		return -1;
	for (int i = 0; i < 7; i++)
		if (strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "HH:MM" -> minutes; 24:00 allowed. */
static int
parse_hhmm(const char *s, size_t len)
{
	if (len != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && !isdigit((unsigned char)s[i]))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return (x->from > y->from) - (x->from < y->from);
}

static const char *
parse_entry(struct hours *h, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	size_t d0 = i;
	while (i < len && !isspace((unsigned char)s[i]))
		i++;
	size_t d1 = i;
	if (d1 == d0)
		return NULL; /* empty entry */
	const char *dash = memchr(s + d0, '-', d1 - d0);
	int first, last;
	if (dash != NULL) {
		first = parse_day(s + d0, (size_t)(dash - (s + d0)));
		last = parse_day(dash + 1, (size_t)(s + d1 - dash - 1));
	} else {
		first = last = parse_day(s + d0, d1 - d0);
	}
	if (first < 0 || last < 0)
		return errf("week: \"%.*s\": expected a day (mon..sun) or a range such as mon-fri",
			    (int)(d1 - d0 > 32 ? 32 : d1 - d0), s + d0);
	int n_times = 0;
	for (;;) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i >= len)
			break;
		size_t t0 = i;
		while (i < len && !isspace((unsigned char)s[i]))
			i++;
		const char *tdash = memchr(s + t0, '-', i - t0);
		int from = -1, to = -1;
		if (tdash != NULL) {
			from = parse_hhmm(s + t0, (size_t)(tdash - (s + t0)));
			to = parse_hhmm(tdash + 1, (size_t)(s + i - tdash - 1));
		}
		if (from < 0 || to < 0)
			return errf("week: \"%.*s\": expected HH:MM-HH:MM", (int)(i - t0 > 32 ? 32 : i - t0),
				    s + t0);
		if (to <= from)
			return errf("week: \"%.*s\": the range must end after it starts (on the same day)",
				    (int)(i - t0), s + t0);
		for (int d = first;; d = (d + 1) % 7) {
			if (h->n_ranges[d] >= MAX_RANGES)
				return errf("week: more than %d ranges on %s", MAX_RANGES, day_names[d]);
			h->days[d][h->n_ranges[d]].from = from;
			h->days[d][h->n_ranges[d]].to = to;
			h->n_ranges[d]++;
			if (d == last)
				break;
		}
		n_times++;
	}
	if (n_times == 0)
		return errf("week: \"%.*s\" has no HH:MM-HH:MM range", (int)(len > 32 ? 32 : len), s);
	return NULL;
}

static const char *
parse_week(struct hours *h, const char *week)
{
	const char *p = week;
	for (;;) {
		size_t n = strcspn(p, ",;");
		const char *why = parse_entry(h, p, n);
		if (why != NULL)
			return why;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	size_t total = 0;
	for (int d = 0; d < 7; d++) {
		qsort(h->days[d], h->n_ranges[d], sizeof(struct range), range_cmp);
		for (size_t k = 1; k < h->n_ranges[d]; k++)
			if (h->days[d][k].from < h->days[d][k - 1].to)
				return errf("week: overlapping hours on %s", day_names[d]);
		total += h->n_ranges[d];
	}
	if (total == 0)
		return "week: no opening hours";
	return NULL;
}

static int
days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* "YYYY-MM-DD" -> yyyymmdd, or -1. */
static long
parse_date(const char *s, size_t len)
{
	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	return (long)y * 10000 + m * 100 + d;
}

static const char *
parse_holidays(struct hours *h, const char *s)
{
	const char *p = s;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		size_t n = strcspn(p, " \t,;");
		const char *dots = NULL;
		for (size_t k = 0; k + 1 < n; k++)
			if (p[k] == '.' && p[k + 1] == '.') {
				dots = p + k;
				break;
			}
		long from, to;
		if (dots != NULL) {
			from = parse_date(p, (size_t)(dots - p));
			to = parse_date(dots + 2, (size_t)(p + n - dots - 2));
		} else {
			from = to = parse_date(p, n);
		}
		if (from < 0 || to < 0 || to < from)
			return errf("holidays: \"%.*s\": expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD",
				    (int)(n > 32 ? 32 : n), p);
		if (h->n_holidays >= MAX_HOLIDAYS)
			return errf("holidays: more than %d entries", MAX_HOLIDAYS);
		h->holidays = xreallocarray(h->holidays, h->n_holidays + 1, sizeof(*h->holidays));
		h->holidays[h->n_holidays].from = from;
		h->holidays[h->n_holidays].to = to;
		h->n_holidays++;
		p += n;
	}
	return NULL;
}

int
hours_new(const char *tz_name, const char *week, const char *holidays, struct hours **hours_r,
	  const char **error_r)
{
	*hours_r = NULL;
	const char *why = check_timezone(tz_name != NULL ? tz_name : "");
	if (why != NULL) {
		*error_r = why;
		return -1;
	}
	struct hours *h = xcalloc(1, sizeof(*h));
	h->tz = xstrdup(tz_name);
	h->target[0] = 3600;
	h->target[1] = 4 * 3600;
	h->target[2] = 24 * 3600;
	h->target[3] = 48 * 3600;
	why = parse_week(h, week != NULL ? week : "");
	if (why == NULL && holidays != NULL)
		why = parse_holidays(h, holidays);
	if (why != NULL) {
		*error_r = why;
		hours_free(&h);
		return -1;
	}
	*hours_r = h;
	return 0;
}

void
hours_free(struct hours **hoursp)
{
	struct hours *h = *hoursp;
	if (h == NULL)
		return;
	free(h->tz);
	free(h->holidays);
	free(h);
	*hoursp = NULL;
}

const char *
hours_timezone(const struct hours *hours)
{
	return hours->tz;
}

int
hours_set_target(struct hours *hours, const char *priority, uint64_t business_seconds)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(priority, priority_names[i]) == 0) {
			hours->target[i] = business_seconds;
			return 0;
		}
	}
	return -1;
}

uint64_t
hours_target(const struct hours *hours, const char *priority)
{
	for (int i = 0; i < 4; i++)
		if (priority != NULL && strcmp(priority, priority_names[i]) == 0)
			return hours->target[i];
	return hours->target[2];
}

/* ---- the calendar walk (TZ already switched) ------------------------------ */

static int
is_holiday(const struct hours *h, const struct tm *tm)
{
	long ymd = (long)(tm->tm_year + 1900) * 10000 + (tm->tm_mon + 1) * 100 + tm->tm_mday;
	for (size_t i = 0; i < h->n_holidays; i++)
		if (ymd >= h->holidays[i].from && ymd <= h->holidays[i].to)
			return 1;
	return 0;
}

/* The local date `days` after the date of *base (noon avoids DST edges). */
static void
date_add(const struct tm *base, int days, struct tm *out)
{
	struct tm tm = { 0 };
	tm.tm_year = base->tm_year;
	tm.tm_mon = base->tm_mon;
	tm.tm_mday = base->tm_mday + days;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	localtime_r(&t, out);
}

/* The instant of minute-of-day `minutes` on the local date of *day. */
static int64_t
at_minute(const struct tm *day, int minutes)
{
	struct tm tm = { 0 };
	tm.tm_year = day->tm_year;
	tm.tm_mon = day->tm_mon;
	tm.tm_mday = day->tm_mday;
	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static int
open_at(const struct hours *h, int64_t now)
{
	time_t t = (time_t)now;
	struct tm today;
	localtime_r(&t, &today);
	/* A range of the previous local date cannot reach past its midnight,
	   so only today's ranges can contain now. */
	if (is_holiday(h, &today))
		return 0;
	for (size_t k = 0; k < h->n_ranges[today.tm_wday]; k++) {
		const struct range *r = &h->days[today.tm_wday][k];
		if (now >= at_minute(&today, r->from) && now < at_minute(&today, r->to))
			return 1;
	}
	return 0;
}

int
hours_is_open(const struct hours *hours, int64_t now)
{
	struct tz_saved saved;
	tz_enter(hours->tz, &saved);
	int ret = open_at(hours, now);
	tz_leave(&saved);
	return ret;
}

static int
due_at(const struct hours *h, int64_t now, uint64_t seconds, int64_t *due_r)
{
	time_t t = (time_t)now;
	struct tm today;
	localtime_r(&t, &today);
	uint64_t remaining = seconds;
	if (remaining == 0) {
		*due_r = now;
		return 0;
	}
	for (int d = 0; d < MAX_SCAN_DAYS; d++) {
		struct tm day;
		date_add(&today, d, &day);
		if (is_holiday(h, &day))
			continue;
		for (size_t k = 0; k < h->n_ranges[day.tm_wday]; k++) {
			const struct range *r = &h->days[day.tm_wday][k];
			int64_t s = at_minute(&day, r->from);
			int64_t e = at_minute(&day, r->to);
			if (e <= now || e <= s)
				continue;
			if (s < now)
				s = now;
			if ((uint64_t)(e - s) >= remaining) {
				*due_r = s + (int64_t)remaining;
				return 0;
			}
			remaining -= (uint64_t)(e - s);
		}
	}
	return -1;
}

int
hours_due(const struct hours *hours, int64_t now, uint64_t business_seconds, int64_t *due_r,
	  const char **error_r)
{
	struct tz_saved saved;
	tz_enter(hours->tz, &saved);
	int ret = due_at(hours, now, business_seconds, due_r);
	tz_leave(&saved);
	if (ret < 0)
		*error_r = errf("no business hours to answer within in the next %d days",
				MAX_SCAN_DAYS);
	return ret;
}

void
hours_localtime(const struct hours *hours, int64_t t, struct tm *tm_r)
{
	struct tz_saved saved;
	time_t tt = (time_t)t;
	tz_enter(hours->tz, &saved);
	localtime_r(&tt, tm_r);
	tz_leave(&saved);
}
