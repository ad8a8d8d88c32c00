/*
 * test-credential: secrets from files and commands (gateway/credential.c).
 * Files: the first line, trimmed; empty, missing and over-long files.
 * Commands: the first line of the output; a failing, a killed, a silent, a
 * chatty and a hanging command (killed at the timeout together with the
 * helper it started, and reaped); and the signal state the command starts
 * with while the caller, like the daemon, blocks TERM/INT/HUP and ignores
 * SIGPIPE.
 */
#include "build-config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/credential.h"
#include "gateway/log.h"
#include "base/util.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-credential.XXXXXX";

static double
now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
write_file(const char *name, const char *content, size_t len)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");
	if (fp == NULL || fwrite(content, 1, len, fp) != len || fclose(fp) != 0)
		abort();
	return path;
}

static void
test_files(void)
{
	static const struct {
		const char *content;
		size_t len;
		const char *want; /* NULL: an error containing err */
		const char *err;
	} cases[] = {
		{ "secret\n", 7, "secret", NULL },
		{ "  secret with spaces inside \r\nsecond line\n", 42, "secret with spaces inside", NULL },
		{ "no newline", 10, "no newline", NULL },
		{ "", 0, NULL, "empty" },
		{ "\n\nlater\n", 8, NULL, "empty" },
		{ "tok\0hidden\n", 11, "tok", NULL },
	};
	const char *error;
	test_begin("credential_read_file");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *path = write_file("f", cases[i].content, cases[i].len);
		error = NULL;
		char *s = credential_read_file(path, &error);
		test_assert_str(s, cases[i].want);
		if (cases[i].err != NULL)
			test_assert(error != NULL && strstr(error, cases[i].err) != NULL);
		credential_free(&s);
		test_assert(s == NULL);
		free(path);
	}
	char *missing = xasprintf("%s/missing", tmpdir);
	test_assert(credential_read_file(missing, &error) == NULL);
	test_assert(strstr(error, "missing") != NULL && strstr(error, "No such file") != NULL);
	free(missing);
	/* a first line longer than the limit is refused, not cut */
	char *big = xmalloc(CREDENTIAL_MAX + 10);
	memset(big, 'x', CREDENTIAL_MAX + 10);
	char *path = write_file("big", big, CREDENTIAL_MAX + 10);
	test_assert(credential_read_file(path, &error) == NULL);
	test_assert(strstr(error, "longer than") != NULL);
	free(path);
	free(big);
}

static void
test_commands(void)
{
	static const struct {
		const char *command;
		const char *want; /* NULL: an error containing err */
		const char *err;
	} cases[] = {
		{ "echo good-token", "good-token", NULL },
		{ "printf '  tok  \\nsecond\\n'", "tok", NULL },
		{ "echo tok; exit 3", NULL, "exited with status 3" },
		{ "kill -TERM $$", NULL, "killed by signal 15" },
		{ "true", NULL, "printed no token" },
		{ "head -c 9000 /dev/zero | tr '\\0' x", NULL, "more than 8 KiB" },
		{ "/nonexistent/helper", NULL, "exited with status 127" },
		/* reads nothing from standard input (it is /dev/null) */
		{ "cat; echo after-eof", "after-eof", NULL },
	};
	const char *error;
	test_begin("credential_run");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		error = NULL;
		char *s = credential_run(cases[i].command, 5, &error);
		test_assert_str(s, cases[i].want);
		if (cases[i].err != NULL) {
			if (error == NULL || strstr(error, cases[i].err) == NULL)
				printf("case %zu: error %s\n", i, error != NULL ? error : "(none)");
			test_assert(error != NULL && strstr(error, cases[i].err) != NULL);
			/* the secret is never in the message */
			test_assert(strstr(error, "tok") == NULL || strstr(error, "token") != NULL);
		}
		credential_free(&s);
	}
}

static void
test_timeout(void)
{
	const char *error;
	char *pidfile = xasprintf("%s/helper.pid", tmpdir);
	/* the command starts a helper that keeps the pipe open, then hangs */
	char *cmd = xasprintf("sleep 30 & echo $! >%s; echo token; sleep 30", pidfile);
	test_begin("credential_run timeout");
	double t0 = now_mono();
	char *s = credential_run(cmd, 1, &error);
	double took = now_mono() - t0;
	test_assert(s == NULL);
	test_assert(strstr(error, "did not finish within 1 s") != NULL);
	test_assert(strstr(error, "reaped") == NULL);
	test_assert(took >= 0.9 && took < 4);
	/* the helper in the background was killed with the rest of the group */
	FILE *fp = fopen(pidfile, "r");
	long helper = 0;
	if (fp != NULL) {
		char line[32];
		if (fgets(line, sizeof(line), fp) != NULL)
			helper = strtol(line, NULL, 10);
		fclose(fp);
	}
	test_assert(helper > 0);
	int gone = 0;
	for (int i = 0; i < 100 && helper > 0 && !gone; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/stat", helper);
		FILE *st = fopen(path, "r");
		char buf[512] = "";
		if (st != NULL) {
			if (fgets(buf, sizeof(buf), st) == NULL)
				buf[0] = '\0';
			fclose(st);
		}
		/* gone, or a zombie waiting for init */
		const char *rp = strrchr(buf, ')');
		gone = st == NULL || (rp != NULL && (rp[2] == 'Z' || rp[2] == 'X'));
		if (!gone)
			usleep(20000);
	}
	test_assert(gone);
	/* and nothing of ours is left to reap */
	test_assert(waitpid(-1, NULL, WNOHANG) <= 0);
	free(cmd);
	free(pidfile);
}

/* The daemon blocks TERM, INT and HUP (read from a signalfd) and ignores
   SIGPIPE; a token helper must start with neither. */
static void
test_signal_state(void)
{
	const char *error;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);

	test_begin("credential_run signal state");
	char *s = credential_run("awk '/^Sig(Blk|Ign)/ { printf \"%s \", $2 }' "
				 "/proc/self/status; echo",
				 5, &error);
	/* the blocked and the ignored signals, as hex masks (bit n-1 for
	   signal n); signals above 31 belong to the C library */
	unsigned long long blocked = ~0ULL, ignored = ~0ULL;
	if (s != NULL) {
		char *end;
		blocked = strtoull(s, &end, 16);
		ignored = strtoull(end, NULL, 16);
	}
	test_assert_int(blocked & 0x7fffffffULL, 0);
	test_assert_int(ignored & 0x7fffffffULL, 0);
	credential_free(&s);
	/* a helper that writes into a closed pipe dies of SIGPIPE as usual
	   instead of looping on EPIPE; ours still gets its token */
	s = credential_run("echo tok; (yes | head -1) >/dev/null", 5, &error);
	test_assert_str(s, "tok");
	credential_free(&s);

	signal(SIGPIPE, old_pipe);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int
main(void)
{
	log_init("test-credential", LOG_LEVEL_WARN);
	if (mkdtemp(tmpdir) == NULL)
		return test_skip("mkdtemp failed");
	test_files();
	test_commands();
	test_timeout();
	test_signal_state();
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	free(cmd);
	return test_exit();
}
