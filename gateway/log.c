/* log: see log.h. */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"

enum log_dest { DEST_STDERR, DEST_JOURNAL, DEST_SYSLOG };

static const char *log_progname = "deskgate";
static enum log_level log_level = LOG_LEVEL_INFO;
static enum log_dest log_dest = DEST_STDERR;
/* auto chose syslog for a stderr that is a pipe (an MTA's pipe(8),
   procmail, cron): errors go to stderr too, where the MTA puts them in
   its log and its delivery status. */
static int log_errors_also_stderr;

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_level = level;
}

/* 1 when stderr is the stream $JOURNAL_STREAM ("DEVICE:INODE") names. */
static int
stderr_is_journal(const struct stat *st)
{
	const char *js = getenv("JOURNAL_STREAM");
	if (js == NULL)
		return 0;
	const char *colon = strchr(js, ':');
	uint64_t dev, ino;
	if (colon == NULL)
		return 0;
	char devtext[32];
	size_t n = (size_t)(colon - js);
	if (n == 0 || n >= sizeof(devtext))
		return 0;
	memcpy(devtext, js, n);
	devtext[n] = '\0';
	if (str_to_u64(devtext, UINT64_MAX, &dev) < 0 || str_to_u64(colon + 1, UINT64_MAX, &ino) < 0)
		return 0;
	return (uint64_t)st->st_dev == dev && (uint64_t)st->st_ino == ino;
}

void
log_open(enum log_target target, int facility)
{
	struct stat st;
	int have = fstat(STDERR_FILENO, &st) == 0;
	enum log_dest dest = DEST_STDERR;

	if (target == LOG_TARGET_SYSLOG) {
		dest = DEST_SYSLOG;
	} else if (have && stderr_is_journal(&st)) {
		dest = DEST_JOURNAL;
	} else if (target == LOG_TARGET_AUTO &&
		   !(have && (isatty(STDERR_FILENO) || S_ISREG(st.st_mode)))) {
		dest = DEST_SYSLOG;
	}
	log_errors_also_stderr = dest == DEST_SYSLOG && target == LOG_TARGET_AUTO && have;
	if (log_dest == DEST_SYSLOG && dest != DEST_SYSLOG)
		closelog();
	if (dest == DEST_SYSLOG)
		openlog(log_progname, LOG_PID | LOG_NDELAY, facility);
	log_dest = dest;
}

const char *
log_destination(void)
{
	static const char *const names[] = { "stderr", "journal", "syslog" };
	return names[log_dest];
}

int
log_target_parse(const char *s, enum log_target *target_r)
{
	static const char *const names[] = { "auto", "stderr", "syslog" };
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*target_r = (enum log_target)i;
			return 0;
		}
	}
	return -1;
}

int
log_facility_parse(const char *s, int *facility_r)
{
	static const struct {
		const char *name;
		int facility;
	} f[] = {
		{ "mail", LOG_MAIL },	  { "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < N_ELEMENTS(f); i++) {
		if (strcmp(s, f[i].name) == 0) {
			*facility_r = f[i].facility;
			return 0;
		}
	}
	return -1;
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

/* "2026-11-23T09:12:00.123+01:00" */
static void
rfc3339_now(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_t t = ts.tv_sec;
	localtime_r(&t, &tm);
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	/* the UTC offset, at most a day either way */
	int off = (int)((tm.tm_gmtoff / 60) % (24 * 60));
	int aoff = off < 0 ? -off : off;
	snprintf(out, size, "%s.%03d%c%02d:%02d", date, (int)(ts.tv_nsec / 1000000),
		 off < 0 ? '-' : '+', aoff / 60, aoff % 60);
}

static void
log_vwrite(enum log_level level, const char *tag, const char *fmt, va_list ap, int with_errno)
{
	static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	int saved_errno = errno;
	if (level > log_level)
		return;
	char line[4096];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		line[0] = '\0';
	if (log_dest == DEST_SYSLOG) {
		if (with_errno)
			syslog(priorities[level], "%s%s: %s", tag, line, strerror(saved_errno));
		else
			syslog(priorities[level], "%s%s", tag, line);
		if (level == LOG_LEVEL_ERROR && log_errors_also_stderr)
			dprintf(STDERR_FILENO, "%s: %s%s%s%s\n", log_progname, tag, line,
				with_errno ? ": " : "", with_errno ? strerror(saved_errno) : "");
		errno = saved_errno;
		return;
	}
	char prefix[96];
	if (log_dest == DEST_JOURNAL) {
		snprintf(prefix, sizeof(prefix), "<%d>", priorities[level]);
	} else {
		char stamp[48];
		rfc3339_now(stamp, sizeof(stamp));
		snprintf(prefix, sizeof(prefix), "%s %s[%ld]: ", stamp, log_progname, (long)getpid());
	}
	/* One write() per line so concurrent writers do not interleave. */
	char out[4608];
	if (with_errno)
		n = snprintf(out, sizeof(out), "%s%s%s: %s\n", prefix, tag, line,
			     strerror(saved_errno));
	else
		n = snprintf(out, sizeof(out), "%s%s%s\n", prefix, tag, line);
	if (n > 0) {
		size_t len = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
		if ((size_t)n >= sizeof(out))
			out[len - 1] = '\n';
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
	static _Thread_local char ring[8][1024];
	static _Thread_local unsigned int next;
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
