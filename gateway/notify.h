/*
 * notify: the service manager's notification protocol (sd_notify(3)),
 * without linking libsystemd. The protocol is one datagram per message on
 * the AF_UNIX socket named by $NOTIFY_SOCKET: a path ("/run/systemd/notify")
 * or, with a leading '@', an abstract name; the message is newline-
 * separated KEY=VALUE assignments. It is small and stable (documented as an
 * interface in sd_notify(3)); linking libsystemd for it would add a
 * dependency the SQLite-only quick start does not need.
 *
 * What deskgate sends: READY=1 once the configuration, the store and the
 * pipeline are loaded; STATUS=<one line> as mailbox states change;
 * RELOADING=1 (with MONOTONIC_USEC) when SIGHUP's reload starts and READY=1
 * when it ends; STOPPING=1 when SIGTERM or SIGINT arrives; WATCHDOG=1 at half
 * of $WATCHDOG_USEC from the daemon's loop (so a stuck loop is restarted).
 *
 * Process-wide, like the log: notify_init() reads the environment once and
 * removes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from it, so that
 * the commands deskgate runs (token_command) cannot speak for it. Without
 * NOTIFY_SOCKET every function is a no-op. Thread-safe (one sendmsg() per
 * message), but meant for the daemon's main thread.
 */
#ifndef DG_NOTIFY_H
#define DG_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Read the environment: 1 when a notification socket is set, 0 when not,
   -1 with error_r when it is set but unusable (then notifications are off).
   Calling it again re-reads nothing and returns the first answer. */
int notify_init(const char **error_r);
int notify_enabled(void);

/* Parse a $NOTIFY_SOCKET value: "/absolute/path" or "@abstract". -1 with
   error_r for a relative path, an empty name, a name too long for
   sun_path, or another address family ("vsock:..."). */
int notify_parse_address(const char *value, struct sockaddr_un *addr_r, socklen_t *len_r,
			 const char **error_r);

/* Send assignments ("READY=1\nSTATUS=..."). 0 also when notifications are
   off; -1 with error_r when the socket refused the message. */
int notify_send(const char *message, const char **error_r);

/* The usual messages; failures are logged once, at debug level after. */
void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
/* STATUS=text (line breaks become spaces; at most 1 KiB). */
void notify_status(const char *text);
void notify_watchdog(void);

/* The watchdog interval the manager asked for, in microseconds (0: none,
   or $WATCHDOG_PID names another process). */
uint64_t notify_watchdog_usec(void);

/* Forget the socket (tests). */
void notify_reset(void);

#endif
