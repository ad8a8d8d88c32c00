/* test-notify: the sd_notify protocol against a real datagram socket, on a
   path and on an abstract name, and the environment handling. */
#include "build-config.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/notify.h"
#include "test.h"

/* A bound datagram socket for value ("/path" or "@name"). */
static int
listener(const char *value)
{
	struct sockaddr_un sa;
	socklen_t len;
	const char *error;
	if (notify_parse_address(value, &sa, &len, &error) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0) {
		printf("bind %s: %s\n", value, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram as text, "" after the time-out. */
static const char *
next(int fd)
{
	static char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* 1 when nothing arrives within 100 ms. */
static int
quiet(int fd)
{
	char c;
	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void
test_parse(void)
{
	static const struct {
		const char *value;
		int ok;
		socklen_t len; /* with ok */
	} cases[] = {
		{ "/run/systemd/notify", 1, sizeof(sa_family_t) + 20 },
		{ "@deskgate/test", 1, sizeof(sa_family_t) + 14 },
		{ "", 0, 0 },
		{ "relative/path", 0, 0 },
		{ "/", 0, 0 },
		{ "@", 0, 0 },
		{ "vsock:2:1234", 0, 0 },
	};
	test_begin("notify_parse_address");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_un sa;
		socklen_t len = 0;
		const char *error = NULL;
		int r = notify_parse_address(cases[i].value, &sa, &len, &error);
		test_assert_int(r, cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			test_assert_int(len, cases[i].len);
		else
			test_assert(error != NULL);
	}
	struct sockaddr_un sa;
	socklen_t len;
	const char *error = NULL;
	test_assert(notify_parse_address("@abc", &sa, &len, &error) == 0 && sa.sun_path[0] == '\0' &&
		    memcmp(sa.sun_path + 1, "abc", 3) == 0);
	test_assert(notify_parse_address("vsock:1:2", &sa, &len, &error) < 0 &&
		    strstr(error, "AF_VSOCK") != NULL);
	char longname[sizeof(sa.sun_path) + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	test_assert(notify_parse_address(longname, &sa, &len, &error) < 0);
	/* an abstract name may use every byte of sun_path */
	longname[0] = '@';
	longname[sizeof(sa.sun_path)] = '\0';
	test_assert(notify_parse_address(longname, &sa, &len, &error) == 0);
	longname[0] = '/';
	test_assert(notify_parse_address(longname, &sa, &len, &error) < 0);
}

static void
exchange(const char *value)
{
	const char *error = NULL;
	int fd = listener(value);
	test_assert(fd >= 0);
	if (fd < 0)
		return;
	notify_reset();
	setenv("NOTIFY_SOCKET", value, 1);
	setenv("WATCHDOG_USEC", "3000000", 1);
	unsetenv("WATCHDOG_PID");
	test_assert_int(notify_init(&error), 1);
	test_assert(notify_enabled());
	/* the environment is not handed to the commands deskgate runs */
	test_assert(getenv("NOTIFY_SOCKET") == NULL);
	test_assert(getenv("WATCHDOG_USEC") == NULL);
	test_assert_int(notify_watchdog_usec(), 3000000);
	/* a second init answers the same without the environment */
	test_assert_int(notify_init(&error), 1);

	notify_ready();
	test_assert_str(next(fd), "READY=1");
	notify_status("support idle\nsales backoff\r!");
	test_assert_str(next(fd), "STATUS=support idle sales backoff !");
	notify_watchdog();
	test_assert_str(next(fd), "WATCHDOG=1");
	notify_reloading();
	const char *r = next(fd);
	test_assert(strncmp(r, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0 && strlen(r) > 28);
	notify_stopping();
	test_assert_str(next(fd), "STOPPING=1");
	notify_stopping(); /* once */
	usleep(100000);
	test_assert(quiet(fd));

	/* a long status is cut, on a character boundary, to 1 KiB */
	char big[3000];
	for (size_t i = 0; i + 3 < sizeof(big); i += 3)
		memcpy(big + i, "\xe4\xb8\xad", 3);
	big[sizeof(big) - 3] = '\0';
	notify_status(big);
	r = next(fd);
	test_assert(strncmp(r, "STATUS=\xe4\xb8\xad", 10) == 0);
	test_assert(strlen(r) <= 1024 + 7 && (strlen(r) - 7) % 3 == 0);

	const char *send_error = NULL;
	test_assert_int(notify_send("A=1\nB=2", &send_error), 0);
	test_assert_str(next(fd), "A=1\nB=2");
	close(fd);
	if (value[0] == '/') {
		unlink(value);
		/* the manager went away: an error, not a crash or a signal */
		test_assert_int(notify_send("READY=1", &send_error), -1);
		test_assert(send_error != NULL && strstr(send_error, "NOTIFY_SOCKET") != NULL);
		notify_ready(); /* logged, once */
		notify_ready();
	}
}

static void
test_exchange(void)
{
	char dir[] = "/tmp/dg-notify.XXXXXX";
	test_begin("path socket");
	test_assert(mkdtemp(dir) != NULL);
	char path[64];
	snprintf(path, sizeof(path), "%s/notify", dir);
	exchange(path);
	rmdir(dir);

	test_begin("abstract socket");
	char name[64];
	snprintf(name, sizeof(name), "@deskgate-test-notify-%ld", (long)getpid());
	exchange(name);
}

static void
test_env(void)
{
	const char *error = NULL;
	test_begin("no NOTIFY_SOCKET: off, and quiet");
	notify_reset();
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "1000000", 1);
	test_assert_int(notify_init(&error), 0);
	test_assert(!notify_enabled());
	test_assert_int(notify_watchdog_usec(), 0);
	test_assert_int(notify_send("READY=1", &error), 0);
	notify_ready();

	test_begin("an unusable NOTIFY_SOCKET: -1, then off");
	notify_reset();
	setenv("NOTIFY_SOCKET", "relative", 1);
	test_assert_int(notify_init(&error), -1);
	test_assert(error != NULL && strstr(error, "relative") != NULL);
	test_assert(!notify_enabled());
	test_assert(getenv("NOTIFY_SOCKET") == NULL);
	notify_ready();

	test_begin("WATCHDOG_PID of another process: no watchdog");
	char name[64];
	snprintf(name, sizeof(name), "@deskgate-test-wd-%ld", (long)getpid());
	int fd = listener(name);
	notify_reset();
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	test_assert_int(notify_init(&error), 1);
	test_assert_int(notify_watchdog_usec(), 0);
	test_assert(getenv("WATCHDOG_PID") == NULL);
	notify_reset();
	char pid[32];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	test_assert_int(notify_init(&error), 1);
	test_assert_int(notify_watchdog_usec(), 1000000);
	notify_reset();
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "soon", 1);
	test_assert_int(notify_init(&error), 1);
	test_assert_int(notify_watchdog_usec(), 0);
	notify_reset();
	if (fd >= 0)
		close(fd);
}

int
main(void)
{
	test_parse();
	test_exchange();
	test_env();
	return test_exit();
}
