/* test-log: where lines go (stderr, the journal's stream, syslog), the
   RFC 3339 stamp, levels, errno, long lines, and log_safe() per thread. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "gateway/log.h"
#include "test.h"

static char logpath[64];
static int saved_stderr = -1;

/* Point stderr at a fresh file. */
static void
stderr_to_file(void)
{
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved_stderr < 0)
		saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void
stderr_restore(void)
{
	dup2(saved_stderr, STDERR_FILENO);
}

static char *
read_log(void)
{
	size_t len;
	char *data = (char *)test_read_file(logpath, &len);
	return data != NULL ? data : strdup("");
}

static int
matches(const char *text, const char *pattern)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE) != 0)
		return 0;
	int r = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return r;
}

static void
test_parse(void)
{
	enum log_target t;
	int f;
	test_begin("target and facility names");
	test_assert(log_target_parse("auto", &t) == 0 && t == LOG_TARGET_AUTO);
	test_assert(log_target_parse("stderr", &t) == 0 && t == LOG_TARGET_STDERR);
	test_assert(log_target_parse("syslog", &t) == 0 && t == LOG_TARGET_SYSLOG);
	test_assert(log_target_parse("journal", &t) == -1);
	test_assert(log_target_parse("", &t) == -1);
	test_assert(log_facility_parse("mail", &f) == 0 && f == LOG_MAIL);
	test_assert(log_facility_parse("local7", &f) == 0 && f == LOG_LOCAL7);
	test_assert(log_facility_parse("daemon", &f) == 0 && f == LOG_DAEMON);
	test_assert(log_facility_parse("kern", &f) == -1);
	test_assert(log_facility_parse("local8", &f) == -1);
}

static void
test_stderr(void)
{
	test_begin("stderr: RFC 3339 stamp, pid, level, key=value kept");
	stderr_to_file();
	unsetenv("JOURNAL_STREAM");
	log_open(LOG_TARGET_STDERR, LOG_MAIL);
	test_assert_str(log_destination(), "stderr");
	log_set_level(LOG_LEVEL_INFO);
	log_info("mailbox=%s uid=%u msgid=<%s> ticket=%d: new ticket", "support", 7u, "a@b", 12);
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	log_warnx("plain");
	log_debug("not at info level");
	log_error("boom");
	char *t = read_log();
	stderr_restore();
	const char *stamp = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}"
			    "[+-][0-9]{2}:[0-9]{2} deskgate\\[[0-9]+\\]: ";
	char re[512];
	snprintf(re, sizeof(re), "%smailbox=support uid=7 msgid=<a@b> ticket=12: new ticket$",
		 stamp);
	test_assert(matches(t, re));
	snprintf(re, sizeof(re), "%swarning: open /nonexistent: No such file or directory$", stamp);
	test_assert(matches(t, re));
	snprintf(re, sizeof(re), "%swarning: plain$", stamp);
	test_assert(matches(t, re));
	snprintf(re, sizeof(re), "%serror: boom$", stamp);
	test_assert(matches(t, re));
	test_assert(strstr(t, "not at info level") == NULL);
	/* the offset is the local one: UTC here says +00:00 */
	setenv("TZ", "UTC", 1);
	tzset();
	stderr_to_file();
	log_info("utc");
	free(t);
	t = read_log();
	stderr_restore();
	test_assert(matches(t, "^[0-9-]+T[0-9:.]+\\+00:00 deskgate"));
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	stderr_to_file();
	log_info("shanghai");
	free(t);
	t = read_log();
	stderr_restore();
	/* without zoneinfo the zone stays UTC; with it, +08:00 */
	struct stat st;
	if (stat("/usr/share/zoneinfo/Asia/Shanghai", &st) == 0)
		test_assert(matches(t, "^[0-9-]+T[0-9:.]+\\+08:00 deskgate"));
	unsetenv("TZ");
	tzset();
	free(t);

	test_begin("a line too long is cut and still ends the line");
	stderr_to_file();
	char *big = malloc(10000);
	memset(big, 'x', 9999);
	big[9999] = '\0';
	log_info("%s", big);
	log_info("after");
	free(big);
	t = read_log();
	stderr_restore();
	char *nl = strchr(t, '\n');
	test_assert(nl != NULL && (size_t)(nl - t) < 4608);
	test_assert(nl != NULL && matches(nl + 1, "deskgate\\[[0-9]+\\]: after$"));
	free(t);
}

