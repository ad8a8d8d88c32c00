/*
 * hours: see hours.h. The zone rules come from the tz database through
 * gateway/tz.h; what is written here is only the calendar walk (no
 * library computes "business time"). Opening and closing instants are
 * computed with tzif_mktime() for each local date, so DST changes are
 * handled by the zone's own rules. A local date is a day number (days
 * since 1970-01-01 in the calendar's zone).
 */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/hours.h"
#include "gateway/tz.h"
#include "base/clock.h"
#include "base/util.h"

#define MAX_RANGES 8	    /* opening ranges per weekday */
#define MAX_HOLIDAYS 1000   /* holiday entries */
#define MAX_OPEN_DAYS 1000  /* open-day entries */
#define MAX_SCAN_DAYS 800   /* how far hours_due() looks ahead */
#define DAY 86400

struct range {
	int from, to; /* minutes since local midnight, to <= 1440 */
};

struct holiday {
	long from, to; /* yyyymmdd, inclusive */
};

/* A date with its own hours. */
struct open_day {
	long ymd;
	struct range ranges[MAX_RANGES];
	size_t n_ranges;
};

struct hours {
	char *name;
	char *tz;
	const struct tzif *zone; /* the tz cache's */
	struct range days[7][MAX_RANGES]; /* index: tm_wday, 0 = Sunday */
	size_t n_ranges[7];
	struct holiday *holidays;
	size_t n_holidays;
	struct open_day *open_days;
	size_t n_open_days;
	uint64_t target[4]; /* urgent high normal low */
};

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
static const char *const priority_names[4] = { "urgent", "high", "normal", "low" };

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

int
hours_parse_weekly(const char *s, int *wday_r, int *minute_r)
{
	int wday = -1, minute = 0;
	if (s == NULL)
		return -1;
	if (strcmp(s, "off") != 0) {
		/* day_names[] start on Sunday */
		int day = strlen(s) == 9 && s[3] == ' ' ? parse_day(s, 3) : -1;
		minute = day >= 0 ? parse_hhmm(s + 4, 5) : -1;
		if (minute < 0 || minute >= 24 * 60)
			return -1;
		wday = (day + 6) % 7;
	}
	if (wday_r != NULL)
		*wday_r = wday;
	if (minute_r != NULL)
		*minute_r = minute;
	return 0;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return (x->from > y->from) - (x->from < y->from);
}

/* The HH:MM-HH:MM ranges from s[*i] to len, appended to out (*n of
   max); what names them in errors: "week" or "open days". */
static const char *
parse_ranges(const char *what, const char *s, size_t len, size_t *ip, struct range *out,
	     size_t *n, const char *day_name)
{
	size_t i = *ip;
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
			return errf("%s: \"%.*s\": expected HH:MM-HH:MM", what,
				    (int)(i - t0 > 32 ? 32 : i - t0), s + t0);
		if (to <= from)
			return errf("%s: \"%.*s\": the range must end after it starts (on the same day)",
				    what, (int)(i - t0), s + t0);
		if (*n >= MAX_RANGES)
			return errf("%s: more than %d ranges on %s", what, MAX_RANGES, day_name);
		out[*n].from = from;
		out[*n].to = to;
		(*n)++;
		n_times++;
	}
	*ip = i;
	if (n_times == 0)
		return errf("%s: \"%.*s\" has no HH:MM-HH:MM range", what, (int)(len > 32 ? 32 : len), s);
	return NULL;
}

/* Sort a day's ranges; overlapping ones are an error. */
static const char *
sort_ranges(const char *what, struct range *r, size_t n, const char *day_name)
{
	qsort(r, n, sizeof(struct range), range_cmp);
	for (size_t k = 1; k < n; k++)
		if (r[k].from < r[k - 1].to)
			return errf("%s: overlapping hours on %s", what, day_name);
	return NULL;
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
	struct range r[MAX_RANGES];
	size_t n = 0;
	const char *why = parse_ranges("week", s, len, &i, r, &n, day_names[first]);
	if (why != NULL)
		return why;
	for (int d = first;; d = (d + 1) % 7) {
		if (h->n_ranges[d] + n > MAX_RANGES)
			return errf("week: more than %d ranges on %s", MAX_RANGES, day_names[d]);
		memcpy(&h->days[d][h->n_ranges[d]], r, n * sizeof(*r));
		h->n_ranges[d] += n;
		if (d == last)
			break;
	}
	return NULL;
}

