/*
 * tzif: see tzif.h. RFC 8536 (TZif) and POSIX.1 (TZ strings, with the
 * RFC's extensions) read by hand: no library offers per-zone conversions
 * (glibc only through the process-wide TZ; ICU is ~30 MB). Calendar
 * arithmetic is base/clock's.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/tzif.h"
#include "base/clock.h"
#include "base/util.h"

#define MAX_TRANSITIONS 100000 /* tzdata's largest fat file has under 2,000 */
#define MAX_TYPES 256	       /* RFC 8536: typecnt <= 256 */
#define MAX_ABBR 16	       /* a POSIX name: "<+0330>" has 5 characters */
#define MAX_UTOFF (26 * 3600)  /* no zone has ever been further from UTC */
#define DAY 86400

struct tz_type {
	int32_t utoff;
	int isdst;
	const char *abbr; /* into tzif.abbrs or a posix name */
};

/* A rule of a POSIX TZ string: when DST starts or ends, in local time
   (the offset in force before the change). */
struct posix_rule {
	char kind;    /* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' (month.week.day) */
	int day;      /* J, N: the day; M: day of the week 0..6 */
	int week;     /* M: 1..5 (5: the last) */
	int mon;      /* M: 1..12 */
	int32_t secs; /* time of day, -167h..167h */
};

struct posix {
	int set;
	int has_dst;
	struct tz_type std, dst;
	char std_abbr[MAX_ABBR + 1], dst_abbr[MAX_ABBR + 1];
	struct posix_rule start, end;
};

struct tzif {
	int64_t *trans;	 /* ascending */
	uint8_t *idx;	 /* type of each transition */
	size_t n_trans;
	struct tz_type types[MAX_TYPES];
	size_t n_types;
	size_t first_std; /* the type before the first transition */
	char *abbrs;	  /* the file's designations, NUL-terminated */
	struct posix footer;
};

/* ---- calendar ----------------------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Within the supported years, and so that local time (up to a day off)
   stays within them too. */
static int64_t
clamp_time(int64_t t)
{
	const int64_t lo = TZIF_MIN_TIME + MAX_UTOFF, hi = TZIF_MAX_TIME - MAX_UTOFF;
	return t < lo ? lo : t > hi ? hi : t;
}

/* ---- POSIX TZ strings ------------------------------------------------------------ */

/* A zone name: "<...>" of [A-Za-z0-9+-], or letters; 3 to MAX_ABBR. */
static const char *
posix_name(const char *p, char *out)
{
	size_t n = 0;
	if (*p == '<') {
		p++;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-') {
			if (n >= MAX_ABBR)
				return NULL;
			out[n++] = *p++;
		}
		if (*p != '>')
			return NULL;
		p++;
	} else {
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
			if (n >= MAX_ABBR)
				return NULL;
			out[n++] = *p++;
		}
	}
	if (n < 3)
		return NULL;
	out[n] = '\0';
	return p;
}

static const char *
posix_number(const char *p, int min, int max, int *value_r)
{
	if (*p < '0' || *p > '9')
		return NULL;
	long v = 0;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p++ - '0');
		if (v > max)
			return NULL;
	}
	if (v < min)
		return NULL;
	*value_r = (int)v;
	return p;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours: seconds. */
