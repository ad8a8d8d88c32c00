/*
 * hours: a business-hours calendar, and business time counted on it. A
 * desk has several, named ([hours] is "default", [hours NAME] the others:
 * a 24x7 calendar for urgent work, a team in another zone): SLA targets,
 * queues and agents each pick one (gateway/sla.h), and reports count
 * business time with the same functions.
 *
 * A calendar is a time zone (an IANA name such as "Europe/Berlin", read
 * with gateway/tz.h: no process-wide TZ is ever changed, so these may be
 * called from any thread), weekly opening hours, holidays (closed all
 * day) and open days (dates with their own hours, such as China's working
 * Saturdays before a holiday week):
 *
 *   week:      "mon-fri 08:00-20:00" or "mon-fri 09:00-12:30 13:30-18:00,
 *              sat 10:00-14:00": entries separated by ',' or ';', each a
 *              day or day range (mon tue wed thu fri sat sun; "fri-mon"
 *              wraps) and one or more HH:MM-HH:MM ranges (24:00 ends a
 *              day; a range may not cross midnight: write two entries).
 *              "24x7" is every day 00:00-24:00.
 *   holidays:  "2025-01-01 2025-01-28..2025-02-04, 2025-12-25": dates or
 *              date ranges (inclusive) in the calendar's zone.
 *   open days: "2025-01-26 09:00-18:00, 2025-02-08 09:00-12:00 13:00-18:00":
 *              a date and its ranges; they replace the week's hours (and
 *              a holiday) on that date.
 *
 * Opening and closing instants are computed per local date, so a day on
 * which the clocks change has its real length (an always-open desk
 * counts 23 or 25 hours on such a day), and an opening time in a
 * spring-forward gap is read with the offset before the change (02:30 in
 * a 02:00-03:00 gap opens at 03:30 summer time), as mktime() does.
 *
 * Ownership: hours_new() returns a struct hours freed with hours_free();
 * it is immutable once built (the setters are for construction).
 */
#ifndef DG_HOURS_H
#define DG_HOURS_H

#include <stdint.h>
#include <time.h>

struct hours;
struct tzif;

/* Parse and validate. timezone must name a zone file in the tz database
   ($TZDIR or /usr/share/zoneinfo). holidays may be NULL or "". -1 with
   *error_r naming the bad part. The calendar is called "default". */
int hours_new(const char *tz_name, const char *week, const char *holidays,
	      struct hours **hours_r, const char **error_r);
void hours_free(struct hours **hoursp);

/* Construction: the calendar's name (copied), and its open days (NULL or
   "" for none); -1 with *error_r for a malformed open day. */
void hours_set_name(struct hours *hours, const char *name);
int hours_set_open_days(struct hours *hours, const char *open_days, const char **error_r);

/* A weekly instant, "DAY HH:MM" (mon ... sun, any case; [report]
   weekly): 0 with the weekday (Monday 0 ... Sunday 6) and the minute of
   the day; "off": 0 with *wday_r -1. -1 for anything else. Either
   out-parameter may be NULL (a check). */
int hours_parse_weekly(const char *s, int *wday_r, int *minute_r);

const char *hours_name(const struct hours *hours);
const char *hours_timezone(const struct hours *hours);
const struct tzif *hours_zone(const struct hours *hours);
/* 1 when the calendar is open around the clock, every day, without
   holidays: business time is wall-clock time. */
int hours_is_24x7(const struct hours *hours);

/* First-response targets of the [hours] section, in business seconds, for
   "urgent", "high", "normal" and "low" (the SLA used when no [sla NAME]
   section is configured). Defaults: 1h, 4h, 24h, 48h. -1 for another
   name. */
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

/* Business seconds in [from, to) (0 when to <= from). */
uint64_t hours_between(const struct hours *hours, int64_t from, int64_t to);

/* t when the calendar is open at t, else the next opening instant; 0 when
   there is none in the next two years. */
int64_t hours_next_open(const struct hours *hours, int64_t t);

/* The instant `days` business days (dates with opening hours) after t:
   the same local time of day on the days-th open date after t's date,
   moved to the next opening when the calendar is closed then (0 days:
   hours_next_open(t)). 0 when there is no such day in two years. */
int64_t hours_add_days(const struct hours *hours, int64_t t, unsigned int days);

/* t broken down in the calendar's time zone, tm_gmtoff and tm_zone filled
   (tm_zone points into the zone, which lives as long as the process). */
void hours_localtime(const struct hours *hours, int64_t t, struct tm *tm_r);

#endif
