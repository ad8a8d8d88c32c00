/*
 * tz: see tz.h. The cache is a short list (a desk has a handful of
 * zones); lookups compare names under one mutex.
 */
#include "build-config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/tz.h"
#include "base/file.h"
#include "base/util.h"

#define TZ_MAX_CACHED 256 /* zones named in a configuration; far more than any uses */

struct tz_entry {
	char *name;
	struct tzif *zone;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_entry *cache;
static size_t n_cache;

const char *
tz_check_name(const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;
	if (len == 0 || len > 64)
		return "time zone: expected an IANA name such as Europe/Berlin";
	if (name[0] == '/' || strstr(name, "..") != NULL)
		return errf("time zone \"%s\": not a zone name", name);
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return errf("time zone \"%.64s\": not a zone name", name);
	return NULL;
}

static struct tzif *
load(const char *name, const char **error_r)
{
	const char *dir = getenv("TZDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	char *path = xasprintf("%s/%s", dir, name);
	char *data = NULL;
	size_t len = 0;
	const char *why;
	struct tzif *zone = NULL;
	int r = file_read(path, TZIF_MAX_SIZE, &data, &len, &why);
	if (r == 0)
		*error_r = errf("time zone \"%s\" not found in the tz database (%s)", name, dir);
	else if (r < 0)
		*error_r = errf("time zone \"%s\": %s", name, why);
	else if (tzif_parse((const unsigned char *)data, len, &zone, &why) < 0)
		*error_r = errf("time zone \"%s\" (%s): %s", name, path, why);
	free(data);
	free(path);
	return zone;
}

const struct tzif *
tz_get(const char *name, const char **error_r)
{
	const char *why = tz_check_name(name);
	if (why != NULL) {
		*error_r = why;
		return NULL;
	}
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < n_cache; i++) {
		if (strcmp(cache[i].name, name) == 0) {
			struct tzif *z = cache[i].zone;
			pthread_mutex_unlock(&cache_lock);
			return z;
		}
	}
	struct tzif *zone = NULL;
	if (n_cache >= TZ_MAX_CACHED)
		*error_r = errf("time zone \"%s\": more than %d zones in use", name, TZ_MAX_CACHED);
	else
		zone = load(name, error_r);
	if (zone != NULL) {
		cache = xreallocarray(cache, n_cache + 1, sizeof(*cache));
		cache[n_cache].name = xstrdup(name);
		cache[n_cache].zone = zone;
		n_cache++;
	}
	pthread_mutex_unlock(&cache_lock);
	return zone;
}

const char *
tz_offset_string(int32_t utoff, char *buf, size_t size)
{
	int32_t a = utoff < 0 ? -utoff : utoff;
	snprintf(buf, size, "%c%02d:%02d", utoff < 0 ? '-' : '+', (int)(a / 3600),
		 (int)(a / 60 % 60));
	return buf;
}

void
tz_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < n_cache; i++) {
		free(cache[i].name);
		tzif_free(&cache[i].zone);
	}
	free(cache);
	cache = NULL;
	n_cache = 0;
	pthread_mutex_unlock(&cache_lock);
}