static const char *
posix_time(const char *p, int max_hours, int32_t *secs_r)
{
	int sign = 1, h, m = 0, s = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if ((p = posix_number(p, 0, max_hours, &h)) == NULL)
		return NULL;
	if (*p == ':') {
		if ((p = posix_number(p + 1, 0, 59, &m)) == NULL)
			return NULL;
		if (*p == ':' && (p = posix_number(p + 1, 0, 59, &s)) == NULL)
			return NULL;
	}
	*secs_r = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *
posix_rule(const char *p, struct posix_rule *r)
{
	r->secs = 2 * 3600;
	if (*p == 'J') {
		r->kind = 'J';
		p = posix_number(p + 1, 1, 365, &r->day);
	} else if (*p == 'M') {
		r->kind = 'M';
		if ((p = posix_number(p + 1, 1, 12, &r->mon)) == NULL || *p != '.' ||
		    (p = posix_number(p + 1, 1, 5, &r->week)) == NULL || *p != '.')
			return NULL;
		p = posix_number(p + 1, 0, 6, &r->day);
	} else {
		r->kind = 'N';
		p = posix_number(p, 0, 365, &r->day);
	}
	if (p != NULL && *p == '/')
		p = posix_time(p + 1, 167, &r->secs);
	return p;
}

static const char *
posix_parse(const char *p, struct posix *px)
{
	int32_t off;
	memset(px, 0, sizeof(*px));
	if ((p = posix_name(p, px->std_abbr)) == NULL || (p = posix_time(p, 24, &off)) == NULL)
		return "bad standard time zone name or offset";
	px->std.utoff = -off; /* POSIX offsets are west of UTC */
	px->std.abbr = px->std_abbr;
	if (*p != '\0') {
		if ((p = posix_name(p, px->dst_abbr)) == NULL)
			return "bad daylight saving time zone name";
		px->has_dst = 1;
		px->dst.isdst = 1;
		px->dst.abbr = px->dst_abbr;
		px->dst.utoff = px->std.utoff + 3600;
		if (*p != ',' && *p != '\0') {
			if ((p = posix_time(p, 24, &off)) == NULL)
				return "bad daylight saving time offset";
			px->dst.utoff = -off;
		}
		if (*p == '\0') {
			/* POSIX leaves the rules to the implementation: the US
			   rules, as glibc without a posixrules file. */
			px->start = (struct posix_rule){ 'M', 0, 2, 3, 7200 };
			px->end = (struct posix_rule){ 'M', 0, 1, 11, 7200 };
		} else if (*p != ',' || (p = posix_rule(p + 1, &px->start)) == NULL || *p != ',' ||
			   (p = posix_rule(p + 1, &px->end)) == NULL) {
			return "bad daylight saving time rule";
		}
	}
	if (*p != '\0')
		return "trailing characters";
	px->set = 1;
	return NULL;
}

/* The local day (days since the epoch) of a rule in year. */
static int64_t
rule_day(const struct posix_rule *r, int64_t year)
{
	int64_t jan1 = clock_days_from_civil(year, 1, 1);
	switch (r->kind) {
	case 'J':
		return jan1 + r->day - 1 + (is_leap(year) && r->day >= 60 ? 1 : 0);
	case 'N':
		return jan1 + r->day;
	default: {
		int64_t first = clock_days_from_civil(year, r->mon, 1);
		int64_t next = clock_days_from_civil(year, r->mon + 1, 1);
		int64_t d = first + (r->day - clock_weekday(first) + 7) % 7 + (int64_t)(r->week - 1) * 7;
		while (d >= next)
			d -= 7;
		return d;
	}
	}
}

/* The instants of the footer's changes in year: start and end. */
static void
posix_changes(const struct posix *px, int64_t year, int64_t *start_r, int64_t *end_r)
{
	*start_r = rule_day(&px->start, year) * DAY + px->start.secs - px->std.utoff;
	*end_r = rule_day(&px->end, year) * DAY + px->end.secs - px->dst.utoff;
}

/* The type the footer puts in force at t. */
static const struct tz_type *
posix_type(const struct posix *px, int64_t t)
{
	if (!px->has_dst)
		return &px->std;
	int year, mon, mday;
	clock_civil_from_days(floor_div(t + px->std.utoff, DAY), &year, &mon, &mday);
	/* The latest change at or before t among those of the years around
	   it; on a tie the start wins (DST all year: "0/0,J365/25"). */
	int64_t best = INT64_MIN;
	int dst = 0;
	for (int64_t y = year - 1; y <= year + 1; y++) {
		int64_t s, e;
		posix_changes(px, y, &s, &e);
		if (e <= t && e > best) {
			best = e;
			dst = 0;
		}
		if (s <= t && s >= best) {
			best = s;
			dst = 1;
		}
	}
	return dst ? &px->dst : &px->std;
}

int
tzif_parse_posix(const char *spec, struct tzif **tz_r, const char **error_r)
{
	struct tzif *tz = xcalloc(1, sizeof(*tz));
	const char *why = posix_parse(spec, &tz->footer);
	if (why != NULL) {
		*error_r = errf("TZ string \"%.64s\": %s", spec, why);
		tzif_free(&tz);
		*tz_r = NULL;
		return -1;
	}
	*tz_r = tz;
	return 0;
}

struct tzif *
tzif_fixed(int32_t utoff, const char *abbr)
{
	struct tzif *tz = xcalloc(1, sizeof(*tz));
	if (utoff > MAX_UTOFF)
		utoff = MAX_UTOFF;
	if (utoff < -MAX_UTOFF)
		utoff = -MAX_UTOFF;
	tz->footer.set = 1;
	tz->footer.std.utoff = utoff;
	if (abbr == NULL) {
		int32_t a = utoff < 0 ? -utoff : utoff;
		snprintf(tz->footer.std_abbr, sizeof(tz->footer.std_abbr), "UTC%c%02d:%02d",
			 utoff < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
	} else {
		snprintf(tz->footer.std_abbr, sizeof(tz->footer.std_abbr), "%s", abbr);
	}
	tz->footer.std.abbr = tz->footer.std_abbr;
	return tz;
}

void
tzif_free(struct tzif **tzp)
{
	struct tzif *tz = *tzp;
	if (tz == NULL)
		return;
	free(tz->trans);
	free(tz->idx);
	free(tz->abbrs);
	free(tz);
	*tzp = NULL;
}

/* ---- TZif ---------------------------------------------------------------------- */

struct reader {
	const unsigned char *p, *end;
};

static int
need(const struct reader *r, uint64_t n)
{
	return (uint64_t)(r->end - r->p) >= n;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct header {
	int version; /* 1, 2, 3, 4... */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static const char *
read_header(struct reader *r, struct header *h)
{
	if (!need(r, 44) || memcmp(r->p, "TZif", 4) != 0)
		return "not a TZif file (no \"TZif\" header)";
	h->version = r->p[4] == 0 ? 1 : r->p[4] >= '2' ? r->p[4] - '0' : -1;
	if (h->version < 0)
		return "unknown TZif version";
	h->isutcnt = be32(r->p + 20);
	h->isstdcnt = be32(r->p + 24);
	h->leapcnt = be32(r->p + 28);
	h->timecnt = be32(r->p + 32);
	h->typecnt = be32(r->p + 36);
	h->charcnt = be32(r->p + 40);
	r->p += 44;
	if (h->typecnt == 0 || h->typecnt > MAX_TYPES || h->charcnt == 0 || h->charcnt > 65536 ||
	    h->timecnt > MAX_TRANSITIONS || (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) || h->leapcnt > 10000)
		return "TZif header counts out of range";
	return NULL;
}

static uint64_t
block_size(const struct header *h, int tsize)
{
	return (uint64_t)h->timecnt * (uint64_t)(tsize + 1) + (uint64_t)h->typecnt * 6 +
	       h->charcnt + (uint64_t)h->leapcnt * (uint64_t)(tsize + 4) + h->isstdcnt +
	       h->isutcnt;
}

/* The data block after a header, with tsize-byte times. */
static const char *
read_block(struct reader *r, const struct header *h, int tsize, struct tzif *tz)
{
	if (!need(r, block_size(h, tsize)))
		return "TZif data shorter than its header says";
	if (h->leapcnt > 0)
		return "zones with leap seconds (right/...) are not supported";
	tz->n_trans = h->timecnt;
	tz->trans = xreallocarray(NULL, h->timecnt + 1, sizeof(*tz->trans));
	tz->idx = xmalloc(h->timecnt + 1);
	for (uint32_t i = 0; i < h->timecnt; i++) {
		tz->trans[i] = tsize == 8 ? be64(r->p) : (int64_t)(int32_t)be32(r->p);
		r->p += tsize;
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return "TZif transitions out of order";
	}
	for (uint32_t i = 0; i < h->timecnt; i++) {
		tz->idx[i] = *r->p++;
		if (tz->idx[i] >= h->typecnt)
			return "TZif transition names a type that does not exist";
	}
	const unsigned char *types = r->p;
	r->p += (size_t)h->typecnt * 6;
	tz->abbrs = xmalloc(h->charcnt + 1);
	memcpy(tz->abbrs, r->p, h->charcnt);
	tz->abbrs[h->charcnt] = '\0';
	r->p += h->charcnt;
	tz->n_types = h->typecnt;
	tz->first_std = 0;
	int found_std = 0;
	for (uint32_t i = 0; i < h->typecnt; i++) {
		int32_t utoff = (int32_t)be32(types + 6 * i);
		unsigned isdst = types[6 * i + 4], desig = types[6 * i + 5];
		if (utoff < -MAX_UTOFF || utoff > MAX_UTOFF || isdst > 1 || desig >= h->charcnt)
			return "TZif time type out of range";
		tz->types[i] = (struct tz_type){ utoff, (int)isdst, tz->abbrs + desig };
		if (!isdst && !found_std) {
			tz->first_std = i;
			found_std = 1;
		}
	}
	r->p += (size_t)h->isstdcnt + h->isutcnt; /* leapcnt is 0 */
	return NULL;
}

int
tzif_parse(const unsigned char *data, size_t len, struct tzif **tz_r, const char **error_r)
{
	struct reader r = { data, data + len };
	struct header h;
	struct tzif *tz = xcalloc(1, sizeof(*tz));
	const char *why;

	*tz_r = NULL;
	if (len > TZIF_MAX_SIZE) {
		why = "zone file too large";
		goto fail;
	}
	if ((why = read_header(&r, &h)) != NULL)
		goto fail;
	if (h.version >= 2) {
		/* skip the 32-bit block: the 64-bit one follows */
		if (!need(&r, block_size(&h, 4))) {
			why = "TZif data shorter than its header says";
			goto fail;
		}
		r.p += block_size(&h, 4);
		if ((why = read_header(&r, &h)) != NULL || (why = read_block(&r, &h, 8, tz)) != NULL)
			goto fail;
		/* the footer: "\n" TZ-string "\n" */
		const unsigned char *nl = r.p < r.end ? memchr(r.p + 1, '\n', (size_t)(r.end - r.p - 1))
						      : NULL;
		if (r.p >= r.end || *r.p != '\n' || nl == NULL) {
			why = "TZif footer missing";
			goto fail;
		}
		if (nl > r.p + 1) {
			char spec[128];
			size_t n = (size_t)(nl - r.p - 1);
			if (n >= sizeof(spec) || memchr(r.p + 1, '\0', n) != NULL) {
				why = "TZif footer too long";
				goto fail;
			}
			memcpy(spec, r.p + 1, n);
			spec[n] = '\0';
			if ((why = posix_parse(spec, &tz->footer)) != NULL) {
				why = errf("TZif footer \"%s\": %s", spec, why);
				goto fail;
			}
		}
	} else if ((why = read_block(&r, &h, 4, tz)) != NULL) {
		goto fail;
	}
	*tz_r = tz;
	return 0;
fail:
	*error_r = why;
	tzif_free(&tz);
	return -1;
}

/* ---- conversions -------------------------------------------------------------- */

/* The last transition at or before t, for trans[0] <= t < trans[n - 1]. */
static size_t
last_change(const struct tzif *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n_trans - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static const struct tz_type *
type_at(const struct tzif *tz, int64_t t)
{
	if (tz->n_trans == 0)
		return tz->footer.set ? posix_type(&tz->footer, t) : &tz->types[0];
	if (t < tz->trans[0])
		return &tz->types[tz->first_std];
	if (t >= tz->trans[tz->n_trans - 1]) {
		if (tz->footer.set)
			return posix_type(&tz->footer, t);
		return &tz->types[tz->idx[tz->n_trans - 1]];
	}
	return &tz->types[tz->idx[last_change(tz, t)]];
}

int32_t
tzif_utoff(const struct tzif *tz, int64_t t)
{
	return type_at(tz, clamp_time(t))->utoff;
}

int64_t
tzif_next_change(const struct tzif *tz, int64_t t)
{
	if (t >= clamp_time(INT64_MAX))
		return INT64_MAX; /* nothing changes past the years supported */
	t = clamp_time(t);
	if (tz->n_trans > 0 && t < tz->trans[tz->n_trans - 1]) {
		if (tz->trans[0] > t)
			return tz->trans[0];
		return tz->trans[last_change(tz, t) + 1];
	}
	if (!tz->footer.set || !tz->footer.has_dst)
		return INT64_MAX;
	int year, mon, mday;
	clock_civil_from_days(floor_div(t + tz->footer.std.utoff, DAY), &year, &mon, &mday);
	int64_t best = INT64_MAX;
	for (int64_t y = year - 1; y <= year + 2; y++) {
		int64_t c[2];
		posix_changes(&tz->footer, y, &c[0], &c[1]);
		for (int k = 0; k < 2; k++) {
			/* a change that changes nothing (DST all year) is none */
			if (c[k] > t && c[k] < best &&
			    posix_type(&tz->footer, c[k]) != posix_type(&tz->footer, c[k] - 1))
				best = c[k];
		}
	}
	return best >= clamp_time(INT64_MAX) ? INT64_MAX : best;
}

void
tzif_localtime(const struct tzif *tz, int64_t t, struct tzif_tm *tm_r)
{
	t = clamp_time(t);
	const struct tz_type *type = type_at(tz, t);
	int64_t local = t + type->utoff;
	int64_t days = floor_div(local, DAY);
	int64_t secs = local - days * DAY;
	clock_civil_from_days(days, &tm_r->year, &tm_r->mon, &tm_r->mday);
	tm_r->hour = (int)(secs / 3600);
	tm_r->min = (int)(secs / 60 % 60);
	tm_r->sec = (int)(secs % 60);
	tm_r->wday = clock_weekday(days);
	tm_r->yday = (int)(days - clock_days_from_civil(tm_r->year, 1, 1));
	tm_r->utoff = type->utoff;
	tm_r->isdst = type->isdst;
	tm_r->abbr = type->abbr != NULL ? type->abbr : "";
}

int64_t
tzif_mktime(const struct tzif *tz, int year, int mon, int mday, int hour, int min, int sec)
{
	int64_t local = clock_days_from_civil(year, mon, mday) * DAY + (int64_t)hour * 3600 +
			(int64_t)min * 60 + sec;
	local = clamp_time(local);
	/* The offsets that can apply: those a day either side (changes are
	   never closer together) and the one at the naive guess. */
	int32_t offs[3] = {
		tzif_utoff(tz, local - DAY),
		tzif_utoff(tz, local + DAY),
		tzif_utoff(tz, local - tzif_utoff(tz, local)),
	};
	int64_t best = 0;
	int found = 0;
	for (size_t i = 0; i < N_ELEMENTS(offs); i++) {
		int64_t t = local - offs[i];
		if (tzif_utoff(tz, t) == offs[i] && (!found || t < best)) {
			best = t;
			found = 1;
		}
	}
	/* none: the time was skipped; read it with the offset before */
	return found ? best : local - offs[0];
}
