/*
 * test-fuzz-corpus: replays the fuzz inputs kept in the tree through the
 * same entry points the libFuzzer targets use (tests/fuzz/fuzz-*.c built
 * with -DFUZZ_REPLAY), with any compiler and without libFuzzer, so that
 * make check catches a regression on any of them:
 *
 *   tests/fuzz/corpus/TARGET/    the seed corpus of each target
 *   tests/fuzz/crashes/TARGET-*  reproducers of crashes found and fixed
 *   $FUZZ_REPLAY_DIRS            more directories (colon separated) of
 *                                TARGET-* files, e.g. /tmp/fuzz-crashes
 *
 * Each input runs in a child process with a time limit, so a crash, an
 * abort from a FUZZ_CHECK, a sanitizer report (--enable-sanitizers) or a
 * hang is reported with the file name and the run goes on. Inputs listed
 * in xfails[] are expected to fail (a known bug in another module, not
 * fixed yet); one that passes is reported so that it leaves the list.
 *
 *   test-fuzz-corpus                     replay everything (make check)
 *   test-fuzz-corpus TARGET FILE...      run FILEs in this process, for a
 *                                        debugger or a sanitizer report
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/test.h"

/* Seconds one input may take (sanitizer builds are slow). */
#define INPUT_TIMEOUT 60

typedef int fuzz_fn(const uint8_t *data, size_t size);

static const struct target {
	const char *name;
	fuzz_fn *fn;
} targets[] = {
#define FUZZ_ENTRY(name) { #name, fuzz_##name },
	FUZZ_TARGETS(FUZZ_ENTRY)
#undef FUZZ_ENTRY
};
#define N_TARGETS() (sizeof(targets) / sizeof(targets[0]))

/* Inputs expected to fail, by path relative to tests/fuzz/ (or, for
   $FUZZ_REPLAY_DIRS, by file name), with the reason and the owner. */
static const struct xfail {
	const char *file;
	const char *reason;
} xfails[] = {
	{ NULL, NULL },
};

static const char *
xfail_reason(const char *rel)
{
	for (size_t i = 0; xfails[i].file != NULL; i++)
		if (strcmp(xfails[i].file, rel) == 0)
			return xfails[i].reason;
	return NULL;
}

static const struct target *
target_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_TARGETS(); i++)
		if (strlen(targets[i].name) == len && strncmp(targets[i].name, name, len) == 0)
			return &targets[i];
	return NULL;
}

/* Run one input in-process: the exact-size copy lets ASan see overreads. */
static int
run_one(const struct target *t, const char *path)
{
	size_t len;
	unsigned char *data = test_read_file(path, &len);
	if (data == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	unsigned char *exact = malloc(len > 0 ? len : 1);
	if (exact == NULL)
		abort();
	memcpy(exact, data, len);
	free(data);
	t->fn(exact, len);
	free(exact);
	return 0;
}

static unsigned int n_run, n_failed, n_xfail;

/* Replay path in a child; rel names it in the report. */
static void
replay(const struct target *t, const char *path, const char *rel)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		printf("FAIL %s: fork: %s\n", rel, strerror(errno));
		test_checks++;
		test_failures++;
		return;
	}
	if (pid == 0) {
		alarm(INPUT_TIMEOUT);
		/* exit(), not _exit(): LeakSanitizer runs at exit. */
		exit(run_one(t, path) == 0 ? 0 : 2);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	char how[64];
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "%s", WTERMSIG(status) == SIGALRM ? "timeout"
							: strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "status %d", status);

	const char *why = xfail_reason(rel);
	n_run++;
	test_checks++;
	if (ok && why == NULL)
		return;
	if (!ok && why != NULL) {
		n_xfail++;
		printf("XFAIL %s (%s): %s\n", rel, how, why);
		return;
	}
	n_failed++;
	test_failures++;
	if (ok)
		printf("FAIL %s: passes now: remove it from xfails[] (%s)\n", rel, why);
	else
		printf("FAIL %s: %s (replay: %s %s %s)\n", rel, how,
		       "tests/unit/test-fuzz-corpus", t->name, path);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files in dir, sorted, not starting with '.'; NULL when dir
   cannot be opened. */
static char **
list_dir(const char *dir, size_t *n_r)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	*n_r = n;
	return names;
}

static void
free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Files TARGET-* in dir (rel_dir names dir in reports, "" for none). */
static void
replay_named(const char *dir, const char *rel_dir)
{
	size_t n;
	char **names = list_dir(dir, &n);
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *dash = strchr(names[i], '-');
		const struct target *t =
			dash != NULL ? target_find(names[i], (size_t)(dash - names[i])) : NULL;
		if (t == NULL)
			continue;
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *rel = xasprintf("%s%s", rel_dir, names[i]);
		replay(t, path, rel);
		free(path);
		free(rel);
	}
	free_list(names, n);
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");

	if (argc >= 3) {
		const struct target *t = target_find(argv[1], strlen(argv[1]));
		if (t == NULL) {
			fprintf(stderr, "unknown target %s\n", argv[1]);
			return 2;
		}
		for (int i = 2; i < argc; i++) {
			if (run_one(t, argv[i]) < 0)
				return 1;
			printf("%s: ok\n", argv[i]);
		}
		return 0;
	}
	if (top == NULL)
		top = ".";

	for (size_t i = 0; i < N_TARGETS(); i++) {
		const struct target *t = &targets[i];
		size_t n;
		unsigned int before = n_failed;
		test_begin(t->name);
		char *dir = xasprintf("%s/tests/fuzz/corpus/%s", top, t->name);
		char **names = list_dir(dir, &n);
		test_checks++;
		if (names == NULL || n == 0) {
			test_failures++;
			printf("FAIL %s: no seed corpus in %s\n", t->name, dir);
			free_list(names, names != NULL ? n : 0);
			free(dir);
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			char *path = xasprintf("%s/%s", dir, names[k]);
			char *rel = xasprintf("corpus/%s/%s", t->name, names[k]);
			replay(t, path, rel);
			free(path);
			free(rel);
		}
		printf("%-10s %zu seeds, %u failed\n", t->name, n, n_failed - before);
		free_list(names, n);
		free(dir);
	}

	test_begin("crashes");
	char *crashes = xasprintf("%s/tests/fuzz/crashes", top);
	replay_named(crashes, "crashes/");
	free(crashes);

	const char *extra = getenv("FUZZ_REPLAY_DIRS");
	if (extra != NULL && *extra != '\0') {
		char *dirs = xstrdup(extra), *save = dirs;
		for (char *p = dirs; p != NULL;) {
			char *colon = strchr(p, ':');
			if (colon != NULL)
				*colon = '\0';
			if (*p != '\0') {
				test_begin(p);
				replay_named(p, "");
			}
			p = colon != NULL ? colon + 1 : NULL;
		}
		free(save);
	}
	printf("%u inputs replayed, %u failed, %u expected failures\n", n_run, n_failed, n_xfail);
	return test_exit();
}
