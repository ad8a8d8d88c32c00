/*
 * util: allocation that cannot fail, bounded buffers, and short-lived error
 * strings. The lowest layer: everything in deskgate may include it, it
 * includes nothing of ours.
 *
 * - xmalloc()/xcalloc()/xrealloc()/xstrdup()/xstrndup()/xasprintf(): abort
 *   with a message on allocation failure; callers never check for NULL.
 *   The caller owns (and free()s) what they return.
 * - struct buf: a growing byte buffer that cannot be created without a
 *   maximum size (after curl's dynbuf). Appending past the maximum fails and
 *   leaves the buffer as it was; it never truncates silently.
 * - errf(): formats an error message into one of a ring of ERRF_RING
 *   buffers of the calling thread. The result is valid until ERRF_RING
 *   further errf() calls in the same thread: copy it (xstrdup) to keep it.
 *   A message longer than ERRF_MAX - 1 bytes ends in "... [truncated]".
 */
#ifndef DG_UTIL_H
#define DG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define DG_ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DG_ATTR_NORETURN __attribute__((noreturn))
#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t size);
/* xreallocarray(): like reallocarray(), aborts on overflow or failure. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) DG_ATTR_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) DG_ATTR_PRINTF(1, 0);
/* free(*p) and set *p = NULL. */
void x_free(void *pp);

#define ERRF_RING 16
#define ERRF_MAX 1024
const char *errf(const char *fmt, ...) DG_ATTR_PRINTF(1, 2);

struct buf {
	unsigned char *data; /* always NUL-terminated after data[len] when non-NULL */
	size_t len;
	size_t cap;
	size_t max; /* hard limit on len */
};

void buf_init(struct buf *b, size_t max);
/* Append; -1 when the result would exceed b->max (b unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_putc(struct buf *b, unsigned char c);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) DG_ATTR_PRINTF(2, 3);
void buf_reset(struct buf *b);
/* Text view: never NULL ("" for an empty buffer). */
const char *buf_cstr(const struct buf *b);
/* Hand the data to the caller (who free()s it); b is left empty. Never NULL. */
char *buf_steal(struct buf *b, size_t *len_r);
void buf_free(struct buf *b);

/* Small string helpers. */
int str_starts_with(const char *s, const char *prefix);
int str_case_starts_with(const char *s, const char *prefix);
/* Parse a non-negative decimal integer; -1 on junk, overflow or > max. */
int str_to_u64(const char *s, uint64_t max, uint64_t *value_r);
/* Trim ASCII white space in place; returns s. */
char *str_trim(char *s);
/* Bytes of the white-space character at s[0..len) (ASCII blanks and CR,
   NBSP, U+2000..U+200F spaces and zero-width/direction marks, U+202F,
   U+205F, U+2060 word joiner, ideographic space U+3000, BOM U+FEFF: what
   mail clients leave around words), or 0. */
size_t str_ws_len(const char *s, size_t len);
/* Bytes of the white-space character that s[0..len) ends with, or 0. */
size_t str_ws_len_back(const char *s, size_t len);
/* Step *s and *len over str_ws_len() white space at both ends. */
void str_ws_trim(const char **s, size_t *len);
/* The value of a hex digit (either case), or -1. */
int hex_digit_value(unsigned char c);
/* 1 when [s, s+len) is valid UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const unsigned char *s, size_t len);
/* Length of the longest prefix of s (at most len bytes) that ends on a UTF-8
   character boundary. */
size_t utf8_truncate_len(const char *s, size_t len);
/* In place: bytes of s[0..len) that do not form valid UTF-8 become '?'. */
void utf8_sanitize(char *s, size_t len);

#endif
