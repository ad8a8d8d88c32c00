/*
 * clock: the wall clock deskgate runs on, in seconds since the epoch.
 * Everything that stamps or compares times of tickets (the store's
 * created_at and events, due times, the scheduler, the outbox) asks
 * clock_now(), so that one clock moves them all.
 *
 * In the installed program clock_now() is time(NULL). Only the test build
 * (tests/deskgate-test, this file compiled with DG_TEST_CLOCK; never
 * installed) honours DESKGATE_TEST_CLOCK:
 *
 *   DESKGATE_TEST_CLOCK=2025-03-28T09:00:00Z   a fixed instant (UTC)
 *   DESKGATE_TEST_CLOCK=1743152400             the same in epoch seconds
 *   DESKGATE_TEST_CLOCK=/path/FILE             the instant written in FILE,
 *                                             read at every call, so a test
 *                                             moves a running daemon's time
 *
 * so that the scheduler, escalations and digests are tested across hours,
 * weekends and DST changes without sleeping. A value that cannot be read
 * aborts the test build (a test must not run on the real clock by
 * mistake).
 */
#ifndef DG_CLOCK_H
#define DG_CLOCK_H

#include <stdint.h>

int64_t clock_now(void);

/* CLOCK_MONOTONIC in seconds: for how long something took or when to try
   again, whatever the wall clock (or the test clock) does meanwhile. */
double clock_mono(void);

/* 1 in the test build (DESKGATE_TEST_CLOCK is honoured), else 0. */
int clock_is_test_build(void);

/* Proleptic Gregorian calendar arithmetic (after Howard Hinnant's
   algorithms): days since 1970-01-01 of a date (mon 1..12, out-of-range
   months and days allowed: 2025-13-01 is 2026-01-01), and back; the day
   of the week (0 = Sunday). */
int64_t clock_days_from_civil(int64_t year, int mon, int mday);
void clock_civil_from_days(int64_t days, int *year_r, int *mon_r, int *mday_r);
int clock_weekday(int64_t days);

/* "2025-03-28T09:00:00Z" or epoch seconds -> *t_r: 0, or -1. For the test
   clock and for command options that take a time. */
int clock_parse(const char *s, int64_t *t_r);

#endif