static const char *
parse_week(struct hours *h, const char *week)
{
	const char *p = week;
	if (strcasecmp(week, "24x7") == 0)
		p = "mon-sun 00:00-24:00";
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
		const char *why = sort_ranges("week", h->days[d], h->n_ranges[d], day_names[d]);
		if (why != NULL)
			return why;
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

/* "YYYY-MM-DD HH:MM-HH:MM ..." entries separated by ',' or ';'. */
static const char *
parse_open_days(struct hours *h, const char *spec)
{
	const char *p = spec;
	for (;;) {
		size_t len = strcspn(p, ",;");
		size_t i = 0;
		while (i < len && isspace((unsigned char)p[i]))
			i++;
		if (i < len) {
			size_t d0 = i;
			while (i < len && !isspace((unsigned char)p[i]))
				i++;
			long ymd = parse_date(p + d0, i - d0);
			if (ymd < 0)
				return errf("open days: \"%.*s\": expected YYYY-MM-DD HH:MM-HH:MM",
					    (int)(len > 32 ? 32 : len), p);
			if (h->n_open_days >= MAX_OPEN_DAYS)
				return errf("open days: more than %d entries", MAX_OPEN_DAYS);
			h->open_days = xreallocarray(h->open_days, h->n_open_days + 1,
						     sizeof(*h->open_days));
			struct open_day *od = &h->open_days[h->n_open_days++];
			memset(od, 0, sizeof(*od));
			od->ymd = ymd;
			char label[16];
			snprintf(label, sizeof(label), "%.10s", p + d0);
			const char *why = parse_ranges("open days", p, len, &i, od->ranges,
						       &od->n_ranges, label);
			if (why == NULL)
				why = sort_ranges("open days", od->ranges, od->n_ranges, label);
			if (why != NULL)
				return why;
		}
		if (p[len] == '\0')
			return NULL;
		p += len + 1;
	}
}

int
hours_new(const char *tz_name, const char *week, const char *holidays, struct hours **hours_r,
	  const char **error_r)
{
	*hours_r = NULL;
	const struct tzif *zone = tz_get(tz_name != NULL ? tz_name : "", error_r);
	if (zone == NULL)
		return -1;
	struct hours *h = xcalloc(1, sizeof(*h));
	h->name = xstrdup("default");
	h->tz = xstrdup(tz_name);
	h->zone = zone;
	h->target[0] = 3600;
	h->target[1] = 4 * 3600;
	h->target[2] = 24 * 3600;
	h->target[3] = 48 * 3600;
	const char *why = parse_week(h, week != NULL ? week : "");
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
hours_set_name(struct hours *hours, const char *name)
{
	free(hours->name);
	hours->name = xstrdup(name);
}

int
hours_set_open_days(struct hours *hours, const char *open_days, const char **error_r)
{
	if (open_days == NULL)
		return 0;
	const char *why = parse_open_days(hours, open_days);
	if (why != NULL) {
		*error_r = why;
		return -1;
	}
	return 0;
}

void
hours_free(struct hours **hoursp)
{
	struct hours *h = *hoursp;
	if (h == NULL)
		return;
	free(h->name);
	free(h->tz);
	free(h->holidays);
	free(h->open_days);
	free(h);
	*hoursp = NULL;
}

const char *
hours_name(const struct hours *hours)
{
	return hours->name;
}

const char *
hours_timezone(const struct hours *hours)
{
	return hours->tz;
}

const struct tzif *
hours_zone(const struct hours *hours)
{
	return hours->zone;
}

int
hours_is_24x7(const struct hours *hours)
{
	if (hours->n_holidays > 0)
		return 0;
	for (int d = 0; d < 7; d++)
		if (hours->n_ranges[d] != 1 || hours->days[d][0].from != 0 ||
		    hours->days[d][0].to != 24 * 60)
			return 0;
	for (size_t i = 0; i < hours->n_open_days; i++)
		if (hours->open_days[i].n_ranges != 1 || hours->open_days[i].ranges[0].from != 0 ||
		    hours->open_days[i].ranges[0].to != 24 * 60)
			return 0;
	return 1;
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

/* ---- the calendar walk ------------------------------------------------------ */

/* A local date: its day number and its opening ranges. */
struct day {
	int64_t num; /* days since 1970-01-01 */
	int year, mon, mday;
	const struct range *ranges;
	size_t n_ranges;
};

static void
day_at(const struct hours *h, int64_t num, struct day *d)
{
	d->num = num;
	clock_civil_from_days(num, &d->year, &d->mon, &d->mday);
	long ymd = (long)d->year * 10000 + d->mon * 100 + d->mday;
	for (size_t i = 0; i < h->n_open_days; i++) {
		if (h->open_days[i].ymd == ymd) {
			d->ranges = h->open_days[i].ranges;
			d->n_ranges = h->open_days[i].n_ranges;
			return;
		}
	}
	for (size_t i = 0; i < h->n_holidays; i++) {
		if (ymd >= h->holidays[i].from && ymd <= h->holidays[i].to) {
			d->ranges = NULL;
			d->n_ranges = 0;
			return;
		}
	}
	int wday = clock_weekday(num);
	d->ranges = h->days[wday];
	d->n_ranges = h->n_ranges[wday];
}

/* The local date of t. */
static int64_t
day_of(const struct hours *h, int64_t t)
{
	struct tzif_tm tm;
	tzif_localtime(h->zone, t, &tm);
	return clock_days_from_civil(tm.year, tm.mon, tm.mday);
}

/* The instant of minute-of-day `minutes` (24:00 is the next midnight). */
static int64_t
at_minute(const struct hours *h, const struct day *d, int minutes)
{
	return tzif_mktime(h->zone, d->year, d->mon, d->mday, minutes / 60, minutes % 60, 0);
}

/* Opening range k of day d as instants; 0 when it is empty (a range
   that the clocks skipped). */
static int
range_at(const struct hours *h, const struct day *d, size_t k, int64_t *s_r, int64_t *e_r)
{
	*s_r = at_minute(h, d, d->ranges[k].from);
	*e_r = at_minute(h, d, d->ranges[k].to);
	return *e_r > *s_r;
}

int
hours_is_open(const struct hours *hours, int64_t now)
{
	/* A range of the previous local date cannot reach past its midnight,
	   so only today's ranges can contain now. */
	struct day d;
	day_at(hours, day_of(hours, now), &d);
	for (size_t k = 0; k < d.n_ranges; k++) {
		int64_t s, e;
		if (range_at(hours, &d, k, &s, &e) && now >= s && now < e)
			return 1;
	}
	return 0;
}

int
hours_due(const struct hours *hours, int64_t now, uint64_t business_seconds, int64_t *due_r,
	  const char **error_r)
{
	uint64_t remaining = business_seconds;
	if (remaining == 0) {
		*due_r = now;
		return 0;
	}
	if (hours_is_24x7(hours)) {
		*due_r = now + (int64_t)remaining;
		return 0;
	}
	int64_t today = day_of(hours, now);
	for (int i = 0; i < MAX_SCAN_DAYS; i++) {
		struct day d;
		day_at(hours, today + i, &d);
		for (size_t k = 0; k < d.n_ranges; k++) {
			int64_t s, e;
			if (!range_at(hours, &d, k, &s, &e) || e <= now)
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
	*error_r = errf("no business hours to answer within in the next %d days", MAX_SCAN_DAYS);
	return -1;
}

uint64_t
hours_between(const struct hours *hours, int64_t from, int64_t to)
{
	if (to <= from)
		return 0;
	if (hours_is_24x7(hours))
		return (uint64_t)(to - from);
	uint64_t total = 0;
	int64_t last = day_of(hours, to);
	for (int64_t num = day_of(hours, from); num <= last; num++) {
		struct day d;
		day_at(hours, num, &d);
		for (size_t k = 0; k < d.n_ranges; k++) {
			int64_t s, e;
			if (!range_at(hours, &d, k, &s, &e))
				continue;
			if (s < from)
				s = from;
			if (e > to)
				e = to;
			if (e > s)
				total += (uint64_t)(e - s);
		}
	}
	return total;
}

int64_t
hours_next_open(const struct hours *hours, int64_t t)
{
	int64_t today = day_of(hours, t);
	for (int i = 0; i < MAX_SCAN_DAYS; i++) {
		struct day d;
		day_at(hours, today + i, &d);
		for (size_t k = 0; k < d.n_ranges; k++) {
			int64_t s, e;
			if (!range_at(hours, &d, k, &s, &e) || e <= t)
				continue;
			return s > t ? s : t;
		}
	}
	return 0;
}

int64_t
hours_add_days(const struct hours *hours, int64_t t, unsigned int days)
{
	if (days == 0)
		return hours_next_open(hours, t);
	struct tzif_tm tm;
	tzif_localtime(hours->zone, t, &tm);
	int64_t num = clock_days_from_civil(tm.year, tm.mon, tm.mday);
	unsigned int counted = 0;
	for (int i = 1; i < MAX_SCAN_DAYS; i++) {
		struct day d;
		day_at(hours, num + i, &d);
		if (d.n_ranges == 0 || ++counted < days)
			continue;
		int64_t at = tzif_mktime(hours->zone, d.year, d.mon, d.mday, tm.hour, tm.min, tm.sec);
		return hours_next_open(hours, at);
	}
	return 0;
}

void
hours_localtime(const struct hours *hours, int64_t t, struct tm *tm_r)
{
	struct tzif_tm m;
	tzif_localtime(hours->zone, t, &m);
	memset(tm_r, 0, sizeof(*tm_r));
	tm_r->tm_year = m.year - 1900;
	tm_r->tm_mon = m.mon - 1;
	tm_r->tm_mday = m.mday;
	tm_r->tm_hour = m.hour;
	tm_r->tm_min = m.min;
	tm_r->tm_sec = m.sec;
	tm_r->tm_wday = m.wday;
	tm_r->tm_yday = m.yday;
	tm_r->tm_isdst = m.isdst;
	tm_r->tm_gmtoff = m.utoff;
	tm_r->tm_zone = m.abbr;
}
