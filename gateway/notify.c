/* notify: see notify.h. */
#include "build-config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/notify.h"
#include "base/util.h"

#define NOTIFY_STATUS_MAX 1024

static int notify_state = -2; /* -2 not read; -1 unusable; 0 off; 1 on */
static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len;
static uint64_t watchdog_usec;
static int complained;
static int stopping_sent;

int
notify_parse_address(const char *value, struct sockaddr_un *addr_r, socklen_t *len_r,
		     const char **error_r)
{
	size_t len = value != NULL ? strlen(value) : 0;
	memset(addr_r, 0, sizeof(*addr_r));
	addr_r->sun_family = AF_UNIX;
	if (len < 2 || (value[0] != '/' && value[0] != '@')) {
		*error_r = errf("NOTIFY_SOCKET=\"%s\": not an absolute path or an @abstract name%s",
				log_safe(value, 100),
				value != NULL && strncmp(value, "vsock:", 6) == 0
					? " (AF_VSOCK is not supported)"
					: "");
		return -1;
	}
	/* a path needs its NUL in sun_path; an abstract name does not */
	if (len > sizeof(addr_r->sun_path) - (value[0] == '/')) {
		*error_r = errf("NOTIFY_SOCKET: name longer than %zu bytes",
				sizeof(addr_r->sun_path) - 1);
		return -1;
	}
	memcpy(addr_r->sun_path, value, len);
	if (value[0] == '@')
		addr_r->sun_path[0] = '\0';
	*len_r = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (value[0] == '/'));
	return 0;
}

/* WATCHDOG_USEC=N for this pid (WATCHDOG_PID absent or ours). */
static uint64_t
read_watchdog(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t v, p;
	if (usec == NULL || str_to_u64(usec, UINT64_MAX, &v) < 0 || v == 0)
		return 0;
	if (pid != NULL && (str_to_u64(pid, UINT64_MAX, &p) < 0 || p != (uint64_t)getpid()))
		return 0;
	return v;
}

int
notify_init(const char **error_r)
{
	if (notify_state != -2) {
		if (notify_state < 0)
			*error_r = "NOTIFY_SOCKET is unusable";
		return notify_state;
	}
	const char *value = getenv("NOTIFY_SOCKET");
	watchdog_usec = read_watchdog();
	int ret = 0;
	if (value != NULL) {
		if (notify_parse_address(value, &notify_addr, &notify_addr_len, error_r) < 0) {
			ret = -1;
		} else {
			notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (notify_fd < 0) {
				*error_r = errf("NOTIFY_SOCKET: socket: %s", strerror(errno));
				ret = -1;
			} else {
				ret = 1;
			}
		}
	}
	if (ret != 1)
		watchdog_usec = 0;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	notify_state = ret;
	return ret;
}

int
notify_enabled(void)
{
	return notify_state == 1;
}

uint64_t
notify_watchdog_usec(void)
{
	return notify_state == 1 ? watchdog_usec : 0;
}

int
notify_send(const char *message, const char **error_r)
{
	if (notify_state != 1)
		return 0;
	struct iovec iov = { .iov_base = (void *)message, .iov_len = strlen(message) };
	struct msghdr mh = {
		.msg_name = &notify_addr,
		.msg_namelen = notify_addr_len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;
	do
		n = sendmsg(notify_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		*error_r = errf("NOTIFY_SOCKET: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void
send_logged(const char *message)
{
	const char *error;
	if (notify_send(message, &error) < 0) {
		/* the manager may be restarting: say it once, not every second */
		if (!complained)
			log_warnx("service manager notification failed: %s", error);
		else
			log_debug("service manager notification failed: %s", error);
		complained = 1;
	}
}

void
notify_ready(void)
{
	send_logged("READY=1");
}

void
notify_reloading(void)
{
	if (notify_state != 1)
		return;
	/* systemd 253 (Type=notify-reload) wants the monotonic time with it */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char msg[80];
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	send_logged(msg);
}

void
notify_stopping(void)
{
	/* once: SIGTERM says it first, the end of the run again */
	if (notify_state == 1 && !stopping_sent) {
		stopping_sent = 1;
		send_logged("STOPPING=1");
	}
}

void
notify_status(const char *text)
{
	if (notify_state != 1)
		return;
	char msg[NOTIFY_STATUS_MAX + 8];
	int n = snprintf(msg, sizeof(msg), "STATUS=%s", text);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	if ((size_t)n >= sizeof(msg))
		len = 7 + utf8_truncate_len(text, sizeof(msg) - 8);
	msg[len] = '\0';
	for (size_t i = 7; i < len; i++)
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	send_logged(msg);
}

void
notify_watchdog(void)
{
	send_logged("WATCHDOG=1");
}

void
notify_reset(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	notify_state = -2;
	watchdog_usec = 0;
	complained = 0;
	stopping_sent = 0;
}
