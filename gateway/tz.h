/*
 * tz: time zones by IANA name ("Europe/Berlin", "Asia/Shanghai", "UTC"),
 * read from the system's compiled tz database ($TZDIR, else
 * /usr/share/zoneinfo) with parsers/tzif and kept for the life of the
 * process: each zone file is read once, however many calendars, agents
 * and threads use it. Thread-safe (one mutex around the cache; the zones
 * themselves are immutable).
 *
 * This replaces switching the process-wide TZ (setenv + tzset), which is
 * slow, not thread-safe and changes what every other part of the process
 * sees; glibc has no per-zone API, and ICU would bring ~30 MB for this.
 * Conversions are tzif_localtime() / tzif_mktime() on the zone returned.
 *
 * Ownership: zones returned belong to the cache and live until
 * tz_cache_clear() (tests; the daemon never clears it).
 */
#ifndef DG_TZ_H
#define DG_TZ_H

#include "parsers/tzif.h"

/* NULL when name is a well-formed zone name (letters, digits, '/', '_',
   '+', '-'; no "..", not absolute; at most 64 characters), else why. */
const char *tz_check_name(const char *name);

/* The zone called name, read on first use. NULL with *error_r when the
   name is malformed, no such file exists or it is not a valid TZif file. */
const struct tzif *tz_get(const char *name, const char **error_r);

/* "+08:00" style offset of a zone at t, into buf (at least 8 bytes). */
const char *tz_offset_string(int32_t utoff, char *buf, size_t size);

/* Forget every cached zone (tests, leak checks). No zone returned before
   may be used afterwards. */
void tz_cache_clear(void);

#endif
