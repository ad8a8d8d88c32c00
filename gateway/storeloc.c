/*
 * storeloc: see storeloc.h. The escaping follows libpq's rules for URIs
 * (percent-encoding) and keyword/value strings (single quotes, backslash).
 */
#include "build-config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "gateway/config.h"
#include "gateway/credential.h"
#include "gateway/log.h"
#include "gateway/store/store.h"
#include "gateway/storeloc.h"

/* A libpq URI parameter value: RFC 3986 unreserved bytes kept, the rest
   %XX (libpq decodes them). */
static void
uri_escape(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			(void)buf_putc(b, *p);
		else
			(void)buf_printf(b, "%%%02X", *p);
	}
}

/* A libpq keyword value: quoted, with \ and ' escaped. */
static void
keyword_escape(struct buf *b, const char *s)
{
	(void)buf_putc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'' || *s == '\\')
			(void)buf_putc(b, '\\');
		(void)buf_putc(b, (unsigned char)*s);
	}
	(void)buf_putc(b, '\'');
}

static int
store_is_pg(const char *location)
{
	return str_starts_with(location, "postgresql:") || str_starts_with(location, "postgres:");
}

char *
storeloc_with_password(const char *location, const char *password)
{
	struct buf b;
	const char *rest = strchr(location, ':') + 1;
	buf_init(&b, SIZE_MAX);
	(void)buf_puts(&b, location);
	if (str_starts_with(rest, "//")) {
		(void)buf_puts(&b, strchr(rest, '?') != NULL ? "&password=" : "?password=");
		uri_escape(&b, password);
	} else {
		(void)buf_puts(&b, " password=");
		keyword_escape(&b, password);
	}
	char *ret = buf_steal(&b, NULL);
	buf_free(&b);
	return ret;
}

const char *
storeloc_finish(struct config *config)
{
	unsigned int url_line = config_line(config, "store", NULL, "url");
	unsigned int db_line = config_line(config, "general", NULL, "database");
	unsigned int pw_line = config_line(config, "store", NULL, "password_file");
	static int deprecation_logged;

	if (config->store.url != NULL) {
		const char *url = config->store.url;
		if (db_line != 0)
			return errf("%u: [store] url and the deprecated [general] database are both "
				    "set; keep [store] url", db_line);
		if (str_starts_with(url, "sqlite:") && url[7] != '\0') {
			free(config->database);
			config->database = url[7] == '/' ? xstrdup(url + 7)
							 : xasprintf("%s/%s", config->state_dir,
								     url + 7);
		} else if (store_is_pg(url)) {
			free(config->database);
			config->database = xstrdup(url);
		} else {
			return errf("%u: [store] url: sqlite:PATH or postgresql://... expected",
				    url_line);
		}
	} else if (db_line != 0 && !deprecation_logged) {
		deprecation_logged = 1;
		log_warnx("%s:%u: [general] database is deprecated: use [store] url", config->path,
			  db_line);
	}
	if (config->store.blob_dir != NULL && config->store.blob_dir[0] != '\0' &&
	    !store_is_pg(config->database))
		return errf("%u: [store] blob_dir is for a PostgreSQL store (SQLite keeps its large "
			    "blobs as files under state_dir already)",
			    config_line(config, "store", NULL, "blob_dir"));
	if (config->store.password_file == NULL) {
		config->store_location = xstrdup(config->database);
		return NULL;
	}
	if (!store_is_pg(config->database))
		return errf("%u: [store] password_file is for a PostgreSQL store", pw_line);
	struct stat st;
	if (stat(config->store.password_file, &st) < 0)
		return errf("%u: password_file %s: %s", pw_line, config->store.password_file,
			    strerror(errno));
	if ((st.st_mode & 077) != 0)
		return errf("%u: password_file %s: others may read it (mode %04o): chmod 600 it",
			    pw_line, config->store.password_file, (unsigned)(st.st_mode & 07777));
	const char *why;
	char *password = credential_read_file(config->store.password_file, &why);
	if (password == NULL)
		return errf("%u: %s", pw_line, why);
	config->store_location = storeloc_with_password(config->database, password);
	credential_free(&password);
	return NULL;
}

int
storeloc_open(const struct config *config, struct store **store_r, const char **error_r)
{
	int ret = store_open(config->store_location, config->state_dir, store_r, error_r);
	if (ret < 0 || config->store.blob_dir == NULL || config->store.blob_dir[0] == '\0')
		return ret;
	if ((ret = store_set_blob_dir(*store_r, config->store.blob_dir, error_r)) < 0)
		store_close(store_r);
	return ret;
}
