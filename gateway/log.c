/* log: see log.h. */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"

static const char *log_progname = "deskgate";
static enum log_level log_level = LOG_LEVEL_INFO;

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_level = level;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s, enum log_level *level_r)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void log_vwrite(enum log_level level, const char *tag, const char *fmt, va_list ap,
		       int with_errno) DG_ATTR_PRINTF(3, 0);

static void
log_vwrite(enum log_level level, const char *tag, const char *fmt, va_list ap, int with_errno)
{
	int saved_errno = errno;
	if (level > log_level)
		return;
	char line[4096];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		line[0] = '\0';
	/* One write() per line so concurrent writers do not interleave. */
	char out[4608];
	if (with_errno)
		n = snprintf(out, sizeof(out), "%s[%ld]: %s%s: %s\n", log_progname, (long)getpid(),
			     tag, line, strerror(saved_errno));
	else
		n = snprintf(out, sizeof(out), "%s[%ld]: %s%s\n", log_progname, (long)getpid(), tag, line);
	if (n > 0) {
		size_t len = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
		if (write(STDERR_FILENO, out, len) < 0) {
			/* nowhere left to report it */
		}
	}
	errno = saved_errno;
}

#define LOG_FN(name, level, tag, with_errno)                 \
	void name(const char *fmt, ...)                      \
	{                                                    \
		va_list ap;                                  \
		va_start(ap, fmt);                           \
		log_vwrite(level, tag, fmt, ap, with_errno); \
		va_end(ap);                                  \
	}
LOG_FN(log_error, LOG_LEVEL_ERROR, "error: ", 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, "warning: ", 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, "warning: ", 0)
LOG_FN(log_info, LOG_LEVEL_INFO, "", 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, "debug: ", 0)

void
fatal(int exit_code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, "fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(exit_code);
}

const char *
log_safe(const char *s, size_t max)
{
	static char ring[8][1024];
	static unsigned int next;
	char *b = ring[next++ % N_ELEMENTS(ring)];
	if (s == NULL)
		return "-";
	if (max >= sizeof(ring[0]))
		max = sizeof(ring[0]) - 1;
	size_t len = strlen(s);
	if (len > max)
		len = utf8_truncate_len(s, max);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		b[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	b[len] = '\0';
	return b;
}
