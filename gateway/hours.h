/*
 * hours: the desk's business hours, and the time by which a person will
 * answer. A time zone (an IANA name such as "Europe/Berlin", read from the
 * system's tz database), weekly opening hours, holidays, and a
 * first-response target per priority counted in business time.
 *
 *   week:     "mon-fri 08:00-20:00" or "mon-fri 09:00-12:30 13:30-18:00,
 *             sat 10:00-14:00": entries separated by ',' or ';', each a day
 *             or day range (mon tue wed thu fri sat sun; "fri-mon" wraps)
 *             and one or more HH:MM-HH:MM ranges (24:00 ends a day; a range
 *             may not cross midnight: write two entries).
 *   holidays: "2025-01-01 2025-01-28..2025-02-04, 2025-12-25": dates or
 *             date ranges (inclusive) in the desk's time zone, closed all day.
 *
 * Time zones: glibc keeps one process-wide zone (TZ). Every computation
 * here sets TZ to the desk's zone, calls tzset(), uses localtime_r() and
 * mktime(), and puts the previous TZ back before returning, so the rest of
 * deskgate (which works in UTC) is unaffected. deskgate is single-threaded;
 * do not call these from threads. Opening times are converted with mktime()
 * day by day, so a day on which the clocks change has its real length (an
 * always-open desk counts 23 or 25 hours on such a day), and an opening
 * time that falls in a spring-forward gap is read as mktime() reads it
 * (02:30 in a 02:00-03:00 gap opens at 03:30 summer time).
 *
 * Ownership: hours_new() returns a struct hours freed with hours_free().
 */
#ifndef DG_HOURS_H
#define DG_HOURS_H

#include <stdint.h>
#include <time.h>

struct hours;

/* Parse and validate. timezone must name a zone file in the tz database
   ($TZDIR or /usr/share/zoneinfo). holidays may be NULL or "". -1 with
   *error_r naming the bad part. */
int hours_new(const char *tz_name, const char *week, const char *holidays,
	      struct hours **hours_r, const char **error_r);
void hours_free(struct hours **hoursp);

const char *hours_timezone(const struct hours *hours);

/* First-response targets, in business seconds, for "urgent", "high",
   "normal" and "low". Defaults: 1h, 4h, 24h, 48h. -1 for another name. */
int hours_set_target(struct hours *hours, const char *priority, uint64_t business_seconds);
/* The target for priority; an unknown priority gets the "normal" one. */
uint64_t hours_target(const struct hours *hours, const char *priority);

/* 1 when the desk is open at now (seconds since the epoch), else 0. */
int hours_is_open(const struct hours *hours, int64_t now);

/* The instant at which business_seconds of opening time have passed since
   now: when a person will have answered. 0 with *due_r, or -1 with
   *error_r when the desk has no opening time in the next two years (all
   holidays). */
int hours_due(const struct hours *hours, int64_t now, uint64_t business_seconds,
	      int64_t *due_r, const char **error_r);

/* t broken down in the desk's time zone, tm_gmtoff filled (do not use
   tm_zone: it points into glibc's zone data for a TZ no longer set). */
void hours_localtime(const struct hours *hours, int64_t t, struct tm *tm_r);

#endif