static void
test_journal_and_auto(void)
{
	test_begin("the journal: JOURNAL_STREAM names stderr");
	stderr_to_file();
	struct stat st;
	fstat(STDERR_FILENO, &st);
	char js[64];
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_open(LOG_TARGET_AUTO, LOG_MAIL);
	test_assert_str(log_destination(), "journal");
	log_info("ticket=3: new");
	log_warnx("careful");
	log_error("bad");
	char *t = read_log();
	test_assert_str(t, "<6>ticket=3: new\n<4>warning: careful\n<3>error: bad\n");
	free(t);
	/* another file with the same variable: not the journal */
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	log_open(LOG_TARGET_AUTO, LOG_MAIL);
	test_assert_str(log_destination(), "stderr");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_open(LOG_TARGET_AUTO, LOG_MAIL);
	test_assert_str(log_destination(), "stderr");
	unsetenv("JOURNAL_STREAM");
	stderr_restore();

	test_begin("auto: a regular file keeps stderr, a pipe or /dev/null is syslog");
	stderr_to_file();
	log_open(LOG_TARGET_AUTO, LOG_MAIL);
	test_assert_str(log_destination(), "stderr");
	int p[2];
	test_assert(pipe(p) == 0);
	dup2(p[1], STDERR_FILENO);
	log_open(LOG_TARGET_AUTO, LOG_MAIL);
	test_assert_str(log_destination(), "syslog");
	/* syslog does not write to stderr */
	log_info("to syslog, not to the pipe");
	int fl = fcntl(p[0], F_GETFL);
	fcntl(p[0], F_SETFL, fl | O_NONBLOCK);
	char c;
	test_assert(read(p[0], &c, 1) < 0 && errno == EAGAIN);
	close(p[0]);
	close(p[1]);
	int null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	close(null);
	log_open(LOG_TARGET_AUTO, LOG_MAIL);
	test_assert_str(log_destination(), "syslog");
	stderr_to_file();
	log_open(LOG_TARGET_SYSLOG, LOG_LOCAL3);
	test_assert_str(log_destination(), "syslog");
	log_open(LOG_TARGET_STDERR, LOG_MAIL);
	test_assert_str(log_destination(), "stderr");
	stderr_restore();
}

/* One thread keeps a log_safe() result while another makes a ring's worth
   of calls: with buffers shared between threads, the first one's text
   would be overwritten. */
static pthread_barrier_t safe_step;

static void *
safe_keeper(void *arg)
{
	const char *s = log_safe("kept by the first thread", 100);
	pthread_barrier_wait(&safe_step);
	pthread_barrier_wait(&safe_step);
	*(int *)arg = strcmp(s, "kept by the first thread") == 0;
	return NULL;
}

static void *
safe_churner(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&safe_step);
	for (int i = 0; i < 16; i++)
		(void)log_safe("written by the second thread", 100);
	pthread_barrier_wait(&safe_step);
	return NULL;
}

static void
test_safe(void)
{
	test_begin("log_safe: controls replaced, cut on a character boundary");
	test_assert_str(log_safe("a\r\nb\x7f", 100), "a??b?");
	test_assert_str(log_safe("\xe4\xb8\xad\xe6\x96\x87", 4), "\xe4\xb8\xad");
	test_assert_str(log_safe(NULL, 10), "-");

	test_begin("log_safe: each thread has its own buffers");
	pthread_t a, b;
	int intact = 0;
	pthread_barrier_init(&safe_step, NULL, 2);
	pthread_create(&a, NULL, safe_keeper, &intact);
	pthread_create(&b, NULL, safe_churner, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&safe_step);
	test_assert(intact);
}

int
main(void)
{
	snprintf(logpath, sizeof(logpath), "/tmp/dg-test-log.%ld", (long)getpid());
	log_init("deskgate", LOG_LEVEL_INFO);
	test_parse();
	test_stderr();
	test_journal_and_auto();
	test_safe();
	unlink(logpath);
	return test_exit();
}
