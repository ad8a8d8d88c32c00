/*
 * log: one line per event to stderr (and so to journald or the MTA's log),
 * in the form "deskgate[pid]: level: text". log_warn() appends strerror(errno)
 * as OpenSMTPD's does; log_warnx() does not. fatal() logs and exits with the
 * given sysexits code. Lines about a message carry "mailbox= uid= msgid=
 * ticket=" (see log_msgctx()). Never log a password, a token, or mail text at
 * info level.
 */
#ifndef DG_LOG_H
#define DG_LOG_H

#include "base/util.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error|warn|info|debug"; -1 when unknown. */
int log_level_parse(const char *s, enum log_level *level_r);

void log_error(const char *fmt, ...) DG_ATTR_PRINTF(1, 2);
void log_warn(const char *fmt, ...) DG_ATTR_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) DG_ATTR_PRINTF(1, 2);
void log_info(const char *fmt, ...) DG_ATTR_PRINTF(1, 2);
void log_debug(const char *fmt, ...) DG_ATTR_PRINTF(1, 2);
void fatal(int exit_code, const char *fmt, ...) DG_ATTR_PRINTF(2, 3) DG_ATTR_NORETURN;

/* Make a value safe for a log line: control characters become '?', and it is
   cut to max bytes (on a UTF-8 boundary). Returns a static ring buffer like
   errf(). */
const char *log_safe(const char *s, size_t max);

#endif
