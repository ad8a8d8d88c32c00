/*
 * tzif: time zone rules read from the bytes of a compiled zone file
 * (RFC 8536 "TZif", versions 1 to 4, as the system's tz database ships
 * them under /usr/share/zoneinfo) or from a POSIX TZ string (the rule a
 * TZif file carries in its footer for the times after its last
 * transition), and conversions between UTC and local time over them.
 *
 * Pure: no I/O, no global state, no locale. A struct tzif is immutable
 * once built, so one may be shared by any number of threads.
 *
 * Why written here: glibc converts only through the process-wide TZ
 * (setenv() + tzset(), which is slow, not thread-safe and changes what
 * every other part of the process sees), and offers no per-zone API;
 * ICU would bring about 30 MB of library for this one job. The format is
 * small and fully specified (RFC 8536, POSIX.1 TZ); glibc's localtime_r()
 * is the oracle of the tests (tests/unit/test-tz.c).
 *
 * Conventions, as glibc's:
 * - utoff is seconds EAST of UTC (Berlin in winter: +3600).
 * - Before a file's first transition the first standard-time type is in
 *   force; at or after its last transition the footer rule is (the last
 *   type when there is none).
 * - Zones with leap seconds ("right/...") are refused.
 * - Times are clamped to the years 1..9999.
 * - A POSIX rule that ends DST when the next year's begins ("EST5EDT,
 *   0/0,J365/25") keeps DST all year, as RFC 8536 says (glibc puts
 *   standard time in the first hours of each year; no zone of tzdata uses
 *   such a rule).
 *
 * Local to UTC (tzif_mktime()): a local time that happens twice (the
 * hour repeated when clocks go back) is the first one; a local time that
 * never happens (the hour skipped when clocks go forward) is read with
 * the offset in force before the change, as mktime() does: 02:30 in
 * Berlin's 02:00-03:00 gap is 03:30 summer time.
 *
 * Ownership: tzif_parse(), tzif_parse_posix() and tzif_fixed() return a
 * struct tzif freed with tzif_free(); the abbreviations a struct tzif_tm
 * points to belong to the struct tzif.
 */
#ifndef DG_TZIF_H
#define DG_TZIF_H

#include <stddef.h>
#include <stdint.h>

struct tzif;

/* Largest zone file accepted (the biggest in tzdata is under 5 KB). */
#define TZIF_MAX_SIZE (256 * 1024)
#define TZIF_MIN_TIME (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define TZIF_MAX_TIME 253402300799LL   /* 9999-12-31T23:59:59Z */

struct tzif_tm {
	int year;	  /* e.g. 2025 */
	int mon;	  /* 1..12 */
	int mday;	  /* 1..31 */
	int hour, min, sec;
	int wday;	  /* 0 = Sunday */
	int yday;	  /* 0..365 */
	int32_t utoff;	  /* seconds east of UTC */
	int isdst;
	const char *abbr; /* "CET", "+08"; never NULL */
};

/* A zone from the bytes of a TZif file. -1 with *error_r naming what is
   wrong with it. */
int tzif_parse(const unsigned char *data, size_t len, struct tzif **tz_r, const char **error_r);
/* A zone from a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" (with
   RFC 8536's extensions: transition hours -167..167). */
int tzif_parse_posix(const char *spec, struct tzif **tz_r, const char **error_r);
/* A zone at a fixed offset (seconds east, within +-26 hours) called abbr
   ("UTC+08:00" when NULL). */
struct tzif *tzif_fixed(int32_t utoff, const char *abbr);
void tzif_free(struct tzif **tzp);

/* t (seconds since the epoch, UTC) in the zone. */
void tzif_localtime(const struct tzif *tz, int64_t t, struct tzif_tm *tm_r);
/* The zone's offset from UTC at t, seconds east. */
int32_t tzif_utoff(const struct tzif *tz, int64_t t);
/* The first instant after t at which the zone's rules change (the offset,
   the DST flag or the abbreviation may differ from there on), INT64_MAX
   when they never do again. */
int64_t tzif_next_change(const struct tzif *tz, int64_t t);
/* The instant of a local date and time (mon 1..12; out-of-range fields
   are normalised: mday 32 is the next month's first day, hour 24 the next
   day's midnight). See the top of this file for the doubled and skipped
   hours. */
int64_t tzif_mktime(const struct tzif *tz, int year, int mon, int mday, int hour, int min,
		    int sec);

#endif
