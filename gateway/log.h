/*
 * log: one line per event. log_warn() appends strerror(errno) as
 * OpenSMTPD's does; log_warnx() does not. fatal() logs and exits with the
 * given sysexits code. Lines about a message carry "mailbox= uid= msgid=
 * ticket="; the text is kept as written, key=value fields included. Never
 * log a password, a token, or mail text at info level.
 *
 * Where lines go (log_open(); [log] target for the unattended commands,
 * `run` and `ingest`; the others always write to stderr, for the person
 * or script that ran them):
 * - stderr: "2026-11-23T09:12:00.123+01:00 deskgate[pid]: level: text",
 *   an RFC 3339 time stamp with milliseconds and the local offset;
 * - the journal: when stderr is journald's stream ($JOURNAL_STREAM names
 *   its device and inode, as systemd sets it), "<N>level: text" with the
 *   syslog priority N, which journald reads; it adds the time and pid;
 * - syslog: syslog(3) with ident "deskgate", LOG_PID and the configured
 *   facility (mail by default, as Postfix and Dovecot log).
 * target = auto (the default) picks stderr when it is a terminal or a
 * regular file (a redirection someone chose), the journal when stderr is
 * the journal, and syslog otherwise (an MTA pipe, cron, /dev/null).
 * When auto picks syslog, errors also go to stderr, plainly ("deskgate:
 * error: ..."): an MTA shows a command's output in its log and in the
 * delivery status, where the reason for a refused or deferred mail belongs.
 *
 * Thread-safe: each line is formatted on the stack and written with one
 * write() (or one syslog() call); log_safe()'s buffers are per thread.
 */
#ifndef DG_LOG_H
#define DG_LOG_H

#include "base/util.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void log_init(const char *progname, enum log_level level);
/* Choose where lines go from now on (see above); facility is a syslog(3)
   LOG_* facility. */
void log_open(enum log_target target, int facility);
/* Where lines go: "stderr", "journal" or "syslog". */
const char *log_destination(void);
/* Parse "auto|stderr|syslog" and "mail|daemon|user|local0..local7"; -1
   when unknown. */
int log_target_parse(const char *s, enum log_target *target_r);
int log_facility_parse(const char *s, int *facility_r);
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
   cut to max bytes (on a UTF-8 boundary). Returns one of a ring of 8
   buffers of the calling thread, like errf(). */
const char *log_safe(const char *s, size_t max);

#endif
