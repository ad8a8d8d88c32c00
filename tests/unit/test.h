/*
 * test.h: a tiny table-driven test harness (after Dovecot's lib-test).
 * Each check prints a line on failure with file:line; test_exit() prints a
 * summary and returns the exit status automake's harness expects: 0 pass,
 * 1 fail, 77 skip (with the reason printed).
 */
#ifndef DG_TEST_H
#define DG_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;
static const char *test_current = "";

static inline void
test_begin(const char *name)
{
	test_current = name;
}

#define test_assert(expr)                                                                    \
	do {                                                                                 \
		test_checks++;                                                               \
		if (!(expr)) {                                                               \
			test_failures++;                                                     \
			printf("FAIL %s: %s:%d: %s\n", test_current, __FILE__, __LINE__, #expr); \
		}                                                                            \
	} while (0)

#define test_assert_str(got, want)                                                           \
	do {                                                                                 \
		const char *g_ = (got), *w_ = (want);                                        \
		test_checks++;                                                               \
		if ((g_ == NULL) != (w_ == NULL) || (g_ != NULL && strcmp(g_, w_) != 0)) {   \
			test_failures++;                                                     \
			printf("FAIL %s: %s:%d: %s: got \"%s\", want \"%s\"\n", test_current,  \
			       __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
		}                                                                            \
	} while (0)

#define test_assert_int(got, want)                                                           \
	do {                                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);                     \
		test_checks++;                                                               \
		if (g_ != w_) {                                                              \
			test_failures++;                                                     \
			printf("FAIL %s: %s:%d: %s: got %lld, want %lld\n", test_current,     \
			       __FILE__, __LINE__, #got, g_, w_);                            \
		}                                                                            \
	} while (0)

static inline int
test_exit(void)
{
	printf("%d checks, %d failed\n", test_checks, test_failures);
	if (test_checks == 0) {
		printf("no checks ran: failing\n");
		return 1;
	}
	return test_failures == 0 ? 0 : 1;
}

static inline int
test_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	return 77;
}

/* The shared corpora directory (../shared/corpora next to the source tree,
   or $DESKGATE_CORPORA), or NULL. Caller frees. */
static inline char *
test_corpora_dir(void)
{
	const char *env = getenv("DESKGATE_CORPORA");
	const char *top = getenv("top_srcdir");
	char buf[4096];
	if (env != NULL && *env != '\0')
		return strdup(env);
	if (top == NULL)
		top = ".";
	snprintf(buf, sizeof(buf), "%s/../shared/corpora", top);
	FILE *fp = fopen(buf, "r");
	if (fp == NULL)
		return NULL;
	fclose(fp);
	return strdup(buf);
}

/* Read a whole file; caller frees. NULL on error. */
static inline unsigned char *
test_read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	size_t cap = 65536, len = 0;
	unsigned char *data = malloc(cap + 1);
	size_t n;
	while ((n = fread(data + len, 1, cap - len, fp)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			data = realloc(data, cap + 1);
		}
	}
	fclose(fp);
	data[len] = '\0';
	*len_r = len;
	return data;
}

/* Write text to path (replacing it); 0, or -1 when it cannot. */
static inline int
test_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	int r = fputs(text, fp) < 0 ? -1 : 0;
	return fclose(fp) != 0 ? -1 : r;
}

#endif
