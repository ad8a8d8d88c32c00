/*
 * fuzz.h: what the fuzz targets in tests/fuzz/ share (docs/fuzzing.md).
 *
 * Each tests/fuzz/fuzz-NAME.c defines its entry point with
 *
 *	FUZZ_TARGET(NAME)
 *	{
 *		... use data[0..size) ...
 *		return 0;
 *	}
 *
 * Built with `./configure --with-fuzzer` that is libFuzzer's
 * LLVMFuzzerTestOneInput() and each file is a program of its own. Built
 * with -DFUZZ_REPLAY it is fuzz_NAME(), so that every target links into
 * tests/unit/test-fuzz-corpus, which make check runs over the seed corpora
 * and the saved crash reproducers with any compiler.
 *
 * FUZZ_CHECK(expr): a property the code under test promises; when it does
 * not hold, print "fuzz-NAME.c:LINE" and abort(), which libFuzzer records
 * as a crash with the input that caused it.
 *
 * A target must be deterministic (no clock, no randomness), bound its own
 * work (it returns early on inputs over its size cap and passes small
 * limits to the code it calls), and free everything it allocates, since
 * LeakSanitizer runs with it.
 */
#ifndef DG_FUZZ_H
#define DG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(expr)                                                                     \
	do {                                                                                 \
		if (!(expr))                                                                 \
			fuzz_fail(__FILE__, __LINE__, #expr);                                \
	} while (0)

/* Report a failed check named key and abort(), unless $FUZZ_IGNORE (keys
   separated by spaces or commas) names it: that lets a fuzzing session go
   on past a known bug that is not fixed yet. FUZZ_CHECK's key is
   "fuzz-NAME.c:LINE". */
static inline void
fuzz_fail_key(const char *key, const char *what)
{
	const char *ignore = getenv("FUZZ_IGNORE");
	if (ignore != NULL) {
		size_t klen = strlen(key);
		for (const char *p = strstr(ignore, key); p != NULL; p = strstr(p + 1, key)) {
			char end = p[klen];
			if ((p == ignore || p[-1] == ' ' || p[-1] == ',') &&
			    (end == '\0' || end == ' ' || end == ','))
				return;
		}
	}
	fprintf(stderr, "%s: fuzz check failed: %s\n", key, what);
	abort();
}

static inline void
fuzz_fail(const char *file, int line, const char *what)
{
	const char *base = strrchr(file, '/');
	char key[256];
	snprintf(key, sizeof(key), "%s:%d", base != NULL ? base + 1 : file, line);
	fuzz_fail_key(key, what);
}

/* An exact-size copy of the input without a terminating NUL (so that a
   parser that reads past len is caught by ASan), or NULL when size is
   over max. Free it. */
static inline char *
fuzz_text_copy(const uint8_t *data, size_t size, size_t max)
{
	if (size > max)
		return NULL;
	char *text = malloc(size > 0 ? size : 1);
	if (text == NULL)
		abort();
	if (size > 0)
		memcpy(text, data, size);
	return text;
}

#ifdef FUZZ_REPLAY
#define FUZZ_TARGET(name) int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

/* Every target, for the replay program (and -Wmissing-prototypes). */
#define FUZZ_TARGETS(X)                                                                      \
	X(mime)                                                                              \
	X(rfc2047)                                                                           \
	X(charset)                                                                           \
	X(html)                                                                              \
	X(mbox)                                                                              \
	X(config)                                                                            \
	X(rules)                                                                             \
	X(template)                                                                          \
	X(agentcmd)                                                                          \
	X(quote)                                                                             \
	X(thread)                                                                            \
	X(secrets)                                                                           \
	X(csv)                                                                               \
	X(amount)                                                                            \
	X(addr)                                                                              \
	X(dsn)                                                                               \
	X(authres)                                                                           \
	X(phrase)                                                                            \
	X(solicit)                                                                           \
	X(vote)                                                                              \
	X(htmlsafe)                                                                          \
	X(tzif)

#define FUZZ_DECLARE(name) int fuzz_##name(const uint8_t *data, size_t size);
FUZZ_TARGETS(FUZZ_DECLARE)
#undef FUZZ_DECLARE

#ifdef DG_MIME_H
/* Small MIME limits (for targets that include parsers/mime.h first), so
   that every limit is reached often and a run stays fast. */
static inline void
fuzz_mime_limits(struct mime_limits *lim, size_t max_input)
{
	mime_limits_default(lim);
	lim->max_message_size = max_input;
	lim->max_header_size = 16384;
	lim->max_header_count = 200;
	lim->max_line_length = 8192;
	lim->max_depth = 8;
	lim->max_parts = 64;
	lim->max_attachments = 16;
	lim->max_attachment_size = 32768;
	lim->max_decoded_size = 131072;
	lim->max_text_size = 16384;
}
#endif

/* A NUL-terminated copy of data[0..size) (the caller frees). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

/* 1 when s[0..len) has a C0 control character or DEL (TAB excepted when
   tab_ok). */
static inline int
fuzz_has_control(const char *s, size_t len, int tab_ok)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f)
			return 1;
	}
	return 0;
}

/* 1 when s[0..len) has a C1 control character (U+0080..U+009F in UTF-8). */
static inline int
fuzz_has_c1(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return 1;
	return 0;
}

#endif
