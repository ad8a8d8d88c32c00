/*
 * test-spool: base/spool.c. Small messages stay in memory, long ones go to
 * an unnamed file and come back mmap()ed, byte for byte and NUL-terminated;
 * bytes over max are counted and dropped; reading from a descriptor; no
 * file is left in the directory; a directory that cannot be written is an
 * error, not a crash.
 */
#include "build-config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/spool.h"
#include "base/util.h"
#include "tests/unit/test.h"

static char tmpdir[] = "/tmp/dg-spool.XXXXXX";

static size_t
dir_entries(const char *path)
{
	size_t n = 0;
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static unsigned char *
pattern(size_t len)
{
	unsigned char *p = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + i / 7);
	return p;
}

static void
test_sizes(void)
{
	static const struct {
		size_t mem_max;
		uint64_t max;
		size_t len, chunk;
		int on_disk, over;
		size_t kept;
	} cases[] = {
		{ 1024, 0, 0, 1, 0, 0, 0 },		/* empty */
		{ 1024, 0, 1000, 7, 0, 0, 1000 },	/* fits */
		{ 1024, 0, 1024, 1024, 0, 0, 1024 },	/* exactly */
		{ 1024, 0, 1025, 100, 1, 0, 1025 },	/* one more: a file */
		{ 0, 0, 5000, 333, 1, 0, 5000 },	/* always a file */
		{ 1 << 20, 4096, 10000, 999, 0, 1, 4096 }, /* over max, in memory */
		{ 1024, 4096, 10000, 999, 1, 1, 4096 },	/* over max, on disk */
		{ 1024, 4096, 4096, 4096, 1, 0, 4096 }, /* exactly max */
		{ 64 * 1024, 0, 3 << 20, 65536, 1, 0, 3 << 20 }, /* 3 MiB */
	};
	test_begin("spool sizes");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *error = NULL;
		unsigned char *want = pattern(cases[i].len);
		struct spool *sp = spool_new(tmpdir, cases[i].mem_max, cases[i].max);
		for (size_t off = 0; off < cases[i].len; off += cases[i].chunk) {
			size_t n = cases[i].len - off < cases[i].chunk ? cases[i].len - off
								      : cases[i].chunk;
			test_assert_int(spool_write(sp, want + off, n, &error), 0);
		}
		const unsigned char *data = NULL;
		size_t len = 0;
		test_assert_int(spool_data(sp, &data, &len, &error), 0);
		test_assert_int(spool_size(sp), cases[i].len);
		test_assert_int(spool_over(sp), cases[i].over);
		test_assert_int(spool_on_disk(sp), cases[i].on_disk);
		test_assert_int(len, cases[i].kept);
		test_assert(data != NULL && memcmp(data, want, len) == 0 && data[len] == '\0');
		/* after spool_data() nothing more can be written */
		test_assert_int(spool_write(sp, "x", 1, &error), -1);
		/* the file has no name, ever */
		test_assert_int(dir_entries(tmpdir), 0);
		spool_free(&sp);
		test_assert(sp == NULL);
		free(want);
	}
	spool_free(&(struct spool *){ NULL });
}

static void
test_fd(void)
{
	const char *error;
	int fds[2];
	test_begin("spool_read_fd");
	if (pipe(fds) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		unsigned char *p = pattern(200000);
		size_t off = 0;
		while (off < 200000) {
			ssize_t n = write(fds[1], p + off, 200000 - off);
			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	struct spool *sp = spool_new(tmpdir, 4096, 150000);
	test_assert_int(spool_read_fd(sp, fds[0], &error), 0);
	close(fds[0]);
	const unsigned char *data;
	size_t len;
	test_assert_int(spool_data(sp, &data, &len, &error), 0);
	test_assert_int(spool_size(sp), 200000);
	test_assert_int(len, 150000);
	test_assert_int(spool_over(sp), 1);
	unsigned char *want = pattern(150000);
	test_assert(memcmp(data, want, len) == 0);
	free(want);
	spool_free(&sp);
	int status;
	waitpid(pid, &status, 0);
}

static void
test_bad_dir(void)
{
	const char *error = NULL;
	test_begin("spool in a directory that does not exist");
	struct spool *sp = spool_new("/nonexistent/dir", 10, 0);
	test_assert_int(spool_write(sp, "0123456789", 10, &error), 0); /* memory */
	test_assert_int(spool_write(sp, "x", 1, &error), -1);	     /* the file */
	test_assert(error != NULL && strstr(error, "/nonexistent/dir") != NULL);
	spool_free(&sp);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return test_skip("cannot make a temporary directory");
	test_sizes();
	test_fd();
	test_bad_dir();
	rmdir(tmpdir);
	return test_exit();
}
