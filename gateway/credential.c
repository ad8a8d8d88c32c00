/*
 * credential: see credential.h. posix_spawn() and not popen(): popen()
 * passes our blocked signal mask and ignored SIGPIPE to the child, and has
 * no timeout.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "gateway/credential.h"
#include "base/util.h"

/* After the kill, how long to wait for the child to be reaped. */
#define REAP_TIMEOUT_MS 2000

/* Keep the first line of s, trimmed (in place); what is cut off is wiped.
   NULL (and s freed) when nothing is left. */
static char *
first_line(char *s)
{
	size_t len = strlen(s);
	s[strcspn(s, "\r\n")] = '\0';
	str_trim(s);
	size_t keep = strlen(s);
	explicit_bzero(s + keep, len - keep);
	if (keep == 0) {
		free(s);
		return NULL;
	}
	return s;
}

void
credential_free(char **secretp)
{
	if (*secretp == NULL)
		return;
	explicit_bzero(*secretp, strlen(*secretp));
	x_free(secretp);
}

char *
credential_read_file(const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = errf("%s: %s", path, strerror(errno));
		return NULL;
	}
	char *line = xmalloc(CREDENTIAL_MAX + 1);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, line + len, CREDENTIAL_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = errf("%s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(line, len);
			free(line);
			return NULL;
		}
		len += (size_t)n;
		/* only the first line matters: stop once it is complete */
		if (n == 0 || len == CREDENTIAL_MAX || memchr(line, '\n', len) != NULL)
			break;
	}
	close(fd);
	line[len] = '\0';
	/* a NUL byte ends the text: wipe what follows it */
	explicit_bzero(line + strlen(line), len - strlen(line));
	if (memchr(line, '\n', len) == NULL && len == CREDENTIAL_MAX) {
		explicit_bzero(line, len);
		free(line);
		*error_r = errf("%s: the first line is longer than %d bytes", path, CREDENTIAL_MAX);
		return NULL;
	}
	char *s = first_line(line);
	if (s == NULL)
		*error_r = errf("%s: empty", path);
	return s;
}

/* Wait for pid until deadline (monotonic seconds); 1 reaped (*status_r),
   0 still running. */
static int
wait_until(pid_t pid, double deadline, int *status_r)
{
	for (;;) {
		pid_t r = waitpid(pid, status_r, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* not our child any more: nothing to wait for */
		if (clock_mono() >= deadline)
			return 0;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static int
spawn_shell(const char *command, int out_fd, pid_t *pid_r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;

	sigemptyset(&none);
	/* every signal back to its default (the C library leaves out the ones
	   it uses itself, and KILL and STOP cannot be changed anyway) */
	sigfillset(&defaults);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)command, NULL };
	extern char **environ;
	int r = posix_spawn(pid_r, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

char *
credential_run(const char *command, unsigned timeout, const char **error_r)
{
	int fds[2];
	if (timeout == 0)
		timeout = 60;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*error_r = errf("token_command: pipe: %s", strerror(errno));
		return NULL;
	}
	pid_t pid;
	int r = spawn_shell(command, fds[1], &pid);
	close(fds[1]);
	if (r != 0) {
		close(fds[0]);
		*error_r = errf("token_command: cannot run /bin/sh: %s", strerror(r));
		return NULL;
	}

	struct buf out;
	buf_init(&out, CREDENTIAL_MAX);
	double deadline = clock_mono() + timeout;
	int timed_out = 0, too_long = 0, status = 0;
	for (;;) {
		double left = deadline - clock_mono();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (pr == 0 || (pr < 0 && errno == EINTR))
			continue; /* the deadline is checked above */
		if (pr < 0)
			break;
		char chunk[1024];
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(&out, chunk, (size_t)n) < 0)
			too_long = 1; /* keep reading (and dropping) to the end */
		explicit_bzero(chunk, sizeof(chunk));
	}
	close(fds[0]);
	/* The output is closed: the command should exit now; it gets what is
	   left of its time. */
	int reaped = !timed_out && wait_until(pid, deadline, &status);
	if (!reaped) {
		timed_out = 1;
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		reaped = wait_until(pid, clock_mono() + REAP_TIMEOUT_MS / 1000.0, &status);
	}

	char *line = xstrndup((const char *)buf_cstr(&out), out.len);
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
	if (timed_out || too_long || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (timed_out)
			*error_r = errf("token_command did not finish within %u s%s", timeout,
					reaped ? "" : " (and could not be reaped)");
		else if (too_long)
			*error_r = errf("token_command printed more than %d KiB",
					CREDENTIAL_MAX / 1024);
		else if (WIFSIGNALED(status))
			*error_r = errf("token_command killed by signal %d", WTERMSIG(status));
		else
			*error_r = errf("token_command exited with status %d", WEXITSTATUS(status));
		credential_free(&line);
		return NULL;
	}
	char *s = first_line(line);
	if (s == NULL)
		*error_r = "token_command printed no token";
	return s;
}
